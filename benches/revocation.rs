//! Benchmark (README, Performance): revoking every member of a 2,000-user group through the
//! simulator with the write quota at 200 writes/s and 50 ms latency, verified, protected users
//! untouched; the sequential one-request-at-a-time baseline measured in the same run.
//!
//! `cargo bench --bench revocation` (BENCH_USERS, BENCH_QUOTA, BENCH_LATENCY_MS,
//! BENCH_BASELINE_USERS to change the figures).

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use graph_sim::{Seed, SimConfig, Simulator};
use sessionops::cli::revocations;
use sessionops_api::manifest::{self, Object};
use sessionops_api::{Endpoints, RevocationPhase};
use sessionops_core::revocation::RunOptions;
use sessionops_graph::models::User;
use sessionops_graph::{Credential, GraphClient, GraphConfig, GraphRequest, Secret, WriteQuota};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    sessionops_graph::tls::install_crypto_provider();
    let users: u32 = env("BENCH_USERS", 2000);
    let quota: WriteQuota = env("BENCH_QUOTA", "200/1".parse::<WriteQuota>().unwrap());
    let latency = Duration::from_millis(env("BENCH_LATENCY_MS", 50));
    let baseline_users: usize = env("BENCH_BASELINE_USERS", 200);
    let seed = Seed::from_yaml(
        "groups:\n  - {displayName: protected, members: [user0002@contoso.onmicrosoft.com]}\n",
    )
    .unwrap();
    let sim = Simulator::start(
        SimConfig {
            users: users + 1,
            groups: vec![("incident".into(), users + 1)],
            seed: Some(seed),
            write_quota: (quota.writes, quota.window),
            latency,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    // The incident group has users+1 members; one protected user and one protected group
    // member are left alone, so `users - 1` are revoked.
    let text = format!(
        "apiVersion: sessionops.io/v1alpha1\nkind: ClusterTenantConnection\nmetadata: {{name: contoso}}\nspec:\n  tenantId: {}\n  clientId: {}\n  credentials: {{clientSecret: {{secretRef: {{name: graph, namespace: sessionops-system}}}}}}\n  protected: {{users: [user0001@contoso.onmicrosoft.com], groups: [protected]}}\n  allowedNamespaces: [security]\n---\napiVersion: sessionops.io/v1alpha1\nkind: RevocationRequest\nmetadata: {{name: incident, namespace: security}}\nspec:\n  tenantRef: {{kind: ClusterTenantConnection, name: contoso}}\n  reason: benchmark\n  targets: {{groups: [incident]}}\n  maxTargets: 100000\n",
        sim.tenant_id(),
        sim.client_id()
    );
    let mut set = manifest::load_str(Path::new("bench.yaml"), &text).unwrap();
    for loaded in &mut set.objects {
        if let Object::ClusterTenantConnection(c) = &mut loaded.object {
            c.spec.endpoints = Some(Endpoints {
                graph: Some(sim.base_url()),
                login: Some(sim.base_url()),
            });
        }
    }
    let vars: HashMap<String, String> = [(
        "AZURE_CLIENT_SECRET".to_owned(),
        sim.client_secret().to_owned(),
    )]
    .into();
    let dir = tempfile::tempdir().unwrap();
    let configure = move |config: &mut GraphConfig| config.write_quota = quota;
    let options = RunOptions {
        verify_poll: Duration::from_millis(200),
        ..RunOptions::default()
    };
    let started = Instant::now();
    let reports = revocations::run(
        &set,
        &vars,
        &dir.path().join("state.json"),
        true,
        &options,
        &configure,
    )
    .await
    .unwrap();
    let wall = started.elapsed();
    let status = reports[0].status.clone().unwrap();
    assert_eq!(
        status.phase,
        RevocationPhase::Succeeded,
        "{}",
        revocations::text(&reports)
    );
    let stats: serde_json::Value = reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let protected_untouched = {
        let mut untouched = true;
        for upn in [
            "user0001@contoso.onmicrosoft.com",
            "user0002@contoso.onmicrosoft.com",
        ] {
            let user: serde_json::Value =
                reqwest::get(format!("{}/_sim/users/{upn}", sim.base_url()))
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
            untouched &= user["revokeCount"] == 0;
        }
        untouched
    };

    // Baseline: one request at a time, as a PowerShell loop does, on a sample.
    tokio::time::sleep(quota.window).await;
    let mut config = GraphConfig::new(
        sim.tenant_id(),
        sim.client_id(),
        Credential::ClientSecret(Secret::new(sim.client_secret())),
        &sim.base_url(),
        &sim.base_url(),
    );
    config.write_quota = quota;
    let client = GraphClient::new(config).unwrap();
    let sample: Vec<User> = client
        .list_all(
            GraphRequest::get("/users")
                .query("$top", "999")
                .query("$select", "id"),
        )
        .await
        .unwrap();
    let begin = Instant::now();
    for user in sample.iter().take(baseline_users) {
        client
            .send(GraphRequest::action(&format!(
                "/users/{}/revokeSignInSessions",
                user.id
            )))
            .await
            .unwrap();
    }
    let baseline = begin.elapsed();
    sim.shutdown().await;

    let c = &status.counts;
    let ideal = c.resolved as f64 / quota.rate();
    let requests = stats["totals"]["requests"].as_u64().unwrap_or(0);
    let throttled = stats["totals"]["throttled"].as_u64().unwrap_or(0);
    let baseline_rate = baseline_users as f64 / baseline.as_secs_f64();
    println!(
        "RevocationRequest of a {}-member group: quota {} writes / {} s, {} ms latency, verify on",
        users + 1,
        quota.writes,
        quota.window.as_secs_f64(),
        latency.as_millis()
    );
    println!();
    println!(
        "| run | users revoked | verified | wall (s) | ideal N/rate (s) | wall / ideal | target | HTTP requests | 429s | protected untouched |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    println!(
        "| sessionops (resolve + revoke + verify) | {} | {} | {:.2} | {ideal:.2} | {:.3} | ≤ 1.100 | {requests} | {throttled} ({:.2}%) | {protected_untouched} |",
        c.succeeded,
        c.verified,
        wall.as_secs_f64(),
        wall.as_secs_f64() / ideal,
        100.0 * throttled as f64 / requests.max(1) as f64
    );
    println!(
        "| baseline: one request at a time ({baseline_users} users) | {baseline_users} | - | {:.2} | {:.2} | {:.3} | - | {baseline_users} | - | - |",
        baseline.as_secs_f64(),
        baseline_users as f64 / quota.rate(),
        baseline.as_secs_f64() / (baseline_users as f64 / quota.rate())
    );
    println!();
    println!(
        "baseline rate {baseline_rate:.1} users/s; at that rate {} users take {:.0} s",
        c.resolved,
        c.resolved as f64 / baseline_rate
    );
}
