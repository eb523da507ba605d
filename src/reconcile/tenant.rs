//! Which tenant connection an object may use, decided before any Graph call (like
//! cert-manager's Issuer / ClusterIssuer): a TenantConnection serves its own namespace, a
//! ClusterTenantConnection the namespaces in its `allowedNamespaces`.

use super::policy::ProtectedIds;
use super::policy_sync::SyncFailure;
use super::resolve::{NameKind, NameRequests, Resolution, Resolutions};
use crate::api::{ProtectedPrincipals, TenantKind, TenantRef};

/// Where a connection lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionScope<'a> {
    /// A TenantConnection in this namespace.
    Namespaced(&'a str),
    /// A ClusterTenantConnection with these allowed namespaces.
    Cluster(&'a [String]),
}

/// Refuses with `NamespaceNotAllowed` unless an object in `namespace` may use the connection.
pub fn check_access(
    reference: &TenantRef,
    namespace: &str,
    scope: ConnectionScope<'_>,
) -> Result<(), SyncFailure> {
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
    Err(SyncFailure::Refused {
        reason: "NamespaceNotAllowed",
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
) -> Result<ProtectedIds, SyncFailure> {
    let mut missing = Vec::new();
    let mut resolve = |kind: NameKind, name: &String| -> Option<String> {
        if super::resolve::is_object_id(name) {
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
        Err(SyncFailure::Refused {
            reason: "NameNotFound",
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
        assert_eq!(error.reason(), "NamespaceNotAllowed");
        let cluster = reference(TenantKind::ClusterTenantConnection);
        let allowed = vec!["identity".to_owned()];
        assert!(check_access(&cluster, "identity", ConnectionScope::Cluster(&allowed)).is_ok());
        assert_eq!(
            check_access(&cluster, "dev", ConnectionScope::Cluster(&allowed))
                .unwrap_err()
                .reason(),
            "NamespaceNotAllowed"
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
