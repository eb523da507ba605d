//! AuthenticationStrength against the simulator: created with its combination
//! configurations, read back in sync, portal drift in all three places Graph keeps a strength
//! (properties, allowed combinations, configurations) put back through the three documented
//! calls, deletion refused while a policy requires it.

use sessionops_testkit as common;

use serde_json::{Value, json};
use sessionops_api::AuthenticationStrengthSpec;
use sessionops_core::authentication_strength::{apply, desired_strength, plan};
use sessionops_core::status::Reason;
use sessionops_core::tenant_object::Plan;
use sessionops_core::tenant_object::io::AppliedAction;
use sessionops_core::tenant_object::kind::SeamKind;
use sessionops_graph::models::AuthenticationStrengthPolicy;
use sessionops_graph::{GraphClient, GraphRequest, paths};

async fn strengths(client: &GraphClient) -> Vec<AuthenticationStrengthPolicy> {
    client
        .list_all(GraphRequest::get(paths::AUTHENTICATION_STRENGTH_POLICIES))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_strength_is_created_kept_in_sync_and_not_deleted_while_required() {
    let (_sim, client) = common::start_unpaced().await;
    let spec: AuthenticationStrengthSpec = serde_json::from_value(json!({
        "tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"},
        "displayName": "Company security keys",
        "description": "Issued keys or a company smart card",
        "allowedCombinations": ["fido2", "x509CertificateMultiFactor"],
        "fido2": {"allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]},
        "certificates": [{"appliesTo": "x509CertificateMultiFactor",
                          "allowedIssuerSkis": ["9A4248C6AC8C2931AB2A86537818E92E7B6C97B6"]}]
    }))
    .unwrap();
    let desired = desired_strength(&spec, "identity", "keys");

    let create = plan(&desired, None, &strengths(&client).await).unwrap();
    assert!(matches!(create, Plan::Create { .. }));
    let applied = apply(&client, &create).await.unwrap();
    assert_eq!(applied.action, AppliedAction::Created);
    let id = applied.id;
    let listed = strengths(&client).await;
    let ours = listed.iter().find(|s| s.id == id).unwrap();
    assert_eq!(ours.combination_configurations.len(), 2);
    assert_eq!(
        plan(&desired, Some(&id), &listed).unwrap(),
        Plan::NoOp {
            id: id.clone(),
            adopted: false
        }
    );

    // The portal: a new description, SMS allowed, the FIDO2 restriction removed.
    client
        .send(GraphRequest::patch(
            &paths::authentication_strength_policy(&id),
            json!({"description": "edited"}),
        ))
        .await
        .unwrap();
    let fido2 = ours
        .combination_configurations
        .iter()
        .find(|c| c.applies_to_combinations == ["fido2"])
        .and_then(|c| c.id.clone())
        .unwrap();
    client
        .send(GraphRequest::delete(&paths::combination_configuration(
            &id, &fido2,
        )))
        .await
        .unwrap();
    client
        .send(GraphRequest::post(
            &paths::update_allowed_combinations(&id),
            json!({"allowedCombinations": ["fido2", "x509CertificateMultiFactor", "password,sms"]}),
        ))
        .await
        .unwrap();
    let update = plan(&desired, Some(&id), &strengths(&client).await).unwrap();
    let Plan::Update { changes, .. } = &update else {
        panic!("drift found: {update:?}")
    };
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "allowedCombinations",
            "combinationConfigurations",
            "description"
        ]
    );
    apply(&client, &update).await.unwrap();
    assert!(matches!(
        plan(&desired, Some(&id), &strengths(&client).await).unwrap(),
        Plan::NoOp { .. }
    ));

    // Required by a policy: not deleted, and the policy is named.
    let policy: Value = client
        .send_json(GraphRequest::post(
            paths::CONDITIONAL_ACCESS_POLICIES,
            json!({
                "displayName": "Admins: company keys",
                "state": "disabled",
                "conditions": {
                    "users": {"includeRoles": ["62e90394-69f5-4237-9190-012177145e10"]},
                    "applications": {"includeApplications": ["All"]},
                    "clientAppTypes": ["all"]
                },
                "grantControls": {"operator": "OR", "authenticationStrength": {"id": id}}
            }),
        ))
        .await
        .unwrap();
    let policy = policy["id"].as_str().unwrap().to_owned();
    let refused = <sessionops_api::AuthenticationStrength as SeamKind>::delete(&client, &id)
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), Reason::InUse);
    assert!(refused.to_string().contains(&policy), "{refused}");
    client
        .send(GraphRequest::delete(&paths::conditional_access_policy(
            &policy,
        )))
        .await
        .unwrap();
    <sessionops_api::AuthenticationStrength as SeamKind>::delete(&client, &id)
        .await
        .unwrap();
    assert!(strengths(&client).await.iter().all(|s| s.id != id));
}

/// A strength made in the portal is adopted by its display name (no second one is created);
/// one deleted in the portal is created again, as strengths have no deleted items to restore
/// from.
#[tokio::test]
async fn a_portal_strength_is_adopted_by_name_and_a_deleted_one_created_again() {
    let (_sim, client) = common::start_unpaced().await;
    let portal: Value = client
        .send_json(GraphRequest::post(
            paths::AUTHENTICATION_STRENGTH_POLICIES,
            json!({"@odata.type": "#microsoft.graph.authenticationStrengthPolicy",
                   "displayName": "Passkeys only", "description": "made in the portal",
                   "allowedCombinations": ["fido2"]}),
        ))
        .await
        .unwrap();
    let portal_id = portal["id"].as_str().unwrap().to_owned();
    let spec: AuthenticationStrengthSpec = serde_json::from_value(json!({
        "tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"},
        "displayName": "Passkeys only",
        "description": "made in the portal",
        "allowedCombinations": ["fido2", "windowsHelloForBusiness"]
    }))
    .unwrap();
    let desired = desired_strength(&spec, "identity", "passkeys");
    let adopt = plan(&desired, None, &strengths(&client).await).unwrap();
    let Plan::Update {
        id,
        adopted,
        changes,
        ..
    } = &adopt
    else {
        panic!("adopted, not created: {adopt:?}")
    };
    assert_eq!((id.as_str(), *adopted), (portal_id.as_str(), true));
    assert_eq!(changes[0].field, "allowedCombinations");
    apply(&client, &adopt).await.unwrap();
    let customs = |all: &[AuthenticationStrengthPolicy]| {
        all.iter()
            .filter(|s| s.display_name == "Passkeys only")
            .count()
    };
    assert_eq!(customs(&strengths(&client).await), 1);

    client
        .send(GraphRequest::delete(
            &paths::authentication_strength_policy(&portal_id),
        ))
        .await
        .unwrap();
    let again = plan(&desired, Some(&portal_id), &strengths(&client).await).unwrap();
    assert!(matches!(again, Plan::Create { .. }), "{again:?}");
    let applied = apply(&client, &again).await.unwrap();
    assert_eq!(applied.action, AppliedAction::Created);
    assert_ne!(applied.id, portal_id);
    let listed = strengths(&client).await;
    assert_eq!(customs(&listed), 1);
    assert!(matches!(
        plan(&desired, Some(&applied.id), &listed).unwrap(),
        Plan::NoOp { .. }
    ));
}
