//! The Lambda of the design: an S3 event notification in, the transform of the trading days
//! it names out.
//!
//! [`handle_event`] takes the JSON exactly as AWS delivers it to a Lambda function, so a
//! Lambda binary only has to pass its payload through. Keys arrive URL-encoded (`+` for a
//! space, `%3D` for `=`); a key names a trading day when it lies under a lake's raw table,
//! `<prefix>/raw/year=YYYY/month=MM/day=DD/...`, and `s3://bucket/<prefix>` is that lake. A
//! new index portfolio (`<prefix>/raw_ibov/year=.../...`) names its day too, so the day's
//! members are joined with their quotes; a portfolio day without quotes yet is left for the
//! transform that follows the day's ingest.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Deserialize;
use tracing::{info, warn};

use super::Error;
use super::job::{Days, TransformOptions, TransformReport, transform};
use crate::lake::Lake;
use crate::lake::layout::{PORTFOLIO_TABLE, RAW_TABLE, date_of_path, raw_file};

/// One object of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventObject {
    /// `ObjectCreated:Put`, `ObjectRemoved:Delete`, ...
    pub event: String,
    /// The bucket.
    pub bucket: String,
    /// The key, decoded.
    pub key: String,
}

#[derive(Deserialize)]
struct S3Event {
    #[serde(rename = "Records")]
    records: Option<Vec<Record>>,
    /// `s3:TestEvent` in the event S3 sends when a notification is set up.
    #[serde(rename = "Event")]
    event: Option<String>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: Entity,
}

#[derive(Deserialize)]
struct Entity {
    bucket: Named,
    object: Key,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Key {
    key: String,
}

/// The objects of an S3 event notification. S3's test event has none; anything else
/// without records (`{}`, `[]`, another service's event) is not an S3 event.
pub fn parse_event(json: &[u8]) -> Result<Vec<EventObject>, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| Error::Event(format!("not an S3 event: {e}")))?;
    if !value.is_object() {
        return Err(Error::Event("not an S3 event: expected a JSON object with Records".into()));
    }
    let event: S3Event = serde_json::from_value(value).map_err(|e| Error::Event(format!("not an S3 event: {e}")))?;
    let records = match (event.records, event.event.as_deref()) {
        (Some(records), _) if !records.is_empty() => records,
        (None, Some("s3:TestEvent")) => return Ok(vec![]),
        (Some(_), _) => return Err(Error::Event("an S3 event with no records".into())),
        (None, _) => return Err(Error::Event("not an S3 event: no Records".into())),
    };
    records
        .into_iter()
        .map(|r| {
            // S3's names (legacy ones included): letters, digits, `.`, `-`, `_`; never a `/`.
            let bucket = &r.s3.bucket.name;
            let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
            if bucket.is_empty() || bucket.len() > 255 || !bucket.chars().all(valid) {
                return Err(Error::Event(format!("not an S3 bucket name: {bucket:?}")));
            }
            let key = decode_key(&r.s3.object.key)
                .ok_or_else(|| Error::Event(format!("key {:?} is not valid URL-encoded UTF-8", r.s3.object.key)))?;
            Ok(EventObject { event: r.event_name, bucket: r.s3.bucket.name, key })
        })
        .collect()
}

/// S3 event keys are form-encoded: `+` is a space, `%XX` a byte.
fn decode_key(key: &str) -> Option<String> {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(|k| k.into_owned())
}

/// The lake and trading day of a raw-table key, if it is one.
pub fn raw_day_of_key(bucket: &str, key: &str) -> Option<(String, NaiveDate)> {
    day_under(bucket, key, RAW_TABLE)
}

/// The lake and day of a key of the index portfolios' table, if it is one.
pub fn portfolio_day_of_key(bucket: &str, key: &str) -> Option<(String, NaiveDate)> {
    day_under(bucket, key, PORTFOLIO_TABLE)
}

/// The lake and day of a key under `<lake>/<table>/year=.../month=.../day=...`.
fn day_under(bucket: &str, key: &str, table: &str) -> Option<(String, NaiveDate)> {
    let marker = format!("{table}/");
    let mut at = 0;
    loop {
        let found = key[at..].find(&marker)? + at;
        let starts_segment = found == 0 || key.as_bytes()[found - 1] == b'/';
        if starts_segment && key[found + marker.len()..].starts_with("year=") {
            let date = date_of_path(&key[found..])?;
            let prefix = key[..found].trim_end_matches('/');
            // b3lake's own folders (`_staging/<run>/raw/...` while an ingest commits,
            // `_b3lake/`) and hidden ones are not lakes.
            if prefix.split('/').any(|part| part.starts_with('_') || part.starts_with('.')) {
                return None;
            }
            let lake = if prefix.is_empty() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{prefix}") };
            return Some((lake, date));
        }
        at = found + marker.len();
    }
}

/// The days of one lake that an event touches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventDays {
    /// Days whose raw file was written.
    pub quotes: BTreeSet<NaiveDate>,
    /// Days whose index portfolio was written.
    pub portfolios: BTreeSet<NaiveDate>,
}

/// The days of each lake that an event touches (created objects only), and the keys it
/// ignored.
pub fn days_by_lake(objects: &[EventObject]) -> (BTreeMap<String, EventDays>, Vec<String>) {
    let mut lakes: BTreeMap<String, EventDays> = BTreeMap::new();
    let mut ignored = Vec::new();
    for o in objects {
        let created = o.event.starts_with("ObjectCreated") || o.event.is_empty();
        if created && let Some((lake, date)) = raw_day_of_key(&o.bucket, &o.key) {
            lakes.entry(lake).or_default().quotes.insert(date);
        } else if created && let Some((lake, date)) = portfolio_day_of_key(&o.bucket, &o.key) {
            lakes.entry(lake).or_default().portfolios.insert(date);
        } else {
            ignored.push(format!("s3://{}/{} ({})", o.bucket, o.key, o.event));
        }
    }
    (lakes, ignored)
}

/// The days to transform: the event's quote days, and its portfolio days that have quotes in
/// the lake at `location`. The rest are returned apart. The lake is opened (into `lake`, for
/// the caller to reuse) only if there are portfolio days to look up.
async fn days_to_transform(
    location: &str,
    days: EventDays,
    lake: &mut Option<Lake>,
) -> Result<(BTreeSet<NaiveDate>, Vec<NaiveDate>), Error> {
    let mut todo = days.quotes;
    let mut waiting = Vec::new();
    let portfolio_only: Vec<NaiveDate> = days.portfolios.into_iter().filter(|d| !todo.contains(d)).collect();
    if !portfolio_only.is_empty() {
        if lake.is_none() {
            *lake = Some(Lake::open(location).await?);
        }
        let lake = lake.as_ref().expect("opened above");
        for date in portfolio_only {
            if lake.exists(&lake.path(&raw_file(date))).await? {
                todo.insert(date);
            } else {
                waiting.push(date);
            }
        }
    }
    Ok((todo, waiting))
}

/// Where and how an event's days are transformed.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Another lake to transform instead of the one the event names (a copy of it).
    pub lake: Option<String>,
    /// How the job runs.
    pub options: TransformOptions,
}

/// What handling an event did.
#[derive(Debug, Default)]
pub struct TriggerReport {
    /// Lakes transformed here, and what each transform did.
    pub local: Vec<(String, TransformReport)>,
    /// Objects of the event outside the raw and portfolio tables.
    pub ignored: Vec<String>,
    /// Portfolio days without quotes yet: lake, day.
    pub waiting: Vec<(String, NaiveDate)>,
}

impl std::fmt::Display for TriggerReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (lake, report) in &self.local {
            writeln!(f, "{lake}: {report}")?;
        }
        for (lake, date) in &self.waiting {
            writeln!(
                f,
                "{lake}: a portfolio of {date}, a day without quotes yet; the transform after its ingest joins them"
            )?;
        }
        if !self.ignored.is_empty() {
            let n = self.ignored.len();
            writeln!(f, "ignored {n} objects outside the raw and portfolio tables: {}", self.ignored.join(", "))?;
        }
        Ok(())
    }
}

/// Handles an S3 event notification: transforms the trading days it names.
pub async fn handle_event(json: &[u8], target: &Target) -> Result<TriggerReport, Error> {
    let objects = parse_event(json)?;
    let (lakes, ignored) = days_by_lake(&objects);
    for key in &ignored {
        warn!(object = %key, "not a raw-table or portfolio object; ignored");
    }
    let mut report = TriggerReport { ignored, ..Default::default() };
    for (lake_url, days) in lakes {
        let location = target.lake.clone().unwrap_or(lake_url);
        let mut lake = None;
        let (days, waiting) = days_to_transform(&location, days, &mut lake).await?;
        report.waiting.extend(waiting.into_iter().map(|d| (location.clone(), d)));
        if days.is_empty() {
            continue;
        }
        let lake = match lake {
            Some(lake) => lake,
            None => Lake::open(&location).await?,
        };
        // Only the days that changed: S3 may deliver an event twice, or a record per
        // object of one day, and a day whose file is gone again is nothing to do.
        let options = TransformOptions { days: Days::Changed(days.into_iter().collect()), ..target.options.clone() };
        info!(lake = %location, "transforming the event's days");
        report.local.push((location, transform(&lake, &options).await?));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_and_mapped_to_lakes() {
        assert_eq!(decode_key("my+lake/raw/year%3D2022/x").unwrap(), "my lake/raw/year=2022/x");
        let d = NaiveDate::from_ymd_opt(2022, 2, 4).unwrap();
        assert_eq!(
            raw_day_of_key("b", "data lake/raw/year=2022/month=02/day=04/cotacoes_20220204.parquet"),
            Some(("s3://b/data lake".to_string(), d))
        );
        assert_eq!(raw_day_of_key("b", "raw/year=2022/month=02/day=04/f.parquet"), Some(("s3://b".to_string(), d)));
        assert_eq!(raw_day_of_key("b", "refined/year=2022/month=02/day=04/f.parquet"), None);
        assert_eq!(raw_day_of_key("b", "xraw/year=2022/month=02/day=04/f"), None);
        assert_eq!(raw_day_of_key("b", "raw/COTAHIST.TXT"), None);
        let portfolio = "lake/raw_ibov/year=2022/month=02/day=04/carteira_20220204.parquet";
        assert_eq!(raw_day_of_key("b", portfolio), None);
        assert_eq!(portfolio_day_of_key("b", portfolio), Some(("s3://b/lake".to_string(), d)));
        let staged = "lake/_staging/20240101T000000-abc/raw/year=2022/month=02/day=04/cotacoes_20220204.parquet";
        assert_eq!(raw_day_of_key("b", staged), None);
    }

    #[test]
    fn only_s3_events_are_events() {
        for not_an_event in ["[]", "{}", "{\"Records\": []}", "{\"detail-type\": \"Scheduled Event\"}", "1"] {
            assert!(parse_event(not_an_event.as_bytes()).is_err(), "{not_an_event}");
        }
        let record = |bucket: &str| {
            format!(
                r#"{{"Records":[{{"eventName":"ObjectCreated:Put","s3":{{"bucket":{{"name":"{bucket}"}},"object":{{"key":"raw/x"}}}}}}]}}"#
            )
        };
        assert!(parse_event(record("b3-lake.data").as_bytes()).is_ok());
        for bad in ["", "x/_staging/lake", "a b"] {
            assert!(parse_event(record(bad).as_bytes()).is_err(), "{bad}");
        }
        let test_event =
            r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-01-01T00:00:00.000Z","Bucket":"b"}"#;
        assert_eq!(parse_event(test_event.as_bytes()).unwrap(), vec![]);
    }
}
