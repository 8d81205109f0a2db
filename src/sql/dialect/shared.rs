//! What the dialect's functions and rules share: reading arguments' types, values as
//! comparable rows, and rewriting every expression of a plan once its types are known.

use std::cell::Cell;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, plan_err};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan};

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use arrow::row::{RowConverter, Rows, SortField};

/// Rewrites every expression of `plan` and its subqueries bottom up with `rule`, which sees the
/// schema the expression's columns come from; results keep their names.
pub fn rewrite_expressions(
    plan: LogicalPlan,
    rule: impl Fn(Expr, &DFSchema) -> Result<Transformed<Expr>>,
) -> Result<LogicalPlan> {
    rewrite_whole_expressions(plan, |expr, schema| Ok(expr.transform_up(|e| rule(e, schema))?.data))
}

/// Rewrites each expression of `plan` and its subqueries as a whole with `rewrite`, which
/// sees the schema the expression's columns come from; results keep their names.
pub fn rewrite_whole_expressions(
    plan: LogicalPlan,
    rewrite: impl Fn(Expr, &DFSchema) -> Result<Expr>,
) -> Result<LogicalPlan> {
    walk(plan, rewrite, None)
}

/// [`rewrite_expressions`] for a rule that changes what an expression's field says (its type, or
/// metadata such as a timestamp's precision): each plan's schema is recomputed from its
/// rewritten expressions, so that the plans above see the change. Plans are walked bottom up, so
/// once the rule has changed something every plan after it is recomputed; until then none is.
pub fn retype_expressions(
    plan: LogicalPlan,
    rule: impl Fn(Expr, &DFSchema) -> Result<Transformed<Expr>>,
) -> Result<LogicalPlan> {
    let changed = Cell::new(false);
    let rewrite = |expr: Expr, schema: &DFSchema| {
        let rewritten = expr.transform_up(|e| rule(e, schema))?;
        changed.set(changed.get() || rewritten.transformed);
        Ok(rewritten.data)
    };
    walk(plan, rewrite, Some(&changed))
}

/// Rewrites each expression of each plan; recomputes a plan's schema once `changed` is set.
fn walk(
    plan: LogicalPlan,
    rewrite: impl Fn(Expr, &DFSchema) -> Result<Expr>,
    changed: Option<&Cell<bool>>,
) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|plan| {
        // The inputs' schemas type the columns the expressions refer to (a scan: its own).
        let mut schema = match plan.inputs().first() {
            Some(first) => first.schema().as_ref().clone(),
            None => plan.schema().as_ref().clone(),
        };
        for input in plan.inputs().iter().skip(1) {
            schema.merge(input.schema());
        }
        let preserver = NamePreserver::new(&plan);
        let rewritten = plan.map_expressions(|expr| {
            let saved = preserver.save(&expr);
            Ok(Transformed::yes(saved.restore(rewrite(expr, &schema)?)))
        })?;
        if changed.is_some_and(Cell::get) { rewritten.map_data(LogicalPlan::recompute_schema) } else { Ok(rewritten) }
    })
    .map(|t| t.data)
}

/// The position of a row's unnamed field (DataFusion names them c0, c1, ...; Trino leaves them
/// unnamed), or `None` for a named one.
pub fn unnamed_field(name: &str) -> Option<usize> {
    name.strip_prefix('c').filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()
}

/// A `CAST` or `TRY_CAST`: what is cast, to which field, and whether it is a `TRY_CAST`.
pub fn cast_of(e: &Expr) -> Option<(&Expr, &arrow::datatypes::FieldRef, bool)> {
    use datafusion::logical_expr::{Cast, TryCast};
    match e {
        Expr::Cast(Cast { expr, field }) => Some((expr, field, false)),
        Expr::TryCast(TryCast { expr, field }) => Some((expr, field, true)),
        _ => None,
    }
}

/// Nanoseconds in a day: Trino's day of an interval or a time of day, 24 hours.
pub const DAY_NANOS: i64 = 86_400_000_000_000;

/// A NULL of type `t`: the second argument of the functions that answer in their second
/// argument's type (a cast's target, which a function's signature cannot carry).
pub fn null_of(t: &DataType) -> Result<Expr> {
    Ok(datafusion::logical_expr::lit(datafusion::common::ScalarValue::try_new_null(t)?))
}

/// Whether each value is not NaN (SQL's NaN equals nothing and orders with nothing; Arrow's
/// total order puts it above everything, equal to itself), or `None` for types without NaN.
pub fn not_nan(values: &dyn arrow::array::Array) -> Option<arrow::buffer::BooleanBuffer> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Float32Type, Float64Type};
    match values.data_type() {
        DataType::Float64 => Some(values.as_primitive::<Float64Type>().values().iter().map(|v| !v.is_nan()).collect()),
        DataType::Float32 => Some(values.as_primitive::<Float32Type>().values().iter().map(|v| !v.is_nan()).collect()),
        _ => None,
    }
}

/// Columns of one type as rows of bytes that compare and hash as their values do, through
/// one converter (rows of different converters need not compare): a batch's values encoded
/// once instead of a value per row.
pub fn rows(columns: &[ArrayRef]) -> Result<Vec<Rows>> {
    let Some(first) = columns.first() else { return Ok(vec![]) };
    let converter = RowConverter::new(vec![SortField::new(first.data_type().clone())])?;
    columns.iter().map(|c| Ok(converter.convert_columns(std::slice::from_ref(c))?)).collect()
}

/// The last day of `d`'s month; `None` past the calendar's end.
pub fn last_day(d: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    d.with_day(1)?.checked_add_months(chrono::Months::new(1))?.pred_opt()
}

/// An argument of `name` that must be a number, read as a double.
pub fn double(name: &str, t: &DataType) -> Result<DataType> {
    if t.is_numeric() || t.is_null() { Ok(DataType::Float64) } else { plan_err!("{name} expects a number, got {t}") }
}

/// Whether a type is a `varbinary` (or NULL, which any type takes).
pub fn is_binary(t: &DataType) -> bool {
    matches!(t, DataType::Binary | DataType::BinaryView | DataType::LargeBinary | DataType::Null)
}

/// An argument of `name` that must be text: any string type (or NULL) as `Utf8`.
pub fn varchar(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null => Ok(DataType::Utf8),
        other => plan_err!("{name} expects a varchar, got {other}"),
    }
}

/// An argument of `name` that must be a `varbinary`: any binary type (or NULL) as `Binary`.
pub fn binary(name: &str, t: &DataType) -> Result<DataType> {
    if is_binary(t) { Ok(DataType::Binary) } else { plan_err!("{name} expects a varbinary, got {t}") }
}

/// An argument of `name` that is bytes or the text that spells them (a decoder's): either as
/// `Binary`, the text's UTF-8 bytes.
pub fn bytes(name: &str, t: &DataType) -> Result<DataType> {
    if is_binary(t) || varchar(name, t).is_ok() {
        Ok(DataType::Binary)
    } else {
        plan_err!("{name} expects a varchar or a varbinary, got {t}")
    }
}

/// An argument of `name` that must be an `integer` (32 bits): a narrower integer (or NULL) as
/// `Int32`; a `bigint` is refused, as Trino refuses it.
pub fn integer(name: &str, t: &DataType) -> Result<DataType> {
    use DataType::*;
    match t {
        Int8 | Int16 | Int32 | UInt8 | UInt16 | Null => Ok(Int32),
        other => plan_err!("{name} expects an integer, got {other}"),
    }
}

/// An argument of `name` that must be a `real`: any number but a `double` (which Trino does not
/// narrow implicitly), or NULL, as `Float32`.
pub fn real(name: &str, t: &DataType) -> Result<DataType> {
    if (t.is_numeric() && t != &DataType::Float64) || t.is_null() {
        Ok(DataType::Float32)
    } else {
        plan_err!("{name} expects a real, got {t}")
    }
}

/// An argument of `name` that must be an integer: any integer type (or NULL) as `Int64`.
pub fn bigint(name: &str, t: &DataType) -> Result<DataType> {
    if t.is_integer() || t.is_null() { Ok(DataType::Int64) } else { plan_err!("{name} expects an integer, got {t}") }
}

/// `name` called with a number of arguments in `range`.
pub fn arity(name: &str, types: &[DataType], range: std::ops::RangeInclusive<usize>) -> Result<()> {
    if range.contains(&types.len()) {
        Ok(())
    } else if range.start() == range.end() {
        plan_err!("{name} takes {} arguments, got {}", range.start(), types.len())
    } else {
        plan_err!("{name} takes {} to {} arguments, got {}", range.start(), range.end(), types.len())
    }
}
