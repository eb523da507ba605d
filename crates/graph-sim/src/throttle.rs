//! Graph's throttling (`concepts/throttling.md`, `concepts/throttling-limits.md`) as token buckets.
//!
//! - Identity and access, per app and tenant: resource units (RU) per 10 s, sized by the number
//!   of users (S < 50: 3,500; M 50–500: 5,000; L > 500: 8,000), and the write quota (default
//!   3,000 writes per 150 s). A bucket holds `capacity` tokens and refills `capacity / window`
//!   per second, so a client pacing at exactly the quota rate is never throttled.
//! - Conditional Access, named locations and Identity Protection: `ca_rps` requests per second
//!   per tenant, answered with 429 **without** `Retry-After`.
//!
//! Rejected requests are not charged: Graph says it "keeps counting usage while you are
//! throttled", but charging rejections would make `Retry-After` a moving target; here a client
//! that waits exactly `Retry-After` is admitted (unless other traffic took the tokens), and one
//! that retries early simply gets another 429.

use std::time::{Duration, Instant};

use super::error::{ErrorCode, GraphError};

/// A token bucket.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    capacity: f64,
    per_second: f64,
    level: f64,
    /// Demand refused while empty, draining at the refill rate: Graph "keeps counting usage
    /// while you are throttled", so the reported usage goes past 1 (up to 1.8). Reported only.
    refused: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(capacity: f64, window: Duration, now: Instant) -> Bucket {
        Bucket {
            capacity,
            per_second: capacity / window.as_secs_f64(),
            level: capacity,
            refused: 0.0,
            last: now,
        }
    }

    /// A bucket refilling `per_second` tokens per second, holding at least one token.
    pub(crate) fn per_second(per_second: f64, now: Instant) -> Bucket {
        Bucket {
            capacity: per_second.max(1.0),
            per_second,
            level: per_second.max(1.0),
            refused: 0.0,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        let gained = elapsed * self.per_second;
        self.level = (self.level + gained).min(self.capacity);
        // Refused demand is only reported, never charged (see the module comment): it drains
        // at the refill rate without delaying the refill.
        self.refused = (self.refused - gained).max(0.0);
        self.last = now;
    }

    /// Counts demand that was refused (it still weighs on the usage Graph reports).
    fn refuse(&mut self, cost: f64) {
        self.refused = (self.refused + cost).min(self.capacity * (MAX_USAGE - 1.0));
    }

    /// How long until `cost` tokens are available (zero when they are).
    pub(crate) fn wait_for(&mut self, cost: f64, now: Instant) -> Duration {
        self.refill(now);
        // A request costing more than the bucket holds is admitted on a full bucket.
        let cost = cost.min(self.capacity);
        if self.level >= cost {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((cost - self.level) / self.per_second)
        }
    }

    fn take(&mut self, cost: f64) {
        self.level -= cost.min(self.capacity);
    }

    /// Fraction of the limit in use: 0 = full bucket, 1 = empty, above 1 while refused demand
    /// is still counted (at most [`MAX_USAGE`]).
    fn usage(&self) -> f64 {
        (1.0 - self.level / self.capacity + self.refused / self.capacity).min(MAX_USAGE)
    }
}

/// `concepts/throttling.md`: `x-ms-throttle-limit-percentage` "ranges from 0.8 to 1.8".
const MAX_USAGE: f64 = 1.8;

/// Resource units per 10 s for the tenant's size (`concepts/throttling.md`, `concepts/throttling-limits.md`).
pub(crate) fn resource_unit_quota(user_count: usize) -> f64 {
    match user_count {
        0..50 => 3_500.0,
        50..=500 => 5_000.0,
        _ => 8_000.0,
    }
}

/// The buckets of one app in one tenant.
#[derive(Debug)]
pub(crate) struct Throttle {
    pub enabled: bool,
    resource_units: Bucket,
    writes: Bucket,
    conditional_access: Bucket,
    scope_suffix: String,
}

impl Throttle {
    pub(crate) fn new(
        enabled: bool,
        user_count: usize,
        write_quota: (u32, Duration),
        ca_rps: f64,
        app_id: &str,
        tenant_id: &str,
        now: Instant,
    ) -> Throttle {
        Throttle {
            enabled,
            resource_units: Bucket::new(
                resource_unit_quota(user_count),
                Duration::from_secs(10),
                now,
            ),
            writes: Bucket::new(f64::from(write_quota.0), write_quota.1, now),
            conditional_access: Bucket::per_second(ca_rps, now),
            scope_suffix: format!("{app_id}/{tenant_id}"),
        }
    }

    /// Admits an identity request costing `resource_units` (and one write when `write`), or
    /// says why not. Both buckets are checked before either is charged.
    pub(crate) fn admit_identity(
        &mut self,
        resource_units: u32,
        write: bool,
        now: Instant,
    ) -> Result<(), GraphError> {
        if !self.enabled {
            return Ok(());
        }
        let ru = f64::from(resource_units);
        let ru_wait = self.resource_units.wait_for(ru, now);
        let write_wait = if write {
            self.writes.wait_for(1.0, now)
        } else {
            Duration::ZERO
        };
        if ru_wait.is_zero() && write_wait.is_zero() {
            self.resource_units.take(ru);
            if write {
                self.writes.take(1.0);
            }
            return Ok(());
        }
        if !ru_wait.is_zero() {
            self.resource_units.refuse(ru);
        }
        if !write_wait.is_zero() {
            self.writes.refuse(1.0);
        }
        // Report the limit that lasts longer: that is when the request can succeed.
        let (wait, scope, information) = if write_wait >= ru_wait {
            (write_wait, "Write", "WriteLimitExceeded")
        } else {
            (ru_wait, "ReadWrite", "ResourceUnitLimitExceeded")
        };
        Err(too_many_requests()
            .with_header("retry-after", format_retry_after(wait))
            .with_header(
                "x-ms-throttle-scope",
                format!("Tenant_Application/{scope}/{}", self.scope_suffix),
            )
            .with_header("x-ms-throttle-information", information))
    }

    /// Admits a Conditional Access / named location / Identity Protection request. These 429s
    /// carry no `Retry-After` (`concepts/throttling.md`, `concepts/throttling-limits.md`).
    pub(crate) fn admit_conditional_access(&mut self, now: Instant) -> Result<(), GraphError> {
        if !self.enabled {
            return Ok(());
        }
        if self.conditional_access.wait_for(1.0, now).is_zero() {
            self.conditional_access.take(1.0);
            Ok(())
        } else {
            Err(too_many_requests())
        }
    }

    /// `x-ms-throttle-limit-percentage`: sent only above 0.8 of a quota (`concepts/throttling.md`, `concepts/throttling-limits.md`).
    pub(crate) fn limit_percentage(&mut self, now: Instant) -> Option<String> {
        if !self.enabled {
            return None;
        }
        self.resource_units.refill(now);
        self.writes.refill(now);
        let usage = self.resource_units.usage().max(self.writes.usage());
        (usage > 0.8).then(|| format!("{usage:.1}"))
    }
}

fn too_many_requests() -> GraphError {
    GraphError::new(ErrorCode::TooManyRequests, "Please retry again later.")
}

/// Seconds, rounded up to the millisecond so that waiting exactly this long is enough:
/// `2.128`, or `3` when whole.
pub(crate) fn format_retry_after(wait: Duration) -> String {
    let millis = wait.as_nanos().div_ceil(1_000_000).max(1);
    if millis.is_multiple_of(1000) {
        format!("{}", millis / 1000)
    } else {
        let text = format!("{}.{:03}", millis / 1000, millis % 1000);
        text.trim_end_matches('0').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_formats() {
        assert_eq!(format_retry_after(Duration::from_millis(2128)), "2.128");
        assert_eq!(format_retry_after(Duration::from_millis(3000)), "3");
        assert_eq!(
            format_retry_after(Duration::from_micros(1_500_100)),
            "1.501"
        );
        assert_eq!(format_retry_after(Duration::from_millis(50)), "0.05");
        assert_eq!(format_retry_after(Duration::ZERO), "0.001");
    }

    #[test]
    fn quota_sizes() {
        assert_eq!(resource_unit_quota(49), 3_500.0);
        assert_eq!(resource_unit_quota(50), 5_000.0);
        assert_eq!(resource_unit_quota(500), 5_000.0);
        assert_eq!(resource_unit_quota(501), 8_000.0);
    }

    #[test]
    fn write_bucket_admits_its_capacity_then_says_when() {
        let start = Instant::now();
        let mut throttle =
            Throttle::new(true, 10, (20, Duration::from_secs(1)), 1.0, "a", "t", start);
        for _ in 0..20 {
            throttle.admit_identity(1, true, start).unwrap();
        }
        let err = throttle.admit_identity(1, true, start).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooManyRequests);
        let header = |name: &str| {
            err.headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("retry-after").as_deref(), Some("0.05"));
        assert_eq!(
            header("x-ms-throttle-information").as_deref(),
            Some("WriteLimitExceeded")
        );
        assert_eq!(
            header("x-ms-throttle-scope").as_deref(),
            Some("Tenant_Application/Write/a/t")
        );
        // Exactly one token later, exactly one write fits.
        let later = start + Duration::from_millis(50);
        throttle.admit_identity(1, true, later).unwrap();
        assert!(throttle.admit_identity(1, true, later).is_err());
        // Reads do not need the write bucket.
        throttle.admit_identity(1, false, later).unwrap();
    }

    #[test]
    fn usage_goes_past_the_limit_while_throttled_and_stops_at_1_8() {
        let start = Instant::now();
        let mut throttle = Throttle::new(
            true,
            10,
            (10, Duration::from_secs(10)),
            1.0,
            "a",
            "t",
            start,
        );
        assert_eq!(throttle.limit_percentage(start), None, "silent below 0.8");
        for _ in 0..9 {
            throttle.admit_identity(1, true, start).unwrap();
        }
        assert_eq!(throttle.limit_percentage(start).as_deref(), Some("0.9"));
        throttle.admit_identity(1, true, start).unwrap();
        for _ in 0..5 {
            assert!(throttle.admit_identity(1, true, start).is_err());
        }
        assert_eq!(throttle.limit_percentage(start).as_deref(), Some("1.5"));
        for _ in 0..20 {
            assert!(throttle.admit_identity(1, true, start).is_err());
        }
        assert_eq!(throttle.limit_percentage(start).as_deref(), Some("1.8"));
    }

    #[test]
    fn pacing_at_the_quota_rate_is_never_throttled() {
        let start = Instant::now();
        let mut throttle =
            Throttle::new(true, 10, (3, Duration::from_secs(3)), 1.0, "a", "t", start);
        for i in 0..100u64 {
            let now = start + Duration::from_secs(i);
            throttle.admit_identity(1, true, now).unwrap();
        }
    }

    #[test]
    fn conditional_access_is_one_per_second_without_retry_after() {
        let start = Instant::now();
        let mut throttle =
            Throttle::new(true, 10, (20, Duration::from_secs(1)), 1.0, "a", "t", start);
        throttle.admit_conditional_access(start).unwrap();
        let err = throttle.admit_conditional_access(start).unwrap_err();
        assert!(err.headers.is_empty());
        throttle
            .admit_conditional_access(start + Duration::from_secs(1))
            .unwrap();
    }

    #[test]
    fn disabled_never_throttles() {
        let start = Instant::now();
        let mut throttle = Throttle::new(
            false,
            10,
            (1, Duration::from_secs(100)),
            1.0,
            "a",
            "t",
            start,
        );
        for _ in 0..10 {
            throttle.admit_identity(1, true, start).unwrap();
            throttle.admit_conditional_access(start).unwrap();
        }
    }
}
