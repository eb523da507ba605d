//! `/identity/conditionalAccess/policies` and its deleted items (`conditionalaccesspolicy.md`).

use std::time::Instant;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::schema::{self, CheckOptions, POLICY};
use crate::error::GraphError;
use crate::odata;
use crate::pipeline::{ApiVersion, GraphResponse};
use crate::resources::Ctx;
use crate::resources::authentication_strengths;
use crate::resources::collection::Collection;
use crate::resources::store::{Record, RecordStore};
use crate::tenant::Tenant;
use crate::time;

/// Graph's error text for the rule of `conditionalaccesspolicy.md`.
pub(crate) const MFA_WITH_STRENGTH: &str =
    "1108: Authentication strengths cannot be used alongside the MFA built-in control.";

const PROPERTIES: &[&str] = &[
    "id",
    "templateId",
    "displayName",
    "description",
    "state",
    "createdDateTime",
    "modifiedDateTime",
    "deletedDateTime",
    "conditions",
    "grantControls",
    "sessionControls",
    "partialEnablementStrategy",
];

/// Read-only properties a seed or portal document may carry (exports of real tenants do).
const READ_ONLY: &[&str] = &[
    "id",
    "templateId",
    "createdDateTime",
    "modifiedDateTime",
    "deletedDateTime",
];

fn store(tenant: &Tenant) -> &RecordStore {
    &tenant.policies
}

fn store_mut(tenant: &mut Tenant) -> &mut RecordStore {
    &mut tenant.policies
}

pub(crate) const COLLECTION: Collection = Collection {
    entity_set: "identity/conditionalAccess/policies",
    deleted_set: "identity/conditionalAccess/deletedItems/policies",
    type_name: "conditionalAccessPolicy",
    properties: PROPERTIES,
    store,
    store_mut,
    render,
};

/// The policy as a reader sees it. The navigation `authenticationStrength` comes back expanded
/// to the whole strength object, as Graph returns it.
pub(crate) fn render(
    tenant: &Tenant,
    record: &Record,
    version: ApiVersion,
    include_unknown_enum_members: bool,
) -> Value {
    let expand = |navigation: &Value| {
        navigation["id"]
            .as_str()
            .and_then(|id| tenant.authentication_strengths.all().find(|r| r.id == id))
            .map(authentication_strengths::to_json)
            .unwrap_or_else(|| navigation.clone())
    };
    let mut object = schema::render(
        &record.doc,
        &POLICY,
        version,
        include_unknown_enum_members,
        &expand,
    );
    object.insert("id".into(), json!(record.id));
    object.insert(
        "templateId".into(),
        record.doc.get("templateId").cloned().unwrap_or(Value::Null),
    );
    object.insert("createdDateTime".into(), json!(time::ticks(record.created)));
    object.insert(
        "modifiedDateTime".into(),
        json!(time::ticks(record.modified)),
    );
    // conditionalAccessPolicy derives from policyDeletableItem: deletedDateTime is always
    // there, null while active (beta conditionalaccesspolicy-restore.md shows it).
    object.insert(
        "deletedDateTime".into(),
        record
            .deleted
            .map_or(Value::Null, |deleted| json!(time::ticks(deleted))),
    );
    annotate_grant_controls(&mut object, &record.id, record.deleted.is_some(), version);
    Value::Object(object)
}

/// Graph annotates the `authenticationStrength` navigation inside every `grantControls`, with
/// or without a strength (v1.0 `conditionalaccessroot-list-policies.md` response; beta
/// `policydeletableitem-list.md` example 3), and an expanded strength's
/// `combinationConfigurations` likewise. Clients must treat these keys as metadata.
fn annotate_grant_controls(
    object: &mut Map<String, Value>,
    id: &str,
    deleted: bool,
    version: ApiVersion,
) {
    let Some(Value::Object(grant)) = object.get_mut("grantControls") else {
        return;
    };
    let set = if deleted {
        "identity/conditionalAccess/deletedItems/policies"
    } else {
        "identity/conditionalAccess/policies"
    };
    let navigation = format!("{set}('{id}')/grantControls/authenticationStrength");
    grant.insert(
        "authenticationStrength@odata.context".into(),
        json!(odata::context(version, &format!("{navigation}/$entity"))),
    );
    let strength = grant.entry("authenticationStrength").or_insert(Value::Null);
    if let Value::Object(strength) = strength {
        strength.insert(
            "combinationConfigurations@odata.context".into(),
            json!(odata::context(
                version,
                &format!("{navigation}/combinationConfigurations")
            )),
        );
        strength
            .entry("combinationConfigurations")
            .or_insert_with(|| json!([]));
    }
}

/// Rules that concern the whole (merged) policy rather than one property.
pub(crate) fn validate(fields: &Map<String, Value>, tenant: &Tenant) -> Result<(), GraphError> {
    let bad = |message: &str| Err(GraphError::bad_request(message));
    if fields
        .get("displayName")
        .and_then(Value::as_str)
        .is_none_or(|name| name.trim().is_empty())
    {
        return bad("The property 'displayName' is required and cannot be null or missing.");
    }
    let conditions = &fields["conditions"];
    if conditions["users"].is_null() && conditions["clientApplications"].is_null() {
        return bad(
            "A policy needs a user rule: conditions.users or conditions.clientApplications is required.",
        );
    }
    if conditions["clientAppTypes"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        return bad("The property 'conditions.clientAppTypes' is required and cannot be empty.");
    }
    let grant = &fields["grantControls"];
    if grant.is_object() {
        if !matches!(grant["operator"].as_str(), Some("AND" | "OR")) {
            return bad("grantControls.operator must be 'AND' or 'OR'.");
        }
        let has_mfa = grant["builtInControls"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c == "mfa"));
        let strength = &grant["authenticationStrength"];
        if has_mfa && !strength.is_null() {
            return bad(MFA_WITH_STRENGTH);
        }
        if let Some(id) = strength["id"].as_str()
            && !tenant
                .authentication_strengths
                .all()
                .any(|r| r.id.eq_ignore_ascii_case(id))
        {
            return Err(GraphError::bad_request(format!(
                "The authentication strength policy '{id}' does not exist in this tenant."
            )));
        }
    }
    let session = &fields["sessionControls"];
    let frequency = &session["signInFrequency"];
    if frequency["isEnabled"] == json!(true) {
        let every_time = frequency["frequencyInterval"] == json!("everyTime");
        let has_value = !frequency["value"].is_null() || !frequency["type"].is_null();
        if every_time && has_value {
            return bad(
                "signInFrequency with frequencyInterval 'everyTime' must have 'value' and 'type' set to null.",
            );
        }
        if !every_time
            && (frequency["value"].as_i64().is_none_or(|v| v < 1) || frequency["type"].is_null())
        {
            return bad(
                "signInFrequency with frequencyInterval 'timeBased' needs a positive 'value' and a 'type' (hours or days).",
            );
        }
    }
    if session["persistentBrowser"]["isEnabled"] == json!(true) {
        // `conditionalaccesspolicy.md`: every tab shares one session token, so the control needs all apps.
        let applications = &conditions["applications"];
        let all_apps = applications["includeApplications"] == json!(["All"])
            && applications["excludeApplications"]
                .as_array()
                .is_none_or(Vec::is_empty);
        if !all_apps {
            return bad(
                "The persistentBrowser session control requires the policy to include all cloud apps ('All') with no excluded apps.",
            );
        }
    }
    Ok(())
}

fn check_options(ctx: &Ctx<'_>, creating: bool) -> CheckOptions {
    CheckOptions {
        version: ctx.version(),
        include_unknown_enum_members: ctx.req.include_unknown_enum_members(),
        creating,
    }
}

/// `POST`: 201 with the full object (defaults filled, ids and timestamps set).
pub(crate) fn create(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let body = ctx.req.json_object()?;
    schema::check(
        &Value::Object(body.clone()),
        &POLICY,
        "",
        check_options(ctx, true),
    )?;
    let mut fields = body.clone();
    // conditionalaccessroot-post-policies.md: examples without clientAppTypes are created
    // with ["all"] (the documented 201 shows it).
    if let Some(Value::Object(conditions)) = fields.get_mut("conditions")
        && conditions.get("clientAppTypes").is_none_or(Value::is_null)
    {
        conditions.insert("clientAppTypes".into(), json!(["all"]));
    }
    schema::normalize(&mut fields, &POLICY);
    validate(&fields, ctx.tenant)?;
    let id = ctx.tenant.ids.next("conditionalAccessPolicy");
    let record = Record::new(id, fields, ctx.now, ctx.visible_from());
    let response = COLLECTION.created(ctx, &record);
    ctx.tenant.policies.insert(record);
    Ok(response)
}

/// `PATCH`: merges into nested objects (the v1.0 CSDL enum order and `concepts/paging.md`), validates the result, 204.
pub(crate) fn update(ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
    let body = ctx.req.json_object()?;
    schema::check(
        &Value::Object(body.clone()),
        &POLICY,
        "",
        check_options(ctx, false),
    )?;
    let (now, at) = (ctx.now, ctx.instant);
    let tenant = &mut *ctx.tenant;
    let mut merged = tenant
        .policies
        .get_active(id, at)
        .ok_or_else(|| GraphError::not_found(id))?
        .doc
        .clone();
    schema::merge(&mut merged, body, &POLICY);
    validate(&merged, tenant)?;
    let record = tenant
        .policies
        .get_active_mut(id, at)
        .ok_or_else(|| GraphError::not_found(id))?;
    record.doc = merged;
    record.modified = now;
    Ok(GraphResponse::no_content())
}

/// Options for documents that come from outside the Graph surface (seed files, portal edits):
/// the beta shape with every enum member, as the portal writes them.
const ADMIN: CheckOptions = CheckOptions {
    version: ApiVersion::Beta,
    include_unknown_enum_members: true,
    creating: true,
};

/// Builds a policy record from raw Graph JSON (seed files, portal creations), as a POST would
/// carry it or a GET returned it. `id`, `createdDateTime` and `modifiedDateTime` are taken
/// when present.
pub(crate) fn record_from_raw(
    raw: &Value,
    tenant: &mut Tenant,
    now: Timestamp,
    at: Instant,
) -> Result<Record, GraphError> {
    let Value::Object(raw) = raw else {
        return Err(GraphError::bad_request("A policy must be a JSON object."));
    };
    let mut fields = raw.clone();
    let id = match fields.get("id").and_then(Value::as_str) {
        Some(id) if tenant.policies.contains_id(id) => {
            return Err(GraphError::bad_request(format!(
                "A policy with id '{id}' already exists."
            )));
        }
        Some(id) => id.to_owned(),
        None => tenant.ids.next("conditionalAccessPolicy"),
    };
    let created = fields
        .get("createdDateTime")
        .and_then(Value::as_str)
        .and_then(time::parse)
        .unwrap_or(now);
    let modified = fields
        .get("modifiedDateTime")
        .and_then(Value::as_str)
        .and_then(time::parse)
        .unwrap_or(created);
    let template = fields.get("templateId").cloned();
    fields.retain(|key, _| !READ_ONLY.contains(&key.as_str()));
    // A seed may hold a policy as a GET returned it: its property annotations
    // (`authenticationStrength@odata.context`) are response metadata, not properties.
    strip_property_annotations(&mut fields);
    schema::check(&Value::Object(fields.clone()), &POLICY, "", ADMIN)?;
    schema::normalize(&mut fields, &POLICY);
    if let Some(template) = template {
        // Kept beside the writable properties so that it reads back; never writable via Graph.
        fields.insert("templateId".into(), template);
    }
    validate(&fields, tenant)?;
    let mut record = Record::new(id, fields, created, at);
    record.modified = modified;
    Ok(record)
}

fn strip_property_annotations(fields: &mut Map<String, Value>) {
    fields.retain(|key, _| !key.contains('@') || key.starts_with("@odata.type"));
    for value in fields.values_mut() {
        if let Value::Object(nested) = value {
            strip_property_annotations(nested);
        }
    }
}

/// A portal edit: a merge patch as an admin would make it in the Entra admin center, outside
/// throttling and statistics. Bumps `modifiedDateTime`.
pub(crate) fn portal_patch(
    tenant: &mut Tenant,
    id: &str,
    patch: &Value,
    now: Timestamp,
) -> Result<Value, GraphError> {
    let Value::Object(patch_fields) = patch else {
        return Err(GraphError::bad_request("A patch must be a JSON object."));
    };
    let mut patch_fields = patch_fields.clone();
    patch_fields.retain(|key, _| !READ_ONLY.contains(&key.as_str()));
    schema::check(
        &Value::Object(patch_fields.clone()),
        &POLICY,
        "",
        CheckOptions {
            creating: false,
            ..ADMIN
        },
    )?;
    let mut merged = tenant
        .policies
        .get_live_mut(id)
        .ok_or_else(|| GraphError::not_found(id))?
        .doc
        .clone();
    schema::merge(&mut merged, &patch_fields, &POLICY);
    validate(&merged, tenant)?;
    let record = tenant
        .policies
        .get_live_mut(id)
        .ok_or_else(|| GraphError::not_found(id))?;
    record.doc = merged;
    record.modified = now;
    let record = record.clone();
    Ok(render(tenant, &record, ApiVersion::Beta, true))
}
