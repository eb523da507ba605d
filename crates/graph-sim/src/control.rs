//! `/_sim/`: the simulator's own control surface for tests and demos. Not Graph: no
//! authentication, no throttling, and nothing here shows up in the statistics.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::error::GraphError;
use super::ids;
use super::pipeline::{ApiVersion, GraphResponse};
use super::resources::conditional_access::policies;
use super::server::http_response;
use super::state::Shared;

fn respond(result: Result<GraphResponse, GraphError>) -> Response {
    let request_id = ids::random();
    let response =
        result.unwrap_or_else(|e| GraphResponse::from_error(&e, &request_id, &request_id));
    http_response(response, &request_id, &request_id)
}

fn json_body(bytes: &Bytes) -> Result<Value, GraphError> {
    serde_json::from_slice(bytes).map_err(|e| GraphError::bad_request(format!("Invalid JSON: {e}")))
}

/// `GET /_sim/config`: the ids and URL a client needs.
pub(crate) async fn config(State(shared): State<Arc<Shared>>) -> Response {
    let settings = &shared.settings;
    let users = shared.lock().tenant.users.len();
    respond(Ok(GraphResponse::ok(json!({
        "baseUrl": settings.base_url,
        "tenantId": settings.config.tenant_id,
        "clientId": settings.config.client_id,
        "domain": settings.config.domain,
        "grantedRoles": settings.config.granted_roles,
        "users": users,
    }))))
}

/// `GET /_sim/stats`.
pub(crate) async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let body = shared.lock().stats.to_json();
    respond(Ok(GraphResponse::ok(body)))
}

/// `GET /_sim/requests`: the last requests received (the journal), oldest first; `$batch`
/// items appear after their envelope with `batchItem: true`. Reset with the statistics.
pub(crate) async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    let body = shared.lock().stats.journal_json();
    respond(Ok(GraphResponse::ok(body)))
}

/// `POST /_sim/stats/reset`: 204.
pub(crate) async fn reset_stats(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().stats.reset();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_sim/portal/policies`: creates a policy from raw Graph JSON (beta shape, every enum
/// member allowed, `id` optional), visible at once; 201 with the policy.
pub(crate) async fn portal_create(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    respond((|| {
        let raw = json_body(&body)?;
        let mut state = shared.lock();
        let tenant = &mut state.tenant;
        let record = policies::record_from_raw(&raw, tenant, Timestamp::now(), Instant::now())?;
        let rendered = policies::render(tenant, &record, ApiVersion::Beta, true);
        tenant.policies.insert(record);
        Ok(GraphResponse::created(rendered))
    })())
}

/// `PATCH /_sim/portal/policies/{id}`: a merge patch as an admin would make it; bumps
/// `modifiedDateTime`; 200 with the policy.
pub(crate) async fn portal_patch(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    respond((|| {
        let patch = json_body(&body)?;
        let mut state = shared.lock();
        let policy = policies::portal_patch(&mut state.tenant, &id, &patch, Timestamp::now())?;
        Ok(GraphResponse::ok(policy))
    })())
}

/// `DELETE /_sim/portal/policies/{id}`: soft delete (the policy moves to deleted items); 204.
pub(crate) async fn portal_delete(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    let deleted = shared
        .lock()
        .tenant
        .policies
        .soft_delete_live(&id, Timestamp::now());
    respond(if deleted {
        Ok(GraphResponse::no_content())
    } else {
        Err(GraphError::not_found(&id))
    })
}

/// `PUT /_sim/faults` `{"faultRate": P}`: 200 with the new setting.
pub(crate) async fn set_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    respond((|| {
        let body = json_body(&body)?;
        let rate = body["faultRate"]
            .as_f64()
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or_else(|| {
                GraphError::bad_request("Send {\"faultRate\": P} with P between 0 and 1.")
            })?;
        shared.lock().fault_rate = rate;
        Ok(GraphResponse::ok(json!({ "faultRate": rate })))
    })())
}

/// `GET /_sim/users/{id-or-upn}`: everything the tenant knows about a user.
pub(crate) async fn user(State(shared): State<Arc<Shared>>, Path(key): Path<String>) -> Response {
    let state = shared.lock();
    respond(
        state
            .tenant
            .users
            .find(&key)
            .map(|user| GraphResponse::ok(user.sim_view(Instant::now())))
            .ok_or_else(|| GraphError::not_found(&key)),
    )
}

/// `GET /_sim/policies`: every Conditional Access policy, deleted ones included (with
/// `deletedDateTime`), as the beta endpoint with every enum member would show them.
pub(crate) async fn policies(State(shared): State<Arc<Shared>>) -> Response {
    let state = shared.lock();
    let tenant = &state.tenant;
    let values: Vec<Value> = tenant
        .policies
        .all()
        .map(|record| policies::render(tenant, record, ApiVersion::Beta, true))
        .collect();
    respond(Ok(GraphResponse::ok(json!({ "value": values }))))
}
