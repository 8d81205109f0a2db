//! NaN compares as Trino compares it: equal to nothing, itself included, and neither less nor
//! greater than anything (`nan() = nan()` is false, `nan() <> nan()` true, `nan() > 1`
//! false), in `BETWEEN` as in a comparison. Arrow orders doubles totally, with NaN above infinity and
//! equal to itself.

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::{Between, BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::optimizer::AnalyzerRule;

/// Rewrites comparisons of doubles, once types are coerced.
#[derive(Debug, Default)]
pub struct NanComparisons;

impl AnalyzerRule for NanComparisons {
    fn name(&self) -> &str {
        "athena_nan_comparisons"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        super::shared::rewrite_expressions(plan, rule)
    }
}

fn is_nan(e: &Expr) -> Expr {
    datafusion::functions::math::expr_fn::isnan(e.clone())
}

fn rule(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    // `x BETWEEN a AND b` is `x >= a AND x <= b` in Trino, NaN's rules included.
    if let Expr::Between(Between { expr, negated, low, high }) = &e
        && [expr, low, high].iter().any(|x| x.get_type(schema).is_ok_and(|t| t.is_floating()))
    {
        let ge = rule(expr.as_ref().clone().gt_eq(low.as_ref().clone()), schema)?.data;
        let le = rule(expr.as_ref().clone().lt_eq(high.as_ref().clone()), schema)?.data;
        let both = ge.and(le);
        return Ok(Transformed::yes(if *negated { !both } else { both }));
    }
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &e else { return Ok(Transformed::no(e)) };
    let compares =
        matches!(op, Operator::Eq | Operator::NotEq | Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq);
    let floats = |x: &Expr| x.get_type(schema).is_ok_and(|t| t.is_floating());
    // Literals that are numbers are never NaN: no need to ask.
    let literal = |x: &Expr| matches!(x, Expr::Literal(v, _) if !v.is_null() && v.data_type().is_floating() && !matches!(v, datafusion::common::ScalarValue::Float64(Some(f)) if f.is_nan()));
    if !compares || !(floats(left) || floats(right)) {
        return Ok(Transformed::no(e));
    }
    let nans: Vec<Expr> =
        [left.as_ref(), right.as_ref()].into_iter().filter(|x| floats(x) && !literal(x)).map(is_nan).collect();
    let Some(any_nan) = nans.into_iter().reduce(Expr::or) else { return Ok(Transformed::no(e)) };
    Ok(Transformed::yes(if *op == Operator::NotEq { e.clone().or(any_nan) } else { e.clone().and(!any_nan) }))
}
