//! Minimum data rates: how slowly a request body may arrive or a client may take a
//! response, averaged since the phase began, once a grace period has passed. No I/O.

use std::time::{Duration, Instant};

/// A minimum rate in bytes per second with its grace period; a rate of 0 is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MinRate {
    bytes_per_sec: u64,
    grace: Duration,
}

impl MinRate {
    pub(crate) fn new(bytes_per_sec: u64, grace: Duration) -> Self {
        Self {
            bytes_per_sec,
            grace,
        }
    }

    /// The latest time at which `bytes` moved since `since` still meet the rate:
    /// the grace, or the time those bytes earn at the rate, whichever is later.
    /// `None` when the rate is off (or the deadline is beyond the clock's range).
    pub(crate) fn deadline(&self, since: Instant, bytes: u64) -> Option<Instant> {
        if self.bytes_per_sec == 0 {
            return None;
        }
        let rate = self.bytes_per_sec;
        // Integer arithmetic: a float would lose whole seconds on large counts.
        let nanos = u128::from(bytes % rate) * 1_000_000_000 / u128::from(rate);
        let earned = Duration::from_secs(bytes / rate) + Duration::from_nanos(nanos as u64);
        since.checked_add(self.grace.max(earned))
    }

    /// Whether `bytes` moved since `since` are too few at `now`.
    pub(crate) fn missed(&self, since: Instant, bytes: u64, now: Instant) -> bool {
        self.deadline(since, bytes).is_some_and(|d| now > d)
    }

    /// The rate, for messages.
    pub(crate) fn bytes_per_sec(&self) -> u64 {
        self.bytes_per_sec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_too_slow_within_the_grace() {
        let rate = MinRate::new(240, Duration::from_secs(5));
        let t0 = Instant::now();
        assert!(!rate.missed(t0, 0, t0 + Duration::from_secs(5)));
        assert!(rate.missed(t0, 0, t0 + Duration::from_millis(5001)));
    }

    #[test]
    fn bytes_earn_time_at_the_rate_after_the_grace() {
        let rate = MinRate::new(100, Duration::from_secs(1));
        let t0 = Instant::now();
        // 1,050 bytes are worth 10.5 s at 100 bytes/s.
        assert_eq!(
            rate.deadline(t0, 1050),
            Some(t0 + Duration::from_millis(10_500))
        );
        assert!(!rate.missed(t0, 1050, t0 + Duration::from_secs(10)));
        assert!(rate.missed(t0, 1050, t0 + Duration::from_secs(11)));
    }

    #[test]
    fn a_rate_of_zero_never_cuts() {
        let rate = MinRate::new(0, Duration::ZERO);
        let t0 = Instant::now();
        assert_eq!(rate.deadline(t0, 0), None);
        assert!(!rate.missed(t0, 0, t0 + Duration::from_secs(3600)));
    }
}
