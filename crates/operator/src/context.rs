//! What every reconcile shares: the Kubernetes client, the watch caches, the Graph clients of
//! the tenant connections, the tenant reads shared by SessionPolicies, events and metrics.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use super::connections::{self, Connection, Connections};
use super::metrics::Metrics;
use super::settings::{Settings, Stores};
use sessionops_api::Kind;
use sessionops_api::TenantRef;
use sessionops_core::failure::Failure;
use sessionops_core::status::Reason;
use sessionops_core::tenant_object::kind::SeamKind;
use sessionops_core::tenant_object::shared::SharedRead;
use sessionops_graph::GraphClient;

/// The field manager and event reporter name.
pub const MANAGER: &str = "sessionops";

/// Shared by every reconcile.
pub struct Context {
    /// Kubernetes client.
    pub client: kube::Client,
    /// Watch caches.
    pub stores: Stores,
    /// Graph clients per tenant connection.
    pub connections: Connections,
    /// Tenant reads per kind and connection key (each a `SharedRead` of its kind); the async
    /// mutex in each makes reconciles of one tenant take turns, so one LIST serves them all.
    reads: tokio::sync::Mutex<HashMap<(Kind, String), Arc<dyn std::any::Any + Send + Sync>>>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Tunables.
    pub settings: Settings,
    recorder: Recorder,
    /// Consecutive failures per object (`namespace/name`), for the requeue backoff.
    failures: std::sync::Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context; `instance` names this replica in events.
    pub fn new(
        client: kube::Client,
        stores: Stores,
        metrics: Arc<Metrics>,
        settings: Settings,
        instance: Option<String>,
    ) -> Self {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: MANAGER.into(),
                instance,
            },
        );
        Context {
            connections: Connections::new(client.clone()),
            client,
            stores,
            reads: Default::default(),
            metrics,
            settings,
            recorder,
            failures: Default::default(),
        }
    }

    /// Counts one more consecutive failure of `key`; returns the count.
    pub fn failed(&self, key: &str) -> u32 {
        let mut failures = self.failures.lock().expect("not poisoned");
        let count = failures.entry(key.to_owned()).or_default();
        *count += 1;
        *count
    }

    /// `key` reconciled fine: its backoff starts over.
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().expect("not poisoned").remove(key);
    }

    /// Waits until every watch cache holds its initial list (a reconcile must not report a
    /// connection missing that the cache simply has not seen yet).
    pub async fn wait_for_caches(&self) {
        let stores = &self.stores;
        // An Err means the cache's writer is gone (shutting down): nothing to wait for.
        let _ = tokio::join!(
            stores.cluster_connections.wait_until_ready(),
            stores.connections.wait_until_ready(),
            stores.policies.wait_until_ready(),
            stores.locations.wait_until_ready(),
            stores.strengths.wait_until_ready(),
            stores.revocations.wait_until_ready(),
        );
    }

    /// The connection `reference` names, if objects of `namespace` may use it, and its Graph
    /// client. The namespace check reads the watch cache only, so a namespace that may not use
    /// the connection causes no Secret read and no Graph call.
    pub(crate) async fn connect(
        &self,
        reference: &TenantRef,
        namespace: &str,
    ) -> Result<(Connection, GraphClient), Failure> {
        let connection = connections::find(&self.stores, reference, namespace)?;
        let graph = self
            .connections
            .graph(&connection, &self.settings, &self.metrics, false)
            .await?;
        Ok((connection, graph))
    }

    /// The tenant read the objects of kind `K` on one connection share.
    pub(crate) async fn shared_read<K: SeamKind>(&self, connection: &str) -> Arc<SharedRead<K>> {
        let read = self
            .reads
            .lock()
            .await
            .entry((K::KIND, connection.to_owned()))
            .or_insert_with(|| Arc::new(SharedRead::<K>::default()))
            .clone();
        read.downcast::<SharedRead<K>>()
            .expect("the reads of a kind are that kind's SharedRead")
    }

    /// Publishes an Event about `object`; a failure is logged, never fatal (events are best
    /// effort, status is the record).
    pub async fn event(
        &self,
        object: &ObjectReference,
        type_: EventType,
        reason: Reason,
        action: EventAction,
        note: String,
    ) {
        // The events API caps notes at 1 kB.
        let note = if note.len() > 1000 {
            let mut end = 1000;
            while !note.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}…", &note[..end])
        } else {
            note
        };
        let event = Event {
            type_,
            reason: reason.as_str().to_owned(),
            note: Some(note),
            action: action.as_str().to_owned(),
            secondary: None,
        };
        if let Err(error) = self.recorder.publish(&event, object).await {
            tracing::warn!(%error, %reason, "could not publish an event");
        }
    }
}

/// The `action` of an Event: what the operator was doing (a verb, as Kubernetes' events API
/// asks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventAction {
    /// Created a tenant object.
    Create,
    /// Updated a tenant object.
    Update,
    /// Restored a tenant object from deleted items.
    Restore,
    /// Deleted (or retained) the tenant object of a deleted object.
    Delete,
    /// Reconciled (a failure before any write).
    Reconcile,
    /// Ran a RevocationRequest.
    Revoke,
    /// Checked a tenant connection's token.
    CheckToken,
}

impl EventAction {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::Create => "Create",
            EventAction::Update => "Update",
            EventAction::Restore => "Restore",
            EventAction::Delete => "Delete",
            EventAction::Reconcile => "Reconcile",
            EventAction::Revoke => "Revoke",
            EventAction::CheckToken => "CheckToken",
        }
    }
}
