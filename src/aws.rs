//! What every AWS call of b3lake shares: clients from the standard configuration (environment,
//! profiles, SSO, `AWS_ENDPOINT_URL`), and retries with exponential backoff for the errors
//! that mean "later", on top of the SDK's own few attempts.

use std::future::Future;
use std::time::Duration;

use aws_sdk_glue::error::ProvideErrorMetadata;
use tracing::warn;

/// Error codes that ask the caller to slow down and try again.
const RETRYABLE: [&str; 5] = [
    "ThrottlingException",
    "TooManyRequestsException",
    "ConcurrentRunsExceededException",
    "ConcurrentModificationException",
    "RequestLimitExceeded",
];

/// How many times to try, and the first wait (doubled after each failure).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub attempts: u32,
    pub first: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { attempts: 6, first: Duration::from_millis(500) }
    }
}

/// A failed call: the operation, the AWS error code and message.
#[derive(Debug, Clone)]
pub struct CallError {
    pub code: String,
    pub message: String,
    pub attempts: u32,
    pub of: u32,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} (attempt {} of {})", self.code, self.message, self.attempts, self.of)
    }
}

/// A Glue client from the standard AWS configuration.
pub async fn glue_client() -> aws_sdk_glue::Client {
    aws_sdk_glue::Client::new(&aws_config::load_from_env().await)
}

/// Runs `call` until it succeeds, fails with an error that retrying cannot fix, or runs out
/// of attempts.
pub async fn retry<T, E, F, Fut>(operation: &str, backoff: Backoff, mut call: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut delay = backoff.first;
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(out) => return Ok(out),
            Err(e) => {
                let code = e.code().unwrap_or_default().to_string();
                if !RETRYABLE.contains(&code.as_str()) || attempt >= backoff.attempts {
                    let message = e.message().map(str::to_string).unwrap_or_else(|| error_chain(&e));
                    return Err(CallError { code, message, attempts: attempt, of: backoff.attempts });
                }
                warn!(operation, %code, attempt, delay_ms = delay.as_millis() as u64, "AWS is throttling; retrying");
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
                attempt += 1;
            }
        }
    }
}

/// An error and its sources, `: `-separated: the SDK's top-level messages alone rarely say
/// which profile or file was wrong.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
