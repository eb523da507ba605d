//! `/policies/activityBasedTimeoutPolicies` (`activitybasedtimeoutpolicy.md`): the organization's web-session idle
//! timeout, a policy whose `definition` is one escaped JSON string.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::Ctx;
use super::collection::Collection;
use super::store::{Record, RecordStore};
use crate::error::GraphError;
use crate::pipeline::{ApiVersion, GraphResponse};
use crate::tenant::Tenant;

const PROPERTIES: &[&str] = &[
    "id",
    "deletedDateTime",
    "displayName",
    "description",
    "definition",
    "isOrganizationDefault",
];
const WRITABLE: &[&str] = &[
    "displayName",
    "description",
    "definition",
    "isOrganizationDefault",
];

fn store(tenant: &Tenant) -> &RecordStore {
    &tenant.timeout_policies
}

fn store_mut(tenant: &mut Tenant) -> &mut RecordStore {
    &mut tenant.timeout_policies
}

fn render(_: &Tenant, record: &Record, _: ApiVersion, _: bool) -> Value {
    let mut object = record.doc.clone();
    object.insert("id".into(), json!(record.id));
    object.insert("deletedDateTime".into(), Value::Null);
    Value::Object(object)
}

pub(crate) const COLLECTION: Collection = Collection {
    entity_set: "policies/activityBasedTimeoutPolicies",
    deleted_set: "policies/activityBasedTimeoutPolicies",
    type_name: "activityBasedTimeoutPolicy",
    properties: PROPERTIES,
    store,
    store_mut,
    render,
};

fn bad(message: impl Into<String>) -> GraphError {
    GraphError::request_bad_request(message)
}

/// Parses `[d.]hh:mm:ss`.
fn parse_timeout(text: &str) -> Option<Duration> {
    let (days, clock) = match text.split_once('.') {
        Some((days, clock)) => (days.parse::<u64>().ok()?, clock),
        None => (0, text),
    };
    let parts: Vec<u64> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds] = parts[..] else {
        return None;
    };
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some(Duration::from_secs(
        days * 86_400 + hours * 3_600 + minutes * 60 + seconds,
    ))
}

/// Checks the one-string `definition` (`activitybasedtimeoutpolicy.md`): version 1, application policies with a
/// `WebSessionIdleTimeout` between 5 minutes and 1 day.
fn check_definition(value: &Value) -> Result<(), GraphError> {
    let text = match value.as_array().map(Vec::as_slice) {
        Some([Value::String(text)]) => text,
        _ => {
            return Err(bad(
                "'definition' must be a collection holding exactly one JSON string.",
            ));
        }
    };
    let definition: Value =
        serde_json::from_str(text).map_err(|_| bad("'definition' does not hold valid JSON."))?;
    let policy = &definition["ActivityBasedTimeoutPolicy"];
    if policy["Version"] != json!(1) {
        return Err(bad("ActivityBasedTimeoutPolicy.Version must be 1."));
    }
    let applications = policy["ApplicationPolicies"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| bad("ActivityBasedTimeoutPolicy.ApplicationPolicies must list at least one application."))?;
    for application in applications {
        if application["ApplicationId"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            return Err(bad(
                "Every application policy needs an ApplicationId ('default' or an app id).",
            ));
        }
        let timeout = application["WebSessionIdleTimeout"]
            .as_str()
            .and_then(parse_timeout)
            .ok_or_else(|| bad("WebSessionIdleTimeout must be written dd.hh:mm:ss."))?;
        if timeout < Duration::from_secs(300) || timeout > Duration::from_secs(86_400) {
            return Err(bad(
                "WebSessionIdleTimeout must be between 5 minutes and 1 day.",
            ));
        }
    }
    Ok(())
}

/// Checks a complete policy document and fills `isOrganizationDefault`.
fn validate(
    fields: &mut Map<String, Value>,
    tenant: &Tenant,
    own_id: Option<&str>,
) -> Result<(), GraphError> {
    if let Some(key) = fields.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
        return Err(if PROPERTIES.contains(&key.as_str()) {
            bad(format!("Property '{key}' is read-only and cannot be set."))
        } else {
            bad(format!(
                "Property '{key}' does not exist as a declared property or extension property."
            ))
        });
    }
    if fields
        .get("displayName")
        .and_then(Value::as_str)
        .is_none_or(|n| n.trim().is_empty())
    {
        return Err(bad("The property 'displayName' is required."));
    }
    check_definition(fields.get("definition").unwrap_or(&Value::Null))?;
    let default = match fields.get("isOrganizationDefault") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("'isOrganizationDefault' must be a Boolean.")),
    };
    fields.insert("isOrganizationDefault".into(), json!(default));
    if !fields.contains_key("description") {
        fields.insert("description".into(), Value::Null);
    }
    // `activitybasedtimeoutpolicy.md`: only one policy of this type can be the organization default.
    let other_default = tenant.timeout_policies.all().any(|r| {
        r.deleted.is_none()
            && Some(r.id.as_str()) != own_id
            && r.doc["isOrganizationDefault"] == json!(true)
    });
    if default && other_default {
        return Err(bad(
            "Another activityBasedTimeoutPolicy is already the organization default; only one can have isOrganizationDefault set to true.",
        ));
    }
    Ok(())
}

/// `POST`: 201 with the object.
pub(crate) fn create(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let mut fields = ctx.req.json_object()?.clone();
    fields.remove("@odata.type");
    validate(&mut fields, ctx.tenant, None)?;
    let id = ctx.tenant.ids.next("activityBasedTimeoutPolicy");
    let record = Record::new(id, fields, ctx.now, ctx.visible_from());
    let response = COLLECTION.created(ctx, &record);
    ctx.tenant.timeout_policies.insert(record);
    Ok(response)
}

/// `PATCH`: 204.
pub(crate) fn update(ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
    let patch = ctx.req.json_object()?;
    let at = ctx.instant;
    let mut merged = ctx
        .tenant
        .timeout_policies
        .get_active(id, at)
        .ok_or_else(|| GraphError::not_found(id))?
        .doc
        .clone();
    for (key, value) in patch {
        if key != "@odata.type" {
            merged.insert(key.clone(), value.clone());
        }
    }
    validate(&mut merged, ctx.tenant, Some(id))?;
    let record = ctx
        .tenant
        .timeout_policies
        .get_active_mut(id, at)
        .ok_or_else(|| GraphError::not_found(id))?;
    record.doc = merged;
    record.modified = ctx.now;
    Ok(GraphResponse::no_content())
}

/// A timeout policy from a seed file.
pub(crate) fn record_from_raw(
    raw: &Value,
    tenant: &mut Tenant,
    now: Timestamp,
    at: Instant,
) -> Result<Record, GraphError> {
    let Value::Object(raw) = raw else {
        return Err(bad("A policy must be a JSON object."));
    };
    let mut fields = raw.clone();
    let id = match fields.get("id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => tenant.ids.next("activityBasedTimeoutPolicy"),
    };
    fields.retain(|k, _| !matches!(k.as_str(), "id" | "deletedDateTime" | "@odata.type"));
    validate(&mut fields, tenant, Some(&id))?;
    Ok(Record::new(id, fields, now, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("01:00:00"), Some(Duration::from_secs(3600)));
        assert_eq!(
            parse_timeout("1.00:00:00"),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(parse_timeout("00:15:00"), Some(Duration::from_secs(900)));
        assert_eq!(parse_timeout("25:00:00"), None);
        assert_eq!(parse_timeout("15m"), None);
    }

    #[test]
    fn definitions() {
        let good = json!([
            "{\"ActivityBasedTimeoutPolicy\":{\"Version\":1,\"ApplicationPolicies\":[{\"ApplicationId\":\"default\",\"WebSessionIdleTimeout\":\"01:00:00\"}]}}"
        ]);
        check_definition(&good).unwrap();
        for bad in [
            json!("{}"),
            json!(["not json"]),
            json!(["{\"ActivityBasedTimeoutPolicy\":{\"Version\":2,\"ApplicationPolicies\":[]}}"]),
            json!([
                "{\"ActivityBasedTimeoutPolicy\":{\"Version\":1,\"ApplicationPolicies\":[{\"ApplicationId\":\"default\",\"WebSessionIdleTimeout\":\"00:04:00\"}]}}"
            ]),
        ] {
            assert!(check_definition(&bad).is_err(), "{bad}");
        }
    }
}
