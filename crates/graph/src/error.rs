//! Graph failures, typed, with the stable CamelCase reasons that become condition reasons,
//! event reasons and metric labels. Messages carry Graph's error code and request id (what
//! Microsoft support asks for) and never a secret or a token.

use std::time::Duration;

use serde::Deserialize;

/// Identifiers of one Graph exchange, for support tickets and log correlation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestIds {
    /// Graph's `request-id` response header (or the one in the error body).
    pub request_id: Option<String>,
    /// The `client-request-id` sessionops sent.
    pub client_request_id: Option<String>,
}

impl std::fmt::Display for RequestIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "request-id {}, client-request-id {}",
            self.request_id.as_deref().unwrap_or("none"),
            self.client_request_id.as_deref().unwrap_or("none")
        )
    }
}

/// An error answered by Graph (or the token endpoint), or the failure to get an answer.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum GraphError {
    /// 403: the app lacks a permission (named when known) or a directory role.
    #[error("forbidden: {code}: {message}{}; {ids}", .missing_permission.as_ref().map(|p| format!(" (needs application permission {p})")).unwrap_or_default())]
    Forbidden {
        /// Graph's error code, e.g. `Authorization_RequestDenied`.
        code: String,
        /// Graph's message.
        message: String,
        /// The least permission the call needs, when sessionops knows it.
        missing_permission: Option<String>,
        /// Request identifiers.
        ids: RequestIds,
    },
    /// 404: the object does not exist (or not yet: Graph is eventually consistent).
    #[error("not found: {code}: {message}; {ids}")]
    NotFound {
        /// Graph's error code, e.g. `Request_ResourceNotFound`.
        code: String,
        /// Graph's message.
        message: String,
        /// Request identifiers.
        ids: RequestIds,
    },
    /// 429 after every retry was spent.
    #[error("throttled by Graph after {attempts} attempts{}; {ids}", .retry_after.map(|d| format!(" (last Retry-After {:.3}s)", d.as_secs_f64())).unwrap_or_default())]
    Throttled {
        /// Attempts made.
        attempts: u32,
        /// The last Retry-After Graph sent, if any.
        retry_after: Option<Duration>,
        /// Request identifiers of the last attempt.
        ids: RequestIds,
    },
    /// 4xx that retrying cannot fix (400, 409, 412, 422 ...).
    #[error("invalid request ({status}): {code}: {message}; {ids}")]
    InvalidRequest {
        /// HTTP status.
        status: u16,
        /// Graph's error code.
        code: String,
        /// Graph's message.
        message: String,
        /// Request identifiers.
        ids: RequestIds,
    },
    /// 5xx, timeouts and connection failures after every retry was spent.
    #[error("Graph unavailable after {attempts} attempts: {detail}; {ids}")]
    Transient {
        /// Attempts made.
        attempts: u32,
        /// What the last attempt saw.
        detail: String,
        /// Request identifiers of the last attempt.
        ids: RequestIds,
    },
    /// The token endpoint refused the credentials, or Graph refused the token.
    #[error("unauthorized: {code}: {message}{}", .trace_id.as_ref().map(|t| format!("; trace-id {t}")).unwrap_or_default())]
    Unauthorized {
        /// `AADSTS…` code, OAuth error or Graph code such as `InvalidAuthenticationToken`.
        code: String,
        /// The description the service gave.
        message: String,
        /// Entra's trace id (token endpoint) or Graph's request id.
        trace_id: Option<String>,
    },
    /// The credentials could not even be prepared (missing file, bad PEM, missing env var).
    #[error("credentials: {0}")]
    Credentials(String),
    /// The response could not be understood.
    #[error("unexpected response from Graph: {detail}; {ids}")]
    Protocol {
        /// What was wrong.
        detail: String,
        /// Request identifiers.
        ids: RequestIds,
    },
}

impl GraphError {
    /// Graph's error code, when Graph sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            GraphError::Forbidden { code, .. }
            | GraphError::NotFound { code, .. }
            | GraphError::InvalidRequest { code, .. }
            | GraphError::Unauthorized { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Request identifiers of the failed exchange.
    pub fn ids(&self) -> Option<&RequestIds> {
        match self {
            GraphError::Forbidden { ids, .. }
            | GraphError::NotFound { ids, .. }
            | GraphError::Throttled { ids, .. }
            | GraphError::InvalidRequest { ids, .. }
            | GraphError::Transient { ids, .. }
            | GraphError::Protocol { ids, .. } => Some(ids),
            _ => None,
        }
    }

    /// Maps a final (non-retried) HTTP error answer to an error. `body` is Graph's error body.
    pub fn from_response(
        status: u16,
        body: &[u8],
        ids: RequestIds,
        missing_permission: Option<&str>,
    ) -> GraphError {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let (code, message, body_request_id) = match parsed {
            Some(ErrorBody { error }) => (
                error.code,
                error.message,
                error.inner_error.and_then(|i| i.request_id),
            ),
            None => (
                format!("Http{status}"),
                String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
                None,
            ),
        };
        let ids = RequestIds {
            request_id: ids.request_id.or(body_request_id),
            ..ids
        };
        match status {
            401 => GraphError::Unauthorized {
                code,
                message,
                trace_id: ids.request_id,
            },
            403 => GraphError::Forbidden {
                code,
                message,
                missing_permission: missing_permission.map(str::to_owned),
                ids,
            },
            404 => GraphError::NotFound { code, message, ids },
            429 => GraphError::Throttled {
                attempts: 1,
                retry_after: None,
                ids,
            },
            500..=599 => GraphError::Transient {
                attempts: 1,
                detail: format!("{status} {code}: {message}"),
                ids,
            },
            _ => GraphError::InvalidRequest {
                status,
                code,
                message,
                ids,
            },
        }
    }
}

/// Graph's error body: `{"error":{"code","message","innerError":{...}}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default, alias = "innererror")]
    inner_error: Option<InnerError>,
}

#[derive(Deserialize)]
struct InnerError {
    #[serde(rename = "request-id")]
    request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> RequestIds {
        RequestIds {
            request_id: None,
            client_request_id: Some("c-1".into()),
        }
    }

    #[test]
    fn maps_graph_error_bodies_to_typed_errors_with_code_and_request_id() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2026-11-27T10:00:00","request-id":"r-9","client-request-id":"c-1"}}}"#;
        let error = GraphError::from_response(403, body, ids(), Some("User.RevokeSessions.All"));
        assert!(matches!(error, GraphError::Forbidden { .. }), "{error:?}");
        assert_eq!(error.code(), Some("Authorization_RequestDenied"));
        assert_eq!(error.ids().unwrap().request_id.as_deref(), Some("r-9"));
        let text = error.to_string();
        assert!(
            text.contains("User.RevokeSessions.All")
                && text.contains("request-id r-9")
                && text.contains("client-request-id c-1"),
            "{text}"
        );
    }

    #[test]
    fn classifies_statuses() {
        let body = br#"{"error":{"code":"X","message":"m"}}"#;
        let kind = |status| match GraphError::from_response(status, body, ids(), None) {
            GraphError::Forbidden { .. } => "Forbidden",
            GraphError::NotFound { .. } => "NotFound",
            GraphError::Throttled { .. } => "Throttled",
            GraphError::InvalidRequest { .. } => "InvalidRequest",
            GraphError::Transient { .. } => "Transient",
            GraphError::Unauthorized { .. } => "Unauthorized",
            GraphError::Credentials(_) | GraphError::Protocol { .. } => "other",
        };
        let statuses = [404, 400, 409, 401, 403, 503, 429, 500];
        assert_eq!(
            statuses.map(kind),
            [
                "NotFound",
                "InvalidRequest",
                "InvalidRequest",
                "Unauthorized",
                "Forbidden",
                "Transient",
                "Throttled",
                "Transient"
            ]
        );
        let unparsable = GraphError::from_response(502, b"<html>bad gateway</html>", ids(), None);
        assert!(
            matches!(unparsable, GraphError::Transient { .. }),
            "{unparsable:?}"
        );
        assert!(unparsable.to_string().contains("Http502"));
    }
}
