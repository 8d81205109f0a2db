//! HTTP from B3's servers, shared by the COTAHIST downloads and the index portfolios.
//!
//! B3's servers are slow and fail now and then, so every request has timeouts, and the
//! failures that a second try can fix (5xx, 429, a dropped connection, a cut-off body) are
//! retried under the caller's [`RetryConfig`](crate::retry::RetryConfig); the rest (404, an
//! HTML page) fail at once.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;

use crate::retry::Attempt;

/// A client with b3lake's user agent and the given timeouts (`timeout` covers the body).
pub(crate) fn client(connect_timeout: Duration, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .user_agent(concat!("b3lake/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Why a GET brought no whole body.
#[derive(Debug)]
pub(crate) enum GetError {
    /// No answer: the connection failed or timed out.
    Network(reqwest::Error),
    /// An answer other than 2xx.
    Status(StatusCode),
    /// The body broke off while it was read.
    Body(reqwest::Error),
    /// The body is shorter (or longer) than its Content-Length.
    Length { received: usize, expected: u64 },
}

impl GetError {
    /// Whether a later try may succeed: everything but a 4xx other than 429.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            GetError::Status(status) => status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS,
            _ => true,
        }
    }
}

impl std::fmt::Display for GetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetError::Network(e) | GetError::Body(e) => write!(f, "{e}"),
            GetError::Status(status) => write!(f, "HTTP {status}"),
            GetError::Length { received, expected } => write!(f, "received {received} of {expected} bytes"),
        }
    }
}

/// GETs `url` whole: a success status and, when the server sent a length, exactly that many
/// bytes. Errors carry no URL; the callers name it once in their own.
pub(crate) async fn get(client: &reqwest::Client, url: &str) -> Result<Bytes, GetError> {
    let response = client.get(url).send().await.map_err(|e| GetError::Network(e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(GetError::Status(status));
    }
    let expected = response.content_length();
    let body = response.bytes().await.map_err(|e| GetError::Body(e.without_url()))?;
    match expected {
        Some(expected) if body.len() as u64 != expected => Err(GetError::Length { received: body.len(), expected }),
        _ => Ok(body),
    }
}

impl GetError {
    /// As one attempt of a retried call: `error` makes the caller's error of it.
    pub(crate) fn attempt<E>(self, error: impl FnOnce(GetError) -> E) -> Attempt<E> {
        let detail = self.to_string();
        if self.retryable() { Attempt::Retry { detail, error: error(self) } } else { Attempt::Final(error(self)) }
    }
}
