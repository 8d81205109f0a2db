//! A decimal beside a double is a double, as in Trino: a decimal coerces to `double` (and to
//! `real`), never the other way. DataFusion casts the double to `decimal(30, 15)` instead, so
//! `1.0 = nan()` failed ("Cannot cast to Decimal128(30, 15)"), `1.5 = 1.5000000000000001e0`
//! was true, and `coalesce(1.0, 2e0)` was a decimal.
//!
//! The rewrite runs before types are coerced, on each group of expressions that must end in
//! one type: the sides of a comparison, `BETWEEN`'s three, `IN`'s value and list, `CASE`'s
//! operand and `WHEN`s and its results, and the arguments of `coalesce`, `if`'s
//! results, `greatest`, `least` and the array constructor. When a group holds a double (or a real) and
//! a decimal, its decimals are cast to that type; the coercion that follows then finds nothing
//! to widen.

use std::iter::once;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, Result, ScalarValue, TableReference};
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{
    Cast, Distinct, Expr, ExprSchemable, LogicalPlan, Operator, Projection, Union, Values, cast,
};
use datafusion::optimizer::AnalyzerRule;

/// The rewrite, registered as a function rewrite (it runs before type coercion).
#[derive(Debug)]
pub struct FloatOverDecimal;

impl FunctionRewrite for FloatOverDecimal {
    fn name(&self) -> &str {
        "athena_float_over_decimal"
    }

    fn rewrite(&self, mut expr: Expr, schema: &DFSchema, _: &ConfigOptions) -> Result<Transformed<Expr>> {
        let changed = match &mut expr {
            Expr::BinaryExpr(b) if compares(b.op) => unify(vec![&mut b.left, &mut b.right], schema),
            Expr::Between(b) => unify(vec![&mut b.expr, &mut b.low, &mut b.high], schema),
            Expr::InList(i) => unify(once(i.expr.as_mut()).chain(&mut i.list).collect(), schema),
            Expr::Case(c) => {
                let (whens, thens): (Vec<&mut Expr>, Vec<&mut Expr>) =
                    c.when_then_expr.iter_mut().map(|(w, t)| (w.as_mut(), t.as_mut())).unzip();
                let operands = match &mut c.expr {
                    Some(operand) => unify(once(operand.as_mut()).chain(whens).collect(), schema),
                    None => false,
                };
                unify(thens.into_iter().chain(c.else_expr.as_deref_mut()).collect(), schema) | operands
            }
            Expr::ScalarFunction(f) => match f.func.name() {
                "coalesce" | "greatest" | "least" | "make_array" => unify(f.args.iter_mut().collect(), schema),
                "if" => unify(f.args.iter_mut().skip(1).collect(), schema),
                _ => false,
            },
            _ => false,
        };
        Ok(Transformed::new_transformed(expr, changed))
    }
}

fn compares(op: Operator) -> bool {
    use Operator::*;
    matches!(op, Eq | NotEq | Lt | LtEq | Gt | GtEq | IsDistinctFrom | IsNotDistinctFrom)
}

/// Casts the decimals of a group to its floating type when it has one, at any depth of arrays
/// and rows (`ARRAY[ROW(1.0), ROW(nan())]` is an array of row(double)); whether it did.
fn unify(exprs: Vec<&mut Expr>, schema: &DFSchema) -> bool {
    let types: Vec<Option<DataType>> = exprs.iter().map(|e| e.get_type(schema).ok()).collect();
    let Some(target) = types.iter().flatten().cloned().reduce(|a, b| merge(&a, &b)) else { return false };
    let mut changed = false;
    for (e, t) in exprs.into_iter().zip(types) {
        let Some(t) = t else { continue };
        let floated = adjust(&t, &target);
        if floated != t {
            *e = cast(e.clone(), floated);
            changed = true;
        }
    }
    changed
}

/// Where either type has a float, the float (a real when the other is no double); arrays and
/// rows position by position.
fn merge(a: &DataType, b: &DataType) -> DataType {
    pairwise(a, b, &|a, b| match (a, b) {
        (DataType::Float64, _) | (_, DataType::Float64) => DataType::Float64,
        (DataType::Float32, _) | (_, DataType::Float32) => DataType::Float32,
        _ => a.clone(),
    })
}

/// `t` with each decimal replaced by the float `target` has in its place.
fn adjust(t: &DataType, target: &DataType) -> DataType {
    pairwise(t, target, &|t, target| match (t, target) {
        (DataType::Decimal128(..) | DataType::Decimal256(..), DataType::Float64 | DataType::Float32) => target.clone(),
        _ => t.clone(),
    })
}

/// `a` rebuilt position by position beside `b` (their arrays' elements, their rows' fields),
/// each pair of other types given by `leaf`.
fn pairwise(a: &DataType, b: &DataType, leaf: &dyn Fn(&DataType, &DataType) -> DataType) -> DataType {
    match (a, b) {
        (DataType::List(fa), DataType::List(fb)) => {
            DataType::List(Arc::new(fa.as_ref().clone().with_data_type(pairwise(fa.data_type(), fb.data_type(), leaf))))
        }
        (DataType::Struct(fa), DataType::Struct(fb)) if fa.len() == fb.len() => DataType::Struct(
            fa.iter()
                .zip(fb.iter())
                .map(|(x, y)| x.as_ref().clone().with_data_type(pairwise(x.data_type(), y.data_type(), leaf)))
                .collect(),
        ),
        _ => leaf(a, b),
    }
}

/// The same rule for the rows of `VALUES` and the inputs of a `UNION`, whose column types the
/// planner has already widened the other way: a column holding a double in one row (or input)
/// and a decimal in another is a double. Runs before type coercion (the analyzer's first rule).
#[derive(Debug)]
pub struct FloatOverDecimalRows;

impl AnalyzerRule for FloatOverDecimalRows {
    fn name(&self) -> &str {
        "athena_float_over_decimal_rows"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        Ok(plan
            .transform_up_with_subqueries(|plan| match plan {
                LogicalPlan::Values(v) => values(v),
                LogicalPlan::Union(u) => union(u),
                other => Ok(Transformed::no(other)),
            })?
            .data)
    }
}

/// The floating type a column of these types takes, when it holds a decimal too.
fn float_of(types: &[DataType]) -> Option<DataType> {
    let decimal = types.iter().any(|t| matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)));
    let float = [DataType::Float64, DataType::Float32].into_iter().find(|f| types.contains(f));
    float.filter(|_| decimal)
}

fn values(mut v: Values) -> Result<Transformed<LogicalPlan>> {
    let empty = DFSchema::empty();
    let mut changed = false;
    let mut fields: Vec<(Option<TableReference>, FieldRef)> =
        v.schema.iter().map(|(q, f)| (q.cloned(), f.clone())).collect();
    for (j, (_, field)) in fields.iter_mut().enumerate() {
        // Each row's value as written: the planner cast it to the column's type (and typed
        // its NULLs so).
        let written = |e: &Expr| match e {
            Expr::Cast(Cast { expr, field: to }) if to.data_type() == field.data_type() => Some(expr.as_ref().clone()),
            Expr::Literal(value, _) if value.is_null() => None,
            e => Some(e.clone()),
        };
        let originals: Vec<Option<Expr>> = v.values.iter().map(|row| written(&row[j])).collect();
        let types: Vec<DataType> = originals.iter().flatten().filter_map(|e| e.get_type(&empty).ok()).collect();
        let Some(float) = float_of(&types) else { continue };
        for (row, original) in v.values.iter_mut().zip(originals) {
            row[j] = match original {
                Some(e) if e.get_type(&empty).ok().as_ref() == Some(&float) => e,
                Some(e) => cast(e, float.clone()),
                None => Expr::Literal(ScalarValue::try_from(&float)?, None),
            };
        }
        *field = Arc::new(field.as_ref().clone().with_data_type(float));
        changed = true;
    }
    if changed {
        v.schema = Arc::new(DFSchema::new_with_metadata(fields, v.schema.metadata().clone())?);
    }
    Ok(Transformed::new_transformed(LogicalPlan::Values(v), changed))
}

fn union(u: Union) -> Result<Transformed<LogicalPlan>> {
    let columns = u.schema.fields().len();
    let floats: Vec<Option<DataType>> = (0..columns)
        .map(|j| {
            let mut types = vec![];
            column_types(&LogicalPlan::Union(u.clone()), j, &mut types);
            float_of(&types)
        })
        .collect();
    if floats.iter().all(Option::is_none) {
        return Ok(Transformed::no(LogicalPlan::Union(u)));
    }
    let inputs = u
        .inputs
        .into_iter()
        .map(|input| {
            let exprs: Vec<Expr> = input
                .schema()
                .iter()
                .zip(&floats)
                .map(|((q, f), float)| {
                    let column = Expr::Column(Column::new(q.cloned(), f.name()));
                    match float {
                        // Not only decimals: an input that is a union of its own may become one.
                        Some(t) if f.data_type() != t => cast(column, t.clone()).alias_qualified(q.cloned(), f.name()),
                        _ => column,
                    }
                })
                .collect();
            Ok(Arc::new(LogicalPlan::Projection(Projection::try_new(exprs, input)?)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Transformed::yes(LogicalPlan::Union(Union::try_new_with_loose_types(inputs)?)))
}

/// The types column `j` of a plan has before coercion: through unions (`UNION ALL`, and
/// `UNION`'s distinct) its own and every input's, since coercion starts from the union's own
/// type and widens it by each input's.
fn column_types(plan: &LogicalPlan, j: usize, out: &mut Vec<DataType>) {
    out.extend(plan.schema().fields().get(j).map(|f| f.data_type().clone()));
    match plan {
        LogicalPlan::Union(u) => u.inputs.iter().for_each(|i| column_types(i, j, out)),
        LogicalPlan::Distinct(Distinct::All(input)) => column_types(input, j, out),
        _ => {}
    }
}
