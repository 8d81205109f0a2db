//! Trino's `JSON` type and its casts. JSON is text here (Trino's canonical text, as `json`
//! keeps it), told apart from a `varchar` by its field's metadata, which DataFusion carries
//! through columns, aliases and subqueries: so `CAST(json_extract(j, '$.name') AS VARCHAR)` is
//! the string, not its quoted JSON, and `CAST(x AS JSON)` of a varchar is a JSON string.
//!
//! - `types` plans `JSON` as such a field (anywhere in a type, so `MAP(VARCHAR, JSON)` keeps its
//!   values as JSON).
//! - [`JsonCasts`] turns a cast to JSON into [`ToJson`] and a cast of JSON (or of text to an
//!   array, map or row) into [`FromJson`], both written column by column.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, MapArray, StringArray, StructArray};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::CastOptions;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Result, exec_datafusion_err, exec_err};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, ReturnFieldArgs, ScalarUDF, Volatility};
use datafusion::optimizer::AnalyzerRule;
use serde_json::Value;

use super::function::{Args, Function, udf};
use super::text::{self, Double};

/// The metadata key that makes a text field JSON.
const KEY: &str = "b3lake.json";

/// A JSON field named `name`.
pub fn field(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true).with_metadata(HashMap::from([(KEY.to_string(), String::new())]))
}

/// Whether a field holds JSON.
pub fn is_json(field: &Field) -> bool {
    field.metadata().contains_key(KEY)
}

/// Whether a type holds JSON inside it: an array's elements, a map's entries or a row's fields.
pub fn json_inside(t: &DataType) -> bool {
    let holds = |f: &FieldRef| is_json(f) || json_inside(f.data_type());
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::Map(f, _) => holds(f),
        DataType::Struct(fields) => fields.iter().any(holds),
        _ => false,
    }
}

/// Rewrites casts to and from JSON (see the module's documentation).
#[derive(Debug)]
pub struct JsonCasts;

impl AnalyzerRule for JsonCasts {
    fn name(&self) -> &str {
        "athena_json_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let to_json = Arc::new(udf(ToJson));
        let elements = Arc::new(udf(JsonElements));
        let call = |f: Arc<ScalarUDF>, arg: Expr| Expr::ScalarFunction(ScalarFunction::new_udf(f, vec![arg]));
        super::shared::rewrite_expressions(plan, |e, schema| {
            // `ARRAY[JSON '1', JSON '"a"']` is an array of JSON: the constructor's element field
            // is marked as its arguments are, so that casts and `array_join` read JSON.
            // Each argument's field read once: JSON (true), NULL (false) or another (None).
            // (A NULL literal is also NULL once the coercion has cast it to the others' text.)
            let mark = |a: &Expr| {
                let (_, f) = a.to_field(schema).ok()?;
                let null = match a {
                    Expr::Cast(c) => matches!(c.expr.as_ref(), Expr::Literal(v, _) if v.is_null()),
                    _ => f.data_type().is_null(),
                };
                if is_json(&f) { Some(true) } else { null.then_some(false) }
            };
            let marks: Vec<Option<bool>> = match &e {
                Expr::ScalarFunction(f) if f.func.name() == "make_array" => f.args.iter().map(mark).collect(),
                _ => Vec::new(),
            };
            if marks.iter().all(Option::is_some) && marks.contains(&Some(true)) {
                return Ok(Transformed::yes(call(elements.clone(), e)));
            }
            // `MAP(keys, ARRAY[JSON '1'])`: a map whose values are JSON.
            if let Expr::ScalarFunction(f) = &e
                && f.func.name() == "map"
                && let [_, values] = f.args.as_slice()
                && let Ok((_, values)) = values.to_field(schema)
                && matches!(values.data_type(), DataType::List(item) if is_json(item))
                && let Ok((_, map)) = e.to_field(schema)
                && let DataType::Map(entries, sorted) = map.data_type()
                && let DataType::Struct(kv) = entries.data_type()
                && let [key, value] = kv.iter().collect::<Vec<_>>().as_slice()
                && !is_json(value)
            {
                let kv = vec![key.as_ref().clone(), field(value.name())];
                let entries = Field::new(entries.name(), DataType::Struct(kv.into()), entries.is_nullable());
                return Ok(Transformed::yes(e.cast_to(&DataType::Map(Arc::new(entries), *sorted), schema)?));
            }
            // `ROW(JSON '2', 1)`: a row whose JSON fields are marked so.
            if let Expr::ScalarFunction(f) = &e
                && f.func.name() == "struct"
                && f.args.iter().any(|a| mark(a) == Some(true))
                && let Ok((_, row)) = e.to_field(schema)
                && let DataType::Struct(fields) = row.data_type()
                && !fields.iter().any(|f| is_json(f))
            {
                let marked: Vec<Field> = fields
                    .iter()
                    .zip(&f.args)
                    .map(
                        |(field_of, a)| {
                            if mark(a) == Some(true) { field(field_of.name()) } else { field_of.as_ref().clone() }
                        },
                    )
                    .collect();
                return Ok(Transformed::yes(e.cast_to(&DataType::Struct(marked.into()), schema)?));
            }
            let Some((inner, target, try_)) = super::shared::cast_of(&e) else { return Ok(Transformed::no(e)) };
            let (_, source) = inner.to_field(schema)?;
            let text = matches!(source.data_type(), DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8);
            // Text cast to an array, a map or a row is read as JSON (Trino casts only JSON so).
            let structured =
                text && matches!(target.data_type(), DataType::List(_) | DataType::Map(..) | DataType::Struct(_));
            // An array or map holding JSON cast to one of other types (`ARRAY(JSON)` to
            // `ARRAY(BIGINT)`, `MAP(VARCHAR, JSON)` to `MAP(VARCHAR, ARRAY(INTEGER))`): read
            // through its JSON text.
            // (A row's fields are cast one by one, by `row_cast`.)
            let json_within = !is_json(&source)
                && matches!(source.data_type(), DataType::List(_) | DataType::Map(..))
                && json_inside(source.data_type())
                && matches!(target.data_type(), DataType::List(_) | DataType::Map(..) | DataType::Struct(_))
                && !json_inside(target.data_type());
            Ok(Transformed::yes(match (is_json(&source), is_json(target)) {
                (true, true) => inner.clone(),
                (false, true) => call(to_json.clone(), inner.clone()),
                (false, false) if json_within => {
                    let from_json = Arc::new(udf(FromJson { target: target.clone(), try_ }));
                    call(from_json, call(to_json.clone(), inner.clone()))
                }
                (json, false) if json || structured => {
                    let from_json = Arc::new(udf(FromJson { target: target.clone(), try_ }));
                    call(from_json, inner.clone().cast_to(&DataType::Utf8, schema)?)
                }
                _ => return Ok(Transformed::no(e)),
            }))
        })
    }
}

/// `CAST(x AS JSON)`: a value as JSON text: numbers and booleans as themselves, text as a JSON
/// string, arrays as arrays, maps as objects (keys as text, in order), rows as objects of their
/// fields (an unnamed field's key is empty, as Trino writes it); NULL inside is `null`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToJson;

impl Function for ToJson {
    fn name(&self) -> &'static str {
        "athena_to_json"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 1..=1)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field(&self, _: &ReturnFieldArgs) -> Result<Option<Field>> {
        Ok(Some(field(self.name())))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let source = args.field(0);
        let mut out = Vec::with_capacity(args.rows);
        for row in 0..args.rows {
            out.push(if column.is_null(row) || column.data_type() == &DataType::Null {
                None
            } else {
                let mut text = String::new();
                write(&mut text, source, column.as_ref(), row)?;
                Some(text)
            });
        }
        Ok(Arc::new(StringArray::from(out)))
    }
}

/// An array whose elements are JSON: its argument's elements marked so. Volatile, so that it is
/// not folded into a constant: a constant array keeps no mark on its elements (DataFusion
/// rebuilds a list scalar's element field), and `CAST(ARRAY[JSON '1'] AS JSON)` would quote them.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonElements;

impl Function for JsonElements {
    fn name(&self) -> &'static str {
        "athena_json_elements"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 1..=1)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(field("item"))))
    }
    fn volatility(&self) -> Volatility {
        Volatility::Volatile
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let list = arrow::compute::cast(&args.column(0)?, &DataType::new_list(DataType::Utf8, true))?;
        let (_, offsets, values, nulls) = list.as_list::<i32>().clone().into_parts();
        Ok(Arc::new(ListArray::new(Arc::new(field("item")), offsets, values, nulls)))
    }
}

/// Row `row` of `array` (of `field`) as JSON, onto `out`.
fn write(out: &mut String, field: &Field, array: &dyn Array, row: usize) -> Result<()> {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        out.push_str("null");
        return Ok(());
    }
    match array.data_type() {
        _ if is_json(field) => out.push_str(array.as_string::<i32>().value(row)),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Date32 | DataType::Timestamp(..) => {
            let s = text::cell(field, array, row, Double::Shown).unwrap_or_default();
            out.push_str(&Value::String(s).to_string());
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            let (inner, values) = match array.data_type() {
                DataType::List(f) => (f, array.as_list::<i32>().value(row)),
                DataType::LargeList(f) => (f, array.as_list::<i64>().value(row)),
                DataType::FixedSizeList(f, _) => (f, array.as_fixed_size_list().value(row)),
                _ => unreachable!("matched above"),
            };
            out.push('[');
            for i in 0..values.len() {
                if i > 0 {
                    out.push(',');
                }
                write(out, inner, values.as_ref(), i)?;
            }
            out.push(']');
        }
        DataType::Map(..) => {
            let map = array.as_map();
            let entries = map.value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let value_field = map.entries().fields()[1].clone();
            let mut members: Vec<(String, usize)> = (0..entries.len())
                .map(|i| (text::value(keys.as_ref(), i, Double::Shown).unwrap_or_default(), i))
                .collect();
            members.sort();
            out.push('{');
            for (n, (key, i)) in members.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key).to_string());
                out.push(':');
                write(out, &value_field, values.as_ref(), i)?;
            }
            out.push('}');
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            out.push('{');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // DataFusion names an unnamed field c0, c1, ...; Trino's key for it is empty.
                let unnamed = super::shared::unnamed_field(f.name()).is_some();
                out.push_str(&Value::String(if unnamed { String::new() } else { f.name().clone() }).to_string());
                out.push(':');
                write(out, f, s.column(i).as_ref(), row)?;
            }
            out.push('}');
        }
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Decimal128(..) => out.push_str(&text::value(array, row, Double::Shown).unwrap_or_default()),
        DataType::Float32 | DataType::Float64 => {
            // NaN and the infinities are no JSON numbers: Trino's writer quotes them ("NaN").
            let number = text::value(array, row, Double::Shown).unwrap_or_default();
            if number.ends_with(|c: char| c.is_ascii_digit()) {
                out.push_str(&number)
            } else {
                out.push_str(&Value::String(number).to_string())
            }
        }
        other => return exec_err!("Cannot cast {} to JSON", super::scalar::trino_type(other)),
    }
    Ok(())
}

/// `CAST(json AS T)`: JSON read as a value of `T`. A JSON `null` is NULL; a scalar converts as
/// Trino converts it (a number to text is its digits, `1.5` to an integer rounds, a boolean to a
/// number is 1 or 0); an array to an array, an object to a map, an object (by field name, in any
/// case) or an array (by position) to a row; `JSON` inside `T` keeps the value's JSON text.
/// Anything else is an error naming the type, or NULL under `TRY_CAST`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromJson {
    target: FieldRef,
    try_: bool,
}

impl Function for FromJson {
    fn name(&self) -> &'static str {
        "athena_from_json"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 1..=1)?;
        Ok(vec![DataType::Utf8])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.target.data_type().clone())
    }
    fn return_field(&self, _: &ReturnFieldArgs) -> Result<Option<Field>> {
        Ok(Some(self.target.as_ref().clone().with_name(self.name()).with_nullable(true)))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let texts = column.as_string::<i32>();
        let mut documents: Vec<Option<Value>> = Vec::with_capacity(texts.len());
        for text in texts {
            documents.push(match text.map(serde_json::from_str::<Value>) {
                None => None,
                Some(Ok(v)) => Some(v),
                Some(Err(_)) if self.try_ => None,
                // Not JSON: Trino names the text alone.
                Some(Err(_)) => return Err(self.refusal(text.unwrap_or_default(), String::new())),
            });
        }
        if self.try_ {
            // A row that does not convert is NULL: tried alone, then left out.
            for d in documents.iter_mut() {
                if d.as_ref().is_some_and(|v| read(&[Some(v)], &self.target).is_err()) {
                    *d = None;
                }
            }
        }
        let values: Vec<Option<&Value>> = documents.iter().map(|d| d.as_ref().filter(|v| !v.is_null())).collect();
        read(&values, &self.target).map_err(|e| {
            // The first row that fails alone is the one Trino's message names.
            let failed = texts.iter().zip(&values).find_map(|(text, v)| {
                let detail = read(&[*v], &self.target).err()?;
                Some((text.unwrap_or_default(), detail))
            });
            let (text, detail) = failed.unwrap_or(("", e));
            self.refusal(text, detail_of(&detail))
        })
    }
}

impl FromJson {
    /// Trino's message for JSON `text` that does not convert, and why (`detail`, empty when
    /// Trino gives none): an array, a map or a row names the type, the reason and the text
    /// (`Cannot cast to array(bigint). Expected a json array, but got {` and the text on the
    /// next line); a scalar passes on the reason of the cast it ran (`Cannot cast 'a' to
    /// BIGINT`), or names the text when the JSON is no scalar.
    fn refusal(&self, text: &str, detail: String) -> datafusion::error::DataFusionError {
        let name = super::scalar::trino_type(self.target.data_type());
        if matches!(self.target.data_type(), DataType::List(_) | DataType::Map(..) | DataType::Struct(_)) {
            let detail = if detail.is_empty() { detail } else { format!(" {detail}") };
            return exec_datafusion_err!("Cannot cast to {name}.{detail}\n{text}");
        }
        let passed_on = ["Cannot cast '", "Out of range for ", "Cannot cast double NaN", "Cannot cast input json"];
        if passed_on.iter().any(|p| detail.starts_with(p)) {
            return exec_datafusion_err!("{detail}");
        }
        exec_datafusion_err!("Cannot cast '{text}' to {name}")
    }
}

/// The reason an error of [`read`] gives, as Trino words it: Arrow's failures in Trino's words
/// (none for one Trino gives no reason for), an error of its own as it is.
fn detail_of(e: &datafusion::error::DataFusionError) -> String {
    super::arrow_messages::reason(e).unwrap_or_else(|| match e.find_root() {
        datafusion::error::DataFusionError::ArrowError(..) => String::new(),
        e => e.message().into_owned(),
    })
}

/// The token Trino's parser reports where a value was expected: an array's or object's opening,
/// or a scalar's text.
fn token(v: &Value) -> String {
    match v {
        Value::Array(_) => "[".into(),
        Value::Object(_) => "{".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A column of `field` from JSON values (`None`: NULL), one level at a time: an array's
/// elements, a map's keys and values, a row's fields are read as one column each.
pub(super) fn read(values: &[Option<&Value>], field: &Field) -> Result<ArrayRef> {
    fn present<'a>(v: &Option<&'a Value>) -> Option<&'a Value> {
        v.filter(|v| !v.is_null())
    }
    let nulls = || NullBuffer::from(values.iter().map(|v| v.is_some_and(|v| !v.is_null())).collect::<Vec<bool>>());
    if is_json(field) {
        // JSON inside a type keeps `null` as JSON's null.
        return Ok(Arc::new(values.iter().map(|v| v.map(super::json::text)).collect::<StringArray>()));
    }
    match field.data_type() {
        DataType::List(inner) => {
            let mut lengths = Vec::with_capacity(values.len());
            let mut elements = Vec::new();
            for v in values.iter().map(present) {
                match v {
                    None => lengths.push(0),
                    Some(Value::Array(a)) => {
                        lengths.push(a.len());
                        elements.extend(a.iter().map(Some));
                    }
                    Some(other) => return exec_err!("Expected a json array, but got {}", token(other)),
                }
            }
            let elements = read(&elements, inner)?;
            Ok(Arc::new(ListArray::try_new(
                inner.clone(),
                OffsetBuffer::from_lengths(lengths),
                elements,
                Some(nulls()),
            )?))
        }
        DataType::Map(entries, sorted) => {
            let DataType::Struct(kv) = entries.data_type() else { return exec_err!("a map of {entries}") };
            let mut lengths = Vec::with_capacity(values.len());
            let (mut keys, mut members) = (Vec::new(), Vec::new());
            for v in values.iter().map(present) {
                match v {
                    None => lengths.push(0),
                    Some(Value::Object(o)) => {
                        lengths.push(o.len());
                        for (k, v) in o {
                            keys.push(Value::String(k.clone()));
                            members.push(Some(v));
                        }
                    }
                    Some(other) => return exec_err!("Expected a json object, but got {}", token(other)),
                }
            }
            let keys = read(&keys.iter().map(Some).collect::<Vec<_>>(), &kv[0])?;
            // Two texts of one key (`"1"` and `"01"` to a bigint) are one key twice: refused.
            let encoded = super::shared::rows(std::slice::from_ref(&keys))?;
            let mut start = 0;
            for &n in &lengths {
                let mut seen: Vec<_> = (start..start + n).map(|j| encoded[0].row(j)).collect();
                seen.sort();
                if seen.windows(2).any(|w| w[0] == w[1]) {
                    return exec_err!("Duplicate keys are not allowed");
                }
                start += n;
            }
            let members = read(&members, &kv[1])?;
            let entries_array = StructArray::try_new(kv.clone(), vec![keys, members], None)?;
            let offsets = OffsetBuffer::from_lengths(lengths);
            Ok(Arc::new(MapArray::try_new(entries.clone(), offsets, entries_array, Some(nulls()), *sorted)?))
        }
        DataType::Struct(fields) => {
            let mut columns: Vec<Vec<Option<&Value>>> = vec![Vec::with_capacity(values.len()); fields.len()];
            for v in values.iter().map(present) {
                match v {
                    None => columns.iter_mut().for_each(|c| c.push(None)),
                    Some(Value::Object(_))
                        if fields.iter().any(|f| super::shared::unnamed_field(f.name()).is_some()) =>
                    {
                        return exec_err!(
                            "Cannot cast a JSON object to anonymous row type. Input must be a JSON array."
                        );
                    }
                    Some(Value::Object(o)) => {
                        for (f, c) in fields.iter().zip(columns.iter_mut()) {
                            let mut named = o.iter().filter(|(k, _)| k.eq_ignore_ascii_case(f.name()));
                            let value = named.next().map(|(_, v)| v);
                            if named.next().is_some() {
                                return exec_err!("Duplicate field: {}", f.name().to_lowercase());
                            }
                            c.push(value);
                        }
                    }
                    Some(Value::Array(a)) if a.len() == fields.len() => {
                        columns.iter_mut().zip(a).for_each(|(c, v)| c.push(Some(v)));
                    }
                    Some(Value::Array(a)) if a.len() > fields.len() => {
                        return exec_err!("Expected json array ending, but got {}", token(&a[fields.len()]));
                    }
                    // Trino's reader meets the array's end where a field was due.
                    Some(Value::Array(_)) => return exec_err!("Unexpected token when cast to a row field: ]"),
                    Some(other) => return exec_err!("Expected a json array or object, but got {}", token(other)),
                }
            }
            let columns = fields.iter().zip(&columns).map(|(f, c)| read(c, f)).collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(StructArray::try_new(fields.clone(), columns, Some(nulls()))?))
        }
        target => {
            let texts = values
                .iter()
                .map(|v| present(v).map(|v| scalar(v, target)).transpose())
                .collect::<Result<StringArray>>()?;
            if target == &DataType::Utf8 {
                return Ok(Arc::new(texts));
            }
            let cast =
                arrow::compute::cast_with_options(&texts, target, &CastOptions { safe: false, ..Default::default() });
            match (cast, target) {
                // A number past the decimal's precision (text that is no number has no reason).
                (Err(arrow::error::ArrowError::InvalidArgumentError(_)), DataType::Decimal128(p, s)) => {
                    exec_err!("Cannot cast input json to DECIMAL({p},{s})")
                }
                (Err(arrow::error::ArrowError::CastError(_)), DataType::Decimal128(..)) => exec_err!(""),
                (cast, _) => Ok(cast?),
            }
        }
    }
}

/// A JSON scalar as the text that casts to `target` as Trino converts it.
fn scalar(v: &Value, target: &DataType) -> Result<String> {
    Ok(match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) if target.is_numeric() => (if *b { "1" } else { "0" }).into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if target == &DataType::Boolean => (n.as_f64() != Some(0.0)).to_string(),
        Value::Number(n) => match (n.is_i64() || n.is_u64(), n.as_f64()) {
            // A whole number keeps its digits (12345678901234567890 to text is itself).
            // Past the integer's range Trino's reader fails without a reason of its own.
            (true, _) if target.is_integer() => {
                let bits = bits(target);
                match n.to_string().parse::<i128>() {
                    Ok(v) if (-(1i128 << (bits - 1))..1i128 << (bits - 1)).contains(&v) => n.to_string(),
                    _ => return exec_err!(""),
                }
            }
            (true, _) => n.to_string(),
            // A fraction to an integer rounds half up (Java's Math.round), exactly: the double
            // 1234567890123456789.0 is 1234567890123456768.
            (false, Some(f)) if target.is_integer() => {
                let rounded = (f + 0.5).floor();
                let bound = 2f64.powi(bits(target) - 1);
                if !(-bound..bound).contains(&rounded) {
                    let name = super::scalar::trino_type(target);
                    return exec_err!("Out of range for {name}: {}", text::float(f, Double::Shown));
                }
                (rounded as i64).to_string()
            }
            // A fraction to text is the double's cast spelling (12.3 is 1.23E1), as Trino's.
            (false, Some(f)) if matches!(target, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) => {
                text::value(&arrow::array::Float64Array::from(vec![f]), 0, Double::Cast).unwrap_or_default()
            }
            _ => n.to_string(),
        },
        Value::Array(_) | Value::Object(_) => {
            let name = match target {
                DataType::Decimal128(p, s) => format!("DECIMAL({p},{s})"),
                t => super::scalar::trino_type(t),
            };
            return exec_err!("Unexpected token when cast to {name}: {}", token(v));
        }
        Value::Null => unreachable!("NULL is read before"),
    })
}

/// An integer type's width in bits.
fn bits(t: &DataType) -> i32 {
    t.primitive_width().map_or(64, |bytes| 8 * bytes as i32)
}
