//! Trino's date and time functions, with Trino's (Joda-Time's) arithmetic: month
//! differences count whole months the way `date_diff` does in Athena, adding a month to
//! January 31 gives the last day of February, ISO weeks start on Monday.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int64Array, StringArray, StringBuilder, Time64NanosecondArray,
    TimestampMicrosecondArray, TimestampNanosecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Date32Type, Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampNanosecondType,
};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, Timelike};
use datafusion::common::{Result, exec_datafusion_err, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;

use super::function::{Args, Function, udf};
use super::pattern;
use super::shared::{arity, bigint, varchar};
use super::time::is_time;

/// A unit of `date_diff`, `date_add` and `date_trunc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    fn parse(text: &str, of: &DataType) -> Result<Unit> {
        let unit = match text.to_ascii_lowercase().as_str() {
            "millisecond" => Unit::Millisecond,
            "second" => Unit::Second,
            "minute" => Unit::Minute,
            "hour" => Unit::Hour,
            "day" => Unit::Day,
            "week" => Unit::Week,
            "month" => Unit::Month,
            "quarter" => Unit::Quarter,
            "year" => Unit::Year,
            _ => return exec_err!("'{text}' is not a valid time unit"),
        };
        if *of == DataType::Date32 && unit < Unit::Day {
            return exec_err!("'{text}' is not a valid DATE field");
        }
        if is_time(of) && unit > Unit::Hour {
            return exec_err!("'{text}' is not a valid TIME field");
        }
        Ok(unit)
    }
}

/// Each row's unit, parsed again only when the text changes (it is usually a constant).
struct Units<'a> {
    text: &'a StringArray,
    of: &'a DataType,
    last: Option<(&'a str, Unit)>,
}

impl<'a> Units<'a> {
    fn new(array: &'a ArrayRef, of: &'a DataType) -> Result<Self> {
        Ok(Units { text: strings(array)?, of, last: None })
    }

    fn at(&mut self, i: usize) -> Result<Option<Unit>> {
        if self.text.is_null(i) {
            return Ok(None);
        }
        let text = self.text.value(i);
        match self.last {
            Some((last, unit)) if last == text => Ok(Some(unit)),
            _ => {
                let unit = Unit::parse(text, self.of)?;
                self.last = Some((text, unit));
                Ok(Some(unit))
            }
        }
    }
}

/// Days since 1970-01-01 as a date, and back.
pub fn from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
}

pub fn to_days(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 719_163
}

impl PartialOrd for Unit {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some((*self as u8).cmp(&(*other as u8)))
    }
}

/// A field `year`, `month`, ... read from a date or a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    DayOfWeek,
    DayOfYear,
    Hour,
    Minute,
    Second,
    Millisecond,
    YearOfWeek,
}

/// The date or timestamp values of an array, as naive date-times (dates at midnight; a
/// timestamp with a time zone as its local time there, as Trino reads its fields).
fn datetimes(array: &ArrayRef) -> Result<Vec<Option<NaiveDateTime>>> {
    if let Some(days) = array.as_primitive_opt::<Date32Type>() {
        // Dates straight from their day numbers, not through a cast to microseconds.
        return Ok(days.iter().map(|d| d.and_then(from_days).map(midnight)).collect());
    }
    if is_time(array.data_type()) {
        // A time of day: on 1970-01-01, which `temporal_array` drops again.
        let nanos = cast(array, &DataType::Time64(TimeUnit::Nanosecond))?;
        return Ok(nanos.as_primitive::<Time64NanosecondType>().iter().map(|v| v.map(time_of_day)).collect());
    }
    let zone = match array.data_type() {
        DataType::Timestamp(_, Some(z)) => Some(z.parse::<arrow::array::timezone::Tz>()?),
        _ => None,
    };
    let local = |d: NaiveDateTime| match &zone {
        Some(tz) => chrono::TimeZone::from_utc_datetime(tz, &d).naive_local(),
        None => d,
    };
    if let DataType::Timestamp(TimeUnit::Nanosecond, _) = array.data_type() {
        // A timestamp(7..9) keeps its nanoseconds (through microseconds they were cut).
        let nanos = cast(array, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
        return Ok(nanos
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .map(|v| v.map(DateTime::from_timestamp_nanos).map(|d| local(d.naive_utc())))
            .collect());
    }
    let micros = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    Ok(micros
        .as_primitive::<TimestampMicrosecondType>()
        .iter()
        .map(|v| v.and_then(DateTime::from_timestamp_micros).map(|d| local(d.naive_utc())))
        .collect())
}

/// Nanoseconds since midnight as that time on 1970-01-01.
fn time_of_day(nanos: i64) -> NaiveDateTime {
    midnight(NaiveDate::default()) + Duration::nanoseconds(nanos)
}

/// Naive date-times back into an array of type `like` (a date, a timestamp, or a time: its
/// time of day, so adding 23 hours to 03:00 wraps to 02:00 as Trino's does).
fn temporal_array(values: impl IntoIterator<Item = Option<NaiveDateTime>>, like: &DataType) -> Result<ArrayRef> {
    if is_time(like) {
        let nanos: Time64NanosecondArray = values
            .into_iter()
            .map(|v| v.map(|d| i64::from(d.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(d.nanosecond())))
            .collect();
        return Ok(cast(&nanos, like)?);
    }
    if let DataType::Timestamp(TimeUnit::Nanosecond, _) = like {
        let nanos = values.into_iter().map(|v| {
            v.map(|d| {
                d.and_utc()
                    .timestamp_nanos_opt()
                    .ok_or_else(|| exec_datafusion_err!("{d} is out of a timestamp(9)'s range"))
            })
            .transpose()
        });
        let nanos: TimestampNanosecondArray = nanos.collect::<Result<_>>()?;
        return Ok(cast(&nanos, like)?);
    }
    let micros: TimestampMicrosecondArray =
        values.into_iter().map(|v| v.map(|d| d.and_utc().timestamp_micros())).collect();
    Ok(cast(&micros, like)?)
}

/// The strings of a (Utf8) argument.
fn strings(array: &ArrayRef) -> Result<&StringArray> {
    array.as_string_opt::<i32>().ok_or_else(|| exec_datafusion_err!("expected a varchar, got {}", array.data_type()))
}

/// Whole months from `a` to `b`, as Joda-Time counts them: from January 31 to the last day of
/// February is one month.
fn months_between(a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    if b < a {
        return -months_between(b, a);
    }
    let mut months = i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month());
    let mut a_day = a.day();
    if b.day() == last_day(b.date()).day() && a_day > b.day() {
        a_day = b.day();
    }
    if (b.day(), b.time()) < (a_day, a.time()) {
        months -= 1;
    }
    months
}

fn last_day(d: NaiveDate) -> NaiveDate {
    super::shared::last_day(d).expect("a month within the calendar")
}

fn diff(unit: Unit, a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    let d = b - a;
    match unit {
        Unit::Millisecond => d.num_milliseconds(),
        Unit::Second => d.num_seconds(),
        Unit::Minute => d.num_minutes(),
        Unit::Hour => d.num_hours(),
        Unit::Day => d.num_days(),
        Unit::Week => d.num_weeks(),
        Unit::Month => months_between(a, b),
        Unit::Quarter => months_between(a, b) / 3,
        Unit::Year => months_between(a, b) / 12,
    }
}

fn add(unit: Unit, n: i64, x: NaiveDateTime) -> Option<NaiveDateTime> {
    let months = |m: i64| {
        let m32 = u32::try_from(m.unsigned_abs()).ok()?;
        if m >= 0 { x.checked_add_months(Months::new(m32)) } else { x.checked_sub_months(Months::new(m32)) }
    };
    match unit {
        Unit::Millisecond => x.checked_add_signed(Duration::try_milliseconds(n)?),
        Unit::Second => x.checked_add_signed(Duration::try_seconds(n)?),
        Unit::Minute => x.checked_add_signed(Duration::try_minutes(n)?),
        Unit::Hour => x.checked_add_signed(Duration::try_hours(n)?),
        Unit::Day => x.checked_add_signed(Duration::try_days(n)?),
        Unit::Week => x.checked_add_signed(Duration::try_weeks(n)?),
        Unit::Month => months(n),
        Unit::Quarter => months(n.checked_mul(3)?),
        Unit::Year => months(n.checked_mul(12)?),
    }
}

fn trunc(unit: Unit, x: NaiveDateTime) -> NaiveDateTime {
    let date = x.date();
    match unit {
        Unit::Millisecond => x.with_nanosecond(x.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(x),
        Unit::Second => x.with_nanosecond(0).unwrap_or(x),
        Unit::Minute => midnight(date) + Duration::minutes(i64::from(x.hour() * 60 + x.minute())),
        Unit::Hour => midnight(date) + Duration::hours(i64::from(x.hour())),
        Unit::Day => midnight(date),
        Unit::Week => midnight(date - Duration::days(i64::from(date.weekday().num_days_from_monday()))),
        Unit::Month => midnight(date.with_day(1).expect("day 1")),
        Unit::Quarter => midnight(
            NaiveDate::from_ymd_opt(date.year(), (date.month() - 1) / 3 * 3 + 1, 1).expect("a quarter's start"),
        ),
        Unit::Year => midnight(NaiveDate::from_ymd_opt(date.year(), 1, 1).expect("January 1")),
    }
}

/// `date_diff(unit, a, b)`: whole units from `a` to `b`.
fn date_diff(args: &[ArrayRef]) -> Result<ArrayRef> {
    let of = args[1].data_type();
    let mut units = Units::new(&args[0], of)?;
    if let (Some(a), Some(b)) = (args[1].as_primitive_opt::<Date32Type>(), args[2].as_primitive_opt::<Date32Type>()) {
        // Days and weeks between dates straight from their day numbers.
        let mut out = Vec::with_capacity(a.len());
        for i in 0..a.len() {
            out.push(match (units.at(i)?, a.is_valid(i) && b.is_valid(i)) {
                (Some(Unit::Day), true) => Some(i64::from(b.value(i)) - i64::from(a.value(i))),
                (Some(Unit::Week), true) => Some((i64::from(b.value(i)) - i64::from(a.value(i))) / 7),
                (Some(unit), true) => match (from_days(a.value(i)), from_days(b.value(i))) {
                    (Some(x), Some(y)) => Some(diff(unit, midnight(x), midnight(y))),
                    _ => None,
                },
                _ => None,
            });
        }
        return Ok(Arc::new(Int64Array::from(out)));
    }
    let (a, b) = (datetimes(&args[1])?, datetimes(&args[2])?);
    let mut out = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        out.push(match (units.at(i)?, a[i], b[i]) {
            (Some(unit), Some(a), Some(b)) => Some(diff(unit, a, b)),
            _ => None,
        });
    }
    Ok(Arc::new(Int64Array::from(out)))
}

/// `date_add(unit, n, x)`: `x` plus `n` units, of the type of `x`.
fn date_add(args: &[ArrayRef]) -> Result<ArrayRef> {
    let of = args[2].data_type();
    let mut units = Units::new(&args[0], of)?;
    let n = args[1].as_primitive::<arrow::datatypes::Int64Type>();
    let out_of_range = |i: usize| {
        let unit = args[0].as_string_opt::<i32>().map_or("", |u| u.value(i));
        exec_datafusion_err!("date_add: {} {unit} is out of range", n.value(i))
    };
    if of == &DataType::Date32 {
        // Dates stay day numbers: no trip through timestamps.
        let days = args[2].as_primitive::<Date32Type>();
        let mut out = Vec::with_capacity(days.len());
        for i in 0..days.len() {
            out.push(match (units.at(i)?, n.is_valid(i) && days.is_valid(i)) {
                (Some(unit), true) => {
                    let (d, k) = (days.value(i), n.value(i));
                    let moved = match unit {
                        Unit::Day => i32::try_from(k).ok().and_then(|k| d.checked_add(k)),
                        Unit::Week => {
                            k.checked_mul(7).and_then(|k| i32::try_from(k).ok()).and_then(|k| d.checked_add(k))
                        }
                        _ => from_days(d).and_then(|x| add(unit, k, midnight(x))).map(|x| to_days(x.date())),
                    };
                    Some(moved.ok_or_else(|| out_of_range(i))?)
                }
                _ => None,
            });
        }
        return Ok(Arc::new(Date32Array::from(out)));
    }
    let x = datetimes(&args[2])?;
    let mut out = Vec::with_capacity(x.len());
    for (i, x) in x.into_iter().enumerate() {
        out.push(match (units.at(i)?, n.is_valid(i), x) {
            (Some(unit), true, Some(x)) => Some(add(unit, n.value(i), x).ok_or_else(|| out_of_range(i))?),
            _ => None,
        });
    }
    temporal_array(out, of)
}

/// `date_trunc(unit, x)`: `x` truncated to the unit, of the type of `x`.
fn date_trunc(args: &[ArrayRef]) -> Result<ArrayRef> {
    let of = args[1].data_type();
    let mut units = Units::new(&args[0], of)?;
    if of == &DataType::Date32 {
        let days = args[1].as_primitive::<Date32Type>();
        let mut out = Vec::with_capacity(days.len());
        for i in 0..days.len() {
            out.push(match (units.at(i)?, days.is_valid(i)) {
                (Some(unit), true) => {
                    let d = days.value(i);
                    match unit {
                        Unit::Day => Some(d),
                        // 1970-01-01 was a Thursday: three days after a Monday.
                        Unit::Week => Some(d - (d + 3).rem_euclid(7)),
                        _ => from_days(d).map(|x| to_days(trunc(unit, midnight(x)).date())),
                    }
                }
                _ => None,
            });
        }
        return Ok(Arc::new(Date32Array::from(out)));
    }
    let x = datetimes(&args[1])?;
    let mut out = Vec::with_capacity(x.len());
    for (i, x) in x.into_iter().enumerate() {
        out.push(match (units.at(i)?, x) {
            (Some(unit), Some(x)) => Some(trunc(unit, x)),
            _ => None,
        });
    }
    temporal_array(out, of)
}

/// `year(x)`, `month(x)`, `day_of_week(x)`, ...: a field of a date or a timestamp.
fn field(field: Field, args: &[ArrayRef]) -> Result<ArrayRef> {
    if let DataType::Interval(_) = args[0].data_type() {
        return interval_field(field, &args[0]);
    }
    if args[0].data_type() == &DataType::Date32
        && matches!(field, Field::Hour | Field::Minute | Field::Second | Field::Millisecond)
    {
        return exec_err!("{field:?} is not a field of a DATE");
    }
    let values = datetimes(&args[0])?;
    let read = |d: NaiveDateTime| -> i64 {
        i64::from(match field {
            Field::Year => d.year(),
            Field::Quarter => (d.month() as i32 - 1) / 3 + 1,
            Field::Month => d.month() as i32,
            Field::Week => d.iso_week().week() as i32,
            Field::Day => d.day() as i32,
            Field::DayOfWeek => d.weekday().number_from_monday() as i32,
            Field::DayOfYear => d.ordinal() as i32,
            Field::Hour => d.hour() as i32,
            Field::Minute => d.minute() as i32,
            Field::Second => d.second() as i32,
            Field::Millisecond => (d.nanosecond() / 1_000_000) as i32,
            Field::YearOfWeek => d.iso_week().year(),
        })
    };
    Ok(Arc::new(values.into_iter().map(|v| v.map(read)).collect::<Int64Array>()))
}

/// `year(i)`, `month(i)` of an interval year to month; `day(i)` .. `millisecond(i)` of an
/// interval day to second.
fn interval_field(field: Field, array: &ArrayRef) -> Result<ArrayRef> {
    let intervals = cast(array, &DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano))?;
    let intervals = intervals.as_primitive::<arrow::datatypes::IntervalMonthDayNanoType>();
    let mut out = Vec::with_capacity(intervals.len());
    for v in intervals.iter() {
        let Some(v) = v else {
            out.push(None);
            continue;
        };
        let ms = v.nanoseconds / 1_000_000;
        out.push(Some(match field {
            Field::Year => v.months as i64 / 12,
            Field::Month => v.months as i64 % 12,
            Field::Day => v.days as i64 + ms / 86_400_000,
            Field::Hour => ms / 3_600_000 % 24,
            Field::Minute => ms / 60_000 % 60,
            Field::Second => ms / 1000 % 60,
            Field::Millisecond => ms % 1000,
            other => return exec_err!("{other:?} is not a field of an interval"),
        }));
    }
    Ok(Arc::new(Int64Array::from(out)))
}

/// `to_unixtime(x)`: seconds since 1970 as a double.
fn to_unixtime(args: &[ArrayRef]) -> Result<ArrayRef> {
    let micros: Vec<Option<i64>> = match args[0].data_type() {
        // A timestamp with a time zone is an instant: its seconds, not its local time's.
        DataType::Timestamp(_, Some(_)) => {
            let instants = cast(&args[0], &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            instants.as_primitive::<TimestampMicrosecondType>().iter().collect()
        }
        _ => datetimes(&args[0])?.into_iter().map(|v| v.map(|d| d.and_utc().timestamp_micros())).collect(),
    };
    Ok(Arc::new(micros.into_iter().map(|v| v.map(|m| m as f64 / 1e6)).collect::<arrow::array::Float64Array>()))
}

/// `last_day_of_month(x)`: a date.
fn last_day_of_month(args: &[ArrayRef]) -> Result<ArrayRef> {
    let values = datetimes(&args[0])?;
    temporal_array(values.into_iter().map(|v| v.map(|d| midnight(last_day(d.date())))), &DataType::Date32)
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).expect("midnight exists")
}

/// `to_iso8601(x)`: `2022-02-04`, or `2022-02-04T10:15:00.000` for a timestamp, with the
/// fraction digits of its precision.
fn to_iso8601(args: &[ArrayRef]) -> Result<ArrayRef> {
    let pattern = match args[0].data_type() {
        DataType::Date32 => "%Y-%m-%d",
        DataType::Timestamp(TimeUnit::Second, _) => "%Y-%m-%dT%H:%M:%S",
        DataType::Timestamp(TimeUnit::Microsecond, _) => "%Y-%m-%dT%H:%M:%S%.6f",
        DataType::Timestamp(TimeUnit::Nanosecond, _) => "%Y-%m-%dT%H:%M:%S%.9f",
        _ => "%Y-%m-%dT%H:%M:%S%.3f",
    };
    let values = datetimes(&args[0])?;
    let DataType::Timestamp(_, Some(_)) = args[0].data_type() else {
        let text: StringArray = values.into_iter().map(|v| v.map(|d| d.format(pattern).to_string())).collect();
        return Ok(Arc::new(text));
    };
    // With a zone: the local time and its offset from UTC then (`Z` for none).
    let micros = cast(&args[0], &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let instants = micros.as_primitive::<TimestampMicrosecondType>().iter();
    let text: StringArray = values
        .into_iter()
        .zip(instants)
        .map(|(local, utc)| {
            let (local, utc) = (local?, DateTime::from_timestamp_micros(utc?)?.naive_utc());
            let offset = (local - utc).num_minutes();
            let zone = if offset == 0 { "Z".to_string() } else { super::zone::offset(offset) };
            Some(format!("{}{zone}", local.format(pattern)))
        })
        .collect();
    Ok(Arc::new(text))
}

/// `from_iso8601_date(s)`: a calendar date (`2020-05-11`), a week date (`2020-W10`,
/// `2020-W10-3`) or an ordinal date (`2020-123`). With `lenient`, what does not parse is NULL.
fn from_iso8601_date(args: &[ArrayRef], lenient: bool) -> Result<ArrayRef> {
    let text = strings(&args[0])?;
    let mut out = Vec::with_capacity(text.len());
    for s in text.iter() {
        out.push(match s.map(|s| (s, iso8601_date(s))) {
            None => None,
            Some((_, Some(d))) => Some(midnight(d)),
            Some((_, None)) if lenient => None,
            Some((s, None)) => return exec_err!("Invalid format: \"{s}\" is not an ISO 8601 date"),
        });
    }
    temporal_array(out, &DataType::Date32)
}

fn iso8601_date(s: &str) -> Option<NaiveDate> {
    let num = |t: &str| -> Option<u32> { t.bytes().all(|b| b.is_ascii_digit()).then(|| t.parse().ok()).flatten() };
    let parts: Vec<&str> = s.split('-').collect();
    let year = i32::try_from(num(parts.first().filter(|y| y.len() == 4)?)?).ok()?;
    match parts.as_slice() {
        [_] => NaiveDate::from_ymd_opt(year, 1, 1),
        [_, w] if w.starts_with('W') => NaiveDate::from_isoywd_opt(year, num(&w[1..])?, chrono::Weekday::Mon),
        [_, w, d] if w.starts_with('W') => {
            let day = num(d).filter(|d| (1..=7).contains(d))?;
            NaiveDate::from_isoywd_opt(year, num(&w[1..])?, chrono::Weekday::try_from(day as u8 - 1).ok()?)
        }
        [_, o] if o.len() == 3 => NaiveDate::from_yo_opt(year, num(o)?),
        [_, m] if m.len() == 2 => NaiveDate::from_ymd_opt(year, num(m)?, 1),
        [_, m, d] if m.len() == 2 && d.len() == 2 => NaiveDate::from_ymd_opt(year, num(m)?, num(d)?),
        _ => None,
    }
}

/// A named zone's abbreviation at `utc` (`PDT`, `JST`; the tz database's, which is `-03` where
/// Java may say `BRT`); UTC's is `UTC`, an offset's none.
pub(super) fn short_name(tz: &chrono_tz::Tz, utc: &NaiveDateTime) -> Option<String> {
    use chrono_tz::OffsetName;
    Some(chrono::TimeZone::offset_from_utc_datetime(tz, utc).abbreviation()?.to_string())
}

/// `date_format(x, pattern)` (MySQL patterns) or `format_datetime(x, pattern)` (Joda, whose
/// zone letters read the value's zone).
fn format(args: &[ArrayRef], joda: bool) -> Result<ArrayRef> {
    let values = datetimes(&args[0])?;
    let patterns = strings(&args[1])?;
    let zoned = match args[0].data_type() {
        DataType::Timestamp(_, Some(z)) if joda => {
            let micros = cast(&args[0], &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            // The zone read once a batch: its abbreviation's table when it is a named one.
            let id = super::zone::zone(z)?;
            let named = id.parse::<chrono_tz::Tz>().ok();
            Some((z.parse::<arrow::array::timezone::Tz>()?, id, named, micros))
        }
        _ => None,
    };
    let mut out = StringBuilder::with_capacity(values.len(), values.len() * 10);
    let mut text = String::new();
    for (i, v) in values.into_iter().enumerate() {
        match (v, patterns.is_valid(i)) {
            (Some(d), true) => {
                let p = patterns.value(i);
                text.clear();
                let written = match &zoned {
                    _ if !joda => pattern::mysql_format(&d, p, &mut text),
                    None => pattern::joda_format(&d, &pattern::UTC, p, &mut text),
                    Some((tz, id, named, micros)) => {
                        let utc = micros.as_primitive::<TimestampMicrosecondType>().value(i);
                        let utc = DateTime::from_timestamp_micros(utc).unwrap_or_default().naive_utc();
                        let at = chrono::TimeZone::from_utc_datetime(tz, &utc);
                        let short = named
                            .as_ref()
                            .and_then(|tz| short_name(tz, &utc))
                            .unwrap_or_else(|| at.format("%:z").to_string());
                        let offset = (d - utc).num_seconds() as i32;
                        pattern::joda_format(&d, &pattern::JodaZone { id, offset, short: &short }, p, &mut text)
                    }
                };
                written.map_err(|e| exec_datafusion_err!("{e}"))?;
                out.append_value(&text);
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `date_parse(s, pattern)`: a timestamp(3). With `lenient`, what does not parse is NULL.
fn date_parse(args: &[ArrayRef], lenient: bool) -> Result<ArrayRef> {
    let text = strings(&args[0])?;
    let patterns = strings(&args[1])?;
    let mut out = Vec::with_capacity(text.len());
    for i in 0..text.len() {
        if text.is_null(i) || patterns.is_null(i) {
            out.push(None);
            continue;
        }
        match pattern::mysql_parse(text.value(i), patterns.value(i)) {
            Ok(d) => out.push(Some(d)),
            Err(_) if lenient => out.push(None),
            Err(e) => return exec_err!("{e}"),
        }
    }
    temporal_array(out, &DataType::Timestamp(TimeUnit::Millisecond, None))
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    let mut out = vec![
        udf(DateDiff),
        udf(DateAdd),
        udf(DateTrunc),
        udf(LastDayOfMonth),
        udf(ToIso8601),
        udf(ToUnixtime),
        udf(Format { joda: false }),
        udf(Format { joda: true }),
        udf(DateParse { lenient: false }),
        udf(FromIso8601Date { lenient: false }),
    ];
    use Field::*;
    let fields = [Year, Quarter, Month, Week, Day, DayOfWeek, DayOfYear, Hour, Minute, Second, Millisecond, YearOfWeek];
    out.extend(fields.map(udf));
    out
}

/// `temporal`'s types or a time (`date_add`, `date_diff` and `date_trunc` take times too).
fn temporal_or_time(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Time32(_) | DataType::Time64(_) => Ok(t.clone()),
        _ => temporal(name, t),
    }
}

/// A date or timestamp argument (a NULL as a date).
fn temporal(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Date32 | DataType::Timestamp(_, _) => Ok(t.clone()),
        DataType::Date64 | DataType::Null => Ok(DataType::Date32),
        other => plan_err!("{name} expects a date or a timestamp, got {other}"),
    }
}

/// Declares a date function whose kernel is one of this module's functions of arrays.
macro_rules! date_function {
    ($(#[$doc:meta])* $type:ident, $name:literal, |$t:ident| $coerce:expr, |$r:ident| $ret:expr, |$a:ident| $kernel:expr) => {
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq, Hash)]
        struct $type;

        impl Function for $type {
            fn name(&self) -> &'static str {
                $name
            }
            fn coerce(&self, $t: &[DataType]) -> Result<Vec<DataType>> {
                $coerce
            }
            fn return_type(&self, $r: &[DataType]) -> Result<DataType> {
                Ok($ret)
            }
            fn kernel(&self, args: &Args) -> Result<ArrayRef> {
                let $a = args.columns()?;
                $kernel
            }
        }
    };
}

date_function!(
    /// `date_diff(unit, a, b)`: a date against a timestamp compares as timestamps.
    DateDiff, "date_diff",
    |t| {
        arity("date_diff", t, 3..=3)?;
        let (a, b) = (temporal_or_time("date_diff", &t[1])?, temporal_or_time("date_diff", &t[2])?);
        let common = match (a, b) {
            (a, b) if a == b => a,
            // Times of two precisions: nanoseconds hold both.
            (a, b) if is_time(&a) && is_time(&b) => DataType::Time64(TimeUnit::Nanosecond),
            _ => DataType::Timestamp(TimeUnit::Microsecond, None),
        };
        Ok(vec![varchar("date_diff", &t[0])?, common.clone(), common])
    },
    |_t| DataType::Int64,
    |a| date_diff(&a)
);
date_function!(
    /// `date_add(unit, n, x)`.
    DateAdd, "date_add",
    |t| {
        arity("date_add", t, 3..=3)?;
        Ok(vec![varchar("date_add", &t[0])?, bigint("date_add", &t[1])?, temporal_or_time("date_add", &t[2])?])
    },
    |t| t[2].clone(),
    |a| date_add(&a)
);
date_function!(
    /// `date_trunc(unit, x)`.
    DateTrunc, "date_trunc",
    |t| {
        arity("date_trunc", t, 2..=2)?;
        Ok(vec![varchar("date_trunc", &t[0])?, temporal_or_time("date_trunc", &t[1])?])
    },
    |t| t[1].clone(),
    |a| date_trunc(&a)
);
date_function!(
    /// `last_day_of_month(x)`.
    LastDayOfMonth, "last_day_of_month",
    |t| {
        arity("last_day_of_month", t, 1..=1)?;
        Ok(vec![temporal("last_day_of_month", &t[0])?])
    },
    |_t| DataType::Date32,
    |a| last_day_of_month(&a)
);
date_function!(
    /// `to_iso8601(x)`.
    ToIso8601, "to_iso8601",
    |t| {
        arity("to_iso8601", t, 1..=1)?;
        Ok(vec![temporal("to_iso8601", &t[0])?])
    },
    |_t| DataType::Utf8,
    |a| to_iso8601(&a)
);
date_function!(
    /// `to_unixtime(x)`: seconds since the epoch, a double.
    ToUnixtime, "to_unixtime",
    |t| {
        arity("to_unixtime", t, 1..=1)?;
        Ok(vec![temporal("to_unixtime", &t[0])?])
    },
    |_t| DataType::Float64,
    |a| to_unixtime(&a)
);

/// `date_format(x, mysql_pattern)` and `format_datetime(x, joda_pattern)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Format {
    joda: bool,
}

impl Function for Format {
    fn name(&self) -> &'static str {
        if self.joda { "format_datetime" } else { "date_format" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(vec![temporal(self.name(), &t[0])?, varchar(self.name(), &t[1])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        format(&args.columns()?, self.joda)
    }
}

/// `date_parse(text, mysql_pattern)`; `lenient` (inside `try`): NULL for text that does not parse.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DateParse {
    pub lenient: bool,
}

impl Function for DateParse {
    fn name(&self) -> &'static str {
        "date_parse"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("date_parse", t, 2..=2)?;
        Ok(vec![varchar("date_parse", &t[0])?, varchar("date_parse", &t[1])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Millisecond, None))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        date_parse(&args.columns()?, self.lenient)
    }
}

/// `from_iso8601_date(text)`; `lenient` as `DateParse`'s.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FromIso8601Date {
    pub lenient: bool,
}

impl Function for FromIso8601Date {
    fn name(&self) -> &'static str {
        "from_iso8601_date"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("from_iso8601_date", t, 1..=1)?;
        Ok(vec![varchar("from_iso8601_date", &t[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        from_iso8601_date(&args.columns()?, self.lenient)
    }
}

/// `year(x)`, `month(x)`, ...: a field of a date or timestamp (or of an interval).
impl Function for Field {
    fn name(&self) -> &'static str {
        match self {
            Field::Year => "year",
            Field::Quarter => "quarter",
            Field::Month => "month",
            Field::Week => "week",
            Field::Day => "day",
            Field::DayOfWeek => "day_of_week",
            Field::DayOfYear => "day_of_year",
            Field::Hour => "hour",
            Field::Minute => "minute",
            Field::Second => "second",
            Field::Millisecond => "millisecond",
            Field::YearOfWeek => "year_of_week",
        }
    }
    fn aliases(&self) -> &'static [&'static str] {
        match self {
            Field::Week => &["week_of_year"],
            Field::Day => &["day_of_month"],
            Field::DayOfWeek => &["dow"],
            Field::DayOfYear => &["doy"],
            Field::YearOfWeek => &["yow"],
            _ => &[],
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        let clock = matches!(self, Field::Hour | Field::Minute | Field::Second | Field::Millisecond);
        match &t[0] {
            DataType::Interval(_) => Ok(t.to_vec()),
            DataType::Time32(_) | DataType::Time64(_) if clock => Ok(t.to_vec()),
            other => Ok(vec![temporal(self.name(), other)?]),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let mut columns = args.columns()?;
        // A time of day: the fields of that time on 1970-01-01.
        if is_time(columns[0].data_type()) {
            let nanos = arrow::compute::cast(&columns[0], &DataType::Time64(TimeUnit::Nanosecond))?;
            let nanos = arrow::compute::cast(&nanos, &DataType::Int64)?;
            columns[0] = arrow::compute::cast(&nanos, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
        }
        field(*self, &columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(&format!("{s} 00:00:00"), "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn month_differences_follow_joda() {
        assert_eq!(months_between(d("2022-01-31"), d("2022-02-28")), 1);
        assert_eq!(months_between(d("2022-01-31"), d("2022-02-27")), 0);
        assert_eq!(months_between(d("2022-03-15"), d("2022-01-20")), -1);
        assert_eq!(months_between(d("2020-02-29"), d("2021-02-28")), 12);
        assert_eq!(diff(Unit::Year, d("2020-02-29"), d("2021-02-28")), 1);
        assert_eq!(diff(Unit::Quarter, d("2022-01-01"), d("2022-12-31")), 3);
        assert_eq!(add(Unit::Month, 1, d("2022-01-31")), Some(d("2022-02-28")));
        assert_eq!(add(Unit::Month, -1, d("2022-03-31")), Some(d("2022-02-28")));
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601_date("2020-05-11"), NaiveDate::from_ymd_opt(2020, 5, 11));
        assert_eq!(iso8601_date("2020-W10"), NaiveDate::from_ymd_opt(2020, 3, 2));
        assert_eq!(iso8601_date("2020-123"), NaiveDate::from_ymd_opt(2020, 5, 2));
        assert_eq!(iso8601_date("2020-W10-3"), NaiveDate::from_ymd_opt(2020, 3, 4));
        assert_eq!(iso8601_date("2020-5-11"), None);
        assert_eq!(iso8601_date("20200511"), None);
    }
}
