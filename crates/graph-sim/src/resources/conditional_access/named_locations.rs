//! `/identity/conditionalAccess/namedLocations` and its deleted items (`conditionalaccessroot-post-namedlocations.md`): IP and
//! country locations, told apart by their required `@odata.type`.
//!
//! A seed may also hold the Global Secure Access compliant-network location (beta
//! `resources/compliantnetworknamedlocation.md`: "Automatically created with the name \"All
//! Compliant Network Locations\""; its methods list no create, so a POST of that type is
//! refused like any other type). It is listed through both versions: what v1.0, whose
//! metadata has no such type, returns for it is undocumented, and listing it is the cautious
//! assumption (a client must tell it apart by its `@odata.type`).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::error::GraphError;
use crate::pipeline::{ApiVersion, GraphResponse};
use crate::resources::Ctx;
use crate::resources::collection::Collection;
use crate::resources::store::{Record, RecordStore};
use crate::tenant::Tenant;
use crate::time;

const IP: &str = "#microsoft.graph.ipNamedLocation";
const COUNTRY: &str = "#microsoft.graph.countryNamedLocation";
const COMPLIANT_NETWORK: &str = "#microsoft.graph.compliantNetworkNamedLocation";
const IPV4_RANGE: &str = "#microsoft.graph.iPv4CidrRange";
const IPV6_RANGE: &str = "#microsoft.graph.iPv6CidrRange";

const PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "createdDateTime",
    "modifiedDateTime",
    "deletedDateTime",
    "isTrusted",
    "ipRanges",
    "countriesAndRegions",
    "includeUnknownCountriesAndRegions",
    "countryLookupMethod",
    "compliantNetworkType",
];
const READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "modifiedDateTime",
    "deletedDateTime",
];

fn store(tenant: &Tenant) -> &RecordStore {
    &tenant.named_locations
}

fn store_mut(tenant: &mut Tenant) -> &mut RecordStore {
    &mut tenant.named_locations
}

pub(crate) const COLLECTION: Collection = Collection {
    entity_set: "identity/conditionalAccess/namedLocations",
    deleted_set: "identity/conditionalAccess/deletedItems/namedLocations",
    type_name: "namedLocation",
    properties: PROPERTIES,
    store,
    store_mut,
    render,
};

fn render(_: &Tenant, record: &Record, _: ApiVersion, _: bool) -> Value {
    let mut object = record.doc.clone();
    object.insert("id".into(), json!(record.id));
    object.insert("createdDateTime".into(), json!(time::ticks(record.created)));
    object.insert(
        "modifiedDateTime".into(),
        json!(time::ticks(record.modified)),
    );
    // Named locations are policyDeletableItems too: deletedDateTime is null while active.
    object.insert(
        "deletedDateTime".into(),
        record
            .deleted
            .map_or(Value::Null, |deleted| json!(time::ticks(deleted))),
    );
    Value::Object(object)
}

fn bad(message: impl Into<String>) -> GraphError {
    GraphError::bad_request(message)
}

/// `@odata.type` with or without the leading `#`.
fn derived_type(fields: &Map<String, Value>) -> Option<&'static str> {
    match fields.get("@odata.type")?.as_str()?.trim_start_matches('#') {
        "microsoft.graph.ipNamedLocation" => Some(IP),
        "microsoft.graph.countryNamedLocation" => Some(COUNTRY),
        _ => None,
    }
}

fn check_cidr(range: &Value) -> Result<(), GraphError> {
    let kind = range["@odata.type"]
        .as_str()
        .map(|t| t.trim_start_matches('#'));
    let address = range["cidrAddress"]
        .as_str()
        .ok_or_else(|| bad("Each ipRanges entry needs a 'cidrAddress'."))?;
    let (ip, prefix) = address
        .split_once('/')
        .ok_or_else(|| bad(format!("'{address}' is not in CIDR notation.")))?;
    let prefix: u8 = prefix
        .parse()
        .map_err(|_| bad(format!("'{address}' is not in CIDR notation.")))?;
    let valid = match kind {
        Some("microsoft.graph.iPv4CidrRange") => ip.parse::<Ipv4Addr>().is_ok() && prefix <= 32,
        Some("microsoft.graph.iPv6CidrRange") => ip.parse::<Ipv6Addr>().is_ok() && prefix <= 128,
        _ => {
            return Err(bad(format!(
                "Each ipRanges entry needs '@odata.type' '{IPV4_RANGE}' or '{IPV6_RANGE}'."
            )));
        }
    };
    if valid {
        Ok(())
    } else {
        Err(bad(format!(
            "'{address}' is not a valid {} CIDR range.",
            if kind == Some("microsoft.graph.iPv4CidrRange") {
                "IPv4"
            } else {
                "IPv6"
            }
        )))
    }
}

/// Checks a complete named location and fills its defaults.
fn validate(fields: &mut Map<String, Value>) -> Result<(), GraphError> {
    let Some(kind) = derived_type(fields) else {
        return Err(bad(format!(
            "The '@odata.type' property is required and must be '{IP}' or '{COUNTRY}'."
        )));
    };
    fields.insert("@odata.type".into(), json!(kind));
    let allowed: &[&str] = if kind == IP {
        &["@odata.type", "displayName", "isTrusted", "ipRanges"]
    } else {
        &[
            "@odata.type",
            "displayName",
            "countriesAndRegions",
            "includeUnknownCountriesAndRegions",
            "countryLookupMethod",
        ]
    };
    if let Some(unknown) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(format!(
            "The property '{unknown}' does not exist on type '{}'. Make sure to only use property names that are defined by the type or mark the type as open type.",
            kind.trim_start_matches('#')
        )));
    }
    if fields
        .get("displayName")
        .and_then(Value::as_str)
        .is_none_or(|n| n.trim().is_empty())
    {
        return Err(bad(
            "The property 'displayName' is required and cannot be null or missing.",
        ));
    }
    if kind == IP {
        let ranges = fields
            .get("ipRanges")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| bad("An ipNamedLocation needs at least one entry in 'ipRanges'."))?;
        for range in ranges {
            check_cidr(range)?;
        }
        match fields.get("isTrusted") {
            None | Some(Value::Null) => {
                fields.insert("isTrusted".into(), json!(false));
            }
            Some(Value::Bool(_)) => {}
            Some(_) => return Err(bad("'isTrusted' must be a Boolean.")),
        }
    } else {
        let countries = fields
            .get("countriesAndRegions")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("A countryNamedLocation needs 'countriesAndRegions'."))?;
        for country in countries {
            let ok = country
                .as_str()
                .is_some_and(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()));
            if !ok {
                return Err(bad(format!(
                    "'{country}' is not an ISO 3166-1 alpha-2 country or region code."
                )));
            }
        }
        match fields.get("includeUnknownCountriesAndRegions") {
            None | Some(Value::Null) => {
                fields.insert("includeUnknownCountriesAndRegions".into(), json!(false));
            }
            Some(Value::Bool(_)) => {}
            Some(_) => {
                return Err(bad(
                    "'includeUnknownCountriesAndRegions' must be a Boolean.",
                ));
            }
        }
        match fields.get("countryLookupMethod") {
            None | Some(Value::Null) => {
                fields.insert("countryLookupMethod".into(), json!("clientIpAddress"));
            }
            Some(Value::String(method))
                if method == "clientIpAddress" || method == "authenticatorAppGps" => {}
            Some(other) => {
                return Err(bad(format!(
                    "Cannot convert the literal '{}' to the expected type 'microsoft.graph.countryLookupMethodType'.",
                    other
                        .as_str()
                        .map_or_else(|| other.to_string(), str::to_owned)
                )));
            }
        }
    }
    Ok(())
}

fn read_only_error(fields: &Map<String, Value>) -> Result<(), GraphError> {
    match fields.keys().find(|k| READ_ONLY.contains(&k.as_str())) {
        Some(key) => Err(bad(format!(
            "The property '{key}' is read-only and cannot be set."
        ))),
        None => Ok(()),
    }
}

/// `POST`: 201 with the object.
pub(crate) fn create(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let mut fields = ctx.req.json_object()?.clone();
    read_only_error(&fields)?;
    validate(&mut fields)?;
    let id = ctx.tenant.ids.next("namedLocation");
    let record = Record::new(id, fields, ctx.now, ctx.visible_from());
    let response = COLLECTION.created(ctx, &record);
    ctx.tenant.named_locations.insert(record);
    Ok(response)
}

/// `PATCH`: the body names the derived type, which cannot change; 204.
pub(crate) fn update(ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
    let patch = ctx.req.json_object()?;
    read_only_error(patch)?;
    let at = ctx.instant;
    let record = ctx
        .tenant
        .named_locations
        .get_active_mut(id, at)
        .ok_or_else(|| GraphError::not_found(id))?;
    let existing = derived_type(&record.doc);
    if derived_type(patch).is_none() || derived_type(patch) != existing {
        return Err(bad(format!(
            "The request must carry '@odata.type': '{}' of the named location being updated.",
            existing.unwrap_or(IP)
        )));
    }
    let mut merged = record.doc.clone();
    for (key, value) in patch {
        merged.insert(key.clone(), value.clone());
    }
    validate(&mut merged)?;
    record.doc = merged;
    record.modified = ctx.now;
    Ok(GraphResponse::no_content())
}

/// `DELETE` (`namedlocation-delete.md`): 204, the location moves to deleted items. Refused
/// with 400 while it is trusted (entra-docs
/// `docs/identity/conditional-access/concept-assignment-network.md`: "Locations marked as
/// trusted can't be deleted without first removing the trusted designation") and while a
/// live Conditional Access policy's locations condition names it (the portal refuses it; the
/// Graph error for either is undocumented, so both 400s and their texts are the simulator's
/// assumption).
pub(crate) fn delete(ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
    let record = ctx
        .tenant
        .named_locations
        .get_active(id, ctx.instant)
        .ok_or_else(|| GraphError::not_found(id))?;
    if record.doc.get("isTrusted") == Some(&Value::Bool(true)) {
        return Err(bad(format!(
            "The named location '{id}' is marked as trusted and can't be deleted: remove the trusted designation first."
        )));
    }
    let users: Vec<String> = ctx
        .tenant
        .policies
        .all()
        .filter(|policy| policy.deleted.is_none())
        .filter(|policy| {
            let locations = &policy.doc.get("conditions").unwrap_or(&Value::Null)["locations"];
            ["includeLocations", "excludeLocations"].iter().any(|list| {
                locations[list]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|l| l.as_str().is_some_and(|l| l.eq_ignore_ascii_case(id)))
            })
        })
        .map(|policy| policy.id.clone())
        .collect();
    if !users.is_empty() {
        return Err(bad(format!(
            "The named location '{id}' is used by Conditional Access policies ({}) and can't be deleted.",
            users.join(", ")
        )));
    }
    COLLECTION.delete(ctx, id)
}

/// A named location from a seed file.
pub(crate) fn record_from_raw(
    raw: &Value,
    tenant: &mut Tenant,
    now: Timestamp,
    at: Instant,
) -> Result<Record, GraphError> {
    let Value::Object(raw) = raw else {
        return Err(bad("A named location must be a JSON object."));
    };
    let mut fields = raw.clone();
    let id = match fields.get("id").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => tenant.ids.next("namedLocation"),
    };
    fields.retain(|key, _| !READ_ONLY.contains(&key.as_str()));
    if fields
        .get("@odata.type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.trim_start_matches('#') == COMPLIANT_NETWORK.trim_start_matches('#'))
    {
        // `compliantnetworknamedlocation.md`: `compliantNetworkType`
        // (`allTenantCompliantNetworks`) and `isTrusted` beside the base properties.
        fields.retain(|key, _| {
            [
                "@odata.type",
                "displayName",
                "compliantNetworkType",
                "isTrusted",
            ]
            .contains(&key.as_str())
        });
        fields.insert("@odata.type".into(), json!(COMPLIANT_NETWORK));
        fields
            .entry("compliantNetworkType")
            .or_insert_with(|| json!("allTenantCompliantNetworks"));
        return Ok(Record::new(id, fields, now, at));
    }
    validate(&mut fields)?;
    Ok(Record::new(id, fields, now, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_both_kinds_and_fills_defaults() {
        let mut ip = json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "HQ",
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"},
                         {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"}]})
            .as_object()
            .unwrap()
            .clone();
        validate(&mut ip).unwrap();
        assert_eq!(ip["isTrusted"], false);
        let mut country = json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "Blocked",
            "countriesAndRegions": ["CA", "US"]})
            .as_object()
            .unwrap()
            .clone();
        validate(&mut country).unwrap();
        assert_eq!(country["countryLookupMethod"], "clientIpAddress");
        assert_eq!(country["includeUnknownCountriesAndRegions"], false);
    }

    #[test]
    fn rejects_missing_type_bad_ranges_and_codes() {
        for body in [
            json!({"displayName": "x", "ipRanges": []}),
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x",
                   "ipRanges": [{"cidrAddress": "1.2.3.4/32"}]}),
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "x",
                   "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "1.2.3.4/33"}]}),
            json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x",
                   "countriesAndRegions": ["usa"]}),
            json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "x",
                   "countriesAndRegions": ["US"], "countryLookupMethod": "gps"}),
        ] {
            let mut fields = body.as_object().unwrap().clone();
            assert!(validate(&mut fields).is_err(), "{body}");
        }
    }
}
