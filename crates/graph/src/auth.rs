//! OAuth2 client credentials against the Microsoft identity platform (v2 token endpoint):
//! client secret, certificate (a PS256 JWT client assertion with `x5t#S256`), and workload
//! identity federation (the projected service account token, re-read on every request because
//! kubelet rotates it). Tokens are cached and refreshed before they expire; one refresh runs at
//! a time however many requests need a token.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::GraphError;

/// A secret string that never appears in `Debug` output, logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the app proves its identity.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A client secret.
    ClientSecret(Secret),
    /// A certificate and its private key.
    Certificate(Arc<CertificateCredential>),
    /// Workload identity federation: a file holding a federated token (rotated externally).
    WorkloadIdentity {
        /// `AZURE_FEDERATED_TOKEN_FILE`.
        token_file: PathBuf,
    },
}

/// A certificate credential ready to sign client assertions.
pub struct CertificateCredential {
    x5t_s256: String,
    key: jsonwebtoken::EncodingKey,
}

impl std::fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

impl CertificateCredential {
    /// From PEM text holding the certificate (`CERTIFICATE`) and its RSA private key
    /// (`PRIVATE KEY` or `RSA PRIVATE KEY`), in one text or two (Kubernetes `tls.crt` +
    /// `tls.key`, or the single PEM file `AZURE_CLIENT_CERTIFICATE_PATH` names).
    pub fn from_pem(certificate_pem: &[u8], key_pem: &[u8]) -> Result<Self, GraphError> {
        let blocks = pem::parse_many(certificate_pem)
            .map_err(|e| GraphError::Credentials(format!("certificate is not valid PEM: {e}")))?;
        let certificate = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or_else(|| {
                GraphError::Credentials("no CERTIFICATE block in the certificate PEM".into())
            })?;
        let digest = ring::digest::digest(&ring::digest::SHA256, certificate.contents());
        let key_blocks = pem::parse_many(key_pem)
            .map_err(|e| GraphError::Credentials(format!("private key is not valid PEM: {e}")))?;
        let key_block = key_blocks
            .iter()
            .find(|b| b.tag() == "PRIVATE KEY" || b.tag() == "RSA PRIVATE KEY")
            .ok_or_else(|| GraphError::Credentials("no RSA PRIVATE KEY or PRIVATE KEY block in the key PEM (encrypted keys are not supported)".into()))?;
        // Re-encode only the key block: jsonwebtoken wants a PEM with the key alone.
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem::encode(key_block).as_bytes())
            .map_err(|e| GraphError::Credentials(format!("private key is not an RSA key: {e}")))?;
        Ok(CertificateCredential {
            x5t_s256: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            key,
        })
    }

    /// base64url SHA-256 thumbprint of the certificate (the `x5t#S256` header).
    pub fn thumbprint_s256(&self) -> &str {
        &self.x5t_s256
    }

    /// A client assertion for `audience` (the token endpoint URL), valid for 10 minutes.
    pub fn assertion(&self, client_id: &str, audience: &str) -> Result<String, GraphError> {
        #[derive(serde::Serialize)]
        struct Claims<'a> {
            aud: &'a str,
            iss: &'a str,
            sub: &'a str,
            jti: String,
            nbf: u64,
            iat: u64,
            exp: u64,
        }
        let now = unix_now();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
        header.typ = Some("JWT".into());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let claims = Claims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + 600,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| GraphError::Credentials(format!("cannot sign the client assertion: {e}")))
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The claims of an access token sessionops reads (for reports, not for decisions).
#[derive(Default, Deserialize)]
struct TokenClaims {
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    oid: Option<String>,
}

/// An access token and when to stop using it.
#[derive(Clone)]
pub struct AccessToken {
    secret: Secret,
    /// When the token expires.
    pub expires_at: Instant,
    /// When it should be replaced (before expiry, so in-flight requests never carry a dead one).
    pub refresh_at: Instant,
}

impl AccessToken {
    /// The bearer value.
    pub fn bearer(&self) -> &str {
        self.secret.expose()
    }

    /// Application permissions the token carries (its `roles` claim), read without verifying
    /// the signature: only for reporting what was granted, never for a security decision.
    pub fn roles(&self) -> Vec<String> {
        self.claims().roles
    }

    /// The object id of the app's service principal in the tenant (the `oid` claim: "the
    /// immutable identifier for the requestor", entra-docs `access-token-claims-reference.md`).
    pub fn object_id(&self) -> Option<String> {
        self.claims().oid
    }

    fn claims(&self) -> TokenClaims {
        self.secret
            .expose()
            .split('.')
            .nth(1)
            .and_then(|payload| URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok())
            .and_then(|json| serde_json::from_slice::<TokenClaims>(&json).ok())
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Gets and caches tokens for one app registration in one tenant.
pub struct TokenProvider {
    http: reqwest::Client,
    token_url: String,
    scope: String,
    client_id: String,
    credential: Credential,
    cached: Mutex<Option<AccessToken>>,
}

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenProvider")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// Refresh a token this long before it expires (or at half its life, if shorter).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

impl TokenProvider {
    /// A provider for `{login}/{tenant}/oauth2/v2.0/token` with scope `{graph}/.default`.
    pub fn new(
        http: reqwest::Client,
        login: &str,
        tenant_id: &str,
        graph: &str,
        client_id: &str,
        credential: Credential,
    ) -> Self {
        TokenProvider {
            http,
            token_url: format!(
                "{}/{}/oauth2/v2.0/token",
                login.trim_end_matches('/'),
                tenant_id
            ),
            scope: format!("{}/.default", graph.trim_end_matches('/')),
            client_id: client_id.to_owned(),
            credential,
            cached: Mutex::new(None),
        }
    }

    /// A valid token: the cached one, or a fresh one when it is due for refresh.
    pub async fn token(&self) -> Result<AccessToken, GraphError> {
        // Holding the lock while fetching makes concurrent callers wait for one refresh
        // instead of each asking the token endpoint.
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.clone());
        }
        let token = self.fetch().await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Forgets the cached token (Graph said it is invalid), unless it was already replaced.
    pub async fn invalidate(&self, rejected: &AccessToken) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|t| t.bearer() == rejected.bearer())
        {
            *cached = None;
        }
    }

    async fn fetch(&self) -> Result<AccessToken, GraphError> {
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
        ];
        match &self.credential {
            Credential::ClientSecret(secret) => {
                form.push(("client_secret", secret.expose().to_owned()))
            }
            Credential::Certificate(certificate) => {
                form.push(("client_assertion_type", JWT_BEARER.into()));
                form.push((
                    "client_assertion",
                    certificate.assertion(&self.client_id, &self.token_url)?,
                ));
            }
            Credential::WorkloadIdentity { token_file } => {
                let assertion = tokio::fs::read_to_string(token_file).await.map_err(|e| {
                    GraphError::Credentials(format!(
                        "cannot read the federated token file {}: {e}",
                        token_file.display()
                    ))
                })?;
                form.push(("client_assertion_type", JWT_BEARER.into()));
                form.push(("client_assertion", assertion.trim().to_owned()));
            }
        }
        let started = Instant::now();
        let response = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| GraphError::Transient {
                attempts: 1,
                detail: format!("token endpoint {}: {}", self.token_url, without_url(&e)),
                ids: Default::default(),
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| GraphError::Transient {
            attempts: 1,
            detail: format!("token endpoint: {}", without_url(&e)),
            ids: Default::default(),
        })?;
        if !status.is_success() {
            return Err(token_error(status.as_u16(), &body));
        }
        let (secret, lifetime) = parse_token_success(&body)?;
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        Ok(AccessToken {
            secret,
            expires_at: started + lifetime,
            refresh_at: started + lifetime - margin,
        })
    }
}

/// A token endpoint success, `{"token_type": "Bearer", "expires_in": 3599, "access_token":
/// "…"}` (entra-docs `v2-oauth2-client-creds-grant-flow.md`): the token and its lifetime.
pub fn parse_token_success(body: &[u8]) -> Result<(Secret, Duration), GraphError> {
    #[derive(Deserialize)]
    struct TokenResponse {
        access_token: String,
        expires_in: u64,
    }
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| GraphError::Protocol {
        detail: format!("token endpoint answered 200 without a token: {e}"),
        ids: Default::default(),
    })?;
    Ok((
        Secret::new(parsed.access_token),
        Duration::from_secs(parsed.expires_in),
    ))
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// reqwest errors name the URL; ours carry no secrets, but the text is kept short anyway.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.without_url_ref().to_string();
    if let Some(source) = std::error::Error::source(error) {
        text.push_str(&format!(": {source}"));
    }
    text
}

trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        if self.is_timeout() {
            "timed out".into()
        } else if self.is_connect() {
            "connection failed".into()
        } else {
            "request failed".into()
        }
    }
}

/// Maps the token endpoint's `{"error","error_description","error_codes","trace_id"}`.
pub fn token_error(status: u16, body: &[u8]) -> GraphError {
    #[derive(Deserialize)]
    struct TokenErrorBody {
        error: String,
        #[serde(default)]
        error_description: String,
        #[serde(default)]
        error_codes: Vec<u64>,
        #[serde(default)]
        trace_id: Option<String>,
    }
    match serde_json::from_slice::<TokenErrorBody>(body) {
        Ok(parsed) => {
            let code = parsed
                .error_codes
                .first()
                .map(|c| format!("AADSTS{c}"))
                .unwrap_or_else(|| parsed.error.clone());
            // The first line of the description is the useful one; the rest repeats ids.
            let message = parsed
                .error_description
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            if status >= 500 {
                GraphError::Transient {
                    attempts: 1,
                    detail: format!("token endpoint {status} {code}: {message}"),
                    ids: Default::default(),
                }
            } else {
                GraphError::Unauthorized {
                    code,
                    message,
                    trace_id: parsed.trace_id,
                }
            }
        }
        Err(_) if status >= 500 => GraphError::Transient {
            attempts: 1,
            detail: format!("token endpoint answered {status}"),
            ids: Default::default(),
        },
        Err(_) => GraphError::Unauthorized {
            code: format!("Http{status}"),
            message: "the token endpoint refused the request".into(),
            trace_id: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        crate::tls::install_crypto_provider();
        let credential = Credential::ClientSecret(Secret::new("hunter2-very-secret"));
        assert!(!format!("{credential:?}").contains("hunter2"));
        let provider = TokenProvider::new(
            reqwest::Client::new(),
            "https://login",
            "t",
            "https://graph",
            "c",
            credential,
        );
        assert!(!format!("{provider:?}").contains("hunter2"));
    }

    #[test]
    fn token_errors_carry_the_aadsts_code_and_trace_id() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x","error_codes":[7000215],"timestamp":"t","trace_id":"tr-1","correlation_id":"co-1"}"#;
        let error = token_error(401, body);
        assert!(
            matches!(error, GraphError::Unauthorized { .. }),
            "{error:?}"
        );
        assert_eq!(error.code(), Some("AADSTS7000215"));
        assert_eq!(
            error.to_string(),
            "unauthorized: AADSTS7000215: AADSTS7000215: Invalid client secret provided.; trace-id tr-1"
        );
    }

    #[test]
    fn roles_are_read_from_the_token_payload() {
        let payload =
            URL_SAFE_NO_PAD.encode(br#"{"roles":["Policy.Read.All","User.RevokeSessions.All"]}"#);
        let token = AccessToken {
            secret: Secret::new(format!("h.{payload}.s")),
            expires_at: Instant::now(),
            refresh_at: Instant::now(),
        };
        assert_eq!(
            token.roles(),
            ["Policy.Read.All", "User.RevokeSessions.All"]
        );
    }
}
