//! Finding a kind's object in the tenant and planning the writes that make it as desired.

use serde_json::Value;
use sessionops_graph::ApiVersion;

use super::TenantObject;
use super::fields::{Field, FieldChange, diff, field};
use super::patch::patch_body;

/// How the tenant object of a managed object was found.
#[derive(Debug)]
pub enum Found<'a, W> {
    /// By the id recorded in status.
    ById(&'a W),
    /// By display name (adoption).
    ByName(&'a W),
    /// Soft-deleted (in `deletedItems`), by recorded id or display name: restore it.
    Deleted(&'a W),
    /// Not in the tenant.
    Missing,
}

// Manual impls: the derives would require `W: Clone`/`PartialEq` for a reference.
impl<W> Clone for Found<'_, W> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<W> Copy for Found<'_, W> {}
impl<W: PartialEq> PartialEq for Found<'_, W> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Found::ById(a), Found::ById(b))
            | (Found::ByName(a), Found::ByName(b))
            | (Found::Deleted(a), Found::Deleted(b)) => a == b,
            (Found::Missing, Found::Missing) => true,
            _ => false,
        }
    }
}

/// Several tenant objects share the display name: sessionops will not pick one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// The name.
    pub display_name: String,
    /// How many.
    pub count: usize,
    /// Their ids.
    pub ids: Vec<String>,
}

/// Finds the tenant object: the recorded id first, else a unique display name match.
pub fn find<'a, W: TenantObject>(
    recorded_id: Option<&str>,
    display_name: &str,
    objects: &'a [W],
) -> Result<Found<'a, W>, Duplicate> {
    if let Some(id) = recorded_id
        && let Some(object) = objects
            .iter()
            .find(|o| o.id().is_some_and(|o| o.eq_ignore_ascii_case(id)))
    {
        return Ok(Found::ById(object));
    }
    let named: Vec<&W> = objects
        .iter()
        .filter(|o| o.display_name() == display_name)
        .collect();
    match named.as_slice() {
        [] => Ok(Found::Missing),
        [one] => Ok(Found::ByName(one)),
        many => Err(Duplicate {
            display_name: display_name.to_owned(),
            count: many.len(),
            ids: many
                .iter()
                .filter_map(|o| o.id().map(str::to_owned))
                .collect(),
        }),
    }
}

/// Finds the tenant object among the active ones (see [`find`]), failing that the same among
/// the soft-deleted ones (the most recently deleted of a name).
pub fn find_with_deleted<'a, W: TenantObject>(
    recorded_id: Option<&str>,
    display_name: &str,
    active: &'a [W],
    deleted: &'a [W],
) -> Result<Found<'a, W>, Duplicate> {
    match find(recorded_id, display_name, active)? {
        Found::Missing => {
            let by_id = recorded_id.and_then(|id| {
                deleted
                    .iter()
                    .find(|o| o.id().is_some_and(|o| o.eq_ignore_ascii_case(id)))
            });
            let by_name = || {
                deleted
                    .iter()
                    .filter(|o| o.display_name() == display_name)
                    .max_by(|a, b| a.deleted_date_time().cmp(&b.deleted_date_time()))
            };
            Ok(by_id
                .or_else(by_name)
                .map_or(Found::Missing, Found::Deleted))
        }
        found => Ok(found),
    }
}

/// What to do with one managed object.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Nothing has the name: create it.
    Create {
        /// POST body.
        body: Value,
        /// Endpoint version.
        version: ApiVersion,
    },
    /// The object exists and differs: PATCH these fields.
    Update {
        /// Object id.
        id: String,
        /// What differs.
        changes: Vec<FieldChange>,
        /// PATCH body: complete managed sub-objects with explicit `[]`/`null`.
        patch: Value,
        /// Endpoint version.
        version: ApiVersion,
        /// Found by display name rather than by a recorded id (first reconcile of an existing object).
        adopted: bool,
    },
    /// Deleted in the portal: restore it from deleted items, then PATCH what differs.
    Restore {
        /// Object id (kept by the restore).
        id: String,
        /// What differs from the state it was deleted in.
        changes: Vec<FieldChange>,
        /// PATCH body after the restore (empty object when nothing differs).
        patch: Value,
        /// POST body if the restore fails.
        create_body: Value,
        /// Endpoint version.
        version: ApiVersion,
    },
    /// In sync: nothing to send.
    NoOp {
        /// Object id.
        id: String,
        /// Found by display name rather than by a recorded id.
        adopted: bool,
    },
}

/// The plan for `desired` (to be written through `version`) given what was found in the
/// tenant. `observed_via_beta` says whether the tenant side was read through beta (and so
/// shows beta-only fields).
pub fn plan<W: TenantObject>(
    fields: &[Field<W>],
    desired: &W,
    version: ApiVersion,
    found: Found<'_, W>,
    observed_via_beta: bool,
) -> Plan {
    let compare_beta_only = observed_via_beta || version == ApiVersion::Beta;
    let (observed, adopted) = match found {
        Found::Missing => {
            return Plan::Create {
                body: desired.write_body(),
                version,
            };
        }
        Found::ById(object) => (object, false),
        Found::ByName(object) => (object, true),
        Found::Deleted(object) => {
            let changes = diff(fields, desired, object, compare_beta_only);
            let version = patch_version(fields, version, &changes);
            return Plan::Restore {
                id: object.id().unwrap_or_default().to_owned(),
                patch: patch_body(
                    fields,
                    desired,
                    object,
                    &changes,
                    version == ApiVersion::Beta,
                ),
                create_body: desired.write_body(),
                changes,
                version,
            };
        }
    };
    let id = observed.id().unwrap_or_default().to_owned();
    let changes = diff(fields, desired, observed, compare_beta_only);
    if changes.is_empty() {
        return Plan::NoOp { id, adopted };
    }
    let version = patch_version(fields, version, &changes);
    Plan::Update {
        id,
        patch: patch_body(
            fields,
            desired,
            observed,
            &changes,
            version == ApiVersion::Beta,
        ),
        changes,
        version,
        adopted,
    }
}

/// The version a PATCH goes through: beta when the desired object needs it, and also when a
/// beta-only field must be cleared (set in the portal, absent from the spec): only beta can
/// name it.
fn patch_version<W>(
    fields: &[Field<W>],
    desired: ApiVersion,
    changes: &[FieldChange],
) -> ApiVersion {
    let clears_beta_field = changes
        .iter()
        .any(|c| field(fields, &c.field).is_some_and(|f| f.beta_only));
    if clears_beta_field {
        ApiVersion::Beta
    } else {
        desired
    }
}
