//! Trino's SQL/JSON constructors, `json_array` and `json_object`: JSON text built from SQL
//! values, each value a JSON literal of its type (a JSON-typed value, or one marked
//! `FORMAT JSON`, is embedded as the JSON it holds; other types as the text of their cast to
//! varchar).
//!
//! Their clauses and `KEY … VALUE` / `key : value` arguments are syntax the parser does not know;
//! `syntax.rs` hands them over as a first argument, a string of the clauses' words, then the
//! values (`json_object`: keys and values in turn), a `FORMAT JSON` value wrapped in `json_parse`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BinaryArray, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ReturnFieldArgs, ScalarUDF};

use super::function::{Args, Function, udf};
use super::json_cast;
use super::text::{Double, cell};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![udf(Construct { object: false }), udf(Construct { object: true })]
}

/// The clauses of a call: whether a NULL value is kept (as JSON's `null`), whether keys must
/// be unique, and whether the text is returned as bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Clauses {
    null_on_null: bool,
    unique: bool,
    bytes: bool,
}

impl Clauses {
    fn parse(name: &str, object: bool, text: &str) -> Result<Self> {
        let words: Vec<String> = text.split_whitespace().map(str::to_ascii_uppercase).collect();
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let mut c = Clauses { null_on_null: object, unique: false, bytes: false };
        let mut i = 0;
        while i < w.len() {
            i += match &w[i..] {
                ["NULL", "ON", "NULL", ..] => {
                    c.null_on_null = true;
                    3
                }
                ["ABSENT", "ON", "NULL", ..] => {
                    c.null_on_null = false;
                    3
                }
                ["WITH", "UNIQUE", rest @ ..] if object => {
                    c.unique = true;
                    2 + usize::from(rest.first() == Some(&"KEYS"))
                }
                ["WITHOUT", "UNIQUE", rest @ ..] if object => 2 + usize::from(rest.first() == Some(&"KEYS")),
                ["RETURNING", "VARCHAR", rest @ ..] => {
                    // `VARCHAR ( n )`
                    2 + if rest.first() == Some(&"(") { 3 } else { 0 }
                }
                ["RETURNING", "VARBINARY", rest @ ..] => {
                    c.bytes = true;
                    match rest {
                        ["FORMAT", "JSON", "ENCODING", "UTF8", ..] => 6,
                        ["FORMAT", "JSON", "ENCODING", other, ..] => {
                            return plan_err!("{name}: ENCODING {other} is not supported (UTF8 is)");
                        }
                        ["FORMAT", "JSON", ..] => 4,
                        _ => 2,
                    }
                }
                _ => return plan_err!("{name}: unexpected '{}' in its clauses '{text}'", w[i]),
            };
        }
        Ok(c)
    }
}

/// `json_array(value, ... [ABSENT | NULL ON NULL] [RETURNING type])` and `json_object(key :
/// value, ... [NULL | ABSENT ON NULL] [WITH | WITHOUT UNIQUE KEYS] [RETURNING type])`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Construct {
    object: bool,
}

impl Construct {
    fn clauses(&self, constant: Option<&ScalarValue>) -> Result<Clauses> {
        let text = match constant {
            Some(v) => v.try_as_str().flatten().unwrap_or(""),
            None => return plan_err!("{}: its clauses must be constant", self.name()),
        };
        Clauses::parse(self.name(), self.object, text)
    }
}

impl Function for Construct {
    fn name(&self) -> &'static str {
        if self.object { "json_object" } else { "json_array" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        if t.is_empty() || self.object && t.len().is_multiple_of(2) {
            return plan_err!(
                "{name} takes its clauses, then {}",
                if self.object { "keys and values" } else { "values" }
            );
        }
        let mut out = t.to_vec();
        out[0] = DataType::Utf8;
        for (i, key) in t.iter().enumerate().skip(1).step_by(2).filter(|_| self.object) {
            out[i] =
                super::shared::varchar(name, key).or_else(|_| plan_err!("{name}: a key is a varchar, not {key}"))?;
        }
        Ok(out)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<arrow::datatypes::Field>> {
        let c = self.clauses(args.scalar_arguments.first().copied().flatten())?;
        let t = if c.bytes { DataType::Binary } else { DataType::Utf8 };
        Ok(Some(arrow::datatypes::Field::new(self.name(), t, true)))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let c = self.clauses(args.constant(0))?;
        let columns = args.columns()?;
        let mut texts = Vec::with_capacity(args.rows);
        for row in 0..args.rows {
            let mut out = String::from(if self.object { "{" } else { "[" });
            let mut keys: Vec<&str> = Vec::new();
            let step = if self.object { 2 } else { 1 };
            for i in (1..columns.len()).step_by(step) {
                let (value_at, key) = if self.object {
                    let keys_column = columns[i].as_any().downcast_ref::<StringArray>().expect("coerced to varchar");
                    if keys_column.is_null(row) {
                        return exec_err!("null value passed for JSON object key to JSON_OBJECT function");
                    }
                    (i + 1, Some(keys_column.value(row)))
                } else {
                    (i, None)
                };
                let value = literal(args, &columns, value_at, row);
                if value.is_none() && !c.null_on_null {
                    continue;
                }
                if out.len() > 1 {
                    out.push(',');
                }
                if let Some(key) = key {
                    if c.unique && keys.contains(&key) {
                        return exec_err!("duplicate key passed to JSON_OBJECT function");
                    }
                    keys.push(key);
                    out.push_str(&serde_json::Value::from(key).to_string());
                    out.push(':');
                }
                out.push_str(value.as_deref().unwrap_or("null"));
            }
            out.push(if self.object { '}' } else { ']' });
            texts.push(out);
        }
        Ok(if c.bytes {
            Arc::new(texts.iter().map(|t| Some(t.as_bytes())).collect::<BinaryArray>())
        } else {
            Arc::new(StringArray::from(texts))
        })
    }
}

/// Argument `i`'s value on `row` as JSON text (`None` for NULL): a JSON value's own text, a
/// boolean or number as JSON writes it, anything else the JSON string of its text.
fn literal(args: &Args, columns: &[ArrayRef], i: usize, row: usize) -> Option<String> {
    let (field, column) = (args.field(i), columns[i].as_ref());
    let text = cell(field, column, row, Double::Shown)?;
    let number = column.data_type().is_numeric() && !matches!(text.as_str(), "NaN" | "Infinity" | "-Infinity");
    Some(if json_cast::is_json(field) || number || *column.data_type() == DataType::Boolean {
        text
    } else {
        serde_json::Value::from(text).to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_read_as_trino_writes_them() {
        let c =
            Clauses::parse("json_object", true, "ABSENT ON NULL WITH UNIQUE KEYS RETURNING VARCHAR ( 100 )").unwrap();
        assert_eq!(c, Clauses { null_on_null: false, unique: true, bytes: false });
        assert!(!Clauses::parse("json_array", false, "").unwrap().null_on_null);
        assert!(Clauses::parse("json_object", true, "").unwrap().null_on_null);
        assert!(Clauses::parse("json_array", false, "RETURNING VARBINARY FORMAT JSON ENCODING UTF8").unwrap().bytes);
        assert!(Clauses::parse("json_array", false, "WITH UNIQUE KEYS").is_err());
        assert!(Clauses::parse("json_array", false, "RETURNING VARBINARY FORMAT JSON ENCODING UTF16").is_err());
    }
}
