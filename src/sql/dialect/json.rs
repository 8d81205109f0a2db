//! Trino's JSON functions on JSON kept as text: `json_parse`, `json_format`,
//! `json_extract`, `json_extract_scalar`, `json_array_contains`, `json_array_get`,
//! `json_array_length`, `json_size` and `is_json_scalar`.
//!
//! Trino has a `JSON` type; here JSON is text holding Trino's canonical text (compact, object
//! keys sorted), so a value reads the same as Athena shows it, in a field `json_cast` marks as
//! JSON (`json_parse`, `json_extract` and `json_array_get` answer JSON). Paths are the JSONPath
//! subset Trino's `json_extract` documents: `$`, `.key`, `["key"]`, `[index]`.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{ReturnFieldArgs, ScalarUDF};
use serde_json::Value;

use super::function::{Args, Function, Parsed, bools, ints, strings, udf};
use super::json_cast;
use super::shared::{arity, varchar};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        udf(Canonical { parse: true }),
        udf(Canonical { parse: false }),
        udf(Extract { scalar: false }),
        udf(Extract { scalar: true }),
        udf(Size),
        udf(ArrayLength),
        udf(IsScalar),
        udf(ArrayGet),
        udf(ArrayContains),
    ]
}

/// Argument 0's documents, parsed; text that is not JSON is NULL (or an error when `strict`,
/// naming the text).
fn documents(docs: &ArrayRef, strict: bool) -> impl Iterator<Item = Result<Option<Value>>> + '_ {
    docs.as_string::<i32>().iter().map(move |doc| match doc.map(|d| (d, serde_json::from_str::<Value>(d))) {
        None => Ok(None),
        Some((_, Ok(v))) => Ok(Some(v)),
        Some((d, Err(e))) if strict => exec_err!("Cannot convert value to JSON: '{d}': {e}"),
        Some(_) => Ok(None),
    })
}

/// Each row's document and path, walked: the value the path reaches.
fn reached<T>(args: &Args, mut f: impl FnMut(&Value) -> Option<T>) -> Result<Vec<Option<T>>> {
    let docs = args.column(0)?;
    let paths = Parsed::new(args, 1, path)?;
    documents(&docs, false)
        .enumerate()
        .map(|(i, doc)| {
            Ok(match (doc?, paths.get(i)?) {
                (Some(v), Some(steps)) => walk(&v, &steps).and_then(&mut f),
                _ => None,
            })
        })
        .collect()
}

/// The JSON argument: text.
fn json(name: &str, t: &DataType) -> Result<DataType> {
    varchar(name, t).or_else(|_| plan_err!("{name} expects JSON text (varchar), got {t}"))
}

/// A call of JSON text alone.
fn json_alone(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, t, 1..=1)?;
    Ok(vec![json(name, &t[0])?])
}

/// `json_parse(text)` (an error for text that is not JSON) and `json_format(json)`: Trino's
/// canonical text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Canonical {
    parse: bool,
}

impl Function for Canonical {
    fn name(&self) -> &'static str {
        if self.parse { "json_parse" } else { "json_format" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        json_alone(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field(&self, _: &ReturnFieldArgs) -> Result<Option<Field>> {
        Ok(self.parse.then(|| json_cast::field(self.name())))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        strings(documents(&args.column(0)?, self.parse).map(|d| Ok(d?.map(|v| v.to_string()))))
    }
}

/// `json_extract(json, path)`: the JSON the path reaches; `json_extract_scalar`: the text of
/// the scalar it reaches (NULL for an array or object).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Extract {
    scalar: bool,
}

fn path_arg(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, t, 2..=2)?;
    Ok(vec![json(name, &t[0])?, varchar(name, &t[1])?])
}

impl Function for Extract {
    fn name(&self) -> &'static str {
        if self.scalar { "json_extract_scalar" } else { "json_extract" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        path_arg(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field(&self, _: &ReturnFieldArgs) -> Result<Option<Field>> {
        Ok((!self.scalar).then(|| json_cast::field(self.name())))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let text = |v: &Value| if self.scalar { scalar_text(v) } else { Some(v.to_string()) };
        strings(reached(args, text)?.into_iter().map(Ok))
    }
}

/// `json_size(json, path)`: the number of elements or members the path reaches (0 for a scalar).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Size;

impl Function for Size {
    fn name(&self) -> &'static str {
        "json_size"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        path_arg(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let size = |v: &Value| match v {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        };
        ints(reached(args, |v| Some(size(v) as i64))?.into_iter().map(Ok))
    }
}

/// `json_array_length(json)`: NULL when it is not an array.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayLength;

impl Function for ArrayLength {
    fn name(&self) -> &'static str {
        "json_array_length"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        json_alone(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        ints(documents(&args.column(0)?, false).map(|d| Ok(d?.and_then(|v| v.as_array().map(|a| a.len() as i64)))))
    }
}

/// `is_json_scalar(json)`: neither an array nor an object.
#[derive(Debug, PartialEq, Eq, Hash)]
struct IsScalar;

impl Function for IsScalar {
    fn name(&self) -> &'static str {
        "is_json_scalar"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        json_alone(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        bools(documents(&args.column(0)?, false).map(|d| Ok(d?.map(|v| !v.is_array() && !v.is_object()))))
    }
}

/// `json_array_get(json, index)`: the element at `index` (from the end when negative), as JSON.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayGet;

impl Function for ArrayGet {
    fn name(&self) -> &'static str {
        "json_array_get"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(vec![json(self.name(), &t[0])?, super::shared::bigint(self.name(), &t[1])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field(&self, _: &ReturnFieldArgs) -> Result<Option<Field>> {
        Ok(Some(json_cast::field(self.name())))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (docs, index) = (args.column(0)?, args.column(1)?);
        let rows = documents(&docs, false).zip(index.as_primitive::<Int64Type>().iter());
        strings(rows.map(|(doc, k)| {
            let (Some(doc), Some(k)) = (doc?, k) else { return Ok(None) };
            let Some(a) = doc.as_array() else { return Ok(None) };
            let at = if k < 0 { a.len() as i64 + k } else { k };
            Ok(usize::try_from(at).ok().and_then(|at| a.get(at)).map(Value::to_string))
        }))
    }
}

/// `json_array_contains(json, value)`: whether the array holds the value (a string, number
/// or boolean), compared as JSON's own kinds.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayContains;

impl Function for ArrayContains {
    fn name(&self) -> &'static str {
        "json_array_contains"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        arity(name, t, 2..=2)?;
        let wanted = match &t[1] {
            v if v.is_numeric() => DataType::Float64,
            DataType::Boolean => DataType::Boolean,
            v => varchar(name, v).or_else(|_| plan_err!("{name} expects a varchar, number or boolean, got {v}"))?,
        };
        Ok(vec![json(name, &t[0])?, wanted])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (docs, wanted) = (args.column(0)?, args.column(1)?);
        let is = |i: usize, e: &Value| match (wanted.data_type(), e) {
            (DataType::Utf8, Value::String(t)) => wanted.as_string::<i32>().value(i) == t,
            (DataType::Float64, Value::Number(m)) => m.as_f64() == Some(wanted.as_primitive::<Float64Type>().value(i)),
            (DataType::Boolean, Value::Bool(c)) => wanted.as_boolean().value(i) == *c,
            _ => false,
        };
        bools(documents(&docs, false).enumerate().map(|(i, doc)| {
            Ok(match doc?.as_ref().and_then(Value::as_array) {
                Some(a) if wanted.is_valid(i) => Some(a.iter().any(|e| is(i, e))),
                _ => None,
            })
        }))
    }
}

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn path(text: &str) -> Result<Vec<Step>> {
    let bad = || exec_err!("Invalid JSON path: '{text}'");
    let Some(mut rest) = text.trim().strip_prefix('$') else { return bad() };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return bad();
            }
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { return bad() };
            let inside = r[..end].trim();
            if let Some(quoted) = inside.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                steps.push(Step::Key(quoted.to_string()));
            } else if let Ok(i) = inside.parse::<usize>() {
                steps.push(Step::Index(i));
            } else {
                return bad();
            }
            rest = &r[end + 1..];
        } else {
            return bad();
        }
    }
    Ok(steps)
}

fn walk<'a>(mut v: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    for step in steps {
        v = match (step, v) {
            (Step::Key(k), Value::Object(o)) => o.get(k)?,
            (Step::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_as_trino_documents_them() {
        assert_eq!(path("$.store.book[0].title").unwrap().len(), 4);
        assert_eq!(path("$[\"a b\"][2]").unwrap(), vec![Step::Key("a b".into()), Step::Index(2)]);
        assert!(path("store").is_err());
        assert!(path("$.").is_err());
        assert!(walk(&serde_json::json!({"a": [1, 2]}), &path("$.a[1]").unwrap()).is_some_and(|v| v == 2));
    }
}
