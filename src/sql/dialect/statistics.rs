//! Trino's statistical functions: `width_bucket` (equal-width buckets, or an array of
//! bounds), the normal and beta distributions' CDFs and their inverses, Student's t CDF and
//! density, and the Wilson score interval. Each is a function of doubles, NULL when an
//! argument is; arguments out of their domain are errors that name the rule, as Trino's are.

use std::f64::consts::SQRT_2;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::function::{Args, Function, udf};
use super::shared::{arity, bigint, double};
use super::text::{Double, float};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        udf(WidthBucket),
        udf(Distribution::Normal),
        udf(Distribution::NormalInverse),
        udf(Distribution::Beta),
        udf(Distribution::BetaInverse),
        udf(StudentT { density: false }),
        udf(StudentT { density: true }),
        udf(Wilson { upper: false }),
        udf(Wilson { upper: true }),
    ]
}

/// Row `i` of every argument as doubles (`None` when one is NULL).
fn row<const N: usize>(columns: &[ArrayRef], i: usize) -> Option<[f64; N]> {
    let mut out = [0.0; N];
    for (k, c) in columns.iter().enumerate() {
        let c = c.as_primitive::<Float64Type>();
        if c.is_null(i) {
            return None;
        }
        out[k] = c.value(i);
    }
    Some(out)
}

/// `width_bucket(x, bound1, bound2, n)`: the bucket of `x` among `n` equal buckets between
/// the bounds (0 below, n + 1 above; counted from `bound1`, which may be the greater); and
/// `width_bucket(x, bins)`: how many of the ascending `bins` are at most `x`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct WidthBucket;

impl Function for WidthBucket {
    fn name(&self) -> &'static str {
        "width_bucket"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        if t.len() == 2 {
            return Ok(vec![double(name, &t[0])?, DataType::new_list(DataType::Float64, true)]);
        }
        arity(name, t, 4..=4)?;
        Ok(vec![double(name, &t[0])?, double(name, &t[1])?, double(name, &t[2])?, bigint(name, &t[3])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let x = columns[0].as_primitive::<Float64Type>();
        let mut out = Vec::with_capacity(args.rows);
        if columns.len() == 2 {
            let bins = columns[1].as_list::<i32>();
            for i in 0..args.rows {
                if x.is_null(i) || bins.is_null(i) {
                    out.push(None);
                    continue;
                }
                let bounds = bins.value(i);
                let bounds = bounds.as_primitive::<Float64Type>();
                if bounds.null_count() > 0 {
                    return exec_err!("Bin values cannot be NULL");
                }
                out.push(Some(bin_bucket(x.value(i), bounds.values())?));
            }
            return Ok(Arc::new(Int64Array::from(out)));
        }
        let n = columns[3].as_primitive::<Int64Type>();
        for i in 0..args.rows {
            let (Some([v, b1, b2]), true) = (row::<3>(&columns[..3], i), n.is_valid(i)) else {
                out.push(None);
                continue;
            };
            out.push(Some(width_bucket(v, b1, b2, n.value(i))?));
        }
        Ok(Arc::new(Int64Array::from(out)))
    }
}

/// The bucket of `v` among ascending bins, found as Trino finds it: by bisection, checking
/// the ends of each range it looks at (so bins out of order may pass unseen) and each bin it
/// reads.
fn bin_bucket(v: f64, bins: &[f64]) -> Result<i64> {
    if bins.is_empty() {
        return exec_err!("Bins cannot be an empty array");
    }
    if v.is_nan() {
        return exec_err!("Operand cannot be NaN");
    }
    let (mut lower, mut upper) = (0, bins.len());
    while lower < upper {
        if bins[lower] > bins[upper - 1] {
            return exec_err!("Bin values are not sorted in ascending order");
        }
        let index = (lower + upper) / 2;
        let bin = bins[index];
        if !bin.is_finite() {
            return exec_err!("Bin value must be finite, got {}", float(bin, Double::Shown));
        }
        if v < bin {
            upper = index;
        } else {
            lower = index + 1;
        }
    }
    Ok(lower as i64)
}

fn width_bucket(v: f64, bound1: f64, bound2: f64, count: i64) -> Result<i64> {
    if count <= 0 {
        return exec_err!("bucketCount must be greater than 0");
    }
    if v.is_nan() {
        return exec_err!("operand must not be NaN");
    }
    if !bound1.is_finite() {
        return exec_err!("first bound must be finite");
    }
    if !bound2.is_finite() {
        return exec_err!("second bound must be finite");
    }
    if bound1 == bound2 {
        return exec_err!("bounds cannot equal each other");
    }
    let (lower, upper) = (bound1.min(bound2), bound1.max(bound2));
    let bucket = if v < lower {
        0
    } else if v >= upper {
        match count.checked_add(1) {
            Some(b) => b,
            None => return exec_err!("Bucket for value {} is out of range", float(v, Double::Shown)),
        }
    } else {
        (count as f64 * (v - lower) / (upper - lower)) as i64 + 1
    };
    Ok(if bound1 > bound2 { count - bucket + 1 } else { bucket })
}

/// `normal_cdf(mean, sd, v)`, `inverse_normal_cdf(mean, sd, p)`, `beta_cdf(a, b, v)` and
/// `inverse_beta_cdf(a, b, p)`.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Distribution {
    Normal,
    NormalInverse,
    Beta,
    BetaInverse,
}

impl Function for Distribution {
    fn name(&self) -> &'static str {
        match self {
            Distribution::Normal => "normal_cdf",
            Distribution::NormalInverse => "inverse_normal_cdf",
            Distribution::Beta => "beta_cdf",
            Distribution::BetaInverse => "inverse_beta_cdf",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 3..=3)?;
        t.iter().map(|t| double(self.name(), t)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let out = (0..args.rows)
            .map(|i| row::<3>(&columns, i).map(|[a, b, v]| self.at(a, b, v)).transpose())
            .collect::<Result<Float64Array>>()?;
        Ok(Arc::new(out))
    }
}

impl Distribution {
    fn at(&self, a: f64, b: f64, v: f64) -> Result<f64> {
        match self {
            Distribution::Normal => {
                if b.is_nan() || b <= 0.0 {
                    return exec_err!("standardDeviation must be > 0");
                }
                Ok(0.5 * libm::erfc(-(v - a) / (b * SQRT_2)))
            }
            Distribution::NormalInverse => {
                if !(v > 0.0 && v < 1.0) {
                    return exec_err!("p must be 0 > p > 1");
                }
                if b <= 0.0 {
                    return exec_err!("sd must be > 0");
                }
                Ok(a + b * SQRT_2 * erf_inverse(2.0 * v - 1.0))
            }
            Distribution::Beta | Distribution::BetaInverse => {
                if !(a > 0.0 && b > 0.0) {
                    return exec_err!("a, b must be > 0");
                }
                if !(0.0..=1.0).contains(&v) {
                    return if *self == Distribution::Beta {
                        exec_err!("value must be 0 >= v >= 1")
                    } else {
                        exec_err!("p must be 0 >= p >= 1")
                    };
                }
                Ok(if *self == Distribution::Beta { regularized_beta(v, a, b) } else { inverse_beta(v, a, b) })
            }
        }
    }
}

/// `t_cdf(x, df)` and `t_pdf(x, df)` (the order of Trino's documentation): Student's t
/// distribution with `df` degrees of freedom; the CDF through the regularized incomplete beta function, as the beta CDF.
#[derive(Debug, PartialEq, Eq, Hash)]
struct StudentT {
    density: bool,
}

impl Function for StudentT {
    fn name(&self) -> &'static str {
        if self.density { "t_pdf" } else { "t_cdf" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        t.iter().map(|t| double(self.name(), t)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let at = |[t, df]: [f64; 2]| {
            if df <= 0.0 || df.is_nan() {
                return exec_err!("df must be greater than 0");
            }
            Ok(if self.density {
                let ln = libm::lgamma((df + 1.0) / 2.0) - libm::lgamma(df / 2.0);
                ln.exp() / (df * std::f64::consts::PI).sqrt() * (1.0 + t * t / df).powf(-(df + 1.0) / 2.0)
            } else {
                let tail = 0.5 * regularized_beta(df / (df + t * t), df / 2.0, 0.5);
                if t > 0.0 { 1.0 - tail } else { tail }
            })
        };
        let out =
            (0..args.rows).map(|i| row::<2>(&columns, i).map(at).transpose()).collect::<Result<Float64Array>>()?;
        Ok(Arc::new(out))
    }
}

/// The inverse of erf on (-1, 1): a rational first guess refined by Newton's method on
/// libm's erf, to the last bits.
fn erf_inverse(y: f64) -> f64 {
    if y <= -1.0 {
        return f64::NEG_INFINITY;
    }
    if y >= 1.0 {
        return f64::INFINITY;
    }
    // Winitzki's approximation (a = 0.147), good to about 2e-3.
    let a = 0.147;
    let ln = (1.0 - y * y).ln();
    let t = 2.0 / (std::f64::consts::PI * a) + ln / 2.0;
    let mut x = y.signum() * ((t * t - ln / a).sqrt() - t).sqrt();
    for _ in 0..4 {
        let err = libm::erf(x) - y;
        x -= err / (2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp());
    }
    x
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz).
fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    // The fraction converges fast below the mean; above it, by symmetry.
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - regularized_beta(1.0 - x, b, a);
    }
    let ln_front = a * x.ln() + b * (1.0 - x).ln() - ln_beta(a, b) - a.ln();
    const TINY: f64 = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    d = 1.0 / if d.abs() < TINY { TINY } else { d };
    let mut f = d;
    for m in 1..10_000 {
        let m = m as f64;
        for step in 0..2 {
            let numerator = if step == 0 {
                m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m))
            } else {
                -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))
            };
            d = 1.0 + numerator * d;
            d = 1.0 / if d.abs() < TINY { TINY } else { d };
            c = 1.0 + numerator / c;
            if c.abs() < TINY {
                c = TINY;
            }
            f *= c * d;
            if step == 1 && (c * d - 1.0).abs() < 1e-16 {
                return ln_front.exp() * f;
            }
        }
    }
    ln_front.exp() * f
}

fn ln_beta(a: f64, b: f64) -> f64 {
    libm::lgamma(a) + libm::lgamma(b) - libm::lgamma(a + b)
}

/// The `x` with I_x(a, b) = p, by bisection to the last bit (the CDF only grows).
fn inverse_beta(p: f64, a: f64, b: f64) -> f64 {
    // The ends of the support, as Trino (Commons Math) answers them.
    if p == 0.0 || p == 1.0 {
        return p;
    }
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    for _ in 0..200 {
        let mid = (low + high) / 2.0;
        if mid <= low || mid >= high {
            break;
        }
        if regularized_beta(mid, a, b) < p { low = mid } else { high = mid }
    }
    (low + high) / 2.0
}

/// `wilson_interval_lower(successes, trials, z)` and `wilson_interval_upper`: the bounds of
/// the Wilson score interval of a proportion.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Wilson {
    upper: bool,
}

impl Function for Wilson {
    fn name(&self) -> &'static str {
        if self.upper { "wilson_interval_upper" } else { "wilson_interval_lower" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 3..=3)?;
        Ok(vec![bigint(self.name(), &t[0])?, bigint(self.name(), &t[1])?, double(self.name(), &t[2])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let (s, n) = (columns[0].as_primitive::<Int64Type>(), columns[1].as_primitive::<Int64Type>());
        let z = columns[2].as_primitive::<Float64Type>();
        let out = (0..args.rows)
            .map(|i| {
                if s.is_null(i) || n.is_null(i) || z.is_null(i) {
                    return Ok(None);
                }
                wilson(s.value(i), n.value(i), z.value(i), self.upper).map(Some)
            })
            .collect::<Result<Float64Array>>()?;
        Ok(Arc::new(out))
    }
}

fn wilson(successes: i64, trials: i64, z: f64, upper: bool) -> Result<f64> {
    if successes < 0 {
        return exec_err!("number of successes must not be negative");
    }
    if trials <= 0 {
        return exec_err!("number of trials must be positive");
    }
    if successes > trials {
        return exec_err!("number of successes must not be larger than number of trials");
    }
    if z < 0.0 {
        return exec_err!("z-score must not be negative");
    }
    let (s, n) = (successes as f64, trials as f64);
    let p = s / n;
    let denominator = 1.0 + z * z / n;
    let center = p + z * z / (2.0 * n);
    let deviation = ((p * (1.0 - p) + z * z / (4.0 * n)) / n).sqrt();
    Ok(if upper { (center + z * deviation) / denominator } else { (center - z * deviation) / denominator })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverses_invert() {
        for y in [-0.999, -0.5, 0.0, 0.1, 0.9, 0.999_999] {
            assert!((libm::erf(erf_inverse(y)) - y).abs() < 1e-15, "{y}");
        }
        // The beta(1, 1) distribution is uniform; beta(2, 2)'s CDF is 3x² - 2x³.
        assert!((regularized_beta(0.3, 1.0, 1.0) - 0.3).abs() < 1e-15);
        assert!((regularized_beta(0.3, 2.0, 2.0) - (3.0 * 0.09 - 2.0 * 0.027)).abs() < 1e-15);
        assert!((inverse_beta(0.216, 2.0, 2.0) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn buckets() {
        assert_eq!(width_bucket(3.25, 0.0, 4.0, 3).unwrap(), 3);
        assert_eq!(width_bucket(-1.0, 0.0, 4.0, 3).unwrap(), 0);
        assert_eq!(width_bucket(4.0, 0.0, 4.0, 3).unwrap(), 4);
        assert_eq!(width_bucket(3.25, 4.0, 0.0, 3).unwrap(), 1);
    }
}
