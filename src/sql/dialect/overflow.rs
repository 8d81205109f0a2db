//! Exact arithmetic fails loudly, as in Trino: an integer or decimal `+`, `-`, `*`, `sum` or an
//! integer's unary `-` whose result does not fit its type is an error, never a wrapped number.
//!
//! DataFusion's operators and `sum` wrap around on overflow (`9223372036854775807 + 1` is
//! `-9223372036854775808`, the sum of two `DECIMAL(38,0)` maxima is negative). On a finance
//! lake a wrong total is worse than no total, so every session rewrites those operators into
//! checked functions after type coercion (the result types do not change, and the output
//! columns keep their names), and replaces `sum` by one whose integer and decimal
//! accumulators check every addition (a sliding window's, every row's result). `avg` of
//! decimals already fails on overflow in DataFusion, and `avg` of integers is a `DOUBLE`, as
//! in Trino. Floating-point arithmetic is left as it is (IEEE overflow gives infinity in
//! Trino too).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::compute::kernels::numeric::{add, mul, sub};
use arrow::datatypes::{
    DataType, Decimal128Type, FieldRef, Int64Type, UInt64Type, i256, is_validate_decimal_precision,
};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue, exec_datafusion_err};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::expr::{Cast, ScalarFunction};
use datafusion::logical_expr::function::{AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, BinaryExpr, ColumnarValue, EmitTo, Expr, ExprSchemable,
    GroupsAccumulator, LogicalPlan, Operator, ReversedUDAF, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    SetMonotonicity, Signature, StatisticsArgs, Volatility,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_expr_common::datum::apply;
use datafusion_functions_aggregate_common::aggregate::groups_accumulator::prim_op::PrimitiveGroupsAccumulator;

/// Whether an operation on these types is exact arithmetic that can overflow.
fn exact(t: &DataType) -> bool {
    t.is_integer() || matches!(t, DataType::Decimal128(..))
}

/// `a + b`, `a - b`, `a * b` that fail on overflow.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Checked {
    op: Operator,
    name: &'static str,
    signature: Signature,
}

pub(super) fn checked(op: Operator) -> Arc<ScalarUDF> {
    let name = match op {
        Operator::Plus => "checked_add",
        Operator::Minus => "checked_subtract",
        _ => "checked_multiply",
    };
    Arc::new(ScalarUDF::new_from_impl(Checked { op, name, signature: Signature::user_defined(Volatility::Immutable) }))
}

impl ScalarUDFImpl for Checked {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The operands as the operator coerces them (a call made before coercion, by `try`).
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let [l, r] = args else { return datafusion::common::plan_err!("{} takes two operands", self.name) };
        let (l, r) = BinaryTypeCoercer::new(l, &self.op, r).get_input_types()?;
        Ok(vec![l, r])
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match (&args[0], self.op, &args[1]) {
            // Trino's product of decimals: precision p1 + p2 (DataFusion's is one more).
            (DataType::Decimal128(p1, s1), Operator::Multiply, DataType::Decimal128(p2, s2)) => {
                Ok(DataType::Decimal128((p1 + p2).min(38), s1 + s2))
            }
            _ => BinaryTypeCoercer::new(&args[0], &self.op, &args[1]).get_result_type(),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [lhs, rhs] =
            <[ColumnarValue; 2]>::try_from(args.args).map_err(|_| exec_datafusion_err!("two arguments"))?;
        let kernel = match self.op {
            Operator::Plus => add,
            Operator::Minus => sub,
            _ => mul,
        };
        let operands = lhs.data_type();
        let result = apply(&lhs, &rhs, kernel).map_err(|e| overflow(self.op, &operands, e))?;
        let want = args.return_field.data_type();
        let result = match result {
            ColumnarValue::Array(a) => ColumnarValue::Array(fit(a, want)?),
            ColumnarValue::Scalar(s) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&fit(s.to_array()?, want)?, 0)?)
            }
        };
        Ok(result)
    }
}

/// `-a` of an integer that fails on overflow (DataFusion's wraps a column's least value
/// around to itself); Arrow's checked kernel fails, and its message is worded as Trino's by
/// `arrow_messages` (`bigint negation overflow: -9223372036854775808`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct CheckedNegate {
    signature: Signature,
}

impl ScalarUDFImpl for CheckedNegate {
    fn name(&self) -> &str {
        "checked_negate"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match &args.args[0] {
            ColumnarValue::Array(a) => Ok(ColumnarValue::Array(arrow::compute::kernels::numeric::neg(a)?)),
            ColumnarValue::Scalar(s) => Ok(ColumnarValue::Scalar(s.arithmetic_negate()?)),
        }
    }
}

/// Trino's message for an integer (`bigint addition overflow: 9223372036854775807 + 1`, the
/// operands as Arrow names them), a decimal's `Decimal overflow`.
fn overflow(
    op: Operator,
    operands: &DataType,
    e: datafusion::error::DataFusionError,
) -> datafusion::error::DataFusionError {
    let what = match op {
        Operator::Plus => "addition",
        Operator::Minus => "subtraction",
        _ => "multiplication",
    };
    let message = e.strip_backtrace();
    let named = operands.is_signed_integer().then(|| super::scalar::trino_type(operands));
    match (named, message.split_once("Overflow happened on: ")) {
        (Some(ty), Some((_, values))) => exec_datafusion_err!("{ty} {what} overflow: {}", values.trim()),
        _ if matches!(operands, DataType::Decimal128(..)) => decimal_overflow(),
        _ => exec_datafusion_err!("arithmetic overflow in {what}: {message}"),
    }
}

/// Trino's refusal of a decimal result past its precision.
fn decimal_overflow() -> datafusion::error::DataFusionError {
    exec_datafusion_err!("Decimal overflow")
}

/// The array as `want`: a decimal must also fit its precision (Arrow only checks the 128 bits).
fn fit(array: ArrayRef, want: &DataType) -> Result<ArrayRef> {
    let array = if array.data_type() == want {
        array
    } else {
        let options = arrow::compute::CastOptions { safe: false, ..Default::default() };
        arrow::compute::cast_with_options(&array, want, &options).map_err(|e| match want {
            DataType::Decimal128(..) => decimal_overflow(),
            _ => exec_datafusion_err!("arithmetic overflow: {e}"),
        })?
    };
    if let DataType::Decimal128(precision, _) = want {
        array
            .as_primitive::<Decimal128Type>()
            .validate_decimal_precision(*precision)
            .map_err(|_| decimal_overflow())?;
    }
    Ok(array)
}

/// Rewrites exact `+ - *` into the checked functions, once types are coerced.
#[derive(Debug, Default)]
pub struct CheckedArithmetic;

impl AnalyzerRule for CheckedArithmetic {
    fn name(&self) -> &str {
        "checked_arithmetic"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let negate = CheckedNegate { signature: Signature::any(1, Volatility::Immutable) };
        let checked = [
            checked(Operator::Plus),
            checked(Operator::Minus),
            checked(Operator::Multiply),
            Arc::new(ScalarUDF::new_from_impl(negate)),
        ];
        super::shared::rewrite_whole_expressions(plan, |expr, schema| Ok(check(expr, schema, &checked)?.0))
    }
}

/// `expr` with its exact arithmetic checked, and its type when it is arithmetic. One pass:
/// each operator's type comes from its operands' (asking every node for its type would
/// retype its whole subtree, quadratic in a long chain of `+`).
#[recursive::recursive]
fn check(expr: Expr, schema: &DFSchema, checked: &[Arc<ScalarUDF>; 4]) -> Result<(Expr, Option<DataType>)> {
    if let Expr::Negative(inner) = expr {
        let (inner, t) = check(*inner, schema, checked)?;
        let t = t.map_or_else(|| inner.get_type(schema), Ok).ok();
        return Ok(match &t {
            // A constant's minus stays one (as `round(x, -2)` reads it): folded, its negation
            // is checked already.
            Some(ty) if ty.is_signed_integer() && !inner.column_refs().is_empty() => {
                (Expr::ScalarFunction(ScalarFunction::new_udf(checked[3].clone(), vec![inner])), t)
            }
            _ => (Expr::Negative(Box::new(inner)), t),
        });
    }
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = expr else {
        let rewritten = expr.map_children(|child| check(child, schema, checked).map(|(e, _)| Transformed::yes(e)))?;
        return Ok((rewritten.data, None));
    };
    let udf = match op {
        Operator::Plus => &checked[0],
        Operator::Minus => &checked[1],
        Operator::Multiply => &checked[2],
        _ => {
            let (left, _) = check(*left, schema, checked)?;
            let (right, _) = check(*right, schema, checked)?;
            return Ok((Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right))), None));
        }
    };
    let (left, left_type) = check(*left, schema, checked)?;
    let (right, right_type) = check(*right, schema, checked)?;
    let types =
        (left_type.map_or_else(|| left.get_type(schema), Ok), right_type.map_or_else(|| right.get_type(schema), Ok));
    let (Ok(l), Ok(r)) = types else {
        return Ok((Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right))), None));
    };
    if exact(&l) && exact(&r) {
        let ((left, l), (right, r)) = (bigint_digits(left, l, schema), bigint_digits(right, r, schema));
        let result = udf.inner().return_type(&[l, r]).ok();
        Ok((Expr::ScalarFunction(ScalarFunction::new_udf(udf.clone(), vec![left, right])), result))
    } else {
        let result = BinaryTypeCoercer::new(&l, &op, &r).get_result_type().ok();
        Ok((Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right))), result))
    }
}

/// A bigint operand that coercion widened to a decimal, with the 19 digits Trino gives it
/// (DataFusion gives 20): `DECIMAL '1.5' * BIGINT '3'` is a `decimal(21, 1)`.
fn bigint_digits(e: Expr, t: DataType, schema: &DFSchema) -> (Expr, DataType) {
    match (e, t) {
        (Expr::Cast(Cast { expr, .. }), DataType::Decimal128(20, 0))
            if expr.get_type(schema).is_ok_and(|t| t == DataType::Int64) =>
        {
            let digits = DataType::Decimal128(19, 0);
            (Expr::Cast(Cast::new(expr, digits.clone())), digits)
        }
        (e, t) => (e, t),
    }
}

/// `sum` whose integer and decimal accumulators fail on overflow.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CheckedSum {
    inner: AggregateUDF,
}

pub fn checked_sum() -> AggregateUDF {
    AggregateUDF::new_from_impl(CheckedSum { inner: sum_udaf().as_ref().clone() })
}

impl AggregateUDFImpl for CheckedSum {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(args)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let want = args.return_field.data_type().clone();
        if args.is_distinct || !exact(&want) {
            return self.inner.accumulator(args);
        }
        Ok(Box::new(SumAccumulator { sum: None, data_type: want }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.inner().state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        let data_type = args.return_field.data_type().clone();
        let overflowed = Arc::new(AtomicBool::new(false));
        macro_rules! checked_groups {
            ($t:ty) => {{
                let flag = overflowed.clone();
                Box::new(PrimitiveGroupsAccumulator::<$t, _>::new(&data_type, move |x, y| match x.checked_add(y) {
                    Some(v) => *x = v,
                    None => flag.store(true, Ordering::Relaxed),
                })) as Box<dyn GroupsAccumulator>
            }};
        }
        let inner = match &data_type {
            DataType::Int64 => checked_groups!(Int64Type),
            DataType::UInt64 => checked_groups!(UInt64Type),
            DataType::Decimal128(..) => checked_groups!(Decimal128Type),
            _ => return self.inner.create_groups_accumulator(args),
        };
        Ok(Box::new(CheckedGroups { inner, overflowed, data_type }))
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let data_type = args.return_field.data_type().clone();
        match data_type {
            DataType::Int64 | DataType::UInt64 | DataType::Decimal128(..) if !args.is_distinct => {
                Ok(Box::new(SlidingSum { total: i256::ZERO, count: 0, data_type }))
            }
            _ => self.inner.create_sliding_accumulator(args),
        }
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }

    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        self.inner.inner().set_monotonicity(data_type)
    }

    fn value_from_stats(&self, args: &StatisticsArgs) -> Option<ScalarValue> {
        self.inner.inner().value_from_stats(args)
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        self.inner.inner().simplify()
    }
}

/// One group's sum, checked at every addition.
#[derive(Debug)]
struct SumAccumulator {
    sum: Option<ScalarValue>,
    data_type: DataType,
}

impl SumAccumulator {
    /// Adds values of the input type or of the sum's: the same integers or the same decimal
    /// scale, so their native values add as they are.
    fn add(&mut self, values: &ArrayRef) -> Result<()> {
        let Some(part) = checked_total(values, &self.data_type)? else { return Ok(()) };
        self.sum = Some(match self.sum.take() {
            None => part,
            Some(sum) => checked_scalar_add(&sum, &part)?,
        });
        Ok(())
    }
}

fn sum_overflow() -> datafusion::error::DataFusionError {
    exec_datafusion_err!("arithmetic overflow in sum")
}

/// The checked total of an array's non-null values as `data_type`; `None` when it has none.
fn checked_total(values: &ArrayRef, data_type: &DataType) -> Result<Option<ScalarValue>> {
    if values.null_count() == values.len() {
        return Ok(None);
    }
    macro_rules! total {
        ($t:ty) => {{
            let mut acc = <$t as arrow::datatypes::ArrowPrimitiveType>::Native::default();
            for v in values.as_primitive::<$t>().iter().flatten() {
                acc = acc.checked_add(v).ok_or_else(sum_overflow)?;
            }
            ScalarValue::new_primitive::<$t>(Some(acc), data_type)?
        }};
    }
    Ok(Some(match values.data_type() {
        DataType::Int64 => total!(Int64Type),
        DataType::UInt64 => total!(UInt64Type),
        DataType::Decimal128(..) => total!(Decimal128Type),
        other => return Err(exec_datafusion_err!("checked sum of {other}")),
    }))
}

fn checked_scalar_add(a: &ScalarValue, b: &ScalarValue) -> Result<ScalarValue> {
    let total = fit(add(&a.to_scalar()?, &b.to_scalar()?).map_err(|_| sum_overflow())?, &a.data_type())
        .map_err(|_| sum_overflow())?;
    ScalarValue::try_from_array(&total, 0)
}

impl Accumulator for SumAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(&values[0])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.add(&states[0])
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        match &self.sum {
            Some(sum) => {
                fit(sum.to_array()?, &self.data_type).map_err(|_| sum_overflow())?;
                Ok(sum.clone())
            }
            None => ScalarValue::try_from(&self.data_type),
        }
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

/// A window's sum as its frame slides: rows enter and leave, so the running total is kept in
/// 256 bits (where no frame of 64- or 128-bit values can overflow) and checked against the
/// sum's type only when a row's result is taken. A frame whose sum fits gets it exactly,
/// however large the values that passed through; one whose sum does not fit is an error.
#[derive(Debug)]
struct SlidingSum {
    total: i256,
    count: u64,
    data_type: DataType,
}

impl SlidingSum {
    /// Adds (`entering`) or removes the non-null values: of the input type, or of the sum's
    /// (the same integers or decimal scale).
    fn apply(&mut self, values: &ArrayRef, entering: bool) -> Result<()> {
        let mut step = |v: i256| -> Result<()> {
            let next = if entering { self.total.checked_add(v) } else { self.total.checked_sub(v) };
            self.total = next.ok_or_else(sum_overflow)?;
            self.count = if entering { self.count + 1 } else { self.count - 1 };
            Ok(())
        };
        match values.data_type() {
            DataType::Int64 => {
                values.as_primitive::<Int64Type>().iter().flatten().try_for_each(|v| step(i256::from(v)))
            }
            DataType::UInt64 => {
                values.as_primitive::<UInt64Type>().iter().flatten().try_for_each(|v| step(i256::from(v as i128)))
            }
            DataType::Decimal128(..) => {
                values.as_primitive::<Decimal128Type>().iter().flatten().try_for_each(|v| step(i256::from_i128(v)))
            }
            other => Err(exec_datafusion_err!("checked sum of {other}")),
        }
    }
}

impl Accumulator for SlidingSum {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.apply(&values[0], true)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.apply(&values[0], false)
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.apply(&states[0], true)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.count == 0 {
            return ScalarValue::try_from(&self.data_type);
        }
        let narrow = self.total.to_i128();
        match self.data_type {
            DataType::Int64 => narrow.and_then(|v| i64::try_from(v).ok()).map(|v| ScalarValue::Int64(Some(v))),
            DataType::UInt64 => narrow.and_then(|v| u64::try_from(v).ok()).map(|v| ScalarValue::UInt64(Some(v))),
            DataType::Decimal128(precision, scale) => narrow
                .filter(|&v| is_validate_decimal_precision(v, precision))
                .map(|v| ScalarValue::Decimal128(Some(v), precision, scale)),
            _ => None,
        }
        .ok_or_else(sum_overflow)
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

/// DataFusion's grouped sum with a checked addition: the addition cannot return an error,
/// so it raises a flag that every call checks.
struct CheckedGroups {
    inner: Box<dyn GroupsAccumulator>,
    overflowed: Arc<AtomicBool>,
    data_type: DataType,
}

impl CheckedGroups {
    fn check(&self) -> Result<()> {
        if self.overflowed.load(Ordering::Relaxed) { Err(sum_overflow()) } else { Ok(()) }
    }
}

impl GroupsAccumulator for CheckedGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.inner.update_batch(values, group_indices, opt_filter, total_num_groups)?;
        self.check()
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        self.check()?;
        fit(self.inner.evaluate(emit_to)?, &self.data_type).map_err(|_| sum_overflow())
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.check()?;
        self.inner.state(emit_to)
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.inner.merge_batch(values, group_indices, total_num_groups)?;
        self.check()
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        self.inner.convert_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        self.inner.size()
    }
}
