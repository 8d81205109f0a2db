//! `array[i]` as Trino reads it: an index outside the array is an error, not NULL
//! (`ARRAY[1, 2][3]` fails with "Array subscript must be less than or equal to array length",
//! `[0]` with "SQL array indices start at 1"); `element_at` is the lenient form. DataFusion
//! plans a subscript as `array_element`, which answers NULL: [`StrictSubscripts`] puts this
//! function in its place before `element_at` is simplified into `array_element` too.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, Int64Type};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, exec_err, plan_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{Expr, ScalarUDF};

use super::array::{array, element};
use super::function::{Args, Function, udf};
use super::shared::{arity, bigint};

/// An array's element by a 1-based index that must lie within it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Subscript;

impl Function for Subscript {
    fn name(&self) -> &'static str {
        "athena_array_subscript"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(vec![array(self.name(), &t[0])?, bigint(self.name(), &t[1])?])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        match element(&t[0]) {
            Some(e) => Ok(e),
            None => plan_err!("a subscript of {}", t[0]),
        }
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (lists, indexes) = (args.column(0)?, args.column(1)?);
        let (lists, indexes) = (lists.as_list::<i32>(), indexes.as_primitive::<Int64Type>());
        let offsets = lists.value_offsets();
        let mut picks = Vec::with_capacity(args.rows);
        for i in 0..args.rows {
            if lists.is_null(i) || indexes.is_null(i) {
                picks.push(None);
                continue;
            }
            let (k, length) = (indexes.value(i), i64::from(offsets[i + 1] - offsets[i]));
            match k {
                0 => return exec_err!("SQL array indices start at 1"),
                ..0 => return exec_err!("Array subscript is negative: {k}"),
                k if k > length => {
                    return exec_err!("Array subscript must be less than or equal to array length: {k} > {length}");
                }
                k => picks.push(Some((i64::from(offsets[i]) + k - 1) as u32)),
            }
        }
        Ok(take(lists.values(), &UInt32Array::from(picks), None)?)
    }
}

/// Puts [`Subscript`] in place of the `array_element` a subscript is planned as.
#[derive(Debug)]
pub struct StrictSubscripts {
    subscript: Arc<ScalarUDF>,
}

impl Default for StrictSubscripts {
    fn default() -> Self {
        StrictSubscripts { subscript: Arc::new(udf(Subscript)) }
    }
}

impl FunctionRewrite for StrictSubscripts {
    fn name(&self) -> &str {
        "athena_strict_subscripts"
    }

    fn rewrite(&self, expr: Expr, _: &DFSchema, _: &ConfigOptions) -> Result<Transformed<Expr>> {
        match expr {
            Expr::ScalarFunction(f) if f.func.name() == "array_element" && f.args.len() == 2 => {
                Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(self.subscript.clone(), f.args))))
            }
            other => Ok(Transformed::no(other)),
        }
    }
}

/// `row[i]`: a row's field by its 1-based position (`s[1]` of a row-typed lambda state), which
/// DataFusion plans as an array's element and refuses. The index must be a constant, as in
/// Trino; asked before DataFusion's own planner of subscripts.
#[derive(Debug)]
pub struct RowIndex;

impl datafusion::logical_expr::planner::ExprPlanner for RowIndex {
    fn plan_field_access(
        &self,
        expr: datafusion::logical_expr::planner::RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> Result<datafusion::logical_expr::planner::PlannerResult<datafusion::logical_expr::planner::RawFieldAccessExpr>>
    {
        use datafusion::common::ScalarValue;
        use datafusion::logical_expr::planner::PlannerResult;
        use datafusion::logical_expr::{ExprSchemable, GetFieldAccess};
        let GetFieldAccess::ListIndex { key } = &expr.field_access else { return Ok(PlannerResult::Original(expr)) };
        let Ok(DataType::Struct(fields)) = expr.expr.get_type(schema) else { return Ok(PlannerResult::Original(expr)) };
        let Expr::Literal(index, _) = key.as_ref() else { return plan_err!("a row's subscript must be a constant") };
        let position = match index.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(i))) => i,
            _ => return plan_err!("a row's subscript must be an integer, got {index}"),
        };
        let Some(field) = usize::try_from(position - 1).ok().and_then(|i| fields.get(i)) else {
            return plan_err!("Invalid subscript index: {position}, the row has {} fields", fields.len());
        };
        let access = datafusion::functions::core::expr_fn::get_field(expr.expr, field.name().as_str());
        Ok(PlannerResult::Planned(access))
    }
}
