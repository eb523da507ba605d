//! The least application permissions each Graph call needs, so a 403 can say which permission
//! to grant instead of only "access denied", and whether the token already carries it (then
//! the refusal is about the object, not the app). The least permissions are those of each API
//! page's permissions table (`api-reference/v1.0/includes/permissions/*.md`, generated from
//! `microsoft-graph-devx-content` `permissions/new/permissions.json`).

use reqwest::Method;
use serde_json::Value;

/// The least application permissions for `method path` (path relative to the version, query
/// excluded), all needed together, or `None` when sessionops does not call it.
pub fn required(
    method: &Method,
    path: &str,
    body: Option<&Value>,
) -> Option<&'static [&'static str]> {
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let write = *method != Method::GET;
    Some(match segments.as_slice() {
        ["users", _, "revokeSignInSessions"] => &["User.RevokeSessions.All"],
        ["users", _] if *method == Method::PATCH => {
            let sets_password = body.and_then(|b| b.get("passwordProfile")).is_some();
            if sets_password {
                &["User-PasswordProfile.ReadWrite.All"]
            } else {
                // user-update.md: accountEnabled takes User.EnableDisableAccount.All and
                // User.Read.All together.
                &["User.EnableDisableAccount.All", "User.Read.All"]
            }
        }
        ["users", ..] => &["User.Read.All"],
        // group-list-transitivemembers.md: GroupMember.ReadBasic.All is the least.
        ["groups", _, "transitiveMembers", ..] | ["groups", _, "members", ..] => {
            &["GroupMember.ReadBasic.All"]
        }
        // group-list.md, group-get.md.
        ["groups", ..] => &["Group.ReadBasic.All"],
        ["devices", ..] if write => &["Device.ReadWrite.All"],
        ["devices", ..] => &["Device.Read.All"],
        [
            "identity",
            "conditionalAccess",
            "authenticationStrength",
            ..,
        ]
        | ["policies", "authenticationStrengthPolicies", ..] => {
            if write {
                &["Policy.ReadWrite.ConditionalAccess"]
            } else {
                &["Policy.Read.AuthenticationMethod"]
            }
        }
        // conditionalaccessroot-post-policies.md, conditionalaccesspolicy-update.md: writes need
        // Policy.Read.All and Policy.ReadWrite.ConditionalAccess together.
        ["identity", "conditionalAccess", ..] => {
            if write {
                &["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"]
            } else {
                &["Policy.Read.All"]
            }
        }
        ["policies", "activityBasedTimeoutPolicies", ..]
        | ["policies", "tokenLifetimePolicies", ..] => {
            if write {
                &["Policy.ReadWrite.ApplicationConfiguration"]
            } else {
                &["Policy.Read.All"]
            }
        }
        // sharepointsettings-get.md, sharepointsettings-update.md.
        ["admin", "sharepoint", "settings"] => {
            if write {
                &["SharePointTenantSettings.ReadWrite.All"]
            } else {
                &["SharePointTenantSettings.Read.All"]
            }
        }
        // serviceprincipal-list.md.
        ["servicePrincipals", ..] => &["Application.Read.All"],
        ["directoryRoleTemplates", ..] | ["roleManagement", "directory", ..] => {
            &["RoleManagement.Read.Directory"]
        }
        ["identityProtection", "riskyUsers", ..] => {
            if write {
                &["IdentityRiskyUser.ReadWrite.All"]
            } else {
                &["IdentityRiskyUser.Read.All"]
            }
        }
        _ => return None,
    })
}

/// [`required`] as one phrase (`Policy.Read.All and Policy.ReadWrite.ConditionalAccess`), for
/// messages.
pub fn required_for(method: &Method, path: &str, body: Option<&Value>) -> Option<String> {
    required(method, path, body).map(|all| all.join(" and "))
}

/// Broader permissions that include a narrower one (Graph accepts either; each API page lists
/// them as "higher privileged permissions").
const INCLUDED_BY: &[(&str, &[&str])] = &[
    (
        "User.Read.All",
        &[
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    ),
    (
        "GroupMember.ReadBasic.All",
        &[
            "GroupMember.Read.All",
            "Group.Read.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    ),
    (
        "Group.ReadBasic.All",
        &[
            "GroupMember.Read.All",
            "Group.Read.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    ),
    (
        "GroupMember.Read.All",
        &[
            "Group.Read.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    ),
    (
        "RoleManagement.Read.Directory",
        &[
            "RoleManagement.ReadWrite.Directory",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    ),
    (
        "User.RevokeSessions.All",
        &["User.ReadWrite.All", "Directory.ReadWrite.All"],
    ),
    (
        "User.EnableDisableAccount.All",
        &["User.ReadWrite.All", "Directory.ReadWrite.All"],
    ),
    (
        "User-PasswordProfile.ReadWrite.All",
        &["Directory.ReadWrite.All"],
    ),
    (
        "Device.Read.All",
        &[
            "Device.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    ),
    ("Device.ReadWrite.All", &["Directory.ReadWrite.All"]),
    (
        "IdentityRiskyUser.Read.All",
        &["IdentityRiskyUser.ReadWrite.All"],
    ),
    (
        "Policy.Read.AuthenticationMethod",
        &["Policy.ReadWrite.AuthenticationMethod"],
    ),
];

/// Whether the granted roles (the token's `roles` claim) include `permission`, directly or
/// through a broader one.
pub fn includes(granted: &[String], permission: &str) -> bool {
    let broader = INCLUDED_BY
        .iter()
        .find(|(narrow, _)| *narrow == permission)
        .map_or(&[][..], |(_, broader)| broader);
    granted
        .iter()
        .any(|g| g == permission || broader.contains(&g.as_str()))
}

/// Whether the granted roles include every permission of `needed` (a [`required_for`] phrase).
pub fn grants(granted: &[String], needed: &str) -> bool {
    needed.split(" and ").all(|p| includes(granted, p.trim()))
}

/// An Entra directory role that app-only callers need besides a permission for some writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DirectoryRole {
    /// `accountEnabled` of a device: "at least the Cloud Device Administrator role"
    /// (`device-update.md`).
    CloudDeviceAdministrator,
    /// `passwordProfile` of a user: "at least the User Administrator Microsoft Entra role"
    /// (`user-update.md`).
    UserAdministrator,
    /// Passwords and `accountEnabled` of users who hold admin roles ("Who can perform sensitive
    /// actions", linked from `user-update.md`).
    PrivilegedAuthenticationAdministrator,
}

/// Template id of Global Administrator, which holds every permission of the roles above.
const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";

impl DirectoryRole {
    /// The role's display name, as the Entra admin center shows it.
    pub fn display_name(self) -> &'static str {
        match self {
            DirectoryRole::CloudDeviceAdministrator => "Cloud Device Administrator",
            DirectoryRole::UserAdministrator => "User Administrator",
            DirectoryRole::PrivilegedAuthenticationAdministrator => {
                "Privileged Authentication Administrator"
            }
        }
    }

    /// The built-in role's template id (`roleDefinitionId` of its assignments;
    /// entra-docs `roles/permissions-reference.md`).
    pub fn template_id(self) -> &'static str {
        match self {
            DirectoryRole::CloudDeviceAdministrator => "7698a772-787b-4ac8-901f-60d6b08affd2",
            DirectoryRole::UserAdministrator => "fe930be7-5e62-47db-91af-98c3a49a38b1",
            DirectoryRole::PrivilegedAuthenticationAdministrator => {
                "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
            }
        }
    }

    /// Roles that also give this role's rights for the writes sessionops makes: Global
    /// Administrator always; Intune Administrator for devices (`device-update.md`); Privileged
    /// Authentication Administrator for passwords.
    fn also_held_through(self) -> &'static [&'static str] {
        const INTUNE_ADMINISTRATOR: &str = "3a2c62db-5318-420d-8d74-23affee5d9d5";
        match self {
            DirectoryRole::CloudDeviceAdministrator => {
                &[GLOBAL_ADMINISTRATOR, INTUNE_ADMINISTRATOR]
            }
            DirectoryRole::UserAdministrator => {
                &[GLOBAL_ADMINISTRATOR, "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"]
            }
            DirectoryRole::PrivilegedAuthenticationAdministrator => &[GLOBAL_ADMINISTRATOR],
        }
    }

    /// Whether assignments of these role template ids (tenant-wide ones: see
    /// `GraphClient::directory_roles`) give this role's rights.
    pub fn held_by(self, template_ids: &[String]) -> bool {
        template_ids.iter().any(|id| {
            id.eq_ignore_ascii_case(self.template_id())
                || self
                    .also_held_through()
                    .iter()
                    .any(|other| id.eq_ignore_ascii_case(other))
        })
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
                Some("User.EnableDisableAccount.All and User.Read.All"),
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
                Some("GroupMember.ReadBasic.All"),
            ),
            (
                Method::GET,
                "/groups?$filter=displayName eq 'x'",
                None,
                Some("Group.ReadBasic.All"),
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
                Some("Policy.Read.All and Policy.ReadWrite.ConditionalAccess"),
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
                required_for(&method, path, body.as_ref()).as_deref(),
                expected,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn grants_follow_broader_permissions_and_need_every_part() {
        let granted = |roles: &[&str]| roles.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>();
        assert!(grants(
            &granted(&["GroupMember.Read.All"]),
            "GroupMember.ReadBasic.All"
        ));
        assert!(grants(
            &granted(&["Directory.ReadWrite.All"]),
            "User.RevokeSessions.All"
        ));
        assert!(!grants(
            &granted(&["User.Read.All"]),
            "User.RevokeSessions.All"
        ));
        let ca_write = "Policy.Read.All and Policy.ReadWrite.ConditionalAccess";
        assert!(!grants(
            &granted(&["Policy.ReadWrite.ConditionalAccess"]),
            ca_write
        ));
        assert!(grants(
            &granted(&["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"]),
            ca_write
        ));
    }

    #[test]
    fn directory_roles_count_their_broader_roles() {
        let held = |ids: &[&str]| ids.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>();
        let intune = held(&["3a2c62db-5318-420d-8d74-23affee5d9d5"]);
        assert!(DirectoryRole::CloudDeviceAdministrator.held_by(&intune));
        assert!(!DirectoryRole::UserAdministrator.held_by(&intune));
        let global = held(&[GLOBAL_ADMINISTRATOR]);
        assert!(DirectoryRole::PrivilegedAuthenticationAdministrator.held_by(&global));
        let privileged_auth =
            held(&[DirectoryRole::PrivilegedAuthenticationAdministrator.template_id()]);
        assert!(DirectoryRole::UserAdministrator.held_by(&privileged_auth));
        assert!(!DirectoryRole::CloudDeviceAdministrator.held_by(&privileged_auth));
    }
}
