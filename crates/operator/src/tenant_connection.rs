//! The tenant connection controller (both kinds): gets a token, records the granted Graph
//! roles and the ones still missing for the objects that use the connection, and re-reads the
//! credential Secret every resync, so a rotated secret is used without a restart.

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, Resource, ResourceExt};

use super::ReconcileError;
use super::connections::Connection;
use super::context::{Context, EventAction};
use super::tenant_object::any_uses;
use sessionops_api::{
    AuthenticationStrength, ClusterTenantConnection, Kind, NamedLocation, TenantConnection,
    TenantConnectionStatus, TenantRef,
};
use sessionops_core::connection::{self, Features};
use sessionops_core::directory::resolve::NameKind;
use sessionops_core::session_policy::plan;
use sessionops_core::status::{self, Reason};

/// Reconciles a ClusterTenantConnection.
pub async fn reconcile_cluster(
    object: Arc<DeserializeGuard<ClusterTenantConnection>>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let api: Api<ClusterTenantConnection> = Api::all(ctx.client.clone());
    let connection = object.0.clone().map(|c| Connection::Cluster(Arc::new(c)));
    let connection = connection.map_err(|e| e.error);
    reconcile_any(
        Kind::ClusterTenantConnection,
        object.as_ref(),
        connection,
        api,
        ctx,
    )
    .await
}

/// Reconciles a TenantConnection.
pub async fn reconcile_namespaced(
    object: Arc<DeserializeGuard<TenantConnection>>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let namespace = object.meta().namespace.clone().unwrap_or_default();
    let api: Api<TenantConnection> = Api::namespaced(ctx.client.clone(), &namespace);
    let connection = object
        .0
        .clone()
        .map(|c| Connection::Namespaced(Arc::new(c)))
        .map_err(|e| e.error);
    reconcile_any(
        Kind::TenantConnection,
        object.as_ref(),
        connection,
        api,
        ctx,
    )
    .await
}

async fn reconcile_any<G, K>(
    kind: Kind,
    object: &G,
    connection: Result<Connection, String>,
    api: Api<K>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError>
where
    G: Resource<DynamicType = ()>,
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let started = Instant::now();
    ctx.wait_for_caches().await;
    let name = object.meta().name.clone().unwrap_or_default();
    let generation = object.meta().generation;
    let connection = match connection {
        Ok(connection) => connection,
        Err(error) => {
            let result = super::report_invalid(
                &ctx,
                &api,
                &name,
                &object.object_ref(&()),
                &error,
                generation,
            )
            .await;
            ctx.metrics.reconciled(
                kind,
                Reason::InvalidSpec,
                false,
                started.elapsed().as_secs_f64(),
            );
            return result;
        }
    };
    let prior = match &connection {
        Connection::Cluster(c) => c.status.clone(),
        Connection::Namespaced(c) => c.status.clone(),
    }
    .unwrap_or_default();
    let features = features(&ctx, &connection);
    let now = Time(jiff::Timestamp::now());
    // Every resync reads the Secret again: a rotated credential takes effect without a restart.
    let check = match ctx
        .connections
        .graph(&connection, &ctx.settings, &ctx.metrics, true)
        .await
    {
        Ok(graph) => {
            let check = connection::check_token(&graph, &features).await;
            if check
                .as_ref()
                .is_err_and(|e| e.reason() == Reason::Unauthorized)
            {
                ctx.connections.forget(&connection.key()).await;
            }
            check
        }
        Err(failure) => Err(failure),
    };
    let status = connection::connection_status(&prior, generation, &check, &features, &now);
    // The token time moves on every check; it alone is no reason to write.
    let changed = TenantConnectionStatus {
        last_token_time: None,
        ..status.clone()
    } != TenantConnectionStatus {
        last_token_time: None,
        ..prior.clone()
    };
    if changed {
        super::patch_status(&api, &name, &status).await?;
    }
    let ready = status::ready(&status.conditions);
    let was = status::ready(&prior.conditions);
    if changed && (was.ready, was.reason) != (ready.ready, ready.reason) {
        let type_ = if ready.ready {
            EventType::Normal
        } else {
            EventType::Warning
        };
        ctx.event(
            &object.object_ref(&()),
            type_,
            ready.reason,
            EventAction::CheckToken,
            ready.message.clone(),
        )
        .await;
    }
    ctx.metrics.reconciled(
        kind,
        ready.reason,
        ready.ready,
        started.elapsed().as_secs_f64(),
    );
    if !ready.ready && ready.reason.is_transient() {
        let failures = ctx.failed(&super::object_key(object));
        return Ok(Action::requeue(super::backoff(failures)));
    }
    ctx.succeeded(&super::object_key(object));
    Ok(Action::requeue(ctx.settings.resync))
}

/// What the objects using `connection` need from Graph.
fn features(ctx: &Context, connection: &Connection) -> Features {
    let mut features = Features::default();
    let uses = |reference: &TenantRef, namespace: &str| connection.serves(reference, namespace);
    for policy in ctx.stores.policies.state() {
        if let Ok(policy) = &policy.0
            && uses(
                &policy.spec.tenant_ref,
                &policy.namespace().unwrap_or_default(),
            )
        {
            features.policies = true;
            for kind in plan::named_kinds(&policy.spec) {
                match kind {
                    NameKind::AuthenticationStrength => features.strength_names = true,
                    NameKind::Application | NameKind::ServicePrincipal => {
                        features.principal_names = true;
                    }
                    NameKind::User | NameKind::Group | NameKind::Role | NameKind::Location => {}
                }
            }
        }
    }
    // Named locations need what policies need (`namedlocation-list.md`,
    // `conditionalaccessroot-post-namedlocations.md`: Policy.Read.All and
    // Policy.ReadWrite.ConditionalAccess).
    features.policies |= any_uses::<NamedLocation>(&ctx.stores, connection);
    // Strengths are read with Policy.Read.AuthenticationMethod and written with
    // Policy.ReadWrite.ConditionalAccess (`authenticationstrengthroot-list-policies.md`,
    // `authenticationstrengthroot-post-policies.md`).
    if any_uses::<AuthenticationStrength>(&ctx.stores, connection) {
        features.policies = true;
        features.strength_names = true;
    }
    // IdleTimeoutPolicies need Policy.ReadWrite.ApplicationConfiguration, and the SharePoint
    // permission only when one manages SharePoint's idle sign-out.
    for policy in ctx.stores.idle_timeouts.state() {
        if let Ok(policy) = &policy.0
            && uses(
                &policy.spec.tenant_ref,
                &policy.namespace().unwrap_or_default(),
            )
        {
            features.idle_timeouts = true;
            features.share_point_settings |= policy.spec.share_point.is_some();
        }
    }
    for request in ctx.stores.revocations.state() {
        if let Ok(request) = &request.0
            && uses(
                &request.spec.tenant_ref,
                &request.namespace().unwrap_or_default(),
            )
        {
            features
                .revocation_actions
                .extend(request.spec.actions.iter().copied());
            features.group_targets |=
                !request.spec.targets.groups.is_empty() || request.spec.targets.all_users;
        }
    }
    features
}
