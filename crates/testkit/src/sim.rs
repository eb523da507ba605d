//! Helpers for tests that run the Graph client against the simulator over HTTP.

use std::time::Duration;

use graph_sim::{SimConfig, Simulator};
use serde_json::Value;
use sessionops_graph::{Credential, GraphClient, GraphConfig, RetryPolicy, Secret};

/// A simulator on a free loopback port.
pub async fn start(config: SimConfig) -> Simulator {
    sessionops_graph::tls::install_crypto_provider();
    Simulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

/// The simulator's defaults without throttling, latency or faults.
pub fn quiet() -> SimConfig {
    SimConfig {
        throttle: false,
        ..SimConfig::default()
    }
}

/// The Azure SDK variables that point a CLI run at `sim` (outside a cluster, credentials
/// come from the environment).
pub fn azure_env(sim: &Simulator) -> std::collections::HashMap<String, String> {
    [
        ("AZURE_TENANT_ID", sim.tenant_id()),
        ("AZURE_CLIENT_ID", sim.client_id()),
        ("AZURE_CLIENT_SECRET", sim.client_secret()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A config for `sim` with its client secret and quick retries (tests wait milliseconds, not
/// the production backoff).
pub fn config(sim: &Simulator) -> GraphConfig {
    let mut config = GraphConfig::new(
        sim.tenant_id(),
        sim.client_id(),
        Credential::ClientSecret(Secret::new(sim.client_secret())),
        &sim.base_url(),
        &sim.base_url(),
    );
    config.retry = RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(5),
    };
    config
}

/// A client for `sim`.
pub fn client(sim: &Simulator) -> GraphClient {
    GraphClient::new(config(sim)).expect("client")
}

/// `GET /_sim/stats`.
pub async fn stats(sim: &Simulator) -> Value {
    reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `POST /_sim/stats/reset`: the statistics start again from zero.
pub async fn reset_stats(sim: &Simulator) {
    reqwest::Client::new()
        .post(format!("{}/_sim/stats/reset", sim.base_url()))
        .send()
        .await
        .unwrap();
}

/// How many answers `route` (e.g. `GET /users/{id}`) got with `status`.
pub fn count(stats: &Value, route: &str, status: u16) -> u64 {
    stats["routes"][route][status.to_string()]
        .as_u64()
        .unwrap_or(0)
}

/// Total answers of `route`, any status.
pub fn total(stats: &Value, route: &str) -> u64 {
    stats["routes"][route]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
}

/// The tenant's active Conditional Access policies (`GET /_sim/policies` without the deleted
/// ones, which carry `deletedDateTime`).
pub async fn active_policies(sim: &Simulator) -> Vec<Value> {
    let body: Value = reqwest::get(format!("{}/_sim/policies", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["deletedDateTime"].is_null())
        .cloned()
        .collect()
}

/// A client for `sim` whose Conditional Access lane is not paced (for a simulator whose CA
/// limit is lifted too).
pub fn unpaced_client(sim: &Simulator) -> GraphClient {
    let mut config = config(sim);
    config.ca_requests_per_second = 1000.0;
    GraphClient::new(config).expect("client")
}

/// A quiet simulator without the Conditional Access limit, and an unpaced client for it.
pub async fn start_unpaced() -> (Simulator, GraphClient) {
    let sim = start(SimConfig {
        ca_rps: 1000.0,
        ..quiet()
    })
    .await;
    let client = unpaced_client(&sim);
    (sim, client)
}
