//! What every kind's export shares: turning one tenant object back into the spec that manages
//! it exactly as it is, or naming why it cannot be. Pure. A kind's exporter builds its spec,
//! then proves it with [`unchanged`]: the spec, planned through the kind's own managed-field
//! table, must change nothing, so that `export` then `plan` is always "no changes".

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Field, diff, is_content};
use sessionops_api::Kind;

/// A tenant object that cannot be exported faithfully, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unexportable {
    /// The kind it would have been exported as.
    pub kind: Kind,
    /// Its id in the tenant.
    pub id: String,
    /// Its display name.
    pub display_name: String,
    /// What the kind cannot represent.
    pub reasons: Vec<String>,
}

/// What export makes of one tenant object.
#[derive(Clone, Debug, PartialEq)]
pub enum Exported<S> {
    /// The spec that manages it exactly as it is.
    Spec(S),
    /// The spec that manages every modelled field exactly as it is; `unmodelled` names content
    /// this build does not know (a property Graph added later). It is not in the manifest and
    /// stays as it is in the tenant: no PATCH names it and no plan compares it. Export never
    /// refuses an object for such content; it says so instead.
    Partial {
        /// The spec.
        spec: S,
        /// The content it leaves as it is, by JSON path.
        unmodelled: Vec<String>,
    },
    /// Not something this kind manages (a built-in, an object another service owns): named in
    /// the output, not an error.
    LeftOut(&'static str),
}

impl<S> Exported<S> {
    /// `Spec` when nothing is unmodelled, else `Partial`.
    pub fn of(spec: S, unmodelled: Vec<String>) -> Exported<S> {
        if unmodelled.is_empty() {
            Exported::Spec(spec)
        } else {
            Exported::Partial { spec, unmodelled }
        }
    }

    /// The spec, unless left out.
    pub fn spec(&self) -> Option<&S> {
        match self {
            Exported::Spec(spec) | Exported::Partial { spec, .. } => Some(spec),
            Exported::LeftOut(_) => None,
        }
    }
}

/// A Kubernetes object name for a display name: lowercase, `-` for anything else, at most 63
/// characters (RFC 1123 label), `unnamed` when nothing is left.
pub fn object_name(display_name: &str) -> String {
    let mut name = String::new();
    for c in display_name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_matches('-').chars().take(63).collect();
    let name = name.trim_end_matches('-').to_owned();
    if name.is_empty() {
        "unnamed".to_owned()
    } else {
        name
    }
}

/// The properties of `extra` that are content, as `path` + key: what a build does not model
/// (newer than it) and would otherwise drop. `read_only` keys (timestamps, computed values)
/// are not content a spec could carry.
pub fn unmodelled(path: &str, extra: &BTreeMap<String, Value>, read_only: &[&str]) -> Vec<String> {
    extra
        .iter()
        .filter(|(key, value)| !read_only.contains(&key.as_str()) && is_content(key, value))
        .map(|(key, _)| format!("{path}{key}"))
        .collect()
}

/// Why the spec that produced `desired` does not manage `observed` exactly as it is: each
/// managed field it would change (empty: it plans to no change).
pub fn unchanged<W>(fields: &[Field<W>], desired: &W, observed: &W) -> Vec<String> {
    diff(fields, desired, observed, true)
        .iter()
        .map(|change| format!("{} would change to {}", change.field, change.desired))
        .collect()
}

/// Drops nulls, `false`, empty lists and objects, so exported manifests read like hand-written
/// ones (every such value is the field's default).
pub fn strip_empty(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, strip_empty(v)))
                .filter(|(_, v)| {
                    !(v.is_null() || *v == json!(false) || *v == json!([]) || *v == json!({}))
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_valid_kubernetes_names() {
        assert_eq!(
            object_name("Session: sign-in frequency 12h"),
            "session-sign-in-frequency-12h"
        );
        assert_eq!(object_name("!!!"), "unnamed");
        assert_eq!(object_name(&"x".repeat(100)).len(), 63);
        assert_eq!(
            object_name(&format!("{}-y", "x".repeat(62))),
            "x".repeat(62)
        );
    }

    #[test]
    fn read_only_and_annotations_are_not_unmodelled_but_new_properties_are() {
        let extra: BTreeMap<String, Value> = [
            ("createdDateTime".to_owned(), json!("2024-01-01T00:00:00Z")),
            ("isTrusted@odata.type".to_owned(), json!("x")),
            ("futureSetting".to_owned(), json!({"on": true})),
            ("emptySetting".to_owned(), json!(null)),
        ]
        .into();
        assert_eq!(
            unmodelled("ip.", &extra, &["createdDateTime"]),
            ["ip.futureSetting"]
        );
    }
}
