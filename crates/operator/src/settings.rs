//! What the controllers are configured with: the watch caches they read and their tunables
//! (kept apart from [`crate::context`] so that the connection cache can read them without
//! depending on the context that holds it).

use std::sync::Arc;
use std::time::Duration;

use kube::core::DeserializeGuard;
use kube::runtime::reflector::Store;
use sessionops_api::{
    AuthenticationStrength, ClusterTenantConnection, IdleTimeoutPolicy, NamedLocation,
    RevocationRequest, SessionPolicy, TenantConnection,
};
use sessionops_core::revocation::RunOptions;
use sessionops_graph::GraphConfig;

/// Watch caches of the kinds (objects that do not deserialize are kept as errors so one
/// malformed object never stops a watch).
#[derive(Clone)]
pub struct Stores {
    /// ClusterTenantConnections.
    pub cluster_connections: Store<DeserializeGuard<ClusterTenantConnection>>,
    /// TenantConnections.
    pub connections: Store<DeserializeGuard<TenantConnection>>,
    /// SessionPolicies.
    pub policies: Store<DeserializeGuard<SessionPolicy>>,
    /// NamedLocations.
    pub locations: Store<DeserializeGuard<NamedLocation>>,
    /// AuthenticationStrengths.
    pub strengths: Store<DeserializeGuard<AuthenticationStrength>>,
    /// IdleTimeoutPolicies.
    pub idle_timeouts: Store<DeserializeGuard<IdleTimeoutPolicy>>,
    /// RevocationRequests.
    pub revocations: Store<DeserializeGuard<RevocationRequest>>,
}

/// Tunables (tests shorten them).
#[derive(Clone)]
pub struct Settings {
    /// How often SessionPolicies are compared with the tenant and connections re-checked; also
    /// how long a tenant read is shared.
    pub resync: Duration,
    /// Revocation run options (its `stop` is the operator's graceful shutdown).
    pub revocation: RunOptions,
    /// Adjusts every Graph config (tests: faster retries).
    pub configure: Arc<dyn Fn(&mut GraphConfig) + Send + Sync>,
    /// Where the workload-identity token is (the Azure workload-identity webhook sets
    /// `AZURE_FEDERATED_TOKEN_FILE`).
    pub federated_token_file: Option<std::path::PathBuf>,
}

impl Settings {
    /// Defaults for a real cluster, reading the process environment.
    pub fn new(resync: Duration) -> Self {
        Settings {
            resync,
            revocation: RunOptions::default(),
            configure: Arc::new(|_| {}),
            federated_token_file: std::env::var_os("AZURE_FEDERATED_TOKEN_FILE")
                .filter(|v| !v.is_empty())
                .map(Into::into),
        }
    }
}
