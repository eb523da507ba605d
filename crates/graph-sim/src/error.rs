//! Errors in the two wire formats the simulator speaks: Graph's
//! `{"error":{"code","message","innerError"}}` and the identity platform's AADSTS shape.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::time;

/// The `error.code` values the simulator answers with (`concepts/errors.md`). Branching clients key on
/// these, so each variant maps to exactly one code string and one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// 400 `Request_BadRequest`: directory-style validation failure (users, groups, devices).
    RequestBadRequest,
    /// 400 `BadRequest`: OData / Conditional Access service validation failure (schema, enum
    /// literals, the "1108" rule, `$batch` envelope problems).
    BadRequest,
    /// 400 `Request_UnsupportedQuery`: a `$filter` the directory does not support.
    UnsupportedQuery,
    /// 401 `InvalidAuthenticationToken`: missing, malformed, expired or foreign bearer token.
    InvalidAuthenticationToken,
    /// 403 `Authorization_RequestDenied`: the token lacks the application permission.
    AuthorizationRequestDenied,
    /// 404 `Request_ResourceNotFound`.
    ResourceNotFound,
    /// 405 `Request_BadRequest` with status 405: known path, unsupported method.
    MethodNotAllowed,
    /// 424 `FailedDependency`: a `$batch` item whose `dependsOn` failed.
    FailedDependency,
    /// 429 `TooManyRequests`.
    TooManyRequests,
    /// 503 `serviceNotAvailable` (injected fault, before the change).
    ServiceUnavailable,
    /// 504 `GatewayTimeout` (injected fault, after the change).
    GatewayTimeout,
}

impl ErrorCode {
    /// HTTP status of this code.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::RequestBadRequest | Self::BadRequest | Self::UnsupportedQuery => {
                StatusCode::BAD_REQUEST
            }
            Self::InvalidAuthenticationToken => StatusCode::UNAUTHORIZED,
            Self::AuthorizationRequestDenied => StatusCode::FORBIDDEN,
            Self::ResourceNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::FailedDependency => StatusCode::FAILED_DEPENDENCY,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// The `error.code` string.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::RequestBadRequest | Self::MethodNotAllowed => "Request_BadRequest",
            Self::BadRequest => "BadRequest",
            Self::UnsupportedQuery => "Request_UnsupportedQuery",
            Self::InvalidAuthenticationToken => "InvalidAuthenticationToken",
            Self::AuthorizationRequestDenied => "Authorization_RequestDenied",
            Self::ResourceNotFound => "Request_ResourceNotFound",
            Self::FailedDependency => "FailedDependency",
            Self::TooManyRequests => "TooManyRequests",
            Self::ServiceUnavailable => "serviceNotAvailable",
            Self::GatewayTimeout => "GatewayTimeout",
        }
    }
}

/// A Graph error response: code, developer message and any extra response headers
/// (`Retry-After`, `x-ms-throttle-*`, `WWW-Authenticate`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} {}: {message}", code.status().as_u16(), code.as_str())]
pub(crate) struct GraphError {
    pub code: ErrorCode,
    pub message: String,
    pub headers: Vec<(&'static str, String)>,
}

impl GraphError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a response header.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 400 `Request_BadRequest`.
    pub(crate) fn request_bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::RequestBadRequest, message)
    }

    /// 400 `BadRequest` (OData and Conditional Access validation).
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// 400 `Request_UnsupportedQuery`.
    pub(crate) fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnsupportedQuery, message)
    }

    /// 404 for an id or UPN that does not exist, with Graph's wording.
    pub(crate) fn not_found(id: &str) -> Self {
        Self::new(
            ErrorCode::ResourceNotFound,
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// 403 with Graph's fixed message.
    pub(crate) fn denied() -> Self {
        Self::new(
            ErrorCode::AuthorizationRequestDenied,
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 401; Graph adds a `WWW-Authenticate` challenge.
    pub(crate) fn invalid_token(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidAuthenticationToken, message).with_header(
            "www-authenticate",
            "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
        )
    }

    /// The JSON body, with `innerError` carrying the request ids and the date (no offset, as
    /// Graph writes it). Throttling errors carry the extra inner fields of `concepts/throttling.md`, `concepts/throttling-limits.md`.
    pub(crate) fn body(&self, request_id: &str, client_request_id: &str) -> Value {
        let date = time::inner_error_date(jiff::Timestamp::now());
        let mut inner = json!({
            "date": date,
            "request-id": request_id,
            "client-request-id": client_request_id,
        });
        if self.code == ErrorCode::TooManyRequests {
            inner["code"] = json!("429");
            inner["message"] = json!("Please retry after");
            inner["status"] = json!("429");
        }
        json!({"error": {"code": self.code.as_str(), "message": self.message, "innerError": inner}})
    }
}

/// An error of the token endpoint, in the identity platform's shape (entra-docs `v2-oauth2-client-creds-grant-flow.md`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("AADSTS{aadsts}: {description}")]
pub(crate) struct AadError {
    pub status: StatusCode,
    /// OAuth error: `invalid_request`, `invalid_client`, `unauthorized_client`, `invalid_scope`,
    /// `unsupported_grant_type`.
    pub error: &'static str,
    pub aadsts: u32,
    pub description: String,
}

impl AadError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        aadsts: u32,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            aadsts,
            description: description.into(),
        }
    }

    /// The JSON body. `error_description` ends with the trace/correlation ids and timestamp,
    /// as the real endpoint writes it.
    pub(crate) fn body(&self, trace_id: &str, correlation_id: &str) -> Value {
        let timestamp = time::aad_timestamp(jiff::Timestamp::now());
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
                self.aadsts, self.description
            ),
            "error_codes": [self.aadsts],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.aadsts),
        })
    }
}
