//! HTTP from B3's servers, shared by the COTAHIST downloads and the index portfolios.
//!
//! B3's servers are slow and fail now and then, so every request has timeouts, and the
//! failures that a second try can fix (5xx, 429, a dropped connection, a cut-off body) are
//! retried with exponential backoff and jitter; the rest (404, an HTML page) fail at once.

use std::future::Future;
use std::time::Duration;

use tracing::warn;

/// A client with b3lake's user agent and the given timeouts (`timeout` covers the body).
pub(crate) fn client(connect_timeout: Duration, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .user_agent(concat!("b3lake/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// How one attempt failed.
pub(crate) enum Attempt<E> {
    /// Trying again would not help.
    Final(E),
    /// Worth another try; `error` is returned if it was the last.
    Retry { error: E, detail: String },
}

/// A failed status as an attempt: worth another try for 5xx and 429, final otherwise.
pub(crate) fn status_failure<E>(status: reqwest::StatusCode, error: E) -> Attempt<E> {
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        Attempt::Retry { error, detail: format!("HTTP {status}") }
    } else {
        Attempt::Final(error)
    }
}

/// Runs `attempt(n)` for n = 1, 2, ... until it succeeds, fails for good, or `attempts` tries
/// have failed, sleeping [`backoff`] between tries.
pub(crate) async fn retrying<T, E, F, Fut>(url: &str, attempts: u32, base: Duration, mut attempt: F) -> Result<T, E>
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
                if n >= attempts.max(1) {
                    return Err(error);
                }
                let delay = backoff(base, n);
                warn!(%url, attempt = n, error = %detail, retry_in_ms = delay.as_millis() as u64, "request failed, retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Exponential backoff with jitter: `base * 2^(attempt-1)` plus up to as much again.
pub(crate) fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << (attempt.max(1) - 1).min(16));
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let jitter = exp.mul_f64(f64::from(nanos % 1000) / 1000.0);
    exp + jitter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows() {
        let base = Duration::from_millis(100);
        let b1 = backoff(base, 1);
        let b3 = backoff(base, 3);
        assert!(b1 >= base && b1 < base * 2);
        assert!(b3 >= base * 4 && b3 < base * 8);
    }

    #[tokio::test]
    async fn retries_until_the_last_attempt_then_returns_its_error() {
        let mut seen = Vec::new();
        let out: Result<(), u32> = retrying("u", 3, Duration::from_millis(1), |n| {
            seen.push(n);
            async move { Err(Attempt::Retry { error: n, detail: String::new() }) }
        })
        .await;
        assert_eq!(out, Err(3));
        assert_eq!(seen, [1, 2, 3]);
        let out: Result<(), u32> =
            retrying("u", 3, Duration::from_millis(1), |n| async move { Err(Attempt::Final(n)) }).await;
        assert_eq!(out, Err(1));
    }
}
