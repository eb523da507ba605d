//! The repository's own fixtures, built once here instead of copied into each test: the demo
//! tenant (its seed), the examples, and the example objects pointed at a simulator.

use std::path::{Path, PathBuf};

use graph_sim::{Seed, SimConfig, Simulator};
use sessionops_api::manifest::{self, Object};
use sessionops_api::{ClusterTenantConnection, Endpoints, SessionPolicy};

/// The demo tenant's seed (`src/demo/seed.yaml`): the people and groups the examples name.
pub const DEMO_SEED: &str = include_str!("../../../src/demo/seed.yaml");

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of `examples/`.
pub fn example(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

/// The demo seed, parsed.
pub fn demo_seed() -> Seed {
    Seed::from_yaml(DEMO_SEED).expect("the demo seed loads")
}

/// A simulator holding the demo tenant, its Conditional Access lane at `ca_rps`.
pub async fn demo_tenant(ca_rps: f64) -> Simulator {
    crate::sim::start(SimConfig {
        seed: Some(demo_seed()),
        ca_rps,
        ..SimConfig::default()
    })
    .await
}

/// The example ClusterTenantConnection (`examples/tenant-connection.yaml`) pointed at `sim`:
/// its tenant, app and endpoints.
pub fn example_connection(sim: &Simulator) -> ClusterTenantConnection {
    let mut set = manifest::load(&[example("tenant-connection.yaml")], false).unwrap();
    let Object::ClusterTenantConnection(mut connection) = set.objects.remove(0).object else {
        panic!("the example is a ClusterTenantConnection")
    };
    connection.spec.tenant_id = sim.tenant_id().to_owned();
    connection.spec.client_id = sim.client_id().to_owned();
    connection.spec.endpoints = Some(Endpoints {
        graph: Some(sim.base_url()),
        login: Some(sim.base_url()),
    });
    *connection
}

/// The example SessionPolicy `examples/policy-sign-in-every-12h.yaml` as the API server stores
/// it (generation 1, a uid, a resourceVersion).
pub fn example_policy() -> SessionPolicy {
    let mut set = manifest::load(&[example("policy-sign-in-every-12h.yaml")], false).unwrap();
    let Object::SessionPolicy(mut policy) = set.objects.remove(0).object else {
        panic!("the example is a SessionPolicy")
    };
    policy.metadata.generation = Some(1);
    policy.metadata.uid = Some("4f1e9c1a-0000-4000-8000-000000000001".into());
    policy.metadata.resource_version = Some("100".into());
    *policy
}
