//! The RevocationRequest controller: runs a request once, saving progress into its status
//! after every chunk (so a restarted operator resumes from the cursor), with temporary
//! passwords in a Secret owned by the request. A terminal status is never run again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;

use super::context::{Context, EventAction};
use super::{Outcome, ReconcileError};
use kube::runtime::events::EventType;
use sessionops_api::{Kind, RevocationPhase, RevocationRequest, RevocationRequestStatus};
use sessionops_core::revocation::{self, ProgressSink};
use sessionops_core::status::{self, Reason};

const KIND: Kind = Kind::RevocationRequest;

/// Reconciles one RevocationRequest.
pub async fn reconcile(
    object: Arc<DeserializeGuard<RevocationRequest>>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    ctx.wait_for_caches().await;
    let outcome = match &object.0 {
        Ok(request) => reconcile_request(request, &ctx).await,
        Err(invalid) => super::invalid_namespaced(&ctx, object.as_ref(), invalid).await,
    };
    super::finished(&ctx, KIND, object.as_ref(), started, outcome)
}

async fn reconcile_request(request: &RevocationRequest, ctx: &Context) -> Outcome {
    let namespace = request.namespace().unwrap_or_default();
    let name = request.name_any();
    let api: Api<RevocationRequest> = Api::namespaced(ctx.client.clone(), &namespace);
    let prior = request.status.clone().unwrap_or_default();
    if request.meta().deletion_timestamp.is_some() {
        ctx.metrics.forget_revocation(&namespace, &name);
        return Outcome::ready(Reason::Deleted);
    }
    if prior.phase.is_terminal() {
        // Runs once: a re-applied manifest or an operator restart changes nothing.
        ctx.metrics.revocation_progress(&namespace, &name, &prior);
        return Outcome {
            reason: revocation::reported_reason(&prior),
            ready: prior.phase == RevocationPhase::Succeeded,
            result: Ok(Action::await_change()),
        };
    }
    let reference = request.object_ref(&());
    let (connection, graph) = match ctx.connect(&request.spec.tenant_ref, &namespace).await {
        Ok(connected) => connected,
        Err(failure) => {
            // Nothing was written to the tenant: the request waits (Pending) for the connection
            // or its Secret to be fixed, and is looked at again every resync.
            let now = Time(jiff::Timestamp::now());
            let status = revocation::waiting(&prior, request.meta().generation, &failure, &now);
            let reason = failure.reason();
            if status != prior
                && let Err(error) = super::patch_status(&api, &name, &status).await
            {
                return Outcome::failed(reason, error);
            }
            ctx.event(
                &reference,
                EventType::Warning,
                reason,
                EventAction::Revoke,
                failure.to_string(),
            )
            .await;
            let result = if failure.is_transient() {
                Err(ReconcileError::Transient(failure))
            } else {
                Ok(Action::requeue(ctx.settings.resync))
            };
            return Outcome {
                reason,
                ready: false,
                result,
            };
        }
    };
    if prior.phase == RevocationPhase::Pending && prior.started_time.is_none() {
        ctx.event(
            &reference,
            EventType::Normal,
            Reason::Running,
            EventAction::Revoke,
            format!("{:?} for: {}", request.spec.actions, request.spec.reason),
        )
        .await;
    } else {
        ctx.event(
            &reference,
            EventType::Normal,
            Reason::Resuming,
            EventAction::Revoke,
            "resuming from the saved cursor after a restart".to_owned(),
        )
        .await;
    }
    let mut sink = StatusSink {
        api: api.clone(),
        secrets: Api::namespaced(ctx.client.clone(), &namespace),
        request,
        saved: prior.clone(),
        ctx,
    };
    let status = revocation::run(
        &graph,
        &request.spec,
        connection.settings().protected(),
        request.meta().generation,
        prior,
        &mut sink,
        &ctx.settings.revocation,
    )
    .await;
    let reason = revocation::reported_reason(&status);
    if status != sink.saved
        && let Err(error) = super::patch_status(&api, &name, &status).await
    {
        return Outcome::failed(reason, error);
    }
    ctx.metrics.revocation_progress(&namespace, &name, &status);
    if status.phase.is_terminal() {
        let succeeded = status.phase == RevocationPhase::Succeeded;
        let message = status::ready(&status.conditions).message;
        let type_ = if succeeded {
            EventType::Normal
        } else {
            EventType::Warning
        };
        ctx.event(&reference, type_, reason, EventAction::Revoke, message)
            .await;
        Outcome {
            reason,
            ready: succeeded,
            result: Ok(Action::await_change()),
        }
    } else {
        // Stopped for shutdown: the next leader resumes from the saved cursor.
        Outcome {
            reason,
            ready: false,
            result: Ok(Action::await_change()),
        }
    }
}

/// Progress goes into the object's status; passwords into a Secret it owns.
struct StatusSink<'a> {
    api: Api<RevocationRequest>,
    secrets: Api<Secret>,
    request: &'a RevocationRequest,
    saved: RevocationRequestStatus,
    ctx: &'a Context,
}

impl StatusSink<'_> {
    fn secret_name(&self) -> String {
        format!("{}-passwords", self.request.name_any())
    }
}

/// A Secret data key for a UPN (keys allow `[-._a-zA-Z0-9]`).
pub fn password_key(upn: &str) -> String {
    upn.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[async_trait::async_trait]
impl ProgressSink for StatusSink<'_> {
    async fn save(&mut self, status: &RevocationRequestStatus) -> Result<(), String> {
        if *status == self.saved {
            return Ok(());
        }
        super::patch_status(&self.api, &self.request.name_any(), status)
            .await
            .map_err(|e| format!("cannot save progress to the object's status: {e}"))?;
        self.saved = status.clone();
        let namespace = self.request.namespace().unwrap_or_default();
        self.ctx
            .metrics
            .revocation_progress(&namespace, &self.request.name_any(), status);
        Ok(())
    }

    async fn store_password(&mut self, upn: &str, password: &str) -> Result<String, String> {
        let name = self.secret_name();
        let key = password_key(upn);
        let data = BTreeMap::from([(key.clone(), ByteString(password.as_bytes().to_vec()))]);
        let owner = self
            .request
            .controller_owner_ref(&())
            .ok_or("the request has no uid")?;
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                owner_references: Some(vec![owner]),
                labels: Some(BTreeMap::from([(
                    "sessionops.io/revocation-request".to_owned(),
                    self.request.name_any(),
                )])),
                ..Default::default()
            },
            data: Some(data),
            type_: Some("Opaque".to_owned()),
            ..Default::default()
        };
        // Errors name the Secret, never its content.
        match self.secrets.create(&PostParams::default(), &secret).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let patch = json!({ "data": { key: ByteString(password.as_bytes().to_vec()) } });
                self.secrets
                    .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                    .map_err(|e| {
                        format!("cannot add a password to Secret {name}: {}", redact(&e))
                    })?;
            }
            Err(e) => return Err(format!("cannot create Secret {name}: {}", redact(&e))),
        }
        Ok(name)
    }
}

/// A Kubernetes error without anything of the request body.
fn redact(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!("{} ({})", status.reason, status.code),
        _ => "the API server could not be reached".to_owned(),
    }
}
