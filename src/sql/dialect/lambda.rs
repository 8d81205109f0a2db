//! Trino's lambda functions (`transform`, `filter`, `reduce`, `zip_with`, `array_sort` with a
//! comparator, `map_filter`, `regexp_replace` with a function of the groups, ...): one
//! `HigherOrderUDFImpl` whose `Hof` says which.
//!
//! A lambda runs once per call over every element of every row at once: the elements are
//! flattened into one array, and the columns the lambda captures from its row are repeated
//! to match ([`call`]). `reduce`, whose steps depend on each other, runs one element
//! position at a time across all rows.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray, MapArray, StructArray, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::kernels::cast::cast;
use arrow::compute::{SortColumn, SortOptions, filter, interleave, lexsort_to_indices, take};
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature, HigherOrderUDF,
    HigherOrderUDFImpl, LambdaArgument, LambdaParametersProgress, ValueOrLambda, Volatility,
};

/// Which Trino function a `Lambda` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Hof {
    Transform,
    Filter,
    Reduce,
    AnyMatch,
    AllMatch,
    NoneMatch,
    ZipWith,
    ArraySort,
    MapFilter,
    TransformKeys,
    TransformValues,
    MapZipWith,
    /// `regexp_replace(s, pattern, groups -> text)`, which `syntax.rs` calls by this name
    /// (the three-argument form with a replacement text is a scalar function of that name).
    RegexpReplace,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Lambda {
    hof: Hof,
    name: &'static str,
    signature: HigherOrderSignature,
}

/// The name `regexp_replace` with a lambda is called by.
pub const REGEXP_REPLACE: &str = "athena_regexp_replace_lambda";

/// The lambda functions of the dialect.
pub fn functions() -> Vec<Arc<HigherOrderUDF>> {
    [
        (Hof::Transform, "transform"),
        (Hof::Filter, "filter"),
        (Hof::Reduce, "reduce"),
        (Hof::AnyMatch, "any_match"),
        (Hof::AllMatch, "all_match"),
        (Hof::NoneMatch, "none_match"),
        (Hof::ZipWith, "zip_with"),
        (Hof::ArraySort, "array_sort"),
        (Hof::MapFilter, "map_filter"),
        (Hof::TransformKeys, "transform_keys"),
        (Hof::TransformValues, "transform_values"),
        (Hof::MapZipWith, "map_zip_with"),
        (Hof::RegexpReplace, REGEXP_REPLACE),
    ]
    .into_iter()
    .map(|(hof, name)| {
        Arc::new(HigherOrderUDF::new_from_impl(Lambda {
            hof,
            name,
            signature: HigherOrderSignature::user_defined(Volatility::Immutable),
        }))
    })
    .collect()
}

/// The value arguments a function takes, and how many lambdas.
fn shape(hof: Hof) -> (usize, std::ops::RangeInclusive<usize>) {
    match hof {
        Hof::Reduce => (2, 2..=2),
        Hof::ZipWith | Hof::MapZipWith | Hof::RegexpReplace => (2, 1..=1),
        Hof::ArraySort => (1, 0..=1),
        _ => (1, 1..=1),
    }
}

fn element(name: &str, t: &DataType) -> Result<FieldRef> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Ok(f.clone()),
        DataType::Null => Ok(Arc::new(Field::new_list_field(DataType::Null, true))),
        other => plan_err!("{name} expects an array, got {other}"),
    }
}

fn entries(name: &str, t: &DataType) -> Result<(FieldRef, FieldRef)> {
    match t {
        DataType::Map(f, _) => match f.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => Ok((kv[0].clone(), kv[1].clone())),
            other => plan_err!("{name}: a map's entries are {other}"),
        },
        other => plan_err!("{name} expects a map, got {other}"),
    }
}

/// A map type with the given key and value fields, named as the input's.
fn map_type(like: &DataType, key: FieldRef, value: FieldRef) -> DataType {
    match like {
        DataType::Map(f, sorted) => DataType::Map(
            Arc::new(Field::new(f.name(), DataType::Struct(Fields::from(vec![key, value])), false)),
            *sorted,
        ),
        _ => unreachable!("checked by entries"),
    }
}

fn list_of(t: &DataType) -> DataType {
    DataType::new_list(t.clone(), true)
}

impl HigherOrderUDFImpl for Lambda {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let (values, _) = shape(self.hof);
        if types.len() != values {
            return plan_err!("{} takes {values} value arguments, got {}", self.name, types.len());
        }
        types
            .iter()
            .enumerate()
            .map(|(i, t)| match self.hof {
                Hof::Reduce if i == 1 => Ok(t.clone()),
                Hof::RegexpReplace => super::shared::varchar(self.name, t),
                Hof::MapFilter | Hof::TransformKeys | Hof::TransformValues | Hof::MapZipWith => {
                    entries(self.name, t).map(|_| t.clone())
                }
                _ => element(self.name, t).map(DataType::List),
            })
            .collect()
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let values: Vec<&FieldRef> = fields
            .iter()
            .filter_map(|f| match f {
                ValueOrLambda::Value(v) => Some(v),
                ValueOrLambda::Lambda(_) => None,
            })
            .collect();
        let lambdas: Vec<&Option<FieldRef>> = fields
            .iter()
            .filter_map(|f| match f {
                ValueOrLambda::Lambda(l) => Some(l),
                ValueOrLambda::Value(_) => None,
            })
            .collect();
        let (_, wanted) = shape(self.hof);
        if !wanted.contains(&lambdas.len()) {
            return plan_err!("{} takes {} lambda, got {}", self.name, wanted.end(), lambdas.len());
        }
        let name = self.name;
        let params = match self.hof {
            Hof::Transform | Hof::Filter | Hof::AnyMatch | Hof::AllMatch | Hof::NoneMatch => {
                vec![vec![element(name, values[0].data_type())?]]
            }
            Hof::ArraySort => {
                let e = element(name, values[0].data_type())?;
                lambdas.iter().map(|_| vec![e.clone(), e.clone()]).collect()
            }
            Hof::ZipWith => vec![vec![element(name, values[0].data_type())?, element(name, values[1].data_type())?]],
            Hof::RegexpReplace => vec![vec![Arc::new(Field::new("groups", list_of(&DataType::Utf8), true))]],
            Hof::MapFilter | Hof::TransformKeys | Hof::TransformValues => {
                let (k, v) = entries(name, values[0].data_type())?;
                vec![vec![k, v]]
            }
            Hof::MapZipWith => {
                let (k, v1) = entries(name, values[0].data_type())?;
                let (_, v2) = entries(name, values[1].data_type())?;
                vec![vec![k, nullable(&v1), nullable(&v2)]]
            }
            Hof::Reduce => {
                let e = element(name, values[0].data_type())?;
                let state = state_type(values[1].data_type(), lambdas[0].as_ref().map(|f| f.data_type()));
                let state = Arc::new(Field::new("s", state, true));
                if lambdas[0].is_none() {
                    return Ok(LambdaParametersProgress::Partial(vec![Some(vec![state, e]), None]));
                }
                vec![vec![state.clone(), e], vec![state]]
            }
        };
        Ok(LambdaParametersProgress::Complete(params))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let mut values = Vec::new();
        let mut lambdas = Vec::new();
        for f in args.arg_fields {
            match f {
                ValueOrLambda::Value(v) => values.push(v.clone()),
                ValueOrLambda::Lambda(l) => lambdas.push(l.clone()),
            }
        }
        let t = match self.hof {
            Hof::Transform | Hof::ZipWith => list_of(lambdas[0].data_type()),
            Hof::Filter | Hof::ArraySort | Hof::MapFilter => values[0].data_type().clone(),
            Hof::AnyMatch | Hof::AllMatch | Hof::NoneMatch => DataType::Boolean,
            Hof::RegexpReplace => DataType::Utf8,
            Hof::Reduce => lambdas[1].data_type().clone(),
            Hof::TransformKeys => {
                let (_, v) = entries(self.name, values[0].data_type())?;
                let key = Arc::new(Field::new("key", lambdas[0].data_type().clone(), false));
                map_type(values[0].data_type(), key, v)
            }
            Hof::TransformValues | Hof::MapZipWith => {
                let (k, _) = entries(self.name, values[0].data_type())?;
                let value = Arc::new(Field::new("value", lambdas[0].data_type().clone(), true));
                map_type(values[0].data_type(), k, value)
            }
        };
        Ok(Arc::new(Field::new(self.name, t, true)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let mut values = Vec::new();
        let mut lambdas = Vec::new();
        for a in args.args {
            match a {
                ValueOrLambda::Value(v) => values.push(v.into_array(n)?),
                ValueOrLambda::Lambda(l) => lambdas.push(l),
            }
        }
        let ret = args.return_field.data_type();
        let out = match self.hof {
            Hof::Transform => {
                let list = Flat::new(&values[0])?;
                let out = call(&lambdas[0], std::slice::from_ref(&list.values), &list.rows)?;
                list.rebuild(out, None)?
            }
            Hof::Filter => {
                let list = Flat::new(&values[0])?;
                let keep = call(&lambdas[0], std::slice::from_ref(&list.values), &list.rows)?;
                list.rebuild(list.values.clone(), Some(keep.as_boolean()))?
            }
            Hof::AnyMatch | Hof::AllMatch | Hof::NoneMatch => {
                let list = Flat::new(&values[0])?;
                let matched = call(&lambdas[0], std::slice::from_ref(&list.values), &list.rows)?;
                Arc::new(matches(self.hof, &list, matched.as_boolean()))
            }
            Hof::Reduce => {
                let ValueOrLambda::Lambda(step) = &args.arg_fields[2] else {
                    return exec_err!("reduce's third argument must be a lambda");
                };
                let state = state_type(values[1].data_type(), Some(step.data_type()));
                reduce(&values, &lambdas, &state, ret)?
            }
            Hof::ZipWith => zip_with(&values, &lambdas[0])?,
            Hof::ArraySort => sort(&values[0], lambdas.first())?,
            Hof::MapFilter => {
                let map = Entries::new(&values[0])?;
                let keep = call(&lambdas[0], &[map.keys.clone(), map.values.clone()], &map.rows)?;
                map.rebuild(map.keys.clone(), map.values.clone(), Some(keep.as_boolean()), ret)?
            }
            Hof::TransformKeys => {
                let map = Entries::new(&values[0])?;
                let keys = call(&lambdas[0], &[map.keys.clone(), map.values.clone()], &map.rows)?;
                map.check_keys(&keys)?;
                map.rebuild(keys, map.values.clone(), None, ret)?
            }
            Hof::TransformValues => {
                let map = Entries::new(&values[0])?;
                let out = call(&lambdas[0], &[map.keys.clone(), map.values.clone()], &map.rows)?;
                map.rebuild(map.keys.clone(), out, None, ret)?
            }
            Hof::MapZipWith => map_zip_with(&values, &lambdas[0], ret)?,
            Hof::RegexpReplace => regexp_replace(&values, &lambdas[0])?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

fn nullable(f: &FieldRef) -> FieldRef {
    Arc::new(f.as_ref().clone().with_nullable(true))
}

/// `reduce`'s state: the initial value's type, widened to what the step returns.
fn state_type(initial: &DataType, step: Option<&DataType>) -> DataType {
    match step {
        Some(s) if s != initial && !initial.is_null() => {
            type_union_resolution(&[initial.clone(), s.clone()]).unwrap_or_else(|| initial.clone())
        }
        Some(s) if initial.is_null() => s.clone(),
        _ => initial.clone(),
    }
}

/// Runs a lambda over `params` (arrays of one length), whose rows belong to the outer rows
/// `rows`: what it captures from its row is repeated to match.
fn call(lambda: &LambdaArgument, params: &[ArrayRef], rows: &UInt32Array) -> Result<ArrayRef> {
    let getters: Vec<Box<dyn Fn() -> Result<ArrayRef>>> = params
        .iter()
        .map(|p| {
            let p = p.clone();
            Box::new(move || Ok(p.clone())) as Box<dyn Fn() -> Result<ArrayRef>>
        })
        .collect();
    let refs: Vec<&dyn Fn() -> Result<ArrayRef>> = getters.iter().map(|g| g.as_ref()).collect();
    let out = lambda.evaluate(&refs, |captured| {
        captured.iter().map(|c| Ok(take(c.as_ref(), rows, None)?)).collect::<Result<Vec<_>>>()
    })?;
    out.into_array(rows.len())
}

/// An array column flattened: every element, the row it belongs to, and the row's bounds.
struct Flat {
    list: ListArray,
    values: ArrayRef,
    rows: UInt32Array,
    /// Each row's elements, as a range of `values`.
    bounds: Vec<(usize, usize)>,
}

impl Flat {
    fn new(array: &ArrayRef) -> Result<Flat> {
        let list = match array.data_type() {
            DataType::List(_) => array.as_list::<i32>().clone(),
            DataType::Null => ListArray::new_null(Arc::new(Field::new_list_field(DataType::Null, true)), array.len()),
            other => return exec_err!("expected an array, got {other}"),
        };
        let offsets = list.value_offsets();
        let first = offsets[0] as usize;
        let last = offsets[list.len()] as usize;
        let values = list.values().slice(first, last - first);
        let mut rows = Vec::with_capacity(last - first);
        let mut bounds = Vec::with_capacity(list.len());
        for i in 0..list.len() {
            let (s, e) = (offsets[i] as usize - first, offsets[i + 1] as usize - first);
            let (s, e) = if list.is_null(i) { (s, s) } else { (s, e) };
            rows.extend(std::iter::repeat_n(i as u32, e - s));
            bounds.push((s, e));
        }
        // A NULL row's elements (if any) are not the lambda's to see.
        let (values, bounds) = if list.null_count() > 0 {
            let keep: Vec<u32> = bounds.iter().flat_map(|&(s, e)| s as u32..e as u32).collect();
            let values = take(values.as_ref(), &UInt32Array::from(keep), None)?;
            let mut at = 0;
            let bounds = bounds
                .iter()
                .map(|&(s, e)| {
                    let b = (at, at + e - s);
                    at += e - s;
                    b
                })
                .collect();
            (values, bounds)
        } else {
            (values, bounds)
        };
        Ok(Flat { list, values, rows: UInt32Array::from(rows), bounds })
    }

    /// The rows again, with `values` (one per element) as their elements, those `keep` says.
    fn rebuild(&self, values: ArrayRef, keep: Option<&BooleanArray>) -> Result<ArrayRef> {
        let lengths = self.bounds.iter().map(|&(s, e)| match keep {
            Some(k) => (s..e).filter(|&j| k.is_valid(j) && k.value(j)).count(),
            None => e - s,
        });
        let offsets = OffsetBuffer::<i32>::from_lengths(lengths);
        let values = match keep {
            Some(k) => filter(values.as_ref(), &mask(k))?,
            None => values,
        };
        let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
        Ok(Arc::new(ListArray::try_new(field, offsets, values, self.list.nulls().cloned())?))
    }
}

/// A filter that drops what a predicate left NULL.
fn mask(keep: &BooleanArray) -> BooleanArray {
    if keep.null_count() > 0 { arrow::compute::prep_null_mask_filter(keep) } else { keep.clone() }
}

/// `any_match`, `all_match`, `none_match` with Trino's three-valued answers.
fn matches(hof: Hof, list: &Flat, matched: &BooleanArray) -> BooleanArray {
    (0..list.list.len())
        .map(|i| {
            if list.list.is_null(i) {
                return None;
            }
            let (s, e) = list.bounds[i];
            let values = (s..e).map(|j| matched.is_valid(j).then(|| matched.value(j)));
            let (mut any_true, mut any_false, mut any_null) = (false, false, false);
            for v in values {
                match v {
                    Some(true) => any_true = true,
                    Some(false) => any_false = true,
                    None => any_null = true,
                }
            }
            match hof {
                Hof::AnyMatch if any_true => Some(true),
                Hof::AllMatch if any_false => Some(false),
                Hof::NoneMatch if any_true => Some(false),
                _ if any_null => None,
                Hof::AnyMatch => Some(false),
                _ => Some(true),
            }
        })
        .collect()
}

fn reduce(values: &[ArrayRef], lambdas: &[LambdaArgument], step_type: &DataType, ret: &DataType) -> Result<ArrayRef> {
    let list = Flat::new(&values[0])?;
    let n = list.list.len();
    let mut state = cast(&values[1], step_type)?;
    let longest = list.bounds.iter().map(|&(s, e)| e - s).max().unwrap_or(0);
    for k in 0..longest {
        let live: Vec<u32> =
            (0..n as u32).filter(|&i| list.bounds[i as usize].1 - list.bounds[i as usize].0 > k).collect();
        let at: Vec<u32> = live.iter().map(|&i| (list.bounds[i as usize].0 + k) as u32).collect();
        let live = UInt32Array::from(live);
        let x = take(list.values.as_ref(), &UInt32Array::from(at), None)?;
        let s = take(state.as_ref(), &live, None)?;
        let next = cast(&call(&lambdas[0], &[s, x], &live)?, step_type)?;
        let mut pos = live.values().iter().peekable();
        let mut j = 0;
        let picks: Vec<(usize, usize)> = (0..n)
            .map(|i| {
                if pos.peek().is_some_and(|&&p| p as usize == i) {
                    pos.next();
                    j += 1;
                    (1, j - 1)
                } else {
                    (0, i)
                }
            })
            .collect();
        state = interleave(&[state.as_ref(), next.as_ref()], &picks)?;
    }
    let all = UInt32Array::from_iter_values(0..n as u32);
    let out = cast(&call(&lambdas[1], &[state], &all)?, ret)?;
    // A NULL array reduces to NULL.
    Ok(match list.list.nulls() {
        Some(nulls) => with_nulls(&out, nulls)?,
        None => out,
    })
}

fn with_nulls(array: &ArrayRef, nulls: &NullBuffer) -> Result<ArrayRef> {
    let keep = BooleanArray::new(nulls.inner().clone(), None);
    Ok(arrow::compute::nullif(array.as_ref(), &arrow::compute::not(&keep)?)?)
}

/// `zip_with`: the shorter array padded with NULLs.
/// `regexp_replace(s, pattern, f)`: each match (Java's matches) replaced by `f` of its groups
/// (1 to n, NULL for one that took no part), all matches of all rows in one call of `f`; a
/// NULL from `f` makes the row NULL, as in Trino.
fn regexp_replace(values: &[ArrayRef], lambda: &LambdaArgument) -> Result<ArrayRef> {
    use std::fmt::Write;
    let (texts, patterns) = (cast(&values[0], &DataType::Utf8)?, cast(&values[1], &DataType::Utf8)?);
    let (texts, patterns) = (texts.as_string::<i32>(), patterns.as_string::<i32>());
    let mut compiled: Option<(&str, regex::Regex)> = None;
    let mut groups = arrow::array::ListBuilder::new(arrow::array::StringBuilder::new());
    let (mut rows, mut spans) = (Vec::new(), Vec::with_capacity(texts.len()));
    for i in 0..texts.len() {
        if texts.is_null(i) || patterns.is_null(i) {
            spans.push(None);
            continue;
        }
        let pattern = patterns.value(i);
        if compiled.as_ref().is_none_or(|(p, _)| *p != pattern) {
            let re =
                regex::Regex::new(pattern).or_else(|e| exec_err!("invalid regular expression {pattern:?}: {e}"))?;
            compiled = Some((pattern, re));
        }
        let re = &compiled.as_ref().expect("compiled above").1;
        let mut row = Vec::new();
        for caps in super::regexp::java_captures(re, texts.value(i)) {
            let m = caps.get(0).expect("a match has group 0");
            row.push((m.start(), m.end()));
            for g in 1..caps.len() {
                groups.values().append_option(caps.get(g).map(|g| g.as_str()));
            }
            groups.append(true);
            rows.push(i as u32);
        }
        spans.push(Some(row));
    }
    let groups: ArrayRef = Arc::new(groups.finish());
    let replaced = cast(&call(lambda, &[groups], &UInt32Array::from(rows))?, &DataType::Utf8)?;
    let replaced = replaced.as_string::<i32>();
    let mut out = arrow::array::StringBuilder::new();
    let mut k = 0;
    for (i, row) in spans.iter().enumerate() {
        let Some(row) = row else {
            out.append_null();
            continue;
        };
        let (text, mut last, mut text_out) = (texts.value(i), 0, String::new());
        let mut null = false;
        for &(start, end) in row {
            text_out.push_str(&text[last..start]);
            null |= replaced.is_null(k);
            text_out.write_str(replaced.value(k)).expect("a string takes text");
            last = end;
            k += 1;
        }
        text_out.push_str(&text[last..]);
        if null { out.append_null() } else { out.append_value(text_out) }
    }
    Ok(Arc::new(out.finish()))
}

fn zip_with(values: &[ArrayRef], lambda: &LambdaArgument) -> Result<ArrayRef> {
    let (a, b) = (Flat::new(&values[0])?, Flat::new(&values[1])?);
    let n = a.list.len();
    let (mut ia, mut ib, mut rows, mut lengths) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let null = a.list.is_null(i) || b.list.is_null(i);
        let (la, lb) = (a.bounds[i].1 - a.bounds[i].0, b.bounds[i].1 - b.bounds[i].0);
        let len = if null { 0 } else { la.max(lb) };
        for k in 0..len {
            ia.push((k < la).then_some((a.bounds[i].0 + k) as u32));
            ib.push((k < lb).then_some((b.bounds[i].0 + k) as u32));
            rows.push(i as u32);
        }
        lengths.push(len);
    }
    let x = take(a.values.as_ref(), &UInt32Array::from(ia), None)?;
    let y = take(b.values.as_ref(), &UInt32Array::from(ib), None)?;
    let out = call(lambda, &[x, y], &UInt32Array::from(rows))?;
    let nulls = NullBuffer::union(a.list.nulls(), b.list.nulls());
    let field = Arc::new(Field::new_list_field(out.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), out, nulls)?))
}

/// `array_sort`: ascending with NULLs last, or in the order a comparator gives (negative:
/// the first argument goes first), stable.
fn sort(array: &ArrayRef, comparator: Option<&LambdaArgument>) -> Result<ArrayRef> {
    let list = Flat::new(array)?;
    let order: Vec<u32> = match comparator {
        None => {
            let indices = lexsort_to_indices(
                &[
                    SortColumn { values: Arc::new(list.rows.clone()), options: None },
                    SortColumn {
                        values: list.values.clone(),
                        options: Some(SortOptions { descending: false, nulls_first: false }),
                    },
                ],
                None,
            )?;
            indices.values().to_vec()
        }
        Some(lambda) => {
            // Every pair of a row's elements compared at once.
            let (mut xs, mut ys, mut rows) = (Vec::new(), Vec::new(), Vec::new());
            for (i, &(s, e)) in list.bounds.iter().enumerate() {
                for x in s..e {
                    for y in s..e {
                        xs.push(x as u32);
                        ys.push(y as u32);
                        rows.push(i as u32);
                    }
                }
            }
            let x = take(list.values.as_ref(), &UInt32Array::from(xs), None)?;
            let y = take(list.values.as_ref(), &UInt32Array::from(ys), None)?;
            let cmp = cast(&call(lambda, &[x, y], &UInt32Array::from(rows))?, &DataType::Int64)?;
            let cmp: &Int64Array = cmp.as_primitive();
            if cmp.null_count() > 0 || cmp.values().iter().any(|v| !(-1..=1).contains(v)) {
                return exec_err!("Lambda comparator must return either -1, 0, or 1");
            }
            let mut order = Vec::with_capacity(list.values.len());
            let mut at = 0;
            for &(s, e) in &list.bounds {
                let m = e - s;
                let mut row: Vec<usize> = (0..m).collect();
                row.sort_by(|&p, &q| cmp.value(at + p * m + q).cmp(&0));
                order.extend(row.into_iter().map(|p| (s + p) as u32));
                at += m * m;
            }
            order
        }
    };
    let sorted = take(list.values.as_ref(), &UInt32Array::from(order), None)?;
    list.rebuild(sorted, None)
}

/// A map column flattened: keys and values of every row, and the row each belongs to.
struct Entries {
    map: MapArray,
    keys: ArrayRef,
    values: ArrayRef,
    rows: UInt32Array,
    bounds: Vec<(usize, usize)>,
}

impl Entries {
    fn new(array: &ArrayRef) -> Result<Entries> {
        let map = array.as_map().clone();
        let offsets = map.value_offsets();
        let first = offsets[0] as usize;
        let last = offsets[map.len()] as usize;
        let (mut rows, mut bounds) = (Vec::new(), Vec::new());
        for i in 0..map.len() {
            let (s, e) = (offsets[i] as usize - first, offsets[i + 1] as usize - first);
            rows.extend(std::iter::repeat_n(i as u32, e - s));
            bounds.push((s, e));
        }
        let keys = map.keys().slice(first, last - first);
        let values = map.values().slice(first, last - first);
        Ok(Entries { map, keys, values, rows: UInt32Array::from(rows), bounds })
    }

    fn rebuild(
        &self,
        keys: ArrayRef,
        values: ArrayRef,
        keep: Option<&BooleanArray>,
        ret: &DataType,
    ) -> Result<ArrayRef> {
        let (entry_field, sorted) = match ret {
            DataType::Map(f, sorted) => (f.clone(), *sorted),
            other => return exec_err!("expected a map, got {other}"),
        };
        let DataType::Struct(fields) = entry_field.data_type() else {
            return exec_err!("a map's entries must be a struct");
        };
        let lengths = self.bounds.iter().map(|&(s, e)| match keep {
            Some(k) => (s..e)
                .filter(|&j| !self.map.is_null(self.rows.value(j) as usize) && k.is_valid(j) && k.value(j))
                .count(),
            None => e - s,
        });
        let offsets = OffsetBuffer::<i32>::from_lengths(lengths);
        let (keys, values) = match keep {
            Some(k) => {
                let mask = mask(k);
                (filter(keys.as_ref(), &mask)?, filter(values.as_ref(), &mask)?)
            }
            None => (keys, values),
        };
        let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)?;
        Ok(Arc::new(MapArray::try_new(entry_field, offsets, entries, self.map.nulls().cloned(), sorted)?))
    }

    /// Trino refuses a NULL key or the same key twice in one map.
    fn check_keys(&self, keys: &ArrayRef) -> Result<()> {
        for (i, &(s, e)) in self.bounds.iter().enumerate() {
            if self.map.is_null(i) {
                continue;
            }
            let mut seen = HashSet::new();
            for j in s..e {
                let key = ScalarValue::try_from_array(keys, j)?;
                if key.is_null() {
                    return exec_err!("map key cannot be null");
                }
                if !seen.insert(key) {
                    let key = super::text::value(keys.as_ref(), j, super::text::Double::Shown).unwrap_or_default();
                    return exec_err!("Duplicate keys ({key}) are not allowed");
                }
            }
        }
        Ok(())
    }
}

/// `map_zip_with`: every key of either map, with each map's value or NULL.
fn map_zip_with(values: &[ArrayRef], lambda: &LambdaArgument, ret: &DataType) -> Result<ArrayRef> {
    let (a, b) = (Entries::new(&values[0])?, Entries::new(&values[1])?);
    let n = a.map.len();
    let (mut key_picks, mut va, mut vb, mut rows, mut lengths) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let mut len = 0;
        if !a.map.is_null(i) && !b.map.is_null(i) {
            let key = |m: &Entries, j: usize| ScalarValue::try_from_array(&m.keys, j);
            let b_keys: Vec<ScalarValue> = (b.bounds[i].0..b.bounds[i].1).map(|j| key(&b, j)).collect::<Result<_>>()?;
            let mut in_a = HashSet::new();
            for j in a.bounds[i].0..a.bounds[i].1 {
                let k = key(&a, j)?;
                let in_b = b_keys.iter().position(|x| *x == k).map(|p| (b.bounds[i].0 + p) as u32);
                key_picks.push((0, j));
                va.push(Some(j as u32));
                vb.push(in_b);
                in_a.insert(k);
                len += 1;
            }
            for (p, k) in b_keys.iter().enumerate() {
                if !in_a.contains(k) {
                    let j = b.bounds[i].0 + p;
                    key_picks.push((1, j));
                    va.push(None);
                    vb.push(Some(j as u32));
                    len += 1;
                }
            }
        }
        rows.extend(std::iter::repeat_n(i as u32, len));
        lengths.push(len);
    }
    let keys = interleave(&[a.keys.as_ref(), b.keys.as_ref()], &key_picks)?;
    let v1 = take(a.values.as_ref(), &UInt32Array::from(va), None)?;
    let v2 = take(b.values.as_ref(), &UInt32Array::from(vb), None)?;
    let rows = UInt32Array::from(rows);
    let out = call(lambda, &[keys.clone(), v1, v2], &rows)?;
    let nulls = NullBuffer::union(a.map.nulls(), b.map.nulls());
    let DataType::Map(entry_field, sorted) = ret else {
        return exec_err!("expected a map, got {ret}");
    };
    let DataType::Struct(fields) = entry_field.data_type() else {
        return exec_err!("a map's entries must be a struct");
    };
    let out = cast(&out, fields[1].data_type())?;
    let entries = StructArray::try_new(fields.clone(), vec![keys, out], None)?;
    Ok(Arc::new(MapArray::try_new(entry_field.clone(), OffsetBuffer::from_lengths(lengths), entries, nulls, *sorted)?))
}
