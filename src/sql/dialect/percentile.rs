//! Trino's `approx_percentile` in its four forms: `approx_percentile(x, p)`,
//! `approx_percentile(x, ARRAY[p1, p2, ...])` (an array of percentiles from one pass), and
//! both with a weight per value, `approx_percentile(x, w, p)`.
//!
//! One t-digest (DataFusion's, so the estimates match `approx_percentile_cont`'s) answers
//! every percentile of the call. The answer has the type of `x`, as in Trino: a `bigint`
//! column's percentile is rounded to a `bigint`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::{cast, filter, is_not_null, sort};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Signature, Volatility};
use datafusion_functions_aggregate_common::tdigest::{Centroid, DEFAULT_MAX_SIZE, TDigest};

use super::shared::arity;

/// The aggregate, under Trino's name.
pub fn function() -> AggregateUDF {
    AggregateUDF::new_from_impl(ApproxPercentile { signature: Signature::user_defined(Volatility::Immutable) })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ApproxPercentile {
    signature: Signature,
}

/// Whether the percentage argument (the last) is an array of percentages.
fn many(t: &[DataType]) -> bool {
    matches!(t.last(), Some(DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)))
}

impl AggregateUDFImpl for ApproxPercentile {
    fn name(&self) -> &str {
        "approx_percentile"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("approx_percentile", t, 2..=3)?;
        let x = match &t[0] {
            t if t.is_integer() => DataType::Int64,
            DataType::Float32 => DataType::Float32,
            t if t.is_numeric() || t.is_null() => DataType::Float64,
            other => return plan_err!("approx_percentile expects a number, got {other}"),
        };
        let mut out = vec![x];
        if t.len() == 3 {
            if !t[1].is_numeric() && !t[1].is_null() {
                return plan_err!("approx_percentile expects a numeric weight, got {}", t[1]);
            }
            out.push(DataType::Float64);
        }
        out.push(if many(t) { DataType::new_list(DataType::Float64, true) } else { DataType::Float64 });
        Ok(out)
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(if many(t) { DataType::new_list(t[0].clone(), true) } else { t[0].clone() })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let field = |name: &str, t: DataType| Arc::new(Field::new(format!("{}[{name}]", args.name), t, false));
        Ok(vec![
            field("max_size", DataType::UInt64),
            field("sum", DataType::Float64),
            field("count", DataType::Float64),
            field("max", DataType::Float64),
            field("min", DataType::Float64),
            field("centroids", DataType::new_list(DataType::Float64, true)),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let last = args.exprs.last().expect("arity checked");
        let empty = RecordBatch::new_empty(Arc::new(Schema::empty()));
        let ColumnarValue::Scalar(percentages) = last.evaluate(&empty)? else {
            return exec_err!("approx_percentile: the percentage must be a constant");
        };
        let percentages = match percentages {
            ScalarValue::List(list) if list.is_valid(0) => {
                let values = cast(&list.value(0), &DataType::Float64)?;
                let values = values.as_primitive::<Float64Type>();
                if values.null_count() > 0 {
                    return exec_err!("approx_percentile: a percentage cannot be NULL");
                }
                values.values().to_vec()
            }
            ScalarValue::Float64(Some(p)) => vec![p],
            _ => return exec_err!("approx_percentile: the percentage cannot be NULL"),
        };
        if let Some(p) = percentages.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return exec_err!("Percentile must be between 0 and 1, got {p}");
        }
        Ok(Box::new(Digest {
            digest: TDigest::new(DEFAULT_MAX_SIZE),
            percentages,
            weighted: args.exprs.len() == 3,
            returns: args.return_field.data_type().clone(),
        }))
    }
}

/// A group's t-digest and what to read from it.
#[derive(Debug)]
struct Digest {
    digest: TDigest,
    percentages: Vec<f64>,
    weighted: bool,
    returns: DataType,
}

impl Digest {
    /// The digest so far, to be merged with more (and put back).
    fn take(&mut self) -> TDigest {
        std::mem::replace(&mut self.digest, TDigest::new(DEFAULT_MAX_SIZE))
    }
}

impl Accumulator for Digest {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let mut keep = is_not_null(&values[0])?;
        if self.weighted {
            keep = arrow::compute::and(&keep, &is_not_null(&values[1])?)?;
        }
        let x = cast(&filter(&values[0], &keep)?, &DataType::Float64)?;
        if !self.weighted {
            let sorted = sort(&x, None)?;
            self.digest = self.digest.merge_sorted_f64(sorted.as_primitive::<Float64Type>().values());
            return Ok(());
        }
        // A weight is a replication count: a centroid of that weight at the value.
        let w = filter(&values[1], &keep)?;
        let (x, w) = (x.as_primitive::<Float64Type>(), w.as_primitive::<Float64Type>());
        if let Some(bad) = w.values().iter().find(|w| **w <= 0.0 || w.is_nan()) {
            return exec_err!("approx_percentile: a weight must be positive, got {bad}");
        }
        let single = x
            .values()
            .iter()
            .zip(w.values())
            .map(|(x, w)| TDigest::new_with_centroid(DEFAULT_MAX_SIZE, Centroid::new(*x, *w)));
        let digests: Vec<TDigest> = single.chain([self.take()]).collect();
        self.digest = TDigest::merge_digests(&digests);
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let mut digests = vec![self.take()];
        for row in 0..states.first().map_or(0, |s| s.len()) {
            let state = states.iter().map(|s| ScalarValue::try_from_array(s, row)).collect::<Result<Vec<_>>>()?;
            digests.push(TDigest::from_scalar_state(&state));
        }
        self.digest = TDigest::merge_digests(&digests);
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self.digest.to_scalar_state())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.digest.count() == 0.0 {
            return ScalarValue::try_from(&self.returns);
        }
        let element = match &self.returns {
            DataType::List(f) => f.data_type().clone(),
            t => t.clone(),
        };
        // Trino rounds a bigint's estimate to the nearest integer.
        let value = |p: f64| {
            let q = self.digest.estimate_quantile(p);
            let q = if element == DataType::Int64 {
                ScalarValue::Int64(Some(q.round() as i64))
            } else {
                ScalarValue::Float64(Some(q))
            };
            q.cast_to(&element)
        };
        match &self.returns {
            DataType::List(_) => {
                let values = self.percentages.iter().map(|p| value(*p)).collect::<Result<Vec<_>>>()?;
                Ok(ScalarValue::List(ScalarValue::new_list_nullable(&values, &element)))
            }
            _ => value(self.percentages[0]),
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.digest.size() + self.percentages.len() * 8
    }
}
