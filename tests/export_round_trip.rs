//! `sessionops export` on a tenant seeded with varied policies (every session control and
//! grant option), then `plan` of the exported manifests: no change. Policies with content the
//! API cannot represent are named, not half-exported.

use sessionops_testkit as common;

use std::collections::HashMap;
use std::path::Path;

use graph_sim::{Seed, SimConfig};
use serde_json::{Value, json};
use sessionops::cli::{export, objects};
use sessionops_api::manifest::{self, ManifestSet, Object};
use sessionops_api::{Endpoints, Kind, TenantKind, TenantRef};
use sessionops_core::tenant_object::Plan;
use sessionops_graph::GraphRequest;
use sessionops_graph::models::Group;

use sessionops_testkit::fixtures::DEMO_SEED as SEED;
const EXTRA_SEED: &str = "
namedLocations:
  - {'@odata.type': '#microsoft.graph.ipNamedLocation', id: 1e6b7c4a-2f3d-4e5a-8b9c-0d1e2f3a4b5c, displayName: Head office, isTrusted: true, ipRanges: [{'@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: 203.0.113.0/24}]}
authenticationStrengthPolicies:
  - {id: 6f1c9a6e-3d0b-4f41-9d0f-3c2b1a0e9f11, displayName: FIDO2 only, allowedCombinations: [fido2]}
";
const OFFICE_EXCHANGE: &str = "00000002-0000-0ff1-ce00-000000000000";
const HEAD_OFFICE: &str = "1e6b7c4a-2f3d-4e5a-8b9c-0d1e2f3a4b5c";
const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const SECURITY_ADMIN: &str = "194ae4cb-b126-40b2-bd5b-6091b380977d";

fn policy(
    name: &str,
    users: Value,
    apps: Value,
    conditions: Value,
    grant: Value,
    session: Value,
) -> Value {
    let mut conditions_body =
        json!({"users": users, "applications": apps, "clientAppTypes": ["all"]});
    for (key, value) in conditions.as_object().unwrap() {
        conditions_body[key] = value.clone();
    }
    json!({"displayName": name, "state": "enabled", "conditions": conditions_body, "grantControls": grant, "sessionControls": session})
}

fn frequency(
    value: Option<i32>,
    unit: Option<&str>,
    interval: &str,
    authentication: &str,
) -> Value {
    json!({"signInFrequency": {"isEnabled": true, "value": value, "type": unit, "frequencyInterval": interval, "authenticationType": authentication}})
}

fn grant(operator: &str, controls: &[&str], strength: Option<&str>) -> Value {
    json!({"operator": operator, "builtInControls": controls, "authenticationStrength": strength.map(|id| json!({"id": id}))})
}

/// 36 policies covering every session control and grant option, one with content no
/// metadata describes (`times`: exported, that content named and left alone) and one with a
/// value the spec cannot write (not exported).
fn varied_policies(jdoe: &str, asmith: &str, kiosks: &str, emergency: &str) -> Vec<Value> {
    let all_users = json!({"includeUsers": ["All"], "excludeGroups": [emergency]});
    let all_apps = json!({"includeApplications": ["All"]});
    let none = json!({});
    let primary = "primaryAndSecondaryAuthentication";
    let mut policies = vec![
        policy(
            "f-1h",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            frequency(Some(1), Some("hours"), "timeBased", primary),
        ),
        policy(
            "f-23h",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            frequency(Some(23), Some("hours"), "timeBased", primary),
        ),
        policy(
            "f-24h-as-hours",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            frequency(Some(24), Some("hours"), "timeBased", primary),
        ),
        policy(
            "f-7d",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            frequency(Some(7), Some("days"), "timeBased", primary),
        ),
        policy(
            "f-365d-secondary",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            frequency(
                Some(365),
                Some("days"),
                "timeBased",
                "secondaryAuthentication",
            ),
        ),
        policy(
            "f-every-time",
            all_users.clone(),
            all_apps.clone(),
            json!({"signInRiskLevels": ["high", "medium"]}),
            grant("OR", &["mfa"], None),
            frequency(None, None, "everyTime", primary),
        ),
        policy(
            "browser-never",
            all_users.clone(),
            all_apps.clone(),
            json!({"clientAppTypes": ["browser"]}),
            Value::Null,
            json!({"persistentBrowser": {"isEnabled": true, "mode": "never"}}),
        ),
        policy(
            "browser-always",
            json!({"includeUsers": [jdoe]}),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            json!({"persistentBrowser": {"isEnabled": true, "mode": "always"}}),
        ),
        policy(
            "mcas-monitor",
            all_users.clone(),
            json!({"includeApplications": ["Office365"]}),
            none.clone(),
            Value::Null,
            json!({"cloudAppSecurity": {"isEnabled": true, "cloudAppSecurityType": "monitorOnly"}}),
        ),
        policy(
            "mcas-block-downloads",
            all_users.clone(),
            json!({"includeApplications": [OFFICE_EXCHANGE]}),
            none.clone(),
            Value::Null,
            json!({"cloudAppSecurity": {"isEnabled": true, "cloudAppSecurityType": "blockDownloads"}}),
        ),
        policy(
            "mcas-configured",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            json!({"cloudAppSecurity": {"isEnabled": true, "cloudAppSecurityType": "mcasConfigured"}}),
        ),
        policy(
            "cae-strict",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            json!({"continuousAccessEvaluation": {"mode": "strictEnforcement"}}),
        ),
        policy(
            "cae-disabled",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            json!({"continuousAccessEvaluation": {"mode": "disabled"}}),
        ),
        policy(
            "cae-strict-location",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            json!({"continuousAccessEvaluation": {"mode": "strictLocation"}}),
        ),
        policy(
            "no-resilience",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            json!({"disableResilienceDefaults": true}),
        ),
        policy(
            "token-protection",
            all_users.clone(),
            json!({"includeApplications": [OFFICE_EXCHANGE]}),
            json!({"platforms": {"includePlatforms": ["windows"], "excludePlatforms": []}}),
            Value::Null,
            json!({"secureSignInSession": {"isEnabled": true}}),
        ),
        policy(
            "app-restrictions",
            all_users.clone(),
            json!({"includeApplications": ["Office365"]}),
            none.clone(),
            Value::Null,
            json!({"applicationEnforcedRestrictions": {"isEnabled": true}}),
        ),
        policy(
            "g-mfa",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            grant("OR", &["mfa"], None),
            Value::Null,
        ),
        policy(
            "g-compliant-or-joined",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            grant("OR", &["compliantDevice", "domainJoinedDevice"], None),
            Value::Null,
        ),
        policy(
            "g-approved-and-compliant-app",
            all_users.clone(),
            all_apps.clone(),
            json!({"platforms": {"includePlatforms": ["android", "iOS"], "excludePlatforms": []}}),
            grant(
                "AND",
                &["approvedApplication", "compliantApplication"],
                None,
            ),
            Value::Null,
        ),
        policy(
            "g-password-change",
            json!({"includeUsers": ["All"]}),
            all_apps.clone(),
            json!({"userRiskLevels": ["high"]}),
            grant("AND", &["mfa", "passwordChange"], None),
            frequency(None, None, "everyTime", primary),
        ),
        policy(
            "g-block-legacy",
            all_users.clone(),
            all_apps.clone(),
            json!({"clientAppTypes": ["exchangeActiveSync", "other"]}),
            grant("OR", &["block"], None),
            Value::Null,
        ),
        policy(
            "g-strength-mfa",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            grant("OR", &[], Some("00000000-0000-0000-0000-000000000002")),
            Value::Null,
        ),
        policy(
            "g-strength-passwordless",
            all_users.clone(),
            all_apps.clone(),
            none.clone(),
            grant("OR", &[], Some("00000000-0000-0000-0000-000000000003")),
            Value::Null,
        ),
        policy(
            "g-strength-phishing-resistant-admins",
            json!({"includeRoles": [GLOBAL_ADMIN, SECURITY_ADMIN]}),
            all_apps.clone(),
            none.clone(),
            grant(
                "AND",
                &["compliantDevice"],
                Some("00000000-0000-0000-0000-000000000004"),
            ),
            frequency(Some(4), Some("hours"), "timeBased", primary),
        ),
        policy(
            "g-strength-custom",
            json!({"includeUsers": [jdoe, asmith]}),
            all_apps.clone(),
            none.clone(),
            grant("OR", &[], Some("6f1c9a6e-3d0b-4f41-9d0f-3c2b1a0e9f11")),
            Value::Null,
        ),
        policy(
            "c-groups",
            json!({"includeGroups": [kiosks], "excludeUsers": [jdoe]}),
            all_apps.clone(),
            none.clone(),
            Value::Null,
            frequency(Some(2), Some("hours"), "timeBased", primary),
        ),
        policy(
            "c-guests",
            json!({"includeUsers": ["GuestsOrExternalUsers"]}),
            json!({"includeApplications": ["MicrosoftAdminPortals"]}),
            none.clone(),
            grant("OR", &["block"], None),
            Value::Null,
        ),
        policy(
            "c-nobody-yet",
            json!({"includeUsers": ["None"]}),
            all_apps.clone(),
            none.clone(),
            grant("OR", &["mfa"], None),
            Value::Null,
        ),
        policy(
            "c-locations",
            all_users.clone(),
            all_apps.clone(),
            json!({"locations": {"includeLocations": ["All"], "excludeLocations": [HEAD_OFFICE, "AllTrusted"]}}),
            grant("OR", &["mfa"], None),
            Value::Null,
        ),
        policy(
            "c-platforms",
            all_users.clone(),
            all_apps.clone(),
            json!({"platforms": {"includePlatforms": ["all"], "excludePlatforms": ["linux", "macOS"]}}),
            grant("OR", &["compliantDevice"], None),
            Value::Null,
        ),
        policy(
            "c-device-filter",
            all_users.clone(),
            all_apps.clone(),
            json!({"devices": {"deviceFilter": {"mode": "exclude", "rule": "device.isCompliant -eq True -or device.trustType -eq \"ServerAD\""}}}),
            Value::Null,
            json!({"persistentBrowser": {"isEnabled": true, "mode": "never"}}),
        ),
        policy(
            "c-risk",
            all_users.clone(),
            all_apps.clone(),
            json!({"signInRiskLevels": ["low", "none"], "userRiskLevels": ["medium"]}),
            grant("OR", &["mfa"], None),
            Value::Null,
        ),
        policy(
            "c-excluded-apps",
            all_users.clone(),
            json!({"includeApplications": ["All"], "excludeApplications": [OFFICE_EXCHANGE, "Office365"]}),
            json!({"clientAppTypes": ["mobileAppsAndDesktopClients", "easSupported"]}),
            grant("OR", &["mfa"], None),
            Value::Null,
        ),
    ];
    policies[4]["state"] = json!("disabled");
    policies[5]["state"] = json!("enabledForReportingButNotEnforced");
    let mut terms = policy(
        "g-terms-of-use",
        all_users.clone(),
        all_apps.clone(),
        none.clone(),
        grant("OR", &[], None),
        Value::Null,
    );
    terms["grantControls"]["termsOfUse"] = json!(["0ec9f6a6-e8b5-4c26-9c8e-2f4d5e6a7b8c"]);
    let actions = policy(
        "c-user-actions",
        all_users.clone(),
        json!({"includeApplications": [], "includeUserActions": ["urn:user:registersecurityinfo"]}),
        none.clone(),
        grant("OR", &["mfa"], None),
        Value::Null,
    );
    policies.push(terms);
    policies.push(actions);
    // Not representable: the export must name them. `times` is a beta key that responses carry
    // and no metadata describes; the user action is none Microsoft documents.
    let times = policy(
        "x-times",
        all_users.clone(),
        all_apps.clone(),
        json!({"times": {"included": {"@odata.type": "#microsoft.graph.conditionalAccessAllTimes"}}}),
        grant("OR", &["mfa"], None),
        Value::Null,
    );
    let action = policy(
        "x-unknown-user-action",
        all_users,
        json!({"includeApplications": [], "includeUserActions": ["urn:user:registerphone"]}),
        none,
        grant("OR", &["mfa"], None),
        Value::Null,
    );
    policies.push(times);
    policies.push(action);
    policies
}

#[tokio::test]
async fn export_then_plan_changes_nothing() {
    let seed = Seed::from_yaml(&format!("{SEED}{EXTRA_SEED}")).unwrap();
    let sim = common::start(SimConfig {
        seed: Some(seed),
        ca_rps: 50.0,
        ..SimConfig::default()
    })
    .await;
    let client = common::client(&sim);
    let groups: Vec<Group> = client.list_all(GraphRequest::get("/groups")).await.unwrap();
    let group = |name: &str| {
        groups
            .iter()
            .find(|g| g.display_name.as_deref() == Some(name))
            .unwrap()
            .id
            .clone()
    };
    let user = |upn: &str| {
        let base = sim.base_url();
        let upn = upn.to_owned();
        async move {
            let state: Value = reqwest::get(format!("{base}/_sim/users/{upn}"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            state["id"].as_str().unwrap().to_owned()
        }
    };
    let (jdoe, asmith) = (
        user("jdoe@contoso.onmicrosoft.com").await,
        user("asmith@contoso.onmicrosoft.com").await,
    );
    let policies_to_seed = varied_policies(
        &jdoe,
        &asmith,
        &group("sg-shared-kiosks"),
        &group("sg-emergency-access"),
    );
    let http = reqwest::Client::new();
    for body in &policies_to_seed {
        let response = http
            .post(format!("{}/_sim/portal/policies", sim.base_url()))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            201,
            "{}: {}",
            body["displayName"],
            response.text().await.unwrap()
        );
    }

    let connection_yaml = format!(
        "apiVersion: sessionops.io/v1alpha1\nkind: ClusterTenantConnection\nmetadata: {{name: contoso}}\nspec:\n  tenantId: {}\n  clientId: {}\n  endpoints: {{graph: \"{2}\", login: \"{2}\"}}\n  credentials: {{clientSecret: {{secretRef: {{name: graph, namespace: sessionops-system}}}}}}\n  allowedNamespaces: [identity]\n",
        sim.tenant_id(),
        sim.client_id(),
        sim.base_url()
    );
    let mut set: ManifestSet =
        manifest::load_str(Path::new("tenant.yaml"), &connection_yaml).unwrap();
    let env: HashMap<String, String> = [(
        "AZURE_CLIENT_SECRET".to_owned(),
        sim.client_secret().to_owned(),
    )]
    .into();
    let Object::ClusterTenantConnection(connection) = &set.objects[0].object else {
        panic!()
    };
    let tenant_ref = TenantRef {
        kind: TenantKind::ClusterTenantConnection,
        name: "contoso".into(),
    };
    let result = export::export(&connection.spec, &tenant_ref, "identity", &env, &|_| {})
        .await
        .unwrap();

    // Export never refuses for content it does not model: x-times is exported, its `times`
    // named on the manifest and left as it is. An undocumented user action is a value of a
    // modelled field that the spec cannot write: exporting without it would change the
    // tenant, so that policy alone is not exported.
    assert_eq!(
        result
            .exported
            .iter()
            .filter(|e| e.kind == Kind::SessionPolicy)
            .count(),
        37,
        "every representable policy exported; skipped: {:?}",
        result.skipped
    );
    let skipped: Vec<(String, String)> = result
        .skipped
        .iter()
        .map(|s| (s.display_name.clone(), s.reasons.join(",")))
        .collect();
    assert_eq!(
        skipped,
        [(
            "x-unknown-user-action".to_owned(),
            "conditions.applications.includeUserActions urn:user:registerphone".to_owned()
        )]
    );
    let partial: Vec<(&str, &[String])> = result
        .partial
        .iter()
        .map(|p| (p.display_name.as_str(), p.unmodelled.as_slice()))
        .collect();
    assert_eq!(partial, [("x-times", &["conditions.times".to_owned()][..])]);
    let times = result
        .exported
        .iter()
        .find(|e| e.file_name == "sessionpolicies/x-times.yaml")
        .unwrap();
    assert!(
        times.yaml.contains("left as it is in the tenant")
            && times.yaml.contains("# conditions.times\n"),
        "{}",
        times.yaml
    );
    // Names where they resolve, a comment naming the source policy, valid manifests.
    let kiosks = result
        .exported
        .iter()
        .find(|e| e.file_name == "sessionpolicies/c-groups.yaml")
        .unwrap();
    assert!(
        kiosks.yaml.contains("sg-shared-kiosks")
            && kiosks.yaml.contains("jdoe@contoso.onmicrosoft.com"),
        "{}",
        kiosks.yaml
    );
    assert!(
        kiosks.yaml.starts_with("# Exported by `sessionops export`")
            && kiosks.yaml.contains(&kiosks.id)
    );
    let admins = result
        .exported
        .iter()
        .find(|e| e.file_name == "sessionpolicies/g-strength-phishing-resistant-admins.yaml")
        .unwrap();
    assert!(
        admins.yaml.contains("Global Administrator") && admins.yaml.contains("phishingResistant"),
        "{}",
        admins.yaml
    );
    for exported in &result.exported {
        let loaded = manifest::load_str(Path::new(&exported.file_name), &exported.yaml)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", exported.file_name, exported.yaml));
        set.objects.extend(loaded.objects);
    }
    let Object::ClusterTenantConnection(connection) = &mut set.objects[0].object else {
        panic!()
    };
    connection.spec.endpoints = Some(Endpoints {
        graph: Some(sim.base_url()),
        login: Some(sim.base_url()),
    });

    common::stats(&sim).await;
    common::reset_stats(&sim).await;
    let env: HashMap<String, String> = [(
        "AZURE_CLIENT_SECRET".to_owned(),
        sim.client_secret().to_owned(),
    )]
    .into();
    let all = objects::run_all(&set, &env, false, &|c| c.ca_requests_per_second = 50.0).await;
    assert_eq!(all.policies.len(), 37);
    let others = result.exported.len() - 37;
    assert_eq!(all.locations.len() + all.strengths.len(), others);
    for (key, plan) in all.plans() {
        match plan {
            Ok(Plan::NoOp { .. }) => {}
            Ok(Plan::Update { changes, .. }) => {
                panic!("{key}: exported manifest plans changes: {changes:?}")
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    assert_eq!(common::stats(&sim).await["totals"]["writes"], 0);
}
