//! The registry of sessionops kinds: [`KINDS`] is the one list that the CRDs
//! ([`crate::crds::all`]), the manifest loader, the operator's RBAC rules and the `kubectl get`
//! view read. Adding a kind is a variant of [`Kind`] and one entry here; the compiler points
//! at every `match` on [`Kind`] that must learn it.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use serde_json::Value;

use crate::manifest::{self, ManifestError, Object, Source};
use crate::{
    AuthenticationStrength, ClusterTenantConnection, IdleTimeoutPolicy, NamedLocation,
    RevocationRequest, SessionPolicy, TenantConnection,
};

/// A sessionops kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// One custom authentication strength.
    AuthenticationStrength,
    /// A tenant connection any allowed namespace may use (cluster-scoped).
    ClusterTenantConnection,
    /// A tenant connection for its own namespace.
    TenantConnection,
    /// One Conditional Access policy.
    SessionPolicy,
    /// One Conditional Access named location.
    NamedLocation,
    /// The tenant's idle sign-out (one per connection).
    IdleTimeoutPolicy,
    /// A one-shot revocation.
    RevocationRequest,
}

/// What the rest of sessionops needs to know about a kind.
#[derive(Clone, Copy, Debug)]
pub struct KindInfo {
    /// The kind.
    pub kind: Kind,
    /// As written in manifests (`SessionPolicy`).
    pub name: &'static str,
    /// Plural resource name (`sessionpolicies`).
    pub plural: &'static str,
    /// Namespaced (else cluster-scoped).
    pub namespaced: bool,
    /// The operator adds a finalizer (so it patches the object itself, not only its status).
    pub finalizer: bool,
    /// Its CustomResourceDefinition.
    pub crd: fn() -> CustomResourceDefinition,
    /// Reads one document of this kind: the typed schema, then the CRD's CEL rules.
    pub load: fn(&Source, Value, &str) -> Result<Object, Vec<ManifestError>>,
}

/// Every kind, in CRD file-name order (`<plural>.<group>.yaml`).
pub const KINDS: &[KindInfo] = &[
    KindInfo {
        kind: Kind::AuthenticationStrength,
        name: "AuthenticationStrength",
        plural: "authenticationstrengths",
        namespaced: true,
        finalizer: true,
        crd: AuthenticationStrength::crd,
        load: |source, document, display| {
            manifest::typed::<AuthenticationStrength>(source, document, display)
                .map(Object::AuthenticationStrength)
        },
    },
    KindInfo {
        kind: Kind::ClusterTenantConnection,
        name: "ClusterTenantConnection",
        plural: "clustertenantconnections",
        namespaced: false,
        finalizer: false,
        crd: ClusterTenantConnection::crd,
        load: |source, document, display| {
            manifest::typed::<ClusterTenantConnection>(source, document, display)
                .map(Object::ClusterTenantConnection)
        },
    },
    KindInfo {
        kind: Kind::IdleTimeoutPolicy,
        name: "IdleTimeoutPolicy",
        plural: "idletimeoutpolicies",
        namespaced: true,
        finalizer: true,
        crd: IdleTimeoutPolicy::crd,
        load: |source, document, display| {
            manifest::typed::<IdleTimeoutPolicy>(source, document, display)
                .map(Object::IdleTimeoutPolicy)
        },
    },
    KindInfo {
        kind: Kind::NamedLocation,
        name: "NamedLocation",
        plural: "namedlocations",
        namespaced: true,
        finalizer: true,
        crd: NamedLocation::crd,
        load: |source, document, display| {
            manifest::typed::<NamedLocation>(source, document, display).map(Object::NamedLocation)
        },
    },
    KindInfo {
        kind: Kind::RevocationRequest,
        name: "RevocationRequest",
        plural: "revocationrequests",
        namespaced: true,
        finalizer: false,
        crd: RevocationRequest::crd,
        load: |source, document, display| {
            manifest::typed::<RevocationRequest>(source, document, display)
                .map(Object::RevocationRequest)
        },
    },
    KindInfo {
        kind: Kind::SessionPolicy,
        name: "SessionPolicy",
        plural: "sessionpolicies",
        namespaced: true,
        finalizer: true,
        crd: SessionPolicy::crd,
        load: |source, document, display| {
            manifest::typed::<SessionPolicy>(source, document, display).map(Object::SessionPolicy)
        },
    },
    KindInfo {
        kind: Kind::TenantConnection,
        name: "TenantConnection",
        plural: "tenantconnections",
        namespaced: true,
        finalizer: false,
        crd: TenantConnection::crd,
        load: |source, document, display| {
            manifest::typed::<TenantConnection>(source, document, display)
                .map(Object::TenantConnection)
        },
    },
];

impl Kind {
    /// Its entry in [`KINDS`].
    pub fn info(self) -> &'static KindInfo {
        KINDS
            .iter()
            .find(|info| info.kind == self)
            .expect("every kind is registered in KINDS")
    }

    /// As written in manifests.
    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    /// The kind a manifest's `kind` names.
    pub fn parse(name: &str) -> Option<Kind> {
        KINDS.iter().find(|info| info.name == name).map(|i| i.kind)
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use kube::Resource;

    use super::*;

    /// The registry's names are the CRDs' (so the loader, RBAC and `kubectl get` agree with
    /// what the API server serves), and every kind appears once.
    #[test]
    fn every_kind_is_registered_once_with_its_crds_names() {
        let mut seen = std::collections::BTreeSet::new();
        for info in KINDS {
            assert!(seen.insert(info.kind), "{:?} twice", info.kind);
            let crd = (info.crd)();
            assert_eq!(crd.spec.names.kind, info.name);
            assert_eq!(crd.spec.names.plural, info.plural);
            assert_eq!(
                crd.spec.scope == "Namespaced",
                info.namespaced,
                "{}",
                info.name
            );
            assert_eq!(Kind::parse(info.name), Some(info.kind));
            assert_eq!(info.kind.info().plural, info.plural);
        }
        assert_eq!(SessionPolicy::kind(&()), Kind::SessionPolicy.as_str());
        let mut sorted: Vec<&str> = KINDS.iter().map(|k| k.plural).collect();
        sorted.sort_unstable();
        assert_eq!(sorted, KINDS.iter().map(|k| k.plural).collect::<Vec<_>>());
        assert_eq!(Kind::parse("Namespace"), None);
    }
}
