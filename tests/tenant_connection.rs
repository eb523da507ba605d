//! The token check of a tenant connection against the simulator: Ready with the granted and
//! missing permissions, Unauthorized with the AADSTS code, and an unchanged status when
//! nothing changed (so a controller can skip the status patch).

mod common;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use sessionops::api::{RevocationAction, TenantConnectionStatus};
use sessionops::graph::{Credential, GraphClient, Secret};
use sessionops::reconcile::tenant::{Features, connection_status, required_roles};
use sessionops::sim::SimConfig;

fn now(seconds: i64) -> Time {
    Time(jiff::Timestamp::from_second(seconds).unwrap())
}

#[tokio::test]
async fn a_token_check_reports_granted_and_missing_permissions() {
    let granted: Vec<String> = [
        "User.Read.All",
        "GroupMember.Read.All",
        "User.RevokeSessions.All",
    ]
    .map(String::from)
    .to_vec();
    let sim = common::start(SimConfig {
        granted_roles: granted.clone(),
        ..common::quiet()
    })
    .await;
    let client = common::client(&sim);
    let features = Features {
        policies: false,
        revocation_actions: [
            RevocationAction::RevokeSessions,
            RevocationAction::DisableAccount,
        ]
        .into(),
        group_targets: true,
    };
    let required = required_roles(&features);
    let check = client.granted_roles().await.map_err(Into::into);
    let status = connection_status(
        &TenantConnectionStatus::default(),
        Some(1),
        &check,
        &required,
        &now(100),
    );
    let ready = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("True", "TokenObtained")
    );
    assert_eq!(status.missing_roles, ["User.EnableDisableAccount.All"]);
    assert!(ready.message.contains("User.EnableDisableAccount.All"));
    let mut sorted = granted.clone();
    sorted.sort();
    assert_eq!(status.granted_roles, sorted);
    // The same check later: only lastTokenTime moves, the condition keeps its transition time.
    let again = connection_status(
        &status,
        Some(1),
        &client.granted_roles().await.map_err(Into::into),
        &required,
        &now(200),
    );
    assert_eq!(again.conditions, status.conditions);
    assert_eq!(again.last_token_time, Some(now(200)));
}

#[tokio::test]
async fn wrong_credentials_make_the_connection_not_ready() {
    let sim = common::start(common::quiet()).await;
    let mut config = common::config(&sim);
    config.credential = Credential::ClientSecret(Secret::new("not-the-secret"));
    let check = GraphClient::new(config)
        .unwrap()
        .granted_roles()
        .await
        .map_err(Into::into);
    let status = connection_status(
        &TenantConnectionStatus::default(),
        Some(3),
        &check,
        &Default::default(),
        &now(100),
    );
    let ready = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(
        (
            ready.status.as_str(),
            ready.reason.as_str(),
            ready.observed_generation
        ),
        ("False", "Unauthorized", Some(3))
    );
    assert!(
        ready.message.contains("AADSTS7000215") && !ready.message.contains("not-the-secret"),
        "{}",
        ready.message
    );
}
