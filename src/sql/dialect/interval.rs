//! Interval arithmetic as Trino has it and DataFusion does not: an interval times (or
//! divided by) a number, a date minus a date (an interval of days, not a number), and
//! intervals compared by their length (`INTERVAL '1' DAY = INTERVAL '24' HOUR`). The
//! expressions are rewritten before types are coerced, which would refuse them.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Decimal128Array, IntervalMonthDayNanoArray};
use arrow::datatypes::{
    DataType, Date32Type, Float64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit,
};
use arrow::error::ArrowError;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, ExprSchemable, Operator, ScalarUDF};

use super::function::{Args, Function, udf};
use super::shared::{DAY_NANOS, arity};

const MONTH_DAY_NANO: DataType = DataType::Interval(IntervalUnit::MonthDayNano);

/// `interval * n` (and `interval / n` as `interval * (1 / n)`), under the name the parser
/// gives it (see `syntax`): DataFusion's planner refuses the operator before any rewrite
/// could see it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Scale;

/// `date - date`: an interval of days.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Days;

/// The functions of this module callable by name.
pub fn functions() -> Vec<ScalarUDF> {
    vec![udf(Scale)]
}

impl Function for Scale {
    fn name(&self) -> &'static str {
        "athena_interval_scale"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=3)?;
        let divide = t.get(2).map(|_| DataType::Boolean);
        Ok([MONTH_DAY_NANO, DataType::Float64].into_iter().chain(divide).collect())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(MONTH_DAY_NANO)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (intervals, factors) = (args.column(0)?, args.column(1)?);
        // The third argument says whether to divide (a constant the parser writes).
        let divide = args.len() == 3 && args.rows > 0 && args.column(2)?.as_boolean().value(0);
        // Trino's months or milliseconds times (or over) the double, cut toward zero.
        let scale = |x: f64, f: f64, max: f64| {
            // Trino's words for a factor it refuses (Java spells the zero `0.0`).
            if f.is_nan() || (divide && f == 0.0) {
                let f = if f.is_nan() { "NaN".into() } else { format!("{f:?}") };
                let verb = if divide { "divide" } else { "multiply" };
                return Err(ArrowError::ComputeError(format!("Cannot {verb} by double {f}")));
            }
            let y = if divide { x / f } else { x * f };
            if !y.is_finite() || y.abs() > max {
                return Err(ArrowError::ComputeError("interval overflow".into()));
            }
            Ok(y.trunc())
        };
        let out: IntervalMonthDayNanoArray = arrow::compute::try_binary(
            intervals.as_primitive::<IntervalMonthDayNanoType>(),
            factors.as_primitive::<Float64Type>(),
            |v, f| {
                if v.months != 0 && (v.days != 0 || v.nanoseconds != 0) {
                    return Err(ArrowError::ComputeError(
                        "an interval is either year to month or day to second".into(),
                    ));
                }
                if v.months != 0 {
                    return Ok(IntervalMonthDayNano::new(scale(v.months as f64, f, i32::MAX as f64)? as i32, 0, 0));
                }
                // Day to second: milliseconds, as Trino keeps them.
                let ms = v.days as f64 * 86_400_000.0 + v.nanoseconds as f64 / 1e6;
                let scaled = IntervalMonthDayNano::new(0, 0, scale(ms, f, i64::MAX as f64 / 1e6)? as i64 * 1_000_000);
                Ok(whole_days(scaled).unwrap_or(scaled))
            },
        )?;
        Ok(Arc::new(out))
    }
}

impl Function for Days {
    fn name(&self) -> &'static str {
        "athena_date_difference"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(vec![DataType::Date32, DataType::Date32])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(MONTH_DAY_NANO)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (x, y) = (args.column(0)?, args.column(1)?);
        let out: IntervalMonthDayNanoArray =
            arrow::compute::binary(x.as_primitive::<Date32Type>(), y.as_primitive::<Date32Type>(), |a, b| {
                IntervalMonthDayNano::new(0, a - b, 0)
            })?;
        Ok(Arc::new(out))
    }
}

/// An interval added to or subtracted from a date, which must be whole days (or months):
/// Trino refuses `DATE '2001-01-22' + INTERVAL '3' HOUR`, where Arrow drops the hours.
#[derive(Debug, PartialEq, Eq, Hash)]
struct WholeDays {
    subtract: bool,
}

impl Function for WholeDays {
    fn name(&self) -> &'static str {
        "athena_date_interval"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(MONTH_DAY_NANO)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        // Whole days of nanoseconds (`INTERVAL '48' HOUR`) as days, which Arrow adds to a date.
        let interval = arrow::compute::cast(&args.column(0)?, &MONTH_DAY_NANO)?;
        let verb =
            if self.subtract { "subtract hour, minutes or seconds from" } else { "add hour, minutes or seconds to" };
        let out: IntervalMonthDayNanoArray = interval.as_primitive::<IntervalMonthDayNanoType>().try_unary(|v| {
            if v.nanoseconds % DAY_NANOS != 0 {
                return Err(ArrowError::ComputeError(format!("Cannot {verb} a date")));
            }
            Ok(IntervalMonthDayNano::new(v.months, v.days + (v.nanoseconds / DAY_NANOS) as i32, 0))
        })?;
        Ok(Arc::new(out))
    }
}

/// An interval added to or subtracted from a timestamp with a time zone, its days as 24 hours
/// each: Trino adds a day-to-second interval's milliseconds to the instant, where Arrow adds
/// days on the zone's calendar (23 or 25 hours across a change of daylight saving time).
#[derive(Debug, PartialEq, Eq, Hash)]
struct FixedDays;

impl Function for FixedDays {
    fn name(&self) -> &'static str {
        "athena_fixed_days"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![MONTH_DAY_NANO])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(MONTH_DAY_NANO)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let out: IntervalMonthDayNanoArray =
            args.column(0)?.as_primitive::<IntervalMonthDayNanoType>().try_unary(|v| {
                let nanos = i64::from(v.days).checked_mul(DAY_NANOS).and_then(|d| d.checked_add(v.nanoseconds));
                nanos
                    .map(|n| IntervalMonthDayNano::new(v.months, 0, n))
                    .ok_or_else(|| ArrowError::ComputeError("interval overflow".into()))
            })?;
        Ok(Arc::new(out))
    }
}

/// An interval's length, which orders intervals as Trino does: a day is 24 hours (Arrow keeps
/// days and nanoseconds apart and compares them field by field, so `INTERVAL '25' HOUR` came
/// before `INTERVAL '1' DAY`). Months lead: Trino never mixes them with days.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Length;

impl Function for Length {
    fn name(&self) -> &'static str {
        "athena_interval_length"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![MONTH_DAY_NANO])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, 0))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        const MONTH: i128 = 10_i128.pow(30);
        let interval = args.column(0)?;
        let out: Decimal128Array = interval.as_primitive::<IntervalMonthDayNanoType>().unary(|v| {
            i128::from(v.months) * MONTH + i128::from(v.days) * i128::from(DAY_NANOS) + i128::from(v.nanoseconds)
        });
        Ok(Arc::new(out.with_precision_and_scale(38, 0)?))
    }
}

/// Rewrites the interval arithmetic above before types are coerced.
#[derive(Debug, Default)]
pub struct IntervalArithmetic;

/// A day-to-second interval with its whole days of hours as days and the rest, of the same
/// sign, as nanoseconds (`INTERVAL '25' HOUR` is 1 day and 1 hour): Arrow orders, groups and
/// deduplicates intervals field by field, which then agrees with their lengths (`max`,
/// `ORDER BY`, `GROUP BY` and `DISTINCT` see `INTERVAL '25' HOUR` after `INTERVAL '1' DAY`,
/// and `INTERVAL '24' HOUR` as it). `None` for one of months or too long for Arrow's days.
fn whole_days(v: IntervalMonthDayNano) -> Option<IntervalMonthDayNano> {
    if v.months != 0 {
        return None;
    }
    let (total, day) = (i128::from(v.days) * i128::from(DAY_NANOS) + i128::from(v.nanoseconds), i128::from(DAY_NANOS));
    let days = i32::try_from(total / day).ok()?;
    Some(IntervalMonthDayNano::new(0, days, (total % day) as i64))
}

/// An interval's length, which comparisons of intervals compare.
fn length(e: &Expr) -> Expr {
    Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(udf(Length)), vec![e.clone()]))
}

impl FunctionRewrite for IntervalArithmetic {
    fn name(&self) -> &str {
        "athena_interval_arithmetic"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _: &ConfigOptions) -> Result<Transformed<Expr>> {
        if let Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(v)), meta) = &expr
            && let Some(whole) = whole_days(*v)
            && whole != *v
        {
            return Ok(Transformed::yes(Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(whole)), meta.clone())));
        }
        if let Expr::Between(b) = &expr
            && [&b.expr, &b.low, &b.high].iter().all(|e| matches!(e.get_type(schema), Ok(DataType::Interval(_))))
        {
            let length = |e: &Expr| Box::new(length(e));
            let between = Between::new(length(&b.expr), b.negated, length(&b.low), length(&b.high));
            return Ok(Transformed::yes(Expr::Between(between)));
        }
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else { return Ok(Transformed::no(expr)) };
        let (Ok(l), Ok(r)) = (left.get_type(schema), right.get_type(schema)) else { return Ok(Transformed::no(expr)) };
        let interval = |t: &DataType| matches!(t, DataType::Interval(_));
        let number = |t: &DataType| t.is_numeric();
        let call = |f: ScalarUDF, args: Vec<Expr>| Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(f), args));
        let rewritten = match op {
            Operator::Multiply if interval(&l) && number(&r) => call(udf(Scale), vec![*left.clone(), *right.clone()]),
            Operator::Multiply if number(&l) && interval(&r) => call(udf(Scale), vec![*right.clone(), *left.clone()]),
            Operator::Divide if interval(&l) && number(&r) => {
                call(udf(Scale), vec![*left.clone(), *right.clone(), datafusion::logical_expr::lit(true)])
            }
            Operator::Minus if l == DataType::Date32 && r == DataType::Date32 => {
                call(udf(Days), vec![*left.clone(), *right.clone()])
            }
            Operator::Plus | Operator::Minus if l == DataType::Date32 && interval(&r) => {
                let checked = call(udf(WholeDays { subtract: *op == Operator::Minus }), vec![*right.clone()]);
                Expr::BinaryExpr(BinaryExpr::new(left.clone(), *op, Box::new(checked)))
            }
            Operator::Plus | Operator::Minus if matches!(l, DataType::Timestamp(_, Some(_))) && interval(&r) => {
                let fixed = call(udf(FixedDays), vec![*right.clone()]);
                Expr::BinaryExpr(BinaryExpr::new(left.clone(), *op, Box::new(fixed)))
            }
            Operator::Plus if interval(&l) && matches!(r, DataType::Timestamp(_, Some(_))) => {
                let fixed = call(udf(FixedDays), vec![*left.clone()]);
                Expr::BinaryExpr(BinaryExpr::new(Box::new(fixed), *op, right.clone()))
            }
            Operator::Plus if interval(&l) && r == DataType::Date32 => {
                let checked = call(udf(WholeDays { subtract: false }), vec![*left.clone()]);
                Expr::BinaryExpr(BinaryExpr::new(Box::new(checked), *op, right.clone()))
            }
            Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
                if interval(&l) && interval(&r) =>
            {
                Expr::BinaryExpr(BinaryExpr::new(Box::new(length(left)), *op, Box::new(length(right))))
            }
            _ => return Ok(Transformed::no(expr)),
        };
        Ok(Transformed::yes(rewritten))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_days_of_hours_are_days_of_the_same_sign() {
        const H: i64 = 3_600_000_000_000;
        let days = |d, n| IntervalMonthDayNano::new(0, d, n);
        assert_eq!(whole_days(days(0, 25 * H)), Some(days(1, H)));
        assert_eq!(whole_days(days(0, -25 * H)), Some(days(-1, -H)));
        assert_eq!(whole_days(days(0, 24 * H)), Some(days(1, 0)));
        assert_eq!(whole_days(days(1, -H)), Some(days(0, 23 * H)));
        assert_eq!(whole_days(days(2, 0)), Some(days(2, 0)));
        assert_eq!(whole_days(IntervalMonthDayNano::new(14, 0, 0)), None);
    }
}
