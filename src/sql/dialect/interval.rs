//! Interval arithmetic as Trino has it and DataFusion does not: an interval times (or
//! divided by) a number, and a date minus a date (an interval of days, not a number). The
//! expressions are rewritten before types are coerced, which would refuse them.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, IntervalMonthDayNanoArray};
use arrow::datatypes::{
    DataType, Date32Type, Float64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit,
};
use arrow::error::ArrowError;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator, ScalarUDF};

use super::function::{Args, Function, udf};
use super::shared::arity;

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
        arity(self.name(), t, 2..=2)?;
        Ok(vec![MONTH_DAY_NANO, DataType::Float64])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(MONTH_DAY_NANO)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (intervals, factors) = (args.column(0)?, args.column(1)?);
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
                    return Ok(IntervalMonthDayNano::new((v.months as f64 * f).round() as i32, 0, 0));
                }
                // Day to second: milliseconds, as Trino keeps them.
                let ms = (v.days as f64 * 86_400_000.0 + v.nanoseconds as f64 / 1e6) * f;
                if !ms.is_finite() || ms.abs() > i64::MAX as f64 / 1e6 {
                    return Err(ArrowError::ComputeError("interval overflow".into()));
                }
                Ok(IntervalMonthDayNano::new(0, 0, ms.round() as i64 * 1_000_000))
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
        const DAY: i64 = 86_400_000_000_000;
        let interval = arrow::compute::cast(&args.column(0)?, &MONTH_DAY_NANO)?;
        let verb =
            if self.subtract { "subtract hour, minutes or seconds from" } else { "add hour, minutes or seconds to" };
        let out: IntervalMonthDayNanoArray = interval.as_primitive::<IntervalMonthDayNanoType>().try_unary(|v| {
            if v.nanoseconds % DAY != 0 {
                return Err(ArrowError::ComputeError(format!("Cannot {verb} a date")));
            }
            Ok(IntervalMonthDayNano::new(v.months, v.days + (v.nanoseconds / DAY) as i32, 0))
        })?;
        Ok(Arc::new(out))
    }
}

/// Rewrites the interval arithmetic above before types are coerced.
#[derive(Debug, Default)]
pub struct IntervalArithmetic;

impl FunctionRewrite for IntervalArithmetic {
    fn name(&self) -> &str {
        "athena_interval_arithmetic"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _: &ConfigOptions) -> Result<Transformed<Expr>> {
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else { return Ok(Transformed::no(expr)) };
        let (Ok(l), Ok(r)) = (left.get_type(schema), right.get_type(schema)) else { return Ok(Transformed::no(expr)) };
        let interval = |t: &DataType| matches!(t, DataType::Interval(_));
        let number = |t: &DataType| t.is_numeric();
        let call = |f: ScalarUDF, args: Vec<Expr>| Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(f), args));
        let rewritten = match op {
            Operator::Multiply if interval(&l) && number(&r) => call(udf(Scale), vec![*left.clone(), *right.clone()]),
            Operator::Multiply if number(&l) && interval(&r) => call(udf(Scale), vec![*right.clone(), *left.clone()]),
            Operator::Divide if interval(&l) && number(&r) => {
                let inverse = Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(datafusion::logical_expr::lit(1.0_f64)),
                    Operator::Divide,
                    Box::new(right.as_ref().clone().cast_to(&DataType::Float64, schema)?),
                ));
                call(udf(Scale), vec![*left.clone(), inverse])
            }
            Operator::Minus if l == DataType::Date32 && r == DataType::Date32 => {
                call(udf(Days), vec![*left.clone(), *right.clone()])
            }
            Operator::Plus | Operator::Minus if l == DataType::Date32 && interval(&r) => {
                let checked = call(udf(WholeDays { subtract: *op == Operator::Minus }), vec![*right.clone()]);
                Expr::BinaryExpr(BinaryExpr::new(left.clone(), *op, Box::new(checked)))
            }
            Operator::Plus if interval(&l) && r == DataType::Date32 => {
                let checked = call(udf(WholeDays { subtract: false }), vec![*left.clone()]);
                Expr::BinaryExpr(BinaryExpr::new(Box::new(checked), *op, right.clone()))
            }
            _ => return Ok(Transformed::no(expr)),
        };
        Ok(Transformed::yes(rewritten))
    }
}
