//! PATCH bodies: Graph merges nested complex objects and replaces collections and scalars
//! (`conditionalaccesspolicy-update.md`: "properties not included keep their values"), so a
//! PATCH that changes a field sends the field's whole top-level property as a complete managed
//! sub-object, with explicit `[]`/`null` for what the spec leaves unset (an omitted list would
//! silently survive), and names nothing the kind does not manage (so that it is left as the
//! tenant has it).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::TenantObject;
use super::fields::{Field, FieldChange, field};
use super::is_content;

/// The PATCH body for `changes` of `observed` towards `desired`. Beta-only fields are named
/// only when `beta` (v1.0 refuses their names); through beta they are sent like the others,
/// `null` included.
pub fn patch_body<W: TenantObject>(
    fields: &[Field<W>],
    desired: &W,
    observed: &W,
    changes: &[FieldChange],
    beta: bool,
) -> Value {
    if changes.is_empty() {
        return Value::Object(Map::new());
    }
    let groups: BTreeSet<&str> = changes
        .iter()
        .filter_map(|c| field(fields, &c.field))
        .map(Field::group)
        .collect();
    let mut patch = desired.patch_header();
    let desired = desired.write_body();
    let observed = observed.write_body();
    let cleared = W::cleared();
    let sent: Vec<&Field<W>> = fields.iter().filter(|f| beta || !f.beta_only).collect();
    let paths: Vec<&str> = sent.iter().map(|f| f.path).collect();
    // In table order, so that bodies read like the table.
    for field in &sent {
        let group = field.group();
        if groups.contains(group) && !patch.contains_key(group) {
            let value = pick(
                group,
                &paths,
                &desired[group],
                &observed[group],
                &cleared[group],
            );
            patch.insert(group.to_owned(), value);
        }
    }
    Value::Object(patch)
}

/// The managed part of `desired` at `prefix`: a managed path ending here is sent whole; an
/// object on the way to managed paths keeps only their keys. Where the spec asks for nothing
/// (`null`) but the tenant's object holds unmanaged content, the managed keys are cleared
/// instead (from `cleared`), so that the unmanaged content stays.
fn pick(prefix: &str, paths: &[&str], desired: &Value, observed: &Value, cleared: &Value) -> Value {
    if paths.contains(&prefix) {
        return desired.clone();
    }
    let below = format!("{prefix}.");
    let children: BTreeSet<&str> = paths
        .iter()
        .filter_map(|p| p.strip_prefix(below.as_str()))
        .map(|rest| rest.split('.').next().unwrap_or(rest))
        .collect();
    let source = match desired {
        Value::Object(_) => desired,
        _ if holds_unmanaged(prefix, paths, observed) && cleared.is_object() => cleared,
        _ => return Value::Null,
    };
    let mut picked = Map::new();
    for child in children {
        let path = format!("{prefix}.{child}");
        picked.insert(
            child.to_owned(),
            pick(
                &path,
                paths,
                &source[child],
                &observed[child],
                &cleared[child],
            ),
        );
    }
    Value::Object(picked)
}

/// Whether `observed` (the tenant's value at `prefix`) holds content at any depth that no
/// managed path covers.
fn holds_unmanaged(prefix: &str, paths: &[&str], observed: &Value) -> bool {
    let Value::Object(object) = observed else {
        return false;
    };
    object.iter().any(|(key, value)| {
        let path = format!("{prefix}.{key}");
        let below = format!("{path}.");
        if paths.contains(&path.as_str()) {
            false
        } else if paths.iter().any(|p| p.starts_with(&below)) {
            holds_unmanaged(&path, paths, value)
        } else {
            is_content(key, value)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Clone, serde::Serialize, serde::Deserialize)]
    struct Thing(Value);

    impl TenantObject for Thing {
        fn id(&self) -> Option<&str> {
            None
        }
        fn display_name(&self) -> &str {
            ""
        }
        fn deleted_date_time(&self) -> Option<&str> {
            None
        }
        fn write_body(&self) -> Value {
            self.0.clone()
        }
        fn cleared() -> Value {
            json!({"a": {"list": [], "b": {"x": null}}})
        }
    }

    const FIELDS: &[Field<Thing>] = &[
        Field::new("name", |t| t.0["name"].clone()),
        Field::new("a.list", |t| t.0["a"]["list"].clone()),
        Field::new("a.b.x", |t| t.0["a"]["b"]["x"].clone()),
        Field::beta("a.beta", |t| t.0["a"]["beta"].clone()),
    ];

    fn change(path: &str) -> Vec<FieldChange> {
        vec![FieldChange {
            field: path.into(),
            tenant: Value::Null,
            desired: Value::Null,
        }]
    }

    #[test]
    fn a_change_sends_its_whole_managed_group_and_nothing_unmanaged() {
        let desired = Thing(json!({"name": "n", "a": {"list": [1], "b": {"x": 2}}}));
        let observed =
            Thing(json!({"name": "n", "a": {"list": [], "b": {"x": 2, "other": 5}, "extra": 1}}));
        let patch = patch_body(FIELDS, &desired, &observed, &change("a.list"), false);
        assert_eq!(patch, json!({"a": {"list": [1], "b": {"x": 2}}}));
        let beta = patch_body(FIELDS, &desired, &observed, &change("a.list"), true);
        assert_eq!(
            beta,
            json!({"a": {"list": [1], "b": {"x": 2}, "beta": null}})
        );
    }

    #[test]
    fn a_group_the_spec_drops_is_nulled_unless_the_tenant_keeps_unmanaged_content_in_it() {
        let desired = Thing(json!({"name": "n", "a": null}));
        let plain = Thing(json!({"name": "n", "a": {"list": [1], "b": null}}));
        assert_eq!(
            patch_body(FIELDS, &desired, &plain, &change("a.list"), false),
            json!({"a": null})
        );
        let rich = Thing(json!({"name": "n", "a": {"list": [1], "b": {"x": 1, "other": 5}}}));
        assert_eq!(
            patch_body(FIELDS, &desired, &rich, &change("a.list"), false),
            json!({"a": {"list": [], "b": {"x": null}}}),
            "cleared where the unmanaged content is, down to its object"
        );
    }
}
