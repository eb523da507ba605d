//! Managed fields and the diff through them.

use serde_json::Value;

/// One managed field of a kind's wire model `W`.
pub struct Field<W> {
    /// Dotted Graph path, e.g. `sessionControls.signInFrequency`. Its first segment is the
    /// top-level property a PATCH sends it in.
    pub path: &'static str,
    /// Only Graph beta has it: an object read through v1.0 does not show it, so it is not
    /// compared then, and it is sent through beta only.
    pub beta_only: bool,
    /// The field in canonical form (sets sorted and lowercased, absent and empty the same,
    /// defaults filled), so that both sides compare without false drift.
    pub normalize: fn(&W) -> Value,
}

impl<W> Field<W> {
    /// A field both versions have.
    pub const fn new(path: &'static str, normalize: fn(&W) -> Value) -> Field<W> {
        Field {
            path,
            beta_only: false,
            normalize,
        }
    }

    /// A field only Graph beta has (the beta type mappings of `microsoftgraph/msgraph-metadata`,
    /// `schemas/type-mappings/beta-complex-types.json`, list it; the v1.0 CSDL does not).
    pub const fn beta(path: &'static str, normalize: fn(&W) -> Value) -> Field<W> {
        Field {
            path,
            beta_only: true,
            normalize,
        }
    }

    /// The top-level property the field is sent in.
    pub fn group(&self) -> &'static str {
        self.path.split('.').next().unwrap_or(self.path)
    }
}

/// The table entry of `path`.
pub fn field<'a, W>(fields: &'a [Field<W>], path: &str) -> Option<&'a Field<W>> {
    fields.iter().find(|f| f.path == path)
}

/// One managed field that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// Dotted Graph path.
    pub field: String,
    /// What the tenant has (normalized).
    pub tenant: Value,
    /// What the spec asks for (normalized).
    pub desired: Value,
}

/// The differing managed fields, in path order. `compare_beta_only` is false when the tenant
/// side was read through v1.0, which does not return beta-only fields.
pub fn diff<W>(
    fields: &[Field<W>],
    desired: &W,
    observed: &W,
    compare_beta_only: bool,
) -> Vec<FieldChange> {
    let mut changes: Vec<FieldChange> = fields
        .iter()
        .filter(|field| compare_beta_only || !field.beta_only)
        .filter_map(|field| {
            let wanted = (field.normalize)(desired);
            let found = (field.normalize)(observed);
            (wanted != found).then(|| FieldChange {
                field: field.path.to_owned(),
                tenant: found,
                desired: wanted,
            })
        })
        .collect();
    changes.sort_by(|a, b| a.field.cmp(&b.field));
    changes
}
