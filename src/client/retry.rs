//! Safe retries (issue 11, item 7): an opt-in [`RetryPolicy`] that sends a call again only
//! when that cannot do harm and may help.
//!
//! A call is retried only when its operation is not a write (the catalogue says which
//! are: ManageAccess `register`, a `[[service]]` operation with `write = true`), only when
//! its error [`is_retryable`](crate::Error::is_retryable) (MSG00001, MSG00002, MSG00020, or
//! a connection that failed before any byte of the reply arrived), with exponential
//! backoff and jitter, and only while the next attempt would start within the budget.
//! Every attempt goes through the whole call path, the guard included, with its own
//! ticket; its intent says which attempt it is and links to the first
//! ([`Attempt`](crate::audit::Attempt)). The caller gets the last attempt's reply or error.

use std::time::{Duration, Instant};

use rand::Rng;

use super::{CallContext, Client, Reply};
use crate::audit::Attempt;
use crate::error::Error;
use crate::services::ServiceRequest;

/// When and how often a failed call is sent again. Opt-in:
/// [`ClientBuilder::retry`](super::ClientBuilder::retry), or `[retry]` in `bcss.toml`.
///
/// Attempt `n + 1` waits `min(max_delay, base_delay × 2^(n-1))`, shortened by a random part
/// of up to `jitter` of it (so that many clients do not retry in step), and starts only if
/// it can within `total_budget` of the first attempt's start.
///
/// ```
/// use std::time::Duration;
/// use bcss::client::RetryPolicy;
///
/// let policy = RetryPolicy::new(3)
///     .base_delay(Duration::from_millis(200))
///     .max_delay(Duration::from_secs(2))
///     .total_budget(Duration::from_secs(10))
///     .jitter(0.5);
/// assert_eq!(policy.max_attempts(), 3);
/// assert!(policy.check().is_ok());
/// // Before jitter, the second attempt waits 200 ms, the third 400 ms.
/// assert_eq!(policy.backoff(1), Duration::from_millis(200));
/// assert_eq!(policy.backoff(2), Duration::from_millis(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    total_budget: Duration,
    jitter: f64,
}

/// Defaults: 3 attempts, 200 ms then doubling, at most 5 s between attempts, 30 s in all,
/// jitter 0.5.
impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            total_budget: Duration::from_secs(30),
            jitter: 0.5,
        }
    }
}

impl RetryPolicy {
    /// At most `max_attempts` attempts in all, the first included (1: never retry), with
    /// the other defaults.
    pub fn new(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            ..RetryPolicy::default()
        }
    }

    /// The wait before the second attempt; it doubles for each next one.
    pub fn base_delay(mut self, delay: Duration) -> RetryPolicy {
        self.base_delay = delay;
        self
    }

    /// The longest wait between two attempts.
    pub fn max_delay(mut self, delay: Duration) -> RetryPolicy {
        self.max_delay = delay;
        self
    }

    /// No attempt starts later than this after the first one started.
    pub fn total_budget(mut self, budget: Duration) -> RetryPolicy {
        self.total_budget = budget;
        self
    }

    /// The part of each wait that is random, from 0 (none) to 1 (anywhere from nothing to
    /// the whole wait).
    pub fn jitter(mut self, jitter: f64) -> RetryPolicy {
        self.jitter = jitter;
        self
    }

    /// The most attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The budget of the whole call.
    pub fn budget(&self) -> Duration {
        self.total_budget
    }

    /// The wait before attempt `n + 1`, before jitter: `min(max_delay, base_delay ×
    /// 2^(n-1))`.
    pub fn backoff(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.saturating_sub(1));
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The wait before attempt `n + 1`, jitter included.
    fn delay(&self, n: u32) -> Duration {
        let backoff = self.backoff(n);
        let cut = rand::thread_rng().gen_range(0.0..=self.jitter);
        backoff.mul_f64(1.0 - cut)
    }

    /// Whether the policy makes sense: at least one attempt, a jitter from 0 to 1, a base
    /// delay no longer than the maximum. The error says which value to fix.
    pub fn check(&self) -> Result<(), String> {
        if self.max_attempts == 0 {
            return Err("max_attempts must be at least 1 (the first attempt)".to_string());
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(format!("jitter must be from 0 to 1, not {}", self.jitter));
        }
        if self.base_delay > self.max_delay {
            return Err(format!(
                "the base delay ({:?}) is longer than the maximum delay ({:?})",
                self.base_delay, self.max_delay
            ));
        }
        Ok(())
    }
}

impl Client {
    /// A call under `policy`: the first attempt, then retries while the error is
    /// retryable, the operation is not a write, attempts remain and the budget allows.
    pub(super) async fn call_with_retries<R: ServiceRequest>(
        &self,
        policy: &RetryPolicy,
        ctx: &CallContext,
        request: &R,
    ) -> Result<Reply<R::Response>, Error> {
        let started = Instant::now();
        let write = request.service().is_write(request.operation());
        let mut result = self.attempt(ctx, request, None).await;
        // Only a call that reached the guard (and so has a ticket) can be retryable.
        let Some(first_ticket) = result.as_ref().err().and_then(Error::ticket) else {
            return result;
        };
        let mut number = 1;
        while let Err(e) = &result {
            if write || !e.is_retryable() || number >= policy.max_attempts {
                break;
            }
            let delay = policy.delay(number);
            if started.elapsed() + delay > policy.total_budget {
                tracing::info!(attempts = number, "the retry budget is spent");
                break;
            }
            number += 1;
            tracing::info!(attempt = number, delay = ?delay, error = %e, "retrying");
            tokio::time::sleep(delay).await;
            let attempt = Attempt {
                first_ticket,
                number,
            };
            result = self.attempt(ctx, request, Some(attempt)).await;
        }
        result.map_err(|e| e.after_attempts(number, first_ticket))
    }
}

/// The `[retry]` table of `bcss.toml`: a [`RetryPolicy`], each value optional (the
/// policy's default when left out). Without the table, calls are never retried.
///
/// ```toml
/// [retry]
/// max_attempts = 3          # the first attempt included
/// base_delay_ms = 200       # before the second attempt; doubling after
/// max_delay_ms = 5000       # the longest wait between two attempts
/// total_budget_ms = 30000   # no attempt starts later than this after the first
/// jitter = 0.5              # the random part of each wait, 0 to 1
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// The most attempts, the first included.
    pub max_attempts: Option<u32>,
    /// The wait before the second attempt, in milliseconds.
    pub base_delay_ms: Option<u64>,
    /// The longest wait between two attempts, in milliseconds.
    pub max_delay_ms: Option<u64>,
    /// The budget of the whole call, in milliseconds.
    pub total_budget_ms: Option<u64>,
    /// The random part of each wait, from 0 to 1.
    pub jitter: Option<f64>,
}

/// A configuration whose jitter is not a number is refused when it is read
/// ([`RetryPolicy::check`]), so equality is an equivalence on every accepted one.
impl Eq for RetryConfig {}

impl RetryConfig {
    /// The policy this table describes.
    pub fn policy(&self) -> RetryPolicy {
        let d = RetryPolicy::default();
        RetryPolicy {
            max_attempts: self.max_attempts.unwrap_or(d.max_attempts),
            base_delay: self
                .base_delay_ms
                .map_or(d.base_delay, Duration::from_millis),
            max_delay: self.max_delay_ms.map_or(d.max_delay, Duration::from_millis),
            total_budget: self
                .total_budget_ms
                .map_or(d.total_budget, Duration::from_millis),
            jitter: self.jitter.unwrap_or(d.jitter),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_jitter_only_shortens() {
        let p = RetryPolicy::new(10)
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(450))
            .jitter(0.5);
        let waits: Vec<u128> = (1..=5).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 450, 450]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_millis(450));
        for n in 1..=5 {
            let d = p.delay(n);
            assert!(d <= p.backoff(n) && d >= p.backoff(n) / 2, "{d:?}");
        }
        assert_eq!(p.jitter(0.0).delay(3), Duration::from_millis(400));
    }

    #[test]
    fn nonsense_is_refused_naming_the_value() {
        assert!(
            RetryPolicy::new(0)
                .check()
                .unwrap_err()
                .contains("max_attempts")
        );
        assert!(
            RetryPolicy::new(2)
                .jitter(1.5)
                .check()
                .unwrap_err()
                .contains("jitter")
        );
        assert!(RetryPolicy::new(2).jitter(f64::NAN).check().is_err());
        let e = RetryPolicy::new(2)
            .base_delay(Duration::from_secs(10))
            .max_delay(Duration::from_secs(1))
            .check()
            .unwrap_err();
        assert!(e.contains("base delay"), "{e}");
        let table = RetryConfig {
            max_attempts: Some(4),
            jitter: Some(0.0),
            ..RetryConfig::default()
        };
        assert_eq!(
            table.policy(),
            RetryPolicy::new(4).jitter(0.0),
            "the rest are the defaults"
        );
    }
}
