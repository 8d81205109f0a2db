//! Values spelled as Trino spells them: what a result shows and what `CAST(x AS VARCHAR)`
//! gives, so that an answer reads the same locally and in Athena.
//!
//! Arrow's own display differs where Trino's users notice: a timestamp has a space, not a
//! `T`, and as many fraction digits as its precision; a double is `1.0E10`, not
//! `10000000000`; a map is `{a=1}`; an interval is `1 02:03:04.000` or `1-2`. Text cast
//! to a boolean is read back as Trino reads it (`true`, `false`, `t`, `f`, `1`, `0`).

use std::fmt::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType,
    DurationSecondType, Field, Float32Type, Float64Type, IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit,
    IntervalYearMonthType, Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

use super::function::{Args, Function, udf};

/// How a double is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Double {
    /// As a result shows it (Java's `Double.toString`): `17.1`, `1.0E10`, `1.0E-4`.
    Shown,
    /// As `CAST(x AS VARCHAR)` spells it: always scientific, `1.71E1`, `0E0`.
    Cast,
}

/// Row `row` of `array` as Trino spells it; `None` for NULL.
pub fn value(array: &dyn Array, row: usize, double: Double) -> Option<String> {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        return None;
    }
    let mut out = String::new();
    write_value(&mut out, array, row, double);
    Some(out)
}

/// Row `row` of a column of `field`: [`value`], a timestamp or a time with its own precision's
/// digits (Trino's `timestamp(1)` shows one, which Arrow's unit cannot say).
pub fn cell(field: &Field, array: &dyn Array, row: usize, double: Double) -> Option<String> {
    match super::precision::declared(field) {
        Some(p) if !array.is_null(row) => match array.data_type() {
            DataType::Time32(_) | DataType::Time64(_) => Some(time(time_nanos(array, row), p as usize)),
            _ => Some(timestamp(nanos(array, row), p as usize)),
        },
        _ => value(array, row, double),
    }
}

/// Row `row` of `batch`, each column's value as [`cell`] spells it.
pub fn row(batch: &RecordBatch, row: usize, double: Double) -> impl Iterator<Item = Option<String>> + '_ {
    let fields = batch.schema_ref().fields().iter();
    fields.zip(batch.columns()).map(move |(field, column)| cell(field, column.as_ref(), row, double))
}

/// A timestamp (without time zone) in nanoseconds since the epoch.
fn nanos(array: &dyn Array, row: usize) -> i128 {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            array.as_primitive::<TimestampSecondType>().value(row) as i128 * 1_000_000_000
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            array.as_primitive::<TimestampMillisecondType>().value(row) as i128 * 1_000_000
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            array.as_primitive::<TimestampMicrosecondType>().value(row) as i128 * 1_000
        }
        _ => array.as_primitive::<TimestampNanosecondType>().value(row) as i128,
    }
}

/// A time of day in nanoseconds since midnight.
fn time_nanos(array: &dyn Array, row: usize) -> i64 {
    match array.data_type() {
        DataType::Time32(TimeUnit::Second) => {
            i64::from(array.as_primitive::<Time32SecondType>().value(row)) * 1_000_000_000
        }
        DataType::Time32(_) => i64::from(array.as_primitive::<Time32MillisecondType>().value(row)) * 1_000_000,
        DataType::Time64(TimeUnit::Microsecond) => array.as_primitive::<Time64MicrosecondType>().value(row) * 1_000,
        _ => array.as_primitive::<Time64NanosecondType>().value(row),
    }
}

fn write_value(out: &mut String, array: &dyn Array, row: usize, double: Double) {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        out.push_str("NULL");
        return;
    }
    match array.data_type() {
        DataType::Float64 => out.push_str(&float(array.as_primitive::<Float64Type>().value(row), double)),
        DataType::Float32 => {
            let v = array.as_primitive::<Float32Type>().value(row);
            let digits = match double {
                Double::Shown => java_digits(v),
                Double::Cast => real_cast_digits(v),
            };
            out.push_str(&spell(v.is_nan(), v.is_infinite(), v < 0.0, v == 0.0, &digits, double))
        }
        DataType::Timestamp(unit, None) => {
            let digits = super::precision::natural(unit) as usize;
            out.push_str(&timestamp(nanos(array, row), digits));
        }
        // Trino's `timestamp with time zone`: the local time in the zone, and the zone.
        DataType::Timestamp(unit, Some(zone)) => {
            let digits = super::precision::natural(unit) as usize;
            let instant = nanos(array, row);
            let zone = super::zone::zone(zone).unwrap_or_else(|_| zone.clone());
            // In i128 nanoseconds: a millisecond timestamp reaches years i64 nanoseconds do not.
            let local = super::zone::local(instant, &zone).map(|t| {
                let t = t.and_utc();
                t.timestamp() as i128 * 1_000_000_000 + t.timestamp_subsec_nanos() as i128
            });
            match local {
                Some(local) => write!(out, "{} {zone}", timestamp(local, digits)).unwrap(),
                None => write!(out, "{} UTC", timestamp(instant, digits)).unwrap(),
            }
        }
        DataType::Time32(unit) | DataType::Time64(unit) => {
            out.push_str(&time(time_nanos(array, row), super::precision::natural(unit) as usize))
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(row);
            out.push_str(&date(days as i64));
        }
        DataType::Decimal128(_, scale) => {
            let v = array.as_primitive::<Decimal128Type>().value(row);
            out.push_str(&decimal(v, *scale));
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            out.push_str(&year_month(array.as_primitive::<IntervalYearMonthType>().value(row) as i64))
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = array.as_primitive::<IntervalDayTimeType>().value(row);
            out.push_str(&day_time(v.days as i128 * 86_400_000 + v.milliseconds as i128))
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            if v.days == 0 && v.nanoseconds == 0 {
                out.push_str(&year_month(v.months as i64))
            } else {
                // A month is 30 days when one interval has both (Trino never makes one).
                let ms = (v.months as i128 * 30 + v.days as i128) * 86_400_000 + v.nanoseconds as i128 / 1_000_000;
                out.push_str(&day_time(ms))
            }
        }
        DataType::Duration(unit) => {
            let ms = match unit {
                TimeUnit::Second => array.as_primitive::<DurationSecondType>().value(row) as i128 * 1000,
                TimeUnit::Millisecond => array.as_primitive::<DurationMillisecondType>().value(row) as i128,
                TimeUnit::Microsecond => array.as_primitive::<DurationMicrosecondType>().value(row) as i128 / 1000,
                TimeUnit::Nanosecond => array.as_primitive::<DurationNanosecondType>().value(row) as i128 / 1_000_000,
            };
            out.push_str(&day_time(ms))
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            let bytes: &[u8] = match array.data_type() {
                DataType::Binary => array.as_binary::<i32>().value(row),
                DataType::LargeBinary => array.as_binary::<i64>().value(row),
                DataType::BinaryView => array.as_binary_view().value(row),
                _ => array.as_fixed_size_binary().value(row),
            };
            let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&hex.join(" "));
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            let items = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(row),
                DataType::LargeList(_) => array.as_list::<i64>().value(row),
                _ => array.as_fixed_size_list().value(row),
            };
            out.push('[');
            for i in 0..items.len() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, items.as_ref(), i, double);
            }
            out.push(']');
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            out.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, entries.column(0).as_ref(), i, double);
                out.push('=');
                write_value(out, entries.column(1).as_ref(), i, double);
            }
            out.push('}');
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            out.push('{');
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                // An anonymous ROW's fields are field0, field1, ... in Trino.
                let name = field.name();
                match super::shared::unnamed_field(name) {
                    Some(n) => write!(out, "field{n}=").unwrap(),
                    None => write!(out, "{name}=").unwrap(),
                }
                write_value(out, s.column(i).as_ref(), row, double);
            }
            out.push('}');
        }
        _ => {
            let options = FormatOptions::default();
            match ArrayFormatter::try_new(array, &options) {
                Ok(f) => write!(out, "{}", f.value(row)).unwrap(),
                Err(e) => write!(out, "<{e}>").unwrap(),
            }
        }
    }
}

/// A `double` as Trino spells it (`Shown`: Java's `Double.toString`; `Cast`: a cast to varchar).
pub(super) fn float(v: f64, double: Double) -> String {
    spell(v.is_nan(), v.is_infinite(), v < 0.0, v == 0.0, &java_digits(v), double)
}

/// Java's digits of a floating-point value: the shortest that read back as it (Rust's `{:e}`),
/// but never one digit alone: then the two-digit decimal nearest the value, which is `d.0` but
/// for the smallest subnormals (`4.9E-324`, where the shortest is `5e-324`).
fn java_digits<T: std::fmt::LowerExp>(v: T) -> String {
    let shortest = format!("{v:e}");
    let mantissa = shortest.split_once('e').map_or(shortest.as_str(), |(m, _)| m);
    if mantissa.trim_start_matches('-').len() > 1 {
        return shortest;
    }
    let two = format!("{v:.1e}");
    if two.contains(".0e") { shortest } else { two }
}

/// A real's digits as `CAST(x AS VARCHAR)` writes them: Trino formats the double that Java's
/// spelling of the real reads as (`0.0#####E0`, half even): at most 7 significant digits, so
/// `REAL '12345678.9'` is `1.234568E7` where its shortest spelling has 8.
fn real_cast_digits(v: f32) -> String {
    let shortest = java_digits(v);
    let Ok(d) = shortest.parse::<f64>() else { return shortest };
    let rounded = format!("{d:.6e}");
    match rounded.split_once('e') {
        Some((mantissa, exponent)) => {
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{mantissa}e{exponent}")
        }
        None => rounded,
    }
}

/// A floating-point value from Rust's shortest round-trip digits (`{:e}`: `-1.71e1`).
fn spell(nan: bool, infinite: bool, negative: bool, zero: bool, shortest: &str, double: Double) -> String {
    if nan {
        return "NaN".into();
    }
    if infinite {
        return if negative { "-Infinity" } else { "Infinity" }.into();
    }
    let (mantissa, exponent) = shortest.split_once('e').unwrap_or((shortest, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if mantissa.starts_with('-') { "-" } else { "" };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let (first, rest) = digits.split_at(1);
    let rest = if rest.is_empty() { "0" } else { rest };
    let scientific = format!("{sign}{first}.{rest}E{exponent}");
    if zero {
        // Trino's cast spells a zero 0E0 (-0E0), not 0.0E0.
        return if double == Double::Shown { format!("{sign}0.0") } else { format!("{sign}0E0") };
    }
    if double == Double::Cast {
        return scientific;
    }
    // Java writes 10^-3 <= |v| < 10^7 without an exponent.
    if !(-3..7).contains(&exponent) {
        return scientific;
    }
    if exponent < 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-exponent - 1) as usize))
    } else {
        let int_len = exponent as usize + 1;
        let padded = format!("{digits:0<int_len$}");
        let (int, frac) = padded.split_at(int_len);
        format!("{sign}{int}.{}", if frac.is_empty() { "0" } else { frac })
    }
}

fn date(days: i64) -> String {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    match epoch.checked_add_signed(chrono::Duration::days(days)) {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => format!("<date {days}>"),
    }
}

fn timestamp(nanos: i128, digits: usize) -> String {
    let seconds = nanos.div_euclid(1_000_000_000) as i64;
    let fraction = nanos.rem_euclid(1_000_000_000) as u32;
    let Some(t) = chrono::DateTime::from_timestamp(seconds, fraction) else {
        return format!("<timestamp {nanos}>");
    };
    let mut out = t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string();
    if digits > 0 {
        let f = format!("{fraction:09}");
        out.push('.');
        out.push_str(&f[..digits]);
    }
    out
}

/// A time of day with `digits` fraction digits (Trino's go to 12; Arrow's stop at 9).
pub(super) fn time(nanos: i64, digits: usize) -> String {
    let seconds = nanos.div_euclid(1_000_000_000);
    let mut out = format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    if digits > 0 {
        let f = format!("{:09}000", nanos.rem_euclid(1_000_000_000));
        out.push('.');
        out.push_str(&f[..digits.min(12)]);
    }
    out
}

fn decimal(v: i128, scale: i8) -> String {
    if scale <= 0 {
        return (v * 10i128.pow((-scale) as u32)).to_string();
    }
    let digits = v.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{int}.{frac}", if v < 0 { "-" } else { "" })
}

fn year_month(months: i64) -> String {
    let sign = if months < 0 { "-" } else { "" };
    format!("{sign}{}-{}", months.abs() / 12, months.abs() % 12)
}

fn day_time(ms: i128) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.abs();
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    let (h, m, s, f) = (rest / 3_600_000, rest / 60_000 % 60, rest / 1000 % 60, rest % 1000);
    format!("{sign}{days} {h:02}:{m:02}:{s:02}.{f:03}")
}

/// Whether Arrow's cast to text spells a type otherwise than Trino.
fn respelled(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Float64
            | DataType::Float32
            | DataType::Timestamp(..)
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Interval(_)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Map(..)
            | DataType::Struct(_)
    )
}

/// `CAST(x AS VARCHAR)` with Trino's spelling.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToVarchar;

impl Function for ToVarchar {
    fn name(&self) -> &'static str {
        "athena_to_varchar"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 1..=1)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (values, field) = (args.column(0)?, args.field(0));
        let text: StringArray = (0..args.rows).map(|i| cell(field, values.as_ref(), i, Double::Cast)).collect();
        Ok(Arc::new(text))
    }
}

/// `CAST(text AS BOOLEAN)` as Trino's VarcharOperators read it: `true`, `false`, `t`, `f`, `1`
/// or `0` in any case, nothing around them (Arrow's cast also takes `yes`, `on`, and spaces).
/// Other text is an error, or NULL for `TRY_CAST`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TextToBoolean {
    try_: bool,
}

impl Function for TextToBoolean {
    fn name(&self) -> &'static str {
        if self.try_ { "athena_try_to_boolean" } else { "athena_to_boolean" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 1..=1)?;
        Ok(vec![DataType::Utf8])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let text = args.column(0)?;
        super::function::bools(text.as_string::<i32>().iter().map(|v| {
            let Some(v) = v else { return Ok(None) };
            match boolean(v) {
                Some(b) => Ok(Some(b)),
                None if self.try_ => Ok(None),
                None => datafusion::common::exec_err!("Cannot cast '{v}' to BOOLEAN"),
            }
        }))
    }
}

/// Text read as a boolean as Trino's cast reads it (`None` for other text).
pub fn boolean(text: &str) -> Option<bool> {
    let is = |words: [&str; 3]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
    if is(["true", "t", "1"]) {
        Some(true)
    } else if is(["false", "f", "0"]) {
        Some(false)
    } else {
        None
    }
}

/// What the parser calls `CAST(x AS VARCHAR(n))` by, and `TRY_CAST(x AS VARCHAR(n))`.
pub const BOUNDED: &str = "athena_varchar_n";
/// See [`BOUNDED`].
pub const TRY_BOUNDED: &str = "athena_try_varchar_n";

/// The functions the parser calls.
pub fn functions() -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![udf(BoundedVarchar { try_: false }), udf(BoundedVarchar { try_: true })]
}

/// `CAST(x AS VARCHAR(n))` as Trino casts: `x` spelled as text (the first argument), n, and
/// `x` itself, whose type decides: text keeps its first n characters, any other value must fit
/// or the cast fails (`Value 1200.0 (1.2E3) cannot be represented as varchar(4)`; NULL under
/// `TRY_CAST`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct BoundedVarchar {
    try_: bool,
}

impl Function for BoundedVarchar {
    fn name(&self) -> &'static str {
        if self.try_ { TRY_BOUNDED } else { BOUNDED }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 3..=3)?;
        Ok(vec![DataType::Utf8, DataType::Int64, t[2].clone()])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (text, n, source) = (args.column(0)?, args.column(1)?, args.column(2)?);
        let (text, n) = (text.as_string::<i32>(), n.as_primitive::<arrow::datatypes::Int64Type>());
        let truncates =
            matches!(source.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null);
        let out = (0..args.rows).map(|i| {
            if text.is_null(i) || n.is_null(i) {
                return Ok(None);
            }
            let (t, n) = (text.value(i), usize::try_from(n.value(i)).unwrap_or(0));
            match t.char_indices().nth(n) {
                None => Ok(Some(t.to_string())),
                Some((end, _)) if truncates => Ok(Some(t[..end].to_string())),
                Some(_) if self.try_ => Ok(None),
                Some(_) => {
                    // A double's message names it twice: as Java shows it and as the cast spells it.
                    let shown = match source.data_type() {
                        DataType::Float64 | DataType::Float32 => {
                            format!("{} ({t})", value(source.as_ref(), i, Double::Shown).unwrap_or_default())
                        }
                        _ => t.to_string(),
                    };
                    datafusion::common::exec_err!("Value {shown} cannot be represented as varchar({n})")
                }
            }
        });
        Ok(Arc::new(out.collect::<Result<StringArray>>()?))
    }
}

/// `CAST(x AS ARRAY(VARCHAR))`, `MAP(K, VARCHAR)`, `ROW(v VARCHAR)`, ...: the text inside
/// spelled as `CAST(x AS VARCHAR)` spells it (`[1.5E0]`, not `[1.5]`), the rest cast as Arrow
/// casts it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToNestedVarchar {
    target: DataType,
}

impl Function for ToNestedVarchar {
    fn name(&self) -> &'static str {
        "athena_to_nested_varchar"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 1..=1)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.target.clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        spelled_cast(&args.column(0)?, &self.target)
    }
}

/// `array` cast to `to`, its text spelled as Trino's cast spells it at any depth.
fn spelled_cast(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    use arrow::array::{ListArray, MapArray, StructArray};
    Ok(match (array.data_type(), to) {
        (DataType::List(_), DataType::List(f)) => {
            let list = array.as_list::<i32>();
            let values = spelled_cast(list.values(), f.data_type())?;
            Arc::new(ListArray::try_new(f.clone(), list.offsets().clone(), values, list.nulls().cloned())?)
        }
        (DataType::Struct(_), DataType::Struct(fields)) if array.as_struct().num_columns() == fields.len() => {
            let s = array.as_struct();
            let columns = s
                .columns()
                .iter()
                .zip(fields.iter())
                .map(|(c, f)| spelled_cast(c, f.data_type()))
                .collect::<Result<_>>()?;
            Arc::new(StructArray::try_new(fields.clone(), columns, s.nulls().cloned())?)
        }
        (DataType::Map(..), DataType::Map(entries, sorted)) => {
            let map = array.as_map();
            let entries_array: ArrayRef = Arc::new(map.entries().clone());
            let DataType::Struct(_) = entries.data_type() else { return Ok(arrow::compute::cast(array, to)?) };
            let cast_entries = spelled_cast(&entries_array, entries.data_type())?;
            Arc::new(MapArray::try_new(
                entries.clone(),
                map.offsets().clone(),
                cast_entries.as_struct().clone(),
                map.nulls().cloned(),
                *sorted,
            )?)
        }
        (from, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) if respelled(from) => {
            let field = Field::new("", from.clone(), true);
            let text: StringArray = (0..array.len()).map(|i| cell(&field, array.as_ref(), i, Double::Cast)).collect();
            arrow::compute::cast(&text, to)?
        }
        _ => arrow::compute::cast(array, to)?,
    })
}

/// Whether casting `from` to `to` puts a type Arrow spells otherwise into text inside an
/// array, a map or a row.
fn respelled_inside(from: &DataType, to: &DataType) -> bool {
    match (from, to) {
        (DataType::List(a), DataType::List(b)) => respelled_inside(a.data_type(), b.data_type()),
        (DataType::Struct(a), DataType::Struct(b)) if a.len() == b.len() => {
            a.iter().zip(b.iter()).any(|(x, y)| respelled_inside(x.data_type(), y.data_type()))
        }
        (DataType::Map(a, _), DataType::Map(b, _)) => respelled_inside(a.data_type(), b.data_type()),
        (from, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) => respelled(from),
        _ => false,
    }
}

/// Rewrites casts to text of the types Trino spells otherwise, once types are coerced.
#[derive(Debug, Default)]
pub struct SpelledCasts;

impl AnalyzerRule for SpelledCasts {
    fn name(&self) -> &str {
        "athena_spelled_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let to_varchar = Arc::new(udf(ToVarchar));
        super::shared::rewrite_expressions(plan, |e, schema| {
            let Some((inner, field, _)) = super::shared::cast_of(&e) else { return Ok(Transformed::no(e)) };
            let target = field.data_type();
            if target.is_nested() && inner.get_type(schema).is_ok_and(|t| respelled_inside(&t, target)) {
                let f = Arc::new(udf(ToNestedVarchar { target: target.clone() }));
                return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(f, vec![inner.clone()]))));
            }
            let text = matches!(target, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8);
            if target == &DataType::Boolean && inner.get_type(schema).is_ok_and(|t| t == DataType::Utf8) {
                let f = Arc::new(udf(TextToBoolean { try_: matches!(e, Expr::TryCast(_)) }));
                return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(f, vec![inner.clone()]))));
            }
            if !text || !inner.get_type(schema).is_ok_and(|t| respelled(&t)) {
                return Ok(Transformed::no(e));
            }
            let call = Expr::ScalarFunction(ScalarFunction::new_udf(to_varchar.clone(), vec![inner.clone()]));
            Ok(Transformed::yes(if target == &DataType::Utf8 { call } else { call.cast_to(target, schema)? }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_read_as_java_writes_them() {
        let shown = |v: f64| float(v, Double::Shown);
        let cast = |v: f64| float(v, Double::Cast);
        assert_eq!(shown(17.1), "17.1");
        assert_eq!(shown(2.0), "2.0");
        assert_eq!(shown(1e10), "1.0E10");
        assert_eq!(shown(1e7), "1.0E7");
        assert_eq!(shown(9999999.0), "9999999.0");
        assert_eq!(shown(0.001), "0.001");
        assert_eq!(shown(0.0001), "1.0E-4");
        assert_eq!(shown(-123.456), "-123.456");
        assert_eq!(shown(0.0), "0.0");
        assert_eq!(shown(f64::NAN), "NaN");
        assert_eq!(shown(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(cast(17.1), "1.71E1");
        assert_eq!(cast(1.0), "1.0E0");
        assert_eq!(cast(0.0), "0E0");
        assert_eq!(cast(-0.5), "-5.0E-1");
        assert_eq!(cast(f64::INFINITY), "Infinity");
        // Java's two digits at least: the nearest two, not the shortest one padded.
        assert_eq!(shown(4.9e-324), "4.9E-324");
        assert_eq!(cast(-1.5e-323), "-1.5E-323");
        assert_eq!(shown(3e20), "3.0E20");
    }

    #[test]
    fn reals_cast_to_varchar_keep_seven_digits() {
        let cast = |v: f32| value(&arrow::array::Float32Array::from(vec![v]), 0, Double::Cast).unwrap();
        let shown = |v: f32| value(&arrow::array::Float32Array::from(vec![v]), 0, Double::Shown).unwrap();
        // TestRealOperators.testCastToVarchar.
        assert_eq!(cast(12345678.9), "1.234568E7");
        assert_eq!(cast(754.1985), "7.541985E2");
        assert_eq!(cast(-754.2008), "-7.542008E2");
        assert_eq!(cast(1200.0), "1.2E3");
        assert_eq!(cast(-0.0), "-0E0");
        assert_eq!(shown(12345678.9), "1.2345679E7");
    }

    #[test]
    fn timestamps_decimals_and_intervals() {
        assert_eq!(timestamp(980_132_645_321_000_000, 3), "2001-01-22 03:04:05.321");
        assert_eq!(timestamp(980_132_645_000_000_000, 0), "2001-01-22 03:04:05");
        assert_eq!(timestamp(-1_000_000_000, 0), "1969-12-31 23:59:59");
        assert_eq!(decimal(-5, 2), "-0.05");
        assert_eq!(decimal(3263, 2), "32.63");
        assert_eq!(decimal(7, 0), "7");
        assert_eq!(year_month(42 * 12 + 7), "42-7");
        assert_eq!(year_month(-3), "-0-3");
        assert_eq!(day_time(2 * 86_400_000 + 3_723_004), "2 01:02:03.004");
        assert_eq!(time(45_296_100_000_000, 1), "12:34:56.1");
        assert_eq!(time(45_296_000_000_000, 0), "12:34:56");
        assert_eq!(time(45_296_123_456_789, 12), "12:34:56.123456789000");
    }
}
