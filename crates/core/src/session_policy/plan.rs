//! SessionPolicy → one Conditional Access policy: the desired Graph body, the normalized form
//! both sides are compared in, the field-level diff and the plan. Pure: no IO.
//!
//! Only fields the API models are compared and written. What the tenant has beyond them (terms
//! of use, authentication flows, guest types, an application filter ...) is never compared,
//! never sent and so never dropped: PATCH merges nested objects, and a container the spec
//! leaves empty is cleared field by field instead of nulled when it holds such content.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::directory::resolve::{NameKind, NameRequests, Resolution, Resolutions, is_object_id};
use crate::failure::Failure;
use crate::status::Reason;
use sessionops_api::{
    ClientAppType as SpecClientApp, CloudAppSecurity, ContinuousAccessEvaluation,
    FilterMode as SpecFilterMode, GrantControl, GrantOperator, PersistentBrowser, Platform,
    PolicyState as SpecState, RiskLevel as SpecRisk, SessionPolicySpec,
    SignInFrequencyAuthentication,
};
use sessionops_graph::ApiVersion;
use sessionops_graph::models::{ConditionalAccessPolicy, has_content};

/// Built-in authentication strengths by the names the API accepts, and their fixed ids.
pub const BUILT_IN_STRENGTHS: [(&str, &str); 3] = [
    ("mfa", "00000000-0000-0000-0000-000000000002"),
    ("passwordless", "00000000-0000-0000-0000-000000000003"),
    ("phishingResistant", "00000000-0000-0000-0000-000000000004"),
];

const USER_KEYWORDS: &[&str] = &["All", "None", "GuestsOrExternalUsers"];
const LOCATION_KEYWORDS: &[&str] = &["All", "AllTrusted"];

/// The policy's display name when the spec gives none.
pub fn default_display_name(namespace: &str, name: &str) -> String {
    format!("sessionops {namespace}/{name}")
}

/// Why a SessionPolicy cannot be planned. Each has a stable condition reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Names that match no directory object.
    #[error("names not found in the tenant: {}", .0.join(", "))]
    NameNotFound(Vec<String>),
    /// Names that match several objects.
    #[error("ambiguous names (use the object id): {}", .0.join("; "))]
    AmbiguousName(Vec<String>),
    /// Another SessionPolicy manages the same displayName.
    #[error("displayName {display_name:?} is also claimed by {other}; one policy per displayName")]
    Conflict {
        /// The contested name.
        display_name: String,
        /// The other object (`namespace/name`).
        other: String,
    },
    /// Several tenant policies share the displayName: sessionops will not pick one.
    #[error("{count} Conditional Access policies are named {display_name:?} in the tenant ({}): rename or delete all but one", .ids.join(", "))]
    DuplicateInTenant {
        /// The name.
        display_name: String,
        /// How many.
        count: usize,
        /// Their ids.
        ids: Vec<String>,
    },
}

impl PolicyError {
    /// Stable CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> Reason {
        match self {
            PolicyError::NameNotFound(_) | PolicyError::AmbiguousName(_) => Reason::NameNotFound,
            PolicyError::Conflict { .. } | PolicyError::DuplicateInTenant { .. } => {
                Reason::Conflict
            }
        }
    }
}

impl From<PolicyError> for Failure {
    fn from(error: PolicyError) -> Failure {
        Failure::refused(error.reason(), error.to_string())
    }
}

/// Principals the tenant connection protects, already resolved to ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtectedIds {
    /// User ids.
    pub users: Vec<String>,
    /// Group ids.
    pub groups: Vec<String>,
}

/// The policy a SessionPolicy asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredPolicy {
    /// Its display name (its identity in the tenant).
    pub display_name: String,
    /// The full Graph body to create it with.
    pub body: ConditionalAccessPolicy,
    /// `Beta` when a control exists only there (CAE, everyTime).
    pub version: ApiVersion,
    /// Names of the spec and the ids they resolved to, for status and readable diffs.
    pub resolved: BTreeMap<String, String>,
}

/// Every name `spec` needs resolved (ids and keywords excluded).
pub fn name_requests(spec: &SessionPolicySpec, requests: &mut NameRequests) {
    let assignments = &spec.assignments;
    for user in assignments
        .users
        .include
        .iter()
        .chain(&assignments.users.exclude)
    {
        requests.add(NameKind::User, user, USER_KEYWORDS);
    }
    for group in assignments
        .groups
        .include
        .iter()
        .chain(&assignments.groups.exclude)
    {
        requests.add(NameKind::Group, group, &[]);
    }
    for role in assignments
        .roles
        .include
        .iter()
        .chain(&assignments.roles.exclude)
    {
        requests.add(NameKind::Role, role, &[]);
    }
    if let Some(conditions) = &spec.conditions {
        for location in conditions
            .locations
            .include
            .iter()
            .chain(&conditions.locations.exclude)
        {
            requests.add(NameKind::Location, location, LOCATION_KEYWORDS);
        }
    }
}

/// Builds the desired Graph policy. Fails with every unresolved name at once.
pub fn desired_policy(
    spec: &SessionPolicySpec,
    namespace: &str,
    name: &str,
    protected: &ProtectedIds,
    resolutions: &Resolutions,
) -> Result<DesiredPolicy, PolicyError> {
    let mut resolver = Resolver {
        resolutions,
        resolved: BTreeMap::new(),
        missing: Vec::new(),
        ambiguous: Vec::new(),
    };
    let a = &spec.assignments;
    let include_users = resolver.all(NameKind::User, &a.users.include, USER_KEYWORDS);
    let mut exclude_users = resolver.all(NameKind::User, &a.users.exclude, USER_KEYWORDS);
    let include_groups = resolver.all(NameKind::Group, &a.groups.include, &[]);
    let mut exclude_groups = resolver.all(NameKind::Group, &a.groups.exclude, &[]);
    let include_roles = resolver.all(NameKind::Role, &a.roles.include, &[]);
    let exclude_roles = resolver.all(NameKind::Role, &a.roles.exclude, &[]);
    // Break-glass accounts are excluded from every policy, whatever the manifest says.
    exclude_users.extend(protected.users.iter().cloned());
    exclude_groups.extend(protected.groups.iter().cloned());

    let conditions = spec.conditions.clone().unwrap_or_default();
    let include_locations = resolver.all(
        NameKind::Location,
        &conditions.locations.include,
        LOCATION_KEYWORDS,
    );
    let exclude_locations = resolver.all(
        NameKind::Location,
        &conditions.locations.exclude,
        LOCATION_KEYWORDS,
    );

    let grant = spec.grant.as_ref().map(|grant| {
        let strength = grant.authentication_strength.as_ref().map(|s| {
            let id = BUILT_IN_STRENGTHS
                .iter()
                .find(|(name, _)| name == s)
                .map(|(_, id)| (*id).to_owned())
                .unwrap_or_else(|| s.to_lowercase());
            if !is_object_id(s) {
                resolver.resolved.insert(format!("{}:{s}", NameKind::AuthenticationStrength.prefix()), id.clone());
            }
            id
        });
        json!({
            "operator": match grant.operator { GrantOperator::And => "AND", GrantOperator::Or => "OR" },
            "builtInControls": grant.controls.iter().map(|c| grant_control(*c)).collect::<Vec<_>>(),
            "authenticationStrength": strength.map(|id| json!({"id": id})),
        })
    });

    if !resolver.missing.is_empty() {
        return Err(PolicyError::NameNotFound(resolver.missing));
    }
    if !resolver.ambiguous.is_empty() {
        return Err(PolicyError::AmbiguousName(resolver.ambiguous));
    }

    let mut version = ApiVersion::V1;
    let session = spec.session.as_ref().map(|session| {
        let frequency = session.sign_in_frequency.as_deref().map(|frequency| {
            let authentication = match session.sign_in_frequency_authentication.unwrap_or_default() {
                SignInFrequencyAuthentication::PrimaryAndSecondary => "primaryAndSecondaryAuthentication",
                SignInFrequencyAuthentication::SecondaryOnly => "secondaryAuthentication",
            };
            match parse_frequency(frequency) {
                Frequency::EveryTime => {
                    // v1.0 refuses everyTime in some tenants; beta always takes it.
                    version = ApiVersion::Beta;
                    json!({"isEnabled": true, "value": null, "type": null, "authenticationType": authentication, "frequencyInterval": "everyTime"})
                }
                Frequency::Every(value, unit) => {
                    json!({"isEnabled": true, "value": value, "type": unit, "authenticationType": authentication, "frequencyInterval": "timeBased"})
                }
            }
        });
        let mut controls = json!({
            "applicationEnforcedRestrictions": session.application_enforced_restrictions.then(|| json!({"isEnabled": true})),
            "cloudAppSecurity": session.cloud_app_security.map(|c| json!({"isEnabled": true, "cloudAppSecurityType": cloud_app_security(c)})),
            "signInFrequency": frequency,
            "persistentBrowser": session.persistent_browser.map(|m| json!({"isEnabled": true, "mode": match m { PersistentBrowser::Always => "always", PersistentBrowser::Never => "never" }})),
            "disableResilienceDefaults": session.disable_resilience_defaults,
            "secureSignInSession": session.token_protection.then(|| json!({"isEnabled": true})),
        });
        if let Some(mode) = session.continuous_access_evaluation {
            version = ApiVersion::Beta;
            controls["continuousAccessEvaluation"] = json!({"mode": cae_mode(mode)});
        }
        controls
    });

    let body = json!({
        "displayName": spec.display_name.clone().unwrap_or_else(|| default_display_name(namespace, name)),
        "state": match spec.state { SpecState::Enabled => "enabled", SpecState::Disabled => "disabled", SpecState::ReportOnly => "enabledForReportingButNotEnforced" },
        "conditions": {
            "users": {
                "includeUsers": include_users, "excludeUsers": dedup(exclude_users),
                "includeGroups": include_groups, "excludeGroups": dedup(exclude_groups),
                "includeRoles": include_roles, "excludeRoles": exclude_roles,
            },
            "applications": {"includeApplications": a.applications.include, "excludeApplications": a.applications.exclude},
            "clientAppTypes": if conditions.client_app_types.is_empty() { vec!["all"] } else { conditions.client_app_types.iter().map(|c| client_app(*c)).collect() },
            "platforms": (!conditions.platforms.is_empty()).then(|| json!({
                "includePlatforms": conditions.platforms.include.iter().map(|p| platform(*p)).collect::<Vec<_>>(),
                "excludePlatforms": conditions.platforms.exclude.iter().map(|p| platform(*p)).collect::<Vec<_>>(),
            })),
            "locations": (!conditions.locations.is_empty()).then(|| json!({"includeLocations": include_locations, "excludeLocations": exclude_locations})),
            "devices": conditions.device_filter.as_ref().map(|f| json!({"deviceFilter": {"mode": match f.mode { SpecFilterMode::Include => "include", SpecFilterMode::Exclude => "exclude" }, "rule": f.rule}})),
            "signInRiskLevels": conditions.sign_in_risk_levels.iter().map(|r| risk(*r)).collect::<Vec<_>>(),
            "userRiskLevels": conditions.user_risk_levels.iter().map(|r| risk(*r)).collect::<Vec<_>>(),
        },
        "grantControls": grant,
        "sessionControls": session,
    });
    let body: ConditionalAccessPolicy =
        serde_json::from_value(body).expect("the desired body matches the Graph model");
    Ok(DesiredPolicy {
        display_name: body.display_name.clone(),
        body,
        version,
        resolved: resolver.resolved,
    })
}

struct Resolver<'a> {
    resolutions: &'a Resolutions,
    resolved: BTreeMap<String, String>,
    missing: Vec<String>,
    ambiguous: Vec<String>,
}

impl Resolver<'_> {
    fn all(&mut self, kind: NameKind, names: &[String], keywords: &[&str]) -> Vec<String> {
        names
            .iter()
            .filter_map(|name| self.one(kind, name, keywords))
            .collect()
    }

    fn one(&mut self, kind: NameKind, name: &str, keywords: &[&str]) -> Option<String> {
        if keywords.contains(&name) {
            return Some(name.to_owned());
        }
        if is_object_id(name) {
            return Some(name.to_lowercase());
        }
        let label = format!("{}:{name}", kind.prefix());
        match self.resolutions.get(kind, name) {
            Some(Resolution::Id(id)) => {
                self.resolved.insert(label, id.clone());
                Some(id.to_lowercase())
            }
            Some(Resolution::Ambiguous(ids)) => {
                self.ambiguous
                    .push(format!("{label} matches {}", ids.join(", ")));
                None
            }
            Some(Resolution::Missing) | None => {
                self.missing.push(label);
                None
            }
        }
    }
}

fn dedup(mut ids: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    ids.retain(|id| seen.insert(id.to_lowercase()));
    ids
}

enum Frequency {
    EveryTime,
    Every(u32, &'static str),
}

/// `12h`, `7d` or `everyTime` (validated by the CRD's rule before it gets here).
fn parse_frequency(text: &str) -> Frequency {
    if text == "everyTime" {
        return Frequency::EveryTime;
    }
    let (number, unit) = text.split_at(text.len() - 1);
    let value = number.parse().unwrap_or(1);
    Frequency::Every(value, if unit == "d" { "days" } else { "hours" })
}

fn grant_control(control: GrantControl) -> &'static str {
    match control {
        GrantControl::Mfa => "mfa",
        GrantControl::CompliantDevice => "compliantDevice",
        GrantControl::DomainJoinedDevice => "domainJoinedDevice",
        GrantControl::ApprovedApplication => "approvedApplication",
        GrantControl::CompliantApplication => "compliantApplication",
        GrantControl::PasswordChange => "passwordChange",
        GrantControl::Block => "block",
    }
}

fn client_app(app: SpecClientApp) -> &'static str {
    match app {
        SpecClientApp::All => "all",
        SpecClientApp::Browser => "browser",
        SpecClientApp::MobileAppsAndDesktopClients => "mobileAppsAndDesktopClients",
        SpecClientApp::ExchangeActiveSync => "exchangeActiveSync",
        SpecClientApp::EasSupported => "easSupported",
        SpecClientApp::Other => "other",
    }
}

fn platform(platform: Platform) -> &'static str {
    match platform {
        Platform::All => "all",
        Platform::Android => "android",
        Platform::Ios => "iOS",
        Platform::Windows => "windows",
        Platform::WindowsPhone => "windowsPhone",
        Platform::MacOs => "macOS",
        Platform::Linux => "linux",
    }
}

fn risk(level: SpecRisk) -> &'static str {
    match level {
        SpecRisk::Low => "low",
        SpecRisk::Medium => "medium",
        SpecRisk::High => "high",
        SpecRisk::None => "none",
    }
}

fn cloud_app_security(kind: CloudAppSecurity) -> &'static str {
    match kind {
        CloudAppSecurity::MonitorOnly => "monitorOnly",
        CloudAppSecurity::BlockDownloads => "blockDownloads",
        CloudAppSecurity::McasConfigured => "mcasConfigured",
    }
}

fn cae_mode(mode: ContinuousAccessEvaluation) -> &'static str {
    match mode {
        ContinuousAccessEvaluation::StrictEnforcement => "strictEnforcement",
        ContinuousAccessEvaluation::Disabled => "disabled",
        ContinuousAccessEvaluation::StrictLocation => "strictLocation",
    }
}

/// The managed fields of a policy in canonical form: sets sorted and lowercased, absent and
/// empty the same, defaults filled. Two policies with equal maps are in sync.
pub fn managed_fields(policy: &ConditionalAccessPolicy) -> BTreeMap<&'static str, Value> {
    let mut fields = BTreeMap::new();
    fields.insert("displayName", json!(policy.display_name));
    fields.insert("state", json!(policy.state.as_str()));
    let c = &policy.conditions;
    let users = c.users.clone().unwrap_or_default();
    fields.insert("conditions.users.includeUsers", set(&users.include_users));
    fields.insert("conditions.users.excludeUsers", set(&users.exclude_users));
    fields.insert("conditions.users.includeGroups", set(&users.include_groups));
    fields.insert("conditions.users.excludeGroups", set(&users.exclude_groups));
    fields.insert("conditions.users.includeRoles", set(&users.include_roles));
    fields.insert("conditions.users.excludeRoles", set(&users.exclude_roles));
    let applications = c.applications.clone().unwrap_or_default();
    fields.insert(
        "conditions.applications.includeApplications",
        set(&applications.include_applications),
    );
    fields.insert(
        "conditions.applications.excludeApplications",
        set(&applications.exclude_applications),
    );
    let client_apps: Vec<String> = c
        .client_app_types
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    fields.insert(
        "conditions.clientAppTypes",
        if client_apps.is_empty() {
            json!(["all"])
        } else {
            set(&client_apps)
        },
    );
    let platforms = c.platforms.clone().unwrap_or_default();
    fields.insert(
        "conditions.platforms.includePlatforms",
        set(&strings(&platforms.include_platforms)),
    );
    fields.insert(
        "conditions.platforms.excludePlatforms",
        set(&strings(&platforms.exclude_platforms)),
    );
    let locations = c.locations.clone().unwrap_or_default();
    fields.insert(
        "conditions.locations.includeLocations",
        set(&locations.include_locations),
    );
    fields.insert(
        "conditions.locations.excludeLocations",
        set(&locations.exclude_locations),
    );
    fields.insert(
        "conditions.devices.deviceFilter",
        c.devices
            .as_ref()
            .and_then(|d| d.device_filter.as_ref())
            .map(|f| json!({"mode": f.mode.as_str(), "rule": f.rule.trim()}))
            .unwrap_or(Value::Null),
    );
    fields.insert(
        "conditions.signInRiskLevels",
        set(&strings(&c.sign_in_risk_levels)),
    );
    fields.insert(
        "conditions.userRiskLevels",
        set(&strings(&c.user_risk_levels)),
    );

    let grant = policy.grant_controls.clone().unwrap_or_default();
    let strength = grant
        .authentication_strength
        .as_ref()
        .and_then(|s| s.id.as_ref())
        .map(|id| id.to_lowercase());
    let requirements = grant.built_in_controls.len()
        + usize::from(strength.is_some())
        + grant.terms_of_use.len()
        + grant.custom_authentication_factors.len();
    // With one requirement or none, AND and OR mean the same: Graph's choice is not drift.
    let operator = if requirements <= 1 {
        "OR".to_owned()
    } else {
        grant
            .operator
            .clone()
            .unwrap_or_else(|| "OR".into())
            .to_uppercase()
    };
    fields.insert("grantControls.operator", json!(operator));
    fields.insert(
        "grantControls.builtInControls",
        set(&strings(&grant.built_in_controls)),
    );
    fields.insert("grantControls.authenticationStrength", json!(strength));

    let session = policy.session_controls.clone().unwrap_or_default();
    let enabled = |control: Option<bool>| control.unwrap_or(false);
    fields.insert(
        "sessionControls.applicationEnforcedRestrictions",
        json!(enabled(
            session
                .application_enforced_restrictions
                .as_ref()
                .and_then(|c| c.is_enabled)
        )),
    );
    fields.insert(
        "sessionControls.cloudAppSecurity",
        session
            .cloud_app_security
            .as_ref()
            .filter(|c| c.is_enabled == Some(true))
            .map(|c| json!(c.cloud_app_security_type.as_ref().map(|t| t.as_str())))
            .unwrap_or(Value::Null),
    );
    fields.insert(
        "sessionControls.signInFrequency",
        session
            .sign_in_frequency
            .as_ref()
            .filter(|f| f.is_enabled == Some(true))
            .map(|f| {
                // In hours, so that 24 hours and 1 day are the same setting.
                let every = match f.frequency_interval.as_ref().map(|i| i.as_str()) {
                    Some("everyTime") => "everyTime".to_owned(),
                    _ => {
                        let per_unit = if f.unit.as_ref().is_some_and(|u| u.as_str() == "days") {
                            24
                        } else {
                            1
                        };
                        format!("{}h", i64::from(f.value.unwrap_or(0)) * per_unit)
                    }
                };
                let authentication = f
                    .authentication_type
                    .as_ref()
                    .map(|a| a.as_str())
                    .unwrap_or("primaryAndSecondaryAuthentication");
                json!(format!("{every} ({authentication})"))
            })
            .unwrap_or(Value::Null),
    );
    fields.insert(
        "sessionControls.persistentBrowser",
        session
            .persistent_browser
            .as_ref()
            .filter(|p| p.is_enabled == Some(true))
            .map(|p| json!(p.mode.as_ref().map(|m| m.as_str())))
            .unwrap_or(Value::Null),
    );
    fields.insert(
        "sessionControls.disableResilienceDefaults",
        json!(session.disable_resilience_defaults.unwrap_or(false)),
    );
    fields.insert(
        "sessionControls.secureSignInSession",
        json!(enabled(
            session
                .secure_sign_in_session
                .as_ref()
                .and_then(|c| c.is_enabled)
        )),
    );
    fields.insert(
        "sessionControls.continuousAccessEvaluation",
        session
            .continuous_access_evaluation
            .as_ref()
            .and_then(|c| c.mode.as_ref())
            .map(|m| json!(m.as_str()))
            .unwrap_or(Value::Null),
    );
    fields
}

fn strings<T: std::fmt::Display>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

fn set(values: &[String]) -> Value {
    let sorted: BTreeSet<String> = values.iter().map(|v| v.to_lowercase()).collect();
    json!(sorted)
}

/// One managed field that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// Dotted Graph path, e.g. `sessionControls.signInFrequency`.
    pub field: String,
    /// What the tenant has (normalized).
    pub tenant: Value,
    /// What the spec asks for (normalized).
    pub desired: Value,
}

/// The differing managed fields, in field order. `compare_beta_only` is false when the tenant
/// side was read through v1.0, which does not return beta-only controls.
pub fn diff(
    desired: &ConditionalAccessPolicy,
    observed: &ConditionalAccessPolicy,
    compare_beta_only: bool,
) -> Vec<FieldChange> {
    let desired = managed_fields(desired);
    let observed = managed_fields(observed);
    desired
        .iter()
        .filter(|(field, _)| {
            compare_beta_only || **field != "sessionControls.continuousAccessEvaluation"
        })
        .filter(|(field, value)| observed.get(*field) != Some(value))
        .map(|(field, value)| FieldChange {
            field: (*field).to_owned(),
            tenant: observed.get(field).cloned().unwrap_or(Value::Null),
            desired: value.clone(),
        })
        .collect()
}

/// What to do with one SessionPolicy.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyPlan {
    /// No policy has the name: create it.
    Create {
        /// POST body.
        body: Value,
        /// Endpoint version.
        version: ApiVersion,
    },
    /// The policy exists and differs: PATCH these fields.
    Update {
        /// Policy id.
        id: String,
        /// What differs.
        changes: Vec<FieldChange>,
        /// PATCH body: complete managed sub-objects with explicit `[]`/`null`.
        patch: Value,
        /// Endpoint version.
        version: ApiVersion,
        /// Found by displayName rather than by a recorded id (first reconcile of an existing policy).
        adopted: bool,
    },
    /// Deleted in the portal: restore it from deletedItems, then PATCH what differs.
    Restore {
        /// Policy id (kept by the restore).
        id: String,
        /// What differs from the state it was deleted in.
        changes: Vec<FieldChange>,
        /// PATCH body after the restore (empty object when nothing differs).
        patch: Value,
        /// POST body if the restore fails (the restore API is beta-only and Global-only).
        create_body: Value,
        /// Endpoint version.
        version: ApiVersion,
    },
    /// In sync: nothing to send.
    NoOp {
        /// Policy id.
        id: String,
        /// Found by displayName rather than by a recorded id.
        adopted: bool,
    },
}

/// How the tenant policy of a SessionPolicy was found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Found<'a> {
    /// By the id recorded in status.
    ById(&'a ConditionalAccessPolicy),
    /// By displayName (adoption).
    ByName(&'a ConditionalAccessPolicy),
    /// Soft-deleted (in `deletedItems`), by recorded id or displayName: restore it.
    Deleted(&'a ConditionalAccessPolicy),
    /// Not in the tenant.
    Missing,
}

/// Finds the tenant policy: the recorded id first, else a unique displayName match; failing
/// both, the same among soft-deleted policies (the most recently deleted of a name).
pub fn find_with_deleted<'a>(
    recorded_id: Option<&str>,
    display_name: &str,
    active: &'a [ConditionalAccessPolicy],
    deleted: &'a [ConditionalAccessPolicy],
) -> Result<Found<'a>, PolicyError> {
    match find(recorded_id, display_name, active)? {
        Found::Missing => {
            let by_id = recorded_id.and_then(|id| {
                deleted
                    .iter()
                    .find(|p| p.id.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(id)))
            });
            let by_name = || {
                deleted
                    .iter()
                    .filter(|p| p.display_name == display_name)
                    .max_by(|a, b| a.deleted_date_time.cmp(&b.deleted_date_time))
            };
            Ok(by_id
                .or_else(by_name)
                .map_or(Found::Missing, Found::Deleted))
        }
        found => Ok(found),
    }
}

/// Finds the tenant policy: the recorded id first, else a unique displayName match.
pub fn find<'a>(
    recorded_id: Option<&str>,
    display_name: &str,
    policies: &'a [ConditionalAccessPolicy],
) -> Result<Found<'a>, PolicyError> {
    if let Some(id) = recorded_id
        && let Some(policy) = policies
            .iter()
            .find(|p| p.id.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(id)))
    {
        return Ok(Found::ById(policy));
    }
    let named: Vec<&ConditionalAccessPolicy> = policies
        .iter()
        .filter(|p| p.display_name == display_name)
        .collect();
    match named.as_slice() {
        [] => Ok(Found::Missing),
        [one] => Ok(Found::ByName(one)),
        many => Err(PolicyError::DuplicateInTenant {
            display_name: display_name.to_owned(),
            count: many.len(),
            ids: many.iter().filter_map(|p| p.id.clone()).collect(),
        }),
    }
}

/// The plan for a desired policy given what was found in the tenant. `observed_via_beta`
/// says whether the tenant side was read through beta (and so shows beta-only controls).
pub fn plan(desired: &DesiredPolicy, found: Found<'_>, observed_via_beta: bool) -> PolicyPlan {
    let (observed, adopted) = match found {
        Found::Missing => {
            return PolicyPlan::Create {
                body: desired.body.to_write_body(),
                version: desired.version,
            };
        }
        Found::ById(policy) => (policy, false),
        Found::ByName(policy) => (policy, true),
        Found::Deleted(policy) => {
            let changes = diff(
                &desired.body,
                policy,
                observed_via_beta || desired.version == ApiVersion::Beta,
            );
            return PolicyPlan::Restore {
                id: policy.id.clone().unwrap_or_default(),
                patch: patch_body(&desired.body, policy, &changes),
                create_body: desired.body.to_write_body(),
                changes,
                version: desired.version,
            };
        }
    };
    let id = observed.id.clone().unwrap_or_default();
    let changes = diff(
        &desired.body,
        observed,
        observed_via_beta || desired.version == ApiVersion::Beta,
    );
    if changes.is_empty() {
        return PolicyPlan::NoOp { id, adopted };
    }
    PolicyPlan::Update {
        id,
        patch: patch_body(&desired.body, observed, &changes),
        changes,
        version: desired.version,
        adopted,
    }
}

/// The PATCH body for `changes`: each changed group is sent as a complete managed sub-object
/// with explicit `[]`/`null` (Graph merges nested objects, so an omitted list would silently
/// survive), and nothing the API does not model is named (so it is left as the tenant has it).
fn patch_body(
    desired: &ConditionalAccessPolicy,
    observed: &ConditionalAccessPolicy,
    changes: &[FieldChange],
) -> Value {
    let full = desired.to_write_body();
    let changed = |prefix: &str| changes.iter().any(|c| c.field.starts_with(prefix));
    let pick = |object: &Value, keys: &[&str]| -> Value {
        match object {
            Value::Null => Value::Null,
            object => Value::Object(
                keys.iter()
                    .map(|k| ((*k).to_owned(), object[*k].clone()))
                    .collect(),
            ),
        }
    };
    let mut patch = serde_json::Map::new();
    for top in ["displayName", "state"] {
        if changed(top) {
            patch.insert(top.to_owned(), full[top].clone());
        }
    }
    if changed("conditions.") {
        let c = &full["conditions"];
        let mut devices = c["devices"].clone();
        if devices.is_null()
            && observed
                .conditions
                .devices
                .as_ref()
                .is_some_and(|d| has_content(&d.extra))
        {
            devices = json!({"deviceFilter": null});
        }
        patch.insert(
            "conditions".into(),
            json!({
                "users": pick(&c["users"], &["includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles"]),
                "applications": pick(&c["applications"], &["includeApplications", "excludeApplications"]),
                "clientAppTypes": c["clientAppTypes"],
                "platforms": pick(&c["platforms"], &["includePlatforms", "excludePlatforms"]),
                "locations": pick(&c["locations"], &["includeLocations", "excludeLocations"]),
                "devices": devices,
                "signInRiskLevels": c["signInRiskLevels"],
                "userRiskLevels": c["userRiskLevels"],
            }),
        );
    }
    if changed("grantControls.") {
        let keeps_unmodelled = observed.grant_controls.as_ref().is_some_and(|g| {
            !g.terms_of_use.is_empty()
                || !g.custom_authentication_factors.is_empty()
                || has_content(&g.extra)
        });
        let grant = match pick(
            &full["grantControls"],
            &["operator", "builtInControls", "authenticationStrength"],
        ) {
            Value::Null if keeps_unmodelled => {
                json!({"operator": "OR", "builtInControls": [], "authenticationStrength": null})
            }
            grant => grant,
        };
        patch.insert("grantControls".into(), grant);
    }
    if changed("sessionControls.") {
        let keeps_unmodelled = observed
            .session_controls
            .as_ref()
            .is_some_and(|s| has_content(&s.extra));
        let session = match &full["sessionControls"] {
            Value::Null if keeps_unmodelled => json!({
                "applicationEnforcedRestrictions": null, "cloudAppSecurity": null, "signInFrequency": null,
                "persistentBrowser": null, "disableResilienceDefaults": null, "secureSignInSession": null,
            }),
            session => session.clone(),
        };
        patch.insert("sessionControls".into(), session);
    }
    Value::Object(patch)
}

#[cfg(test)]
mod tests;
