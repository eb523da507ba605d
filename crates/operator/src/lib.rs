//! The Kubernetes driver: kube-runtime controllers for the four kinds over the reconcile core
//! (`sessionops_core`). Nothing here decides what to write to the tenant; it reads objects
//! from watch caches, calls the core, and writes status, events and metrics back.
//!
//! - [`tenant_connection`]: token check, granted and missing Graph roles, Secret rotation.
//! - [`tenant_object`]: the controller of every kind on the tenant-object seam (SessionPolicy,
//!   NamedLocation): finalizer, shared tenant read per resync, drift correction.
//! - [`revocation`]: runs once, saves progress in status, resumes after a restart.

pub mod args;
pub mod connections;
pub mod context;
pub mod metrics;
pub mod rbac;
pub mod revocation;
pub mod run;
pub mod server;
pub mod settings;
pub mod tenant_connection;
pub mod tenant_object;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

pub use args::{Args, LogFormat};
pub use context::Context;
pub use run::run;
pub use settings::{Settings, Stores};

use kube::runtime::events::EventType;
use sessionops_api::Kind;
use sessionops_core::failure::Failure;
use sessionops_core::status::{self, ConditionType, Observed, Reason, Status};

use context::EventAction;

/// Why a reconcile asks to be retried with backoff. Permanent failures are not errors here:
/// they are written to status and wait for a change.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The Kubernetes API failed (status patch, finalizer).
    #[error("Kubernetes API: {0}")]
    Kubernetes(#[from] kube::Error),
    /// A transient Graph failure (throttled, unreachable), already recorded in status.
    #[error("{0}")]
    Transient(Failure),
}

impl ReconcileError {
    /// Stable CamelCase reason (metrics, logs).
    pub fn reason(&self) -> Reason {
        match self {
            ReconcileError::Kubernetes(_) => Reason::KubernetesUnavailable,
            ReconcileError::Transient(failure) => failure.reason(),
        }
    }
}

/// Requeue delay after the `failures`-th consecutive failure: 5 s doubling to 5 min, with
/// jitter so objects that failed together do not retry together.
pub fn backoff(failures: u32) -> Duration {
    let base = Duration::from_secs(5).saturating_mul(1 << failures.saturating_sub(1).min(6));
    let capped = base.min(Duration::from_secs(300));
    capped / 2 + capped.mul_f64(fastrand::f64() / 2.0)
}

/// The error policy of every controller: transient failures requeue with backoff.
pub fn error_policy<K: Resource>(
    object: Arc<K>,
    error: &ReconcileError,
    ctx: Arc<Context>,
) -> Action {
    let key = object_key(object.as_ref());
    let failures = ctx.failed(&key);
    let delay = backoff(failures);
    tracing::warn!(object = %key, reason = %error.reason(), error = %error, failures, retry_in_s = delay.as_secs(), "reconcile failed; retrying");
    Action::requeue(delay)
}

/// `namespace/name` (`/name` for cluster-scoped objects).
pub fn object_key<K: Resource>(object: &K) -> String {
    format!(
        "{}/{}",
        object.meta().namespace.clone().unwrap_or_default(),
        object.meta().name.clone().unwrap_or_default()
    )
}

/// Merge-patches `status` (the whole status: its lists are replaced, conditions included).
pub async fn patch_status<K, S>(api: &Api<K>, name: &str, status: &S) -> Result<(), ReconcileError>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await?;
    Ok(())
}

/// Adds a finalizer with a JSON patch that fails if the list changed meanwhile.
pub async fn add_finalizer<K>(
    api: &Api<K>,
    object: &K,
    finalizer: &str,
) -> Result<(), ReconcileError>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let patch = if object.meta().finalizers.is_none() {
        json!([
            { "op": "test", "path": "/metadata/finalizers", "value": null },
            { "op": "add", "path": "/metadata/finalizers", "value": [finalizer] }
        ])
    } else {
        json!([
            { "op": "test", "path": "/metadata/finalizers", "value": object.finalizers() },
            { "op": "add", "path": "/metadata/finalizers/-", "value": finalizer }
        ])
    };
    let patch: json_patch::Patch = serde_json::from_value(patch).expect("a valid JSON patch");
    api.patch(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::<()>::Json(patch),
    )
    .await?;
    Ok(())
}

/// Removes a finalizer (JSON patch with a test of the entry removed).
pub async fn remove_finalizer<K>(
    api: &Api<K>,
    object: &K,
    finalizer: &str,
) -> Result<(), ReconcileError>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let Some(index) = object.finalizers().iter().position(|f| f == finalizer) else {
        return Ok(());
    };
    let path = format!("/metadata/finalizers/{index}");
    let patch: json_patch::Patch = serde_json::from_value(json!([
        { "op": "test", "path": path, "value": finalizer },
        { "op": "remove", "path": path }
    ]))
    .expect("a valid JSON patch");
    api.patch(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::<()>::Json(patch),
    )
    .await?;
    Ok(())
}

/// What a reconcile ended with: the Ready reason, whether Ready, and the controller's result.
#[derive(Debug)]
pub struct Outcome {
    /// The Ready reason (a metric label).
    pub reason: Reason,
    /// Whether the object ended Ready.
    pub ready: bool,
    /// What the controller does next.
    pub result: Result<Action, ReconcileError>,
}

impl Outcome {
    /// Ready with `reason`; waits for a change.
    pub fn ready(reason: Reason) -> Outcome {
        Outcome {
            reason,
            ready: true,
            result: Ok(Action::await_change()),
        }
    }

    /// Not Ready because a Kubernetes call failed: retried with backoff.
    pub fn failed(reason: Reason, error: ReconcileError) -> Outcome {
        Outcome {
            reason,
            ready: false,
            result: Err(error),
        }
    }
}

/// Reports an object of a namespaced kind that does not deserialize (see [`report_invalid`]).
pub async fn invalid_namespaced<K>(
    ctx: &Context,
    object: &kube::core::DeserializeGuard<K>,
    invalid: &kube::core::error_boundary::InvalidObject,
) -> Outcome
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let namespace = invalid.metadata.namespace.clone().unwrap_or_default();
    let name = invalid.metadata.name.clone().unwrap_or_default();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
    let result = report_invalid(
        ctx,
        &api,
        &name,
        &object.object_ref(&()),
        &invalid.error,
        invalid.metadata.generation,
    )
    .await;
    Outcome {
        reason: Reason::InvalidSpec,
        ready: false,
        result,
    }
}

/// Records a finished reconcile of `kind` (metrics; a success resets the object's backoff)
/// and returns its result.
pub fn finished<K: Resource>(
    ctx: &Context,
    kind: Kind,
    object: &K,
    started: std::time::Instant,
    Outcome {
        reason,
        ready,
        result,
    }: Outcome,
) -> Result<Action, ReconcileError> {
    ctx.metrics
        .reconciled(kind, reason, ready, started.elapsed().as_secs_f64());
    if result.is_ok() {
        ctx.succeeded(&object_key(object));
    }
    result
}

/// An object the operator cannot read (it bypassed admission, e.g. an older CRD): Ready=False
/// InvalidSpec with the reason, and nothing written to the tenant.
pub async fn report_invalid<K>(
    ctx: &Context,
    api: &Api<K>,
    name: &str,
    reference: &ObjectReference,
    error: &str,
    generation: Option<i64>,
) -> Result<Action, ReconcileError>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let message = format!("the object does not match the sessionops.io/v1alpha1 schema: {error}");
    let mut conditions = Vec::new();
    status::set(
        &mut conditions,
        (ConditionType::Ready, Status::False),
        Reason::InvalidSpec,
        &message,
        Observed {
            generation,
            now: &Time(jiff::Timestamp::now()),
        },
    );
    patch_status(
        api,
        name,
        &json!({ "observedGeneration": generation, "conditions": conditions }),
    )
    .await?;
    ctx.event(
        reference,
        EventType::Warning,
        Reason::InvalidSpec,
        EventAction::Reconcile,
        message,
    )
    .await;
    Ok(Action::await_change())
}
