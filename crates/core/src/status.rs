//! Status vocabulary shared by every kind and both drivers: the condition types, the one
//! [`Reason`] enum (with the one definition of "transient"), and standard `metav1.Condition`
//! handling (kube has no helper): a condition is set keyed by type, keeping
//! `lastTransitionTime` unless the status flips, so that a resync that changes nothing produces
//! an identical status (and the controller can skip the status patch).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use sessionops_graph::GraphError;

/// `True`, `False` or `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The condition holds.
    True,
    /// It does not.
    False,
    /// Not known yet.
    Unknown,
}

impl Status {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::True => "True",
            Status::False => "False",
            Status::Unknown => "Unknown",
        }
    }

    /// `True` when `holds`, else `False`.
    pub fn from_bool(holds: bool) -> Status {
        if holds { Status::True } else { Status::False }
    }
}

/// The condition types sessionops writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionType {
    /// Every kind: the object is in the state its spec asks for.
    Ready,
    /// RevocationRequest: the run finished (succeeded or partially).
    Complete,
    /// RevocationRequest: the run failed as a whole.
    Failed,
}

impl ConditionType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionType::Ready => "Ready",
            ConditionType::Complete => "Complete",
            ConditionType::Failed => "Failed",
        }
    }
}

macro_rules! reasons {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Every reason sessionops writes into a condition, an Event, a metric label or a CLI
        /// report: stable CamelCase words users and alerts can match on.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Reason {
            $($(#[$doc])* $name,)*
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$name,)*];

            /// The wire value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$name => stringify!($name),)*
                }
            }
        }
    };
}

reasons! {
    // In the desired state.
    /// The tenant object matches the spec.
    Synced,
    /// The tenant object had drifted (changed outside sessionops) and was put back.
    DriftCorrected,
    /// The tenant connection got a token.
    TokenObtained,
    /// A RevocationRequest revoked and verified every target.
    Succeeded,
    /// The object is gone (and its tenant object deleted, when `deletionPolicy: Delete`).
    Deleted,
    /// The tenant object was left in place (`deletionPolicy: Retain`).
    Retained,
    // On the way.
    /// Not started yet (or waiting for a fixable error).
    Pending,
    /// Resolving targets.
    Resolving,
    /// The object names another sessionops object (a NamedLocation, an
    /// AuthenticationStrength) whose tenant object is not created yet; it is applied right
    /// after.
    WaitingForDependency,
    /// Applying actions.
    Running,
    /// Reading back that sessions were revoked.
    Verifying,
    /// Continuing from a saved cursor after a restart.
    Resuming,
    // Finished short of the goal.
    /// Some targets failed; the counts and `failures` say which.
    PartiallySucceeded,
    /// The run failed as a whole.
    Failed,
    /// Revocation could not be confirmed by reading the user back in time.
    Unverified,
    /// The user is synced from on-premises AD: cloud changes of the account are refused.
    SyncedUser,
    // The spec or its surroundings.
    /// The object does not match the schema (it bypassed admission).
    InvalidSpec,
    /// A name in the spec matches no directory object (or more than one).
    NameNotFound,
    /// The spec conflicts with another object or tenant policy.
    Conflict,
    /// The tenant object cannot be deleted while others use it (a named location or strength
    /// a Conditional Access policy still names); deletion is retried.
    InUse,
    /// The object's namespace may not use the tenant connection.
    NamespaceNotAllowed,
    /// The referenced tenant connection does not exist.
    TenantConnectionNotFound,
    /// The credential Secret (or the workload-identity token) is missing or unreadable.
    CredentialsNotFound,
    /// The credential is not allowed for this connection (a namespaced connection borrowing
    /// the operator's workload identity).
    CredentialsNotAllowed,
    /// The credential cannot be used (malformed certificate, empty secret).
    InvalidCredentials,
    /// Targets of a RevocationRequest do not exist.
    TargetNotFound,
    /// More targets than `maxTargets` allows.
    TooManyTargets,
    /// The spec of a RevocationRequest that already ran changed.
    SpecChanged,
    /// Progress could not be saved, so the run stopped.
    ProgressNotSaved,
    // Graph and Kubernetes.
    /// Graph refused for lack of a permission or directory role.
    Forbidden,
    /// Graph has no such object.
    NotFound,
    /// Graph throttled the request beyond the retries.
    Throttled,
    /// Graph rejected the request's content.
    InvalidRequest,
    /// Graph or the login endpoint could not be reached or failed (5xx).
    TenantUnreachable,
    /// Token request or token refused (wrong secret, expired certificate, consent).
    Unauthorized,
    /// Graph answered something the client cannot read.
    UnexpectedResponse,
    /// A Kubernetes API call failed (status patch, finalizer, Secret read).
    KubernetesUnavailable,
    /// No Ready condition yet.
    Unknown,
}

impl Reason {
    /// Whether waiting and trying again can succeed: controllers requeue these with backoff
    /// and the CLI calls them transient; every other reason waits for a change of the spec,
    /// the permissions or the tenant. An answer Graph cannot have meant (`UnexpectedResponse`,
    /// e.g. a proxy's HTML page) counts as transient.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Reason::Throttled
                | Reason::WaitingForDependency
                | Reason::InUse
                | Reason::TenantUnreachable
                | Reason::UnexpectedResponse
                | Reason::KubernetesUnavailable
        )
    }

    /// The reason of a wire value; unknown words (written by another version) are `Unknown`.
    pub fn parse(text: &str) -> Reason {
        Reason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == text)
            .unwrap_or(Reason::Unknown)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl From<Reason> for String {
    fn from(reason: Reason) -> String {
        reason.as_str().to_owned()
    }
}

impl From<&GraphError> for Reason {
    fn from(error: &GraphError) -> Reason {
        match error {
            GraphError::Forbidden { .. } => Reason::Forbidden,
            GraphError::NotFound { .. } => Reason::NotFound,
            GraphError::Throttled { .. } => Reason::Throttled,
            GraphError::InvalidRequest { .. } => Reason::InvalidRequest,
            GraphError::Transient { .. } => Reason::TenantUnreachable,
            GraphError::Unauthorized { .. } | GraphError::Credentials(_) => Reason::Unauthorized,
            GraphError::Protocol { .. } => Reason::UnexpectedResponse,
        }
    }
}

/// When a status is written: the generation it describes and the time of the change.
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    /// `metadata.generation` of the object the status describes.
    pub generation: Option<i64>,
    /// Now (the `lastTransitionTime` of a condition whose status flips).
    pub now: &'a Time,
}

/// Sets condition `type_` in `conditions`. `lastTransitionTime` moves to `at.now` only when the
/// status changes (or the condition is new); reason, message and generation always update.
pub fn set(
    conditions: &mut Vec<Condition>,
    (type_, status): (ConditionType, Status),
    reason: Reason,
    message: &str,
    at: Observed<'_>,
) {
    let new = Condition {
        type_: type_.as_str().to_owned(),
        status: status.as_str().to_owned(),
        reason: reason.as_str().to_owned(),
        message: message.to_owned(),
        observed_generation: at.generation,
        last_transition_time: at.now.clone(),
    };
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            let last_transition_time = if existing.status == new.status {
                existing.last_transition_time.clone()
            } else {
                new.last_transition_time.clone()
            };
            *existing = Condition {
                last_transition_time,
                ..new
            };
        }
        None => conditions.push(new),
    }
}

/// The condition of type `type_`, if present.
pub fn get(conditions: &[Condition], type_: ConditionType) -> Option<&Condition> {
    conditions.iter().find(|c| c.type_ == type_.as_str())
}

/// Whether `condition` holds (status `True`).
pub fn holds(condition: &Condition) -> bool {
    condition.status == Status::True.as_str()
}

/// Whether condition `type_` is present with status `True`.
pub fn is_true(conditions: &[Condition], type_: ConditionType) -> bool {
    get(conditions, type_).is_some_and(holds)
}

/// What the Ready condition says, as drivers report it (metrics, events, CLI output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyView {
    /// Ready is `True`.
    pub ready: bool,
    /// Its reason (`Unknown` without a Ready condition).
    pub reason: Reason,
    /// Its message (empty without one).
    pub message: String,
}

/// The Ready condition of `conditions`, read once.
pub fn ready(conditions: &[Condition]) -> ReadyView {
    match get(conditions, ConditionType::Ready) {
        Some(c) => ReadyView {
            ready: holds(c),
            reason: Reason::parse(&c.reason),
            message: c.message.clone(),
        },
        None => ReadyView {
            ready: false,
            reason: Reason::Unknown,
            message: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(seconds: i64) -> Time {
        Time(jiff::Timestamp::from_second(seconds).unwrap())
    }

    fn at(generation: Option<i64>, now: &Time) -> Observed<'_> {
        Observed { generation, now }
    }

    #[test]
    fn transition_time_moves_only_when_the_status_flips() {
        use ConditionType::{Complete, Ready};
        let mut conditions = Vec::new();
        let (t100, t200, t300, t400) = (time(100), time(200), time(300), time(400));
        set(
            &mut conditions,
            (Ready, Status::False),
            Reason::Throttled,
            "later",
            at(Some(1), &t100),
        );
        set(
            &mut conditions,
            (Ready, Status::False),
            Reason::TenantUnreachable,
            "still down",
            at(Some(1), &t200),
        );
        let ready = get(&conditions, Ready).unwrap();
        assert_eq!(ready.last_transition_time, t100);
        assert_eq!(ready.reason, "TenantUnreachable");
        set(
            &mut conditions,
            (Ready, Status::True),
            Reason::Synced,
            "ok",
            at(Some(2), &t300),
        );
        let ready = get(&conditions, Ready).unwrap();
        assert_eq!(
            (
                ready.status.as_str(),
                ready.last_transition_time.clone(),
                ready.observed_generation
            ),
            ("True", t300, Some(2))
        );
        set(
            &mut conditions,
            (Complete, Status::Unknown),
            Reason::Running,
            "",
            at(None, &t400),
        );
        assert_eq!(conditions.len(), 2);
        assert_eq!(
            super::ready(&conditions),
            ReadyView {
                ready: true,
                reason: Reason::Synced,
                message: "ok".into()
            }
        );
    }

    #[test]
    fn reasons_are_distinct_camel_case_words_that_parse_back() {
        let mut seen = std::collections::BTreeSet::new();
        for reason in Reason::ALL {
            let word = reason.as_str();
            assert!(seen.insert(word), "{word} twice");
            assert!(word.chars().next().unwrap().is_ascii_uppercase(), "{word}");
            assert!(word.chars().all(|c| c.is_ascii_alphanumeric()), "{word}");
            assert_eq!(Reason::parse(word), *reason);
        }
        assert_eq!(Reason::parse("SomethingNew"), Reason::Unknown);
    }

    #[test]
    fn transient_reasons_are_the_ones_worth_a_retry() {
        let transient: Vec<&str> = Reason::ALL
            .iter()
            .filter(|r| r.is_transient())
            .map(|r| r.as_str())
            .collect();
        assert_eq!(
            transient,
            [
                "WaitingForDependency",
                "InUse",
                "Throttled",
                "TenantUnreachable",
                "UnexpectedResponse",
                "KubernetesUnavailable"
            ]
        );
    }
}
