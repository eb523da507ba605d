//! The SessionPolicy controller: a finalizer that honours `deletionPolicy`, one shared tenant
//! read per connection per resync, the pure plan of `reconcile::policy_sync`, only the writes
//! the plan needs, and a status patch only when the status changed.

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, Resource, ResourceExt};

use super::connections::Connection;
use super::context::{Context, EventAction};
use super::metrics::TenantWrite;
use super::{Outcome, ReconcileError};
use sessionops_api::{DeletionPolicy, Kind, SessionPolicy};
use sessionops_core::failure::Failure;
use sessionops_core::session_policy::plan::DesiredPolicy;
use sessionops_core::session_policy::sync::{self, AppliedAction, ManagedPolicy};
use sessionops_core::status::{self, Reason};

/// Keeps a SessionPolicy until its tenant policy was deleted or retained per `deletionPolicy`.
pub const FINALIZER: &str = "sessionops.io/tenant-policy";
const KIND: Kind = Kind::SessionPolicy;

/// Reconciles one SessionPolicy.
pub async fn reconcile(
    object: Arc<DeserializeGuard<SessionPolicy>>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    ctx.wait_for_caches().await;
    let outcome = match &object.0 {
        Ok(policy) => reconcile_policy(policy, &ctx).await,
        Err(invalid) => super::invalid_namespaced(&ctx, object.as_ref(), invalid).await,
    };
    super::finished(&ctx, KIND, object.as_ref(), started, outcome)
}

async fn reconcile_policy(policy: &SessionPolicy, ctx: &Context) -> Outcome {
    let namespace = policy.namespace().unwrap_or_default();
    let api: Api<SessionPolicy> = Api::namespaced(ctx.client.clone(), &namespace);
    if policy.meta().deletion_timestamp.is_some() {
        return cleanup(policy, ctx, &api).await;
    }
    if !policy.finalizers().iter().any(|f| f == FINALIZER)
        && let Err(error) = super::add_finalizer(&api, policy, FINALIZER).await
    {
        return Outcome::failed(Reason::KubernetesUnavailable, error);
    }
    let (connection, graph) = match ctx.connect(&policy.spec.tenant_ref, &namespace).await {
        Ok(connected) => connected,
        Err(failure) => return finish(policy, ctx, &api, None, Err(failure)).await,
    };
    let managed = siblings(ctx, &connection, policy);
    let key = format!("{namespace}/{}", policy.name_any());
    let reconciled = ctx
        .shared_read(&connection.key())
        .await
        .reconcile(
            &graph,
            connection.settings().protected(),
            &managed,
            &key,
            ctx.settings.resync / 2,
        )
        .await;
    if let Err(failure) = &reconciled.outcome {
        forget_rejected(ctx, &connection, failure).await;
    }
    finish(
        policy,
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

/// The valid, not-deleting SessionPolicies that use the same connection (and may), with
/// `policy` as given (it may be newer than the cache). Sorted by key.
fn siblings(ctx: &Context, connection: &Connection, policy: &SessionPolicy) -> Vec<ManagedPolicy> {
    let key = |p: &SessionPolicy| (p.namespace().unwrap_or_default(), p.name_any());
    let mut managed: Vec<ManagedPolicy> = ctx
        .stores
        .policies
        .state()
        .iter()
        .filter_map(|guard| guard.0.as_ref().ok())
        .filter(|p| p.meta().deletion_timestamp.is_none() && key(p) != key(policy))
        .filter(|p| connection.serves(&p.spec.tenant_ref, &p.namespace().unwrap_or_default()))
        .map(ManagedPolicy::from)
        .collect();
    managed.push(ManagedPolicy::from(policy));
    managed.sort_by_key(ManagedPolicy::key);
    managed
}

/// Writes the status the outcome leads to (only if it changed), and the events.
async fn finish(
    policy: &SessionPolicy,
    ctx: &Context,
    api: &Api<SessionPolicy>,
    desired: Option<&DesiredPolicy>,
    outcome: Result<sync::Applied, Failure>,
) -> Outcome {
    let prior = policy.status.clone().unwrap_or_default();
    let now = Time(jiff::Timestamp::now());
    let status = sync::status_after(&prior, policy.meta().generation, desired, &outcome, &now);
    let ready = status::ready(&status.conditions);
    if status != prior
        && let Err(error) = super::patch_status(api, &policy.name_any(), &status).await
    {
        return Outcome::failed(ready.reason, error);
    }
    let reference = policy.object_ref(&());
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
            ctx.metrics.tenant_write(KIND, write);
            ctx.event(
                &reference,
                EventType::Normal,
                ready.reason,
                action,
                format!("policy {}: {}", applied.id, ready.message),
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

/// The object is being deleted: delete or retain its tenant policy, then release it.
async fn cleanup(policy: &SessionPolicy, ctx: &Context, api: &Api<SessionPolicy>) -> Outcome {
    if !policy.finalizers().iter().any(|f| f == FINALIZER) {
        return Outcome::ready(Reason::Deleted);
    }
    let reference = policy.object_ref(&());
    let namespace = policy.namespace().unwrap_or_default();
    let policy_id = policy.status.as_ref().and_then(|s| s.policy_id.clone());
    match (policy.spec.deletion_policy, policy_id) {
        (DeletionPolicy::Delete, Some(id)) => {
            let deleted = async {
                let (connection, graph) = ctx.connect(&policy.spec.tenant_ref, &namespace).await?;
                ctx.shared_read(&connection.key())
                    .await
                    .delete(&graph, &id)
                    .await
            }
            .await;
            if let Err(failure) = deleted {
                let prior = policy.status.clone().unwrap_or_default();
                let (status, message) = sync::status_after_failed_delete(
                    &prior,
                    policy.meta().generation,
                    &id,
                    &failure,
                    &Time(jiff::Timestamp::now()),
                );
                let reason = failure.reason();
                if status != prior
                    && let Err(error) = super::patch_status(api, &policy.name_any(), &status).await
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
            ctx.metrics.tenant_write(KIND, TenantWrite::Deleted);
            ctx.event(
                &reference,
                EventType::Normal,
                Reason::Deleted,
                EventAction::Delete,
                format!("deleted tenant policy {id} (deletionPolicy Delete; restorable from deleted items for 30 days)"),
            )
            .await;
        }
        (DeletionPolicy::Retain, Some(id)) => {
            ctx.event(
                &reference,
                EventType::Normal,
                Reason::Retained,
                EventAction::Delete,
                format!("left tenant policy {id} in place (deletionPolicy Retain)"),
            )
            .await;
        }
        (_, None) => {}
    }
    match super::remove_finalizer(api, policy, FINALIZER).await {
        Ok(()) => Outcome::ready(Reason::Deleted),
        Err(error) => Outcome::failed(Reason::KubernetesUnavailable, error),
    }
}
