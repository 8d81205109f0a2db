//! Trino's JSON functions on JSON kept as text: `json_parse`, `json_format`,
//! `json_extract`, `json_extract_scalar`, `json_array_contains`, `json_array_get`,
//! `json_array_length`, `json_size` and `is_json_scalar`.
//!
//! Trino has a `JSON` type; here JSON is a `varchar` holding Trino's canonical text (compact,
//! object keys sorted), so a value reads the same as Athena shows it. Paths are the JSONPath
//! subset Trino's `json_extract` documents: `$`, `.key`, `["key"]`, `[index]`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum J {
    Parse,
    Format,
    Extract,
    ExtractScalar,
    ArrayContains,
    ArrayGet,
    ArrayLength,
    Size,
    IsScalar,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Json {
    j: J,
    name: &'static str,
    signature: Signature,
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    [
        (J::Parse, "json_parse"),
        (J::Format, "json_format"),
        (J::Extract, "json_extract"),
        (J::ExtractScalar, "json_extract_scalar"),
        (J::ArrayContains, "json_array_contains"),
        (J::ArrayGet, "json_array_get"),
        (J::ArrayLength, "json_array_length"),
        (J::Size, "json_size"),
        (J::IsScalar, "is_json_scalar"),
    ]
    .into_iter()
    .map(|(j, name)| {
        ScalarUDF::new_from_impl(Json { j, name, signature: Signature::user_defined(Volatility::Immutable) })
    })
    .collect()
}

/// One step of a JSONPath.
#[derive(Debug, PartialEq)]
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

impl ScalarUDFImpl for Json {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let count = match self.j {
            J::Parse | J::Format | J::ArrayLength | J::IsScalar => 1,
            _ => 2,
        };
        if t.len() != count {
            return plan_err!("{} takes {count} arguments, got {}", self.name, t.len());
        }
        t.iter()
            .enumerate()
            .map(|(i, t)| match (self.j, i, t) {
                (J::ArrayGet, 1, t) if t.is_integer() || t.is_null() => Ok(DataType::Int64),
                (J::ArrayContains, 1, t) if t.is_numeric() => Ok(DataType::Float64),
                (J::ArrayContains, 1, DataType::Boolean) => Ok(DataType::Boolean),
                (_, _, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null) => {
                    Ok(DataType::Utf8)
                }
                (_, _, other) => plan_err!("{} expects JSON text (varchar), got {other}", self.name),
            })
            .collect()
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.j {
            J::ArrayContains | J::IsScalar => DataType::Boolean,
            J::ArrayLength | J::Size => DataType::Int64,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::shared::invoke(&args, |arrays, n| {
            let docs = arrays[0].as_string::<i32>();
            let second = arrays.get(1);
            // A constant path is parsed once.
            let constant_path = match (self.j, second) {
                (J::Extract | J::ExtractScalar | J::Size, Some(p))
                    if matches!(args.args[1], ColumnarValue::Scalar(_)) =>
                {
                    let p = p.as_string::<i32>();
                    if p.is_valid(0) { Some(path(p.value(0))?) } else { None }
                }
                _ => None,
            };
            let mut texts: Vec<Option<String>> = Vec::new();
            let mut ints: Vec<Option<i64>> = Vec::new();
            let mut bools: Vec<Option<bool>> = Vec::new();
            for i in 0..n {
                let doc = docs.is_valid(i).then(|| docs.value(i));
                let parsed = match doc {
                    None => None,
                    Some(d) => match serde_json::from_str::<Value>(d) {
                        Ok(v) => Some(v),
                        Err(e) if self.j == J::Parse => return exec_err!("Cannot convert value to JSON: '{d}': {e}"),
                        Err(_) => None,
                    },
                };
                let steps = match (&constant_path, second) {
                    (Some(p), _) => Some(p),
                    _ => None,
                };
                let own;
                let steps = match (steps, self.j, second) {
                    (Some(s), _, _) => Some(s),
                    (None, J::Extract | J::ExtractScalar | J::Size, Some(p)) => {
                        let p = p.as_string::<i32>();
                        if p.is_null(i) {
                            None
                        } else {
                            own = path(p.value(i))?;
                            Some(&own)
                        }
                    }
                    _ => None,
                };
                match self.j {
                    J::Parse | J::Format => texts.push(parsed.map(|v| v.to_string())),
                    J::Extract => {
                        texts.push(parsed.as_ref().zip(steps).and_then(|(v, s)| walk(v, s)).map(Value::to_string))
                    }
                    J::ExtractScalar => {
                        texts.push(parsed.as_ref().zip(steps).and_then(|(v, s)| walk(v, s)).and_then(scalar_text))
                    }
                    J::Size => ints.push(parsed.as_ref().zip(steps).and_then(|(v, s)| walk(v, s)).map(|v| match v {
                        Value::Array(a) => a.len() as i64,
                        Value::Object(o) => o.len() as i64,
                        _ => 0,
                    })),
                    J::ArrayLength => ints.push(parsed.as_ref().and_then(|v| v.as_array()).map(|a| a.len() as i64)),
                    J::IsScalar => bools.push(parsed.as_ref().map(|v| !v.is_array() && !v.is_object())),
                    J::ArrayGet => {
                        let index = second.map(|a| a.as_primitive::<arrow::datatypes::Int64Type>());
                        let got =
                            parsed.as_ref().and_then(|v| v.as_array()).zip(index.filter(|x| x.is_valid(i))).and_then(
                                |(a, x)| {
                                    let k = x.value(i);
                                    let at = if k < 0 { a.len() as i64 + k } else { k };
                                    usize::try_from(at).ok().and_then(|at| a.get(at))
                                },
                            );
                        texts.push(got.map(Value::to_string));
                    }
                    J::ArrayContains => {
                        let value =
                            second.and_then(|a| ScalarValue::try_from_array(a, i).ok()).filter(|v| !v.is_null());
                        bools.push(match (parsed.as_ref().and_then(|v| v.as_array()), value) {
                            (Some(a), Some(v)) => Some(a.iter().any(|e| match (&v, e) {
                                (ScalarValue::Utf8(Some(s)), Value::String(t)) => s == t,
                                (ScalarValue::Float64(Some(f)), Value::Number(m)) => m.as_f64() == Some(*f),
                                (ScalarValue::Boolean(Some(b)), Value::Bool(c)) => b == c,
                                _ => false,
                            })),
                            _ => None,
                        });
                    }
                }
            }
            let out: ArrayRef = match self.j {
                J::ArrayContains | J::IsScalar => Arc::new(BooleanArray::from(bools)),
                J::ArrayLength | J::Size => Arc::new(Int64Array::from(ints)),
                _ => Arc::new(StringArray::from(texts)),
            };
            Ok(out)
        })
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
