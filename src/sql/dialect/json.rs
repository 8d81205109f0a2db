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
use super::shared::{arity, varchar};
use super::{json_cast, json_path};

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
        Some((d, Err(_))) if strict => exec_err!("Cannot convert value to JSON: '{d}'"),
        Some(_) => Ok(None),
    })
}

/// Each row's document (argument 0) and path (argument 1): the text of the value the path
/// reaches, read by `f`.
fn reached<'a, T>(
    docs: &'a ArrayRef,
    paths: &'a Parsed<Vec<json_path::Step>>,
    f: impl Fn(&'a str) -> Option<T> + 'a,
) -> impl Iterator<Item = Result<Option<T>>> + 'a {
    let docs = docs.as_string::<i32>();
    (0..docs.len()).map(move |i| {
        Ok(match (docs.is_valid(i), paths.get(i)?) {
            (true, Some(steps)) => json_path::reach(docs.value(i), &steps).and_then(&f),
            _ => None,
        })
    })
}

/// The arguments `reached` reads.
fn doc_and_path(args: &Args) -> Result<(ArrayRef, Parsed<Vec<json_path::Step>>)> {
    Ok((args.column(0)?, Parsed::new(args, 1, json_path::parse)?))
}

/// A reached value's text as a document (it was checked as it was read).
fn value(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
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
        strings(documents(&args.column(0)?, self.parse).map(|d| Ok(d?.map(|v| text(&v)))))
    }
}

/// `v` as Trino's canonical text: compact, and a fraction spelled as Java spells a double
/// (Trino's reader keeps one as a double: `12345678.9` is `1.23456789E7`, `0.0001` is `1.0E-4`).
pub(super) fn text(v: &Value) -> String {
    struct JavaDoubles;
    impl serde_json::ser::Formatter for JavaDoubles {
        fn write_f64<W: ?Sized + std::io::Write>(&mut self, out: &mut W, v: f64) -> std::io::Result<()> {
            out.write_all(super::text::float(v, super::text::Double::Shown).as_bytes())
        }
    }
    let mut out = Vec::new();
    let mut writer = serde_json::Serializer::with_formatter(&mut out, JavaDoubles);
    serde::Serialize::serialize(v, &mut writer).expect("a JSON value writes to memory");
    String::from_utf8(out).expect("JSON is UTF-8")
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
        let (docs, paths) = doc_and_path(args)?;
        if self.scalar {
            strings(reached(&docs, &paths, json_path::scalar_text))
        } else {
            strings(reached(&docs, &paths, |v| Some(text(&value(v)?))))
        }
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
        let (docs, paths) = doc_and_path(args)?;
        ints(reached(&docs, &paths, json_path::size))
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
        // Text that is no JSON is an error here (Trino: "Invalid JSON value"), not NULL.
        let docs = args.column(0)?;
        let texts = docs.as_string::<i32>();
        bools(texts.iter().map(|d| match d.map(serde_json::from_str::<Value>) {
            None => Ok(None),
            Some(Ok(v)) => Ok(Some(!v.is_array() && !v.is_object())),
            Some(Err(_)) => exec_err!("Invalid JSON value: {}", d.unwrap_or_default()),
        }))
    }
}

/// `json_array_get(json, index)`: the element at `index` (from the end when negative), as JSON
/// (a string as its bare text, which Trino documents as invalid JSON).
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
            // A scalar element is its text (a string's without quotes, JSON's null NULL), as
            // Trino's JsonFunctions answer: its documentation warns that a string is then not JSON.
            Ok(usize::try_from(at).ok().and_then(|at| a.get(at)).and_then(|v| match v {
                Value::String(text) => Some(text.clone()),
                Value::Null => None,
                v => Some(v.to_string()),
            }))
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
        // A bigint matches JSON's whole numbers only, a double (or decimal) its fractions
        // only (Trino: `[1.0]` holds no 1, `[1]` no 1.0).
        let wanted = match &t[1] {
            v if v.is_integer() => DataType::Int64,
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
            (DataType::Int64, Value::Number(m)) => m.as_i64() == Some(wanted.as_primitive::<Int64Type>().value(i)),
            (DataType::Float64, Value::Number(m)) => {
                m.is_f64() && m.as_f64() == Some(wanted.as_primitive::<Float64Type>().value(i))
            }
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
