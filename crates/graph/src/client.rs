//! The one Graph client. It owns everything about talking to Graph: tokens, per-tenant
//! pacing, retries, paging and error mapping (`$batch` is in [`super::batch`]). Nothing above
//! it sees reqwest.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::auth::{Credential, TokenProvider};
use super::batch::BatchItemResponse;
use super::error::{GraphError, RequestIds};
use super::models::Page;
use super::pacing::Pacer;
use super::permissions;

/// Graph API version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    /// `/v1.0`.
    V1,
    /// `/beta`, for the controls v1.0 lacks (CAE, everyTime where v1.0 refuses it).
    Beta,
}

impl ApiVersion {
    /// The path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
}

/// The documented write quota per app and tenant: 3,000 writes per 2 min 30 s.
pub const DEFAULT_WRITE_QUOTA: WriteQuota = WriteQuota {
    writes: 3000,
    window: Duration::from_secs(150),
};

/// A write quota: `writes` per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteQuota {
    /// Writes allowed per window.
    pub writes: u32,
    /// The window.
    pub window: Duration,
}

impl WriteQuota {
    /// Writes per second.
    pub fn rate(&self) -> f64 {
        f64::from(self.writes) / self.window.as_secs_f64()
    }
}

impl std::str::FromStr for WriteQuota {
    type Err = String;

    /// `N/SECONDS`, e.g. `3000/150`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (writes, seconds) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not N/SECONDS"))?;
        let writes: u32 = writes
            .trim()
            .parse()
            .map_err(|_| format!("{writes:?} is not a number of writes"))?;
        let seconds: f64 = seconds
            .trim()
            .parse()
            .map_err(|_| format!("{seconds:?} is not a number of seconds"))?;
        if writes == 0 || seconds.is_nan() || seconds <= 0.0 {
            return Err(format!("{text:?}: both numbers must be positive"));
        }
        Ok(WriteQuota {
            writes,
            window: Duration::from_secs_f64(seconds),
        })
    }
}

/// Bounded retries with jittered exponential backoff.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total (the first one included).
    pub max_attempts: u32,
    /// Backoff of the first retry when Graph sends no Retry-After.
    pub base_delay: Duration,
    /// Upper bound of one wait, Retry-After included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// "Equal jitter" backoff for retry number `retry` (1-based): half fixed, half random, so
    /// clients that failed together do not retry together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponential = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = exponential.min(self.max_delay);
        capped / 2 + capped.mul_f64(fastrand::f64() / 2.0)
    }
}

/// Everything needed to talk to one tenant as one app.
#[derive(Clone, Debug)]
pub struct GraphConfig {
    /// Tenant id or verified domain.
    pub tenant_id: String,
    /// Application (client) id.
    pub client_id: String,
    /// How the app authenticates.
    pub credential: Credential,
    /// Graph base URL without version, e.g. `https://graph.microsoft.com`.
    pub graph_endpoint: String,
    /// Login base URL, e.g. `https://login.microsoftonline.com`.
    pub login_endpoint: String,
    /// Write quota to pace directory writes at.
    pub write_quota: WriteQuota,
    /// Conditional Access / named location / Identity Protection requests per second.
    pub ca_requests_per_second: f64,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Sees every answer (the operator's metrics); None outside the operator.
    pub observer: Option<Arc<dyn GraphObserver>>,
}

/// Sees every answer Graph gives, `$batch` items included: the operator counts them by route
/// and status. `route` is templated (`/users/{id}/revokeSignInSessions`) so that metric label
/// values stay few; `status` is 0 when no HTTP answer came (connection failure, timeout).
pub trait GraphObserver: Send + Sync + std::fmt::Debug {
    /// One answer.
    fn observe(&self, method: &str, route: &str, status: u16);
}

/// A path (or `$batch` item URL) with its ids replaced by `{id}`, without the query string.
pub fn route_template(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut route = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        route.push('/');
        if is_id_segment(segment) {
            route.push_str("{id}");
        } else {
            route.push_str(segment);
        }
    }
    if route.is_empty() {
        "/".to_owned()
    } else {
        route
    }
}

/// Object ids (GUIDs), user principal names, `'key'` forms and numbers: anything that names
/// one object rather than a collection or an action.
fn is_id_segment(segment: &str) -> bool {
    let is_guid = segment.len() == 36 && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    is_guid
        || segment.contains('@')
        || segment.contains("%40")
        || segment.contains('\'')
        || segment.chars().all(|c| c.is_ascii_digit())
}

impl GraphConfig {
    /// A config with Graph's documented limits for the given tenant, app and endpoints.
    pub fn new(
        tenant_id: &str,
        client_id: &str,
        credential: Credential,
        graph_endpoint: &str,
        login_endpoint: &str,
    ) -> Self {
        GraphConfig {
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            credential,
            graph_endpoint: graph_endpoint.trim_end_matches('/').to_owned(),
            login_endpoint: login_endpoint.trim_end_matches('/').to_owned(),
            write_quota: DEFAULT_WRITE_QUOTA,
            ca_requests_per_second: 1.0,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(60),
            observer: None,
        }
    }
}

/// The response header that warns before throttling starts (`concepts/throttling.md`).
pub(crate) const LIMIT_PERCENTAGE: &str = "x-ms-throttle-limit-percentage";

/// A `x-ms-throttle-limit-percentage` value: a fraction of the limit (0.8 to 1.8).
pub(crate) fn parse_limit_percentage(value: &str) -> Option<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// A Graph request, relative to the version root (`/users/{id}`), or an absolute
/// `@odata.nextLink` to follow verbatim.
#[derive(Clone, Debug)]
pub struct GraphRequest {
    method: Method,
    version: ApiVersion,
    target: Target,
    query: Vec<(String, String)>,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
    /// Writes a `$batch` carries (they draw from the write quota).
    batch_writes: Option<u32>,
}

#[derive(Clone, Debug)]
enum Target {
    Relative(String),
    Absolute(String),
}

impl GraphRequest {
    fn new(method: Method, path: &str) -> Self {
        GraphRequest {
            method,
            version: ApiVersion::V1,
            target: Target::Relative(path.to_owned()),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            batch_writes: None,
        }
    }

    /// `GET path`.
    pub fn get(path: &str) -> Self {
        Self::new(Method::GET, path)
    }

    /// `POST path` with a JSON body.
    pub fn post(path: &str, body: Value) -> Self {
        Self::new(Method::POST, path).body(body)
    }

    /// `POST path` without a body (actions such as revokeSignInSessions).
    pub fn action(path: &str) -> Self {
        Self::new(Method::POST, path)
    }

    /// `PATCH path` with a JSON body.
    pub fn patch(path: &str, body: Value) -> Self {
        Self::new(Method::PATCH, path).body(body)
    }

    /// `DELETE path`.
    pub fn delete(path: &str) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// Follow an `@odata.nextLink`.
    pub fn next_link(url: &str, version: ApiVersion) -> Self {
        let mut request = Self::new(Method::GET, "");
        request.target = Target::Absolute(url.to_owned());
        request.version = version;
        request
    }

    /// Use the given API version.
    pub fn version(mut self, version: ApiVersion) -> Self {
        self.version = version;
        self
    }

    /// Add a query parameter (`$select`, `$filter`, `$top` ...).
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    /// Add a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Advanced query: `ConsistencyLevel: eventual` and `$count=true`.
    pub fn advanced_query(self) -> Self {
        self.header("ConsistencyLevel", "eventual")
            .query("$count", "true")
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn batch(version: ApiVersion, body: Value, writes: u32) -> Self {
        let mut request = Self::post("/$batch", body).version(version);
        request.batch_writes = Some(writes);
        request
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path relative to the version root (for a nextLink: its path after the version).
    pub fn path(&self) -> &str {
        match &self.target {
            Target::Relative(path) => path,
            Target::Absolute(url) => url
                .find(&format!("/{}/", self.version.as_str()))
                .map(|i| &url[i + self.version.as_str().len() + 1..])
                .unwrap_or(url),
        }
    }
}

/// A successful Graph answer.
#[derive(Clone, Debug)]
pub struct GraphResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// The body (empty for 204).
    pub body: Bytes,
    /// Request identifiers.
    pub ids: RequestIds,
    /// `x-ms-throttle-limit-percentage`: how much of its limit the app has used, "returned only
    /// when the application consumed more than 0.8 of its limit. The value ranges from 0.8 to
    /// 1.8" (`concepts/throttling.md`).
    pub limit_percentage: Option<f64>,
}

impl GraphResponse {
    /// Parses the body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GraphError> {
        serde_json::from_slice(&self.body).map_err(|e| GraphError::Protocol {
            detail: format!("cannot parse the response body: {e}"),
            ids: self.ids.clone(),
        })
    }
}

/// Which paced lane a request belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lane {
    /// CA policies, named locations, Identity Protection: 1 request/s per tenant, all apps.
    ConditionalAccess,
    /// Directory writes: the write quota.
    Writes(u32),
    /// Everything else: only the resource-unit budget, which sessionops' reads stay far under.
    Reads,
}

fn lane_of(request: &GraphRequest) -> Lane {
    if let Some(writes) = request.batch_writes {
        return Lane::Writes(writes);
    }
    let path = request.path();
    if is_conditional_access_service(path) {
        Lane::ConditionalAccess
    } else if request.method != Method::GET {
        Lane::Writes(1)
    } else {
        Lane::Reads
    }
}

/// The paths served by the CA / Identity Protection service and its 1 request/s limit.
pub(crate) fn is_conditional_access_service(path: &str) -> bool {
    let path = path.trim_start_matches('/');
    [
        "identity/conditionalAccess/policies",
        "identity/conditionalAccess/namedLocations",
        "identity/conditionalAccess/deletedItems",
        "identityProtection/",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

/// The CA lane of one tenant: one request at a time, spaced by the rate (plus a margin so
/// network jitter cannot make two arrive closer than Graph allows).
#[derive(Debug)]
struct ConditionalAccessLane {
    serial: tokio::sync::Mutex<()>,
    pacer: Pacer,
}

/// Lanes by (Graph endpoint, tenant[, client id]), lowercased.
type LaneRegistry<T> = std::sync::Mutex<HashMap<Vec<String>, Arc<T>>>;

/// Lanes are shared by every client of the process that talks to the same tenant (CA limits
/// are per tenant across all apps; the write quota per app and tenant).
static CA_LANES: LazyLock<LaneRegistry<ConditionalAccessLane>> = LazyLock::new(Default::default);
static WRITE_LANES: LazyLock<LaneRegistry<Pacer>> = LazyLock::new(Default::default);

/// Margin on the CA spacing: 1 request/s becomes one per 1.1 s.
const CA_SPACING_MARGIN: f64 = 1.1;
/// Burst of the write lane: one `$batch`.
const WRITE_BURST: u32 = 20;

/// A Graph client for one app in one tenant. Cheap to clone.
#[derive(Clone, Debug)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    graph_endpoint: String,
    tenant_id: String,
    tokens: TokenProvider,
    ca_lane: Arc<ConditionalAccessLane>,
    writes: Arc<Pacer>,
    retry: RetryPolicy,
    observer: Option<Arc<dyn GraphObserver>>,
}

impl GraphClient {
    /// A client for `config`. Installs the ring TLS provider if none is installed yet.
    pub fn new(config: GraphConfig) -> Result<Self, GraphError> {
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("sessionops/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphError::Credentials(format!("cannot build the HTTP client: {e}")))?;
        let tokens = TokenProvider::new(
            http.clone(),
            &config.login_endpoint,
            &config.tenant_id,
            &config.graph_endpoint,
            &config.client_id,
            config.credential,
        );
        let tenant_key = vec![
            config.graph_endpoint.clone(),
            config.tenant_id.to_ascii_lowercase(),
        ];
        let ca_lane = CA_LANES
            .lock()
            .expect("lane registry")
            .entry(tenant_key.clone())
            .or_insert_with(|| {
                Arc::new(ConditionalAccessLane {
                    serial: tokio::sync::Mutex::new(()),
                    pacer: Pacer::new(config.ca_requests_per_second / CA_SPACING_MARGIN, 1),
                })
            })
            .clone();
        let writes = WRITE_LANES
            .lock()
            .expect("lane registry")
            .entry([tenant_key, vec![config.client_id.to_ascii_lowercase()]].concat())
            .or_insert_with(|| Arc::new(Pacer::new(config.write_quota.rate(), WRITE_BURST)))
            .clone();
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                graph_endpoint: config.graph_endpoint,
                tenant_id: config.tenant_id,
                tokens,
                ca_lane,
                writes,
                retry: config.retry,
                observer: config.observer,
            }),
        })
    }

    /// The retry policy (for callers that run their own item-level retries).
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// The current pace of this tenant's write lane, in writes per second (the quota rate,
    /// lower after throttling or a near-limit warning).
    pub fn write_rate(&self) -> f64 {
        self.inner.writes.rate()
    }

    /// Feeds the answers of a `$batch` of writes, whose throttled items the caller retries
    /// itself, back into the write lane: any item throttled (429) slows the lane by the longest
    /// `Retry-After` among the throttled and unavailable items; otherwise the highest
    /// near-limit reading (`x-ms-throttle-limit-percentage`) caps its pace.
    pub fn pace_writes_by(&self, responses: &[BatchItemResponse]) {
        if responses.iter().any(|r| r.status == 429) {
            let longest = responses
                .iter()
                .filter(|r| matches!(r.status, 429 | 503))
                .filter_map(BatchItemResponse::retry_after)
                .max();
            self.write_lane_throttled(longest);
        } else if let Some(used) = responses
            .iter()
            .filter_map(BatchItemResponse::limit_percentage)
            .reduce(f64::max)
        {
            self.write_lane_near_limit(used);
        }
    }

    pub(crate) fn write_lane_throttled(&self, retry_after: Option<Duration>) {
        self.inner.writes.throttled(retry_after);
    }

    pub(crate) fn write_lane_succeeded(&self, writes: u32) {
        self.inner.writes.succeeded(writes);
    }

    pub(crate) fn write_lane_near_limit(&self, used: f64) {
        self.inner.writes.near_limit(used);
    }

    /// Tells the observer (if any) about one answer.
    pub(crate) fn observe(&self, method: &str, path: &str, status: u16) {
        if let Some(observer) = &self.inner.observer {
            observer.observe(method, &route_template(path), status);
        }
    }

    /// The tenant this client talks to.
    pub fn tenant_id(&self) -> &str {
        &self.inner.tenant_id
    }

    /// The application permissions the current token carries (gets a token if needed).
    pub async fn granted_roles(&self) -> Result<Vec<String>, GraphError> {
        Ok(self.inner.tokens.token().await?.roles())
    }

    /// Template ids of the directory roles assigned to the app's service principal (the token's
    /// `oid`), from `GET /roleManagement/directory/roleAssignments?$filter=principalId eq '…'`
    /// (`rbacapplication-list-roleassignments.md`; needs RoleManagement.Read.Directory).
    pub async fn directory_roles(&self) -> Result<Vec<String>, GraphError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Assignment {
            role_definition_id: String,
            #[serde(default)]
            directory_scope_id: Option<String>,
        }
        let principal = self
            .inner
            .tokens
            .token()
            .await?
            .object_id()
            .ok_or_else(|| GraphError::Protocol {
                detail: "the access token has no oid claim".into(),
                ids: RequestIds::default(),
            })?;
        let assignments: Vec<Assignment> = self
            .list_all(
                GraphRequest::get("/roleManagement/directory/roleAssignments")
                    .query("$filter", format!("principalId eq '{principal}'")),
            )
            .await?;
        // Only tenant-wide assignments ("/") act on every user and device; one scoped to an
        // administrative unit does not.
        Ok(assignments
            .into_iter()
            .filter(|a| {
                a.directory_scope_id
                    .as_deref()
                    .is_none_or(|scope| scope == "/")
            })
            .map(|a| a.role_definition_id)
            .collect())
    }

    /// Sends a request through its lane, with retries; returns the 2xx answer or a typed error.
    pub async fn send(&self, request: GraphRequest) -> Result<GraphResponse, GraphError> {
        match lane_of(&request) {
            Lane::ConditionalAccess => {
                // One CA request in flight per tenant, each start spaced by the pacer. Held
                // across retries too: a retry is another request against the same limit.
                let _serial = self.inner.ca_lane.serial.lock().await;
                self.send_with_retries(&request, Some(&self.inner.ca_lane.pacer), 1)
                    .await
            }
            Lane::Writes(writes) => {
                self.send_with_retries(&request, Some(&self.inner.writes), writes)
                    .await
            }
            Lane::Reads => self.send_with_retries(&request, None, 0).await,
        }
    }

    /// `send`, then parse the body.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        request: GraphRequest,
    ) -> Result<T, GraphError> {
        self.send(request).await?.json()
    }

    async fn send_with_retries(
        &self,
        request: &GraphRequest,
        pacer: Option<&Pacer>,
        cost: u32,
    ) -> Result<GraphResponse, GraphError> {
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let is_ca = lane_of(request) == Lane::ConditionalAccess;
        let mut refreshed_token = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(pacer) = pacer {
                pacer.acquire(cost.max(1)).await;
            }
            let token = self.inner.tokens.token().await?;
            let outcome = self
                .send_once(request, token.bearer(), &client_request_id)
                .await;
            let (failure, retry_after) = match outcome {
                Ok(response) => {
                    if let Some(pacer) = pacer {
                        match response.limit_percentage {
                            Some(used) => pacer.near_limit(used),
                            None => pacer.succeeded(cost.max(1)),
                        }
                    }
                    return Ok(response);
                }
                Err(failure) => failure,
            };
            let retryable = match &failure {
                Attempt::Status {
                    status: 401, code, ..
                } if code == "InvalidAuthenticationToken" && !refreshed_token => {
                    // The token was revoked or expired early: get a new one, once.
                    self.inner.tokens.invalidate(&token).await;
                    refreshed_token = true;
                    attempt -= 1;
                    continue;
                }
                Attempt::Status { status: 429, .. } => {
                    if let Some(pacer) = pacer {
                        pacer.throttled(retry_after);
                    }
                    true
                }
                // concepts/throttling.md, "Throttling and batching": when items are throttled
                // "the batch itself fails with a status code of 424". Without per-item
                // responses (see `send_once`) the batch is retried whole, after slowing down as
                // for a 429.
                Attempt::Status { status: 424, .. } if request.path() == "/$batch" => {
                    if let Some(pacer) = pacer {
                        pacer.throttled(retry_after);
                    }
                    true
                }
                Attempt::Status { status, .. } => matches!(status, 500 | 502 | 503 | 504),
                Attempt::Transport { .. } => true,
                Attempt::Refused { .. } => false,
            };
            if !retryable || attempt >= self.inner.retry.max_attempts {
                return Err(failure.into_error(request, attempt, retry_after));
            }
            let mut delay = retry_after.unwrap_or_else(|| self.inner.retry.backoff(attempt));
            if is_ca && retry_after.is_none() {
                // CA 429s carry no Retry-After; the limit is per second.
                delay = delay.max(Duration::from_secs(1));
            }
            tracing::debug!(method = %request.method, path = request.path(), attempt, delay_ms = delay.as_millis() as u64, "retrying Graph request");
            tokio::time::sleep(delay.min(self.inner.retry.max_delay)).await;
        }
    }

    async fn send_once(
        &self,
        request: &GraphRequest,
        bearer: &str,
        client_request_id: &str,
    ) -> Result<GraphResponse, (Attempt, Option<Duration>)> {
        let url = match &request.target {
            Target::Relative(path) => format!(
                "{}/{}{}",
                self.inner.graph_endpoint,
                request.version.as_str(),
                path
            ),
            Target::Absolute(url) => {
                // The token goes wherever the link points: only ever to Graph itself.
                if !url.starts_with(&format!("{}/", self.inner.graph_endpoint)) {
                    let detail = format!(
                        "@odata.nextLink {url} does not point at {}; not followed",
                        self.inner.graph_endpoint
                    );
                    return Err((Attempt::Refused { detail }, None));
                }
                url.clone()
            }
        };
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), &url)
            .bearer_auth(bearer)
            .header("client-request-id", client_request_id)
            .query(&request.query);
        if is_conditional_access_service(request.path()) {
            // Without it, evolvable enum members read back as unknownFutureValue: false drift.
            builder = builder.header("Prefer", "include-unknown-enum-members");
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.json(body);
        } else if request.method == Method::POST {
            builder = builder.header("Content-Length", "0");
        }
        let route = match &request.target {
            Target::Relative(path) => path.as_str(),
            Target::Absolute(url) => url
                .strip_prefix(&self.inner.graph_endpoint)
                .and_then(|rest| rest.split_once('/').map(|(_, after)| after))
                .and_then(|rest| rest.split_once('/').map(|(_, path)| path))
                .unwrap_or(""),
        };
        let response = builder.send().await.map_err(|e| {
            self.observe(request.method.as_str(), route, 0);
            (
                Attempt::Transport {
                    detail: transport_detail(&e),
                },
                None,
            )
        })?;
        let status = response.status().as_u16();
        self.observe(request.method.as_str(), route, status);
        let ids = RequestIds {
            request_id: response
                .headers()
                .get("request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            client_request_id: Some(client_request_id.to_owned()),
        };
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let limit_percentage = response
            .headers()
            .get(LIMIT_PERCENTAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_limit_percentage);
        let body = response.bytes().await.map_err(|e| {
            (
                Attempt::Transport {
                    detail: transport_detail(&e),
                },
                None,
            )
        })?;
        // A 424 `$batch` that still carries per-item responses is an answer: the items say
        // which ran (concepts/throttling.md: throttled items make "the batch itself fail with
        // 424"), and only the failed ones are retried, by `GraphClient::batch`. Re-sending the
        // whole batch would repeat the items that succeeded.
        let batch_answer = status == 424
            && request.path() == "/$batch"
            && serde_json::from_slice::<Value>(&body).is_ok_and(|v| v["responses"].is_array());
        if (200..300).contains(&status) || batch_answer {
            return Ok(GraphResponse {
                status,
                body,
                ids,
                limit_percentage,
            });
        }
        let code = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
            .unwrap_or_default();
        Err((
            Attempt::Status {
                status,
                code,
                body,
                ids,
            },
            retry_after,
        ))
    }

    /// Streams the pages of a collection, following `@odata.nextLink` verbatim until the end.
    pub fn pages<T>(
        &self,
        first: GraphRequest,
    ) -> impl Stream<Item = Result<Page<T>, GraphError>> + Send + 'static
    where
        T: DeserializeOwned + Send + 'static,
    {
        let client = self.clone();
        let version = first.version;
        // Headers such as `ConsistencyLevel: eventual` must accompany every page of an
        // advanced query, not only the first.
        let headers = first.headers.clone();
        futures::stream::try_unfold(Some(first), move |next| {
            let client = client.clone();
            let headers = headers.clone();
            async move {
                let Some(request) = next else { return Ok(None) };
                let page: Page<T> = client.send_json(request).await?;
                let following = page.next_link.as_deref().map(|link| {
                    let mut request = GraphRequest::next_link(link, version);
                    request.headers = headers;
                    request
                });
                Ok(Some((page, following)))
            }
        })
    }

    /// Every item of a collection (all pages).
    pub async fn list_all<T>(&self, first: GraphRequest) -> Result<Vec<T>, GraphError>
    where
        T: DeserializeOwned + Send + 'static,
    {
        use futures::TryStreamExt;
        let pages: Vec<Page<T>> = self.pages(first).try_collect().await?;
        Ok(pages.into_iter().flat_map(|p| p.value).collect())
    }
}

/// What one failed attempt saw.
enum Attempt {
    /// Graph answered with a non-2xx status.
    Status {
        status: u16,
        code: String,
        body: Bytes,
        ids: RequestIds,
    },
    /// No answer (connection, timeout).
    Transport { detail: String },
    /// sessionops refused to send it.
    Refused { detail: String },
}

impl Attempt {
    fn into_error(
        self,
        request: &GraphRequest,
        attempts: u32,
        retry_after: Option<Duration>,
    ) -> GraphError {
        match self {
            Attempt::Refused { detail } => GraphError::Protocol {
                detail,
                ids: RequestIds::default(),
            },
            Attempt::Status {
                status: 429, ids, ..
            } => GraphError::Throttled {
                attempts,
                retry_after,
                ids,
            },
            Attempt::Status {
                status, body, ids, ..
            } => {
                let permission = permissions::required_for(
                    &request.method,
                    request.path(),
                    request.body.as_ref(),
                );
                match GraphError::from_response(status, &body, ids, permission.as_deref()) {
                    GraphError::Transient { detail, ids, .. } => GraphError::Transient {
                        attempts,
                        detail,
                        ids,
                    },
                    other => other,
                }
            }
            Attempt::Transport { detail } => GraphError::Transient {
                attempts,
                detail,
                ids: RequestIds::default(),
            },
        }
    }
}

/// A transport failure in a few words, with its cause (connection refused, timed out ...).
fn transport_detail(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    detail
}

/// `Retry-After` as seconds (fractional allowed, e.g. `2.128`) or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?;
    let wait = date.timestamp().duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_fractional_seconds_and_dates() {
        assert_eq!(
            parse_retry_after("2.128"),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(parse_retry_after("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a past date means now"
        );
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for _ in 0..100 {
            let first = policy.backoff(1);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = policy.backoff(3);
            assert!(
                third >= Duration::from_millis(200) && third <= Duration::from_millis(400),
                "{third:?}"
            );
            assert!(policy.backoff(30) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn lanes_follow_the_service_limits() {
        assert_eq!(
            lane_of(&GraphRequest::get("/identity/conditionalAccess/policies")),
            Lane::ConditionalAccess
        );
        assert_eq!(
            lane_of(&GraphRequest::action(
                "/identityProtection/riskyUsers/confirmCompromised"
            )),
            Lane::ConditionalAccess
        );
        assert_eq!(
            lane_of(&GraphRequest::action("/users/u/revokeSignInSessions")),
            Lane::Writes(1)
        );
        assert_eq!(lane_of(&GraphRequest::get("/users/u")), Lane::Reads);
        assert_eq!(
            lane_of(&GraphRequest::batch(ApiVersion::V1, Value::Null, 20)),
            Lane::Writes(20)
        );
    }

    #[test]
    fn write_quota_parses_n_per_seconds() {
        let quota: WriteQuota = "3000/150".parse().unwrap();
        assert_eq!(quota, DEFAULT_WRITE_QUOTA);
        assert!((quota.rate() - 20.0).abs() < 1e-9);
        assert!("0/1".parse::<WriteQuota>().is_err());
        assert!("200".parse::<WriteQuota>().is_err());
    }

    #[test]
    fn next_link_paths_are_relative_to_the_version() {
        let request = GraphRequest::next_link(
            "https://graph.microsoft.com/v1.0/users?$skiptoken=abc",
            ApiVersion::V1,
        );
        assert_eq!(request.path(), "/users?$skiptoken=abc");
    }
}
