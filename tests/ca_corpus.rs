//! The Conditional Access corpus (`tests/fixtures/conditional-access-corpus.json`, described in
//! `tests/fixtures/README.md`): policies in the shape a beta GET returns them (annotations,
//! nulls, beta-only keys, comma-separated flags), together using every property of
//! `conditionalAccessPolicy` that the v1.0 CSDL and the beta type mappings define.
//!
//! - Onboarding: export the tenant, plan the manifests (no change), apply them (no write).
//! - Lossless: each exported manifest applied to an empty tenant creates a policy that reads
//!   back equal, field by field, to the original.
//! - Versions: what only beta has is refused by v1.0 exactly as Graph refuses it.

use sessionops_testkit as common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use graph_sim::{Seed, SimConfig, Simulator};
use serde_json::{Value, json};
use sessionops::cli::{export, objects, policies};
use sessionops_api::manifest::{self, ManifestSet, Object};
use sessionops_api::{Kind, TenantKind, TenantRef};
use sessionops_core::session_policy::fields::MANAGED_FIELDS;
use sessionops_core::session_policy::plan::PolicyPlan;
use sessionops_core::status::Reason;
use sessionops_core::tenant_object::Plan;
use sessionops_graph::models::ConditionalAccessPolicy;
use sessionops_graph::{ApiVersion, GraphRequest};

/// The directory the corpus refers to (ids fixed so the corpus can name them).
const DIRECTORY: &str = r#"
users:
  - {id: 11111111-aaaa-4aaa-8aaa-000000000001, userPrincipalName: jdoe@contoso.onmicrosoft.com}
  - {id: 11111111-aaaa-4aaa-8aaa-000000000002, userPrincipalName: asmith@contoso.onmicrosoft.com}
  - {id: 11111111-aaaa-4aaa-8aaa-000000000003, userPrincipalName: breakglass1@contoso.onmicrosoft.com}
  - {id: 11111111-aaaa-4aaa-8aaa-000000000004, userPrincipalName: breakglass2@contoso.onmicrosoft.com}
groups:
  - {id: 22222222-bbbb-4bbb-8bbb-000000000001, displayName: sg-finance}
  - {id: 22222222-bbbb-4bbb-8bbb-000000000002, displayName: sg-contractors}
  - {id: 22222222-bbbb-4bbb-8bbb-000000000003, displayName: sg-emergency-access}
  - {id: 22222222-bbbb-4bbb-8bbb-000000000004, displayName: sg-privileged-workstations}
namedLocations:
  - {'@odata.type': '#microsoft.graph.ipNamedLocation', id: 33333333-cccc-4ccc-8ccc-000000000001, displayName: Head office, isTrusted: true, ipRanges: [{'@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: 203.0.113.0/24}]}
  - {'@odata.type': '#microsoft.graph.countryNamedLocation', id: 33333333-cccc-4ccc-8ccc-000000000002, displayName: Blocked countries, countriesAndRegions: [KP, IR], includeUnknownCountriesAndRegions: true}
  - {'@odata.type': '#microsoft.graph.compliantNetworkNamedLocation', id: 3d46dbda-8382-466a-856d-eb00cbc6b910, displayName: All Compliant Network Locations, compliantNetworkType: allTenantCompliantNetworks, isTrusted: true}
authenticationStrengthPolicies:
  - {id: 44444444-dddd-4ddd-8ddd-000000000001, displayName: FIDO2 only, allowedCombinations: [fido2]}
servicePrincipals:
  - {displayName: Office 365 Exchange Online, appId: 00000002-0000-0ff1-ce00-000000000000}
  - {displayName: Office 365 SharePoint Online, appId: 00000003-0000-0ff1-ce00-000000000000}
  - {displayName: Microsoft Teams Services, appId: cc15fd57-2c6c-4117-a88c-83b1d56b4bbe}
  - {displayName: Windows Azure Service Management API, appId: 797f4846-ba00-4fd7-ba43-dac1f8f63013}
  - {id: 55555555-eeee-4eee-8eee-000000000001, displayName: billing-export, appId: 5b0e1a2c-3d4f-4a6b-8c7d-9e0f1a2b3c01}
  - {id: 55555555-eeee-4eee-8eee-000000000002, displayName: inventory-sync, appId: 5b0e1a2c-3d4f-4a6b-8c7d-9e0f1a2b3c02}
  - {id: 55555555-eeee-4eee-8eee-000000000003, displayName: billing-export, appId: 5b0e1a2c-3d4f-4a6b-8c7d-9e0f1a2b3c03}
"#;

/// Properties a write cannot set: compared by neither side.
const READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "modifiedDateTime",
    "deletedDateTime",
    "templateId",
];

fn corpus() -> Vec<Value> {
    let text = std::fs::read_to_string(
        common::fixtures::repo().join("tests/fixtures/conditional-access-corpus.json"),
    )
    .unwrap();
    let page: Value = serde_json::from_str(&text).unwrap();
    page["value"].as_array().unwrap().clone()
}

async fn tenant(with_corpus: bool) -> Simulator {
    let mut seed = Seed::from_yaml(DIRECTORY).unwrap();
    if with_corpus {
        seed.conditional_access_policies = corpus();
    }
    common::start(SimConfig {
        seed: Some(seed),
        ca_rps: 1000.0,
        throttle: false,
        ..SimConfig::default()
    })
    .await
}

fn connection(sim: &Simulator) -> ManifestSet {
    let yaml = format!(
        "apiVersion: sessionops.io/v1alpha1\nkind: ClusterTenantConnection\nmetadata: {{name: contoso}}\nspec:\n  tenantId: {}\n  clientId: {}\n  endpoints: {{graph: \"{2}\", login: \"{2}\"}}\n  credentials: {{clientSecret: {{secretRef: {{name: graph, namespace: sessionops-system}}}}}}\n  allowedNamespaces: [identity]\n",
        sim.tenant_id(),
        sim.client_id(),
        sim.base_url()
    );
    manifest::load_str(Path::new("tenant.yaml"), &yaml).unwrap()
}

fn env(sim: &Simulator) -> HashMap<String, String> {
    [(
        "AZURE_CLIENT_SECRET".to_owned(),
        sim.client_secret().to_owned(),
    )]
    .into()
}

fn fast(config: &mut sessionops_graph::GraphConfig) {
    config.ca_requests_per_second = 1000.0;
}

/// The corpus policies as the tenant's beta endpoint returns them.
async fn read_back(sim: &Simulator) -> Vec<Value> {
    common::unpaced_client(sim)
        .list_all(
            GraphRequest::get("/identity/conditionalAccess/policies").version(ApiVersion::Beta),
        )
        .await
        .unwrap()
}

/// Every difference between `original` and `copy`, by JSON path: read-only properties and
/// annotations aside (`@odata.type`, which names a derived type, counts), the expanded
/// authentication strength compared by its id.
fn differences(original: &Value, copy: &Value, path: &str, out: &mut Vec<String>) {
    match (original, copy) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let annotation = key.contains('@') && key != "@odata.type";
                if annotation || (path.is_empty() && READ_ONLY.contains(&key.as_str())) {
                    continue;
                }
                let child = format!("{path}/{key}");
                let (left, right) = (a.get(key.as_str()), b.get(key.as_str()));
                if key == "authenticationStrength" {
                    let id = |v: Option<&Value>| v.and_then(|v| v.get("id")).cloned();
                    if id(left) != id(right) {
                        out.push(format!("{child}: {:?} != {:?}", id(left), id(right)));
                    }
                    continue;
                }
                match (left, right) {
                    (Some(left), Some(right)) => differences(left, right, &child, out),
                    _ => out.push(format!("{child}: {left:?} != {right:?}")),
                }
            }
        }
        (a, b) if a != b => out.push(format!("{path}: {a} != {b}")),
        _ => {}
    }
}

/// The corpus uses every managed field with a value other than an empty policy's, and holds
/// at least 40 policies.
#[test]
fn the_corpus_sets_every_managed_field() {
    let policies: Vec<ConditionalAccessPolicy> = corpus()
        .into_iter()
        .map(|p| serde_json::from_value(p).unwrap())
        .collect();
    assert!(policies.len() >= 40, "{} policies", policies.len());
    let empty: ConditionalAccessPolicy =
        serde_json::from_value(json!({"displayName": "", "state": "enabled"})).unwrap();
    let unused: Vec<&str> = MANAGED_FIELDS
        .iter()
        .filter(|field| {
            let default = (field.normalize)(&empty);
            policies.iter().all(|p| (field.normalize)(p) == default)
        })
        .map(|field| field.path)
        .collect();
    assert_eq!(
        unused,
        Vec::<&str>::new(),
        "managed fields no corpus policy sets"
    );
}

#[tokio::test]
async fn the_corpus_exports_plans_as_is_and_recreates_equal() {
    let originals = corpus();
    let sim = tenant(true).await;
    let mut set = connection(&sim);
    let Object::ClusterTenantConnection(connection_object) = &set.objects[0].object else {
        panic!()
    };
    let tenant_ref = TenantRef {
        kind: TenantKind::ClusterTenantConnection,
        name: "contoso".into(),
    };
    let result = export::export(
        &connection_object.spec,
        &tenant_ref,
        "identity",
        &env(&sim),
        &fast,
    )
    .await
    .unwrap();
    assert_eq!(
        result.skipped,
        Vec::new(),
        "every corpus policy is representable"
    );
    // The tree: every policy, both named locations and the custom strength; the
    // compliant-network location and the built-in strengths are named as left out.
    let count = |kind: Kind| result.exported.iter().filter(|e| e.kind == kind).count();
    assert_eq!(count(Kind::SessionPolicy), originals.len());
    assert_eq!(count(Kind::NamedLocation), 2);
    assert_eq!(count(Kind::AuthenticationStrength), 1);
    for exported in &result.exported {
        let folder = exported.kind.info().plural;
        assert!(
            exported.file_name.starts_with(&format!("{folder}/")),
            "{}",
            exported.file_name
        );
    }
    let left_out: Vec<(Kind, &str)> = result
        .left_out
        .iter()
        .map(|l| (l.kind, l.display_name.as_str()))
        .collect();
    assert!(
        left_out.contains(&(Kind::NamedLocation, "All Compliant Network Locations"))
            && left_out.contains(&(Kind::AuthenticationStrength, "Phishing-resistant MFA")),
        "{left_out:?}"
    );
    let strength = result
        .exported
        .iter()
        .find(|e| e.kind == Kind::AuthenticationStrength)
        .unwrap();
    assert!(
        strength.yaml.contains("displayName: FIDO2 only")
            && strength
                .yaml
                .contains("44444444-dddd-4ddd-8ddd-000000000001"),
        "{}",
        strength.yaml
    );
    // Names where they are unique, keywords for Graph's well-known ids.
    let yaml = |name: &str| {
        let original = originals.iter().find(|p| p["displayName"] == name).unwrap();
        let id = original["id"].as_str().unwrap();
        &result
            .exported
            .iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("{name} exported"))
            .yaml
    };
    assert!(
        yaml("CA044: Custom strength for finance").contains("authenticationStrength: FIDO2 only")
    );
    assert!(yaml("CA029: Block outside the compliant network").contains("AllCompliantNetworks"));
    assert!(
        yaml("CA001: Require MFA for all users").contains(
            "Created from the Microsoft template \"c7503427-338e-4c5e-902d-abe252abfb43\""
        ),
        "templateId is named, read-only"
    );
    let exchange = yaml("CA030: MFA outside trusted locations for Exchange");
    assert!(exchange.contains("Head office") && exchange.contains("Office 365 Exchange Online"));
    // Two service principals share a name: ids, never a name that would resolve to another.
    let workloads = yaml("CA019: Block workload identities outside known networks");
    assert!(
        workloads.contains("55555555-eeee-4eee-8eee-000000000001")
            && !workloads.contains("billing-export")
            && workloads.contains("inventory-sync"),
        "{workloads}"
    );
    for exported in &result.exported {
        let loaded = manifest::load_str(Path::new(&exported.file_name), &exported.yaml)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", exported.file_name, exported.yaml));
        set.objects.extend(loaded.objects);
    }

    // Plan: every object already as its manifest says. Apply: not one write.
    common::stats(&sim).await;
    common::reset_stats(&sim).await;
    let all = objects::run_all(&set, &env(&sim), true, &fast).await;
    assert_eq!(all.policies.len(), originals.len());
    assert_eq!((all.locations.len(), all.strengths.len()), (2, 1));
    for (key, plan) in all.plans() {
        assert!(matches!(plan, Ok(Plan::NoOp { .. })), "{key}: {plan:?}");
    }
    assert_eq!(common::stats(&sim).await["totals"]["writes"], 0);

    // Each manifest recreates its policy in an empty tenant, equal field by field.
    let empty = tenant(false).await;
    let mut recreate = connection(&empty);
    recreate.objects.extend(set.objects.into_iter().skip(1));
    let reports = policies::run(&recreate, &env(&empty), true, &fast).await;
    for report in &reports {
        assert!(
            matches!(report.plan, Ok(PolicyPlan::Create { .. })) && report.is_ready(),
            "{}: {:?} {:?}",
            report.display_name,
            report.plan,
            report.status
        );
    }
    // A policy that needs beta says so, naming the field.
    let cae = reports
        .iter()
        .find(|r| r.display_name == "CA035: Strict location CAE")
        .and_then(|r| r.status.as_ref())
        .unwrap();
    assert_eq!(cae.beta_fields, ["session.continuousAccessEvaluation"]);
    assert_eq!(cae.graph_version.as_deref(), Some("beta"));
    assert!(
        cae.conditions[0]
            .message
            .contains("through Graph beta, which alone has session.continuousAccessEvaluation"),
        "{:?}",
        cae.conditions
    );
    let copies = read_back(&empty).await;
    assert_eq!(copies.len(), originals.len());
    let mut all = Vec::new();
    for original in &originals {
        let copy = copies
            .iter()
            .find(|c| c["displayName"] == original["displayName"])
            .unwrap_or_else(|| panic!("{} recreated", original["displayName"]));
        let mut found = Vec::new();
        differences(original, copy, "", &mut found);
        all.extend(
            found
                .into_iter()
                .map(|d| format!("{}: {d}", original["displayName"])),
        );
    }
    assert_eq!(all, Vec::<String>::new(), "recreated policies differ");
}

/// Every corpus policy with a property only beta has is refused by v1.0, naming that property
/// the way Graph does (`The property '…' does not exist on type 'microsoft.graph.…'`), and
/// accepted by beta.
#[tokio::test]
async fn v1_refuses_what_only_beta_has() {
    let sim = tenant(false).await;
    let client = common::unpaced_client(&sim);
    let mut refused = 0;
    for original in corpus() {
        let policy: ConditionalAccessPolicy = serde_json::from_value(original.clone()).unwrap();
        let mut body = policy.to_write_body();
        prune_nulls(&mut body);
        let mut beta_only = beta_only_keys(&body);
        // The documented v1.0 known issue the simulator reproduces (`conditionalaccesspolicy.md`):
        // everyTime needs beta.
        if body["sessionControls"]["signInFrequency"]["frequencyInterval"] == "everyTime" {
            beta_only.push("everyTime".to_owned());
        }
        let v1 = client
            .send(
                GraphRequest::post("/identity/conditionalAccess/policies", body.clone())
                    .version(ApiVersion::V1),
            )
            .await;
        match (&v1, beta_only.as_slice()) {
            (Ok(_), []) => {}
            (Err(error), [_, ..]) => {
                let text = error.to_string();
                assert!(
                    beta_only.iter().any(|key| {
                        text.contains(&format!("The property '{key}' does not exist on type"))
                            || (key == "everyTime"
                                && text
                                    .contains("'everyTime' is not supported on the v1.0 endpoint"))
                    }),
                    "{}: {text}",
                    policy.display_name
                );
                refused += 1;
                client
                    .send(
                        GraphRequest::post("/identity/conditionalAccess/policies", body)
                            .version(ApiVersion::Beta),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{}: beta refused: {e}", policy.display_name));
            }
            (outcome, keys) => panic!(
                "{}: v1.0 answered {:?} for beta-only {keys:?}",
                policy.display_name,
                outcome.as_ref().map(|_| ())
            ),
        }
    }
    assert!(
        refused >= 8,
        "{refused} corpus policies use beta-only properties"
    );
}

/// Nulls and empty collections removed, as a client writing only what it sets would send.
fn prune_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !v.is_null() && *v != json!([]));
        map.values_mut().for_each(prune_nulls);
    }
}

/// The keys of a write body that only beta defines (the beta type mappings of
/// `microsoftgraph/msgraph-metadata`; the simulator's schema cites them per property).
fn beta_only_keys(body: &Value) -> Vec<String> {
    const BETA_ONLY: &[(&str, &str)] = &[
        ("conditions", "agentIdRiskLevels"),
        ("conditions", "deviceStates"),
        ("applications", "globalSecureAccess"),
        ("applications", "networkAccess"),
        ("clientApplications", "includeAgentIdServicePrincipals"),
        ("clientApplications", "excludeAgentIdServicePrincipals"),
        ("clientApplications", "agentIdServicePrincipalFilter"),
        ("devices", "includeDevices"),
        ("devices", "excludeDevices"),
        ("devices", "includeDeviceStates"),
        ("devices", "excludeDeviceStates"),
        ("sessionControls", "continuousAccessEvaluation"),
        ("sessionControls", "globalSecureAccessFilteringProfile"),
    ];
    let mut found = Vec::new();
    let mut visit = |parent: &str, object: &Value| {
        if let Value::Object(map) = object {
            for key in map.keys() {
                if BETA_ONLY.contains(&(parent, key.as_str())) {
                    found.push(key.clone());
                }
            }
        }
    };
    let conditions = &body["conditions"];
    visit("conditions", conditions);
    for part in ["applications", "clientApplications", "devices"] {
        visit(part, &conditions[part]);
    }
    visit("sessionControls", &body["sessionControls"]);
    found
}

/// Every SessionPolicy and NamedLocation in `examples/` applies to the demo tenant (which has the
/// names they use) in one apply, the policy that names a location of the same apply included,
/// and then plans no change: the examples are objects Graph (as the simulator reproduces it)
/// takes.
#[tokio::test]
async fn every_example_policy_applies_and_then_plans_no_change() {
    let sim = common::start(SimConfig {
        seed: Some(common::fixtures::demo_seed()),
        ca_rps: 1000.0,
        throttle: false,
        ..SimConfig::default()
    })
    .await;
    let mut paths: Vec<_> = std::fs::read_dir(common::fixtures::repo().join("examples"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                (n.starts_with("policy-")
                    || n.starts_with("named-location-")
                    || n.starts_with("authentication-strength-"))
                    && n.ends_with(".yaml")
            })
        })
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "{paths:?}");
    let mut set = manifest::load(&paths, false).unwrap();
    let mut connection = common::fixtures::example_connection(&sim);
    connection.spec.allowed_namespaces = vec!["identity".into()];
    set.objects.insert(
        0,
        manifest::Loaded {
            object: Object::ClusterTenantConnection(Box::new(connection)),
            ..set.objects[0].clone()
        },
    );
    // Before anything exists, the policy naming a location of the same set waits for it.
    let planned = objects::run_all(&set, &env(&sim), false, &fast).await;
    let waiting = planned
        .policies
        .iter()
        .find(|r| r.key == "identity/block-blocked-countries")
        .expect("the example policy naming a location");
    let Err(failure) = &waiting.plan else {
        panic!("{:?}", waiting.plan)
    };
    assert_eq!(failure.reason(), Reason::WaitingForDependency, "{failure}");
    assert!(
        failure
            .to_string()
            .contains("NamedLocation identity/blocked-countries"),
        "{failure}"
    );
    let applied = objects::run_all(&set, &env(&sim), true, &fast).await;
    assert_eq!(
        applied.policies.len() + applied.locations.len() + applied.strengths.len(),
        paths.len()
    );
    assert!(applied.locations.len() >= 2 && !applied.strengths.is_empty());
    for (key, plan, ready, status) in applied
        .locations
        .iter()
        .map(|r| (&r.key, &r.plan, r.is_ready(), format!("{:?}", r.status)))
        .chain(
            applied
                .strengths
                .iter()
                .map(|r| (&r.key, &r.plan, r.is_ready(), format!("{:?}", r.status))),
        )
        .chain(
            applied
                .policies
                .iter()
                .map(|r| (&r.key, &r.plan, r.is_ready(), format!("{:?}", r.status))),
        )
    {
        assert!(ready, "{key}: {plan:?} {status}");
    }
    let again = objects::run_all(&set, &env(&sim), false, &fast).await;
    for (key, plan) in again.plans() {
        assert!(matches!(plan, Ok(Plan::NoOp { .. })), "{key}: {plan:?}");
    }
}
