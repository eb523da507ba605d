//! `plan` and `apply` outside a cluster for every kind on the tenant-object seam
//! (SessionPolicy, NamedLocation, AuthenticationStrength, IdleTimeoutPolicy): the manifests' tenant connections, credentials from the
//! Azure SDK environment, one read per tenant and kind, then the reconcile core. Kinds that
//! others refer to by name (named locations, authentication strengths) are applied first, so that a SessionPolicy
//! naming a location created in the same apply resolves it; in a plan such a policy is shown
//! waiting for it. This module only gathers inputs and reports; planning and applying live in
//! `sessionops_core`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

use sessionops_api::manifest::{ManifestSet, Object};
use sessionops_api::{
    AuthenticationStrength, ClusterTenantConnection, ConnectionSettings, IdleTimeoutPolicy,
    NamedLocation, SessionPolicy, TenantConnection, TenantRef,
};
use sessionops_core::connection::config::{Environment, config_from_environment};
use sessionops_core::connection::{self, ConnectionSource, Found};
use sessionops_core::failure::Failure;
use sessionops_core::status::{self, ConditionType};
use sessionops_core::tenant_object::Plan;
use sessionops_core::tenant_object::io::Applied;
use sessionops_core::tenant_object::kind::{self, Managed, ManagedNames, SeamKind, SeamStatus};
use sessionops_graph::{GraphClient, GraphConfig};

/// A seam kind the CLI runs: how to find its objects among the manifests.
pub trait FromManifest: SeamKind {
    /// The object, when `object` is one of this kind.
    fn of(object: &Object) -> Option<&Self>;
}

impl FromManifest for SessionPolicy {
    fn of(object: &Object) -> Option<&Self> {
        match object {
            Object::SessionPolicy(policy) => Some(policy),
            _ => None,
        }
    }
}

impl FromManifest for AuthenticationStrength {
    fn of(object: &Object) -> Option<&Self> {
        match object {
            Object::AuthenticationStrength(strength) => Some(strength),
            _ => None,
        }
    }
}

impl FromManifest for IdleTimeoutPolicy {
    fn of(object: &Object) -> Option<&Self> {
        match object {
            Object::IdleTimeoutPolicy(policy) => Some(policy),
            _ => None,
        }
    }
}

impl FromManifest for NamedLocation {
    fn of(object: &Object) -> Option<&Self> {
        match object {
            Object::NamedLocation(location) => Some(location),
            _ => None,
        }
    }
}

/// The outcome for one object: its plan (or why none), and after apply its status.
#[derive(Clone, Debug)]
pub struct Report<K: SeamKind> {
    /// `namespace/name`.
    pub key: String,
    /// The display name it manages.
    pub display_name: String,
    /// The plan, or why there is none.
    pub plan: Result<Plan, Failure>,
    /// Names resolved for it (id → name, to show names in diffs).
    pub names: BTreeMap<String, String>,
    /// The status after apply.
    pub status: Option<K::Status>,
}

impl<K: SeamKind> Report<K> {
    /// Applied and Ready=True.
    pub fn is_ready(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| status::is_true(s.conditions(), ConditionType::Ready))
    }
}

/// The reports of every seam kind of one run, dependencies first.
#[derive(Clone, Debug, Default)]
pub struct Reports {
    /// NamedLocations.
    pub locations: Vec<Report<NamedLocation>>,
    /// AuthenticationStrengths.
    pub strengths: Vec<Report<AuthenticationStrength>>,
    /// SessionPolicies.
    pub policies: Vec<Report<SessionPolicy>>,
    /// IdleTimeoutPolicies.
    pub idle_timeouts: Vec<Report<IdleTimeoutPolicy>>,
}

/// Something done with the reports of each kind in turn ([`Reports::visit`]), so that what
/// walks every kind is written once per walk, not once per kind.
pub trait Visitor {
    /// Called once per kind, dependencies first.
    fn visit<K: SeamKind>(&mut self, reports: &[Report<K>]);
}

impl Reports {
    /// Calls `visitor` with every kind's reports, dependencies first.
    pub fn visit<V: Visitor>(&self, visitor: &mut V) {
        visitor.visit(&self.locations);
        visitor.visit(&self.strengths);
        visitor.visit(&self.policies);
        visitor.visit(&self.idle_timeouts);
    }

    /// Every object applied and Ready=True.
    pub fn all_ready(&self) -> bool {
        struct AllReady(bool);
        impl Visitor for AllReady {
            fn visit<K: SeamKind>(&mut self, reports: &[Report<K>]) {
                self.0 &= reports.iter().all(Report::is_ready);
            }
        }
        let mut all = AllReady(true);
        self.visit(&mut all);
        all.0
    }

    /// Every object's key and plan, dependencies first.
    pub fn plans(&self) -> Vec<(&str, &Result<Plan, Failure>)> {
        struct Plans<'a>(Vec<(&'a str, &'a Result<Plan, Failure>)>);
        // The visitor's reports borrow from `self` for as long as the plans do.
        impl<'a> Plans<'a> {
            fn add<K: SeamKind>(&mut self, reports: &'a [Report<K>]) {
                self.0
                    .extend(reports.iter().map(|r| (r.key.as_str(), &r.plan)));
            }
        }
        let mut plans = Plans(Vec::new());
        plans.add(&self.locations);
        plans.add(&self.strengths);
        plans.add(&self.policies);
        plans.add(&self.idle_timeouts);
        plans.0
    }
}

/// Plans every seam object of `set`; with `apply`, applies the plans too: named locations
/// first, then the policies that may name them. `configure` lets callers (the demo, tests)
/// adjust the Graph config, e.g. the retry policy.
pub async fn run_all(
    set: &ManifestSet,
    env: &dyn Environment,
    apply: bool,
    configure: &dyn Fn(&mut GraphConfig),
) -> Reports {
    let others = managed_names(set);
    let locations = run::<NamedLocation>(set, env, apply, configure, &others).await;
    let strengths = run::<AuthenticationStrength>(set, env, apply, configure, &others).await;
    let policies = run::<SessionPolicy>(set, env, apply, configure, &others).await;
    let idle_timeouts = run::<IdleTimeoutPolicy>(set, env, apply, configure, &others).await;
    Reports {
        locations,
        strengths,
        policies,
        idle_timeouts,
    }
}

/// Per connection key, the display names that objects of kinds others refer to manage.
fn managed_names(set: &ManifestSet) -> BTreeMap<String, ManagedNames> {
    let mut names: BTreeMap<String, ManagedNames> = BTreeMap::new();
    for (key, work) in group::<NamedLocation>(set).0 {
        kind::managed_names(&work.managed, names.entry(key).or_default());
    }
    for (key, work) in group::<AuthenticationStrength>(set).0 {
        kind::managed_names(&work.managed, names.entry(key).or_default());
    }
    names
}

/// One tenant connection and the objects of one kind that use it.
struct TenantWork<'a, K: SeamKind> {
    settings: &'a dyn ConnectionSettings,
    managed: Vec<Managed<K>>,
}

/// The objects of kind `K` by connection key, and reports for those whose connection cannot
/// be used.
#[allow(clippy::type_complexity)]
fn group<K: FromManifest>(
    set: &ManifestSet,
) -> (BTreeMap<String, TenantWork<'_, K>>, Vec<Report<K>>) {
    let mut failed = Vec::new();
    let mut work: BTreeMap<String, TenantWork<'_, K>> = BTreeMap::new();
    for object in set
        .objects
        .iter()
        .filter_map(|loaded| K::of(&loaded.object))
    {
        let managed = Managed::of(object);
        match connection_for(set, K::tenant_ref(object.spec()), &managed.namespace) {
            Ok((key, settings)) => work
                .entry(key)
                .or_insert_with(|| TenantWork {
                    settings,
                    managed: Vec::new(),
                })
                .managed
                .push(managed),
            Err(failure) => failed.push(Report {
                key: managed.key(),
                display_name: managed.display_name(),
                plan: Err(failure),
                names: BTreeMap::new(),
                status: None,
            }),
        }
    }
    (work, failed)
}

/// Plans (and with `apply` applies) every object of kind `K` in `set`, sorted by key.
pub async fn run<K: FromManifest>(
    set: &ManifestSet,
    env: &dyn Environment,
    apply: bool,
    configure: &dyn Fn(&mut GraphConfig),
    others: &BTreeMap<String, ManagedNames>,
) -> Vec<Report<K>> {
    let (work, mut reports) = group::<K>(set);
    let none = ManagedNames::default();
    for (key, tenant_work) in work {
        let others = others.get(&key).unwrap_or(&none);
        reports.extend(run_tenant(tenant_work, env, apply, configure, others).await);
    }
    reports.sort_by(|a, b| a.key.cmp(&b.key));
    reports
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

async fn run_tenant<K: SeamKind>(
    work: TenantWork<'_, K>,
    env: &dyn Environment,
    apply: bool,
    configure: &dyn Fn(&mut GraphConfig),
    others: &ManagedNames,
) -> Vec<Report<K>> {
    let managed = work.managed;
    let fail_all = |failure: Failure| -> Vec<Report<K>> {
        managed
            .iter()
            .map(|m| Report {
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
    let read = match K::read(&client, work.settings.protected(), &managed).await {
        Ok(read) => read,
        Err(failure) => return fail_all(failure),
    };
    let planned = kind::plan_all(&read, &managed, others);
    let now = Time(jiff::Timestamp::now());
    let mut reports = Vec::new();
    for (m, planned) in managed.iter().zip(planned) {
        let names = K::id_names(&read, planned.desired.as_ref());
        let plan = planned.plan.map_err(Into::into);
        let status = if apply {
            let outcome: Result<Applied, Failure> = match &plan {
                Ok(plan) => K::apply(&client, plan).await.map_err(Failure::from),
                Err(failure) => Err(failure.clone()),
            };
            Some(kind::status_after::<K>(
                &m.status,
                m.generation,
                planned.desired.as_ref(),
                &outcome,
                &now,
            ))
        } else {
            None
        };
        reports.push(Report {
            key: planned.key,
            display_name: planned.display_name,
            plan,
            names,
            status,
        });
    }
    reports
}
