//! Identity Protection risky users (`riskyuser-confirmcompromised.md`): list, get, `confirmCompromised`, `dismiss`.

use serde_json::{Map, Value, json};

use super::Ctx;
use super::users::{RiskState, User};
use crate::error::GraphError;
use crate::odata;
use crate::pipeline::GraphResponse;
use crate::time;

pub(crate) const RISK_LEVELS: &[&str] = &["low", "medium", "high", "hidden", "none"];
pub(crate) const RISK_STATES: &[&str] = &[
    "none",
    "confirmedSafe",
    "remediated",
    "dismissed",
    "atRisk",
    "confirmedCompromised",
];
/// `riskDetail` members defined after `unknownFutureValue`: shown only with
/// `Prefer: include-unknown-enum-members` (the v1.0 CSDL enum order and `concepts/paging.md`).
const EVOLVABLE_RISK_DETAILS: &[&str] = &[
    "adminConfirmedServicePrincipalCompromised",
    "adminDismissedAllRiskForServicePrincipal",
    "m365DAdminDismissedDetection",
    "userChangedPasswordOnPremises",
    "adminDismissedRiskForSignIn",
    "adminConfirmedAccountSafe",
    "microsoftRevokedSessions",
];

const PROPERTIES: &[&str] = &[
    "id",
    "isDeleted",
    "isProcessing",
    "riskDetail",
    "riskLastUpdatedDateTime",
    "riskLevel",
    "riskState",
    "userDisplayName",
    "userPrincipalName",
];

/// A user has a riskyUser object once Identity Protection has assessed them.
fn is_risky(user: &User) -> bool {
    user.risk.last_updated.is_some()
}

fn to_json(user: &User, include_unknown_enum_members: bool) -> Value {
    let detail = if !include_unknown_enum_members
        && EVOLVABLE_RISK_DETAILS.contains(&user.risk.detail.as_str())
    {
        "unknownFutureValue"
    } else {
        user.risk.detail.as_str()
    };
    json!({
        "id": user.id,
        "isDeleted": false,
        "isProcessing": false,
        "riskDetail": detail,
        "riskLastUpdatedDateTime": user.risk.last_updated.map(time::seconds),
        "riskLevel": user.risk.level,
        "riskState": user.risk.state,
        "userDisplayName": user.display_name,
        "userPrincipalName": user.user_principal_name,
    })
}

/// `GET /identityProtection/riskyUsers`.
pub(crate) fn list(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let query = ctx.query;
    if let Some(select) = &query.select {
        odata::check_select(select, PROPERTIES, "riskyUser")?;
    }
    if let Some(filter) = &query.filter {
        filter.check(PROPERTIES, "riskyUser", true)?;
    }
    let size = query.page_size(odata::DIRECTORY_DEFAULT_PAGE, odata::DIRECTORY_MAX_PAGE)?;
    let include = ctx.req.include_unknown_enum_members();
    let values: Vec<Value> = ctx
        .tenant
        .users
        .iter()
        .filter(|u| is_risky(u))
        .map(|u| to_json(u, include))
        .filter(|object| {
            query
                .filter
                .as_ref()
                .is_none_or(|f| f.matches(&|p| object.get(p).cloned().unwrap_or(Value::Null)))
        })
        .map(|object| match &query.select {
            Some(select) => odata::select_fields(&object, select),
            None => object,
        })
        .collect();
    let page = odata::paginate(values, query.offset, size);
    let next = page.next_offset.map(|n| odata::next_link(ctx.req, n));
    Ok(GraphResponse::ok(odata::collection_body(
        odata::context(
            ctx.version(),
            &odata::collection_fragment("identityProtection/riskyUsers", query.select.as_deref()),
        ),
        page.items,
        next,
        None,
    )))
}

/// `GET /identityProtection/riskyUsers/{id}`.
pub(crate) fn get(ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
    let user = ctx
        .tenant
        .users
        .find(id)
        .filter(|u| is_risky(u))
        .ok_or_else(|| GraphError::not_found(id))?;
    Ok(GraphResponse::ok(odata::entity_body(
        odata::context(ctx.version(), "identityProtection/riskyUsers/$entity"),
        to_json(user, ctx.req.include_unknown_enum_members()),
    )))
}

/// Reads `{"userIds": [...]}`: a non-empty list of existing user ids, or nothing changes.
fn user_ids(ctx: &Ctx<'_>) -> Result<Vec<String>, GraphError> {
    let body: &Map<String, Value> = ctx.req.json_object()?;
    let ids: Vec<String> = body
        .get("userIds")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(GraphError::bad_request(
            "The request body must contain a non-empty 'userIds' collection.",
        ));
    }
    if let Some(missing) = ids.iter().find(|id| ctx.tenant.users.find(id).is_none()) {
        return Err(GraphError::not_found(missing));
    }
    Ok(ids)
}

fn set_risk(
    ctx: &mut Ctx<'_>,
    level: &str,
    state: &str,
    detail: &str,
) -> Result<GraphResponse, GraphError> {
    let ids = user_ids(ctx)?;
    let now = ctx.now;
    for id in ids {
        if let Some(user) = ctx.tenant.users.find_mut(&id) {
            user.risk = RiskState {
                level: level.to_owned(),
                state: state.to_owned(),
                detail: detail.to_owned(),
                last_updated: Some(now),
            };
        }
    }
    Ok(GraphResponse::no_content())
}

/// `POST /identityProtection/riskyUsers/confirmCompromised`: risk high; 204.
pub(crate) fn confirm_compromised(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    set_risk(
        ctx,
        "high",
        "confirmedCompromised",
        "adminConfirmedUserCompromised",
    )
}

/// `POST /identityProtection/riskyUsers/dismiss`: risk none; 204.
pub(crate) fn dismiss(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    set_risk(ctx, "none", "dismissed", "adminDismissedAllRiskForUser")
}
