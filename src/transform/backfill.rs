//! Backfill on AWS: the transform of many days fanned out to the deployed Lambda function, one
//! asynchronous invocation per day (or per batch of days), so a decade of history is refined on
//! Lambda rather than on one machine.
//!
//! Writers of other days run at once ([`crate::lake::tx`]), so invocations for different days
//! overlap in time, as many as Lambda runs at once; the days of one invocation are transformed
//! `B3LAKE_PARALLELISM` at a time, each holding its own day. One day per invocation gives each
//! day its own retries and dead letter.
//!
//! Invocations are asynchronous (`Event`): Lambda queues them, retries failures twice, and
//! hands what still fails to the function's dead-letter queue, where the alarms see it. The
//! rate at which they are sent is throttled, and Lambda's own throttling answers
//! (`TooManyRequestsException`) are retried under the shared [`RetryConfig`].

use std::time::Duration;

use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use chrono::NaiveDate;
use futures::StreamExt;
use tracing::info;

use super::Error;
use crate::aws::retry;
use crate::retry::RetryConfig;

/// How a backfill is sent.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// The function: its name or ARN.
    pub function: String,
    /// Consecutive days sent in one invocation.
    pub days_per_invocation: usize,
    /// Invocations in flight at once.
    pub concurrency: usize,
    /// At most this many invocations started per second.
    pub per_second: u32,
    /// For throttled invocations.
    pub retry: RetryConfig,
}

/// The payload that asks the function to transform `days` (see `frontend::lambda`).
pub fn payload(days: &[NaiveDate]) -> String {
    serde_json::json!({"b3lake": "transform", "days": days}).to_string()
}

/// Invokes the function once per batch of days, asynchronously; returns each day with its
/// invocation's request id.
pub async fn invoke_days(
    client: &aws_sdk_lambda::Client,
    days: &[NaiveDate],
    options: &BackfillOptions,
) -> Result<Vec<(NaiveDate, String)>, Error> {
    let pause = Duration::from_secs_f64(1.0 / f64::from(options.per_second.max(1)));
    let start = tokio::time::Instant::now();
    let mut sent = futures::stream::iter(days.chunks(options.days_per_invocation.max(1)).enumerate())
        .map(|(i, batch)| async move {
            let day = batch[0];
            // The i-th invocation starts no sooner than i pauses after the first.
            tokio::time::sleep_until(start + pause * i as u32).await;
            let out = retry("Invoke", &options.retry, || {
                client
                    .invoke()
                    .function_name(&options.function)
                    .invocation_type(InvocationType::Event)
                    .payload(Blob::new(payload(batch)))
                    .send()
            })
            .await
            .map_err(|e| Error::Lambda(format!("Invoke {} for {day}: {e}", options.function)))?;
            // 202 Accepted: queued; anything else is not an asynchronous invocation.
            if out.status_code != 202 {
                return Err(Error::Lambda(format!(
                    "Invoke {} for {day}: status {} instead of 202 Accepted",
                    options.function, out.status_code
                )));
            }
            let id = out.request_id().unwrap_or_default().to_string();
            info!(function = %options.function, %day, days = batch.len(), request = %id, "invocation queued");
            Ok::<_, Error>(batch.iter().map(|d| (*d, id.clone())).collect::<Vec<_>>())
        })
        .buffer_unordered(options.concurrency.max(1));
    let mut queued = Vec::with_capacity(days.len());
    while let Some(result) = sent.next().await {
        queued.extend(result?);
    }
    queued.sort();
    Ok(queued)
}
