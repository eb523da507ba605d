//! Applying SessionPolicies to one tenant: one paged LIST of the tenant's policies shared by
//! every SessionPolicy of that tenant, a pure plan per policy, then only the writes the plans
//! need, through the client's paced CA lane. Also the status each outcome leads to.

use crate::failure::Failure;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::connection::ProtectedIds;
use crate::directory;
use crate::directory::resolve::{NameRequests, Resolutions};
use crate::session_policy::plan::{self, DesiredPolicy, Found, PolicyError, PolicyPlan};
use crate::tenant_object::io::{self, DeletedItems, Endpoints};
pub use crate::tenant_object::io::{Applied, AppliedAction};
use crate::tenant_object::kind::{self, Managed, ManagedNames, Planned, SeamKind};
use sessionops_api::{
    DeletionPolicy, Kind, ProtectedPrincipals, SessionPolicy, SessionPolicySpec,
    SessionPolicyStatus, TenantRef,
};
use sessionops_graph::models::ConditionalAccessPolicy;
use sessionops_graph::{ApiVersion, GraphClient, GraphError};

use sessionops_graph::paths::{
    CONDITIONAL_ACCESS_POLICIES as POLICIES,
    DELETED_CONDITIONAL_ACCESS_POLICIES as DELETED_POLICIES, conditional_access_policy,
    restore_conditional_access_policy,
};

/// A SessionPolicy as the sync sees it, whichever driver loaded it.
pub type ManagedPolicy = Managed<SessionPolicy>;

/// A plan for one SessionPolicy, or why there is none.
pub type PlannedPolicy = Planned<SessionPolicy>;

crate::seam_status!(SessionPolicyStatus, policy_id);

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
    pub fn plan(&self, managed: &[ManagedPolicy], others: &ManagedNames) -> Vec<PlannedPolicy> {
        kind::plan_all(self, managed, others)
    }

    /// Plans the SessionPolicy `key` of `managed` against this read; the others only count
    /// for displayName conflicts. None when `key` is not among them.
    pub fn plan_one(
        &self,
        managed: &[ManagedPolicy],
        key: &str,
        others: &ManagedNames,
    ) -> Option<PlannedPolicy> {
        kind::plan_one(self, managed, key, others)
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

impl SeamKind for SessionPolicy {
    type Spec = SessionPolicySpec;
    type Status = SessionPolicyStatus;
    type Desired = DesiredPolicy;
    type Error = PolicyError;
    type Read = TenantRead;

    const KIND: Kind = Kind::SessionPolicy;
    const NOUN: &'static str = "policy";
    const FINALIZER: &'static str = "sessionops.io/tenant-policy";

    fn spec(&self) -> &SessionPolicySpec {
        &self.spec
    }

    fn status(&self) -> Option<&SessionPolicyStatus> {
        self.status.as_ref()
    }

    fn tenant_ref(spec: &SessionPolicySpec) -> &TenantRef {
        &spec.tenant_ref
    }

    fn deletion_policy(spec: &SessionPolicySpec) -> DeletionPolicy {
        spec.deletion_policy
    }

    fn display_name(spec: &SessionPolicySpec, namespace: &str, name: &str) -> String {
        spec.display_name
            .clone()
            .unwrap_or_else(|| plan::default_display_name(namespace, name))
    }

    fn conflict(display_name: String, other: String) -> PolicyError {
        PolicyError::Conflict {
            display_name,
            other,
        }
    }

    async fn read(
        client: &GraphClient,
        protected: &ProtectedPrincipals,
        managed: &[ManagedPolicy],
    ) -> Result<TenantRead, Failure> {
        read_for(client, protected, managed).await
    }

    fn serves(read: &TenantRead, protected: &ProtectedPrincipals, target: &ManagedPolicy) -> bool {
        read.serves(protected, target)
    }

    /// A name that resolves to nothing but that another object on the connection manages (a
    /// NamedLocation or AuthenticationStrength not created yet) makes the policy wait for it.
    fn plan(
        read: &TenantRead,
        target: &ManagedPolicy,
        others: &ManagedNames,
    ) -> (Option<DesiredPolicy>, Result<PolicyPlan, PolicyError>) {
        let desired = plan::desired_policy(
            &target.spec,
            &target.namespace,
            &target.name,
            &read.protected,
            &read.resolutions,
        );
        let desired = match desired {
            Err(PolicyError::NameNotFound(missing)) => {
                let waiting =
                    kind::waiting_for(missing.iter().map(|m| (m.kind, m.name.clone())), others);
                if waiting.len() == missing.len() {
                    Err(PolicyError::WaitingForDependency(
                        waiting.into_iter().collect(),
                    ))
                } else {
                    Err(PolicyError::NameNotFound(missing))
                }
            }
            other => other,
        };
        let display_name = target.display_name();
        let plan = desired.clone().and_then(|desired| {
            let found = plan::find_with_deleted(
                target.status.policy_id.as_deref(),
                &display_name,
                &read.policies.active,
                &read.policies.deleted,
            )?;
            Ok(plan::plan(&desired, found, read.policies.via_beta))
        });
        (desired.ok(), plan)
    }

    async fn apply(client: &GraphClient, plan: &PolicyPlan) -> Result<Applied, GraphError> {
        apply(client, plan).await
    }

    fn record(read: &mut TenantRead, plan: &PolicyPlan, applied: &Applied) -> bool {
        read.record(plan, applied)
    }

    async fn delete(client: &GraphClient, id: &str) -> Result<(), Failure> {
        Ok(delete(client, id).await?)
    }

    fn forget(read: &mut TenantRead, id: &str) {
        read.policies.forget(id);
    }

    fn annotate(
        status: &mut SessionPolicyStatus,
        desired: Option<&DesiredPolicy>,
        applied: &Applied,
    ) {
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
    }

    /// Protected principals included.
    fn id_names(read: &TenantRead, desired: Option<&DesiredPolicy>) -> BTreeMap<String, String> {
        let mut names: BTreeMap<String, String> = read
            .resolutions
            .ids()
            .map(|(kind, name, id)| (id.to_lowercase(), format!("{}:{name}", kind.prefix())))
            .collect();
        if let Some(desired) = desired {
            names.extend(
                desired
                    .resolved
                    .iter()
                    .map(|(name, id)| (id.to_lowercase(), name.clone())),
            );
        }
        names
    }

    fn write_note(desired: Option<&DesiredPolicy>, applied: &Applied) -> String {
        let beta_fields = desired.map_or(&[][..], |d| d.beta_fields.as_slice());
        kind::beta_note(applied.version, beta_fields)
    }
}

/// Refuses (`InUse`) while a Conditional Access policy of the tenant `uses` the object a
/// deletion is about to remove (a named location, an authentication strength): one LIST of
/// the policies. Graph refuses such a delete too, with an undocumented error, so sessionops
/// checks first and names the policies (`"displayName" (id)`, joined) through `message`.
pub async fn refuse_while_used(
    client: &GraphClient,
    uses: impl Fn(&ConditionalAccessPolicy) -> bool,
    message: impl FnOnce(&str) -> String,
) -> Result<(), Failure> {
    let policies: Vec<ConditionalAccessPolicy> = client
        .list_all(sessionops_graph::GraphRequest::get(POLICIES))
        .await?;
    let users: Vec<String> = policies
        .iter()
        .filter(|p| uses(p))
        .map(|p| {
            format!(
                "policy {:?} ({})",
                p.display_name,
                p.id.as_deref().unwrap_or("?")
            )
        })
        .collect();
    if users.is_empty() {
        Ok(())
    } else {
        Err(Failure::refused(
            crate::status::Reason::InUse,
            message(&users.join(", ")),
        ))
    }
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
        Managed {
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
        let none = ManagedNames::default();
        let all = read.plan(&set, &none);
        for (m, from_all) in set.iter().zip(&all) {
            let one = read.plan_one(&set, &m.key(), &none).unwrap();
            assert_eq!(one.key, from_all.key);
            assert_eq!(one.plan, from_all.plan, "{}", m.key());
        }
        assert!(matches!(all[0].plan, Err(PolicyError::Conflict { .. })));
        assert!(matches!(all[2].plan, Ok(PolicyPlan::Create { .. })));
        assert!(read.plan_one(&set, "identity/missing", &none).is_none());
    }
}
