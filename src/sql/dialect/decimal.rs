//! Trino's decimal rules where DataFusion's differ: on a finance lake the scale of a result
//! is part of the answer.
//!
//! - `a / b` on decimals has the larger of the two scales, rounded half up
//!   (`DECIMAL '1' / DECIMAL '3'` is `0`, `1.0 / 3` is `0.3`); DataFusion widens the scale
//!   (`0.33333333333333`). `a % b` has the larger scale too, and is computed wide enough that
//!   rescaling an operand never overflows (`DECIMAL '99999999999999999999999999999999999997' %
//!   DECIMAL '3.0000000000000000'` is `1.0000000000000000`).
//! - A quotient or remainder whose DataFusion type would pass 38 digits is planned on Trino's
//!   type (`DECIMAL '1' / DECIMAL '.12345678901234567890123456789012345678'` overflows when run,
//!   as in Trino, instead of failing to plan); a product whose scale passes 38 is Trino's
//!   planning error (`DECIMAL scale must be in range [0, precision (38)]: 39`).
//! - A result past its precision is Trino's `Decimal overflow`.
//! - A decimal or a double cast to an integer rounds half away from zero (`CAST(2.5 AS
//!   INTEGER)` is `3`); DataFusion truncates.
//! - `round(x, d)` of a decimal keeps the scale of `x` (`round(2.45, 1)` is `2.50`); `round(x)`
//!   has the integer digits and one more (`round(DECIMAL '9.99')` is a `decimal(2, 0)`).
//! - `avg` of a decimal is a decimal of the same type, rounded half up.
//! - A double cast to a decimal is its shortest decimal spelling (Java's `Double.toString`,
//!   which Trino's `BigDecimal.valueOf` reads) rounded half up: `CAST(DOUBLE
//!   '123456789.123456790' AS DECIMAL(18, 9))` is `123456789.123456790`, where Arrow's cast
//!   of the binary value gave `...784`; NaN, infinities and values past the precision are
//!   refused with Trino's message (NULL under `TRY_CAST`). A real is read so too, by its own
//!   shortest spelling (`REAL '1456213.432632456'` is `1456213.4`, where its binary value is
//!   `...375`). Text is read as Java's `BigDecimal` reads it, rounded half up (Arrow's cast
//!   truncated). Every cast to a decimal that fails is refused with Trino's message
//!   (`Cannot cast BIGINT '10' to DECIMAL(38, 37)`).
//! - A boolean cast to a decimal is 1 or 0, a decimal cast to a boolean whether it is not 0
//!   (Arrow casts neither).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ArrowNativeTypeOp, AsArray, Decimal128Array};
use arrow::datatypes::{DataType, Decimal128Type, FieldRef, i256};
use arrow::error::ArrowError;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue, exec_datafusion_err, exec_err, plan_err};
use datafusion::functions_aggregate::average::avg_udaf;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, ReversedUDAF};
use datafusion::logical_expr::{
    BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF, Signature, TryCast,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::function::{Args, Function, udf};
use super::shared::arity;

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
struct Quotient;

impl Function for Quotient {
    fn name(&self) -> &'static str {
        "athena_decimal_divide"
    }

    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        t.iter()
            .map(|t| match decimal_parts(t) {
                Some((p, s)) => Ok(DataType::Decimal128(p.max(1), s)),
                None => plan_err!("decimal division of {t}"),
            })
            .collect()
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match (decimal_parts(&args[0]), decimal_parts(&args[1])) {
            (Some((p1, s1)), Some((_, s2))) => Ok(quotient_type(p1, s1, s2)),
            _ => exec_err!("decimal division of {} and {}", args[0], args[1]),
        }
    }

    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let &DataType::Decimal128(precision, scale) = args.ret else {
            return exec_err!("decimal division returns a decimal");
        };
        // Made by the rule below after types are coerced: an integer comes as it is.
        let [(a, s1), (b, s2)] = decimal_operands(args)?;
        // a / 10^s1 ÷ b / 10^s2, at `scale`: a · 10^(scale + s2 - s1) ÷ b, rounded half up.
        let shift = i256::from_i128(10).pow_wrapping((scale as i32 + s2 as i32 - s1 as i32) as u32);
        let limit = i256::from_i128(10).pow_wrapping(precision as u32);
        let quotient = |x: i128, y: i128| {
            let (x, y) = (i256::from_i128(x), i256::from_i128(y));
            if y == i256::ZERO {
                return Err(ArrowError::DivideByZero);
            }
            // Past 256 bits, the quotient of a divisor under 10^38 is past any precision.
            let num = x.checked_mul(shift).ok_or_else(overflowed)?;
            let (q, r) = (num.wrapping_div(y), num.wrapping_rem(y));
            let twice = r.wrapping_abs().wrapping_mul(i256::from_i128(2));
            let away = if (num < i256::ZERO) != (y < i256::ZERO) { i256::MINUS_ONE } else { i256::ONE };
            let q = if twice >= y.wrapping_abs() { q.wrapping_add(away) } else { q };
            match q.to_i128() {
                Some(v) if q.wrapping_abs() < limit => Ok(v),
                _ => Err(overflowed()),
            }
        };
        exact_binary(&a, &b, quotient, precision, scale)
    }
}

/// Trino's refusal of a decimal result past its precision.
fn overflowed() -> ArrowError {
    ArrowError::ComputeError("Decimal overflow".into())
}

/// `f` over two decimal columns into a `decimal(precision, scale)`, its refusals worded as
/// Trino's.
fn exact_binary(
    a: &ArrayRef,
    b: &ArrayRef,
    f: impl Fn(i128, i128) -> std::result::Result<i128, ArrowError>,
    precision: u8,
    scale: i8,
) -> Result<ArrayRef> {
    let out: Decimal128Array =
        arrow::compute::try_binary(a.as_primitive::<Decimal128Type>(), b.as_primitive::<Decimal128Type>(), f).map_err(
            |e| match e {
                ArrowError::DivideByZero => exec_datafusion_err!("Division by zero"),
                ArrowError::ComputeError(m) => exec_datafusion_err!("{m}"),
                e => e.into(),
            },
        )?;
    Ok(Arc::new(out.with_precision_and_scale(precision, scale)?))
}

/// Decimal operands (an integer as the decimal of its type's digits), with their scales.
fn decimal_operands(args: &Args) -> Result<[(ArrayRef, i8); 2]> {
    let as_decimal = |array: ArrayRef| -> Result<(ArrayRef, i8)> {
        let (p, s) = decimal_parts(array.data_type()).unwrap_or((38, 0));
        Ok((arrow::compute::cast(&array, &DataType::Decimal128(p.max(1), s))?, s))
    };
    Ok([as_decimal(args.column(0)?)?, as_decimal(args.column(1)?)?])
}

/// The type of `decimal(p1, s1) % decimal(p2, s2)` in Trino: the fewer integer digits, at the
/// larger scale.
fn remainder_type(p1: u8, s1: i8, p2: u8, s2: i8) -> DataType {
    let (s1, s2) = (s1.max(0) as u8, s2.max(0) as u8);
    let scale = s1.max(s2);
    let precision = ((p1 - s1.min(p1)).min(p2 - s2.min(p2)) + scale).clamp(1, 38);
    DataType::Decimal128(precision, scale as i8)
}

/// `a % b` of decimals as Trino takes it: both at the larger scale (in 256 bits, where no
/// rescaled operand overflows), the sign the dividend's.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Remainder;

impl Function for Remainder {
    fn name(&self) -> &'static str {
        "athena_decimal_remainder"
    }

    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        Quotient.coerce(t)
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match (decimal_parts(&args[0]), decimal_parts(&args[1])) {
            (Some((p1, s1)), Some((p2, s2))) => Ok(remainder_type(p1, s1, p2, s2)),
            _ => exec_err!("decimal remainder of {} and {}", args[0], args[1]),
        }
    }

    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let &DataType::Decimal128(precision, scale) = args.ret else {
            return exec_err!("decimal remainder returns a decimal");
        };
        let [(a, s1), (b, s2)] = decimal_operands(args)?;
        let ten = i256::from_i128(10);
        let (up_a, up_b) = (ten.pow_wrapping((scale - s1) as u32), ten.pow_wrapping((scale - s2) as u32));
        let remainder = |x: i128, y: i128| {
            let (x, y) = (i256::from_i128(x).wrapping_mul(up_a), i256::from_i128(y).wrapping_mul(up_b));
            if y == i256::ZERO {
                return Err(ArrowError::DivideByZero);
            }
            x.wrapping_rem(y).to_i128().ok_or_else(overflowed)
        };
        exact_binary(&a, &b, remainder, precision, scale)
    }
}

/// Plans what DataFusion cannot type (see the module's notes): runs before DataFusion's own
/// planner of operators, on the operands' types.
#[derive(Debug)]
pub struct DecimalOperators;

impl ExprPlanner for DecimalOperators {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        let op = match expr.op {
            BinaryOperator::Multiply => Operator::Multiply,
            BinaryOperator::Divide => Operator::Divide,
            BinaryOperator::Modulo => Operator::Modulo,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        let (Ok(lt), Ok(rt)) = (expr.left.get_type(schema), expr.right.get_type(schema)) else {
            return Ok(PlannerResult::Original(expr));
        };
        let decimal = matches!(lt, DataType::Decimal128(..)) || matches!(rt, DataType::Decimal128(..));
        let (Some((_, s1)), Some((_, s2)), true) = (decimal_parts(&lt), decimal_parts(&rt), decimal) else {
            return Ok(PlannerResult::Original(expr));
        };
        if op == Operator::Multiply && s1 as i16 + s2 as i16 > 38 {
            return plan_err!("DECIMAL scale must be in range [0, precision (38)]: {}", s1 as i16 + s2 as i16);
        }
        if op == Operator::Multiply || BinaryTypeCoercer::new(&lt, &op, &rt).get_result_type().is_ok() {
            return Ok(PlannerResult::Original(expr));
        }
        let f = if op == Operator::Divide { udf(Quotient) } else { udf(Remainder) };
        Ok(PlannerResult::Planned(Expr::ScalarFunction(ScalarFunction::new_udf(
            Arc::new(f),
            vec![expr.left, expr.right],
        ))))
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
        let operators = [Arc::new(udf(Quotient)), Arc::new(udf(Remainder))];
        super::shared::rewrite_expressions(plan, |e, schema| rule(e, schema, &operators))
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

fn rule(e: Expr, schema: &DFSchema, [divide, remainder]: &[Arc<ScalarUDF>; 2]) -> Result<Transformed<Expr>> {
    match &e {
        Expr::BinaryExpr(BinaryExpr { left, op: op @ (Operator::Divide | Operator::Modulo), right }) => {
            let (l, r) = (uncoerced(left, schema), uncoerced(right, schema));
            let (lt, rt) = (l.get_type(schema)?, r.get_type(schema)?);
            let decimal = matches!(lt, DataType::Decimal128(..)) || matches!(rt, DataType::Decimal128(..));
            if decimal && decimal_parts(&lt).is_some() && decimal_parts(&rt).is_some() {
                let f = if *op == Operator::Divide { divide } else { remainder };
                return Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(f.clone(), vec![l, r]))));
            }
            Ok(Transformed::no(e))
        }
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field })
            if matches!(field.data_type(), DataType::Decimal128(..)) =>
        {
            let try_ = matches!(e, Expr::TryCast(_));
            match expr.get_type(schema)? {
                from if can_fail(&from, field.data_type()) => {
                    let like = super::shared::null_of(field.data_type())?;
                    let f = Arc::new(udf(ToDecimal { try_ }));
                    Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(f, vec![*expr.clone(), like]))))
                }
                DataType::Boolean => {
                    let digit = Expr::Cast(Cast::new(expr.clone(), DataType::Int8));
                    Ok(Transformed::yes(recast(&e, digit, field.data_type())))
                }
                _ => Ok(Transformed::no(e)),
            }
        }
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field })
            if field.data_type() == &DataType::Boolean =>
        {
            match expr.get_type(schema)? {
                DataType::Decimal128(p, s) => {
                    let zero = datafusion::logical_expr::lit(ScalarValue::Decimal128(Some(0), p, s));
                    Ok(Transformed::yes(expr.as_ref().clone().not_eq(zero)))
                }
                _ => Ok(Transformed::no(e)),
            }
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
            Ok(Transformed::yes(recast(&e, rounded, field.data_type())))
        }
        // `round(x)` of a decimal(p, s) is a decimal(p - s + 1, 0): the integer digits and a
        // carry (DataFusion's keeps p).
        Expr::ScalarFunction(f) if f.name() == "round" && f.args.len() == 1 => match f.args[0].get_type(schema)? {
            DataType::Decimal128(p, s) if s > 0 => {
                let digits = DataType::Decimal128((p as i16 - s as i16 + 1).clamp(1, 38) as u8, 0);
                Ok(Transformed::yes(Expr::Cast(Cast::new(Box::new(e.clone()), digits))))
            }
            _ => Ok(Transformed::no(e)),
        },
        Expr::ScalarFunction(f) if f.name() == "round" && f.args.len() == 2 => match f.args[0].get_type(schema)? {
            // DataFusion's result has the scale `d`, known only once `d` is (not always here).
            DataType::Decimal128(p, s) => {
                let keep = DataType::Decimal128((p + 1).min(38), s);
                Ok(Transformed::yes(Expr::Cast(Cast::new(Box::new(e.clone()), keep))))
            }
            // Trino rounds an integer to a power of ten that a bigint holds, or refuses it
            // (DataFusion's answered 0).
            t if t.is_integer() => match constant_integer(&f.args[1]) {
                Some(d) if d < -18 => {
                    plan_err!("numeric overflow: a multiple of 10^{} is past a bigint's range", -d)
                }
                _ => Ok(Transformed::no(e)),
            },
            _ => Ok(Transformed::no(e)),
        },
        _ => Ok(Transformed::no(e)),
    }
}

/// Whether a cast of `from` to `to` (a decimal) can fail, and so is Trino's: text, floats, and
/// numbers with more integer digits than `to` has, or as many but rounded to fewer decimals
/// (9.96 is 10.0). The casts that cannot fail stay Arrow's, which pruning and constant
/// folding see through.
fn can_fail(from: &DataType, to: &DataType) -> bool {
    let DataType::Decimal128(p, s) = *to else { return false };
    let whole = p as i16 - s as i16;
    match decimal_parts(from) {
        Some((p1, s1)) => whole < p1 as i16 - s1 as i16 || (whole == p1 as i16 - s1 as i16 && s < s1),
        None => matches!(from, DataType::Float64 | DataType::Float32) || from.is_string(),
    }
}

/// `CAST(x AS DECIMAL(p, s))` of a number or text as Trino casts it, where it can fail: the
/// type is its second argument's (a NULL of it); `try_`, a value that does not convert is NULL.
/// Each refusal is Trino's (`Cannot cast BIGINT '10' to DECIMAL(38, 37)`, `Cannot cast
/// DECIMAL(6, 1) '12345.6' to DECIMAL(4, 0)`, `Cannot cast VARCHAR 'foo' to DECIMAL(2, 0).
/// Value is not a number.`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToDecimal {
    try_: bool,
}

impl Function for ToDecimal {
    fn name(&self) -> &'static str {
        if self.try_ { "athena_try_to_decimal" } else { "athena_to_decimal" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[1].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let DataType::Decimal128(p, s) = *args.ret else { return exec_err!("{} answers a decimal", self.name()) };
        let column = args.column(0)?;
        let converted: Decimal128Array = match column.data_type() {
            DataType::Float64 => floats_to_decimal::<arrow::datatypes::Float64Type>(&column, p, s),
            DataType::Float32 => floats_to_decimal::<arrow::datatypes::Float32Type>(&column, p, s),
            t if t.is_string() => {
                let text = arrow::compute::cast(&column, &DataType::Utf8)?;
                text.as_string::<i32>().iter().map(|v| v.and_then(|v| text_to_decimal(v, p, s).ok())).collect()
            }
            _ => arrow::compute::cast(&column, &DataType::Decimal128(p, s))?.as_primitive::<Decimal128Type>().clone(),
        };
        // A value that did not convert is NULL under TRY_CAST, else the first one is refused.
        if !self.try_
            && converted.null_count() > column.logical_null_count()
            && let Some(row) = (0..column.len()).find(|&i| column.is_valid(i) && converted.is_null(i))
        {
            return exec_err!("{}", refusal(column.as_ref(), row, p, s));
        }
        Ok(Arc::new(converted.with_precision_and_scale(p, s)?))
    }
}

/// Trino's refusal to cast row `row` of `column` to a `decimal(p, s)`.
fn refusal(column: &dyn Array, row: usize, p: u8, s: i8) -> String {
    let v = super::text::value(column, row, super::text::Double::Shown).unwrap_or_default();
    let to = format!("DECIMAL({p}, {s})");
    match column.data_type() {
        t if t.is_string() => {
            let why = match text_to_decimal(&v, p, s) {
                Err(Unreadable::NotANumber) => "Value is not a number.",
                _ => "Value too large.",
            };
            format!("Cannot cast VARCHAR '{v}' to {to}. {why}")
        }
        DataType::Decimal128(p1, s1) => format!("Cannot cast DECIMAL({p1}, {s1}) '{v}' to {to}"),
        t => format!("Cannot cast {} '{v}' to {to}", super::scalar::trino_type(t).to_uppercase()),
    }
}

/// A column of doubles or reals as `decimal(p, s)` values, each by [`float_to_decimal`].
fn floats_to_decimal<T>(column: &ArrayRef, p: u8, s: i8) -> Decimal128Array
where
    T: arrow::datatypes::ArrowPrimitiveType,
    T::Native: std::fmt::LowerExp + Into<f64>,
{
    column.as_primitive::<T>().iter().map(|v| v.and_then(|v| float_to_decimal(v, p, s))).collect()
}

/// A float's shortest decimal spelling (Rust's `{:e}` of it: the digits Java's
/// `Double.toString` or `Float.toString` writes, which Trino's `BigDecimal` reads) rounded half
/// up to `s` digits, as the unscaled value of a `decimal(p, s)`; `None` for NaN, an infinity or
/// a value with more than `p - s` integer digits.
fn float_to_decimal<F: std::fmt::LowerExp + Into<f64>>(v: F, p: u8, s: i8) -> Option<i128> {
    let spelled = format!("{v:e}");
    let v: f64 = v.into();
    if !v.is_finite() {
        return None;
    }
    let (mantissa, exponent) = spelled.split_once('e')?;
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i64 = exponent.parse().ok()?;
    // The mantissa has one integer digit: the value is digits × 10^(exponent - (len - 1)).
    scaled(&digits, exponent - (digits.len() as i64 - 1), v < 0.0, p, s)
}

/// Why text is no `decimal(p, s)`.
#[derive(Debug, PartialEq)]
enum Unreadable {
    NotANumber,
    TooLarge,
}

/// Text as Java's `new BigDecimal(text)` reads it (a sign, digits with at most one point, an
/// exponent; no spaces), rounded half up to `s` digits: the unscaled value of a
/// `decimal(p, s)`.
fn text_to_decimal(text: &str, p: u8, s: i8) -> std::result::Result<i128, Unreadable> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (number, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits_only = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !digits_only(whole) || !digits_only(fraction) {
        return Err(Unreadable::NotANumber);
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
            if unsigned.is_empty() || !digits_only(unsigned) {
                return Err(Unreadable::NotANumber);
            }
            e.parse::<i32>().map_err(|_| Unreadable::NotANumber)?.into()
        }
    };
    let digits = format!("{whole}{fraction}");
    scaled(&digits, exponent - fraction.len() as i64, negative, p, s).ok_or(Unreadable::TooLarge)
}

/// The decimal digits `digits` × 10^`exponent` rounded half up to `s` decimals, as the
/// unscaled value of a `decimal(p, s)`; `None` when it needs more than `p` digits.
fn scaled(digits: &str, exponent: i64, negative: bool, p: u8, s: i8) -> Option<i128> {
    let digits = digits.trim_start_matches('0');
    // The unscaled value is digits × 10^shift: zeros appended, or digits dropped and rounded.
    let shift = exponent + i64::from(s);
    let (kept, round_up) = if shift >= 0 {
        if !digits.is_empty() && digits.len() as i64 + shift > i64::from(p) {
            return None;
        }
        (format!("{digits}{}", "0".repeat(if digits.is_empty() { 0 } else { shift as usize })), false)
    } else {
        let cut = digits.len() as i64 + shift;
        if cut < 0 {
            (String::new(), false)
        } else {
            let (kept, dropped) = digits.split_at(cut as usize);
            (kept.to_string(), dropped.as_bytes().first().is_some_and(|d| *d >= b'5'))
        }
    };
    if kept.len() > usize::from(p) {
        return None;
    }
    let unscaled = if kept.is_empty() { 0 } else { kept.parse::<i128>().ok()? } + i128::from(round_up);
    if unscaled >= 10_i128.pow(u32::from(p)) {
        return None;
    }
    Some(if negative { -unscaled } else { unscaled })
}

/// A cast of the kind of `cast` (`CAST` or `TRY_CAST`) of `value` to `target`.
fn recast(cast: &Expr, value: Expr, target: &DataType) -> Expr {
    match cast {
        Expr::TryCast(_) => Expr::TryCast(TryCast::new(Box::new(value), target.clone())),
        _ => Expr::Cast(Cast::new(Box::new(value), target.clone())),
    }
}

/// The value of a constant integer argument, through a sign and casts (`-2`, `CAST(3 AS
/// INTEGER)`); `None` for anything else.
fn constant_integer(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(d, _) => match d.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(d))) => Some(d),
            _ => None,
        },
        Expr::Negative(inner) => constant_integer(inner).map(|d| -d),
        Expr::Cast(Cast { expr, .. }) => constant_integer(expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_become_decimals_through_their_shortest_spelling() {
        assert_eq!(float_to_decimal("123456789123456784".parse::<f64>().unwrap(), 18, 0), Some(123456789123456780));
        assert_eq!(float_to_decimal("123456789.123456790".parse::<f64>().unwrap(), 18, 9), Some(123456789123456790));
        assert_eq!(float_to_decimal(0.01, 3, 3), Some(10));
        assert_eq!(float_to_decimal(-1234567890.51, 16, 0), Some(-1234567891));
        assert_eq!(float_to_decimal(1234567890.49, 16, 0), Some(1234567890));
        assert_eq!(float_to_decimal(0.0, 1, 0), Some(0));
        assert_eq!(float_to_decimal(0.25, 20, 5), Some(25000));
        assert_eq!(float_to_decimal(0.004, 3, 2), Some(0));
        assert_eq!(float_to_decimal(0.005, 3, 2), Some(1));
        assert_eq!(float_to_decimal(100.02, 17, 16), None);
        assert_eq!(float_to_decimal(-234.0, 2, 0), None);
        assert_eq!(float_to_decimal(f64::NAN, 10, 5), None);
        assert_eq!(float_to_decimal(f64::INFINITY, 10, 1), None);
        assert_eq!(float_to_decimal(1e300, 38, 0), None);
        assert_eq!(float_to_decimal(1e-300, 38, 10), Some(0));
        // A real by its own spelling (TestDecimalCasts.testFloatToDecimalCasts).
        assert_eq!(float_to_decimal("1456213.432632456".parse::<f32>().unwrap(), 18, 9), Some(1456213400000000));
    }

    #[test]
    fn text_reads_as_java_big_decimal() {
        // TestDecimalCasts.testVarcharToDecimalCasts and Java's BigDecimal grammar.
        assert_eq!(text_to_decimal(".01", 3, 3), Ok(10));
        assert_eq!(text_to_decimal("-234.0", 3, 0), Ok(-234));
        assert_eq!(text_to_decimal("1234567890.12345679", 18, 8), Ok(123456789012345679));
        assert_eq!(text_to_decimal("1.455", 3, 2), Ok(146));
        assert_eq!(text_to_decimal("-1.455", 3, 2), Ok(-146));
        assert_eq!(text_to_decimal("1e2", 3, 0), Ok(100));
        assert_eq!(text_to_decimal("+5.", 1, 0), Ok(5));
        assert_eq!(text_to_decimal("0e99", 1, 0), Ok(0));
        assert_eq!(text_to_decimal("9.96", 2, 1), Err(Unreadable::TooLarge));
        assert_eq!(text_to_decimal("234.0", 2, 0), Err(Unreadable::TooLarge));
        assert_eq!(text_to_decimal("12345678901", 20, 10), Err(Unreadable::TooLarge));
        for bad in ["foo", "", ".", " 1", "1 ", "1e", "1.2.3", "--1", "1e+"] {
            assert_eq!(text_to_decimal(bad, 10, 2), Err(Unreadable::NotANumber), "{bad}");
        }
    }

    #[test]
    fn quotients_take_the_larger_scale() {
        assert_eq!(quotient_type(1, 0, 0), DataType::Decimal128(1, 0));
        assert_eq!(quotient_type(2, 1, 0), DataType::Decimal128(2, 1));
        assert_eq!(quotient_type(5, 2, 3), DataType::Decimal128(9, 3));
        assert_eq!(quotient_type(38, 10, 10), DataType::Decimal128(38, 10));
    }
}

/// `avg` of a decimal in the input's type, rounded half up (`avg` of 1.25 and 2.50 is 1.88);
/// DataFusion's keeps four more digits. Everything else is DataFusion's `avg`, whose
/// accumulators do the work: only the answer is rescaled.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DecimalAvg {
    inner: AggregateUDF,
}

/// The `avg` of the dialect.
pub fn avg() -> AggregateUDF {
    AggregateUDF::new_from_impl(DecimalAvg { inner: avg_udaf().as_ref().clone() })
}

/// The answer's type: the input's when it is a decimal.
fn avg_type(input: &DataType) -> Option<DataType> {
    matches!(input, DataType::Decimal128(..)).then(|| input.clone())
}

impl DecimalAvg {
    /// `args` as DataFusion's `avg` expects them (its own, wider, return type).
    fn inner_args<'a>(&self, args: &AccumulatorArgs<'a>) -> Result<AccumulatorArgs<'a>> {
        let types: Vec<DataType> = args.expr_fields.iter().map(|f| f.data_type().clone()).collect();
        let wide = self.inner.return_type(&types)?;
        let mut inner = args.clone();
        inner.return_field = Arc::new(args.return_field.as_ref().clone().with_data_type(wide));
        Ok(inner)
    }
}

impl AggregateUDFImpl for DecimalAvg {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(args)
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args.first().and_then(avg_type) {
            Some(t) => Ok(t),
            None => self.inner.return_type(args),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let types: Vec<DataType> = args.input_fields.iter().map(|f| f.data_type().clone()).collect();
        let wide = Arc::new(args.return_field.as_ref().clone().with_data_type(self.inner.return_type(&types)?));
        self.inner.inner().state_fields(StateFieldsArgs { return_field: wide, ..args })
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let want = args.return_field.data_type().clone();
        let inner = self.inner.accumulator(self.inner_args(&args)?)?;
        Ok(if avg_type(&want).is_some() { Box::new(Rescaled { inner, want }) } else { inner })
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner_args(&args).is_ok_and(|a| self.inner.groups_accumulator_supported(a))
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        let want = args.return_field.data_type().clone();
        let inner = self.inner.create_groups_accumulator(self.inner_args(&args)?)?;
        Ok(if avg_type(&want).is_some() { Box::new(RescaledGroups { inner, want }) } else { inner })
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let want = args.return_field.data_type().clone();
        let inner = self.inner.create_sliding_accumulator(self.inner_args(&args)?)?;
        Ok(if avg_type(&want).is_some() { Box::new(Rescaled { inner, want }) } else { inner })
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }
}

/// Casting to a smaller decimal scale rounds half away from zero (Trino's half up).
fn rescale(value: ScalarValue, want: &DataType) -> Result<ScalarValue> {
    if value.is_null() {
        return ScalarValue::try_from(want);
    }
    value.cast_to(want)
}

#[derive(Debug)]
struct Rescaled {
    inner: Box<dyn Accumulator>,
    want: DataType,
}

impl Accumulator for Rescaled {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.update_batch(values)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.inner.merge_batch(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.inner.state()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        rescale(self.inner.evaluate()?, &self.want)
    }

    fn size(&self) -> usize {
        self.inner.size()
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.retract_batch(values)
    }

    fn supports_retract_batch(&self) -> bool {
        self.inner.supports_retract_batch()
    }
}

struct RescaledGroups {
    inner: Box<dyn GroupsAccumulator>,
    want: DataType,
}

impl std::fmt::Debug for RescaledGroups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RescaledGroups").field("want", &self.want).finish()
    }
}

impl GroupsAccumulator for RescaledGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&arrow::array::BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.inner.update_batch(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(arrow::compute::cast(&self.inner.evaluate(emit_to)?, &self.want)?)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.inner.state(emit_to)
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.inner.merge_batch(values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&arrow::array::BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        self.inner.convert_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        self.inner.size()
    }
}
