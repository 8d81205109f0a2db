//! `transform`, `trigger` and `watch`: the refining job, by hand, on an S3 event, or polling.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use b3lake::transform::backfill::{BackfillOptions, invoke_days};
use b3lake::transform::trigger::{self, Target};
use b3lake::transform::watch::{WatchOptions, watch};
use b3lake::transform::{Days, Layout, Queries, TransformOptions, transform};
use chrono::NaiveDate;
use clap::Args;

use super::{LakeArg, RetryArgs, SyncGlueArg};

/// What every run of the job takes, whatever starts it.
#[derive(Args, Debug, Clone)]
pub struct JobArgs {
    /// Refined layout: symbol (year/month/day/symbol folders) or compact (one file a day).
    /// Changing a lake's layout needs --all.
    #[arg(long)]
    layout: Option<Layout>,
    /// SQL predicate on raw columns choosing the instruments [default: the lake's, or tipo_mercado = 10].
    #[arg(long)]
    filter: Option<String>,
    /// Run the transform SQL files of this folder instead of the built-in ones.
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Trading days transformed at once [default: one per core].
    #[arg(long)]
    parallelism: Option<usize>,
    #[command(flatten)]
    sync: SyncGlueArg,
}

impl JobArgs {
    fn options(self, days: Days, progress: bool) -> anyhow::Result<TransformOptions> {
        let mut opts = TransformOptions {
            days,
            layout: self.layout,
            filter: self.filter,
            progress,
            sync_glue: self.sync.sync_glue,
            ..Default::default()
        };
        if let Some(dir) = &self.queries {
            opts.queries = Queries::from_dir(dir)?;
        }
        if let Some(n) = self.parallelism {
            opts.parallelism = n.max(1);
        }
        Ok(opts)
    }
}

#[derive(Args, Debug)]
pub struct TransformArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// Transform this trading day (YYYY-MM-DD), even if up to date; repeatable.
    #[arg(long, conflicts_with_all = ["from", "all"])]
    day: Vec<NaiveDate>,
    /// First day of a range (with --to).
    #[arg(long, requires = "to", conflicts_with = "all")]
    from: Option<NaiveDate>,
    /// Last day of a range (with --from).
    #[arg(long, requires = "from")]
    to: Option<NaiveDate>,
    /// Transform every raw day again.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    job: JobArgs,
}

impl TransformArgs {
    pub async fn run(self, progress: bool) -> anyhow::Result<()> {
        let days = if self.all {
            Days::All
        } else if let (Some(from), Some(to)) = (self.from, self.to) {
            anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
            Days::Range(from, to)
        } else if !self.day.is_empty() {
            Days::Only(self.day)
        } else {
            Days::Incremental
        };
        let lake = self.lake.open().await?;
        let range = matches!(days, Days::Range(..));
        let report = transform(&lake, &self.job.options(days, progress)?).await?;
        println!("{lake}: {report}");
        if range {
            // A range transforms every raw day it holds: the report's days are those.
            warn_missing(&report.days);
        }
        Ok(())
    }
}

/// Says which of B3's trading days between the first and the last raw day of a range the lake
/// lacks: a range transformed or backfilled without them has holes.
fn warn_missing(raw_days: &[chrono::NaiveDate]) {
    let missing = b3lake::source::calendar::missing_between(raw_days);
    if let (Some(first), n) = (missing.first(), missing.len()) {
        let days: Vec<String> = missing.iter().take(10).map(ToString::to_string).collect();
        let more = if n > 10 { ", ..." } else { "" };
        eprintln!(
            "warning: {n} trading days of B3's calendar in the range have no raw data ({}{more}); ingest them \
             (from {first})",
            days.join(", ")
        );
    }
}

#[derive(Args, Debug)]
pub struct TriggerArgs {
    /// The S3 event notification JSON ("-" for standard input).
    #[arg(required_unless_present = "lambda_function")]
    event: Option<PathBuf>,
    /// Backfill on AWS: invoke this deployed function (name or ARN) once per raw day of --lake
    /// from --from to --to, asynchronously and throttled, instead of reading an event.
    #[arg(long, conflicts_with = "event", requires_all = ["lake", "from", "to"])]
    lambda_function: Option<String>,
    /// Transform this lake instead of the one the event names (local runs only); with
    /// --lambda-function, the lake whose raw days are sent.
    #[arg(long)]
    lake: Option<String>,
    /// First day of the backfill (YYYY-MM-DD).
    #[arg(long, requires = "lambda_function")]
    from: Option<NaiveDate>,
    /// Last day of the backfill (YYYY-MM-DD).
    #[arg(long, requires = "lambda_function")]
    to: Option<NaiveDate>,
    /// Consecutive days per backfill invocation (each invocation, like each day, runs beside
    /// the others; a batch must finish within the function's 15 minutes).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    days_per_invocation: u32,
    /// Backfill invocations in flight at once.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// Backfill invocations started per second at most.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    per_second: u32,
    // For Invoke, when Lambda throttles.
    #[command(flatten)]
    retry: RetryArgs,
    #[command(flatten)]
    job: JobArgs,
}

impl TriggerArgs {
    pub async fn run(self, progress: bool) -> anyhow::Result<()> {
        if let Some(function) = self.lambda_function {
            let (Some(lake), Some(from), Some(to)) = (self.lake, self.from, self.to) else {
                unreachable!("clap requires --lake, --from and --to with --lambda-function")
            };
            anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
            let lake = b3lake::lake::Lake::open(&lake).await?;
            let days = b3lake::transform::raw_dates(&lake, &Days::Range(from, to)).await?;
            warn_missing(&days);
            let options = BackfillOptions {
                function,
                days_per_invocation: self.days_per_invocation as usize,
                concurrency: self.concurrency as usize,
                per_second: self.per_second,
                retry: self.retry.config(),
            };
            let client = b3lake::aws::lambda_client().await;
            let queued = invoke_days(&client, &days, &options).await?;
            let invocations = queued.len().div_ceil(options.days_per_invocation);
            println!(
                "{lake}: {} trading days sent to {} in {invocations} asynchronous invocations",
                queued.len(),
                options.function
            );
            return Ok(());
        }
        let event = self.event.expect("clap requires an event without --lambda-function");
        let json = if event.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
            buf
        } else {
            std::fs::read(&event).with_context(|| format!("reading {}", event.display()))?
        };
        let target = Target { lake: self.lake, options: self.job.options(Days::Incremental, progress)? };
        let report =
            trigger::handle_event(&json, &target).await.with_context(|| format!("event {}", event.display()))?;
        print!("{report}");
        Ok(())
    }
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// Seconds between polls.
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// Stop after this many polls [default: never].
    #[arg(long)]
    polls: Option<u64>,
    #[command(flatten)]
    job: JobArgs,
}

impl WatchArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let lake = self.lake.open().await?;
        let opts = WatchOptions {
            interval: Duration::from_secs(self.interval),
            polls: self.polls,
            transform: self.job.options(Days::Incremental, false)?,
        };
        watch(&lake, &opts, |report| println!("{lake}: {report}")).await;
        Ok(())
    }
}
