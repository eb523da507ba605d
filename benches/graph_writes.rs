//! Benchmark: the Graph client sending N revocation-shaped writes (POST
//! /users/{id}/revokeSignInSessions in `$batch`es of 20) through the simulator with a write
//! quota, against the quota rate, with a sequential one-request-at-a-time baseline (what a
//! PowerShell loop does) measured in the same run.
//!
//! `cargo bench --bench graph_writes` (defaults: 2,000 users, quota 200 writes/s, 50 ms latency).
//! Override with BENCH_USERS, BENCH_QUOTA (`N/SECONDS`), BENCH_LATENCY_MS, BENCH_BASELINE_USERS.

use std::time::{Duration, Instant};

use graph_sim::{SimConfig, Simulator};
use reqwest::Method;
use sessionops_graph::models::User;
use sessionops_graph::{
    ApiVersion, BatchItem, Credential, GraphClient, GraphConfig, GraphRequest, Secret, WriteQuota,
};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Row {
    scenario: String,
    writes: usize,
    wall: Duration,
    throttled: u64,
    requests: u64,
}

#[tokio::main]
async fn main() {
    sessionops_graph::tls::install_crypto_provider();
    let users: u32 = env("BENCH_USERS", 2000);
    let quota: WriteQuota = env("BENCH_QUOTA", "200/1".parse::<WriteQuota>().unwrap());
    let latency = Duration::from_millis(env("BENCH_LATENCY_MS", 50));
    let baseline_users: usize = env("BENCH_BASELINE_USERS", 200);

    let sim = Simulator::start(
        SimConfig {
            users,
            write_quota: (quota.writes, quota.window),
            latency,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("simulator starts");
    let mut config = GraphConfig::new(
        sim.tenant_id(),
        sim.client_id(),
        Credential::ClientSecret(Secret::new(sim.client_secret())),
        &sim.base_url(),
        &sim.base_url(),
    );
    config.write_quota = quota;
    let client = GraphClient::new(config).unwrap();
    let all: Vec<User> = client
        .list_all(
            GraphRequest::get("/users")
                .query("$top", "999")
                .query("$select", "id"),
        )
        .await
        .unwrap();

    // Batched and paced at the quota. The quota starts full, as Graph's bucket does when the
    // app has been idle; the pacer still spends it at the steady rate after one batch.
    reset(&sim).await;
    let items: Vec<BatchItem> = all
        .iter()
        .map(|u| {
            BatchItem::new(
                u.id.clone(),
                Method::POST,
                format!("/users/{}/revokeSignInSessions", u.id),
            )
        })
        .collect();
    let started = Instant::now();
    let responses = client.batch(ApiVersion::V1, items, 4).await.unwrap();
    let wall = started.elapsed();
    let failed = responses.iter().filter(|r| !r.is_success()).count();
    assert_eq!(failed, 0, "every write succeeded");
    let counters = sim_stats(&sim).await;
    let batched = Row {
        scenario: "sessionops: $batch of 20, paced at the quota".into(),
        writes: responses.len(),
        wall,
        throttled: counters["totals"]["throttled"].as_u64().unwrap_or(0),
        requests: counters["totals"]["requests"].as_u64().unwrap_or(0),
    };

    // The baseline: one revoke at a time, waiting for each answer, on a sample of users (the
    // whole population would take minutes at this rate).
    tokio::time::sleep(quota.window).await; // let the quota refill
    reset(&sim).await;
    let started = Instant::now();
    for user in all.iter().take(baseline_users) {
        client
            .send(GraphRequest::action(&format!(
                "/users/{}/revokeSignInSessions",
                user.id
            )))
            .await
            .unwrap();
    }
    let wall = started.elapsed();
    let counters = sim_stats(&sim).await;
    let sequential = Row {
        scenario: format!("baseline: one request at a time ({baseline_users} users)"),
        writes: baseline_users.min(all.len()),
        wall,
        throttled: counters["totals"]["throttled"].as_u64().unwrap_or(0),
        requests: counters["totals"]["requests"].as_u64().unwrap_or(0),
    };
    sim.shutdown().await;

    let quota_rate = quota.rate();
    println!(
        "Graph write throughput through the simulator: {users} users, quota {} writes / {} s ({quota_rate:.1}/s), {} ms latency",
        quota.writes,
        quota.window.as_secs_f64(),
        latency.as_millis()
    );
    println!();
    println!(
        "| scenario | writes | wall (s) | writes/s | % of quota rate | ideal (s) | wall / ideal | HTTP requests | 429s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in [&batched, &sequential] {
        let rate = row.writes as f64 / row.wall.as_secs_f64();
        let ideal = row.writes as f64 / quota_rate;
        println!(
            "| {} | {} | {:.2} | {:.1} | {:.1}% | {:.2} | {:.3} | {} | {} ({:.2}%) |",
            row.scenario,
            row.writes,
            row.wall.as_secs_f64(),
            rate,
            100.0 * rate / quota_rate,
            ideal,
            row.wall.as_secs_f64() / ideal,
            row.requests,
            row.throttled,
            100.0 * row.throttled as f64 / row.requests.max(1) as f64
        );
    }
    let speedup = (batched.writes as f64 / batched.wall.as_secs_f64())
        / (sequential.writes as f64 / sequential.wall.as_secs_f64());
    println!();
    println!("batched vs sequential: {speedup:.1}x the write rate");
}

async fn reset(sim: &Simulator) {
    reqwest::Client::new()
        .post(format!("{}/_sim/stats/reset", sim.base_url()))
        .send()
        .await
        .unwrap();
}

async fn sim_stats(sim: &Simulator) -> serde_json::Value {
    reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
