//! Users (`user-revokesigninsessions.md`, `user-update.md`, `device-update.md`): list with `$filter`/`$select`/paging, get by id or UPN, PATCH of
//! `accountEnabled` and `passwordProfile`, and `revokeSignInSessions`.

use std::collections::HashMap;
use std::time::Instant;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::Ctx;
use crate::error::GraphError;
use crate::odata::{self, DIRECTORY_DEFAULT_PAGE, DIRECTORY_MAX_PAGE};
use crate::pipeline::GraphResponse;
use crate::routes::{self, permissions};
use crate::seed::UserType;
use crate::time;

/// Properties `User.ReadBasic.All` can read.
pub(crate) const BASIC_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
];

/// The v1.0 default property set (no `$select`).
const V1_DEFAULT_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// Returned only when `$select`ed, on both versions.
const SELECT_ONLY_PROPERTIES: &[&str] = &[
    "signInSessionsValidFromDateTime",
    "passwordProfile",
    "creationType",
];

/// Every property the simulator models.
pub(crate) const PROPERTIES: &[&str] = &[
    "id",
    "accountEnabled",
    "businessPhones",
    "createdDateTime",
    "creationType",
    "displayName",
    "externalUserState",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesSyncEnabled",
    "passwordProfile",
    "preferredLanguage",
    "signInSessionsValidFromDateTime",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
];

/// `$filter` properties supported by default, and those that need advanced query.
const FILTERABLE: &[&str] = &[
    "id",
    "userPrincipalName",
    "displayName",
    "mail",
    "userType",
    "accountEnabled",
    "givenName",
    "surname",
    "jobTitle",
];
const FILTERABLE_ADVANCED: &[&str] = &["onPremisesSyncEnabled"];

/// Writable properties the simulator stores as plain strings.
const WRITABLE_STRINGS: &[&str] = &[
    "displayName",
    "givenName",
    "surname",
    "jobTitle",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "usageLocation",
];

/// Graph's refusal for synced objects (`user-update.md`, `device-update.md`).
pub(crate) const SYNCED_OBJECT_MESSAGE: &str = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.";

/// Password state; the password itself is never kept.
#[derive(Clone, Debug, Default)]
pub(crate) struct PasswordState {
    pub force_change_next_sign_in: bool,
    pub force_change_next_sign_in_with_mfa: bool,
    /// How many times a new password was set through the API.
    pub set_count: u32,
    pub last_set: Option<Timestamp>,
}

/// Identity Protection state of a user (`riskyuser-confirmcompromised.md`).
#[derive(Clone, Debug)]
pub(crate) struct RiskState {
    pub level: String,
    pub state: String,
    pub detail: String,
    pub last_updated: Option<Timestamp>,
}

impl Default for RiskState {
    fn default() -> Self {
        RiskState {
            level: "none".into(),
            state: "none".into(),
            detail: "none".into(),
            last_updated: None,
        }
    }
}

/// One user.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub strings: HashMap<&'static str, String>,
    pub user_type: UserType,
    /// Home tenant elsewhere (B2B invitation): revocation here does not reach their sessions.
    pub external: bool,
    /// Template ids of the directory roles the user holds.
    pub directory_roles: Vec<String>,
    pub account_enabled: bool,
    pub on_premises_sync_enabled: bool,
    pub created: Timestamp,
    sessions_valid_from: Timestamp,
    /// A revocation not yet visible: (value, visible from).
    pending_revocation: Option<(Timestamp, Instant)>,
    pub revoke_count: u32,
    pub password: PasswordState,
    pub risk: RiskState,
    /// Object ids of registered devices.
    pub devices: Vec<String>,
}

impl User {
    pub(crate) fn new(
        id: String,
        user_principal_name: String,
        display_name: String,
        now: Timestamp,
    ) -> User {
        User {
            id,
            user_principal_name,
            display_name,
            given_name: None,
            surname: None,
            mail: None,
            strings: HashMap::new(),
            user_type: UserType::Member,
            external: false,
            directory_roles: Vec::new(),
            account_enabled: true,
            on_premises_sync_enabled: false,
            created: time::truncate_to_seconds(now),
            sessions_valid_from: time::truncate_to_seconds(now),
            pending_revocation: None,
            revoke_count: 0,
            password: PasswordState::default(),
            risk: RiskState::default(),
            devices: Vec::new(),
        }
    }

    /// `signInSessionsValidFromDateTime` as reads see it at `now`.
    pub(crate) fn sessions_valid_from(&self, now: Instant) -> Timestamp {
        match self.pending_revocation {
            Some((value, visible)) if now >= visible => value,
            _ => self.sessions_valid_from,
        }
    }

    /// Records a revocation at `at` (stored with whole seconds, like the directory), visible
    /// from `visible` (`--lag` models the documented "few minutes" of propagation).
    pub(crate) fn revoke(&mut self, at: Timestamp, now: Instant, visible: Instant) {
        self.revoke_count += 1;
        if self.external {
            // user-revokesigninsessions.md: "This API doesn't revoke sign-in sessions for
            // external users, because external users sign in through their home tenant."
            return;
        }
        self.sessions_valid_from = self.sessions_valid_from(now);
        self.pending_revocation = Some((time::truncate_to_seconds(at), visible));
    }

    fn mail_nickname(&self) -> String {
        self.user_principal_name
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// One property as Graph serializes it.
    pub(crate) fn property(&self, name: &str, now: Instant) -> Value {
        let string = |s: &Option<String>| s.as_ref().map_or(Value::Null, |s| json!(s));
        match name {
            "id" => json!(self.id),
            "userPrincipalName" => json!(self.user_principal_name),
            "displayName" => json!(self.display_name),
            "givenName" => string(&self.given_name),
            "surname" => string(&self.surname),
            "mail" => string(&self.mail),
            "businessPhones" => json!([]),
            "accountEnabled" => json!(self.account_enabled),
            "userType" => json!(self.user_type.as_str()),
            // Graph writes null, not false, for cloud-only users.
            "onPremisesSyncEnabled" => {
                if self.on_premises_sync_enabled {
                    json!(true)
                } else {
                    Value::Null
                }
            }
            "createdDateTime" => json!(time::seconds(self.created)),
            "signInSessionsValidFromDateTime" => {
                json!(time::seconds(self.sessions_valid_from(now)))
            }
            "mailNickname" => json!(self.mail_nickname()),
            // user.md: creationType is "Invitation" for an external account; externalUserState
            // is set for a guest invited through the invitation API.
            "externalUserState" if self.external => json!("Accepted"),
            "creationType" if self.external => json!("Invitation"),
            "externalUserState" | "creationType" => Value::Null,
            "passwordProfile" => json!({
                "password": null,
                "forceChangePasswordNextSignIn": self.password.force_change_next_sign_in,
                "forceChangePasswordNextSignInWithMfa": self.password.force_change_next_sign_in_with_mfa,
            }),
            other => self.strings.get(other).map_or(Value::Null, |s| json!(s)),
        }
    }

    /// The object with the given properties, in that order.
    pub(crate) fn to_json(&self, properties: &[&str], now: Instant) -> Value {
        let mut object = Map::new();
        for name in properties {
            object.insert((*name).to_owned(), self.property(name, now));
        }
        Value::Object(object)
    }

    /// The user in the `/_sim/users` view: everything, including what Graph never shows.
    pub(crate) fn sim_view(&self, now: Instant) -> Value {
        let mut view = self.to_json(PROPERTIES, now);
        view["revokeCount"] = json!(self.revoke_count);
        view["revocationPending"] = json!(
            self.pending_revocation
                .is_some_and(|(_, visible)| now < visible)
        );
        view["passwordProfile"] = json!({
            "forceChangePasswordNextSignIn": self.password.force_change_next_sign_in,
            "forceChangePasswordNextSignInWithMfa": self.password.force_change_next_sign_in_with_mfa,
            "passwordSetCount": self.password.set_count,
            "lastPasswordSetDateTime": self.password.last_set.map(time::seconds),
        });
        view["riskLevel"] = json!(self.risk.level);
        view["riskState"] = json!(self.risk.state);
        view["riskDetail"] = json!(self.risk.detail);
        view["registeredDevices"] = json!(self.devices);
        view
    }
}

/// All users, indexed by id and by UPN (both case-insensitive, as the directory matches them).
#[derive(Clone, Debug, Default)]
pub(crate) struct Users {
    list: Vec<User>,
    by_id: HashMap<String, usize>,
    by_upn: HashMap<String, usize>,
}

impl Users {
    /// Adds a user; ids and UPNs must be unique.
    pub(crate) fn insert(&mut self, user: User) -> Result<(), String> {
        let id = user.id.to_ascii_lowercase();
        let upn = user.user_principal_name.to_lowercase();
        if self.by_id.contains_key(&id) {
            return Err(format!("duplicate user id {}", user.id));
        }
        if self.by_upn.contains_key(&upn) {
            return Err(format!(
                "duplicate userPrincipalName {}",
                user.user_principal_name
            ));
        }
        self.by_id.insert(id, self.list.len());
        self.by_upn.insert(upn, self.list.len());
        self.list.push(user);
        Ok(())
    }

    fn index(&self, key: &str) -> Option<usize> {
        self.by_id
            .get(&key.to_ascii_lowercase())
            .or_else(|| self.by_upn.get(&key.to_lowercase()))
            .copied()
    }

    /// By object id or user principal name.
    pub(crate) fn find(&self, key: &str) -> Option<&User> {
        self.index(key).map(|i| &self.list[i])
    }

    pub(crate) fn find_mut(&mut self, key: &str) -> Option<&mut User> {
        self.index(key).map(|i| &mut self.list[i])
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &User> {
        self.list.iter()
    }
}

/// The properties a response carries: the `$select`ion (checked), or the version's default
/// set, cut down to the basic ones when the caller may only read those.
pub(crate) fn response_properties<'s>(ctx: &'s Ctx<'_>) -> Result<Vec<&'s str>, GraphError> {
    if let Some(select) = &ctx.query.select {
        odata::check_select(select, PROPERTIES, "user")?;
        return Ok(select.iter().map(String::as_str).collect());
    }
    let defaults: Vec<&str> = match ctx.version() {
        crate::pipeline::ApiVersion::V1 => V1_DEFAULT_PROPERTIES.to_vec(),
        crate::pipeline::ApiVersion::Beta => PROPERTIES
            .iter()
            .copied()
            .filter(|p| !SELECT_ONLY_PROPERTIES.contains(p))
            .collect(),
    };
    if routes::satisfies(&ctx.principal.roles, permissions::USER_READ) {
        Ok(defaults)
    } else {
        Ok(defaults
            .into_iter()
            .filter(|p| BASIC_PROPERTIES.contains(p))
            .collect())
    }
}

/// `GET /users`.
pub(crate) fn list(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let query = ctx.query;
    query.check_count()?;
    let advanced = query.advanced();
    if let Some(filter) = &query.filter {
        let supported: Vec<&str> = if advanced {
            FILTERABLE
                .iter()
                .chain(FILTERABLE_ADVANCED)
                .copied()
                .collect()
        } else {
            FILTERABLE.to_vec()
        };
        filter.check(&supported, "User", advanced)?;
    }
    let properties = response_properties(ctx)?;
    let size = query.page_size(DIRECTORY_DEFAULT_PAGE, DIRECTORY_MAX_PAGE)?;
    let now = ctx.instant;
    let matching: Vec<&User> = ctx
        .tenant
        .users
        .iter()
        .filter(|user| {
            query
                .filter
                .as_ref()
                .is_none_or(|f| f.matches(&|p| user.property(p, now)))
        })
        .collect();
    let count = advanced.then_some(matching.len());
    let page = odata::paginate(matching, query.offset, size);
    let values = page
        .items
        .iter()
        .map(|user| user.to_json(&properties, now))
        .collect();
    let context = odata::context(
        ctx.version(),
        &odata::collection_fragment("users", query.select.as_deref()),
    );
    let next = page.next_offset.map(|n| odata::next_link(ctx.req, n));
    Ok(GraphResponse::ok(odata::collection_body(
        context, values, next, count,
    )))
}

fn find<'t>(ctx: &'t Ctx<'_>, key: &str) -> Result<&'t User, GraphError> {
    ctx.tenant
        .users
        .find(key)
        .ok_or_else(|| GraphError::not_found(key))
}

/// `GET /users/{id | userPrincipalName}`.
pub(crate) fn get(ctx: &mut Ctx<'_>, key: &str) -> Result<GraphResponse, GraphError> {
    let properties = response_properties(ctx)?;
    let user = find(ctx, key)?;
    let context = odata::context(
        ctx.version(),
        &odata::entity_fragment("users", ctx.query.select.as_deref()),
    );
    Ok(GraphResponse::ok(odata::entity_body(
        context,
        user.to_json(&properties, ctx.instant),
    )))
}

/// A validated `passwordProfile` change.
struct PasswordChange {
    force_change: bool,
    force_change_with_mfa: bool,
}

fn password_change(value: &Value) -> Result<PasswordChange, GraphError> {
    let Value::Object(profile) = value else {
        return Err(GraphError::request_bad_request(
            "Invalid value specified for property 'passwordProfile' of resource 'User'.",
        ));
    };
    for key in profile.keys() {
        if !matches!(
            key.as_str(),
            "password" | "forceChangePasswordNextSignIn" | "forceChangePasswordNextSignInWithMfa"
        ) {
            return Err(GraphError::request_bad_request(format!(
                "Property '{key}' does not exist as a declared property or extension property."
            )));
        }
    }
    let flag = |name: &str| -> Result<Option<bool>, GraphError> {
        match profile.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(GraphError::request_bad_request(format!(
                "Invalid value specified for property '{name}' of resource 'PasswordProfile'."
            ))),
        }
    };
    let force_change = flag("forceChangePasswordNextSignIn")?;
    let force_change_with_mfa = flag("forceChangePasswordNextSignInWithMfa")?;
    // `user-update.md`: forcing a change without a new password was accepted and did nothing;
    // the simulator makes that mistake visible by refusing it.
    let Some(password) = profile.get("password").and_then(Value::as_str) else {
        return Err(GraphError::request_bad_request(
            "passwordProfile.password is required: set a new temporary password together with forceChangePasswordNextSignIn.",
        ));
    };
    if !password_is_complex(password) {
        return Err(GraphError::request_bad_request(
            "The specified password does not comply with password complexity requirements. Please provide a different password.",
        ));
    }
    Ok(PasswordChange {
        // Omitting the flag while setting a password defaults it to true (`user-update.md`, `device-update.md`).
        force_change: force_change.unwrap_or(true),
        force_change_with_mfa: force_change_with_mfa.unwrap_or(false),
    })
}

/// Entra's rule: 8–256 characters, three of upper case, lower case, digits and symbols.
fn password_is_complex(password: &str) -> bool {
    let length = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    (8..=256).contains(&length) && classes.iter().filter(|c| **c).count() >= 3
}

/// Whether the app's service principal holds one of these directory roles (`--directory-roles`).
pub(crate) fn app_holds_any(ctx: &Ctx<'_>, roles: &[&str]) -> bool {
    ctx.settings
        .config
        .directory_roles
        .iter()
        .any(|held| roles.iter().any(|r| r.eq_ignore_ascii_case(held)))
}

/// `PATCH /users/{id}`: validates everything, then applies everything (or nothing).
pub(crate) fn patch(ctx: &mut Ctx<'_>, key: &str) -> Result<GraphResponse, GraphError> {
    let body = ctx.req.json_object()?;
    let user = find(ctx, key)?;
    let mut account_enabled = None;
    let mut password = None;
    let mut strings: Vec<(&'static str, Option<String>)> = Vec::new();
    for (name, value) in body {
        match name.as_str() {
            "accountEnabled" => {
                account_enabled = Some(value.as_bool().ok_or_else(|| {
                    GraphError::request_bad_request(
                        "Invalid value specified for property 'accountEnabled' of resource 'User'.",
                    )
                })?);
            }
            "passwordProfile" => password = Some(password_change(value)?),
            "id"
            | "createdDateTime"
            | "signInSessionsValidFromDateTime"
            | "onPremisesSyncEnabled"
            | "externalUserState"
            | "mailNickname"
            | "userType" => {
                return Err(GraphError::request_bad_request(format!(
                    "Property '{name}' is read-only and cannot be set."
                )));
            }
            "userPrincipalName" | "mail" => {
                return Err(GraphError::request_bad_request(format!(
                    "Changing '{name}' is not supported by the simulator."
                )));
            }
            other => match WRITABLE_STRINGS.iter().find(|w| **w == other) {
                Some(property) => match value {
                    Value::String(s) => strings.push((property, Some(s.clone()))),
                    Value::Null if *property != "displayName" => strings.push((property, None)),
                    _ => {
                        return Err(GraphError::request_bad_request(format!(
                            "Invalid value specified for property '{property}' of resource 'User'."
                        )));
                    }
                },
                None => {
                    return Err(GraphError::request_bad_request(format!(
                        "Property '{other}' does not exist as a declared property or extension property."
                    )));
                }
            },
        }
    }
    if user.on_premises_sync_enabled && (account_enabled.is_some() || password.is_some()) {
        return Err(GraphError::request_bad_request(SYNCED_OBJECT_MESSAGE));
    }
    // App-only callers need a directory role besides the permission. user-update.md: for
    // passwordProfile "the calling app must be assigned a supported permission and at least the
    // User Administrator Microsoft Entra role"; for accountEnabled "a higher privileged
    // administrator role as indicated in Who can perform sensitive actions", which for a user
    // who holds an admin role is Privileged Authentication Administrator.
    let target_is_admin = !user.directory_roles.is_empty();
    let needed: Option<&[&str]> =
        if target_is_admin && (password.is_some() || account_enabled.is_some()) {
            Some(&[
                "Privileged Authentication Administrator",
                "Global Administrator",
            ])
        } else if password.is_some() {
            Some(&[
                "User Administrator",
                "Privileged Authentication Administrator",
                "Global Administrator",
            ])
        } else {
            None
        };
    if let Some(needed) = needed
        && !app_holds_any(ctx, needed)
    {
        return Err(GraphError::denied());
    }
    let now = ctx.now;
    let user = ctx
        .tenant
        .users
        .find_mut(key)
        .ok_or_else(|| GraphError::not_found(key))?;
    if let Some(enabled) = account_enabled {
        user.account_enabled = enabled;
    }
    if let Some(change) = password {
        user.password.force_change_next_sign_in = change.force_change;
        user.password.force_change_next_sign_in_with_mfa = change.force_change_with_mfa;
        user.password.set_count += 1;
        user.password.last_set = Some(now);
    }
    for (property, value) in strings {
        match (property, value) {
            ("displayName", Some(v)) => user.display_name = v,
            ("givenName", v) => user.given_name = v,
            ("surname", v) => user.surname = v,
            (p, Some(v)) => {
                user.strings.insert(p, v);
            }
            (p, None) => {
                user.strings.remove(p);
            }
        }
    }
    Ok(GraphResponse::no_content())
}

/// `POST /users/{id}/revokeSignInSessions`: 200 with `value: true`, always (`user-revokesigninsessions.md`).
pub(crate) fn revoke_sign_in_sessions(
    ctx: &mut Ctx<'_>,
    key: &str,
) -> Result<GraphResponse, GraphError> {
    let (now, instant, visible) = (ctx.now, ctx.instant, ctx.visible_from());
    let user = ctx
        .tenant
        .users
        .find_mut(key)
        .ok_or_else(|| GraphError::not_found(key))?;
    user.revoke(now, instant, visible);
    Ok(GraphResponse::ok(json!({
        "@odata.context": odata::context(ctx.req.version, "Edm.Boolean"),
        "value": true,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn revocation_becomes_visible_after_the_lag() {
        let start = Instant::now();
        let created: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let mut user = User::new("i".into(), "u@x".into(), "U".into(), created);
        let at: Timestamp = "2025-06-01T12:00:00.700Z".parse().unwrap();
        user.revoke(at, start, start + Duration::from_secs(2));
        assert_eq!(user.sessions_valid_from(start), created);
        let seen = user.sessions_valid_from(start + Duration::from_secs(2));
        assert_eq!(time::seconds(seen), "2025-06-01T12:00:00Z");
        assert_eq!(user.revoke_count, 1);
    }

    #[test]
    fn guests_are_counted_but_not_revoked() {
        let start = Instant::now();
        let created: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let mut user = User::new("i".into(), "g@x".into(), "G".into(), created);
        user.user_type = UserType::Guest;
        user.external = true;
        user.revoke(Timestamp::now(), start, start);
        assert_eq!(user.sessions_valid_from(start), created);
        assert_eq!(user.revoke_count, 1);
    }

    #[test]
    fn password_rules() {
        assert!(password_is_complex("Tr0ub4dor&3"));
        assert!(!password_is_complex("short1A"));
        assert!(!password_is_complex("alllowercase"));
        let change = password_change(&json!({"password": "Tr0ub4dor&3"})).unwrap();
        assert!(change.force_change);
        assert!(password_change(&json!({"forceChangePasswordNextSignIn": true})).is_err());
    }
}
