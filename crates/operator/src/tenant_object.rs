//! The controller of every kind on the tenant-object seam (SessionPolicy, NamedLocation,
//! AuthenticationStrength, IdleTimeoutPolicy):
//! a finalizer that honours `deletionPolicy`, one shared tenant read per connection and kind
//! per resync, the pure plan of the core, only the writes the plan needs, and a status patch
//! only when the status changed. A kind brings its [`SeamKind`] implementation and its watch
//! cache ([`Controlled::store`]); nothing here is specific to one kind.

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::core::{DeserializeGuard, NamespaceResourceScope};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::reflector::Store;
use kube::{Api, ResourceExt};
use serde::Serialize;

use super::connections::Connection;
use super::context::{Context, EventAction};
use super::metrics::TenantWrite;
use super::settings::Stores;
use super::{Outcome, ReconcileError};
use sessionops_api::{
    AuthenticationStrength, DeletionPolicy, IdleTimeoutPolicy, NamedLocation, SessionPolicy,
};
use sessionops_core::failure::Failure;
use sessionops_core::status::{self, Reason};
use sessionops_core::tenant_object::io::{Applied, AppliedAction};
use sessionops_core::tenant_object::kind::{self, Managed, ManagedNames, SeamKind, SeamStatus};

/// A seam kind the operator runs: its watch cache.
pub trait Controlled: SeamKind<Scope = NamespaceResourceScope> + Serialize {
    /// The watch cache of the kind.
    fn store(stores: &Stores) -> &Store<DeserializeGuard<Self>>;
}

impl Controlled for SessionPolicy {
    fn store(stores: &Stores) -> &Store<DeserializeGuard<Self>> {
        &stores.policies
    }
}

impl Controlled for AuthenticationStrength {
    fn store(stores: &Stores) -> &Store<DeserializeGuard<Self>> {
        &stores.strengths
    }
}

impl Controlled for IdleTimeoutPolicy {
    fn store(stores: &Stores) -> &Store<DeserializeGuard<Self>> {
        &stores.idle_timeouts
    }
}

impl Controlled for NamedLocation {
    fn store(stores: &Stores) -> &Store<DeserializeGuard<Self>> {
        &stores.locations
    }
}

/// Reconciles one object of kind `K`.
pub async fn reconcile<K: Controlled>(
    object: Arc<DeserializeGuard<K>>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    ctx.wait_for_caches().await;
    let outcome = match &object.0 {
        Ok(valid) => reconcile_valid(valid, &ctx).await,
        Err(invalid) => super::invalid_namespaced(&ctx, object.as_ref(), invalid).await,
    };
    super::finished(&ctx, K::KIND, object.as_ref(), started, outcome)
}

async fn reconcile_valid<K: Controlled>(object: &K, ctx: &Context) -> Outcome {
    let namespace = object.namespace().unwrap_or_default();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
    if object.meta().deletion_timestamp.is_some() {
        return cleanup(object, ctx, &api).await;
    }
    if !object.finalizers().iter().any(|f| f == K::FINALIZER)
        && let Err(error) = super::add_finalizer(&api, object, K::FINALIZER).await
    {
        return Outcome::failed(Reason::KubernetesUnavailable, error);
    }
    let (connection, graph) = match ctx.connect(K::tenant_ref(object.spec()), &namespace).await {
        Ok(connected) => connected,
        Err(failure) => return finish(object, ctx, &api, None, Err(failure)).await,
    };
    let managed = siblings(ctx, &connection, object);
    let others = managed_names(&ctx.stores, &connection);
    let key = format!("{namespace}/{}", object.name_any());
    let reconciled = ctx
        .shared_read::<K>(&connection.key())
        .await
        .reconcile(
            &graph,
            connection.settings().protected(),
            &managed,
            &key,
            &others,
            ctx.settings.resync / 2,
        )
        .await;
    if let Err(failure) = &reconciled.outcome {
        forget_rejected(ctx, &connection, failure).await;
    }
    finish(
        object,
        ctx,
        &api,
        reconciled.desired.as_ref(),
        reconciled.outcome,
    )
    .await
}

/// A credential Graph rejected is read again from its Secret at the next use.
async fn forget_rejected(ctx: &Context, connection: &Connection, failure: &Failure) {
    if failure.reason() == Reason::Unauthorized {
        ctx.connections.forget(&connection.key()).await;
    }
}

/// The valid, not-deleting objects of `K` that use the same connection (and may), with
/// `object` as given (it may be newer than the cache). Sorted by key.
fn siblings<K: Controlled>(ctx: &Context, connection: &Connection, object: &K) -> Vec<Managed<K>> {
    let own = Managed::of(object);
    let mut managed: Vec<Managed<K>> = valid_on(K::store(&ctx.stores), connection)
        .filter(|m| m.key() != own.key())
        .collect();
    managed.push(own);
    managed.sort_by_key(Managed::key);
    managed
}

/// The valid, not-deleting objects of a cache that use `connection`.
fn valid_on<'a, K: Controlled>(
    store: &'a Store<DeserializeGuard<K>>,
    connection: &'a Connection,
) -> impl Iterator<Item = Managed<K>> + 'a {
    store.state().into_iter().filter_map(move |guard| {
        let object = guard.0.as_ref().ok()?;
        let usable = object.meta().deletion_timestamp.is_none()
            && connection.serves(
                K::tenant_ref(object.spec()),
                &object.namespace().unwrap_or_default(),
            );
        usable.then(|| Managed::of(object))
    })
}

/// Whether some valid object of `K` uses `connection`, one being deleted included (its
/// deletion needs the connection's permissions too).
pub(crate) fn any_uses<K: Controlled>(stores: &Stores, connection: &Connection) -> bool {
    K::store(stores).state().iter().any(|guard| {
        guard.0.as_ref().is_ok_and(|object| {
            connection.serves(
                K::tenant_ref(object.spec()),
                &object.namespace().unwrap_or_default(),
            )
        })
    })
}

/// The display names that objects other kinds refer to manage on `connection`.
fn managed_names(stores: &Stores, connection: &Connection) -> ManagedNames {
    let mut names = ManagedNames::default();
    let locations: Vec<Managed<NamedLocation>> = valid_on(&stores.locations, connection).collect();
    kind::managed_names(&locations, &mut names);
    let strengths: Vec<Managed<AuthenticationStrength>> =
        valid_on(&stores.strengths, connection).collect();
    kind::managed_names(&strengths, &mut names);
    names
}

/// The connection an object of a seam kind is applied through.
pub fn tenant_ref_of<K: SeamKind>(object: &K) -> &sessionops_api::TenantRef {
    K::tenant_ref(object.spec())
}

/// Writes the status the outcome leads to (only if it changed), and the events.
async fn finish<K: Controlled>(
    object: &K,
    ctx: &Context,
    api: &Api<K>,
    desired: Option<&K::Desired>,
    outcome: Result<Applied, Failure>,
) -> Outcome {
    let prior = object.status().cloned().unwrap_or_default();
    let now = Time(jiff::Timestamp::now());
    let status = kind::status_after::<K>(&prior, object.meta().generation, desired, &outcome, &now);
    let ready = status::ready(status.conditions());
    if status != prior
        && let Err(error) = super::patch_status(api, &object.name_any(), &status).await
    {
        return Outcome::failed(ready.reason, error);
    }
    let reference = object.object_ref(&());
    match &outcome {
        Ok(applied) if applied.action != AppliedAction::Unchanged => {
            // The Event's action is a verb (`Create`); the metric counts outcomes (`Created`).
            let (action, write) = match applied.action {
                AppliedAction::Created => (EventAction::Create, TenantWrite::Created),
                AppliedAction::Updated => (EventAction::Update, TenantWrite::Updated),
                AppliedAction::Restored => (EventAction::Restore, TenantWrite::Restored),
                AppliedAction::Unchanged => unreachable!(),
            };
            let write = if ready.reason == Reason::DriftCorrected {
                TenantWrite::DriftCorrected
            } else {
                write
            };
            ctx.metrics.tenant_write(K::KIND, write);
            ctx.event(
                &reference,
                EventType::Normal,
                ready.reason,
                action,
                format!("{} {}: {}", K::NOUN, applied.id, ready.message),
            )
            .await;
        }
        Ok(_) => {}
        Err(failure) => {
            // Repeated failures with the same reason and message become one event series.
            ctx.event(
                &reference,
                EventType::Warning,
                failure.reason(),
                EventAction::Reconcile,
                failure.to_string(),
            )
            .await;
        }
    }
    let result = match outcome {
        Err(failure) if failure.is_transient() => Err(ReconcileError::Transient(failure)),
        // Permanent errors and success wait for a change (or the next resync tick).
        _ => Ok(Action::await_change()),
    };
    Outcome {
        reason: ready.reason,
        ready: ready.ready,
        result,
    }
}

/// The object is being deleted: delete or retain its tenant object, then release it.
async fn cleanup<K: Controlled>(object: &K, ctx: &Context, api: &Api<K>) -> Outcome {
    if !object.finalizers().iter().any(|f| f == K::FINALIZER) {
        return Outcome::ready(Reason::Deleted);
    }
    let reference = object.object_ref(&());
    let namespace = object.namespace().unwrap_or_default();
    let tenant_id = object
        .status()
        .and_then(|s| s.tenant_id())
        .map(str::to_owned);
    let noun = K::NOUN;
    match (K::deletion_policy(object.spec()), tenant_id) {
        (DeletionPolicy::Delete, Some(id)) => {
            let deleted = async {
                let (connection, graph) = ctx
                    .connect(K::tenant_ref(object.spec()), &namespace)
                    .await?;
                ctx.shared_read::<K>(&connection.key())
                    .await
                    .delete(&graph, &id)
                    .await
            }
            .await;
            if let Err(failure) = deleted {
                let prior = object.status().cloned().unwrap_or_default();
                let (status, message) = kind::status_after_failed_delete::<K>(
                    &prior,
                    object.meta().generation,
                    &id,
                    &failure,
                    &Time(jiff::Timestamp::now()),
                );
                let reason = failure.reason();
                if status != prior
                    && let Err(error) = super::patch_status(api, &object.name_any(), &status).await
                {
                    return Outcome::failed(reason, error);
                }
                ctx.event(
                    &reference,
                    EventType::Warning,
                    reason,
                    EventAction::Delete,
                    message,
                )
                .await;
                let result = if failure.is_transient() {
                    Err(ReconcileError::Transient(failure))
                } else {
                    Ok(Action::requeue(ctx.settings.resync))
                };
                return Outcome {
                    reason,
                    ready: false,
                    result,
                };
            }
            ctx.metrics.tenant_write(K::KIND, TenantWrite::Deleted);
            ctx.event(
                &reference,
                EventType::Normal,
                Reason::Deleted,
                EventAction::Delete,
                format!(
                    "deleted tenant {noun} {id} (deletionPolicy Delete; {})",
                    K::deleted_note()
                ),
            )
            .await;
        }
        (DeletionPolicy::Retain, Some(id)) => {
            ctx.event(
                &reference,
                EventType::Normal,
                Reason::Retained,
                EventAction::Delete,
                format!("left tenant {noun} {id} in place (deletionPolicy Retain)"),
            )
            .await;
        }
        (_, None) => {}
    }
    match super::remove_finalizer(api, object, K::FINALIZER).await {
        Ok(()) => Outcome::ready(Reason::Deleted),
        Err(error) => Outcome::failed(Reason::KubernetesUnavailable, error),
    }
}
