//! Which tenant connection an object may use, decided before any Graph call (like
//! cert-manager's Issuer / ClusterIssuer): a TenantConnection serves its own namespace, a
//! ClusterTenantConnection the namespaces in its `allowedNamespaces`.

pub mod config;

use crate::directory::resolve::{NameKind, NameRequests, Resolution, Resolutions};
use crate::failure::Failure;
use crate::status::{ConditionType, Observed, Reason};
use kube::ResourceExt;
use sessionops_api::{
    ClusterTenantConnection, ConnectionSettings, ProtectedPrincipals, TenantConnection, TenantKind,
    TenantRef,
};

/// Principals the tenant connection protects, already resolved to ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtectedIds {
    /// User ids.
    pub users: Vec<String>,
    /// Group ids.
    pub groups: Vec<String>,
}

/// Where a connection lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionScope<'a> {
    /// A TenantConnection in this namespace.
    Namespaced(&'a str),
    /// A ClusterTenantConnection with these allowed namespaces.
    Cluster(&'a [String]),
}

/// Where tenant connections are looked up: the manifests given to the CLI, or the operator's
/// watch caches. [`find`] holds the one lookup rule both use.
pub trait ConnectionSource {
    /// A ClusterTenantConnection as the source holds it.
    type Cluster: std::ops::Deref<Target = ClusterTenantConnection>;
    /// A TenantConnection as the source holds it.
    type Namespaced: std::ops::Deref<Target = TenantConnection>;
    /// The ClusterTenantConnection `name`: `None` when there is none, `Err(why)` when it
    /// exists but is not valid.
    fn cluster_connection(&self, name: &str) -> Option<Result<Self::Cluster, String>>;
    /// The TenantConnection `name` in `namespace`, likewise.
    fn tenant_connection(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<Result<Self::Namespaced, String>>;
    /// Where it looked, for a not-found message (e.g. ` among the manifests given with -f`).
    fn looked_in(&self) -> &'static str;
}

/// A connection [`find`] found.
#[derive(Clone, Debug)]
pub enum Found<C, N> {
    /// A ClusterTenantConnection.
    Cluster(C),
    /// A TenantConnection (in the object's own namespace).
    Namespaced(N),
}

impl<C, N> Found<C, N>
where
    C: std::ops::Deref<Target = ClusterTenantConnection>,
    N: std::ops::Deref<Target = TenantConnection>,
{
    /// Its settings (tenant, app, credentials, protected principals).
    pub fn settings(&self) -> &dyn ConnectionSettings {
        match self {
            Found::Cluster(c) => &c.spec,
            Found::Namespaced(n) => &n.spec,
        }
    }

    /// Whether an object of `namespace` referencing `reference` uses this connection (and may).
    pub fn serves(&self, reference: &TenantRef, namespace: &str) -> bool {
        match (self, reference.kind) {
            (Found::Cluster(c), TenantKind::ClusterTenantConnection) => {
                c.name_any() == reference.name
                    && check_access(
                        reference,
                        namespace,
                        ConnectionScope::Cluster(&c.spec.allowed_namespaces),
                    )
                    .is_ok()
            }
            (Found::Namespaced(c), TenantKind::TenantConnection) => {
                c.name_any() == reference.name && c.namespace().as_deref() == Some(namespace)
            }
            _ => false,
        }
    }

    /// `ClusterTenantConnection/name` or `TenantConnection/namespace/name`: one key per
    /// connection (clients, shared reads, metrics).
    pub fn key(&self) -> String {
        match self {
            Found::Cluster(c) => format!("ClusterTenantConnection/{}", c.name_any()),
            Found::Namespaced(n) => format!(
                "TenantConnection/{}/{}",
                n.namespace().unwrap_or_default(),
                n.name_any()
            ),
        }
    }
}

/// The connection `reference` names, if objects of `namespace` may use it: a TenantConnection
/// is looked for in `namespace` only; a ClusterTenantConnection must list the namespace.
/// Decided from `source` alone, before any Secret read or Graph call.
pub fn find<S: ConnectionSource>(
    source: &S,
    reference: &TenantRef,
    namespace: &str,
) -> Result<Found<S::Cluster, S::Namespaced>, Failure> {
    let (kind, scope) = match reference.kind {
        TenantKind::ClusterTenantConnection => ("ClusterTenantConnection", String::new()),
        TenantKind::TenantConnection => {
            ("TenantConnection", format!(" in namespace {namespace:?}"))
        }
    };
    let not_found = || {
        Failure::refused(
            Reason::TenantConnectionNotFound,
            format!(
                "spec.tenantRef: {kind} {:?} does not exist{scope}{}",
                reference.name,
                source.looked_in()
            ),
        )
    };
    let invalid = |why: String| {
        Failure::refused(
            Reason::InvalidSpec,
            format!("{kind} {:?} is not valid: {why}", reference.name),
        )
    };
    match reference.kind {
        TenantKind::ClusterTenantConnection => {
            let connection = source
                .cluster_connection(&reference.name)
                .ok_or_else(not_found)?
                .map_err(invalid)?;
            check_access(
                reference,
                namespace,
                ConnectionScope::Cluster(&connection.spec.allowed_namespaces),
            )?;
            Ok(Found::Cluster(connection))
        }
        TenantKind::TenantConnection => {
            let connection = source
                .tenant_connection(namespace, &reference.name)
                .ok_or_else(not_found)?
                .map_err(invalid)?;
            check_access(reference, namespace, ConnectionScope::Namespaced(namespace))?;
            Ok(Found::Namespaced(connection))
        }
    }
}

/// Refuses with `NamespaceNotAllowed` unless an object in `namespace` may use the connection.
pub fn check_access(
    reference: &TenantRef,
    namespace: &str,
    scope: ConnectionScope<'_>,
) -> Result<(), Failure> {
    let allowed = match (reference.kind, scope) {
        (TenantKind::TenantConnection, ConnectionScope::Namespaced(home)) => home == namespace,
        (TenantKind::ClusterTenantConnection, ConnectionScope::Cluster(allowed)) => {
            allowed.iter().any(|n| n == "*" || n == namespace)
        }
        _ => false,
    };
    if allowed {
        return Ok(());
    }
    let message = match (reference.kind, scope) {
        (TenantKind::TenantConnection, _) => format!(
            "TenantConnection {:?} serves its own namespace only; namespace {namespace:?} cannot use it",
            reference.name
        ),
        (TenantKind::ClusterTenantConnection, _) => format!(
            "ClusterTenantConnection {:?} does not list namespace {namespace:?} in spec.allowedNamespaces",
            reference.name
        ),
    };
    Err(Failure::Refused {
        reason: Reason::NamespaceNotAllowed,
        message,
    })
}

/// Adds the protected principals' names to `requests`.
pub fn protected_name_requests(protected: &ProtectedPrincipals, requests: &mut NameRequests) {
    for user in &protected.users {
        requests.add(NameKind::User, user, &[]);
    }
    for group in &protected.groups {
        requests.add(NameKind::Group, group, &[]);
    }
}

/// The protected principals as ids. An unresolvable protected principal is an error, never
/// skipped: a break-glass account that silently drops out of the exclusions could lock
/// everyone out.
pub fn protected_ids(
    protected: &ProtectedPrincipals,
    resolutions: &Resolutions,
) -> Result<ProtectedIds, Failure> {
    let mut missing = Vec::new();
    let mut resolve = |kind: NameKind, name: &String| -> Option<String> {
        if crate::directory::resolve::is_object_id(name) {
            return Some(name.to_lowercase());
        }
        match resolutions.get(kind, name) {
            Some(Resolution::Id(id)) => Some(id.to_lowercase()),
            _ => {
                missing.push(format!("{}:{name}", kind.prefix()));
                None
            }
        }
    };
    let users = protected
        .users
        .iter()
        .filter_map(|u| resolve(NameKind::User, u))
        .collect();
    let groups = protected
        .groups
        .iter()
        .filter_map(|g| resolve(NameKind::Group, g))
        .collect();
    if missing.is_empty() {
        Ok(ProtectedIds { users, groups })
    } else {
        Err(Failure::Refused {
            reason: Reason::NameNotFound,
            message: format!(
                "protected principals of the tenant connection do not resolve: {}",
                missing.join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(kind: TenantKind) -> TenantRef {
        TenantRef {
            kind,
            name: "contoso".into(),
        }
    }

    #[test]
    fn namespaces_may_use_only_the_connections_they_are_allowed() {
        let namespaced = reference(TenantKind::TenantConnection);
        assert!(
            check_access(
                &namespaced,
                "identity",
                ConnectionScope::Namespaced("identity")
            )
            .is_ok()
        );
        let error = check_access(
            &namespaced,
            "identity",
            ConnectionScope::Namespaced("security"),
        )
        .unwrap_err();
        assert_eq!(error.reason(), Reason::NamespaceNotAllowed);
        let cluster = reference(TenantKind::ClusterTenantConnection);
        let allowed = vec!["identity".to_owned()];
        assert!(check_access(&cluster, "identity", ConnectionScope::Cluster(&allowed)).is_ok());
        assert_eq!(
            check_access(&cluster, "dev", ConnectionScope::Cluster(&allowed))
                .unwrap_err()
                .reason(),
            Reason::NamespaceNotAllowed
        );
        assert!(check_access(&cluster, "dev", ConnectionScope::Cluster(&["*".to_owned()])).is_ok());
        assert!(
            check_access(&cluster, "dev", ConnectionScope::Cluster(&[])).is_err(),
            "default: none"
        );
        assert!(
            check_access(
                &cluster,
                "identity",
                ConnectionScope::Namespaced("identity")
            )
            .is_err(),
            "kind must match"
        );
    }

    #[test]
    fn unresolvable_protected_principals_are_an_error() {
        let protected = ProtectedPrincipals {
            users: vec!["bg@contoso.com".into()],
            groups: vec!["sg-emergency".into()],
        };
        let mut resolutions = Resolutions::default();
        resolutions.insert(
            NameKind::User,
            "bg@contoso.com",
            Resolution::Id("U1".into()),
        );
        let error = protected_ids(&protected, &resolutions).unwrap_err();
        assert!(error.to_string().contains("group:sg-emergency"), "{error}");
        resolutions.insert(NameKind::Group, "sg-emergency", Resolution::Id("g1".into()));
        assert_eq!(
            protected_ids(&protected, &resolutions).unwrap(),
            ProtectedIds {
                users: vec!["u1".into()],
                groups: vec!["g1".into()]
            }
        );
    }
}

/// What a tenant connection is used for, to know which Graph permissions it needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// SessionPolicies use it (and may write).
    pub policies: bool,
    /// A SessionPolicy names a custom authentication strength by display name (listing the
    /// strengths needs `Policy.Read.AuthenticationMethod`,
    /// `authenticationstrengthroot-list-policies.md`).
    pub strength_names: bool,
    /// A SessionPolicy names an application or a workload identity by display name (listing
    /// service principals needs `Application.Read.All`, `serviceprincipal-list.md`).
    pub principal_names: bool,
    /// Revocation actions used by its RevocationRequests.
    pub revocation_actions: std::collections::BTreeSet<sessionops_api::RevocationAction>,
    /// Some RevocationRequest targets groups.
    pub group_targets: bool,
    /// An IdleTimeoutPolicy uses it (`activitybasedtimeoutpolicy-list.md`: Policy.Read.All;
    /// `activitybasedtimeoutpolicy-post-activitybasedtimeoutpolicies.md`:
    /// Policy.ReadWrite.ApplicationConfiguration).
    pub idle_timeouts: bool,
    /// An IdleTimeoutPolicy manages SharePoint's idle sign-out (`sharepointsettings-update.md`:
    /// SharePointTenantSettings.ReadWrite.All, which also reads).
    pub share_point_settings: bool,
}

use sessionops_graph::permissions::DirectoryRole;

/// The least application permissions the features need (each API page's permissions table; see README).
pub fn required_roles(features: &Features) -> std::collections::BTreeSet<&'static str> {
    use sessionops_api::RevocationAction::*;
    let mut roles = std::collections::BTreeSet::new();
    if features.policies {
        roles.extend([
            "Policy.Read.All",
            "Policy.ReadWrite.ConditionalAccess",
            "User.Read.All",
            "GroupMember.Read.All",
            "RoleManagement.Read.Directory",
        ]);
    }
    if features.strength_names {
        roles.insert("Policy.Read.AuthenticationMethod");
    }
    if features.idle_timeouts {
        roles.extend([
            "Policy.Read.All",
            "Policy.ReadWrite.ApplicationConfiguration",
        ]);
    }
    if features.share_point_settings {
        roles.insert("SharePointTenantSettings.ReadWrite.All");
    }
    if features.principal_names {
        roles.insert("Application.Read.All");
    }
    if !features.revocation_actions.is_empty() {
        roles.insert("User.Read.All");
    }
    if features.group_targets {
        roles.insert("GroupMember.Read.All");
    }
    // The connection reads the app's directory role assignments when an action needs a role.
    if !required_directory_roles(features).is_empty() {
        roles.insert("RoleManagement.Read.Directory");
    }
    for action in &features.revocation_actions {
        roles.insert(match action {
            RevokeSessions => "User.RevokeSessions.All",
            RequirePasswordChange => "User-PasswordProfile.ReadWrite.All",
            DisableAccount => "User.EnableDisableAccount.All",
            DisableDevices => "Device.ReadWrite.All",
            ConfirmCompromised => "IdentityRiskyUser.ReadWrite.All",
        });
    }
    roles
}

/// The directory roles the features need besides permissions (see [`DirectoryRole`]). Admins'
/// passwords and accounts also need Privileged Authentication Administrator; that depends on
/// the targets, so it is reported per target, not here.
pub fn required_directory_roles(features: &Features) -> std::collections::BTreeSet<DirectoryRole> {
    use sessionops_api::RevocationAction::*;
    features
        .revocation_actions
        .iter()
        .filter_map(|action| match action {
            DisableDevices => Some(DirectoryRole::CloudDeviceAdministrator),
            RequirePasswordChange => Some(DirectoryRole::UserAdministrator),
            RevokeSessions | DisableAccount | ConfirmCompromised => None,
        })
        .collect()
}

/// What a token check of a connection found.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenCheck {
    /// The token's `roles` claim.
    pub granted: Vec<String>,
    /// Template ids of the app's directory role assignments, read only when some feature
    /// needs a role; `Err` says why they could not be read.
    pub directory_roles: Option<Result<Vec<String>, String>>,
}

/// Gets a token and, when the features need directory roles, reads the app's assignments.
pub async fn check_token(
    client: &sessionops_graph::GraphClient,
    features: &Features,
) -> Result<TokenCheck, Failure> {
    let granted = client.granted_roles().await?;
    let directory_roles = if required_directory_roles(features).is_empty() {
        None
    } else {
        Some(client.directory_roles().await.map_err(|e| e.to_string()))
    };
    Ok(TokenCheck {
        granted,
        directory_roles,
    })
}

/// The required permissions the token does not carry (directly or through a broader one).
pub fn missing_roles(
    required: &std::collections::BTreeSet<&'static str>,
    granted: &[String],
) -> Vec<String> {
    required
        .iter()
        .filter(|role| !sessionops_graph::permissions::includes(granted, role))
        .map(|role| (*role).to_owned())
        .collect()
}

/// The status of a tenant connection after a token check: Ready when a token was obtained,
/// with the granted roles and the ones the features in use still need; otherwise why not (the
/// token endpoint refused, or, in a cluster, the credential Secret could not be used).
pub fn connection_status(
    prior: &sessionops_api::TenantConnectionStatus,
    generation: Option<i64>,
    check: &Result<TokenCheck, Failure>,
    features: &Features,
    now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> sessionops_api::TenantConnectionStatus {
    use crate::status::{self, Status};
    let mut status = prior.clone();
    status.observed_generation = generation;
    match check {
        Ok(check) => {
            let mut granted = check.granted.clone();
            granted.sort();
            status.missing_roles = missing_roles(&required_roles(features), &granted);
            status.granted_roles = granted;
            status.last_token_time = Some(now.clone());
            let required_directory = required_directory_roles(features);
            let mut problems = Vec::new();
            if !status.missing_roles.is_empty() {
                problems.push(format!(
                    "missing application permissions: {}",
                    status.missing_roles.join(", ")
                ));
            }
            status.missing_directory_roles = match &check.directory_roles {
                Some(Ok(held)) => required_directory
                    .iter()
                    .filter(|role| !role.held_by(held))
                    .map(|role| role.display_name().to_owned())
                    .collect(),
                Some(Err(why)) => {
                    problems.push(format!(
                        "directory roles could not be checked ({why}); needed: {}",
                        required_directory
                            .iter()
                            .map(|r| r.display_name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    Vec::new()
                }
                None => Vec::new(),
            };
            if !status.missing_directory_roles.is_empty() {
                problems.push(format!(
                    "directory roles to assign to the app: {}",
                    status.missing_directory_roles.join(", ")
                ));
            }
            let message = if problems.is_empty() {
                "token obtained; every permission the objects using this connection need is granted"
                    .to_owned()
            } else {
                format!("token obtained; {}", problems.join("; "))
            };
            status::set(
                &mut status.conditions,
                (ConditionType::Ready, Status::True),
                Reason::TokenObtained,
                &message,
                Observed { generation, now },
            );
        }
        Err(error) => {
            status::set(
                &mut status.conditions,
                (ConditionType::Ready, Status::False),
                error.reason(),
                &error.to_string(),
                Observed { generation, now },
            );
        }
    }
    status
}

#[cfg(test)]
mod permission_tests {
    use super::*;
    use sessionops_api::RevocationAction;

    #[test]
    fn required_permissions_follow_the_features_and_broader_grants_count() {
        let features = Features {
            policies: false,
            revocation_actions: [
                RevocationAction::RevokeSessions,
                RevocationAction::DisableAccount,
            ]
            .into(),
            group_targets: true,
            ..Features::default()
        };
        let strengths = Features {
            policies: true,
            strength_names: true,
            ..Features::default()
        };
        assert!(required_roles(&strengths).contains("Policy.Read.AuthenticationMethod"));
        let principals = Features {
            policies: true,
            principal_names: true,
            ..Features::default()
        };
        assert!(required_roles(&principals).contains("Application.Read.All"));
        let idle = required_roles(&Features {
            idle_timeouts: true,
            share_point_settings: true,
            ..Features::default()
        });
        assert_eq!(
            idle.iter().copied().collect::<Vec<_>>(),
            [
                "Policy.Read.All",
                "Policy.ReadWrite.ApplicationConfiguration",
                "SharePointTenantSettings.ReadWrite.All"
            ]
        );
        assert!(
            !required_roles(&Features {
                strength_names: false,
                ..strengths
            })
            .contains("Policy.Read.AuthenticationMethod")
        );
        let required = required_roles(&features);
        assert_eq!(
            required.iter().copied().collect::<Vec<_>>(),
            [
                "GroupMember.Read.All",
                "User.EnableDisableAccount.All",
                "User.Read.All",
                "User.RevokeSessions.All"
            ]
        );
        let granted = vec![
            "User.RevokeSessions.All".to_owned(),
            "Directory.Read.All".to_owned(),
        ];
        assert_eq!(
            missing_roles(&required, &granted),
            ["User.EnableDisableAccount.All"]
        );
        assert!(
            missing_roles(
                &required,
                &[
                    "Directory.ReadWrite.All".to_owned(),
                    "User.RevokeSessions.All".to_owned()
                ]
            )
            .is_empty()
        );
    }
}
