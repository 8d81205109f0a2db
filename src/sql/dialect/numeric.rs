//! Trino's mathematical and bitwise functions that DataFusion lacks or types otherwise:
//! `ceiling`/`floor`/`truncate`/`sign` keep an integer or decimal an integer or decimal,
//! `mod`, `nan()`, `infinity()`, `e()`, `is_nan`, `is_finite`, `is_infinite`, the
//! `bitwise_*` family, `bit_count`, `format_number`, `from_base`/`to_base`,
//! `cosine_similarity`/`euclidean_distance`, `sqrt` and `power` of doubles (NaN, not an
//! error, for a negative root; a double even of integers), and `greatest`/`least`, which are NULL when an
//! argument is (DataFusion's skip NULLs).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Float64Array, Int64Array, MapArray, StringArray,
};
use arrow::compute::kernels::cmp::{gt, lt};
use arrow::compute::kernels::numeric::rem;
use arrow::compute::kernels::zip::zip;
use arrow::compute::{and, cast, is_null, or};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::shared::{arity, bigint, varchar};

/// Which Trino function a `Numeric` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum N {
    Ceiling,
    Floor,
    Truncate,
    Sign,
    Mod,
    Nan,
    Infinity,
    E,
    IsNan,
    IsFinite,
    IsInfinite,
    BitwiseAnd,
    BitwiseOr,
    BitwiseXor,
    BitwiseNot,
    LeftShift,
    RightShift,
    RightShiftArithmetic,
    BitCount,
    FormatNumber,
    FromBase,
    ToBase,
    CosineSimilarity,
    CosineDistance,
    EuclideanDistance,
    DotProduct,
    Greatest,
    Least,
    Sqrt,
    Power,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Numeric {
    n: N,
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    [
        (N::Ceiling, "ceiling", &["ceil"][..]),
        (N::Floor, "floor", &[]),
        (N::Truncate, "truncate", &[]),
        (N::Sign, "sign", &[]),
        (N::Mod, "mod", &[]),
        (N::Nan, "nan", &[]),
        (N::Infinity, "infinity", &[]),
        (N::E, "e", &[]),
        (N::IsNan, "is_nan", &[]),
        (N::IsFinite, "is_finite", &[]),
        (N::IsInfinite, "is_infinite", &[]),
        (N::BitwiseAnd, "bitwise_and", &[]),
        (N::BitwiseOr, "bitwise_or", &[]),
        (N::BitwiseXor, "bitwise_xor", &[]),
        (N::BitwiseNot, "bitwise_not", &[]),
        (N::LeftShift, "bitwise_left_shift", &[]),
        (N::RightShift, "bitwise_right_shift", &[]),
        (N::RightShiftArithmetic, "bitwise_right_shift_arithmetic", &[]),
        (N::BitCount, "bit_count", &[]),
        (N::FormatNumber, "format_number", &[]),
        (N::FromBase, "from_base", &[]),
        (N::ToBase, "to_base", &[]),
        (N::CosineSimilarity, "cosine_similarity", &[]),
        (N::EuclideanDistance, "euclidean_distance", &[]),
        (N::CosineDistance, "cosine_distance", &[]),
        (N::DotProduct, "dot_product", &[]),
        (N::Greatest, "greatest", &[]),
        (N::Least, "least", &[]),
        (N::Sqrt, "sqrt", &[]),
        (N::Power, "power", &["pow"]),
    ]
    .into_iter()
    .map(|(n, name, aliases)| {
        ScalarUDF::new_from_impl(Numeric {
            n,
            name,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            signature: Signature::user_defined(Volatility::Immutable),
        })
    })
    .collect()
}

fn number(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        t if t.is_integer() => Ok(DataType::Int64),
        DataType::Decimal128(..) | DataType::Float64 => Ok(t.clone()),
        DataType::Float32 | DataType::Float16 | DataType::Decimal256(..) | DataType::Null => Ok(DataType::Float64),
        other => plan_err!("{name} expects a number, got {other}"),
    }
}

fn double(name: &str, t: &DataType) -> Result<DataType> {
    number(name, t).map(|_| DataType::Float64)
}

impl ScalarUDFImpl for Numeric {
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
        let name = self.name;
        match self.n {
            N::Nan | N::Infinity | N::E => arity(name, t, 0..=0).map(|_| vec![]),
            N::Ceiling | N::Floor | N::Sign => {
                arity(name, t, 1..=1)?;
                Ok(vec![number(name, &t[0])?])
            }
            N::Truncate => {
                arity(name, t, 1..=2)?;
                let mut out = vec![number(name, &t[0])?];
                if t.len() == 2 {
                    out.push(bigint(name, &t[1])?);
                }
                Ok(out)
            }
            N::Mod => {
                arity(name, t, 2..=2)?;
                let (a, b) = (number(name, &t[0])?, number(name, &t[1])?);
                let common = type_union_resolution(&[a.clone(), b.clone()]).unwrap_or(DataType::Float64);
                Ok(vec![common.clone(), common])
            }
            N::IsNan | N::IsFinite | N::IsInfinite | N::Sqrt => {
                arity(name, t, 1..=1)?;
                Ok(vec![double(name, &t[0])?])
            }
            N::Power => {
                arity(name, t, 2..=2)?;
                Ok(vec![double(name, &t[0])?, double(name, &t[1])?])
            }
            N::BitwiseNot => {
                arity(name, t, 1..=1)?;
                Ok(vec![bigint(name, &t[0])?])
            }
            N::BitwiseAnd
            | N::BitwiseOr
            | N::BitwiseXor
            | N::LeftShift
            | N::RightShift
            | N::RightShiftArithmetic
            | N::BitCount => {
                arity(name, t, 2..=2)?;
                Ok(vec![bigint(name, &t[0])?, bigint(name, &t[1])?])
            }
            N::FormatNumber => {
                arity(name, t, 1..=1)?;
                Ok(vec![double(name, &t[0])?])
            }
            N::FromBase => {
                arity(name, t, 2..=2)?;
                Ok(vec![varchar(name, &t[0])?, bigint(name, &t[1])?])
            }
            N::ToBase => {
                arity(name, t, 2..=2)?;
                Ok(vec![bigint(name, &t[0])?, bigint(name, &t[1])?])
            }
            N::CosineSimilarity | N::CosineDistance | N::EuclideanDistance | N::DotProduct => {
                arity(name, t, 2..=2)?;
                t.iter()
                    .map(|t| match t {
                        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) | DataType::Null => {
                            Ok(DataType::new_list(DataType::Float64, true))
                        }
                        DataType::Map(..) if matches!(self.n, N::CosineSimilarity | N::CosineDistance) => Ok(t.clone()),
                        other => plan_err!("{name} expects arrays of doubles, got {other}"),
                    })
                    .collect()
            }
            N::Greatest | N::Least => {
                if t.is_empty() {
                    return plan_err!("{name} takes at least one argument");
                }
                let common = type_union_resolution(t)
                    .ok_or_else(|| datafusion::common::plan_datafusion_err!("{name}: no common type of {t:?}"))?;
                Ok(vec![common; t.len()])
            }
        }
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match self.n {
            N::Nan
            | N::Infinity
            | N::E
            | N::CosineSimilarity
            | N::CosineDistance
            | N::EuclideanDistance
            | N::DotProduct
            | N::Sqrt
            | N::Power => DataType::Float64,
            N::IsNan | N::IsFinite | N::IsInfinite => DataType::Boolean,
            N::FormatNumber | N::ToBase => DataType::Utf8,
            N::BitwiseAnd
            | N::BitwiseOr
            | N::BitwiseXor
            | N::BitwiseNot
            | N::LeftShift
            | N::RightShift
            | N::RightShiftArithmetic
            | N::BitCount
            | N::FromBase => DataType::Int64,
            N::Ceiling | N::Floor => match &t[0] {
                DataType::Decimal128(p, s) => {
                    DataType::Decimal128((*p as i16 - *s as i16 + (*s).min(1) as i16).max(1) as u8, 0)
                }
                other => other.clone(),
            },
            N::Truncate => match &t[0] {
                DataType::Decimal128(p, s) if t.len() == 1 => {
                    DataType::Decimal128((*p as i16 - *s as i16).max(1) as u8, 0)
                }
                other => other.clone(),
            },
            N::Sign => match &t[0] {
                DataType::Decimal128(..) => DataType::Decimal128(1, 0),
                other => other.clone(),
            },
            N::Mod | N::Greatest | N::Least => t[0].clone(),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ret = args.return_field.data_type().clone();
        super::shared::invoke(&args, |arrays, len| {
            let out: ArrayRef = match self.n {
                N::Nan => Arc::new(Float64Array::from(vec![f64::NAN; len])),
                N::Infinity => Arc::new(Float64Array::from(vec![f64::INFINITY; len])),
                N::E => Arc::new(Float64Array::from(vec![std::f64::consts::E; len])),
                N::IsNan | N::IsFinite | N::IsInfinite => {
                    let x = arrays[0].as_primitive::<Float64Type>();
                    let f = match self.n {
                        N::IsNan => f64::is_nan,
                        N::IsFinite => f64::is_finite,
                        _ => f64::is_infinite,
                    };
                    Arc::new(x.iter().map(|v| v.map(f)).collect::<BooleanArray>())
                }
                N::Ceiling | N::Floor | N::Truncate | N::Sign => rounding(self.n, arrays, &ret)?,
                // IEEE, as Java: the square root of a negative number is NaN, not an error.
                N::Sqrt => Arc::new(arrays[0].as_primitive::<Float64Type>().unary::<_, Float64Type>(f64::sqrt)),
                N::Power => Arc::new(arrow::compute::binary::<_, _, _, Float64Type>(
                    arrays[0].as_primitive::<Float64Type>(),
                    arrays[1].as_primitive::<Float64Type>(),
                    f64::powf,
                )?),
                N::Mod => rem(&arrays[0], &arrays[1]).map_err(|e| match e {
                    arrow::error::ArrowError::DivideByZero => {
                        datafusion::common::exec_datafusion_err!("Division by zero")
                    }
                    e => e.into(),
                })?,
                N::BitwiseNot => Arc::new(arrays[0].as_primitive::<Int64Type>().unary::<_, Int64Type>(|v| !v)),
                N::BitwiseAnd
                | N::BitwiseOr
                | N::BitwiseXor
                | N::LeftShift
                | N::RightShift
                | N::RightShiftArithmetic => {
                    let (a, b) = (arrays[0].as_primitive::<Int64Type>(), arrays[1].as_primitive::<Int64Type>());
                    let f: fn(i64, i64) -> i64 = match self.n {
                        N::BitwiseAnd => |a, b| a & b,
                        N::BitwiseOr => |a, b| a | b,
                        N::BitwiseXor => |a, b| a ^ b,
                        // Trino shifts by the low six bits; 64 or more shifts everything out.
                        N::LeftShift => |a, b| if (0..64).contains(&b) { a << b } else { 0 },
                        N::RightShift => |a, b| if (0..64).contains(&b) { ((a as u64) >> b) as i64 } else { 0 },
                        _ => |a, b| {
                            if (0..64).contains(&b) {
                                a >> b
                            } else if a < 0 {
                                -1
                            } else {
                                0
                            }
                        },
                    };
                    Arc::new(arrow::compute::binary::<_, _, _, Int64Type>(a, b, f)?)
                }
                N::BitCount => {
                    let (a, b) = (arrays[0].as_primitive::<Int64Type>(), arrays[1].as_primitive::<Int64Type>());
                    let mut out = Vec::with_capacity(a.len());
                    for i in 0..a.len() {
                        if a.is_null(i) || b.is_null(i) {
                            out.push(None);
                            continue;
                        }
                        let (x, bits) = (a.value(i), b.value(i));
                        if !(2..=64).contains(&bits) {
                            return exec_err!("Bits specified in bit_count must be between 2 and 64, got {bits}");
                        }
                        let (low, high) = if bits == 64 {
                            (i64::MIN, i64::MAX)
                        } else {
                            (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
                        };
                        if x < low || x > high {
                            return exec_err!(
                                "Number must be representable with the bits specified. {x} cannot be represented with {bits} bits"
                            );
                        }
                        let masked = if bits == 64 { x as u64 } else { (x as u64) & ((1u64 << bits) - 1) };
                        out.push(Some(masked.count_ones() as i64));
                    }
                    Arc::new(Int64Array::from(out))
                }
                N::FormatNumber => {
                    let x = arrays[0].as_primitive::<Float64Type>();
                    Arc::new(x.iter().map(|v| v.map(format_number)).collect::<StringArray>())
                }
                N::FromBase => {
                    let (s, radix) = (arrays[0].as_string::<i32>(), arrays[1].as_primitive::<Int64Type>());
                    let mut out = Vec::with_capacity(s.len());
                    for i in 0..s.len() {
                        if s.is_null(i) || radix.is_null(i) {
                            out.push(None);
                            continue;
                        }
                        let r = radix.value(i);
                        if !(2..=36).contains(&r) {
                            return exec_err!("Radix must be between 2 and 36");
                        }
                        match i64::from_str_radix(s.value(i), r as u32) {
                            Ok(v) => out.push(Some(v)),
                            Err(_) => return exec_err!("Not a valid base-{r} number: {}", s.value(i)),
                        }
                    }
                    Arc::new(Int64Array::from(out))
                }
                N::ToBase => {
                    let (x, radix) = (arrays[0].as_primitive::<Int64Type>(), arrays[1].as_primitive::<Int64Type>());
                    let mut out = Vec::with_capacity(x.len());
                    for i in 0..x.len() {
                        if x.is_null(i) || radix.is_null(i) {
                            out.push(None);
                            continue;
                        }
                        let r = radix.value(i);
                        if !(2..=36).contains(&r) {
                            return exec_err!("Radix must be between 2 and 36");
                        }
                        out.push(Some(to_base(x.value(i), r as u32)));
                    }
                    Arc::new(StringArray::from(out))
                }
                N::CosineSimilarity | N::EuclideanDistance | N::DotProduct => vectors(self.n, &arrays[0], &arrays[1])?,
                // 1 - cosine similarity, of arrays or of sparse vectors as maps.
                N::CosineDistance => {
                    let similarity = vectors(N::CosineSimilarity, &arrays[0], &arrays[1])?;
                    Arc::new(similarity.as_primitive::<Float64Type>().unary::<_, Float64Type>(|s| 1.0 - s))
                }
                N::Greatest | N::Least => {
                    let mut best = arrays[0].clone();
                    let mut nulls = is_null(&arrays[0])?;
                    for next in &arrays[1..] {
                        let better = if self.n == N::Greatest { gt(next, &best)? } else { lt(next, &best)? };
                        // NaN is passed over unless every value is NaN (Trino's max functions):
                        // Arrow's order puts it above everything, which only `greatest` minds.
                        let real =
                            |x: &ArrayRef| super::shared::not_nan(x.as_ref()).map(|b| BooleanArray::new(b, None));
                        let better = match (self.n, real(next), real(&best)) {
                            (N::Greatest, Some(next_real), Some(best_real)) => {
                                or(&and(&better, &next_real)?, &arrow::compute::not(&best_real)?)?
                            }
                            _ => better,
                        };
                        best = zip(&better, next, &best)?;
                        nulls = or(&nulls, &is_null(next)?)?;
                    }
                    // Any NULL argument makes the answer NULL.
                    arrow::compute::nullif(&best, &nulls)?
                }
            };
            Ok(if out.data_type() == &ret { out } else { cast(&out, &ret)? })
        })
    }
}

/// `ceiling`, `floor`, `truncate` and `sign` in the input's own kind of number.
fn rounding(n: N, arrays: &[ArrayRef], ret: &DataType) -> Result<ArrayRef> {
    let x = &arrays[0];
    Ok(match x.data_type() {
        DataType::Int64 => match n {
            N::Sign => Arc::new(x.as_primitive::<Int64Type>().unary::<_, Int64Type>(i64::signum)),
            N::Truncate if arrays.len() == 2 => {
                let d = arrays[1].as_primitive::<Int64Type>();
                Arc::new(arrow::compute::binary::<_, _, _, Int64Type>(x.as_primitive::<Int64Type>(), d, |v, d| {
                    if d >= 0 {
                        v
                    } else {
                        let m = 10i64.saturating_pow((-d) as u32);
                        v / m * m
                    }
                })?)
            }
            _ => x.clone(),
        },
        DataType::Float64 => {
            let v = x.as_primitive::<Float64Type>();
            match n {
                N::Ceiling => Arc::new(v.unary::<_, Float64Type>(f64::ceil)),
                N::Floor => Arc::new(v.unary::<_, Float64Type>(f64::floor)),
                N::Sign => Arc::new(v.unary::<_, Float64Type>(|f| if f.is_nan() || f == 0.0 { f } else { f.signum() })),
                _ => match arrays.get(1) {
                    None => Arc::new(v.unary::<_, Float64Type>(f64::trunc)),
                    Some(d) => Arc::new(arrow::compute::binary::<_, _, _, Float64Type>(
                        v,
                        d.as_primitive::<Int64Type>(),
                        |f, d| {
                            let m = 10f64.powi(d as i32);
                            (f * m).trunc() / m
                        },
                    )?),
                },
            }
        }
        DataType::Decimal128(_, scale) => {
            let v = x.as_primitive::<Decimal128Type>();
            let unit = 10i128.pow((*scale).max(0) as u32);
            let (p, s) = match ret {
                DataType::Decimal128(p, s) => (*p, *s),
                _ => (38, 0),
            };
            let digits = arrays.get(1).map(|d| d.as_primitive::<Int64Type>());
            let out: Decimal128Array = (0..v.len())
                .map(|i| {
                    if v.is_null(i) || digits.is_some_and(|d| d.is_null(i)) {
                        return None;
                    }
                    let value = v.value(i);
                    Some(match n {
                        N::Sign => value.signum(),
                        N::Ceiling => value.div_euclid(unit) + i128::from(value.rem_euclid(unit) != 0),
                        N::Floor => value.div_euclid(unit),
                        _ => match digits {
                            None => value / unit,
                            Some(d) => {
                                let keep = (*scale as i64 - d.value(i)).clamp(0, 38) as u32;
                                let m = 10i128.pow(keep);
                                value / m * m
                            }
                        },
                    })
                })
                .collect();
            Arc::new(out.with_precision_and_scale(p, s)?)
        }
        other => return exec_err!("not a number: {other}"),
    })
}

/// `format_number(x)`: a number with a unit symbol and three significant digits, half up,
/// without trailing zeros (`123K`, `1.23M`, `12.3K`).
fn format_number(x: f64) -> String {
    const UNITS: [&str; 6] = ["", "K", "M", "B", "T", "Q"];
    let mut value = x;
    let mut unit = 0;
    while value.abs() >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value.abs() >= 100.0 {
        0
    } else if value.abs() >= 10.0 {
        1
    } else {
        2
    };
    let scale = 10f64.powi(decimals);
    let rounded = (value.abs() * scale + 0.5).floor() / scale * value.signum();
    let mut text = format!("{rounded:.*}", decimals as usize);
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    if text == "-0" {
        text = "0".into();
    }
    format!("{text}{}", UNITS[unit])
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

/// `cosine_similarity`, `euclidean_distance` and `dot_product` of two arrays (of the same length), or
/// `cosine_similarity` of two sparse vectors as maps.
fn vectors(n: N, a: &ArrayRef, b: &ArrayRef) -> Result<ArrayRef> {
    if let (DataType::Map(..), DataType::Map(..)) = (a.data_type(), b.data_type()) {
        return maps_cosine(a.as_map(), b.as_map());
    }
    let (a, b) = (a.as_list::<i32>(), b.as_list::<i32>());
    let mut out = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        if a.is_null(i) || b.is_null(i) {
            out.push(None);
            continue;
        }
        let (x, y) = (a.value(i), b.value(i));
        let (x, y) = (x.as_primitive::<Float64Type>(), y.as_primitive::<Float64Type>());
        if x.len() != y.len() {
            return exec_err!("The arguments have different array lengths: {} and {}", x.len(), y.len());
        }
        if x.null_count() > 0 || y.null_count() > 0 {
            return exec_err!("Vectors must not contain nulls");
        }
        let (x, y) = (x.values(), y.values());
        out.push(Some(match n {
            N::EuclideanDistance => {
                x.iter().zip(y.iter()).map(|(p, q)| (p - q) * (p - q)).fold(0.0, |a, b| a + b).sqrt()
            }
            N::DotProduct => x.iter().zip(y.iter()).map(|(p, q)| p * q).fold(0.0, |a, b| a + b),
            _ => {
                let dot: f64 = x.iter().zip(y.iter()).map(|(p, q)| p * q).fold(0.0, |a, b| a + b);
                let norm = |v: &[f64]| v.iter().map(|p| p * p).sum::<f64>().sqrt();
                dot / (norm(x) * norm(y))
            }
        }));
    }
    Ok(Arc::new(Float64Array::from(out)))
}

fn maps_cosine(a: &MapArray, b: &MapArray) -> Result<ArrayRef> {
    let mut out = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        if a.is_null(i) || b.is_null(i) {
            out.push(None);
            continue;
        }
        let entries = |m: &MapArray| -> Result<Vec<(ScalarValue, Option<f64>)>> {
            let e = m.value(i);
            let values = cast(e.column(1), &DataType::Float64)?;
            let values = values.as_primitive::<Float64Type>();
            (0..e.len())
                .map(|j| {
                    Ok((ScalarValue::try_from_array(e.column(0), j)?, values.is_valid(j).then(|| values.value(j))))
                })
                .collect()
        };
        let (x, y) = (entries(a)?, entries(b)?);
        if x.iter().chain(&y).any(|(_, v)| v.is_none()) {
            out.push(None);
            continue;
        }
        let norm =
            |v: &[(ScalarValue, Option<f64>)]| v.iter().map(|(_, p)| p.unwrap_or(0.0).powi(2)).sum::<f64>().sqrt();
        let dot: f64 = x
            .iter()
            .filter_map(|(k, p)| y.iter().find(|(l, _)| l == k).map(|(_, q)| p.unwrap_or(0.0) * q.unwrap_or(0.0)))
            .fold(0.0, |a, b| a + b);
        out.push(Some(dot / (norm(&x) * norm(&y))));
    }
    Ok(Arc::new(Float64Array::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_number_and_bases() {
        assert_eq!(format_number(123456.0), "123K");
        assert_eq!(format_number(12345.0), "12.3K");
        assert_eq!(format_number(1234567.0), "1.23M");
        assert_eq!(format_number(1_000_000.0), "1M");
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(-1234.0), "-1.23K");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(to_base(255, 16), "ff");
        assert_eq!(to_base(-10, 2), "-1010");
    }
}
