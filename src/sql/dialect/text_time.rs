//! Text cast to a timestamp or a date as Trino reads it: surrounding whitespace is ignored, months, days and the time's fields may have one digit (`2001-1-22 3:04`), and a
//! zone after a timestamp is dropped, its local time kept (`'2001-01-22 03:04:05 +07:09'` is
//! 03:04:05, where Arrow's cast moved it to UTC). A text that is not one is an error, or NULL
//! under `TRY_CAST`.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Date32Array, Int64Array};
use arrow::datatypes::{DataType, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

use super::function::{Args, Function, udf};
use super::shared::null_of;

/// The functions of this module.
pub fn functions() -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![udf(InvalidLiteral)]
}

/// `athena_invalid_literal(message)`: the failure of a literal whose text is none (`DATE
/// '2013-02-29'`, `INTERVAL '12X' DAY`), worded as Trino words a literal (`'2013-02-29' is not a
/// valid date literal`, `Invalid INTERVAL DAY value: 12X`), where a cast of the same text says
/// `Value cannot be cast to date`. Its argument is a constant, so the statement fails while it
/// is planned.
#[derive(Debug, PartialEq, Eq, Hash)]
struct InvalidLiteral;

impl Function for InvalidLiteral {
    fn name(&self) -> &'static str {
        "athena_invalid_literal"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 1..=1)?;
        Ok(vec![DataType::Utf8])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Null)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let message = args.column(0)?;
        exec_err!("{}", message.as_string::<i32>().value(0))
    }
}

/// Rewrites casts of text to a timestamp without a zone or to a date into [`FromText`].
#[derive(Debug)]
pub struct TextTimes;

impl AnalyzerRule for TextTimes {
    fn name(&self) -> &str {
        "athena_text_times"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        super::shared::rewrite_expressions(plan, |e, schema| {
            let Some((inner, target, try_)) = super::shared::cast_of(&e) else { return Ok(Transformed::no(e)) };
            let text = matches!(inner.get_type(schema)?, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8);
            let timely = matches!(target.data_type(), DataType::Timestamp(_, None) | DataType::Date32);
            if !text || !timely {
                return Ok(Transformed::no(e));
            }
            let like = null_of(target.data_type())?;
            let text = inner.clone().cast_to(&DataType::Utf8, schema)?;
            Ok(Transformed::yes(udf(FromText { try_ }).call(vec![text, like])))
        })
    }
}

/// Text read as the type of its second argument (a NULL of a timestamp or date type).
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromText {
    try_: bool,
}

impl Function for FromText {
    fn name(&self) -> &'static str {
        if self.try_ { "athena_try_text_time" } else { "athena_text_time" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 2..=2)?;
        Ok(vec![DataType::Utf8, t[1].clone()])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[1].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let text = args.column(0)?;
        let text = text.as_string::<i32>();
        let date = args.ret == &DataType::Date32;
        let step = match args.ret {
            DataType::Timestamp(unit, _) => nanos_per(unit),
            _ => 1,
        };
        let read = |s: &str| -> Result<Option<i64>> {
            let value = if date { parse_date(s).map(days) } else { parse_timestamp(s).and_then(|t| in_unit(t, step)) };
            match value {
                Some(v) => Ok(Some(v)),
                None if self.try_ => Ok(None),
                None if date => exec_err!("Value cannot be cast to date: {s}"),
                None => exec_err!("Value cannot be cast to timestamp: {s}"),
            }
        };
        let values = text.iter().map(|s| s.map(read).transpose().map(Option::flatten)).collect::<Result<Vec<_>>>()?;
        if date {
            let days: Date32Array = values.into_iter().map(|v| v.map(|d| d as i32)).collect();
            return Ok(Arc::new(days));
        }
        let counts: Int64Array = values.into_iter().collect();
        Ok(arrow::compute::cast(&counts, args.ret)?)
    }
}

fn nanos_per(unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

fn days(d: NaiveDate) -> i64 {
    i64::from((d - NaiveDate::default()).num_days() as i32)
}

/// A local time in the type's unit (`step` nanoseconds) since the epoch, rounded half up.
fn in_unit(t: NaiveDateTime, step: i64) -> Option<i64> {
    let t = t.and_utc();
    let per_second = 1_000_000_000 / step;
    let fraction = (i64::from(t.timestamp_subsec_nanos()) + step / 2) / step;
    t.timestamp().checked_mul(per_second)?.checked_add(fraction)
}

/// `yyyy-m-d` (a sign and more year digits allowed: `-2013-02-02` is 2013 BC's), whitespace
/// around it ignored (Java's: the control characters 0x1C to 0x1F too).
pub(super) fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c));
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut parts = unsigned.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let short = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    if y.len() < 4 || !y.bytes().all(|b| b.is_ascii_digit()) || !short(m) || !short(d) {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    NaiveDate::from_ymd_opt(if negative { -year } else { year }, m.parse().ok()?, d.parse().ok()?)
}

/// A date, then optionally ` h:m[:s[.fraction]]`, then optionally a zone (dropped), as Trino's
/// timestamp parser reads them; whitespace around it ignored.
pub(super) fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    let (date, rest) = text.split_once(' ').unwrap_or((text, ""));
    let date = parse_date(date)?;
    let rest = rest.trim_start();
    // The time, when the rest opens with one; what follows it is a zone.
    let (time, zone) = match rest.split_once(' ') {
        _ if rest.is_empty() => (None, ""),
        Some((time, zone)) if time.contains(':') => (Some(time), zone.trim()),
        None if rest.contains(':') && !rest.starts_with(['+', '-']) => (Some(rest), ""),
        _ => (None, rest),
    };
    if !zone.is_empty() && !is_zone(zone) {
        return None;
    }
    let time = match time {
        None => NaiveTime::MIN,
        Some(t) => parse_time(t)?,
    };
    Some(date.and_time(time))
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let (hms, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut fields = hms.splitn(3, ':');
    let (h, m, s) = (fields.next()?, fields.next()?, fields.next().unwrap_or("0"));
    let short = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    if !short(h) || !short(m) || !short(s) || (hms.ends_with(':')) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || (text.contains('.') && fraction.is_empty()) {
        return None;
    }
    let digits: String = fraction.chars().chain(std::iter::repeat('0')).take(9).collect();
    let nanos: u32 = digits.parse().ok()?;
    NaiveTime::from_hms_nano_opt(h.parse().ok()?, m.parse().ok()?, s.parse().ok()?, nanos)
}

/// A zone Trino names: an offset (`+07:09`, `-03`), `UTC`/`Z`, or a region of the tz database.
fn is_zone(zone: &str) -> bool {
    super::pattern::utc_offset(zone).is_some_and(|(_, rest)| rest.is_empty())
        || matches!(zone.to_ascii_uppercase().as_str(), "UTC" | "Z" | "GMT" | "UT")
        || zone.parse::<chrono_tz::Tz>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_as_trino_reads_them() {
        let at = |s: &str| parse_timestamp(s).map(|t| t.to_string());
        assert_eq!(at("2001-1-22 03:04:05.321 +07:09").as_deref(), Some("2001-01-22 03:04:05.321"));
        assert_eq!(at("2001-1-22 +07:09").as_deref(), Some("2001-01-22 00:00:00"));
        assert_eq!(at("\n\t 2001-1-22 3:4 Asia/Oral \t").as_deref(), Some("2001-01-22 03:04:00"));
        assert_eq!(at("2001-01-22T03:04:05"), None);
        assert_eq!(at("2001-01-22 03:04:05 Nowhere/Else"), None);
        assert_eq!(at("text"), None);
        assert_eq!(at("2001-01-22 03:04:05 +07:09x"), None);
        assert_eq!(parse_date(" 2001-1-2 ").map(|d| d.to_string()).as_deref(), Some("2001-01-02"));
        let millis = in_unit(parse_timestamp("2001-01-22 03:04:05.3215").unwrap_or_default(), 1_000_000);
        assert_eq!(millis.map(|n| n % 1_000), Some(322));
        assert!(in_unit(parse_timestamp("1500-01-01").unwrap_or_default(), 1_000).is_some());
    }
}
