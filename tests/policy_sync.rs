//! SessionPolicy plan/apply/export against the simulator: one policy per manifest with the
//! Graph JSON the spec implies, no-op resyncs that write nothing, portal edits and deletes
//! found and corrected, no duplicates after a crash, one CA LIST for 100 policies at 1 request/s,
//! nothing written for bad input, and an export that plans to no change.

use sessionops_testkit as common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use graph_sim::{SimConfig, Simulator};
use serde_json::{Value, json};
use sessionops::cli::objects;
use sessionops::cli::policies::{self, PolicyReport};
use sessionops_api::Endpoints;
use sessionops_api::manifest::{self, ManifestSet, Object};
use sessionops_core::session_policy::plan::PolicyPlan;
use sessionops_core::status::Reason;
use sessionops_graph::GraphConfig;

/// A tenant with the demo's people, Graph's limits on, CA faster than Graph's 1/s so the
/// suite stays quick (the 1/s test below uses the real figure).
async fn tenant(ca_rps: f64) -> Simulator {
    sessionops_testkit::fixtures::demo_tenant(ca_rps).await
}

fn env(sim: &Simulator) -> HashMap<String, String> {
    common::azure_env(sim)
}

/// How many SessionPolicies `set` holds.
fn policy_count(set: &ManifestSet) -> usize {
    set.objects
        .iter()
        .filter(|o| matches!(o.object, Object::SessionPolicy(_)))
        .count()
}

/// The connection, the SessionPolicies and the NamedLocations (one policy names one) of
/// examples/, pointed at `sim`.
fn examples(sim: &Simulator) -> ManifestSet {
    let mut set = manifest::load(
        &[Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")],
        false,
    )
    .unwrap();
    set.objects.retain(|o| {
        matches!(
            o.object,
            Object::ClusterTenantConnection(_)
                | Object::SessionPolicy(_)
                | Object::NamedLocation(_)
                | Object::AuthenticationStrength(_)
        )
    });
    point_at(&mut set, sim);
    set
}

fn point_at(set: &mut ManifestSet, sim: &Simulator) {
    for loaded in &mut set.objects {
        if let Object::ClusterTenantConnection(c) = &mut loaded.object {
            c.spec.endpoints = Some(Endpoints {
                graph: Some(sim.base_url()),
                login: Some(sim.base_url()),
            });
        }
    }
}

fn fast(ca_rps: f64) -> impl Fn(&mut GraphConfig) {
    move |config: &mut GraphConfig| {
        config.ca_requests_per_second = ca_rps;
        config.retry.base_delay = Duration::from_millis(20);
    }
}

/// The SessionPolicies' plans (named locations are planned, and applied, first).
async fn plan(sim: &Simulator, set: &ManifestSet) -> Vec<PolicyReport> {
    objects::run_all(set, &env(sim), false, &fast(20.0))
        .await
        .policies
}

async fn apply(sim: &Simulator, set: &ManifestSet) -> Vec<PolicyReport> {
    let all = objects::run_all(set, &env(sim), true, &fast(20.0)).await;
    for location in &all.locations {
        assert!(
            location.is_ready(),
            "{}: {:?}",
            location.key,
            location.status
        );
    }
    let reports = all.policies;
    for report in &reports {
        let ready = report
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
            .unwrap();
        assert_eq!(
            ready.status, "True",
            "{}: {} {}",
            report.key, ready.reason, ready.message
        );
    }
    reports
}

async fn sim_user_id(sim: &Simulator, upn: &str) -> String {
    let user: Value = reqwest::get(format!("{}/_sim/users/{upn}", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    user["id"].as_str().unwrap().to_owned()
}

fn actions(reports: &[PolicyReport]) -> Vec<(String, &'static str)> {
    reports
        .iter()
        .map(|r| {
            let action = match &r.plan {
                Ok(PolicyPlan::Create { .. }) => "create",
                Ok(PolicyPlan::Update { .. }) => "update",
                Ok(PolicyPlan::Restore { .. }) => "restore",
                Ok(PolicyPlan::NoOp { .. }) => "none",
                Err(e) => e.reason().as_str(),
            };
            (r.key.clone(), action)
        })
        .collect()
}

#[tokio::test]
async fn apply_creates_one_policy_per_manifest_with_the_implied_graph_json() {
    let sim = tenant(20.0).await;
    let set = examples(&sim);
    apply(&sim, &set).await;
    let policies = common::active_policies(&sim).await;
    assert_eq!(
        policies.len(),
        policy_count(&set),
        "exactly one policy per SessionPolicy"
    );
    let twelve = policies
        .iter()
        .find(|p| p["displayName"] == "Session: sign-in frequency 12h")
        .unwrap();
    let breakglass = [
        sim_user_id(&sim, "breakglass1@contoso.onmicrosoft.com").await,
        sim_user_id(&sim, "breakglass2@contoso.onmicrosoft.com").await,
    ];
    let mut excluded: Vec<String> = twelve["conditions"]["users"]["excludeUsers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    excluded.sort();
    let mut expected = breakglass.to_vec();
    expected.sort();
    assert_eq!(excluded, expected, "protected users excluded");
    assert_eq!(
        twelve["conditions"]["users"]["excludeGroups"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "kiosks and the protected group"
    );
    assert_eq!(twelve["state"], "enabled");
    assert_eq!(
        twelve["conditions"]["applications"]["includeApplications"],
        json!(["All"])
    );
    assert_eq!(
        twelve["sessionControls"]["signInFrequency"],
        json!({"isEnabled": true, "value": 12, "type": "hours", "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased"})
    );
    let risky = policies
        .iter()
        .find(|p| p["displayName"] == "Risk: reauthenticate every time on risky sign-ins")
        .unwrap();
    assert_eq!(risky["state"], "enabledForReportingButNotEnforced");
    assert_eq!(
        risky["sessionControls"]["signInFrequency"]["frequencyInterval"],
        "everyTime"
    );
    assert_eq!(risky["grantControls"]["builtInControls"], json!(["mfa"]));
    let admins = policies
        .iter()
        .find(|p| p["displayName"] == "Admins: phishing-resistant MFA, 4h sessions")
        .unwrap();
    assert_eq!(
        admins["grantControls"]["authenticationStrength"]["id"],
        "00000000-0000-0000-0000-000000000004"
    );
    assert_eq!(
        admins["conditions"]["users"]["includeRoles"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let unmanaged = policies
        .iter()
        .find(|p| p["displayName"] == "Session: no persistent browser on unmanaged devices")
        .unwrap();
    assert_eq!(
        unmanaged["conditions"]["devices"]["deviceFilter"]["mode"],
        "exclude"
    );
    assert_eq!(
        unmanaged["sessionControls"]["persistentBrowser"],
        json!({"isEnabled": true, "mode": "never"})
    );
}

#[tokio::test]
async fn a_second_plan_and_apply_send_no_write() {
    let sim = tenant(20.0).await;
    let set = examples(&sim);
    apply(&sim, &set).await;
    common::reset_stats(&sim).await;
    let reports = plan(&sim, &set).await;
    assert!(
        actions(&reports).iter().all(|(_, a)| *a == "none"),
        "{:?}",
        actions(&reports)
    );
    apply(&sim, &set).await;
    let stats = common::stats(&sim).await;
    assert_eq!(stats["totals"]["writes"], 0, "{stats}");
    assert_eq!(
        common::total(&stats, "GET /identity/conditionalAccess/policies"),
        2,
        "one LIST per run"
    );
}

#[tokio::test]
async fn portal_edits_are_reported_and_corrected() {
    let sim = tenant(20.0).await;
    let set = examples(&sim);
    let created = apply(&sim, &set).await;
    let id = created
        .iter()
        .find(|r| r.key == "identity/sign-in-every-12h")
        .unwrap()
        .status
        .as_ref()
        .unwrap()
        .policy_id
        .clone()
        .unwrap();
    let edits = [
        json!({"state": "disabled"}),
        json!({"conditions": {"users": {"excludeUsers": [], "excludeGroups": []}}}),
        json!({"conditions": {"clientAppTypes": ["browser"], "platforms": {"includePlatforms": ["android"], "excludePlatforms": []}}}),
        json!({"grantControls": {"operator": "OR", "builtInControls": ["compliantDevice"]}}),
        json!({"sessionControls": {"signInFrequency": {"isEnabled": true, "value": 30, "type": "days", "frequencyInterval": "timeBased"}, "persistentBrowser": {"isEnabled": true, "mode": "always"}}}),
    ];
    let client = reqwest::Client::new();
    for edit in edits {
        let response = client
            .patch(format!("{}/_sim/portal/policies/{id}", sim.base_url()))
            .json(&edit)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{edit}: {}",
            response.status()
        );
        let reports = plan(&sim, &set).await;
        let changed: Vec<_> = actions(&reports)
            .into_iter()
            .filter(|(_, a)| *a != "none")
            .collect();
        assert_eq!(
            changed,
            [("identity/sign-in-every-12h".to_owned(), "update")],
            "{edit}"
        );
        apply(&sim, &set).await;
        let reports = plan(&sim, &set).await;
        assert!(
            actions(&reports).iter().all(|(_, a)| *a == "none"),
            "{edit} not corrected: {:?}",
            actions(&reports)
        );
    }
    assert_eq!(
        common::active_policies(&sim).await.len(),
        policy_count(&set)
    );
}

#[tokio::test]
async fn a_portal_delete_is_restored_from_deleted_items() {
    let sim = tenant(20.0).await;
    let set = examples(&sim);
    let created = apply(&sim, &set).await;
    let id = created
        .iter()
        .find(|r| r.key == "identity/admins-phishing-resistant")
        .unwrap()
        .status
        .as_ref()
        .unwrap()
        .policy_id
        .clone()
        .unwrap();
    reqwest::Client::new()
        .delete(format!("{}/_sim/portal/policies/{id}", sim.base_url()))
        .send()
        .await
        .unwrap();
    let reports = plan(&sim, &set).await;
    assert!(actions(&reports).contains(&("identity/admins-phishing-resistant".into(), "restore")));
    let reports = apply(&sim, &set).await;
    let restored = reports
        .iter()
        .find(|r| r.key == "identity/admins-phishing-resistant")
        .unwrap();
    assert_eq!(
        restored.status.as_ref().unwrap().policy_id.as_deref(),
        Some(id.as_str()),
        "the same policy, not a new one"
    );
    assert_eq!(
        common::active_policies(&sim).await.len(),
        policy_count(&set)
    );
}

#[tokio::test]
async fn a_crash_between_create_and_record_creates_no_duplicate() {
    let sim = tenant(20.0).await;
    let set = examples(&sim);
    // sessionops created every policy and died before recording anything: the next apply
    // finds them by displayName.
    // (The policy that names a location of the set waits for it; the apply creates both.)
    let planned = plan(&sim, &set).await;
    let client = reqwest::Client::new();
    let mut waiting = 0;
    for report in &planned {
        let body = match &report.plan {
            Ok(PolicyPlan::Create { body, .. }) => body,
            Err(failure) if failure.reason() == Reason::WaitingForDependency => {
                waiting += 1;
                continue;
            }
            other => panic!("expected creates: {other:?}"),
        };
        let response = client
            .post(format!("{}/_sim/portal/policies", sim.base_url()))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    assert_eq!(waiting, 2);
    apply(&sim, &set).await;
    apply(&sim, &set).await;
    assert_eq!(
        common::active_policies(&sim).await.len(),
        policy_count(&set),
        "no second policy"
    );
}

#[tokio::test]
async fn a_hundred_policies_in_sync_cost_one_ca_list_at_one_request_per_second() {
    let sim = tenant(1.0).await;
    let mut set = examples(&sim);
    set.objects
        .retain(|o| matches!(o.object, Object::ClusterTenantConnection(_)));
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!(
            "---\napiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nmetadata: {{name: bulk-{i}, namespace: identity}}\nspec:\n  tenantRef: {{kind: ClusterTenantConnection, name: contoso}}\n  state: reportOnly\n  assignments: {{users: {{include: [All]}}, applications: {{include: [All]}}}}\n  session: {{signInFrequency: {}h}}\n",
            i % 23 + 1
        ));
    }
    set.objects.extend(
        manifest::load_str(Path::new("bulk.yaml"), &text)
            .unwrap()
            .objects,
    );
    // Put the policies in the tenant as they would be after an apply.
    let client = reqwest::Client::new();
    for report in plan(&sim, &set).await {
        let Ok(PolicyPlan::Create { body, .. }) = report.plan else {
            panic!("expected creates")
        };
        client
            .post(format!("{}/_sim/portal/policies", sim.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    common::reset_stats(&sim).await;
    let reports = policies::run(&set, &env(&sim), false, &|_| {}).await;
    assert_eq!(reports.len(), 100);
    assert!(actions(&reports).iter().all(|(_, a)| *a == "none"));
    let stats = common::stats(&sim).await;
    assert_eq!(
        common::total(&stats, "GET /identity/conditionalAccess/policies"),
        1,
        "one LIST for all"
    );
    assert_eq!(stats["totals"]["throttled"], 0);
    assert_eq!(stats["totals"]["writes"], 0);
}

#[tokio::test]
async fn names_that_do_not_resolve_and_conflicts_write_nothing() {
    let sim = tenant(20.0).await;
    let mut set = examples(&sim);
    let text = "
apiVersion: sessionops.io/v1alpha1
kind: SessionPolicy
metadata: {name: ghost, namespace: identity}
spec:
  tenantRef: {kind: ClusterTenantConnection, name: contoso}
  state: enabled
  assignments: {groups: {include: [sg-does-not-exist]}, applications: {include: [All]}}
  session: {signInFrequency: 1h}
---
apiVersion: sessionops.io/v1alpha1
kind: SessionPolicy
metadata: {name: twin, namespace: identity}
spec:
  tenantRef: {kind: ClusterTenantConnection, name: contoso}
  displayName: \"Session: sign-in frequency 12h\"
  state: enabled
  assignments: {users: {include: [All]}, applications: {include: [All]}}
  session: {signInFrequency: 2h}
---
apiVersion: sessionops.io/v1alpha1
kind: SessionPolicy
metadata: {name: outsider, namespace: marketing}
spec:
  tenantRef: {kind: ClusterTenantConnection, name: contoso}
  state: enabled
  assignments: {users: {include: [All]}, applications: {include: [All]}}
  session: {signInFrequency: 2h}
";
    set.objects.extend(
        manifest::load_str(Path::new("bad.yaml"), text)
            .unwrap()
            .objects,
    );
    let reports = objects::run_all(&set, &env(&sim), true, &fast(20.0))
        .await
        .policies;
    let by_key: HashMap<String, &'static str> = actions(&reports).into_iter().collect();
    assert_eq!(by_key["identity/ghost"], "NameNotFound");
    assert_eq!(by_key["identity/twin"], "Conflict");
    assert_eq!(
        by_key["identity/sign-in-every-12h"], "Conflict",
        "both claimants are refused"
    );
    assert_eq!(by_key["marketing/outsider"], "NamespaceNotAllowed");
    let names: Vec<String> = common::active_policies(&sim)
        .await
        .iter()
        .map(|p| p["displayName"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !names.contains(&"sessionops identity/ghost".to_owned())
            && !names.contains(&"sessionops marketing/outsider".to_owned())
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "Session: sign-in frequency 12h")
            .count(),
        0,
        "a conflict is never fought over"
    );
    let ghost = reports.iter().find(|r| r.key == "identity/ghost").unwrap();
    assert!(
        ghost
            .plan
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("group:sg-does-not-exist")
    );
}

#[tokio::test]
async fn the_cli_exits_2_with_changes_then_0_when_in_sync() {
    let sim = tenant(20.0).await;
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut copied = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if ["policy-", "named-location-", "authentication-strength-"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        {
            std::fs::copy(&path, dir.path().join(name)).unwrap();
            copied += 1;
        }
    }
    // One policy names a location of the same set: the plan shows it waiting, the apply
    // creates the location first and then the policy.
    let connection = std::fs::read_to_string(examples.join("tenant-connection.yaml"))
        .unwrap()
        .replace(
            "  cloud: Global\n",
            &format!(
                "  cloud: Global\n  endpoints: {{graph: \"{0}\", login: \"{0}\"}}\n",
                sim.base_url()
            ),
        );
    std::fs::write(dir.path().join("tenant-connection.yaml"), connection).unwrap();
    let dir_path = dir.path().to_str().unwrap().to_owned();
    let vars = env(&sim);
    // The simulator runs on this test's runtime: run the CLI off it.
    let cli = |args: Vec<String>| {
        let vars = vars.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_sessionops"))
                .args(args)
                .envs(vars)
                .output()
                .unwrap()
        })
    };
    let run = |command: &str| cli(vec![command.into(), "-f".into(), dir_path.clone()]);
    let plan_before = run("plan").await.unwrap();
    let stdout = String::from_utf8_lossy(&plan_before.stdout);
    assert_eq!(
        plan_before.status.code(),
        Some(2),
        "{stdout}{}",
        String::from_utf8_lossy(&plan_before.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "Plan: {} to create, 0 to update, 0 to delete, 0 unchanged, 2 to apply after what they name is created.",
            copied - 2
        )),
        "{stdout}"
    );
    let applied = run("apply").await.unwrap();
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&applied.stdout)
            .matches("Ready=True")
            .count(),
        copied
    );
    let plan_after = run("plan").await.unwrap();
    assert_eq!(
        plan_after.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan_after.stdout)
    );

    // Onboarding: export the tenant as a tree, then plan the tree alone: no changes.
    let tree = tempfile::tempdir().unwrap();
    let tenant_file = dir.path().join("tenant-connection.yaml");
    let tree_path = tree.path().to_str().unwrap().to_owned();
    let exported = cli(vec![
        "export".into(),
        "--tenant".into(),
        tenant_file.to_str().unwrap().into(),
        "--out".into(),
        tree_path.clone(),
    ])
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&exported.stderr);
    assert_eq!(exported.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("left out: AuthenticationStrength") && stderr.contains("built-in"),
        "{stderr}"
    );
    let files = |folder: &str| {
        std::fs::read_dir(tree.path().join(folder))
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    let sources = |prefix: &str| {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_str()
                    .unwrap()
                    .starts_with(prefix)
            })
            .count()
    };
    assert!(files("sessionpolicies") >= sources("policy-"));
    assert!(files("namedlocations") >= sources("named-location-"));
    assert_eq!(
        files("authenticationstrengths"),
        sources("authentication-strength-")
    );
    let replanned = cli(vec![
        "plan".into(),
        "-R".into(),
        "-f".into(),
        tenant_file.to_str().unwrap().into(),
        "-f".into(),
        tree_path,
    ])
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&replanned.stdout);
    assert_eq!(replanned.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("0 to create, 0 to update, 0 to delete"),
        "{stdout}"
    );
}

#[tokio::test]
async fn deleting_a_managed_policy_leaves_it_restorable_and_tolerates_a_second_delete() {
    let sim = tenant(20.0).await;
    let set = examples(&sim);
    let created = apply(&sim, &set).await;
    let id = created[0]
        .status
        .as_ref()
        .unwrap()
        .policy_id
        .clone()
        .unwrap();
    let mut config = common::config(&sim);
    config.ca_requests_per_second = 20.0;
    let client = sessionops_graph::GraphClient::new(config).unwrap();
    sessionops_core::session_policy::sync::delete(&client, &id)
        .await
        .unwrap();
    sessionops_core::session_policy::sync::delete(&client, &id)
        .await
        .expect("already gone is success");
    assert_eq!(
        common::active_policies(&sim).await.len(),
        policy_count(&set) - 1
    );
    let all: Value = reqwest::get(format!("{}/_sim/policies", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deleted = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id.as_str())
        .unwrap();
    assert!(
        deleted["deletedDateTime"].is_string(),
        "soft-deleted, restorable"
    );
}

/// National clouds have no Conditional Access deleted items (the Fairfax and Mooncake CSDLs
/// lack them; Graph answers 400 for the unknown segment): a first apply, which looks there for
/// missing policies, creates them; a portal delete is answered with a new policy.
#[tokio::test]
async fn in_a_national_cloud_missing_policies_are_created() {
    let sim = common::start(SimConfig {
        seed: Some(sessionops_testkit::fixtures::demo_seed()),
        ca_rps: 20.0,
        cloud: graph_sim::SimCloud::UsGov,
        ..SimConfig::default()
    })
    .await;
    let set = examples(&sim);
    let created = apply(&sim, &set).await;
    assert_eq!(created.len(), policy_count(&set));
    let stats = common::stats(&sim).await;
    assert!(
        common::count(&stats, "GET (unmatched)", 400) >= 1,
        "deleted items were looked for and Graph said there are none here: {stats}"
    );
    assert_eq!(
        common::active_policies(&sim).await.len(),
        policy_count(&set)
    );
    let id = created[0]
        .status
        .as_ref()
        .unwrap()
        .policy_id
        .clone()
        .unwrap();
    reqwest::Client::new()
        .delete(format!("{}/_sim/portal/policies/{id}", sim.base_url()))
        .send()
        .await
        .unwrap();
    let again = apply(&sim, &set).await;
    let recreated = again.iter().find(|r| r.key == created[0].key).unwrap();
    assert_ne!(
        recreated.status.as_ref().unwrap().policy_id.as_deref(),
        Some(id.as_str()),
        "a new policy: there is nothing to restore from"
    );
    assert_eq!(
        common::active_policies(&sim).await.len(),
        policy_count(&set)
    );
}

/// A restore that Graph refuses (the deleted item purged meanwhile, the beta-only restore
/// refused) becomes a create, and the status message says so.
#[tokio::test]
async fn a_failed_restore_falls_back_to_create() {
    let sim = tenant(20.0).await;
    let set = examples(&sim);
    let planned = plan(&sim, &set).await;
    let Ok(PolicyPlan::Create { body, version }) = &planned[0].plan else {
        panic!("{:?}", planned[0].plan);
    };
    let restore = PolicyPlan::Restore {
        id: "0b9e1f44-6a7d-4c1e-9f2a-5d3c8b7a6e10".into(),
        changes: Vec::new(),
        patch: json!({}),
        create_body: body.clone(),
        version: *version,
    };
    let client = common::client(&sim);
    let applied = sessionops_core::session_policy::sync::apply(&client, &restore)
        .await
        .unwrap();
    assert_eq!(
        applied.action,
        sessionops_core::session_policy::sync::AppliedAction::Created
    );
    let note = applied.note.clone().unwrap();
    assert!(
        note.contains("restoring deleted policy 0b9e1f44") && note.contains("new policy"),
        "{note}"
    );
    let active = common::active_policies(&sim).await;
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["id"], applied.id.as_str());
}
