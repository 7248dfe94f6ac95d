//! Time as the client trusts it. The guard takes the instant as an argument; the client
//! gets it from a [`Clock`], and a clock that cannot be trusted refuses the call.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// The clock cannot be trusted, so the call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClockError {
    /// The system time is before a date this build could ever run at.
    #[error("system clock reads {now}, before {floor}: set the clock (NTP) and retry")]
    BeforeFloor {
        /// What the clock said.
        now: DateTime<Utc>,
        /// The earliest acceptable time.
        floor: DateTime<Utc>,
    },
    /// The system time went backwards by more than the tolerance since the last call.
    #[error(
        "system clock went back {seconds} s (from {previous} to {now}): journal timestamps would lie; check the clock (NTP) and retry"
    )]
    WentBackwards {
        /// The latest time seen before.
        previous: DateTime<Utc>,
        /// What the clock says now.
        now: DateTime<Utc>,
        /// How far back.
        seconds: i64,
    },
}

/// A source of the current UTC time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time, or why it cannot be trusted.
    fn now(&self) -> Result<DateTime<Utc>, ClockError>;
}

/// The system clock, with two sanity checks: it must read after 2024-01-01, and it must
/// not go backwards by more than 5 seconds between calls (small NTP slews are tolerated).
#[derive(Debug)]
pub struct SystemClock {
    latest: Mutex<Option<DateTime<Utc>>>,
    floor: DateTime<Utc>,
    tolerance: TimeDelta,
}

impl SystemClock {
    /// The system clock with the default checks.
    pub fn new() -> SystemClock {
        SystemClock {
            latest: Mutex::new(None),
            floor: DateTime::<Utc>::from_timestamp(1_704_067_200, 0).unwrap_or_default(),
            tolerance: TimeDelta::seconds(5),
        }
    }

    fn check(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, ClockError> {
        if now < self.floor {
            return Err(ClockError::BeforeFloor {
                now,
                floor: self.floor,
            });
        }
        let mut latest = self
            .latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(previous) = *latest
            && previous - now > self.tolerance
        {
            return Err(ClockError::WentBackwards {
                previous,
                now,
                seconds: (previous - now).num_seconds(),
            });
        }
        if latest.is_none_or(|p| now > p) {
            *latest = Some(now);
        }
        Ok(now)
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Result<DateTime<Utc>, ClockError> {
        self.check(Utc::now())
    }
}

/// A clock that always reads the same instant: for tests and replays.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> Result<DateTime<Utc>, ClockError> {
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_untrustworthy_times() {
        let clock = SystemClock::new();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(clock.check(t0), Ok(t0));
        // A small slew is tolerated.
        assert!(clock.check(t0 - TimeDelta::seconds(2)).is_ok());
        assert!(matches!(
            clock.check(t0 - TimeDelta::seconds(60)),
            Err(ClockError::WentBackwards { seconds: 60, .. })
        ));
        let old = DateTime::<Utc>::from_timestamp(0, 0).unwrap();
        assert!(matches!(
            SystemClock::new().check(old),
            Err(ClockError::BeforeFloor { .. })
        ));
        assert!(SystemClock::new().now().is_ok());
    }
}
