//! One retry policy for every remote call b3lake makes: B3's web servers, AWS's APIs and the
//! S3 lake. They all fail now and then in ways a later try fixes (a 5xx, a throttle, a dropped
//! connection), and a user tunes that patience in one place, with the same flags everywhere.

use std::future::Future;
use std::time::Duration;

use tracing::warn;

/// How often, and how patiently, a failing call is tried again: exponential backoff with a cap
/// and random jitter, so that many clients failing together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryConfig {
    /// Attempts in all, the first included; 0 counts as 1.
    pub attempts: u32,
    /// The wait after the first failure; doubled after each further one.
    pub backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// Random extra wait, as a fraction of the wait: 0 for none, 1 for up to as much again.
    pub jitter: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self { attempts: 5, backoff: Duration::from_millis(500), max_backoff: Duration::from_secs(30), jitter: 1.0 }
    }
}

/// How one attempt failed.
#[derive(Debug)]
pub enum Attempt<E> {
    /// Trying again would not help.
    Final(E),
    /// Worth another try; `error` is returned if it was the last, `detail` is logged if not.
    Retry {
        /// The error to return when no attempt is left.
        error: E,
        /// What went wrong, for the log line of the retry.
        detail: String,
    },
}

impl RetryConfig {
    /// The policy with `attempts` attempts and `backoff` as the first wait, the rest as default.
    pub fn new(attempts: u32, backoff: Duration) -> Self {
        Self { attempts, backoff, ..Self::default() }
    }

    /// Attempts in all, at least one.
    pub fn attempts(&self) -> u32 {
        self.attempts.max(1)
    }

    /// The wait after failed attempt `attempt` (1 for the first): `backoff * 2^(attempt-1)`, at
    /// most `max_backoff`, plus jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp =
            self.backoff.saturating_mul(1 << (attempt.max(1) - 1).min(20)).min(self.max_backoff.max(self.backoff));
        // Jitter needs no quality randomness, only different values in different processes.
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        exp + exp.mul_f64(self.jitter.clamp(0.0, 1.0) * f64::from(nanos % 1000) / 1000.0)
    }

    /// Runs `attempt(n)` for n = 1, 2, ... until it succeeds, fails for good, or every attempt
    /// has failed, waiting [`delay`](Self::delay) between tries. `call` names the call in the
    /// log line of each retry.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use b3lake::retry::{Attempt, RetryConfig};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let policy = RetryConfig::new(3, Duration::from_millis(1));
    /// // Busy twice (worth another try), then an answer.
    /// let answer: Result<u32, &str> = policy
    ///     .run("GET /portfolio", |attempt| async move {
    ///         match attempt {
    ///             1 | 2 => Err(Attempt::Retry { error: "busy", detail: "HTTP 503".into() }),
    ///             _ => Ok(attempt),
    ///         }
    ///     })
    ///     .await;
    /// assert_eq!(answer, Ok(3));
    /// // A final failure is not tried again.
    /// let refused: Result<u32, &str> = policy.run("GET /x", |_| async { Err(Attempt::Final("HTTP 404")) }).await;
    /// assert_eq!(refused, Err("HTTP 404"));
    /// # }
    /// ```
    pub async fn run<T, E, F, Fut>(&self, call: &str, mut attempt: F) -> Result<T, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Attempt<E>>>,
    {
        let mut n = 0;
        loop {
            n += 1;
            match attempt(n).await {
                Ok(value) => return Ok(value),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Retry { error, detail }) => {
                    if n >= self.attempts() {
                        return Err(error);
                    }
                    let delay = self.delay(n);
                    warn!(call, attempt = n, error = %detail, retry_in_ms = delay.as_millis() as u64, "failed; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// The same policy for object_store's S3 client, which has its own loop.
    pub fn for_object_store(&self) -> object_store::RetryConfig {
        object_store::RetryConfig {
            max_retries: self.attempts() as usize - 1,
            backoff: object_store::BackoffConfig {
                init_backoff: self.backoff,
                max_backoff: self.max_backoff,
                base: 2.0,
            },
            ..object_store::RetryConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_plus_jitter() {
        let policy =
            RetryConfig { max_backoff: Duration::from_millis(500), ..RetryConfig::new(9, Duration::from_millis(100)) };
        let (b1, b3, b9) = (policy.delay(1), policy.delay(3), policy.delay(9));
        assert!(b1 >= policy.backoff && b1 < policy.backoff * 2, "{b1:?}");
        assert!(b3 >= policy.backoff * 4 && b3 < policy.backoff * 8, "{b3:?}");
        assert!(b9 >= policy.max_backoff && b9 < policy.max_backoff * 2, "{b9:?}");
        let steady = RetryConfig { jitter: 0.0, ..policy };
        assert_eq!(steady.delay(2), Duration::from_millis(200));
    }

    #[tokio::test]
    async fn retries_until_the_last_attempt_then_returns_its_error() {
        let policy = RetryConfig::new(3, Duration::from_millis(1));
        let mut seen = Vec::new();
        let out: Result<(), u32> = policy
            .run("u", |n| {
                seen.push(n);
                async move { Err(Attempt::Retry { error: n, detail: String::new() }) }
            })
            .await;
        assert_eq!(out, Err(3));
        assert_eq!(seen, [1, 2, 3]);
        let out: Result<(), u32> = policy.run("u", |n| async move { Err(Attempt::Final(n)) }).await;
        assert_eq!(out, Err(1));
        let once = RetryConfig::new(0, Duration::from_millis(1));
        let out: Result<(), u32> =
            once.run("u", |n| async move { Err(Attempt::Retry { error: n, detail: String::new() }) }).await;
        assert_eq!(out, Err(1));
    }

    #[test]
    fn object_store_gets_the_same_patience() {
        let s3 = RetryConfig::new(4, Duration::from_millis(250)).for_object_store();
        assert_eq!(s3.max_retries, 3);
        assert_eq!(s3.backoff.init_backoff, Duration::from_millis(250));
        assert_eq!(s3.backoff.max_backoff, Duration::from_secs(30));
    }
}
