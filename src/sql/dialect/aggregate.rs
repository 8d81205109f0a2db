//! Trino's aggregates that DataFusion can already compute under another form: each is
//! rewritten while the plan is simplified, so it runs on DataFusion's own (grouped,
//! vectorised) accumulators.
//!
//! `count_if(c)` is `count(*) FILTER (WHERE c)`; `arbitrary(x)` is `first_value(x) IGNORE
//! NULLS`; `max_by(x, y)` is `first_value(x ORDER BY y DESC) FILTER (WHERE y IS NOT NULL)`
//! (and `min_by` ascending).

use arrow::datatypes::DataType;
use datafusion::common::{Result, not_impl_err, plan_err};
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::first_last::first_value_udaf;
use datafusion::logical_expr::expr::{AggregateFunction, AggregateFunctionParams, NullTreatment};
use datafusion::logical_expr::function::{AccumulatorArgs, AggregateFunctionSimplification};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, SortExpr, Volatility, lit,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Agg {
    CountIf,
    Arbitrary,
    MaxBy,
    MinBy,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Rewrite {
    agg: Agg,
    name: &'static str,
    signature: Signature,
}

/// The aggregates of the dialect.
pub fn functions() -> Vec<AggregateUDF> {
    [
        (Agg::CountIf, "count_if", 1),
        (Agg::Arbitrary, "arbitrary", 1),
        (Agg::MaxBy, "max_by", 2),
        (Agg::MinBy, "min_by", 2),
    ]
    .into_iter()
    .map(|(agg, name, args)| {
        AggregateUDF::new_from_impl(Rewrite { agg, name, signature: Signature::any(args, Volatility::Immutable) })
    })
    .collect()
}

/// `filter AND extra`, for a rewrite that adds a condition to the user's FILTER.
fn and_filter(filter: Option<Box<Expr>>, extra: Expr) -> Option<Box<Expr>> {
    Some(Box::new(match filter {
        Some(f) => f.and(extra),
        None => extra,
    }))
}

impl AggregateUDFImpl for Rewrite {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        match self.agg {
            Agg::CountIf if t[0] == DataType::Boolean || t[0].is_null() => Ok(DataType::Int64),
            Agg::CountIf => plan_err!("count_if expects a boolean, got {}", t[0]),
            Agg::Arbitrary | Agg::MaxBy | Agg::MinBy => Ok(t[0].clone()),
        }
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        not_impl_err!("{} is not supported as a window function", self.name)
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        let agg = self.agg;
        Some(Box::new(move |f: AggregateFunction, _| {
            let AggregateFunctionParams { mut args, filter, order_by, .. } = f.params;
            let expr = match agg {
                Agg::CountIf => {
                    let cond = args.remove(0);
                    AggregateFunction::new_udf(
                        count_udaf(),
                        vec![lit(1_i64)],
                        false,
                        and_filter(filter, cond.is_true()),
                        vec![],
                        None,
                    )
                }
                Agg::Arbitrary => AggregateFunction::new_udf(
                    first_value_udaf(),
                    args,
                    false,
                    filter,
                    order_by,
                    Some(NullTreatment::IgnoreNulls),
                ),
                Agg::MaxBy | Agg::MinBy => {
                    let by = args.remove(1);
                    let order = vec![SortExpr::new(by.clone(), agg == Agg::MinBy, false)];
                    AggregateFunction::new_udf(
                        first_value_udaf(),
                        args,
                        false,
                        and_filter(filter, by.is_not_null()),
                        order,
                        None,
                    )
                }
            };
            Ok(Expr::AggregateFunction(expr))
        }))
    }
}
