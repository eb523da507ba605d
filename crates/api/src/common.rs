//! Types shared by several kinds.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use super::rules;

/// Standard `metav1.Condition` list, keyed by `type` (a list-map for server-side apply).
pub type Conditions = Vec<Condition>;

/// Which kind of tenant connection a namespaced object uses.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum TenantKind {
    /// A connection in the object's own namespace.
    #[default]
    TenantConnection,
    /// A cluster-wide connection; the object's namespace must be listed in its `allowedNamespaces`.
    ClusterTenantConnection,
}

/// Reference to the tenant connection an object is reconciled through.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantRef {
    /// `TenantConnection` (same namespace, the default) or `ClusterTenantConnection`.
    #[serde(default)]
    pub kind: TenantKind,
    /// Name of the connection object.
    #[x_kube(validation = rules::not_blank("tenantRef.name must not be empty"))]
    #[schemars(length(max = 253))]
    pub name: String,
}

/// Principals to include and to exclude. Values are names (resolved to ids at reconcile time,
/// the resolution is recorded in status) or object ids.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IncludeExclude {
    /// Principals the policy applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = rules::MAX_PRINCIPALS), inner(length(max = rules::MAX_NAME_LENGTH)))]
    pub include: Vec<String>,
    /// Principals the policy never applies to (wins over `include`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = rules::MAX_PRINCIPALS), inner(length(max = rules::MAX_NAME_LENGTH)))]
    pub exclude: Vec<String>,
}

impl IncludeExclude {
    /// Neither list has an entry.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}
