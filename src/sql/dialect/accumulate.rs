//! Trino's aggregates that need an accumulator of their own: the `n` largest or smallest
//! values (`max(x, n)`, `min(x, n)`, written `max_n`/`min_n` once parsed) or values by a key
//! (`max_by(x, y, n)`, `min_by(x, y, n)`), and `geometric_mean`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum K {
    MaxN,
    MinN,
    MaxByN,
    MinByN,
    GeometricMean,
    Skewness,
    Kurtosis,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Agg {
    k: K,
    name: &'static str,
    signature: Signature,
}

/// The aggregates of this module (`max_n`, `min_n`, `max_by_n`, `min_by_n` are the parser's
/// names for Trino's `max(x, n)`, `min(x, n)`, `max_by(x, y, n)`, `min_by(x, y, n)`).
pub fn functions() -> Vec<AggregateUDF> {
    [
        (K::MaxN, "max_n", 2),
        (K::MinN, "min_n", 2),
        (K::MaxByN, "max_by_n", 3),
        (K::MinByN, "min_by_n", 3),
        (K::GeometricMean, "geometric_mean", 1),
        (K::Skewness, "skewness", 1),
        (K::Kurtosis, "kurtosis", 1),
    ]
    .into_iter()
    .map(|(k, name, n)| {
        let signature = match k {
            // `n` read as a bigint whatever integer it is written as.
            K::MaxN | K::MinN | K::MaxByN | K::MinByN => Signature::user_defined(Volatility::Immutable),
            _ => Signature::any(n, Volatility::Immutable),
        };
        AggregateUDF::new_from_impl(Agg { k, name, signature })
    })
    .collect()
}

impl AggregateUDFImpl for Agg {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let arguments = if matches!(self.k, K::MaxByN | K::MinByN) { 3 } else { 2 };
        if t.len() != arguments {
            return plan_err!("{} takes {arguments} arguments, got {}", self.name, t.len());
        }
        let mut out = t.to_vec();
        if let Some(n) = out.last_mut().filter(|n| n.is_integer()) {
            *n = DataType::Int64;
        }
        Ok(out)
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        match self.k {
            K::GeometricMean | K::Skewness | K::Kurtosis if t[0].is_numeric() || t[0].is_null() => {
                Ok(DataType::Float64)
            }
            K::GeometricMean | K::Skewness | K::Kurtosis => plan_err!("{} expects a number, got {}", self.name, t[0]),
            _ if !t.last().is_some_and(|n| n.is_integer()) => plan_err!("{}: n must be an integer", self.name),
            _ => Ok(DataType::new_list(t[0].clone(), true)),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(match self.k {
            K::GeometricMean => vec![
                Arc::new(Field::new(format!("{}[ln]", args.name), DataType::Float64, true)),
                Arc::new(Field::new(format!("{}[count]", args.name), DataType::Int64, true)),
            ],
            K::Skewness | K::Kurtosis => ["n", "s1", "s2", "s3", "s4"]
                .iter()
                .map(|m| Arc::new(Field::new(format!("{}[{m}]", args.name), DataType::Float64, true)))
                .collect(),
            _ => {
                let value = args.input_fields[0].data_type().clone();
                let key = args.input_fields[args.input_fields.len() - 2].data_type().clone();
                vec![
                    Arc::new(Field::new(format!("{}[values]", args.name), DataType::new_list(value, true), true)),
                    Arc::new(Field::new(format!("{}[keys]", args.name), DataType::new_list(key, true), true)),
                    Arc::new(Field::new(format!("{}[n]", args.name), DataType::Int64, true)),
                ]
            }
        })
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(match self.k {
            K::GeometricMean => Box::new(Geometric { ln: 0.0, count: 0 }),
            K::Skewness | K::Kurtosis => Box::new(Moments { kurtosis: self.k == K::Kurtosis, sums: [0.0; 5] }),
            _ => Box::new(Best {
                largest: matches!(self.k, K::MaxN | K::MaxByN),
                by: matches!(self.k, K::MaxByN | K::MinByN),
                n: None,
                kept: Vec::new(),
                value_type: args.exprs[0].data_type(args.schema)?,
            }),
        })
    }
}

/// The `n` best (key, value) pairs of a group, best first.
#[derive(Debug)]
struct Best {
    largest: bool,
    by: bool,
    n: Option<usize>,
    kept: Vec<(ScalarValue, ScalarValue)>,
    value_type: DataType,
}

impl Best {
    fn offer(&mut self, key: ScalarValue, value: ScalarValue) {
        let Some(n) = self.n else { return };
        if key.is_null() {
            return;
        }
        let better = |a: &ScalarValue, b: &ScalarValue| {
            let order = a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
            if self.largest { order.is_gt() } else { order.is_lt() }
        };
        let at = self.kept.iter().position(|(k, _)| better(&key, k)).unwrap_or(self.kept.len());
        if at < n {
            self.kept.insert(at, (key, value));
            self.kept.truncate(n);
        }
    }

    fn set_n(&mut self, n: Option<i64>) -> Result<()> {
        match n {
            Some(n) if n <= 0 => {
                exec_err!("third argument of max_by/min_by, and the second of max/min, must be a positive integer")
            }
            Some(n) if n > 10_000 => exec_err!("n must be at most 10000"),
            Some(n) => {
                self.n = Some(n as usize);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

fn list(values: Vec<ScalarValue>, t: &DataType) -> ScalarValue {
    ScalarValue::List(ScalarValue::new_list_nullable(&values, t))
}

impl Accumulator for Best {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let ns = values[values.len() - 1].as_primitive::<arrow::datatypes::Int64Type>();
        let keys = &values[if self.by { 1 } else { 0 }];
        for i in 0..values[0].len() {
            if self.n.is_none() {
                self.set_n(ns.is_valid(i).then(|| ns.value(i)))?;
            }
            self.offer(ScalarValue::try_from_array(keys, i)?, ScalarValue::try_from_array(&values[0], i)?);
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (values, keys, ns) = (
            states[0].as_list::<i32>(),
            states[1].as_list::<i32>(),
            states[2].as_primitive::<arrow::datatypes::Int64Type>(),
        );
        for i in 0..values.len() {
            if self.n.is_none() {
                self.set_n(ns.is_valid(i).then(|| ns.value(i)))?;
            }
            if values.is_null(i) {
                continue;
            }
            let (v, k) = (values.value(i), keys.value(i));
            for j in 0..v.len() {
                self.offer(ScalarValue::try_from_array(&k, j)?, ScalarValue::try_from_array(&v, j)?);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let key_type = self.kept.first().map(|(k, _)| k.data_type()).unwrap_or(DataType::Null);
        let (keys, values): (Vec<_>, Vec<_>) = self.kept.iter().cloned().unzip();
        Ok(vec![list(values, &self.value_type), list(keys, &key_type), ScalarValue::Int64(self.n.map(|n| n as i64))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.kept.is_empty() {
            return ScalarValue::try_from(&DataType::new_list(self.value_type.clone(), true));
        }
        Ok(list(self.kept.iter().map(|(_, v)| v.clone()).collect(), &self.value_type))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.kept.iter().map(|(k, v)| k.size() + v.size()).sum::<usize>()
    }
}

/// `geometric_mean(x)`: e to the mean of `ln(x)`.
#[derive(Debug)]
struct Geometric {
    ln: f64,
    count: i64,
}

impl Accumulator for Geometric {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let x = arrow::compute::cast(&values[0], &DataType::Float64)?;
        for v in x.as_primitive::<Float64Type>().iter().flatten() {
            self.ln += v.ln();
            self.count += 1;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (ln, count) =
            (states[0].as_primitive::<Float64Type>(), states[1].as_primitive::<arrow::datatypes::Int64Type>());
        for i in 0..ln.len() {
            if ln.is_valid(i) && count.is_valid(i) {
                self.ln += ln.value(i);
                self.count += count.value(i);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Float64(Some(self.ln)), ScalarValue::Int64(Some(self.count))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64((self.count > 0).then(|| (self.ln / self.count as f64).exp())))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// `skewness` and `kurtosis` from the power sums of a group: Trino's formulas, the skewness
/// `sqrt(n) m3 / m2^1.5` and the excess kurtosis, unbiased
/// (`n(n+1)/((n-1)(n-2)(n-3)) m4 / s^4 - 3(n-1)^2/((n-2)(n-3))`, `s` the sample deviation).
#[derive(Debug)]
struct Moments {
    kurtosis: bool,
    /// n and the sums of x, x^2, x^3, x^4.
    sums: [f64; 5],
}

impl Accumulator for Moments {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let x = arrow::compute::cast(&values[0], &DataType::Float64)?;
        for v in x.as_primitive::<Float64Type>().iter().flatten() {
            self.sums[0] += 1.0;
            self.sums[1] += v;
            self.sums[2] += v * v;
            self.sums[3] += v * v * v;
            self.sums[4] += v * v * v * v;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for (k, state) in states.iter().enumerate() {
            self.sums[k] += state.as_primitive::<Float64Type>().iter().flatten().sum::<f64>();
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self.sums.iter().map(|s| ScalarValue::Float64(Some(*s))).collect())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let [n, s1, s2, s3, s4] = self.sums;
        let mean = s1 / n;
        // Central moments from the power sums.
        let m2 = s2 - 2.0 * mean * s1 + n * mean * mean;
        let m3 = s3 - 3.0 * mean * s2 + 3.0 * mean * mean * s1 - n * mean.powi(3);
        let m4 = s4 - 4.0 * mean * s3 + 6.0 * mean * mean * s2 - 4.0 * mean.powi(3) * s1 + n * mean.powi(4);
        Ok(ScalarValue::Float64(if self.kurtosis {
            (n >= 4.0).then(|| {
                let variance = m2 / (n - 1.0);
                n * (n + 1.0) / ((n - 1.0) * (n - 2.0) * (n - 3.0)) * m4 / (variance * variance)
                    - 3.0 * (n - 1.0).powi(2) / ((n - 2.0) * (n - 3.0))
            })
        } else {
            (n >= 3.0).then(|| n.sqrt() * m3 / m2.powf(1.5))
        }))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}
