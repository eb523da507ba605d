//! Benchmark: the operator's resident memory with 1,000 objects in its watch caches.
//!
//! Five tenants (five simulators in this process; a tenant holds at most 195 Conditional
//! Access policies), five ClusterTenantConnections, 950 SessionPolicies and 45 completed
//! RevocationRequests: 1,000 objects. Every policy is reconciled once (created in its tenant)
//! and then resynced once (no change), through the real controllers with kube's mock API
//! server (tower-test) answering the Kubernetes calls. Target (DESIGN.md section 6): RSS ≤ 50 MiB.
//! The figure includes the five simulators, which hold the 950 policies a second time.
//!
//! `cargo bench --bench operator_memory`

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Request, Response};
use kube::client::Body;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;
use serde_json::{Value, json};
use sessionops::api::{SessionPolicy, TenantConnection};
use sessionops::controller::metrics::Metrics;
use sessionops::controller::{Context, Settings, Stores, revocation, session_policy};
use sessionops::manifest::{self, Object};
use sessionops::sim::{SimConfig, Simulator};

const TENANTS: usize = 5;
const POLICIES_PER_TENANT: usize = 190;
const REVOCATIONS: usize = 45;

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn store<K>(objects: Vec<K>) -> kube::runtime::reflector::Store<DeserializeGuard<K>>
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    let mut writer = Writer::<DeserializeGuard<K>>::default();
    writer.apply_watcher_event(&watcher::Event::Init);
    for object in objects {
        writer.apply_watcher_event(&watcher::Event::InitApply(DeserializeGuard(Ok(object))));
    }
    writer.apply_watcher_event(&watcher::Event::InitDone);
    writer.as_reader()
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
    sessionops::tls::install_crypto_provider();
    let mut sims = Vec::new();
    for t in 0..TENANTS {
        let sim = Simulator::start(
            SimConfig {
                throttle: false,
                tenant_id: format!("6b8e2f4a-1c3d-4e5f-9a7b-0c1d2e3f4a5{t}"),
                ..SimConfig::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        sims.push(sim);
    }
    let baseline = rss_kib("VmRSS:");

    let mut yaml = String::new();
    for (t, sim) in sims.iter().enumerate() {
        yaml.push_str(&format!(
            "apiVersion: sessionops.io/v1alpha1\nkind: ClusterTenantConnection\nmetadata: {{name: tenant{t}}}\nspec:\n  tenantId: {}\n  clientId: {}\n  endpoints: {{graph: \"{2}\", login: \"{2}\"}}\n  credentials: {{clientSecret: {{secretRef: {{name: graph, namespace: sessionops-system}}}}}}\n  allowedNamespaces: [\"*\"]\n---\n",
            sim.tenant_id(), sim.client_id(), sim.base_url()
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
    let secrets: HashMap<String, String> = sims
        .iter()
        .map(|s| (s.client_id().to_owned(), s.client_secret().to_owned()))
        .collect();
    let secret_value = secrets.values().next().unwrap().clone();
    // The simulators share one app registration secret by default; the Secret serves them all.
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
        cluster_connections: store(connections),
        connections: store(Vec::<TenantConnection>::new()),
        policies: store(policies.clone()),
        revocations: store(revocations.clone()),
    };
    let mut settings = Settings::new(Duration::from_secs(3600));
    settings.configure = Arc::new(|config| config.ca_requests_per_second = 1000.0);
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
        let result =
            session_policy::reconcile(Arc::new(DeserializeGuard(Ok(policy.clone()))), ctx.clone())
                .await;
        assert!(result.is_ok(), "{result:?}");
        ready += 1;
        let mut p = policy.clone();
        p.metadata.finalizers = Some(vec![session_policy::FINALIZER.into()]);
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
        session_policy::reconcile(Arc::new(DeserializeGuard(Ok(policy.clone()))), ctx.clone())
            .await
            .unwrap();
    }
    let resync = started.elapsed();
    let after_resync = rss_kib("VmRSS:");
    let peak = rss_kib("VmHWM:");
    drop(ctx);
    let calls = responder.await.unwrap();
    let in_tenants: usize = {
        let mut n = 0;
        for sim in &sims {
            let body: Value = reqwest::get(format!("{}/_sim/policies", sim.base_url()))
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
        "operator memory with {objects} objects ({} SessionPolicies, {} RevocationRequests, {} connections; {TENANTS} simulated tenants in-process)",
        policies.len(),
        revocations.len(),
        TENANTS
    );
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| RSS with the 5 simulators started (baseline) | {:.1} MiB |",
        mib(baseline)
    );
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
    println!("| peak RSS (VmHWM) | {:.1} MiB |", mib(peak));
    println!("| target | 50.0 MiB |");
    println!("| policies Ready / in the tenants | {ready} / {in_tenants} |");
    println!("| Kubernetes API calls answered | {calls} |");
    assert!(mib(peak) <= 50.0, "peak RSS above the 50 MiB target");
}
