use serde_json::{Value, json};

use super::*;
use sessionops_api::SessionPolicy;

fn spec(yaml: &str) -> SessionPolicySpec {
    let policy: SessionPolicy = serde_saphyr::from_str(yaml).expect("test manifest parses");
    policy.spec
}

const TWELVE_HOURS: &str = "
apiVersion: sessionops.io/v1alpha1
kind: SessionPolicy
metadata: {name: sign-in-every-12h, namespace: identity}
spec:
  tenantRef: {name: contoso}
  state: enabled
  assignments:
    users: {include: [All], exclude: [contractor@contoso.com]}
    groups: {exclude: [sg-shared-kiosks]}
    applications: {include: [All]}
  session:
    signInFrequency: 12h
";

fn resolutions() -> Resolutions {
    let mut r = Resolutions::default();
    r.insert(
        NameKind::User,
        "contractor@contoso.com",
        Resolution::Id("U-CONTRACTOR".into()),
    );
    r.insert(
        NameKind::Group,
        "sg-shared-kiosks",
        Resolution::Id("g-kiosks".into()),
    );
    r.insert(
        NameKind::Role,
        "Global Administrator",
        Resolution::Id("62e90394-69f5-4237-9190-012177145e10".into()),
    );
    r.insert(
        NameKind::Location,
        "Head office",
        Resolution::Id("loc-1".into()),
    );
    r
}

fn protected() -> ProtectedIds {
    ProtectedIds {
        users: vec!["u-breakglass1".into()],
        groups: vec!["g-emergency".into()],
    }
}

fn desired(yaml: &str) -> DesiredPolicy {
    desired_policy(&spec(yaml), "identity", "p", &protected(), &resolutions())
        .expect("desired policy")
}

/// The policy as Graph would answer a GET for it: every property present, ids as stored.
fn as_graph_returns(desired: &DesiredPolicy, id: &str) -> ConditionalAccessPolicy {
    let mut body = desired.body.to_write_body();
    body["id"] = json!(id);
    body["createdDateTime"] = json!("2026-11-27T10:00:00Z");
    body["modifiedDateTime"] = json!("2026-11-27T10:00:00Z");
    body["templateId"] = Value::Null;
    serde_json::from_value(body).unwrap()
}

#[test]
fn builds_the_graph_body_with_ids_and_protected_principals() {
    let desired = desired(TWELVE_HOURS);
    assert_eq!(desired.version, ApiVersion::V1);
    assert_eq!(
        desired.body.to_write_body(),
        json!({
            "displayName": "sessionops identity/p",
            "state": "enabled",
            "conditions": {
                "users": {
                    "includeUsers": ["All"], "excludeUsers": ["u-contractor", "u-breakglass1"],
                    "includeGroups": [], "excludeGroups": ["g-kiosks", "g-emergency"],
                    "includeRoles": [], "excludeRoles": [],
                    "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null,
                },
                "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": [], "applicationFilter": null},
                "clientAppTypes": ["all"],
                "platforms": null, "locations": null, "devices": null,
                "signInRiskLevels": [], "userRiskLevels": [], "servicePrincipalRiskLevels": [],
                "insiderRiskLevels": null, "clientApplications": null, "authenticationFlows": null,
            },
            "grantControls": null,
            "sessionControls": {
                "applicationEnforcedRestrictions": null, "cloudAppSecurity": null,
                "signInFrequency": {"isEnabled": true, "value": 12, "type": "hours", "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased"},
                "persistentBrowser": null, "disableResilienceDefaults": false, "secureSignInSession": null,
            },
        })
    );
    assert_eq!(
        desired
            .resolved
            .get("user:contractor@contoso.com")
            .map(String::as_str),
        Some("U-CONTRACTOR")
    );
    assert_eq!(
        desired
            .resolved
            .get("group:sg-shared-kiosks")
            .map(String::as_str),
        Some("g-kiosks")
    );
}

#[test]
fn every_unresolved_name_is_reported_at_once() {
    let yaml = TWELVE_HOURS
        .replace("contractor@contoso.com", "ghost@contoso.com")
        .replace("sg-shared-kiosks", "sg-nobody");
    let error =
        desired_policy(&spec(&yaml), "identity", "p", &protected(), &resolutions()).unwrap_err();
    assert_eq!(
        error,
        PolicyError::NameNotFound(vec![
            MissingName {
                kind: NameKind::User,
                name: "ghost@contoso.com".into()
            },
            MissingName {
                kind: NameKind::Group,
                name: "sg-nobody".into()
            }
        ])
    );
    assert_eq!(error.reason(), Reason::NameNotFound);
    let mut ambiguous = resolutions();
    ambiguous.insert(
        NameKind::Group,
        "sg-shared-kiosks",
        Resolution::Ambiguous(vec!["g1".into(), "g2".into()]),
    );
    let error = desired_policy(
        &spec(TWELVE_HOURS),
        "identity",
        "p",
        &protected(),
        &ambiguous,
    )
    .unwrap_err();
    assert!(matches!(error, PolicyError::AmbiguousName(_)));
}

#[test]
fn grants_strengths_and_beta_controls() {
    let yaml = "
apiVersion: sessionops.io/v1alpha1
kind: SessionPolicy
metadata: {name: admins, namespace: identity}
spec:
  tenantRef: {name: contoso}
  displayName: Admins
  state: reportOnly
  assignments:
    roles: {include: [Global Administrator]}
    applications: {include: [All]}
  conditions:
    platforms: {include: [all], exclude: [linux]}
    locations: {include: [All], exclude: [Head office, AllTrusted]}
    deviceFilter: {mode: exclude, rule: device.isCompliant -eq True}
    signInRiskLevels: [high]
  grant:
    operator: AND
    controls: [compliantDevice]
    authenticationStrength: phishingResistant
  session:
    signInFrequency: everyTime
    persistentBrowser: never
    continuousAccessEvaluation: strictLocation
    tokenProtection: true
";
    let desired = desired(yaml);
    assert_eq!(
        desired.version,
        ApiVersion::Beta,
        "everyTime and CAE need beta"
    );
    let body = desired.body.to_write_body();
    assert_eq!(body["state"], "enabledForReportingButNotEnforced");
    assert_eq!(body["displayName"], "Admins");
    assert_eq!(
        body["conditions"]["users"]["includeRoles"],
        json!(["62e90394-69f5-4237-9190-012177145e10"])
    );
    assert_eq!(
        body["conditions"]["locations"],
        json!({"includeLocations": ["All"], "excludeLocations": ["loc-1", "AllTrusted"]})
    );
    assert_eq!(
        body["conditions"]["platforms"],
        json!({"includePlatforms": ["all"], "excludePlatforms": ["linux"]})
    );
    assert_eq!(
        body["conditions"]["devices"],
        json!({"deviceFilter": {"mode": "exclude", "rule": "device.isCompliant -eq True"}})
    );
    assert_eq!(
        body["grantControls"],
        json!({"operator": "AND", "builtInControls": ["compliantDevice"], "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004"}})
    );
    assert_eq!(
        body["sessionControls"]["signInFrequency"],
        json!({"isEnabled": true, "value": null, "type": null, "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "everyTime"})
    );
    assert_eq!(
        body["sessionControls"]["continuousAccessEvaluation"],
        json!({"mode": "strictLocation"})
    );
    assert_eq!(
        body["sessionControls"]["secureSignInSession"],
        json!({"isEnabled": true})
    );
    assert_eq!(
        desired
            .resolved
            .get("authenticationStrength:phishingResistant")
            .map(String::as_str),
        Some("00000000-0000-0000-0000-000000000004")
    );
}

#[test]
fn a_policy_as_graph_returns_it_is_in_sync() {
    let desired = desired(TWELVE_HOURS);
    let observed = as_graph_returns(&desired, "p-1");
    assert_eq!(
        plan(&desired, Found::ById(&observed), false),
        PolicyPlan::NoOp {
            id: "p-1".into(),
            adopted: false
        }
    );
    assert_eq!(
        plan(&desired, Found::ByName(&observed), false),
        PolicyPlan::NoOp {
            id: "p-1".into(),
            adopted: true
        }
    );
}

#[test]
fn representation_differences_are_not_drift() {
    let desired = desired(TWELVE_HOURS);
    let mut observed = as_graph_returns(&desired, "p-1");
    // Graph's ordering and casing of sets, nulls for empty lists, explicit disabled controls,
    // an operator that does not matter with one requirement, and properties the API does not model.
    let users = observed.conditions.users.as_mut().unwrap();
    users.exclude_users.reverse();
    users.exclude_users[0] = users.exclude_users[0].to_uppercase();
    observed.conditions.client_app_types = vec![];
    observed
        .conditions
        .users
        .as_mut()
        .unwrap()
        .extra
        .insert("someFutureUsersProperty".into(), json!(null));
    let session = observed.session_controls.as_mut().unwrap();
    session.persistent_browser =
        Some(serde_json::from_value(json!({"isEnabled": false, "mode": null})).unwrap());
    session.disable_resilience_defaults = None;
    observed
        .extra
        .insert("partialEnablementStrategy".into(), json!(null));
    let mut grant: sessionops_graph::models::GrantControls = serde_json::from_value(json!({
        "operator": "AND", "builtInControls": [], "termsOfUse": [],
        "authenticationStrength@odata.context": "x", "someFutureRequirement": null
    }))
    .unwrap();
    observed.grant_controls = Some(grant.clone());
    // An empty grant (annotations and a property newer than this build aside) is no grant.
    assert_eq!(
        diff(&desired.body, &observed, false),
        vec![],
        "no false drift"
    );
    grant.built_in_controls = vec!["mfa".into()];
    observed.grant_controls = Some(grant);
    let changes = diff(&desired.body, &observed, false);
    assert!(
        changes
            .iter()
            .any(|c| c.field == "grantControls.builtInControls"),
        "{changes:?}"
    );
}

#[test]
fn every_portal_edit_of_a_managed_field_is_found_on_that_field() {
    let desired = desired(TWELVE_HOURS);
    let edits: Vec<(&str, Value)> = vec![
        ("state", json!({"state": "disabled"})),
        ("displayName", json!({"displayName": "renamed"})),
        (
            "conditions.users.excludeUsers",
            json!({"conditions": {"users": {"excludeUsers": []}}}),
        ),
        (
            "conditions.users.includeGroups",
            json!({"conditions": {"users": {"includeGroups": ["g-x"]}}}),
        ),
        (
            "conditions.applications.excludeApplications",
            json!({"conditions": {"applications": {"excludeApplications": ["00000002-0000-0ff1-ce00-000000000000"]}}}),
        ),
        (
            "conditions.clientAppTypes",
            json!({"conditions": {"clientAppTypes": ["browser"]}}),
        ),
        (
            "conditions.platforms.includePlatforms",
            json!({"conditions": {"platforms": {"includePlatforms": ["android"], "excludePlatforms": []}}}),
        ),
        (
            "conditions.locations.excludeLocations",
            json!({"conditions": {"locations": {"includeLocations": [], "excludeLocations": ["AllTrusted"]}}}),
        ),
        (
            "conditions.devices.deviceFilter",
            json!({"conditions": {"devices": {"deviceFilter": {"mode": "include", "rule": "device.isCompliant -ne True"}}}}),
        ),
        (
            "conditions.userRiskLevels",
            json!({"conditions": {"userRiskLevels": ["high"]}}),
        ),
        (
            "grantControls.builtInControls",
            json!({"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}),
        ),
        (
            "sessionControls.signInFrequency",
            json!({"sessionControls": {"signInFrequency": {"isEnabled": true, "value": 24, "type": "hours", "frequencyInterval": "timeBased"}}}),
        ),
        (
            "sessionControls.persistentBrowser",
            json!({"sessionControls": {"persistentBrowser": {"isEnabled": true, "mode": "always"}}}),
        ),
        (
            "sessionControls.cloudAppSecurity",
            json!({"sessionControls": {"cloudAppSecurity": {"isEnabled": true, "cloudAppSecurityType": "blockDownloads"}}}),
        ),
        (
            "sessionControls.applicationEnforcedRestrictions",
            json!({"sessionControls": {"applicationEnforcedRestrictions": {"isEnabled": true}}}),
        ),
        (
            "sessionControls.disableResilienceDefaults",
            json!({"sessionControls": {"disableResilienceDefaults": true}}),
        ),
        (
            "sessionControls.secureSignInSession",
            json!({"sessionControls": {"secureSignInSession": {"isEnabled": true}}}),
        ),
    ];
    for (field, edit) in edits {
        let mut observed = serde_json::to_value(as_graph_returns(&desired, "p-1")).unwrap();
        merge(&mut observed, &edit);
        let observed: ConditionalAccessPolicy = serde_json::from_value(observed).unwrap();
        let changes = diff(&desired.body, &observed, false);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert!(fields.contains(&field), "{field}: found {fields:?}");
        assert!(
            fields
                .iter()
                .all(|f| f.split('.').next() == field.split('.').next()),
            "{field}: unrelated changes {fields:?}"
        );
        assert!(matches!(
            plan(&desired, Found::ById(&observed), false),
            PolicyPlan::Update { .. }
        ));
    }
}

/// JSON merge patch, as Graph applies PATCH bodies to nested objects.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

#[test]
fn patches_send_complete_managed_sub_objects_and_nothing_unmodelled() {
    let desired = desired(TWELVE_HOURS);
    let mut observed = serde_json::to_value(as_graph_returns(&desired, "p-1")).unwrap();
    merge(
        &mut observed,
        &json!({
            "conditions": {"users": {"excludeUsers": []}, "applications": {"someFutureFilter": {"mode": "include"}}, "someFutureCondition": {"levels": "high"}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "someFutureRequirement": ["r-1"], "customAuthenticationFactors": []},
        }),
    );
    let observed: ConditionalAccessPolicy = serde_json::from_value(observed).unwrap();
    let PolicyPlan::Update {
        patch,
        changes,
        version,
        ..
    } = plan(&desired, Found::ById(&observed), false)
    else {
        panic!("expected an update");
    };
    assert_eq!(version, ApiVersion::V1);
    assert_eq!(
        changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        [
            "conditions.users.excludeUsers",
            "grantControls.builtInControls"
        ]
    );
    assert_eq!(
        patch["conditions"]["users"],
        json!({"includeUsers": ["All"], "excludeUsers": ["u-contractor", "u-breakglass1"], "includeGroups": [], "excludeGroups": ["g-kiosks", "g-emergency"], "includeRoles": [], "excludeRoles": [], "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null}),
        "complete sub-object with explicit empty lists"
    );
    assert_eq!(
        patch["conditions"]["applications"],
        json!({"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": [], "applicationFilter": null}),
        "the unknown filter is not named; no beta-only key goes to v1.0"
    );
    assert!(patch["conditions"].get("someFutureCondition").is_none());
    assert_eq!(
        patch["grantControls"],
        json!({"operator": "OR", "builtInControls": [], "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": null}),
        "not nulled: the tenant's unknown requirement stays"
    );
    assert!(
        patch.get("sessionControls").is_none() && patch.get("state").is_none(),
        "unchanged groups are not sent"
    );
    // Applying the patch the way Graph does yields a policy in sync that kept the unmodelled parts.
    let mut after = serde_json::to_value(&observed).unwrap();
    merge(&mut after, &patch);
    let after: ConditionalAccessPolicy = serde_json::from_value(after).unwrap();
    assert_eq!(diff(&desired.body, &after, false), vec![]);
    assert_eq!(
        after.grant_controls.unwrap().extra["someFutureRequirement"],
        json!(["r-1"])
    );
    assert_eq!(
        after.conditions.applications.unwrap().extra["someFutureFilter"],
        json!({"mode": "include"})
    );
}

#[test]
fn beta_only_controls_are_compared_only_when_read_through_beta() {
    let yaml = TWELVE_HOURS.replace(
        "signInFrequency: 12h",
        "signInFrequency: 12h\n    continuousAccessEvaluation: strictEnforcement",
    );
    let desired = desired(&yaml);
    assert_eq!(desired.version, ApiVersion::Beta);
    let mut observed = as_graph_returns(&desired, "p-1");
    observed
        .session_controls
        .as_mut()
        .unwrap()
        .continuous_access_evaluation = None;
    assert_eq!(
        diff(&desired.body, &observed, false),
        vec![],
        "a v1.0 read cannot see CAE"
    );
    let changes = diff(&desired.body, &observed, true);
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].field,
        "sessionControls.continuousAccessEvaluation"
    );
}

/// A beta-only control set in the portal on a v1.0 policy is cleared through beta (v1.0
/// cannot name it), and only the beta PATCH names it; the desired policy itself stays v1.0.
#[test]
fn a_portal_set_beta_only_control_is_cleared_through_beta() {
    let desired = desired(TWELVE_HOURS);
    assert_eq!(desired.version, ApiVersion::V1);
    assert!(desired.beta_fields.is_empty());
    let mut observed = as_graph_returns(&desired, "p-1");
    observed
        .session_controls
        .as_mut()
        .unwrap()
        .continuous_access_evaluation =
        Some(serde_json::from_value(json!({"mode": "strictEnforcement"})).unwrap());
    assert!(
        matches!(
            plan(&desired, Found::ById(&observed), false),
            PolicyPlan::NoOp { .. }
        ),
        "a v1.0 read does not see it"
    );
    let PolicyPlan::Update { version, patch, .. } = plan(&desired, Found::ById(&observed), true)
    else {
        panic!("read through beta, the portal's CAE is drift");
    };
    assert_eq!(version, ApiVersion::Beta);
    assert_eq!(
        patch["sessionControls"]["continuousAccessEvaluation"],
        Value::Null
    );
    assert!(
        patch["sessionControls"]
            .get("continuousAccessEvaluation")
            .is_some()
    );
}

/// The spec fields that need beta are named, once each, in the order the spec has them.
#[test]
fn beta_fields_name_what_routes_a_policy_through_beta() {
    let yaml = TWELVE_HOURS.replace(
        "signInFrequency: 12h",
        "signInFrequency: everyTime\n    continuousAccessEvaluation: strictLocation",
    );
    let desired = desired(&yaml);
    assert_eq!(desired.version, ApiVersion::Beta);
    assert_eq!(
        desired.beta_fields,
        [
            "session.signInFrequency: everyTime",
            "session.continuousAccessEvaluation"
        ]
    );
}

#[test]
fn missing_policies_are_created_with_the_full_body() {
    let desired = desired(TWELVE_HOURS);
    let PolicyPlan::Create { body, version } = plan(&desired, Found::Missing, false) else {
        panic!()
    };
    assert_eq!(version, ApiVersion::V1);
    assert_eq!(body, desired.body.to_write_body());
    assert!(body.get("id").is_none());
}

#[test]
fn finds_by_recorded_id_then_by_unique_display_name() {
    let desired = desired(TWELVE_HOURS);
    let a = as_graph_returns(&desired, "p-1");
    let mut b = as_graph_returns(&desired, "p-2");
    b.display_name = "other".into();
    let policies = vec![a.clone(), b.clone()];
    assert_eq!(
        find(Some("P-2"), "sessionops identity/p", &policies).unwrap(),
        Found::ById(&policies[1])
    );
    assert_eq!(
        find(Some("gone"), "sessionops identity/p", &policies).unwrap(),
        Found::ByName(&policies[0])
    );
    assert_eq!(find(None, "nobody", &policies).unwrap(), Found::Missing);
    let twins = vec![a.clone(), as_graph_returns(&desired, "p-3")];
    let error = find(None, "sessionops identity/p", &twins).unwrap_err();
    assert_eq!(error.reason(), Reason::Conflict);
    assert!(error.to_string().contains("p-1, p-3"), "{error}");
}

#[test]
fn name_requests_skip_ids_and_keywords() {
    let mut requests = NameRequests::default();
    name_requests(&spec(TWELVE_HOURS), &mut requests);
    assert_eq!(
        requests.of(NameKind::User).collect::<Vec<_>>(),
        ["contractor@contoso.com"]
    );
    assert_eq!(
        requests.of(NameKind::Group).collect::<Vec<_>>(),
        ["sg-shared-kiosks"]
    );
    assert_eq!(requests.of(NameKind::Role).count(), 0);
}

/// Graph annotates every `grantControls` (`authenticationStrength@odata.context`, v1.0
/// conditionalaccessroot-list-policies.md) and expanded strengths: metadata, never drift and
/// never content to keep. A spec without a grant clears the tenant's grant with `null`.
#[test]
fn nested_annotations_are_metadata_and_a_dropped_grant_is_cleared() {
    let desired = desired(TWELVE_HOURS);
    let mut observed = serde_json::to_value(as_graph_returns(&desired, "p-1")).unwrap();
    let context = "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('p-1')/grantControls/authenticationStrength/$entity";
    observed["@microsoft.graph.tips"] =
        json!("Use $select to choose only the properties your app needs");
    observed["grantControls"] = json!({
        "operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [], "termsOfUse": [],
        "authenticationStrength@odata.context": context, "authenticationStrength": null,
    });
    let observed: ConditionalAccessPolicy = serde_json::from_value(observed).unwrap();
    let PolicyPlan::Update { patch, changes, .. } = plan(&desired, Found::ById(&observed), false)
    else {
        panic!("expected an update");
    };
    assert_eq!(
        changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        ["grantControls.builtInControls"],
        "the annotation is no change"
    );
    assert_eq!(
        patch["grantControls"],
        Value::Null,
        "nothing real is left to keep: the grant is cleared"
    );
    // In sync once applied.
    let mut after = serde_json::to_value(&observed).unwrap();
    merge(&mut after, &patch);
    assert_eq!(after["grantControls"], Value::Null);
    let after: ConditionalAccessPolicy = serde_json::from_value(after).unwrap();
    assert_eq!(diff(&desired.body, &after, false), vec![]);
    // An empty grant as Graph renders it, annotation included, is no drift and no content.
    let mut empty = serde_json::to_value(&after).unwrap();
    empty["grantControls"] = json!({"authenticationStrength@odata.context": context, "authenticationStrength": null, "builtInControls": [], "termsOfUse": [], "customAuthenticationFactors": [], "operator": "OR"});
    let empty: ConditionalAccessPolicy = serde_json::from_value(empty).unwrap();
    assert_eq!(diff(&desired.body, &empty, false), vec![]);
    assert!(crate::session_policy::export::unmodelled_content(&empty).is_empty());
}
