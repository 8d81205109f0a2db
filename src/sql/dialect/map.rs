//! Trino's map functions that DataFusion lacks: `map_concat` (the last map's value wins),
//! `map_from_entries`, `multimap_from_entries`, and the aggregates `map_agg`, `histogram`
//! and `multimap_agg`.
//!
//! Maps are built entry by entry as `ScalarValue`s: they are small (a row's map), and the
//! aggregates keep one entry per distinct key of a group.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, MapArray, StructArray};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};

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

/// One map per row, from its entries (`None` for a NULL map).
fn maps(rows: Vec<Option<Vec<(ScalarValue, ScalarValue)>>>, t: &DataType) -> Result<ArrayRef> {
    let DataType::Map(entry, sorted) = t else { return exec_err!("expected a map type, got {t}") };
    let DataType::Struct(fields) = entry.data_type() else { return exec_err!("a map's entries are a struct") };
    let lengths: Vec<usize> = rows.iter().map(|r| r.as_ref().map_or(0, Vec::len)).collect();
    let nulls: NullBuffer = rows.iter().map(Option::is_some).collect::<Vec<_>>().into();
    let (keys, values): (Vec<ScalarValue>, Vec<ScalarValue>) = rows.into_iter().flatten().flatten().unzip();
    let column = |values: Vec<ScalarValue>, t: &DataType| -> Result<ArrayRef> {
        if values.is_empty() { Ok(arrow::array::new_empty_array(t)) } else { ScalarValue::iter_to_array(values) }
    };
    let keys = arrow::compute::cast(&column(keys, fields[0].data_type())?, fields[0].data_type())?;
    let values = arrow::compute::cast(&column(values, fields[1].data_type())?, fields[1].data_type())?;
    let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)?;
    Ok(Arc::new(MapArray::try_new(entry.clone(), OffsetBuffer::from_lengths(lengths), entries, Some(nulls), *sorted)?))
}

fn entries_of(map: &MapArray, i: usize) -> Result<Vec<(ScalarValue, ScalarValue)>> {
    let e = map.value(i);
    (0..e.len())
        .map(|j| Ok((ScalarValue::try_from_array(e.column(0), j)?, ScalarValue::try_from_array(e.column(1), j)?)))
        .collect()
}

/// Puts `value` under `key`, replacing an earlier value.
fn put(entries: &mut Vec<(ScalarValue, ScalarValue)>, key: ScalarValue, value: ScalarValue) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(e) => e.1 = value,
        None => entries.push((key, value)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum M {
    Concat,
    FromEntries,
    MultimapFromEntries,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MapFn {
    m: M,
    name: &'static str,
    signature: Signature,
}

/// The scalar functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    [(M::Concat, "map_concat"), (M::FromEntries, "map_from_entries"), (M::MultimapFromEntries, "multimap_from_entries")]
        .into_iter()
        .map(|(m, name)| {
            ScalarUDF::new_from_impl(MapFn { m, name, signature: Signature::user_defined(Volatility::Immutable) })
        })
        .collect()
}

impl ScalarUDFImpl for MapFn {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name;
        match self.m {
            M::Concat => {
                // An untyped NULL takes the other maps' type.
                let kvs: Option<Vec<(DataType, DataType)>> = t.iter().filter(|t| !t.is_null()).map(key_value).collect();
                let Some(kvs) = kvs.filter(|k| !k.is_empty()) else {
                    return plan_err!("{name} expects maps, got {t:?}");
                };
                let keys: Vec<DataType> = kvs.iter().map(|k| k.0.clone()).collect();
                let values: Vec<DataType> = kvs.iter().map(|k| k.1.clone()).collect();
                match (type_union_resolution(&keys), type_union_resolution(&values)) {
                    (Some(k), Some(v)) => Ok(vec![map_type(k, v); t.len()]),
                    _ => plan_err!("{name}: maps of different types {t:?}"),
                }
            }
            M::FromEntries | M::MultimapFromEntries => match t {
                [DataType::List(f)] if matches!(f.data_type(), DataType::Struct(kv) if kv.len() == 2) => Ok(t.to_vec()),
                // NULL, or an empty ARRAY[]: entries of unknown types.
                [DataType::Null] => Ok(vec![DataType::new_list(unknown_entry(), true)]),
                [DataType::List(f)] if f.data_type().is_null() => Ok(vec![DataType::new_list(unknown_entry(), true)]),
                _ => plan_err!("{name} expects an array of (key, value) rows, got {t:?}"),
            },
        }
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        let entry = |t: &DataType| -> Option<(DataType, DataType)> {
            match t {
                DataType::List(f) => match f.data_type() {
                    DataType::Struct(kv) => Some((kv[0].data_type().clone(), kv[1].data_type().clone())),
                    _ => None,
                },
                _ => None,
            }
        };
        Ok(match self.m {
            M::Concat => t[0].clone(),
            M::FromEntries => {
                let (k, v) = entry(&t[0]).unwrap_or((DataType::Null, DataType::Null));
                map_type(k, v)
            }
            M::MultimapFromEntries => {
                let (k, v) = entry(&t[0]).unwrap_or((DataType::Null, DataType::Null));
                map_type(k, DataType::new_list(v, true))
            }
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::shared::invoke(&args, |a, n| {
            let ret = args.return_field.data_type();
            let mut rows = Vec::with_capacity(n);
            for i in 0..n {
                rows.push(match self.m {
                    M::Concat => {
                        if a.iter().any(|m| m.is_null(i) || m.data_type().is_null()) {
                            None
                        } else {
                            let mut entries = Vec::new();
                            for m in a {
                                for (k, v) in entries_of(m.as_map(), i)? {
                                    put(&mut entries, k, v);
                                }
                            }
                            Some(entries)
                        }
                    }
                    M::FromEntries | M::MultimapFromEntries => {
                        let list: &ListArray = a[0].as_list();
                        if list.is_null(i) {
                            None
                        } else {
                            let items = list.value(i);
                            let items = items.as_struct();
                            let mut entries: Vec<(ScalarValue, ScalarValue)> = Vec::new();
                            for j in 0..items.len() {
                                if items.is_null(j) {
                                    return exec_err!("map entry cannot be null");
                                }
                                let k = ScalarValue::try_from_array(items.column(0), j)?;
                                let v = ScalarValue::try_from_array(items.column(1), j)?;
                                if k.is_null() {
                                    return exec_err!("map key cannot be null");
                                }
                                match (self.m, entries.iter_mut().find(|(x, _)| *x == k)) {
                                    (M::FromEntries, Some(_)) => {
                                        return exec_err!("Duplicate map keys ({k}) are not allowed");
                                    }
                                    (M::FromEntries, None) => entries.push((k, v)),
                                    (_, Some((_, ScalarValue::List(l)))) => {
                                        let mut values: Vec<ScalarValue> = (0..l.value(0).len())
                                            .map(|x| ScalarValue::try_from_array(&l.value(0), x))
                                            .collect::<Result<_>>()?;
                                        values.push(v);
                                        *l = ScalarValue::new_list_nullable(&values, &l.value_type());
                                    }
                                    (_, Some(_)) => return exec_err!("multimap values are arrays"),
                                    (_, None) => {
                                        let t = v.data_type();
                                        entries.push((k, ScalarValue::List(ScalarValue::new_list_nullable(&[v], &t))));
                                    }
                                }
                            }
                            Some(entries)
                        }
                    }
                });
            }
            let out = maps(rows, ret)?;
            Ok(out)
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum G {
    MapAgg,
    Histogram,
    MultimapAgg,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MapAgg {
    g: G,
    name: &'static str,
    signature: Signature,
}

/// The aggregates of this module.
pub fn aggregates() -> Vec<AggregateUDF> {
    [(G::MapAgg, "map_agg", 2), (G::Histogram, "histogram", 1), (G::MultimapAgg, "multimap_agg", 2)]
        .into_iter()
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
        })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}[map]", args.name), args.return_field.data_type().clone(), true))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Entries { g: self.g, entries: Vec::new(), data_type: args.return_field.data_type().clone() }))
    }
}

/// A group's map so far.
#[derive(Debug)]
struct Entries {
    g: G,
    entries: Vec<(ScalarValue, ScalarValue)>,
    data_type: DataType,
}

impl Entries {
    fn add(&mut self, key: ScalarValue, value: ScalarValue) -> Result<()> {
        if key.is_null() {
            return Ok(());
        }
        let at = self.entries.iter().position(|(k, _)| *k == key);
        match (self.g, at) {
            // Trino keeps one of a key's values: the first here.
            (G::MapAgg, Some(_)) => {}
            (G::MapAgg, None) => self.entries.push((key, value)),
            (G::Histogram, Some(p)) => {
                let ScalarValue::Int64(Some(c)) = self.entries[p].1 else { return exec_err!("histogram counts") };
                let more = match value {
                    ScalarValue::Int64(Some(m)) => m,
                    _ => 1,
                };
                self.entries[p].1 = ScalarValue::Int64(Some(c + more));
            }
            (G::Histogram, None) => {
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

impl Accumulator for Entries {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
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
                for (k, v) in entries_of(maps, i)? {
                    self.add(k, v)?;
                }
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.entries.is_empty() {
            return ScalarValue::try_from(&self.data_type);
        }
        let map = maps(vec![Some(self.entries.clone())], &self.data_type)?;
        ScalarValue::try_from_array(&map, 0)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.entries.iter().map(|(k, v)| k.size() + v.size()).sum::<usize>()
    }
}
