//! Standard `metav1.Condition` handling (kube has no helper): set a condition keyed by type,
//! keeping `lastTransitionTime` unless the status flips, so that a resync that changes nothing
//! produces an identical status (and the controller can skip the status patch).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

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
    fn as_str(self) -> &'static str {
        match self {
            Status::True => "True",
            Status::False => "False",
            Status::Unknown => "Unknown",
        }
    }
}

/// Sets condition `type_` in `conditions`. `lastTransitionTime` moves to `now` only when the
/// status changes (or the condition is new); reason, message and generation always update.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: Status,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &Time,
) {
    let new = Condition {
        type_: type_.to_owned(),
        status: status.as_str().to_owned(),
        reason: reason.to_owned(),
        message: message.to_owned(),
        observed_generation: generation,
        last_transition_time: now.clone(),
    };
    match conditions.iter_mut().find(|c| c.type_ == type_) {
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
pub fn get<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(seconds: i64) -> Time {
        Time(jiff::Timestamp::from_second(seconds).unwrap())
    }

    #[test]
    fn transition_time_moves_only_when_the_status_flips() {
        let mut conditions = Vec::new();
        set(
            &mut conditions,
            "Ready",
            Status::False,
            "Throttled",
            "later",
            Some(1),
            &time(100),
        );
        set(
            &mut conditions,
            "Ready",
            Status::False,
            "TenantUnreachable",
            "still down",
            Some(1),
            &time(200),
        );
        let ready = get(&conditions, "Ready").unwrap();
        assert_eq!(ready.last_transition_time, time(100));
        assert_eq!(ready.reason, "TenantUnreachable");
        set(
            &mut conditions,
            "Ready",
            Status::True,
            "Synced",
            "ok",
            Some(2),
            &time(300),
        );
        let ready = get(&conditions, "Ready").unwrap();
        assert_eq!(
            (
                ready.status.as_str(),
                ready.last_transition_time.clone(),
                ready.observed_generation
            ),
            ("True", time(300), Some(2))
        );
        set(
            &mut conditions,
            "Complete",
            Status::Unknown,
            "Running",
            "",
            None,
            &time(400),
        );
        assert_eq!(conditions.len(), 2);
    }
}
