//! The scalar functions: one `ScalarUDFImpl` whose `Fun` says which Trino function it is,
//! how its arguments are coerced, what it returns and how it runs.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::compute::is_not_null;
use arrow::compute::kernels::zip::zip;
use arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue, exec_datafusion_err, exec_err, plan_err};
use datafusion::functions::core::expr_fn::nullif;
use datafusion::functions_nested::extract::array_element_udf;
use datafusion::functions_nested::map_extract::map_extract_udf;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    BinaryExpr, Cast, ColumnarValue, Expr, ExprSchemable, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, TryCast, Volatility, lit, when,
};

use super::datetime::{self, Field};
use super::shared::{arity, bigint, varchar};

/// Which Trino function a `Udf` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fun {
    DateDiff,
    DateAdd,
    Field(Field),
    DateTrunc,
    LastDayOfMonth,
    DateFormat,
    FormatDatetime,
    /// `lenient`: NULL instead of an error, inside `try`.
    DateParse {
        lenient: bool,
    },
    FromIso8601Date {
        lenient: bool,
    },
    ToIso8601,
    ToUnixtime,
    If,
    Try,
    TypeOf,
    SplitPart,
    ElementAt,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Udf {
    fun: Fun,
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
}

fn udf(fun: Fun, name: &'static str, aliases: &[&str]) -> ScalarUDF {
    ScalarUDF::new_from_impl(Udf {
        fun,
        name,
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// The scalar functions of the dialect.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        udf(Fun::DateDiff, "date_diff", &[]),
        udf(Fun::DateAdd, "date_add", &[]),
        udf(Fun::Field(Field::Year), "year", &[]),
        udf(Fun::Field(Field::Quarter), "quarter", &[]),
        udf(Fun::Field(Field::Month), "month", &[]),
        udf(Fun::Field(Field::Week), "week", &["week_of_year"]),
        udf(Fun::Field(Field::Day), "day", &["day_of_month"]),
        udf(Fun::Field(Field::DayOfWeek), "day_of_week", &["dow"]),
        udf(Fun::Field(Field::DayOfYear), "day_of_year", &["doy"]),
        udf(Fun::Field(Field::Hour), "hour", &[]),
        udf(Fun::Field(Field::Minute), "minute", &[]),
        udf(Fun::Field(Field::Second), "second", &[]),
        udf(Fun::Field(Field::Millisecond), "millisecond", &[]),
        udf(Fun::Field(Field::YearOfWeek), "year_of_week", &["yow"]),
        udf(Fun::ToUnixtime, "to_unixtime", &[]),
        udf(Fun::DateTrunc, "date_trunc", &[]),
        udf(Fun::LastDayOfMonth, "last_day_of_month", &[]),
        udf(Fun::DateFormat, "date_format", &[]),
        udf(Fun::FormatDatetime, "format_datetime", &[]),
        udf(Fun::DateParse { lenient: false }, "date_parse", &[]),
        udf(Fun::FromIso8601Date { lenient: false }, "from_iso8601_date", &[]),
        udf(Fun::ToIso8601, "to_iso8601", &[]),
        udf(Fun::If, "if", &[]),
        udf(Fun::Try, "try", &[]),
        udf(Fun::TypeOf, "typeof", &[]),
        udf(Fun::SplitPart, "split_part", &[]),
        udf(Fun::ElementAt, "element_at", &[]),
    ]
}

fn temporal(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Date32 | DataType::Timestamp(_, _) => Ok(t.clone()),
        DataType::Date64 | DataType::Null => Ok(DataType::Date32),
        other => plan_err!("{name} expects a date or a timestamp, got {other}"),
    }
}

impl ScalarUDFImpl for Udf {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let n = self.name;
        match self.fun {
            Fun::DateDiff => {
                arity(n, t, 3..=3)?;
                let (a, b) = (temporal(n, &t[1])?, temporal(n, &t[2])?);
                // A date against a timestamp: both timestamps.
                let common = if a == b { a } else { DataType::Timestamp(TimeUnit::Microsecond, None) };
                Ok(vec![varchar(n, &t[0])?, common.clone(), common])
            }
            Fun::DateAdd => {
                arity(n, t, 3..=3)?;
                Ok(vec![varchar(n, &t[0])?, bigint(n, &t[1])?, temporal(n, &t[2])?])
            }
            Fun::DateTrunc => {
                arity(n, t, 2..=2)?;
                Ok(vec![varchar(n, &t[0])?, temporal(n, &t[1])?])
            }
            Fun::Field(_) if matches!(t.first(), Some(DataType::Interval(_))) => {
                arity(n, t, 1..=1)?;
                Ok(t.to_vec())
            }
            Fun::Field(_) | Fun::LastDayOfMonth | Fun::ToIso8601 | Fun::ToUnixtime => {
                arity(n, t, 1..=1)?;
                Ok(vec![temporal(n, &t[0])?])
            }
            Fun::DateFormat | Fun::FormatDatetime => {
                arity(n, t, 2..=2)?;
                Ok(vec![temporal(n, &t[0])?, varchar(n, &t[1])?])
            }
            Fun::DateParse { .. } => {
                arity(n, t, 2..=2)?;
                Ok(vec![varchar(n, &t[0])?, varchar(n, &t[1])?])
            }
            Fun::FromIso8601Date { .. } => {
                arity(n, t, 1..=1)?;
                Ok(vec![varchar(n, &t[0])?])
            }
            Fun::If => {
                arity(n, t, 2..=3)?;
                if !matches!(t[0], DataType::Boolean | DataType::Null) {
                    return plan_err!("if expects a boolean condition, got {}", t[0]);
                }
                let common = type_union_resolution(&t[1..])
                    .ok_or_else(|| exec_datafusion_err!("if: no common type for {} and {}", t[1], t[t.len() - 1]))?;
                Ok(std::iter::once(DataType::Boolean).chain(std::iter::repeat_n(common, t.len() - 1)).collect())
            }
            Fun::Try | Fun::TypeOf => {
                arity(n, t, 1..=1)?;
                Ok(t.to_vec())
            }
            Fun::SplitPart => {
                arity(n, t, 3..=3)?;
                Ok(vec![varchar(n, &t[0])?, varchar(n, &t[1])?, bigint(n, &t[2])?])
            }
            Fun::ElementAt => {
                arity(n, t, 2..=2)?;
                match &t[0] {
                    DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
                        Ok(vec![t[0].clone(), bigint(n, &t[1])?])
                    }
                    DataType::Map(_, _) => Ok(t.to_vec()),
                    other => plan_err!("element_at expects an array or a map, got {other}"),
                }
            }
        }
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match self.fun {
            Fun::DateDiff | Fun::Field(_) => DataType::Int64,
            Fun::DateAdd => t[2].clone(),
            Fun::DateTrunc => t[1].clone(),
            Fun::LastDayOfMonth | Fun::FromIso8601Date { .. } => DataType::Date32,
            Fun::DateFormat | Fun::FormatDatetime | Fun::ToIso8601 | Fun::TypeOf | Fun::SplitPart => DataType::Utf8,
            Fun::ToUnixtime => DataType::Float64,
            Fun::DateParse { .. } => DataType::Timestamp(TimeUnit::Millisecond, None),
            Fun::If => t[1].clone(),
            Fun::Try => t[0].clone(),
            Fun::ElementAt => match &t[0] {
                DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.data_type().clone(),
                DataType::Map(entries, _) => match entries.data_type() {
                    DataType::Struct(fields) if fields.len() == 2 => fields[1].data_type().clone(),
                    other => return plan_err!("element_at: unexpected map entries {other}"),
                },
                other => return plan_err!("element_at expects an array or a map, got {other}"),
            },
        })
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        Ok(ExprSimplifyResult::Simplified(match self.fun {
            Fun::If => {
                let mut args = args.into_iter();
                let (cond, then) = (args.next().expect("arity checked"), args.next().expect("arity checked"));
                match args.next() {
                    Some(otherwise) => when(cond, then).otherwise(otherwise)?,
                    None => when(cond, then).end()?,
                }
            }
            Fun::ElementAt => {
                let mut args = args.into_iter();
                let (container, key) = (args.next().expect("arity checked"), args.next().expect("arity checked"));
                let element =
                    |a: Expr, i: Expr| Expr::ScalarFunction(ScalarFunction::new_udf(array_element_udf(), vec![a, i]));
                if matches!(info.get_data_type(&container)?, DataType::Map(_, _)) {
                    let values = Expr::ScalarFunction(ScalarFunction::new_udf(map_extract_udf(), vec![container, key]));
                    element(values, lit(1_i64))
                } else {
                    element(container, key)
                }
            }
            _ => return Ok(ExprSimplifyResult::Original(args)),
        }))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.fun == Fun::TypeOf {
            let name = trino_type(args.arg_fields[0].data_type());
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))));
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out = match self.fun {
            Fun::DateDiff => datetime::date_diff(&arrays)?,
            Fun::DateAdd => datetime::date_add(&arrays)?,
            Fun::Field(f) => datetime::field(f, &arrays)?,
            Fun::DateTrunc => datetime::date_trunc(&arrays)?,
            Fun::LastDayOfMonth => datetime::last_day_of_month(&arrays)?,
            Fun::DateFormat => datetime::format(&arrays, false)?,
            Fun::FormatDatetime => datetime::format(&arrays, true)?,
            Fun::DateParse { lenient } => datetime::date_parse(&arrays, lenient)?,
            Fun::FromIso8601Date { lenient } => datetime::from_iso8601_date(&arrays, lenient)?,
            Fun::ToIso8601 => datetime::to_iso8601(&arrays)?,
            Fun::ToUnixtime => datetime::to_unixtime(&arrays)?,
            Fun::SplitPart => split_part(&arrays)?,
            // Rewritten while simplifying; evaluated here only if a plan skipped that.
            Fun::If => {
                let cond = arrays[0].as_boolean();
                // A NULL condition takes the ELSE branch.
                let cond = arrow::compute::and(cond, &is_not_null(cond)?)?;
                let otherwise = match arrays.get(2) {
                    Some(a) => a.clone(),
                    None => arrow::array::new_null_array(arrays[1].data_type(), arrays[1].len()),
                };
                zip(&cond, &arrays[1], &otherwise)?
            }
            Fun::Try => arrays[0].clone(),
            Fun::ElementAt => return exec_err!("element_at runs only in a simplified plan"),
            Fun::TypeOf => unreachable!("answered above"),
        };
        Ok(ColumnarValue::Array(out))
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
            Expr::ScalarFunction(f) if fun(&f) == Some(Fun::Try) && f.args.len() == 1 => {
                Ok(Transformed::yes(lenient(f.args.into_iter().next().expect("one argument"), schema)?))
            }
            other => Ok(Transformed::no(other)),
        }
    }
}

/// The `Fun` of a call to one of these functions.
fn fun(f: &ScalarFunction) -> Option<Fun> {
    (f.func.inner().as_ref() as &dyn Any).downcast_ref::<Udf>().map(|u| u.fun)
}

/// `e` with the errors Trino's `try` catches turned into NULLs: casts become `TRY_CAST`,
/// division and modulo by zero give NULL, and `date_parse`/`from_iso8601_date` of text that
/// does not parse give NULL.
fn lenient(e: Expr, schema: &DFSchema) -> Result<Expr> {
    let rewritten = e.transform_up(|e| {
        Ok(match e {
            Expr::Cast(Cast { expr, field }) => Transformed::yes(Expr::TryCast(TryCast { expr, field })),
            Expr::BinaryExpr(BinaryExpr { left, op: op @ (Operator::Divide | Operator::Modulo), right }) => {
                let zero = ScalarValue::new_zero(&right.get_type(schema)?)?;
                let right = Box::new(nullif(*right, lit(zero)));
                Transformed::yes(Expr::BinaryExpr(BinaryExpr { left, op, right }))
            }
            Expr::ScalarFunction(f) => {
                let lenient = match fun(&f) {
                    Some(Fun::DateParse { lenient: false }) => udf(Fun::DateParse { lenient: true }, "date_parse", &[]),
                    Some(Fun::FromIso8601Date { lenient: false }) => {
                        udf(Fun::FromIso8601Date { lenient: true }, "from_iso8601_date", &[])
                    }
                    _ => return Ok(Transformed::no(Expr::ScalarFunction(f))),
                };
                Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(Arc::new(lenient), f.args)))
            }
            other => Transformed::no(other),
        })
    })?;
    Ok(rewritten.data)
}

/// `split_part(s, delimiter, n)`: the n-th field (from 1), NULL past the last one.
fn split_part(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (text, delim) = (args[0].as_string::<i32>(), args[1].as_string::<i32>());
    let index = args[2].as_primitive::<Int64Type>();
    let mut out = Vec::with_capacity(text.len());
    for i in 0..text.len() {
        if text.is_null(i) || delim.is_null(i) || index.is_null(i) {
            out.push(None);
            continue;
        }
        let n = index.value(i);
        if n <= 0 {
            return exec_err!("split_part: index must be greater than zero, got {n}");
        }
        let (s, d) = (text.value(i), delim.value(i));
        let nth = (n - 1) as usize;
        out.push(if d.is_empty() {
            s.chars().nth(nth).map(String::from)
        } else {
            s.split(d).nth(nth).map(str::to_string)
        });
    }
    Ok(Arc::new(StringArray::from(out)))
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
            let p = match unit {
                TimeUnit::Second => 0,
                TimeUnit::Millisecond => 3,
                TimeUnit::Microsecond => 6,
                TimeUnit::Nanosecond => 9,
            };
            if tz.is_some() { format!("timestamp({p}) with time zone") } else { format!("timestamp({p})") }
        }
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth) => "interval year to month".into(),
        DataType::Interval(_) | DataType::Duration(_) => "interval day to second".into(),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f) => {
            format!("array({})", trino_type(f.data_type()))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => {
                format!("map({}, {})", trino_type(fields[0].data_type()), trino_type(fields[1].data_type()))
            }
            _ => "map".into(),
        },
        DataType::Struct(fields) => {
            let inner: Vec<String> =
                fields.iter().map(|f| format!("{} {}", f.name(), trino_type(f.data_type()))).collect();
            format!("row({})", inner.join(", "))
        }
        DataType::Dictionary(_, v) => trino_type(v),
        other => other.to_string().to_lowercase(),
    }
}
