//! Phases and conditions of a RevocationRequest, and the failures recorded in its status.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::RevocationError;
use crate::failure::Failure;
use crate::status::{ConditionType, Observed, Reason, Status};
use sessionops_api::revocation::MAX_REPORTED_FAILURES;
use sessionops_api::{RevocationFailure, RevocationPhase, RevocationRequestStatus};

pub(super) fn now() -> Time {
    Time(jiff::Timestamp::now())
}

/// The Ready reason of each phase; Ready is True only for `Succeeded`.
fn phase_reason(phase: RevocationPhase) -> Reason {
    match phase {
        RevocationPhase::Succeeded => Reason::Succeeded,
        RevocationPhase::PartiallySucceeded => Reason::PartiallySucceeded,
        RevocationPhase::Failed => Reason::Failed,
        RevocationPhase::Pending => Reason::Pending,
        RevocationPhase::Resolving => Reason::Resolving,
        RevocationPhase::Running => Reason::Running,
        RevocationPhase::Verifying => Reason::Verifying,
    }
}

/// Sets Ready, Complete and Failed for `phase`, all with `reason`.
fn set_conditions(
    status: &mut RevocationRequestStatus,
    phase: RevocationPhase,
    reason: Reason,
    message: &str,
    at: Observed<'_>,
) {
    let complete = matches!(
        phase,
        RevocationPhase::Succeeded | RevocationPhase::PartiallySucceeded
    );
    let holds = [
        (ConditionType::Ready, phase == RevocationPhase::Succeeded),
        (ConditionType::Complete, complete),
        (ConditionType::Failed, phase == RevocationPhase::Failed),
    ];
    for (type_, holds) in holds {
        crate::status::set(
            &mut status.conditions,
            (type_, Status::from_bool(holds)),
            reason,
            message,
            at,
        );
    }
}

pub(super) fn set_phase(
    status: &mut RevocationRequestStatus,
    phase: RevocationPhase,
    generation: Option<i64>,
    message: &str,
) {
    status.phase = phase;
    let time = now();
    let at = Observed {
        generation,
        now: &time,
    };
    set_conditions(status, phase, phase_reason(phase), message, at);
    if phase.is_terminal() {
        status.completed_time = Some(time);
    }
}

pub(super) fn finish_failed(
    mut status: RevocationRequestStatus,
    generation: Option<i64>,
    error: &RevocationError,
) -> RevocationRequestStatus {
    let message = error.to_string();
    set_phase(&mut status, RevocationPhase::Failed, generation, &message);
    // Ready and Failed carry the precise reason.
    let time = now();
    let at = Observed {
        generation,
        now: &time,
    };
    for (type_, status_) in [
        (ConditionType::Failed, Status::True),
        (ConditionType::Ready, Status::False),
    ] {
        crate::status::set(
            &mut status.conditions,
            (type_, status_),
            error.reason(),
            &message,
            at,
        );
    }
    status
}

/// The status of a request that has not started because of `failure` (its connection or
/// credential is missing or unreachable): nothing was written to the tenant, so it stays
/// `Pending` with the reason on every condition, and runs once the cause is fixed.
pub fn waiting(
    prior: &RevocationRequestStatus,
    generation: Option<i64>,
    failure: &Failure,
    now: &Time,
) -> RevocationRequestStatus {
    let mut status = prior.clone();
    status.observed_generation = generation;
    set_conditions(
        &mut status,
        RevocationPhase::Pending,
        failure.reason(),
        &failure.to_string(),
        Observed { generation, now },
    );
    status
}

/// The reason a driver reports for `status` (metrics, events): Ready's (for a failed run the
/// precise one, see [`finish_failed`]), or `Pending` before the first status.
pub fn reported_reason(status: &RevocationRequestStatus) -> Reason {
    match crate::status::get(&status.conditions, ConditionType::Ready) {
        Some(ready) => Reason::parse(&ready.reason),
        None => Reason::Pending,
    }
}

pub(super) fn record_failures(
    status: &mut RevocationRequestStatus,
    failures: Vec<RevocationFailure>,
) {
    status.counts.failed += failures.len() as i64;
    for failure in failures {
        if status.failures.len() < MAX_REPORTED_FAILURES {
            status.failures.push(failure);
        }
    }
}
