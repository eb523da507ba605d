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

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sessionops_graph::Method;

use crate::directory;
use crate::directory::resolve::{NameKind, NameRequests, Resolution, is_object_id};
use crate::status::{self, Status};
use sessionops_api::revocation::MAX_REPORTED_FAILURES;
use sessionops_api::{
    ProtectedPrincipals, RevocationAction, RevocationCounts, RevocationFailure, RevocationPhase,
    RevocationRequestSpec, RevocationRequestStatus,
};
use sessionops_graph::models::{Page, User};
use sessionops_graph::{
    ApiVersion, BatchItem, BatchItemResponse, GraphClient, GraphError, GraphRequest, permissions,
};

/// Users per chunk: one `$batch` of revocations.
pub const CHUNK: usize = 20;
/// A revocation is verified when `signInSessionsValidFromDateTime` ≥ the moment revocation
/// started minus this allowance for clock skew between sessionops and Entra.
pub const CLOCK_SKEW: Duration = Duration::from_secs(30);
const SELECT: &str =
    "id,userPrincipalName,userType,onPremisesSyncEnabled,creationType,externalUserState";

/// One user to act on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// Object id (the sort key).
    pub id: String,
    /// UPN, for reports.
    pub upn: String,
    /// An external user: signs in at a home tenant elsewhere (B2B), so revoking here does not
    /// reach their sessions. Internal guests (local accounts with userType Guest) are not.
    pub external: bool,
    /// Synced from on-premises AD.
    pub synced: bool,
}

impl Target {
    fn from_user(user: &User) -> Target {
        Target {
            upn: user
                .user_principal_name
                .clone()
                .unwrap_or_else(|| user.id.clone()),
            id: user.id.to_lowercase(),
            external: user.is_external(),
            synced: user.is_synced(),
        }
    }
}

/// The resolved target set.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// Targets sorted by id, protected ones removed.
    pub targets: Vec<Target>,
    /// Distinct users left alone because the connection protects them.
    pub skipped_protected: i64,
}

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
    pub fn reason(&self) -> &'static str {
        match self {
            RevocationError::TargetNotFound(_) => "TargetNotFound",
            RevocationError::TooManyTargets { .. } => "TooManyTargets",
            RevocationError::SpecChanged => "SpecChanged",
            RevocationError::Graph(error) => error.reason(),
            RevocationError::Progress(_) => "ProgressNotSaved",
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

/// Resolves targets: users by UPN or id, groups by name or id (transitive user members), or all
/// users; de-duplicated, protected users removed and counted. Unknown names fail the request.
pub async fn resolve_targets(
    client: &GraphClient,
    spec: &RevocationRequestSpec,
    protected: &ProtectedPrincipals,
) -> Result<Resolved, RevocationError> {
    // A Vec, sorted and de-duplicated once at the end: for 100,000 members it needs about half
    // the memory of a map keyed by id (the operator memory benchmark measures this).
    let mut found: Vec<Target> = Vec::new();
    let mut missing = Vec::new();
    let targets = &spec.targets;
    if targets.all_users {
        collect(
            &mut found,
            client.pages::<User>(
                GraphRequest::get("/users")
                    .query("$select", SELECT)
                    .query("$top", "999"),
            ),
        )
        .await?;
    }
    found.extend(lookup_users(client, &targets.users, &mut missing).await?);
    for group in group_ids(client, &targets.groups, &mut missing).await? {
        collect_members(&mut found, client, &group).await?;
    }
    if !missing.is_empty() {
        return Err(RevocationError::TargetNotFound(missing));
    }
    // Protected principals: an unresolvable one is an error, never a silent gap.
    let mut protected_missing = Vec::new();
    let mut protected_ids: BTreeSet<String> =
        lookup_users(client, &protected.users, &mut protected_missing)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
    let mut protected_members = Vec::new();
    for group in group_ids(client, &protected.groups, &mut protected_missing).await? {
        collect_members(&mut protected_members, client, &group).await?;
    }
    if !protected_missing.is_empty() {
        return Err(RevocationError::TargetNotFound(
            protected_missing
                .into_iter()
                .map(|m| format!("protected {m}"))
                .collect(),
        ));
    }
    protected_ids.extend(protected_members.into_iter().map(|t| t.id));
    // Sorted by id: the resume cursor relies on this order.
    found.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    found.dedup_by(|a, b| a.id == b.id);
    let before = found.len();
    found.retain(|t| !protected_ids.contains(&t.id));
    found.shrink_to_fit();
    Ok(Resolved {
        skipped_protected: (before - found.len()) as i64,
        targets: found,
    })
}

async fn lookup_users(
    client: &GraphClient,
    names: &[String],
    missing: &mut Vec<String>,
) -> Result<Vec<Target>, GraphError> {
    let mut users = Vec::new();
    for (property, wanted) in [
        (
            "id",
            names.iter().filter(|n| is_object_id(n)).collect::<Vec<_>>(),
        ),
        (
            "userPrincipalName",
            names.iter().filter(|n| !is_object_id(n)).collect(),
        ),
    ] {
        let values: Vec<&str> = wanted.iter().map(|s| s.as_str()).collect();
        let got: Vec<User> =
            directory::filter_in(client, "/users", property, &values, SELECT).await?;
        for name in wanted {
            match got.iter().find(|u| {
                if property == "id" {
                    u.id.eq_ignore_ascii_case(name)
                } else {
                    u.user_principal_name
                        .as_deref()
                        .is_some_and(|p| p.eq_ignore_ascii_case(name))
                }
            }) {
                Some(u) => users.push(Target::from_user(u)),
                None => missing.push(format!("user:{name}")),
            }
        }
    }
    Ok(users)
}

async fn group_ids(
    client: &GraphClient,
    names: &[String],
    missing: &mut Vec<String>,
) -> Result<Vec<String>, GraphError> {
    let mut requests = NameRequests::default();
    for name in names {
        requests.add(NameKind::Group, name, &[]);
    }
    let resolutions = directory::resolve(client, &requests).await?;
    let mut ids = Vec::new();
    for name in names {
        if is_object_id(name) {
            ids.push(name.to_lowercase());
            continue;
        }
        match resolutions.get(NameKind::Group, name) {
            Some(Resolution::Id(id)) => ids.push(id.clone()),
            Some(Resolution::Ambiguous(_)) => missing.push(format!(
                "group:{name} (several groups have this name: use the id)"
            )),
            _ => missing.push(format!("group:{name}")),
        }
    }
    Ok(ids)
}

async fn collect_members(
    found: &mut Vec<Target>,
    client: &GraphClient,
    group: &str,
) -> Result<(), GraphError> {
    let request = GraphRequest::get(&format!(
        "/groups/{group}/transitiveMembers/microsoft.graph.user"
    ))
    .query("$select", SELECT)
    .query("$top", "999")
    .advanced_query();
    match collect(found, client.pages::<User>(request)).await {
        Err(GraphError::NotFound { .. }) if is_object_id(group) => Err(GraphError::NotFound {
            code: "Request_ResourceNotFound".into(),
            message: format!("group {group} does not exist"),
            ids: Default::default(),
        }),
        other => other,
    }
}

async fn collect<T, S>(found: &mut Vec<Target>, pages: S) -> Result<(), GraphError>
where
    S: futures::Stream<Item = Result<Page<T>, GraphError>>,
    T: Into<Target>,
{
    let mut pages = std::pin::pin!(pages);
    while let Some(page) = pages.try_next().await? {
        found.extend(page.value.into_iter().map(Into::into));
    }
    Ok(())
}

impl From<User> for Target {
    fn from(u: User) -> Target {
        Target::from_user(&u)
    }
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

/// Where a run resumes: every chunk up to `after` is finished, and so are the chunks
/// starting with the ids in `done` (finished out of order; at most `concurrency` of them);
/// revocation started at `started_ms`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    done: Vec<String>,
    #[serde(default)]
    started_ms: i64,
}

fn read_cursor(status: &RevocationRequestStatus) -> Cursor {
    status
        .cursor
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default()
}

fn write_cursor(status: &mut RevocationRequestStatus, cursor: &Cursor) {
    status.cursor = Some(serde_json::to_string(cursor).expect("cursor serializes"));
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
        Ok(Progress::Finished) => {}
        Ok(Progress::Stopped) => tracing::info!(
            phase = ?status.phase,
            succeeded = status.counts.succeeded,
            "revocation stopped on request; the saved cursor resumes it"
        ),
        Err(error) => status = finish_failed(status, generation, &error),
    }
    let _ = sink.save(&status).await;
    status
}

fn now() -> Time {
    Time(jiff::Timestamp::now())
}

fn set_phase(
    status: &mut RevocationRequestStatus,
    phase: RevocationPhase,
    generation: Option<i64>,
    message: &str,
) {
    status.phase = phase;
    let time = now();
    let (ready, reason) = match phase {
        RevocationPhase::Succeeded => (Status::True, "Succeeded"),
        RevocationPhase::PartiallySucceeded => (Status::False, "PartiallySucceeded"),
        RevocationPhase::Failed => (Status::False, "Failed"),
        RevocationPhase::Pending => (Status::False, "Pending"),
        RevocationPhase::Resolving => (Status::False, "Resolving"),
        RevocationPhase::Running => (Status::False, "Running"),
        RevocationPhase::Verifying => (Status::False, "Verifying"),
    };
    status::set(
        &mut status.conditions,
        "Ready",
        ready,
        reason,
        message,
        generation,
        &time,
    );
    let complete = matches!(
        phase,
        RevocationPhase::Succeeded | RevocationPhase::PartiallySucceeded
    );
    status::set(
        &mut status.conditions,
        "Complete",
        if complete {
            Status::True
        } else {
            Status::False
        },
        reason,
        message,
        generation,
        &time,
    );
    let failed = phase == RevocationPhase::Failed;
    status::set(
        &mut status.conditions,
        "Failed",
        if failed { Status::True } else { Status::False },
        reason,
        message,
        generation,
        &time,
    );
    if phase.is_terminal() {
        status.completed_time = Some(time);
    }
}

fn finish_failed(
    mut status: RevocationRequestStatus,
    generation: Option<i64>,
    error: &RevocationError,
) -> RevocationRequestStatus {
    let message = error.to_string();
    set_phase(&mut status, RevocationPhase::Failed, generation, &message);
    // The Failed condition carries the precise reason.
    let time = now();
    status::set(
        &mut status.conditions,
        "Failed",
        Status::True,
        error.reason(),
        &message,
        generation,
        &time,
    );
    status::set(
        &mut status.conditions,
        "Ready",
        Status::False,
        error.reason(),
        &message,
        generation,
        &time,
    );
    status
}

/// Whether `execute` ran to a terminal phase or was stopped (and saved) part-way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
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
) -> Result<Progress, RevocationError> {
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
    let resolved = resolve_targets(client, spec, protected).await?;
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
        return Ok(Progress::Finished);
    }
    let mut cursor = read_cursor(status);
    let mut pending_verification: Vec<Target> = Vec::new();
    if status.phase != RevocationPhase::Verifying {
        if cursor.started_ms == 0 {
            cursor.started_ms = jiff::Timestamp::now().as_millisecond();
            write_cursor(status, &cursor);
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
        // Targets are sorted by id: what is left starts right after the cursor. Slices, not
        // copies: 100,000 targets are held once (the memory benchmark measures this).
        let start = cursor.after.as_ref().map_or(0, |after| {
            resolved.targets.partition_point(|t| t.id <= *after)
        });
        // Chunks stay aligned with the first run's (they start right after `after`), so the
        // ids in `done` name the same chunks on resume.
        let chunks: Vec<&[Target]> = resolved.targets[start..]
            .chunks(CHUNK)
            .filter(|chunk| !cursor.done.contains(&chunk[0].id))
            .collect();
        // Chunks that may have been in flight when the previous run stopped: read back before
        // revoking again, so a crash does not revoke anyone twice.
        let suspect = if resuming {
            options.concurrency.max(1)
        } else {
            0
        };
        let mut finished: BTreeSet<usize> = BTreeSet::new();
        let mut contiguous = 0;
        // A stop lets the chunks in flight finish; no new chunk starts.
        // Indices, not borrowed items, flow through the stream: the future stays Send for any
        // lifetime (the operator runs it on a multi-threaded runtime).
        let chunks_ref = &chunks;
        let mut results = futures::stream::iter(0..chunks.len())
            .take_while(|_: &usize| std::future::ready(!options.stopping()))
            .map(|index: usize| async move {
                let outcome = run_chunk(
                    client,
                    &spec.actions,
                    chunks_ref[index],
                    started,
                    index < suspect,
                    spec.verify,
                )
                .await;
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
            finished.insert(index);
            while finished.remove(&contiguous) {
                cursor.after = chunks[contiguous].last().map(|t| t.id.clone());
                contiguous += 1;
            }
            cursor.done = finished.iter().map(|i| chunks[*i][0].id.clone()).collect();
            write_cursor(status, &cursor);
            sink.save(status).await.map_err(RevocationError::Progress)?;
        }
        if finished.len() + contiguous < chunks.len() {
            // Stopped before every chunk ran: the cursor just saved is where a later run resumes.
            return Ok(Progress::Stopped);
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
            () = options.stopped() => return Ok(Progress::Stopped),
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
                    reason: "Unverified".into(),
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
    Ok(Progress::Finished)
}

fn record_failures(status: &mut RevocationRequestStatus, failures: Vec<RevocationFailure>) {
    status.counts.failed += failures.len() as i64;
    for failure in failures {
        if status.failures.len() < MAX_REPORTED_FAILURES {
            status.failures.push(failure);
        }
    }
}

/// What one chunk did.
#[derive(Default)]
struct ChunkOutcome {
    succeeded: i64,
    skipped: i64,
    failures: Vec<RevocationFailure>,
    passwords: Vec<(String, String)>,
    /// Revoked users whose revocation was already read back.
    verified: i64,
    /// Revoked users not visible yet (re-polled at the end).
    unverified: Vec<Target>,
}

/// Applies every action to the users of one chunk. Per-user failures are recorded and do not
/// keep the other actions from running for that user (a password that cannot be reset must not
/// leave the sessions alive); only refusals that would repeat for everyone (the token lacks the
/// permission, see [`refusal_stops_run`]) stop the run.
async fn run_chunk(
    client: &GraphClient,
    actions: &[RevocationAction],
    chunk: &[Target],
    started: jiff::Timestamp,
    check_first: bool,
    verify_now: bool,
) -> Result<ChunkOutcome, RevocationError> {
    let mut outcome = ChunkOutcome::default();
    let mut failed = Failures::default();
    let mut skipped_any: BTreeSet<String> = BTreeSet::new();
    let granted = client.granted_roles().await.unwrap_or_default();
    for action in actions {
        let mut items = Vec::new();
        let mut owners = Vec::new();
        for target in chunk {
            match action {
                RevocationAction::RevokeSessions if target.external => {
                    skipped_any.insert(target.id.clone());
                }
                RevocationAction::RevokeSessions => owners.push(target),
                RevocationAction::DisableAccount | RevocationAction::RequirePasswordChange
                    if target.synced =>
                {
                    failed.add(target, *action, "SyncedUser", "synced from on-premises AD: change it there (cloud changes are overwritten or refused)");
                }
                RevocationAction::DisableAccount => {
                    items.push(
                        BatchItem::new(
                            target.id.clone(),
                            Method::PATCH,
                            format!("/users/{}", target.id),
                        )
                        .with_body(json!({"accountEnabled": false})),
                    );
                    owners.push(target);
                }
                RevocationAction::RequirePasswordChange => {
                    let password = temporary_password();
                    items.push(
                        BatchItem::new(target.id.clone(), Method::PATCH, format!("/users/{}", target.id))
                            .with_body(json!({"passwordProfile": {"forceChangePasswordNextSignIn": true, "password": password}})),
                    );
                    outcome.passwords.push((target.upn.clone(), password));
                    owners.push(target);
                }
                RevocationAction::DisableDevices => {
                    match disable_devices(client, target, &granted).await? {
                        None => {}
                        Some((reason, message)) => failed.add(target, *action, reason, &message),
                    }
                }
                RevocationAction::ConfirmCompromised => owners.push(target),
            }
        }
        if *action == RevocationAction::RevokeSessions {
            for (target, error) in revoke(client, &owners, started, check_first, &granted).await? {
                failed.add_error(target, *action, &error);
            }
            continue;
        }
        if *action == RevocationAction::ConfirmCompromised {
            if !owners.is_empty() {
                let ids: Vec<&str> = owners.iter().map(|t| t.id.as_str()).collect();
                if let Err(error) = client
                    .send(GraphRequest::post(
                        "/identityProtection/riskyUsers/confirmCompromised",
                        json!({"userIds": ids}),
                    ))
                    .await
                {
                    if refusal_stops_run(&error, &granted) {
                        return Err(error.into());
                    }
                    for target in owners {
                        failed.add_error(target, *action, &error);
                    }
                }
            }
            continue;
        }
        if items.is_empty() {
            continue;
        }
        let responses: Vec<BatchItemResponse> =
            client.batch(ApiVersion::V1, items.clone(), 1).await?;
        for ((item, response), target) in items.iter().zip(&responses).zip(owners) {
            if let Some(error) = response.error(item) {
                if refusal_stops_run(&error, &granted) {
                    return Err(error.into());
                }
                failed.add_error(target, *action, &error);
            }
        }
    }
    // A password for a user whose change failed must not be reported as set.
    outcome
        .passwords
        .retain(|(upn, _)| !failed.has(upn, RevocationAction::RequirePasswordChange));
    for target in chunk {
        if failed.contains(&target.id) {
            continue;
        }
        // An external user only skipped (nothing else to do for them) counts as skipped, not
        // succeeded.
        if skipped_any.contains(&target.id)
            && actions
                .iter()
                .all(|a| *a == RevocationAction::RevokeSessions)
        {
            outcome.skipped += 1;
        } else {
            if skipped_any.contains(&target.id) {
                outcome.skipped += 1;
            }
            outcome.succeeded += 1;
        }
    }
    // Verification overlaps the writes of later chunks: reads do not use the write quota.
    // Everyone whose revocation went through is read back, those that failed another action
    // included (their sessions were revoked too); only users counted as succeeded are re-polled
    // at the end, so that an unverified one moves from succeeded to failed exactly once.
    if verify_now && actions.contains(&RevocationAction::RevokeSessions) {
        let revoked: Vec<&Target> = chunk
            .iter()
            .filter(|t| !t.external && !failed.has(&t.upn, RevocationAction::RevokeSessions))
            .collect();
        if !revoked.is_empty() {
            let threshold =
                started - jiff::SignedDuration::try_from(CLOCK_SKEW).unwrap_or_default();
            let done = revoked_since(client, &revoked, threshold, 1).await?;
            outcome.verified = done.len() as i64;
            outcome.unverified = revoked
                .into_iter()
                .filter(|t| !done.contains(&t.id) && !failed.contains(&t.id))
                .cloned()
                .collect();
        }
    }
    outcome.failures = failed.by_target.into_values().collect();
    Ok(outcome)
}

/// The failures of one chunk: one entry per user (counts are of users), naming every action
/// that failed for them.
#[derive(Default)]
struct Failures {
    by_target: BTreeMap<String, RevocationFailure>,
    actions: BTreeSet<(String, RevocationAction)>,
}

impl Failures {
    fn add(&mut self, target: &Target, action: RevocationAction, reason: &str, message: &str) {
        self.actions.insert((target.upn.clone(), action));
        match self.by_target.get_mut(&target.id) {
            Some(first) => {
                first.message = format!(
                    "{}; {}: {reason}: {message}",
                    first.message,
                    action_name(action)
                );
            }
            None => {
                self.by_target
                    .insert(target.id.clone(), failure(target, action, reason, message));
            }
        }
    }

    /// A refusal of this target, with the directory role the app may lack for it.
    fn add_error(&mut self, target: &Target, action: RevocationAction, error: &GraphError) {
        self.add(
            target,
            action,
            error.reason(),
            &target_refusal(error, directory_role_hint(action)),
        );
    }

    fn contains(&self, target_id: &str) -> bool {
        self.by_target.contains_key(target_id)
    }

    fn has(&self, upn: &str, action: RevocationAction) -> bool {
        self.actions.contains(&(upn.to_owned(), action))
    }
}

/// Whether a refusal stops the whole run: only when it is about the app, not the target. If
/// the token lacks the permission the call needs, every other target would be refused too. If
/// the token holds it, Graph refused this target (a directory role the app lacks for it, a
/// user who holds an admin role, a device it may not change): that target fails, the run goes
/// on.
fn refusal_stops_run(error: &GraphError, granted: &[String]) -> bool {
    match error {
        GraphError::Forbidden {
            missing_permission, ..
        } => missing_permission
            .as_deref()
            .is_none_or(|needed| !permissions::grants(granted, needed)),
        _ => false,
    }
}

/// The message of a refusal about one target. Only refusals that do not stop the run get here
/// (see [`refusal_stops_run`]): for a 403 the app holds the permission, so the message says so
/// and names the directory role instead of asking for the permission.
fn target_refusal(error: &GraphError, role_hint: Option<&str>) -> String {
    match error {
        GraphError::Forbidden {
            code,
            message,
            missing_permission,
            ids,
        } => {
            let held = missing_permission
                .as_deref()
                .map(|p| format!("; the app holds {p}"))
                .unwrap_or_default();
            let hint = role_hint.map(|h| format!("; {h}")).unwrap_or_default();
            format!("refused for this target: {code}: {message}{held}{hint}; {ids}")
        }
        other => other.to_string(),
    }
}

/// The Entra directory role an app-only caller needs besides the permission, per action.
fn directory_role_hint(action: RevocationAction) -> Option<&'static str> {
    match action {
        // device-update.md: accountEnabled needs at least Cloud Device Administrator.
        RevocationAction::DisableDevices => {
            Some("the app needs the Cloud Device Administrator directory role")
        }
        // user-update.md: passwordProfile needs at least User Administrator; admins' passwords
        // need Privileged Authentication Administrator ("Who can perform sensitive actions").
        RevocationAction::RequirePasswordChange => Some(
            "the app needs the User Administrator directory role, and Privileged Authentication Administrator for a user who holds an admin role",
        ),
        RevocationAction::DisableAccount => Some(
            "disabling a user who holds an admin role needs the Privileged Authentication Administrator directory role",
        ),
        RevocationAction::RevokeSessions | RevocationAction::ConfirmCompromised => None,
    }
}

fn action_name(action: RevocationAction) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Revokes the sessions of `targets` (one `$batch`), retrying throttled and unavailable items.
/// A gateway timeout (504, 500, 502) may hide a success: those users are read back first and
/// revoked again only if their sessions are still valid, so retries never double a revocation
/// that happened. With `check_first`, everyone is read back before the first attempt (a chunk
/// that may have run before a crash). Returns the users that failed, with why.
async fn revoke<'a>(
    client: &GraphClient,
    targets: &[&'a Target],
    started: jiff::Timestamp,
    check_first: bool,
    granted: &[String],
) -> Result<Vec<(&'a Target, GraphError)>, RevocationError> {
    let mut pending: Vec<&Target> = targets.to_vec();
    if check_first && !pending.is_empty() {
        let done = revoked_since(client, &pending, started, 1).await?;
        pending.retain(|t| !done.contains(&t.id));
    }
    let policy = client.retry_policy();
    let mut failed = Vec::new();
    let mut round = 0;
    while !pending.is_empty() {
        round += 1;
        let items: Vec<BatchItem> = pending
            .iter()
            .map(|t| {
                BatchItem::new(
                    t.id.clone(),
                    Method::POST,
                    format!("/users/{}/revokeSignInSessions", t.id),
                )
            })
            .collect();
        let responses = client.send_batch(ApiVersion::V1, &items).await?;
        let (mut retry, mut ambiguous) = (Vec::new(), Vec::new());
        let mut longest: Option<Duration> = None;
        for ((target, item), response) in pending.iter().zip(&items).zip(&responses) {
            match response.status {
                200..=299 => {}
                429 | 503 => {
                    longest = longest.max(response.retry_after());
                    retry.push(*target);
                }
                500 | 502 | 504 => ambiguous.push(*target),
                _ => {
                    let error = response.error(item).expect("a non-2xx answer is an error");
                    if refusal_stops_run(&error, granted) {
                        return Err(error.into());
                    }
                    failed.push((*target, error));
                }
            }
        }
        client.pace_writes_by(&responses);
        if !ambiguous.is_empty() {
            let done = revoked_since(client, &ambiguous, started, 1).await?;
            retry.extend(ambiguous.into_iter().filter(|t| !done.contains(&t.id)));
        }
        if retry.is_empty() {
            break;
        }
        if round >= policy.max_attempts {
            failed.extend(retry.into_iter().map(|t| {
                (
                    t,
                    GraphError::Throttled {
                        attempts: round,
                        retry_after: longest,
                        ids: Default::default(),
                    },
                )
            }));
            break;
        }
        tokio::time::sleep(
            longest
                .unwrap_or_else(|| policy.backoff(round))
                .min(policy.max_delay),
        )
        .await;
        pending = retry;
    }
    Ok(failed)
}

/// The ids among `targets` whose sessions were revoked at or after `since`.
async fn revoked_since(
    client: &GraphClient,
    targets: &[&Target],
    since: jiff::Timestamp,
    concurrency: usize,
) -> Result<BTreeSet<String>, GraphError> {
    // Graph reports the instant to the second: compare at that precision.
    let since = jiff::Timestamp::from_second(since.as_second()).unwrap_or(since);
    let items: Vec<BatchItem> = targets
        .iter()
        .map(|t| {
            BatchItem::new(
                t.id.clone(),
                Method::GET,
                format!("/users/{}?$select=id,signInSessionsValidFromDateTime", t.id),
            )
        })
        .collect();
    let responses = client.batch(ApiVersion::V1, items, concurrency).await?;
    Ok(targets
        .iter()
        .zip(responses)
        .filter(|(_, r)| r.is_success() && valid_from(r).is_some_and(|v| v >= since))
        .map(|(t, _)| t.id.clone())
        .collect())
}

fn valid_from(response: &BatchItemResponse) -> Option<jiff::Timestamp> {
    response
        .body
        .as_ref()
        .and_then(|b| b["signInSessionsValidFromDateTime"].as_str())
        .and_then(|t| t.parse().ok())
}

fn failure(
    target: &Target,
    action: RevocationAction,
    reason: &str,
    message: &str,
) -> RevocationFailure {
    RevocationFailure {
        target: target.upn.clone(),
        action: action_name(action),
        reason: reason.to_owned(),
        message: message.to_owned(),
    }
}

/// Disables every enabled device registered to `target`. Each device is tried: one that Graph
/// refuses (a non-Windows device, which app-only callers may not change; a role the app lacks)
/// does not keep the others enabled. Returns the target's failure (reason, message naming each
/// refused device), or `None` when every device is disabled.
async fn disable_devices(
    client: &GraphClient,
    target: &Target,
    granted: &[String],
) -> Result<Option<(&'static str, String)>, RevocationError> {
    let devices: Vec<Value> = match client
        .list_all(
            GraphRequest::get(&format!("/users/{}/registeredDevices", target.id)).query(
                "$select",
                "id,displayName,operatingSystem,accountEnabled,trustType",
            ),
        )
        .await
    {
        Ok(devices) => devices,
        Err(error) if refusal_stops_run(&error, granted) => return Err(error.into()),
        Err(error) => return Ok(Some((error.reason(), error.to_string()))),
    };
    let enabled: Vec<&Value> = devices
        .iter()
        // registeredDevices is a directoryObject collection: leave other types out, and take
        // an untyped member for a device (user-list-registereddevices.md shows none typed).
        .filter(|d| {
            d["@odata.type"]
                .as_str()
                .is_none_or(|t| t == "#microsoft.graph.device")
        })
        .filter(|d| d["accountEnabled"] != false)
        .filter(|d| d["id"].is_string())
        .collect();
    let mut refused = Vec::new();
    let mut reason = None;
    for chunk in enabled.chunks(CHUNK) {
        let items: Vec<BatchItem> = chunk
            .iter()
            .map(|d| {
                let id = d["id"].as_str().unwrap_or_default();
                BatchItem::new(id, Method::PATCH, format!("/devices/{id}"))
                    .with_body(json!({"accountEnabled": false}))
            })
            .collect();
        let responses = client.batch(ApiVersion::V1, items.clone(), 1).await?;
        for ((device, item), response) in chunk.iter().zip(&items).zip(responses) {
            let Some(error) = response.error(item) else {
                continue;
            };
            if refusal_stops_run(&error, granted) {
                return Err(error.into());
            }
            let detail = target_refusal(
                &error,
                directory_role_hint(RevocationAction::DisableDevices),
            );
            refused.push(format!(
                "device {} ({}, {}): {detail}",
                device["displayName"].as_str().unwrap_or("?"),
                device["id"].as_str().unwrap_or("?"),
                device["operatingSystem"].as_str().unwrap_or("unknown OS"),
            ));
            reason.get_or_insert(error.reason());
        }
    }
    Ok(reason.map(|reason| {
        (
            reason,
            format!(
                "{} of {} enabled devices not disabled: {}",
                refused.len(),
                enabled.len(),
                refused.join("; ")
            ),
        )
    }))
}

/// A temporary password from the system CSPRNG: 20 characters, every character class.
fn temporary_password() -> String {
    use ring::rand::SecureRandom;
    const CLASSES: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%+-=?@_",
    ];
    let all: Vec<u8> = CLASSES.concat();
    let rng = ring::rand::SystemRandom::new();
    let mut bytes = [0u8; 20];
    rng.fill(&mut bytes)
        .expect("the system random generator works");
    let mut password: Vec<u8> = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let class = if i < CLASSES.len() { CLASSES[i] } else { &all };
            class[*b as usize % class.len()]
        })
        .collect();
    // Class characters were placed first; rotate by a random amount so they are not predictable.
    let rotation = bytes[0] as usize % password.len();
    password.rotate_left(rotation);
    String::from_utf8(password).expect("ascii")
}

/// Reads back `signInSessionsValidFromDateTime` for `targets` until each is at or after
/// `threshold`, re-polling with backoff until the timeout. Returns the unverified.
async fn verify(
    client: &GraphClient,
    targets: &[Target],
    threshold: jiff::Timestamp,
    options: &RunOptions,
) -> Result<Vec<Target>, RevocationError> {
    let deadline = Instant::now() + options.verify_timeout;
    let mut pending: Vec<Target> = targets.to_vec();
    let mut delay = options.verify_poll;
    loop {
        let targets: Vec<&Target> = pending.iter().collect();
        let done = revoked_since(client, &targets, threshold, options.concurrency).await?;
        pending.retain(|t| !done.contains(&t.id));
        if pending.is_empty() || Instant::now() + delay > deadline {
            return Ok(pending);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_are_long_mixed_and_different() {
        let a = temporary_password();
        let b = temporary_password();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(
            a.chars().any(|c| c.is_ascii_uppercase())
                && a.chars().any(|c| c.is_ascii_lowercase())
                && a.chars().any(|c| c.is_ascii_digit())
                && a.chars().any(|c| !c.is_ascii_alphanumeric())
        );
    }

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

    #[test]
    fn cursors_round_trip_through_status() {
        let mut status = RevocationRequestStatus::default();
        let cursor = Cursor {
            after: Some("abc".into()),
            done: vec!["def".into()],
            started_ms: 42,
        };
        write_cursor(&mut status, &cursor);
        assert_eq!(read_cursor(&status), cursor);
        assert_eq!(
            read_cursor(&RevocationRequestStatus::default()),
            Cursor::default()
        );
    }
}
