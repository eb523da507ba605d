//! The IO half of the seam: one paged LIST of a kind's tenant objects (through beta when a
//! desired object needs beta, so its beta-only fields can be compared), its soft-deleted
//! objects only when one is missing, the writes a [`Plan`] needs, and folding a write into the
//! cached read so that later plans from it see the tenant as it now is.

use serde::de::DeserializeOwned;
use serde_json::Value;
use sessionops_graph::{ApiVersion, GraphClient, GraphError, GraphRequest};

use super::TenantObject;
use super::plan::Plan;
use crate::status::Reason;

/// Where a kind's objects live in Graph.
#[derive(Clone, Copy, Debug)]
pub struct Endpoints {
    /// What an object is called in messages (`policy`, `named location`).
    pub noun: &'static str,
    /// The collection: LIST and POST.
    pub collection: &'static str,
    /// One object: PATCH and DELETE.
    pub item: fn(&str) -> String,
    /// The soft-deleted objects (beta only) and the restore action of one, when the kind has
    /// deleted items.
    pub deleted: Option<DeletedItems>,
}

/// A kind's `deletedItems` collection and its restore action.
#[derive(Clone, Copy, Debug)]
pub struct DeletedItems {
    /// The collection.
    pub collection: &'static str,
    /// The restore action of one item.
    pub restore: fn(&str) -> String,
}

/// A kind's tenant objects as one LIST returned them.
#[derive(Clone, Debug)]
pub struct TenantObjects<W> {
    /// Active objects.
    pub active: Vec<W>,
    /// Soft-deleted objects, read only when some managed object's tenant object is missing.
    pub deleted: Vec<W>,
    /// Read through beta (so beta-only fields are visible).
    pub via_beta: bool,
}

impl<W> Default for TenantObjects<W> {
    fn default() -> Self {
        TenantObjects {
            active: Vec::new(),
            deleted: Vec::new(),
            via_beta: false,
        }
    }
}

fn version(via_beta: bool) -> ApiVersion {
    if via_beta {
        ApiVersion::Beta
    } else {
        ApiVersion::V1
    }
}

/// Reads the tenant's objects of one kind: one paged LIST.
pub async fn read<W>(
    client: &GraphClient,
    endpoints: &Endpoints,
    via_beta: bool,
) -> Result<TenantObjects<W>, GraphError>
where
    W: DeserializeOwned + Send + 'static,
{
    let active = client
        .list_all(GraphRequest::get(endpoints.collection).version(version(via_beta)))
        .await?;
    Ok(TenantObjects {
        active,
        deleted: Vec::new(),
        via_beta,
    })
}

/// Adds the soft-deleted objects (one more LIST, only when some object is missing).
///
/// Deleted items are documented on beta only (`beta/api/policydeletableitem-list.md`, "global
/// service only"), so they are always read there. A permanent refusal is "nothing to
/// restore", never a failure: national clouds answer 400 for the unknown segment, and
/// app-only callers may be refused with 403. The missing object is then created. Only a
/// transient failure is returned.
pub async fn read_deleted<W>(
    client: &GraphClient,
    endpoints: &Endpoints,
    objects: &mut TenantObjects<W>,
) -> Result<(), GraphError>
where
    W: DeserializeOwned + Send + 'static,
{
    let Some(deleted) = endpoints.deleted else {
        return Ok(());
    };
    objects.deleted = match client
        .list_all(GraphRequest::get(deleted.collection).version(ApiVersion::Beta))
        .await
    {
        Ok(items) => items,
        Err(error) if Reason::from(&error).is_transient() => return Err(error),
        Err(error) => {
            tracing::info!(%error, collection = deleted.collection, "deleted items cannot be read; a missing object is created instead of restored");
            Vec::new()
        }
    };
    Ok(())
}

/// What applying a plan did.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The object id.
    pub id: String,
    /// What was done.
    pub action: AppliedAction,
    /// Version used for writes.
    pub version: ApiVersion,
    /// Managed fields changed.
    pub changed_fields: Vec<String>,
    /// Why the write differs from the plan (a restore that failed and became a create).
    pub note: Option<String>,
}

/// The write (or none) a plan led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppliedAction {
    /// POSTed.
    Created,
    /// PATCHed.
    Updated,
    /// Restored from deleted items (and PATCHed if it differed).
    Restored,
    /// Nothing sent.
    Unchanged,
}

/// The id of an object a POST created.
#[derive(serde::Deserialize)]
struct Created {
    id: String,
}

/// Applies one plan through the client.
pub async fn apply(
    client: &GraphClient,
    endpoints: &Endpoints,
    plan: &Plan,
) -> Result<Applied, GraphError> {
    let applied = |id: &str, action, version, changes: &[super::FieldChange]| Applied {
        id: id.to_owned(),
        action,
        version,
        changed_fields: changes.iter().map(|c| c.field.clone()).collect(),
        note: None,
    };
    match plan {
        Plan::Create { body, version } => {
            let created: Created = client
                .send_json(GraphRequest::post(endpoints.collection, body.clone()).version(*version))
                .await?;
            Ok(applied(&created.id, AppliedAction::Created, *version, &[]))
        }
        Plan::Update {
            id,
            changes,
            patch,
            version,
            ..
        } => {
            client
                .send(GraphRequest::patch(&(endpoints.item)(id), patch.clone()).version(*version))
                .await?;
            Ok(applied(id, AppliedAction::Updated, *version, changes))
        }
        Plan::Restore {
            id,
            changes,
            patch,
            create_body,
            version,
        } => {
            // Beta only, like the deleted-items read. A permanent failure (the restore
            // refused, the item purged meanwhile) falls back to creating the object.
            let restored = match endpoints.deleted {
                Some(deleted) => {
                    let restore =
                        GraphRequest::action(&(deleted.restore)(id)).version(ApiVersion::Beta);
                    client.send(restore).await.map(|_| ())
                }
                None => Err(GraphError::Protocol {
                    detail: "this kind has no deleted items".to_owned(),
                    ids: Default::default(),
                }),
            };
            if let Err(error) = restored {
                if Reason::from(&error).is_transient() {
                    return Err(error);
                }
                let created: Created = client
                    .send_json(
                        GraphRequest::post(endpoints.collection, create_body.clone())
                            .version(*version),
                    )
                    .await?;
                let mut created = applied(&created.id, AppliedAction::Created, *version, &[]);
                let noun = endpoints.noun;
                created.note = Some(format!(
                    "restoring deleted {noun} {id} failed ({error}), so a new {noun} was created"
                ));
                return Ok(created);
            }
            if patch.as_object().is_some_and(|p| !p.is_empty()) {
                client
                    .send(
                        GraphRequest::patch(&(endpoints.item)(id), patch.clone()).version(*version),
                    )
                    .await?;
            }
            Ok(applied(id, AppliedAction::Restored, *version, changes))
        }
        Plan::NoOp { id, .. } => Ok(applied(id, AppliedAction::Unchanged, ApiVersion::V1, &[])),
    }
}

/// Deletes one object (it stays restorable in deleted items where the kind has them). An
/// object already gone is success.
pub async fn delete(
    client: &GraphClient,
    endpoints: &Endpoints,
    id: &str,
) -> Result<(), GraphError> {
    match client
        .send(GraphRequest::delete(&(endpoints.item)(id)))
        .await
    {
        Ok(_) | Err(GraphError::NotFound { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}

impl<W> TenantObjects<W>
where
    W: TenantObject + serde::Serialize + DeserializeOwned,
{
    /// Folds a write just made into this read, so that plans made from it before the next
    /// LIST see the tenant as it now is (and send nothing more). False when the write cannot
    /// be folded in: the caller then discards the read.
    pub fn record(&mut self, plan: &Plan, applied: &Applied) -> bool {
        match plan {
            Plan::Create { body, .. } => push_created(&mut self.active, body, &applied.id),
            // A restore that became a create (see `apply`).
            Plan::Restore { create_body, .. } if applied.action == AppliedAction::Created => {
                push_created(&mut self.active, create_body, &applied.id)
            }
            Plan::Update { id, patch, .. } => patch_cached(&mut self.active, id, patch),
            Plan::Restore { id, patch, .. } => {
                let Some(at) = self.deleted.iter().position(|o| o.id() == Some(id)) else {
                    return false;
                };
                let restored = self.deleted.remove(at);
                self.active.push(restored);
                patch_cached(&mut self.active, id, patch)
            }
            Plan::NoOp { .. } => true,
        }
    }

    /// Forgets an object just deleted.
    pub fn forget(&mut self, id: &str) {
        self.active.retain(|o| o.id() != Some(id));
    }
}

/// Adds an object just created from `body` under `id` to the cached copy of the tenant.
fn push_created<W: DeserializeOwned>(active: &mut Vec<W>, body: &Value, id: &str) -> bool {
    let mut body = body.clone();
    body["id"] = Value::String(id.to_owned());
    match serde_json::from_value(body) {
        Ok(created) => {
            active.push(created);
            true
        }
        Err(_) => false,
    }
}

/// Applies a PATCH body to the cached copy of an object as Graph does: nested objects merge,
/// arrays and scalars replace, null clears (RFC 7386).
fn patch_cached<W>(active: &mut [W], id: &str, patch: &Value) -> bool
where
    W: TenantObject + serde::Serialize + DeserializeOwned,
{
    let Some(cached) = active.iter_mut().find(|o| o.id() == Some(id)) else {
        return false;
    };
    let Ok(mut value) = serde_json::to_value(&*cached) else {
        return false;
    };
    merge_patch(&mut value, patch);
    match serde_json::from_value(value) {
        Ok(patched) => {
            *cached = patched;
            true
        }
        Err(_) => false,
    }
}

fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                match value {
                    Value::Null => {
                        target.insert(key.clone(), Value::Null);
                    }
                    Value::Object(_) => merge_patch(
                        target
                            .entry(key.clone())
                            .or_insert(Value::Object(Default::default())),
                        value,
                    ),
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}
