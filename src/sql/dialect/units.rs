//! Trino's functions between quantities and their human spellings: `parse_data_size`
//! (`'2.3MB'` to bytes, powers of 1024, as a `decimal(38,0)`) and `human_readable_seconds`
//! (`3762` to `1 hour, 2 minutes, 42 seconds`).

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Decimal128Array};
use arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;

use super::function::{Args, Function, strings, udf};
use super::shared::{arity, varchar};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![udf(ParseDataSize), udf(HumanReadableSeconds)]
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
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || (number.contains('.') && fraction.is_empty()) {
        return invalid();
    }
    // Exact: digits × 1024^power / 10^fraction digits, truncated.
    let digits: i128 = match format!("{whole}{fraction}").parse() {
        Ok(d) => d,
        Err(_) => return invalid(),
    };
    let scaled = 1024_i128.checked_pow(power).and_then(|unit| digits.checked_mul(unit));
    match (scaled, 10_i128.checked_pow(fraction.len() as u32)) {
        (Some(bytes), Some(divisor)) if bytes / divisor < 10_i128.pow(38) => Ok(bytes / divisor),
        _ => exec_err!("Value out of range: '{text}' ('{number}{unit}')"),
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
        assert!(data_size("MB").is_err());
    }
}
