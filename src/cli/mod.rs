//! The commands' arguments, each with the `run` that turns them into library calls; and the
//! argument groups several commands share, flattened into each.

pub mod catalog;
pub mod chart;
pub mod check;
pub mod demo;
pub mod ingest;
pub mod report;
pub mod serve;
pub mod sql;
pub mod transform;

use std::time::Duration;

use b3lake::lake::Lake;
use b3lake::retry::RetryConfig;
use chrono::NaiveDate;
use clap::Args;

/// `--lake`.
#[derive(Args, Debug)]
pub struct LakeArg {
    /// Lake location: a local folder or s3://bucket/prefix.
    #[arg(long, env = "B3LAKE_LAKE", default_value = "./lake")]
    pub lake: String,
}

impl LakeArg {
    pub async fn open(&self) -> anyhow::Result<Lake> {
        Ok(Lake::open(&self.lake).await?)
    }
}

/// `--attempts` and `--backoff-ms`: the patience with a server that fails now and then.
#[derive(Args, Debug, Clone, Copy)]
pub struct RetryArgs {
    /// Attempts per request, the first included, for failures a later try may fix (5xx, 429,
    /// throttling, dropped connections, cut-off answers).
    #[arg(long, default_value_t = RetryConfig::default().attempts)]
    pub attempts: u32,
    /// Wait before the first retry, in milliseconds; doubled each retry, plus jitter.
    #[arg(long, default_value_t = RetryConfig::default().backoff.as_millis() as u64)]
    pub backoff_ms: u64,
}

impl RetryArgs {
    pub fn config(&self) -> RetryConfig {
        RetryConfig::new(self.attempts, Duration::from_millis(self.backoff_ms))
    }
}

/// `--sync-glue [DATABASE]`.
#[derive(Args, Debug, Clone)]
pub struct SyncGlueArg {
    /// Then sync the days written with this Glue database.
    #[arg(long, value_name = "DATABASE", num_args = 0..=1, default_missing_value = "default")]
    pub sync_glue: Option<String>,
}

/// `--database`.
#[derive(Args, Debug)]
pub struct GlueArgs {
    /// Glue database.
    #[arg(long, env = "B3LAKE_GLUE_DATABASE", default_value = "default")]
    pub database: String,
}

/// `--from` and `--to`.
#[derive(Args, Debug)]
pub struct DayRange {
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day (YYYY-MM-DD).
    #[arg(long)]
    pub to: NaiveDate,
}
