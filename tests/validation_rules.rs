//! Every validation rule of the API, exercised locally with kube's CEL evaluator (the same rule
//! text the API server enforces at admission), accepting what it should and rejecting what it
//! should, with the error on the right field. Also: every rule compiles, uses only CRD-scope
//! variables and stays within the API server's cost budget.

use kube::core::cel::{ScopeContext, WarningKind, analyze_rule, compile_schema};
use serde_json::{Value, json};
use sessionops_api::RevocationRequest;
use sessionops_api::manifest::{self, ManifestErrors};
use std::path::Path;

/// Merges `patch` into `base` (JSON merge patch semantics: null deletes).
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    base.remove(key);
                } else {
                    merge(base.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

fn check(base: Value, patch: Value) -> Result<(), ManifestErrors> {
    let mut document = base;
    merge(&mut document, &patch);
    let text = serde_json::to_string(&document).unwrap();
    manifest::load_str(Path::new("case.json"), &text).map(|_| ())
}

#[track_caller]
fn accepted(base: Value, patch: Value) {
    if let Err(errors) = check(base, patch.clone()) {
        panic!("rejected {patch}: {errors}");
    }
}

#[track_caller]
fn rejected_at(base: Value, patch: Value, field: &str) {
    match check(base, patch.clone()) {
        Ok(()) => panic!("accepted {patch}, expected an error at {field}"),
        Err(errors) => assert!(
            errors.0.iter().any(|e| e.field == field),
            "{patch}: expected an error at {field}, got {errors}"
        ),
    }
}

fn policy() -> Value {
    json!({
        "apiVersion": "sessionops.io/v1alpha1", "kind": "SessionPolicy",
        "metadata": {"name": "p", "namespace": "identity"},
        "spec": {
            "tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"},
            "state": "enabled",
            "assignments": {"users": {"include": ["All"]}, "applications": {"include": ["All"]}},
            "session": {"signInFrequency": "12h"}
        }
    })
}

fn tenant(kind: &str) -> Value {
    let mut tenant = json!({
        "apiVersion": "sessionops.io/v1alpha1", "kind": kind,
        "metadata": {"name": "contoso"},
        "spec": {
            "tenantId": "contoso.onmicrosoft.com",
            "clientId": "9a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d",
            "credentials": {"workloadIdentity": {}}
        }
    });
    if kind == "TenantConnection" {
        tenant["metadata"]["namespace"] = json!("identity");
    }
    tenant
}

fn revocation() -> Value {
    json!({
        "apiVersion": "sessionops.io/v1alpha1", "kind": "RevocationRequest",
        "metadata": {"name": "r", "namespace": "security"},
        "spec": {
            "tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"},
            "reason": "INC-1",
            "targets": {"users": ["jdoe@contoso.onmicrosoft.com"]}
        }
    })
}

fn session(value: Value) -> Value {
    json!({"spec": {"session": value}})
}

#[test]
fn sign_in_frequency_ranges() {
    for ok in ["1h", "12h", "23h", "1d", "7d", "90d", "365d", "everyTime"] {
        accepted(policy(), session(json!({"signInFrequency": ok})));
    }
    for bad in [
        "0h",
        "24h",
        "0d",
        "366d",
        "12",
        "12H",
        "1w",
        "every time",
        "01h",
        "",
    ] {
        rejected_at(
            policy(),
            session(json!({"signInFrequency": bad})),
            "spec.session.signInFrequency",
        );
    }
}

#[test]
fn session_needs_a_control_and_frequency_authentication_needs_a_frequency() {
    accepted(
        policy(),
        session(json!({"signInFrequency": null, "tokenProtection": true})),
    );
    accepted(
        policy(),
        session(json!({"signInFrequency": null, "continuousAccessEvaluation": "strictLocation"})),
    );
    rejected_at(
        policy(),
        session(json!({"signInFrequency": null, "disableResilienceDefaults": false})),
        "spec.session",
    );
    accepted(
        policy(),
        session(json!({"signInFrequencyAuthentication": "secondaryOnly"})),
    );
    rejected_at(
        policy(),
        session(
            json!({"signInFrequency": null, "signInFrequencyAuthentication": "secondaryOnly", "tokenProtection": true}),
        ),
        "spec.session.signInFrequencyAuthentication",
    );
}

#[test]
fn persistent_browser_requires_all_apps() {
    accepted(policy(), session(json!({"persistentBrowser": "never"})));
    rejected_at(
        policy(),
        json!({"spec": {"assignments": {"applications": {"include": ["Office365"]}}, "session": {"persistentBrowser": "always"}}}),
        "spec.session.persistentBrowser",
    );
}

#[test]
fn user_assignment_keywords_and_principals() {
    let users = |v: Value| json!({"spec": {"assignments": {"users": v}}});
    for include in [
        json!(["All"]),
        json!(["None"]),
        json!(["GuestsOrExternalUsers"]),
        json!(["jdoe@contoso.com", "2d6c3b7e-8f1a-4b2c-9d3e-4f5a6b7c8d9e"]),
    ] {
        accepted(policy(), users(json!({"include": include})));
    }
    rejected_at(
        policy(),
        users(json!({"include": ["All", "jdoe@contoso.com"]})),
        "spec.assignments.users.include",
    );
    rejected_at(
        policy(),
        users(json!({"include": ["None", "jdoe@contoso.com"]})),
        "spec.assignments.users.include",
    );
    rejected_at(
        policy(),
        users(json!({"include": ["John Doe"]})),
        "spec.assignments.users.include",
    );
    rejected_at(
        policy(),
        users(json!({"include": ["All"], "exclude": ["None"]})),
        "spec.assignments.users.exclude",
    );
    accepted(
        policy(),
        users(
            json!({"include": ["All"], "exclude": ["GuestsOrExternalUsers", "jdoe@contoso.com"]}),
        ),
    );
}

#[test]
fn someone_and_some_application_must_be_assigned() {
    accepted(
        policy(),
        json!({"spec": {"assignments": {"users": null, "roles": {"include": ["Global Administrator"]}}}}),
    );
    accepted(
        policy(),
        json!({"spec": {"assignments": {"users": null, "groups": {"include": ["sg-finance"]}}}}),
    );
    rejected_at(
        policy(),
        json!({"spec": {"assignments": {"users": null}}}),
        "spec.assignments",
    );
    rejected_at(
        policy(),
        json!({"spec": {"assignments": {"applications": null}}}),
        "spec.assignments",
    );
}

#[test]
fn application_assignment() {
    let apps = |v: Value| json!({"spec": {"assignments": {"applications": v}, "session": {"signInFrequency": "1h"}}});
    accepted(
        policy(),
        apps(json!({"include": ["Office365", "00000003-0000-0000-c000-000000000000"]})),
    );
    accepted(
        policy(),
        apps(json!({"include": ["All"], "exclude": ["MicrosoftAdminPortals"]})),
    );
    // A name is an enterprise app's display name, resolved at plan time; a blank one is no name.
    accepted(
        policy(),
        apps(json!({"include": ["Office 365 Exchange Online"]})),
    );
    rejected_at(
        policy(),
        apps(json!({"include": [" "]})),
        "spec.assignments.applications.include",
    );
    rejected_at(
        policy(),
        apps(json!({"include": ["All", "Office365"]})),
        "spec.assignments.applications.include",
    );
    rejected_at(
        policy(),
        apps(json!({"include": ["All"], "exclude": ["All"]})),
        "spec.assignments.applications.exclude",
    );
}

#[test]
fn condition_lists() {
    let conditions = |v: Value| json!({"spec": {"conditions": v}});
    accepted(
        policy(),
        conditions(json!({"clientAppTypes": ["browser", "mobileAppsAndDesktopClients"]})),
    );
    rejected_at(
        policy(),
        conditions(json!({"clientAppTypes": ["all", "browser"]})),
        "spec.conditions.clientAppTypes",
    );
    accepted(
        policy(),
        conditions(json!({"platforms": {"include": ["all"], "exclude": ["iOS", "linux"]}})),
    );
    rejected_at(
        policy(),
        conditions(json!({"platforms": {"include": ["all", "android"]}})),
        "spec.conditions.platforms.include",
    );
    rejected_at(
        policy(),
        conditions(json!({"platforms": {"include": ["android"], "exclude": ["all"]}})),
        "spec.conditions.platforms.exclude",
    );
    rejected_at(
        policy(),
        conditions(json!({"platforms": {"exclude": ["android"]}})),
        "spec.conditions.platforms",
    );
    accepted(
        policy(),
        conditions(
            json!({"locations": {"include": ["All"], "exclude": ["AllTrusted", "Head office"]}}),
        ),
    );
    rejected_at(
        policy(),
        conditions(json!({"locations": {"include": ["All", "Head office"]}})),
        "spec.conditions.locations.include",
    );
    rejected_at(
        policy(),
        conditions(json!({"locations": {"include": ["Head office"], "exclude": ["All"]}})),
        "spec.conditions.locations.exclude",
    );
    accepted(
        policy(),
        conditions(
            json!({"deviceFilter": {"mode": "include", "rule": "device.isCompliant -ne True"}}),
        ),
    );
    rejected_at(
        policy(),
        conditions(json!({"deviceFilter": {"mode": "include", "rule": " "}})),
        "spec.conditions.deviceFilter.rule",
    );
    rejected_at(
        policy(),
        conditions(json!({"userRiskLevels": ["severe"]})),
        "spec.conditions.userRiskLevels[0]",
    );
}

#[test]
fn grant_controls() {
    let grant = |v: Value| json!({"spec": {"grant": v}});
    accepted(
        policy(),
        grant(json!({"controls": ["mfa", "compliantDevice"]})),
    );
    accepted(
        policy(),
        grant(json!({"authenticationStrength": "passwordless"})),
    );
    accepted(
        policy(),
        grant(
            json!({"authenticationStrength": "2d6c3b7e-8f1a-4b2c-9d3e-4f5a6b7c8d9e", "controls": ["compliantDevice"], "operator": "AND"}),
        ),
    );
    accepted(
        policy(),
        grant(json!({"controls": ["mfa", "passwordChange"], "operator": "AND"})),
    );
    rejected_at(policy(), grant(json!({})), "spec.grant");
    // A custom strength by display name (resolved at plan time), but never a blank one.
    accepted(
        policy(),
        grant(json!({"authenticationStrength": "FIDO2 only"})),
    );
    rejected_at(
        policy(),
        grant(json!({"authenticationStrength": " "})),
        "spec.grant.authenticationStrength",
    );
    accepted(
        policy(),
        grant(json!({"termsOfUse": ["ce580154-086a-40fd-91df-8a60abac81a0"]})),
    );
    rejected_at(
        policy(),
        grant(json!({"termsOfUse": ["Contoso terms"]})),
        "spec.grant.termsOfUse",
    );
    // grant-controls.md: riskRemediation with an authentication strength using AND, never with
    // passwordChange.
    accepted(
        policy(),
        grant(
            json!({"controls": ["riskRemediation"], "authenticationStrength": "mfa", "operator": "AND"}),
        ),
    );
    rejected_at(
        policy(),
        grant(json!({"controls": ["riskRemediation"], "operator": "AND"})),
        "spec.grant.controls",
    );
    rejected_at(
        policy(),
        grant(
            json!({"controls": ["riskRemediation", "passwordChange", "mfa"], "authenticationStrength": "mfa", "operator": "AND"}),
        ),
        "spec.grant.controls",
    );
    rejected_at(
        policy(),
        grant(json!({"controls": ["mfa", "mfa"]})),
        "spec.grant.controls",
    );
    rejected_at(
        policy(),
        grant(json!({"controls": ["mfa", "passwordChange"], "operator": "OR"})),
        "spec.grant.controls",
    );
    rejected_at(
        policy(),
        grant(json!({"operator": "XOR", "controls": ["mfa"]})),
        "spec.grant.operator",
    );
    // passwordChange also needs all apps without exclusions.
    rejected_at(
        policy(),
        json!({"spec": {"assignments": {"applications": {"include": ["All"], "exclude": ["Office365"]}}, "grant": {"controls": ["mfa", "passwordChange"], "operator": "AND"}}}),
        "spec.grant.controls",
    );
}

#[test]
fn policy_names_and_references() {
    rejected_at(
        policy(),
        json!({"spec": {"displayName": "   "}}),
        "spec.displayName",
    );
    rejected_at(
        policy(),
        json!({"spec": {"tenantRef": {"name": ""}}}),
        "spec.tenantRef.name",
    );
    rejected_at(
        policy(),
        json!({"spec": {"tenantRef": {"kind": "Issuer"}}}),
        "spec.tenantRef.kind",
    );
    rejected_at(
        policy(),
        json!({"spec": {"deletionPolicy": "Orphan"}}),
        "spec.deletionPolicy",
    );
    rejected_at(policy(), json!({"spec": {"state": null}}), "spec");
}

#[test]
fn tenant_identity_and_endpoints() {
    for kind in ["ClusterTenantConnection", "TenantConnection"] {
        accepted(
            tenant(kind),
            json!({"spec": {"tenantId": "6b8e2f4a-1c3d-4e5f-9a7b-0c1d2e3f4a5b"}}),
        );
        rejected_at(
            tenant(kind),
            json!({"spec": {"tenantId": "contoso"}}),
            "spec.tenantId",
        );
        rejected_at(
            tenant(kind),
            json!({"spec": {"clientId": "my-app"}}),
            "spec.clientId",
        );
        for ok in [
            "https://graph.microsoft.com",
            "http://127.0.0.1:8700",
            "http://localhost:8700/",
            "http://[::1]:8700",
        ] {
            accepted(
                tenant(kind),
                json!({"spec": {"endpoints": {"graph": ok, "login": ok}}}),
            );
        }
        for bad in [
            "http://graph.example.com",
            "http://127.0.0.1.evil.example",
            "http://localhost@evil.example",
            "ftp://x",
            "graph.microsoft.com",
        ] {
            rejected_at(
                tenant(kind),
                json!({"spec": {"endpoints": {"login": bad}}}),
                "spec.endpoints.login",
            );
        }
        rejected_at(
            tenant(kind),
            json!({"spec": {"protected": {"users": ["Break Glass"]}}}),
            "spec.protected.users",
        );
        rejected_at(
            tenant(kind),
            json!({"spec": {"cloud": "Germany"}}),
            "spec.cloud",
        );
    }
}

#[test]
fn credentials_are_exactly_one_and_secret_namespaces_match_the_scope() {
    let secret = json!({"clientSecret": {"secretRef": {"name": "graph", "namespace": "sessionops-system"}}, "workloadIdentity": null});
    let certificate = json!({"certificate": {"secretRef": {"name": "cert", "namespace": "sessionops-system"}}, "workloadIdentity": null});
    accepted(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"credentials": secret}}),
    );
    accepted(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"credentials": certificate}}),
    );
    rejected_at(
        tenant("TenantConnection"),
        json!({"spec": {"credentials": secret}}),
        "spec.credentials",
    );
    rejected_at(
        tenant("TenantConnection"),
        json!({"spec": {"credentials": certificate}}),
        "spec.credentials",
    );
    accepted(
        tenant("TenantConnection"),
        json!({"spec": {"credentials": {"clientSecret": {"secretRef": {"name": "graph"}}, "workloadIdentity": null}}}),
    );
    rejected_at(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"credentials": {"certificate": {"secretRef": {"name": "cert"}}, "workloadIdentity": null}}}),
        "spec.credentials",
    );
    rejected_at(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"credentials": {"clientSecret": secret["clientSecret"].clone()}}}),
        "spec.credentials",
    );
    rejected_at(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"credentials": {"workloadIdentity": null}}}),
        "spec.credentials",
    );
    rejected_at(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"credentials": {"clientSecret": {"secretRef": {"name": "graph", "namespace": "Not_A_Namespace"}}, "workloadIdentity": null}}}),
        "spec.credentials.clientSecret.secretRef.namespace",
    );
}

#[test]
fn allowed_namespaces() {
    accepted(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"allowedNamespaces": ["*"]}}),
    );
    accepted(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"allowedNamespaces": ["identity", "security"]}}),
    );
    rejected_at(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"allowedNamespaces": ["Identity"]}}),
        "spec.allowedNamespaces",
    );
    rejected_at(
        tenant("ClusterTenantConnection"),
        json!({"spec": {"allowedNamespaces": ["*", "identity"]}}),
        "spec.allowedNamespaces",
    );
    // A namespaced connection has no allowedNamespaces: it serves its own namespace only.
    rejected_at(
        tenant("TenantConnection"),
        json!({"spec": {"allowedNamespaces": ["*"]}}),
        "spec.allowedNamespaces",
    );
}

#[test]
fn revocation_targets_and_guards() {
    accepted(
        revocation(),
        json!({"spec": {"targets": {"users": null, "allUsers": true}, "maxTargets": 100000}}),
    );
    accepted(
        revocation(),
        json!({"spec": {"targets": {"groups": ["incident-2026-11-27"]}}}),
    );
    accepted(
        revocation(),
        json!({"spec": {"targets": {"users": ["2d6c3b7e-8f1a-4b2c-9d3e-4f5a6b7c8d9e"]}}}),
    );
    rejected_at(
        revocation(),
        json!({"spec": {"targets": {"users": null, "allUsers": false}}}),
        "spec.targets",
    );
    rejected_at(
        revocation(),
        json!({"spec": {"targets": {"groups": [" "]}}}),
        "spec.targets.groups",
    );
    rejected_at(
        revocation(),
        json!({"spec": {"actions": []}}),
        "spec.actions",
    );
    rejected_at(
        revocation(),
        json!({"spec": {"maxTargets": -5}}),
        "spec.maxTargets",
    );
    rejected_at(revocation(), json!({"spec": {"reason": ""}}), "spec.reason");
    rejected_at(revocation(), json!({"spec": {"reason": null}}), "spec");
}

#[test]
fn revocation_spec_is_immutable() {
    let load = |patch: Value| -> RevocationRequest {
        let mut document = revocation();
        merge(&mut document, &patch);
        serde_json::from_value(document).unwrap()
    };
    let original = load(json!({}));
    assert!(
        original.validate_cel_update(&original.clone()).is_ok(),
        "unchanged spec is accepted"
    );
    for change in [
        json!({"spec": {"reason": "something else"}}),
        json!({"spec": {"targets": {"users": ["someone@contoso.onmicrosoft.com"]}}}),
        json!({"spec": {"dryRun": true}}),
        json!({"spec": {"maxTargets": 5}}),
    ] {
        let changed = load(change.clone());
        let errors = changed
            .validate_cel_update(&original)
            .expect_err(&change.to_string());
        assert!(
            errors
                .iter()
                .any(|e| e.field_path == "spec" && e.message.contains("immutable")),
            "{change}: {errors}"
        );
    }
    // Metadata may change (labels, annotations), the spec may not.
    let mut relabelled = original.clone();
    relabelled.metadata.labels = Some([("team".to_owned(), "secops".to_owned())].into());
    assert!(relabelled.validate_cel_update(&original).is_ok());
}

/// Visits every schema node that carries `x-kubernetes-validations`.
fn nodes_with_rules(path: String, node: &Value, found: &mut Vec<(String, Value)>) {
    if node.get("x-kubernetes-validations").is_some() {
        found.push((path.clone(), node.clone()));
    }
    if let Some(Value::Object(properties)) = node.get("properties") {
        for (name, child) in properties {
            nodes_with_rules(format!("{path}.{name}"), child, found);
        }
    }
    if let Some(items) = node.get("items") {
        nodes_with_rules(format!("{path}[]"), items, found);
    }
}

/// kube-cel 0.8's scope check reports the variables bound by `all`/`exists`/`filter` as free;
/// the ones our rules bind are not free variables and are let through.
fn is_comprehension_variable(warning: &kube::core::cel::AnalysisWarning) -> bool {
    warning.kind == WarningKind::WrongScope
        && ["'x'", "'y'", "'g'"]
            .iter()
            .any(|v| warning.message.starts_with(&format!("variable {v} ")))
}

#[test]
fn every_rule_compiles_stays_in_scope_and_within_the_cost_budget() {
    let mut rules = 0;
    for crd in sessionops_api::crds::all() {
        let schema = serde_json::to_value(
            crd.spec.versions[0]
                .schema
                .as_ref()
                .unwrap()
                .open_api_v3_schema
                .as_ref()
                .unwrap(),
        )
        .unwrap();
        let compiled = compile_schema(&schema);
        assert!(!compiled.has_errors());
        let mut found = Vec::new();
        nodes_with_rules(String::new(), &schema, &mut found);
        for (path, node) in found {
            let compiled_node = compile_schema(&node);
            assert!(
                !compiled_node.has_errors(),
                "{path}: {:?}",
                compiled_node.compilation_errors()
            );
            for rule in node["x-kubernetes-validations"].as_array().unwrap() {
                let text = rule["rule"].as_str().unwrap();
                assert!(
                    rule["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "{path}: rule without message: {text}"
                );
                let warnings: Vec<_> =
                    analyze_rule(text, &compiled_node, ScopeContext::CrdValidation)
                        .into_iter()
                        .filter(|w| !is_comprehension_variable(w))
                        .collect();
                assert!(warnings.is_empty(), "{path}: {text}: {warnings:?}");
                rules += 1;
            }
        }
    }
    assert!(
        rules >= 40,
        "only {rules} rules found: the walk missed some"
    );
}

#[test]
fn the_rest_of_conditional_access() {
    let assignments = |v: Value| json!({"spec": {"assignments": v}});
    let conditions = |v: Value| json!({"spec": {"conditions": v}});
    accepted(
        policy(),
        assignments(json!({"guestsOrExternalUsers": {
            "include": {"types": ["internalGuest", "b2bCollaborationGuest"], "externalTenants": ["All"]},
            "exclude": {"types": ["serviceProvider"], "externalTenants": ["9a3a7d4e-1c2b-4f3a-8e6d-5b4c3a2f1e0d"]}
        }})),
    );
    rejected_at(
        policy(),
        assignments(json!({"guestsOrExternalUsers": {"include": {"types": []}}})),
        "spec.assignments.guestsOrExternalUsers.include.types",
    );
    rejected_at(
        policy(),
        assignments(
            json!({"guestsOrExternalUsers": {"include": {"types": ["internalGuest"], "externalTenants": ["All", "9a3a7d4e-1c2b-4f3a-8e6d-5b4c3a2f1e0d"]}}}),
        ),
        "spec.assignments.guestsOrExternalUsers.include.externalTenants",
    );
    rejected_at(
        policy(),
        assignments(json!({"guestsOrExternalUsers": {"include": {"types": ["everyone"]}}})),
        "spec.assignments.guestsOrExternalUsers.include.types[0]",
    );
    let block = |v: Value| {
        let mut patch = v;
        patch["spec"]["grant"] = json!({"controls": ["block"]});
        patch["spec"]["session"] = Value::Null;
        patch
    };
    // Workload identities stand alone: no users beside them.
    accepted(
        policy(),
        block(assignments(
            json!({"users": null, "servicePrincipals": {"include": ["ServicePrincipalsInMyTenant"], "filter": {"mode": "exclude", "rule": "CustomSecurityAttribute.Dept -eq \"Ops\""}}}),
        )),
    );
    rejected_at(
        policy(),
        assignments(json!({"servicePrincipals": {"include": ["ServicePrincipalsInMyTenant"]}})),
        "spec.assignments.servicePrincipals",
    );
    accepted(
        policy(),
        block(assignments(
            json!({"users": null, "servicePrincipals": {"include": ["billing-bot"]}}),
        )),
    );
    rejected_at(
        policy(),
        assignments(json!({"users": null, "servicePrincipals": {"include": [" "]}})),
        "spec.assignments.servicePrincipals.include",
    );
    rejected_at(
        policy(),
        assignments(json!({"applications": {"include": ["All"], "exclude": ["All"]}})),
        "spec.assignments.applications.exclude",
    );
    accepted(
        policy(),
        block(assignments(
            json!({"users": {"include": ["None"]}, "agents": {"include": ["All"]}}),
        )),
    );
    // Workload identities and agents can only be blocked.
    rejected_at(
        policy(),
        assignments(
            json!({"users": null, "servicePrincipals": {"include": ["ServicePrincipalsInMyTenant"]}}),
        ),
        "spec.grant",
    );
    rejected_at(
        policy(),
        json!({"spec": {"assignments": {"agents": {"include": ["All"]}}, "grant": {"controls": ["mfa"]}}}),
        "spec.grant",
    );
    // Apps, user actions and authentication contexts are alternatives.
    accepted(
        policy(),
        assignments(
            json!({"applications": {"include": null, "userActions": ["registerSecurityInfo"]}}),
        ),
    );
    accepted(
        policy(),
        assignments(
            json!({"applications": {"include": null, "authenticationContexts": ["c1", "c99"]}}),
        ),
    );
    rejected_at(
        policy(),
        assignments(json!({"applications": {"userActions": ["registerSecurityInfo"]}})),
        "spec.assignments.applications",
    );
    rejected_at(
        policy(),
        assignments(json!({"applications": {"include": null, "authenticationContexts": ["c100"]}})),
        "spec.assignments.applications.authenticationContexts",
    );
    rejected_at(
        policy(),
        assignments(json!({"applications": {"include": null, "userActions": ["registerPhone"]}})),
        "spec.assignments.applications.userActions[0]",
    );
    accepted(
        policy(),
        conditions(json!({
            "servicePrincipalRiskLevels": ["high"], "insiderRiskLevels": ["elevated", "moderate"],
            "agentIdRiskLevels": ["high"], "authenticationFlows": ["deviceCodeFlow", "authenticationTransfer"],
            "userRiskLevels": ["hidden"], "locations": {"include": ["All"], "exclude": ["AllCompliantNetworks"]}
        })),
    );
    rejected_at(
        policy(),
        conditions(json!({"servicePrincipalRiskLevels": ["hidden"]})),
        "spec.conditions.servicePrincipalRiskLevels",
    );
    rejected_at(
        policy(),
        conditions(json!({"authenticationFlows": ["deviceCodeFlow", "deviceCodeFlow"]})),
        "spec.conditions.authenticationFlows",
    );
    rejected_at(
        policy(),
        conditions(json!({"devices": {"exclude": ["Unmanaged"]}})),
        "spec.conditions.devices.exclude",
    );
    accepted(
        policy(),
        json!({"spec": {"session": {"globalSecureAccessFilteringProfile": "5e9a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c"}}}),
    );
}
