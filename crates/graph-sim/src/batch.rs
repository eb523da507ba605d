//! `POST /$batch` (`concepts/json-batching.md`): up to 20 requests with relative URLs, each run through the
//! same pipeline as a top-level request (and so throttled, faulted and counted individually),
//! `dependsOn` ordering with 424 for failed dependencies, and responses in shuffled order.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Map, Value, json};

use super::auth::Principal;
use super::error::{ErrorCode, GraphError};
use super::ids;
use super::pipeline::{self, Body, GraphRequest, GraphResponse};
use super::routes::Route;
use super::state::Shared;
use super::stats::Received;

/// Graph's limit of requests per batch.
pub(crate) const MAX_REQUESTS: usize = 20;

/// One parsed item.
struct Item {
    id: String,
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Option<Value>,
    depends_on: Vec<usize>,
}

fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::bad_request(message)
}

/// Parses and checks the envelope; any problem fails the whole batch with 400.
fn parse(body: &Body) -> Result<Vec<Item>, GraphError> {
    let Body::Json(Value::Object(envelope)) = body else {
        return Err(invalid(
            "Invalid batch payload format. The body must be a JSON object with a 'requests' array.",
        ));
    };
    let Some(Value::Array(requests)) = envelope.get("requests") else {
        return Err(invalid(
            "Invalid batch payload format. The body must be a JSON object with a 'requests' array.",
        ));
    };
    if requests.is_empty() {
        return Err(invalid("The batch must contain at least one request."));
    }
    if requests.len() > MAX_REQUESTS {
        return Err(invalid(format!(
            "The number of requests in the batch ({}) exceeds the limit of {MAX_REQUESTS}.",
            requests.len()
        )));
    }
    let mut items = Vec::with_capacity(requests.len());
    let mut raw_depends: Vec<Vec<String>> = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        let Value::Object(request) = request else {
            return Err(invalid(format!(
                "Request {index} of the batch is not a JSON object."
            )));
        };
        let id = match request.get("id") {
            Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
            _ => {
                return Err(invalid(format!(
                    "Request {index} of the batch has no 'id'; every request needs a string id."
                )));
            }
        };
        if items
            .iter()
            .any(|item: &Item| item.id.eq_ignore_ascii_case(&id))
        {
            return Err(invalid(format!(
                "Request id '{id}' appears more than once; ids must be unique (case-insensitive)."
            )));
        }
        let method = match request.get("method").and_then(Value::as_str) {
            Some(m)
                if ["GET", "POST", "PATCH", "PUT", "DELETE"]
                    .contains(&m.to_ascii_uppercase().as_str()) =>
            {
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| invalid(format!("Request id '{id}' has an invalid method.")))?
            }
            _ => {
                return Err(invalid(format!(
                    "Request id '{id}' needs a 'method' (GET, POST, PATCH, PUT or DELETE)."
                )));
            }
        };
        let url = match request.get("url").and_then(Value::as_str) {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                return Err(invalid(format!(
                    "Request id '{id}': batch URLs must be relative to the version, like '/users', not '{url}'."
                )));
            }
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => return Err(invalid(format!("Request id '{id}' needs a 'url'."))),
        };
        let mut headers = HeaderMap::new();
        match request.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (name, value) in map {
                    let header = HeaderName::from_bytes(name.as_bytes())
                        .ok()
                        .zip(value.as_str().and_then(|v| HeaderValue::from_str(v).ok()))
                        .ok_or_else(|| {
                            invalid(format!("Request id '{id}' has an invalid header '{name}'."))
                        })?;
                    headers.insert(header.0, header.1);
                }
            }
            Some(_) => {
                return Err(invalid(format!(
                    "Request id '{id}': 'headers' must be a JSON object."
                )));
            }
        }
        let body = request.get("body").filter(|b| !b.is_null()).cloned();
        // concepts/json-batching.md: "While the target URL doesn't require a request body,
        // you must still specify the headers and body parameters where only body can be an
        // empty object." Graph fails the whole batch otherwise, with this message (reported
        // for revokeSignInSessions in microsoft-graph-docs issue #6682). A body always needs
        // its Content-Type, whatever the method.
        let needs_body = [Method::POST, Method::PATCH, Method::PUT].contains(&method);
        if (needs_body && body.is_none())
            || (body.is_some() && !headers.contains_key("content-type"))
        {
            return Err(invalid(format!(
                "Write request id : {id} does not contain Content-Type header or body."
            )));
        }
        let depends = match request.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(ids)) => ids
                .iter()
                .map(|d| d.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid(format!("Request id '{id}': 'dependsOn' must list ids.")))?,
            Some(_) => {
                return Err(invalid(format!(
                    "Request id '{id}': 'dependsOn' must be an array of ids."
                )));
            }
        };
        raw_depends.push(depends);
        items.push(Item {
            id,
            method,
            url,
            headers,
            body,
            depends_on: Vec::new(),
        });
    }
    for (index, depends) in raw_depends.into_iter().enumerate() {
        for dependency in depends {
            let target = items
                .iter()
                .position(|item| item.id.eq_ignore_ascii_case(&dependency))
                .filter(|target| *target != index)
                .ok_or_else(|| {
                    invalid(format!(
                        "Request id '{}' depends on '{dependency}', which is not another request of this batch.",
                        items[index].id
                    ))
                })?;
            items[index].depends_on.push(target);
        }
    }
    Ok(items)
}

/// Execution order: dependencies first, otherwise the order of the payload. A cycle fails the
/// batch.
fn order(items: &[Item]) -> Result<Vec<usize>, GraphError> {
    let mut done = vec![false; items.len()];
    let mut order = Vec::with_capacity(items.len());
    while order.len() < items.len() {
        let next = (0..items.len())
            .find(|&i| !done[i] && items[i].depends_on.iter().all(|&d| done[d]))
            .ok_or_else(|| invalid("The dependsOn references of the batch form a cycle."))?;
        done[next] = true;
        order.push(next);
    }
    Ok(order)
}

/// Runs a batch for an authenticated caller. Returns the envelope response (200 once the
/// payload parsed; items carry their own statuses).
pub(crate) fn execute(
    shared: &Shared,
    outer: &GraphRequest,
    principal: &Principal,
) -> Result<GraphResponse, GraphError> {
    let items = parse(&outer.body)?;
    let order = order(&items)?;
    let mut statuses: Vec<Option<StatusCode>> = vec![None; items.len()];
    let mut responses = Vec::with_capacity(items.len());
    for index in order {
        let item = &items[index];
        let (path, query) = GraphRequest::split_url(&item.url);
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        if shared.settings.config.journal {
            shared.lock().stats.journal(Received {
                method: item.method.as_str(),
                version: outer.version.as_str(),
                path: &path,
                query: &query,
                headers: &item.headers,
                body: item.body.as_ref(),
                batch_item: true,
            });
        }
        let failed_dependency = item
            .depends_on
            .iter()
            .any(|&d| statuses[d].is_none_or(|s| !s.is_success()));
        let response = if failed_dependency {
            failed_dependency_response(shared, item, &path)
        } else {
            let request = GraphRequest {
                method: item.method.clone(),
                version: outer.version,
                path,
                query,
                headers: item.headers.clone(),
                body: item.body.clone().map_or(Body::None, Body::Json),
                origin: outer.origin.clone(),
            };
            pipeline::execute(shared, &request, principal).response
        };
        statuses[index] = Some(response.status);
        responses.push(item_json(&item.id, response));
    }
    // Graph returns items in any order; clients must match them by id.
    fastrand::shuffle(&mut responses);
    Ok(GraphResponse::ok(json!({ "responses": responses })))
}

/// 424 for an item whose dependency failed; it is not executed but is counted under its route.
fn failed_dependency_response(shared: &Shared, item: &Item, path: &str) -> GraphResponse {
    let error = GraphError::new(
        ErrorCode::FailedDependency,
        "The request was not executed because a request it depends on failed.",
    );
    let client_request_id = item
        .headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(ids::random);
    let response = GraphResponse::from_error(&error, &ids::random(), &client_request_id);
    let key = match Route::parse(&item.method, path) {
        Ok(route) => format!("{} {}", item.method, route.template()),
        Err(_) => pipeline::unmatched_key(&item.method),
    };
    shared.lock().stats.record(&key, response.status.as_u16());
    response
}

fn item_json(id: &str, response: GraphResponse) -> Value {
    let mut headers = Map::new();
    for (name, value) in &response.headers {
        headers.insert((*name).to_owned(), json!(value));
    }
    let mut item = Map::new();
    item.insert("id".into(), json!(id));
    item.insert("status".into(), json!(response.status.as_u16()));
    if let Some(body) = response.body {
        headers.insert(
            "content-type".into(),
            json!("application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"),
        );
        item.insert("body".into(), body);
    }
    item.insert("headers".into(), Value::Object(headers));
    Value::Object(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(requests: Value) -> Body {
        Body::Json(json!({ "requests": requests }))
    }

    #[test]
    fn limits_and_ids() {
        let many: Vec<Value> = (0..21)
            .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"}))
            .collect();
        let err = parse(&body(json!(many))).err().unwrap();
        assert!(err.message.contains("exceeds the limit of 20"));
        let duplicate = json!([{"id": "a", "method": "GET", "url": "/users"}, {"id": "A", "method": "GET", "url": "/users"}]);
        assert!(parse(&body(duplicate)).is_err());
        let no_id = json!([{"method": "GET", "url": "/users"}]);
        assert!(parse(&body(no_id)).is_err());
        let body_without_type = json!([{"id": "1", "method": "PATCH", "url": "/users/x", "body": {"accountEnabled": false}}]);
        let err = parse(&body(body_without_type)).err().unwrap();
        assert_eq!(
            err.message,
            "Write request id : 1 does not contain Content-Type header or body."
        );
        for method in ["POST", "PATCH", "PUT"] {
            let bodiless =
                json!([{"id": "1", "method": method, "url": "/users/x/revokeSignInSessions"}]);
            let err = parse(&body(bodiless)).err().unwrap();
            assert_eq!(
                err.message, "Write request id : 1 does not contain Content-Type header or body.",
                "{method} without a body fails the whole batch"
            );
        }
        let documented_empty_body = json!([{"id": "1", "method": "POST", "url": "/users/x/revokeSignInSessions", "headers": {"Content-Type": "application/json"}, "body": {}}]);
        assert!(parse(&body(documented_empty_body)).is_ok());
        let delete = json!([{"id": "1", "method": "DELETE", "url": "/identity/conditionalAccess/policies/p"}]);
        assert!(parse(&body(delete)).is_ok(), "DELETE takes no body");
        let absolute =
            json!([{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users"}]);
        assert!(parse(&body(absolute)).is_err());
    }

    #[test]
    fn dependencies_order_and_cycles() {
        let items = parse(&body(json!([
            {"id": "1", "method": "GET", "url": "/users", "dependsOn": ["2"]},
            {"id": "2", "method": "GET", "url": "/users"},
            {"id": "3", "method": "GET", "url": "/users", "dependsOn": ["1"]},
        ])))
        .ok()
        .unwrap();
        assert_eq!(order(&items).ok().unwrap(), vec![1, 0, 2]);
        let cycle = parse(&body(json!([
            {"id": "1", "method": "GET", "url": "/users", "dependsOn": ["2"]},
            {"id": "2", "method": "GET", "url": "/users", "dependsOn": ["1"]},
        ])))
        .ok()
        .unwrap();
        assert!(order(&cycle).is_err());
        let unknown = parse(&body(
            json!([{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}]),
        ));
        assert!(unknown.is_err());
    }
}
