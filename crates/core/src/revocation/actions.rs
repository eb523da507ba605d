//! One function per action, applied to the users of one chunk in `$batch`es, with the
//! per-user failures and the refusals that stop a run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};
use sessionops_graph::{Method, paths};

use crate::status::Reason;
use sessionops_api::{RevocationAction, RevocationFailure};
use sessionops_graph::{
    ApiVersion, BatchItem, BatchItemResponse, GraphClient, GraphError, GraphRequest, permissions,
};

use super::password::temporary_password;
use super::targets::Target;
use super::verify::revoked_since;
use super::{CHUNK, CLOCK_SKEW, RevocationError};

/// What one chunk did.
#[derive(Default)]
pub(super) struct ChunkOutcome {
    pub(super) succeeded: i64,
    pub(super) skipped: i64,
    pub(super) failures: Vec<RevocationFailure>,
    pub(super) passwords: Vec<(String, String)>,
    /// Revoked users whose revocation was already read back.
    pub(super) verified: i64,
    /// Revoked users not visible yet (re-polled at the end).
    pub(super) unverified: Vec<Target>,
}

/// Applies every action to the users of one chunk. Per-user failures are recorded and do not
/// keep the other actions from running for that user (a password that cannot be reset must not
/// leave the sessions alive); only refusals that would repeat for everyone (the token lacks the
/// permission, see [`refusal_stops_run`]) stop the run.
pub(super) async fn run_chunk(
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
                    failed.add(target, *action, Reason::SyncedUser, "synced from on-premises AD: change it there (cloud changes are overwritten or refused)");
                }
                RevocationAction::DisableAccount => {
                    items.push(
                        BatchItem::new(target.id.clone(), Method::PATCH, paths::user(&target.id))
                            .with_body(json!({"accountEnabled": false})),
                    );
                    owners.push(target);
                }
                RevocationAction::RequirePasswordChange => {
                    let password = temporary_password();
                    items.push(
                        BatchItem::new(target.id.clone(), Method::PATCH, paths::user(&target.id))
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
                        paths::CONFIRM_COMPROMISED,
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
    fn add(&mut self, target: &Target, action: RevocationAction, reason: Reason, message: &str) {
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
            Reason::from(error),
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
                    paths::revoke_sign_in_sessions(&t.id),
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

fn failure(
    target: &Target,
    action: RevocationAction,
    reason: Reason,
    message: &str,
) -> RevocationFailure {
    RevocationFailure {
        target: target.upn.clone(),
        action: action_name(action),
        reason: reason.into(),
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
) -> Result<Option<(Reason, String)>, RevocationError> {
    let devices: Vec<Value> = match client
        .list_all(
            GraphRequest::get(&paths::registered_devices(&target.id)).query(
                "$select",
                "id,displayName,operatingSystem,accountEnabled,trustType",
            ),
        )
        .await
    {
        Ok(devices) => devices,
        Err(error) if refusal_stops_run(&error, granted) => return Err(error.into()),
        Err(error) => return Ok(Some((Reason::from(&error), error.to_string()))),
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
                BatchItem::new(id, Method::PATCH, paths::device(id))
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
            reason.get_or_insert(Reason::from(&error));
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
