//! Timestamp formats. Graph is not uniform: directory objects carry whole seconds
//! (`2021-01-07T22:16:46Z`), Conditional Access objects seven fractional digits
//! (`2019-10-14T19:52:00.1234567Z`), `innerError.date` has no offset, and the token endpoint
//! writes `2025-02-13 10:17:05Z`.

use jiff::Timestamp;

/// Whole seconds, UTC: `signInSessionsValidFromDateTime`, `createdDateTime` of users.
pub(crate) fn seconds(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Seven fractional digits (100 ns ticks), UTC: Conditional Access and policy objects.
pub(crate) fn ticks(ts: Timestamp) -> String {
    let ticks = ts.subsec_nanosecond() / 100;
    format!("{}.{ticks:07}Z", ts.strftime("%Y-%m-%dT%H:%M:%S"))
}

/// `innerError.date`: seconds, no offset.
pub(crate) fn inner_error_date(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The token endpoint's `timestamp`.
pub(crate) fn aad_timestamp(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// Truncates to whole seconds: the directory stores `signInSessionsValidFromDateTime` at that
/// precision, which is why clients verifying a revocation need a skew allowance.
pub(crate) fn truncate_to_seconds(ts: Timestamp) -> Timestamp {
    Timestamp::from_second(ts.as_second()).unwrap_or(ts)
}

/// Parses an RFC 3339 timestamp (seed files, portal edits).
pub(crate) fn parse(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ts: Timestamp = "2025-02-13T10:17:05.123456789Z".parse().unwrap();
        assert_eq!(seconds(ts), "2025-02-13T10:17:05Z");
        assert_eq!(ticks(ts), "2025-02-13T10:17:05.1234567Z");
        assert_eq!(inner_error_date(ts), "2025-02-13T10:17:05");
        assert_eq!(aad_timestamp(ts), "2025-02-13 10:17:05Z");
        assert_eq!(seconds(truncate_to_seconds(ts)), "2025-02-13T10:17:05Z");
        assert_eq!(truncate_to_seconds(ts).subsec_nanosecond(), 0);
    }
}
