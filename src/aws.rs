//! What every AWS call of b3lake shares: clients from the standard configuration (environment,
//! profiles, SSO, `AWS_ENDPOINT_URL`), and retries under b3lake's [`RetryConfig`] for the
//! errors that mean "later", on top of the SDK's own few attempts.

use std::future::Future;

use aws_sdk_glue::error::ProvideErrorMetadata;

use crate::chain::chain;
use crate::retry::{Attempt, RetryConfig};

/// Error codes that ask the caller to slow down and try again.
const RETRYABLE: [&str; 5] = [
    "ThrottlingException",
    "TooManyRequestsException",
    "ConcurrentRunsExceededException",
    "ConcurrentModificationException",
    "RequestLimitExceeded",
];

/// A failed call: the operation, the AWS error code and message.
#[derive(Debug, Clone)]
pub struct CallError {
    /// The AWS error code (`ThrottlingException`), empty when the SDK gave none.
    pub code: String,
    /// AWS's message, or the SDK error's chain when AWS sent none.
    pub message: String,
    /// The attempt that failed, counting from 1.
    pub attempts: u32,
    /// Attempts allowed in all.
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

/// A Lambda client from the standard AWS configuration.
#[cfg(feature = "cli")]
pub async fn lambda_client() -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&aws_config::load_from_env().await)
}

/// Runs `call` under `policy` until it succeeds, fails with an error that retrying cannot fix,
/// or runs out of attempts.
pub async fn retry<T, E, F, Fut>(operation: &str, policy: &RetryConfig, mut call: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let of = policy.attempts();
    policy
        .run(operation, |attempt| {
            let call = call();
            async move {
                call.await.map_err(|e| {
                    let code = e.code().unwrap_or_default().to_string();
                    let message = e.message().map(str::to_string).unwrap_or_else(|| chain(&e));
                    let retryable = RETRYABLE.contains(&code.as_str());
                    let error = CallError { code, message, attempts: attempt, of };
                    if retryable { Attempt::Retry { detail: error.to_string(), error } } else { Attempt::Final(error) }
                })
            }
        })
        .await
}
