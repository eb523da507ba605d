//! The SessionPolicy controller: a finalizer that honours `deletionPolicy`, one shared tenant
//! read per connection per resync, the pure plan of `reconcile::policy_sync`, only the writes
//! the plan needs, and a status patch only when the status changed.

use sessionops_core::failure::Failure;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};

use super::connections::{self, Connection};
use super::context::{Context, SharedRead};
use super::metrics::TenantWrite;
use super::{ReconcileError, is_transient};
use sessionops_api::{DeletionPolicy, SessionPolicy, SessionPolicyStatus};
use sessionops_core::session_policy::sync::{self, AppliedAction, ManagedPolicy};
use sessionops_core::status::{self, Status};

/// Keeps a SessionPolicy until its tenant policy was deleted or retained per `deletionPolicy`.
pub const FINALIZER: &str = "sessionops.io/tenant-policy";
const KIND: &str = "SessionPolicy";

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

async fn reconcile_policy(policy: &SessionPolicy, ctx: &Context) -> super::Outcome {
    let namespace = policy.namespace().unwrap_or_default();
    let api: Api<SessionPolicy> = Api::namespaced(ctx.client.clone(), &namespace);
    if policy.meta().deletion_timestamp.is_some() {
        return cleanup(policy, ctx, &api).await;
    }
    if !policy.finalizers().iter().any(|f| f == FINALIZER)
        && let Err(error) = super::add_finalizer(&api, policy, FINALIZER).await
    {
        return (super::KUBERNETES_UNAVAILABLE.into(), false, Err(error));
    }
    // The namespace check reads the watch cache only: a namespace that may not use the
    // connection causes no Secret read and no Graph call.
    let connection = match connections::find(&ctx.stores, &policy.spec.tenant_ref, &namespace) {
        Ok(connection) => connection,
        Err(failure) => return finish(policy, ctx, &api, None, Err(failure)).await,
    };
    let graph = match ctx
        .connections
        .graph(&connection, &ctx.settings, &ctx.metrics, false)
        .await
    {
        Ok(graph) => graph,
        Err(failure) => return finish(policy, ctx, &api, None, Err(failure)).await,
    };
    let managed = siblings(ctx, &connection, policy);
    let key = format!("{namespace}/{}", policy.name_any());
    let slot = ctx.read_slot(&connection.key()).await;
    // Reconciles of one tenant take turns: the first after a resync LISTs, the others plan
    // from its read (and see the writes made since, folded into it).
    let mut shared = slot.lock().await;
    let protected = connection.settings().protected();
    let target = managed
        .iter()
        .find(|m| m.key() == key)
        .expect("the policy being reconciled is among the managed ones");
    let reusable = shared.as_ref().is_some_and(|s| {
        s.taken.elapsed() < ctx.settings.resync / 2 && s.read.serves(protected, target)
    });
    if !reusable {
        match sync::read_for(&graph, protected, &managed).await {
            Ok(read) => {
                *shared = Some(SharedRead {
                    read,
                    taken: Instant::now(),
                })
            }
            Err(failure) => {
                *shared = None;
                drop(shared);
                forget_rejected(ctx, &connection, &failure).await;
                return finish(policy, ctx, &api, None, Err(failure)).await;
            }
        }
    }
    let read = shared.as_mut().expect("a read was just taken or reused");
    let planned = read
        .read
        .plan_one(&managed, &key)
        .expect("the policy being reconciled is among the managed ones");
    let outcome = match &planned.plan {
        Ok(plan) => match sync::apply(&graph, plan).await {
            Ok(applied) => {
                if !read.read.record(plan, &applied) {
                    *shared = None;
                }
                Ok(applied)
            }
            Err(error) => {
                // What the tenant now holds is unknown: read it again next time.
                *shared = None;
                Err(Failure::from(error))
            }
        },
        Err(error) => Err(Failure::from(error.clone())),
    };
    drop(shared);
    if let Err(failure) = &outcome {
        forget_rejected(ctx, &connection, failure).await;
    }
    finish(policy, ctx, &api, planned.desired.as_ref(), outcome).await
}

/// A credential Graph rejected is read again from its Secret at the next use.
async fn forget_rejected(ctx: &Context, connection: &Connection, failure: &Failure) {
    if failure.reason() == "Unauthorized" {
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
        .map(managed_policy)
        .collect();
    managed.push(managed_policy(policy));
    managed.sort_by_key(ManagedPolicy::key);
    managed
}

fn managed_policy(policy: &SessionPolicy) -> ManagedPolicy {
    ManagedPolicy {
        namespace: policy.namespace().unwrap_or_default(),
        name: policy.name_any(),
        generation: policy.meta().generation,
        spec: policy.spec.clone(),
        status: policy.status.clone().unwrap_or_default(),
    }
}

/// Writes the status the outcome leads to (only if it changed), and the events.
async fn finish(
    policy: &SessionPolicy,
    ctx: &Context,
    api: &Api<SessionPolicy>,
    desired: Option<&sessionops_core::session_policy::plan::DesiredPolicy>,
    outcome: Result<sync::Applied, Failure>,
) -> super::Outcome {
    let prior = policy.status.clone().unwrap_or_default();
    let now = Time(jiff::Timestamp::now());
    let status = sync::status_after(&prior, policy.meta().generation, desired, &outcome, &now);
    let ready = status::get(&status.conditions, ConditionType::Ready);
    let reason = ready.map_or("Unknown".to_owned(), |c| c.reason.clone());
    let message = ready.map_or(String::new(), |c| c.message.clone());
    let is_ready = ready.is_some_and(|c| c.status == "True");
    if status != prior
        && let Err(error) = super::patch_status(api, &policy.name_any(), &status).await
    {
        return (reason, is_ready, Err(error));
    }
    let reference = policy.object_ref(&());
    match &outcome {
        Ok(applied) if applied.action != AppliedAction::Unchanged => {
            // The Event's action is a verb (`Create`); the metric counts outcomes (`Created`).
            let (action, write) = match applied.action {
                AppliedAction::Created => ("Create", TenantWrite::Created),
                AppliedAction::Updated => ("Update", TenantWrite::Updated),
                AppliedAction::Restored => ("Restore", TenantWrite::Restored),
                AppliedAction::Unchanged => unreachable!(),
            };
            ctx.metrics.tenant_write(
                KIND,
                if reason == "DriftCorrected" {
                    TenantWrite::DriftCorrected
                } else {
                    write
                },
            );
            ctx.event(
                &reference,
                false,
                &reason,
                action,
                format!("policy {}: {message}", applied.id),
            )
            .await;
        }
        Ok(_) => {}
        Err(failure) => {
            // Repeated failures with the same reason and message become one event series.
            ctx.event(
                &reference,
                true,
                failure.reason(),
                "Reconcile",
                failure.to_string(),
            )
            .await;
        }
    }
    let result = match outcome {
        Err(failure) if is_transient(failure.reason()) => Err(ReconcileError::Transient(failure)),
        // Permanent errors and success wait for a change (or the next resync tick).
        _ => Ok(Action::await_change()),
    };
    (reason, is_ready, result)
}

/// The object is being deleted: delete or retain its tenant policy, then release it.
async fn cleanup(
    policy: &SessionPolicy,
    ctx: &Context,
    api: &Api<SessionPolicy>,
) -> super::Outcome {
    if !policy.finalizers().iter().any(|f| f == FINALIZER) {
        return ("Deleted".into(), true, Ok(Action::await_change()));
    }
    let reference = policy.object_ref(&());
    let namespace = policy.namespace().unwrap_or_default();
    let policy_id = policy.status.as_ref().and_then(|s| s.policy_id.clone());
    match (policy.spec.deletion_policy, policy_id) {
        (DeletionPolicy::Delete, Some(id)) => {
            let deleted = async {
                let connection =
                    connections::find(&ctx.stores, &policy.spec.tenant_ref, &namespace)?;
                let graph = ctx
                    .connections
                    .graph(&connection, &ctx.settings, &ctx.metrics, false)
                    .await?;
                sync::delete(&graph, &id).await.map_err(Failure::from)?;
                // Later plans of this tenant must not see it any more.
                if let Some(shared) = ctx.read_slot(&connection.key()).await.lock().await.as_mut() {
                    shared
                        .read
                        .policies
                        .active
                        .retain(|p| p.id.as_deref() != Some(&id));
                }
                Ok::<(), Failure>(())
            }
            .await;
            if let Err(failure) = deleted {
                // The finalizer stays: the tenant policy would otherwise be orphaned. Removing
                // the finalizer by hand releases the object and leaves the policy in place.
                let message =
                    format!("cannot delete tenant policy {id} (deletionPolicy Delete): {failure}");
                let mut status = policy.status.clone().unwrap_or_default();
                set_ready_false(
                    &mut status,
                    policy.meta().generation,
                    failure.reason(),
                    &message,
                );
                if Some(&status) != policy.status.as_ref()
                    && let Err(error) = super::patch_status(api, &policy.name_any(), &status).await
                {
                    return (failure.reason().into(), false, Err(error));
                }
                ctx.event(&reference, true, failure.reason(), "Delete", message)
                    .await;
                let reason = failure.reason().to_owned();
                let result = if is_transient(&reason) {
                    Err(ReconcileError::Transient(failure))
                } else {
                    Ok(Action::requeue(ctx.settings.resync))
                };
                return (reason, false, result);
            }
            ctx.metrics.tenant_write(KIND, TenantWrite::Deleted);
            ctx.event(&reference, false, "Deleted", "Delete", format!("deleted tenant policy {id} (deletionPolicy Delete; restorable from deleted items for 30 days)")).await;
        }
        (DeletionPolicy::Retain, Some(id)) => {
            ctx.event(
                &reference,
                false,
                "Retained",
                "Delete",
                format!("left tenant policy {id} in place (deletionPolicy Retain)"),
            )
            .await;
        }
        (_, None) => {}
    }
    match super::remove_finalizer(api, policy, FINALIZER).await {
        Ok(()) => ("Deleted".into(), true, Ok(Action::await_change())),
        Err(error) => (super::KUBERNETES_UNAVAILABLE.into(), false, Err(error)),
    }
}

fn set_ready_false(
    status: &mut SessionPolicyStatus,
    generation: Option<i64>,
    reason: &str,
    message: &str,
) {
    status::set(
        &mut status.conditions,
        "Ready",
        Status::False,
        reason,
        message,
        generation,
        &Time(jiff::Timestamp::now()),
    );
}
