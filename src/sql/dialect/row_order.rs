//! `<`, `<=`, `>`, `>=` of rows as Trino orders them: field by field, and a NULL field reached
//! before the rows differ is an error ("ROW comparison not supported for fields with null
//! elements"), where DataFusion sorted the NULL first and answered (`ROW(1, NULL) < ROW(1, 2)`
//! was true). `=` and `<>` are three-valued already and stay DataFusion's.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, make_comparator};
use arrow::compute::{SortOptions, cast};
use arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::function::{Args, Function, udf};
use super::shared::arity;

/// Plans an ordering comparison of two rows on the left row checked against the right one.
#[derive(Debug)]
pub struct RowOrdering;

impl ExprPlanner for RowOrdering {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        let op = match expr.op {
            BinaryOperator::Lt => Operator::Lt,
            BinaryOperator::LtEq => Operator::LtEq,
            BinaryOperator::Gt => Operator::Gt,
            BinaryOperator::GtEq => Operator::GtEq,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        let is_row = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Struct(_)));
        if !(is_row(&expr.left) && is_row(&expr.right)) {
            return Ok(PlannerResult::Original(expr));
        }
        let checked = ScalarFunction::new_udf(Arc::new(udf(Ordered)), vec![expr.left, expr.right.clone()]);
        let compared = BinaryExpr::new(Box::new(Expr::ScalarFunction(checked)), op, Box::new(expr.right));
        Ok(PlannerResult::Planned(Expr::BinaryExpr(compared)))
    }
}

/// `athena_row_ordered(a, b)`: `a`, once every row pair has been walked as Trino's ordering
/// walks it (to the first field that differs), no NULL field met on the way.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Ordered;

impl Function for Ordered {
    fn name(&self) -> &'static str {
        "athena_row_ordered"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (left, right) = (args.column(0)?, args.column(1)?);
        let (l, r) = (left.as_struct(), right.as_struct());
        // Fields of two types compare in the type comparison coerces both to (`1` and `1.5`
        // differ); a field NULL all through (`ROW(1, NULL)`) is untyped, with no order at all.
        let fields: Vec<(ArrayRef, ArrayRef)> = l
            .columns()
            .iter()
            .zip(r.columns())
            .map(|(a, b)| match (a.data_type(), b.data_type()) {
                (x, y) if x == y || x.is_null() || y.is_null() => Ok((a.clone(), b.clone())),
                (x, y) => match comparison_coercion(x, y) {
                    Some(common) => Ok((cast(a, &common)?, cast(b, &common)?)),
                    None => Ok((a.clone(), b.clone())),
                },
            })
            .collect::<Result<_>>()?;
        let comparators = fields
            .iter()
            .map(|(a, b)| make_comparator(a.as_ref(), b.as_ref(), SortOptions::default()).ok())
            .collect::<Vec<_>>();
        let null = |a: &ArrayRef, i: usize| a.data_type().is_null() || a.is_null(i);
        for i in (0..args.rows).filter(|&i| l.is_valid(i) && r.is_valid(i)) {
            for ((a, b), compare) in fields.iter().zip(&comparators) {
                if null(a, i) || null(b, i) {
                    return exec_err!("ROW comparison not supported for fields with null elements");
                }
                if compare.as_ref().is_none_or(|c| c(i, i) != Ordering::Equal) {
                    break;
                }
            }
        }
        Ok(left)
    }
}
