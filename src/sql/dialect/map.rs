//! Trino's map functions that DataFusion lacks: `map_concat` (the last map's value wins),
//! `map_from_entries`, `multimap_from_entries`, and the aggregates `map_agg`, `histogram`
//! and `multimap_agg`.
//!
//! The scalar functions gather a batch's entries with one `take`/`interleave`, keys compared
//! as Arrow rows; the aggregates keep a group's entries as `ScalarValue`s (one per distinct
//! key of the group).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, MapArray, StructArray, UInt32Array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{cast, interleave};
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue, exec_datafusion_err, exec_err, plan_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, ExprSchemable, ScalarUDF, Signature, Volatility,
};

use super::function::{Args, Function, udf};
use super::shared::rows;

/// The type `map(key, value)`, as DataFusion's `map` builds it.
pub fn map_type(key: DataType, value: DataType) -> DataType {
    let entries = Fields::from(vec![Field::new("key", key, false), Field::new("value", value, true)]);
    DataType::Map(Arc::new(Field::new("entries", DataType::Struct(entries), false)), false)
}

/// The entry of a map of unknown types (Trino's `map(unknown, unknown)`).
fn unknown_entry() -> DataType {
    DataType::Struct(Fields::from(vec![Field::new("c0", DataType::Null, true), Field::new("c1", DataType::Null, true)]))
}

fn key_value(t: &DataType) -> Option<(DataType, DataType)> {
    match t {
        DataType::Map(f, _) => match f.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => Some((kv[0].data_type().clone(), kv[1].data_type().clone())),
            _ => None,
        },
        _ => None,
    }
}

/// One map per row, from its entries (`None` for a NULL map): the aggregates' maps.
fn maps(rows: Vec<Option<Vec<(ScalarValue, ScalarValue)>>>, t: &DataType) -> Result<ArrayRef> {
    let (key_type, value_type) = key_value(t).ok_or_else(|| exec_datafusion_err!("expected a map type, got {t}"))?;
    let lengths: Vec<usize> = rows.iter().map(|r| r.as_ref().map_or(0, Vec::len)).collect();
    let valid: Vec<bool> = rows.iter().map(Option::is_some).collect();
    let (keys, values): (Vec<ScalarValue>, Vec<ScalarValue>) = rows.into_iter().flatten().flatten().unzip();
    let column = |values: Vec<ScalarValue>, t: &DataType| -> Result<ArrayRef> {
        if values.is_empty() { Ok(arrow::array::new_empty_array(t)) } else { ScalarValue::iter_to_array(values) }
    };
    build_map(t, lengths, column(keys, &key_type)?, column(values, &value_type)?, valid)
}

/// A map column of type `t`: each row's number of entries, the entries' keys and values in
/// row order, and which rows are not NULL.
fn build_map(
    t: &DataType,
    lengths: Vec<usize>,
    keys: ArrayRef,
    values: ArrayRef,
    valid: Vec<bool>,
) -> Result<ArrayRef> {
    let DataType::Map(entry, sorted) = t else { return exec_err!("expected a map type, got {t}") };
    let DataType::Struct(fields) = entry.data_type() else { return exec_err!("a map's entries are a struct") };
    let keys = cast(&keys, fields[0].data_type())?;
    let values = cast(&values, fields[1].data_type())?;
    let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)?;
    let nulls = Some(NullBuffer::from(valid));
    Ok(Arc::new(MapArray::try_new(entry.clone(), OffsetBuffer::from_lengths(lengths), entries, nulls, *sorted)?))
}

fn entries_of(map: &MapArray, i: usize) -> Result<Vec<(ScalarValue, ScalarValue)>> {
    let e = map.value(i);
    (0..e.len())
        .map(|j| Ok((ScalarValue::try_from_array(e.column(0), j)?, ScalarValue::try_from_array(e.column(1), j)?)))
        .collect()
}

/// The scalar functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![udf(Concat), udf(FromEntries { multi: false }), udf(FromEntries { multi: true })]
}

/// `map_concat(m1, m2, ...)`: every map's entries, a key's value from the last map holding
/// it; NULL when a map is.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Concat;

impl Function for Concat {
    fn name(&self) -> &'static str {
        "map_concat"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        // An untyped NULL takes the other maps' type.
        let kvs: Option<Vec<(DataType, DataType)>> = t.iter().filter(|t| !t.is_null()).map(key_value).collect();
        let Some(kvs) = kvs.filter(|k| !k.is_empty()) else {
            return plan_err!("map_concat expects maps, got {t:?}");
        };
        let keys: Vec<DataType> = kvs.iter().map(|k| k.0.clone()).collect();
        let values: Vec<DataType> = kvs.iter().map(|k| k.1.clone()).collect();
        match (type_union_resolution(&keys), type_union_resolution(&values)) {
            (Some(k), Some(v)) => Ok(vec![map_type(k, v); t.len()]),
            _ => plan_err!("map_concat: maps of different types {t:?}"),
        }
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let maps: Vec<&MapArray> = columns.iter().map(|m| m.as_map()).collect();
        let keys = rows(&maps.iter().map(|m| m.keys().clone()).collect::<Vec<_>>())?;
        // Which map and entry each entry of the result comes from.
        let mut picks: Vec<(usize, usize)> = Vec::new();
        let (mut lengths, mut valid) = (Vec::with_capacity(args.rows), Vec::with_capacity(args.rows));
        let mut seen = HashMap::new();
        for i in 0..args.rows {
            let start = picks.len();
            let present = maps.iter().all(|m| m.is_valid(i));
            if present {
                seen.clear();
                for (a, m) in maps.iter().enumerate() {
                    let range = m.value_offsets()[i] as usize..m.value_offsets()[i + 1] as usize;
                    for j in range {
                        match seen.entry(keys[a].row(j)) {
                            Entry::Occupied(at) => picks[*at.get()] = (a, j),
                            Entry::Vacant(at) => {
                                at.insert(picks.len());
                                picks.push((a, j));
                            }
                        }
                    }
                }
            }
            lengths.push(picks.len() - start);
            valid.push(present);
        }
        let gather = |part: fn(&MapArray) -> &ArrayRef| -> Result<ArrayRef> {
            let parts: Vec<&dyn Array> = maps.iter().map(|m| part(m).as_ref()).collect();
            Ok(interleave(&parts, &picks)?)
        };
        build_map(args.ret, lengths, gather(MapArray::keys)?, gather(MapArray::values)?, valid)
    }
}

/// `map_from_entries(ARRAY[(k, v), ...])` (a duplicate key is an error) and
/// `multimap_from_entries` (a key's values gathered into an array, in order).
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromEntries {
    multi: bool,
}

impl Function for FromEntries {
    fn name(&self) -> &'static str {
        if self.multi { "multimap_from_entries" } else { "map_from_entries" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        match t {
            [DataType::List(f)] if matches!(f.data_type(), DataType::Struct(kv) if kv.len() == 2) => Ok(t.to_vec()),
            // NULL, or an empty ARRAY[]: entries of unknown types.
            [DataType::Null] => Ok(vec![DataType::new_list(unknown_entry(), true)]),
            [DataType::List(f)] if f.data_type().is_null() => Ok(vec![DataType::new_list(unknown_entry(), true)]),
            _ => plan_err!("{} expects an array of (key, value) rows, got {t:?}", self.name()),
        }
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        let (k, v) = match &t[0] {
            DataType::List(f) => match f.data_type() {
                DataType::Struct(kv) => (kv[0].data_type().clone(), kv[1].data_type().clone()),
                _ => (DataType::Null, DataType::Null),
            },
            _ => (DataType::Null, DataType::Null),
        };
        Ok(if self.multi { map_type(k, DataType::new_list(v, true)) } else { map_type(k, v) })
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let list = column.as_list::<i32>();
        let items = list.values().as_struct();
        let (k, v) = (items.column(0), items.column(1));
        let keyed = if k.data_type().is_null() { None } else { rows(std::slice::from_ref(k))?.pop() };
        // The entries each map takes (a key's first entry), and for a multimap every key's
        // entries in order.
        let (mut keys, mut values, mut counts): (Vec<u32>, Vec<u32>, Vec<usize>) = (vec![], vec![], vec![]);
        let (mut lengths, mut valid) = (Vec::with_capacity(args.rows), Vec::with_capacity(args.rows));
        let mut seen: HashMap<_, usize> = HashMap::new();
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for (i, range) in list.offsets().windows(2).enumerate() {
            let start = keys.len();
            valid.push(list.is_valid(i));
            seen.clear();
            groups.clear();
            for j in (range[0] as usize..range[1] as usize).filter(|_| list.is_valid(i)) {
                if items.is_null(j) {
                    return exec_err!("map entry cannot be null");
                }
                let Some(keyed) = keyed.as_ref().filter(|_| k.is_valid(j)) else {
                    return exec_err!("map key cannot be null");
                };
                match seen.entry(keyed.row(j)) {
                    Entry::Occupied(_) if !self.multi => {
                        let key = super::text::value(k.as_ref(), j, super::text::Double::Shown).unwrap_or_default();
                        return exec_err!("Duplicate keys ({key}) are not allowed");
                    }
                    Entry::Occupied(at) => groups[*at.get()].push(j as u32),
                    Entry::Vacant(at) => {
                        at.insert(groups.len());
                        groups.push(vec![j as u32]);
                        keys.push(j as u32);
                    }
                }
            }
            for g in &groups {
                counts.push(g.len());
                values.extend(g);
            }
            lengths.push(keys.len() - start);
        }
        let take = |c: &ArrayRef, at: Vec<u32>| arrow::compute::take(c, &UInt32Array::from(at), None);
        let values = if self.multi {
            let flat = take(v, values)?;
            let field = Arc::new(Field::new_list_field(flat.data_type().clone(), true));
            Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(counts), flat, None)?)
        } else {
            take(v, keys.clone())?
        };
        build_map(args.ret, lengths, take(k, keys)?, values, valid)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum G {
    MapAgg,
    Histogram,
    MultimapAgg,
    MapUnion,
    MostFrequent,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MapAgg {
    g: G,
    name: &'static str,
    signature: Signature,
}

/// The aggregates of this module.
pub fn aggregates() -> Vec<AggregateUDF> {
    let all = [
        (G::MapAgg, "map_agg", 2),
        (G::Histogram, "histogram", 1),
        (G::MultimapAgg, "multimap_agg", 2),
        (G::MapUnion, "map_union", 1),
        (G::MostFrequent, "approx_most_frequent", 3),
    ];
    all.into_iter()
        .map(|(g, name, n)| {
            AggregateUDF::new_from_impl(MapAgg { g, name, signature: Signature::any(n, Volatility::Immutable) })
        })
        .collect()
}

impl AggregateUDFImpl for MapAgg {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match self.g {
            G::MapAgg => map_type(t[0].clone(), t[1].clone()),
            G::Histogram => map_type(t[0].clone(), DataType::Int64),
            G::MultimapAgg => map_type(t[0].clone(), DataType::new_list(t[1].clone(), true)),
            G::MapUnion if key_value(&t[0]).is_some() => t[0].clone(),
            G::MapUnion => return plan_err!("map_union expects a map, got {}", t[0]),
            G::MostFrequent => map_type(t[1].clone(), DataType::Int64),
        })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}[map]", args.name), args.return_field.data_type().clone(), true))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let data_type = args.return_field.data_type().clone();
        Ok(Box::new(Entries { g: self.g, entries: Vec::new(), data_type, maps: false, buckets: None }))
    }
}

/// A group's map so far.
#[derive(Debug)]
struct Entries {
    g: G,
    entries: Vec<(ScalarValue, ScalarValue)>,
    data_type: DataType,
    /// Whether a map (perhaps empty) was read: `map_union` of empty maps is an empty map, of
    /// no maps NULL.
    maps: bool,
    /// `approx_most_frequent`'s number of values to keep (its first argument).
    buckets: Option<usize>,
}

impl Entries {
    fn add(&mut self, key: ScalarValue, value: ScalarValue) -> Result<()> {
        if key.is_null() {
            return Ok(());
        }
        let at = self.entries.iter().position(|(k, _)| *k == key);
        match (self.g, at) {
            // Trino keeps one of a key's values: the first here.
            (G::MapAgg | G::MapUnion, Some(_)) => {}
            (G::MapAgg | G::MapUnion, None) => self.entries.push((key, value)),
            (G::Histogram | G::MostFrequent, Some(p)) => {
                let ScalarValue::Int64(Some(c)) = self.entries[p].1 else { return exec_err!("histogram counts") };
                let more = match value {
                    ScalarValue::Int64(Some(m)) => m,
                    _ => 1,
                };
                self.entries[p].1 = ScalarValue::Int64(Some(c + more));
            }
            (G::Histogram | G::MostFrequent, None) => {
                let count = match value {
                    ScalarValue::Int64(Some(m)) => m,
                    _ => 1,
                };
                self.entries.push((key, ScalarValue::Int64(Some(count))));
            }
            (G::MultimapAgg, Some(p)) => {
                let ScalarValue::List(l) = &self.entries[p].1 else { return exec_err!("multimap values are arrays") };
                let mut values: Vec<ScalarValue> = (0..l.value(0).len())
                    .map(|x| ScalarValue::try_from_array(&l.value(0), x))
                    .collect::<Result<_>>()?;
                match value {
                    ScalarValue::List(more) => {
                        let more = more.value(0);
                        for x in 0..more.len() {
                            values.push(ScalarValue::try_from_array(&more, x)?);
                        }
                    }
                    v => values.push(v),
                }
                let t = l.value_type();
                self.entries[p].1 = ScalarValue::List(ScalarValue::new_list_nullable(&values, &t));
            }
            (G::MultimapAgg, None) => {
                let value = match value {
                    list @ ScalarValue::List(_) => list,
                    v => {
                        let t = v.data_type();
                        ScalarValue::List(ScalarValue::new_list_nullable(&[v], &t))
                    }
                };
                self.entries.push((key, value));
            }
        }
        Ok(())
    }
}

impl Entries {
    /// The map of `entries`; no entries are NULL (but for `map_union` of empty maps).
    fn map(&self, entries: Vec<(ScalarValue, ScalarValue)>) -> Result<ScalarValue> {
        if entries.is_empty() && !(self.g == G::MapUnion && self.maps) {
            return ScalarValue::try_from(&self.data_type);
        }
        ScalarValue::try_from_array(&maps(vec![Some(entries)], &self.data_type)?, 0)
    }
}

impl Accumulator for Entries {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if self.g == G::MapUnion {
            return self.merge_batch(values);
        }
        if self.g == G::MostFrequent {
            // Counted exactly: within the capacity Trino's estimate is exact as well.
            if values[1].is_empty() {
                return Ok(());
            }
            let buckets = arrow::compute::cast(&values[0], &DataType::Int64)?;
            let buckets = buckets.as_primitive::<arrow::datatypes::Int64Type>();
            match buckets.is_valid(0).then(|| buckets.value(0)) {
                Some(b) if b > 0 => self.buckets = Some(b as usize),
                _ => return exec_err!("approx_most_frequent: the number of buckets must be positive"),
            }
            for i in 0..values[1].len() {
                self.add(ScalarValue::try_from_array(&values[1], i)?, ScalarValue::Int64(None))?;
            }
            return Ok(());
        }
        for i in 0..values[0].len() {
            let key = ScalarValue::try_from_array(&values[0], i)?;
            let value = match self.g {
                G::Histogram => ScalarValue::Int64(None),
                _ => ScalarValue::try_from_array(&values[1], i)?,
            };
            self.add(key, value)?;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let maps = states[0].as_map();
        for i in 0..maps.len() {
            if maps.is_valid(i) {
                self.maps = true;
                for (k, v) in entries_of(maps, i)? {
                    self.add(k, v)?;
                }
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.map(self.entries.clone())?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut entries = self.entries.clone();
        if let Some(buckets) = self.buckets {
            // The most frequent first (the first seen among equal counts).
            entries.sort_by_key(|(_, count)| {
                std::cmp::Reverse(if let ScalarValue::Int64(Some(c)) = count { *c } else { 0 })
            });
            entries.truncate(buckets);
        }
        self.map(entries)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.entries.iter().map(|(k, v)| k.size() + v.size()).sum::<usize>()
    }
}

/// `m[key]` as [`Subscript`]: DataFusion plans a map subscript as `get_field`, which compares
/// the key without coercing it (`MAP(ARRAY[1], ARRAY['a'])[1]`: an `integer` map and a
/// `bigint` subscript), takes constant keys only, and answers NULL for a missing key.
#[derive(Debug)]
pub struct Subscripts {
    subscript: Arc<ScalarUDF>,
}

impl Default for Subscripts {
    fn default() -> Self {
        Subscripts { subscript: Arc::new(udf(Subscript)) }
    }
}

impl FunctionRewrite for Subscripts {
    fn name(&self) -> &str {
        "athena_map_subscripts"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _: &ConfigOptions) -> Result<Transformed<Expr>> {
        match expr {
            Expr::ScalarFunction(f)
                if f.name() == "get_field"
                    && f.args.len() == 2
                    && f.args[0].get_type(schema).ok().and_then(|t| key_value(&t)).is_some() =>
            {
                Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(self.subscript.clone(), f.args))))
            }
            other => Ok(Transformed::no(other)),
        }
    }
}

/// `m[key]`: the value of the key, an error when the map has no such key (Trino: "Key not
/// present in map"); `element_at` is the lenient form. NULL for a NULL map or key.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Subscript;

impl Function for Subscript {
    fn name(&self) -> &'static str {
        "athena_map_subscript"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 2..=2)?;
        match key_value(&t[0]) {
            Some((k, _)) => Ok(vec![t[0].clone(), k]),
            None => plan_err!("a subscript of {}", t[0]),
        }
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        match key_value(&t[0]) {
            Some((_, v)) => Ok(v),
            None => plan_err!("a subscript of {}", t[0]),
        }
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (maps, keys) = (args.column(0)?, args.column(1)?);
        let map = maps.as_map();
        let encoded = rows(&[map.keys().clone(), keys.clone()])?;
        let (entries, needles) = (&encoded[0], &encoded[1]);
        let offsets = map.value_offsets();
        let key_nulls = keys.logical_nulls();
        let mut picks = Vec::with_capacity(args.rows);
        for i in 0..args.rows {
            if map.is_null(i) || key_nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                picks.push(None);
                continue;
            }
            let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
            match (start..end).find(|&j| entries.row(j) == needles.row(i)) {
                Some(j) => picks.push(Some(j as u32)),
                None => {
                    let key = super::text::value(keys.as_ref(), i, super::text::Double::Shown).unwrap_or_default();
                    return exec_err!("Key not present in map: {key}");
                }
            }
        }
        Ok(arrow::compute::take(map.values(), &UInt32Array::from(picks), None)?)
    }
}

/// `a = b` (and `IS DISTINCT FROM`) of maps, as Trino compares them: the same keys, whatever
/// their order, each with an equal value; `=` is NULL when only NULL values might differ.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Equality {
    distinct: bool,
}

impl Function for Equality {
    fn name(&self) -> &'static str {
        if self.distinct { "athena_map_distinct" } else { "athena_map_equal" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 2..=2)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (a, b) = (args.column(0)?, args.column(1)?);
        let (a, b) = (a.as_map(), b.as_map());
        let keys = rows(&[a.keys().clone(), b.keys().clone()])?;
        let values = rows(&[a.values().clone(), b.values().clone()])?;
        let (ao, bo) = (a.value_offsets(), b.value_offsets());
        // Logical: values NULL all through (`MAP(ARRAY[1], ARRAY[NULL])`) are a null-typed
        // array, which has no null buffer.
        let (an, bn) = (a.values().logical_nulls(), b.values().logical_nulls());
        let null = |n: &Option<arrow::buffer::NullBuffer>, p: usize| n.as_ref().is_some_and(|n| n.is_null(p));
        let mut out = Vec::with_capacity(args.rows);
        for i in 0..args.rows {
            out.push(match (a.is_valid(i), b.is_valid(i)) {
                (false, false) if self.distinct => Some(false),
                (false, _) | (_, false) if self.distinct => Some(true),
                (false, _) | (_, false) => None,
                (true, true) => {
                    let sorted = |o: &[i32], k: &arrow::row::Rows| {
                        let mut entries: Vec<usize> = (o[i] as usize..o[i + 1] as usize).collect();
                        entries.sort_by(|&x, &y| k.row(x).cmp(&k.row(y)));
                        entries
                    };
                    let (x, y) = (sorted(ao, &keys[0]), sorted(bo, &keys[1]));
                    if x.len() != y.len() || x.iter().zip(&y).any(|(&p, &q)| keys[0].row(p) != keys[1].row(q)) {
                        Some(self.distinct)
                    } else {
                        let (mut differ, mut unknown) = (false, false);
                        for (&p, &q) in x.iter().zip(&y) {
                            match (null(&an, p), null(&bn, q)) {
                                (true, true) if self.distinct => {}
                                (true, _) | (_, true) if self.distinct => differ = true,
                                (true, _) | (_, true) => unknown = true,
                                _ => differ |= values[0].row(p) != values[1].row(q),
                            }
                        }
                        if differ {
                            Some(self.distinct)
                        } else if unknown {
                            None
                        } else {
                            Some(!self.distinct)
                        }
                    }
                }
            });
        }
        Ok(Arc::new(arrow::array::BooleanArray::from(out)))
    }
}

/// `=`, `<>` and `IS [NOT] DISTINCT FROM` of maps as [`Equality`] compares them, once types
/// are coerced (Arrow compares a map's entries in their order: `MAP(ARRAY[1, 3], ARRAY[2, 4])`
/// was not `MAP(ARRAY[3, 1], ARRAY[4, 2])`).
#[derive(Debug, Default)]
pub struct MapComparisons;

impl datafusion::optimizer::AnalyzerRule for MapComparisons {
    fn name(&self) -> &str {
        "athena_map_comparisons"
    }

    fn analyze(
        &self,
        plan: datafusion::logical_expr::LogicalPlan,
        _: &ConfigOptions,
    ) -> Result<datafusion::logical_expr::LogicalPlan> {
        use datafusion::logical_expr::{BinaryExpr, Operator};
        let (equal, distinct) =
            (Arc::new(udf(Equality { distinct: false })), Arc::new(udf(Equality { distinct: true })));
        super::shared::rewrite_expressions(plan, |e, schema| {
            let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &e else { return Ok(Transformed::no(e)) };
            // Types asked of comparisons' sides alone: asking every arithmetic node's would walk
            // each expression again for each of its nodes.
            if !matches!(op, Operator::Eq | Operator::NotEq | Operator::IsDistinctFrom | Operator::IsNotDistinctFrom) {
                return Ok(Transformed::no(e));
            }
            let map = |x: &Expr| x.get_type(schema).is_ok_and(|t| matches!(t, DataType::Map(..)));
            if !(map(left) && map(right)) {
                return Ok(Transformed::no(e));
            }
            let call = |f: &Arc<ScalarUDF>| {
                Expr::ScalarFunction(ScalarFunction::new_udf(
                    f.clone(),
                    vec![left.as_ref().clone(), right.as_ref().clone()],
                ))
            };
            Ok(Transformed::yes(match op {
                Operator::Eq => call(&equal),
                Operator::NotEq => Expr::Not(Box::new(call(&equal))),
                Operator::IsDistinctFrom => call(&distinct),
                Operator::IsNotDistinctFrom => Expr::Not(Box::new(call(&distinct))),
                _ => return Ok(Transformed::no(e)),
            }))
        })
    }
}
