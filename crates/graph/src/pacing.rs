//! Client-side pacing, so sessionops stays under Graph's limits instead of learning them from
//! 429s: a reservation-based token bucket (each caller books its slot, so concurrent callers
//! are spaced exactly at the rate), that backs off multiplicatively when Graph throttles
//! anyway (another app may share the tenant's quota) and recovers additively.

use std::time::{Duration, Instant};

// std's Mutex is enough: the critical sections never await.
use std::sync::Mutex;

/// A paced lane of requests.
#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Configured requests per second.
    nominal_rate: f64,
    /// Current requests per second (lower than nominal after throttling).
    rate: f64,
    /// Burst capacity in requests.
    burst: f64,
    /// Tokens available at `updated`; negative when callers have booked future slots.
    tokens: f64,
    updated: Instant,
    /// No request may start before this (Retry-After of a throttled response).
    paused_until: Option<Instant>,
}

/// Never slow below this fraction of the nominal rate: throttling by another app must not
/// starve us forever, and Retry-After pauses handle the rest.
const MIN_RATE_FRACTION: f64 = 0.02;
/// Rate kept after a throttled round: halving finds a quota 50 times lower in six rounds.
const DECREASE_FACTOR: f64 = 0.5;
/// Graph starts sending `x-ms-throttle-limit-percentage` above this share of the limit.
const NEAR_LIMIT: f64 = 0.8;
/// Fraction of the nominal rate regained per successful request.
const RECOVERY_STEP: f64 = 0.02;

impl Pacer {
    /// `rate` requests per second with bursts of up to `burst` requests; starts full.
    pub fn new(rate: f64, burst: u32) -> Self {
        assert!(rate > 0.0, "a pacer needs a positive rate");
        let burst = f64::from(burst.max(1));
        Pacer {
            state: Mutex::new(State {
                nominal_rate: rate,
                rate,
                burst,
                tokens: burst,
                updated: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// Waits until `n` requests may be sent, then returns. Callers are served in booking order.
    pub async fn acquire(&self, n: u32) {
        let wait = self.reserve(f64::from(n), Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Books `n` tokens at `now`; returns how long the caller must wait before using them.
    fn reserve(&self, n: f64, now: Instant) -> Duration {
        let mut state = self.state.lock().expect("pacer lock");
        state.refill(now);
        state.tokens -= n;
        let mut wait = if state.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-state.tokens / state.rate)
        };
        if let Some(paused_until) = state.paused_until {
            wait = wait.max(paused_until.saturating_duration_since(now));
        }
        wait
    }

    /// Graph throttled a request of this lane: slow down, and pause for `retry_after`.
    pub fn throttled(&self, retry_after: Option<Duration>) {
        let now = Instant::now();
        let mut state = self.state.lock().expect("pacer lock");
        state.refill(now);
        state.rate = (state.rate * DECREASE_FACTOR).max(state.nominal_rate * MIN_RATE_FRACTION);
        // Nothing saved up survives a throttle: the server's bucket is empty.
        state.tokens = state.tokens.min(0.0);
        if let Some(retry_after) = retry_after {
            let until = now + retry_after;
            state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        }
    }

    /// `n` requests of this lane succeeded: regain some of the nominal rate.
    pub fn succeeded(&self, n: u32) {
        let now = Instant::now();
        let mut state = self.state.lock().expect("pacer lock");
        if state.rate < state.nominal_rate {
            state.refill(now);
            state.rate = (state.rate + state.nominal_rate * RECOVERY_STEP * f64::from(n))
                .min(state.nominal_rate);
        }
    }

    /// Graph says the app has used `used` of its limit (above 0.8, up to 1.8): slow down before
    /// a 429 does it for us, in proportion to the nominal rate (0.8 of the limit keeps it, 1.6
    /// halves it). The cap does not compound: a steady 0.9 holds the lane at 0.89 of the
    /// nominal rate, it does not drive it down round after round. Below the warning level this
    /// is an ordinary success.
    pub fn near_limit(&self, used: f64) {
        if used <= NEAR_LIMIT {
            self.succeeded(1);
            return;
        }
        let now = Instant::now();
        let mut state = self.state.lock().expect("pacer lock");
        state.refill(now);
        let cap =
            (state.nominal_rate * (NEAR_LIMIT / used)).max(state.nominal_rate * MIN_RATE_FRACTION);
        state.rate = state.rate.min(cap);
        // What was saved up is mostly spent on the server's side.
        state.tokens = state.tokens.min(1.0);
    }

    /// The current rate in requests per second.
    pub fn rate(&self) -> f64 {
        self.state.lock().expect("pacer lock").rate
    }
}

impl State {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.updated = now;
        if self.paused_until.is_some_and(|p| p <= now) {
            self.paused_until = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_near_the_limit_slows_the_lane_in_proportion() {
        let pacer = Pacer::new(20.0, 1);
        pacer.near_limit(0.8);
        assert_eq!(pacer.rate(), 20.0, "at the warning level nothing changes");
        pacer.near_limit(1.6);
        assert!((pacer.rate() - 10.0).abs() < 1e-9, "{}", pacer.rate());
        pacer.near_limit(1.6);
        assert!(
            (pacer.rate() - 10.0).abs() < 1e-9,
            "the same warning again does not compound: {}",
            pacer.rate()
        );
        pacer.near_limit(1.8);
        assert!(pacer.rate() < 10.0 && pacer.rate() >= 20.0 * MIN_RATE_FRACTION);
        pacer.succeeded(100);
        assert_eq!(pacer.rate(), 20.0, "successes without a warning recover");
    }

    #[test]
    fn bookings_are_spaced_at_the_rate_after_the_burst() {
        let pacer = Pacer::new(10.0, 2);
        let now = Instant::now();
        let waits: Vec<f64> = (0..5)
            .map(|_| pacer.reserve(1.0, now).as_secs_f64())
            .collect();
        // Two from the burst, then one every 100 ms.
        let expected = [0.0, 0.0, 0.1, 0.2, 0.3];
        for (wait, expected) in waits.iter().zip(expected) {
            assert!((wait - expected).abs() < 1e-9, "{waits:?}");
        }
    }

    #[test]
    fn throttling_slows_down_and_pauses_then_success_recovers() {
        let pacer = Pacer::new(10.0, 1);
        let now = Instant::now();
        pacer.throttled(Some(Duration::from_secs(2)));
        assert!((pacer.rate() - 5.0).abs() < 1e-9);
        let wait = pacer.reserve(1.0, now);
        assert!(
            wait >= Duration::from_millis(1900),
            "paused for Retry-After: {wait:?}"
        );
        for _ in 0..200 {
            pacer.succeeded(1);
        }
        assert!(
            (pacer.rate() - 10.0).abs() < 1e-9,
            "recovers to, never above, nominal"
        );
        for _ in 0..50 {
            pacer.throttled(None);
        }
        assert!(
            (pacer.rate() - 0.2).abs() < 1e-9,
            "never below 2% of nominal"
        );
    }
}
