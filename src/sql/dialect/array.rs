//! Trino's array functions that DataFusion lacks or reads otherwise: `contains`,
//! `array_position` (0 when absent), `array_remove` (every match), `array_max`/`array_min`
//! (NULL when an element is; NaN only when every element is), `reverse` and `repeat` of
//! arrays, `sequence` (integers, dates, timestamps), `slice`, `trim_array`, `ngrams`,
//! `combinations`, `zip`, `array_histogram`, `contains_sequence`, and `cardinality` (as
//! DataFusion's, read from the offsets without visiting the rows).
//!
//! Each kernel works on the list column's flat values at once: elements are compared with
//! one Arrow kernel call per batch (per constant element, when the array is a constant), and
//! results are built by gathering values with one `take`, never by slicing row by row.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, ArrowNativeTypeOp, ArrowPrimitiveType, AsArray, BooleanArray, Datum, Int64Array, ListArray,
    MapArray, PrimitiveArray, Scalar, StructArray, UInt32Array, downcast_primitive_array, new_null_array,
};
use arrow::buffer::{BooleanBuffer, NullBuffer, OffsetBuffer};
use arrow::compute::kernels::cmp::eq;
use arrow::compute::{SortOptions, filter, take};
use arrow::datatypes::{
    DataType, Date32Type, Field, Fields, Int64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit,
    TimeUnit,
};
use datafusion::common::DFSchema;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Result, ScalarValue, exec_err, plan_datafusion_err, plan_err};
use datafusion::logical_expr::expr::{InList, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF};
use datafusion::optimizer::AnalyzerRule;

use super::datetime::{from_days, to_days};
use super::function::{Args, Function, int_at, udf};
use super::shared::{arity, bigint, not_nan, rows};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        udf(Contains),
        udf(ArrayPosition),
        udf(ArrayRemove),
        udf(Extreme { max: true }),
        udf(Extreme { max: false }),
        udf(Reverse),
        udf(Shuffle),
        udf(Repeat),
        udf(Sequence),
        udf(Slice),
        udf(TrimArray),
        udf(Ngrams),
        udf(Combinations),
        udf(Zip),
        udf(ArrayHistogram),
        udf(ContainsSequence),
        udf(Cardinality),
        udf(ArraysOverlap),
        udf(ArrayJoin),
    ]
}

pub(super) fn element(t: &DataType) -> Option<DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Some(f.data_type().clone()),
        _ => None,
    }
}

fn list_of(t: DataType) -> DataType {
    DataType::new_list(t, true)
}

/// An argument that must be an array, as a `List` (NULL as an array of unknown).
pub(super) fn array(name: &str, t: &DataType) -> Result<DataType> {
    match element(t) {
        Some(e) => Ok(list_of(e)),
        None if t.is_null() => Ok(list_of(DataType::Null)),
        None => plan_err!("{name} expects an array, got {t}"),
    }
}

/// An array and a value to look for in it, as an array of their common type and that type.
fn array_and_element(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, t, 2..=2)?;
    let e = element(&t[0]).unwrap_or(DataType::Null);
    let common = type_union_resolution(&[e, t[1].clone()])
        .ok_or_else(|| plan_datafusion_err!("{name}: no common type of {} and {}", t[0], t[1]))?;
    Ok(vec![list_of(common.clone()), common])
}

/// Row `i`'s range in the list's values (`None` for a NULL array).
fn range(list: &ListArray, i: usize) -> Option<Range<usize>> {
    let offsets = list.value_offsets();
    list.is_valid(i).then(|| offsets[i] as usize..offsets[i + 1] as usize)
}

/// SQL's `=`: NULL when either side is, NaN equal to nothing; arrays, maps and rows equal when
/// their encoded rows are (Arrow's `eq` compares no nested values).
fn equal(left: &ArrayRef, right: &dyn Datum) -> Result<BooleanArray> {
    if left.data_type().is_nested() {
        let (right, scalar) = right.get();
        let right = arrow::array::make_array(right.to_data());
        let encoded = rows(&[left.clone(), right.clone()])?;
        let (l, r) = (&encoded[0], &encoded[1]);
        let at = |i: usize| if scalar { 0 } else { i };
        return Ok((0..left.len())
            .map(|i| (left.is_valid(i) && right.is_valid(at(i))).then(|| l.row(i) == r.row(at(i))))
            .collect());
    }
    let hits = eq(left, right)?;
    Ok(match not_nan(left.as_ref()) {
        Some(keep) => BooleanArray::new(hits.values() & &keep, hits.nulls().cloned()),
        None => hits,
    })
}

/// Where a comparison is true (not false, not NULL).
fn true_and_valid(hits: &BooleanArray) -> BooleanBuffer {
    match hits.nulls() {
        Some(valid) => hits.values() & valid.inner(),
        None => hits.values().clone(),
    }
}

/// For every element of every row, whether it equals that row's value of `needle`
/// (false where either is NULL).
fn element_hits(list: &ListArray, needle: &Args, i: usize) -> Result<BooleanBuffer> {
    let values = list.values();
    let hits = match needle.constant(i) {
        Some(value) => equal(values, &Scalar::new(value.to_array()?))?,
        None => {
            // Each element beside its row's needle: the row of element j, for every j.
            let offsets = list.value_offsets();
            let mut rows = vec![0u32; values.len()];
            for row in 0..list.len() {
                rows[offsets[row] as usize..offsets[row + 1] as usize].fill(row as u32);
            }
            equal(values, &take(&needle.column(i)?, &UInt32Array::from(rows), None)?)?
        }
    };
    Ok(true_and_valid(&hits))
}

/// Where each row's needle first occurs in its array (0 when absent, `None` for NULL), and
/// whether the array holds a NULL (which might have been the needle: SQL's unknown).
struct Found {
    position: Vec<Option<i64>>,
    has_null: Vec<bool>,
}

fn find(args: &Args, name: &str) -> Result<Found> {
    let rows = args.rows;
    if matches!(element(args.field(0).data_type()), Some(DataType::List(_) | DataType::Struct(_))) {
        return nested_find(args, name);
    }
    if let (Some(ScalarValue::List(array)), None) = (args.constant(0), args.constant(1)) {
        // One array for every row (`contains(ARRAY['PETR4', 'VALE3'], ticker)`): the needle
        // column is compared with each element once.
        let needles = args.column(1)?;
        let Some(elements) = (!array.is_null(0)).then(|| array.value(0)) else {
            return Ok(Found { position: vec![None; rows], has_null: vec![false; rows] });
        };
        let mut position = vec![0i64; rows];
        let not_nan = not_nan(elements.as_ref());
        for j in (0..elements.len()).rev() {
            if elements.is_null(j) || not_nan.as_ref().is_some_and(|keep| !keep.value(j)) {
                continue;
            }
            let hits = true_and_valid(&eq(&needles, &Scalar::new(elements.slice(j, 1)))?);
            for i in hits.set_indices() {
                position[i] = j as i64 + 1;
            }
        }
        // A NULL needle (of any type: a NullArray has no null buffer) finds nothing.
        let needle_nulls = needles.logical_nulls();
        let valid = |i: usize| needle_nulls.as_ref().is_none_or(|n| n.is_valid(i));
        return Ok(Found {
            position: position.into_iter().enumerate().map(|(i, p)| valid(i).then_some(p)).collect(),
            has_null: vec![elements.null_count() > 0; rows],
        });
    }
    let column = args.column(0)?;
    let list = column.as_list::<i32>();
    let hits = element_hits(list, args, 1)?;
    let nulls = list.values().logical_nulls();
    let needles = args.column(1)?.logical_nulls();
    let (mut position, mut has_null) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for i in 0..rows {
        let Some(r) = range(list, i).filter(|_| needles.as_ref().is_none_or(|n| n.is_valid(i))) else {
            position.push(None);
            has_null.push(false);
            continue;
        };
        let first = hits.slice(r.start, r.len()).set_indices().next();
        position.push(Some(first.map_or(0, |j| j as i64 + 1)));
        has_null.push(nulls.as_ref().is_some_and(|n| n.inner().slice(r.start, r.len()).count_set_bits() < r.len()));
    }
    Ok(Found { position, has_null })
}

/// [`find`] in arrays of arrays or rows, as Trino scans them: element by element with `=`, a
/// NULL element passed over, and a comparison left open by a NULL inside (`ARRAY[NULL]` beside
/// `ARRAY[1]`) before a match an error, where a plain `=` would answer NULL.
fn nested_find(args: &Args, name: &str) -> Result<Found> {
    let column = args.column(0)?;
    let list = column.as_list::<i32>();
    let needles = args.column(1)?;
    let (elements, same) = beside_needles(list, &needles, args.rows)?;
    let (mut position, mut has_null) = (Vec::with_capacity(args.rows), Vec::with_capacity(args.rows));
    let mut k = 0;
    for i in 0..args.rows {
        let Some(r) = range(list, i) else {
            position.push(None);
            has_null.push(false);
            continue;
        };
        let (start, len) = (k, r.len());
        k += len;
        if needles.is_null(i) {
            position.push(None);
            has_null.push(false);
            continue;
        }
        let mut found = 0;
        for n in 0..len {
            if elements.is_null(start + n) {
                continue;
            }
            if same.is_null(start + n) {
                return exec_err!("{name} does not support arrays with elements that are null or contain null");
            }
            if same.value(start + n) {
                found = n as i64 + 1;
                break;
            }
        }
        position.push(Some(found));
        has_null.push(elements.slice(start, len).null_count() > 0);
    }
    Ok(Found { position, has_null })
}

/// The elements of arrays of arrays or rows (those of NULL arrays left out), and each one's
/// three-valued `=` with its row's needle, compared at once.
fn beside_needles(list: &ListArray, needles: &ArrayRef, rows: usize) -> Result<(ArrayRef, BooleanArray)> {
    let (mut owner, mut index) = (Vec::new(), Vec::new());
    for i in 0..rows {
        for j in range(list, i).unwrap_or_default() {
            owner.push(i as u32);
            index.push(j as u32);
        }
    }
    let elements = take(list.values(), &UInt32Array::from(index), None)?;
    let same = three_valued_equal(&elements, &take(needles, &UInt32Array::from(owner), None)?)?;
    Ok((elements, same))
}

/// `contains(array, value)`: true when found; NULL when not found but the array holds a NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Contains;

impl Function for Contains {
    fn name(&self) -> &'static str {
        "contains"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        array_and_element(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let found = find(args, self.name())?;
        let out: BooleanArray = found
            .position
            .iter()
            .zip(&found.has_null)
            .map(|(p, &has_null)| match p {
                Some(0) if has_null => None,
                Some(p) => Some(*p > 0),
                None => None,
            })
            .collect();
        Ok(Arc::new(out))
    }
}

/// `array_join(array, delimiter[, null_replacement])`: the elements as `CAST(x AS VARCHAR)`
/// spells them (`1.0E0`, `Infinity`, a timestamp with its precision, a JSON string without its
/// quotes), NULL elements left out unless replaced. Arrays, maps and rows have no such cast.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayJoin;

impl Function for ArrayJoin {
    fn name(&self) -> &'static str {
        "array_join"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=3)?;
        let list = match &t[0] {
            // As it is: an element's field says whether it is JSON or a timestamp's precision.
            DataType::List(f) if f.data_type().is_nested() => {
                return plan_err!("array_join: {} cannot be cast to varchar", super::scalar::trino_type(f.data_type()));
            }
            DataType::List(_) => t[0].clone(),
            other => array(self.name(), other)?,
        };
        let text = |t: &DataType| super::shared::varchar(self.name(), t);
        std::iter::once(Ok(list)).chain(t[1..].iter().map(text)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let list = column.as_list::<i32>();
        let DataType::List(item) = args.field(0).data_type() else { return exec_err!("array_join expects an array") };
        let json = super::json_cast::is_json(item);
        let values = list.values();
        // Each element spelled once, whatever the rows.
        let spelled: Vec<Option<String>> = (0..values.len())
            .map(|j| {
                let text = super::text::cell(item, values.as_ref(), j, super::text::Double::Cast)?;
                if !json {
                    return Some(text);
                }
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(serde_json::Value::Null) => None,
                    Ok(serde_json::Value::String(s)) => Some(s),
                    _ => Some(text),
                }
            })
            .collect();
        let delimiters = args.column(1)?;
        let delimiters = delimiters.as_string::<i32>();
        let replacements = if args.len() > 2 { Some(args.column(2)?) } else { None };
        let replacements = replacements.as_ref().map(|r| r.as_string::<i32>());
        let mut out = arrow::array::StringBuilder::with_capacity(args.rows, values.len() * 4);
        let mut line = String::new();
        for i in 0..args.rows {
            let replacement = match replacements {
                Some(r) if r.is_null(i) => None,
                Some(r) => Some(Some(r.value(i))),
                None => Some(None),
            };
            let (Some(r), false, Some(replacement)) = (range(list, i), delimiters.is_null(i), replacement) else {
                out.append_null();
                continue;
            };
            line.clear();
            let mut first = true;
            for text in spelled[r].iter().filter_map(|t| t.as_deref().or(replacement)) {
                if !first {
                    line.push_str(delimiters.value(i));
                }
                line.push_str(text);
                first = false;
            }
            out.append_value(&line);
        }
        Ok(Arc::new(out.finish()))
    }
}

/// `array_position(array, value)`: the first position, from 1, or 0 (NULL elements match nothing).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayPosition;

impl Function for ArrayPosition {
    fn name(&self) -> &'static str {
        "array_position"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        array_and_element(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        Ok(Arc::new(Int64Array::from(find(args, self.name())?.position)))
    }
}

/// `array_remove(array, value)`: every element equal to the value removed (NULLs stay).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayRemove;

impl Function for ArrayRemove {
    fn name(&self) -> &'static str {
        "array_remove"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        array_and_element(self.name(), t)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let list = column.as_list::<i32>();
        if matches!(element(list.data_type()), Some(DataType::List(_) | DataType::Struct(_))) {
            return remove_nested(list, args);
        }
        let keep = !&element_hits(list, args, 1)?;
        let needles = args.column(1)?.logical_nulls();
        let mut lengths = Vec::with_capacity(args.rows);
        let mut valid = Vec::with_capacity(args.rows);
        for i in 0..args.rows {
            let r = range(list, i).filter(|_| needles.as_ref().is_none_or(|n| n.is_valid(i)));
            valid.push(r.is_some());
            lengths.push(r.map_or(0, |r| keep.slice(r.start, r.len()).count_set_bits()));
        }
        // Elements of NULL rows go too, so that the offsets count only what is kept.
        let mut mask = keep.into_iter().collect::<Vec<bool>>();
        for i in (0..args.rows).filter(|&i| !valid[i]) {
            let offsets = list.value_offsets();
            mask[offsets[i] as usize..offsets[i + 1] as usize].fill(false);
        }
        let values = filter(list.values(), &BooleanArray::from(mask))?;
        let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
        Ok(Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::from_lengths(lengths),
            values,
            Some(NullBuffer::from(valid)),
        )?))
    }
}

/// `array_remove` over arrays of arrays or rows, as Trino's: a NULL element stays, and an
/// element whose `=` with the value a NULL inside leaves open is an error.
fn remove_nested(list: &ListArray, args: &Args) -> Result<ArrayRef> {
    let needles = args.column(1)?;
    let (elements, same) = beside_needles(list, &needles, args.rows)?;
    let mut keep = Vec::with_capacity(elements.len());
    let (mut lengths, mut valid) = (Vec::with_capacity(args.rows), Vec::with_capacity(args.rows));
    let mut k = 0;
    for i in 0..args.rows {
        let Some(r) = range(list, i) else {
            lengths.push(0);
            valid.push(false);
            continue;
        };
        let (start, len) = (k, r.len());
        k += len;
        if needles.is_null(i) {
            keep.extend(std::iter::repeat_n(false, len));
            lengths.push(0);
            valid.push(false);
            continue;
        }
        let before = keep.len();
        for n in start..start + len {
            if elements.is_null(n) {
                keep.push(true);
            } else if same.is_null(n) {
                return exec_err!("array_remove does not support arrays with elements that are null or contain null");
            } else {
                keep.push(!same.value(n));
            }
        }
        lengths.push(keep[before..].iter().filter(|&&b| b).count());
        valid.push(true);
    }
    let values = filter(&elements, &BooleanArray::from(keep))?;
    let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), values, Some(NullBuffer::from(valid)))?))
}

/// `array_max` and `array_min`: NULL when an element is NULL or the array is empty; NaN is
/// passed over unless every element is NaN (Trino's rule for its max and min functions).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Extreme {
    max: bool,
}

/// Row by row, the position of the greatest (or least) value, NaN last either way.
fn extreme_positions<T: ArrowPrimitiveType>(
    values: &PrimitiveArray<T>,
    list: &ListArray,
    max: bool,
) -> Vec<Option<u32>> {
    let not_nan = not_nan(values);
    let is_nan = |j: usize| not_nan.as_ref().is_some_and(|keep| !keep.value(j));
    let v = values.values();
    (0..list.len())
        .map(|i| {
            let r = range(list, i)?;
            if r.is_empty()
                || values.nulls().is_some_and(|n| n.inner().slice(r.start, r.len()).count_set_bits() < r.len())
            {
                return None;
            }
            let mut best = r.start;
            for j in r {
                let better = if max { v[j].is_gt(v[best]) } else { v[j].is_lt(v[best]) };
                if is_nan(best) || (better && !is_nan(j)) {
                    best = j;
                }
            }
            Some(best as u32)
        })
        .collect()
}

impl Function for Extreme {
    fn name(&self) -> &'static str {
        if self.max { "array_max" } else { "array_min" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![array(self.name(), &t[0])?])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(element(&t[0]).unwrap_or(DataType::Null))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let list = column.as_list::<i32>();
        let values = list.values();
        let picks = downcast_primitive_array!(
            values => extreme_positions(values, list, self.max),
            DataType::Null => return Ok(new_null_array(args.ret, args.rows)),
            _ => {
                // Other types by their rank in the batch's values in order (an array or a row
                // by its encoded row); one holding a NaN ranks as NaN, passed over as a NaN is.
                let order: Vec<usize> = if values.data_type().is_nested() {
                    let encoded = rows(std::slice::from_ref(values))?;
                    let mut order: Vec<usize> = (0..values.len()).collect();
                    order.sort_by(|&a, &b| encoded[0].row(a).cmp(&encoded[0].row(b)));
                    order
                } else {
                    let sorted = arrow::compute::sort_to_indices(values, Some(SortOptions::default()), None)?;
                    sorted.values().iter().map(|&j| j as usize).collect()
                };
                let nan = nan_inside(values.as_ref());
                let mut ranks = vec![0f64; values.len()];
                for (rank, &j) in order.iter().enumerate() {
                    ranks[j] = if nan.as_ref().is_some_and(|n| n[j]) { f64::NAN } else { rank as f64 };
                }
                let ranks = arrow::array::Float64Array::new(ranks.into(), values.logical_nulls());
                extreme_positions(&ranks, list, self.max)
            }
        );
        Ok(take(values, &UInt32Array::from(picks), None)?)
    }
}

/// Whether each value holds a NaN at any depth of its arrays and rows (`None`: none can).
fn nan_inside(values: &dyn Array) -> Option<Vec<bool>> {
    match values.data_type() {
        DataType::Float64 | DataType::Float32 => {
            Some(not_nan(values)?.iter().enumerate().map(|(j, keep)| !keep && values.is_valid(j)).collect())
        }
        DataType::Struct(_) => {
            let s = values.as_struct();
            let mut out: Option<Vec<bool>> = None;
            for child in s.columns().iter().filter_map(|c| nan_inside(c.as_ref())) {
                let acc = out.get_or_insert_with(|| vec![false; values.len()]);
                acc.iter_mut().zip(child).for_each(|(a, c)| *a |= c);
            }
            out
        }
        DataType::List(_) => {
            let list = values.as_list::<i32>();
            let inner = nan_inside(list.values().as_ref())?;
            Some((0..list.len()).map(|i| range(list, i).is_some_and(|r| inner[r].iter().any(|&n| n))).collect())
        }
        _ => None,
    }
}

/// `array_max(ARRAY[a, b, c])` as `greatest(a, b, c)` (and `array_min` as `least`), the same
/// answer (NULL when a value is, NaN passed over) without building the array of each row.
#[derive(Debug)]
pub struct ExtremeOfRow {
    /// `greatest` and `least`, as the session has them.
    pub greatest: Arc<ScalarUDF>,
    /// See `greatest`.
    pub least: Arc<ScalarUDF>,
}

impl FunctionRewrite for ExtremeOfRow {
    fn name(&self) -> &str {
        "athena_extreme_of_row"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _: &ConfigOptions) -> Result<Transformed<Expr>> {
        let Expr::ScalarFunction(f) = &expr else { return Ok(Transformed::no(expr)) };
        let by = match f.func.name() {
            "array_max" => &self.greatest,
            "array_min" => &self.least,
            _ => return Ok(Transformed::no(expr)),
        };
        // Arrays and rows stay with the kernel: `greatest` compares no nested values.
        let scalar = |e: &Expr| e.get_type(schema).is_ok_and(|t| !t.is_nested());
        match f.args.as_slice() {
            [Expr::ScalarFunction(inner)]
                if inner.func.name() == "make_array" && !inner.args.is_empty() && inner.args.iter().all(scalar) =>
            {
                Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(by.clone(), inner.args.clone()))))
            }
            _ => Ok(Transformed::no(expr)),
        }
    }
}

/// `||` with an array: Trino's `concat`, planned before DataFusion's own planner of `||`. An
/// array NULL makes the result NULL (DataFusion's `array_concat` read it as empty); an element
/// (`ARRAY[2.0, 3.11] || 1.0`, `ARRAY[2, 8] || ARRAY[ARRAY[3, 6]]`) is an array of one, so a
/// NULL element is kept and the common type is found across both sides.
#[derive(Debug)]
pub struct ArrayConcat {
    /// Trino's `concat` (see `string`).
    pub concat: Arc<ScalarUDF>,
}

impl datafusion::logical_expr::planner::ExprPlanner for ArrayConcat {
    fn plan_binary_op(
        &self,
        expr: datafusion::logical_expr::planner::RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<datafusion::logical_expr::planner::PlannerResult<datafusion::logical_expr::planner::RawBinaryExpr>>
    {
        use datafusion::functions_nested::expr_fn::make_array;
        use datafusion::logical_expr::planner::PlannerResult;
        use datafusion::sql::sqlparser::ast::BinaryOperator;
        if expr.op != BinaryOperator::StringConcat {
            return Ok(PlannerResult::Original(expr));
        }
        let (Ok(left), Ok(right)) = (expr.left.get_type(schema), expr.right.get_type(schema)) else {
            return Ok(PlannerResult::Original(expr));
        };
        fn depth(t: &DataType) -> usize {
            element(t).map_or(0, |e| 1 + depth(&e))
        }
        let (l, r) = (depth(&left), depth(&right));
        // An untyped NULL beside an array stays DataFusion's (Trino finds the call ambiguous).
        if l.max(r) == 0 || left.is_null() || right.is_null() {
            return Ok(PlannerResult::Original(expr));
        }
        let pair = if l == r {
            vec![expr.left.clone(), expr.right.clone()]
        } else if l == r + 1 {
            vec![expr.left.clone(), make_array(vec![expr.right.clone()])]
        } else if r == l + 1 {
            vec![make_array(vec![expr.left.clone()]), expr.right.clone()]
        } else {
            return Ok(PlannerResult::Original(expr));
        };
        Ok(PlannerResult::Planned(Expr::ScalarFunction(ScalarFunction::new_udf(self.concat.clone(), pair))))
    }
}

/// Rows of a list column gathered from the positions of another column's values: the
/// positions are collected row by row and the values taken once.
struct Gather {
    picks: Vec<Option<u32>>,
    lengths: Vec<usize>,
    valid: Vec<bool>,
}

impl Gather {
    fn new(rows: usize) -> Self {
        Gather { picks: Vec::new(), lengths: Vec::with_capacity(rows), valid: Vec::with_capacity(rows) }
    }

    fn push(&mut self, picks: impl IntoIterator<Item = usize>) {
        let before = self.picks.len();
        self.picks.extend(picks.into_iter().map(|p| Some(p as u32)));
        self.lengths.push(self.picks.len() - before);
        self.valid.push(true);
    }

    fn null(&mut self) {
        self.lengths.push(0);
        self.valid.push(false);
    }

    /// The rows, of values taken from `from`.
    fn finish(self, from: &ArrayRef) -> Result<ArrayRef> {
        let values = take(from, &UInt32Array::from(self.picks), None)?;
        nest(values, self.lengths, self.valid)
    }
}

/// A list column of `values`, `lengths[i]` of them in row `i`.
fn nest(values: ArrayRef, lengths: Vec<usize>, valid: Vec<bool>) -> Result<ArrayRef> {
    let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), values, Some(NullBuffer::from(valid)))?))
}

/// `reverse`: of an array, its elements backwards; of a varchar, its characters; of a
/// varbinary, its bytes.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Reverse;

impl Function for Reverse {
    fn name(&self) -> &'static str {
        "reverse"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        if super::shared::is_binary(&t[0]) && !t[0].is_null() {
            return Ok(vec![DataType::Binary]);
        }
        Ok(vec![element(&t[0]).map_or(DataType::Utf8, list_of)])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        if let Some(bytes) = column.as_binary_opt::<i32>() {
            return super::function::binaries(
                bytes.iter().map(|b| Ok(b.map(|b| b.iter().rev().copied().collect::<Vec<u8>>()))),
            );
        }
        if let Some(text) = column.as_string_opt::<i32>() {
            let out: arrow::array::StringArray =
                text.iter().map(|v| v.map(|v| v.chars().rev().collect::<String>())).collect();
            return Ok(Arc::new(out));
        }
        let list = column.as_list::<i32>();
        let mut out = Gather::new(args.rows);
        for i in 0..args.rows {
            match range(list, i) {
                Some(r) => out.push(r.rev()),
                None => out.null(),
            }
        }
        out.finish(list.values())
    }
}

/// `shuffle(array)`: its elements in a random order.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Shuffle;

impl Function for Shuffle {
    fn name(&self) -> &'static str {
        "shuffle"
    }
    fn volatility(&self) -> datafusion::logical_expr::Volatility {
        datafusion::logical_expr::Volatility::Volatile
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        match element(&t[0]) {
            Some(e) => Ok(vec![list_of(e)]),
            None => plan_err!("shuffle expects an array, got {}", t[0]),
        }
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        use rand::seq::SliceRandom;
        let column = args.column(0)?;
        let list = column.as_list::<i32>();
        let mut rng = rand::rng();
        let mut out = Gather::new(args.rows);
        for i in 0..args.rows {
            match range(list, i) {
                Some(r) => {
                    let mut picks: Vec<usize> = r.collect();
                    picks.shuffle(&mut rng);
                    out.push(picks);
                }
                None => out.null(),
            }
        }
        out.finish(list.values())
    }
}

/// `repeat(element, count)`: an array of `count` copies.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Repeat;

impl Function for Repeat {
    fn name(&self) -> &'static str {
        "repeat"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(vec![t[0].clone(), bigint(self.name(), &t[1])?])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(list_of(t[0].clone()))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (elements, counts) = (args.column(0)?, args.column(1)?);
        let mut out = Gather::new(args.rows);
        for i in 0..args.rows {
            match int_at(&counts, i) {
                None => out.null(),
                Some(c) if c < 0 => {
                    return exec_err!("count argument of repeat function must be greater than or equal to 0");
                }
                Some(c) if c > 10_000 => {
                    return exec_err!("count argument of repeat function must be less than or equal to 10000");
                }
                // Trino caps the result at a million bytes, the element's size as its blocks
                // count it (a value, its offset and its NULL flag) times the count.
                Some(c)
                    if c > 0
                        && !elements.is_null(i)
                        && block_size(&elements, i) > (1_000_000 + c as usize) / c as usize =>
                {
                    return exec_err!("result of repeat function must not take more than 1000000 bytes");
                }
                Some(c) => out.push(std::iter::repeat_n(i, c as usize)),
            }
        }
        out.finish(&elements)
    }
}

/// The bytes a value at `i` takes in Trino's blocks: its data, an offset for a variable width,
/// and a NULL flag.
fn block_size(values: &ArrayRef, i: usize) -> usize {
    let children = |nested: &ArrayRef, r: std::ops::Range<usize>| r.map(|j| block_size(nested, j)).sum::<usize>();
    match values.data_type() {
        DataType::Utf8 => values.as_string::<i32>().value(i).len() + 5,
        DataType::LargeUtf8 => values.as_string::<i64>().value(i).len() + 5,
        DataType::Utf8View => values.as_string_view().value(i).len() + 5,
        DataType::Binary => values.as_binary::<i32>().value(i).len() + 5,
        DataType::List(_) => {
            let list = values.as_list::<i32>();
            5 + range(list, i).map_or(0, |r| children(list.values(), r))
        }
        DataType::Map(..) => {
            let map = values.as_map();
            let offsets = map.value_offsets();
            let r = offsets[i] as usize..offsets[i + 1] as usize;
            5 + children(map.keys(), r.clone()) + children(map.values(), r)
        }
        DataType::Struct(_) => 1 + values.as_struct().columns().iter().map(|c| block_size(c, i)).sum::<usize>(),
        t => t.primitive_width().unwrap_or(8) + 1,
    }
}

/// `slice(array, start, length)`: `start` from 1, or from the end when negative.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Slice;

impl Function for Slice {
    fn name(&self) -> &'static str {
        "slice"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 3..=3)?;
        Ok(vec![array(self.name(), &t[0])?, bigint(self.name(), &t[1])?, bigint(self.name(), &t[2])?])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let [column, starts, lengths] = &args.columns()?[..] else { unreachable!("three arguments") };
        let list = column.as_list::<i32>();
        let mut out = Gather::new(args.rows);
        for i in 0..args.rows {
            let (Some(r), Some(start), Some(length)) = (range(list, i), int_at(starts, i), int_at(lengths, i)) else {
                out.null();
                continue;
            };
            if start == 0 {
                return exec_err!("SQL array indices start at 1");
            }
            if length < 0 {
                return exec_err!("length must be greater than or equal to 0");
            }
            let len = r.len() as i64;
            let from = if start > 0 { start - 1 } else { len + start };
            // A start before the array's first element (from its end) takes nothing, as Trino's.
            let length = if from < 0 { 0 } else { length };
            let (from, to) = (from.clamp(0, len) as usize, (from + length).clamp(0, len) as usize);
            out.push(r.start + from..r.start + to.max(from));
        }
        out.finish(list.values())
    }
}

/// `trim_array(array, n)`: without its last `n` elements.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TrimArray;

impl Function for TrimArray {
    fn name(&self) -> &'static str {
        "trim_array"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        array_and_count(self.name(), t)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (column, counts) = (args.column(0)?, args.column(1)?);
        let list = column.as_list::<i32>();
        let mut out = Gather::new(args.rows);
        for i in 0..args.rows {
            let (Some(r), Some(k)) = (range(list, i), int_at(&counts, i)) else {
                out.null();
                continue;
            };
            if k < 0 {
                return exec_err!("size must not be negative: {k}");
            }
            if k as usize > r.len() {
                return exec_err!("size must not exceed array cardinality {}: {k}", r.len());
            }
            out.push(r.start..r.end - k as usize);
        }
        out.finish(list.values())
    }
}

fn array_and_count(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, t, 2..=2)?;
    Ok(vec![array(name, &t[0])?, bigint(name, &t[1])?])
}

/// Arrays of groups of each row's elements (`ngrams`, `combinations`): the groups' element
/// positions, gathered once, then the groups nested in their rows.
fn groups(args: &Args, mut of: impl FnMut(Range<usize>, usize) -> Result<Vec<Vec<usize>>>) -> Result<ArrayRef> {
    let (column, sizes) = (args.column(0)?, args.column(1)?);
    let list = column.as_list::<i32>();
    let mut inner = Gather::new(args.rows);
    let (mut lengths, mut valid) = (Vec::with_capacity(args.rows), Vec::with_capacity(args.rows));
    for i in 0..args.rows {
        let (Some(r), Some(k)) = (range(list, i), int_at(&sizes, i)) else {
            lengths.push(0);
            valid.push(false);
            continue;
        };
        let groups = of(r, k.max(0) as usize)?;
        lengths.push(groups.len());
        valid.push(true);
        for g in groups {
            inner.push(g);
        }
    }
    nest(inner.finish(list.values())?, lengths, valid)
}

/// `ngrams(array, n)`: the runs of `n` consecutive elements (the whole array when shorter).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Ngrams;

impl Function for Ngrams {
    fn name(&self) -> &'static str {
        "ngrams"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        array_and_count(self.name(), t)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(list_of(t[0].clone()))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let sizes = args.column(1)?;
        if (0..args.rows).any(|i| int_at(&sizes, i).is_some_and(|k| k <= 0)) {
            return exec_err!("N must be positive");
        }
        groups(args, |r, k| {
            let k = k.min(r.len().max(1));
            Ok(if r.is_empty() { vec![vec![]] } else { (r.start..=r.end - k).map(|s| (s..s + k).collect()).collect() })
        })
    }
}

/// `combinations(array, n)`: the `n`-element combinations, in Trino's order.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Combinations;

impl Function for Combinations {
    fn name(&self) -> &'static str {
        "combinations"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        array_and_count(self.name(), t)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(list_of(t[0].clone()))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let sizes = args.column(1)?;
        for k in (0..args.rows).filter_map(|i| int_at(&sizes, i)) {
            if k < 0 {
                return exec_err!("combination size must not be negative: {k}");
            }
            if k > 5 {
                return exec_err!("combination size must not exceed 5: {k}");
            }
        }
        groups(args, |r, k| {
            // Trino caps a result at 100,000 elements.
            if k <= r.len() && count_combinations(r.len(), k).saturating_mul(k) > 100_000 {
                return exec_err!("combinations exceed max size");
            }
            Ok(combinations(r.len(), k).into_iter().map(|g| g.into_iter().map(|j| r.start + j).collect()).collect())
        })
    }
}

/// The k-element combinations of 0..n in Trino's order: the lowest position moves first
/// (`{0, 1}, {0, 2}, {1, 2}, {0, 3}, ...`); one empty combination of none.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k > n {
        return vec![];
    }
    let mut out = Vec::new();
    let mut pick: Vec<usize> = (0..k).collect();
    loop {
        out.push(pick.clone());
        // The first position that can move up without meeting the next one (the last, up to
        // n); those below it start over.
        let limit = |i: usize| if i + 1 < k { pick[i + 1] } else { n };
        let Some(i) = (0..k).find(|&i| pick[i] + 1 < limit(i)) else { break };
        pick[i] += 1;
        for (j, p) in pick.iter_mut().enumerate().take(i) {
            *p = j;
        }
    }
    out
}

/// C(n, k), saturating.
fn count_combinations(n: usize, k: usize) -> usize {
    (1..=k).fold(1_usize, |c, i| c.saturating_mul(n - k + i) / i)
}

/// `zip(a, b, ...)`: rows of the arrays' elements side by side, NULL where one is shorter.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Zip;

impl Function for Zip {
    fn name(&self) -> &'static str {
        "zip"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if t.len() < 2 {
            return plan_err!("zip takes at least two arrays");
        }
        t.iter().map(|t| array(self.name(), t)).collect()
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        let fields: Fields = t
            .iter()
            .enumerate()
            .map(|(i, t)| Field::new(format!("c{i}"), element(t).unwrap_or(DataType::Null), true))
            .collect();
        Ok(list_of(DataType::Struct(fields)))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let Some(DataType::Struct(fields)) = element(args.ret) else { return exec_err!("zip returns rows") };
        let columns = args.columns()?;
        let lists: Vec<&ListArray> = columns.iter().map(|c| c.as_list::<i32>()).collect();
        let mut picks: Vec<Vec<Option<u32>>> = vec![Vec::new(); lists.len()];
        let (mut lengths, mut valid) = (Vec::with_capacity(args.rows), Vec::with_capacity(args.rows));
        for i in 0..args.rows {
            let ranges: Option<Vec<Range<usize>>> = lists.iter().map(|l| range(l, i)).collect();
            let Some(ranges) = ranges else {
                lengths.push(0);
                valid.push(false);
                continue;
            };
            let longest = ranges.iter().map(Range::len).max().unwrap_or(0);
            for (p, r) in picks.iter_mut().zip(&ranges) {
                p.extend((0..longest).map(|k| (k < r.len()).then_some((r.start + k) as u32)));
            }
            lengths.push(longest);
            valid.push(true);
        }
        let taken = lists
            .iter()
            .zip(picks)
            .map(|(l, p)| take(l.values(), &UInt32Array::from(p), None))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        nest(Arc::new(StructArray::try_new(fields, taken, None)?), lengths, valid)
    }
}

/// `array_histogram(array)`: each distinct element and how often it occurs; NULLs are not counted.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayHistogram;

impl Function for ArrayHistogram {
    fn name(&self) -> &'static str {
        "array_histogram"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![array(self.name(), &t[0])?])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(super::map::map_type(element(&t[0]).unwrap_or(DataType::Null), DataType::Int64))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let DataType::Map(entry, _) = args.ret else { return exec_err!("array_histogram returns a map") };
        let DataType::Struct(fields) = entry.data_type() else { return exec_err!("a map's entries are a struct") };
        let column = args.column(0)?;
        let list = column.as_list::<i32>();
        let values = list.values();
        // Elements compared by their row-format bytes: one encoding of the whole batch.
        let encoded = rows(std::slice::from_ref(values))?.remove(0);
        let (mut keys, mut counts, mut lengths, mut valid) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut seen: HashMap<arrow::row::Row<'_>, usize> = HashMap::new();
        // Logical: the elements of `ARRAY[NULL]` are a NullArray, which has no null buffer.
        let nulls = values.logical_nulls();
        for i in 0..args.rows {
            let Some(r) = range(list, i) else {
                lengths.push(0);
                valid.push(false);
                continue;
            };
            seen.clear();
            let first = keys.len();
            for j in r.filter(|&j| nulls.as_ref().is_none_or(|n| n.is_valid(j))) {
                match seen.get(&encoded.row(j)) {
                    Some(&k) => counts[k] += 1,
                    None => {
                        seen.insert(encoded.row(j), keys.len());
                        keys.push(j as u32);
                        counts.push(1i64);
                    }
                }
            }
            lengths.push(keys.len() - first);
            valid.push(true);
        }
        let keys = take(values, &UInt32Array::from(keys), None)?;
        let entries = StructArray::try_new(fields.clone(), vec![keys, Arc::new(Int64Array::from(counts))], None)?;
        Ok(Arc::new(MapArray::try_new(
            entry.clone(),
            OffsetBuffer::from_lengths(lengths),
            entries,
            Some(NullBuffer::from(valid)),
            false,
        )?))
    }
}

/// `contains_sequence(array, seq)`: whether `seq` occurs in the array as consecutive elements
/// (NULL elements match NULL).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ContainsSequence;

impl Function for ContainsSequence {
    fn name(&self) -> &'static str {
        "contains_sequence"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        let elements = [element(&t[0]).unwrap_or(DataType::Null), element(&t[1]).unwrap_or(DataType::Null)];
        let common = type_union_resolution(&elements)
            .ok_or_else(|| plan_datafusion_err!("{}: no common type of {} and {}", self.name(), t[0], t[1]))?;
        Ok(vec![list_of(common.clone()), list_of(common)])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (a, b) = (args.column(0)?, args.column(1)?);
        let (a, b) = (a.as_list::<i32>(), b.as_list::<i32>());
        let same = arrow::array::make_comparator(a.values(), b.values(), SortOptions::default())?;
        let out: BooleanArray = (0..args.rows)
            .map(|i| {
                let (x, s) = (range(a, i)?, range(b, i)?);
                Some(
                    s.is_empty()
                        || (x.start..(x.end + 1).saturating_sub(s.len()))
                            .any(|start| s.clone().enumerate().all(|(k, j)| same(start + k, j).is_eq())),
                )
            })
            .collect();
        Ok(Arc::new(out))
    }
}

/// `arrays_overlap(x, y)`: true when they share a non-NULL element; NULL when they share none
/// but either holds a NULL; false otherwise.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArraysOverlap;

impl Function for ArraysOverlap {
    fn name(&self) -> &'static str {
        "arrays_overlap"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        ContainsSequence.coerce(t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (a, b) = (args.column(0)?, args.column(1)?);
        let (a, b) = (a.as_list::<i32>(), b.as_list::<i32>());
        let both = rows(&[a.values().clone(), b.values().clone()])?;
        let (x, y) = (&both[0], &both[1]);
        let mut seen = std::collections::HashSet::new();
        let out: BooleanArray = (0..args.rows)
            .map(|i| {
                let (rx, ry) = (range(a, i)?, range(b, i)?);
                seen.clear();
                let mut nulls = false;
                for j in rx {
                    if a.values().is_valid(j) {
                        seen.insert(x.row(j));
                    } else {
                        nulls = true;
                    }
                }
                for j in ry {
                    if !b.values().is_valid(j) {
                        nulls = true;
                    } else if seen.contains(&y.row(j)) {
                        return Some(true);
                    }
                }
                if nulls { None } else { Some(false) }
            })
            .collect();
        Ok(Arc::new(out))
    }
}

/// `x = y` of arrays as Trino compares them: false when the lengths differ or two elements
/// differ, else NULL when a pair holds a NULL, else true (NaN equals nothing). Called for
/// `=` and `<>` of arrays and rows by [`ArrayComparisons`].
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayEquality;

impl Function for ArrayEquality {
    fn name(&self) -> &'static str {
        "athena_array_equal"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        if element(&t[0]).is_some() && element(&t[1]).is_some() {
            return ContainsSequence.coerce(t);
        }
        let common = type_union_resolution(t)
            .ok_or_else(|| plan_datafusion_err!("{}: no common type of {} and {}", self.name(), t[0], t[1]))?;
        Ok(vec![common.clone(), common])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        Ok(Arc::new(three_valued_equal(&args.column(0)?, &args.column(1)?)?))
    }
}

/// Trino's `=` of two columns of one type, value beside value: false where any part differs,
/// else NULL where a NULL inside (or either value) leaves it open, else true. A row's fields
/// and an array's elements are compared so, recursively, and joined by Kleene's AND.
fn three_valued_equal(a: &ArrayRef, b: &ArrayRef) -> Result<BooleanArray> {
    let out = match a.data_type() {
        DataType::Struct(fields) => {
            let (x, y) = (a.as_struct(), b.as_struct());
            let mut out = BooleanArray::from(vec![true; a.len()]);
            for k in 0..fields.len() {
                out = arrow::compute::and_kleene(&out, &three_valued_equal(x.column(k), y.column(k))?)?;
            }
            out
        }
        DataType::List(_) => list_equal(a.as_list::<i32>(), b.as_list::<i32>())?,
        DataType::Null => return Ok(BooleanArray::new_null(a.len())),
        _ => return equal(a, b),
    };
    // NULL where either whole value is.
    let nulls = arrow::buffer::NullBuffer::union(a.logical_nulls().as_ref(), b.logical_nulls().as_ref());
    let nulls = arrow::buffer::NullBuffer::union(out.nulls(), nulls.as_ref());
    Ok(BooleanArray::new(out.values().clone(), nulls))
}

/// Arrays' `=`: false when their lengths differ, else their elements' three-valued `=`
/// joined by Kleene's AND (the elements of all rows compared at once).
fn list_equal(a: &ListArray, b: &ListArray) -> Result<BooleanArray> {
    let rows = a.len();
    let mut state: Vec<Option<bool>> = Vec::with_capacity(rows);
    let (mut left, mut right, mut owner) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rows {
        state.push(match (range(a, i), range(b, i)) {
            (Some(x), Some(y)) if x.len() == y.len() => {
                left.extend(x.clone().map(|j| j as u32));
                right.extend(y.map(|j| j as u32));
                owner.extend(std::iter::repeat_n(i, x.len()));
                Some(true)
            }
            (Some(_), Some(_)) => Some(false),
            _ => None,
        });
    }
    let x = take(a.values(), &UInt32Array::from(left), None)?;
    let y = take(b.values(), &UInt32Array::from(right), None)?;
    let same = three_valued_equal(&x, &y)?;
    let mut unknown = vec![false; rows];
    for (k, &i) in owner.iter().enumerate() {
        if same.is_null(k) {
            unknown[i] = true;
        } else if !same.value(k) {
            state[i] = Some(false);
        }
    }
    Ok(state.into_iter().zip(unknown).map(|(s, u)| if s == Some(true) && u { None } else { s }).collect())
}

/// `=` and `<>` (and `IN`) of arrays and rows, rewritten to [`ArrayEquality`] once types are
/// coerced: Arrow's comparison of lists and structs says false where Trino says NULL (`ARRAY[1,
/// NULL] = ARRAY[1, 2]`, `ROW(1, NULL) = ROW(1, 2)`). Maps inside are left to Arrow's.
#[derive(Debug, Default)]
pub struct ArrayComparisons;

impl AnalyzerRule for ArrayComparisons {
    fn name(&self) -> &str {
        "athena_array_comparisons"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let equality = Arc::new(udf(ArrayEquality));
        super::shared::rewrite_expressions(plan, |e, schema| {
            let flat = |x: &Expr| x.get_type(schema).is_ok_and(|t| comparable(&t));
            let equal = |a: &Expr, b: &Expr| {
                Expr::ScalarFunction(ScalarFunction::new_udf(equality.clone(), vec![a.clone(), b.clone()]))
            };
            let not = |x: Expr, negated: bool| if negated { Expr::Not(Box::new(x)) } else { x };
            Ok(match &e {
                Expr::BinaryExpr(BinaryExpr { left, op: op @ (Operator::Eq | Operator::NotEq), right })
                    if flat(left) && flat(right) =>
                {
                    Transformed::yes(not(equal(left, right), *op == Operator::NotEq))
                }
                // `x IN (a, b)` is `x = a OR x = b`, three-valued as each equality is.
                Expr::InList(InList { expr, list, negated }) if flat(expr) && list.iter().all(flat) => {
                    match list.iter().map(|item| equal(expr, item)).reduce(Expr::or) {
                        Some(any) => Transformed::yes(not(any, *negated)),
                        None => Transformed::no(e),
                    }
                }
                _ => Transformed::no(e),
            })
        })
    }
}

/// An array or row whose parts are arrays, rows or scalars (no maps): what
/// [`three_valued_equal`] compares.
fn comparable(t: &DataType) -> bool {
    fn inside(t: &DataType) -> bool {
        match t {
            DataType::List(f) => inside(f.data_type()),
            DataType::Struct(fields) => fields.iter().all(|f| inside(f.data_type())),
            t => !t.is_nested(),
        }
    }
    matches!(t, DataType::List(_) | DataType::Struct(_)) && inside(t)
}

/// `cardinality(array or map)`: the number of elements (entries), NULL for NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Cardinality;

impl Function for Cardinality {
    fn name(&self) -> &'static str {
        "cardinality"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        match &t[0] {
            DataType::Map(..) => Ok(vec![t[0].clone()]),
            t => Ok(vec![array(self.name(), t)?]),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let (offsets, nulls) = match column.as_map_opt() {
            Some(map) => (map.offsets().clone(), map.nulls().cloned()),
            None => {
                let list = column.as_list::<i32>();
                (list.offsets().clone(), list.nulls().cloned())
            }
        };
        let lengths = offsets.windows(2).map(|w| (w[1] - w[0]) as i64).collect::<Vec<_>>();
        Ok(Arc::new(Int64Array::new(lengths.into(), nulls)))
    }
}

/// `sequence(start, stop[, step])`: integers (step 1 or -1 by default), dates (a day by
/// default, or a step of whole days or months), or timestamps (by an interval).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Sequence;

const SEQUENCE_MAX: usize = 10_000;

fn sequence_direction_error<T>() -> Result<T> {
    exec_err!(
        "sequence stop value should be greater than or equal to start value if step is greater than zero otherwise stop should be less than or equal to start"
    )
}

impl Function for Sequence {
    fn name(&self) -> &'static str {
        "sequence"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        arity(name, t, 2..=3)?;
        let step = || match t.get(2) {
            Some(DataType::Interval(_)) | None => Ok(DataType::Interval(IntervalUnit::MonthDayNano)),
            Some(other) => plan_err!("{name} of dates or timestamps steps by an interval, got {other}"),
        };
        let timestamp = t[..2].iter().find_map(|t| match t {
            DataType::Timestamp(unit, _) => Some(*unit),
            _ => None,
        });
        let mut out = if let Some(unit) = timestamp {
            if t.len() == 2 {
                return plan_err!("{name} of timestamps takes a step: sequence(start, stop, step)");
            }
            vec![DataType::Timestamp(unit, None); 2]
        } else if t[..2].iter().any(|t| matches!(t, DataType::Date32 | DataType::Date64)) {
            vec![DataType::Date32, DataType::Date32]
        } else {
            return t.iter().map(|t| bigint(name, t)).collect();
        };
        if t.len() == 3 {
            out.push(step()?);
        }
        Ok(out)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(list_of(match &t[0] {
            DataType::Date32 | DataType::Timestamp(..) => t[0].clone(),
            _ => DataType::Int64,
        }))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let mut values: Vec<i64> = Vec::new();
        let (mut lengths, mut valid) = (Vec::with_capacity(args.rows), Vec::with_capacity(args.rows));
        for i in 0..args.rows {
            if columns.iter().any(|c| c.is_null(i)) {
                lengths.push(0);
                valid.push(false);
                continue;
            }
            let before = values.len();
            match columns[0].data_type() {
                DataType::Date32 => date_sequence(&columns, i, &mut values)?,
                DataType::Timestamp(unit, _) => timestamp_sequence(&columns, i, *unit, &mut values)?,
                _ => {
                    let (start, stop) = (int_at(&columns[0], i).unwrap_or(0), int_at(&columns[1], i).unwrap_or(0));
                    let step = columns.get(2).and_then(|s| int_at(s, i)).unwrap_or(if stop >= start { 1 } else { -1 });
                    if step == 0 {
                        return exec_err!("step must not be zero");
                    }
                    if (step > 0 && stop < start) || (step < 0 && stop > start) {
                        return sequence_direction_error();
                    }
                    // In i128: the whole bigint range by one step is 2^64 values, past usize.
                    let count = (stop as i128 - start as i128) / step as i128 + 1;
                    if count > SEQUENCE_MAX as i128 {
                        return exec_err!("result of sequence function must not have more than {SEQUENCE_MAX} entries");
                    }
                    values.extend((0..count).map(|k| (start as i128 + k * step as i128) as i64));
                }
            }
            lengths.push(values.len() - before);
            valid.push(true);
        }
        let element = element(args.ret).unwrap_or(DataType::Int64);
        let values: ArrayRef = match &element {
            DataType::Date32 => {
                Arc::new(PrimitiveArray::<Date32Type>::from_iter_values(values.iter().map(|&v| v as i32)))
            }
            _ => arrow::compute::cast(&Int64Array::from(values), &element)?,
        };
        nest(values, lengths, valid)
    }
}

/// Steps from `start` by `step` while not past `stop`; `next(k)` is the k-th value (None past
/// the calendar's end).
fn walk(start: i64, stop: i64, forward: bool, out: &mut Vec<i64>, next: impl Fn(i64) -> Option<i64>) -> Result<()> {
    if forward != (stop >= start) && start != stop {
        return sequence_direction_error();
    }
    let before = out.len();
    for k in 0.. {
        let Some(v) = next(k) else { break };
        if (forward && v > stop) || (!forward && v < stop) {
            break;
        }
        if out.len() - before >= SEQUENCE_MAX {
            return exec_err!("result of sequence function must not have more than {SEQUENCE_MAX} entries");
        }
        out.push(v);
    }
    Ok(())
}

fn step_of(columns: &[ArrayRef], i: usize, default: IntervalMonthDayNano) -> IntervalMonthDayNano {
    columns.get(2).map_or(default, |s| s.as_primitive::<IntervalMonthDayNanoType>().value(i))
}

fn date_sequence(columns: &[ArrayRef], i: usize, out: &mut Vec<i64>) -> Result<()> {
    let day = |c: &ArrayRef| c.as_primitive::<Date32Type>().value(i) as i64;
    let (start, stop) = (day(&columns[0]), day(&columns[1]));
    let step = step_of(columns, i, IntervalMonthDayNano::new(0, if stop >= start { 1 } else { -1 }, 0));
    if step.nanoseconds != 0 || (step.months != 0 && step.days != 0) {
        return exec_err!("sequence step must be a day interval if start and end values are dates");
    }
    if step.months == 0 && step.days == 0 {
        return exec_err!("step must not be zero");
    }
    let first = from_days(start as i32).expect("a date");
    walk(start, stop, step.months > 0 || step.days > 0, out, |k| {
        let d = if step.months != 0 {
            add_months(first, step.months as i64 * k)
        } else {
            first.checked_add_signed(chrono::Duration::days(step.days as i64 * k))
        };
        d.map(|d| to_days(d) as i64)
    })
}

fn add_months(d: chrono::NaiveDate, months: i64) -> Option<chrono::NaiveDate> {
    let m = chrono::Months::new(months.unsigned_abs().try_into().ok()?);
    if months >= 0 { d.checked_add_months(m) } else { d.checked_sub_months(m) }
}

/// Timestamps step by a day-to-second interval (a fixed length) or by whole months.
fn timestamp_sequence(columns: &[ArrayRef], i: usize, unit: TimeUnit, out: &mut Vec<i64>) -> Result<()> {
    let per_second: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let at = |c: &ArrayRef| -> Result<i64> {
        Ok(arrow::compute::cast(&c.slice(i, 1), &DataType::Int64)?.as_primitive::<Int64Type>().value(0))
    };
    let (start, stop) = (at(&columns[0])?, at(&columns[1])?);
    let step = step_of(columns, i, IntervalMonthDayNano::new(0, 0, 0));
    if step.months != 0 && (step.days != 0 || step.nanoseconds != 0) {
        return exec_err!("sequence step must be a year-to-month or a day-to-second interval");
    }
    if step.months != 0 {
        let first = chrono::DateTime::from_timestamp(start.div_euclid(per_second), 0).expect("a timestamp").naive_utc();
        let fraction = start.rem_euclid(per_second);
        return walk(start, stop, step.months > 0, out, |k| {
            let d = add_months(first.date(), step.months as i64 * k)?.and_time(first.time());
            Some(d.and_utc().timestamp() * per_second + fraction)
        });
    }
    let length = (step.days as i128 * i128::from(super::shared::DAY_NANOS) + step.nanoseconds as i128)
        * per_second as i128
        / 1_000_000_000;
    if length == 0 {
        return exec_err!("step must not be zero");
    }
    let length = i64::try_from(length).map_err(|_| plan_datafusion_err!("sequence step too large"))?;
    walk(start, stop, length > 0, out, |k| start.checked_add(length.checked_mul(k)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_in_order() {
        assert_eq!(combinations(3, 2), vec![vec![0, 1], vec![0, 2], vec![1, 2]]);
        let four = vec![vec![0, 1], vec![0, 2], vec![1, 2], vec![0, 3], vec![1, 3], vec![2, 3]];
        assert_eq!(combinations(4, 2), four);
        assert_eq!(combinations(2, 3), Vec::<Vec<usize>>::new());
        assert_eq!(combinations(2, 0), vec![Vec::<usize>::new()]);
        assert_eq!(count_combinations(100, 5), 75_287_520);
    }
}
