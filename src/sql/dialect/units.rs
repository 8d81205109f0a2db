//! Trino's functions between quantities and their human spellings: `parse_data_size`
//! (`'2.3MB'` to bytes, powers of 1024, as a `decimal(38,0)`), `human_readable_seconds`
//! (`3762` to `1 hour, 2 minutes, 42 seconds`), and durations: `parse_duration` (`'3.81 d'`
//! to an interval) and `to_milliseconds` (an interval's length).

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Decimal128Array, IntervalDayTimeArray};
use arrow::datatypes::{DataType, Float64Type, IntervalDayTime, IntervalMonthDayNanoType, IntervalUnit, i256};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;

use super::function::{Args, Function, ints, strings, udf};
use super::shared::{arity, varchar};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![udf(ParseDataSize), udf(HumanReadableSeconds), udf(ParseDuration), udf(ToMilliseconds)]
}

/// `parse_data_size(text)`: a number and a unit (`B`, `kB`, `MB`, ... `YB`, each 1024 of the
/// one before), in bytes, the fraction of a byte dropped.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ParseDataSize;

impl Function for ParseDataSize {
    fn name(&self) -> &'static str {
        "parse_data_size"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![varchar(self.name(), &t[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, 0))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let out = column.as_string::<i32>().iter().map(|s| s.map(data_size).transpose()).collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Decimal128Array::from(out).with_precision_and_scale(38, 0)?))
    }
}

fn data_size(text: &str) -> Result<i128> {
    let invalid = || exec_err!("Invalid data size: '{text}'");
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let power = match unit {
        "B" => 0,
        "kB" => 1,
        "MB" => 2,
        "GB" => 3,
        "TB" => 4,
        "PB" => 5,
        "EB" => 6,
        "ZB" => 7,
        "YB" => 8,
        _ => return invalid(),
    };
    // Java's `BigDecimal` spelling: `1.` and `.5` are numbers, `.` and `1.2.3` are not.
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return invalid();
    }
    // Exact: digits × 1024^power / 10^fraction digits, truncated; wide enough to name the
    // bytes of a size out of range, as Trino's message does.
    let Some(digits) = i256::from_string(&format!("{whole}{fraction}")) else {
        return exec_err!("Value out of range: '{text}'");
    };
    let scaled = digits.checked_mul(i256::from_i128(1_i128 << (10 * power)));
    let divisor = i256::from_i128(10).checked_pow(fraction.len() as u32);
    let Some(bytes) = scaled.zip(divisor).and_then(|(b, d)| b.checked_div(d)) else {
        return exec_err!("Value out of range: '{text}'");
    };
    match bytes.to_i128() {
        Some(b) if b < 10_i128.pow(38) => Ok(b),
        _ => exec_err!("Value out of range: '{text}' ('{bytes}B')"),
    }
}

/// `human_readable_seconds(x)`: the seconds (rounded) in weeks, days, hours, minutes and
/// seconds, units of zero left out.
#[derive(Debug, PartialEq, Eq, Hash)]
struct HumanReadableSeconds;

impl Function for HumanReadableSeconds {
    fn name(&self) -> &'static str {
        "human_readable_seconds"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        if t[0].is_numeric() || t[0].is_null() {
            Ok(vec![DataType::Float64])
        } else {
            plan_err!("human_readable_seconds expects a double, got {}", t[0])
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        strings(column.as_primitive::<Float64Type>().iter().map(|x| x.map(human_readable_seconds).transpose()))
    }
}

fn human_readable_seconds(x: f64) -> Result<String> {
    if !x.is_finite() {
        return exec_err!("Invalid argument found: {x}");
    }
    // Java's Math.round: halves up.
    let mut left = (x.abs() + 0.5).floor() as i64;
    let mut parts = Vec::new();
    for (unit, seconds) in [("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)] {
        let count = left / seconds;
        left %= seconds;
        if count > 0 || (unit == "second" && parts.is_empty()) {
            parts.push(format!("{count} {unit}{}", if count == 1 { "" } else { "s" }));
        }
    }
    Ok(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_as_trino_documents() {
        assert_eq!(human_readable_seconds(96.0).unwrap(), "1 minute, 36 seconds");
        assert_eq!(human_readable_seconds(3762.0).unwrap(), "1 hour, 2 minutes, 42 seconds");
        assert_eq!(human_readable_seconds(56363463.0).unwrap(), "93 weeks, 1 day, 8 hours, 31 minutes, 3 seconds");
        assert_eq!(human_readable_seconds(0.0).unwrap(), "0 seconds");
        assert_eq!(data_size("1B").unwrap(), 1);
        assert_eq!(data_size("1kB").unwrap(), 1024);
        assert_eq!(data_size("1MB").unwrap(), 1_048_576);
        assert_eq!(data_size("2.3MB").unwrap(), 2_411_724);
        assert!(data_size("2.3 MB").is_err());
        // Java's BigDecimal spelling: a point may open or close the number, not stand alone.
        assert_eq!(data_size(".5kB").unwrap(), 512);
        assert_eq!(data_size("1.kB").unwrap(), 1024);
        assert!(data_size(".kB").is_err());
        assert!(data_size("1.2.3kB").is_err());
        assert!(data_size("MB").is_err());
    }
}

/// `to_milliseconds(interval)`: a day-to-second interval's length in milliseconds.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToMilliseconds;

impl Function for ToMilliseconds {
    fn name(&self) -> &'static str {
        "to_milliseconds"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        match &t[0] {
            DataType::Interval(_) | DataType::Duration(_) | DataType::Null => {
                Ok(vec![DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano)])
            }
            other => plan_err!("to_milliseconds expects an interval day to second, got {other}"),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let values = args.column(0)?;
        ints(values.as_primitive::<IntervalMonthDayNanoType>().iter().map(|v| match v {
            Some(v) if v.months != 0 => exec_err!("to_milliseconds expects an interval day to second"),
            v => Ok(v.map(|v| v.days as i64 * 86_400_000 + v.nanoseconds.div_euclid(1_000_000))),
        }))
    }
}

/// `parse_duration(text)`: a number and a unit (`ns`, `us`, `ms`, `s`, `m`, `h`, `d`), as an
/// interval day to second rounded to the millisecond (`'42.8ms'` is `0 00:00:00.043`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ParseDuration;

impl Function for ParseDuration {
    fn name(&self) -> &'static str {
        "parse_duration"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![varchar(self.name(), &t[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::DayTime))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let values =
            column.as_string::<i32>().iter().map(|s| s.map(duration).transpose()).collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(IntervalDayTimeArray::from(values)))
    }
}

/// A duration's text as days and milliseconds.
fn duration(text: &str) -> Result<IntervalDayTime> {
    // Airlift's Duration.valueOf, which Trino calls, words its three refusals.
    if text.is_empty() {
        return exec_err!("duration is empty");
    }
    let bad = || exec_err!("duration is not a valid data duration string: {text}");
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = (&trimmed[..split], trimmed[split..].trim());
    let Ok(value) = number.parse::<f64>() else { return bad() };
    let millis_per_unit = match unit {
        "ns" => 1e-6,
        "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        "m" => 6e4,
        "h" => 3.6e6,
        "d" => 8.64e7,
        _ if !unit.is_empty() && unit.chars().all(|c| c.is_ascii_alphabetic()) => {
            return exec_err!("Unknown time unit: {unit}");
        }
        _ => return bad(),
    };
    let millis = (value * millis_per_unit).round() as i64;
    let Ok(days) = i32::try_from(millis.div_euclid(86_400_000)) else { return bad() };
    Ok(IntervalDayTime::new(days, millis.rem_euclid(86_400_000) as i32))
}
