//! One tenant's read shared by the reconciles of its SessionPolicies (the operator's
//! protocol): reconciles of one tenant take turns; the first after a resync LISTs, the others
//! plan from its read (and see the writes made since, folded into it). A read is reused while
//! younger than `max_age` and able to plan the policy as well as a fresh one; a failed write
//! drops it, since what the tenant then holds is unknown.

use std::time::{Duration, Instant};

use sessionops_api::ProtectedPrincipals;
use sessionops_graph::GraphClient;
use tokio::sync::Mutex;

use super::plan::DesiredPolicy;
use super::sync::{self, Applied, ManagedPolicy, TenantRead};
use crate::failure::Failure;

/// The shared read of one tenant (one per tenant connection).
#[derive(Debug, Default)]
pub struct SharedRead {
    slot: Mutex<Option<(TenantRead, Instant)>>,
}

/// What reconciling one SessionPolicy gave.
#[derive(Debug)]
pub struct Reconciled {
    /// The policy the spec asks for, when it resolved.
    pub desired: Option<DesiredPolicy>,
    /// The write made (or none needed), or why the policy is not Ready.
    pub outcome: Result<Applied, Failure>,
}

impl SharedRead {
    /// Plans the SessionPolicy `key` (one of `managed`, every valid policy of the tenant) and
    /// makes the writes its plan needs.
    pub async fn reconcile(
        &self,
        graph: &GraphClient,
        protected: &ProtectedPrincipals,
        managed: &[ManagedPolicy],
        key: &str,
        max_age: Duration,
    ) -> Reconciled {
        let mut slot = self.slot.lock().await;
        let target = managed
            .iter()
            .find(|m| m.key() == key)
            .expect("the policy being reconciled is among the managed ones");
        let reusable = slot.as_ref().is_some_and(|(read, taken)| {
            taken.elapsed() < max_age && read.serves(protected, target)
        });
        if !reusable {
            match sync::read_for(graph, protected, managed).await {
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
        let planned = read
            .plan_one(managed, key)
            .expect("the policy being reconciled is among the managed ones");
        let outcome = match &planned.plan {
            Ok(plan) => match sync::apply(graph, plan).await {
                Ok(applied) => {
                    if !read.record(plan, &applied) {
                        *slot = None;
                    }
                    Ok(applied)
                }
                Err(error) => {
                    *slot = None;
                    Err(Failure::from(error))
                }
            },
            Err(error) => Err(Failure::from(error.clone())),
        };
        Reconciled {
            desired: planned.desired,
            outcome,
        }
    }

    /// Deletes the tenant policy `id` (deletionPolicy Delete); later plans of this tenant no
    /// longer see it.
    pub async fn delete(&self, graph: &GraphClient, id: &str) -> Result<(), Failure> {
        sync::delete(graph, id).await?;
        if let Some((read, _)) = self.slot.lock().await.as_mut() {
            read.policies.forget(id);
        }
        Ok(())
    }
}
