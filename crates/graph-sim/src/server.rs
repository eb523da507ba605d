//! The HTTP side: axum routes for the token endpoint, the Graph versions and `/_sim/`, turning
//! wire requests into [`GraphRequest`]s and [`GraphResponse`]s back into HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body as HttpBody, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use jiff::Timestamp;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::auth::token_endpoint::{self, TokenRequest};
use super::auth::{RegisteredCertificate, TokenIssuer};
use super::batch;
use super::config::SimConfig;
use super::control;
use super::error::GraphError;
use super::ids;
use super::pipeline::{self, ApiVersion, Body, GraphRequest, GraphResponse};
use super::routes::Route;
use super::state::{Settings, Shared, State as SimState};
use super::stats::{Received, Stats};
use super::tenant::Tenant;
use super::throttle::Throttle;

/// Largest request body accepted (a `$batch` of 20 policies is far below this).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Graph's content type for JSON responses.
const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A running simulator.
pub struct Simulator {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

fn invalid_input(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message)
}

impl Simulator {
    /// Builds the tenant and starts serving on `listen` (port 0 picks a free port).
    pub async fn start(config: SimConfig, listen: SocketAddr) -> std::io::Result<Simulator> {
        config
            .validate()
            .map_err(|e| invalid_input(e.to_string()))?;
        let certificate = config
            .client_certificate_pem
            .as_deref()
            .map(RegisteredCertificate::from_pem)
            .transpose()
            .map_err(|e| invalid_input(format!("client certificate: {e}")))?;
        let now = Timestamp::now();
        let at = Instant::now();
        let tenant = Tenant::build(&config, now, at).map_err(|e| invalid_input(e.to_string()))?;
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        // A wildcard bind is reachable on loopback; advertise that.
        let advertised = if addr.ip().is_unspecified() {
            SocketAddr::new(
                if addr.is_ipv4() {
                    std::net::Ipv4Addr::LOCALHOST.into()
                } else {
                    std::net::Ipv6Addr::LOCALHOST.into()
                },
                addr.port(),
            )
        } else {
            addr
        };
        let base_url = format!("http://{advertised}");
        let tokens = TokenIssuer::new(
            &config.tenant_id,
            &config.client_id,
            &config.granted_roles,
            config.token_lifetime.as_secs() as i64,
        )?;
        let throttle = Throttle::new(
            config.throttle,
            tenant.users.len(),
            config.write_quota,
            config.ca_rps,
            &config.client_id,
            &config.tenant_id,
            at,
        );
        let fault_rate = config.fault_rate;
        let shared = Arc::new(Shared::new(
            Settings {
                config,
                base_url: base_url.clone(),
                tokens,
                certificate,
            },
            SimState {
                tenant,
                throttle,
                stats: Stats::default(),
                fault_rate,
                rng: fastrand::Rng::new(),
            },
        ));
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%base_url, "Graph simulator listening");
        Ok(Simulator {
            addr,
            base_url,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the Graph base and the login base.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The tenant id it answers for.
    pub fn tenant_id(&self) -> &str {
        &self.shared.settings.config.tenant_id
    }

    /// The client id of the one app registration it accepts.
    pub fn client_id(&self) -> &str {
        &self.shared.settings.config.client_id
    }

    /// That app's client secret.
    pub fn client_secret(&self) -> &str {
        &self.shared.settings.config.client_secret
    }

    /// Stops accepting connections and waits for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    /// A simulator dropped without `shutdown` still stops serving.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/_sim/config", get(control::config))
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/stats/reset", post(control::reset_stats))
        .route("/_sim/requests", get(control::requests))
        .route("/_sim/portal/policies", post(control::portal_create))
        .route(
            "/_sim/portal/policies/{id}",
            patch(control::portal_patch).delete(control::portal_delete),
        )
        .route("/_sim/faults", put(control::set_faults))
        .route("/_sim/users/{key}", get(control::user))
        .route("/_sim/policies", get(control::policies))
        .fallback(graph)
        .with_state(shared)
}

/// `http://host:port` as the client addressed us.
fn origin(headers: &HeaderMap, shared: &Shared) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|host| format!("http://{host}"))
        .unwrap_or_else(|| shared.settings.base_url.clone())
}

async fn apply_latency(shared: &Shared) {
    let latency = shared.settings.config.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

fn unix_seconds() -> i64 {
    Timestamp::now().as_second()
}

/// `POST /{tenant}/oauth2/v2.0/token`.
async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    apply_latency(&shared).await;
    let origin = origin(&headers, &shared);
    let request = TokenRequest {
        tenant: &tenant,
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        body: &body,
        origin: &origin,
        now: unix_seconds(),
    };
    let trace_id = ids::random();
    let correlation_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(ids::random);
    let (status, body) = match token_endpoint::issue(&shared.settings, &request) {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => (error.status, error.body(&trace_id, &correlation_id)),
    };
    shared
        .lock()
        .stats
        .record("POST /{tenant}/oauth2/v2.0/token", status.as_u16());
    let mut response = json_response(status, &body, "application/json; charset=utf-8");
    let headers = response.headers_mut();
    insert_header(headers, "x-ms-request-id", &trace_id);
    insert_header(headers, "client-request-id", &correlation_id);
    insert_header(headers, "cache-control", "no-store, no-cache");
    insert_header(headers, "pragma", "no-cache");
    response
}

fn insert_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn json_response(status: StatusCode, body: &Value, content_type: &str) -> Response {
    let mut response = (status, serde_json::to_vec(body).unwrap_or_default()).into_response();
    insert_header(response.headers_mut(), "content-type", content_type);
    response
}

/// Turns a Graph response into HTTP, with the request ids every Graph response carries.
pub(crate) fn http_response(
    response: GraphResponse,
    request_id: &str,
    client_request_id: &str,
) -> Response {
    let mut http = match &response.body {
        Some(body) => json_response(response.status, body, GRAPH_JSON),
        None => (response.status, HttpBody::empty()).into_response(),
    };
    let headers = http.headers_mut();
    insert_header(headers, "request-id", request_id);
    insert_header(headers, "client-request-id", client_request_id);
    insert_header(headers, "odata-version", "4.0");
    for (name, value) in &response.headers {
        insert_header(headers, name, value);
    }
    http
}

/// Every path under `/v1.0` and `/beta`.
async fn graph(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    apply_latency(&shared).await;
    let (parts, body) = request.into_parts();
    let request_id = ids::random();
    let client_request_id = parts
        .headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(ids::random);
    let fail = |error: GraphError| {
        http_response(
            GraphResponse::from_error(&error, &request_id, &client_request_id),
            &request_id,
            &client_request_id,
        )
    };
    let raw_path = parts.uri.path();
    let (version, path) = match raw_path.trim_start_matches('/').split_once('/') {
        Some((version, rest)) => (ApiVersion::parse(version), format!("/{rest}")),
        None => (
            ApiVersion::parse(raw_path.trim_start_matches('/')),
            "/".to_owned(),
        ),
    };
    let Some(version) = version else {
        let segment = raw_path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        return fail(GraphError::bad_request(format!(
            "Invalid version: {segment}. Use /v1.0 or /beta."
        )));
    };
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return fail(GraphError::bad_request("The request body is too large.")),
    };
    let body = if bytes.iter().all(u8::is_ascii_whitespace) {
        Body::None
    } else {
        serde_json::from_slice(&bytes).map_or(Body::Invalid, Body::Json)
    };
    let graph_request = GraphRequest {
        method: parts.method.clone(),
        version,
        path,
        query: parts
            .uri
            .query()
            .map(pipeline::parse_query)
            .unwrap_or_default(),
        headers: parts.headers.clone(),
        body,
        origin: origin(&parts.headers, &shared),
    };
    if shared.settings.config.journal {
        shared.lock().stats.journal(Received {
            method: graph_request.method.as_str(),
            version: graph_request.version.as_str(),
            path: &graph_request.path,
            query: &graph_request.query,
            headers: &graph_request.headers,
            body: match &graph_request.body {
                Body::Json(value) => Some(value),
                _ => None,
            },
            batch_item: false,
        });
    }
    let route = Route::parse(&graph_request.method, &graph_request.path);
    let stats_key = match &route {
        Ok(route) => format!("{} {}", graph_request.method, route.template()),
        Err(_) => pipeline::unmatched_key(&graph_request.method),
    };
    let principal = match shared.settings.tokens.verify(
        parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        unix_seconds(),
    ) {
        Ok(principal) => principal,
        Err(error) => {
            shared
                .lock()
                .stats
                .record(&stats_key, error.code.status().as_u16());
            return fail(error);
        }
    };
    if matches!(route, Ok(Route::Batch)) {
        let response = match batch::execute(&shared, &graph_request, &principal) {
            Ok(response) => response,
            Err(error) => GraphResponse::from_error(&error, &request_id, &client_request_id),
        };
        shared
            .lock()
            .stats
            .record(&stats_key, response.status.as_u16());
        return http_response(response, &request_id, &client_request_id);
    }
    let executed = pipeline::execute(&shared, &graph_request, &principal);
    http_response(
        executed.response,
        &executed.request_id,
        &executed.client_request_id,
    )
}
