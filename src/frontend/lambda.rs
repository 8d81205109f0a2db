//! The AWS Lambda function: the same jobs as the command line, started by AWS.
//!
//! One handler serves the three ways AWS starts b3lake (`examples/aws/template.yaml` wires
//! them):
//! - an **S3 event** for a new raw day or index portfolio runs the transform of that day (the
//!   same plans as `b3lake transform`), through
//!   [`trigger::handle_event`], which reads the payload itself (`aws_lambda_events`' `S3Event`
//!   rejects S3's test event and minimal records, and leaves keys URL-encoded);
//! - the **schedule** (EventBridge Scheduler on weekday evenings and the next morning, São Paulo
//!   time) downloads the COTAHIST files of the trading days since the lake's last one, and the
//!   day's index portfolios, into the raw tables, whose events then start the transform. B3's
//!   calendar ([`calendar`]) tells a holiday (nothing to do) from a late file: a trading day
//!   whose file B3 has not published yet is counted late and tried again by the next schedule,
//!   and counted missing (an alarm) once it is still absent the next morning;
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
use crate::source::calendar;
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
    /// `B3LAKE_BACKFILL_CONCURRENCY`: the backfill's invocations at once, which its list of
    /// days tells the state machine [default: 40].
    pub backfill_concurrency: u32,
    /// `B3LAKE_BACKFILL_DAYS_PER_INVOCATION`: the days of one backfill invocation [default: 4].
    pub backfill_days_per_invocation: u32,
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
            layout,
            filter: set("B3LAKE_FILTER"),
            glue_database: set("B3LAKE_GLUE_DATABASE"),
            base_url: set("B3LAKE_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
            portfolio_url: set("B3LAKE_PORTFOLIO_URL").unwrap_or_else(|| DEFAULT_PORTFOLIO_URL.to_string()),
            indexes,
            cache_dir: set("B3LAKE_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp/b3lake")),
            retry,
            parallelism: number("B3LAKE_PARALLELISM")?.map(|n| n.max(1) as usize),
            backfill_concurrency: number("B3LAKE_BACKFILL_CONCURRENCY")?.unwrap_or(40).max(1),
            backfill_days_per_invocation: number("B3LAKE_BACKFILL_DAYS_PER_INVOCATION")?.unwrap_or(4).max(1),
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
        Target { lake: None, options: self.transform_options(Days::Incremental) }
    }
}

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// An S3 event notification, as S3 sent it.
    S3Event(Vec<u8>),
    /// The schedule fired at this instant: ingest the trading days due since the lake's last.
    Scheduled(DateTime<Utc>),
    /// Ingest this day from B3, again if the lake has it.
    Ingest(NaiveDate),
    /// Transform these days (a backfill).
    Transform(Vec<NaiveDate>),
    /// The lake's raw days from the first day to the last (the backfill's list), and the
    /// trading days among them without quotes.
    Days(NaiveDate, NaiveDate),
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
/// - a backfill: `{"b3lake": "transform", "days": ["YYYY-MM-DD", ...]}`, and its list of days:
///   `{"b3lake": "days", "from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}`.
pub fn parse_request(payload: &Value) -> Result<Request> {
    let bad = |why: &str| Error::Usage(format!("not a request b3lake's function serves: {why}"));
    if payload.get("Records").is_some() || payload.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Request::S3Event(serde_json::to_vec(payload).expect("a JSON value serialises")));
    }
    if payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        let event: EventBridgeEvent = serde_json::from_value(payload.clone())
            .map_err(|e| bad(&format!("an EventBridge event that does not parse: {e}")))?;
        let time = event.time.ok_or_else(|| bad("a Scheduled Event without a time"))?;
        return Ok(Request::Scheduled(time));
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
                Ok(Request::Scheduled(time.with_timezone(&Utc)))
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
        Some("days") => {
            let bound =
                |name: &str| payload.get(name).ok_or_else(|| bad(&format!("a days request names its {name:?}")));
            let (from, to) = (date(bound("from")?)?, date(bound("to")?)?);
            if from > to {
                return Err(bad(&format!("from {from} is after to {to}")));
            }
            Ok(Request::Days(from, to))
        }
        Some(other) => Err(bad(&format!("unknown action {other:?}; ingest, transform or days"))),
        None => Err(bad("no S3 records, schedule or \"b3lake\" action")),
    }
}

/// Handles one invocation; the answer summarises what was done.
pub async fn handle(payload: &Value, config: &Config) -> Result<Value> {
    // Boxed: the jobs' futures are large, too large for a small stack in a debug build.
    match parse_request(payload)? {
        Request::S3Event(json) => Box::pin(on_event(&json, config)).await,
        Request::Scheduled(time) => Box::pin(scheduled_ingest(time, config)).await,
        Request::Ingest(day) => Box::pin(requested_ingest(day, config)).await,
        Request::Transform(days) => Box::pin(transform_days(days, config)).await,
        Request::Days(from, to) => list_days(from, to, config).await,
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
    Ok(json!({
        "action": "transform",
        "transformed": transformed,
        "waiting": report.waiting.iter().map(|(_, d)| d).collect::<Vec<_>>(),
        "ignored": report.ignored,
    }))
}

/// Backfill: the named days, transformed again.
async fn transform_days(days: Vec<NaiveDate>, config: &Config) -> Result<Value> {
    let lake = Lake::open(&config.lake).await?;
    let report = transform(&lake, &config.transform_options(Days::Only(days))).await?;
    info!(lake = %config.lake, "{report}");
    Ok(json!({"action": "transform", "days": report.days, "rows": report.rows, "files": report.files}))
}

/// The backfill's list: the raw days from `from` to `to` in batches of the days one invocation
/// transforms, the invocations to run at once, and B3's trading days between the first and the
/// last raw day that the lake lacks (a backfill cannot transform those; `ingest` them first).
async fn list_days(from: NaiveDate, to: NaiveDate, config: &Config) -> Result<Value> {
    let lake = Lake::open(&config.lake).await?;
    let days = crate::transform::raw_dates(&lake, &Days::Range(from, to)).await?;
    let missing = calendar::missing_between(&days);
    info!(lake = %config.lake, %from, %to, days = days.len(), missing = missing.len(), "the backfill's days");
    let batches: Vec<&[NaiveDate]> = days.chunks(config.backfill_days_per_invocation as usize).collect();
    Ok(json!({
        "action": "days",
        "days": days,
        "missing": missing,
        "batches": batches,
        "concurrency": config.backfill_concurrency,
    }))
}

/// The hour (São Paulo) from which B3's file of a trading day is due: it publishes in the evening.
const DUE_HOUR: u32 = 20;
/// A file still absent this long after it was due is missing, not late.
const MISSING_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(10);
/// How far back a scheduled run looks for the lake's last trading day.
const CATCH_UP: chrono::Days = chrono::Days::new(7);

/// When B3's file of `day` is due.
fn due(day: NaiveDate) -> DateTime<Utc> {
    let evening = day.and_hms_opt(DUE_HOUR, 0, 0).expect("a valid hour");
    (evening + chrono::TimeDelta::hours(3)).and_utc()
}

/// The schedule: the trading days due by `time` that the lake lacks since its last one (within
/// a week), oldest first; on a lake with none of that week, the schedule's own day. A day whose
/// file B3 has not published is late, and missing once [`MISSING_AFTER`] has passed.
async fn scheduled_ingest(time: DateTime<Utc>, config: &Config) -> Result<Value> {
    let today = b3_date(time);
    let lake = Lake::open(&config.lake).await?;
    let week: Vec<NaiveDate> = calendar::trading_days(today - CATCH_UP, today).filter(|d| due(*d) <= time).collect();
    let mut todo = Vec::new();
    let mut found = false;
    for &day in week.iter().rev() {
        if lake.exists(&lake.path(&crate::lake::layout::raw_file(day))).await? {
            found = true;
            break;
        }
        todo.push(day);
    }
    if !found {
        todo.retain(|d| *d == today);
    }
    todo.reverse();
    let holiday = calendar::closure(today);
    if let (true, Some(why)) = (todo.is_empty(), holiday) {
        info!(day = %today, why, "no trading session; nothing to ingest");
        crate::telemetry::emit_metrics("ingest", &[("Holidays", crate::telemetry::Unit::Count, 1.0)]);
    }
    let (mut ingested, mut late, mut missing) = (Vec::new(), Vec::new(), Vec::new());
    for day in todo {
        match ingest_day(&lake, day, day == today, config).await? {
            Some(answer) => ingested.push(answer),
            None if time - due(day) >= MISSING_AFTER => {
                tracing::error!(%day, "B3 has still not published the trading day's file; the day is missing from the lake");
                missing.push(day);
            }
            None => {
                tracing::warn!(%day, "B3 has not published the trading day's file yet; the next schedule tries again");
                late.push(day);
            }
        }
    }
    use crate::telemetry::Unit::Count;
    let counts = [("LateDays", Count, late.len() as f64), ("MissingDays", Count, missing.len() as f64)];
    crate::telemetry::emit_metrics("ingest", &counts);
    Ok(json!({
        "action": "ingest",
        "day": today,
        "holiday": holiday,
        "ingested": ingested,
        "late": late,
        "missing": missing,
    }))
}

/// An explicit day: ingested again; a closure is nothing to do, and a trading day without its
/// file an error.
async fn requested_ingest(day: NaiveDate, config: &Config) -> Result<Value> {
    if let Some(why) = calendar::closure(day) {
        info!(%day, why, "no trading session; nothing to ingest");
        return Ok(json!({"action": "ingest", "day": day, "holiday": why}));
    }
    let lake = Lake::open(&config.lake).await?;
    ingest_day(&lake, day, true, config).await?.ok_or_else(|| {
        Error::Usage(format!(
            "B3 has no file for {day}, a trading day: it is late (B3 publishes a day's file in the evening) or was withdrawn"
        ))
    })
}

/// `day`'s COTAHIST into the raw table, and with `portfolios` the index portfolios B3 serves now
/// (only the current day's); `None` when B3 has no file for the day.
async fn ingest_day(lake: &Lake, day: NaiveDate, portfolios: bool, config: &Config) -> Result<Option<Value>> {
    let downloader = Downloader::new(DownloadOptions {
        base_url: config.base_url.clone(),
        cache_dir: config.cache_dir.clone(),
        retry: config.retry,
        ..Default::default()
    })?;
    let path = match downloader.fetch(Period::Day(day)).await {
        Ok(path) => path,
        Err(DownloadError::NotFound { .. } | DownloadError::Html { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let inputs = crate::source::resolve(&[path])?;
    let options = IngestOptions { sync_glue: config.glue_database.clone(), ..Default::default() };
    let report = ingest(lake, &inputs, &options).await;
    // The cache is the function's /tmp, kept between invocations of a warm function: it must
    // not fill up.
    downloader.evict(Period::Day(day));
    let report = report?;
    info!(lake = %config.lake, "{report}");

    let mut written = Vec::new();
    if portfolios && !config.indexes.is_empty() {
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
            let done = ingest_portfolio(lake, &portfolio, config.glue_database.as_deref()).await?;
            written.push(json!({"index": done.index, "members": done.members}));
        }
    }
    Ok(Some(json!({"day": day, "records": report.records, "days": report.days, "portfolios": written})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn requests_are_told_apart() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let scheduled = json!({"b3lake": "ingest", "time": "2024-03-05T22:30:00Z"});
        assert_eq!(parse_request(&scheduled).unwrap(), Request::Scheduled(at("2024-03-05T22:30:00Z")));
        // 01:00 UTC is still the evening before in São Paulo.
        assert_eq!(b3_date(at("2024-03-06T01:00:00Z")), day("2024-03-05"));
        assert_eq!(due(day("2024-03-05")), at("2024-03-05T23:00:00Z"), "20:00 in São Paulo");
        let explicit = json!({"b3lake": "ingest", "day": "2024-03-05"});
        assert_eq!(parse_request(&explicit).unwrap(), Request::Ingest(day("2024-03-05")));
        let rule = json!({"version": "0", "id": "89d1a02d", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2024-03-05T21:00:00Z", "region": "sa-east-1",
            "resources": ["arn:aws:events:sa-east-1:123456789012:rule/b3lake"], "detail": {}});
        assert_eq!(parse_request(&rule).unwrap(), Request::Scheduled(at("2024-03-05T21:00:00Z")));
        let backfill = json!({"b3lake": "transform", "days": ["2024-01-02", "2024-01-03"]});
        assert_eq!(parse_request(&backfill).unwrap(), Request::Transform(vec![day("2024-01-02"), day("2024-01-03")]));
        let list = json!({"b3lake": "days", "from": "2015-01-01", "to": "2024-12-31"});
        assert_eq!(parse_request(&list).unwrap(), Request::Days(day("2015-01-01"), day("2024-12-31")));
        assert!(matches!(parse_request(&json!({"Records": []})).unwrap(), Request::S3Event(_)));
        for bad in [
            json!({}),
            json!([1]),
            json!({"b3lake": "drop"}),
            json!({"b3lake": "ingest"}),
            json!({"b3lake": "ingest", "day": "2024-13-01"}),
            json!({"b3lake": "transform", "days": []}),
            json!({"b3lake": "transform", "days": ["yesterday"]}),
            json!({"b3lake": "days", "from": "2024-01-02"}),
            json!({"b3lake": "days", "from": "2024-01-02", "to": "2024-01-01"}),
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
        assert_eq!((c.lake.as_str(), c.indexes.as_slice()), ("s3://b/lake", &["IBOV".to_string()][..]));
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        let c = Config::from_vars(vars(&[
            ("B3LAKE_LAKE", "s3://b"),
            ("B3LAKE_INDEXES", ""),
            ("B3LAKE_LAYOUT", "compact"),
            ("B3LAKE_ATTEMPTS", "2"),
        ]))
        .unwrap();
        assert!(c.indexes.is_empty());
        assert_eq!((c.layout, c.retry.attempts), (Some(Layout::Compact), 2));
        for (name, value) in
            [("B3LAKE_LAYOUT", "wide"), ("B3LAKE_INDEXES", "IBOV,not one"), ("B3LAKE_ATTEMPTS", "many")]
        {
            let pairs: &'static [(&str, &str)] = Box::leak(Box::new([("B3LAKE_LAKE", "s3://b"), (name, value)]));
            let e = Config::from_vars(vars(pairs)).unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
        }
    }
}
