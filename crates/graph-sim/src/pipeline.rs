//! One Graph operation from request to response, the same for a top-level HTTP request and for
//! a `$batch` item: route → permission → throttling → fault injection → handler → statistics.

use std::time::Instant;

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

use super::auth::Principal;
use super::error::{ErrorCode, GraphError};
use super::ids;
use super::odata::QueryOptions;
use super::resources::{self, Ctx, users};
use super::routes::{self, Requirement, Route, Service, permissions};
use super::state::{Settings, Shared, State};

/// `/v1.0` or `/beta`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    V1,
    Beta,
}

impl ApiVersion {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }

    pub(crate) fn parse(segment: &str) -> Option<ApiVersion> {
        match segment {
            "v1.0" => Some(ApiVersion::V1),
            "beta" => Some(ApiVersion::Beta),
            _ => None,
        }
    }
}

/// A request body as received.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    None,
    Json(Value),
    /// Present but not JSON.
    Invalid,
}

/// A Graph request, whether it arrived over HTTP or inside `$batch`.
#[derive(Clone, Debug)]
pub(crate) struct GraphRequest {
    pub method: Method,
    pub version: ApiVersion,
    /// Path after the version, undecoded, without query: `/users/a%40b.com`.
    pub path: String,
    /// Decoded query parameters in order.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Body,
    /// `http://host:port` as the client addressed the simulator (for absolute nextLinks).
    pub origin: String,
}

impl GraphRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Prefer: include-unknown-enum-members` (the v1.0 CSDL enum order and `concepts/paging.md`).
    pub(crate) fn include_unknown_enum_members(&self) -> bool {
        self.headers.get_all("prefer").iter().any(|value| {
            value.to_str().is_ok_and(|v| {
                v.split(',').any(|p| {
                    p.trim()
                        .eq_ignore_ascii_case("include-unknown-enum-members")
                })
            })
        })
    }

    /// The JSON object body of a write, or Graph's 400 for a missing or unreadable one.
    pub(crate) fn json_object(&self) -> Result<&serde_json::Map<String, Value>, GraphError> {
        match &self.body {
            Body::Json(Value::Object(map)) => Ok(map),
            Body::Json(_) | Body::Invalid => Err(GraphError::bad_request(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
            )),
            Body::None => Err(GraphError::bad_request(
                "Empty Payload. JSON content expected.",
            )),
        }
    }

    /// Splits `path?query` (as in a `$batch` item URL) into the path and decoded parameters.
    pub(crate) fn split_url(url: &str) -> (String, Vec<(String, String)>) {
        match url.split_once('?') {
            Some((path, query)) => (path.to_owned(), parse_query(query)),
            None => (url.to_owned(), Vec::new()),
        }
    }
}

/// Decodes a query string. `+` is a space, as browsers and most HTTP clients encode it.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// A Graph response, before it becomes HTTP or a `$batch` item.
#[derive(Clone, Debug)]
pub(crate) struct GraphResponse {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
}

impl GraphResponse {
    pub(crate) fn json(status: StatusCode, body: Value) -> GraphResponse {
        GraphResponse {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub(crate) fn ok(body: Value) -> GraphResponse {
        Self::json(StatusCode::OK, body)
    }

    pub(crate) fn created(body: Value) -> GraphResponse {
        Self::json(StatusCode::CREATED, body)
    }

    pub(crate) fn no_content() -> GraphResponse {
        GraphResponse {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: None,
        }
    }

    /// The response for an error, with its body carrying these request ids.
    pub(crate) fn from_error(
        error: &GraphError,
        request_id: &str,
        client_request_id: &str,
    ) -> Self {
        GraphResponse {
            status: error.code.status(),
            headers: error.headers.clone(),
            body: Some(error.body(request_id, client_request_id)),
        }
    }
}

/// The outcome of one operation, with what statistics need.
pub(crate) struct Executed {
    pub response: GraphResponse,
    pub request_id: String,
    pub client_request_id: String,
}

/// Runs one operation for an authenticated caller and counts it.
pub(crate) fn execute(shared: &Shared, req: &GraphRequest, principal: &Principal) -> Executed {
    let request_id = ids::random();
    let client_request_id = req
        .header("client-request-id")
        .map(str::to_owned)
        .unwrap_or_else(ids::random);
    let mut state = shared.lock();
    let (stats_key, result) = run(&mut state, &shared.settings, req, principal);
    let response = match result {
        Ok(response) => response,
        Err(error) => GraphResponse::from_error(&error, &request_id, &client_request_id),
    };
    state.stats.record(&stats_key, response.status.as_u16());
    Executed {
        response,
        request_id,
        client_request_id,
    }
}

/// Statistics key of a request that matched no route.
pub(crate) fn unmatched_key(method: &Method) -> String {
    format!("{method} (unmatched)")
}

/// An injected fault: 503 before the change, or 504 after it (`concepts/throttling.md`, `concepts/throttling-limits.md`: clients must
/// treat both as retryable, and be idempotent because a 504 may hide a success).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    Before,
    After,
}

fn roll_fault(state: &mut State) -> Option<Fault> {
    if state.fault_rate <= 0.0 || state.rng.f64() >= state.fault_rate {
        return None;
    }
    state.stats.record_fault();
    Some(if state.rng.bool() {
        Fault::Before
    } else {
        Fault::After
    })
}

fn run(
    state: &mut State,
    settings: &Settings,
    req: &GraphRequest,
    principal: &Principal,
) -> (String, Result<GraphResponse, GraphError>) {
    let route = match Route::parse(&req.method, &req.path) {
        Ok(route) => route,
        Err(error) => return (unmatched_key(&req.method), Err(error)),
    };
    if let Some(segment) = route.absent_segment(settings.config.cloud) {
        return (
            unmatched_key(&req.method),
            Err(routes::unknown_segment(segment)),
        );
    }
    let key = format!("{} {}", req.method, route.template());
    if route == Route::Batch {
        return (
            key,
            Err(GraphError::bad_request(
                "A $batch request cannot contain another $batch request.",
            )),
        );
    }
    let now = Instant::now();
    let service = route.service();
    if service == Service::ConditionalAccess {
        state
            .stats
            .record_ca_request(jiff::Timestamp::now().as_millisecond());
    }
    let result = admit_and_handle(state, settings, req, principal, &route, now);
    (key, result)
}

fn admit_and_handle(
    state: &mut State,
    settings: &Settings,
    req: &GraphRequest,
    principal: &Principal,
    route: &Route,
    now: Instant,
) -> Result<GraphResponse, GraphError> {
    let query = QueryOptions::parse(req)?;
    for requirement in requirements(route, req, &query) {
        if !routes::satisfies(&principal.roles, requirement) {
            return Err(GraphError::denied());
        }
    }
    let write = req.method != Method::GET;
    let identity = route.service() == Service::Identity;
    let resource_units = if write {
        1
    } else {
        (route.read_cost() + query.cost_modifier()).max(1) as u32
    };
    let admitted = match route.service() {
        Service::Identity => state.throttle.admit_identity(resource_units, write, now),
        Service::ConditionalAccess => state.throttle.admit_conditional_access(now),
        // The envelope costs nothing; its items are admitted one by one.
        Service::Envelope => Ok(()),
    };
    let mut result = admitted.and_then(|()| {
        if write {
            state.stats.record_write();
        }
        let fault = roll_fault(state);
        if fault == Some(Fault::Before) {
            return Err(
                GraphError::new(ErrorCode::ServiceUnavailable, "The service is temporarily unavailable. Please retry.")
                    .with_header("retry-after", "1"),
            );
        }
        let mut ctx = Ctx {
            tenant: &mut state.tenant,
            settings,
            req,
            query: &query,
            principal,
            now: jiff::Timestamp::now(),
            instant: now,
        };
        let handled = resources::dispatch(&mut ctx, route);
        if fault == Some(Fault::After) {
            return Err(GraphError::new(
                ErrorCode::GatewayTimeout,
                "The gateway did not receive a timely response from the service. The operation may have completed.",
            ));
        }
        handled
    });
    if identity {
        // Every identity response says what it cost (`concepts/throttling.md`, `concepts/throttling-limits.md`).
        let mut headers = vec![("x-ms-resource-unit", resource_units.to_string())];
        if let Some(percentage) = state.throttle.limit_percentage(now) {
            headers.push(("x-ms-throttle-limit-percentage", percentage));
        }
        match &mut result {
            Ok(response) => response.headers.extend(headers),
            Err(error) => error.headers.extend(headers),
        }
    }
    result
}

/// Permissions for this request: the route's, refined by what the request touches.
fn requirements(route: &Route, req: &GraphRequest, query: &QueryOptions) -> Vec<Requirement> {
    match route {
        Route::User(_) if req.method == Method::PATCH => {
            // Each property group has its own permission (`user-update.md`, `device-update.md`).
            let mut needed: Vec<Requirement> = Vec::new();
            if let Body::Json(Value::Object(body)) = &req.body {
                for key in body.keys() {
                    let requirement = match key.as_str() {
                        "accountEnabled" => permissions::USER_ENABLE_DISABLE,
                        "passwordProfile" => permissions::USER_PASSWORD,
                        _ => permissions::USER_WRITE,
                    };
                    if !needed.iter().any(|r| std::ptr::eq(*r, requirement)) {
                        needed.push(requirement);
                    }
                }
            }
            if needed.is_empty() {
                needed.push(permissions::USER_WRITE);
            }
            needed
        }
        Route::Users | Route::User(_) => {
            let non_basic = |name: &str| !users::BASIC_PROPERTIES.contains(&name);
            let selects_more = query
                .select
                .as_ref()
                .is_some_and(|s| s.iter().any(|f| non_basic(f)));
            let filters_more = query
                .filter
                .as_ref()
                .is_some_and(|f| f.properties().into_iter().any(non_basic));
            if selects_more || filters_more {
                vec![permissions::USER_READ]
            } else {
                vec![route.requirement(&req.method)]
            }
        }
        _ => vec![route.requirement(&req.method)],
    }
}
