//! The Graph surface: which paths exist, which methods they take, which service answers them
//! (for throttling), what they cost, and which application permissions they need.
//!
//! Routing is done here rather than by axum because `$batch` items carry relative URLs that must
//! reach exactly the same handlers as top-level requests.

use axum::http::Method;

use super::config::SimCloud;
use super::error::{ErrorCode, GraphError};

/// One routed Graph operation target. Keys are percent-decoded path keys (an id, a UPN, or for
/// devices possibly `deviceId='…'`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Users,
    User(String),
    UserRevokeSignInSessions(String),
    UserRegisteredDevices(String),
    Device(String),
    Groups,
    Group(String),
    GroupTransitiveMembers(String, Option<Cast>),
    CaPolicies,
    CaPolicy(String),
    CaDeletedPolicies,
    CaDeletedPolicy(String),
    CaDeletedPolicyRestore(String),
    NamedLocations,
    NamedLocation(String),
    DeletedNamedLocations,
    DeletedNamedLocation(String),
    DeletedNamedLocationRestore(String),
    RoleTemplates,
    RoleTemplate(String),
    /// `/servicePrincipals` (read).
    ServicePrincipals,
    /// `/roleManagement/directory/roleAssignments` (read, `$filter=principalId eq '…'`).
    RoleAssignments,
    AuthenticationStrengths,
    /// One strength: GET, PATCH (`authenticationstrengthpolicy-update.md`), DELETE
    /// (`authenticationstrengthroot-delete-policies.md`).
    AuthenticationStrength(String),
    /// `POST …/{id}/updateAllowedCombinations` (`authenticationstrengthpolicy-updateallowedcombinations.md`).
    AuthenticationStrengthUpdateAllowedCombinations(String),
    /// `…/{id}/combinationConfigurations` (`authenticationstrengthpolicy-list-combinationconfigurations.md`,
    /// `authenticationstrengthpolicy-post-combinationconfigurations.md`).
    CombinationConfigurations(String),
    /// `…/{id}/combinationConfigurations/{configurationId}` (`authenticationcombinationconfiguration-get.md`,
    /// `authenticationcombinationconfiguration-update.md`, `authenticationstrengthpolicy-delete-combinationconfigurations.md`).
    CombinationConfiguration(String, String),
    TimeoutPolicies,
    TimeoutPolicy(String),
    SharePointSettings,
    RiskyUsers,
    RiskyUser(String),
    RiskyUsersConfirmCompromised,
    RiskyUsersDismiss,
    Batch,
}

/// OData type cast segment on `transitiveMembers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cast {
    User,
    Group,
    Device,
}

impl Cast {
    fn parse(segment: &str) -> Option<Cast> {
        match segment {
            "microsoft.graph.user" => Some(Cast::User),
            "microsoft.graph.group" => Some(Cast::Group),
            "microsoft.graph.device" => Some(Cast::Device),
            _ => None,
        }
    }

    pub(crate) fn segment(self) -> &'static str {
        match self {
            Cast::User => "microsoft.graph.user",
            Cast::Group => "microsoft.graph.group",
            Cast::Device => "microsoft.graph.device",
        }
    }
}

/// The routes under a strength collection (`/policies/authenticationStrengthPolicies` or
/// `/identity/conditionalAccess/authenticationStrength/policies`), from the segments after it.
/// `authenticationstrengthroot-delete-policies.md` and `authenticationstrengthpolicy-delete-combinationconfigurations.md`
/// show their DELETE examples with a trailing `/$ref` that their "HTTP request" sections do not
/// have: both forms are served, for DELETE only.
fn strength_route(method: &Method, rest: &[&str]) -> Result<Route, GraphError> {
    let delete = method == Method::DELETE;
    Ok(match rest {
        [] => Route::AuthenticationStrengths,
        [id] => Route::AuthenticationStrength((*id).to_owned()),
        [id, "$ref"] if delete => Route::AuthenticationStrength((*id).to_owned()),
        [id, "updateAllowedCombinations"] => {
            Route::AuthenticationStrengthUpdateAllowedCombinations((*id).to_owned())
        }
        [id, "combinationConfigurations"] => Route::CombinationConfigurations((*id).to_owned()),
        [id, "combinationConfigurations", configuration] => {
            Route::CombinationConfiguration((*id).to_owned(), (*configuration).to_owned())
        }
        [id, "combinationConfigurations", configuration, "$ref"] if delete => {
            Route::CombinationConfiguration((*id).to_owned(), (*configuration).to_owned())
        }
        [.., last] => return Err(unknown_segment(last)),
    })
}

/// Which Graph service answers, which decides the throttling model (`concepts/throttling.md`, `concepts/throttling-limits.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    /// Identity and access: resource units and the write quota per app and tenant.
    Identity,
    /// Conditional Access, named locations and Identity Protection: 1 request/s per tenant.
    ConditionalAccess,
    /// The `$batch` envelope itself; its items are evaluated individually.
    Envelope,
}

/// Any one of the alternatives, each a set of permissions that must all be granted.
pub(crate) type Requirement = &'static [&'static [&'static str]];

pub(crate) mod permissions {
    //! Application permissions per operation: the least-privileged one from each API page's permissions table and
    //! the higher-privileged alternatives Graph also accepts.
    use super::Requirement;

    pub(crate) const USER_READ_BASIC: Requirement = &[
        &["User.ReadBasic.All"],
        &["User.Read.All"],
        &["User.ReadWrite.All"],
        &["Directory.Read.All"],
        &["Directory.ReadWrite.All"],
    ];
    /// Non-basic user properties (`signInSessionsValidFromDateTime`, `accountEnabled` …) and
    /// registered devices.
    pub(crate) const USER_READ: Requirement = &[
        &["User.Read.All"],
        &["User.ReadWrite.All"],
        &["Directory.Read.All"],
        &["Directory.ReadWrite.All"],
    ];
    pub(crate) const USER_REVOKE: Requirement = &[
        &["User.RevokeSessions.All"],
        &["User.ReadWrite.All"],
        &["Directory.ReadWrite.All"],
    ];
    /// `user-update.md`: `User.EnableDisableAccount.All` needs `User.Read.All` beside it.
    pub(crate) const USER_ENABLE_DISABLE: Requirement = &[
        &["User.EnableDisableAccount.All", "User.Read.All"],
        &["User.ReadWrite.All"],
        &["Directory.ReadWrite.All"],
    ];
    /// `user-update.md`: `User.ReadWrite.All` alone is not enough for other users' passwords.
    pub(crate) const USER_PASSWORD: Requirement = &[
        &["User-PasswordProfile.ReadWrite.All"],
        &["Directory.ReadWrite.All"],
    ];
    pub(crate) const USER_WRITE: Requirement =
        &[&["User.ReadWrite.All"], &["Directory.ReadWrite.All"]];
    pub(crate) const DEVICE_READ: Requirement = &[
        &["Device.Read.All"],
        &["Device.ReadWrite.All"],
        &["Directory.Read.All"],
        &["Directory.ReadWrite.All"],
    ];
    pub(crate) const DEVICE_WRITE: Requirement =
        &[&["Device.ReadWrite.All"], &["Directory.ReadWrite.All"]];
    /// group-list.md, group-get.md: `Group.ReadBasic.All` is the least.
    pub(crate) const GROUP_READ: Requirement = &[
        &["Group.ReadBasic.All"],
        &["GroupMember.Read.All"],
        &["Group.Read.All"],
        &["Group.ReadWrite.All"],
        &["Directory.Read.All"],
        &["Directory.ReadWrite.All"],
    ];
    /// `group-list-transitivemembers.md`: `GroupMember.ReadBasic.All` is the least for transitive members.
    pub(crate) const GROUP_MEMBERS_READ: Requirement = &[
        &["GroupMember.ReadBasic.All"],
        &["GroupMember.Read.All"],
        &["Group.Read.All"],
        &["Group.ReadWrite.All"],
        &["Directory.Read.All"],
        &["Directory.ReadWrite.All"],
    ];
    /// conditionalaccesspolicy.md, namedlocation.md: reads of CA policies and named locations.
    pub(crate) const POLICY_READ: Requirement = &[&["Policy.Read.All"]];
    /// conditionalaccesspolicy.md, namedlocation.md: writes need `Policy.Read.All` **and** `Policy.ReadWrite.ConditionalAccess`.
    pub(crate) const CA_WRITE: Requirement = &[
        &["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"],
        &["Application.Read.All", "Policy.ReadWrite.ConditionalAccess"],
    ];
    pub(crate) const ROLE_TEMPLATES_READ: Requirement = &[
        &["RoleManagement.Read.Directory"],
        &["RoleManagement.ReadWrite.Directory"],
        &["Directory.Read.All"],
        &["Directory.ReadWrite.All"],
    ];
    /// `serviceprincipal-list.md`.
    pub(crate) const SERVICE_PRINCIPAL_READ: Requirement = &[
        &["Application.Read.All"],
        &["Application.ReadWrite.All"],
        &["Directory.Read.All"],
    ];
    /// `authenticationstrengthpolicy.md`.
    pub(crate) const AUTH_STRENGTH_READ: Requirement = &[
        &["Policy.Read.AuthenticationMethod"],
        &["Policy.ReadWrite.AuthenticationMethod"],
        &["Policy.ReadWrite.ConditionalAccess"],
        &["Policy.Read.All"],
    ];
    pub(crate) const AUTH_STRENGTH_WRITE: Requirement = &[
        &["Policy.ReadWrite.ConditionalAccess"],
        &["Policy.ReadWrite.AuthenticationMethod"],
    ];
    /// `activitybasedtimeoutpolicy.md`.
    pub(crate) const TIMEOUT_POLICY_READ: Requirement = &[
        &["Policy.Read.All"],
        &["Policy.ReadWrite.ApplicationConfiguration"],
    ];
    pub(crate) const TIMEOUT_POLICY_WRITE: Requirement =
        &[&["Policy.ReadWrite.ApplicationConfiguration"]];
    /// `sharepointsettings-get.md`, `sharepointsettings-update.md`.
    pub(crate) const SHAREPOINT_SETTINGS_READ: Requirement = &[
        &["SharePointTenantSettings.Read.All"],
        &["SharePointTenantSettings.ReadWrite.All"],
    ];
    pub(crate) const SHAREPOINT_SETTINGS_WRITE: Requirement =
        &[&["SharePointTenantSettings.ReadWrite.All"]];
    /// `riskyuser-confirmcompromised.md`.
    pub(crate) const RISKY_USER_READ: Requirement = &[
        &["IdentityRiskyUser.Read.All"],
        &["IdentityRiskyUser.ReadWrite.All"],
    ];
    pub(crate) const RISKY_USER_WRITE: Requirement = &[&["IdentityRiskyUser.ReadWrite.All"]];
    /// The envelope needs nothing; its items are checked one by one.
    pub(crate) const NONE: Requirement = &[&[]];
}

impl Route {
    /// Routes a path (after `/v1.0` or `/beta`, query removed) and checks the method.
    pub(crate) fn parse(method: &Method, path: &str) -> Result<Route, GraphError> {
        let mut segments = split_segments(path)?;
        canonical_names(&mut segments);
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let own = |i: usize| segments[i].clone();
        let route = match s.as_slice() {
            ["users"] => Route::Users,
            ["users", _] => Route::User(own(1)),
            ["users", _, "revokeSignInSessions"] => Route::UserRevokeSignInSessions(own(1)),
            ["users", _, "registeredDevices"] => Route::UserRegisteredDevices(own(1)),
            ["devices", _] => Route::Device(own(1)),
            ["groups"] => Route::Groups,
            ["groups", _] => Route::Group(own(1)),
            ["groups", _, "transitiveMembers"] => Route::GroupTransitiveMembers(own(1), None),
            ["groups", _, "transitiveMembers", cast] => match Cast::parse(cast) {
                Some(cast) => Route::GroupTransitiveMembers(own(1), Some(cast)),
                None => return Err(unknown_segment(cast)),
            },
            ["identity", "conditionalAccess", "policies"] => Route::CaPolicies,
            ["identity", "conditionalAccess", "policies", _] => Route::CaPolicy(own(3)),
            ["identity", "conditionalAccess", "deletedItems", "policies"] => {
                Route::CaDeletedPolicies
            }
            [
                "identity",
                "conditionalAccess",
                "deletedItems",
                "policies",
                _,
            ] => Route::CaDeletedPolicy(own(4)),
            [
                "identity",
                "conditionalAccess",
                "deletedItems",
                "policies",
                _,
                "restore",
            ] => Route::CaDeletedPolicyRestore(own(4)),
            ["identity", "conditionalAccess", "namedLocations"] => Route::NamedLocations,
            ["identity", "conditionalAccess", "namedLocations", _] => Route::NamedLocation(own(3)),
            [
                "identity",
                "conditionalAccess",
                "deletedItems",
                "namedLocations",
            ] => Route::DeletedNamedLocations,
            [
                "identity",
                "conditionalAccess",
                "deletedItems",
                "namedLocations",
                _,
            ] => Route::DeletedNamedLocation(own(4)),
            [
                "identity",
                "conditionalAccess",
                "deletedItems",
                "namedLocations",
                _,
                "restore",
            ] => Route::DeletedNamedLocationRestore(own(4)),
            [
                "identity",
                "conditionalAccess",
                "authenticationStrength",
                "policies",
                rest @ ..,
            ]
            | ["policies", "authenticationStrengthPolicies", rest @ ..] => {
                strength_route(method, rest)?
            }
            ["policies", "activityBasedTimeoutPolicies"] => Route::TimeoutPolicies,
            ["policies", "activityBasedTimeoutPolicies", _] => Route::TimeoutPolicy(own(2)),
            ["admin", "sharepoint", "settings"] => Route::SharePointSettings,
            ["directoryRoleTemplates"] => Route::RoleTemplates,
            ["servicePrincipals"] => Route::ServicePrincipals,
            ["directoryRoleTemplates", _] => Route::RoleTemplate(own(1)),
            ["roleManagement", "directory", "roleAssignments"] => Route::RoleAssignments,
            ["identityProtection", "riskyUsers"] => Route::RiskyUsers,
            ["identityProtection", "riskyUsers", "confirmCompromised"] => {
                Route::RiskyUsersConfirmCompromised
            }
            ["identityProtection", "riskyUsers", "dismiss"] => Route::RiskyUsersDismiss,
            ["identityProtection", "riskyUsers", _] => Route::RiskyUser(own(2)),
            ["$batch"] => Route::Batch,
            [] => {
                return Err(GraphError::bad_request(
                    "Invalid request: empty resource path.",
                ));
            }
            [first, ..] if !ROOTS.contains(first) => return Err(unknown_segment(first)),
            [.., last] => return Err(unknown_segment(last)),
        };
        if !route.methods().contains(method) {
            return Err(GraphError::new(
                ErrorCode::MethodNotAllowed,
                "Specified HTTP method is not allowed for the request uri.",
            ));
        }
        Ok(route)
    }

    /// The path segment a national cloud does not have for this route, if any: Graph answers
    /// an unknown segment with 400 "Resource not found for the segment …".
    pub(crate) fn absent_segment(&self, cloud: SimCloud) -> Option<&'static str> {
        use Route::*;
        match self {
            CaDeletedPolicies
            | CaDeletedPolicy(_)
            | CaDeletedPolicyRestore(_)
            | DeletedNamedLocations
            | DeletedNamedLocation(_)
            | DeletedNamedLocationRestore(_)
                if !cloud.has_deleted_items() =>
            {
                Some("deletedItems")
            }
            RiskyUsers | RiskyUser(_) | RiskyUsersConfirmCompromised | RiskyUsersDismiss
                if !cloud.has_identity_protection() =>
            {
                Some("identityProtection")
            }
            _ => None,
        }
    }

    /// Methods the path answers.
    fn methods(&self) -> &'static [Method] {
        use Route::*;
        const GET: &[Method] = &[Method::GET];
        const POST: &[Method] = &[Method::POST];
        const GET_POST: &[Method] = &[Method::GET, Method::POST];
        const GET_PATCH: &[Method] = &[Method::GET, Method::PATCH];
        const GET_DELETE: &[Method] = &[Method::GET, Method::DELETE];
        const GET_PATCH_DELETE: &[Method] = &[Method::GET, Method::PATCH, Method::DELETE];
        match self {
            Users | Groups | Group(_) | GroupTransitiveMembers(..) | UserRegisteredDevices(_) => {
                GET
            }
            CaDeletedPolicies
            | DeletedNamedLocations
            | RoleTemplates
            | RoleTemplate(_)
            | RoleAssignments
            | ServicePrincipals => GET,
            RiskyUsers | RiskyUser(_) => GET,
            User(_) | Device(_) | SharePointSettings => GET_PATCH,
            UserRevokeSignInSessions(_)
            | CaDeletedPolicyRestore(_)
            | AuthenticationStrengthUpdateAllowedCombinations(_) => POST,
            DeletedNamedLocationRestore(_) | RiskyUsersConfirmCompromised | RiskyUsersDismiss => {
                POST
            }
            Batch => POST,
            CaPolicies
            | NamedLocations
            | AuthenticationStrengths
            | CombinationConfigurations(_)
            | TimeoutPolicies => GET_POST,
            CaPolicy(_)
            | NamedLocation(_)
            | TimeoutPolicy(_)
            | AuthenticationStrength(_)
            | CombinationConfiguration(..) => GET_PATCH_DELETE,
            CaDeletedPolicy(_) | DeletedNamedLocation(_) => GET_DELETE,
        }
    }

    /// The route template used as the statistics key (`GET /users/{id}`).
    pub(crate) fn template(&self) -> String {
        use Route::*;
        match self {
            Users => "/users".into(),
            User(_) => "/users/{id}".into(),
            UserRevokeSignInSessions(_) => "/users/{id}/revokeSignInSessions".into(),
            UserRegisteredDevices(_) => "/users/{id}/registeredDevices".into(),
            Device(_) => "/devices/{id}".into(),
            Groups => "/groups".into(),
            Group(_) => "/groups/{id}".into(),
            GroupTransitiveMembers(_, None) => "/groups/{id}/transitiveMembers".into(),
            GroupTransitiveMembers(_, Some(cast)) => {
                format!("/groups/{{id}}/transitiveMembers/{}", cast.segment())
            }
            CaPolicies => "/identity/conditionalAccess/policies".into(),
            CaPolicy(_) => "/identity/conditionalAccess/policies/{id}".into(),
            CaDeletedPolicies => "/identity/conditionalAccess/deletedItems/policies".into(),
            CaDeletedPolicy(_) => "/identity/conditionalAccess/deletedItems/policies/{id}".into(),
            CaDeletedPolicyRestore(_) => {
                "/identity/conditionalAccess/deletedItems/policies/{id}/restore".into()
            }
            NamedLocations => "/identity/conditionalAccess/namedLocations".into(),
            NamedLocation(_) => "/identity/conditionalAccess/namedLocations/{id}".into(),
            DeletedNamedLocations => {
                "/identity/conditionalAccess/deletedItems/namedLocations".into()
            }
            DeletedNamedLocation(_) => {
                "/identity/conditionalAccess/deletedItems/namedLocations/{id}".into()
            }
            DeletedNamedLocationRestore(_) => {
                "/identity/conditionalAccess/deletedItems/namedLocations/{id}/restore".into()
            }
            RoleTemplates => "/directoryRoleTemplates".into(),
            RoleTemplate(_) => "/directoryRoleTemplates/{id}".into(),
            RoleAssignments => "/roleManagement/directory/roleAssignments".into(),
            ServicePrincipals => "/servicePrincipals".into(),
            AuthenticationStrengths => "/policies/authenticationStrengthPolicies".into(),
            AuthenticationStrength(_) => "/policies/authenticationStrengthPolicies/{id}".into(),
            AuthenticationStrengthUpdateAllowedCombinations(_) => {
                "/policies/authenticationStrengthPolicies/{id}/updateAllowedCombinations".into()
            }
            CombinationConfigurations(_) => {
                "/policies/authenticationStrengthPolicies/{id}/combinationConfigurations".into()
            }
            CombinationConfiguration(..) => {
                "/policies/authenticationStrengthPolicies/{id}/combinationConfigurations/{configurationId}"
                    .into()
            }
            TimeoutPolicies => "/policies/activityBasedTimeoutPolicies".into(),
            TimeoutPolicy(_) => "/policies/activityBasedTimeoutPolicies/{id}".into(),
            SharePointSettings => "/admin/sharepoint/settings".into(),
            RiskyUsers => "/identityProtection/riskyUsers".into(),
            RiskyUser(_) => "/identityProtection/riskyUsers/{id}".into(),
            RiskyUsersConfirmCompromised => {
                "/identityProtection/riskyUsers/confirmCompromised".into()
            }
            RiskyUsersDismiss => "/identityProtection/riskyUsers/dismiss".into(),
            Batch => "/$batch".into(),
        }
    }

    pub(crate) fn service(&self) -> Service {
        use Route::*;
        match self {
            CaPolicies
            | CaPolicy(_)
            | CaDeletedPolicies
            | CaDeletedPolicy(_)
            | CaDeletedPolicyRestore(_)
            | NamedLocations
            | NamedLocation(_)
            | DeletedNamedLocations
            | DeletedNamedLocation(_)
            | DeletedNamedLocationRestore(_)
            | RiskyUsers
            | RiskyUser(_)
            | RiskyUsersConfirmCompromised
            | RiskyUsersDismiss => Service::ConditionalAccess,
            Batch => Service::Envelope,
            _ => Service::Identity,
        }
    }

    /// Base resource-unit cost of a read (`concepts/throttling.md`, `concepts/throttling-limits.md`); writes cost 1 RU and 1 write.
    pub(crate) fn read_cost(&self) -> i32 {
        match self {
            Route::Users => 2,
            Route::GroupTransitiveMembers(..) => 5,
            _ => 1,
        }
    }

    /// Permissions the operation needs, before looking at the request (see
    /// `pipeline::requirements` for the body- and `$select`-dependent ones).
    pub(crate) fn requirement(&self, method: &Method) -> Requirement {
        use Route::*;
        use permissions::*;
        let write = method != Method::GET;
        match self {
            Users | User(_) => {
                if write {
                    USER_WRITE
                } else {
                    USER_READ_BASIC
                }
            }
            UserRevokeSignInSessions(_) => USER_REVOKE,
            UserRegisteredDevices(_) => USER_READ,
            Device(_) => {
                if write {
                    DEVICE_WRITE
                } else {
                    DEVICE_READ
                }
            }
            Groups | Group(_) => GROUP_READ,
            GroupTransitiveMembers(..) => GROUP_MEMBERS_READ,
            CaPolicies | CaPolicy(_) | NamedLocations | NamedLocation(_) => {
                if write {
                    CA_WRITE
                } else {
                    POLICY_READ
                }
            }
            // `conditionalaccesspolicy.md`: the deleted-items operations need the same pair as writes (UNCONFIRMED there).
            CaDeletedPolicies
            | CaDeletedPolicy(_)
            | CaDeletedPolicyRestore(_)
            | DeletedNamedLocations
            | DeletedNamedLocation(_)
            | DeletedNamedLocationRestore(_) => CA_WRITE,
            RoleTemplates | RoleTemplate(_) | RoleAssignments => ROLE_TEMPLATES_READ,
            ServicePrincipals => SERVICE_PRINCIPAL_READ,
            // authenticationstrengthpolicy.md and the pages of each operation: the same
            // permissions for the strengths, their actions and their combination configurations.
            AuthenticationStrengths
            | AuthenticationStrength(_)
            | AuthenticationStrengthUpdateAllowedCombinations(_)
            | CombinationConfigurations(_)
            | CombinationConfiguration(..) => {
                if write {
                    AUTH_STRENGTH_WRITE
                } else {
                    AUTH_STRENGTH_READ
                }
            }
            TimeoutPolicies | TimeoutPolicy(_) => {
                if write {
                    TIMEOUT_POLICY_WRITE
                } else {
                    TIMEOUT_POLICY_READ
                }
            }
            SharePointSettings => {
                if write {
                    SHAREPOINT_SETTINGS_WRITE
                } else {
                    SHAREPOINT_SETTINGS_READ
                }
            }
            RiskyUsers | RiskyUser(_) => RISKY_USER_READ,
            RiskyUsersConfirmCompromised | RiskyUsersDismiss => RISKY_USER_WRITE,
            Batch => NONE,
        }
    }
}

/// True when `granted` satisfies one of the alternatives.
pub(crate) fn satisfies(granted: &[String], requirement: Requirement) -> bool {
    requirement
        .iter()
        .any(|all| all.iter().all(|p| granted.iter().any(|g| g == p)))
}

/// First segments of the paths above: an unknown first segment is the one Graph names.
const ROOTS: &[&str] = &[
    "users",
    "devices",
    "groups",
    "identity",
    "policies",
    "directoryRoleTemplates",
    "servicePrincipals",
    "roleManagement",
    "identityProtection",
    "admin",
    "$batch",
];

pub(crate) fn unknown_segment(segment: &str) -> GraphError {
    GraphError::bad_request(format!("Resource not found for the segment '{segment}'."))
}

/// Splits a path into percent-decoded segments. Key syntax is unfolded:
/// `users('a@b.com')` → `users`, `a@b.com`; `devices(deviceId='x')` → `devices`, `deviceId='x'`
/// (the device resolver understands the alternate key).
/// The names of the path segments routed below, as the CSDL spells them.
const SEGMENT_NAMES: &[&str] = &[
    "users",
    "revokeSignInSessions",
    "registeredDevices",
    "devices",
    "groups",
    "transitiveMembers",
    "identity",
    "conditionalAccess",
    "policies",
    "deletedItems",
    "namedLocations",
    "restore",
    "authenticationStrength",
    "authenticationStrengthPolicies",
    "updateAllowedCombinations",
    "combinationConfigurations",
    "activityBasedTimeoutPolicies",
    "directoryRoleTemplates",
    "servicePrincipals",
    "roleManagement",
    "directory",
    "roleAssignments",
    "identityProtection",
    "riskyUsers",
    "confirmCompromised",
    "dismiss",
    "admin",
    "sharepoint",
    "settings",
];

/// Segment names are matched whatever their case, as Graph does: `serviceprincipal-list.md`
/// documents `GET /serviceprincipals` with a 200. Keys (ids, UPNs) are left as they are.
fn canonical_names(segments: &mut [String]) {
    for segment in segments {
        if let Some(name) = SEGMENT_NAMES
            .iter()
            .find(|name| name.eq_ignore_ascii_case(segment))
        {
            *segment = (*name).to_owned();
        }
    }
}

fn split_segments(path: &str) -> Result<Vec<String>, GraphError> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let segment = percent_decode(raw)?;
        match segment.find('(') {
            Some(open) if segment.ends_with(')') => {
                let (name, rest) = segment.split_at(open);
                let inner = &rest[1..rest.len() - 1];
                out.push(name.to_owned());
                let key = match inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')) {
                    // '' inside a quoted key is an escaped quote.
                    Some(quoted) => quoted.replace("''", "'"),
                    None => inner.to_owned(),
                };
                out.push(key);
            }
            _ => out.push(segment),
        }
    }
    Ok(out)
}

fn percent_decode(text: &str) -> Result<String, GraphError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                }
                None => {
                    return Err(GraphError::bad_request(
                        "Malformed percent-encoding in URL.",
                    ));
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| GraphError::bad_request("URL is not valid UTF-8."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_ids_upns_and_key_syntax() {
        assert_eq!(
            Route::parse(&Method::GET, "/users/a%40b.com").unwrap(),
            Route::User("a@b.com".into())
        );
        assert_eq!(
            Route::parse(&Method::GET, "/users('$x@y.com')").unwrap(),
            Route::User("$x@y.com".into())
        );
        assert_eq!(
            Route::parse(&Method::POST, "/users('a@b.com')/revokeSignInSessions").unwrap(),
            Route::UserRevokeSignInSessions("a@b.com".into())
        );
        assert_eq!(
            Route::parse(&Method::PATCH, "/devices(deviceId='d1')").unwrap(),
            Route::Device("deviceId='d1'".into())
        );
        assert_eq!(
            Route::parse(
                &Method::GET,
                "/groups/g/transitiveMembers/microsoft.graph.user"
            )
            .unwrap()
            .template(),
            "/groups/{id}/transitiveMembers/microsoft.graph.user"
        );
    }

    #[test]
    fn unknown_paths_and_methods() {
        let err = Route::parse(&Method::GET, "/v1.0/users").unwrap_err();
        assert_eq!(err.message, "Resource not found for the segment 'v1.0'.");
        let err = Route::parse(&Method::GET, "/users/x/photos").unwrap_err();
        assert_eq!(err.message, "Resource not found for the segment 'photos'.");
        let err = Route::parse(&Method::DELETE, "/users/x").unwrap_err();
        assert_eq!(err.code, ErrorCode::MethodNotAllowed);
        assert_eq!(err.code.status().as_u16(), 405);
    }

    #[test]
    fn strength_writes_and_combination_configurations_under_both_paths() {
        for prefix in [
            "/policies/authenticationStrengthPolicies",
            "/identity/conditionalAccess/authenticationStrength/policies",
        ] {
            let parse =
                |method: &Method, rest: &str| Route::parse(method, &format!("{prefix}{rest}"));
            for method in [Method::GET, Method::PATCH, Method::DELETE] {
                assert_eq!(
                    parse(&method, "/s").unwrap(),
                    Route::AuthenticationStrength("s".into())
                );
            }
            assert_eq!(
                parse(&Method::DELETE, "/s/$ref").unwrap(),
                Route::AuthenticationStrength("s".into())
            );
            assert!(parse(&Method::GET, "/s/$ref").is_err());
            let action = parse(&Method::POST, "/s/updateallowedcombinations").unwrap();
            assert_eq!(
                action,
                Route::AuthenticationStrengthUpdateAllowedCombinations("s".into())
            );
            assert_eq!(
                action.template(),
                "/policies/authenticationStrengthPolicies/{id}/updateAllowedCombinations"
            );
            assert_eq!(
                parse(&Method::GET, "/s/updateAllowedCombinations")
                    .unwrap_err()
                    .code,
                ErrorCode::MethodNotAllowed
            );
            assert_eq!(
                parse(&Method::POST, "/s/combinationConfigurations").unwrap(),
                Route::CombinationConfigurations("s".into())
            );
            for method in [Method::GET, Method::PATCH, Method::DELETE] {
                assert_eq!(
                    parse(&method, "/s/combinationConfigurations/c").unwrap(),
                    Route::CombinationConfiguration("s".into(), "c".into())
                );
            }
            assert_eq!(
                parse(&Method::DELETE, "/s/combinationConfigurations/c/$ref").unwrap(),
                Route::CombinationConfiguration("s".into(), "c".into())
            );
            assert_eq!(
                parse(&Method::POST, "/s/combinationConfigurations/c")
                    .unwrap_err()
                    .code,
                ErrorCode::MethodNotAllowed
            );
            let err = parse(&Method::GET, "/s/usage").unwrap_err();
            assert_eq!(err.message, "Resource not found for the segment 'usage'.");
        }
    }

    #[test]
    fn alternatives_need_every_permission_of_one_set() {
        let granted = vec!["Policy.ReadWrite.ConditionalAccess".to_owned()];
        assert!(!satisfies(&granted, permissions::CA_WRITE));
        let granted = vec![
            "Policy.ReadWrite.ConditionalAccess".to_owned(),
            "Policy.Read.All".to_owned(),
        ];
        assert!(satisfies(&granted, permissions::CA_WRITE));
    }
}
