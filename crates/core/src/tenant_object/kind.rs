//! A kind on the seam as both drivers see it: [`SeamKind`] is what the operator's generic
//! controller and the CLI's generic runner call, so that a kind that manages one tenant object
//! per Kubernetes object (SessionPolicy, NamedLocation, AuthenticationStrength) brings only its
//! spec → wire mapping, its field table, its endpoints and these few functions. Everything
//! else (identity by display name, one LIST per tenant per resync shared by every object,
//! displayName conflicts between objects, the status each outcome leads to, finalizer and
//! events) is written once, here and in the drivers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sessionops_api::{Conditions, DeletionPolicy, Kind, ProtectedPrincipals, TenantRef};
use sessionops_graph::{ApiVersion, GraphClient, GraphError};

use super::io::{Applied, AppliedAction};
use super::plan::Plan;
use crate::directory::resolve::NameKind;
use crate::failure::Failure;
use crate::status::{self, ConditionType, Observed, Reason, Status};

/// The status fields every seam kind has (its own fields come on top).
pub trait SeamStatus:
    Clone + Default + PartialEq + Serialize + Debug + Send + Sync + 'static
{
    /// `metadata.generation` the status describes.
    fn observed_generation(&mut self) -> &mut Option<i64>;
    /// Conditions (`Ready`).
    fn conditions(&self) -> &Conditions;
    /// Conditions, to set one.
    fn conditions_mut(&mut self) -> &mut Conditions;
    /// Id of the tenant object (`policyId`, `locationId`, `strengthId`).
    fn tenant_id(&self) -> Option<&str>;
    /// Records the id of the tenant object.
    fn set_tenant_id(&mut self, id: String);
    /// When the tenant object was last confirmed to match the spec.
    fn last_synced_time(&mut self) -> &mut Option<Time>;
    /// How many changes made outside sessionops were reverted.
    fn drift_corrections(&mut self) -> &mut i64;
}

/// Implements [`SeamStatus`] for a status struct with the common fields and the id field named.
#[macro_export]
macro_rules! seam_status {
    ($status:ty, $id:ident) => {
        impl $crate::tenant_object::kind::SeamStatus for $status {
            fn observed_generation(&mut self) -> &mut Option<i64> {
                &mut self.observed_generation
            }
            fn conditions(&self) -> &sessionops_api::Conditions {
                &self.conditions
            }
            fn conditions_mut(&mut self) -> &mut sessionops_api::Conditions {
                &mut self.conditions
            }
            fn tenant_id(&self) -> Option<&str> {
                self.$id.as_deref()
            }
            fn set_tenant_id(&mut self, id: String) {
                self.$id = Some(id);
            }
            fn last_synced_time(
                &mut self,
            ) -> &mut Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time> {
                &mut self.last_synced_time
            }
            fn drift_corrections(&mut self) -> &mut i64 {
                &mut self.drift_corrections
            }
        }
    };
}

/// Display names that sessionops objects of other kinds manage on the same connection (so a
/// SessionPolicy that names one not created yet waits for it instead of failing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManagedNames {
    names: BTreeMap<(NameKind, String), String>,
}

impl ManagedNames {
    /// Records that the object `owner` (`Kind namespace/name`) manages `display_name`.
    pub fn insert(&mut self, kind: NameKind, display_name: &str, owner: String) {
        self.names
            .insert((kind, display_name.to_lowercase()), owner);
    }

    /// The object that manages `display_name`, if one does.
    pub fn owner(&self, kind: NameKind, display_name: &str) -> Option<&str> {
        self.names
            .get(&(kind, display_name.to_lowercase()))
            .map(String::as_str)
    }
}

/// An object of a seam kind as the core sees it, whichever driver loaded it.
#[derive(Clone, Debug)]
pub struct Managed<K: SeamKind> {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `metadata.generation` (None outside a cluster).
    pub generation: Option<i64>,
    /// Spec.
    pub spec: K::Spec,
    /// Last written status (default outside a cluster).
    pub status: K::Status,
}

impl<K: SeamKind> Managed<K> {
    /// The object as loaded.
    pub fn of(object: &K) -> Managed<K> {
        Managed {
            namespace: object.namespace().unwrap_or_default(),
            name: object.name_any(),
            generation: object.meta().generation,
            spec: object.spec().clone(),
            status: object.status().cloned().unwrap_or_default(),
        }
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The display name this object manages.
    pub fn display_name(&self) -> String {
        K::display_name(&self.spec, &self.namespace, &self.name)
    }

    /// What it claims on its connection (see [`SeamKind::claim`]).
    pub fn claim(&self) -> String {
        K::claim(&self.spec, &self.namespace, &self.name)
    }

    /// The tenant object's id recorded in status.
    pub fn recorded_id(&self) -> Option<&str> {
        self.status.tenant_id()
    }
}

/// A plan for one object, or why there is none.
#[derive(Clone, Debug)]
pub struct Planned<K: SeamKind> {
    /// `namespace/name`.
    pub key: String,
    /// The display name it manages.
    pub display_name: String,
    /// The desired tenant object, when the spec resolved.
    pub desired: Option<K::Desired>,
    /// The plan.
    pub plan: Result<Plan, K::Error>,
}

/// A kind that manages exactly one tenant object per Kubernetes object.
pub trait SeamKind:
    Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
    /// The spec.
    type Spec: Clone + Debug + Send + Sync + 'static;
    /// The status.
    type Status: SeamStatus;
    /// The tenant object the spec asks for (with what status records about it).
    type Desired: Clone + Debug + Send + Sync + 'static;
    /// Why an object cannot be planned.
    type Error: Clone + Debug + PartialEq + Into<Failure> + Send + Sync + 'static;
    /// What planning the kind's objects of one tenant needs from Graph (one read per tenant
    /// per resync, shared by every object of the kind).
    type Read: Default + Debug + Send + Sync + 'static;

    /// The kind.
    const KIND: Kind;
    /// What its tenant object is called in messages (`policy`, `named location`).
    const NOUN: &'static str;
    /// The finalizer that keeps an object until its tenant object was deleted or retained.
    const FINALIZER: &'static str;

    /// The spec of a loaded object.
    fn spec(&self) -> &Self::Spec;
    /// The status of a loaded object.
    fn status(&self) -> Option<&Self::Status>;
    /// The connection the object is applied through.
    fn tenant_ref(spec: &Self::Spec) -> &TenantRef;
    /// What happens to the tenant object when the object is deleted.
    fn deletion_policy(spec: &Self::Spec) -> DeletionPolicy;
    /// The display name an object manages (its identity in the tenant).
    fn display_name(spec: &Self::Spec, namespace: &str, name: &str) -> String;
    /// What two objects on one connection must not both claim: by default the display name
    /// (one tenant object per name); a tenant singleton returns the same text for every object,
    /// so a second object on the connection is a conflict.
    fn claim(spec: &Self::Spec, namespace: &str, name: &str) -> String {
        Self::display_name(spec, namespace, name)
    }
    /// The name under which other kinds refer to this kind's objects, if they do.
    fn referred_as() -> Option<NameKind> {
        None
    }
    /// The error for two objects claiming one display name.
    fn conflict(display_name: String, other: String) -> Self::Error;

    /// Reads what planning `managed` (every valid object of the kind on one connection) needs.
    fn read(
        client: &GraphClient,
        protected: &ProtectedPrincipals,
        managed: &[Managed<Self>],
    ) -> impl Future<Output = Result<Self::Read, Failure>> + Send;
    /// Whether `read` can plan `target` as well as a fresh read could.
    fn serves(read: &Self::Read, protected: &ProtectedPrincipals, target: &Managed<Self>) -> bool;
    /// Plans one object (not in conflict with another) against `read`.
    fn plan(
        read: &Self::Read,
        target: &Managed<Self>,
        others: &ManagedNames,
    ) -> (Option<Self::Desired>, Result<Plan, Self::Error>);
    /// Makes the writes of one plan.
    fn apply(
        client: &GraphClient,
        plan: &Plan,
    ) -> impl Future<Output = Result<Applied, GraphError>> + Send;
    /// Folds a write just made into `read`; false when it cannot (the read is then dropped).
    fn record(read: &mut Self::Read, plan: &Plan, applied: &Applied) -> bool;
    /// Deletes the tenant object `id` (deletionPolicy Delete); gone already is success.
    fn delete(client: &GraphClient, id: &str) -> impl Future<Output = Result<(), Failure>> + Send;
    /// Forgets a tenant object just deleted.
    fn forget(read: &mut Self::Read, id: &str);
    /// Kind-specific status after a successful apply (Graph version, resolved names).
    fn annotate(_status: &mut Self::Status, _desired: Option<&Self::Desired>, _applied: &Applied) {}
    /// Words appended to the Ready message of a write (why it went through beta).
    fn write_note(_desired: Option<&Self::Desired>, _applied: &Applied) -> String {
        String::new()
    }
    /// Ids the read resolved and the names they stand for (`group:sg-kiosks`), so that plans
    /// show names instead of ids.
    fn id_names(_read: &Self::Read, _desired: Option<&Self::Desired>) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    /// What deleting the tenant object leaves behind, for the Event.
    fn deleted_note() -> &'static str {
        "restorable from deleted items for 30 days"
    }
}

/// Plans every object of one tenant against one read. Two objects that claim one display
/// name (or one singleton, see [`SeamKind::claim`]) are both refused (Conflict), never fought
/// over.
pub fn plan_all<K: SeamKind>(
    read: &K::Read,
    managed: &[Managed<K>],
    others: &ManagedNames,
) -> Vec<Planned<K>> {
    let mut claims: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in managed {
        claims.entry(m.claim()).or_default().push(m.key());
    }
    managed
        .iter()
        .map(|m| {
            let key = m.key();
            let rival = claims[&m.claim()].iter().find(|k| **k != key);
            plan_against(read, m, rival.cloned(), others)
        })
        .collect()
}

/// Plans the object `key` of `managed` against `read`; the others count only for display-name
/// conflicts. None when `key` is not among them.
pub fn plan_one<K: SeamKind>(
    read: &K::Read,
    managed: &[Managed<K>],
    key: &str,
    others: &ManagedNames,
) -> Option<Planned<K>> {
    let target = managed.iter().find(|m| m.key() == key)?;
    let claim = target.claim();
    let rival = managed
        .iter()
        .find(|m| m.key() != key && m.claim() == claim)
        .map(Managed::key);
    Some(plan_against(read, target, rival, others))
}

fn plan_against<K: SeamKind>(
    read: &K::Read,
    target: &Managed<K>,
    rival: Option<String>,
    others: &ManagedNames,
) -> Planned<K> {
    let display_name = target.display_name();
    let (desired, plan) = match rival {
        Some(other) => (None, Err(K::conflict(target.claim(), other))),
        None => K::plan(read, target, others),
    };
    Planned {
        key: target.key(),
        display_name,
        desired,
        plan,
    }
}

/// The names every object of `managed` manages, as other kinds refer to them.
pub fn managed_names<K: SeamKind>(managed: &[Managed<K>], into: &mut ManagedNames) {
    if let Some(kind) = K::referred_as() {
        for m in managed {
            into.insert(kind, &m.display_name(), format!("{} {}", K::KIND, m.key()));
        }
    }
}

/// The status an outcome leads to. Unchanged outcomes give an identical status (no status
/// write needed); `lastTransitionTime` moves only when Ready flips.
pub fn status_after<K: SeamKind>(
    prior: &K::Status,
    generation: Option<i64>,
    desired: Option<&K::Desired>,
    outcome: &Result<Applied, Failure>,
    now: &Time,
) -> K::Status {
    let mut prior = prior.clone();
    let prior_generation = *prior.observed_generation();
    let mut status = prior.clone();
    *status.observed_generation() = generation;
    match outcome {
        Ok(applied) => {
            let was_synced_at_this_generation = prior_generation == generation
                && prior.tenant_id().is_some()
                && status::is_true(prior.conditions(), ConditionType::Ready);
            let drift = was_synced_at_this_generation && applied.action != AppliedAction::Unchanged;
            if drift {
                *status.drift_corrections() += 1;
            }
            let prior_synced = status::get(prior.conditions(), ConditionType::Ready)
                .filter(|c| status::holds(c) && c.reason == Reason::Synced.as_str())
                .filter(|_| prior_generation == generation);
            let note = K::write_note(desired, applied);
            let (reason, message) = match (applied.action, drift) {
                // Still in sync: the message of the last write stays (a resync that finds
                // nothing to do changes nothing in status, so it is not written).
                (AppliedAction::Unchanged, _) => (
                    Reason::Synced,
                    prior_synced.map_or_else(
                        || format!("the {} matches the spec", K::NOUN),
                        |c| c.message.clone(),
                    ),
                ),
                (_, true) => (
                    Reason::DriftCorrected,
                    describe::<K>(applied, "reverted a change made outside sessionops", &note),
                ),
                (_, false) => (Reason::Synced, describe::<K>(applied, "applied", &note)),
            };
            if applied.action != AppliedAction::Unchanged
                || prior.tenant_id() != Some(applied.id.as_str())
            {
                *status.last_synced_time() = Some(now.clone());
            }
            status.set_tenant_id(applied.id.clone());
            K::annotate(&mut status, desired, applied);
            status::set(
                status.conditions_mut(),
                (ConditionType::Ready, Status::True),
                reason,
                &message,
                Observed { generation, now },
            );
        }
        Err(failure) => {
            status::set(
                status.conditions_mut(),
                (ConditionType::Ready, Status::False),
                failure.reason(),
                &failure.to_string(),
                Observed { generation, now },
            );
        }
    }
    status
}

/// The status of an object being deleted whose tenant object `id` could not be deleted
/// (`deletionPolicy: Delete`): Ready=False with `failure`'s reason. The finalizer stays, since
/// the tenant object would otherwise be orphaned; removing it by hand releases the object and
/// leaves the tenant object in place. Returns the status and the message (also the Event's).
pub fn status_after_failed_delete<K: SeamKind>(
    prior: &K::Status,
    generation: Option<i64>,
    id: &str,
    failure: &Failure,
    now: &Time,
) -> (K::Status, String) {
    let message = format!(
        "cannot delete tenant {} {id} (deletionPolicy Delete): {failure}",
        K::NOUN
    );
    let mut status = prior.clone();
    status::set(
        status.conditions_mut(),
        (ConditionType::Ready, Status::False),
        failure.reason(),
        &message,
        Observed { generation, now },
    );
    (status, message)
}

fn describe<K: SeamKind>(applied: &Applied, verb: &str, note: &str) -> String {
    let noun = K::NOUN;
    let what = match applied.action {
        AppliedAction::Created => match &applied.note {
            Some(detail) => format!("created the {noun}: {detail}"),
            None => format!("created the {noun}"),
        },
        AppliedAction::Restored => format!("restored the {noun} from deleted items"),
        _ => format!("updated {}", applied.changed_fields.join(", ")),
    };
    format!("{verb}: {what}{note}")
}

/// The note of a write made through beta: which spec fields only beta has (or that it
/// cleared a field only beta has).
pub fn beta_note(version: ApiVersion, beta_fields: &[&str]) -> String {
    match (version, beta_fields) {
        (ApiVersion::V1, _) => String::new(),
        (ApiVersion::Beta, []) => {
            " (through Graph beta, to clear a field only beta has)".to_owned()
        }
        (ApiVersion::Beta, fields) => {
            format!(
                " (through Graph beta, which alone has {})",
                fields.join(", ")
            )
        }
    }
}

/// The display names of `names` that are ids of nothing yet but managed by another object:
/// those the object waits for, as `Kind namespace/name "display name"`.
pub fn waiting_for(
    missing: impl IntoIterator<Item = (NameKind, String)>,
    others: &ManagedNames,
) -> BTreeSet<String> {
    missing
        .into_iter()
        .filter_map(|(kind, name)| {
            others
                .owner(kind, &name)
                .map(|owner| format!("{owner} ({name:?})"))
        })
        .collect()
}
