//! Trino's `timestamp(p)` and `time(p)`: a timestamp or a time of day of p fraction digits,
//! which a result shows, a cast to text spells and `typeof` names (`TIMESTAMP '2020-05-01
//! 12:34:56.1'` is `...56.1`, not `...56.100`; `TIME '12:34:56'` is `time(0)`).
//!
//! Arrow says their precision only through the unit (seconds, milli-, micro- and
//! nanoseconds: p = 0, 3, 6, 9), so any other p rides in the field's metadata. A time may
//! declare up to 12 digits, as Trino's may; Arrow keeps nanoseconds, so the digits past the
//! ninth are zeros. One function sets it, [`Precision`], which a literal or a cast with such a
//! p becomes while the statement is parsed; [`KeptPrecision`] keeps it where Trino's result has the argument's precision
//! (an interval added or subtracted, `date_add`, `date_trunc`) and drops it where a cast
//! gives another. Elsewhere (`CASE`, aggregates) the unit's precision stands.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{
    ArrowTimestampType, DataType, Field, IntervalUnit, Time64NanosecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType,
};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue, plan_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, ReturnFieldArgs, ScalarUDF, TryCast, lit,
};
use datafusion::optimizer::AnalyzerRule;

use super::function::{Args, Function, udf};
use super::shared::{DAY_NANOS, arity, retype_expressions};

/// The metadata key of a timestamp's precision, present only when its unit does not say it.
const KEY: &str = "b3lake.timestamp_precision";

/// What the parser calls [`Precision`] by.
pub const NAME: &str = "athena_timestamp_precision";

/// The function the parser's timestamps of such a precision call.
pub fn functions() -> Vec<ScalarUDF> {
    vec![udf(Precision)]
}

/// A timestamp or time field's precision (its metadata's, else its unit's); `None` for other
/// types.
pub fn digits(field: &Field) -> Option<u32> {
    let (DataType::Timestamp(unit, _) | DataType::Time32(unit) | DataType::Time64(unit)) = field.data_type() else {
        return None;
    };
    Some(declared(field).unwrap_or(natural(unit)))
}

/// The precision a timestamp (without zone) or time field's metadata declares. A cast to
/// another type (a date) passes its argument's metadata on, so the key alone is not enough.
pub fn declared(field: &Field) -> Option<u32> {
    let (DataType::Timestamp(_, None) | DataType::Time32(_) | DataType::Time64(_)) = field.data_type() else {
        return None;
    };
    field.metadata().get(KEY).and_then(|p| p.parse().ok())
}

/// The Arrow type of Trino's `time(p)`: the coarsest unit that holds p digits.
pub fn time_type(p: u32) -> DataType {
    match unit(p) {
        unit @ (TimeUnit::Second | TimeUnit::Millisecond) => DataType::Time32(unit),
        unit => DataType::Time64(unit),
    }
}

/// The fraction digits of a unit.
pub fn natural(unit: &TimeUnit) -> u32 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

/// The coarsest unit that holds p fraction digits.
pub fn unit(p: u32) -> TimeUnit {
    match p {
        0 => TimeUnit::Second,
        1..=3 => TimeUnit::Millisecond,
        4..=6 => TimeUnit::Microsecond,
        _ => TimeUnit::Nanosecond,
    }
}

/// `athena_timestamp_precision(ts, p)`: ts rounded half up to p fraction digits, as Trino casts
/// to a lower precision, and typed `timestamp(p)`; of a time, typed `time(p)` (in the unit
/// that holds p, a time rounded past midnight wrapping to 00:00, as Trino's does).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Precision;

impl Function for Precision {
    fn name(&self) -> &'static str {
        NAME
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(NAME, t, 2..=2)?;
        match &t[0] {
            DataType::Timestamp(..) | DataType::Time32(_) | DataType::Time64(_) if t[1].is_integer() => {
                Ok(vec![t[0].clone(), DataType::Int64])
            }
            other => plan_err!("{NAME} expects a timestamp or a time and a precision, not {other} and {}", t[1]),
        }
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<Field>> {
        let data_type = args.arg_fields[0].data_type().clone();
        let p = precision(args.scalar_arguments.get(1).copied().flatten(), &data_type)?;
        let data_type = match data_type {
            DataType::Time32(_) | DataType::Time64(_) => time_type(p),
            other => other,
        };
        let field = Field::new(NAME, data_type.clone(), true);
        Ok(Some(match &data_type {
            DataType::Timestamp(unit, _) | DataType::Time32(unit) | DataType::Time64(unit) if natural(unit) != p => {
                field.with_metadata(HashMap::from([(KEY.to_string(), p.to_string())]))
            }
            _ => field,
        }))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let values = args.column(0)?;
        let p = precision(args.constant(1), values.data_type())?;
        if let DataType::Time32(_) | DataType::Time64(_) = values.data_type() {
            return time_of_day(&values, p);
        }
        let DataType::Timestamp(unit, _) = values.data_type() else { return plan_err!("{NAME} expects a timestamp") };
        let shift = natural(unit).saturating_sub(p);
        if shift == 0 {
            return Ok(values);
        }
        let factor = 10_i64.pow(shift);
        Ok(match unit {
            TimeUnit::Millisecond => round::<TimestampMillisecondType>(&values, factor),
            TimeUnit::Microsecond => round::<TimestampMicrosecondType>(&values, factor),
            _ => round::<TimestampNanosecondType>(&values, factor),
        })
    }
}

/// The precision argument: a constant from 0 to 9 (Arrow's finest unit is the nanosecond),
/// to 12 for a time (Trino's finest, the digits past the ninth zeros).
fn precision(value: Option<&ScalarValue>, of: &DataType) -> Result<u32> {
    let time = matches!(of, DataType::Time32(_) | DataType::Time64(_));
    let p = value.and_then(|v| v.cast_to(&DataType::Int64).ok()).and_then(|v| match v {
        ScalarValue::Int64(Some(p)) => Some(p),
        _ => None,
    });
    match p {
        Some(p @ 0..=9) => Ok(p as u32),
        Some(p @ 10..=12) if time => Ok(p as u32),
        Some(p) if time => plan_err!("TIME precision must be in range [0, 12]: {p}"),
        _ => plan_err!("a timestamp's precision is a constant from 0 to 9"),
    }
}

/// Times of day rounded half up to p digits, a day's end wrapping to midnight, in `time(p)`'s
/// unit.
fn time_of_day(values: &ArrayRef, p: u32) -> Result<ArrayRef> {
    let nanos = arrow::compute::cast(values, &DataType::Time64(TimeUnit::Nanosecond))?;
    let factor = 10_i64.pow(9_u32.saturating_sub(p));
    let half = factor / 2;
    let rounded = nanos
        .as_primitive::<Time64NanosecondType>()
        .unary::<_, Time64NanosecondType>(|v| (v + half).div_euclid(factor) * factor % DAY_NANOS);
    Ok(arrow::compute::cast(&rounded, &time_type(p))?)
}

/// Each value rounded half up to a multiple of `factor`.
fn round<T: ArrowTimestampType>(values: &ArrayRef, factor: i64) -> ArrayRef {
    let values = values.as_primitive::<T>();
    let half = factor / 2;
    let rounded = values.unary::<_, T>(|v| v.saturating_add(half).div_euclid(factor) * factor);
    Arc::new(rounded.with_timezone_opt(values.timezone().map(Arc::<str>::from)))
}

/// Keeps a timestamp's precision where Trino's result has it, once types are coerced.
#[derive(Debug, Default)]
pub struct KeptPrecision;

impl AnalyzerRule for KeptPrecision {
    fn name(&self) -> &str {
        "athena_kept_precision"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let precision = Arc::new(udf(Precision));
        retype_expressions(plan, |e, schema| kept(e, schema, &precision))
    }
}

fn kept(e: Expr, schema: &DFSchema, precision: &Arc<ScalarUDF>) -> Result<Transformed<Expr>> {
    let field = |e: &Expr| e.to_field(schema).ok().map(|(_, f)| f);
    let typed = |e: Expr, p: u32| {
        Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(precision.clone(), vec![e, lit(p as i64)])))
    };
    match &e {
        Expr::BinaryExpr(BinaryExpr { left, op: op @ (Operator::Plus | Operator::Minus), right }) => {
            let (Some(l), Some(r)) = (field(left), field(right)) else { return Ok(Transformed::no(e)) };
            let interval = |f: &Field| matches!(f.data_type(), DataType::Interval(_));
            let stamp_left = matches!(l.data_type(), DataType::Timestamp(_, None)) && interval(&r);
            let stamp_right =
                *op == Operator::Plus && interval(&l) && matches!(r.data_type(), DataType::Timestamp(_, None));
            let (stamp, (period, period_field)) = match (stamp_left, stamp_right) {
                (true, _) => (&l, (right, &r)),
                (_, true) => (&r, (left, &l)),
                _ => return Ok(Transformed::no(e)),
            };
            let (Some(p), DataType::Timestamp(from, _)) = (digits(stamp), stamp.data_type()) else {
                return Ok(Transformed::no(e));
            };
            // An interval of months keeps the precision; one of days to seconds has
            // milliseconds, so the result has at least 3 digits (`+ INTERVAL '1.5' SECOND`).
            let months =
                months_only(period) || period_field.data_type() == &DataType::Interval(IntervalUnit::YearMonth);
            let out = if months { p } else { p.max(3) };
            let to = unit(out);
            if natural(from) == out {
                return Ok(Transformed::no(e));
            }
            let (mut left, mut right) = (left.as_ref().clone(), right.as_ref().clone());
            if to != *from {
                let side = if stamp_left { &mut left } else { &mut right };
                *side = side.clone().cast_to(&DataType::Timestamp(to, None), schema)?;
            }
            let sum = Expr::BinaryExpr(BinaryExpr::new(Box::new(left), *op, Box::new(right)));
            Ok(if natural(&to) == out { Transformed::yes(sum) } else { typed(sum, out) })
        }
        // date_add and date_trunc answer in their timestamp's precision, rounded to it.
        Expr::ScalarFunction(f) if matches!(f.name(), "date_add" | "date_trunc") => {
            let (Some(out), Some(arg)) = (field(&e), f.args.last().and_then(field)) else {
                return Ok(Transformed::no(e));
            };
            match (digits(&out), declared(&arg)) {
                (Some(natural), Some(p)) if natural != p => Ok(typed(e, p)),
                _ => Ok(Transformed::no(e)),
            }
        }
        // A cast to a timestamp has the target's precision, not the one its argument declares,
        // and rounds a finer argument to it (Arrow's cast truncates).
        Expr::Cast(Cast { expr, field: target }) | Expr::TryCast(TryCast { expr, field: target }) => {
            let (DataType::Timestamp(to, None), Some(source)) = (target.data_type(), field(expr)) else {
                return Ok(Transformed::no(e));
            };
            match source.data_type() {
                DataType::Timestamp(from, None) if natural(from) > natural(to) => {
                    let rounded = typed(expr.as_ref().clone(), natural(to)).data;
                    let mut e = e;
                    if let Expr::Cast(Cast { expr, .. }) | Expr::TryCast(TryCast { expr, .. }) = &mut e {
                        **expr = rounded;
                    }
                    Ok(Transformed::yes(e))
                }
                _ if declared(&source).is_some() => Ok(typed(e.clone(), natural(to))),
                _ => Ok(Transformed::no(e)),
            }
        }
        _ => Ok(Transformed::no(e)),
    }
}

/// An interval literal of whole months: Trino's `interval year to month`.
fn months_only(e: &Expr) -> bool {
    matches!(e, Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(v)), _) if v.days == 0 && v.nanoseconds == 0)
        || matches!(e, Expr::Literal(ScalarValue::IntervalYearMonth(_), _))
}
