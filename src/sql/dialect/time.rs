//! Trino's `time(p)` beside other values: times of two precisions compare, in nanoseconds
//! (DataFusion found no common type for `Time32(s)` and `Time32(ms)`), and a time plus or minus
//! an interval of days to seconds has at least milliseconds (`TIME '12:34:56' + INTERVAL '1.123'
//! SECOND` is `12:34:57.123`; Arrow kept the time's unit and dropped them), wrapping around
//! midnight.

use std::sync::Arc;

use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Between, BinaryExpr, Expr, ExprSchemable, Operator, lit};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::function::udf;
use super::precision::{Precision, digits, natural, time_type};

/// The rewrite, before types are coerced.
#[derive(Debug)]
pub struct TimeArithmetic;

/// `=`, `<`, ... of times of two precisions, planned as comparisons in nanoseconds: asked
/// before DataFusion's own planner, which fails while it plans them.
#[derive(Debug)]
pub struct TimeComparisons;

impl ExprPlanner for TimeComparisons {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        let op = match expr.op {
            BinaryOperator::Eq => Operator::Eq,
            BinaryOperator::NotEq => Operator::NotEq,
            BinaryOperator::Lt => Operator::Lt,
            BinaryOperator::LtEq => Operator::LtEq,
            BinaryOperator::Gt => Operator::Gt,
            BinaryOperator::GtEq => Operator::GtEq,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        if !mixed_times(&[expr.left.get_type(schema).ok(), expr.right.get_type(schema).ok()]) {
            return Ok(PlannerResult::Original(expr));
        }
        let compared = BinaryExpr::new(Box::new(nanos(&expr.left)), op, Box::new(nanos(&expr.right)));
        Ok(PlannerResult::Planned(Expr::BinaryExpr(compared)))
    }
}

/// Whether `t` is a time of day, of any precision.
pub(super) fn is_time(t: &DataType) -> bool {
    matches!(t, DataType::Time32(_) | DataType::Time64(_))
}

/// Whether these are all times, of more than one precision.
fn mixed_times(types: &[Option<DataType>]) -> bool {
    types.iter().all(|t| t.as_ref().is_some_and(is_time)) && types.iter().any(|t| *t != types[0])
}

/// Nanoseconds hold every precision, so times of two compare there.
fn nanos(e: &Expr) -> Expr {
    Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(e.clone()), DataType::Time64(TimeUnit::Nanosecond)))
}

impl FunctionRewrite for TimeArithmetic {
    fn name(&self) -> &str {
        "athena_time_arithmetic"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _: &ConfigOptions) -> Result<Transformed<Expr>> {
        let time = |e: &Expr| e.get_type(schema).ok().filter(is_time);
        if let Expr::Between(b) = &expr {
            if mixed_times(&[&b.expr, &b.low, &b.high].map(|e| time(e))) {
                let between = Between::new(
                    Box::new(nanos(&b.expr)),
                    b.negated,
                    Box::new(nanos(&b.low)),
                    Box::new(nanos(&b.high)),
                );
                return Ok(Transformed::yes(Expr::Between(between)));
            }
            return Ok(Transformed::no(expr));
        }
        if let Expr::InList(list) = &expr {
            let types: Vec<_> = std::iter::once(&*list.expr).chain(&list.list).map(time).collect();
            if mixed_times(&types) {
                let nanos_list = list.list.iter().map(nanos).collect();
                return Ok(Transformed::yes(Expr::InList(InList::new(
                    Box::new(nanos(&list.expr)),
                    nanos_list,
                    list.negated,
                ))));
            }
            return Ok(Transformed::no(expr));
        }
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else { return Ok(Transformed::no(expr)) };
        let interval = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Interval(_)));
        match op {
            Operator::IsDistinctFrom | Operator::IsNotDistinctFrom if mixed_times(&[time(left), time(right)]) => {
                let compared = BinaryExpr::new(Box::new(nanos(left)), *op, Box::new(nanos(right)));
                Ok(Transformed::yes(Expr::BinaryExpr(compared)))
            }
            Operator::Plus | Operator::Minus => {
                let time_left = time(left).is_some() && interval(right);
                let time_right = *op == Operator::Plus && interval(left) && time(right).is_some();
                let moment = match (time_left, time_right) {
                    (true, _) => left,
                    (_, true) => right,
                    _ => return Ok(Transformed::no(expr)),
                };
                let Some(p) = moment.to_field(schema).ok().and_then(|(_, f)| digits(&f)) else {
                    return Ok(Transformed::no(expr));
                };
                let out = p.max(3);
                let held = time_type(out);
                let (DataType::Time32(unit) | DataType::Time64(unit)) = &held else { unreachable!("a time type") };
                let natural = natural(unit) == out;
                if natural && moment.get_type(schema)? == held {
                    return Ok(Transformed::no(expr));
                }
                let widened = moment.as_ref().clone().cast_to(&held, schema)?;
                let (l, r) = if time_left { (widened, *right.clone()) } else { (*left.clone(), widened) };
                let sum = Expr::BinaryExpr(BinaryExpr::new(Box::new(l), *op, Box::new(r)));
                Ok(Transformed::yes(if natural {
                    sum
                } else {
                    Expr::ScalarFunction(ScalarFunction::new_udf(
                        Arc::new(udf(Precision)),
                        vec![sum, lit(i64::from(out))],
                    ))
                }))
            }
            _ => Ok(Transformed::no(expr)),
        }
    }
}
