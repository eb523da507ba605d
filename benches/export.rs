//! Benchmark: `sessionops export` of a tenant at Entra's limits: 195 Conditional Access
//! policies (the documented per-tenant limit), 195 named locations, each policy naming one of
//! them, and the 15 custom authentication strengths Entra allows, through the simulator with
//! Graph's limits on (CA and named locations 1 request/s per tenant). Target (README,
//! Performance): ≤ 5 s; Microsoft365DSC's exports are reported to take hours.
//!
//! Baseline, measured in the same run against the same tenant: the Graph reads alone (the
//! three LISTs export makes, through the same paced client), so the table shows what export
//! adds on top of Graph: name lookups, conversion, validating and planning back every
//! manifest.
//!
//! `cargo bench --bench export` (BENCH_POLICIES and BENCH_LOCATIONS change the counts).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use graph_sim::seed::SeedAuthenticationStrength;
use graph_sim::{Seed, SimConfig, Simulator};
use serde_json::{Value, json};
use sessionops::cli::export;
use sessionops_api::manifest::{self, Object};
use sessionops_api::{Kind, TenantKind, TenantRef};
use sessionops_graph::{ApiVersion, GraphClient, GraphRequest, paths};

fn count(var: &str) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(195)
}

fn location_id(i: usize) -> String {
    format!("33333333-cccc-4ccc-8ccc-{i:012}")
}

fn seed(policies: usize, locations: usize) -> Seed {
    let named_locations = (0..locations)
        .map(|i| {
            if i % 2 == 0 {
                json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "id": location_id(i),
                       "displayName": format!("office {i:03}"), "isTrusted": i % 4 == 0,
                       "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": format!("10.{}.{}.0/24", i / 250, i % 250)}]})
            } else {
                json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "id": location_id(i),
                       "displayName": format!("countries {i:03}"), "countriesAndRegions": ["KP", "IR"]})
            }
        })
        .collect();
    let authentication_strength_policies = (0..15)
        .map(|i| SeedAuthenticationStrength {
            display_name: format!("strength {i:02}"),
            id: None,
            description: Some(format!("custom strength {i}")),
            allowed_combinations: vec!["fido2".into(), "windowsHelloForBusiness".into()],
        })
        .collect();
    let conditional_access_policies = (0..policies)
        .map(|i| {
            let mut policy = json!({
                "displayName": format!("policy {i:03}"),
                "state": "enabledForReportingButNotEnforced",
                "conditions": {"clientAppTypes": ["all"], "applications": {"includeApplications": ["All"]}, "users": {"includeUsers": ["All"]}},
                "sessionControls": {"signInFrequency": {"isEnabled": true, "value": i % 23 + 1, "type": "hours", "frequencyInterval": "timeBased", "authenticationType": "primaryAndSecondaryAuthentication"}},
            });
            if locations > 0 {
                policy["conditions"]["locations"] =
                    json!({"includeLocations": ["All"], "excludeLocations": [location_id(i % locations)]});
            }
            policy
        })
        .collect();
    Seed {
        named_locations,
        authentication_strength_policies,
        conditional_access_policies,
        ..Seed::default()
    }
}

#[tokio::main]
async fn main() {
    sessionops_graph::tls::install_crypto_provider();
    let (policies, locations) = (count("BENCH_POLICIES"), count("BENCH_LOCATIONS"));
    let sim = Simulator::start(
        SimConfig {
            users: 200,
            groups: vec![("staff".into(), 100)],
            seed: Some(seed(policies, locations)),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
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

    // Baseline: the same three LISTs through a client with the same (default) pacing. The CA
    // lane is per tenant and process-wide, so the run waits a lane interval before the export.
    let config =
        sessionops_core::connection::config::config_from_environment(&connection.spec, &env)
            .unwrap();
    let client = GraphClient::new(config).unwrap();
    let started = Instant::now();
    let read: Vec<Value> = client
        .list_all(GraphRequest::get(paths::CONDITIONAL_ACCESS_POLICIES).version(ApiVersion::Beta))
        .await
        .unwrap();
    let named: Vec<Value> = client
        .list_all(GraphRequest::get(paths::NAMED_LOCATIONS).version(ApiVersion::Beta))
        .await
        .unwrap();
    let strengths: Vec<Value> = client
        .list_all(GraphRequest::get(paths::AUTHENTICATION_STRENGTH_POLICIES))
        .await
        .unwrap();
    let baseline = started.elapsed();
    assert_eq!((read.len(), named.len()), (policies, locations));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    stats_reset(&sim).await;

    let started = Instant::now();
    let result = export::export(&connection.spec, &tenant_ref, "identity", &env, &|_| {})
        .await
        .unwrap();
    let wall = started.elapsed();
    let stats: Value = reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sim.shutdown().await;
    let of = |kind: Kind| result.exported.iter().filter(|e| e.kind == kind).count();
    // Every policy names its location by display name, not by id.
    let by_name = result
        .exported
        .iter()
        .filter(|e| e.kind == Kind::SessionPolicy && !e.yaml.contains("33333333-cccc"))
        .count();
    println!(
        "Export through the simulator, Graph's limits on (CA and named locations 1 request/s per tenant)"
    );
    println!();
    println!(
        "| run | policies | locations | strengths | skipped | policies naming locations by name | wall (s) | target (s) | Graph requests | CA requests |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| baseline: the three LISTs alone | {policies} | {locations} | {} | - | - | {:.2} | - | 3 | 2 |",
        strengths.len(),
        baseline.as_secs_f64()
    );
    println!(
        "| export --out (tree) | {} | {} | {} | {} | {by_name} | {:.2} | 5.00 | {} | {} |",
        of(Kind::SessionPolicy),
        of(Kind::NamedLocation),
        of(Kind::AuthenticationStrength),
        result.skipped.len(),
        wall.as_secs_f64(),
        stats["totals"]["requests"],
        stats["caRequestTimes"].as_array().map_or(0, Vec::len)
    );
    println!();
    println!(
        "export adds {:.2} s to Graph's reads ({:.1} ms per exported manifest)",
        (wall.saturating_sub(baseline)).as_secs_f64(),
        wall.saturating_sub(baseline).as_secs_f64() * 1000.0 / result.exported.len().max(1) as f64
    );
    assert!(result.skipped.is_empty(), "{:?}", result.skipped);
    assert_eq!(by_name, policies);
    assert!(wall < Duration::from_secs(5), "export took {wall:?}");
}

async fn stats_reset(sim: &Simulator) {
    reqwest::Client::new()
        .post(format!("{}/_sim/stats/reset", sim.base_url()))
        .send()
        .await
        .unwrap();
}
