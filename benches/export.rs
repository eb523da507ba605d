//! Benchmark: `sessionops export` of a tenant with 195 Conditional Access policies (the
//! documented per-tenant limit) through the simulator with Graph's limits on (CA 1 request/s).
//! Target (README, Performance): ≤ 5 s; Microsoft365DSC's exports are reported to take hours.
//!
//! `cargo bench --bench export` (BENCH_POLICIES to change the count).

use std::collections::HashMap;
use std::time::Instant;

use graph_sim::{SimConfig, Simulator};
use serde_json::json;
use sessionops::cli::export;
use sessionops_api::manifest::{self, Object};
use sessionops_api::{TenantKind, TenantRef};

#[tokio::main]
async fn main() {
    sessionops_graph::tls::install_crypto_provider();
    let count: usize = std::env::var("BENCH_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(195);
    let sim = Simulator::start(
        SimConfig {
            users: 200,
            groups: vec![("staff".into(), 100)],
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    for i in 0..count {
        let body = json!({
            "displayName": format!("policy {i:03}"),
            "state": "enabledForReportingButNotEnforced",
            "conditions": {"clientAppTypes": ["all"], "applications": {"includeApplications": ["All"]}, "users": {"includeUsers": ["All"]}},
            "sessionControls": {"signInFrequency": {"isEnabled": true, "value": i % 23 + 1, "type": "hours", "frequencyInterval": "timeBased", "authenticationType": "primaryAndSecondaryAuthentication"}},
        });
        http.post(format!("{}/_sim/portal/policies", sim.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    let yaml = format!(
        "apiVersion: sessionops.io/v1alpha1\nkind: ClusterTenantConnection\nmetadata: {{name: contoso}}\nspec:\n  tenantId: {}\n  clientId: {}\n  endpoints: {{graph: \"{2}\", login: \"{2}\"}}\n  credentials: {{clientSecret: {{secretRef: {{name: graph, namespace: sessionops-system}}}}}}\n",
        sim.tenant_id(),
        sim.client_id(),
        sim.base_url()
    );
    let set = manifest::load_str(std::path::Path::new("tenant.yaml"), &yaml).unwrap();
    let Object::ClusterTenantConnection(connection) = &set.objects[0].object else {
        unreachable!()
    };
    let env: HashMap<String, String> = [(
        "AZURE_CLIENT_SECRET".to_owned(),
        sim.client_secret().to_owned(),
    )]
    .into();
    let tenant_ref = TenantRef {
        kind: TenantKind::ClusterTenantConnection,
        name: "contoso".into(),
    };
    let started = Instant::now();
    let result = export::export(&connection.spec, &tenant_ref, "identity", &env, &|_| {})
        .await
        .unwrap();
    let wall = started.elapsed();
    let stats: serde_json::Value = reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sim.shutdown().await;
    println!("Export through the simulator, Graph's limits on (CA 1 request/s per tenant)");
    println!();
    println!(
        "| policies | exported | skipped | wall (s) | target (s) | Graph requests | CA requests |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {count} | {} | {} | {:.2} | 5.00 | {} | {} |",
        result.exported.len(),
        result.skipped.len(),
        wall.as_secs_f64(),
        stats["totals"]["requests"],
        stats["caRequestTimes"].as_array().map_or(0, Vec::len)
    );
}
