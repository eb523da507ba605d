//! `plan` and `apply` for SessionPolicies outside a cluster: the manifests' tenant connections,
//! credentials from the Azure SDK environment, then the reconcile core. This module only
//! gathers inputs and reports; planning and applying live in `sessionops_core`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

use sessionops_api::manifest::{ManifestSet, Object};
use sessionops_api::{
    ClusterTenantConnection, ConnectionSettings, SessionPolicy, SessionPolicyStatus,
    TenantConnection, TenantRef,
};
use sessionops_core::connection::config::{Environment, config_from_environment};
use sessionops_core::connection::{self, ConnectionSource, Found};
use sessionops_core::directory::resolve::Resolutions;
use sessionops_core::failure::Failure;
use sessionops_core::session_policy::plan::{self, PolicyPlan};
use sessionops_core::session_policy::sync::{self, Applied, ManagedPolicy, PlannedPolicy};
use sessionops_core::status::{self, ConditionType};
use sessionops_graph::{GraphClient, GraphConfig};

/// The outcome for one SessionPolicy: its plan (or why none), and after apply its status.
#[derive(Clone, Debug)]
pub struct PolicyReport {
    /// `namespace/name`.
    pub key: String,
    /// The displayName it manages.
    pub display_name: String,
    /// The plan, or why there is none.
    pub plan: Result<PolicyPlan, Failure>,
    /// Names resolved for it (id → name, to show names in diffs).
    pub names: BTreeMap<String, String>,
    /// The status after apply.
    pub status: Option<SessionPolicyStatus>,
}

impl PolicyReport {
    /// Applied and Ready=True.
    pub fn is_ready(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| status::is_true(&s.conditions, ConditionType::Ready))
    }
}

/// One tenant connection and the policies that use it.
struct TenantWork<'a> {
    settings: &'a dyn ConnectionSettings,
    policies: Vec<&'a SessionPolicy>,
}

/// Plans every SessionPolicy of `set`; with `apply`, applies the plans too. `configure`
/// lets callers (the demo, tests) adjust the Graph config, e.g. the retry policy.
pub async fn run(
    set: &ManifestSet,
    env: &dyn Environment,
    apply: bool,
    configure: &dyn Fn(&mut GraphConfig),
) -> Vec<PolicyReport> {
    let mut reports = Vec::new();
    let mut work: BTreeMap<String, TenantWork<'_>> = BTreeMap::new();
    for loaded in &set.objects {
        let Object::SessionPolicy(policy) = &loaded.object else {
            continue;
        };
        let namespace = policy.namespace().unwrap_or_default();
        match connection_for(set, &policy.spec.tenant_ref, &namespace) {
            Ok((key, settings)) => work
                .entry(key)
                .or_insert_with(|| TenantWork {
                    settings,
                    policies: Vec::new(),
                })
                .policies
                .push(policy),
            Err(failure) => reports.push(failed(policy, &namespace, failure)),
        }
    }
    for (_, tenant_work) in work {
        reports.extend(run_tenant(tenant_work, env, apply, configure).await);
    }
    reports.sort_by(|a, b| a.key.cmp(&b.key));
    reports
}

fn failed(policy: &SessionPolicy, namespace: &str, failure: Failure) -> PolicyReport {
    PolicyReport {
        key: format!("{namespace}/{}", policy.name_any()),
        display_name: policy
            .spec
            .display_name
            .clone()
            .unwrap_or_else(|| plan::default_display_name(namespace, &policy.name_any())),
        plan: Err(failure),
        names: BTreeMap::new(),
        status: None,
    }
}

/// The tenant connections among the manifests given with `-f`.
struct Manifests<'a>(&'a ManifestSet);

impl<'a> ConnectionSource for Manifests<'a> {
    type Cluster = &'a ClusterTenantConnection;
    type Namespaced = &'a TenantConnection;

    fn cluster_connection(&self, name: &str) -> Option<Result<Self::Cluster, String>> {
        self.0
            .objects
            .iter()
            .find_map(|loaded| match &loaded.object {
                Object::ClusterTenantConnection(c) if c.name_any() == name => Some(Ok(&**c)),
                _ => None,
            })
    }

    fn tenant_connection(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<Result<Self::Namespaced, String>> {
        self.0
            .objects
            .iter()
            .find_map(|loaded| match &loaded.object {
                Object::TenantConnection(c)
                    if c.name_any() == name && c.namespace().as_deref() == Some(namespace) =>
                {
                    Some(Ok(&**c))
                }
                _ => None,
            })
    }

    fn looked_in(&self) -> &'static str {
        " among the manifests given with -f"
    }
}

/// The connection an object in `namespace` names, among the manifests, if it may use it:
/// its key and settings.
pub fn connection_for<'a>(
    set: &'a ManifestSet,
    reference: &TenantRef,
    namespace: &str,
) -> Result<(String, &'a dyn ConnectionSettings), Failure> {
    let found = connection::find(&Manifests(set), reference, namespace)?;
    let key = found.key();
    let settings: &'a dyn ConnectionSettings = match found {
        Found::Cluster(c) => &c.spec,
        Found::Namespaced(n) => &n.spec,
    };
    Ok((key, settings))
}

async fn run_tenant(
    work: TenantWork<'_>,
    env: &dyn Environment,
    apply: bool,
    configure: &dyn Fn(&mut GraphConfig),
) -> Vec<PolicyReport> {
    let managed: Vec<ManagedPolicy> = work
        .policies
        .iter()
        .map(|p| ManagedPolicy::from(*p))
        .collect();
    let fail_all = |failure: Failure| -> Vec<PolicyReport> {
        managed
            .iter()
            .map(|m| PolicyReport {
                key: m.key(),
                display_name: m.display_name(),
                plan: Err(failure.clone()),
                names: BTreeMap::new(),
                status: None,
            })
            .collect()
    };
    let client = match config_from_environment(work.settings, env).and_then(|mut config| {
        configure(&mut config);
        GraphClient::new(config)
    }) {
        Ok(client) => client,
        Err(error) => return fail_all(error.into()),
    };
    let (planned, resolutions) = match plan_tenant(&client, work.settings, &managed).await {
        Ok(planned) => planned,
        Err(failure) => return fail_all(failure),
    };
    // Ids shown as the names they came from in diffs (protected principals included).
    let names: BTreeMap<String, String> = resolutions
        .ids()
        .map(|(kind, name, id)| (id.to_lowercase(), format!("{}:{name}", kind.prefix())))
        .collect();
    let now = Time(jiff::Timestamp::now());
    let mut reports = Vec::new();
    for (m, planned) in managed.iter().zip(planned) {
        let mut names = names.clone();
        if let Some(desired) = &planned.desired {
            names.extend(
                desired
                    .resolved
                    .iter()
                    .map(|(name, id)| (id.to_lowercase(), name.clone())),
            );
        }
        let plan = planned.plan.map_err(Failure::from);
        let status = if apply {
            let outcome: Result<Applied, Failure> = match &plan {
                Ok(plan) => sync::apply(&client, plan).await.map_err(Failure::from),
                Err(failure) => Err(failure.clone()),
            };
            Some(sync::status_after(
                &m.status,
                m.generation,
                planned.desired.as_ref(),
                &outcome,
                &now,
            ))
        } else {
            None
        };
        reports.push(PolicyReport {
            key: planned.key,
            display_name: planned.display_name,
            plan,
            names,
            status,
        });
    }
    reports
}

/// Reads the tenant once and plans every policy of it.
async fn plan_tenant(
    client: &GraphClient,
    settings: &dyn ConnectionSettings,
    managed: &[ManagedPolicy],
) -> Result<(Vec<PlannedPolicy>, Resolutions), Failure> {
    let read = sync::read_for(client, settings.protected(), managed).await?;
    Ok((read.plan(managed), read.resolutions))
}
