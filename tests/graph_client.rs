//! The Graph client against the simulator over real HTTP on 127.0.0.1: every credential kind,
//! token refresh, paging, `$batch` with mixed results, throttling with and without
//! Retry-After, 5xx retries, permanent errors not retried, error mapping.

use sessionops_core::status::Reason;
use sessionops_testkit as common;

use std::time::Duration;

use futures::TryStreamExt;
use graph_sim::SimConfig;
use reqwest::Method;
use serde_json::json;
use sessionops_graph::auth::CertificateCredential;
use sessionops_graph::models::{ConditionalAccessPolicy, Page, User};
use sessionops_graph::{
    ApiVersion, BatchItem, Credential, GraphClient, GraphError, GraphRequest, Secret,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[tokio::test]
async fn client_secret_and_paging_across_pages() {
    let sim = common::start(SimConfig {
        users: 250,
        ..common::quiet()
    })
    .await;
    let client = common::client(&sim);
    let pages: Vec<Page<User>> = client
        .pages(
            GraphRequest::get("/users")
                .query("$top", "100")
                .query("$select", "id,userPrincipalName"),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.value.len()).collect::<Vec<_>>(),
        [100, 100, 50]
    );
    let mut upns: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.value)
        .filter_map(|u| u.user_principal_name)
        .collect();
    upns.sort();
    upns.dedup();
    assert_eq!(upns.len(), 250, "every user exactly once");
    let stats = common::stats(&sim).await;
    assert_eq!(
        common::count(&stats, "POST /{tenant}/oauth2/v2.0/token", 200),
        1,
        "one token for all pages"
    );
}

#[tokio::test]
async fn certificate_credential_signs_a_ps256_assertion() {
    let sim = common::start(SimConfig {
        users: 3,
        client_certificate_pem: Some(String::from_utf8(fixture("test-app.cert.pem")).unwrap()),
        ..common::quiet()
    })
    .await;
    let certificate = CertificateCredential::from_pem(
        &fixture("test-app.cert.pem"),
        &fixture("test-app.key.pem"),
    )
    .unwrap();
    let mut config = common::config(&sim);
    config.credential = Credential::Certificate(std::sync::Arc::new(certificate));
    let client = GraphClient::new(config).unwrap();
    let users: Vec<User> = client.list_all(GraphRequest::get("/users")).await.unwrap();
    assert_eq!(users.len(), 3);
    assert!(
        client
            .granted_roles()
            .await
            .unwrap()
            .contains(&"User.RevokeSessions.All".to_owned())
    );
}

fn federated_token(subject: &str) -> String {
    #[derive(serde::Serialize)]
    struct Claims<'a> {
        iss: &'a str,
        sub: &'a str,
        aud: &'a str,
        exp: u64,
        iat: u64,
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = Claims {
        iss: "https://oidc.cluster.example",
        sub: subject,
        aud: "api://AzureADTokenExchange",
        exp: now + 3600,
        iat: now,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"cluster-key"),
    )
    .unwrap()
}

#[tokio::test]
async fn workload_identity_reads_the_token_file_on_every_token_request() {
    let sim = common::start(SimConfig {
        users: 2,
        token_lifetime: Duration::from_secs(2),
        ..common::quiet()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(
        &token_file,
        federated_token(graph_sim::config::DEFAULT_FEDERATED_SUBJECT),
    )
    .unwrap();
    let mut config = common::config(&sim);
    config.credential = Credential::WorkloadIdentity {
        token_file: token_file.clone(),
    };
    let client = GraphClient::new(config).unwrap();
    client.send(GraphRequest::get("/users")).await.unwrap();
    // kubelet rotates the file; the next token request must present the new content.
    std::fs::write(
        &token_file,
        federated_token("system:serviceaccount:other:intruder"),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the refresh point of a 2 s token
    let error = client.send(GraphRequest::get("/users")).await.unwrap_err();
    assert_eq!(error.code(), Some("AADSTS700213"), "{error}");
    assert_eq!(Reason::from(&error), Reason::Unauthorized);
}

#[tokio::test]
async fn a_wrong_secret_is_unauthorized_and_never_echoed() {
    let sim = common::start(common::quiet()).await;
    let mut config = common::config(&sim);
    config.credential = Credential::ClientSecret(Secret::new("wrong-secret-value"));
    let error = GraphClient::new(config)
        .unwrap()
        .send(GraphRequest::get("/users"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("AADSTS7000215"), "{error}");
    assert!(!error.to_string().contains("wrong-secret-value"));
    assert!(!format!("{error:?}").contains("wrong-secret-value"));
}

#[tokio::test]
async fn tokens_are_cached_and_refreshed_before_expiry() {
    let sim = common::start(SimConfig {
        users: 1,
        token_lifetime: Duration::from_secs(2),
        ..common::quiet()
    })
    .await;
    let client = common::client(&sim);
    for _ in 0..4 {
        client.send(GraphRequest::get("/users")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let stats = common::stats(&sim).await;
    let tokens = common::count(&stats, "POST /{tenant}/oauth2/v2.0/token", 200);
    // 2 s tokens are replaced after 1 s: four calls over ~2.8 s need 2 or 3 tokens, not 4.
    assert!((2..=3).contains(&tokens), "{tokens} token requests");
    assert_eq!(stats["totals"]["throttled"], 0);
    assert_eq!(
        common::total(&stats, "GET /users"),
        4,
        "no request failed on an expired token"
    );
}

#[tokio::test]
async fn batch_items_come_back_in_input_order_with_their_own_status() {
    let sim = common::start(SimConfig {
        users: 3,
        ..common::quiet()
    })
    .await;
    let client = common::client(&sim);
    let users: Vec<User> = client.list_all(GraphRequest::get("/users")).await.unwrap();
    let items = vec![
        BatchItem::new(
            "a",
            Method::POST,
            format!("/users/{}/revokeSignInSessions", users[0].id),
        ),
        BatchItem::new(
            "b",
            Method::POST,
            "/users/00000000-0000-0000-0000-0000000000ff/revokeSignInSessions",
        ),
        BatchItem::new(
            "c",
            Method::GET,
            format!(
                "/users/{}?$select=id,signInSessionsValidFromDateTime",
                users[0].id
            ),
        ),
        BatchItem::new("d", Method::PATCH, format!("/users/{}", users[1].id))
            .with_body(json!({"accountEnabled": false})),
    ];
    let responses = client.send_batch(ApiVersion::V1, &items).await.unwrap();
    assert_eq!(
        responses
            .iter()
            .map(|r| (r.id.as_str(), r.status))
            .collect::<Vec<_>>(),
        [("a", 200), ("b", 404), ("c", 200), ("d", 204)]
    );
    assert_eq!(responses[0].body.as_ref().unwrap()["value"], true);
    assert_eq!(
        Reason::from(&responses[1].error(&items[1]).unwrap()),
        Reason::NotFound
    );
    assert!(responses[2].body.as_ref().unwrap()["signInSessionsValidFromDateTime"].is_string());
    let state: serde_json::Value =
        reqwest::get(format!("{}/_sim/users/{}", sim.base_url(), users[1].id))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(state["accountEnabled"], false);
    let too_many: Vec<BatchItem> = (0..21)
        .map(|i| BatchItem::new(i.to_string(), Method::GET, "/users"))
        .collect();
    let refused = client
        .send_batch(ApiVersion::V1, &too_many)
        .await
        .unwrap_err();
    assert_eq!(
        Reason::from(&refused),
        Reason::UnexpectedResponse,
        "refused before sending"
    );
}

#[tokio::test]
async fn throttled_batch_items_are_retried_after_retry_after_until_all_succeed() {
    // The simulator allows 10 writes per second; the client believes 40 (as if another app
    // were sharing the quota), so Graph throttles and the client must slow down and recover.
    let sim = common::start(SimConfig {
        users: 60,
        write_quota: (10, Duration::from_secs(1)),
        ..SimConfig::default()
    })
    .await;
    let mut config = common::config(&sim);
    config.write_quota = "40/1".parse().unwrap();
    let client = GraphClient::new(config).unwrap();
    let users: Vec<User> = client
        .list_all(GraphRequest::get("/users").query("$top", "999"))
        .await
        .unwrap();
    let items: Vec<BatchItem> = users
        .iter()
        .map(|u| {
            BatchItem::new(
                u.id.clone(),
                Method::POST,
                format!("/users/{}/revokeSignInSessions", u.id),
            )
        })
        .collect();
    let responses = client.batch(ApiVersion::V1, items, 2).await.unwrap();
    assert!(
        responses.iter().all(|r| r.status == 200),
        "{:?}",
        responses
            .iter()
            .map(|r| (r.status, r.attempts, r.retry_after()))
            .collect::<Vec<_>>()
    );
    let stats = common::stats(&sim).await;
    assert!(
        common::count(&stats, "POST /users/{id}/revokeSignInSessions", 429) > 0,
        "the quota was hit: {stats}"
    );
    assert_eq!(
        common::count(&stats, "POST /users/{id}/revokeSignInSessions", 200),
        60,
        "each user revoked once"
    );
}

#[tokio::test]
async fn conditional_access_throttling_without_retry_after_is_backed_off() {
    let sim = common::start(SimConfig::default()).await;
    let mut config = common::config(&sim);
    config.ca_requests_per_second = 50.0; // wrong on purpose: Graph allows 1
    let client = GraphClient::new(config).unwrap();
    for _ in 0..3 {
        let policies: Vec<ConditionalAccessPolicy> = client
            .list_all(GraphRequest::get("/identity/conditionalAccess/policies"))
            .await
            .unwrap();
        assert!(policies.is_empty());
    }
    let stats = common::stats(&sim).await;
    assert!(
        common::count(&stats, "GET /identity/conditionalAccess/policies", 429) > 0,
        "{stats}"
    );
    assert_eq!(
        common::count(&stats, "GET /identity/conditionalAccess/policies", 200),
        3
    );
}

#[tokio::test]
async fn the_ca_lane_never_exceeds_one_request_per_second() {
    let sim = common::start(SimConfig::default()).await;
    let client = common::client(&sim);
    let calls =
        (0..4).map(|_| client.send(GraphRequest::get("/identity/conditionalAccess/policies")));
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    let stats = common::stats(&sim).await;
    assert_eq!(stats["totals"]["throttled"], 0, "{stats}");
    let times: Vec<u64> = stats["caRequestTimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_u64().unwrap())
        .collect();
    assert_eq!(times.len(), 4);
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= 1000,
            "CA requests {} ms apart",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test]
async fn transient_failures_are_retried_and_reported_when_they_persist() {
    let sim = common::start(SimConfig {
        users: 5,
        fault_rate: 0.4,
        ..common::quiet()
    })
    .await;
    // 12 attempts: at a 40% fault rate a request fails them all with p = 0.4^12 ≈ 2e-5, so
    // this test does not flake (6 attempts gave ~8% over 20 requests).
    let mut config = common::config(&sim);
    config.retry.max_attempts = 12;
    let client = GraphClient::new(config).unwrap();
    for _ in 0..20 {
        client
            .send(GraphRequest::get("/users"))
            .await
            .expect("retries absorb a 40% fault rate");
    }
    assert!(
        common::stats(&sim).await["totals"]["faults"]
            .as_u64()
            .unwrap()
            > 0
    );

    let failing = common::start(SimConfig {
        users: 1,
        fault_rate: 1.0,
        ..common::quiet()
    })
    .await;
    let mut config = common::config(&failing);
    config.retry.max_attempts = 3;
    let error = GraphClient::new(config)
        .unwrap()
        .send(GraphRequest::get("/users"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, GraphError::Transient { attempts: 3, .. }),
        "{error}"
    );
    assert_eq!(Reason::from(&error), Reason::TenantUnreachable);
    assert_eq!(
        common::total(&common::stats(&failing).await, "GET /users"),
        3,
        "bounded attempts"
    );
}

#[tokio::test]
async fn permanent_errors_are_not_retried_and_keep_code_and_request_id() {
    let sim = common::start(SimConfig {
        users: 1,
        ..common::quiet()
    })
    .await;
    let client = common::client(&sim);
    let error = client
        .send(GraphRequest::get("/users/nobody@contoso.onmicrosoft.com"))
        .await
        .unwrap_err();
    assert_eq!(Reason::from(&error), Reason::NotFound);
    assert_eq!(error.code(), Some("Request_ResourceNotFound"));
    assert!(error.ids().unwrap().request_id.is_some(), "{error}");
    let bad = client
        .send(GraphRequest::get("/users").query("$top", "5000"))
        .await
        .unwrap_err();
    assert_eq!(Reason::from(&bad), Reason::InvalidRequest);
    let stats = common::stats(&sim).await;
    assert_eq!(
        common::total(&stats, "GET /users/{id}"),
        1,
        "a 404 is an answer, not retried"
    );
    assert_eq!(
        common::total(&stats, "GET /users"),
        1,
        "a 400 is not retried"
    );
}

#[tokio::test]
async fn forbidden_names_the_missing_permission() {
    let roles = graph_sim::config::DEFAULT_ROLES
        .iter()
        .filter(|r| **r != "User.RevokeSessions.All")
        .map(|r| r.to_string())
        .collect();
    let sim = common::start(SimConfig {
        users: 1,
        granted_roles: roles,
        ..common::quiet()
    })
    .await;
    let client = common::client(&sim);
    let users: Vec<User> = client.list_all(GraphRequest::get("/users")).await.unwrap();
    let error = client
        .send(GraphRequest::action(&format!(
            "/users/{}/revokeSignInSessions",
            users[0].id
        )))
        .await
        .unwrap_err();
    assert_eq!(Reason::from(&error), Reason::Forbidden);
    assert_eq!(error.code(), Some("Authorization_RequestDenied"));
    assert!(
        matches!(&error, GraphError::Forbidden { missing_permission: Some(p), .. } if p == "User.RevokeSessions.All"),
        "{error}"
    );
    assert!(
        !client
            .granted_roles()
            .await
            .unwrap()
            .contains(&"User.RevokeSessions.All".to_owned())
    );
}

/// Graph behaviours the simulator does not produce on its own, from a scripted server.
/// concepts/throttling.md: a batch whose items are throttled may itself fail with 424. Without
/// per-item responses the batch is sent again whole; with them, only the failed items are. And
/// `x-ms-throttle-limit-percentage` warns above 0.8 of the limit: the write lane slows before
/// any 429.
#[tokio::test]
async fn an_outer_424_is_retried_and_a_near_limit_warning_slows_the_write_lane() {
    use std::sync::{Arc, Mutex};

    use axum::Json;
    use axum::http::StatusCode;
    use axum::routing::post;
    use serde_json::Value;

    sessionops_graph::tls::install_crypto_provider();
    // The number of items of every $batch received, in order.
    let received: Arc<Mutex<Vec<usize>>> = Arc::default();
    let seen = received.clone();
    let app = axum::Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(|| async {
                Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "e30.e30.sig"}))
            }),
        )
        .route(
            "/v1.0/$batch",
            post(move |Json(body): Json<Value>| {
                let seen = seen.clone();
                async move {
                    let items = body["requests"].as_array().unwrap().clone();
                    let call = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(items.len());
                        seen.len()
                    };
                    let answer = |id: &Value, status: u16, headers: Value| {
                        json!({"id": id, "status": status, "headers": headers, "body": {"value": true}})
                    };
                    match call {
                        1 => (
                            StatusCode::FAILED_DEPENDENCY,
                            Json(json!({"error": {"code": "FailedDependency", "message": "throttled items"}})),
                        ),
                        2 => {
                            let responses: Vec<Value> = items
                                .iter()
                                .map(|item| {
                                    if item["id"] == "1" {
                                        answer(&item["id"], 429, json!({"Retry-After": "0.01"}))
                                    } else {
                                        answer(&item["id"], 200, json!({}))
                                    }
                                })
                                .collect();
                            (StatusCode::FAILED_DEPENDENCY, Json(json!({"responses": responses})))
                        }
                        _ => {
                            let responses: Vec<Value> = items
                                .iter()
                                .map(|item| answer(&item["id"], 200, json!({"x-ms-throttle-limit-percentage": "1.6"})))
                                .collect();
                            (StatusCode::OK, Json(json!({"responses": responses})))
                        }
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client_for = |tenant: &str| {
        let mut config = sessionops_graph::GraphConfig::new(
            tenant,
            "5e551011-0000-4000-8000-00000000000c",
            Credential::ClientSecret(Secret::new("s")),
            &base,
            &base,
        );
        config.retry.base_delay = Duration::from_millis(10);
        GraphClient::new(config).unwrap()
    };
    let items = || -> Vec<BatchItem> {
        (0..3)
            .map(|i| {
                BatchItem::new(
                    i.to_string(),
                    Method::POST,
                    format!("/users/u{i}/revokeSignInSessions"),
                )
            })
            .collect()
    };

    let client = client_for("contoso.onmicrosoft.com");
    let responses = client.batch(ApiVersion::V1, items(), 1).await.unwrap();
    assert!(responses.iter().all(|r| r.status == 200), "{responses:?}");
    assert_eq!(
        *received.lock().unwrap(),
        [3, 3, 1],
        "a bare 424 resends the batch; a 424 with item answers resends only the throttled item"
    );

    // Another tenant has a lane of its own: only the warning acts on it.
    let fresh = client_for("fabrikam.onmicrosoft.com");
    let nominal = fresh.write_rate();
    fresh.batch(ApiVersion::V1, items(), 1).await.unwrap();
    let slowed = fresh.write_rate();
    assert!(
        (slowed / nominal - 0.5).abs() < 0.05,
        "1.6 of the limit halves the pace: {nominal} -> {slowed}"
    );
}
