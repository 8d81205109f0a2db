//! Partition projection, as Athena does it: a table whose properties say
//! `projection.enabled = true` has its partitions computed from the properties (each
//! column's `integer`, `enum`, `date` or `injected` values, and `storage.location.template`)
//! instead of read from a catalog. Nothing is indexed or listed but the folders of the
//! partitions a query keeps; partitions registered in the catalog are ignored, as Athena
//! ignores Glue's.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, Utc};
use datafusion::common::ScalarValue;
use futures::{StreamExt, TryStreamExt};

use super::Error;
use super::ddl::{Column, LAKE_VAR, TableDef, in_lake};
use super::partition::{Partition, Pruner, canonical, list_files};
use crate::lake::Lake;
use crate::lake::layout::escape_partition_value;

/// The table property that holds the partitions' folder, `${column}` standing for values.
pub const TEMPLATE: &str = "storage.location.template";
/// More candidate partitions than this in one query is an error rather than a long wait.
const MAX_CANDIDATES: usize = 1_000_000;
/// Partition folders listed at once.
const LIST_CONCURRENCY: usize = 64;
/// The widest `projection.<key>.digits`: a bigint has 19 digits, and padding beyond a few
/// more only makes folder names no writer would choose.
const MAX_DIGITS: usize = 32;

/// Whether the table's properties turn projection on (`projection.enabled` = `true`).
pub fn enabled(def: &TableDef) -> bool {
    def.properties.get("projection.enabled").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// A table's projection: how each partition key's values are made.
#[derive(Debug, Clone)]
pub struct Projection {
    columns: Vec<Projected>,
    /// The folder template, relative to the lake, if the table has one.
    template: Option<String>,
    /// The table's folder, relative to the lake.
    prefix: String,
}

#[derive(Debug, Clone)]
struct Projected {
    key: Column,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Integer { min: i64, max: i64, interval: i64, digits: usize },
    Enum(Vec<String>),
    Date { start: NaiveDateTime, end: NaiveDateTime, format: String, interval: i64, unit: Unit },
    Injected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Years,
    Months,
    Weeks,
    Days,
    Hours,
    Minutes,
    Seconds,
}

fn invalid(def: &TableDef, message: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("INVALID_TABLE_PROPERTY: table {}: {message}", def.name))
}

impl Projection {
    /// The projection of `def`, or `None` when it has none. `lake_url` resolves `${lake}` in
    /// the template; a template outside the lake is refused.
    pub fn of(def: &TableDef, lake_url: &str) -> Result<Option<Self>, Error> {
        if !enabled(def) {
            return Ok(None);
        }
        let prop = |name: &str| def.properties.get(name).map(|v| v.trim().to_string());
        let mut missing = Vec::new();
        let mut columns = Vec::new();
        for key in &def.partition_keys {
            let p = |what: &str| prop(&format!("projection.{}.{what}", key.name));
            let Some(kind) = p("type") else {
                missing.push(key.name.clone());
                continue;
            };
            let interval = match p("interval") {
                Some(i) => i.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| {
                    invalid(def, format!("projection.{}.interval {i:?} is not a positive integer", key.name))
                })?,
                None => 1,
            };
            let range = || -> Result<(String, String), Error> {
                let r = p("range").ok_or_else(|| invalid(def, format!("projection.{}.range is missing", key.name)))?;
                let (a, b) = r
                    .split_once(',')
                    .ok_or_else(|| invalid(def, format!("projection.{}.range {r:?} is not 'start,end'", key.name)))?;
                Ok((a.trim().to_string(), b.trim().to_string()))
            };
            let kind = match kind.to_lowercase().as_str() {
                "integer" => {
                    let (a, b) = range()?;
                    let int = |v: &str| {
                        v.parse::<i64>().map_err(|_| {
                            invalid(def, format!("projection.{}.range: {v:?} is not an integer", key.name))
                        })
                    };
                    let digits = match p("digits") {
                        Some(d) => d.parse().ok().filter(|d| (1..=MAX_DIGITS).contains(d)).ok_or_else(|| {
                            invalid(
                                def,
                                format!(
                                    "projection.{}.digits {d:?} is not a number of digits from 1 to {MAX_DIGITS}",
                                    key.name
                                ),
                            )
                        })?,
                        None => 0,
                    };
                    Kind::Integer { min: int(&a)?, max: int(&b)?, interval, digits }
                }
                "enum" => {
                    let values = p("values")
                        .ok_or_else(|| invalid(def, format!("projection.{}.values is missing", key.name)))?;
                    Kind::Enum(values.split(',').map(|v| v.trim().to_string()).collect())
                }
                "date" => {
                    let format = p("format")
                        .ok_or_else(|| invalid(def, format!("projection.{}.format is missing", key.name)))?;
                    let strftime = java_format(&format).map_err(|e| invalid(def, e))?;
                    let unit = match p("interval.unit") {
                        Some(u) => Unit::parse(&u).ok_or_else(|| invalid(def, format!("interval.unit {u:?}")))?,
                        None => Unit::finest(&format),
                    };
                    let (a, b) = range()?;
                    let now = Utc::now().naive_utc();
                    let end_of = |v: &str| {
                        date_bound(v, &strftime, now).ok_or_else(|| {
                            invalid(
                                def,
                                format!("projection.{}.range: {v:?} is not a date in {format:?} or NOW", key.name),
                            )
                        })
                    };
                    Kind::Date { start: end_of(&a)?, end: end_of(&b)?, format: strftime, interval, unit }
                }
                "injected" => Kind::Injected,
                other => {
                    return Err(invalid(
                        def,
                        format!("projection.{}.type {other:?} is not integer, enum, date or injected", key.name),
                    ));
                }
            };
            columns.push(Projected { key: key.clone(), kind });
        }
        if !missing.is_empty() {
            return Err(Error::Invalid(format!(
                "INVALID_TABLE_PROPERTY: Table {} is configured for partition projection, but the following partition \
                 columns are missing projection configuration: [{}]",
                def.name,
                missing.join(", ")
            )));
        }
        let template = match prop(TEMPLATE) {
            None => None,
            Some(t) => {
                for key in &def.partition_keys {
                    if !t.contains(&format!("${{{}}}", key.name)) {
                        return Err(invalid(
                            def,
                            "The 'storage.location.template' table property must contain templates for all partition columns!",
                        ));
                    }
                }
                let relative = in_lake(&t.replace(LAKE_VAR, lake_url.trim_end_matches('/')), lake_url)
                    .ok_or_else(|| invalid(def, format!("{TEMPLATE} {t} lies outside the lake ({lake_url})")))?;
                Some(relative)
            }
        };
        let prefix = def.lake_prefix().ok_or_else(|| super::partition::outside(def))?.to_string();
        Ok(Some(Self { columns, template, prefix }))
    }

    /// The partitions the pruner keeps, each with its files (a listing of its folder; one
    /// with no files is no partition).
    pub async fn partitions(&self, lake: &Lake, pruner: &Pruner) -> Result<Vec<Partition>, Error> {
        let mut candidates: Vec<(Vec<String>, Vec<String>)> = vec![(vec![], vec![])];
        for (depth, column) in self.columns.iter().enumerate() {
            let values = column.values(pruner)?;
            if candidates.len().saturating_mul(values.len()) > MAX_CANDIDATES {
                return Err(Error::Invalid(format!(
                    "partition projection: more than {MAX_CANDIDATES} partitions to consider; filter on {}",
                    column.key.name
                )));
            }
            let next: Vec<(Vec<String>, Vec<String>)> = candidates
                .iter()
                .flat_map(|(values_so_far, texts)| {
                    values.iter().map(move |(value, text)| {
                        let mut v = values_so_far.clone();
                        v.push(value.clone());
                        let mut t = texts.clone();
                        t.push(text.clone());
                        (v, t)
                    })
                })
                .collect();
            let refs: Vec<&[String]> = next.iter().map(|(v, _)| v.as_slice()).collect();
            let keep = pruner.keep(depth + 1, &refs)?;
            candidates = next.into_iter().zip(keep).filter_map(|(c, k)| k.then_some(c)).collect();
        }
        let folders: Vec<(Vec<String>, String)> =
            candidates.into_iter().map(|(values, texts)| (values, self.folder(&texts))).collect();
        let mut partitions: Vec<Partition> = futures::stream::iter(folders)
            .map(|(values, folder)| async move {
                let files = list_files(lake, &folder).await?;
                Ok::<_, Error>((!files.is_empty()).then_some(Partition { values, location: folder, files }))
            })
            .buffer_unordered(LIST_CONCURRENCY)
            .try_filter_map(|p| futures::future::ready(Ok(p)))
            .try_collect()
            .await?;
        super::partition::sort(&mut partitions);
        Ok(partitions)
    }

    /// The folder of the partition with these (canonical) values: where the projection reads
    /// it, so where a writer must put its rows. Values the projection never yields (outside
    /// a range, not in an enum, NULL) are refused: no query would ever see their rows.
    pub fn folder_of(&self, values: &[String]) -> Result<String, Error> {
        let texts = self
            .columns
            .iter()
            .zip(values)
            .map(|(column, value)| column.text_of(value))
            .collect::<Result<Vec<String>, Error>>()?;
        Ok(self.folder(&texts))
    }

    /// A partition's folder from the values as its folder spells them.
    fn folder(&self, texts: &[String]) -> String {
        match &self.template {
            Some(template) => {
                let mut folder = template.clone();
                for (column, text) in self.columns.iter().zip(texts) {
                    folder = folder.replace(&format!("${{{}}}", column.key.name), text);
                }
                folder.trim_end_matches('/').to_string()
            }
            None => {
                let spec: Vec<String> = self
                    .columns
                    .iter()
                    .zip(texts)
                    .map(|(c, t)| format!("{}={}", c.key.name, escape_partition_value(t)))
                    .collect();
                [self.prefix.clone(), spec.join("/")]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("/")
            }
        }
    }
}

impl Projected {
    /// How the projection spells `value` in a folder, if it yields it.
    fn text_of(&self, value: &str) -> Result<String, Error> {
        let name = &self.key.name;
        let refused = |why: &str| {
            Error::Invalid(format!(
                "partition projection: {name} = {value} {why}; its rows would never be read (change the table's \
                 projection.{name}.* properties first)"
            ))
        };
        if value == crate::lake::layout::HIVE_DEFAULT_PARTITION {
            return Err(Error::Invalid(format!(
                "partition projection: {name} is NULL or empty, which no projection yields; its rows would never be read"
            )));
        }
        match &self.kind {
            Kind::Injected => Ok(value.to_string()),
            Kind::Enum(values) if values.iter().any(|v| v == value) => Ok(value.to_string()),
            Kind::Enum(_) => Err(refused("is not one of its projection.values")),
            Kind::Integer { min, max, interval, digits } => {
                let v: i64 = value.parse().map_err(|_| refused("is not an integer"))?;
                if !in_range(v, *min, *max, *interval) {
                    return Err(refused(&format!(
                        "lies outside its projection.range {min},{max} (interval {interval})"
                    )));
                }
                Ok(format!("{v:0digits$}"))
            }
            Kind::Date { start, end, format, .. } => {
                let at = date_bound(value, format, Utc::now().naive_utc())
                    .filter(|at| {
                        !value.trim().to_uppercase().starts_with("NOW") && at.format(format).to_string() == value
                    })
                    .ok_or_else(|| refused("is not a date in its projection.format"))?;
                if at < *start || at > *end {
                    return Err(refused("lies outside its projection.range"));
                }
                Ok(value.to_string())
            }
        }
    }

    /// Each value this column may take in the query: its canonical value and its text in
    /// the folder. Equality filters choose among them (or, for `injected`, are them).
    fn values(&self, pruner: &Pruner) -> Result<Vec<(String, String)>, Error> {
        let wanted = pruner.equal_values(&self.key.name);
        let texts: Vec<String> = match &self.kind {
            Kind::Injected => {
                let Some(wanted) = wanted.filter(|w| !w.is_empty()) else {
                    return Err(Error::Invalid(format!(
                        "CONSTRAINT_VIOLATION: For the injected projected partition column {}, the WHERE clause must \
                         contain only static equality conditions, and at least one such condition must be present.",
                        self.key.name
                    )));
                };
                wanted.iter().map(scalar_text).collect()
            }
            Kind::Enum(values) => values.clone(),
            Kind::Integer { min, max, interval, digits } => {
                // An equality picks its values out of the range without walking it.
                if let Some(wanted) = &wanted {
                    let ints: Vec<i64> = wanted.iter().filter_map(|v| scalar_text(v).trim().parse().ok()).collect();
                    ints.into_iter()
                        .filter(|i| in_range(*i, *min, *max, *interval))
                        .map(|i| format!("{i:0digits$}"))
                        .collect()
                } else {
                    // In i128: a range as wide as a bigint's overflows an i64.
                    let count = ((i128::from(*max) - i128::from(*min)) / i128::from(*interval) + 1).max(0);
                    if count > MAX_CANDIDATES as i128 {
                        return Err(Error::Invalid(format!(
                            "partition projection: {} takes {count} values, more than {MAX_CANDIDATES}; filter on it \
                             with = or IN",
                            self.key.name
                        )));
                    }
                    (0..count as i64).map(|n| format!("{:0digits$}", min + n * interval)).collect()
                }
            }
            Kind::Date { start, end, format, interval, unit } => {
                let mut out = Vec::new();
                let mut at = *start;
                while at <= *end {
                    out.push(at.format(format).to_string());
                    if out.len() > MAX_CANDIDATES {
                        return Err(Error::Invalid(format!(
                            "partition projection: {} takes more than {MAX_CANDIDATES} values; filter on it",
                            self.key.name
                        )));
                    }
                    at = unit.add(at, *interval).ok_or_else(|| Error::Invalid("date out of range".into()))?;
                }
                out
            }
        };
        let mut values = Vec::new();
        for text in texts {
            let Ok(value) = canonical(&self.key, &text) else { continue };
            values.push((value, text));
        }
        Ok(values)
    }
}

/// Whether an integer projection with this range and interval yields `v` (in i128: a range
/// as wide as a bigint's overflows an i64).
fn in_range(v: i64, min: i64, max: i64, interval: i64) -> bool {
    (min..=max).contains(&v) && (i128::from(v) - i128::from(min)) % i128::from(interval) == 0
}

fn scalar_text(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => s.clone(),
        other => other.to_string(),
    }
}

impl Unit {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_uppercase().trim_end_matches('S') {
            "YEAR" => Unit::Years,
            "MONTH" => Unit::Months,
            "WEEK" => Unit::Weeks,
            "DAY" => Unit::Days,
            "HOUR" => Unit::Hours,
            "MINUTE" => Unit::Minutes,
            "SECOND" => Unit::Seconds,
            _ => return None,
        })
    }

    /// The finest field a Java date format shows (Athena's default interval unit).
    fn finest(format: &str) -> Self {
        let letters: String = strip_quoted(format);
        if letters.contains('s') {
            Unit::Seconds
        } else if letters.contains('m') {
            Unit::Minutes
        } else if letters.contains('H') || letters.contains('h') {
            Unit::Hours
        } else if letters.contains('d') {
            Unit::Days
        } else if letters.contains('M') {
            Unit::Months
        } else {
            Unit::Years
        }
    }

    fn add(self, at: NaiveDateTime, n: i64) -> Option<NaiveDateTime> {
        match self {
            Unit::Years => at.checked_add_months(Months::new(12 * n as u32)),
            Unit::Months => at.checked_add_months(Months::new(n as u32)),
            Unit::Weeks => at.checked_add_signed(Duration::weeks(n)),
            Unit::Days => at.checked_add_signed(Duration::days(n)),
            Unit::Hours => at.checked_add_signed(Duration::hours(n)),
            Unit::Minutes => at.checked_add_signed(Duration::minutes(n)),
            Unit::Seconds => at.checked_add_signed(Duration::seconds(n)),
        }
    }

    fn sub(self, at: NaiveDateTime, n: i64) -> Option<NaiveDateTime> {
        match self {
            Unit::Years => at.checked_sub_months(Months::new(12 * n as u32)),
            Unit::Months => at.checked_sub_months(Months::new(n as u32)),
            _ => self.add(at, -n),
        }
    }
}

fn strip_quoted(format: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in format.chars() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// A Java `DateTimeFormatter` pattern (what Athena's `projection.*.format` takes) as a
/// strftime one: the letters B3 partitions use (`yyyy`, `MM`, `dd`, `HH`, `mm`, `ss`) and
/// quoted text.
fn java_format(java: &str) -> Result<String, String> {
    let mut out = String::new();
    let chars: Vec<char> = java.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let end = chars[i + 1..].iter().position(|&q| q == '\'').map(|p| i + 1 + p).unwrap_or(chars.len());
            let text: String = chars[i + 1..end].iter().collect();
            out.push_str(&if text.is_empty() { "'".to_string() } else { text.replace('%', "%%") });
            i = end + 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&d| d == c).count();
        let spec = match (c, run) {
            ('y' | 'u', 4) => "%Y",
            ('y' | 'u', 2) => "%y",
            ('M', 2) => "%m",
            ('M', 1) => "%-m",
            ('d', 2) => "%d",
            ('d', 1) => "%-d",
            ('H', 2) => "%H",
            ('H', 1) => "%-H",
            ('m', 2) => "%M",
            ('s', 2) => "%S",
            (c, _) if c.is_ascii_alphabetic() => {
                return Err(format!("date format {java:?}: {c} is not supported here"));
            }
            _ => "",
        };
        if spec.is_empty() {
            for _ in 0..run {
                out.push(if c == '%' { '%' } else { c });
                if c == '%' {
                    out.push('%');
                }
            }
        } else {
            out.push_str(spec);
        }
        i += run;
    }
    Ok(out)
}

/// A range end: a date in the format, or `NOW` with an optional `+N<UNIT>` or `-N<UNIT>`.
fn date_bound(text: &str, strftime: &str, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let upper = text.trim().to_uppercase();
    if let Some(rest) = upper.strip_prefix("NOW") {
        if rest.is_empty() {
            return Some(now);
        }
        let (sign, rest) = rest.split_at(1);
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let n: i64 = digits.parse().ok()?;
        let unit = Unit::parse(&rest[digits.len()..])?;
        return if sign == "+" {
            unit.add(now, n)
        } else if sign == "-" {
            unit.sub(now, n)
        } else {
            None
        };
    }
    let text = text.trim();
    if let Ok(t) = NaiveDateTime::parse_from_str(text, strftime) {
        return Some(t);
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, strftime) {
        return d.and_hms_opt(0, 0, 0);
    }
    // A format without days (yyyy-MM, yyyy): the first of its month or year.
    let padded = format!("{text}-01");
    if let Ok(d) = NaiveDate::parse_from_str(&padded, &format!("{strftime}-%d")) {
        return d.and_hms_opt(0, 0, 0);
    }
    let year: i32 = text.parse().ok()?;
    NaiveDate::from_ymd_opt(year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).filter(|d| d.year() == year)
}

/// The projection properties of b3lake's `year`/`month`/`day` tables (the raw table, the
/// compact refined layout): months and days as their folders spell them, two digits.
pub fn day_properties(def: &TableDef) -> Option<Vec<(String, String)>> {
    let keys: Vec<&str> = def.partition_keys.iter().map(|k| k.name.as_str()).collect();
    if keys != ["year", "month", "day"] {
        return None;
    }
    let location = def.location.trim_end_matches('/');
    Some(
        [
            ("projection.enabled", "true".to_string()),
            ("projection.year.type", "integer".into()),
            ("projection.year.range", "1986,2100".into()),
            ("projection.month.type", "integer".into()),
            ("projection.month.range", "1,12".into()),
            ("projection.month.digits", "2".into()),
            ("projection.day.type", "integer".into()),
            ("projection.day.range", "1,31".into()),
            ("projection.day.digits", "2".into()),
            (TEMPLATE, format!("{location}/year=${{year}}/month=${{month}}/day=${{day}}/")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_date_formats() {
        assert_eq!(java_format("yyyy-MM-dd").unwrap(), "%Y-%m-%d");
        assert_eq!(java_format("yyyy/MM/dd/HH").unwrap(), "%Y/%m/%d/%H");
        assert_eq!(java_format("'dt='yyyyMMdd").unwrap(), "dt=%Y%m%d");
        assert!(java_format("yyyy-ww").is_err());
        assert_eq!(Unit::finest("yyyy-MM-dd"), Unit::Days);
        assert_eq!(Unit::finest("yyyy-MM"), Unit::Months);
        assert_eq!(Unit::finest("yyyy/MM/dd/HH"), Unit::Hours);
    }

    #[test]
    fn range_bounds_are_dates_or_now_relative() {
        let now = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap().and_hms_opt(12, 0, 0).unwrap();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(date_bound("2020-01-02", "%Y-%m-%d", now), Some(d(2020, 1, 2)));
        assert_eq!(date_bound("2020-01", "%Y-%m", now), Some(d(2020, 1, 1)));
        assert_eq!(date_bound("NOW", "%Y-%m-%d", now), Some(now));
        assert_eq!(date_bound("NOW-3YEARS", "%Y", now).map(|t| t.year()), Some(2021));
        assert_eq!(date_bound("NOW+1MONTH", "%Y", now).map(|t| (t.month(), t.day())), Some((4, 30)));
        assert_eq!(date_bound("yesterday", "%Y-%m-%d", now), None);
    }
}
