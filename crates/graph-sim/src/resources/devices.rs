//! Devices (`user-update.md`, `device-update.md`): a user's registered devices, get, and PATCH of `accountEnabled`.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::Ctx;
use super::users::{self, SYNCED_OBJECT_MESSAGE};
use crate::error::GraphError;
use crate::odata::{self, DIRECTORY_DEFAULT_PAGE, DIRECTORY_MAX_PAGE};
use crate::pipeline::GraphResponse;
use crate::time;

pub(crate) const PROPERTIES: &[&str] = &[
    "id",
    "accountEnabled",
    "approximateLastSignInDateTime",
    "deletedDateTime",
    "deviceId",
    "displayName",
    "isCompliant",
    "isManaged",
    "operatingSystem",
    "operatingSystemVersion",
    "registrationDateTime",
    "trustType",
];

#[derive(Clone, Debug)]
pub(crate) struct Device {
    pub id: String,
    pub device_id: String,
    pub display_name: String,
    pub operating_system: String,
    pub operating_system_version: Option<String>,
    /// `AzureAd`, `Workplace`, or `ServerAd` (hybrid joined, mastered on-premises).
    pub trust_type: String,
    pub account_enabled: bool,
    pub is_compliant: Option<bool>,
    pub is_managed: Option<bool>,
    pub registered: Timestamp,
}

impl Device {
    pub(crate) fn property(&self, name: &str) -> Value {
        match name {
            "id" => json!(self.id),
            "accountEnabled" => json!(self.account_enabled),
            "deviceId" => json!(self.device_id),
            "displayName" => json!(self.display_name),
            "isCompliant" => json!(self.is_compliant),
            "isManaged" => json!(self.is_managed),
            "operatingSystem" => json!(self.operating_system),
            "operatingSystemVersion" => json!(self.operating_system_version),
            "registrationDateTime" => json!(time::seconds(self.registered)),
            "trustType" => json!(self.trust_type),
            _ => Value::Null,
        }
    }

    /// The device as a member of a directoryObject collection (with `@odata.type`).
    pub(crate) fn to_json(&self, select: Option<&[String]>) -> Value {
        let mut object = Map::new();
        object.insert("@odata.type".into(), json!("#microsoft.graph.device"));
        for name in PROPERTIES {
            if select.is_none_or(|s| s.iter().any(|f| f == name)) {
                object.insert((*name).to_owned(), self.property(name));
            }
        }
        Value::Object(object)
    }
}

/// All devices, by object id and by `deviceId`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Devices {
    list: Vec<Device>,
    by_id: HashMap<String, usize>,
    by_device_id: HashMap<String, usize>,
}

impl Devices {
    pub(crate) fn insert(&mut self, device: Device) -> Result<(), String> {
        let id = device.id.to_ascii_lowercase();
        let device_id = device.device_id.to_ascii_lowercase();
        if self.by_id.contains_key(&id) || self.by_device_id.contains_key(&device_id) {
            return Err(format!("duplicate device id {}", device.id));
        }
        self.by_id.insert(id, self.list.len());
        self.by_device_id.insert(device_id, self.list.len());
        self.list.push(device);
        Ok(())
    }

    /// By object id, or by the alternate key `deviceId='…'` (`user-update.md`, `device-update.md`).
    fn index(&self, key: &str) -> Option<usize> {
        match key.strip_prefix("deviceId=").map(|k| k.trim_matches('\'')) {
            Some(device_id) => self.by_device_id.get(&device_id.to_ascii_lowercase()),
            None => self.by_id.get(&key.to_ascii_lowercase()),
        }
        .copied()
    }

    pub(crate) fn find(&self, key: &str) -> Option<&Device> {
        self.index(key).map(|i| &self.list[i])
    }

    pub(crate) fn find_mut(&mut self, key: &str) -> Option<&mut Device> {
        self.index(key).map(|i| &mut self.list[i])
    }
}

/// `GET /users/{id}/registeredDevices`.
pub(crate) fn list_registered(ctx: &mut Ctx<'_>, key: &str) -> Result<GraphResponse, GraphError> {
    let query = ctx.query;
    if let Some(select) = &query.select {
        odata::check_select(select, PROPERTIES, "device")?;
    }
    if query.filter.is_some() {
        return Err(GraphError::unsupported_query(
            "Unsupported Query. $filter is not supported on registeredDevices by the simulator.",
        ));
    }
    let size = query.page_size(DIRECTORY_DEFAULT_PAGE, DIRECTORY_MAX_PAGE)?;
    let user = ctx
        .tenant
        .users
        .find(key)
        .ok_or_else(|| GraphError::not_found(key))?;
    let devices: Vec<&Device> = user
        .devices
        .iter()
        .filter_map(|id| ctx.tenant.devices.find(id))
        .collect();
    let page = odata::paginate(devices, query.offset, size);
    let values = page
        .items
        .iter()
        .map(|d| d.to_json(query.select.as_deref()))
        .collect();
    let next = page.next_offset.map(|n| odata::next_link(ctx.req, n));
    Ok(GraphResponse::ok(odata::collection_body(
        odata::context(ctx.version(), "directoryObjects"),
        values,
        next,
        None,
    )))
}

/// `GET /devices/{id}`.
pub(crate) fn get(ctx: &mut Ctx<'_>, key: &str) -> Result<GraphResponse, GraphError> {
    if let Some(select) = &ctx.query.select {
        odata::check_select(select, PROPERTIES, "device")?;
    }
    let device = ctx
        .tenant
        .devices
        .find(key)
        .ok_or_else(|| GraphError::not_found(key))?;
    let mut object = device.to_json(ctx.query.select.as_deref());
    if let Value::Object(fields) = &mut object {
        fields.remove("@odata.type");
    }
    Ok(GraphResponse::ok(odata::entity_body(
        odata::context(
            ctx.version(),
            &odata::entity_fragment("devices", ctx.query.select.as_deref()),
        ),
        object,
    )))
}

/// Graph's refusal of an app-only update of a non-Windows device (`concepts/known-issues.md`).
pub(crate) const NON_WINDOWS_DEVICE_MESSAGE: &str =
    "Properties other than ExtendedAttribute1..15 can be modified only on windows devices.";

/// `PATCH /devices/{id}`: `accountEnabled` and `displayName`; 204.
pub(crate) fn patch(ctx: &mut Ctx<'_>, key: &str) -> Result<GraphResponse, GraphError> {
    let body = ctx.req.json_object()?;
    let device = ctx
        .tenant
        .devices
        .find(key)
        .ok_or_else(|| GraphError::not_found(key))?;
    let mut account_enabled = None;
    let mut display_name = None;
    for (name, value) in body {
        match (name.as_str(), value) {
            ("accountEnabled", Value::Bool(b)) => account_enabled = Some(*b),
            ("displayName", Value::String(s)) => display_name = Some(s.clone()),
            ("accountEnabled" | "displayName", _) => {
                return Err(GraphError::request_bad_request(format!(
                    "Invalid value specified for property '{name}' of resource 'Device'."
                )));
            }
            (other, _) if PROPERTIES.contains(&other) => {
                return Err(GraphError::request_bad_request(format!(
                    "Property '{other}' is read-only or not supported by the simulator."
                )));
            }
            (other, _) => {
                return Err(GraphError::request_bad_request(format!(
                    "Property '{other}' does not exist as a declared property or extension property."
                )));
            }
        }
    }
    // Hybrid-joined devices are mastered on-premises, like synced users.
    if device.trust_type == "ServerAd" && account_enabled.is_some() {
        return Err(GraphError::request_bad_request(SYNCED_OBJECT_MESSAGE));
    }
    // concepts/known-issues.md: an app with application permissions updating a device whose
    // operatingSystem isn't Windows gets "400 Bad request" with this message.
    if !device.operating_system.eq_ignore_ascii_case("windows") {
        return Err(GraphError::request_bad_request(NON_WINDOWS_DEVICE_MESSAGE));
    }
    // device-update.md: accountEnabled needs at least the Cloud Device Administrator role.
    if account_enabled.is_some()
        && !users::app_holds_any(
            ctx,
            &[
                "Cloud Device Administrator",
                "Intune Administrator",
                "Global Administrator",
            ],
        )
    {
        return Err(GraphError::denied());
    }
    let device = ctx
        .tenant
        .devices
        .find_mut(key)
        .ok_or_else(|| GraphError::not_found(key))?;
    if let Some(enabled) = account_enabled {
        device.account_enabled = enabled;
    }
    if let Some(name) = display_name {
        device.display_name = name;
    }
    Ok(GraphResponse::no_content())
}
