//! Polling instead of events: where S3 notifications are not set up (or on local disk), the
//! job watches the raw table and transforms each day that appears or changes (its quotes or
//! its index portfolios). Each poll is an incremental run, so the bookmarks decide what is
//! new; a failed poll is logged and its days are retried on the next one.

use std::time::Duration;

use tracing::{error, info};

use super::job::{Days, TransformOptions, TransformReport, transform};
use crate::lake::Lake;

/// How the watcher polls.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Between the end of a poll and the next.
    pub interval: Duration,
    /// Stop after this many polls (`None`: run until killed).
    pub polls: Option<u64>,
    /// How each poll transforms.
    pub transform: TransformOptions,
}

/// Polls `lake` every `interval`, calling `on_run` after each poll that transformed days.
/// Killing the process between or during polls is safe: output is replaced atomically and
/// unfinished days are not bookmarked.
pub async fn watch(lake: &Lake, opts: &WatchOptions, mut on_run: impl FnMut(&TransformReport)) {
    let options = TransformOptions { days: Days::Incremental, ..opts.transform.clone() };
    let mut poll = 0u64;
    loop {
        poll += 1;
        match transform(lake, &options).await {
            Ok(report) if !report.days.is_empty() => on_run(&report),
            Ok(_) => info!(poll, "no new raw days"),
            Err(e) => error!(poll, error = %crate::chain::Chain(&e), "transform failed; retrying on the next poll"),
        }
        if opts.polls.is_some_and(|n| poll >= n) {
            return;
        }
        tokio::time::sleep(opts.interval).await;
    }
}
