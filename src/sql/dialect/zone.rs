//! Trino's `timestamp(p) with time zone`: an instant and the zone it is shown in. Arrow's
//! timestamp with a time zone is the same thing for a column whose values share one zone, so
//! the zone is the column's: a function that sets it (`AT TIME ZONE`, `at_timezone`,
//! `with_timezone`, `from_unixtime` with a zone) takes it as a constant. The session's zone is
//! UTC, as Athena's is: a timestamp without one is read as UTC where a zone is needed.
//!
//! Results spell the value's local time in its zone and the zone (`2020-05-01 09:34:56.000
//! America/Sao_Paulo`, `... UTC`); fields (`hour`, `day`, ...) read the local time.

use std::str::FromStr;
use std::sync::Arc;

use arrow::array::timezone::Tz;
use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{
    ArrowTimestampType, DataType, Field, Float64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, ReturnFieldArgs, ScalarUDF};
use datafusion::optimizer::AnalyzerRule;

use super::function::{Args, Function, ints, udf};
use super::pattern::ParsedZone;
use super::shared::{arity, double, varchar};

/// The session's zone, as Trino names it.
pub const SESSION: &str = "UTC";

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        udf(AtTimezone { local: false }),
        udf(AtTimezone { local: true }),
        udf(FromUnixtime),
        udf(FromUnixtimeNanos),
        udf(FromIso8601 { nanos: false }),
        udf(FromIso8601 { nanos: true }),
        udf(ParseDatetime),
        udf(CurrentTimezone),
        udf(Now { local: false }),
        udf(Now { local: true }),
        udf(ZoneOffset { minutes: false }),
        udf(ZoneOffset { minutes: true }),
        udf(LocalTime),
    ]
}

/// A zone as Trino names it: UTC for any zero offset, an offset as `+HH:MM` however it was
/// written (`+13`, `-0330`), a name as written (`America/Sao_Paulo`); an error names a zone
/// neither an offset nor in the tz database.
pub fn zone(name: &str) -> Result<Arc<str>> {
    let name = name.trim();
    if matches!(name, "Z" | "UTC" | "Etc/UTC" | "UCT" | "Zulu") {
        return Ok(SESSION.into());
    }
    if name.starts_with(['+', '-'])
        && let Some((seconds, "")) = super::pattern::utc_offset(name)
    {
        return Ok(if seconds == 0 { SESSION.into() } else { offset(i64::from(seconds / 60)).into() });
    }
    match Tz::from_str(name) {
        Ok(_) => Ok(name.into()),
        Err(_) => plan_err!("Time zone not supported: {name}"),
    }
}

/// An offset from UTC in minutes as a zone spells it: `+05:30`, `-03:00`.
pub fn offset(minutes: i64) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
}

/// The local time of an instant (nanoseconds since the epoch) in `zone`.
pub fn local(nanos: i128, zone: &str) -> Option<NaiveDateTime> {
    let utc = chrono::DateTime::from_timestamp(
        nanos.div_euclid(1_000_000_000) as i64,
        nanos.rem_euclid(1_000_000_000) as u32,
    )?;
    let tz = Tz::from_str(zone).ok()?;
    Some(tz.from_utc_datetime(&utc.naive_utc()).naive_local())
}

/// A constant text argument's value (`None` for a column or NULL).
fn text(v: Option<&ScalarValue>) -> Option<&str> {
    v?.try_as_str()?
}

/// The zone argument `i`: a constant (Arrow's type holds one zone a column).
fn zone_argument(name: &str, args: &ReturnFieldArgs, i: usize) -> Result<Arc<str>> {
    constant_zone(name, args.scalar_arguments.get(i).copied().flatten())
}

fn constant_zone(name: &str, v: Option<&ScalarValue>) -> Result<Arc<str>> {
    match text(v) {
        // Trino's `with_timezone` words a zone it does not know its own way.
        Some(z) if name == "with_timezone" => zone(z).or_else(|_| plan_err!("'{z}' is not a valid time zone")),
        Some(z) => zone(z),
        None => plan_err!("{name}: the time zone must be a constant, not NULL"),
    }
}

/// Timestamp values relabelled with `zone` (the same instants).
fn relabel(values: &ArrayRef, zone: Arc<str>) -> Result<ArrayRef> {
    fn with<T: ArrowTimestampType>(values: &ArrayRef, zone: Arc<str>) -> ArrayRef {
        Arc::new(values.as_primitive::<T>().clone().with_timezone(zone))
    }
    Ok(match values.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => with::<TimestampSecondType>(values, zone),
        DataType::Timestamp(TimeUnit::Millisecond, _) => with::<TimestampMillisecondType>(values, zone),
        DataType::Timestamp(TimeUnit::Microsecond, _) => with::<TimestampMicrosecondType>(values, zone),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => with::<TimestampNanosecondType>(values, zone),
        other => return exec_err!("a timestamp, not {other}"),
    })
}

/// A timestamp argument (with a zone or not; a date or NULL as a `timestamp(3)`).
fn timestamp(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Timestamp(..) => Ok(t.clone()),
        DataType::Date32 | DataType::Date64 | DataType::Null => Ok(DataType::Timestamp(TimeUnit::Millisecond, None)),
        other => plan_err!("{name} expects a timestamp, got {other}"),
    }
}

/// `at_timezone(ts, zone)` (and `ts AT TIME ZONE zone`): the same instant shown in `zone` (a
/// timestamp without a zone is a UTC time); `with_timezone(ts, zone)` (`local`): the local
/// time `ts` in `zone`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct AtTimezone {
    local: bool,
}

impl Function for AtTimezone {
    fn name(&self) -> &'static str {
        if self.local { "with_timezone" } else { "at_timezone" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        let ts = timestamp(self.name(), &t[0])?;
        if self.local && matches!(ts, DataType::Timestamp(_, Some(_))) {
            return plan_err!("with_timezone expects a timestamp without a time zone");
        }
        Ok(vec![ts, varchar(self.name(), &t[1])?])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<Field>> {
        let DataType::Timestamp(unit, _) = args.arg_fields[0].data_type() else {
            return plan_err!("{} expects a timestamp", self.name());
        };
        let zone = zone_argument(self.name(), args, 1)?;
        Ok(Some(Field::new(self.name(), DataType::Timestamp(*unit, Some(zone)), true)))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let z = constant_zone(self.name(), args.constant(1))?;
        let values = args.column(0)?;
        let DataType::Timestamp(unit, from) = values.data_type().clone() else {
            return exec_err!("{} expects a timestamp", self.name());
        };
        if self.local {
            // Arrow reads a time without a zone as local to the zone it is cast to.
            return Ok(cast(&values, &DataType::Timestamp(unit, Some(z)))?);
        }
        let instants =
            if from.is_none() { cast(&values, &DataType::Timestamp(unit, Some(SESSION.into())))? } else { values };
        relabel(&instants, z)
    }
}

/// `from_unixtime(seconds[, zone])` and `from_unixtime(seconds, hours, minutes)`: the instant,
/// a `timestamp(3) with time zone` (UTC, the zone, or the offset), rounded to the millisecond.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromUnixtime;

impl Function for FromUnixtime {
    fn name(&self) -> &'static str {
        "from_unixtime"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=3)?;
        let mut out = vec![double(self.name(), &t[0])?];
        match t.len() {
            2 => out.push(varchar(self.name(), &t[1])?),
            3 => out.extend([super::shared::bigint(self.name(), &t[1])?, super::shared::bigint(self.name(), &t[2])?]),
            _ => {}
        }
        Ok(out)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Millisecond, Some(SESSION.into())))
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<Field>> {
        let zone = self.zone(
            args.arg_fields.len(),
            |i| args.scalar_arguments.get(i).copied().flatten(),
            |i| zone_argument(self.name(), args, i),
        )?;
        Ok(Some(Field::new(self.name(), DataType::Timestamp(TimeUnit::Millisecond, Some(zone)), true)))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let zone = self.zone(args.len(), |i| args.constant(i), |i| constant_zone(self.name(), args.constant(i)))?;
        let seconds = args.column(0)?;
        let millis: PrimitiveArray<TimestampMillisecondType> =
            seconds.as_primitive::<Float64Type>().unary(|s| (s * 1000.0).round() as i64);
        Ok(Arc::new(millis.with_timezone(zone)))
    }
}

impl FromUnixtime {
    /// The zone of a call of `n` arguments: UTC, a zone's name, or hours and minutes of offset.
    fn zone<'a>(
        &self,
        n: usize,
        constant: impl Fn(usize) -> Option<&'a ScalarValue>,
        named: impl Fn(usize) -> Result<Arc<str>>,
    ) -> Result<Arc<str>> {
        match n {
            1 => Ok(SESSION.into()),
            2 => named(1),
            _ => {
                let int = |i| match constant(i).map(|v| v.cast_to(&DataType::Int64)) {
                    Some(Ok(ScalarValue::Int64(Some(v)))) => Ok(v),
                    _ => plan_err!("from_unixtime: the offset's hours and minutes must be constants"),
                };
                let (h, m) = (int(1)?, int(2)?);
                let minutes = h * 60 + if h < 0 { -m.abs() } else { m };
                if minutes.abs() > 14 * 60 {
                    return plan_err!("Invalid offset minutes {minutes}");
                }
                zone(&offset(minutes))
            }
        }
    }
}

/// `from_unixtime_nanos(n)`: the instant `n` nanoseconds after the epoch, in UTC.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromUnixtimeNanos;

impl Function for FromUnixtimeNanos {
    fn name(&self) -> &'static str {
        "from_unixtime_nanos"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        match &t[0] {
            d @ DataType::Decimal128(..) => Ok(vec![d.clone()]),
            other => Ok(vec![super::shared::bigint(self.name(), other)?]),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Nanosecond, Some(SESSION.into())))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let nanos = args.column(0)?;
        // A decimal's fraction of a nanosecond rounds half up (`DECIMAL '1234.499'` is 1234).
        let nanos = match nanos.data_type() {
            DataType::Decimal128(_, scale) if *scale > 0 => {
                let unit = 10i128.pow(u32::from(scale.unsigned_abs()));
                let whole = nanos
                    .as_primitive::<arrow::datatypes::Decimal128Type>()
                    .try_unary::<_, arrow::datatypes::Int64Type, _>(|v| {
                        let (q, r) = (v / unit, v % unit);
                        let q = if r.abs() * 2 >= unit { q + r.signum() } else { q };
                        i64::try_from(q).map_err(|_| {
                            arrow::error::ArrowError::ComputeError(format!("from_unixtime_nanos: {v} is out of range"))
                        })
                    })?;
                Arc::new(whole) as ArrayRef
            }
            DataType::Decimal128(..) => cast(&nanos, &DataType::Int64)?,
            _ => nanos,
        };
        let nanos: PrimitiveArray<TimestampNanosecondType> =
            nanos.as_primitive::<arrow::datatypes::Int64Type>().reinterpret_cast();
        Ok(Arc::new(nanos.with_timezone(SESSION)))
    }
}

/// `from_iso8601_timestamp(s)` (and `_nanos`): an ISO 8601 date and time; its offset, or UTC
/// without one. A constant keeps its offset as the zone; a column's values are shown in UTC
/// (Arrow's type holds one zone for the column).
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromIso8601 {
    nanos: bool,
}

impl Function for FromIso8601 {
    fn name(&self) -> &'static str {
        if self.nanos { "from_iso8601_timestamp_nanos" } else { "from_iso8601_timestamp" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![varchar(self.name(), &t[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(self.unit(), Some(SESSION.into())))
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<Field>> {
        let zone = match text(args.scalar_arguments.first().copied().flatten()) {
            Some(text) => iso8601(text).map(|(_, z)| z).unwrap_or_else(|_| SESSION.into()),
            None => SESSION.into(),
        };
        Ok(Some(Field::new(self.name(), DataType::Timestamp(self.unit(), Some(zone)), true)))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let texts = args.column(0)?;
        let mut zone: Arc<str> = SESSION.into();
        let mut values = Vec::with_capacity(texts.len());
        for text in texts.as_string::<i32>() {
            values.push(match text {
                None => None,
                Some(t) => {
                    let (nanos, z) = iso8601(t)?;
                    if args.constant(0).is_some() {
                        zone = z;
                    }
                    Some(if self.nanos { nanos } else { nanos.div_euclid(1_000_000) })
                }
            });
        }
        Ok(match self.unit() {
            TimeUnit::Nanosecond => {
                Arc::new(PrimitiveArray::<TimestampNanosecondType>::from(values).with_timezone(zone))
            }
            _ => Arc::new(PrimitiveArray::<TimestampMillisecondType>::from(values).with_timezone(zone)),
        })
    }
}

impl FromIso8601 {
    fn unit(&self) -> TimeUnit {
        if self.nanos { TimeUnit::Nanosecond } else { TimeUnit::Millisecond }
    }
}

/// `parse_datetime(text, joda_pattern)`: a `timestamp(3) with time zone`, in the zone the
/// text names (`Z`, `ZZ`, `ZZZ` in the pattern) or the session's. A constant keeps its zone; a
/// column's values are shown in UTC (Arrow's type holds one zone for the column).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ParseDatetime;

impl Function for ParseDatetime {
    fn name(&self) -> &'static str {
        "parse_datetime"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(vec![varchar(self.name(), &t[0])?, varchar(self.name(), &t[1])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Millisecond, Some(SESSION.into())))
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<Field>> {
        let constant = |i: usize| text(args.scalar_arguments.get(i).copied().flatten());
        let zone = match (constant(0), constant(1)) {
            (Some(t), Some(p)) => parse_datetime(t, p).map(|(_, z)| z).unwrap_or_else(|_| SESSION.into()),
            _ => SESSION.into(),
        };
        Ok(Some(Field::new(self.name(), DataType::Timestamp(TimeUnit::Millisecond, Some(zone)), true)))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (texts, patterns) = (args.column(0)?, args.column(1)?);
        let constant = args.constant(0).is_some() && args.constant(1).is_some();
        let mut zone: Arc<str> = SESSION.into();
        let mut values = Vec::with_capacity(texts.len());
        for (t, p) in texts.as_string::<i32>().iter().zip(patterns.as_string::<i32>()) {
            values.push(match t.zip(p) {
                None => None,
                Some((t, p)) => {
                    let (millis, z) = parse_datetime(t, p)?;
                    if constant {
                        zone = z;
                    }
                    Some(millis)
                }
            });
        }
        Ok(Arc::new(PrimitiveArray::<TimestampMillisecondType>::from(values).with_timezone(zone)))
    }
}

/// A text parsed with a Joda pattern: milliseconds since the epoch and the zone it is in.
fn parse_datetime(text: &str, pattern: &str) -> Result<(i64, Arc<str>)> {
    let (local, parsed) = super::pattern::joda_parse(text, pattern).or_else(|e| exec_err!("{e}"))?;
    let (utc, zone) = match parsed {
        None => (local, SESSION.into()),
        Some(ParsedZone::Offset(seconds)) => {
            (local - chrono::Duration::seconds(seconds.into()), zone(&offset((seconds / 60).into()))?)
        }
        Some(ParsedZone::Named(name)) => {
            let tz =
                Tz::from_str(&name).or_else(|_| exec_err!("Invalid format: \"{text}\" (unknown time zone {name})"))?;
            let Some(at) = tz.from_local_datetime(&local).earliest() else {
                return exec_err!("{local} does not exist in {name}");
            };
            (at.naive_utc(), zone(&name)?)
        }
    };
    Ok((utc.and_utc().timestamp_millis(), zone))
}

/// An ISO 8601 date and time (`2020-05-11`, `2020-05-11T11:15`, `...11:15:05.123456789`,
/// with `Z`, `+01:00`, `+0100` or `+01`): nanoseconds since the epoch and the zone.
fn iso8601(text: &str) -> Result<(i64, Arc<str>)> {
    let bad = || exec_err!("Invalid format: \"{text}\"");
    let (date, rest) = text.split_once('T').unwrap_or((text, ""));
    let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else { return bad() };
    let (time, offset) = match rest.find(['Z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let time = if time.is_empty() {
        NaiveTime::MIN
    } else {
        let parsed = ["%H:%M:%S%.f", "%H:%M", "%H"].iter().find_map(|f| NaiveTime::parse_from_str(time, f).ok());
        match parsed {
            Some(t) => t,
            None => return bad(),
        }
    };
    let seconds = match offset {
        "" => 0,
        o => match super::pattern::utc_offset(o) {
            Some((seconds, "")) if seconds.abs() <= 14 * 3600 => seconds,
            _ => return bad(),
        },
    };
    let Some(offset) = FixedOffset::east_opt(seconds) else { return bad() };
    let zone: Arc<str> = if seconds == 0 { SESSION.into() } else { offset.to_string().into() };
    let Some(instant) = offset.from_local_datetime(&date.and_time(time)).single() else { return bad() };
    let Some(nanos) = instant.timestamp_nanos_opt() else { return bad() };
    Ok((nanos, zone))
}

/// `current_timezone()`: the session's zone, UTC.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentTimezone;

impl Function for CurrentTimezone {
    fn name(&self) -> &'static str {
        "current_timezone"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 0..=0)?;
        Ok(vec![])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        Ok(Arc::new(StringArray::from_iter_values(std::iter::repeat_n(SESSION, args.rows))))
    }
}

/// `current_timestamp` (also `now()`): the statement's start, a `timestamp(3) with time zone`
/// in the session's zone; `localtimestamp` (`local`): its local time there, a `timestamp(3)`.
/// `current_timestamp(p)` and `localtimestamp(p)` keep `p` digits of the second (in the Arrow
/// unit that holds them).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Now {
    local: bool,
}

impl Now {
    fn value(&self, start: chrono::DateTime<chrono::Utc>, precision: i64) -> Result<ScalarValue> {
        let zone = (!self.local).then(|| Arc::from(SESSION));
        let Some(nanos) = start.timestamp_nanos_opt() else {
            return exec_err!("{}: the clock is out of range", self.name());
        };
        let kept = |digits: u32| {
            let unit = 10i64.pow(digits.saturating_sub(precision.clamp(0, 9) as u32));
            nanos.div_euclid(1_000_000_000 / 10i64.pow(digits)).div_euclid(unit) * unit
        };
        Ok(match precision {
            ..=3 => ScalarValue::TimestampMillisecond(Some(kept(3)), zone),
            4..=6 => ScalarValue::TimestampMicrosecond(Some(kept(6)), zone),
            _ => ScalarValue::TimestampNanosecond(Some(kept(9)), zone),
        })
    }

    /// The precision a call asks for: its constant argument, or 3.
    fn precision(&self, argument: Option<&ScalarValue>) -> Result<i64> {
        match argument {
            None => Ok(3),
            Some(ScalarValue::Int64(Some(p))) if (0..=9).contains(p) => Ok(*p),
            Some(other) => plan_err!("{}: the precision must be a constant from 0 to 9, got {other}", self.name()),
        }
    }
}

impl Function for Now {
    fn name(&self) -> &'static str {
        if self.local { "localtimestamp" } else { "now" }
    }
    fn aliases(&self) -> &'static [&'static str] {
        if self.local { &[] } else { &["current_timestamp"] }
    }
    fn volatility(&self) -> datafusion::logical_expr::Volatility {
        datafusion::logical_expr::Volatility::Stable
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 0..=1)?;
        t.iter().map(|t| super::shared::bigint(self.name(), t)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.value(chrono::Utc::now(), 3)?.data_type())
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<Field>> {
        let p = self.precision(args.scalar_arguments.first().copied().flatten())?;
        Ok(Some(Field::new(self.name(), self.value(chrono::Utc::now(), p)?.data_type(), false)))
    }
    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let precision = match args.first() {
            None => 3,
            Some(Expr::Literal(v, _)) => self.precision(Some(v))?,
            Some(_) => return Ok(ExprSimplifyResult::Original(args)),
        };
        // The same instant everywhere in the statement, as Trino's.
        Ok(match info.query_execution_start_time() {
            Some(start) => ExprSimplifyResult::Simplified(Expr::Literal(self.value(start, precision)?, None)),
            None => ExprSimplifyResult::Original(args),
        })
    }
    fn kernel(&self, _: &Args) -> Result<ArrayRef> {
        // Planning folds constant calls by running their kernel before `simplify` sees them:
        // a kernel reading the clock would give each call of a statement its own instant. An
        // error sends the folding on to `simplify` (DataFusion's own `now()` does the same).
        exec_err!("{}() is the statement's start time, set while it is planned", self.name())
    }
}

/// `timezone_hour(ts)` and `timezone_minute(ts)`: the hours and minutes of the zone's offset
/// from UTC at that instant (0 for a timestamp without a zone, a UTC time).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ZoneOffset {
    minutes: bool,
}

impl Function for ZoneOffset {
    fn name(&self) -> &'static str {
        if self.minutes { "timezone_minute" } else { "timezone_hour" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![timestamp(self.name(), &t[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let values = args.column(0)?;
        let zone = match values.data_type() {
            DataType::Timestamp(_, Some(z)) => Tz::from_str(z).ok(),
            _ => None,
        };
        let nanos = cast(&values, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
        let nanos = nanos.as_primitive::<TimestampNanosecondType>();
        ints(nanos.iter().map(|v| {
            Ok(v.map(|v| {
                let seconds = match &zone {
                    Some(tz) => tz
                        .offset_from_utc_datetime(&chrono::DateTime::from_timestamp_nanos(v).naive_utc())
                        .fix()
                        .local_minus_utc(),
                    None => 0,
                } as i64;
                if self.minutes { seconds / 60 % 60 } else { seconds / 3600 }
            }))
        }))
    }
}

/// `CAST(ts AS TIMESTAMP)` of a timestamp with a time zone: its local time there, as Trino
/// casts it (Arrow's cast keeps the UTC time).
#[derive(Debug)]
pub struct LocalTimes;

impl AnalyzerRule for LocalTimes {
    fn name(&self) -> &str {
        "athena_local_times"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let local = Arc::new(udf(LocalTime));
        super::shared::rewrite_expressions(plan, |e, schema| {
            let Some((inner, field, _)) = super::shared::cast_of(&e) else { return Ok(Transformed::no(e)) };
            let target = field.data_type();
            let zoned = matches!(inner.get_type(schema)?, DataType::Timestamp(_, Some(_)));
            if !zoned || !matches!(target, DataType::Timestamp(_, None)) {
                return Ok(Transformed::no(e));
            }
            let call = Expr::ScalarFunction(ScalarFunction::new_udf(local.clone(), vec![inner.clone()]));
            Ok(Transformed::yes(call.cast_to(target, schema)?))
        })
    }
}

/// `athena_local_time(ts)`: a timestamp with a time zone as its local time, without the zone.
#[derive(Debug, PartialEq, Eq, Hash)]
struct LocalTime;

impl Function for LocalTime {
    fn name(&self) -> &'static str {
        "athena_local_time"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        match &t[0] {
            DataType::Timestamp(_, Some(_)) => Ok(t.to_vec()),
            other => plan_err!("{} expects a timestamp with a time zone, got {other}", self.name()),
        }
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        match &t[0] {
            DataType::Timestamp(unit, _) => Ok(DataType::Timestamp(*unit, None)),
            other => plan_err!("{} expects a timestamp, got {other}", self.name()),
        }
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let values = args.column(0)?;
        let DataType::Timestamp(unit, Some(z)) = values.data_type().clone() else {
            return exec_err!("{} expects a timestamp with a time zone", self.name());
        };
        let tz = Tz::from_str(&z).map_err(|e| datafusion::common::DataFusionError::ArrowError(Box::new(e), None))?;
        let nanos = cast(&values, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
        let local: PrimitiveArray<TimestampNanosecondType> =
            nanos.as_primitive::<TimestampNanosecondType>().unary(|v| {
                let utc = chrono::DateTime::from_timestamp_nanos(v).naive_utc();
                v + tz.offset_from_utc_datetime(&utc).fix().local_minus_utc() as i64 * 1_000_000_000
            });
        Ok(cast(&local, &DataType::Timestamp(unit, None))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_reads_dates_times_and_offsets() {
        let (nanos, zone) = iso8601("2020-05-11T11:15:05.055+01:00").unwrap();
        assert_eq!((nanos, zone.as_ref()), (1_589_192_105_055_000_000, "+01:00"));
        assert_eq!(iso8601("2020-05-11").unwrap(), (1_589_155_200_000_000_000, SESSION.into()));
        assert_eq!(iso8601("2020-05-11T11:15Z").unwrap().0, 1_589_195_700_000_000_000);
        assert_eq!(iso8601("2020-05-11T11:15:05-0330").unwrap().1.as_ref(), "-03:30");
        assert!(iso8601("2020-05-11 11:15").is_err());
    }

    #[test]
    fn zones_are_named_as_trino_names_them() {
        assert_eq!(zone("+00:00").unwrap().as_ref(), "UTC");
        assert_eq!(zone("America/Sao_Paulo").unwrap().as_ref(), "America/Sao_Paulo");
        assert!(zone("Mars/Olympus").is_err());
        let t = local(1_588_336_496_000_000_000, "America/Sao_Paulo").unwrap();
        assert_eq!(t.to_string(), "2020-05-01 09:34:56");
    }
}
