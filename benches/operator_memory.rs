//! Benchmark: the operator's resident memory with 1,000 objects in its watch caches.
//!
//! Five tenants (five `sessionops sim` processes, so that only the operator's memory is
//! measured; a tenant holds at most 195 Conditional Access policies), five
//! ClusterTenantConnections, 950 SessionPolicies and 45 completed RevocationRequests: 1,000
//! objects. Every policy is reconciled once (created in its tenant) and then resynced once (no
//! change), through the real controllers with kube's mock API server (tower-test) answering the
//! Kubernetes calls. Then a RevocationRequest of a 100,000-member group runs for a while (it is
//! stopped gracefully after `BENCH_INFLIGHT_SECONDS`, default 20) while RSS is sampled.
//! Target (README, Performance): RSS ≤ 50 MiB with 1,000 objects and a 100k-user revocation in
//! flight.
//!
//! `cargo bench --bench operator_memory`

// The test helpers (watch caches as the operator holds them).
use sessionops_testkit as common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Request, Response};
use kube::client::Body;
use kube::core::DeserializeGuard;
use serde_json::{Value, json};
use sessionops_api::manifest::{self, Object};
use sessionops_api::{SessionPolicy, TenantConnection};
use sessionops_core::revocation::RunOptions;
use sessionops_core::tenant_object::kind::SeamKind;
use sessionops_operator::metrics::Metrics;
use sessionops_operator::{Context, Settings, Stores, revocation, tenant_object};
use tokio::io::AsyncBufReadExt;

const TENANTS: usize = 5;
const POLICIES_PER_TENANT: usize = 190;
const REVOCATIONS: usize = 45;
const INCIDENT_MEMBERS: usize = 100_000;

/// A `sessionops sim` child process: its base URL and app registration.
struct Sim {
    _child: tokio::process::Child,
    base_url: String,
    tenant_id: String,
    client_id: String,
    client_secret: String,
}

async fn spawn_sim(tenant: usize, extra: &[&str]) -> Sim {
    let tenant_id = format!("6b8e2f4a-1c3d-4e5f-9a7b-0c1d2e3f4a5{tenant}");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sessionops"))
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--throttle",
            "off",
            "--tenant-id",
            &tenant_id,
        ])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the sessionops binary runs");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let field = |line: Option<String>, prefix: &str| -> String {
        let line = line.expect("the simulator prints its address and app");
        line.strip_prefix(prefix).unwrap_or(&line).trim().to_owned()
    };
    let base_url = field(lines.next_line().await.unwrap(), "");
    let _tenant = field(lines.next_line().await.unwrap(), "tenant-id:");
    let client_id = field(lines.next_line().await.unwrap(), "client-id:");
    let client_secret = field(lines.next_line().await.unwrap(), "client-secret:");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Sim {
        _child: child,
        base_url,
        tenant_id,
        client_id,
        client_secret,
    }
}

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    sessionops_graph::tls::install_crypto_provider();
    let members = INCIDENT_MEMBERS.to_string();
    let groups = format!("incident={INCIDENT_MEMBERS}");
    let mut sims = vec![spawn_sim(0, &["--users", &members, "--groups", &groups]).await];
    for t in 1..TENANTS {
        sims.push(spawn_sim(t, &[]).await);
    }
    let baseline = rss_kib("VmRSS:");

    let mut yaml = String::new();
    for (t, sim) in sims.iter().enumerate() {
        yaml.push_str(&format!(
            "apiVersion: sessionops.io/v1alpha1\nkind: ClusterTenantConnection\nmetadata: {{name: tenant{t}}}\nspec:\n  tenantId: {}\n  clientId: {}\n  endpoints: {{graph: \"{2}\", login: \"{2}\"}}\n  credentials: {{clientSecret: {{secretRef: {{name: graph, namespace: sessionops-system}}}}}}\n  allowedNamespaces: [\"*\"]\n---\n",
            sim.tenant_id, sim.client_id, sim.base_url
        ));
        for p in 0..POLICIES_PER_TENANT {
            yaml.push_str(&format!(
                "apiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nmetadata: {{name: policy-{p:03}, namespace: team-{t}, generation: 1}}\nspec:\n  tenantRef: {{kind: ClusterTenantConnection, name: tenant{t}}}\n  state: reportOnly\n  assignments:\n    users: {{include: [All]}}\n    applications: {{include: [All]}}\n  session:\n    signInFrequency: {}h\n---\n",
                p % 23 + 1
            ));
        }
    }
    for r in 0..REVOCATIONS {
        yaml.push_str(&format!(
            "apiVersion: sessionops.io/v1alpha1\nkind: RevocationRequest\nmetadata: {{name: offboard-{r:03}, namespace: security, generation: 1}}\nspec:\n  tenantRef: {{kind: ClusterTenantConnection, name: tenant{}}}\n  reason: \"ticket HR-{r}\"\n  targets: {{users: [user{:04}@contoso.onmicrosoft.com]}}\nstatus:\n  phase: Succeeded\n  counts: {{resolved: 1, succeeded: 1, verified: 1, failed: 0, skipped: 0, skippedProtected: 0}}\n---\n",
            r % TENANTS, r + 1
        ));
    }
    let set = manifest::load_str(Path::new("bench.yaml"), &yaml).unwrap();
    let (mut connections, mut policies, mut revocations) = (Vec::new(), Vec::new(), Vec::new());
    for loaded in set.objects {
        match loaded.object {
            Object::ClusterTenantConnection(c) => connections.push(*c),
            Object::SessionPolicy(mut p) => {
                p.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
                policies.push(*p)
            }
            Object::RevocationRequest(r) => revocations.push(*r),
            _ => {}
        }
    }
    let objects = connections.len() + policies.len() + revocations.len();

    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "default");
    let mut by_path: HashMap<String, Value> = HashMap::new();
    for p in &policies {
        by_path.insert(
            format!(
                "/apis/sessionops.io/v1alpha1/namespaces/{}/sessionpolicies/{}",
                p.metadata.namespace.as_deref().unwrap(),
                p.metadata.name.as_deref().unwrap()
            ),
            serde_json::to_value(p).unwrap(),
        );
    }
    // The simulators share one app registration secret by default; the Secret serves them all.
    let secret_value = sims[0].client_secret.clone();
    let incident = {
        let text = format!(
            "apiVersion: sessionops.io/v1alpha1\nkind: RevocationRequest\nmetadata: {{name: incident, namespace: security, generation: 1, uid: 4f1e9c1a-0000-4000-8000-00000000000f}}\nspec:\n  tenantRef: {{kind: ClusterTenantConnection, name: tenant0}}\n  reason: \"INC-1 token theft\"\n  targets: {{groups: [incident]}}\n  maxTargets: {INCIDENT_MEMBERS}\n  verify: true\n"
        );
        let mut set = manifest::load_str(Path::new("incident.yaml"), &text).unwrap();
        match set.objects.remove(0).object {
            Object::RevocationRequest(r) => *r,
            _ => unreachable!(),
        }
    };
    by_path.insert(
        "/apis/sessionops.io/v1alpha1/namespaces/security/revocationrequests/incident".into(),
        serde_json::to_value(&incident).unwrap(),
    );
    let responder = tokio::spawn(async move {
        let mut calls = 0u64;
        while let Some((request, respond)) = handle.next_request().await {
            calls += 1;
            let method = request.method().clone();
            let path = request.uri().path().to_owned();
            let body = request.into_body().collect_bytes().await.unwrap();
            let answer = if path.contains("/secrets/") && method == http::Method::GET {
                use base64::Engine;
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "graph"}, "data": {"client-secret": base64::engine::general_purpose::STANDARD.encode(&secret_value)}})
            } else if method == http::Method::POST {
                serde_json::from_slice(&body).unwrap()
            } else {
                by_path
                    .get(path.trim_end_matches("/status"))
                    .cloned()
                    .unwrap_or(json!({}))
            };
            respond.send_response(
                Response::builder()
                    .status(200)
                    .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                    .unwrap(),
            );
        }
        calls
    });

    let stores = Stores {
        cluster_connections: common::store(connections),
        connections: common::store(Vec::<TenantConnection>::new()),
        policies: common::store(policies.clone()),
        locations: common::store(Vec::new()),
        strengths: common::store(Vec::new()),
        idle_timeouts: common::store(Vec::new()),
        revocations: common::store(revocations.clone()),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut settings = Settings::new(Duration::from_secs(3600));
    settings.configure = Arc::new(|config| config.ca_requests_per_second = 1000.0);
    settings.revocation = RunOptions {
        stop: Some(stop_rx),
        ..RunOptions::default()
    };
    let ctx = Arc::new(Context::new(
        client,
        stores,
        Arc::new(Metrics::new()),
        settings,
        None,
    ));
    let loaded = rss_kib("VmRSS:");

    let started = Instant::now();
    let mut ready = 0;
    let mut synced: Vec<SessionPolicy> = Vec::new();
    for policy in &policies {
        let result = tenant_object::reconcile::<SessionPolicy>(
            Arc::new(DeserializeGuard(Ok(policy.clone()))),
            ctx.clone(),
        )
        .await;
        assert!(result.is_ok(), "{result:?}");
        ready += 1;
        let mut p = policy.clone();
        p.metadata.finalizers = Some(vec![SessionPolicy::FINALIZER.into()]);
        synced.push(p);
    }
    for request in &revocations {
        revocation::reconcile(Arc::new(DeserializeGuard(Ok(request.clone()))), ctx.clone())
            .await
            .unwrap();
    }
    let first_pass = started.elapsed();
    let after_first = rss_kib("VmRSS:");
    let started = Instant::now();
    for policy in &synced {
        tenant_object::reconcile::<SessionPolicy>(
            Arc::new(DeserializeGuard(Ok(policy.clone()))),
            ctx.clone(),
        )
        .await
        .unwrap();
    }
    let resync = started.elapsed();
    let after_resync = rss_kib("VmRSS:");

    // A 100,000-user revocation in flight beside the 1,000 objects.
    let inflight: u64 = std::env::var("BENCH_INFLIGHT_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let started = Instant::now();
    let run = tokio::spawn(revocation::reconcile(
        Arc::new(DeserializeGuard(Ok(incident))),
        ctx.clone(),
    ));
    let mut inflight_peak = 0;
    let mut inflight_last = 0;
    while started.elapsed() < Duration::from_secs(inflight) && !run.is_finished() {
        inflight_last = rss_kib("VmRSS:");
        inflight_peak = inflight_peak.max(inflight_last);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let _ = stop_tx.send(true);
    run.await.unwrap().unwrap();
    let inflight_seconds = started.elapsed().as_secs_f64();
    let revoked = {
        let stats: Value = reqwest::get(format!("{}/_sim/stats", sims[0].base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["routes"]["POST /users/{id}/revokeSignInSessions"]["200"]
            .as_u64()
            .unwrap_or(0)
    };
    let peak = rss_kib("VmHWM:");
    drop(ctx);
    let calls = responder.await.unwrap();
    let in_tenants: usize = {
        let mut n = 0;
        for sim in &sims {
            let body: Value = reqwest::get(format!("{}/_sim/policies", sim.base_url))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            n += body["value"].as_array().map_or(0, Vec::len);
        }
        n
    };
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "operator memory with {objects} objects ({} SessionPolicies, {} RevocationRequests, {} connections) and a {INCIDENT_MEMBERS}-user revocation in flight; {TENANTS} simulated tenants in child processes (not counted)",
        policies.len(),
        revocations.len(),
        TENANTS
    );
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| RSS at start (baseline) | {:.1} MiB |", mib(baseline));
    println!(
        "| RSS with 1,000 objects in the watch caches | {:.1} MiB |",
        mib(loaded)
    );
    println!(
        "| RSS after the first reconcile of every object ({:.1} s) | {:.1} MiB |",
        first_pass.as_secs_f64(),
        mib(after_first)
    );
    println!(
        "| RSS after a full resync ({:.1} s, nothing written) | {:.1} MiB |",
        resync.as_secs_f64(),
        mib(after_resync)
    );
    println!(
        "| peak RSS with the {INCIDENT_MEMBERS}-user revocation in flight ({inflight_seconds:.1} s, {revoked} revoked when stopped) | {:.1} MiB |",
        mib(inflight_peak)
    );
    println!(
        "| RSS at the end of the in-flight window (running, targets resolved) | {:.1} MiB |",
        mib(inflight_last)
    );
    println!(
        "| peak RSS of the whole run (VmHWM) | {:.1} MiB |",
        mib(peak)
    );
    println!("| target | 50.0 MiB |");
    println!("| policies Ready / in the tenants | {ready} / {in_tenants} |");
    println!("| Kubernetes API calls answered | {calls} |");
    assert!(mib(peak) <= 50.0, "peak RSS above the 50 MiB target");
}
