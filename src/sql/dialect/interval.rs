//! Interval arithmetic as Trino has it and DataFusion does not: an interval times (or
//! divided by) a number, and a date minus a date (an interval of days, not a number). The
//! expressions are rewritten before types are coerced, which would refuse them.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, IntervalMonthDayNanoArray};
use arrow::datatypes::{
    DataType, Date32Type, Float64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

const MONTH_DAY_NANO: DataType = DataType::Interval(IntervalUnit::MonthDayNano);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum I {
    /// `interval * n` (and `interval / n` as `interval * (1 / n)`).
    Scale,
    /// `date - date`.
    Days,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct IntervalFn {
    i: I,
    signature: Signature,
}

/// `interval * number`, under the name the parser gives it (see `syntax`): DataFusion's
/// planner refuses the operator before any rewrite could see it.
pub fn functions() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(IntervalFn { i: I::Scale, signature: Signature::any(2, Volatility::Immutable) })]
}

fn udf(i: I) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(IntervalFn { i, signature: Signature::any(2, Volatility::Immutable) }))
}

impl ScalarUDFImpl for IntervalFn {
    fn name(&self) -> &str {
        match self.i {
            I::Scale => "athena_interval_scale",
            I::Days => "athena_date_difference",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(MONTH_DAY_NANO)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::shared::invoke(&args, |a, n| {
            let out: IntervalMonthDayNanoArray = match self.i {
                I::Scale => {
                    let intervals = arrow::compute::cast(&a[0], &MONTH_DAY_NANO)?;
                    let intervals = intervals.as_primitive::<IntervalMonthDayNanoType>();
                    let factors = arrow::compute::cast(&a[1], &DataType::Float64)?;
                    let factors = factors.as_primitive::<Float64Type>();
                    let mut out = Vec::with_capacity(n);
                    for i in 0..n {
                        if intervals.is_null(i) || factors.is_null(i) {
                            out.push(None);
                            continue;
                        }
                        let (v, f) = (intervals.value(i), factors.value(i));
                        if v.months != 0 && (v.days != 0 || v.nanoseconds != 0) {
                            return exec_err!("an interval is either year to month or day to second");
                        }
                        if v.months != 0 {
                            out.push(Some(IntervalMonthDayNano::new((v.months as f64 * f).round() as i32, 0, 0)));
                        } else {
                            // Day to second: milliseconds, as Trino keeps them.
                            let ms = (v.days as f64 * 86_400_000.0 + v.nanoseconds as f64 / 1e6) * f;
                            if !ms.is_finite() || ms.abs() > i64::MAX as f64 / 1e6 {
                                return exec_err!("interval overflow");
                            }
                            out.push(Some(IntervalMonthDayNano::new(0, 0, ms.round() as i64 * 1_000_000)));
                        }
                    }
                    out.into_iter().collect()
                }
                I::Days => {
                    let (x, y) = (a[0].as_primitive::<Date32Type>(), a[1].as_primitive::<Date32Type>());
                    (0..n)
                        .map(|i| {
                            (x.is_valid(i) && y.is_valid(i))
                                .then(|| IntervalMonthDayNano::new(0, x.value(i) - y.value(i), 0))
                        })
                        .collect()
                }
            };
            let out: ArrayRef = Arc::new(out);
            Ok(out)
        })
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
        let seconds = |t: &DataType| matches!(t, DataType::Timestamp(TimeUnit::Second, None));
        // An interval literal of whole months is Trino's `interval year to month`, which keeps
        // the timestamp's precision.
        let months_only = |e: &Expr| {
            matches!(e, Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(v)), _) if v.days == 0 && v.nanoseconds == 0)
                || matches!(e, Expr::Literal(ScalarValue::IntervalYearMonth(_), _))
        };
        let call = |i: I, args: Vec<Expr>| Expr::ScalarFunction(ScalarFunction::new_udf(udf(i), args));
        let rewritten = match op {
            Operator::Multiply if interval(&l) && number(&r) => call(I::Scale, vec![*left.clone(), *right.clone()]),
            Operator::Multiply if number(&l) && interval(&r) => call(I::Scale, vec![*right.clone(), *left.clone()]),
            Operator::Divide if interval(&l) && number(&r) => {
                let inverse = Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(datafusion::logical_expr::lit(1.0_f64)),
                    Operator::Divide,
                    Box::new(right.as_ref().clone().cast_to(&DataType::Float64, schema)?),
                ));
                call(I::Scale, vec![*left.clone(), inverse])
            }
            Operator::Minus if l == DataType::Date32 && r == DataType::Date32 => {
                call(I::Days, vec![*left.clone(), *right.clone()])
            }
            // A timestamp(0) plus an interval of days to seconds is a timestamp(3) in Trino (the
            // interval's own precision), so that `+ INTERVAL '1.5' SECOND` keeps its fraction.
            Operator::Plus | Operator::Minus if seconds(&l) && interval(&r) && !months_only(right) => {
                let millis =
                    left.as_ref().clone().cast_to(&DataType::Timestamp(TimeUnit::Millisecond, None), schema)?;
                Expr::BinaryExpr(BinaryExpr::new(Box::new(millis), *op, right.clone()))
            }
            Operator::Plus if interval(&l) && seconds(&r) && !months_only(left) => {
                let millis =
                    right.as_ref().clone().cast_to(&DataType::Timestamp(TimeUnit::Millisecond, None), schema)?;
                Expr::BinaryExpr(BinaryExpr::new(left.clone(), *op, Box::new(millis)))
            }
            _ => return Ok(Transformed::no(expr)),
        };
        Ok(Transformed::yes(rewritten))
    }
}
