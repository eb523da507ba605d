//! `sessionops operator`: the watch streams, the controllers (one per kind), the metrics
//! server, leader election and graceful shutdown.

use std::sync::Arc;

use futures::{FutureExt, StreamExt};
use kube::core::DeserializeGuard;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Api, Resource};
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

use super::context::Context;
use super::metrics::Metrics;
use super::settings::{Settings, Stores};
use super::tenant_object::{self, Controlled};
use super::{error_policy, revocation, server, tenant_connection};
use crate::args::Args;
use sessionops_api::{
    AuthenticationStrength, ClusterTenantConnection, IdleTimeoutPolicy, NamedLocation,
    RevocationRequest, SessionPolicy, TenantConnection, TenantKind, TenantRef,
};
use sessionops_core::status::{self, Reason};
use sessionops_core::tenant_object::kind::SeamStatus;

/// Lease duration and renewal grace (seconds): a new leader takes over within ~15 s of a
/// crash; a leader renews 5 s before its lease would lapse.
const LEASE_DURATION: u64 = 15;
const LEASE_GRACE: u64 = 5;

/// Triggers on a spec change, a finalizer change or the start of deletion; not on status
/// patches (the controller's own writes), which would otherwise reconcile every object again.
fn relevant_change<K: Resource>(object: &K) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let meta = object.meta();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    meta.generation.hash(&mut hasher);
    meta.finalizers.hash(&mut hasher);
    meta.deletion_timestamp.is_some().hash(&mut hasher);
    Some(hasher.finish())
}

/// Runs the operator until SIGTERM/SIGINT (or lost leadership).
pub async fn run(args: Args) -> anyhow::Result<()> {
    sessionops_graph::tls::install_crypto_provider();
    let client = kube::Client::try_default().await.map_err(|e| {
        anyhow::anyhow!("cannot configure the Kubernetes client (in-cluster or KUBECONFIG): {e}")
    })?;
    let metrics = Arc::new(Metrics::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested: finishing in-flight work");
        let _ = stop_tx.send(true);
    });
    let stopped = {
        let mut stop = stop_rx.clone();
        async move {
            let _ = stop.wait_for(|s| *s).await;
        }
        .shared()
    };
    let server = tokio::spawn(server::serve(
        args.metrics_addr,
        metrics.clone(),
        stopped.clone(),
    ));

    // The CRDs must be installed; a clear error beats a crash loop of watch failures.
    Api::<SessionPolicy>::all(client.clone())
        .list_metadata(&kube::api::ListParams::default().limit(1))
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot list SessionPolicies (are the CRDs installed and the RBAC applied?): {e}"
            )
        })?;
    metrics.set_ready(true);

    let lease = if args.leader_election {
        let namespace = args
            .lease_namespace
            .clone()
            .unwrap_or_else(|| client.default_namespace().to_owned());
        let identity = args.lease_identity.clone().unwrap_or_else(|| {
            std::env::var("HOSTNAME").unwrap_or_else(|_| uuid::Uuid::new_v4().to_string())
        });
        let manager = LeaseManagerBuilder::new(client.clone(), &args.lease_name)
            .with_namespace(&namespace)
            .with_identity(&identity)
            .with_duration(LEASE_DURATION)
            .with_grace(LEASE_GRACE)
            .with_field_manager(super::context::MANAGER)
            .build()
            .await
            .map_err(|e| anyhow::anyhow!("leader election: {e}"))?;
        let (mut leading, task) = manager.watch().await;
        tracing::info!(lease = %args.lease_name, %namespace, %identity, "waiting to lead");
        tokio::select! {
            result = leading.wait_for(|l| *l) => { result.map_err(|_| anyhow::anyhow!("leader election stopped"))?; }
            () = stopped.clone() => return Ok(()),
        }
        tracing::info!("leading: starting the controllers");
        Some((leading, task))
    } else {
        None
    };
    metrics.set_leader(true);

    // Losing the lease stops the controllers like a shutdown does (in-flight work finishes and
    // is saved), then the process exits so that it restarts as a follower.
    let (controllers_stop_tx, controllers_stop_rx) = watch::channel(false);
    let lost = match lease {
        Some((mut leading, task)) => {
            let mut stop = stop_rx.clone();
            let controllers_stop_tx = controllers_stop_tx.clone();
            Some(tokio::spawn(async move {
                let lost = tokio::select! {
                    _ = leading.wait_for(|l| !*l) => true,
                    _ = stop.wait_for(|s| *s) => false,
                };
                let _ = controllers_stop_tx.send(true);
                drop(leading);
                if let Ok(Ok(manager)) = task.await {
                    let _ = manager.release().await;
                }
                lost
            }))
        }
        None => {
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let _ = stop.wait_for(|s| *s).await;
                let _ = controllers_stop_tx.send(true);
            });
            None
        }
    };
    let mut settings = Settings::new(args.resync_interval);
    settings.revocation.stop = Some(controllers_stop_rx.clone());
    run_controllers(
        client,
        metrics.clone(),
        settings,
        &args,
        controllers_stop_rx,
    )
    .await;
    metrics.set_leader(false);
    let lost = match lost {
        Some(handle) => handle.await.unwrap_or(false),
        None => false,
    };
    server.abort();
    if lost {
        anyhow::bail!("lost the leader Lease; exiting so that this replica restarts as a follower");
    }
    tracing::info!("stopped");
    Ok(())
}

/// A watch stream of `api` into a cache, filtered to relevant changes.
fn watched<K>(
    api: Api<DeserializeGuard<K>>,
) -> (
    Store<DeserializeGuard<K>>,
    impl futures::Stream<Item = Result<DeserializeGuard<K>, watcher::Error>> + Send,
)
where
    K: Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(relevant_change, Default::default());
    (reader, stream)
}

fn api_for<K>(client: &kube::Client, namespace: Option<&str>) -> Api<DeserializeGuard<K>>
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    }
}

async fn run_controllers(
    client: kube::Client,
    metrics: Arc<Metrics>,
    settings: Settings,
    args: &Args,
    stop: watch::Receiver<bool>,
) {
    let namespace = args.watch_namespace.as_deref();
    let (cluster_connections, cluster_connection_events) =
        watched::<ClusterTenantConnection>(Api::all(client.clone()));
    let (connections, connection_events) = watched::<TenantConnection>(api_for(&client, namespace));
    let (policies, policy_events) = watched::<SessionPolicy>(api_for(&client, namespace));
    let (locations, location_events) = watched::<NamedLocation>(api_for(&client, namespace));
    let (strengths, strength_events) =
        watched::<AuthenticationStrength>(api_for(&client, namespace));
    let (idle_timeouts, idle_timeout_events) =
        watched::<IdleTimeoutPolicy>(api_for(&client, namespace));
    let (revocations, revocation_events) =
        watched::<RevocationRequest>(api_for(&client, namespace));
    let stores = Stores {
        cluster_connections: cluster_connections.clone(),
        connections: connections.clone(),
        policies: policies.clone(),
        locations: locations.clone(),
        strengths: strengths.clone(),
        idle_timeouts: idle_timeouts.clone(),
        revocations: revocations.clone(),
    };
    let resync = settings.resync;
    let instance = args.lease_identity.clone();
    let ctx = Arc::new(Context::new(client, stores, metrics, settings, instance));
    let stopped = move || {
        let mut stop = stop.clone();
        async move {
            let _ = stop.wait_for(|s| *s).await;
        }
    };
    tokio::join!(
        Controller::for_stream(cluster_connection_events, cluster_connections)
            .graceful_shutdown_on(stopped())
            .run(
                tenant_connection::reconcile_cluster,
                error_policy,
                ctx.clone()
            )
            .for_each(drain::<_, _>("ClusterTenantConnection")),
        Controller::for_stream(connection_events, connections)
            .graceful_shutdown_on(stopped())
            .run(
                tenant_connection::reconcile_namespaced,
                error_policy,
                ctx.clone()
            )
            .for_each(drain::<_, _>("TenantConnection")),
        run_seam(
            seam_controller(
                policy_events,
                policies.clone(),
                &ctx,
                namespace,
                resync,
                stopped()
            )
            .watches(
                api_for::<NamedLocation>(&ctx.client, namespace),
                watcher::Config::default().any_semantic(),
                waiting_policies::<NamedLocation>(policies.clone()),
            )
            .watches(
                api_for::<AuthenticationStrength>(&ctx.client, namespace),
                watcher::Config::default().any_semantic(),
                waiting_policies::<AuthenticationStrength>(policies),
            ),
            &ctx
        ),
        run_seam(
            seam_controller(
                location_events,
                locations,
                &ctx,
                namespace,
                resync,
                stopped()
            ),
            &ctx
        ),
        run_seam(
            seam_controller(
                strength_events,
                strengths,
                &ctx,
                namespace,
                resync,
                stopped()
            ),
            &ctx
        ),
        run_seam(
            seam_controller(
                idle_timeout_events,
                idle_timeouts,
                &ctx,
                namespace,
                resync,
                stopped()
            ),
            &ctx
        ),
        Controller::for_stream(revocation_events, revocations.clone())
            .watches(
                Api::<DeserializeGuard<ClusterTenantConnection>>::all(ctx.client.clone()),
                watcher::Config::default().any_semantic(),
                dependents(
                    revocations.clone(),
                    |r: &RevocationRequest| &r.spec.tenant_ref,
                    TenantKind::ClusterTenantConnection
                ),
            )
            .watches(
                api_for::<TenantConnection>(&ctx.client, namespace),
                watcher::Config::default().any_semantic(),
                dependents(
                    revocations,
                    |r: &RevocationRequest| &r.spec.tenant_ref,
                    TenantKind::TenantConnection
                ),
            )
            .graceful_shutdown_on(stopped())
            .run(revocation::reconcile, error_policy, ctx.clone())
            .for_each(drain::<_, _>("RevocationRequest")),
    );
}

/// The controller of a kind on the tenant-object seam: woken by its objects, by the tenant
/// connections they use, and once per resync for all objects at once (so that one LIST per
/// tenant serves them all).
fn seam_controller<K: Controlled>(
    events: impl futures::Stream<Item = Result<DeserializeGuard<K>, watcher::Error>> + Send + 'static,
    store: Store<DeserializeGuard<K>>,
    ctx: &Arc<Context>,
    namespace: Option<&str>,
    resync: std::time::Duration,
    stopped: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> Controller<DeserializeGuard<K>> {
    let tenant_ref = tenant_object::tenant_ref_of::<K>;
    Controller::for_stream(events, store.clone())
        .watches(
            Api::<DeserializeGuard<ClusterTenantConnection>>::all(ctx.client.clone()),
            watcher::Config::default().any_semantic(),
            dependents(
                store.clone(),
                tenant_ref,
                TenantKind::ClusterTenantConnection,
            ),
        )
        .watches(
            api_for::<TenantConnection>(&ctx.client, namespace),
            watcher::Config::default().any_semantic(),
            dependents(store, tenant_ref, TenantKind::TenantConnection),
        )
        .reconcile_all_on(tokio_stream_interval(resync))
        .graceful_shutdown_on(stopped)
}

/// Runs a seam kind's controller to its end.
fn run_seam<K: Controlled>(
    controller: Controller<DeserializeGuard<K>>,
    ctx: &Arc<Context>,
) -> impl std::future::Future<Output = ()> {
    controller
        .run(tenant_object::reconcile::<K>, error_policy, ctx.clone())
        .for_each(drain::<_, _>(K::KIND.as_str()))
}

/// Maps a NamedLocation or AuthenticationStrength that is Ready (just created, or adopted) to
/// the SessionPolicies on the same connection that wait for an object of the plan
/// (`Ready=False`, `WaitingForDependency`), so that they are applied right after it instead of
/// at the end of their backoff. Waking one that waits for another object costs one plan
/// against the cached read, nothing more.
fn waiting_policies<D>(
    policies: Store<DeserializeGuard<SessionPolicy>>,
) -> impl Fn(DeserializeGuard<D>) -> Vec<ObjectRef<DeserializeGuard<SessionPolicy>>>
+ Send
+ Sync
+ 'static
where
    D: Controlled,
{
    move |dependency| {
        let Ok(dependency) = &dependency.0 else {
            return Vec::new();
        };
        let ready = dependency
            .status()
            .is_some_and(|s| status::ready(s.conditions()).ready);
        if !ready {
            return Vec::new();
        }
        let tenant = D::tenant_ref(dependency.spec());
        let namespace = dependency.meta().namespace.clone();
        policies
            .state()
            .iter()
            .filter(|guard| {
                guard.0.as_ref().is_ok_and(|policy| {
                    let waiting = policy.status.as_ref().is_some_and(|s| {
                        status::ready(&s.conditions).reason == Reason::WaitingForDependency
                    });
                    waiting
                        && policy.spec.tenant_ref == *tenant
                        && (tenant.kind == TenantKind::ClusterTenantConnection
                            || policy.metadata.namespace == namespace)
                })
            })
            .map(|guard| ObjectRef::from_obj(guard.as_ref()))
            .collect()
    }
}

/// Consumes a controller's results; failures were logged by the error policy already.
fn drain<T, E: std::fmt::Display>(
    controller: &'static str,
) -> impl FnMut(Result<T, E>) -> std::future::Ready<()> {
    move |result| {
        if let Err(error) = result {
            tracing::debug!(controller, %error, "controller event");
        }
        std::future::ready(())
    }
}

/// Maps a changed tenant connection to the objects that reference it, so that an object
/// waiting on it (missing, namespace not allowed, Secret not readable) is looked at again at
/// once instead of at the next resync.
fn dependents<K, C>(
    store: Store<DeserializeGuard<K>>,
    tenant_ref: fn(&K) -> &TenantRef,
    kind: TenantKind,
) -> impl Fn(DeserializeGuard<C>) -> Vec<ObjectRef<DeserializeGuard<K>>> + Send + Sync + 'static
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
    C: Resource<DynamicType = ()>,
{
    move |connection| {
        let name = connection.meta().name.clone().unwrap_or_default();
        let namespace = connection.meta().namespace.clone();
        store
            .state()
            .iter()
            .filter(|guard| {
                guard.0.as_ref().is_ok_and(|object| {
                    let reference = tenant_ref(object);
                    reference.kind == kind
                        && reference.name == name
                        && (namespace.is_none() || object.meta().namespace == namespace)
                })
            })
            .map(|guard| ObjectRef::from_obj(guard.as_ref()))
            .collect()
    }
}

/// A tick every `period`, the first one period from now.
fn tokio_stream_interval(period: std::time::Duration) -> impl futures::Stream<Item = ()> + Send {
    futures::stream::unfold(
        tokio::time::interval_at(tokio::time::Instant::now() + period, period),
        |mut interval| async move {
            interval.tick().await;
            Some(((), interval))
        },
    )
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn policy(namespace: &str, name: &str, kind: &str) -> SessionPolicy {
        let text = format!(
            "apiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  tenantRef: {{kind: {kind}, name: contoso}}\n  state: enabled\n  assignments: {{users: {{include: [All]}}, applications: {{include: [All]}}}}\n  session: {{signInFrequency: 12h}}\n"
        );
        let mut set =
            sessionops_api::manifest::load_str(std::path::Path::new("p.yaml"), &text).unwrap();
        match set.objects.remove(0).object {
            sessionops_api::manifest::Object::SessionPolicy(p) => *p,
            _ => unreachable!(),
        }
    }

    /// A changed connection wakes exactly the objects that reference it.
    #[test]
    fn a_connection_change_maps_to_the_objects_that_use_it() {
        let mut writer = reflector::store::Writer::<DeserializeGuard<SessionPolicy>>::default();
        for p in [
            policy("identity", "a", "ClusterTenantConnection"),
            policy("security", "b", "ClusterTenantConnection"),
            policy("identity", "c", "TenantConnection"),
            policy("security", "d", "TenantConnection"),
        ] {
            writer.apply_watcher_event(&watcher::Event::Apply(DeserializeGuard(Ok(p))));
        }
        let names = |refs: Vec<ObjectRef<DeserializeGuard<SessionPolicy>>>| {
            let mut names: Vec<String> = refs.into_iter().map(|r| r.name).collect();
            names.sort();
            names
        };
        let cluster = dependents(
            writer.as_reader(),
            |p: &SessionPolicy| &p.spec.tenant_ref,
            TenantKind::ClusterTenantConnection,
        );
        let mut ctc = ClusterTenantConnection::new("contoso", serde_json::from_value(serde_json::json!({"tenantId": "t", "clientId": "c", "credentials": {"workloadIdentity": {}}})).unwrap());
        assert_eq!(
            names(cluster(DeserializeGuard(Ok(ctc.clone())))),
            ["a", "b"]
        );
        ctc.metadata.name = Some("fabrikam".into());
        assert!(cluster(DeserializeGuard(Ok(ctc))).is_empty());
        let namespaced = dependents(
            writer.as_reader(),
            |p: &SessionPolicy| &p.spec.tenant_ref,
            TenantKind::TenantConnection,
        );
        let mut tc = TenantConnection::new("contoso", serde_json::from_value(serde_json::json!({"tenantId": "t", "clientId": "c", "credentials": {"workloadIdentity": {}}})).unwrap());
        tc.metadata.namespace = Some("identity".into());
        assert_eq!(names(namespaced(DeserializeGuard(Ok(tc)))), ["c"]);
    }

    fn ready(reason: &str) -> serde_json::Value {
        serde_json::json!({"conditions": [{
            "type": "Ready", "status": if reason == "Synced" { "True" } else { "False" },
            "reason": reason, "message": "m", "lastTransitionTime": "2026-01-01T00:00:00Z"
        }]})
    }

    /// A location that became Ready wakes the policies of its connection that wait for an
    /// object of the plan, and no other.
    #[test]
    fn a_ready_location_wakes_the_policies_that_wait_on_its_connection() {
        let mut writer = reflector::store::Writer::<DeserializeGuard<SessionPolicy>>::default();
        for (name, connection, reason) in [
            ("waiting", "contoso", "WaitingForDependency"),
            ("synced", "contoso", "Synced"),
            ("missing-name", "contoso", "NameNotFound"),
            ("other-tenant", "fabrikam", "WaitingForDependency"),
        ] {
            let mut p = policy("identity", name, "ClusterTenantConnection");
            p.spec.tenant_ref.name = connection.into();
            p.status = Some(serde_json::from_value(ready(reason)).unwrap());
            writer.apply_watcher_event(&watcher::Event::Apply(DeserializeGuard(Ok(p))));
        }
        let wake = waiting_policies::<NamedLocation>(writer.as_reader());
        let mut location: NamedLocation = serde_json::from_value(serde_json::json!({
            "apiVersion": "sessionops.io/v1alpha1", "kind": "NamedLocation",
            "metadata": {"name": "office", "namespace": "identity"},
            "spec": {"tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"},
                     "ip": {"ranges": ["203.0.113.0/24"]}}
        }))
        .unwrap();
        assert!(
            wake(DeserializeGuard(Ok(location.clone()))).is_empty(),
            "not created yet"
        );
        location.status = Some(serde_json::from_value(ready("Synced")).unwrap());
        let woken: Vec<String> = wake(DeserializeGuard(Ok(location)))
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(woken, ["waiting"]);
    }

    /// Status patches (the operator's own writes) must not trigger a reconcile; spec changes,
    /// finalizer changes and the start of deletion must.
    #[test]
    fn only_relevant_changes_trigger_a_reconcile() {
        // Any kind will do: the predicate reads metadata only.
        let mut policy = k8s_openapi::api::core::v1::ConfigMap::default();
        policy.metadata.generation = Some(1);
        let base = relevant_change(&policy);
        let mut status_only = policy.clone();
        status_only.metadata.resource_version = Some("2".into());
        status_only.metadata.managed_fields = Some(Vec::new());
        assert_eq!(relevant_change(&status_only), base);
        let mut spec = policy.clone();
        spec.metadata.generation = Some(2);
        assert_ne!(relevant_change(&spec), base);
        let mut finalizer = policy.clone();
        finalizer.metadata.finalizers = Some(vec!["sessionops.io/tenant-policy".into()]);
        assert_ne!(relevant_change(&finalizer), base);
        let mut deleting = policy.clone();
        deleting.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
        assert_ne!(relevant_change(&deleting), base);
    }
}
