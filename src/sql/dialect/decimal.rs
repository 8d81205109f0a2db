//! Trino's decimal rules where DataFusion's differ: on a finance lake the scale of a result
//! is part of the answer.
//!
//! - `a / b` on decimals has the larger of the two scales, rounded half up
//!   (`DECIMAL '1' / DECIMAL '3'` is `0`, `1.0 / 3` is `0.3`); DataFusion widens the scale
//!   (`0.33333333333333`).
//! - A decimal or a double cast to an integer rounds half away from zero (`CAST(2.5 AS
//!   INTEGER)` is `3`); DataFusion truncates.
//! - `round(x, d)` of a decimal keeps the scale of `x` (`round(2.45, 1)` is `2.50`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ArrowNativeTypeOp, AsArray, Decimal128Array};
use arrow::datatypes::{DataType, Decimal128Type, i256};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    BinaryExpr, Cast, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, TryCast, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

/// The type of `decimal(p1, s1) / decimal(p2, s2)` in Trino (`p2` does not count).
fn quotient_type(p1: u8, s1: i8, s2: i8) -> DataType {
    let (s1, s2) = (s1.max(0) as u8, s2.max(0) as u8);
    let precision = (p1 as u32 + s2 as u32 + s2.saturating_sub(s1) as u32).min(38) as u8;
    DataType::Decimal128(precision.max(1), s1.max(s2) as i8)
}

fn decimal_parts(t: &DataType) -> Option<(u8, i8)> {
    match t {
        DataType::Decimal128(p, s) => Some((*p, *s)),
        DataType::Int8 | DataType::UInt8 => Some((3, 0)),
        DataType::Int16 | DataType::UInt16 => Some((5, 0)),
        DataType::Int32 | DataType::UInt32 => Some((10, 0)),
        DataType::Int64 | DataType::UInt64 => Some((19, 0)),
        _ => None,
    }
}

/// `a / b` of decimals as Trino divides them.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Quotient {
    signature: Signature,
}

impl ScalarUDFImpl for Quotient {
    fn name(&self) -> &str {
        "athena_decimal_divide"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match (decimal_parts(&args[0]), decimal_parts(&args[1])) {
            (Some((p1, s1)), Some((_, s2))) => Ok(quotient_type(p1, s1, s2)),
            _ => exec_err!("decimal division of {} and {}", args[0], args[1]),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let DataType::Decimal128(precision, scale) = args.return_field.data_type().clone() else {
            return exec_err!("decimal division returns a decimal");
        };
        super::shared::invoke(&args, |arrays, n| {
            let as_decimal = |array: &ArrayRef| -> Result<(ArrayRef, i8)> {
                let (p, s) = decimal_parts(array.data_type()).unwrap_or((38, 0));
                Ok((arrow::compute::cast(array, &DataType::Decimal128(p.max(1), s))?, s))
            };
            let ((a, s1), (b, s2)) = (as_decimal(&arrays[0])?, as_decimal(&arrays[1])?);
            let (a, b) = (a.as_primitive::<Decimal128Type>(), b.as_primitive::<Decimal128Type>());
            // a / 10^s1 ÷ b / 10^s2, at `scale`: a · 10^(scale + s2 - s1) ÷ b, rounded half up.
            let shift = i256::from_i128(10).pow_wrapping((scale as i32 + s2 as i32 - s1 as i32) as u32);
            let limit = i256::from_i128(10).pow_wrapping(precision as u32);
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                if a.is_null(i) || b.is_null(i) {
                    out.push(None);
                    continue;
                }
                let (x, y) = (i256::from_i128(a.value(i)), i256::from_i128(b.value(i)));
                if y == i256::ZERO {
                    return exec_err!("Division by zero");
                }
                let num = x.wrapping_mul(shift);
                let (q, r) = (num.wrapping_div(y), num.wrapping_rem(y));
                let twice = r.wrapping_abs().wrapping_mul(i256::from_i128(2));
                let q = if twice >= y.wrapping_abs() {
                    if (num < i256::ZERO) != (y < i256::ZERO) {
                        q.wrapping_sub(i256::ONE)
                    } else {
                        q.wrapping_add(i256::ONE)
                    }
                } else {
                    q
                };
                if q.wrapping_abs() >= limit {
                    return exec_err!("Decimal overflow: the quotient does not fit DECIMAL({precision}, {scale})");
                }
                out.push(q.to_i128());
            }
            Ok(Arc::new(Decimal128Array::from(out).with_precision_and_scale(precision, scale)?) as ArrayRef)
        })
    }
}

/// Applies the rules above once types are coerced.
#[derive(Debug, Default)]
pub struct DecimalRules;

impl AnalyzerRule for DecimalRules {
    fn name(&self) -> &str {
        "athena_decimal_rules"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let divide =
            Arc::new(ScalarUDF::new_from_impl(Quotient { signature: Signature::any(2, Volatility::Immutable) }));
        super::shared::rewrite_expressions(plan, |e, schema| rule(e, schema, &divide))
    }
}

/// An integer operand as itself, not under the cast to a decimal coercion gives it (its scale
/// is 0 either way; Trino's precision for it is its type's).
fn uncoerced(e: &Expr, schema: &DFSchema) -> Expr {
    match e {
        Expr::Cast(Cast { expr, field })
            if matches!(field.data_type(), DataType::Decimal128(_, 0))
                && expr.get_type(schema).is_ok_and(|t| t.is_integer()) =>
        {
            expr.as_ref().clone()
        }
        _ => e.clone(),
    }
}

fn rule(e: Expr, schema: &DFSchema, divide: &Arc<ScalarUDF>) -> Result<Transformed<Expr>> {
    match &e {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Divide, right }) => {
            let (l, r) = (uncoerced(left, schema), uncoerced(right, schema));
            let (lt, rt) = (l.get_type(schema)?, r.get_type(schema)?);
            let decimal = matches!(lt, DataType::Decimal128(..)) || matches!(rt, DataType::Decimal128(..));
            if decimal && decimal_parts(&lt).is_some() && decimal_parts(&rt).is_some() {
                return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(divide.clone(), vec![l, r]))));
            }
            Ok(Transformed::no(e))
        }
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) if field.data_type().is_integer() => {
            let rounded = match expr.get_type(schema)? {
                DataType::Decimal128(p, s) if s > 0 => {
                    expr.as_ref().clone().cast_to(&DataType::Decimal128(p, 0), schema)?
                }
                DataType::Float64 | DataType::Float32 => {
                    datafusion::functions::math::expr_fn::round(vec![expr.as_ref().clone()])
                }
                _ => return Ok(Transformed::no(e)),
            };
            let target = field.data_type().clone();
            Ok(Transformed::yes(match &e {
                Expr::TryCast(_) => Expr::TryCast(TryCast::new(Box::new(rounded), target)),
                _ => Expr::Cast(Cast::new(Box::new(rounded), target)),
            }))
        }
        Expr::ScalarFunction(f) if f.name() == "round" && f.args.len() == 2 => match f.args[0].get_type(schema)? {
            // DataFusion's result has the scale `d`, known only once `d` is (not always here).
            DataType::Decimal128(p, s) => {
                let keep = DataType::Decimal128((p + 1).min(38), s);
                Ok(Transformed::yes(Expr::Cast(Cast::new(Box::new(e.clone()), keep))))
            }
            _ => Ok(Transformed::no(e)),
        },
        _ => Ok(Transformed::no(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotients_take_the_larger_scale() {
        assert_eq!(quotient_type(1, 0, 0), DataType::Decimal128(1, 0));
        assert_eq!(quotient_type(2, 1, 0), DataType::Decimal128(2, 1));
        assert_eq!(quotient_type(5, 2, 3), DataType::Decimal128(9, 3));
        assert_eq!(quotient_type(38, 10, 10), DataType::Decimal128(38, 10));
    }
}
