//! The least application permission each Graph call needs (from the Graph fact sheet), so a
//! 403 can say which permission to grant instead of only "access denied".

use reqwest::Method;
use serde_json::Value;

/// The least application permission for `method path` (path relative to the version, query
/// excluded), or `None` when sessionops does not call it.
pub fn required_for(method: &Method, path: &str, body: Option<&Value>) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let write = *method != Method::GET;
    match segments.as_slice() {
        ["users", _, "revokeSignInSessions"] => Some("User.RevokeSessions.All"),
        ["users", _] if *method == Method::PATCH => {
            let sets_password = body.and_then(|b| b.get("passwordProfile")).is_some();
            Some(if sets_password {
                "User-PasswordProfile.ReadWrite.All"
            } else {
                "User.EnableDisableAccount.All"
            })
        }
        ["users", ..] => Some("User.Read.All"),
        ["groups", _, "transitiveMembers", ..] | ["groups", _, "members", ..] => {
            Some("GroupMember.Read.All")
        }
        ["groups", ..] => Some("GroupMember.Read.All"),
        ["devices", ..] => Some("Device.ReadWrite.All"),
        [
            "identity",
            "conditionalAccess",
            "authenticationStrength",
            ..,
        ]
        | ["policies", "authenticationStrengthPolicies", ..] => Some(if write {
            "Policy.ReadWrite.ConditionalAccess"
        } else {
            "Policy.Read.AuthenticationMethod"
        }),
        ["identity", "conditionalAccess", ..] => Some(if write {
            "Policy.ReadWrite.ConditionalAccess"
        } else {
            "Policy.Read.All"
        }),
        ["policies", "activityBasedTimeoutPolicies", ..]
        | ["policies", "tokenLifetimePolicies", ..] => Some(if write {
            "Policy.ReadWrite.ApplicationConfiguration"
        } else {
            "Policy.Read.All"
        }),
        ["directoryRoleTemplates", ..] => Some("RoleManagement.Read.Directory"),
        ["identityProtection", "riskyUsers", ..] => Some(if write {
            "IdentityRiskyUser.ReadWrite.All"
        } else {
            "IdentityRiskyUser.Read.All"
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_least_permission_per_call() {
        let cases = [
            (
                Method::POST,
                "/users/u1/revokeSignInSessions",
                None,
                Some("User.RevokeSessions.All"),
            ),
            (
                Method::PATCH,
                "/users/u1",
                Some(json!({"accountEnabled": false})),
                Some("User.EnableDisableAccount.All"),
            ),
            (
                Method::PATCH,
                "/users/u1",
                Some(json!({"passwordProfile": {}})),
                Some("User-PasswordProfile.ReadWrite.All"),
            ),
            (Method::GET, "/users?$filter=x", None, Some("User.Read.All")),
            (
                Method::GET,
                "/groups/g/transitiveMembers/microsoft.graph.user",
                None,
                Some("GroupMember.Read.All"),
            ),
            (
                Method::PATCH,
                "/devices/d",
                None,
                Some("Device.ReadWrite.All"),
            ),
            (
                Method::GET,
                "/identity/conditionalAccess/policies",
                None,
                Some("Policy.Read.All"),
            ),
            (
                Method::POST,
                "/identity/conditionalAccess/policies",
                None,
                Some("Policy.ReadWrite.ConditionalAccess"),
            ),
            (
                Method::POST,
                "/identityProtection/riskyUsers/confirmCompromised",
                None,
                Some("IdentityRiskyUser.ReadWrite.All"),
            ),
            (Method::GET, "/me", None, None),
        ];
        for (method, path, body, expected) in cases {
            assert_eq!(
                required_for(&method, path, body.as_ref()),
                expected,
                "{method} {path}"
            );
        }
    }
}
