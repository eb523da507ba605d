//! The seam every kind that manages one tenant object shares (a SessionPolicy's Conditional
//! Access policy; next named locations and authentication strengths): identity by display
//! name (or a recorded id), a declarative table of managed fields, the field diff, PATCH bodies
//! of complete managed sub-objects that leave unmodelled content alone, and the plan. Pure: no
//! IO. A kind supplies its wire model ([`TenantObject`]) and its [`Field`] table.

pub mod export;
pub mod fields;
pub mod io;
pub mod kind;
pub mod patch;
pub mod plan;
pub mod shared;

pub use fields::{Field, FieldChange, diff};
pub use plan::{Duplicate, Found, Plan, find, find_with_deleted, plan};

use serde_json::Value;
use sessionops_graph::models::is_annotation;

/// A tenant object as Graph returns it (the wire model of a kind).
pub trait TenantObject {
    /// Its id (read-only; absent on a desired object).
    fn id(&self) -> Option<&str>;
    /// Its display name: a managed object's identity in the tenant.
    fn display_name(&self) -> &str;
    /// When it was soft-deleted (items of `deletedItems` only).
    fn deleted_date_time(&self) -> Option<&str>;
    /// The body of a POST or PATCH: read-only properties and annotations removed.
    fn write_body(&self) -> Value;
    /// What every PATCH must carry besides the changed properties: the derived type of an
    /// object whose collection holds several (`ipnamedlocation-update.md`: "You must specify
    /// the @odata.type").
    fn patch_header(&self) -> serde_json::Map<String, Value> {
        serde_json::Map::new()
    }
    /// The write body of an object whose every managed sub-object is present and empty (`[]`,
    /// `null`, required defaults): what a PATCH sends for a sub-object the spec no longer sets
    /// while the tenant's copy holds content no field manages, so that content survives.
    fn cleared() -> Value;
}

/// Whether `value` under `key` is content: the key is a property (not an annotation) and the
/// value is not empty (`null`, `[]`, `""`, the flags value `none`, an object of only such).
/// Inside a value, a derived type's name alone is content (`{"@odata.type": "#…AllTimes"}`
/// says "all times").
pub fn is_content(key: &str, value: &Value) -> bool {
    !is_annotation(key) && has_value(value)
}

fn has_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key == "@odata.type" || is_content(key, value)),
        Value::String(s) => !s.is_empty() && s != "none",
        _ => true,
    }
}
