//! Trino's array functions that DataFusion lacks or reads otherwise: `contains`,
//! `array_position` (0 when absent), `array_remove` (every match), `array_max`/`array_min`
//! (NULL when an element is), `reverse` and `repeat` of arrays, `sequence`, `slice`,
//! `trim_array`, `ngrams`, `combinations` and `zip`.
//!
//! Each works row by row on the row's elements as an Arrow array, and the results are put
//! back together as one list array.

use std::sync::Arc;

use chrono::Datelike;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Int64Array, ListArray, StructArray, UInt32Array,
    new_empty_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::kernels::cmp::eq;
use arrow::compute::{SortOptions, concat, take};
use arrow::datatypes::{DataType, Field, Fields, Int64Type, IntervalMonthDayNanoType};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum A {
    Contains,
    Position,
    Remove,
    Max,
    Min,
    Reverse,
    Repeat,
    Sequence,
    Slice,
    TrimArray,
    Ngrams,
    Combinations,
    Zip,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayFn {
    a: A,
    name: &'static str,
    signature: Signature,
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    [
        (A::Contains, "contains"),
        (A::Position, "array_position"),
        (A::Remove, "array_remove"),
        (A::Max, "array_max"),
        (A::Min, "array_min"),
        (A::Reverse, "reverse"),
        (A::Repeat, "repeat"),
        (A::Sequence, "sequence"),
        (A::Slice, "slice"),
        (A::TrimArray, "trim_array"),
        (A::Ngrams, "ngrams"),
        (A::Combinations, "combinations"),
        (A::Zip, "zip"),
    ]
    .into_iter()
    .map(|(a, name)| {
        ScalarUDF::new_from_impl(ArrayFn { a, name, signature: Signature::user_defined(Volatility::Immutable) })
    })
    .collect()
}

fn element(t: &DataType) -> Option<DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Some(f.data_type().clone()),
        _ => None,
    }
}

fn list_of(t: DataType) -> DataType {
    DataType::new_list(t, true)
}

impl ScalarUDFImpl for ArrayFn {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name;
        let array = |t: &DataType| -> Result<DataType> {
            match element(t) {
                Some(e) => Ok(list_of(e)),
                None if t.is_null() => Ok(list_of(DataType::Null)),
                None => plan_err!("{name} expects an array, got {t}"),
            }
        };
        let int = |t: &DataType| super::shared::bigint(name, t);
        let count = |range: std::ops::RangeInclusive<usize>| -> Result<()> {
            if range.contains(&t.len()) { Ok(()) } else { plan_err!("{name} cannot take {} arguments", t.len()) }
        };
        match self.a {
            A::Contains | A::Position | A::Remove => {
                count(2..=2)?;
                let e = element(&t[0]).unwrap_or(DataType::Null);
                let common = type_union_resolution(&[e, t[1].clone()])
                    .ok_or_else(|| datafusion::common::plan_datafusion_err!("{name}: no common type of {t:?}"))?;
                Ok(vec![list_of(common.clone()), common])
            }
            A::Max | A::Min => {
                count(1..=1)?;
                Ok(vec![array(&t[0])?])
            }
            A::Reverse => {
                count(1..=1)?;
                match element(&t[0]) {
                    Some(e) => Ok(vec![list_of(e)]),
                    None => Ok(vec![DataType::Utf8]),
                }
            }
            A::Repeat => {
                count(2..=2)?;
                Ok(vec![t[0].clone(), int(&t[1])?])
            }
            A::Sequence => {
                count(2..=3)?;
                let dates = t[..2].iter().any(|t| matches!(t, DataType::Date32 | DataType::Date64));
                if dates {
                    let step = match t.get(2) {
                        Some(DataType::Interval(_)) | None => {
                            DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano)
                        }
                        Some(other) => return plan_err!("{name} of dates steps by an interval, got {other}"),
                    };
                    let mut out = vec![DataType::Date32, DataType::Date32];
                    if t.len() == 3 {
                        out.push(step);
                    }
                    return Ok(out);
                }
                t.iter().map(int).collect()
            }
            A::Slice => {
                count(3..=3)?;
                Ok(vec![array(&t[0])?, int(&t[1])?, int(&t[2])?])
            }
            A::TrimArray | A::Ngrams | A::Combinations => {
                count(2..=2)?;
                Ok(vec![array(&t[0])?, int(&t[1])?])
            }
            A::Zip => {
                if t.len() < 2 {
                    return plan_err!("zip takes at least two arrays");
                }
                t.iter().map(array).collect()
            }
        }
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match self.a {
            A::Contains => DataType::Boolean,
            A::Position => DataType::Int64,
            A::Remove | A::Slice | A::TrimArray => t[0].clone(),
            A::Reverse => t[0].clone(),
            A::Max | A::Min => element(&t[0]).unwrap_or(DataType::Null),
            A::Repeat => list_of(t[0].clone()),
            A::Sequence => list_of(if t[0] == DataType::Date32 { DataType::Date32 } else { DataType::Int64 }),
            A::Ngrams | A::Combinations => list_of(t[0].clone()),
            A::Zip => {
                let fields: Fields = t
                    .iter()
                    .enumerate()
                    .map(|(i, t)| Field::new(format!("c{i}"), element(t).unwrap_or(DataType::Null), true))
                    .collect();
                list_of(DataType::Struct(fields))
            }
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::shared::invoke(&args, |a, n| {
            let ret = args.return_field.data_type().clone();
            let out = self.run(a, n, &ret)?;
            Ok(out)
        })
    }
}

/// Row `i` of a list argument: its elements, or `None` when NULL.
fn row(a: &ArrayRef, i: usize) -> Option<ArrayRef> {
    let l = a.as_list::<i32>();
    l.is_valid(i).then(|| l.value(i))
}

fn int(a: &ArrayRef, i: usize) -> Option<i64> {
    let a = a.as_primitive::<Int64Type>();
    a.is_valid(i).then(|| a.value(i))
}

/// A list array from one optional array of elements per row.
fn lists(rows: Vec<Option<ArrayRef>>, element: &DataType) -> Result<ArrayRef> {
    let lengths: Vec<usize> = rows.iter().map(|r| r.as_ref().map_or(0, |r| r.len())).collect();
    let nulls: NullBuffer = rows.iter().map(Option::is_some).collect::<Vec<_>>().into();
    let pieces: Vec<&dyn Array> = rows.iter().flatten().map(|r| r.as_ref()).collect();
    let values = if pieces.is_empty() { new_empty_array(element) } else { concat(&pieces)? };
    let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), values, Some(nulls))?))
}

fn indices(v: impl IntoIterator<Item = usize>) -> UInt32Array {
    UInt32Array::from_iter_values(v.into_iter().map(|i| i as u32))
}

impl ArrayFn {
    fn run(&self, a: &[ArrayRef], n: usize, ret: &DataType) -> Result<ArrayRef> {
        let element = element(ret).unwrap_or(DataType::Null);
        Ok(match self.a {
            A::Contains | A::Position => {
                let mut bools = Vec::with_capacity(n);
                let mut ints = Vec::with_capacity(n);
                for i in 0..n {
                    let (Some(values), true) = (row(&a[0], i), a[1].is_valid(i)) else {
                        bools.push(None);
                        ints.push(None);
                        continue;
                    };
                    let needle = a[1].slice(i, 1);
                    let hits = eq(&values, &arrow::array::Scalar::new(needle))?;
                    let first = (0..hits.len()).find(|&j| hits.is_valid(j) && hits.value(j));
                    // Trino: contains is NULL when absent but a NULL element might have matched.
                    bools.push(match first {
                        Some(_) => Some(true),
                        None if values.null_count() > 0 => None,
                        None => Some(false),
                    });
                    ints.push(Some(first.map_or(0, |j| j as i64 + 1)));
                }
                if self.a == A::Contains {
                    Arc::new(BooleanArray::from(bools))
                } else {
                    Arc::new(Int64Array::from(ints))
                }
            }
            A::Remove => {
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let (Some(values), true) = (row(&a[0], i), a[1].is_valid(i)) else {
                        out.push(None);
                        continue;
                    };
                    let hits = eq(&values, &arrow::array::Scalar::new(a[1].slice(i, 1)))?;
                    let keep = (0..values.len()).filter(|&j| !(hits.is_valid(j) && hits.value(j)));
                    out.push(Some(take(&values, &indices(keep), None)?));
                }
                lists(out, &element)?
            }
            A::Max | A::Min => {
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let best = match row(&a[0], i) {
                        Some(values) if !values.is_empty() && values.null_count() == 0 => {
                            let options = SortOptions { descending: self.a == A::Max, nulls_first: false };
                            let order = arrow::compute::sort_to_indices(&values, Some(options), Some(1))?;
                            ScalarValue::try_from_array(&values, order.value(0) as usize)?
                        }
                        _ => ScalarValue::try_from(ret)?,
                    };
                    out.push(best);
                }
                ScalarValue::iter_to_array(out)?
            }
            A::Reverse if matches!(a[0].data_type(), DataType::List(_)) => {
                let out = (0..n)
                    .map(|i| row(&a[0], i).map(|v| take(&v, &indices((0..v.len()).rev()), None)).transpose())
                    .collect::<std::result::Result<_, _>>()?;
                lists(out, &element)?
            }
            A::Reverse => {
                let s = a[0].as_string::<i32>();
                Arc::new(
                    s.iter()
                        .map(|v| v.map(|v| v.chars().rev().collect::<String>()))
                        .collect::<arrow::array::StringArray>(),
                )
            }
            A::Repeat => {
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let Some(count) = int(&a[1], i) else {
                        out.push(None);
                        continue;
                    };
                    if count < 0 {
                        return exec_err!("count argument of repeat function must be greater than or equal to 0");
                    }
                    if count > 10_000 {
                        return exec_err!("count argument of repeat function must be less than or equal to 10000");
                    }
                    out.push(Some(take(&a[0], &indices(std::iter::repeat_n(i, count as usize)), None)?));
                }
                lists(out, &element)?
            }
            A::Sequence => sequence(a, n, &element)?,
            A::Slice => {
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let (Some(values), Some(start), Some(length)) = (row(&a[0], i), int(&a[1], i), int(&a[2], i))
                    else {
                        out.push(None);
                        continue;
                    };
                    if start == 0 {
                        return exec_err!("SQL array indices start at 1");
                    }
                    if length < 0 {
                        return exec_err!("length must be greater than or equal to 0");
                    }
                    let len = values.len() as i64;
                    let from = if start > 0 { start - 1 } else { len + start };
                    let (from, to) = (from.clamp(0, len), (from + length).clamp(0, len));
                    out.push(Some(values.slice(from as usize, (to - from).max(0) as usize)));
                }
                lists(out, &element)?
            }
            A::TrimArray => {
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let (Some(values), Some(k)) = (row(&a[0], i), int(&a[1], i)) else {
                        out.push(None);
                        continue;
                    };
                    if k < 0 || k as usize > values.len() {
                        return exec_err!("size must not be negative or greater than the array's cardinality: {k}");
                    }
                    out.push(Some(values.slice(0, values.len() - k as usize)));
                }
                lists(out, &element)?
            }
            A::Ngrams | A::Combinations => {
                let inner = self::element(&element).unwrap_or(DataType::Null);
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let (Some(values), Some(k)) = (row(&a[0], i), int(&a[1], i)) else {
                        out.push(None);
                        continue;
                    };
                    if k <= 0 {
                        return exec_err!(
                            "{} must be positive",
                            if self.a == A::Ngrams { "N" } else { "combination size" }
                        );
                    }
                    let groups: Vec<Vec<usize>> = if self.a == A::Ngrams {
                        let k = (k as usize).min(values.len().max(1));
                        if values.is_empty() {
                            vec![vec![]]
                        } else {
                            (0..=values.len() - k).map(|s| (s..s + k).collect()).collect()
                        }
                    } else {
                        if k > 5 {
                            return exec_err!("combination size must not exceed 5: {k}");
                        }
                        combinations(values.len(), k as usize)
                    };
                    let rows = groups
                        .into_iter()
                        .map(|g| take(&values, &indices(g), None).map(Some))
                        .collect::<std::result::Result<_, _>>()?;
                    out.push(Some(lists(rows, &inner)?));
                }
                lists(out, &element)?
            }
            A::Zip => {
                let DataType::Struct(fields) = &element else { return exec_err!("zip returns rows") };
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let rows: Option<Vec<ArrayRef>> = a.iter().map(|x| row(x, i)).collect();
                    let Some(rows) = rows else {
                        out.push(None);
                        continue;
                    };
                    let longest = rows.iter().map(|r| r.len()).max().unwrap_or(0);
                    let columns = rows
                        .iter()
                        .map(|r| {
                            let picks = UInt32Array::from_iter((0..longest).map(|j| (j < r.len()).then_some(j as u32)));
                            take(r, &picks, None)
                        })
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    out.push(Some(Arc::new(StructArray::try_new(fields.clone(), columns, None)?) as ArrayRef));
                }
                lists(out, &element)?
            }
        })
    }
}

/// The k-element combinations of 0..n, in Trino's order.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k > n {
        return vec![];
    }
    let mut out = Vec::new();
    let mut pick: Vec<usize> = (0..k).collect();
    loop {
        out.push(pick.clone());
        let Some(i) = (0..k).rev().find(|&i| pick[i] < n - k + i) else { break };
        pick[i] += 1;
        for j in i + 1..k {
            pick[j] = pick[j - 1] + 1;
        }
    }
    out
}

/// `sequence(start, stop[, step])` of integers, or of dates by days or months.
fn sequence(a: &[ArrayRef], n: usize, element: &DataType) -> Result<ArrayRef> {
    const MAX: usize = 10_000;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if a.iter().any(|x| x.is_null(i)) {
            out.push(None);
            continue;
        }
        let piece: ArrayRef = if element == &DataType::Date32 {
            let (start, stop) = (
                a[0].as_primitive::<arrow::datatypes::Date32Type>().value(i),
                a[1].as_primitive::<arrow::datatypes::Date32Type>().value(i),
            );
            let step = match a.get(2) {
                Some(s) => s.as_primitive::<IntervalMonthDayNanoType>().value(i),
                None => arrow::datatypes::IntervalMonthDayNano::new(0, if stop >= start { 1 } else { -1 }, 0),
            };
            if step.nanoseconds != 0 || (step.months != 0 && step.days != 0) || (step.months == 0 && step.days == 0) {
                return exec_err!("sequence of dates steps by a whole number of days or of months");
            }
            let first = chrono::NaiveDate::from_num_days_from_ce_opt(start + 719_163).expect("a date");
            let mut days = Vec::new();
            for k in 0.. {
                let d = if step.months != 0 {
                    let months = step.months as i64 * k;
                    if months >= 0 {
                        first.checked_add_months(chrono::Months::new(months as u32))
                    } else {
                        first.checked_sub_months(chrono::Months::new((-months) as u32))
                    }
                } else {
                    first.checked_add_signed(chrono::Duration::days(step.days as i64 * k))
                };
                let Some(d) = d else { break };
                let value = d.num_days_from_ce() - 719_163;
                let forward = step.months > 0 || step.days > 0;
                if (forward && value > stop) || (!forward && value < stop) {
                    break;
                }
                if days.len() >= MAX {
                    return exec_err!("result of sequence function must not have more than {MAX} entries");
                }
                days.push(value);
            }
            if (step.months > 0 || step.days > 0) != (stop >= start) && start != stop {
                return exec_err!(
                    "sequence stop value should be greater than or equal to start value if step is greater than zero otherwise stop should be less than or equal to start"
                );
            }
            Arc::new(Date32Array::from(days))
        } else {
            let (start, stop) = (a[0].as_primitive::<Int64Type>().value(i), a[1].as_primitive::<Int64Type>().value(i));
            let step = a.get(2).map_or(if stop >= start { 1 } else { -1 }, |s| s.as_primitive::<Int64Type>().value(i));
            if step == 0 {
                return exec_err!("step must not be zero");
            }
            if (step > 0 && stop < start) || (step < 0 && stop > start) {
                return exec_err!(
                    "sequence stop value should be greater than or equal to start value if step is greater than zero otherwise stop should be less than or equal to start"
                );
            }
            let count = ((stop - start) / step) as usize + 1;
            if count > MAX {
                return exec_err!("result of sequence function must not have more than {MAX} entries");
            }
            Arc::new(Int64Array::from_iter_values((0..count as i64).map(|k| start + k * step)))
        };
        out.push(Some(piece));
    }
    lists(out, element)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_in_order() {
        assert_eq!(combinations(3, 2), vec![vec![0, 1], vec![0, 2], vec![1, 2]]);
        assert_eq!(combinations(2, 3), Vec::<Vec<usize>>::new());
    }
}
