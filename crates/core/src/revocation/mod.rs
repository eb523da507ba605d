//! RevocationRequest execution: resolve the targets, apply the actions at the Graph write
//! ceiling in `$batch`es of 20, verify that sessions were revoked, and record progress so that
//! a crash resumes without losing a target. The driver (CLI or operator) supplies where
//! progress is saved; everything else is here.
//!
//! Order and resume: targets are resolved first, de-duplicated and sorted by object id, then
//! executed in that order in chunks of 20; the cursor is the last id of the contiguous prefix
//! of finished chunks. A crash redoes at most the chunks in flight (all actions are idempotent).
//! Resolving a 100k-member group takes ~100 paged reads (seconds), against hours of writes at
//! the quota, so resolving before writing costs nothing measurable and makes the order exact.
//!
//! [`targets`] resolves who (behind a [`TargetSource`]), [`schedule`] (pure) says which chunks
//! are left and what cursor to save, `actions` applies each action to a chunk, `verify` reads
//! back, `status` turns phases into conditions; [`run`] drives them.

mod actions;
mod password;
pub mod schedule;
mod status;
pub mod targets;
mod verify;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;

use crate::status::Reason;
use sessionops_api::{
    ProtectedPrincipals, RevocationAction, RevocationCounts, RevocationFailure, RevocationPhase,
    RevocationRequestSpec, RevocationRequestStatus,
};
use sessionops_graph::{GraphClient, GraphError};

use self::status::{finish_failed, now, record_failures, set_phase};
use actions::run_chunk;
use schedule::{Cursor, Progress, Schedule};
pub use status::{reported_reason, waiting};
pub use targets::{Resolved, Target, TargetSource, resolve_targets};
use verify::verify;

/// Users per chunk: one `$batch` of revocations.
pub const CHUNK: usize = 20;
/// A revocation is verified when `signInSessionsValidFromDateTime` ≥ the moment revocation
/// started minus this allowance for clock skew between sessionops and Entra.
pub const CLOCK_SKEW: Duration = Duration::from_secs(30);

/// Why a request stopped before or outside per-target work. Each has a stable reason.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RevocationError {
    /// Users or groups that do not exist.
    #[error("targets not found in the tenant: {}", .0.join(", "))]
    TargetNotFound(Vec<String>),
    /// More users resolved than `maxTargets` allows.
    #[error("{resolved} users resolved, more than maxTargets {max}: nothing was written")]
    TooManyTargets {
        /// Resolved count.
        resolved: usize,
        /// The guard.
        max: i64,
    },
    /// The spec differs from the one that already ran under this name.
    #[error(
        "the spec differs from the one that ran under this name (spec is immutable): create a new RevocationRequest"
    )]
    SpecChanged,
    /// Graph failed in a way that stops the run (resolution, permission).
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Progress could not be saved: stop rather than run without a resume point.
    #[error("cannot save progress: {0}")]
    Progress(String),
}

impl RevocationError {
    /// Stable CamelCase reason.
    pub fn reason(&self) -> Reason {
        match self {
            RevocationError::TargetNotFound(_) => Reason::TargetNotFound,
            RevocationError::TooManyTargets { .. } => Reason::TooManyTargets,
            RevocationError::SpecChanged => Reason::SpecChanged,
            RevocationError::Graph(error) => Reason::from(error),
            RevocationError::Progress(_) => Reason::ProgressNotSaved,
        }
    }
}

/// Hash of a spec, recorded in status so a re-applied manifest is recognised.
pub fn spec_hash(spec: &RevocationRequestSpec) -> String {
    let canonical =
        serde_json::to_vec(&serde_json::to_value(spec).expect("spec serializes")).expect("json");
    let digest = ring::digest::digest(&ring::digest::SHA256, &canonical);
    digest
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where progress goes: the CLI's state file, or the object's status in a cluster.
#[async_trait::async_trait]
pub trait ProgressSink: Send {
    /// Persists `status` (atomically). Called after every finished chunk.
    async fn save(&mut self, status: &RevocationRequestStatus) -> Result<(), String>;
    /// Stores a generated temporary password for a user (never logged); returns where.
    async fn store_password(&mut self, upn: &str, password: &str) -> Result<String, String>;
}

/// Tunables of a run (tests shorten the verification window).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Chunks in flight at once.
    pub concurrency: usize,
    /// How long unverified users are re-polled.
    pub verify_timeout: Duration,
    /// First re-poll delay (doubles).
    pub verify_poll: Duration,
    /// Graceful stop (operator shutdown or lost leadership): when it turns true, no new chunk
    /// starts, the chunks in flight finish, the cursor is saved and `run` returns a
    /// non-terminal status that a later run resumes.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
}

impl RunOptions {
    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|stop| *stop.borrow())
    }

    async fn stopped(&self) {
        match self.stop.clone() {
            Some(mut stop) => {
                if stop.wait_for(|stopped| *stopped).await.is_err() {
                    // The sender is gone: nobody can ask for a stop any more.
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 4,
            verify_timeout: Duration::from_secs(300),
            verify_poll: Duration::from_secs(2),
            stop: None,
        }
    }
}

/// Runs (or resumes) a RevocationRequest to a terminal phase. `status` is the last saved
/// status (default for a new request). Returns the terminal status.
pub async fn run(
    client: &GraphClient,
    spec: &RevocationRequestSpec,
    protected: &ProtectedPrincipals,
    generation: Option<i64>,
    mut status: RevocationRequestStatus,
    sink: &mut dyn ProgressSink,
    options: &RunOptions,
) -> RevocationRequestStatus {
    let hash = spec_hash(spec);
    if status.phase.is_terminal() {
        return status;
    }
    if status.spec_hash.as_ref().is_some_and(|h| *h != hash) {
        return finish_failed(status, generation, &RevocationError::SpecChanged);
    }
    status.spec_hash = Some(hash);
    status.observed_generation = generation;
    if status.started_time.is_none() {
        status.started_time = Some(now());
    }
    match execute(
        client,
        spec,
        protected,
        generation,
        &mut status,
        sink,
        options,
    )
    .await
    {
        Ok(RunEnd::Finished) => {}
        Ok(RunEnd::Stopped) => tracing::info!(
            phase = ?status.phase,
            succeeded = status.counts.succeeded,
            "revocation stopped on request; the saved cursor resumes it"
        ),
        Err(error) => status = finish_failed(status, generation, &error),
    }
    let _ = sink.save(&status).await;
    status
}

/// Whether `execute` ran to a terminal phase or was stopped (and saved) part-way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunEnd {
    Finished,
    Stopped,
}

async fn execute(
    client: &GraphClient,
    spec: &RevocationRequestSpec,
    protected: &ProtectedPrincipals,
    generation: Option<i64>,
    status: &mut RevocationRequestStatus,
    sink: &mut dyn ProgressSink,
    options: &RunOptions,
) -> Result<RunEnd, RevocationError> {
    let resuming = matches!(
        status.phase,
        RevocationPhase::Running | RevocationPhase::Verifying
    );
    if !resuming {
        set_phase(
            status,
            RevocationPhase::Resolving,
            generation,
            "resolving targets",
        );
        sink.save(status).await.map_err(RevocationError::Progress)?;
    }
    let resolved = resolve_targets(client, &spec.targets, protected).await?;
    if resolved.targets.len() as i64 > spec.max_targets {
        return Err(RevocationError::TooManyTargets {
            resolved: resolved.targets.len(),
            max: spec.max_targets,
        });
    }
    if !resuming {
        status.counts = RevocationCounts {
            resolved: resolved.targets.len() as i64,
            skipped_protected: resolved.skipped_protected,
            ..Default::default()
        };
    }
    if spec.dry_run {
        let message = format!(
            "dry run: {} users would be affected ({} protected left alone); nothing was written",
            resolved.targets.len(),
            resolved.skipped_protected
        );
        set_phase(status, RevocationPhase::Succeeded, generation, &message);
        return Ok(RunEnd::Finished);
    }
    let mut cursor = Cursor::read(status);
    let mut pending_verification: Vec<Target> = Vec::new();
    if status.phase != RevocationPhase::Verifying {
        if cursor.started_ms == 0 {
            cursor.started_ms = jiff::Timestamp::now().as_millisecond();
            cursor.write(status);
        }
        set_phase(
            status,
            RevocationPhase::Running,
            generation,
            &format!(
                "applying {:?} to {} users",
                spec.actions,
                resolved.targets.len()
            ),
        );
        sink.save(status).await.map_err(RevocationError::Progress)?;
        let started = jiff::Timestamp::from_millisecond(cursor.started_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let targets = &resolved.targets;
        // Chunks are slices of the targets, not copies: 100,000 targets are held once (the
        // memory benchmark measures this). Suspect chunks may have run before a crash: they
        // are read back before revoking again.
        let schedule = Schedule::new(targets, &cursor, resuming, options.concurrency);
        let mut progress = Progress::new(cursor.clone());
        // A stop lets the chunks in flight finish; no new chunk starts.
        // Indices, not borrowed items, flow through the stream: the future stays Send for any
        // lifetime (the operator runs it on a multi-threaded runtime).
        let schedule_ref = &schedule;
        let mut results = futures::stream::iter(0..schedule.len())
            .take_while(|_: &usize| std::future::ready(!options.stopping()))
            .map(|index: usize| async move {
                let chunk = schedule_ref.chunk(targets, index);
                let suspect = schedule_ref.is_suspect(index);
                let outcome =
                    run_chunk(client, &spec.actions, chunk, started, suspect, spec.verify).await;
                (index, outcome)
            })
            .buffer_unordered(options.concurrency.max(1));
        while let Some((index, outcome)) = results.next().await {
            let outcome = outcome?;
            for (upn, password) in &outcome.passwords {
                let stored_in = sink
                    .store_password(upn, password)
                    .await
                    .map_err(RevocationError::Progress)?;
                status.password_secret = Some(stored_in);
            }
            status.counts.succeeded += outcome.succeeded;
            status.counts.skipped += outcome.skipped;
            status.counts.verified += outcome.verified;
            pending_verification.extend(outcome.unverified);
            record_failures(status, outcome.failures);
            progress.finish(&schedule, targets, index).write(status);
            sink.save(status).await.map_err(RevocationError::Progress)?;
        }
        if !progress.is_complete(&schedule) {
            // Stopped before every chunk ran: the cursor just saved is where a later run resumes.
            return Ok(RunEnd::Stopped);
        }
    }
    if spec.verify && spec.actions.contains(&RevocationAction::RevokeSessions) {
        set_phase(
            status,
            RevocationPhase::Verifying,
            generation,
            "reading back signInSessionsValidFromDateTime",
        );
        sink.save(status).await.map_err(RevocationError::Progress)?;
        let failed: BTreeSet<String> = status.failures.iter().map(|f| f.target.clone()).collect();
        // After a resume the in-line results of the earlier run are gone: verify everyone
        // again and count from scratch; otherwise only re-poll the users not visible yet.
        let to_verify: Vec<Target> = if resuming {
            status.counts.verified = 0;
            resolved
                .targets
                .iter()
                .filter(|t| !t.external && !failed.contains(&t.upn))
                .cloned()
                .collect()
        } else {
            pending_verification
        };
        let threshold = jiff::Timestamp::from_millisecond(cursor.started_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            - jiff::SignedDuration::try_from(CLOCK_SKEW).unwrap_or_default();
        let unverified = tokio::select! {
            unverified = verify(client, &to_verify, threshold, options) => unverified?,
            // Verification only reads; a later run verifies everyone again.
            () = options.stopped() => return Ok(RunEnd::Stopped),
        };
        status.counts.verified += (to_verify.len() - unverified.len()) as i64;
        status.counts.succeeded -= unverified.len() as i64;
        record_failures(
            status,
            unverified
                .iter()
                .map(|t| RevocationFailure {
                    target: t.upn.clone(),
                    action: "verify".into(),
                    reason: Reason::Unverified.into(),
                    message: format!(
                        "signInSessionsValidFromDateTime still before the revocation after {}s",
                        options.verify_timeout.as_secs()
                    ),
                })
                .collect(),
        );
    }
    let phase = if status.counts.failed == 0 {
        RevocationPhase::Succeeded
    } else {
        RevocationPhase::PartiallySucceeded
    };
    let c = &status.counts;
    let message = format!(
        "{} resolved, {} succeeded, {} verified, {} failed, {} skipped, {} protected left alone",
        c.resolved, c.succeeded, c.verified, c.failed, c.skipped, c.skipped_protected
    );
    set_phase(status, phase, generation, &message);
    Ok(RunEnd::Finished)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_spec_hash_changes_with_the_spec() {
        let spec: RevocationRequestSpec = serde_json::from_value(
            json!({"tenantRef": {"name": "t"}, "reason": "r", "targets": {"users": ["a@b.c"]}}),
        )
        .unwrap();
        let mut other = spec.clone();
        other.reason = "s".into();
        assert_eq!(spec_hash(&spec), spec_hash(&spec.clone()));
        assert_ne!(spec_hash(&spec), spec_hash(&other));
    }
}
