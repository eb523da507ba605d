//! The token check of a tenant connection against the simulator: Ready with the granted and
//! missing permissions, Unauthorized with the AADSTS code, and an unchanged status when
//! nothing changed (so a controller can skip the status patch).

use sessionops_testkit as common;

use graph_sim::SimConfig;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use sessionops_api::{RevocationAction, TenantConnectionStatus};
use sessionops_core::connection::{Features, check_token, connection_status};
use sessionops_graph::{Credential, GraphClient, Secret};

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
        ..Features::default()
    };
    let check = check_token(&client, &features).await;
    let status = connection_status(
        &TenantConnectionStatus::default(),
        Some(1),
        &check,
        &features,
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
        &check_token(&client, &features).await,
        &features,
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
    let check = check_token(&GraphClient::new(config).unwrap(), &Features::default()).await;
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

/// Device and password actions need directory roles besides permissions (device-update.md,
/// user-update.md): the connection names the ones the app lacks, read from its role
/// assignments, and none once they are assigned.
#[tokio::test]
async fn a_token_check_names_the_directory_roles_the_actions_need() {
    let features = Features {
        policies: false,
        revocation_actions: [
            RevocationAction::RevokeSessions,
            RevocationAction::DisableDevices,
            RevocationAction::RequirePasswordChange,
        ]
        .into(),
        group_targets: false,
        ..Features::default()
    };
    let without = common::start(SimConfig {
        directory_roles: vec!["Cloud Device Administrator".into()],
        ..common::quiet()
    })
    .await;
    let status = connection_status(
        &TenantConnectionStatus::default(),
        Some(1),
        &check_token(&common::client(&without), &features).await,
        &features,
        &now(100),
    );
    assert_eq!(status.missing_directory_roles, ["User Administrator"]);
    let ready = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "True");
    assert!(
        ready
            .message
            .contains("directory roles to assign to the app: User Administrator"),
        "{}",
        ready.message
    );
    let with = common::start(common::quiet()).await;
    let status = connection_status(
        &TenantConnectionStatus::default(),
        Some(1),
        &check_token(&common::client(&with), &features).await,
        &features,
        &now(100),
    );
    assert!(status.missing_directory_roles.is_empty(), "{status:?}");
    // Revoking sessions alone needs no role: the assignments are not even read.
    let revoke_only = Features {
        revocation_actions: [RevocationAction::RevokeSessions].into(),
        ..features
    };
    let check = check_token(&common::client(&without), &revoke_only)
        .await
        .unwrap();
    assert_eq!(check.directory_roles, None);
}
