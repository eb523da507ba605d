//! Conformance of the Graph simulator with Graph's documented behaviour:
//! raw HTTP against a `Simulator` on a free port, requests shaped like the Graph docs'
//! examples, exact statuses, headers and bodies.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use graph_sim::{Seed, SimConfig, Simulator};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const CERT_PEM: &str = include_str!("fixtures/test-app.cert.pem");
const KEY_PEM: &str = include_str!("fixtures/test-app.key.pem");

const SEED: &str = r#"
users:
  - userPrincipalName: jdoe@contoso.com
    displayName: John Doe
    mail: jdoe@contoso.com
    devices:
      - displayName: JDOE-LAPTOP
        deviceId: 0f6f5c43-9f1a-4b4e-8a53-1f7d1a4b9a10
        operatingSystem: Windows
      - displayName: JDOE-PC
        trustType: ServerAd
  - userPrincipalName: guest_fabrikam.com#EXT#@contoso.com
    displayName: Fabrikam Guest
    userType: Guest
  - userPrincipalName: synced@contoso.com
    displayName: Synced User
    onPremisesSyncEnabled: true
  - userPrincipalName: disabled@contoso.com
    accountEnabled: false
groups:
  - displayName: incident-2026
    members: [jdoe@contoso.com, responders]
  - displayName: responders
    members: [synced@contoso.com, disabled@contoso.com]
authenticationStrengthPolicies:
  - displayName: FIDO2 only
    id: 6f1c9a6e-3d0b-4f41-9d0f-3c2b1a0e9f11
    allowedCombinations: [fido2]
"#;

/// One simulator plus an HTTP client holding a token.
struct Harness {
    sim: Simulator,
    http: reqwest::Client,
    token: String,
}

/// A response, read completely.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Defaults for tests: throttling off, the seed above, 5 generated users.
fn config() -> SimConfig {
    SimConfig {
        throttle: false,
        users: 5,
        seed: Some(Seed::from_yaml(SEED).expect("the test seed parses")),
        ..SimConfig::default()
    }
}

async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON body ({e}): {text}"))
    };
    Reply {
        status,
        headers,
        body,
    }
}

impl Harness {
    async fn start(config: SimConfig) -> Harness {
        let sim = Simulator::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("the simulator starts");
        let http = client();
        let mut harness = Harness {
            sim,
            http,
            token: String::new(),
        };
        let reply = harness
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", harness.sim.client_id()),
                ("client_secret", harness.sim.client_secret()),
                ("scope", GRAPH_SCOPE),
            ])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        harness.token = reply.body["access_token"].as_str().unwrap().to_owned();
        harness
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    fn token_url(&self) -> String {
        self.url(&format!("/{}/oauth2/v2.0/token", self.sim.tenant_id()))
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Reply {
        read(
            self.http
                .post(self.token_url())
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body), &[]).await
    }

    async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body), &[]).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None, &[]).await
    }

    /// `/_sim/` calls carry no token.
    async fn sim(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }

    async fn stats(&self) -> Value {
        self.sim(Method::GET, "/_sim/stats", None).await.body
    }

    async fn user_id(&self, upn: &str) -> String {
        let reply = self
            .sim(Method::GET, &format!("/_sim/users/{upn}"), None)
            .await;
        reply.body["id"].as_str().unwrap().to_owned()
    }
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Asserts Graph's error shape and returns the code.
fn assert_graph_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    let error = &reply.body["error"];
    assert_eq!(error["code"], code, "{}", reply.body);
    assert!(error["message"].is_string(), "{}", reply.body);
    let inner = &error["innerError"];
    assert_eq!(
        inner["request-id"].as_str(),
        reply.header("request-id"),
        "{}",
        reply.body
    );
    assert_eq!(
        inner["client-request-id"].as_str(),
        reply.header("client-request-id")
    );
    let date = inner["date"].as_str().unwrap();
    assert_eq!(date.len(), 19, "no offset, whole seconds: {date}");
}

fn assert_aad_error(reply: &Reply, status: u16, error: &str, code: u64) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.body["error"], error, "{}", reply.body);
    assert_eq!(reply.body["error_codes"], json!([code]));
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(reply.body[field].is_string(), "{field}: {}", reply.body);
    }
}

// ---------------------------------------------------------------------------------------------
// Token endpoint (entra-docs `v2-oauth2-client-creds-grant-flow.md`)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn token_with_client_secret_has_graph_claims() {
    let h = Harness::start(config()).await;
    let client_id = h.sim.client_id().to_owned();
    let secret = h.sim.client_secret().to_owned();
    let reply = h
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("scope", GRAPH_SCOPE),
        ])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 3599);
    assert_eq!(reply.body["ext_expires_in"], 3599);
    let claims = claims_of(reply.body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{}/", h.sim.tenant_id())
    );
    assert_eq!(claims["tid"], h.sim.tenant_id());
    assert_eq!(claims["appid"], client_id);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3599
    );
    let roles: Vec<&str> = claims["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for role in [
        "User.RevokeSessions.All",
        "Policy.Read.All",
        "Policy.ReadWrite.ConditionalAccess",
        "User.Read.All",
    ] {
        assert!(roles.contains(&role), "{role} in {roles:?}");
    }
}

#[tokio::test]
async fn token_with_http_basic_client_authentication() {
    let h = Harness::start(config()).await;
    let reply = read(
        h.http
            .post(h.token_url())
            .basic_auth(h.sim.client_id(), Some(h.sim.client_secret()))
            .form(&[("grant_type", "client_credentials"), ("scope", GRAPH_SCOPE)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn token_errors_use_the_aadsts_shape() {
    let h = Harness::start(config()).await;
    let client_id = h.sim.client_id().to_owned();
    let secret = h.sim.client_secret().to_owned();
    let form = |id: &'static str, value: &str| {
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", client_id.clone()),
            ("client_secret", secret.clone()),
            ("scope", GRAPH_SCOPE.to_owned()),
        ];
        for field in form.iter_mut() {
            if field.0 == id {
                field.1 = value.to_owned();
            }
        }
        form
    };
    let send = |form: Vec<(&'static str, String)>, url: String| {
        let http = h.http.clone();
        async move { read(http.post(url).form(&form).send().await.unwrap()).await }
    };

    let reply = send(form("client_secret", "wrong"), h.token_url()).await;
    assert_aad_error(&reply, 401, "invalid_client", 7000215);

    let reply = send(
        form("client_id", "11111111-1111-1111-1111-111111111111"),
        h.token_url(),
    )
    .await;
    assert_aad_error(&reply, 400, "unauthorized_client", 700016);

    let reply = send(
        form("scope", "https://graph.microsoft.com/User.Read"),
        h.token_url(),
    )
    .await;
    assert_aad_error(&reply, 400, "invalid_scope", 70011);

    let reply = send(form("grant_type", "password"), h.token_url()).await;
    assert_aad_error(&reply, 400, "unsupported_grant_type", 70003);

    let reply = send(
        form("grant_type", "client_credentials"),
        h.url("/22222222-2222-2222-2222-222222222222/oauth2/v2.0/token"),
    )
    .await;
    assert_aad_error(&reply, 400, "invalid_request", 90002);

    // The domain works as the tenant segment.
    let reply = send(
        form("grant_type", "client_credentials"),
        h.url("/contoso.onmicrosoft.com/oauth2/v2.0/token"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);

    let stats = h.stats().await;
    assert_eq!(
        stats["routes"]["POST /{tenant}/oauth2/v2.0/token"],
        json!({"200": 2, "400": 4, "401": 1})
    );
}

fn thumbprint_sha256() -> String {
    let der = pem::parse(CERT_PEM).unwrap();
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, der.contents()))
}

fn thumbprint_sha1() -> String {
    let der = pem::parse(CERT_PEM).unwrap();
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        der.contents(),
    ))
}

fn certificate_assertion(algorithm: Algorithm, claims: Value) -> String {
    let mut header = Header::new(algorithm);
    header.typ = Some("JWT".into());
    if algorithm == Algorithm::PS256 {
        header.x5t_s256 = Some(thumbprint_sha256());
    } else {
        header.x5t = Some(thumbprint_sha1());
    }
    let key = EncodingKey::from_rsa_pem(KEY_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn assertion_claims(h: &Harness) -> Value {
    let now = now();
    json!({
        "aud": format!("{}/{}/oauth2/v2.0/token", h.sim.base_url(), h.sim.tenant_id()),
        "iss": h.sim.client_id(),
        "sub": h.sim.client_id(),
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 300,
    })
}

async fn assertion_request(h: &Harness, assertion: &str) -> Reply {
    let client_id = h.sim.client_id().to_owned();
    h.token_request(&[
        ("grant_type", "client_credentials"),
        ("client_id", &client_id),
        ("scope", GRAPH_SCOPE),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ])
    .await
}

fn certificate_config() -> SimConfig {
    SimConfig {
        client_certificate_pem: Some(CERT_PEM.to_owned()),
        ..config()
    }
}

#[tokio::test]
async fn certificate_assertions_ps256_and_rs256_are_accepted() {
    let h = Harness::start(certificate_config()).await;
    let assertion = certificate_assertion(Algorithm::PS256, assertion_claims(&h));
    let reply = assertion_request(&h, &assertion).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["token_type"], "Bearer");
    // The token it returns works on Graph.
    let token = reply.body["access_token"].as_str().unwrap();
    let graph = read(
        h.http
            .get(h.url("/v1.0/users?$top=1"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(graph.status, StatusCode::OK);

    let assertion = certificate_assertion(Algorithm::RS256, assertion_claims(&h));
    let reply = assertion_request(&h, &assertion).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn tampered_or_mismatched_certificate_assertions_are_rejected() {
    let h = Harness::start(certificate_config()).await;
    // Swap the payload for another one: the signature no longer matches.
    let assertion = certificate_assertion(Algorithm::PS256, assertion_claims(&h));
    let mut parts: Vec<String> = assertion.split('.').map(str::to_owned).collect();
    let mut claims = assertion_claims(&h);
    claims["sub"] = json!("someone-else");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let reply = assertion_request(&h, &parts.join(".")).await;
    assert_aad_error(&reply, 401, "invalid_client", 700027);

    // Properly signed, but for another audience.
    let mut claims = assertion_claims(&h);
    claims["aud"] = json!("https://login.microsoftonline.com/other/oauth2/v2.0/token");
    let reply = assertion_request(&h, &certificate_assertion(Algorithm::PS256, claims)).await;
    assert_aad_error(&reply, 401, "invalid_client", 700023);

    // Expired.
    let mut claims = assertion_claims(&h);
    claims["nbf"] = json!(now() - 900);
    claims["exp"] = json!(now() - 600);
    let reply = assertion_request(&h, &certificate_assertion(Algorithm::PS256, claims)).await;
    assert_aad_error(&reply, 401, "invalid_client", 700024);

    // Living longer than 10 minutes.
    let mut claims = assertion_claims(&h);
    claims["exp"] = json!(now() + 3600);
    let reply = assertion_request(&h, &certificate_assertion(Algorithm::PS256, claims)).await;
    assert_aad_error(&reply, 401, "invalid_client", 700024);

    // No certificate registered on the app: the key is unknown.
    let h = Harness::start(config()).await;
    let reply = assertion_request(
        &h,
        &certificate_assertion(Algorithm::PS256, assertion_claims(&h)),
    )
    .await;
    assert_aad_error(&reply, 401, "invalid_client", 700027);
}

/// A projected service-account token as a cluster would issue it (signed by a key the
/// simulator cannot know).
fn service_account_token(subject: &str, issuer: &str) -> String {
    let now = now();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({
            "aud": ["api://AzureADTokenExchange"],
            "iss": issuer,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
        }),
        &EncodingKey::from_secret(b"the cluster's key"),
    )
    .unwrap()
}

#[tokio::test]
async fn workload_identity_federation() {
    let h = Harness::start(SimConfig {
        federated_issuer: Some("https://oidc.example.com/cluster".into()),
        ..config()
    })
    .await;
    let good = service_account_token(
        "system:serviceaccount:sessionops-system:sessionops",
        "https://oidc.example.com/cluster",
    );
    let reply = assertion_request(&h, &good).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let wrong_subject = service_account_token(
        "system:serviceaccount:default:default",
        "https://oidc.example.com/cluster",
    );
    let reply = assertion_request(&h, &wrong_subject).await;
    assert_aad_error(&reply, 400, "invalid_request", 700213);

    let wrong_issuer = service_account_token(
        "system:serviceaccount:sessionops-system:sessionops",
        "https://evil.example.com",
    );
    let reply = assertion_request(&h, &wrong_issuer).await;
    assert_aad_error(&reply, 400, "invalid_request", 700211);
}

// ---------------------------------------------------------------------------------------------
// Bearer tokens, permissions, error shape (`concepts/errors.md`, entra-docs `v2-oauth2-client-creds-grant-flow.md`)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn missing_invalid_and_expired_tokens_get_401() {
    let h = Harness::start(SimConfig {
        token_lifetime: Duration::from_secs(1),
        ..config()
    })
    .await;
    let reply = read(h.http.get(h.url("/v1.0/users")).send().await.unwrap()).await;
    assert_graph_error(&reply, 401, "InvalidAuthenticationToken");
    assert_eq!(reply.body["error"]["message"], "Access token is empty.");
    assert!(
        reply
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );

    let reply = read(
        h.http
            .get(h.url("/v1.0/users"))
            .bearer_auth("not-a-jwt")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_graph_error(&reply, 401, "InvalidAuthenticationToken");

    assert_eq!(h.get("/v1.0/users").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let reply = h.get("/v1.0/users").await;
    assert_graph_error(&reply, 401, "InvalidAuthenticationToken");
    assert_eq!(
        reply.body["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
}

#[tokio::test]
async fn missing_permissions_get_403() {
    let h = Harness::start(SimConfig {
        granted_roles: vec![
            "User.Read.All".into(),
            "Policy.ReadWrite.ConditionalAccess".into(),
        ],
        ..config()
    })
    .await;
    let reply = h
        .call(
            Method::POST,
            "/v1.0/users/jdoe@contoso.com/revokeSignInSessions",
            None,
            &[],
        )
        .await;
    assert_graph_error(&reply, 403, "Authorization_RequestDenied");
    assert_eq!(
        reply.body["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
    // CA writes need Policy.Read.All as well (`conditionalaccesspolicy.md`).
    let reply = h
        .post(
            "/v1.0/identity/conditionalAccess/policies",
            policy_body("p"),
        )
        .await;
    assert_graph_error(&reply, 403, "Authorization_RequestDenied");
    let reply = h.get("/v1.0/identity/conditionalAccess/policies").await;
    assert_graph_error(&reply, 403, "Authorization_RequestDenied");
    // Nothing changed.
    let user = h
        .sim(Method::GET, "/_sim/users/jdoe@contoso.com", None)
        .await;
    assert_eq!(user.body["revokeCount"], 0);

    // User.ReadBasic.All reads basic properties only.
    let h = Harness::start(SimConfig {
        granted_roles: vec!["User.ReadBasic.All".into()],
        ..config()
    })
    .await;
    let reply = h.get("/v1.0/users/jdoe@contoso.com").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.get("jobTitle").is_none());
    assert_eq!(reply.body["displayName"], "John Doe");
    let reply = h
        .get("/v1.0/users/jdoe@contoso.com?$select=id,signInSessionsValidFromDateTime")
        .await;
    assert_graph_error(&reply, 403, "Authorization_RequestDenied");
}

#[tokio::test]
async fn every_response_carries_request_ids_and_errors_have_graph_shape() {
    let h = Harness::start(config()).await;
    let reply = h
        .call(
            Method::GET,
            "/v1.0/users/nobody@contoso.com",
            None,
            &[("client-request-id", "7c9f6bc4-8b28-4a63-9f5d-6f1f5e0b1a2c")],
        )
        .await;
    assert_graph_error(&reply, 404, "Request_ResourceNotFound");
    assert_eq!(
        reply.header("client-request-id"),
        Some("7c9f6bc4-8b28-4a63-9f5d-6f1f5e0b1a2c")
    );
    assert_eq!(
        reply.body["error"]["message"],
        "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present."
    );
    let reply = h.get("/v1.0/users").await;
    assert!(uuid::Uuid::parse_str(reply.header("request-id").unwrap()).is_ok());
    assert!(uuid::Uuid::parse_str(reply.header("client-request-id").unwrap()).is_ok());

    let reply = h.get("/v1.0/nothingHere").await;
    assert_graph_error(&reply, 400, "BadRequest");
    assert_eq!(
        reply.body["error"]["message"],
        "Resource not found for the segment 'nothingHere'."
    );
    let reply = h.delete("/v1.0/users/jdoe@contoso.com").await;
    assert_graph_error(&reply, 405, "Request_BadRequest");
    let reply = h.get("/v2.0/users").await;
    assert_graph_error(&reply, 400, "BadRequest");
}

// ---------------------------------------------------------------------------------------------
// Users (`user-revokesigninsessions.md`, `user-update.md`, `device-update.md`)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn users_paging_follows_next_links_to_the_end() {
    let h = Harness::start(SimConfig {
        users: 246,
        ..config()
    })
    .await;
    // 4 seeded + 246 generated.
    let mut path = "/v1.0/users".to_owned();
    let mut pages = Vec::new();
    let mut ids = std::collections::HashSet::new();
    loop {
        let reply = h.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.body["@odata.context"],
            "https://graph.microsoft.com/v1.0/$metadata#users"
        );
        let values = reply.body["value"].as_array().unwrap();
        pages.push(values.len());
        for user in values {
            assert!(ids.insert(user["id"].as_str().unwrap().to_owned()));
        }
        match reply.body["@odata.nextLink"].as_str() {
            Some(link) => {
                let prefix = format!("{}/v1.0/users?", h.sim.base_url());
                assert!(link.starts_with(&prefix), "{link}");
                assert!(link.contains("$skiptoken="), "{link}");
                path = link.strip_prefix(&h.sim.base_url()).unwrap().to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, vec![100, 100, 50]);
    assert_eq!(ids.len(), 250);

    // $top sets the page size and survives into the nextLink, with $select.
    let reply = h
        .get("/v1.0/users?$top=120&$select=id,userPrincipalName")
        .await;
    assert_eq!(reply.body["value"].as_array().unwrap().len(), 120);
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName)"
    );
    let link = reply.body["@odata.nextLink"].as_str().unwrap();
    assert!(link.contains("$top=120") && link.contains("$select=id,userPrincipalName"));
    let next = h.get(link.strip_prefix(&h.sim.base_url()).unwrap()).await;
    assert_eq!(next.body["value"].as_array().unwrap().len(), 120);
    assert_eq!(
        next.body["value"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["id", "userPrincipalName"]
    );

    assert_eq!(
        h.get("/v1.0/users?$top=999").await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        250
    );
    let reply = h.get("/v1.0/users?$top=1000").await;
    assert_graph_error(&reply, 400, "Request_BadRequest");
}

#[tokio::test]
async fn users_filter_eq_startswith_in() {
    let h = Harness::start(config()).await;
    let count = |reply: &Reply| reply.body["value"].as_array().unwrap().len();
    let reply = h
        .get("/v1.0/users?$filter=userPrincipalName eq 'JDOE@contoso.com'")
        .await;
    assert_eq!(count(&reply), 1);
    assert_eq!(reply.body["value"][0]["displayName"], "John Doe");
    let reply = h
        .get("/v1.0/users?$filter=startsWith(displayName,'user 000')")
        .await;
    assert_eq!(count(&reply), 5);
    let reply = h
        .get("/v1.0/users?$filter=userPrincipalName in ('jdoe@contoso.com','synced@contoso.com','x@y.z')")
        .await;
    assert_eq!(count(&reply), 2);
    let reply = h.get("/v1.0/users?$filter=userType eq 'Guest'").await;
    assert_eq!(count(&reply), 1);
    let reply = h.get("/v1.0/users?$filter=accountEnabled eq false").await;
    assert_eq!(count(&reply), 1);
    assert_eq!(
        reply.body["value"][0]["userPrincipalName"],
        "disabled@contoso.com"
    );

    // ne needs advanced query.
    let reply = h.get("/v1.0/users?$filter=userType ne 'Member'").await;
    assert_graph_error(&reply, 400, "Request_UnsupportedQuery");
    let reply = h
        .call(
            Method::GET,
            "/v1.0/users?$filter=userType ne 'Member'&$count=true",
            None,
            &[("ConsistencyLevel", "eventual")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["@odata.count"], 1);
    let reply = h.get("/v1.0/users?$filter=jobTitle gt 'a'").await;
    assert_graph_error(&reply, 400, "Request_UnsupportedQuery");
    let reply = h.get("/v1.0/users?$count=true").await;
    assert_graph_error(&reply, 400, "Request_BadRequest");
}

#[tokio::test]
async fn user_get_by_id_upn_and_key_syntax_with_select() {
    let h = Harness::start(config()).await;
    let id = h.user_id("jdoe@contoso.com").await;
    for path in [
        format!("/v1.0/users/{id}"),
        "/v1.0/users/jdoe@contoso.com".to_owned(),
        "/v1.0/users('jdoe@contoso.com')".to_owned(),
        "/v1.0/users/guest_fabrikam.com%23EXT%23@contoso.com".to_owned(),
    ] {
        let reply = h.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(
            reply.body["@odata.context"],
            "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
        );
    }
    let reply = h.get(&format!("/v1.0/users/{id}")).await;
    let keys: Vec<&String> = reply.body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        vec![
            "@odata.context",
            "businessPhones",
            "displayName",
            "givenName",
            "id",
            "jobTitle",
            "mail",
            "mobilePhone",
            "officeLocation",
            "preferredLanguage",
            "surname",
            "userPrincipalName"
        ]
    );
    // signInSessionsValidFromDateTime is returned only on $select, on both versions.
    assert!(reply.body.get("signInSessionsValidFromDateTime").is_none());
    let beta = h.get(&format!("/beta/users/{id}")).await;
    assert_eq!(beta.body["accountEnabled"], true);
    assert!(beta.body.get("signInSessionsValidFromDateTime").is_none());
    let reply = h
        .get(&format!(
            "/v1.0/users/{id}?$select=id,signInSessionsValidFromDateTime"
        ))
        .await;
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users(id,signInSessionsValidFromDateTime)/$entity"
    );
    let value = reply.body["signInSessionsValidFromDateTime"]
        .as_str()
        .unwrap();
    assert_eq!(value.len(), "2026-01-01T00:00:00Z".len(), "{value}");
    assert_eq!(reply.body.as_object().unwrap().len(), 3);
    let reply = h.get(&format!("/v1.0/users/{id}?$select=nonsense")).await;
    assert_graph_error(&reply, 400, "Request_BadRequest");
}

#[tokio::test]
async fn revoke_sign_in_sessions_returns_true_and_moves_the_timestamp() {
    let h = Harness::start(config()).await;
    let select = "/v1.0/users/jdoe@contoso.com?$select=signInSessionsValidFromDateTime";
    let before = h.get(select).await.body["signInSessionsValidFromDateTime"].clone();
    let sent = jiff::Timestamp::now();
    let reply = h
        .call(
            Method::POST,
            "/v1.0/users/jdoe@contoso.com/revokeSignInSessions",
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": true})
    );
    let after = h.get(select).await.body["signInSessionsValidFromDateTime"].clone();
    assert_ne!(before, after);
    let after: jiff::Timestamp = after.as_str().unwrap().parse().unwrap();
    // Whole seconds: at most one second before the send instant.
    assert!(after.as_second() >= sent.as_second(), "{after} vs {sent}");
    let state = h
        .sim(Method::GET, "/_sim/users/jdoe@contoso.com", None)
        .await;
    assert_eq!(state.body["revokeCount"], 1);

    // A guest: still true, but nothing changes in this tenant.
    let guest = "guest_fabrikam.com%23EXT%23@contoso.com";
    let select = format!("/v1.0/users/{guest}?$select=signInSessionsValidFromDateTime");
    let before = h.get(&select).await.body.clone();
    let reply = h
        .call(
            Method::POST,
            &format!("/v1.0/users/{guest}/revokeSignInSessions"),
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["value"], true);
    assert_eq!(h.get(&select).await.body, before);
    let state = h
        .sim(
            Method::GET,
            "/_sim/users/guest_fabrikam.com%23EXT%23@contoso.com",
            None,
        )
        .await;
    assert_eq!(state.body["revokeCount"], 1);

    let reply = h
        .call(
            Method::POST,
            "/v1.0/users/nobody@contoso.com/revokeSignInSessions",
            None,
            &[],
        )
        .await;
    assert_graph_error(&reply, 404, "Request_ResourceNotFound");
}

#[tokio::test]
async fn revocation_appears_after_the_lag() {
    let h = Harness::start(SimConfig {
        lag: Duration::from_millis(400),
        ..config()
    })
    .await;
    let select = "/v1.0/users/jdoe@contoso.com?$select=signInSessionsValidFromDateTime";
    let before = h.get(select).await.body;
    let reply = h
        .call(
            Method::POST,
            "/v1.0/users/jdoe@contoso.com/revokeSignInSessions",
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(h.get(select).await.body, before);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_ne!(h.get(select).await.body, before);
}

#[tokio::test]
async fn user_patch_disables_and_resets_passwords() {
    let mut roles = SimConfig::default().granted_roles;
    roles.push("User.ReadWrite.All".into());
    let h = Harness::start(SimConfig {
        granted_roles: roles,
        ..config()
    })
    .await;
    let reply = h
        .patch(
            "/v1.0/users/jdoe@contoso.com",
            json!({"accountEnabled": false}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.body, Value::Null);
    let state = h
        .sim(Method::GET, "/_sim/users/jdoe@contoso.com", None)
        .await;
    assert_eq!(state.body["accountEnabled"], false);

    let reply = h
        .patch(
            "/v1.0/users/jdoe@contoso.com",
            json!({"passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Tmp-Pass-2026!x"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let state = h
        .sim(Method::GET, "/_sim/users/jdoe@contoso.com", None)
        .await;
    assert_eq!(
        state.body["passwordProfile"]["forceChangePasswordNextSignIn"],
        true
    );
    assert_eq!(state.body["passwordProfile"]["passwordSetCount"], 1);

    // Forcing a change needs a new password (`user-update.md`, `device-update.md`).
    let reply = h
        .patch(
            "/v1.0/users/jdoe@contoso.com",
            json!({"passwordProfile": {"forceChangePasswordNextSignIn": true}}),
        )
        .await;
    assert_graph_error(&reply, 400, "Request_BadRequest");
    let reply = h
        .patch(
            "/v1.0/users/jdoe@contoso.com",
            json!({"passwordProfile": {"password": "weak"}}),
        )
        .await;
    assert_graph_error(&reply, 400, "Request_BadRequest");

    // Synced users refuse cloud changes of accountEnabled and the password.
    let reply = h
        .patch(
            "/v1.0/users/synced@contoso.com",
            json!({"accountEnabled": false}),
        )
        .await;
    assert_graph_error(&reply, 400, "Request_BadRequest");
    assert_eq!(
        reply.body["error"]["message"],
        "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
    );
    let state = h
        .sim(Method::GET, "/_sim/users/synced@contoso.com", None)
        .await;
    assert_eq!(state.body["accountEnabled"], true);

    let reply = h
        .patch(
            "/v1.0/users/jdoe@contoso.com",
            json!({"favouriteColour": "blue"}),
        )
        .await;
    assert_graph_error(&reply, 400, "Request_BadRequest");
    let reply = h
        .patch(
            "/v1.0/users/jdoe@contoso.com",
            json!({"jobTitle": "Engineer"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.get("/v1.0/users/jdoe@contoso.com").await.body["jobTitle"],
        "Engineer"
    );
    let reply = h
        .patch(
            "/v1.0/users/nobody@contoso.com",
            json!({"accountEnabled": false}),
        )
        .await;
    assert_graph_error(&reply, 404, "Request_ResourceNotFound");
}

#[tokio::test]
async fn registered_devices_and_device_patch() {
    let h = Harness::start(config()).await;
    let reply = h
        .get("/v1.0/users/jdoe@contoso.com/registeredDevices")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#directoryObjects"
    );
    let devices = reply.body["value"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0]["@odata.type"], "#microsoft.graph.device");
    assert_eq!(devices[0]["displayName"], "JDOE-LAPTOP");
    assert_eq!(devices[0]["accountEnabled"], true);
    let id = devices[0]["id"].as_str().unwrap();

    let reply = h
        .patch(
            &format!("/v1.0/devices/{id}"),
            json!({"accountEnabled": false}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = h
        .get("/v1.0/devices(deviceId='0f6f5c43-9f1a-4b4e-8a53-1f7d1a4b9a10')")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["accountEnabled"], false);

    // Hybrid-joined devices are mastered on-premises.
    let hybrid = devices[1]["id"].as_str().unwrap();
    let reply = h
        .patch(
            &format!("/v1.0/devices/{hybrid}"),
            json!({"accountEnabled": false}),
        )
        .await;
    assert_graph_error(&reply, 400, "Request_BadRequest");
}

// ---------------------------------------------------------------------------------------------
// Groups (`group-list-transitivemembers.md`, `concepts/aad-advanced-queries.md`)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn groups_and_transitive_members() {
    let h = Harness::start(config()).await;
    let reply = h
        .get("/v1.0/groups?$filter=displayName eq 'incident-2026'")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let groups = reply.body["value"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    let id = groups[0]["id"].as_str().unwrap().to_owned();
    let reply = h.get(&format!("/v1.0/groups/{id}")).await;
    assert_eq!(reply.body["displayName"], "incident-2026");
    assert_eq!(reply.body["securityEnabled"], true);

    // jdoe, the nested group, and its two members.
    let reply = h.get(&format!("/v1.0/groups/{id}/transitiveMembers")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let members = reply.body["value"].as_array().unwrap();
    let types: Vec<&str> = members
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "#microsoft.graph.user",
            "#microsoft.graph.group",
            "#microsoft.graph.user",
            "#microsoft.graph.user"
        ]
    );
    assert_eq!(members[1]["displayName"], "responders");

    // Paging with $top and $select.
    let reply = h
        .get(&format!(
            "/v1.0/groups/{id}/transitiveMembers?$top=3&$select=id,userPrincipalName"
        ))
        .await;
    assert_eq!(reply.body["value"].as_array().unwrap().len(), 3);
    assert_eq!(
        reply.body["value"][0].as_object().unwrap().len(),
        3,
        "@odata.type, id, userPrincipalName"
    );
    let link = reply.body["@odata.nextLink"].as_str().unwrap();
    let next = h.get(link.strip_prefix(&h.sim.base_url()).unwrap()).await;
    assert_eq!(next.body["value"].as_array().unwrap().len(), 1);
    assert!(next.body.get("@odata.nextLink").is_none());

    // The cast needs advanced query.
    let cast = format!("/v1.0/groups/{id}/transitiveMembers/microsoft.graph.user");
    let reply = h.get(&cast).await;
    assert_graph_error(&reply, 400, "Request_BadRequest");
    let reply = h
        .call(
            Method::GET,
            &format!("{cast}?$count=true&$select=id,userPrincipalName"),
            None,
            &[("ConsistencyLevel", "eventual")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["@odata.count"], 3);
    let upns: Vec<&str> = reply.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userPrincipalName"].as_str().unwrap())
        .collect();
    assert_eq!(
        upns,
        vec![
            "jdoe@contoso.com",
            "synced@contoso.com",
            "disabled@contoso.com"
        ]
    );
    let reply = h
        .get("/v1.0/groups/00000000-1111-2222-3333-444444444444")
        .await;
    assert_graph_error(&reply, 404, "Request_ResourceNotFound");
}

#[tokio::test]
async fn resource_unit_costs_are_reported() {
    let h = Harness::start(config()).await;
    let group = h
        .get("/v1.0/groups?$filter=displayName eq 'incident-2026'")
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, cost) in [
        ("/v1.0/users".to_owned(), "2"),
        ("/v1.0/users?$select=id".to_owned(), "1"),
        ("/v1.0/users/jdoe@contoso.com".to_owned(), "1"),
        (format!("/v1.0/groups/{group}/transitiveMembers"), "5"),
        (
            format!("/v1.0/groups/{group}/transitiveMembers?$select=id&$top=5"),
            "3",
        ),
    ] {
        let reply = h.get(&path).await;
        assert_eq!(reply.header("x-ms-resource-unit"), Some(cost), "{path}");
    }
    let reply = h
        .call(
            Method::POST,
            "/v1.0/users/jdoe@contoso.com/revokeSignInSessions",
            None,
            &[],
        )
        .await;
    assert_eq!(reply.header("x-ms-resource-unit"), Some("1"));
    // CA is another service: no resource units.
    let reply = h.get("/v1.0/identity/conditionalAccess/policies").await;
    assert_eq!(reply.header("x-ms-resource-unit"), None);
}

// ---------------------------------------------------------------------------------------------
// Conditional Access (`conditionalaccesspolicy.md`)
// ---------------------------------------------------------------------------------------------

/// The create example of `conditionalaccessroot-post-policies.md`, abridged.
fn policy_body(name: &str) -> Value {
    json!({
        "displayName": name,
        "state": "enabled",
        "conditions": {
            "clientAppTypes": ["mobileAppsAndDesktopClients", "browser"],
            "applications": {"includeApplications": ["00000002-0000-0ff1-ce00-000000000000"]},
            "users": {"includeGroups": ["ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"]},
            "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
    })
}

const POLICIES: &str = "/v1.0/identity/conditionalAccess/policies";

#[tokio::test]
async fn ca_policy_create_returns_201_with_the_full_object() {
    let h = Harness::start(config()).await;
    let reply = h.post(POLICIES, policy_body("Require MFA for EXO")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let policy = &reply.body;
    assert_eq!(
        policy["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies/$entity"
    );
    assert!(uuid::Uuid::parse_str(policy["id"].as_str().unwrap()).is_ok());
    let created = policy["createdDateTime"].as_str().unwrap();
    assert_eq!(
        created.len(),
        "2019-10-14T19:52:00.0000000Z".len(),
        "{created}"
    );
    assert_eq!(policy["modifiedDateTime"], policy["createdDateTime"]);
    assert_eq!(policy["templateId"], Value::Null);
    assert_eq!(policy["displayName"], "Require MFA for EXO");
    assert_eq!(policy["state"], "enabled");
    assert_eq!(
        policy["conditions"]["users"],
        json!({
            "includeUsers": [], "excludeUsers": [],
            "includeGroups": ["ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"], "excludeGroups": [],
            "includeRoles": [], "excludeRoles": [],
            "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null
        })
    );
    assert_eq!(policy["conditions"]["signInRiskLevels"], json!([]));
    assert_eq!(policy["conditions"]["platforms"], Value::Null);
    // Every grantControls carries the navigation's context annotation, with or without a
    // strength (v1.0 conditionalaccessroot-list-policies.md, beta policydeletableitem-list.md).
    let context = format!(
        "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('{}')/grantControls/authenticationStrength/$entity",
        policy["id"].as_str().unwrap()
    );
    assert_eq!(
        policy["grantControls"],
        json!({"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [],
               "termsOfUse": [], "authenticationStrength@odata.context": context,
               "authenticationStrength": null})
    );
    assert_eq!(policy["sessionControls"], Value::Null);

    let id = policy["id"].as_str().unwrap();
    let reply = h.get(&format!("{POLICIES}/{id}")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut fetched = reply.body.clone();
    fetched["@odata.context"] = policy["@odata.context"].clone();
    // A read without $select carries Graph's tip annotation (conditionalaccesspolicy-get.md).
    let tips = fetched
        .as_object_mut()
        .unwrap()
        .remove("@microsoft.graph.tips");
    assert!(tips.is_some_and(|t| t.as_str().unwrap().contains("$select")));
    assert_eq!(&fetched, policy);
    assert_eq!(policy["deletedDateTime"], Value::Null, "active: null");
    let list = h.get(POLICIES).await;
    assert_eq!(
        list.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies"
    );
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn ca_policy_patch_merges_nested_objects() {
    let h = Harness::start(config()).await;
    let mut body = policy_body("p");
    body["conditions"]["devices"] =
        json!({"deviceFilter": {"mode": "exclude", "rule": "device.trustType -eq \"ServerAD\""}});
    let created = h.post(POLICIES, body).await.body;
    let id = created["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let reply = h
        .patch(
            &format!("{POLICIES}/{id}"),
            json!({"conditions": {"users": {"excludeUsers": ["0c4d3e21-6a3b-4d5c-9f6e-7a8b9c0d1e2f"]}}, "state": "disabled"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.body, Value::Null);
    let policy = h.get(&format!("{POLICIES}/{id}")).await.body;
    assert_eq!(policy["state"], "disabled");
    assert_eq!(
        policy["conditions"]["users"]["excludeUsers"],
        json!(["0c4d3e21-6a3b-4d5c-9f6e-7a8b9c0d1e2f"])
    );
    // Omitted properties kept their values, also inside nested objects.
    assert_eq!(
        policy["conditions"]["users"]["includeGroups"],
        json!(["ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"])
    );
    assert_eq!(
        policy["conditions"]["applications"],
        created["conditions"]["applications"]
    );
    assert_eq!(
        policy["conditions"]["devices"],
        created["conditions"]["devices"]
    );
    assert_eq!(policy["grantControls"], created["grantControls"]);
    assert!(
        policy["modifiedDateTime"].as_str().unwrap()
            > created["modifiedDateTime"].as_str().unwrap()
    );
    assert_eq!(policy["createdDateTime"], created["createdDateTime"]);
}

#[tokio::test]
async fn ca_mfa_together_with_authentication_strength_is_error_1108() {
    let h = Harness::start(config()).await;
    let created = h.post(POLICIES, policy_body("p")).await.body;
    let id = created["id"].as_str().unwrap();
    // Adding a strength while the omitted builtInControls keeps "mfa" (Microsoft365DSC #6218).
    let reply = h
        .patch(
            &format!("{POLICIES}/{id}"),
            json!({"grantControls": {"authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004"}}}),
        )
        .await;
    assert_graph_error(&reply, 400, "BadRequest");
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with(
                "1108: Authentication strengths cannot be used alongside the MFA built-in control."
            ),
        "{}",
        reply.body
    );
    // Sending builtInControls: [] explicitly switches.
    let reply = h
        .patch(
            &format!("{POLICIES}/{id}"),
            json!({"grantControls": {"operator": "OR", "builtInControls": [], "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004"}}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let policy = h.get(&format!("{POLICIES}/{id}")).await.body;
    assert_eq!(policy["grantControls"]["builtInControls"], json!([]));
    assert_eq!(
        policy["grantControls"]["authenticationStrength"]["displayName"],
        "Phishing-resistant MFA"
    );
    assert_eq!(
        policy["grantControls"]["authenticationStrength"]["policyType"],
        "builtIn"
    );
    // And on create.
    let mut body = policy_body("q");
    body["grantControls"]["authenticationStrength"] =
        json!({"id": "00000000-0000-0000-0000-000000000002"});
    let reply = h.post(POLICIES, body).await;
    assert_graph_error(&reply, 400, "BadRequest");
}

#[tokio::test]
async fn ca_validation_errors() {
    let h = Harness::start(config()).await;
    for (mutate, fragment) in [
        (
            Box::new(|b: &mut Value| {
                b.as_object_mut().unwrap().remove("displayName");
            }) as Box<dyn Fn(&mut Value)>,
            "'displayName' is required",
        ),
        (
            Box::new(|b: &mut Value| {
                b.as_object_mut().unwrap().remove("state");
            }),
            "'state' is required",
        ),
        (
            Box::new(|b: &mut Value| {
                b.as_object_mut().unwrap().remove("conditions");
            }),
            "'conditions' is required",
        ),
        (
            Box::new(|b: &mut Value| b["state"] = json!("on")),
            "Cannot convert the literal 'on'",
        ),
        (
            // The v1.0 CSDL's conditionalAccessClientApp has no easUnsupported member.
            Box::new(|b: &mut Value| b["conditions"]["clientAppTypes"] = json!(["easUnsupported"])),
            "Cannot convert the literal 'easUnsupported'",
        ),
        (
            Box::new(|b: &mut Value| b["grantControls"]["builtInControls"] = json!(["mfaa"])),
            "Cannot convert the literal 'mfaa' to the expected type 'microsoft.graph.conditionalAccessGrantControl'.",
        ),
        (
            Box::new(|b: &mut Value| b["conditions"]["userRiskLevels"] = json!(["extreme"])),
            "Cannot convert the literal 'extreme'",
        ),
        (
            Box::new(|b: &mut Value| b["conditions"]["users"]["includeUser"] = json!(["All"])),
            "The property 'includeUser' does not exist on type 'microsoft.graph.conditionalAccessUsers'",
        ),
        (Box::new(|b: &mut Value| b["id"] = json!("x")), "read-only"),
    ] {
        let mut body = policy_body("p");
        mutate(&mut body);
        let reply = h.post(POLICIES, body).await;
        assert_graph_error(&reply, 400, "BadRequest");
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(fragment),
            "{message} should contain {fragment}"
        );
    }
    assert_eq!(h.get(POLICIES).await.body["value"], json!([]));
}

#[tokio::test]
async fn ca_beta_only_controls() {
    let h = Harness::start(config()).await;
    let mut cae = policy_body("cae");
    cae["sessionControls"] = json!({"continuousAccessEvaluation": {"mode": "strictEnforcement"}});
    let reply = h.post(POLICIES, cae.clone()).await;
    assert_graph_error(&reply, 400, "BadRequest");
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'continuousAccessEvaluation' does not exist")
    );
    let reply = h
        .post("/beta/identity/conditionalAccess/policies", cae)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.body["sessionControls"]["continuousAccessEvaluation"],
        json!({"mode": "strictEnforcement"})
    );
    let id = reply.body["id"].as_str().unwrap();
    // v1.0 readers do not see the beta-only control.
    let v1 = h.get(&format!("{POLICIES}/{id}")).await.body;
    assert!(
        v1["sessionControls"]
            .get("continuousAccessEvaluation")
            .is_none()
    );

    let mut every_time = policy_body("every time");
    every_time["sessionControls"] = json!({"signInFrequency": {
        "value": null, "type": null, "authenticationType": "primaryAndSecondaryAuthentication",
        "frequencyInterval": "everyTime", "isEnabled": true}});
    let reply = h.post(POLICIES, every_time.clone()).await;
    assert_graph_error(&reply, 400, "BadRequest");
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("beta")
    );
    let reply = h
        .post("/beta/identity/conditionalAccess/policies", every_time)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.body["sessionControls"]["signInFrequency"]["frequencyInterval"],
        "everyTime"
    );
}

#[tokio::test]
async fn ca_evolvable_enums_need_include_unknown_enum_members() {
    let h = Harness::start(config()).await;
    let beta = "/beta/identity/conditionalAccess/policies";
    let prefer = [("Prefer", "include-unknown-enum-members")];
    let mut body = policy_body("evolvable");
    body["conditions"]["platforms"] =
        json!({"includePlatforms": ["linux", "android"], "excludePlatforms": []});
    body["grantControls"] =
        json!({"operator": "AND", "builtInControls": ["mfa", "riskRemediation"]});
    body["sessionControls"] = json!({"continuousAccessEvaluation": {"mode": "strictLocation"}});

    let reply = h.post(beta, body.clone()).await;
    assert_graph_error(&reply, 400, "BadRequest");
    let reply = h.call(Method::POST, beta, Some(body), &prefer).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap();
    assert_eq!(
        reply.body["conditions"]["platforms"]["includePlatforms"],
        json!(["linux", "android"])
    );

    let hidden = h.get(&format!("{beta}/{id}")).await.body;
    assert_eq!(
        hidden["conditions"]["platforms"]["includePlatforms"],
        json!(["unknownFutureValue", "android"])
    );
    assert_eq!(
        hidden["grantControls"]["builtInControls"],
        json!(["mfa", "unknownFutureValue"])
    );
    assert_eq!(
        hidden["sessionControls"]["continuousAccessEvaluation"]["mode"],
        "unknownFutureValue"
    );
    let shown = h
        .call(Method::GET, &format!("{beta}/{id}"), None, &prefer)
        .await
        .body;
    assert_eq!(
        shown["grantControls"]["builtInControls"],
        json!(["mfa", "riskRemediation"])
    );
    assert_eq!(
        shown["sessionControls"]["continuousAccessEvaluation"]["mode"],
        "strictLocation"
    );
}

#[tokio::test]
async fn ca_typed_properties_round_trip_with_graphs_defaults() {
    let h = Harness::start(config()).await;
    let mut body = policy_body("round trip");
    body["description"] = json!("kept as is");
    body["conditions"]["devices"] = json!({"deviceFilter": {"mode": "include", "rule": "device.isCompliant -ne True -and device.trustType -ne \"ServerAD\""}});
    body["conditions"]["applications"]["applicationFilter"] = json!({"mode": "exclude", "rule": "CustomSecurityAttribute.Engineering_Project -eq \"Baker\""});
    body["conditions"]["authenticationFlows"] =
        json!({"transferMethods": "deviceCodeFlow,authenticationTransfer"});
    // Graph returns every property of a complex value, null when not set (v1.0 has no agent
    // identity properties).
    body["conditions"]["clientApplications"] = json!({"includeServicePrincipals": ["ServicePrincipalsInMyTenant"], "excludeServicePrincipals": [], "servicePrincipalFilter": null});
    body["conditions"]["users"]["includeGuestsOrExternalUsers"] = json!({
        "guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest",
        "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants", "membershipKind": "enumerated", "members": ["9a3a7d4e-1c2b-4f3a-8e6d-5b4c3a2f1e0d"]}
    });
    body["grantControls"]["termsOfUse"] = json!(["ce580154-086a-40fd-91df-8a60abac81a0"]);
    let created = h.post(POLICIES, body.clone()).await.body;
    let fetched = h
        .get(&format!("{POLICIES}/{}", created["id"].as_str().unwrap()))
        .await
        .body;
    for pointer in [
        "/description",
        "/conditions/devices",
        "/conditions/applications/applicationFilter",
        "/conditions/authenticationFlows",
        "/conditions/clientApplications",
        "/conditions/users/includeGuestsOrExternalUsers",
        "/grantControls/termsOfUse",
    ] {
        assert_eq!(fetched.pointer(pointer), body.pointer(pointer), "{pointer}");
    }
}

#[tokio::test]
async fn ca_delete_restore_and_purge() {
    let h = Harness::start(config()).await;
    let created = h.post(POLICIES, policy_body("to delete")).await.body;
    let id = created["id"].as_str().unwrap();
    let reply = h.delete(&format!("{POLICIES}/{id}")).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_graph_error(
        &h.get(&format!("{POLICIES}/{id}")).await,
        404,
        "Request_ResourceNotFound",
    );
    assert_eq!(h.get(POLICIES).await.body["value"], json!([]));

    let deleted = "/v1.0/identity/conditionalAccess/deletedItems/policies";
    let list = h.get(deleted).await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.body["value"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0]["deletedDateTime"].is_string());
    assert_eq!(
        h.get(&format!("{deleted}/{id}")).await.body["displayName"],
        "to delete"
    );

    let restored = h
        .call(Method::POST, &format!("{deleted}/{id}/restore"), None, &[])
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    for field in [
        "id",
        "displayName",
        "state",
        "conditions",
        "grantControls",
        "sessionControls",
        "createdDateTime",
    ] {
        assert_eq!(restored.body[field], created[field], "{field}");
    }
    assert_eq!(
        restored.body["deletedDateTime"],
        Value::Null,
        "restored: active again (beta conditionalaccesspolicy-restore.md)"
    );
    assert_eq!(
        h.get(&format!("{POLICIES}/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(h.get(deleted).await.body["value"], json!([]));

    assert_eq!(
        h.delete(&format!("{POLICIES}/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.delete(&format!("{deleted}/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_graph_error(
        &h.get(&format!("{deleted}/{id}")).await,
        404,
        "Request_ResourceNotFound",
    );
    assert_graph_error(
        &h.call(Method::POST, &format!("{deleted}/{id}/restore"), None, &[])
            .await,
        404,
        "Request_ResourceNotFound",
    );
}

#[tokio::test]
async fn ca_new_policy_404s_during_the_lag() {
    let h = Harness::start(SimConfig {
        lag: Duration::from_millis(300),
        ..config()
    })
    .await;
    let created = h.post(POLICIES, policy_body("lagging")).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap();
    assert_graph_error(
        &h.get(&format!("{POLICIES}/{id}")).await,
        404,
        "Request_ResourceNotFound",
    );
    assert_eq!(h.get(POLICIES).await.body["value"], json!([]));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        h.get(&format!("{POLICIES}/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        h.get(POLICIES).await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn named_locations() {
    let h = Harness::start(config()).await;
    let path = "/v1.0/identity/conditionalAccess/namedLocations";
    let reply = h
        .post(
            path,
            json!({
                "@odata.type": "#microsoft.graph.ipNamedLocation",
                "displayName": "Untrusted IP named location",
                "isTrusted": false,
                "ipRanges": [
                    {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"},
                    {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"}
                ]
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.body["@odata.type"],
        "#microsoft.graph.ipNamedLocation"
    );
    let ip_id = reply.body["id"].as_str().unwrap().to_owned();
    let reply = h
        .post(
            path,
            json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "Named location with unknown countries and regions",
                   "countriesAndRegions": ["US", "GB"], "includeUnknownCountriesAndRegions": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["countryLookupMethod"], "clientIpAddress");

    let reply = h
        .post(path, json!({"displayName": "no type", "ipRanges": []}))
        .await;
    assert_graph_error(&reply, 400, "BadRequest");

    let reply = h
        .patch(
            &format!("{path}/{ip_id}"),
            json!({"displayName": "renamed"}),
        )
        .await;
    assert_graph_error(&reply, 400, "BadRequest");
    let reply = h
        .patch(
            &format!("{path}/{ip_id}"),
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "renamed"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = h.get(&format!("{path}/{ip_id}")).await;
    assert_eq!(reply.body["displayName"], "renamed");
    assert_eq!(reply.body["ipRanges"].as_array().unwrap().len(), 2);
    assert_eq!(h.get(path).await.body["value"].as_array().unwrap().len(), 2);

    assert_eq!(
        h.delete(&format!("{path}/{ip_id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let deleted = h
        .get("/v1.0/identity/conditionalAccess/deletedItems/namedLocations")
        .await;
    assert_eq!(deleted.body["value"][0]["id"], ip_id);
}

#[tokio::test]
async fn role_templates_authentication_strengths_and_timeout_policies() {
    let h = Harness::start(config()).await;
    let reply = h.get("/v1.0/directoryRoleTemplates").await;
    assert_eq!(reply.status, StatusCode::OK);
    let ids: Vec<&str> = reply.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    for id in [
        "62e90394-69f5-4237-9190-012177145e10",
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    let reply = h
        .get("/v1.0/directoryRoleTemplates/62e90394-69f5-4237-9190-012177145e10")
        .await;
    assert_eq!(reply.body["displayName"], "Global Administrator");

    let reply = h.get("/v1.0/policies/authenticationStrengthPolicies").await;
    let strengths = reply.body["value"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = strengths
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["policyType"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("00000000-0000-0000-0000-000000000002", "builtIn"),
            ("00000000-0000-0000-0000-000000000003", "builtIn"),
            ("00000000-0000-0000-0000-000000000004", "builtIn"),
            ("6f1c9a6e-3d0b-4f41-9d0f-3c2b1a0e9f11", "custom"),
        ]
    );
    assert_eq!(
        strengths[2]["allowedCombinations"],
        json!([
            "windowsHelloForBusiness",
            "fido2",
            "x509CertificateMultiFactor"
        ])
    );

    let path = "/v1.0/policies/activityBasedTimeoutPolicies";
    let definition = json!([
        "{\"ActivityBasedTimeoutPolicy\":{\"Version\":1,\"ApplicationPolicies\":[{\"ApplicationId\":\"default\",\"WebSessionIdleTimeout\":\"01:00:00\"}]}}"
    ]);
    let reply = h
        .post(
            path,
            json!({"displayName": "ActivityBasedTimeoutPolicy", "isOrganizationDefault": true, "definition": definition}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["isOrganizationDefault"], true);
    assert_eq!(reply.body["definition"], definition);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    let reply = h
        .post(
            path,
            json!({"displayName": "second", "isOrganizationDefault": true, "definition": definition}),
        )
        .await;
    assert_graph_error(&reply, 400, "Request_BadRequest");
    let reply = h
        .patch(&format!("{path}/{id}"), json!({"displayName": "renamed"}))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.get(&format!("{path}/{id}")).await.body["displayName"],
        "renamed"
    );
    assert_eq!(
        h.delete(&format!("{path}/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_graph_error(
        &h.get(&format!("{path}/{id}")).await,
        404,
        "Request_ResourceNotFound",
    );
}

#[tokio::test]
async fn risky_users_confirm_compromised() {
    let h = Harness::start(config()).await;
    let id = h.user_id("jdoe@contoso.com").await;
    let reply = h
        .post(
            "/v1.0/identityProtection/riskyUsers/confirmCompromised",
            json!({"userIds": [id]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = h.get("/v1.0/identityProtection/riskyUsers").await;
    assert_eq!(reply.status, StatusCode::OK);
    let risky = &reply.body["value"][0];
    assert_eq!(risky["id"], id);
    assert_eq!(risky["riskLevel"], "high");
    assert_eq!(risky["riskState"], "confirmedCompromised");
    assert_eq!(risky["riskDetail"], "adminConfirmedUserCompromised");
    let state = h
        .sim(Method::GET, "/_sim/users/jdoe@contoso.com", None)
        .await;
    assert_eq!(state.body["riskState"], "confirmedCompromised");
    let reply = h
        .post(
            "/v1.0/identityProtection/riskyUsers/confirmCompromised",
            json!({"userIds": []}),
        )
        .await;
    assert_graph_error(&reply, 400, "BadRequest");
}

// ---------------------------------------------------------------------------------------------
// $batch (`concepts/json-batching.md`)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn batch_of_21_requests_is_rejected() {
    let h = Harness::start(config()).await;
    let requests: Vec<Value> = (1..=21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users/jdoe@contoso.com"}))
        .collect();
    let reply = h.post("/v1.0/$batch", json!({"requests": requests})).await;
    assert_graph_error(&reply, 400, "BadRequest");
    let stats = h.stats().await;
    assert_eq!(stats["routes"]["POST /$batch"], json!({"400": 1}));
    assert!(
        stats["routes"].get("GET /users/{id}").is_none(),
        "nothing ran"
    );

    for requests in [
        json!([{"id": "a", "method": "GET", "url": "/users"}, {"id": "A", "method": "GET", "url": "/users"}]),
        json!([{"method": "GET", "url": "/users"}]),
        json!([{"id": "1", "method": "PATCH", "url": "/users/jdoe@contoso.com", "body": {"accountEnabled": false}}]),
        // concepts/json-batching.md: a write item needs headers and a body even when the API
        // takes none (microsoft-graph-docs issue #6682 is this very call).
        json!([{"id": "1", "method": "POST", "url": "/users/jdoe@contoso.com/revokeSignInSessions"}]),
    ] {
        let reply = h
            .post("/beta/$batch", json!({ "requests": requests }))
            .await;
        assert_graph_error(&reply, 400, "BadRequest");
    }
}

#[tokio::test]
async fn batch_items_have_their_own_results_and_depends_on_gives_424() {
    let h = Harness::start(config()).await;
    let reply = h
        .post(
            "/v1.0/$batch",
            json!({"requests": [
                {"id": "1", "method": "GET", "url": "/users/jdoe@contoso.com?$select=id,displayName"},
                {"id": "2", "method": "GET", "url": "/users/nobody@contoso.com"},
                {"id": "3", "method": "POST", "url": "/users/jdoe@contoso.com/revokeSignInSessions", "headers": {"Content-Type": "application/json"}, "body": {}, "dependsOn": ["2"]},
                {"id": "4", "method": "PATCH", "url": "/users/disabled@contoso.com", "headers": {"Content-Type": "application/json"}, "body": {"accountEnabled": true}},
                {"id": "5", "method": "POST", "url": "/users/jdoe@contoso.com/revokeSignInSessions", "headers": {"Content-Type": "application/json"}, "body": {}, "dependsOn": ["1"]},
                {"id": "6", "method": "GET", "url": "/v1.0/users"}
            ]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let responses = reply.body["responses"].as_array().unwrap();
    let by_id = |id: &str| responses.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(by_id("1")["status"], 200);
    assert_eq!(by_id("1")["body"]["displayName"], "John Doe");
    assert_eq!(by_id("1")["headers"]["x-ms-resource-unit"], "1");
    assert_eq!(by_id("2")["status"], 404);
    assert_eq!(
        by_id("2")["body"]["error"]["code"],
        "Request_ResourceNotFound"
    );
    assert_eq!(by_id("3")["status"], 424);
    assert_eq!(by_id("3")["body"]["error"]["code"], "FailedDependency");
    assert_eq!(by_id("4")["status"], 204);
    assert!(by_id("4").get("body").is_none());
    assert_eq!(by_id("5")["status"], 200);
    assert_eq!(by_id("5")["body"]["value"], true);
    // Versioned URLs are not relative to the version.
    assert_eq!(by_id("6")["status"], 400);

    // Only the revocation that ran counted.
    let state = h
        .sim(Method::GET, "/_sim/users/jdoe@contoso.com", None)
        .await;
    assert_eq!(state.body["revokeCount"], 1);
    let state = h
        .sim(Method::GET, "/_sim/users/disabled@contoso.com", None)
        .await;
    assert_eq!(state.body["accountEnabled"], true);

    let stats = h.stats().await;
    let routes = &stats["routes"];
    assert_eq!(routes["POST /$batch"], json!({"200": 1}));
    assert_eq!(routes["GET /users/{id}"], json!({"200": 1, "404": 1}));
    assert_eq!(
        routes["POST /users/{id}/revokeSignInSessions"],
        json!({"200": 1, "424": 1})
    );
    assert_eq!(routes["PATCH /users/{id}"], json!({"204": 1}));
    assert_eq!(routes["GET (unmatched)"], json!({"400": 1}));
    assert_eq!(
        stats["totals"]["requests"], 8,
        "6 items, the envelope, the token"
    );
    assert_eq!(stats["totals"]["writes"], 2);
}

#[tokio::test]
async fn batch_responses_come_back_shuffled() {
    let h = Harness::start(config()).await;
    let requests: Vec<Value> = (1..=20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users?$top=1&$select=id"}))
        .collect();
    let reply = h
        .post("/v1.0/$batch", json!({ "requests": requests }))
        .await;
    let order: Vec<String> = reply.body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|id| id.parse::<u32>().unwrap());
    assert_eq!(sorted, (1..=20).map(|i| i.to_string()).collect::<Vec<_>>());
    // 1 in 20! that a shuffle keeps the order.
    assert_ne!(order, sorted);
}

// ---------------------------------------------------------------------------------------------
// Throttling (`concepts/throttling.md`, `concepts/throttling-limits.md`)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_write_quota_is_enforced_with_throttle_headers() {
    let h = Harness::start(SimConfig {
        throttle: true,
        // A long window: nothing refills while the test runs, so the counts are exact.
        write_quota: (20, Duration::from_secs(60)),
        ..config()
    })
    .await;
    let mut admitted = 0;
    let mut throttled = Vec::new();
    for _ in 0..40 {
        let reply = h
            .call(
                Method::POST,
                "/v1.0/users/jdoe@contoso.com/revokeSignInSessions",
                None,
                &[],
            )
            .await;
        match reply.status.as_u16() {
            200 => admitted += 1,
            429 => throttled.push(reply),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(admitted, 20);
    assert_eq!(throttled.len(), 20);
    let scope = format!(
        "Tenant_Application/Write/{}/{}",
        h.sim.client_id(),
        h.sim.tenant_id()
    );
    for reply in &throttled {
        assert_graph_error(reply, 429, "TooManyRequests");
        assert_eq!(reply.body["error"]["message"], "Please retry again later.");
        assert_eq!(reply.body["error"]["innerError"]["code"], "429");
        assert_eq!(reply.body["error"]["innerError"]["status"], "429");
        let retry_after: f64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!(retry_after > 2.5 && retry_after <= 3.0, "{retry_after}");
        assert_eq!(reply.header("x-ms-throttle-scope"), Some(scope.as_str()));
        assert_eq!(
            reply.header("x-ms-throttle-information"),
            Some("WriteLimitExceeded")
        );
        assert_eq!(reply.header("x-ms-resource-unit"), Some("1"));
    }
    let state = h
        .sim(Method::GET, "/_sim/users/jdoe@contoso.com", None)
        .await;
    assert_eq!(
        state.body["revokeCount"], 20,
        "throttled requests change nothing"
    );
    let stats = h.stats().await;
    assert_eq!(
        stats["routes"]["POST /users/{id}/revokeSignInSessions"],
        json!({"200": 20, "429": 20})
    );
    assert_eq!(stats["totals"]["throttled"], 20);
    assert_eq!(stats["totals"]["writes"], 20);
    // Reads do not need the write quota.
    assert_eq!(
        h.get("/v1.0/users/jdoe@contoso.com").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn waiting_retry_after_is_enough() {
    let h = Harness::start(SimConfig {
        throttle: true,
        write_quota: (2, Duration::from_millis(600)),
        ..config()
    })
    .await;
    let revoke = || {
        h.call(
            Method::POST,
            "/v1.0/users/jdoe@contoso.com/revokeSignInSessions",
            None,
            &[],
        )
    };
    assert_eq!(revoke().await.status, StatusCode::OK);
    assert_eq!(revoke().await.status, StatusCode::OK);
    let reply = revoke().await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: f64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after > 0.0 && retry_after <= 0.3, "{retry_after}");
    tokio::time::sleep(Duration::from_secs_f64(retry_after)).await;
    assert_eq!(revoke().await.status, StatusCode::OK);
}

#[tokio::test]
async fn batch_items_are_throttled_individually() {
    let h = Harness::start(SimConfig {
        throttle: true,
        write_quota: (5, Duration::from_secs(60)),
        ..config()
    })
    .await;
    let requests: Vec<Value> = (1..=10)
        .map(|i| json!({"id": i.to_string(), "method": "POST", "url": "/users/jdoe@contoso.com/revokeSignInSessions", "headers": {"Content-Type": "application/json"}, "body": {}}))
        .collect();
    let reply = h
        .post("/v1.0/$batch", json!({ "requests": requests }))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let responses = reply.body["responses"].as_array().unwrap();
    let ok = responses.iter().filter(|r| r["status"] == 200).count();
    let throttled: Vec<&Value> = responses.iter().filter(|r| r["status"] == 429).collect();
    assert_eq!((ok, throttled.len()), (5, 5));
    for item in throttled {
        assert!(
            item["headers"]["retry-after"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
                > 0.0
        );
        assert_eq!(
            item["headers"]["x-ms-throttle-information"],
            "WriteLimitExceeded"
        );
        assert_eq!(item["body"]["error"]["code"], "TooManyRequests");
    }
    let stats = h.stats().await;
    assert_eq!(
        stats["routes"]["POST /users/{id}/revokeSignInSessions"],
        json!({"200": 5, "429": 5})
    );
    assert_eq!(stats["totals"]["throttled"], 5);
}

#[tokio::test]
async fn conditional_access_is_limited_to_one_request_per_second() {
    let h = Harness::start(SimConfig {
        throttle: true,
        ..config()
    })
    .await;
    let first = h.get(POLICIES).await;
    assert_eq!(first.status, StatusCode::OK);
    let second = h.get(POLICIES).await;
    assert_graph_error(&second, 429, "TooManyRequests");
    assert_eq!(second.header("retry-after"), None);
    // Named locations share the limit.
    let third = h
        .get("/v1.0/identity/conditionalAccess/namedLocations")
        .await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(h.get(POLICIES).await.status, StatusCode::OK);

    let stats = h.stats().await;
    let times = stats["caRequestTimes"].as_array().unwrap();
    assert_eq!(times.len(), 4);
    let last = times[3].as_i64().unwrap() - times[0].as_i64().unwrap();
    assert!(last >= 1000, "{last} ms between the first and the last");
    assert_eq!(
        stats["routes"]["GET /identity/conditionalAccess/policies"],
        json!({"200": 2, "429": 1})
    );
}

// ---------------------------------------------------------------------------------------------
// Faults, portal edits, statistics (the /_sim/ surface)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn faults_are_503_before_or_504_after_the_change() {
    let h = Harness::start(SimConfig {
        fault_rate: 1.0,
        ..config()
    })
    .await;
    let (mut before, mut after) = (0, 0);
    let set_count = || async {
        h.sim(Method::GET, "/_sim/users/jdoe@contoso.com", None)
            .await
            .body["passwordProfile"]["passwordSetCount"]
            .as_u64()
            .unwrap()
    };
    let mut count = set_count().await;
    for _ in 0..30 {
        let reply = h
            .patch(
                "/v1.0/users/jdoe@contoso.com",
                json!({"passwordProfile": {"password": "Tmp-Pass-2026!x"}}),
            )
            .await;
        let now = set_count().await;
        match reply.status.as_u16() {
            503 => {
                before += 1;
                assert_graph_error(&reply, 503, "serviceNotAvailable");
                assert_eq!(reply.header("retry-after"), Some("1"));
                assert_eq!(now, count, "503 comes before the change");
            }
            504 => {
                after += 1;
                assert_graph_error(&reply, 504, "GatewayTimeout");
                assert_eq!(now, count + 1, "504 comes after the change");
            }
            other => panic!("unexpected {other}"),
        }
        count = now;
    }
    assert!(before > 0 && after > 0, "{before} × 503, {after} × 504");
    assert_eq!(h.stats().await["totals"]["faults"], 30);

    // Each batch item fails on its own; the envelope does not.
    let requests: Vec<Value> = (1..=4)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users/jdoe@contoso.com"}))
        .collect();
    let reply = h
        .post("/v1.0/$batch", json!({ "requests": requests }))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    for item in reply.body["responses"].as_array().unwrap() {
        let status = item["status"].as_u64().unwrap();
        assert!(status == 503 || status == 504, "{item}");
    }
    assert_eq!(h.stats().await["totals"]["faults"], 34);

    let reply = h
        .sim(Method::PUT, "/_sim/faults", Some(json!({"faultRate": 0.0})))
        .await;
    assert_eq!(reply.body, json!({"faultRate": 0.0}));
    assert_eq!(h.get("/v1.0/users").await.status, StatusCode::OK);
    let reply = h
        .sim(Method::PUT, "/_sim/faults", Some(json!({"faultRate": 2})))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn portal_edits_change_the_tenant_outside_graph() {
    let h = Harness::start(SimConfig {
        throttle: true,
        lag: Duration::from_secs(60),
        ..config()
    })
    .await;
    // Created by an admin: visible at once, no lag, not throttled, not counted.
    let reply = h
        .sim(
            Method::POST,
            "/_sim/portal/policies",
            Some(policy_body("portal")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    let original = h.get(&format!("{POLICIES}/{id}")).await.body;
    assert_eq!(original["displayName"], "portal");

    tokio::time::sleep(Duration::from_millis(5)).await;
    let reply = h
        .sim(
            Method::PATCH,
            &format!("/_sim/portal/policies/{id}"),
            Some(json!({"state": "disabled", "grantControls": {"builtInControls": ["block"]}})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let edited = h.get(&format!("{POLICIES}/{id}")).await.body;
    assert_eq!(edited["state"], "disabled");
    assert_eq!(edited["grantControls"]["builtInControls"], json!(["block"]));
    assert_eq!(edited["grantControls"]["operator"], "OR");
    assert!(
        edited["modifiedDateTime"].as_str().unwrap()
            > original["modifiedDateTime"].as_str().unwrap()
    );

    let reply = h
        .sim(Method::DELETE, &format!("/_sim/portal/policies/{id}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        h.get(&format!("{POLICIES}/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let all = h.sim(Method::GET, "/_sim/policies", None).await.body;
    assert_eq!(all["value"][0]["id"], id);
    assert!(all["value"][0]["deletedDateTime"].is_string());

    let stats = h.stats().await;
    assert_eq!(
        stats["routes"]["GET /identity/conditionalAccess/policies/{id}"],
        json!({"200": 2, "404": 1}),
        "only Graph calls are counted"
    );
    assert_eq!(stats["caRequestTimes"].as_array().unwrap().len(), 3);

    let reply = h.sim(Method::POST, "/_sim/stats/reset", None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let stats = h.stats().await;
    assert_eq!(
        stats["totals"],
        json!({"requests": 0, "throttled": 0, "writes": 0, "faults": 0})
    );
    assert_eq!(stats["routes"], json!({}));
}

#[tokio::test]
async fn sim_user_view_has_the_full_state() {
    let h = Harness::start(config()).await;
    let reply = h
        .sim(Method::GET, "/_sim/users/synced@contoso.com", None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    for field in [
        "id",
        "userPrincipalName",
        "accountEnabled",
        "onPremisesSyncEnabled",
        "signInSessionsValidFromDateTime",
        "revokeCount",
        "passwordProfile",
        "riskState",
        "riskLevel",
    ] {
        assert!(reply.body.get(field).is_some(), "{field}");
    }
    assert_eq!(reply.body["onPremisesSyncEnabled"], true);
    let reply = h
        .sim(Method::GET, "/_sim/users/nobody@contoso.com", None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

#[test]
fn sim_command_prints_its_address_first_and_rejects_bad_flags() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let binary = env!("CARGO_BIN_EXE_sessionops");
    let mut child = Command::new(binary)
        .args(["sim", "--listen", "127.0.0.1:0", "--users", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(first.starts_with("http://127.0.0.1:"), "{first}");
    assert!(!first.ends_with(":0"), "{first}");
    assert_eq!(second, "tenant-id: 5e551011-0000-4000-8000-00000000000a");

    for args in [
        vec!["sim", "--fault-rate", "1.5"],
        vec!["sim", "--write-quota", "3000"],
        vec!["sim", "--throttle", "maybe"],
        vec!["sim", "--groups", "incident"],
        vec!["sim", "--listen", "nowhere"],
        vec!["sim", "--users", "2", "--groups", "staff=3"],
        vec!["sim", "--seed", "/nonexistent/seed.yaml"],
    ] {
        let output = Command::new(binary).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn the_documented_seed_example_loads() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/simulator.md")).unwrap();
    let after_marker = docs.split("<!-- seed-example").nth(1).unwrap();
    let yaml = after_marker
        .split("```yaml\n")
        .nth(1)
        .unwrap()
        .split("\n```")
        .next()
        .unwrap();
    let seed = Seed::from_yaml(yaml).unwrap();
    let h = Harness::start(SimConfig {
        seed: Some(seed),
        throttle: false,
        ..SimConfig::default()
    })
    .await;
    let jdoe = h
        .sim(Method::GET, "/_sim/users/jdoe@contoso.com", None)
        .await;
    assert_eq!(jdoe.body["id"], "4f1d7c2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f");
    assert_eq!(jdoe.body["riskState"], "atRisk");
    let incident = h
        .get("/v1.0/groups?$filter=displayName eq 'incident-2026-11-27'")
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let members = h
        .get(&format!("/v1.0/groups/{incident}/transitiveMembers"))
        .await
        .body["value"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(members, 4, "jdoe, the nested group and its two members");
    let policies = h
        .call(
            Method::GET,
            "/beta/identity/conditionalAccess/policies",
            None,
            &[("Prefer", "include-unknown-enum-members")],
        )
        .await
        .body;
    let policies = policies["value"].as_array().unwrap();
    assert_eq!(policies.len(), 2);
    assert_eq!(
        policies[1]["createdDateTime"],
        "2025-03-01T09:00:00.0000000Z"
    );
    assert_eq!(
        policies[1]["sessionControls"]["continuousAccessEvaluation"]["mode"],
        "strictLocation"
    );
    assert_eq!(
        h.get("/v1.0/identity/conditionalAccess/namedLocations")
            .await
            .body["value"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        h.get("/v1.0/policies/activityBasedTimeoutPolicies")
            .await
            .body["value"][0]["isOrganizationDefault"],
        true
    );
}

/// `/admin/sharepoint/settings`: the read permission reads and does not write, PATCH answers
/// 200 with the whole object, a member of `idleSessionSignOut` merges into the others, an
/// enabled sign-out must warn first, read-only and unknown properties are refused, and a
/// refused PATCH changes nothing.
#[tokio::test]
async fn sharepoint_settings_idle_sign_out() {
    let path = "/v1.0/admin/sharepoint/settings";
    let reader = Harness::start(SimConfig {
        granted_roles: vec!["SharePointTenantSettings.Read.All".into()],
        ..config()
    })
    .await;
    let reply = reader.get(path).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["idleSessionSignOut"]["isEnabled"], false);
    assert_graph_error(
        &reader
            .patch(path, json!({"idleSessionSignOut": {"isEnabled": false}}))
            .await,
        403,
        "Authorization_RequestDenied",
    );

    let h = Harness::start(config()).await;
    let reply = h
        .patch(
            path,
            json!({"idleSessionSignOut": {"isEnabled": true, "warnAfterInSeconds": 2700, "signOutAfterInSeconds": 3600}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["@odata.type"],
        "#microsoft.graph.sharepointSettings"
    );
    assert_eq!(
        reply.body["sharingCapability"],
        "externalUserAndGuestSharing"
    );
    let reply = h
        .patch(
            path,
            json!({"idleSessionSignOut": {"warnAfterInSeconds": 600}}),
        )
        .await;
    assert_eq!(
        reply.body["idleSessionSignOut"],
        json!({"isEnabled": true, "warnAfterInSeconds": 600, "signOutAfterInSeconds": 3600})
    );
    for refused in [
        json!({"idleSessionSignOut": {"warnAfterInSeconds": 3600}}),
        json!({"availableManagedPathsForSiteCreation": ["/x/"]}),
        json!({"idleSessionSignOut": {"isEnabled": false}, "noSuchSetting": 1}),
    ] {
        assert_graph_error(&h.patch(path, refused.clone()).await, 400, "BadRequest");
    }
    assert_eq!(
        h.get(path).await.body["idleSessionSignOut"],
        json!({"isEnabled": true, "warnAfterInSeconds": 600, "signOutAfterInSeconds": 3600}),
        "refused PATCHes changed nothing"
    );
}
