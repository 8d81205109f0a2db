//! Trino's decimal rules where DataFusion's differ: on a finance lake the scale of a result
//! is part of the answer.
//!
//! - `a / b` on decimals has the larger of the two scales, rounded half up
//!   (`DECIMAL '1' / DECIMAL '3'` is `0`, `1.0 / 3` is `0.3`); DataFusion widens the scale
//!   (`0.33333333333333`).
//! - A decimal or a double cast to an integer rounds half away from zero (`CAST(2.5 AS
//!   INTEGER)` is `3`); DataFusion truncates.
//! - `round(x, d)` of a decimal keeps the scale of `x` (`round(2.45, 1)` is `2.50`); `round(x)`
//!   has the integer digits and one more (`round(DECIMAL '9.99')` is a `decimal(2, 0)`).
//! - `avg` of a decimal is a decimal of the same type, rounded half up.
//! - A double cast to a decimal is its shortest decimal spelling (Java's `Double.toString`,
//!   which Trino's `BigDecimal.valueOf` reads) rounded half up: `CAST(DOUBLE
//!   '123456789.123456790' AS DECIMAL(18, 9))` is `123456789.123456790`, where Arrow's cast
//!   of the binary value gave `...784`; NaN, infinities and values past the precision are
//!   refused with Trino's message (NULL under `TRY_CAST`).
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
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, ReversedUDAF};
use datafusion::logical_expr::{
    BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF, Signature, TryCast,
};
use datafusion::optimizer::AnalyzerRule;

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
        let as_decimal = |array: ArrayRef| -> Result<(ArrayRef, i8)> {
            let (p, s) = decimal_parts(array.data_type()).unwrap_or((38, 0));
            Ok((arrow::compute::cast(&array, &DataType::Decimal128(p.max(1), s))?, s))
        };
        let ((a, s1), (b, s2)) = (as_decimal(args.column(0)?)?, as_decimal(args.column(1)?)?);
        // a / 10^s1 ÷ b / 10^s2, at `scale`: a · 10^(scale + s2 - s1) ÷ b, rounded half up.
        let shift = i256::from_i128(10).pow_wrapping((scale as i32 + s2 as i32 - s1 as i32) as u32);
        let limit = i256::from_i128(10).pow_wrapping(precision as u32);
        let quotient = |x: i128, y: i128| {
            let (x, y) = (i256::from_i128(x), i256::from_i128(y));
            if y == i256::ZERO {
                return Err(ArrowError::DivideByZero);
            }
            let num = x.wrapping_mul(shift);
            let (q, r) = (num.wrapping_div(y), num.wrapping_rem(y));
            let twice = r.wrapping_abs().wrapping_mul(i256::from_i128(2));
            let away = if (num < i256::ZERO) != (y < i256::ZERO) { i256::MINUS_ONE } else { i256::ONE };
            let q = if twice >= y.wrapping_abs() { q.wrapping_add(away) } else { q };
            match q.to_i128() {
                Some(v) if q.wrapping_abs() < limit => Ok(v),
                _ => Err(ArrowError::ComputeError(format!(
                    "Decimal overflow: the quotient does not fit DECIMAL({precision}, {scale})"
                ))),
            }
        };
        let out: Decimal128Array = arrow::compute::try_binary(
            a.as_primitive::<Decimal128Type>(),
            b.as_primitive::<Decimal128Type>(),
            quotient,
        )
        .map_err(|e| match e {
            ArrowError::DivideByZero => exec_datafusion_err!("Division by zero"),
            e => e.into(),
        })?;
        Ok(Arc::new(out.with_precision_and_scale(precision, scale)?))
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
        let divide = Arc::new(udf(Quotient));
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
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field })
            if matches!(field.data_type(), DataType::Decimal128(..)) =>
        {
            let try_ = matches!(e, Expr::TryCast(_));
            match expr.get_type(schema)? {
                DataType::Float64 => {
                    let like = super::shared::null_of(field.data_type())?;
                    let f = Arc::new(udf(DoubleToDecimal { try_ }));
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

/// `CAST(double AS DECIMAL(p, s))` as Trino casts it: the type is its second argument's (a
/// NULL of it); `try_`, a value that does not convert is NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DoubleToDecimal {
    try_: bool,
}

impl Function for DoubleToDecimal {
    fn name(&self) -> &'static str {
        if self.try_ { "athena_try_double_to_decimal" } else { "athena_double_to_decimal" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(vec![DataType::Float64, t[1].clone()])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[1].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let DataType::Decimal128(p, s) = *args.ret else { return exec_err!("{} answers a decimal", self.name()) };
        let column = args.column(0)?;
        let values = column.as_primitive::<arrow::datatypes::Float64Type>();
        let out: Decimal128Array = values
            .iter()
            .map(|v| match v.map(|v| (v, double_to_decimal(v, p, s))) {
                None => Ok(None),
                Some((_, Some(d))) => Ok(Some(d)),
                Some(_) if self.try_ => Ok(None),
                Some((v, None)) => {
                    let v = super::text::float(v, super::text::Double::Shown);
                    exec_err!("Cannot cast DOUBLE '{v}' to DECIMAL({p}, {s})")
                }
            })
            .collect::<Result<_>>()?;
        Ok(Arc::new(out.with_precision_and_scale(p, s)?))
    }
}

/// A double's shortest decimal spelling (the digits Java's `Double.toString` writes) rounded
/// half up to `s` digits, as the unscaled value of a `decimal(p, s)`; `None` for NaN, an
/// infinity or a value with more than `p - s` integer digits.
fn double_to_decimal(v: f64, p: u8, s: i8) -> Option<i128> {
    if !v.is_finite() {
        return None;
    }
    // `{:e}`: the shortest digits that read back as v, and their exponent.
    let spelled = format!("{:e}", v.abs());
    let (mantissa, exponent) = spelled.split_once('e')?;
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().ok()?;
    // v = 0.d1d2d3... × 10^(exponent + 1): digit i (from 0) has the weight 10^(exponent - i).
    // Kept: the digits down to 10^-s; the next one rounds.
    let kept = (exponent + 1 + i32::from(s)).max(0) as usize;
    let mut unscaled: i128 = 0;
    for i in 0..kept {
        let d = digits.as_bytes().get(i).map_or(0, |b| i128::from(b - b'0'));
        unscaled = unscaled.checked_mul(10)?.checked_add(d)?;
    }
    if digits.as_bytes().get(kept).is_some_and(|d| *d >= b'5') {
        unscaled += 1;
    }
    if unscaled >= 10_i128.pow(u32::from(p)) {
        return None;
    }
    Some(if v < 0.0 { -unscaled } else { unscaled })
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
        assert_eq!(double_to_decimal("123456789123456784".parse().unwrap(), 18, 0), Some(123456789123456780));
        assert_eq!(double_to_decimal("123456789.123456790".parse().unwrap(), 18, 9), Some(123456789123456790));
        assert_eq!(double_to_decimal(0.01, 3, 3), Some(10));
        assert_eq!(double_to_decimal(-1234567890.51, 16, 0), Some(-1234567891));
        assert_eq!(double_to_decimal(1234567890.49, 16, 0), Some(1234567890));
        assert_eq!(double_to_decimal(0.0, 1, 0), Some(0));
        assert_eq!(double_to_decimal(0.25, 20, 5), Some(25000));
        assert_eq!(double_to_decimal(0.004, 3, 2), Some(0));
        assert_eq!(double_to_decimal(0.005, 3, 2), Some(1));
        assert_eq!(double_to_decimal(100.02, 17, 16), None);
        assert_eq!(double_to_decimal(-234.0, 2, 0), None);
        assert_eq!(double_to_decimal(f64::NAN, 10, 5), None);
        assert_eq!(double_to_decimal(f64::INFINITY, 10, 1), None);
        assert_eq!(double_to_decimal(1e300, 38, 0), None);
        assert_eq!(double_to_decimal(1e-300, 38, 10), Some(0));
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
