//! Trino's mathematical and bitwise functions that DataFusion lacks or types otherwise:
//! `ceiling`/`floor`/`truncate`/`sign` keep an integer or decimal an integer or decimal,
//! `mod`, `nan()`, `infinity()`, `e()`, `is_nan`, `is_finite`, `is_infinite`, the
//! `bitwise_*` family, `bit_count`, `format_number`, `from_base`/`to_base`, the vector
//! functions (`cosine_similarity`, `cosine_distance`, `euclidean_distance`, `dot_product`),
//! `sqrt` and `power` of doubles (NaN, not an error, for a negative root; a double even of
//! integers), and `greatest`/`least`, which are NULL when an argument is (DataFusion's skip
//! NULLs).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, GenericListArray, MapArray, PrimitiveArray};
use arrow::compute::kernels::cmp::{gt, lt};
use arrow::compute::kernels::numeric::rem;
use arrow::compute::kernels::zip::zip;
use arrow::compute::{and, cast, is_null, or};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};
use datafusion::common::{Result, exec_datafusion_err, exec_err, plan_datafusion_err, plan_err};
use datafusion::logical_expr::ScalarUDF;
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;

use super::function::{Args, Function, int_at, ints, strings, udf};
use super::shared::{arity, bigint, double, not_nan, rows, varchar};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    use Bitwise::*;
    use Rounding::*;
    use Vectors::*;
    let mut out = vec![
        udf(Constant::Nan),
        udf(Constant::Infinity),
        udf(Constant::E),
        udf(Mod),
        udf(Power),
        udf(BitwiseNot),
        udf(BitCount),
        udf(FormatNumber),
        udf(FromBase),
        udf(ToBase),
        udf(Extremum { greatest: true }),
        udf(Extremum { greatest: false }),
        udf(Random),
    ];
    out.extend([Ceiling, Floor, Truncate, Sign].map(udf));
    out.extend(OfDoubles::ALL.map(udf));
    out.extend([Classify::Nan, Classify::Finite, Classify::Infinite].map(udf));
    out.extend([And, Or, Xor, LeftShift, RightShift, RightShiftArithmetic].map(udf));
    out.extend([CosineSimilarity, CosineDistance, EuclideanDistance, DotProduct].map(udf));
    out
}

/// A number argument in its own type (Trino's results are the argument's: `mod` of two
/// integers is an integer, `ceiling` of a real a real); unsigned integers as `bigint`, others
/// as double.
fn number(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        t if t.is_signed_integer() => Ok(t.clone()),
        t if t.is_integer() => Ok(DataType::Int64),
        DataType::Decimal128(..) | DataType::Float64 | DataType::Float32 => Ok(t.clone()),
        DataType::Float16 | DataType::Decimal256(..) | DataType::Null => Ok(DataType::Float64),
        other => plan_err!("{name} expects a number, got {other}"),
    }
}

/// `nan()`, `infinity()`, `e()`.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Constant {
    Nan,
    Infinity,
    E,
}

impl Function for Constant {
    fn name(&self) -> &'static str {
        match self {
            Self::Nan => "nan",
            Self::Infinity => "infinity",
            Self::E => "e",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 0..=0).map(|_| vec![])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let value = match self {
            Self::Nan => f64::NAN,
            Self::Infinity => f64::INFINITY,
            Self::E => std::f64::consts::E,
        };
        Ok(Arc::new(Float64Array::from_value(value, args.rows)))
    }
}

/// `ceiling`, `floor`, `truncate` (to a number of decimal places, too) and `sign`, in the
/// argument's own kind of number: an integer stays an integer, a decimal a decimal of the
/// digits that are left.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Rounding {
    Ceiling,
    Floor,
    Truncate,
    Sign,
}

impl Function for Rounding {
    fn name(&self) -> &'static str {
        match self {
            Self::Ceiling => "ceiling",
            Self::Floor => "floor",
            Self::Truncate => "truncate",
            Self::Sign => "sign",
        }
    }
    fn aliases(&self) -> &'static [&'static str] {
        if *self == Self::Ceiling { &["ceil"] } else { &[] }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        arity(name, t, 1..=if *self == Self::Truncate { 2 } else { 1 })?;
        let mut out = vec![number(name, &t[0])?];
        if let Some(digits) = t.get(1) {
            out.push(bigint(name, digits)?);
        }
        Ok(out)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match (&t[0], self) {
            (DataType::Decimal128(p, s), Self::Ceiling | Self::Floor) => {
                DataType::Decimal128((*p as i16 - *s as i16 + (*s).min(1) as i16).max(1) as u8, 0)
            }
            (DataType::Decimal128(p, s), Self::Truncate) if t.len() == 1 => {
                DataType::Decimal128((*p as i16 - *s as i16).max(1) as u8, 0)
            }
            (DataType::Decimal128(..), Self::Sign) => DataType::Decimal128(1, 0),
            (other, _) => other.clone(),
        })
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        // Narrower integers and reals are worked as bigint and double, then cast back.
        let x = args.column(0)?;
        let wide = match x.data_type() {
            t if t.is_integer() && *t != DataType::Int64 => Some(DataType::Int64),
            DataType::Float32 => Some(DataType::Float64),
            _ => None,
        };
        let x = match &wide {
            Some(w) => arrow::compute::cast(&x, w)?,
            None => x,
        };
        let digits = if args.len() == 2 { Some(args.column(1)?) } else { None };
        let digits = digits.as_ref().map(|d| d.as_primitive::<Int64Type>());
        let out: ArrayRef = match x.data_type() {
            DataType::Int64 => {
                let v = x.as_primitive::<Int64Type>();
                match (self, digits) {
                    (Self::Sign, _) => Arc::new(v.unary::<_, Int64Type>(i64::signum)),
                    (Self::Truncate, Some(d)) => {
                        Arc::new(arrow::compute::binary::<_, _, _, Int64Type>(v, d, |v, d| {
                            if d >= 0 {
                                v
                            } else {
                                let m = 10i64.saturating_pow((-d) as u32);
                                v / m * m
                            }
                        })?)
                    }
                    _ => x.clone(),
                }
            }
            DataType::Float64 => {
                let v = x.as_primitive::<Float64Type>();
                Arc::new(match (self, digits) {
                    (Self::Ceiling, _) => v.unary::<_, Float64Type>(f64::ceil),
                    (Self::Floor, _) => v.unary::<_, Float64Type>(f64::floor),
                    (Self::Sign, _) => {
                        v.unary::<_, Float64Type>(|f| if f.is_nan() || f == 0.0 { f } else { f.signum() })
                    }
                    (_, None) => v.unary::<_, Float64Type>(f64::trunc),
                    (_, Some(d)) => arrow::compute::binary::<_, _, _, Float64Type>(v, d, |f, d| {
                        let m = 10f64.powi(d as i32);
                        (f * m).trunc() / m
                    })?,
                })
            }
            DataType::Decimal128(_, scale) => {
                let (v, scale) = (x.as_primitive::<Decimal128Type>(), *scale as i64);
                let unit = 10i128.pow(scale.max(0) as u32);
                let out: PrimitiveArray<Decimal128Type> = match (self, digits) {
                    (Self::Sign, _) => v.unary(i128::signum),
                    (Self::Ceiling, _) => v.unary(|x| x.div_euclid(unit) + i128::from(x.rem_euclid(unit) != 0)),
                    (Self::Floor, _) => v.unary(|x| x.div_euclid(unit)),
                    (_, None) => v.unary(|x| x / unit),
                    // Keeps the scale: the digits past `d` become zeros.
                    (_, Some(d)) => arrow::compute::binary(v, d, |x, d| {
                        let m = 10i128.pow((scale - d).clamp(0, 38) as u32);
                        x / m * m
                    })?,
                };
                let DataType::Decimal128(p, s) = args.ret else {
                    return exec_err!("{} returns a decimal", self.name());
                };
                Arc::new(out.with_precision_and_scale(*p, *s)?)
            }
            other => return exec_err!("{} expects a number, got {other}", self.name()),
        };
        Ok(if wide.is_some() { arrow::compute::cast(&out, args.ret)? } else { out })
    }
}

/// `mod(n, m)`: the remainder with the dividend's sign, in the arguments' common type.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Mod;

impl Function for Mod {
    fn name(&self) -> &'static str {
        "mod"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("mod", t, 2..=2)?;
        let (a, b) = (number("mod", &t[0])?, number("mod", &t[1])?);
        // An integer beside a decimal is the decimal of its digits (Trino's integer is
        // decimal(10, 0)), so the remainder's type is Trino's.
        let digits = |t: &DataType| match t {
            DataType::Int8 => DataType::Decimal128(3, 0),
            DataType::Int16 => DataType::Decimal128(5, 0),
            DataType::Int32 => DataType::Decimal128(10, 0),
            DataType::Int64 => DataType::Decimal128(19, 0),
            t => t.clone(),
        };
        if let (DataType::Decimal128(..), DataType::Decimal128(..)) = (&digits(&a), &digits(&b))
            && (matches!(a, DataType::Decimal128(..)) || matches!(b, DataType::Decimal128(..)))
        {
            return Ok(vec![digits(&a), digits(&b)]);
        }
        let common = type_union_resolution(&[a, b]).unwrap_or(DataType::Float64);
        Ok(vec![common.clone(), common])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        // Of decimals, Trino's: the divisor bounds the remainder, whose integer digits are the
        // fewer of the two and whose scale is the larger.
        Ok(match (&t[0], &t[1]) {
            (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) => {
                let scale = (*s1).max(*s2);
                let integers = (*p1 as i8 - s1).min(*p2 as i8 - s2);
                DataType::Decimal128((integers + scale).max(1) as u8, scale)
            }
            _ => t[0].clone(),
        })
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (mut a, mut b) = (args.column(0)?, args.column(1)?);
        if let DataType::Decimal128(_, scale) = args.ret {
            let wide = DataType::Decimal128(38, *scale);
            (a, b) = (cast(&a, &wide)?, cast(&b, &wide)?);
        }
        let remainder = rem(&a, &b).map_err(|e| match e {
            arrow::error::ArrowError::DivideByZero => exec_datafusion_err!("Division by zero"),
            e => e.into(),
        })?;
        Ok(cast(&remainder, args.ret)?)
    }
}

/// `is_nan`, `is_finite`, `is_infinite` of a double.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Classify {
    Nan,
    Finite,
    Infinite,
}

impl Function for Classify {
    fn name(&self) -> &'static str {
        match self {
            Self::Nan => "is_nan",
            Self::Finite => "is_finite",
            Self::Infinite => "is_infinite",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![double(self.name(), &t[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let x = args.column(0)?;
        let x = x.as_primitive::<Float64Type>();
        let test = match self {
            Self::Nan => f64::is_nan,
            Self::Finite => f64::is_finite,
            Self::Infinite => f64::is_infinite,
        };
        let values = x.values().iter().map(|v| test(*v)).collect();
        Ok(Arc::new(BooleanArray::new(values, x.nulls().cloned())))
    }
}

/// The functions of doubles alone (Trino's take a real as a double and answer a double, where
/// DataFusion's keep a real a real: `exp(REAL '-123.45')` underflowed to 0), each as Java's
/// `Math` computes it: IEEE, so the root or logarithm of a negative number is NaN, not an
/// error, and `log2` is `ln(x) / ln(2)`.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum OfDoubles {
    Sqrt,
    Cbrt,
    Exp,
    Ln,
    Log2,
    Log10,
    Degrees,
    Radians,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Atan2,
    Log,
}

impl OfDoubles {
    const ALL: [OfDoubles; 19] = {
        use OfDoubles::*;
        [
            Sqrt, Cbrt, Exp, Ln, Log2, Log10, Degrees, Radians, Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Tanh,
            Atan2, Log,
        ]
    };

    fn unary(self) -> fn(f64) -> f64 {
        use OfDoubles::*;
        match self {
            Sqrt => f64::sqrt,
            Cbrt => f64::cbrt,
            Exp => f64::exp,
            Ln => f64::ln,
            Log2 => |x| x.ln() / std::f64::consts::LN_2,
            Log10 => f64::log10,
            Degrees => f64::to_degrees,
            Radians => f64::to_radians,
            Sin => f64::sin,
            Cos => f64::cos,
            Tan => f64::tan,
            Asin => f64::asin,
            Acos => f64::acos,
            Atan => f64::atan,
            Sinh => f64::sinh,
            Cosh => f64::cosh,
            Tanh => f64::tanh,
            Atan2 | Log => unreachable!("of two arguments"),
        }
    }
}

impl Function for OfDoubles {
    fn name(&self) -> &'static str {
        use OfDoubles::*;
        match self {
            Sqrt => "sqrt",
            Cbrt => "cbrt",
            Exp => "exp",
            Ln => "ln",
            Log2 => "log2",
            Log10 => "log10",
            Degrees => "degrees",
            Radians => "radians",
            Sin => "sin",
            Cos => "cos",
            Tan => "tan",
            Asin => "asin",
            Acos => "acos",
            Atan => "atan",
            Sinh => "sinh",
            Cosh => "cosh",
            Tanh => "tanh",
            Atan2 => "atan2",
            Log => "log",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let n = if matches!(self, Self::Atan2 | Self::Log) { 2 } else { 1 };
        arity(self.name(), t, n..=n)?;
        t.iter().map(|t| double(self.name(), t)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let x = args.column(0)?;
        let x = x.as_primitive::<Float64Type>();
        let two = |f: fn(f64, f64) -> f64| -> Result<ArrayRef> {
            let y = args.column(1)?;
            Ok(Arc::new(arrow::compute::binary::<_, _, _, Float64Type>(x, y.as_primitive::<Float64Type>(), f)?))
        };
        match self {
            // `log(b, x)`: the logarithm of x to the base b.
            Self::Log => two(|b, x| x.ln() / b.ln()),
            Self::Atan2 => two(f64::atan2),
            f => Ok(Arc::new(x.unary::<_, Float64Type>(f.unary()))),
        }
    }
}

/// `power(x, p)` of doubles, even of integers.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Power;

impl Function for Power {
    fn name(&self) -> &'static str {
        "power"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["pow"]
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("power", t, 2..=2)?;
        Ok(vec![double("power", &t[0])?, double("power", &t[1])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (x, p) = (args.column(0)?, args.column(1)?);
        Ok(Arc::new(arrow::compute::binary::<_, _, _, Float64Type>(
            x.as_primitive::<Float64Type>(),
            p.as_primitive::<Float64Type>(),
            f64::powf,
        )?))
    }
}

/// Two `bigint`s of a call, as Arrow arrays.
fn two_ints(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, t, 2..=2)?;
    Ok(vec![bigint(name, &t[0])?, bigint(name, &t[1])?])
}

/// `bitwise_and`, `bitwise_or`, `bitwise_xor` of two `bigint`s, and the shifts of a value of
/// any integer type, which keep its type and width (`bitwise_left_shift(TINYINT '1', 7)` is
/// -128; a logical right shift fills a tinyint's eight bits).
#[derive(Debug, PartialEq, Eq, Hash)]
enum Bitwise {
    And,
    Or,
    Xor,
    LeftShift,
    RightShift,
    RightShiftArithmetic,
}

impl Bitwise {
    fn shift(&self) -> bool {
        matches!(self, Self::LeftShift | Self::RightShift | Self::RightShiftArithmetic)
    }
}

impl Function for Bitwise {
    fn name(&self) -> &'static str {
        match self {
            Self::And => "bitwise_and",
            Self::Or => "bitwise_or",
            Self::Xor => "bitwise_xor",
            Self::LeftShift => "bitwise_left_shift",
            Self::RightShift => "bitwise_right_shift",
            Self::RightShiftArithmetic => "bitwise_right_shift_arithmetic",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let mut out = two_ints(self.name(), t)?;
        if self.shift() && matches!(t[0], DataType::Int8 | DataType::Int16 | DataType::Int32) {
            out[0] = t[0].clone();
        }
        Ok(out)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(if self.shift() { t[0].clone() } else { DataType::Int64 })
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (a, b) = (args.column(0)?, args.column(1)?);
        let bits = a.data_type().primitive_width().map_or(64, |bytes| 8 * bytes as i64);
        let a = cast(&a, &DataType::Int64)?;
        let (a, b) = (a.as_primitive::<Int64Type>(), b.as_primitive::<Int64Type>());
        // The value's own width: its bits alone shift, and a shift by the width or more (or by
        // a negative count) shifts them all out.
        let wrap = move |v: i64| if bits == 64 { v } else { (v << (64 - bits)) >> (64 - bits) };
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        let out = match self {
            Self::And => arrow::compute::binary::<_, _, _, Int64Type>(a, b, |a, b| a & b)?,
            Self::Or => arrow::compute::binary::<_, _, _, Int64Type>(a, b, |a, b| a | b)?,
            Self::Xor => arrow::compute::binary::<_, _, _, Int64Type>(a, b, |a, b| a ^ b)?,
            Self::LeftShift => arrow::compute::binary::<_, _, _, Int64Type>(a, b, |a, b| {
                if (0..bits).contains(&b) { wrap(a << b) } else { 0 }
            })?,
            Self::RightShift => arrow::compute::binary::<_, _, _, Int64Type>(a, b, |a, b| {
                if (0..bits).contains(&b) { wrap((((a as u64) & mask) >> b) as i64) } else { 0 }
            })?,
            Self::RightShiftArithmetic => arrow::compute::binary::<_, _, _, Int64Type>(a, b, |a, b| {
                if (0..bits).contains(&b) {
                    a >> b
                } else if a < 0 {
                    -1
                } else {
                    0
                }
            })?,
        };
        Ok(cast(&out, args.ret)?)
    }
}

/// `bitwise_not(x)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct BitwiseNot;

impl Function for BitwiseNot {
    fn name(&self) -> &'static str {
        "bitwise_not"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("bitwise_not", t, 1..=1)?;
        Ok(vec![bigint("bitwise_not", &t[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        Ok(Arc::new(args.column(0)?.as_primitive::<Int64Type>().unary::<_, Int64Type>(|v| !v)))
    }
}

/// The rows where both `bigint` columns have a value, as pairs (`None` where either is NULL).
fn int_pairs<'a>(a: &'a ArrayRef, b: &'a ArrayRef) -> impl Iterator<Item = Option<(i64, i64)>> + 'a {
    a.as_primitive::<Int64Type>().iter().zip(b.as_primitive::<Int64Type>().iter()).map(|(a, b)| a.zip(b))
}

/// `bit_count(x, bits)`: the one bits of `x` as a two's complement number of `bits` bits.
#[derive(Debug, PartialEq, Eq, Hash)]
struct BitCount;

impl Function for BitCount {
    fn name(&self) -> &'static str {
        "bit_count"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        two_ints("bit_count", t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (x, bits) = (args.column(0)?, args.column(1)?);
        ints(int_pairs(&x, &bits).map(|pair| pair.map(|(x, bits)| bit_count(x, bits)).transpose()))
    }
}

fn bit_count(x: i64, bits: i64) -> Result<i64> {
    if !(2..=64).contains(&bits) {
        return exec_err!("Bits specified in bit_count must be between 2 and 64, got {bits}");
    }
    let (low, high) = if bits == 64 { (i64::MIN, i64::MAX) } else { (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1) };
    if x < low || x > high {
        return exec_err!(
            "Number must be representable with the bits specified. {x} cannot be represented with {bits} bits"
        );
    }
    let masked = if bits == 64 { x as u64 } else { (x as u64) & ((1u64 << bits) - 1) };
    Ok(masked.count_ones() as i64)
}

/// `format_number(x)`: a number with a unit symbol and three significant digits.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FormatNumber;

impl Function for FormatNumber {
    fn name(&self) -> &'static str {
        "format_number"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("format_number", t, 1..=1)?;
        Ok(vec![if t[0].is_integer() { DataType::Int64 } else { double("format_number", &t[0])? }])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let x = args.column(0)?;
        // A double (a real, a decimal) as Java's `(long)` cuts it: toward zero, saturating.
        let x = match x.data_type() {
            DataType::Int64 => x,
            _ => Arc::new(x.as_primitive::<Float64Type>().unary::<_, Int64Type>(|v| v as i64)),
        };
        strings(x.as_primitive::<Int64Type>().iter().map(|v| Ok(v.map(format_number))))
    }
}

fn radix(r: i64) -> Result<u32> {
    if (2..=36).contains(&r) { Ok(r as u32) } else { exec_err!("Radix must be between 2 and 36") }
}

/// `from_base(digits, radix)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromBase;

impl Function for FromBase {
    fn name(&self) -> &'static str {
        "from_base"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("from_base", t, 2..=2)?;
        Ok(vec![varchar("from_base", &t[0])?, bigint("from_base", &t[1])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (s, r) = (args.column(0)?, args.column(1)?);
        let rows = s.as_string::<i32>().iter().zip(r.as_primitive::<Int64Type>().iter());
        ints(rows.map(|row| match row {
            (Some(s), Some(r)) => {
                let r = radix(r)?;
                i64::from_str_radix(s, r).map(Some).or_else(|_| exec_err!("Not a valid base-{r} number: {s}"))
            }
            _ => Ok(None),
        }))
    }
}

/// `to_base(x, radix)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToBase;

impl Function for ToBase {
    fn name(&self) -> &'static str {
        "to_base"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        two_ints("to_base", t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (x, r) = (args.column(0)?, args.column(1)?);
        strings(int_pairs(&x, &r).map(|pair| pair.map(|(x, r)| Ok(to_base(x, radix(r)?))).transpose()))
    }
}

/// `greatest(...)` and `least(...)`: NULL when any argument is; NaN is passed over unless
/// every value is NaN (Trino's max functions).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Extremum {
    greatest: bool,
}

impl Function for Extremum {
    fn name(&self) -> &'static str {
        if self.greatest { "greatest" } else { "least" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        if t.is_empty() {
            return plan_err!("{name} takes at least one argument");
        }
        let common = type_union_resolution(t).ok_or_else(|| plan_datafusion_err!("{name}: no common type of {t:?}"))?;
        Ok(vec![common; t.len()])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let mut best = columns[0].clone();
        let mut nulls = is_null(&best)?;
        let real = |x: &ArrayRef| not_nan(x.as_ref()).map(|b| BooleanArray::new(b, None));
        for next in &columns[1..] {
            let better = if self.greatest { gt(next, &best)? } else { lt(next, &best)? };
            // Arrow's order puts NaN above everything, which only `greatest` minds.
            let better = match (self.greatest, real(next), real(&best)) {
                (true, Some(next_real), Some(best_real)) => {
                    or(&and(&better, &next_real)?, &arrow::compute::not(&best_real)?)?
                }
                _ => better,
            };
            best = zip(&better, next, &best)?;
            nulls = or(&nulls, &is_null(next)?)?;
        }
        Ok(arrow::compute::nullif(&best, &nulls)?)
    }
}

/// `format_number(x)`: a whole number with a unit symbol and three significant digits, as
/// Trino's does it: a double is cut to a bigint first; each thousand moves to the next unit;
/// the digits after the point are two below 10, one below 100, none above, and a negative value
/// always has two (Trino compares the signed value); half up from the double's exact value,
/// trailing zeros of the fraction dropped (`123K`, `1.23M`, `12.3K`, `-9223.37Q`).
fn format_number(count: i64) -> String {
    const UNITS: [&str; 6] = ["", "K", "M", "B", "T", "Q"];
    let mut value = count as f64;
    let mut unit = 0;
    while value.abs() >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    };
    format!("{}{}", half_up(value, decimals), UNITS[unit])
}

/// `v` to `decimals` digits after the point, half up from its exact binary value (as Java's
/// `DecimalFormat` rounds), without trailing zeros of the fraction.
fn half_up(v: f64, decimals: usize) -> String {
    use super::java_format::{parts, round};
    // The exact expansion is finite; past a few more digits than asked nothing but the tie
    // rule can change the rounding, and the digit right after decides it.
    let (_, digits, point) = parts(&format!("{:.*}", decimals + 30, v.abs()));
    let (digits, carried) = round(&digits, point as usize + decimals);
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let (int, frac) = text.split_at(point as usize + usize::from(carried));
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
    if v < 0.0 && body.bytes().any(|b| b.is_ascii_digit() && b != b'0') { format!("-{body}") } else { body }
}

fn to_base(x: i64, radix: u32) -> String {
    let mut v = x.unsigned_abs();
    if v == 0 {
        return "0".into();
    }
    let mut digits = Vec::new();
    while v > 0 {
        digits.push(std::char::from_digit((v % radix as u64) as u32, radix).expect("a digit"));
        v /= radix as u64;
    }
    if x < 0 {
        digits.push('-');
    }
    digits.iter().rev().collect()
}

/// The vector functions of two arrays of doubles of one length: `cosine_similarity`,
/// `cosine_distance` (1 - similarity), `euclidean_distance`, `dot_product`; the cosine ones
/// also of two sparse vectors as maps (keys absent from one are zeros there). As Trino's
/// ArrayVectorFunctions: arrays of two lengths are an error, a NULL element makes the result
/// NULL, and a cosine of a vector of magnitude 0 is an error.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Vectors {
    CosineSimilarity,
    CosineDistance,
    EuclideanDistance,
    DotProduct,
}

impl Function for Vectors {
    fn name(&self) -> &'static str {
        match self {
            Self::CosineSimilarity => "cosine_similarity",
            Self::CosineDistance => "cosine_distance",
            Self::EuclideanDistance => "euclidean_distance",
            Self::DotProduct => "dot_product",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        arity(name, t, 2..=2)?;
        let cosine = matches!(self, Self::CosineSimilarity | Self::CosineDistance);
        // A NULL beside a map is a map (the kernel takes two maps or two arrays).
        let map = t.iter().find(|t| matches!(t, DataType::Map(..))).filter(|_| cosine);
        t.iter()
            .map(|t| match t {
                DataType::Null if map.is_some() => Ok(map.cloned().unwrap_or(DataType::Null)),
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) | DataType::Null => {
                    Ok(DataType::new_list(DataType::Float64, true))
                }
                DataType::Map(..) if cosine => Ok(t.clone()),
                other => plan_err!("{name} expects arrays of doubles, got {other}"),
            })
            .collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (a, b) = (args.column(0)?, args.column(1)?);
        let out = match (a.data_type(), b.data_type()) {
            (DataType::Map(..), DataType::Map(..)) => maps_cosine(a.as_map(), b.as_map())?,
            _ => self.arrays(a.as_list::<i32>(), b.as_list::<i32>())?,
        };
        Ok(Arc::new(match self {
            Self::CosineDistance => out.unary::<_, Float64Type>(|s| 1.0 - s),
            _ => out,
        }))
    }
}

impl Vectors {
    /// Each row's pair of vectors read as slices of the two flat value buffers.
    fn arrays(&self, a: &GenericListArray<i32>, b: &GenericListArray<i32>) -> Result<Float64Array> {
        let (x, y) = (a.values().as_primitive::<Float64Type>(), b.values().as_primitive::<Float64Type>());
        let (xs, ys) = (x.values(), y.values());
        let has_null = |v: &Float64Array, range: std::ops::Range<usize>| {
            v.nulls().is_some_and(|n| n.slice(range.start, range.len()).null_count() > 0)
        };
        let mut out = Vec::with_capacity(a.len());
        for (i, (ra, rb)) in a.offsets().windows(2).zip(b.offsets().windows(2)).enumerate() {
            if a.is_null(i) || b.is_null(i) {
                out.push(None);
                continue;
            }
            let (ra, rb) = (ra[0] as usize..ra[1] as usize, rb[0] as usize..rb[1] as usize);
            if ra.len() != rb.len() {
                return exec_err!("The arguments must have the same length");
            }
            if has_null(x, ra.clone()) || has_null(y, rb.clone()) {
                out.push(None);
                continue;
            }
            let (p, q) = (&xs[ra], &ys[rb]);
            let dot = || p.iter().zip(q).map(|(p, q)| p * q).fold(0.0, |s, v| s + v);
            out.push(Some(match self {
                Self::EuclideanDistance => {
                    p.iter().zip(q).map(|(p, q)| (p - q) * (p - q)).fold(0.0, |s, v| s + v).sqrt()
                }
                Self::DotProduct => dot(),
                Self::CosineSimilarity | Self::CosineDistance => {
                    let magnitudes = norm(p.iter().copied()) * norm(q.iter().copied());
                    if magnitudes == 0.0 {
                        return exec_err!("Vector magnitude cannot be zero");
                    }
                    dot() / magnitudes
                }
            }));
        }
        Ok(Float64Array::from(out))
    }
}

fn norm(v: impl Iterator<Item = f64>) -> f64 {
    v.map(|p| p * p).sum::<f64>().sqrt()
}

/// The cosine similarity of sparse vectors: the keys of both maps as rows of bytes (one
/// conversion for the batch), values as doubles; NULL when a value is NULL.
fn maps_cosine(a: &MapArray, b: &MapArray) -> Result<Float64Array> {
    let keys = rows(&[a.keys().clone(), cast(b.keys(), a.keys().data_type())?])?;
    let (ka, kb) = (&keys[0], &keys[1]);
    let (va, vb) = (cast(a.values(), &DataType::Float64)?, cast(b.values(), &DataType::Float64)?);
    let (va, vb) = (va.as_primitive::<Float64Type>(), vb.as_primitive::<Float64Type>());
    let mut out = Vec::with_capacity(a.len());
    for (i, (ra, rb)) in a.offsets().windows(2).zip(b.offsets().windows(2)).enumerate() {
        let (ra, rb) = (ra[0] as usize..ra[1] as usize, rb[0] as usize..rb[1] as usize);
        if a.is_null(i) || b.is_null(i) || ra.clone().any(|j| va.is_null(j)) || rb.clone().any(|j| vb.is_null(j)) {
            out.push(None);
            continue;
        }
        let first: HashMap<_, _> = ra.clone().map(|j| (ka.row(j), va.value(j))).collect();
        let dot: f64 =
            rb.clone().filter_map(|j| first.get(&kb.row(j)).map(|p| p * vb.value(j))).fold(0.0, |s, v| s + v);
        out.push(Some(dot / (norm(ra.map(|j| va.value(j))) * norm(rb.map(|j| vb.value(j))))));
    }
    Ok(Float64Array::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_number_and_bases() {
        assert_eq!(format_number(123456), "123K");
        assert_eq!(format_number(12345), "12.3K");
        assert_eq!(format_number(1234567), "1.23M");
        assert_eq!(format_number(1_000_000), "1M");
        assert_eq!(format_number(12), "12");
        assert_eq!(format_number(100), "100");
        assert_eq!(format_number(-999), "-999");
        assert_eq!(format_number(120_000), "120K");
        assert_eq!(format_number(-1234), "-1.23K");
        assert_eq!(format_number(i64::MIN), "-9223.37Q");
        assert_eq!(format_number(i64::MAX), "9223Q");
        assert_eq!(format_number(-999_999), "-1000K");
        assert_eq!(half_up(0.125, 2), "0.13");
        assert_eq!(half_up(1.005, 2), "1");
        assert_eq!(to_base(255, 16), "ff");
        assert_eq!(to_base(-10, 2), "-1010");
    }
}

/// `random()` (also `rand()`): a double in [0, 1); `random(n)`: an integer in [0, n);
/// `random(m, n)`: in [m, n); of the bounds' integer type. Bounds that leave no value are an
/// error, as in Trino.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Random;

impl Function for Random {
    fn name(&self) -> &'static str {
        "random"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["rand"]
    }
    fn volatility(&self) -> datafusion::logical_expr::Volatility {
        datafusion::logical_expr::Volatility::Volatile
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 0..=2)?;
        if let Some(bad) = t.iter().find(|t| !t.is_integer() && !t.is_null()) {
            return plan_err!("random expects integer bounds, got {bad}");
        }
        // The widest of the bounds' types (a NULL bound as an integer).
        let width = |t: &DataType| t.primitive_width().unwrap_or(4);
        let widest = t.iter().filter(|t| !t.is_null()).max_by_key(|t| width(t)).cloned().unwrap_or(DataType::Int32);
        Ok(vec![widest; t.len()])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t.first().cloned().unwrap_or(DataType::Float64))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        use rand::Rng;
        let mut rng = rand::rng();
        if args.len() == 0 {
            let values: Float64Array = (0..args.rows).map(|_| Some(rng.random::<f64>())).collect();
            return Ok(Arc::new(values));
        }
        let bounds =
            args.columns()?.iter().map(|c| Ok(cast(c, &DataType::Int64)?)).collect::<Result<Vec<ArrayRef>>>()?;
        let (low, high) = if bounds.len() == 2 { (Some(&bounds[0]), &bounds[1]) } else { (None, &bounds[0]) };
        let values = (0..args.rows).map(|i| {
            let lo = match low {
                Some(l) => int_at(l, i),
                None => Some(0),
            };
            match (lo, int_at(high, i)) {
                (Some(lo), Some(hi)) if hi > lo => Ok(Some(rng.random_range(lo..hi))),
                (Some(_), Some(_)) if low.is_none() => exec_err!("random: bound must be positive"),
                (Some(_), Some(_)) => exec_err!("random: start value must be less than stop value"),
                _ => Ok(None),
            }
        });
        let values = ints(values)?;
        Ok(cast(&values, args.ret)?)
    }
}
