//! Trino's SQL/JSON query functions: `json_exists`, `json_value` and `json_query`, over the
//! path language of [`super::sqljson_path`].
//!
//! Their clauses (`RETURNING`, `... ON EMPTY`, `... ON ERROR`, `WITH ARRAY WRAPPER`, `OMIT
//! QUOTES`) are SQL syntax the parser does not know; `syntax.rs` hands them over as a third
//! argument, a string of the clauses' words, and each `DEFAULT` expression as an argument after
//! it, in order. `PASSING` is refused: the path's `$name` variables are not supported.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BooleanBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, exec_err, plan_datafusion_err, plan_err};
use datafusion::logical_expr::{ReturnFieldArgs, ScalarUDF};

use super::function::{Args, Function, Parsed, Text, udf};
use super::json_cast;
use super::shared::{arity, varchar};
use super::sqljson_path::{self, Item, Path};
use super::text::{Double, float};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![udf(Exists), udf(Value), udf(Query)]
}

/// What a clause says to answer on an empty result or an error.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    Error,
    Null,
    True,
    False,
    EmptyArray,
    EmptyObject,
    /// The next `DEFAULT` argument.
    Default(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Wrapper {
    Without,
    Conditional,
    Unconditional,
}

/// The clauses of a call, read from their words.
#[derive(Debug, Clone, PartialEq)]
struct Clauses {
    returning: Option<String>,
    wrapper: Wrapper,
    omit_quotes: bool,
    on_empty: Option<Behaviour>,
    on_error: Option<Behaviour>,
}

impl Clauses {
    fn parse(name: &str, text: &str) -> Result<Self> {
        let words: Vec<String> = text.split_whitespace().map(str::to_ascii_uppercase).collect();
        let mut c =
            Clauses { returning: None, wrapper: Wrapper::Without, omit_quotes: false, on_empty: None, on_error: None };
        let (mut i, mut defaults) = (0, 0);
        let word = |i: usize| words.get(i).map(String::as_str);
        let bad =
            |at: usize| plan_err!("{name}: unexpected '{}' in its clauses '{text}'", words[at.min(words.len() - 1)]);
        while i < words.len() {
            match word(i) {
                Some("RETURNING") => {
                    let mut t = words.get(i + 1).cloned().unwrap_or_default();
                    i += 2;
                    if word(i) == Some("(") {
                        while let Some(w) = word(i) {
                            t.push_str(w);
                            i += 1;
                            if w == ")" {
                                break;
                            }
                        }
                    }
                    c.returning = Some(t);
                }
                Some("FORMAT") if word(i + 1) == Some("JSON") => {
                    i += 2;
                    if word(i) == Some("ENCODING") {
                        i += 2;
                    }
                }
                Some("PASSING") => return plan_err!("{name}: PASSING is not supported (the path's $variables)"),
                Some("WITHOUT") => {
                    i += 1 + usize::from(word(i + 1) == Some("ARRAY"));
                    if word(i) != Some("WRAPPER") {
                        return bad(i);
                    }
                    i += 1;
                }
                Some("WITH") => {
                    i += 1;
                    c.wrapper = match word(i) {
                        Some("CONDITIONAL") => {
                            i += 1;
                            Wrapper::Conditional
                        }
                        Some("UNCONDITIONAL") => {
                            i += 1;
                            Wrapper::Unconditional
                        }
                        _ => Wrapper::Unconditional,
                    };
                    i += usize::from(word(i) == Some("ARRAY"));
                    if word(i) != Some("WRAPPER") {
                        return bad(i);
                    }
                    i += 1;
                }
                Some(q @ ("KEEP" | "OMIT")) if word(i + 1) == Some("QUOTES") => {
                    c.omit_quotes = q == "OMIT";
                    i += 2;
                    if word(i) == Some("ON") && word(i + 1) == Some("SCALAR") && word(i + 2) == Some("STRING") {
                        i += 3;
                    }
                }
                Some(_) => {
                    let (behaviour, len) = match (word(i), word(i + 1)) {
                        (Some("ERROR"), _) => (Behaviour::Error, 1),
                        (Some("NULL"), _) => (Behaviour::Null, 1),
                        (Some("TRUE"), _) => (Behaviour::True, 1),
                        (Some("FALSE"), _) => (Behaviour::False, 1),
                        (Some("UNKNOWN"), _) => (Behaviour::Null, 1),
                        (Some("EMPTY"), Some("OBJECT")) => (Behaviour::EmptyObject, 2),
                        (Some("EMPTY"), Some("ARRAY")) => (Behaviour::EmptyArray, 2),
                        (Some("EMPTY"), _) => (Behaviour::EmptyArray, 1),
                        (Some("DEFAULT"), _) => {
                            defaults += 1;
                            (Behaviour::Default(defaults - 1), 1)
                        }
                        _ => return bad(i),
                    };
                    i += len;
                    match (word(i), word(i + 1)) {
                        (Some("ON"), Some("EMPTY")) => c.on_empty = Some(behaviour),
                        (Some("ON"), Some("ERROR")) => c.on_error = Some(behaviour),
                        _ => return bad(i),
                    }
                    i += 2;
                }
                None => break,
            }
        }
        Ok(c)
    }
}

/// The clauses of a call: argument 2 when there is one (`Some`), which must be a constant.
fn clauses_of(name: &str, clauses: Option<Option<&ScalarValue>>) -> Result<Clauses> {
    let text = match clauses {
        None => "",
        Some(Some(v)) => v.try_as_str().flatten().unwrap_or(""),
        Some(None) => return plan_err!("{name}: its clauses must be constant"),
    };
    Clauses::parse(name, text)
}

/// The arguments: JSON text, the path, then the clauses and `DEFAULT` values (any type).
fn coerce_args(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, t, 2..=5)?;
    let mut out = vec![varchar(name, &t[0])?, varchar(name, &t[1])?];
    if t.len() > 2 {
        out.push(varchar(name, &t[2])?);
    }
    out.extend(t.iter().skip(3).cloned());
    Ok(out)
}

/// Each row's result sequence: `None` for a NULL document or path, `Some(Err)` when the
/// document is not JSON or the path fails on it.
fn sequences<'a>(
    rows: usize,
    docs: &'a Text,
    paths: &'a Parsed<Path>,
) -> impl Iterator<Item = Result<Option<Result<Vec<Item>, String>>>> + 'a {
    (0..rows).map(move |i| {
        let (Some(doc), Some(path)) = (docs.get(i), paths.get(i)?) else { return Ok(None) };
        Ok(Some(Item::parse(doc).and_then(|d| path.eval(&d))))
    })
}

/// The document and path arguments `sequences` reads.
fn doc_and_path(args: &Args) -> Result<(Text, Parsed<Path>)> {
    Ok((Text::new(args, 0)?, Parsed::new(args, 1, path)?))
}

fn path(text: &str) -> Result<Path> {
    sqljson_path::parse(text).map_err(|e| plan_datafusion_err!("{e}"))
}

/// `json_exists(json, path [{TRUE | FALSE | UNKNOWN | ERROR} ON ERROR])`: whether the path
/// gives anything; an error answers `FALSE` unless the clause says otherwise.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Exists;

impl Function for Exists {
    fn name(&self) -> &'static str {
        "json_exists"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=3)?;
        coerce_args(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<Field>> {
        let c = clauses_of(self.name(), args.scalar_arguments.get(2).copied())?;
        if c.returning.is_some() || c.on_empty.is_some() || c.wrapper != Wrapper::Without || c.omit_quotes {
            return plan_err!("json_exists takes only an ON ERROR clause");
        }
        Ok(None)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let c = clauses_of(self.name(), (args.len() > 2).then(|| args.constant(2)))?;
        let (docs, paths) = doc_and_path(args)?;
        let mut out = BooleanBuilder::with_capacity(args.rows);
        for row in sequences(args.rows, &docs, &paths) {
            out.append_option(match row? {
                None => None,
                Some(Ok(items)) => Some(!items.is_empty()),
                Some(Err(e)) => match c.on_error.unwrap_or(Behaviour::False) {
                    Behaviour::Error => return exec_err!("json_exists: {e}"),
                    Behaviour::True => Some(true),
                    Behaviour::False => Some(false),
                    _ => None,
                },
            });
        }
        Ok(Arc::new(out.finish()))
    }
}

/// `json_value(json, path [RETURNING type] [... ON EMPTY] [... ON ERROR])`: the one scalar the
/// path gives, as `varchar` or the type asked for; NULL on an empty result or an error unless
/// the clauses say otherwise.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Value;

/// The SQL type a `RETURNING` clause names, and the width a `char(n)` pads to.
fn returning(name: &str, t: Option<&str>) -> Result<(DataType, Option<usize>)> {
    let Some(t) = t else { return Ok((DataType::Utf8, None)) };
    let (base, params) = t.split_once('(').unwrap_or((t, ""));
    let params: Vec<u64> = params.trim_end_matches(')').split(',').filter_map(|p| p.trim().parse().ok()).collect();
    Ok(match (base, params.as_slice()) {
        ("VARCHAR", _) => (DataType::Utf8, None),
        ("CHAR", [n]) => (DataType::Utf8, Some(*n as usize)),
        ("CHAR", []) => (DataType::Utf8, Some(1)),
        ("BIGINT", []) => (DataType::Int64, None),
        ("INTEGER" | "INT", []) => (DataType::Int32, None),
        ("SMALLINT", []) => (DataType::Int16, None),
        ("TINYINT", []) => (DataType::Int8, None),
        ("DOUBLE", []) => (DataType::Float64, None),
        ("REAL", []) => (DataType::Float32, None),
        ("BOOLEAN", []) => (DataType::Boolean, None),
        ("DATE", []) => (DataType::Date32, None),
        ("DECIMAL", []) => (DataType::Decimal128(38, 0), None),
        ("DECIMAL", [p]) => (DataType::Decimal128(*p as u8, 0), None),
        ("DECIMAL", [p, s]) => (DataType::Decimal128(*p as u8, *s as i8), None),
        _ => return plan_err!("{name}: RETURNING {t} is not supported"),
    })
}

impl Function for Value {
    fn name(&self) -> &'static str {
        "json_value"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        coerce_args(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<Field>> {
        let c = clauses_of(self.name(), args.scalar_arguments.get(2).copied())?;
        if c.wrapper != Wrapper::Without || c.omit_quotes {
            return plan_err!("json_value takes no WRAPPER or QUOTES clause");
        }
        let (t, _) = returning(self.name(), c.returning.as_deref())?;
        Ok(Some(Field::new(self.name(), t, true)))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let name = self.name();
        let c = clauses_of(name, (args.len() > 2).then(|| args.constant(2)))?;
        let (target, pad) = returning(name, c.returning.as_deref())?;
        let (docs, paths) = doc_and_path(args)?;
        // Each row: the scalar found, or which argument (or NULL) answers instead.
        enum Answer {
            Found(serde_json::Value),
            Null,
            Default(usize),
        }
        let settle = |b: Option<Behaviour>, why: String| -> Result<Answer> {
            match b.unwrap_or(Behaviour::Null) {
                Behaviour::Error => exec_err!("{name}: {why}"),
                Behaviour::Default(k) => Ok(Answer::Default(3 + k)),
                _ => Ok(Answer::Null),
            }
        };
        let mut answers = Vec::with_capacity(args.rows);
        for row in sequences(args.rows, &docs, &paths) {
            answers.push(match row? {
                None => Answer::Null,
                Some(Err(e)) => settle(c.on_error, e)?,
                Some(Ok(items)) => match items.as_slice() {
                    [] => settle(c.on_empty, "the path gives no item".into())?,
                    [Item::Null] => Answer::Null,
                    [item] if item.is_scalar() => Answer::Found(sql_value(item, &target)),
                    [_] => settle(c.on_error, "the path gives an array or an object".into())?,
                    _ => settle(c.on_error, "the path gives more than one item".into())?,
                },
            });
        }
        // The scalars found, converted as Trino's casts convert them; a row that does not
        // convert answers ON ERROR.
        let field = Field::new(name, target.clone(), true);
        for answer in answers.iter_mut() {
            if let Answer::Found(v) = answer
                && json_cast::read(&[Some(v)], &field).is_err()
            {
                let why = format!("'{v}' does not convert to {}", super::scalar::trino_type(&target));
                *answer = settle(c.on_error, why)?;
            }
        }
        let found: Vec<Option<&serde_json::Value>> =
            answers.iter().map(|a| if let Answer::Found(v) = a { Some(v) } else { None }).collect();
        let mut out = json_cast::read(&found, &field)?;
        // Rows answered by a DEFAULT take that argument's value, cast to the result's type.
        for k in 3..args.len() {
            let rows: Vec<bool> = answers.iter().map(|a| matches!(a, Answer::Default(d) if *d == k)).collect();
            if rows.iter().any(|&r| r) {
                let default = arrow::compute::cast(&args.column(k)?, &target)?;
                out = arrow::compute::kernels::zip::zip(&rows.into(), &default, &out)?;
            }
        }
        if let (Some(n), DataType::Utf8) = (pad, &target) {
            let text = out.as_string::<i32>();
            out = Arc::new(text.iter().map(|t| t.map(|t| format!("{t:<n$}"))).collect::<arrow::array::StringArray>());
        }
        Ok(out)
    }
}

/// A scalar item as the SQL value `json_cast::read` converts to `target`: a `double` spelled as
/// Trino's cast to `varchar` spells it when the target is text.
fn sql_value(item: &Item, target: &DataType) -> serde_json::Value {
    match item {
        Item::Bool(b) => (*b).into(),
        Item::Int(n) => (*n).into(),
        Item::Double(d) if *target == DataType::Utf8 => float(*d, Double::Cast).into(),
        Item::Double(d) => serde_json::Number::from_f64(*d).map_or(serde_json::Value::Null, Into::into),
        Item::Str(s) => s.as_str().into(),
        _ => serde_json::Value::Null,
    }
}

/// `json_query(json, path [wrapper] [quotes] [... ON EMPTY] [... ON ERROR])`: the JSON text of
/// the one item the path gives, or of all of them in an array with a wrapper.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Query;

impl Function for Query {
    fn name(&self) -> &'static str {
        "json_query"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=3)?;
        coerce_args(self.name(), t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field(&self, args: &ReturnFieldArgs) -> Result<Option<Field>> {
        let c = clauses_of(self.name(), args.scalar_arguments.get(2).copied())?;
        if !matches!(c.returning.as_deref(), None | Some("VARCHAR")) {
            return plan_err!("json_query: RETURNING {} is not supported", c.returning.unwrap_or_default());
        }
        if [c.on_empty, c.on_error]
            .iter()
            .any(|b| matches!(b, Some(Behaviour::Default(_) | Behaviour::True | Behaviour::False)))
        {
            return plan_err!("json_query answers ON EMPTY and ON ERROR with ERROR, NULL, EMPTY ARRAY or EMPTY OBJECT");
        }
        Ok(None)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let name = self.name();
        let c = clauses_of(name, (args.len() > 2).then(|| args.constant(2)))?;
        let settle = |b: Option<Behaviour>, why: String| -> Result<Option<String>> {
            match b.unwrap_or(Behaviour::Null) {
                Behaviour::Error => exec_err!("{name}: {why}"),
                Behaviour::EmptyArray => Ok(Some("[]".into())),
                Behaviour::EmptyObject => Ok(Some("{}".into())),
                _ => Ok(None),
            }
        };
        let (docs, paths) = doc_and_path(args)?;
        let mut out = StringBuilder::with_capacity(args.rows, args.rows * 8);
        for row in sequences(args.rows, &docs, &paths) {
            out.append_option(match row? {
                None => None,
                Some(Err(e)) => settle(c.on_error, e)?,
                Some(Ok(items)) if items.is_empty() => settle(c.on_empty, "the path gives no item".into())?,
                Some(Ok(mut items)) => {
                    let single_structure = items.len() == 1 && !items[0].is_scalar();
                    match c.wrapper {
                        Wrapper::Unconditional => Some(Item::Array(items).json()),
                        Wrapper::Conditional if !single_structure => Some(Item::Array(items).json()),
                        _ if items.len() > 1 => settle(c.on_error, "the path gives more than one item".into())?,
                        _ => match items.pop() {
                            Some(Item::Str(s)) if c.omit_quotes => Some(s),
                            item => item.map(|i| i.json()),
                        },
                    }
                }
            });
        }
        Ok(Arc::new(out.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_read_as_trino_writes_them() {
        let c = Clauses::parse("json_value", "RETURNING DECIMAL ( 10 , 2 ) DEFAULT ON EMPTY ERROR ON ERROR").unwrap();
        assert_eq!(c.returning.as_deref(), Some("DECIMAL(10,2)"));
        assert_eq!((c.on_empty, c.on_error), (Some(Behaviour::Default(0)), Some(Behaviour::Error)));
        let c = Clauses::parse(
            "json_query",
            "with conditional array wrapper omit quotes on scalar string empty object on empty",
        )
        .unwrap();
        assert_eq!((c.wrapper, c.omit_quotes, c.on_empty), (Wrapper::Conditional, true, Some(Behaviour::EmptyObject)));
        assert_eq!(Clauses::parse("json_query", "WITH WRAPPER").unwrap().wrapper, Wrapper::Unconditional);
        assert!(Clauses::parse("json_query", "WITH SOME WRAPPER").is_err());
        assert!(Clauses::parse("json_value", "PASSING").is_err());
        assert!(Clauses::parse("json_value", "NULL ON NOTHING").is_err());
    }
}
