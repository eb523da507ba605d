//! `plan` and `apply` for SessionPolicies outside a cluster: the manifests' tenant connections,
//! credentials from the Azure SDK environment, then the reconcile core. This module only
//! gathers inputs and reports; planning and applying live in `sessionops_core`.

use sessionops_core::failure::Failure;
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

use sessionops_api::manifest::{ManifestSet, Object};
use sessionops_api::{
    ConnectionSettings, SessionPolicy, SessionPolicyStatus, TenantKind, TenantRef,
};
use sessionops_core::connection::config::{Environment, config_from_environment};
use sessionops_core::connection::{self, ConnectionScope};
use sessionops_core::directory::resolve::Resolutions;
use sessionops_core::session_policy::plan::{self, PolicyPlan};
use sessionops_core::session_policy::sync::{
    self, Applied, ManagedPolicy, PlannedPolicy, Failure,
};
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
            .and_then(|s| sessionops_core::status::get(&s.conditions, ConditionType::Ready))
            .is_some_and(|c| c.status == "True")
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

/// The connection an object in `namespace` names, among the manifests, if it may use it.
pub fn connection_for<'a>(
    set: &'a ManifestSet,
    reference: &TenantRef,
    namespace: &str,
) -> Result<(String, &'a dyn ConnectionSettings), Failure> {
    let namespace = namespace.to_owned();
    for loaded in &set.objects {
        match (&loaded.object, reference.kind) {
            (Object::ClusterTenantConnection(c), TenantKind::ClusterTenantConnection)
                if c.name_any() == reference.name =>
            {
                connection::check_access(
                    reference,
                    &namespace,
                    ConnectionScope::Cluster(&c.spec.allowed_namespaces),
                )?;
                return Ok((format!("ClusterTenantConnection/{}", c.name_any()), &c.spec));
            }
            (Object::TenantConnection(c), TenantKind::TenantConnection)
                if c.name_any() == reference.name && c.namespace() == Some(namespace.clone()) =>
            {
                return Ok((
                    format!("TenantConnection/{}/{}", namespace, c.name_any()),
                    &c.spec,
                ));
            }
            _ => {}
        }
    }
    let kind = match reference.kind {
        TenantKind::TenantConnection => "TenantConnection",
        TenantKind::ClusterTenantConnection => "ClusterTenantConnection",
    };
    Err(Failure::Refused {
        reason: Reason::TenantConnectionNotFound,
        message: format!(
            "spec.tenantRef: no {kind} {:?} among the manifests given with -f (for namespace {namespace:?})",
            reference.name
        ),
    })
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
        .map(|p| ManagedPolicy {
            namespace: p.namespace().unwrap_or_default(),
            name: p.name_any(),
            generation: None,
            spec: p.spec.clone(),
            status: p.status.clone().unwrap_or_default(),
        })
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
