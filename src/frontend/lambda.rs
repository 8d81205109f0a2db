//! The AWS Lambda function: the same jobs as the command line, started by AWS.
//!
//! One handler serves the three ways AWS starts b3lake (`examples/aws/template.yaml` wires
//! them):
//! - an **S3 event** for a new raw day or index portfolio runs the transform of that day, here
//!   (the same plans as `b3lake transform`) or as a Glue job run, through
//!   [`trigger::handle_event`], which reads the payload itself (`aws_lambda_events`' `S3Event`
//!   rejects S3's test event and minimal records, and leaves keys URL-encoded);
//! - the **schedule** (EventBridge Scheduler on weekday evenings, São Paulo time) downloads that
//!   day's COTAHIST and index portfolios into the raw tables, whose events then start the
//!   transform; a day B3 has no file for is a holiday, logged and not an error;
//! - a **backfill** request (`b3lake trigger --lambda-function`) transforms the days it names.
//!
//! Configuration comes from environment variables only ([`Config::from_vars`]). A failure
//! returns an error, so Lambda retries asynchronous invocations and then hands them to the
//! dead-letter queue. Every job is idempotent: an event delivered twice finds its day up to date,
//! and a day ingested twice is replaced, not duplicated.

use std::path::PathBuf;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use clap::ValueEnum;
use serde_json::{Value, json};
use tracing::info;

use crate::error::{Error, Result};
use crate::ingest::portfolio::{check_date, ingest_portfolio};
use crate::ingest::{IngestOptions, ingest};
use crate::lake::Lake;
use crate::retry::RetryConfig;
use crate::source::download::{DEFAULT_BASE_URL, DownloadError, DownloadOptions, Downloader, Period};
use crate::source::portfolio::{DEFAULT_PORTFOLIO_URL, Language, PortfolioClient, PortfolioOptions, check_index};
use crate::transform::trigger::{self, Target, days_by_lake, parse_event};
use crate::transform::{Days, Layout, TransformOptions, transform};

/// The function's settings, from `B3LAKE_*` environment variables.
#[derive(Debug, Clone)]
pub struct Config {
    /// `B3LAKE_LAKE` (required): the lake this function serves, `s3://bucket[/prefix]`. An
    /// event about another lake is refused.
    pub lake: String,
    /// `B3LAKE_GLUE_JOB`: transform by starting runs of this Glue job instead of in the function.
    pub glue_job: Option<String>,
    /// `B3LAKE_LAYOUT`: the refined layout, `symbol` or `compact` [default: the lake's].
    pub layout: Option<Layout>,
    /// `B3LAKE_FILTER`: the SQL predicate choosing the instruments [default: the lake's].
    pub filter: Option<String>,
    /// `B3LAKE_GLUE_DATABASE`: sync the partitions written with this Glue database.
    pub glue_database: Option<String>,
    /// `B3LAKE_BASE_URL`: where COTAHIST files come from [default: B3].
    pub base_url: String,
    /// `B3LAKE_PORTFOLIO_URL`: B3's index API, or a mirror [default: B3's].
    pub portfolio_url: String,
    /// `B3LAKE_INDEXES`: the index portfolios ingested with each day, comma-separated
    /// [default: IBOV; empty for none].
    pub indexes: Vec<String>,
    /// `B3LAKE_CACHE_DIR`: where downloads are kept while the function lives [default: /tmp/b3lake].
    pub cache_dir: PathBuf,
    /// `B3LAKE_ATTEMPTS`: attempts for each B3 download and AWS call [default: 5].
    pub retry: RetryConfig,
    /// `B3LAKE_PARALLELISM`: days transformed at once [default: one per core].
    pub parallelism: Option<usize>,
}

impl Config {
    /// The configuration from this process's environment.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The configuration from `var`, which returns a variable's value.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let set = |name: &str| var(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let bad = |name: &str, why: String| Error::Usage(format!("environment variable {name}: {why}"));
        let lake = set("B3LAKE_LAKE")
            .ok_or_else(|| bad("B3LAKE_LAKE", "not set; name the lake, s3://bucket[/prefix]".into()))?;
        let layout = set("B3LAKE_LAYOUT")
            .map(|v| {
                Layout::from_str(&v, true).map_err(|_| bad("B3LAKE_LAYOUT", format!("{v:?} is not symbol or compact")))
            })
            .transpose()?;
        let indexes = match var("B3LAKE_INDEXES") {
            None => vec!["IBOV".to_string()],
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(|i| check_index(i).map_err(|why| bad("B3LAKE_INDEXES", why)))
                .collect::<Result<_>>()?,
        };
        let number = |name: &str| {
            set(name)
                .map(|v| v.parse::<u32>().map_err(|_| bad(name, format!("{v:?} is not a whole number"))))
                .transpose()
        };
        let mut retry = RetryConfig::default();
        if let Some(attempts) = number("B3LAKE_ATTEMPTS")? {
            retry.attempts = attempts.max(1);
        }
        Ok(Self {
            lake: lake.trim_end_matches('/').to_string(),
            glue_job: set("B3LAKE_GLUE_JOB"),
            layout,
            filter: set("B3LAKE_FILTER"),
            glue_database: set("B3LAKE_GLUE_DATABASE"),
            base_url: set("B3LAKE_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
            portfolio_url: set("B3LAKE_PORTFOLIO_URL").unwrap_or_else(|| DEFAULT_PORTFOLIO_URL.to_string()),
            indexes,
            cache_dir: set("B3LAKE_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp/b3lake")),
            retry,
            parallelism: number("B3LAKE_PARALLELISM")?.map(|n| n.max(1) as usize),
        })
    }

    fn transform_options(&self, days: Days) -> TransformOptions {
        let mut options = TransformOptions {
            days,
            layout: self.layout,
            filter: self.filter.clone(),
            sync_glue: self.glue_database.clone(),
            ..Default::default()
        };
        if let Some(n) = self.parallelism {
            options.parallelism = n;
        }
        options
    }

    fn target(&self) -> Target {
        match &self.glue_job {
            Some(job) => Target::Glue { job: job.clone(), retry: self.retry },
            None => Target::Local { lake: None, options: self.transform_options(Days::Incremental) },
        }
    }
}

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// An S3 event notification, as S3 sent it.
    S3Event(Vec<u8>),
    /// Ingest a trading day from B3 (the schedule).
    Ingest(NaiveDate),
    /// Transform these days (a backfill).
    Transform(Vec<NaiveDate>),
}

/// B3's clock: São Paulo has kept UTC-3 all year since Brazil ended daylight saving in 2019.
fn b3_date(time: DateTime<Utc>) -> NaiveDate {
    time.with_timezone(&FixedOffset::west_opt(3 * 3600).expect("a valid offset")).date_naive()
}

/// The request a payload carries:
/// - an S3 event: `{"Records": [...]}`, or S3's `s3:TestEvent`;
/// - the schedule: `{"b3lake": "ingest", "time": "<aws.scheduler.scheduled-time>"}` (the
///   template's Scheduler input), `{"b3lake": "ingest", "day": "YYYY-MM-DD"}`, or an
///   EventBridge rule's `Scheduled Event`;
/// - a backfill: `{"b3lake": "transform", "days": ["YYYY-MM-DD", ...]}`.
pub fn parse_request(payload: &Value) -> Result<Request> {
    let bad = |why: &str| Error::Usage(format!("not a request b3lake's function serves: {why}"));
    if payload.get("Records").is_some() || payload.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Request::S3Event(serde_json::to_vec(payload).expect("a JSON value serialises")));
    }
    if payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        let event: EventBridgeEvent = serde_json::from_value(payload.clone())
            .map_err(|e| bad(&format!("an EventBridge event that does not parse: {e}")))?;
        let time = event.time.ok_or_else(|| bad("a Scheduled Event without a time"))?;
        return Ok(Request::Ingest(b3_date(time)));
    }
    let date = |v: &Value| -> Result<NaiveDate> {
        v.as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .ok_or_else(|| bad(&format!("{v} is not a day (YYYY-MM-DD)")))
    };
    match payload.get("b3lake").and_then(Value::as_str) {
        Some("ingest") => match (payload.get("day"), payload.get("time").and_then(Value::as_str)) {
            (Some(day), _) => Ok(Request::Ingest(date(day)?)),
            (None, Some(time)) => {
                let time = DateTime::parse_from_rfc3339(time)
                    .map_err(|_| bad(&format!("time {time:?} is not an ISO 8601 instant")))?;
                Ok(Request::Ingest(b3_date(time.with_timezone(&Utc))))
            }
            (None, None) => Err(bad("an ingest request names a day or a time")),
        },
        Some("transform") => {
            let days = payload
                .get("days")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("a transform request lists its days"))?;
            let days: Vec<NaiveDate> = days.iter().map(date).collect::<Result<_>>()?;
            if days.is_empty() {
                return Err(bad("a transform request with no days"));
            }
            Ok(Request::Transform(days))
        }
        Some(other) => Err(bad(&format!("unknown action {other:?}; ingest or transform"))),
        None => Err(bad("no S3 records, schedule or \"b3lake\" action")),
    }
}

/// Handles one invocation; the answer summarises what was done.
pub async fn handle(payload: &Value, config: &Config) -> Result<Value> {
    // Boxed: the jobs' futures are large, too large for a small stack in a debug build.
    match parse_request(payload)? {
        Request::S3Event(json) => Box::pin(on_event(&json, config)).await,
        Request::Ingest(day) => Box::pin(ingest_day(day, config)).await,
        Request::Transform(days) => Box::pin(transform_days(days, config)).await,
    }
}

/// The event's days, transformed; only for this function's lake.
async fn on_event(json: &[u8], config: &Config) -> Result<Value> {
    let (lakes, _) = days_by_lake(&parse_event(json)?);
    if let Some(other) = lakes.keys().find(|lake| lake.trim_end_matches('/') != config.lake) {
        return Err(Error::Usage(format!("the event is about {other}; this function serves {}", config.lake)));
    }
    let report = trigger::handle_event(json, &config.target()).await?;
    let transformed: Vec<Value> = report
        .local
        .iter()
        .map(|(lake, r)| json!({"lake": lake, "days": r.days, "up_to_date": r.up_to_date, "rows": r.rows, "files": r.files}))
        .collect();
    let glue: Vec<Value> =
        report.glue.iter().map(|(lake, day, run)| json!({"lake": lake, "day": day, "run": run})).collect();
    Ok(json!({
        "action": "transform",
        "transformed": transformed,
        "glue_runs": glue,
        "waiting": report.waiting.iter().map(|(_, d)| d).collect::<Vec<_>>(),
        "ignored": report.ignored,
    }))
}

/// Backfill: the named days, transformed again (here or as Glue job runs).
async fn transform_days(days: Vec<NaiveDate>, config: &Config) -> Result<Value> {
    match &config.glue_job {
        Some(job) => {
            let glue = crate::aws::glue_client().await;
            let runs = trigger::start_job_runs(&glue, job, &config.lake, days, &config.retry).await?;
            let runs: Vec<Value> = runs.iter().map(|(day, run)| json!({"day": day, "run": run})).collect();
            Ok(json!({"action": "transform", "glue_runs": runs}))
        }
        None => {
            let lake = Lake::open(&config.lake).await?;
            let report = transform(&lake, &config.transform_options(Days::Only(days))).await?;
            info!(lake = %config.lake, "{report}");
            Ok(json!({"action": "transform", "days": report.days, "rows": report.rows, "files": report.files}))
        }
    }
}

/// The schedule: the day's COTAHIST and index portfolios into the raw tables.
async fn ingest_day(day: NaiveDate, config: &Config) -> Result<Value> {
    let downloader = Downloader::new(DownloadOptions {
        base_url: config.base_url.clone(),
        cache_dir: config.cache_dir.clone(),
        retry: config.retry,
        ..Default::default()
    })?;
    let path = match downloader.fetch(Period::Day(day)).await {
        Ok(path) => path,
        Err(e @ (DownloadError::NotFound { .. } | DownloadError::Html { .. })) => {
            info!(%day, reason = %e, "no trading session: B3 has no file for the day; nothing to ingest");
            crate::telemetry::emit_metrics("ingest", &[("Holidays", crate::telemetry::Unit::Count, 1.0)]);
            return Ok(json!({"action": "ingest", "day": day, "holiday": true}));
        }
        Err(e) => return Err(e.into()),
    };
    let lake = Lake::open(&config.lake).await?;
    let inputs = crate::source::resolve(&[path])?;
    let options = IngestOptions { sync_glue: config.glue_database.clone(), ..Default::default() };
    let report = ingest(&lake, &inputs, &options).await;
    // The cache is the function's /tmp, kept between invocations of a warm function: it must
    // not fill up.
    downloader.evict(Period::Day(day));
    let report = report?;
    info!(lake = %config.lake, "{report}");

    let mut portfolios = Vec::new();
    if !config.indexes.is_empty() {
        let client = PortfolioClient::new(PortfolioOptions {
            base_url: config.portfolio_url.clone(),
            retry: config.retry,
            ..Default::default()
        })
        .map_err(crate::source::Error::from)?;
        for index in &config.indexes {
            let origin = client.url(index, Language::PtBr, 1);
            let portfolio = client.fetch(index, Language::PtBr).await.map_err(crate::source::Error::from)?;
            check_date(&portfolio, Some(day), &origin).map_err(crate::source::Error::from)?;
            let written = ingest_portfolio(&lake, &portfolio, config.glue_database.as_deref()).await?;
            portfolios.push(json!({"index": written.index, "members": written.members}));
        }
    }
    Ok(json!({
        "action": "ingest",
        "day": day,
        "records": report.records,
        "days": report.days,
        "portfolios": portfolios,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn requests_are_told_apart() {
        let scheduled = json!({"b3lake": "ingest", "time": "2024-03-05T22:30:00Z"});
        assert_eq!(parse_request(&scheduled).unwrap(), Request::Ingest(day("2024-03-05")));
        // 01:00 UTC is still the evening before in São Paulo.
        let late = json!({"b3lake": "ingest", "time": "2024-03-06T01:00:00Z"});
        assert_eq!(parse_request(&late).unwrap(), Request::Ingest(day("2024-03-05")));
        let rule = json!({"version": "0", "id": "89d1a02d", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2024-03-05T21:00:00Z", "region": "sa-east-1",
            "resources": ["arn:aws:events:sa-east-1:123456789012:rule/b3lake"], "detail": {}});
        assert_eq!(parse_request(&rule).unwrap(), Request::Ingest(day("2024-03-05")));
        let backfill = json!({"b3lake": "transform", "days": ["2024-01-02", "2024-01-03"]});
        assert_eq!(parse_request(&backfill).unwrap(), Request::Transform(vec![day("2024-01-02"), day("2024-01-03")]));
        assert!(matches!(parse_request(&json!({"Records": []})).unwrap(), Request::S3Event(_)));
        for bad in [
            json!({}),
            json!([1]),
            json!({"b3lake": "drop"}),
            json!({"b3lake": "ingest"}),
            json!({"b3lake": "ingest", "day": "2024-13-01"}),
            json!({"b3lake": "transform", "days": []}),
            json!({"b3lake": "transform", "days": ["yesterday"]}),
        ] {
            let e = parse_request(&bad).unwrap_err().to_string();
            assert!(e.starts_with("not a request b3lake's function serves"), "{bad}: {e}");
        }
    }

    #[test]
    fn configuration_comes_from_the_environment() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        let e = Config::from_vars(vars(&[])).unwrap_err().to_string();
        assert!(e.contains("B3LAKE_LAKE"), "{e}");
        let c = Config::from_vars(vars(&[("B3LAKE_LAKE", "s3://b/lake/")])).unwrap();
        assert_eq!(
            (c.lake.as_str(), c.indexes.as_slice(), c.glue_job.as_deref()),
            ("s3://b/lake", &["IBOV".to_string()][..], None)
        );
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        let c = Config::from_vars(vars(&[
            ("B3LAKE_LAKE", "s3://b"),
            ("B3LAKE_INDEXES", ""),
            ("B3LAKE_LAYOUT", "compact"),
            ("B3LAKE_GLUE_JOB", "job"),
            ("B3LAKE_ATTEMPTS", "2"),
        ]))
        .unwrap();
        assert!(c.indexes.is_empty());
        assert_eq!((c.layout, c.glue_job.as_deref(), c.retry.attempts), (Some(Layout::Compact), Some("job"), 2));
        for (name, value) in
            [("B3LAKE_LAYOUT", "wide"), ("B3LAKE_INDEXES", "IBOV,not one"), ("B3LAKE_ATTEMPTS", "many")]
        {
            let pairs: &'static [(&str, &str)] = Box::leak(Box::new([("B3LAKE_LAKE", "s3://b"), (name, value)]));
            let e = Config::from_vars(vars(pairs)).unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
        }
    }
}
