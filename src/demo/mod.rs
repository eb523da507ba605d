//! `sessionops demo`: the whole policy-as-code loop on one laptop, against the simulator
//! started in-process with realistic Graph limits: plan, apply, the resulting status, a second
//! plan that changes nothing, then a portal edit and a portal delete that the next plan reports
//! and the next apply corrects.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant;

use serde_json::{Value, json};

use crate::cli::objects::{self, Reports};
use crate::cli::render;
use crate::cli::revocations;
use graph_sim::{Seed, SimConfig, Simulator};
use sessionops_api::manifest::{self, ManifestSet, Object};
use sessionops_api::{Endpoints, Kind};

/// The examples the demo applies, embedded so that `cargo run -- demo` works from anywhere.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "examples/tenant-connection.yaml",
        include_str!("../../examples/tenant-connection.yaml"),
    ),
    (
        "examples/policy-sign-in-every-12h.yaml",
        include_str!("../../examples/policy-sign-in-every-12h.yaml"),
    ),
    (
        "examples/policy-unmanaged-devices-no-persistent-browser.yaml",
        include_str!("../../examples/policy-unmanaged-devices-no-persistent-browser.yaml"),
    ),
    (
        "examples/policy-admins-phishing-resistant.yaml",
        include_str!("../../examples/policy-admins-phishing-resistant.yaml"),
    ),
    (
        "examples/policy-risky-sign-in-reauth.yaml",
        include_str!("../../examples/policy-risky-sign-in-reauth.yaml"),
    ),
    (
        "examples/named-location-blocked-countries.yaml",
        include_str!("../../examples/named-location-blocked-countries.yaml"),
    ),
    (
        "examples/policy-block-blocked-countries.yaml",
        include_str!("../../examples/policy-block-blocked-countries.yaml"),
    ),
];

const SEED: &str = include_str!("seed.yaml");

/// The offboarding example, applied at the end.
const OFFBOARDING: (&str, &str) = (
    "examples/revocation-offboard-jdoe.yaml",
    include_str!("../../examples/revocation-offboard-jdoe.yaml"),
);

/// Runs the demo; prints as it goes.
pub fn run() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(demo()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("demo failed: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn demo() -> Result<(), String> {
    let started = Instant::now();
    sessionops_graph::tls::install_crypto_provider();
    let seed = Seed::from_yaml(SEED).map_err(|e| format!("demo seed: {e}"))?;
    let sim = Simulator::start(
        SimConfig {
            seed: Some(seed),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().expect("address"),
    )
    .await
    .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let base = sim.base_url();
    println!(
        "Graph simulator on {base} (Graph's limits on: Conditional Access at 1 request/s per tenant)\n"
    );

    let set = examples(&base)?;
    // Outside a cluster, credentials come from the Azure SDK variables.
    let env: HashMap<String, String> = [
        ("AZURE_TENANT_ID", sim.tenant_id()),
        ("AZURE_CLIENT_ID", sim.client_id()),
        ("AZURE_CLIENT_SECRET", sim.client_secret()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let control = Control {
        http: reqwest::Client::new(),
        base: base.clone(),
    };

    step(
        1,
        "sessionops plan -f examples/   (a new tenant: everything to create)",
    );
    let reports = objects::run_all(&set, &env, false, &|_| {}).await;
    print_plan(&reports);

    step(2, "sessionops apply -f examples/");
    control.reset().await?;
    let reports = objects::run_all(&set, &env, true, &|_| {}).await;
    print_apply(&reports);
    println!("Graph writes sent: {}", control.writes().await?);
    if !all_ready(&reports) {
        return Err("apply left objects not Ready".into());
    }

    step(
        3,
        "sessionops plan -f examples/   (again: the tenant matches Git)",
    );
    control.reset().await?;
    let reports = objects::run_all(&set, &env, false, &|_| {}).await;
    print_plan(&reports);
    println!(
        "Graph writes sent: {}, Conditional Access requests: {}",
        control.writes().await?,
        control.ca_requests().await?
    );

    let twelve_hours = policy_id(&reports, "identity/sign-in-every-12h")?;
    step(
        4,
        "an admin edits a policy in the portal: sign-in frequency 12h -> 7 days, and adds an exclusion",
    );
    control
        .portal_edit(&twelve_hours, json!({
            "sessionControls": {"signInFrequency": {"isEnabled": true, "value": 7, "type": "days", "frequencyInterval": "timeBased", "authenticationType": "primaryAndSecondaryAuthentication"}},
            "conditions": {"users": {"excludeUsers": []}},
        }))
        .await?;
    let reports = objects::run_all(&set, &env, false, &|_| {}).await;
    print_plan(&reports);

    step(5, "sessionops apply -f examples/   (drift corrected)");
    let reports = objects::run_all(&set, &env, true, &|_| {}).await;
    print_apply(&reports);

    let admins = policy_id(&reports, "identity/admins-phishing-resistant")?;
    step(
        6,
        "an admin deletes a policy in the portal; plan and apply restore it from deleted items",
    );
    control.portal_delete(&admins).await?;
    let reports = objects::run_all(&set, &env, false, &|_| {}).await;
    print_plan(&reports);
    let reports = objects::run_all(&set, &env, true, &|_| {}).await;
    print_apply(&reports);
    if !all_ready(&reports) {
        return Err("the final apply left objects not Ready".into());
    }
    let applied = reports.clone();
    let restored = policy_id(&reports, "identity/admins-phishing-resistant")?;
    println!("restored under its old id: {}", restored == admins);

    step(
        7,
        "sessionops apply -f examples/revocation-offboard-jdoe.yaml   (offboarding: revoke jdoe's refresh tokens and session cookies, block the account, verify)",
    );
    let mut offboarding = examples(&base)?;
    offboarding
        .objects
        .retain(|o| matches!(o.object, Object::ClusterTenantConnection(_)));
    let loaded = manifest::load_str(std::path::Path::new(OFFBOARDING.0), OFFBOARDING.1)
        .map_err(|e| e.to_string())?;
    offboarding.objects.extend(loaded.objects);
    let state = std::env::temp_dir()
        .join(format!("sessionops-demo-{}", std::process::id()))
        .join("state.json");
    let options = sessionops_core::revocation::RunOptions::default();
    let reports = revocations::run(&offboarding, &env, &state, true, &options, &|_| {}).await?;
    print!("{}", revocations::text(&reports));
    let jdoe = control.user("jdoe@contoso.onmicrosoft.com").await?;
    println!(
        "jdoe in the tenant: accountEnabled={}, signInSessionsValidFromDateTime={}",
        jdoe["accountEnabled"], jdoe["signInSessionsValidFromDateTime"]
    );

    step(
        8,
        "the same apply again (a GitOps re-sync): it ran once, it does not run again",
    );
    let reports = revocations::run(&offboarding, &env, &state, true, &options, &|_| {}).await?;
    print!("{}", revocations::text(&reports));
    let _ = std::fs::remove_dir_all(state.parent().expect("a state directory"));

    step(
        9,
        "the operator's view: kubectl get namedlocations,sessionpolicies,revocationrequests -A   (the same objects, their final status)",
    );
    // The objects as the API server would hold them: manifest plus the status reconciled.
    let statuses: HashMap<String, Value> = applied
        .policies
        .iter()
        .filter_map(|r| {
            Some((
                r.key.clone(),
                serde_json::to_value(r.status.as_ref()?).ok()?,
            ))
        })
        .chain(applied.locations.iter().filter_map(|r| {
            Some((
                r.key.clone(),
                serde_json::to_value(r.status.as_ref()?).ok()?,
            ))
        }))
        .chain(reports.iter().filter_map(|r| {
            Some((
                r.key.clone(),
                serde_json::to_value(r.status.as_ref()?).ok()?,
            ))
        }))
        .collect();
    let with_status = |kind: Kind, set: &ManifestSet| -> Vec<Value> {
        set.objects
            .iter()
            .filter(|o| o.object.kind() == kind)
            .map(|o| {
                let mut object = o.object.to_json();
                if let Some(status) = statuses.get(&o.object.key()) {
                    object["status"] = status.clone();
                }
                object
            })
            .collect()
    };
    print!(
        "{}",
        crate::cli::kubectl_view::table(
            Kind::NamedLocation,
            &with_status(Kind::NamedLocation, &set)
        )
    );
    println!();
    print!(
        "{}",
        crate::cli::kubectl_view::table(
            Kind::SessionPolicy,
            &with_status(Kind::SessionPolicy, &set)
        )
    );
    println!();
    print!(
        "{}",
        crate::cli::kubectl_view::table(
            Kind::RevocationRequest,
            &with_status(Kind::RevocationRequest, &offboarding)
        )
    );

    sim.shutdown().await;
    println!("\ndone in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn step(number: u32, title: &str) {
    println!("\n=== {number}. {title}\n");
}

fn print_plan(reports: &Reports) {
    print!("{}", render::plan_text_all(reports));
    println!("\nPlan: {}.", render::Summary::of_all(reports).line());
}

fn print_apply(reports: &Reports) {
    print!("{}", render::plan_text_all(reports));
    println!();
    print!("{}", render::status_text_all(reports));
}

fn all_ready(reports: &Reports) -> bool {
    reports.all_ready()
}

fn policy_id(reports: &Reports, key: &str) -> Result<String, String> {
    reports
        .policies
        .iter()
        .find(|r| r.key == key)
        .and_then(|r| match &r.plan {
            Ok(
                sessionops_core::session_policy::plan::PolicyPlan::NoOp { id, .. }
                | sessionops_core::session_policy::plan::PolicyPlan::Update { id, .. },
            ) => Some(id.clone()),
            _ => r.status.as_ref().and_then(|s| s.policy_id.clone()),
        })
        .ok_or_else(|| format!("no policy id for {key}"))
}

/// The embedded examples, with the tenant connection pointed at the simulator.
fn examples(base: &str) -> Result<ManifestSet, String> {
    let mut set = ManifestSet::default();
    for (file, text) in EXAMPLES {
        let loaded =
            manifest::load_str(std::path::Path::new(file), text).map_err(|e| e.to_string())?;
        set.objects.extend(loaded.objects);
    }
    for loaded in &mut set.objects {
        if let Object::ClusterTenantConnection(connection) = &mut loaded.object {
            connection.spec.endpoints = Some(Endpoints {
                graph: Some(base.to_owned()),
                login: Some(base.to_owned()),
            });
        }
    }
    Ok(set)
}

/// The simulator's `/_sim/` control surface: what an admin does in the portal, and counters.
struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = self
            .http
            .request(method, format!("{}/_sim/{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("/_sim/{path}: {}", response.status()));
        }
        Ok(response.json().await.unwrap_or(Value::Null))
    }

    async fn reset(&self) -> Result<(), String> {
        self.call(reqwest::Method::POST, "stats/reset", None)
            .await
            .map(drop)
    }

    async fn writes(&self) -> Result<u64, String> {
        Ok(
            self.call(reqwest::Method::GET, "stats", None).await?["totals"]["writes"]
                .as_u64()
                .unwrap_or(0),
        )
    }

    async fn ca_requests(&self) -> Result<usize, String> {
        Ok(
            self.call(reqwest::Method::GET, "stats", None).await?["caRequestTimes"]
                .as_array()
                .map_or(0, Vec::len),
        )
    }

    async fn portal_edit(&self, id: &str, patch: Value) -> Result<(), String> {
        self.call(
            reqwest::Method::PATCH,
            &format!("portal/policies/{id}"),
            Some(patch),
        )
        .await
        .map(drop)
    }

    async fn user(&self, upn: &str) -> Result<Value, String> {
        self.call(reqwest::Method::GET, &format!("users/{upn}"), None)
            .await
    }

    async fn portal_delete(&self, id: &str) -> Result<(), String> {
        self.call(
            reqwest::Method::DELETE,
            &format!("portal/policies/{id}"),
            None,
        )
        .await
        .map(drop)
    }
}
