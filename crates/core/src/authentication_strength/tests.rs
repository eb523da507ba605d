use super::*;
use sessionops_api::{CertificateCombination, CertificateRestriction, Fido2Restriction};

fn spec(combinations: &[&str]) -> AuthenticationStrengthSpec {
    AuthenticationStrengthSpec {
        tenant_ref: TenantRef {
            kind: Default::default(),
            name: "contoso".into(),
        },
        display_name: Some("Keys and certificates".into()),
        description: Some("Security keys of our two models, or a smart card".into()),
        deletion_policy: DeletionPolicy::Delete,
        allowed_combinations: combinations.iter().map(|c| (*c).to_owned()).collect(),
        fido2: Some(Fido2Restriction {
            allowed_aaguids: vec!["CB69481E-8FF7-4039-93EC-0A2729A154A8".into()],
        }),
        certificates: Some(vec![CertificateRestriction {
            applies_to: CertificateCombination::X509CertificateMultiFactor,
            allowed_issuer_skis: vec!["9a4248c6ac8c2931ab2a86537818e92e7b6c97b6".into()],
            allowed_policy_oids: vec!["1.2.3.4.6".into()],
        }]),
    }
}

/// The strength as the LIST returns it: other order, spaces after commas, other case, ids.
fn as_listed(desired: &AuthenticationStrengthPolicy, id: &str) -> AuthenticationStrengthPolicy {
    let mut listed = desired.clone();
    listed.id = id.into();
    listed.policy_type = Some("custom".into());
    listed.allowed_combinations = listed
        .allowed_combinations
        .iter()
        .rev()
        .map(|c| c.replace(',', ", "))
        .collect();
    for (i, c) in listed.combination_configurations.iter_mut().enumerate() {
        c.id = Some(format!("config-{i}"));
        if let Some(aaguids) = &mut c.allowed_aaguids {
            *aaguids = aaguids.iter().map(|a| a.to_lowercase()).collect();
        }
    }
    listed.combination_configurations.reverse();
    listed
}

fn built_ins() -> Vec<AuthenticationStrengthPolicy> {
    [
        (
            "00000000-0000-0000-0000-000000000002",
            "Multifactor authentication",
        ),
        (
            "00000000-0000-0000-0000-000000000004",
            "Phishing-resistant MFA",
        ),
    ]
    .iter()
    .map(|(id, name)| AuthenticationStrengthPolicy {
        id: (*id).into(),
        display_name: (*name).into(),
        policy_type: Some("builtIn".into()),
        allowed_combinations: vec!["fido2".into()],
        ..Default::default()
    })
    .collect()
}

#[test]
fn a_new_strength_is_created_with_its_configurations_in_the_plan() {
    let desired = desired_strength(
        &spec(&[
            "fido2",
            "x509CertificateMultiFactor",
            "password,microsoftAuthenticatorPush",
        ]),
        "identity",
        "keys",
    );
    let Ok(Plan::Create { body, .. }) = plan(&desired, None, &built_ins()) else {
        panic!("a create")
    };
    assert_eq!(
        body["@odata.type"],
        "#microsoft.graph.authenticationStrengthPolicy"
    );
    assert_eq!(body["allowedCombinations"].as_array().unwrap().len(), 3);
    let configurations = body["combinationConfigurations"].as_array().unwrap();
    assert_eq!(configurations.len(), 2);
    assert_eq!(
        configurations[0]["@odata.type"],
        "#microsoft.graph.fido2CombinationConfiguration"
    );
    assert_eq!(configurations[0]["appliesToCombinations"], json!(["fido2"]));
    assert_eq!(configurations[1]["allowedPolicyOIDs"], json!(["1.2.3.4.6"]));
    assert!(body.get("id").is_none() && body.get("policyType").is_none());
}

#[test]
fn order_spaces_case_and_ids_are_not_drift() {
    let desired = desired_strength(
        &spec(&[
            "fido2",
            "x509CertificateMultiFactor",
            "password,microsoftAuthenticatorPush",
        ]),
        "identity",
        "keys",
    );
    let mut tenant = built_ins();
    tenant.push(as_listed(&desired, "s1"));
    assert_eq!(
        plan(&desired, None, &tenant),
        Ok(Plan::NoOp {
            id: "s1".into(),
            adopted: true
        })
    );
}

#[test]
fn a_changed_combination_and_configuration_are_one_update_of_those_fields() {
    let desired = desired_strength(
        &spec(&["fido2", "x509CertificateMultiFactor"]),
        "identity",
        "keys",
    );
    let mut drifted = as_listed(&desired, "s1");
    drifted.allowed_combinations.push("sms".into());
    drifted.combination_configurations[0].allowed_issuer_skis = Some(vec!["AB".into()]);
    let Ok(Plan::Update { changes, patch, .. }) = plan(&desired, Some("s1"), &[drifted]) else {
        panic!("an update")
    };
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["allowedCombinations", "combinationConfigurations"]);
    assert!(patch.get("displayName").is_none());
    assert_eq!(patch["allowedCombinations"].as_array().unwrap().len(), 2);
}

#[test]
fn built_ins_are_never_managed_and_the_limit_is_kept() {
    let mut named_like_builtin = spec(&["fido2"]);
    named_like_builtin.display_name = Some("Phishing-resistant MFA".into());
    let desired = desired_strength(&named_like_builtin, "identity", "keys");
    assert!(matches!(
        plan(&desired, None, &built_ins()),
        Err(StrengthError::BuiltIn { id, .. }) if id == "00000000-0000-0000-0000-000000000004"
    ));
    let mut full = built_ins();
    for i in 0..MAX_CUSTOM_STRENGTHS {
        full.push(AuthenticationStrengthPolicy {
            id: format!("c{i}"),
            display_name: format!("custom {i}"),
            policy_type: Some("custom".into()),
            ..Default::default()
        });
    }
    let desired = desired_strength(&spec(&["fido2"]), "identity", "keys");
    assert_eq!(
        plan(&desired, None, &full),
        Err(StrengthError::LimitReached)
    );
    // An existing custom strength can still be managed at the limit.
    full[2].display_name = "Keys and certificates".into();
    assert!(matches!(
        plan(&desired, None, &full),
        Ok(Plan::Update { .. })
    ));
}
