//! The functions that are other expressions in disguise: `if` (a `CASE`), `try` (its
//! argument with the errors Trino's `try` catches turned into NULLs), `typeof` (a constant
//! once types are known) and `element_at` (DataFusion's element access, NULL past the end).

use arrow::array::{ArrayRef, AsArray, StringArray};
use arrow::compute::is_not_null;
use arrow::compute::kernels::zip::zip;
use arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue, exec_err, plan_datafusion_err, plan_err};
use datafusion::functions::core::expr_fn::nullif;
use datafusion::functions_nested::extract::array_element_udf;
use datafusion::functions_nested::map_extract::map_extract_udf;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, Operator, ScalarUDF, TryCast, lit, when};
use std::sync::Arc;

use super::datetime::{DateParse, FromIso8601Date};
use super::function::{Args, Function, downcast, udf};
use super::shared::{arity, bigint};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![udf(If), udf(Try), udf(TypeOf), udf(ElementAt)]
}

/// `if(condition, then[, else])`: a `CASE` once simplified.
#[derive(Debug, PartialEq, Eq, Hash)]
struct If;

impl Function for If {
    fn name(&self) -> &'static str {
        "if"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("if", t, 2..=3)?;
        if !matches!(t[0], DataType::Boolean | DataType::Null) {
            return plan_err!("if expects a boolean condition, got {}", t[0]);
        }
        let common = type_union_resolution(&t[1..])
            .ok_or_else(|| plan_datafusion_err!("if: no common type for {} and {}", t[1], t[t.len() - 1]))?;
        Ok(std::iter::once(DataType::Boolean).chain(std::iter::repeat_n(common, t.len() - 1)).collect())
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[1].clone())
    }
    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let mut args = args.into_iter();
        let (cond, then) = (args.next().expect("arity checked"), args.next().expect("arity checked"));
        Ok(ExprSimplifyResult::Simplified(match args.next() {
            Some(otherwise) => when(cond, then).otherwise(otherwise)?,
            None => when(cond, then).end()?,
        }))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let cond = columns[0].as_boolean();
        // A NULL condition takes the ELSE branch.
        let cond = arrow::compute::and(cond, &is_not_null(cond)?)?;
        let otherwise = match columns.get(2) {
            Some(a) => a.clone(),
            None => arrow::array::new_null_array(columns[1].data_type(), args.rows),
        };
        Ok(zip(&cond, &columns[1], &otherwise)?)
    }
}

/// `try(e)`: rewritten by [`TryRewrite`] before constants are folded.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Try;

impl Function for Try {
    fn name(&self) -> &'static str {
        "try"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("try", t, 1..=1)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        args.column(0)
    }
}

/// `typeof(e)`: the name Trino gives the argument's type.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TypeOf;

impl Function for TypeOf {
    fn name(&self) -> &'static str {
        "typeof"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("typeof", t, 1..=1)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let field = args.field(0);
        let name = match (super::precision::declared(field), field.data_type()) {
            (Some(p), DataType::Time32(_) | DataType::Time64(_)) => format!("time({p})"),
            (Some(p), _) => format!("timestamp({p})"),
            (None, _) => field_type(field),
        };
        Ok(Arc::new(StringArray::from_iter_values(std::iter::repeat_n(name, args.rows))))
    }
}

/// `element_at(array, i)` (from the end when negative) and `element_at(map, key)`: NULL
/// when there is no such element.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ElementAt;

impl Function for ElementAt {
    fn name(&self) -> &'static str {
        "element_at"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("element_at", t, 2..=2)?;
        match &t[0] {
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
                Ok(vec![t[0].clone(), bigint("element_at", &t[1])?])
            }
            // The key as the map's key type (`element_at` of a bigint map and an integer key).
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(fields) if fields.len() == 2 && !t[1].is_null() => {
                    Ok(vec![t[0].clone(), fields[0].data_type().clone()])
                }
                _ => Ok(t.to_vec()),
            },
            other => plan_err!("element_at expects an array or a map, got {other}"),
        }
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match &t[0] {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.data_type().clone(),
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(fields) if fields.len() == 2 => fields[1].data_type().clone(),
                other => return plan_err!("element_at: unexpected map entries {other}"),
            },
            other => return plan_err!("element_at expects an array or a map, got {other}"),
        })
    }
    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let mut args = args.into_iter();
        let (container, key) = (args.next().expect("arity checked"), args.next().expect("arity checked"));
        let element = |a: Expr, i: Expr| Expr::ScalarFunction(ScalarFunction::new_udf(array_element_udf(), vec![a, i]));
        let is_map = matches!(info.get_data_type(&container)?, DataType::Map(_, _));
        // Index 0 is an error, not a missing element (Trino: "SQL array indices start at 1").
        let literal = match &key {
            Expr::Cast(c) => c.expr.as_ref(),
            other => other,
        };
        if let Expr::Literal(v, _) = literal
            && !is_map
            && v.cast_to(&DataType::Int64).is_ok_and(|v| v == ScalarValue::Int64(Some(0)))
        {
            return exec_err!("SQL array indices start at 1");
        }
        Ok(ExprSimplifyResult::Simplified(if is_map {
            let values = Expr::ScalarFunction(ScalarFunction::new_udf(map_extract_udf(), vec![container, key]));
            element(values, lit(1_i64))
        } else {
            element(container, key)
        }))
    }
    fn kernel(&self, _: &Args) -> Result<ArrayRef> {
        exec_err!("element_at runs only in a simplified plan")
    }
}

/// Rewrites `try(e)` while the plan is analysed, before constant folding could raise the
/// error `try` is there to catch.
#[derive(Debug)]
pub struct TryRewrite;

impl FunctionRewrite for TryRewrite {
    fn name(&self) -> &str {
        "try"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _: &ConfigOptions) -> Result<Transformed<Expr>> {
        match expr {
            Expr::ScalarFunction(f) if downcast::<Try>(&f.func).is_some() && f.args.len() == 1 => {
                Ok(Transformed::yes(lenient(f.args.into_iter().next().expect("one argument"), schema)?))
            }
            other => Ok(Transformed::no(other)),
        }
    }
}

/// `e` with the errors Trino's `try` catches turned into NULLs: casts become `TRY_CAST`,
/// division and modulo by zero give NULL, a subscript outside its array gives NULL, and `date_parse`/`from_iso8601_date` of text that
/// does not parse give NULL. Any other function's failure on a row makes that row NULL
/// ([`Lenient`]: `try(json_parse('INVALID'))`, `try(abs(-9223372036854775808))`).
fn lenient(e: Expr, schema: &DFSchema) -> Result<Expr> {
    let rewritten = e.transform_up(|e| {
        Ok(match e {
            Expr::Cast(Cast { expr, field }) => Transformed::yes(Expr::TryCast(TryCast { expr, field })),
            // Exact arithmetic that overflows on a row: NULL there (a checked operator, lenient).
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: op @ (Operator::Plus | Operator::Minus | Operator::Multiply),
                right,
            }) if [&left, &right]
                .iter()
                .all(|e| e.get_type(schema).is_ok_and(|t| t.is_integer() || matches!(t, DataType::Decimal128(..)))) =>
            {
                Transformed::yes(lenient_call(super::overflow::checked(op), vec![*left, *right]))
            }
            Expr::BinaryExpr(BinaryExpr { left, op: op @ (Operator::Divide | Operator::Modulo), right }) => {
                let zero = ScalarValue::new_zero(&right.get_type(schema)?)?;
                let right = Box::new(nullif(*right, lit(zero)));
                Transformed::yes(Expr::BinaryExpr(BinaryExpr { left, op, right }))
            }
            // An index outside the array or a key the map lacks: NULL, as `element_at` answers
            // (the subscript may not be made strict yet: `element_at` is not made strict).
            Expr::ScalarFunction(f)
                if matches!(f.func.name(), "athena_array_subscript" | "array_element" | "athena_map_subscript") =>
            {
                Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(udf(ElementAt)), f.args)))
            }
            Expr::ScalarFunction(f) => {
                let lenient = if downcast::<DateParse>(&f.func).is_some() {
                    udf(DateParse { lenient: true })
                } else if downcast::<FromIso8601Date>(&f.func).is_some() {
                    udf(FromIso8601Date { lenient: true })
                } else if is_lenient(&f.func) {
                    return Ok(Transformed::no(Expr::ScalarFunction(f)));
                } else {
                    return Ok(Transformed::yes(lenient_call(f.func, f.args)));
                };
                Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(lenient), f.args)))
            }
            other => Transformed::no(other),
        })
    })?;
    Ok(rewritten.data)
}

/// The name Trino gives a field's type: its data type's, or `json`.
fn field_type(f: &arrow::datatypes::Field) -> String {
    if super::json_cast::is_json(f) { "json".into() } else { trino_type(f.data_type()) }
}

/// The name Trino gives a type (what `typeof` answers).
pub fn trino_type(t: &DataType) -> String {
    match t {
        DataType::Null => "unknown".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::UInt8 => "tinyint".into(),
        DataType::Int16 | DataType::UInt16 => "smallint".into(),
        DataType::Int32 | DataType::UInt32 => "integer".into(),
        DataType::Int64 | DataType::UInt64 => "bigint".into(),
        DataType::Float16 | DataType::Float32 => "real".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) => format!("decimal({p},{s})"),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "varchar".into(),
        DataType::Binary | DataType::BinaryView | DataType::LargeBinary | DataType::FixedSizeBinary(_) => {
            "varbinary".into()
        }
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(unit, tz) => {
            let p = super::precision::natural(unit);
            if tz.is_some() { format!("timestamp({p}) with time zone") } else { format!("timestamp({p})") }
        }
        DataType::Time32(unit) | DataType::Time64(unit) => format!("time({})", super::precision::natural(unit)),
        DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth) => "interval year to month".into(),
        DataType::Interval(_) | DataType::Duration(_) => "interval day to second".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f) => {
            format!("array({})", field_type(f))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => {
                format!("map({}, {})", field_type(&fields[0]), field_type(&fields[1]))
            }
            _ => "map".into(),
        },
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| match super::shared::unnamed_field(f.name()) {
                    Some(_) => field_type(f),
                    None => format!("{} {}", f.name(), field_type(f)),
                })
                .collect();
            format!("row({})", inner.join(", "))
        }
        DataType::Dictionary(_, v) => trino_type(v),
        other => other.to_string().to_lowercase(),
    }
}

/// A call of `func` inside `try`.
fn lenient_call(func: Arc<ScalarUDF>, args: Vec<Expr>) -> Expr {
    Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(ScalarUDF::new_from_impl(Lenient { inner: func })), args))
}

fn is_lenient(f: &ScalarUDF) -> bool {
    (f.inner().as_ref() as &dyn std::any::Any).downcast_ref::<Lenient>().is_some()
}

/// A function inside `try`: called on the whole batch as it is, and when that fails, on one
/// row at a time, a row that fails giving NULL (Trino's `try` answers NULL for the rows whose
/// evaluation fails). The row-by-row pass runs only for a batch that failed.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Lenient {
    inner: Arc<ScalarUDF>,
}

impl datafusion::logical_expr::ScalarUDFImpl for Lenient {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn signature(&self) -> &datafusion::logical_expr::Signature {
        self.inner.signature()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(t)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        self.inner.return_type(t)
    }
    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<arrow::datatypes::FieldRef> {
        // A row that fails is NULL, whatever the function's own nullability.
        let field = self.inner.return_field_from_args(args)?;
        Ok(Arc::new(field.as_ref().clone().with_nullable(true)))
    }
    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        // What the function simplifies to stays lenient when it is a call.
        Ok(match self.inner.simplify(args, info)? {
            ExprSimplifyResult::Simplified(Expr::ScalarFunction(f)) if !is_lenient(&f.func) => {
                ExprSimplifyResult::Simplified(lenient_call(f.func, f.args))
            }
            other => other,
        })
    }
    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<datafusion::logical_expr::ColumnarValue> {
        use datafusion::logical_expr::ColumnarValue;
        let first = self.inner.invoke_with_args(args.clone());
        if first.is_ok() {
            return first;
        }
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if scalar { 1 } else { args.number_rows };
        let ret = args.return_field.data_type();
        let parts = (0..rows)
            .map(|i| {
                let row = args
                    .args
                    .iter()
                    .map(|a| match a {
                        ColumnarValue::Array(a) => ColumnarValue::Array(a.slice(i, 1)),
                        s => s.clone(),
                    })
                    .collect();
                let one = datafusion::logical_expr::ScalarFunctionArgs { args: row, number_rows: 1, ..args.clone() };
                match self.inner.invoke_with_args(one) {
                    Ok(v) => v.into_array(1),
                    Err(_) => Ok(arrow::array::new_null_array(ret, 1)),
                }
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let refs: Vec<&dyn arrow::array::Array> = parts.iter().map(|a| a.as_ref()).collect();
        let out = arrow::compute::concat(&refs)?;
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}
