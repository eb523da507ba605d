//! Every Graph path sessionops calls, in one place, each with the page of Microsoft's Graph
//! reference (`microsoftgraph/microsoft-graph-docs-contrib`) that documents it. The least
//! application permission of each is in [`crate::permissions`]; a test here checks that every
//! path has one.

/// Users: list, filter (`api-reference/v1.0/api/user-list.md`).
pub const USERS: &str = "/users";

/// One user: get, update (`accountEnabled`, `passwordProfile`) (`user-get.md`, `user-update.md`).
pub fn user(id: &str) -> String {
    format!("/users/{id}")
}

/// Invalidates a user's refresh tokens and session cookies
/// (`api-reference/v1.0/api/user-revokesigninsessions.md`).
pub fn revoke_sign_in_sessions(id: &str) -> String {
    format!("/users/{id}/revokeSignInSessions")
}

/// The devices registered to a user (`api-reference/v1.0/api/user-list-registereddevices.md`).
pub fn registered_devices(id: &str) -> String {
    format!("/users/{id}/registeredDevices")
}

/// One device: update `accountEnabled` (`api-reference/v1.0/api/device-update.md`).
pub fn device(id: &str) -> String {
    format!("/devices/{id}")
}

/// Groups: list, filter (`api-reference/v1.0/api/group-list.md`).
pub const GROUPS: &str = "/groups";

/// A group's users, nested groups expanded (`api-reference/v1.0/api/group-list-transitivemembers.md`,
/// cast to `microsoft.graph.user`).
pub fn transitive_user_members(group: &str) -> String {
    format!("/groups/{group}/transitiveMembers/microsoft.graph.user")
}

/// Service principals: list, filter (`api-reference/v1.0/api/serviceprincipal-list.md`), to
/// resolve the applications and workload identities policies name.
pub const SERVICE_PRINCIPALS: &str = "/servicePrincipals";

/// Directory role templates (`api-reference/v1.0/api/directoryroletemplate-list.md`).
pub const ROLE_TEMPLATES: &str = "/directoryRoleTemplates";

/// Named locations: list, create (`api-reference/v1.0/api/conditionalaccessroot-list-namedlocations.md`,
/// `conditionalaccessroot-post-namedlocations.md`).
pub const NAMED_LOCATIONS: &str = "/identity/conditionalAccess/namedLocations";

/// One named location: update, delete (`ipnamedlocation-update.md`,
/// `countrynamedlocation-update.md`, `namedlocation-delete.md`).
pub fn named_location(id: &str) -> String {
    format!("{NAMED_LOCATIONS}/{id}")
}

/// Soft-deleted named locations, beta only (`api-reference/beta/api/policydeletableitem-list.md`).
pub const DELETED_NAMED_LOCATIONS: &str = "/identity/conditionalAccess/deletedItems/namedLocations";

/// Restores a soft-deleted named location, beta only (`api-reference/beta/api/ipnamedlocation-restore.md`).
pub fn restore_named_location(id: &str) -> String {
    format!("{DELETED_NAMED_LOCATIONS}/{id}/restore")
}

/// Authentication strength policies, built-in and custom
/// (`api-reference/v1.0/api/authenticationstrengthroot-list-policies.md`).
pub const AUTHENTICATION_STRENGTH_POLICIES: &str = "/policies/authenticationStrengthPolicies";

/// One strength: PATCH (`displayName` and `description` only,
/// `authenticationstrengthpolicy-update.md`), DELETE (`authenticationstrengthroot-delete-policies.md`).
pub fn authentication_strength_policy(id: &str) -> String {
    format!("{AUTHENTICATION_STRENGTH_POLICIES}/{id}")
}

/// A strength's allowed combinations are changed only through this action
/// (`authenticationstrengthpolicy-updateallowedcombinations.md`).
pub fn update_allowed_combinations(id: &str) -> String {
    format!("{AUTHENTICATION_STRENGTH_POLICIES}/{id}/updateAllowedCombinations")
}

/// The strengths under Conditional Access: the only base the combination-configuration pages
/// document (`authenticationstrengthpolicy-post-combinationconfigurations.md`).
const CONDITIONAL_ACCESS_STRENGTHS: &str =
    "/identity/conditionalAccess/authenticationStrength/policies";

/// A custom strength's combination configurations: list and create
/// (`authenticationstrengthpolicy-list-combinationconfigurations.md`,
/// `authenticationstrengthpolicy-post-combinationconfigurations.md`).
pub fn combination_configurations(id: &str) -> String {
    format!("{CONDITIONAL_ACCESS_STRENGTHS}/{id}/combinationConfigurations")
}

/// One combination configuration: DELETE
/// (`authenticationstrengthpolicy-delete-combinationconfigurations.md`).
pub fn combination_configuration(id: &str, configuration: &str) -> String {
    format!("{CONDITIONAL_ACCESS_STRENGTHS}/{id}/combinationConfigurations/{configuration}")
}

/// Conditional Access policies: list, create (`api-reference/v1.0/api/conditionalaccessroot-list-policies.md`,
/// `conditionalaccessroot-post-policies.md`).
pub const CONDITIONAL_ACCESS_POLICIES: &str = "/identity/conditionalAccess/policies";

/// One Conditional Access policy: update, delete (`conditionalaccesspolicy-update.md`,
/// `conditionalaccesspolicy-delete.md`).
pub fn conditional_access_policy(id: &str) -> String {
    format!("{CONDITIONAL_ACCESS_POLICIES}/{id}")
}

/// Soft-deleted Conditional Access policies, beta only
/// (`api-reference/beta/api/policydeletableitem-list.md`).
pub const DELETED_CONDITIONAL_ACCESS_POLICIES: &str =
    "/identity/conditionalAccess/deletedItems/policies";

/// Restores a soft-deleted policy, beta only (`api-reference/beta/api/conditionalaccesspolicy-restore.md`).
pub fn restore_conditional_access_policy(id: &str) -> String {
    format!("{DELETED_CONDITIONAL_ACCESS_POLICIES}/{id}/restore")
}

/// Marks users compromised in Identity Protection
/// (`api-reference/v1.0/api/riskyuser-confirmcompromised.md`).
pub const CONFIRM_COMPROMISED: &str = "/identityProtection/riskyUsers/confirmCompromised";

/// Activity-based timeout policies: list, create
/// (`api-reference/v1.0/api/activitybasedtimeoutpolicy-list.md`,
/// `activitybasedtimeoutpolicy-post-activitybasedtimeoutpolicies.md`).
pub const ACTIVITY_BASED_TIMEOUT_POLICIES: &str = "/policies/activityBasedTimeoutPolicies";

/// One activity-based timeout policy: update, delete (`activitybasedtimeoutpolicy-update.md`,
/// `activitybasedtimeoutpolicy-delete.md`).
pub fn activity_based_timeout_policy(id: &str) -> String {
    format!("{ACTIVITY_BASED_TIMEOUT_POLICIES}/{id}")
}

/// SharePoint and OneDrive tenant settings, among them `idleSessionSignOut`: get, update
/// (`api-reference/v1.0/api/sharepointsettings-get.md`, `sharepointsettings-update.md`).
pub const SHAREPOINT_SETTINGS: &str = "/admin/sharepoint/settings";

#[cfg(test)]
mod tests {
    use reqwest::Method;
    use serde_json::json;

    use super::*;
    use crate::permissions::required;

    /// Every path sessionops calls, with the method it calls it with, has a least permission.
    #[test]
    fn every_path_has_a_least_permission() {
        let calls = [
            (Method::GET, USERS.to_owned(), None),
            (Method::GET, user("u"), None),
            (
                Method::PATCH,
                user("u"),
                Some(json!({"accountEnabled": false})),
            ),
            (
                Method::PATCH,
                user("u"),
                Some(json!({"passwordProfile": {}})),
            ),
            (Method::POST, revoke_sign_in_sessions("u"), None),
            (Method::GET, registered_devices("u"), None),
            (
                Method::PATCH,
                device("d"),
                Some(json!({"accountEnabled": false})),
            ),
            (Method::GET, GROUPS.to_owned(), None),
            (Method::GET, transitive_user_members("g"), None),
            (Method::GET, ROLE_TEMPLATES.to_owned(), None),
            (Method::GET, SERVICE_PRINCIPALS.to_owned(), None),
            (Method::GET, NAMED_LOCATIONS.to_owned(), None),
            (Method::POST, NAMED_LOCATIONS.to_owned(), Some(json!({}))),
            (Method::PATCH, named_location("l"), Some(json!({}))),
            (Method::DELETE, named_location("l"), None),
            (Method::GET, DELETED_NAMED_LOCATIONS.to_owned(), None),
            (Method::POST, restore_named_location("l"), None),
            (
                Method::GET,
                AUTHENTICATION_STRENGTH_POLICIES.to_owned(),
                None,
            ),
            (
                Method::POST,
                AUTHENTICATION_STRENGTH_POLICIES.to_owned(),
                Some(json!({})),
            ),
            (
                Method::PATCH,
                authentication_strength_policy("s"),
                Some(json!({})),
            ),
            (Method::DELETE, authentication_strength_policy("s"), None),
            (
                Method::POST,
                update_allowed_combinations("s"),
                Some(json!({})),
            ),
            (Method::GET, combination_configurations("s"), None),
            (
                Method::POST,
                combination_configurations("s"),
                Some(json!({})),
            ),
            (Method::DELETE, combination_configuration("s", "c"), None),
            (Method::GET, CONDITIONAL_ACCESS_POLICIES.to_owned(), None),
            (
                Method::POST,
                CONDITIONAL_ACCESS_POLICIES.to_owned(),
                Some(json!({})),
            ),
            (
                Method::PATCH,
                conditional_access_policy("p"),
                Some(json!({})),
            ),
            (Method::DELETE, conditional_access_policy("p"), None),
            (
                Method::GET,
                DELETED_CONDITIONAL_ACCESS_POLICIES.to_owned(),
                None,
            ),
            (Method::POST, restore_conditional_access_policy("p"), None),
            (
                Method::GET,
                ACTIVITY_BASED_TIMEOUT_POLICIES.to_owned(),
                None,
            ),
            (
                Method::POST,
                ACTIVITY_BASED_TIMEOUT_POLICIES.to_owned(),
                Some(json!({})),
            ),
            (
                Method::PATCH,
                activity_based_timeout_policy("t"),
                Some(json!({})),
            ),
            (Method::DELETE, activity_based_timeout_policy("t"), None),
            (Method::GET, SHAREPOINT_SETTINGS.to_owned(), None),
            (
                Method::PATCH,
                SHAREPOINT_SETTINGS.to_owned(),
                Some(json!({})),
            ),
            (
                Method::POST,
                CONFIRM_COMPROMISED.to_owned(),
                Some(json!({"userIds": []})),
            ),
        ];
        for (method, path, body) in &calls {
            assert!(
                required(method, path, body.as_ref()).is_some(),
                "{method} {path} has no least permission in permissions.rs"
            );
        }
    }
}
