//! The operator's controllers without a cluster: kube-rs's mock API server (tower-test) stands
//! in for Kubernetes, asserting the exact method, path and body of every call, and the Graph
//! simulator stands in for the tenant (as kube-rs's reference controller tests its wiring).
//!
//! A real-cluster end-to-end test is at the end, `#[ignore]`d, with how to run it.

use sessionops_testkit as common;
use sessionops_testkit::cluster::{Call, Cluster, call_shapes};
use sessionops_testkit::fixtures::{demo_tenant, example_connection, example_policy};

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use graph_sim::{Seed, SimConfig, Simulator};
use kube::ResourceExt;
use kube::core::DeserializeGuard;
use kube::core::object::HasStatus;
use serde_json::{Value, json};
use sessionops_api::manifest::{self, Object};
use sessionops_api::{IdleTimeoutPolicy, NamedLocation, RevocationRequest, SessionPolicy};
use sessionops_core::revocation::RunOptions;
use sessionops_core::tenant_object::kind::SeamKind;
use sessionops_operator::{Context, Settings, revocation, tenant_connection, tenant_object};
use tokio::sync::watch;

const SECRET_PATH: &str = "/api/v1/namespaces/sessionops-system/secrets/contoso-graph";
const POLICY_PATH: &str =
    "/apis/sessionops.io/v1alpha1/namespaces/identity/sessionpolicies/sign-in-every-12h";

/// The cluster of these tests: the example ClusterTenantConnection pointed at `sim`, its
/// credential Secret, and `policies` and `revocations` in the watch caches.
fn cluster_with(
    sim: &Simulator,
    policies: Vec<SessionPolicy>,
    revocations: Vec<RevocationRequest>,
    stop: Option<watch::Receiver<bool>>,
) -> Cluster {
    Cluster::new(
        settings(stop),
        vec![example_connection(sim)],
        policies,
        revocations,
    )
    .with_secret(
        "sessionops-system",
        "contoso-graph",
        &[("client-secret", sim.client_secret())],
    )
}

fn settings(stop: Option<watch::Receiver<bool>>) -> Settings {
    let mut settings = Settings::new(Duration::from_secs(3600));
    settings.revocation = RunOptions {
        concurrency: 1,
        verify_timeout: Duration::from_secs(5),
        verify_poll: Duration::from_millis(100),
        stop,
    };
    settings.configure = Arc::new(|config| {
        config.ca_requests_per_second = 20.0;
        config.retry.base_delay = Duration::from_millis(20);
    });
    settings.federated_token_file = None;
    settings
}

/// Every request the simulator answered, token requests included.
fn all_requests(stats: &Value) -> u64 {
    stats["routes"].as_object().map_or(0, |routes| {
        routes
            .values()
            .flat_map(|s| s.as_object().unwrap().values())
            .filter_map(Value::as_u64)
            .sum()
    })
}

fn ready(status: &Value) -> (&str, &str) {
    let condition = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .expect("Ready is always present");
    (
        condition["status"].as_str().unwrap(),
        condition["reason"].as_str().unwrap(),
    )
}

fn reconcile_policy(
    ctx: &Arc<Context>,
    policy: SessionPolicy,
) -> impl std::future::Future<
    Output = Result<kube::runtime::controller::Action, sessionops_operator::ReconcileError>,
> + Send
+ 'static {
    tenant_object::reconcile::<SessionPolicy>(Arc::new(DeserializeGuard(Ok(policy))), ctx.clone())
}

/// The policy as the API server holds it after `calls` (finalizer added, status written).
fn after(policy: SessionPolicy, calls: &[Call]) -> SessionPolicy {
    after_at(policy, POLICY_PATH, calls)
}

/// The last status `calls` wrote to the object at `path`.
fn written_status<'a>(calls: &'a [Call], path: &str) -> Option<&'a Value> {
    calls
        .iter()
        .rev()
        .find(|c| c.is("PATCH", &format!("{path}/status")))
        .map(|c| &c.body["status"])
}

/// First apply, then the steady state: the finalizer, the policy created once, status written
/// once; a later resync (after a restart: new caches) reads the tenant and writes nothing,
/// not even status; a reconcile within the resync interval sends nothing at all.
#[tokio::test]
async fn first_apply_then_resyncs_that_change_nothing() {
    let sim = demo_tenant(20.0).await;
    let mut cluster = cluster_with(&sim, vec![example_policy()], vec![], None);
    let (result, calls) = cluster
        .run(reconcile_policy(&cluster.ctx, example_policy()), |_| {})
        .await;
    assert!(result.is_ok(), "{result:?}");
    let shape = call_shapes(&calls);
    assert_eq!(
        shape,
        [
            ("PATCH", POLICY_PATH),
            ("GET", SECRET_PATH),
            ("PATCH", &*format!("{POLICY_PATH}/status")),
            ("POST", "/apis/events.k8s.io/v1/namespaces/identity/events"),
        ]
    );
    assert_eq!(
        calls[0].body,
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [SessionPolicy::FINALIZER]}
        ])
    );
    let status = &calls[2].body["status"];
    assert_eq!(ready(status), ("True", "Synced"));
    assert_eq!(status["observedGeneration"], 1);
    let in_tenant = common::active_policies(&sim).await;
    assert_eq!(in_tenant.len(), 1);
    assert_eq!(status["policyId"], in_tenant[0]["id"]);
    assert_eq!(
        in_tenant[0]["displayName"],
        "Session: sign-in frequency 12h"
    );
    let event = &calls[3].body;
    assert_eq!(
        (
            event["reason"].as_str(),
            event["action"].as_str(),
            event["type"].as_str()
        ),
        (Some("Synced"), Some("Create"), Some("Normal"))
    );
    assert_eq!(event["regarding"]["name"], "sign-in-every-12h");

    // A reconcile within the resync interval: the shared read already holds the write.
    let synced = after(example_policy(), &calls);
    let before = common::stats(&sim).await;
    let (result, calls) = cluster
        .run(reconcile_policy(&cluster.ctx, synced.clone()), |_| {})
        .await;
    assert!(result.is_ok());
    assert!(calls.is_empty(), "nothing to write: {calls:?}");
    let after_stats = common::stats(&sim).await;
    assert_eq!(
        before["routes"], after_stats["routes"],
        "no Graph request either"
    );

    // A restart (new caches): the Secret and one LIST, then nothing written anywhere.
    let mut restarted = cluster_with(&sim, vec![synced.clone()], vec![], None);
    let (result, calls) = restarted
        .run(reconcile_policy(&restarted.ctx, synced), |_| {})
        .await;
    assert!(result.is_ok());
    let shape = call_shapes(&calls);
    assert_eq!(shape, [("GET", SECRET_PATH)], "no status patch, no event");
    let stats = common::stats(&sim).await;
    assert_eq!(
        common::total(&stats, "GET /identity/conditionalAccess/policies"),
        2,
        "one LIST per resync"
    );
    assert_eq!(
        common::total(&stats, "POST /identity/conditionalAccess/policies"),
        1
    );
    assert_eq!(
        common::total(&stats, "PATCH /identity/conditionalAccess/policies/{id}"),
        0
    );
}

/// A portal edit is reverted at the next resync, counted, and reported with an Event.
#[tokio::test]
async fn drift_is_corrected_with_an_event() {
    let sim = demo_tenant(20.0).await;
    let mut cluster = cluster_with(&sim, vec![example_policy()], vec![], None);
    let (_, calls) = cluster
        .run(reconcile_policy(&cluster.ctx, example_policy()), |_| {})
        .await;
    let synced = after(example_policy(), &calls);
    let id = synced.status.as_ref().unwrap().policy_id.clone().unwrap();
    let edited = reqwest::Client::new()
        .patch(format!("{}/_sim/portal/policies/{id}", sim.base_url()))
        .json(&json!({"state": "disabled"}))
        .send()
        .await
        .unwrap();
    assert!(edited.status().is_success());

    let mut resync = cluster_with(&sim, vec![synced.clone()], vec![], None);
    let (result, calls) = resync
        .run(reconcile_policy(&resync.ctx, synced), |_| {})
        .await;
    assert!(result.is_ok());
    let shape = call_shapes(&calls);
    assert_eq!(
        shape,
        [
            ("GET", SECRET_PATH),
            ("PATCH", &*format!("{POLICY_PATH}/status")),
            ("POST", "/apis/events.k8s.io/v1/namespaces/identity/events"),
        ]
    );
    let status = &calls[1].body["status"];
    assert_eq!(ready(status), ("True", "DriftCorrected"));
    assert_eq!(status["driftCorrections"], 1);
    assert_eq!(
        (
            calls[2].body["reason"].as_str(),
            calls[2].body["action"].as_str()
        ),
        (Some("DriftCorrected"), Some("Update"))
    );
    let in_tenant = common::active_policies(&sim).await;
    assert_eq!(
        in_tenant[0]["state"], "enabled",
        "the portal edit was reverted"
    );
}

/// Deleting the object: with deletionPolicy Delete the tenant policy goes first, then the
/// finalizer; with Retain the policy stays and only the finalizer goes.
#[tokio::test]
async fn deletion_honours_delete_and_retain() {
    for (deletion_policy, kept) in [("Delete", 0), ("Retain", 1)] {
        let sim = demo_tenant(20.0).await;
        let mut cluster = cluster_with(&sim, vec![example_policy()], vec![], None);
        let (_, calls) = cluster
            .run(reconcile_policy(&cluster.ctx, example_policy()), |_| {})
            .await;
        let mut deleting = after(example_policy(), &calls);
        deleting.spec.deletion_policy = serde_json::from_value(json!(deletion_policy)).unwrap();
        deleting.metadata.deletion_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()),
        );
        let mut cluster = cluster_with(&sim, vec![deleting.clone()], vec![], None);
        let (result, calls) = cluster
            .run(reconcile_policy(&cluster.ctx, deleting), |_| {})
            .await;
        assert!(result.is_ok(), "{result:?}");
        let mut expected = vec![];
        if deletion_policy == "Delete" {
            expected.push(("GET", SECRET_PATH.to_owned()));
        }
        expected.push((
            "POST",
            "/apis/events.k8s.io/v1/namespaces/identity/events".to_owned(),
        ));
        expected.push(("PATCH", POLICY_PATH.to_owned()));
        let expected: Vec<(&str, &str)> = expected.iter().map(|(m, p)| (*m, p.as_str())).collect();
        assert_eq!(call_shapes(&calls), expected, "{deletion_policy}");
        let event = &calls[calls.len() - 2].body;
        assert_eq!(
            event["reason"],
            if deletion_policy == "Delete" {
                "Deleted"
            } else {
                "Retained"
            }
        );
        assert_eq!(
            calls.last().unwrap().body,
            json!([
                {"op": "test", "path": "/metadata/finalizers/0", "value": SessionPolicy::FINALIZER},
                {"op": "remove", "path": "/metadata/finalizers/0"}
            ])
        );
        assert_eq!(
            common::active_policies(&sim).await.len(),
            kept,
            "{deletion_policy}"
        );
    }
}

/// A namespace the connection does not allow: Ready=False NamespaceNotAllowed, a Warning
/// event, and no Secret read and no Graph request at all.
#[tokio::test]
async fn a_namespace_not_allowed_causes_no_secret_read_and_no_graph_call() {
    let sim = demo_tenant(20.0).await;
    let mut intruder = example_policy();
    intruder.metadata.namespace = Some("marketing".into());
    intruder.metadata.finalizers = Some(vec![SessionPolicy::FINALIZER.into()]);
    let mut cluster = cluster_with(&sim, vec![intruder.clone()], vec![], None);
    let (result, calls) = cluster
        .run(reconcile_policy(&cluster.ctx, intruder), |_| {})
        .await;
    assert!(result.is_ok(), "a permanent failure waits for a change");
    let path = "/apis/sessionops.io/v1alpha1/namespaces/marketing/sessionpolicies/sign-in-every-12h/status";
    let shape = call_shapes(&calls);
    assert_eq!(
        shape,
        [
            ("PATCH", path),
            ("POST", "/apis/events.k8s.io/v1/namespaces/marketing/events")
        ]
    );
    assert_eq!(
        ready(&calls[0].body["status"]),
        ("False", "NamespaceNotAllowed")
    );
    assert_eq!(
        (
            calls[1].body["type"].as_str(),
            calls[1].body["reason"].as_str()
        ),
        (Some("Warning"), Some("NamespaceNotAllowed"))
    );
    let stats = common::stats(&sim).await;
    let total = all_requests(&stats);
    assert_eq!(total, 0, "no token request, no Graph call: {stats}");
}

fn revocation_request(sim_users: &str) -> RevocationRequest {
    let text = format!(
        "apiVersion: sessionops.io/v1alpha1\nkind: RevocationRequest\nmetadata: {{name: incident, namespace: security}}\nspec:\n  tenantRef: {{kind: ClusterTenantConnection, name: contoso}}\n  reason: \"INC-7 test\"\n  targets: {{groups: [{sim_users}]}}\n  verify: true\n"
    );
    let mut set = manifest::load_str(Path::new("rr.yaml"), &text).unwrap();
    let Object::RevocationRequest(mut request) = set.objects.remove(0).object else {
        panic!("a RevocationRequest")
    };
    request.metadata.generation = Some(1);
    request.metadata.uid = Some("4f1e9c1a-0000-4000-8000-000000000002".into());
    *request
}

/// A revocation stopped part-way (graceful shutdown after its first chunk) saves its cursor in
/// status; a restarted operator resumes from that status and finishes with exact counts, and
/// nobody is revoked twice.
#[tokio::test]
async fn a_revocation_resumes_after_a_restart_from_its_status() {
    // The connection's protected principals exist beside 70 generated users.
    let seed = Seed::from_yaml("users:\n  - {userPrincipalName: breakglass1@contoso.onmicrosoft.com, displayName: Break glass 1}\n  - {userPrincipalName: breakglass2@contoso.onmicrosoft.com, displayName: Break glass 2}\ngroups:\n  - {displayName: sg-emergency-access, members: [breakglass1@contoso.onmicrosoft.com, breakglass2@contoso.onmicrosoft.com]}\n").unwrap();
    let sim = common::start(SimConfig {
        users: 70,
        groups: vec![("incident".into(), 61)],
        seed: Some(seed),
        ..SimConfig::default()
    })
    .await;
    let request = revocation_request("incident");
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut cluster = cluster_with(&sim, vec![], vec![request.clone()], Some(stop_rx));
    let path =
        "/apis/sessionops.io/v1alpha1/namespaces/security/revocationrequests/incident/status";
    let ctx = cluster.ctx.clone();
    let first = request.clone();
    let (result, calls) = cluster
        .run(
            revocation::reconcile(Arc::new(DeserializeGuard(Ok(first))), ctx),
            |call| {
                // Operator shutdown right after the first chunk's progress was saved.
                if call.path == path
                    && call.body["status"]["counts"]["succeeded"].as_i64() > Some(0)
                {
                    let _ = stop_tx.send(true);
                }
            },
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    let saved: Value = calls.iter().rev().find(|c| c.path == path).unwrap().body["status"].clone();
    assert_eq!(saved["phase"], "Running", "stopped, not finished: {saved}");
    let done_first = saved["counts"]["succeeded"].as_i64().unwrap();
    assert_eq!(
        done_first, 20,
        "the in-flight chunk finished, no new one started"
    );
    assert!(saved["cursor"].is_string());

    // Restart: a new operator sees the saved status and resumes.
    let mut resumed = request.clone();
    resumed.status = Some(serde_json::from_value(saved).unwrap());
    let mut restarted = cluster_with(&sim, vec![], vec![resumed.clone()], None);
    let ctx = restarted.ctx.clone();
    let (result, calls) = restarted
        .run(
            revocation::reconcile(Arc::new(DeserializeGuard(Ok(resumed))), ctx),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    let last: Value = calls.iter().rev().find(|c| c.path == path).unwrap().body["status"].clone();
    assert_eq!(last["phase"], "Succeeded", "{last}");
    assert_eq!(last["counts"]["resolved"], 61);
    assert_eq!(last["counts"]["succeeded"], 61);
    assert_eq!(last["counts"]["verified"], 61);
    assert_eq!(last["counts"]["failed"], 0);
    let reasons: Vec<&str> = calls
        .iter()
        .filter(|c| c.path.ends_with("/events"))
        .filter_map(|c| c.body["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["Resuming", "Succeeded"]);
    // Exactly once per user: nobody revoked twice across the stop and the resume.
    let members: Value = reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let revokes = members["routes"]["POST /users/{id}/revokeSignInSessions"]["200"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(revokes, 61, "one revocation per member: {members}");

    // A terminal request is never run again (GitOps re-sync, operator restart).
    let mut finished = request.clone();
    finished.status = Some(serde_json::from_value(last).unwrap());
    let mut again = cluster_with(&sim, vec![], vec![finished.clone()], None);
    let ctx = again.ctx.clone();
    let (result, calls) = again
        .run(
            revocation::reconcile(Arc::new(DeserializeGuard(Ok(finished))), ctx),
            |_| {},
        )
        .await;
    assert!(result.is_ok());
    assert!(calls.is_empty(), "{calls:?}");
    let after: Value = reqwest::get(format!("{}/_sim/stats", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["routes"]["POST /users/{id}/revokeSignInSessions"]["200"]
            .as_u64()
            .unwrap_or(0),
        61
    );
}

/// requirePasswordChange in a cluster: the temporary password goes into a Secret owned by the
/// request and named in its status; it never appears in status or events.
#[tokio::test]
async fn temporary_passwords_go_to_a_secret_owned_by_the_request() {
    let sim = demo_tenant(20.0).await;
    let text = "apiVersion: sessionops.io/v1alpha1\nkind: RevocationRequest\nmetadata: {name: offboard-jdoe, namespace: security}\nspec:\n  tenantRef: {kind: ClusterTenantConnection, name: contoso}\n  reason: \"HR-1 offboarding\"\n  targets: {users: [jdoe@contoso.onmicrosoft.com]}\n  actions: [revokeSessions, requirePasswordChange]\n";
    let mut set = manifest::load_str(Path::new("rr.yaml"), text).unwrap();
    let Object::RevocationRequest(mut request) = set.objects.remove(0).object else {
        panic!("a RevocationRequest")
    };
    request.metadata.generation = Some(1);
    request.metadata.uid = Some("4f1e9c1a-0000-4000-8000-000000000003".into());
    let mut cluster = cluster_with(&sim, vec![], vec![(*request).clone()], None);
    let ctx = cluster.ctx.clone();
    let (result, calls) = cluster
        .run(
            revocation::reconcile(Arc::new(DeserializeGuard(Ok(*request))), ctx),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    let created: Vec<&Call> = calls
        .iter()
        .filter(|c| c.is("POST", "/api/v1/namespaces/security/secrets"))
        .collect();
    assert_eq!(created.len(), 1, "{calls:?}");
    let secret = &created[0].body;
    assert_eq!(secret["metadata"]["name"], "offboard-jdoe-passwords");
    assert_eq!(
        secret["metadata"]["ownerReferences"][0]["kind"],
        "RevocationRequest"
    );
    assert_eq!(
        secret["metadata"]["ownerReferences"][0]["uid"],
        "4f1e9c1a-0000-4000-8000-000000000003"
    );
    let stored = secret["data"]["jdoe_contoso.onmicrosoft.com"]
        .as_str()
        .expect("the password, keyed by UPN");
    use base64::Engine;
    let password = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(stored)
            .unwrap(),
    )
    .unwrap();
    assert!(password.len() >= 16);
    let last = &calls
        .iter()
        .rev()
        .find(|c| c.path.ends_with("/offboard-jdoe/status"))
        .unwrap()
        .body["status"];
    assert_eq!(last["phase"], "Succeeded", "{last}");
    assert_eq!(last["passwordSecret"], "offboard-jdoe-passwords");
    for call in calls.iter().filter(|c| !c.path.ends_with("/secrets")) {
        assert!(
            !call.body.to_string().contains(&password),
            "the password leaked into {} {}",
            call.method,
            call.path
        );
    }
}

/// An object that does not match the schema (it bypassed admission): Ready=False InvalidSpec
/// with the reason, a Warning event, and nothing sent to Graph.
#[tokio::test]
async fn an_object_that_does_not_deserialize_is_reported_not_reconciled() {
    let sim = demo_tenant(20.0).await;
    let mut cluster = cluster_with(&sim, vec![example_policy()], vec![], None);
    let mut broken = serde_json::to_value(example_policy()).unwrap();
    broken["spec"]["state"] = json!("sometimes");
    let guard: DeserializeGuard<SessionPolicy> = serde_json::from_value(broken).unwrap();
    assert!(guard.0.is_err());
    let ctx = cluster.ctx.clone();
    let (result, calls) = cluster
        .run(
            tenant_object::reconcile::<SessionPolicy>(Arc::new(guard), ctx),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    let shape = call_shapes(&calls);
    assert_eq!(
        shape,
        [
            ("PATCH", &*format!("{POLICY_PATH}/status")),
            ("POST", "/apis/events.k8s.io/v1/namespaces/identity/events"),
        ]
    );
    assert_eq!(ready(&calls[0].body["status"]), ("False", "InvalidSpec"));
    let message = calls[0].body["status"]["conditions"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("sometimes"), "{message}");
    assert!(common::active_policies(&sim).await.is_empty());
}

/// A tenant connection's token check: granted and missing roles in status; the Secret is read
/// again at the next check, so a rotated (here: broken) secret takes effect without a restart.
#[tokio::test]
async fn a_connection_reports_its_roles_and_picks_up_a_rotated_secret() {
    let sim = demo_tenant(20.0).await;
    let mut cluster = cluster_with(&sim, vec![example_policy()], vec![], None);
    let ctc = example_connection(&sim);
    let path = "/apis/sessionops.io/v1alpha1/clustertenantconnections/contoso";
    cluster
        .objects
        .insert(path.into(), serde_json::to_value(&ctc).unwrap());
    let ctx = cluster.ctx.clone();
    let (result, calls) = cluster
        .run(
            tenant_connection::reconcile_cluster(Arc::new(DeserializeGuard(Ok(ctc.clone()))), ctx),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    let shape = call_shapes(&calls);
    assert_eq!(
        shape,
        [
            ("GET", SECRET_PATH),
            ("PATCH", &*format!("{path}/status")),
            ("POST", "/apis/events.k8s.io/v1/namespaces/default/events"),
        ]
    );
    let status = &calls[1].body["status"];
    assert_eq!(ready(status), ("True", "TokenObtained"));
    assert!(
        status["grantedRoles"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{status}"
    );
    assert!(status["missingRoles"].is_array() || status["missingRoles"].is_null());

    // The secret is rotated in the Secret (to one the tenant does not accept): the next check
    // reads it again and reports it, without a restart.
    let mut checked = ctc.clone();
    checked.status = Some(serde_json::from_value(status.clone()).unwrap());
    cluster = cluster.with_secret(
        "sessionops-system",
        "contoso-graph",
        &[("client-secret", "rotated-but-wrong")],
    );
    let ctx = cluster.ctx.clone();
    let (result, calls) = cluster
        .run(
            tenant_connection::reconcile_cluster(Arc::new(DeserializeGuard(Ok(checked))), ctx),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert!(calls[0].is("GET", SECRET_PATH), "{calls:?}");
    let patch = calls
        .iter()
        .find(|c| c.path.ends_with("/status"))
        .expect("a status patch");
    assert_eq!(ready(&patch.body["status"]), ("False", "Unauthorized"));
    let text = serde_json::to_string(&calls.iter().map(|c| &c.body).collect::<Vec<_>>()).unwrap();
    assert!(
        !text.contains("rotated-but-wrong"),
        "the secret never reaches status or events"
    );
}

/// Workload identity is the operator's own identity: a namespaced TenantConnection may not
/// use it (it would bypass allowedNamespaces); refused before any Graph call.
#[tokio::test]
async fn a_namespaced_connection_may_not_borrow_the_operators_workload_identity() {
    let sim = demo_tenant(20.0).await;
    let mut cluster = cluster_with(&sim, vec![], vec![], None);
    let text = format!(
        "apiVersion: sessionops.io/v1alpha1\nkind: TenantConnection\nmetadata: {{name: borrowed, namespace: marketing}}\nspec:\n  tenantId: {}\n  clientId: {}\n  credentials: {{workloadIdentity: {{}}}}\n",
        sim.tenant_id(),
        sim.client_id()
    );
    let mut set = manifest::load_str(Path::new("tc.yaml"), &text).unwrap();
    let Object::TenantConnection(tc) = set.objects.remove(0).object else {
        panic!("a TenantConnection")
    };
    let path = "/apis/sessionops.io/v1alpha1/namespaces/marketing/tenantconnections/borrowed";
    cluster
        .objects
        .insert(path.into(), serde_json::to_value(&*tc).unwrap());
    let ctx = cluster.ctx.clone();
    let (result, calls) = cluster
        .run(
            tenant_connection::reconcile_namespaced(Arc::new(DeserializeGuard(Ok(*tc))), ctx),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    let patch = calls
        .iter()
        .find(|c| c.path == format!("{path}/status"))
        .expect("a status patch");
    assert_eq!(
        ready(&patch.body["status"]),
        ("False", "CredentialsNotAllowed")
    );
    let stats = common::stats(&sim).await;
    let total = all_requests(&stats);
    assert_eq!(total, 0, "no token request: {stats}");
}

/// End to end in a real cluster (kind, k3d …) against the simulator:
///
/// ```sh
/// kubectl apply --server-side -f crds/
/// cargo run -- sim --listen 0.0.0.0:8700 --seed src/demo/seed.yaml &   # reachable from the cluster
/// # a ClusterTenantConnection whose endpoints point at the simulator, its Secret, and examples/
/// cargo run -- operator --metrics-addr 127.0.0.1:8080 &
/// SESSIONOPS_E2E=1 cargo test --test integration operator::end_to_end -- --ignored
/// ```
#[tokio::test]
#[ignore = "needs a Kubernetes cluster (KUBECONFIG) with the CRDs, the examples applied and the operator running"]
async fn end_to_end_in_a_real_cluster() {
    sessionops_graph::tls::install_crypto_provider();
    let client = kube::Client::try_default()
        .await
        .expect("a cluster from KUBECONFIG");
    let api: kube::Api<SessionPolicy> = kube::Api::namespaced(client, "identity");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let policy = api
            .get("sign-in-every-12h")
            .await
            .expect("the example is applied");
        let ready = policy
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status.clone());
        if ready.as_deref() == Some("True") {
            assert!(
                policy
                    .finalizers()
                    .iter()
                    .any(|f| f == SessionPolicy::FINALIZER)
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not Ready within 2 minutes"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The object as the API server holds it after `calls` to `path`: its finalizer added and the
/// last status written.
fn after_at<K>(mut object: K, path: &str, calls: &[Call]) -> K
where
    K: SeamKind + HasStatus<Status = <K as SeamKind>::Status>,
    <K as SeamKind>::Status: serde::de::DeserializeOwned,
{
    object.meta_mut().finalizers = Some(vec![K::FINALIZER.into()]);
    if let Some(status) = written_status(calls, path) {
        *object.status_mut() = Some(serde_json::from_value(status.clone()).unwrap());
    }
    object
}

/// [`cluster_with`] holding NamedLocations too.
fn location_cluster(
    sim: &Simulator,
    locations: Vec<NamedLocation>,
    policies: Vec<SessionPolicy>,
) -> Cluster {
    Cluster::with_locations(
        settings(None),
        vec![example_connection(sim)],
        policies,
        locations,
        vec![],
    )
    .with_secret(
        "sessionops-system",
        "contoso-graph",
        &[("client-secret", sim.client_secret())],
    )
}

fn example_object(file: &str) -> Object {
    let set = manifest::load(&[common::fixtures::example(file)], false).unwrap();
    set.objects.into_iter().next().unwrap().object
}

/// A SessionPolicy naming a NamedLocation of the cluster that does not exist yet waits for it:
/// Ready=False `WaitingForDependency`, a transient error (the controller retries with
/// backoff) and no policy written. The location's reconcile creates it (finalizer, status
/// `locationId`, an Event); the policy's retry is then Ready and names the location's id.
/// Deleting the location while the policy names it is refused with `InUse`: the finalizer
/// stays and the location stays in the tenant.
#[tokio::test]
async fn a_policy_waits_for_its_location_and_the_location_is_not_deleted_while_used() {
    let sim = demo_tenant(20.0).await;
    let Object::NamedLocation(location) = example_object("named-location-blocked-countries.yaml")
    else {
        panic!("a NamedLocation example")
    };
    let mut location = *location;
    location.spec.deletion_policy = serde_json::from_value(json!("Delete")).unwrap();
    let Object::SessionPolicy(policy) = example_object("policy-block-blocked-countries.yaml")
    else {
        panic!("a SessionPolicy example")
    };
    let policy = *policy;
    let location_path = common::cluster::location_path(&location);
    let policy_path = common::cluster::policy_path(&policy);
    let mut cluster = location_cluster(&sim, vec![location.clone()], vec![policy.clone()]);
    let guard = |p: SessionPolicy| Arc::new(DeserializeGuard(Ok(p)));
    let located = |l: NamedLocation| Arc::new(DeserializeGuard(Ok(l)));

    // 1. The policy first: it waits, and Graph is not written.
    let (result, calls) = cluster
        .run(
            tenant_object::reconcile::<SessionPolicy>(guard(policy.clone()), cluster.ctx.clone()),
            |_| {},
        )
        .await;
    assert!(
        matches!(
            result,
            Err(sessionops_operator::ReconcileError::Transient(_))
        ),
        "{result:?}"
    );
    let status = written_status(&calls, &policy_path).expect("status written");
    assert_eq!(ready(status), ("False", "WaitingForDependency"));
    let message = status["conditions"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("Blocked countries") && message.contains("identity/blocked-countries"),
        "{message}"
    );
    let stats = common::stats(&sim).await;
    assert_eq!(
        common::total(&stats, "POST /identity/conditionalAccess/policies"),
        0
    );
    let waiting = after_at(policy.clone(), &policy_path, &calls);

    // 2. The location: created, finalizer first, its id in status, an Event.
    let (result, calls) = cluster
        .run(
            tenant_object::reconcile::<NamedLocation>(
                located(location.clone()),
                cluster.ctx.clone(),
            ),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        calls[0].body,
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [NamedLocation::FINALIZER]}
        ])
    );
    assert_eq!(calls[0].path, location_path);
    let status = written_status(&calls, &location_path).expect("status written");
    assert_eq!(ready(status), ("True", "Synced"));
    let location_id = status["locationId"].as_str().unwrap().to_owned();
    let event = calls
        .iter()
        .find(|c| c.is("POST", "/apis/events.k8s.io/v1/namespaces/identity/events"))
        .unwrap();
    assert_eq!(event.body["action"], "Create");
    let created = after_at(location.clone(), &location_path, &calls);

    // 3. The policy's retry: Ready, naming the location by its id in the tenant.
    let (result, calls) = cluster
        .run(
            tenant_object::reconcile::<SessionPolicy>(guard(waiting), cluster.ctx.clone()),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    let status = written_status(&calls, &policy_path).expect("status written");
    assert_eq!(ready(status), ("True", "Synced"));
    let in_tenant = common::active_policies(&sim).await;
    assert_eq!(
        in_tenant[0]["conditions"]["locations"]["includeLocations"],
        json!([location_id])
    );

    // 4. Deleting the location while the policy names it: refused, nothing removed.
    let mut deleting = created;
    deleting.metadata.deletion_timestamp = Some(
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()),
    );
    let mut cluster = location_cluster(&sim, vec![deleting.clone()], vec![]);
    let (result, calls) = cluster
        .run(
            tenant_object::reconcile::<NamedLocation>(located(deleting), cluster.ctx.clone()),
            |_| {},
        )
        .await;
    assert!(result.is_err(), "retried: {result:?}");
    assert!(
        !calls
            .iter()
            .any(|c| c.is("PATCH", &location_path) && c.body.to_string().contains("remove")),
        "the finalizer stays: {calls:?}"
    );
    let warning = calls
        .iter()
        .find(|c| c.is("POST", "/apis/events.k8s.io/v1/namespaces/identity/events"))
        .expect("a Warning event");
    assert_eq!(
        (
            warning.body["type"].as_str(),
            warning.body["reason"].as_str()
        ),
        (Some("Warning"), Some("InUse"))
    );
    let note = warning.body["note"].as_str().unwrap();
    assert!(
        note.contains(in_tenant[0]["id"].as_str().unwrap()),
        "{note}"
    );
    let locations: Value = common::unpaced_client(&sim)
        .send_json(sessionops_graph::GraphRequest::get(
            "/identity/conditionalAccess/namedLocations",
        ))
        .await
        .unwrap();
    assert_eq!(
        locations["value"].as_array().unwrap().len(),
        1,
        "still there"
    );
}

/// The blocked-countries example keeps `deletionPolicy: Retain`: deleting the object removes
/// only its finalizer (with a `Retained` event), and the location stays in the tenant.
#[tokio::test]
async fn a_retained_location_stays_in_the_tenant_when_its_object_is_deleted() {
    let sim = demo_tenant(20.0).await;
    let Object::NamedLocation(location) = example_object("named-location-blocked-countries.yaml")
    else {
        panic!("a NamedLocation example")
    };
    let location = *location;
    let path = common::cluster::location_path(&location);
    let mut cluster = location_cluster(&sim, vec![location.clone()], vec![]);
    let (result, calls) = cluster
        .run(
            tenant_object::reconcile::<NamedLocation>(
                Arc::new(DeserializeGuard(Ok(location.clone()))),
                cluster.ctx.clone(),
            ),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    let mut deleting = after_at(location, &path, &calls);
    deleting.metadata.deletion_timestamp = Some(
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()),
    );
    let mut cluster = location_cluster(&sim, vec![deleting.clone()], vec![]);
    let (result, calls) = cluster
        .run(
            tenant_object::reconcile::<NamedLocation>(
                Arc::new(DeserializeGuard(Ok(deleting))),
                cluster.ctx.clone(),
            ),
            |_| {},
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        call_shapes(&calls),
        [
            ("POST", "/apis/events.k8s.io/v1/namespaces/identity/events"),
            ("PATCH", path.as_str()),
        ]
    );
    assert_eq!(calls[0].body["reason"], "Retained");
    assert_eq!(
        calls[1].body,
        json!([
            {"op": "test", "path": "/metadata/finalizers/0", "value": NamedLocation::FINALIZER},
            {"op": "remove", "path": "/metadata/finalizers/0"}
        ])
    );
    let locations: Value = common::unpaced_client(&sim)
        .send_json(sessionops_graph::GraphRequest::get(
            "/identity/conditionalAccess/namedLocations",
        ))
        .await
        .unwrap();
    assert_eq!(locations["value"][0]["displayName"], "Blocked countries");
}

/// [`cluster_with`] holding IdleTimeoutPolicies.
fn idle_timeout_cluster(sim: &Simulator, idle_timeouts: Vec<IdleTimeoutPolicy>) -> Cluster {
    Cluster::with_idle_timeouts(settings(None), vec![example_connection(sim)], idle_timeouts)
        .with_secret(
            "sessionops-system",
            "contoso-graph",
            &[("client-secret", sim.client_secret())],
        )
}

fn reconcile_idle_timeout(
    cluster: &Cluster,
    policy: IdleTimeoutPolicy,
) -> impl std::future::Future<
    Output = Result<kube::runtime::controller::Action, sessionops_operator::ReconcileError>,
> + Send
+ 'static {
    tenant_object::reconcile::<IdleTimeoutPolicy>(
        Arc::new(DeserializeGuard(Ok(policy))),
        cluster.ctx.clone(),
    )
}

/// The idle-timeout example through the operator: created (finalizer, status `policyId`, an
/// Event); a portal edit of the definition reverted with a `DriftCorrected` Event; the
/// connection then lists the permissions the kind needs; deleting the object with
/// `deletionPolicy: Delete` deletes the policy, with `Retain` keeps it.
#[tokio::test]
async fn an_idle_timeout_is_reconciled_drift_corrected_and_deleted_or_retained() {
    for deletion_policy in ["Delete", "Retain"] {
        let sim = demo_tenant(20.0).await;
        let client = common::unpaced_client(&sim);
        let Object::IdleTimeoutPolicy(policy) = example_object("idle-timeout-web-sessions.yaml")
        else {
            panic!("an IdleTimeoutPolicy example")
        };
        let mut policy = *policy;
        policy.spec.deletion_policy = serde_json::from_value(json!(deletion_policy)).unwrap();
        policy.metadata.generation = Some(1);
        let path = common::cluster::idle_timeout_path(&policy);
        let mut cluster = idle_timeout_cluster(&sim, vec![policy.clone()]);
        let (result, calls) = cluster
            .run(reconcile_idle_timeout(&cluster, policy.clone()), |_| {})
            .await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(
            call_shapes(&calls),
            [
                ("PATCH", path.as_str()),
                ("GET", SECRET_PATH),
                ("PATCH", &*format!("{path}/status")),
                ("POST", "/apis/events.k8s.io/v1/namespaces/identity/events"),
            ]
        );
        let status = written_status(&calls, &path).unwrap();
        assert_eq!(ready(status), ("True", "Synced"));
        let id = status["policyId"].as_str().unwrap().to_owned();
        let synced = after_at(policy, &path, &calls);

        // The portal doubles the timeout.
        let definition: Value = client
            .send_json(sessionops_graph::GraphRequest::get(
                &sessionops_graph::paths::activity_based_timeout_policy(&id),
            ))
            .await
            .unwrap();
        let edited = definition["definition"][0]
            .as_str()
            .unwrap()
            .replace("01:00:00", "02:00:00");
        client
            .send(sessionops_graph::GraphRequest::patch(
                &sessionops_graph::paths::activity_based_timeout_policy(&id),
                json!({"definition": [edited]}),
            ))
            .await
            .unwrap();
        let mut cluster = idle_timeout_cluster(&sim, vec![synced.clone()]);
        let (result, calls) = cluster
            .run(reconcile_idle_timeout(&cluster, synced.clone()), |_| {})
            .await;
        assert!(result.is_ok(), "{result:?}");
        let status = written_status(&calls, &path).unwrap();
        assert_eq!(ready(status), ("True", "DriftCorrected"));
        assert_eq!(status["driftCorrections"], 1);
        let event = calls
            .iter()
            .find(|c| c.path.ends_with("/events"))
            .expect("an event");
        assert_eq!(event.body["reason"], "DriftCorrected");
        assert!(
            event.body["note"]
                .as_str()
                .is_some_and(|n| n.contains("definition")),
            "{}",
            event.body
        );
        let fixed: Value = client
            .send_json(sessionops_graph::GraphRequest::get(
                &sessionops_graph::paths::activity_based_timeout_policy(&id),
            ))
            .await
            .unwrap();
        assert!(
            fixed["definition"][0]
                .as_str()
                .unwrap()
                .contains("01:00:00")
        );
        let synced = after_at(synced, &path, &calls);

        // A connection whose app lacks the kind's permissions names them in missingRoles.
        let narrow = common::start(SimConfig {
            granted_roles: graph_sim::DEFAULT_ROLES
                .iter()
                .filter(|r| !r.contains("ApplicationConfiguration") && !r.contains("SharePoint"))
                .map(|r| (*r).to_owned())
                .collect(),
            ..common::quiet()
        })
        .await;
        let connection = example_connection(&narrow);
        let connection_path = "/apis/sessionops.io/v1alpha1/clustertenantconnections/contoso";
        let mut cluster = Cluster::with_idle_timeouts(
            settings(None),
            vec![connection.clone()],
            vec![synced.clone()],
        )
        .with_secret(
            "sessionops-system",
            "contoso-graph",
            &[("client-secret", narrow.client_secret())],
        );
        cluster.objects.insert(
            connection_path.into(),
            serde_json::to_value(&connection).unwrap(),
        );
        let ctx = cluster.ctx.clone();
        let (_, calls) = cluster
            .run(
                tenant_connection::reconcile_cluster(
                    Arc::new(DeserializeGuard(Ok(connection))),
                    ctx,
                ),
                |_| {},
            )
            .await;
        let connection_status = written_status(&calls, connection_path).unwrap();
        assert_eq!(
            connection_status["missingRoles"],
            json!([
                "Policy.ReadWrite.ApplicationConfiguration",
                "SharePointTenantSettings.ReadWrite.All"
            ]),
            "{connection_status}"
        );

        // Deleted.
        let mut deleting = synced;
        deleting.metadata.deletion_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()),
        );
        let mut cluster = idle_timeout_cluster(&sim, vec![deleting.clone()]);
        let (result, calls) = cluster
            .run(reconcile_idle_timeout(&cluster, deleting), |_| {})
            .await;
        assert!(result.is_ok(), "{result:?}");
        let event = calls
            .iter()
            .find(|c| c.path.ends_with("/events"))
            .expect("an event");
        assert_eq!(
            event.body["reason"],
            if deletion_policy == "Delete" {
                "Deleted"
            } else {
                "Retained"
            }
        );
        assert_eq!(
            calls.last().unwrap().body,
            json!([
                {"op": "test", "path": "/metadata/finalizers/0", "value": IdleTimeoutPolicy::FINALIZER},
                {"op": "remove", "path": "/metadata/finalizers/0"}
            ])
        );
        let left: Vec<Value> = client
            .list_all(sessionops_graph::GraphRequest::get(
                sessionops_graph::paths::ACTIVITY_BASED_TIMEOUT_POLICIES,
            ))
            .await
            .unwrap();
        assert_eq!(
            left.len(),
            usize::from(deletion_policy == "Retain"),
            "{deletion_policy}"
        );
    }
}
