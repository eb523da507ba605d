//! One tenant's read shared by the reconciles of a kind's objects (the operator's protocol):
//! reconciles of one tenant take turns; the first after a resync LISTs, the others plan from
//! its read (and see the writes made since, folded into it). A read is reused while younger
//! than `max_age` and able to plan the object as well as a fresh one; a failed write drops
//! it, since what the tenant then holds is unknown, and so does a plan that waits for another
//! object (its names must be looked up again once that object exists).

use std::time::{Duration, Instant};

use sessionops_api::ProtectedPrincipals;
use sessionops_graph::GraphClient;
use tokio::sync::Mutex;

use super::io::Applied;
use super::kind::{self, Managed, ManagedNames, SeamKind};
use crate::failure::Failure;

/// The shared read of one tenant (one per tenant connection and kind).
#[derive(Debug)]
pub struct SharedRead<K: SeamKind> {
    slot: Mutex<Option<(K::Read, Instant)>>,
}

impl<K: SeamKind> Default for SharedRead<K> {
    fn default() -> Self {
        SharedRead {
            slot: Mutex::new(None),
        }
    }
}

/// What reconciling one object gave.
#[derive(Debug)]
pub struct Reconciled<K: SeamKind> {
    /// The tenant object the spec asks for, when it resolved.
    pub desired: Option<K::Desired>,
    /// The write made (or none needed), or why the object is not Ready.
    pub outcome: Result<Applied, Failure>,
}

impl<K: SeamKind> SharedRead<K> {
    /// Plans the object `key` (one of `managed`, every valid object of the kind on the
    /// tenant) and makes the writes its plan needs.
    pub async fn reconcile(
        &self,
        graph: &GraphClient,
        protected: &ProtectedPrincipals,
        managed: &[Managed<K>],
        key: &str,
        others: &ManagedNames,
        max_age: Duration,
    ) -> Reconciled<K> {
        let mut slot = self.slot.lock().await;
        let target = managed
            .iter()
            .find(|m| m.key() == key)
            .expect("the object being reconciled is among the managed ones");
        let reusable = slot.as_ref().is_some_and(|(read, taken)| {
            taken.elapsed() < max_age && K::serves(read, protected, target)
        });
        if !reusable {
            match K::read(graph, protected, managed).await {
                Ok(read) => *slot = Some((read, Instant::now())),
                Err(failure) => {
                    *slot = None;
                    return Reconciled {
                        desired: None,
                        outcome: Err(failure),
                    };
                }
            }
        }
        let (read, _) = slot.as_mut().expect("a read was just taken or reused");
        let planned = kind::plan_one(read, managed, key, others)
            .expect("the object being reconciled is among the managed ones");
        let outcome = match &planned.plan {
            Ok(plan) => match K::apply(graph, plan).await {
                Ok(applied) => {
                    if !K::record(read, plan, &applied) {
                        *slot = None;
                    }
                    Ok(applied)
                }
                Err(error) => {
                    *slot = None;
                    Err(Failure::from(error))
                }
            },
            Err(error) => {
                let failure: Failure = error.clone().into();
                if failure.is_transient() {
                    *slot = None;
                }
                Err(failure)
            }
        };
        Reconciled {
            desired: planned.desired,
            outcome,
        }
    }

    /// Deletes the tenant object `id` (deletionPolicy Delete); later plans of this tenant no
    /// longer see it.
    pub async fn delete(&self, graph: &GraphClient, id: &str) -> Result<(), Failure> {
        K::delete(graph, id).await?;
        if let Some((read, _)) = self.slot.lock().await.as_mut() {
            K::forget(read, id);
        }
        Ok(())
    }
}
