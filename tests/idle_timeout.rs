//! IdleTimeoutPolicy against the simulator through the CLI's runner: created as the
//! organization default with SharePoint's idle sign-out, a resync that reads once and writes
//! nothing, portal drift put back, the portal's other spellings of the same definition not
//! drift, the portal's default adopted, two objects for one tenant refused before any write,
//! deletion, and export → plan = no changes.

use sessionops_testkit as common;

use std::path::Path;

use graph_sim::{Seed, SimConfig, Simulator};
use serde_json::{Value, json};
use sessionops::cli::{export, objects};
use sessionops_api::manifest::{self, ManifestSet};
use sessionops_api::{IdleTimeoutPolicy, Kind};
use sessionops_core::status::Reason;
use sessionops_core::tenant_object::Plan;
use sessionops_core::tenant_object::kind::SeamKind;
use sessionops_graph::{GraphClient, GraphRequest, paths};

/// The definition `activitybasedtimeoutpolicy.md` shows: default 1 h, the Azure portal 15 min.
const DOCUMENTED: &str = r#"{"ActivityBasedTimeoutPolicy":{"Version":1,"ApplicationPolicies":[{"ApplicationId":"default","WebSessionIdleTimeout":"01:00:00"},{"ApplicationId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","WebSessionIdleTimeout":"00:15:00"}]}}"#;

fn connection_yaml(sim: &Simulator) -> String {
    format!(
        "apiVersion: sessionops.io/v1alpha1\nkind: ClusterTenantConnection\nmetadata: {{name: contoso}}\nspec:\n  tenantId: {}\n  clientId: {}\n  endpoints: {{graph: \"{2}\", login: \"{2}\"}}\n  credentials: {{clientSecret: {{secretRef: {{name: graph, namespace: sessionops-system}}}}}}\n  allowedNamespaces: [identity]\n",
        sim.tenant_id(),
        sim.client_id(),
        sim.base_url()
    )
}

/// The connection and the example `idle-timeout-web-sessions.yaml`, plus `more` documents.
fn manifests(sim: &Simulator, more: &str) -> ManifestSet {
    let example =
        std::fs::read_to_string(common::fixtures::example("idle-timeout-web-sessions.yaml"))
            .unwrap();
    let text = format!("{}---\n{example}{more}", connection_yaml(sim));
    manifest::load_str(Path::new("idle.yaml"), &text).unwrap_or_else(|e| panic!("{e}"))
}

async fn run(sim: &Simulator, set: &ManifestSet, apply: bool) -> objects::Reports {
    objects::run_all(set, &common::sim::azure_env(sim), apply, &|_| {}).await
}

async fn timeout_policies(client: &GraphClient) -> Vec<Value> {
    client
        .list_all(GraphRequest::get(paths::ACTIVITY_BASED_TIMEOUT_POLICIES))
        .await
        .unwrap()
}

async fn idle_sign_out(client: &GraphClient) -> Value {
    let settings: Value = client
        .send_json(GraphRequest::get(paths::SHAREPOINT_SETTINGS))
        .await
        .unwrap();
    settings["idleSessionSignOut"].clone()
}

fn changed_fields(plan: &Result<Plan, sessionops_core::failure::Failure>) -> Vec<String> {
    match plan {
        Ok(Plan::Update { changes, .. }) => changes.iter().map(|c| c.field.clone()).collect(),
        other => panic!("an update was expected: {other:?}"),
    }
}

#[tokio::test]
async fn an_idle_timeout_is_created_kept_corrected_and_deleted() {
    let sim = common::start(common::quiet()).await;
    let client = common::unpaced_client(&sim);
    let set = manifests(&sim, "");

    let planned = run(&sim, &set, false).await;
    let [report] = planned.idle_timeouts.as_slice() else {
        panic!("{planned:?}")
    };
    let Ok(Plan::Create { body, .. }) = &report.plan else {
        panic!("{:?}", report.plan)
    };
    assert_eq!(body["isOrganizationDefault"], json!(true));
    assert_eq!(
        common::stats(&sim).await["totals"]["writes"],
        0,
        "plan writes nothing"
    );

    let applied = run(&sim, &set, true).await;
    assert!(applied.all_ready(), "{:?}", applied.idle_timeouts);
    let id = applied.idle_timeouts[0]
        .status
        .as_ref()
        .unwrap()
        .policy_id
        .clone()
        .unwrap();
    let listed = timeout_policies(&client).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["displayName"], "Web session idle timeout");
    assert_eq!(listed[0]["isOrganizationDefault"], true);
    let definition: Value =
        serde_json::from_str(listed[0]["definition"][0].as_str().unwrap()).unwrap();
    assert_eq!(
        definition["ActivityBasedTimeoutPolicy"]["ApplicationPolicies"],
        json!([
            {"ApplicationId": "default", "WebSessionIdleTimeout": "01:00:00"},
            {"ApplicationId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "WebSessionIdleTimeout": "00:15:00"}
        ])
    );
    assert_eq!(
        idle_sign_out(&client).await,
        json!({"isEnabled": true, "warnAfterInSeconds": 2700, "signOutAfterInSeconds": 3600})
    );

    // A resync: one read of each Graph object, no write.
    common::reset_stats(&sim).await;
    let again = run(&sim, &set, true).await;
    assert!(matches!(again.idle_timeouts[0].plan, Ok(Plan::NoOp { .. })));
    let stats = common::stats(&sim).await;
    assert_eq!(stats["totals"]["writes"], 0, "{stats}");
    assert_eq!(
        common::total(&stats, "GET /policies/activityBasedTimeoutPolicies"),
        1
    );
    assert_eq!(common::total(&stats, "GET /admin/sharepoint/settings"), 1);

    // The portal writes the same definition its own way: not drift.
    for text in [
        DOCUMENTED.replace("01:00:00", "1:00:00"),
        r#"{ "ActivityBasedTimeoutPolicy": { "ApplicationPolicies": [ { "WebSessionIdleTimeout": "00:15:00", "ApplicationId": "C44B4083-3BB0-49C1-B47D-974E53CBDF3C" }, { "ApplicationId": "default", "WebSessionIdleTimeout": "0.01:00:00" } ], "Version": 1 } }"#.to_owned(),
    ] {
        client
            .send(GraphRequest::patch(
                &paths::activity_based_timeout_policy(&id),
                json!({"definition": [text]}),
            ))
            .await
            .unwrap();
        let resynced = run(&sim, &set, false).await;
        assert!(
            matches!(resynced.idle_timeouts[0].plan, Ok(Plan::NoOp { .. })),
            "{text}: {:?}",
            resynced.idle_timeouts[0].plan
        );
    }

    // A real edit in both places: the timeout doubled, SharePoint's sign-out turned off.
    client
        .send(GraphRequest::patch(
            &paths::activity_based_timeout_policy(&id),
            json!({"definition": [DOCUMENTED.replace("01:00:00", "02:00:00")]}),
        ))
        .await
        .unwrap();
    client
        .send(GraphRequest::patch(
            paths::SHAREPOINT_SETTINGS,
            json!({"idleSessionSignOut": {"isEnabled": false}}),
        ))
        .await
        .unwrap();
    let drifted = run(&sim, &set, false).await;
    assert_eq!(
        changed_fields(&drifted.idle_timeouts[0].plan),
        ["definition", "idleSessionSignOut"]
    );
    let corrected = run(&sim, &set, true).await;
    assert!(corrected.all_ready());
    assert!(matches!(
        run(&sim, &set, false).await.idle_timeouts[0].plan,
        Ok(Plan::NoOp { .. })
    ));
    assert_eq!(idle_sign_out(&client).await["isEnabled"], true);

    // deletionPolicy Delete: the policy goes (no deleted items); gone already is success.
    IdleTimeoutPolicy::delete(&client, &id).await.unwrap();
    assert!(timeout_policies(&client).await.is_empty());
    IdleTimeoutPolicy::delete(&client, &id).await.unwrap();
    assert_eq!(
        idle_sign_out(&client).await["isEnabled"],
        true,
        "SharePoint's setting has no delete: left as it is"
    );
}

/// The portal's organization default is adopted whatever its name: only the name and
/// SharePoint's setting change; a second IdleTimeoutPolicy on the connection refuses both
/// before any write.
#[tokio::test]
async fn the_portal_default_is_adopted_and_two_objects_for_one_tenant_are_refused() {
    let seed = Seed::from_json(&json!({
        "activityBasedTimeoutPolicies": [
            {"displayName": "DefaultTimeoutPolicy", "isOrganizationDefault": true, "definition": [DOCUMENTED]},
            {"displayName": "Old experiment", "isOrganizationDefault": false, "definition": [DOCUMENTED.replace("01:00:00", "08:00:00")]}
        ]
    }).to_string())
    .unwrap();
    let sim = common::start(SimConfig {
        seed: Some(seed),
        ..common::quiet()
    })
    .await;
    let client = common::unpaced_client(&sim);

    let two = manifests(
        &sim,
        "---\napiVersion: sessionops.io/v1alpha1\nkind: IdleTimeoutPolicy\nmetadata: {name: another, namespace: identity}\nspec:\n  tenantRef: {kind: ClusterTenantConnection, name: contoso}\n  default: 8h\n",
    );
    let refused = run(&sim, &two, true).await;
    assert_eq!(refused.idle_timeouts.len(), 2);
    for report in &refused.idle_timeouts {
        let Err(failure) = &report.plan else {
            panic!("{report:?}")
        };
        assert_eq!(failure.reason(), Reason::Conflict);
        assert!(
            failure
                .to_string()
                .contains("one IdleTimeoutPolicy per connection")
        );
    }
    assert_eq!(common::stats(&sim).await["totals"]["writes"], 0);

    let set = manifests(&sim, "");
    let planned = run(&sim, &set, false).await;
    let Ok(Plan::Update { id, adopted, .. }) = &planned.idle_timeouts[0].plan else {
        panic!("{:?}", planned.idle_timeouts[0].plan)
    };
    assert!(adopted);
    let portal_default = timeout_policies(&client)
        .await
        .into_iter()
        .find(|p| p["isOrganizationDefault"] == true)
        .unwrap();
    assert_eq!(portal_default["id"].as_str(), Some(id.as_str()));
    assert_eq!(
        changed_fields(&planned.idle_timeouts[0].plan),
        ["displayName", "idleSessionSignOut"]
    );
    assert!(run(&sim, &set, true).await.all_ready());
    let listed = timeout_policies(&client).await;
    assert_eq!(listed.len(), 2, "nothing created, nothing deleted");
    assert!(listed.iter().any(|p| p["displayName"] == "Old experiment"));
}

/// Export writes the organization default (with SharePoint's setting) as an
/// IdleTimeoutPolicy, leaves the inactive policy out, and the exported manifest plans to no
/// change.
#[tokio::test]
async fn export_then_plan_is_no_change() {
    let seed = Seed::from_json(&json!({
        "activityBasedTimeoutPolicies": [
            {"displayName": "DefaultTimeoutPolicy", "isOrganizationDefault": true, "definition": [DOCUMENTED.replace("01:00:00", "23:59:59")]},
            {"displayName": "Old experiment", "isOrganizationDefault": false, "definition": [DOCUMENTED]}
        ],
        "sharePointSettings": {"idleSessionSignOut": {"isEnabled": true, "warnAfterInSeconds": 2700, "signOutAfterInSeconds": 3600}}
    }).to_string())
    .unwrap();
    let sim = common::start(SimConfig {
        seed: Some(seed),
        ..common::quiet()
    })
    .await;
    let mut set = manifest::load_str(Path::new("tenant.yaml"), &connection_yaml(&sim)).unwrap();
    let (settings, tenant_ref, namespace) = export::connection(&set).unwrap();
    let env = common::sim::azure_env(&sim);
    let result = export::export(settings, &tenant_ref, &namespace, &env, &|_| {})
        .await
        .unwrap();
    let exported: Vec<&export::Exported> = result
        .exported
        .iter()
        .filter(|e| e.kind == Kind::IdleTimeoutPolicy)
        .collect();
    let [exported] = exported.as_slice() else {
        panic!("{:?}", result.exported)
    };
    assert_eq!(
        exported.file_name,
        "idletimeoutpolicies/defaulttimeoutpolicy.yaml"
    );
    assert!(exported.yaml.contains("default: 24h"), "{}", exported.yaml);
    assert!(
        exported.yaml.contains("warnAfter: 45m"),
        "{}",
        exported.yaml
    );
    assert!(
        result
            .left_out
            .iter()
            .any(|l| l.kind == Kind::IdleTimeoutPolicy && l.display_name == "Old experiment"),
        "{:?}",
        result.left_out
    );
    let loaded = manifest::load_str(Path::new(&exported.file_name), &exported.yaml).unwrap();
    set.objects.extend(loaded.objects);
    common::reset_stats(&sim).await;
    let planned = run(&sim, &set, false).await;
    assert!(
        matches!(planned.idle_timeouts[0].plan, Ok(Plan::NoOp { .. })),
        "{:?}",
        planned.idle_timeouts[0].plan
    );
    assert_eq!(common::stats(&sim).await["totals"]["writes"], 0);
}
