//! Applying SessionPolicies to one tenant: one paged LIST of the tenant's policies shared by
//! every SessionPolicy of that tenant, a pure plan per policy, then only the writes the plans
//! need, through the client's paced CA lane. Also the status each outcome leads to.

use crate::failure::Failure;
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;

use crate::connection::ProtectedIds;
use crate::directory;
use crate::directory::resolve::{NameRequests, Resolutions};
use crate::session_policy::plan::{self, DesiredPolicy, Found, PolicyError, PolicyPlan};
use crate::status::{self, ConditionType, Observed, Reason, Status};
use crate::tenant_object::io::{self, DeletedItems, Endpoints};
pub use crate::tenant_object::io::{Applied, AppliedAction};
use kube::{Resource, ResourceExt};
use sessionops_api::{ProtectedPrincipals, SessionPolicy, SessionPolicySpec, SessionPolicyStatus};
use sessionops_graph::models::ConditionalAccessPolicy;
use sessionops_graph::{ApiVersion, GraphClient, GraphError};

use sessionops_graph::paths::{
    CONDITIONAL_ACCESS_POLICIES as POLICIES,
    DELETED_CONDITIONAL_ACCESS_POLICIES as DELETED_POLICIES, conditional_access_policy,
    restore_conditional_access_policy,
};

/// A SessionPolicy as the sync sees it, whichever driver loaded it.
#[derive(Clone, Debug)]
pub struct ManagedPolicy {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `metadata.generation` (None outside a cluster).
    pub generation: Option<i64>,
    /// Spec.
    pub spec: SessionPolicySpec,
    /// Last written status (default outside a cluster).
    pub status: SessionPolicyStatus,
}

impl ManagedPolicy {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The displayName this object manages.
    pub fn display_name(&self) -> String {
        self.spec
            .display_name
            .clone()
            .unwrap_or_else(|| plan::default_display_name(&self.namespace, &self.name))
    }
}

impl From<&SessionPolicy> for ManagedPolicy {
    fn from(policy: &SessionPolicy) -> ManagedPolicy {
        ManagedPolicy {
            namespace: policy.namespace().unwrap_or_default(),
            name: policy.name_any(),
            generation: policy.meta().generation,
            spec: policy.spec.clone(),
            status: policy.status.clone().unwrap_or_default(),
        }
    }
}

/// The tenant's policies as one LIST returned them.
pub type TenantPolicies = io::TenantObjects<ConditionalAccessPolicy>;

/// Where Conditional Access policies live: `conditionalaccessroot-list-policies.md`,
/// `conditionalaccesspolicy-update.md`, and the beta-only deleted items
/// (`beta/api/policydeletableitem-list.md`, `beta/api/conditionalaccesspolicy-restore.md`).
pub const ENDPOINTS: Endpoints = Endpoints {
    noun: "policy",
    collection: POLICIES,
    item: conditional_access_policy,
    deleted: Some(DeletedItems {
        collection: DELETED_POLICIES,
        restore: restore_conditional_access_policy,
    }),
};

/// Reads the tenant's policies: one paged LIST, through beta when a desired policy needs beta
/// (so its beta-only controls can be compared).
pub async fn read_tenant(
    client: &GraphClient,
    via_beta: bool,
) -> Result<TenantPolicies, GraphError> {
    io::read(client, &ENDPOINTS, via_beta).await
}

/// Adds the soft-deleted policies (one more LIST, only when some policy is missing; see
/// [`io::read_deleted`]).
pub async fn read_deleted(
    client: &GraphClient,
    tenant: &mut TenantPolicies,
) -> Result<(), GraphError> {
    io::read_deleted(client, &ENDPOINTS, tenant).await
}

/// What planning the SessionPolicies of one tenant needs from Graph: resolved names, the
/// protected principals' ids and the policies (one LIST, deleted items only when needed).
/// The operator keeps it for a resync interval and shares it across every SessionPolicy of the
/// tenant; the CLI reads it once per run.
#[derive(Clone, Debug, Default)]
pub struct TenantRead {
    /// Names looked up (every name of every policy read with it, and the protected ones).
    pub resolutions: Resolutions,
    /// Ids of the connection's protected principals.
    pub protected: ProtectedIds,
    /// The tenant's policies.
    pub policies: TenantPolicies,
    /// Whether deleted items were read.
    pub deleted_read: bool,
}

impl TenantRead {
    /// Whether this read can plan `target` (one of `managed`) as well as a fresh one could:
    /// its names and the protected ones were looked up, the endpoint version suffices, and
    /// deleted items were read if its policy is missing. Only the target is examined, so a
    /// reconcile costs the same whatever the number of policies sharing the read.
    pub fn serves(&self, protected: &ProtectedPrincipals, target: &ManagedPolicy) -> bool {
        let one = std::slice::from_ref(target);
        let needs_beta = desire_all(one, &self.protected, &self.resolutions)
            .iter()
            .any(|d| d.as_ref().is_ok_and(|d| d.version == ApiVersion::Beta));
        self.resolutions.covers(&name_requests(protected, one))
            && (!needs_beta || self.policies.via_beta)
            && (self.deleted_read || !any_missing(one, &self.policies))
    }

    /// Plans every SessionPolicy of the tenant against this read.
    pub fn plan(&self, managed: &[ManagedPolicy]) -> Vec<PlannedPolicy> {
        plan_all(
            managed,
            desire_all(managed, &self.protected, &self.resolutions),
            &self.policies,
        )
    }

    /// Plans the SessionPolicy `key` of `managed` against this read; the others only count
    /// for displayName conflicts. None when `key` is not among them.
    pub fn plan_one(&self, managed: &[ManagedPolicy], key: &str) -> Option<PlannedPolicy> {
        let target = managed.iter().find(|m| m.key() == key)?;
        let display_name = target.display_name();
        let rival = managed
            .iter()
            .find(|m| m.key() != key && m.display_name() == display_name)
            .map(ManagedPolicy::key);
        let desired = plan::desired_policy(
            &target.spec,
            &target.namespace,
            &target.name,
            &self.protected,
            &self.resolutions,
        );
        Some(plan_policy(target, desired, rival, &self.policies))
    }

    /// Folds a write just made into the read (see [`TenantPolicies::record`]).
    pub fn record(&mut self, plan: &PolicyPlan, applied: &Applied) -> bool {
        self.policies.record(plan, applied)
    }
}

/// Every name the policies and the protected principals need resolved.
fn name_requests(protected: &ProtectedPrincipals, managed: &[ManagedPolicy]) -> NameRequests {
    let mut requests = NameRequests::default();
    crate::connection::protected_name_requests(protected, &mut requests);
    for m in managed {
        plan::name_requests(&m.spec, &mut requests);
    }
    requests
}

/// Reads what planning `managed` needs: names (batched), the protected ids, one LIST of the
/// policies (through beta only if a policy needs it) and deleted items only if one is missing.
pub async fn read_for(
    client: &GraphClient,
    protected: &ProtectedPrincipals,
    managed: &[ManagedPolicy],
) -> Result<TenantRead, Failure> {
    let resolutions = directory::resolve(client, &name_requests(protected, managed)).await?;
    let protected = crate::connection::protected_ids(protected, &resolutions)?;
    let via_beta = desire_all(managed, &protected, &resolutions)
        .iter()
        .any(|d| d.as_ref().is_ok_and(|d| d.version == ApiVersion::Beta));
    let mut policies = read_tenant(client, via_beta).await?;
    let deleted_read = any_missing(managed, &policies);
    if deleted_read {
        read_deleted(client, &mut policies).await?;
    }
    Ok(TenantRead {
        resolutions,
        protected,
        policies,
        deleted_read,
    })
}

/// A plan for one SessionPolicy, or why there is none.
#[derive(Clone, Debug)]
pub struct PlannedPolicy {
    /// `namespace/name`.
    pub key: String,
    /// The displayName it manages.
    pub display_name: String,
    /// The desired policy, when the spec resolved.
    pub desired: Option<DesiredPolicy>,
    /// The plan.
    pub plan: Result<PolicyPlan, PolicyError>,
}

/// The desired policies, so the caller can decide how to read the tenant.
pub fn desire_all(
    managed: &[ManagedPolicy],
    protected: &ProtectedIds,
    resolutions: &Resolutions,
) -> Vec<Result<DesiredPolicy, PolicyError>> {
    managed
        .iter()
        .map(|m| plan::desired_policy(&m.spec, &m.namespace, &m.name, protected, resolutions))
        .collect()
}

/// Plans every SessionPolicy of one tenant against one read of it. Two SessionPolicies that
/// claim one displayName are both refused (Conflict), never fought over.
pub fn plan_all(
    managed: &[ManagedPolicy],
    desired: Vec<Result<DesiredPolicy, PolicyError>>,
    tenant: &TenantPolicies,
) -> Vec<PlannedPolicy> {
    let mut claims: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in managed {
        claims.entry(m.display_name()).or_default().push(m.key());
    }
    managed
        .iter()
        .zip(desired)
        .map(|(m, desired)| {
            let key = m.key();
            let rival = claims[&m.display_name()].iter().find(|k| **k != key);
            plan_policy(m, desired, rival.cloned(), tenant)
        })
        .collect()
}

/// The plan of one SessionPolicy: Conflict when `rival` (another SessionPolicy) claims its
/// displayName, else create, update, restore or nothing against `tenant`.
fn plan_policy(
    m: &ManagedPolicy,
    desired: Result<DesiredPolicy, PolicyError>,
    rival: Option<String>,
    tenant: &TenantPolicies,
) -> PlannedPolicy {
    let display_name = m.display_name();
    let plan = match rival {
        Some(other) => Err(PolicyError::Conflict {
            display_name: display_name.clone(),
            other,
        }),
        None => desired.clone().and_then(|desired| {
            let found = plan::find_with_deleted(
                m.status.policy_id.as_deref(),
                &display_name,
                &tenant.active,
                &tenant.deleted,
            )?;
            Ok(plan::plan(&desired, found, tenant.via_beta))
        }),
    };
    PlannedPolicy {
        key: m.key(),
        display_name,
        desired: desired.ok(),
        plan,
    }
}

/// Whether some SessionPolicy's policy is absent from the active list (then deleted items
/// are worth one more read).
pub fn any_missing(managed: &[ManagedPolicy], tenant: &TenantPolicies) -> bool {
    managed.iter().any(|m| {
        matches!(
            plan::find(
                m.status.policy_id.as_deref(),
                &m.display_name(),
                &tenant.active
            ),
            Ok(Found::Missing)
        )
    })
}

/// Applies one plan through the client.
pub async fn apply(client: &GraphClient, plan: &PolicyPlan) -> Result<Applied, GraphError> {
    io::apply(client, &ENDPOINTS, plan).await
}

/// Deletes the policy of a SessionPolicy whose deletionPolicy is Delete (it stays restorable
/// in deletedItems). A policy already gone is success.
pub async fn delete(client: &GraphClient, id: &str) -> Result<(), GraphError> {
    io::delete(client, &ENDPOINTS, id).await
}

/// The status a sync outcome leads to. Unchanged outcomes give an identical status (no
/// status write needed); `lastTransitionTime` moves only when Ready flips.
pub fn status_after(
    prior: &SessionPolicyStatus,
    generation: Option<i64>,
    desired: Option<&DesiredPolicy>,
    outcome: &Result<Applied, Failure>,
    now: &Time,
) -> SessionPolicyStatus {
    let mut status = prior.clone();
    status.observed_generation = generation;
    match outcome {
        Ok(applied) => {
            let was_synced_at_this_generation = prior.observed_generation == generation
                && prior.policy_id.is_some()
                && status::is_true(&prior.conditions, ConditionType::Ready);
            let drift = was_synced_at_this_generation
                && matches!(
                    applied.action,
                    AppliedAction::Updated | AppliedAction::Restored | AppliedAction::Created
                );
            if drift {
                status.drift_corrections += 1;
            }
            let beta_fields = desired.map_or(&[][..], |d| d.beta_fields.as_slice());
            let prior_synced = status::get(&prior.conditions, ConditionType::Ready)
                .filter(|c| status::holds(c) && c.reason == Reason::Synced.as_str())
                .filter(|_| prior.observed_generation == generation);
            let (reason, message) = match (applied.action, drift) {
                // Still in sync: the message of the last write stays (a resync that finds
                // nothing to do changes nothing in status, so it is not written).
                (AppliedAction::Unchanged, _) => (
                    Reason::Synced,
                    prior_synced.map_or_else(
                        || "the policy matches the spec".to_owned(),
                        |c| c.message.clone(),
                    ),
                ),
                (_, true) => (
                    Reason::DriftCorrected,
                    describe(
                        applied,
                        beta_fields,
                        "reverted a change made outside sessionops",
                    ),
                ),
                (_, false) => (Reason::Synced, describe(applied, beta_fields, "applied")),
            };
            if applied.action != AppliedAction::Unchanged
                || prior.policy_id.as_deref() != Some(&applied.id)
            {
                status.last_synced_time = Some(now.clone());
            }
            status.policy_id = Some(applied.id.clone());
            status.graph_version = Some(
                desired
                    .map_or(applied.version, |d| d.version)
                    .as_str()
                    .to_owned(),
            );
            if let Some(desired) = desired {
                status.resolved = desired.resolved.clone();
                status.beta_fields = desired
                    .beta_fields
                    .iter()
                    .map(|f| (*f).to_owned())
                    .collect();
            }
            status::set(
                &mut status.conditions,
                (ConditionType::Ready, Status::True),
                reason,
                &message,
                Observed { generation, now },
            );
        }
        Err(failure) => {
            status::set(
                &mut status.conditions,
                (ConditionType::Ready, Status::False),
                failure.reason(),
                &failure.to_string(),
                Observed { generation, now },
            );
        }
    }
    status
}

/// The status of a SessionPolicy being deleted whose tenant policy `id` could not be deleted
/// (`deletionPolicy: Delete`): Ready=False with `failure`'s reason. The finalizer stays, since
/// the tenant policy would otherwise be orphaned; removing it by hand releases the object and
/// leaves the policy in place. Returns the status and the message (also the Event's).
pub fn status_after_failed_delete(
    prior: &SessionPolicyStatus,
    generation: Option<i64>,
    id: &str,
    failure: &Failure,
    now: &Time,
) -> (SessionPolicyStatus, String) {
    let message = format!("cannot delete tenant policy {id} (deletionPolicy Delete): {failure}");
    let mut status = prior.clone();
    status::set(
        &mut status.conditions,
        (ConditionType::Ready, Status::False),
        failure.reason(),
        &message,
        Observed { generation, now },
    );
    (status, message)
}

fn describe(applied: &Applied, beta_fields: &[&str], verb: &str) -> String {
    let what = match applied.action {
        AppliedAction::Created => match &applied.note {
            Some(note) => format!("created the policy: {note}"),
            None => "created the policy".to_owned(),
        },
        AppliedAction::Restored => "restored the policy from deleted items".to_owned(),
        _ => format!("updated {}", applied.changed_fields.join(", ")),
    };
    let beta = match (applied.version, beta_fields) {
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
    };
    format!("{verb}: {what}{beta}")
}

/// A compact value for plan output (`["a","b"]`, `12h (…)`, `null`).
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sessionops_api::manifest::{self, Object};

    fn managed(name: &str, display_name: &str) -> ManagedPolicy {
        let text = format!(
            "apiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nmetadata: {{name: {name}, namespace: identity}}\nspec:\n  tenantRef: {{kind: ClusterTenantConnection, name: contoso}}\n  displayName: {display_name}\n  state: enabled\n  assignments: {{users: {{include: [All]}}, applications: {{include: [All]}}}}\n  session: {{signInFrequency: 12h}}\n"
        );
        let mut set = manifest::load_str(std::path::Path::new("p.yaml"), &text).unwrap();
        let Object::SessionPolicy(policy) = set.objects.remove(0).object else {
            panic!("a SessionPolicy")
        };
        ManagedPolicy {
            namespace: "identity".into(),
            name: name.into(),
            generation: Some(1),
            spec: policy.spec,
            status: SessionPolicyStatus::default(),
        }
    }

    /// The operator plans one policy at a time; it must agree with planning them all.
    #[test]
    fn planning_one_policy_agrees_with_planning_all() {
        let set = [
            managed("a", "shared name"),
            managed("b", "shared name"),
            managed("c", "its own name"),
        ];
        let read = TenantRead::default();
        let all = read.plan(&set);
        for (m, from_all) in set.iter().zip(&all) {
            let one = read.plan_one(&set, &m.key()).unwrap();
            assert_eq!(one.key, from_all.key);
            assert_eq!(one.plan, from_all.plan, "{}", m.key());
        }
        assert!(matches!(all[0].plan, Err(PolicyError::Conflict { .. })));
        assert!(matches!(all[2].plan, Ok(PolicyPlan::Create { .. })));
        assert!(read.plan_one(&set, "identity/missing").is_none());
    }
}
