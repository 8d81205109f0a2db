//! Views as Athena keeps them. Athena stores a view in Glue as a `VIRTUAL_VIEW` table whose
//! original text is `/* Presto View: <base64 of a JSON document> */`: the SELECT as written,
//! the catalog and schema it resolves names in, and the columns with Trino's type names. The
//! lake's catalog keeps exactly that document (`_b3lake/catalog/views/<name>.json`), so a view
//! made locally reaches Athena unchanged and a view made in Athena comes back the same.

use arrow::datatypes::DataType;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::Error;
use super::types::hive_type;

/// What Glue's `ViewOriginalText` starts with.
const PRESTO_PREFIX: &str = "/* Presto View: ";
const PRESTO_SUFFIX: &str = " */";
/// Glue's `ViewExpandedText` for an Athena view.
pub const EXPANDED_TEXT: &str = "/* Presto View */";

/// The views b3lake ships, from `catalog/views/`.
const BUILTIN: [&str; 2] = [
    include_str!("../../catalog/views/cotacoes_b3_ultima_sessao.sql"),
    include_str!("../../catalog/views/cotacoes_b3_mercado_vista.sql"),
];

/// The built-in views (their columns unknown until a session plans them).
pub fn builtin_views() -> Vec<ViewDef> {
    BUILTIN
        .iter()
        .map(|sql| {
            let v = parse_create_view(sql).expect("a CREATE VIEW").expect("a built-in view parses");
            ViewDef::new(&v.name, &v.query, "default")
        })
        .collect()
}

/// A column of a view: its name and Trino type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewColumn {
    /// The column's name.
    pub name: String,
    /// Trino's name of its type (`varchar`, `decimal(13,2)`, `array(integer)`).
    #[serde(rename = "type")]
    pub data_type: String,
}

/// A view: Athena's encoded definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewDef {
    /// The name, lower case (not part of the document; the file or Glue table names it).
    #[serde(skip)]
    pub name: String,
    /// The SELECT, as the user wrote it.
    pub original_sql: String,
    /// Where unqualified names resolve.
    pub catalog: String,
    /// The schema (Glue database) unqualified names resolve in.
    pub schema: String,
    /// The result's columns, as the SELECT produced them when the view was made; empty for a
    /// built-in view until a session plans it.
    pub columns: Vec<ViewColumn>,
    /// Who made it (Athena writes the caller's identity; b3lake writes nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Athena's views run with the definer's rights unless this says otherwise.
    #[serde(default)]
    pub run_as_invoker: bool,
    /// Athena's properties (none for views b3lake writes).
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

impl ViewDef {
    /// A view over `sql` in `schema`, its columns not yet known.
    pub fn new(name: &str, sql: &str, schema: &str) -> Self {
        Self {
            name: super::ddl::table_name(name),
            original_sql: sql.trim().trim_end_matches(';').trim_end().to_string(),
            catalog: crate::catalog::ATHENA_CATALOG.to_string(),
            schema: schema.to_string(),
            columns: Vec::new(),
            owner: None,
            run_as_invoker: false,
            properties: serde_json::Map::new(),
        }
    }

    /// The document as the lake's catalog stores it.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a view serializes")
    }

    /// A stored document; `name` and `origin` (the file) come from outside it.
    pub fn from_json(name: &str, text: &[u8], origin: &str) -> Result<Self, Error> {
        let mut def: ViewDef = serde_json::from_slice(text)
            .map_err(|e| Error::Ddl { origin: origin.to_string(), message: format!("not a view definition: {e}") })?;
        def.name = super::ddl::table_name(name);
        Ok(def)
    }

    /// Glue's `ViewOriginalText`, as Athena writes it.
    pub fn glue_original_text(&self) -> String {
        let encoded = base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(self).expect("serializes"));
        format!("{PRESTO_PREFIX}{encoded}{PRESTO_SUFFIX}")
    }

    /// The view Athena encoded in a Glue `ViewOriginalText`.
    pub fn from_glue_original_text(name: &str, text: &str) -> Result<Self, Error> {
        let bad = |message: String| Error::Invalid(format!("view {name}: {message}"));
        let encoded = text
            .trim()
            .strip_prefix(PRESTO_PREFIX)
            .and_then(|t| t.strip_suffix(PRESTO_SUFFIX))
            .ok_or_else(|| bad("not an Athena view (no /* Presto View: ... */ text)".into()))?;
        let json = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|e| bad(e.to_string()))?;
        Self::from_json(name, &json, &format!("Glue view {name}"))
    }

    /// The statement that makes the view, runnable in Athena and here.
    pub fn to_ddl(&self) -> String {
        format!("CREATE VIEW \"{}\" AS\n{}", self.name.replace('"', "\"\""), self.original_sql)
    }

    /// The columns as Hive names them (Glue's storage descriptor of a view).
    pub fn hive_columns(&self) -> Vec<(String, String)> {
        self.columns.iter().map(|c| (c.name.clone(), hive_of_trino(&c.data_type))).collect()
    }
}

/// A `CREATE [OR REPLACE] VIEW name AS <query>` statement, split as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateView {
    /// The view's name, as the catalog keys it.
    pub name: String,
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// The query's text, as written.
    pub query: String,
}

/// Splits `sql` if it is a `CREATE [OR REPLACE] VIEW`: `None` for any other statement. Only
/// the keywords and the name are read; the query is the engine's to parse.
pub fn parse_create_view(sql: &str) -> Option<Result<CreateView, String>> {
    use datafusion::sql::sqlparser::keywords::Keyword;
    use datafusion::sql::sqlparser::tokenizer::Token;
    let words = crate::words::Words::new(sql)?;
    if !words.is(0, Keyword::CREATE) {
        return None;
    }
    let or_replace = words.is(1, Keyword::OR);
    if or_replace && !words.is(2, Keyword::REPLACE) {
        return None;
    }
    let mut i = if or_replace { 3 } else { 1 };
    if !words.is(i, Keyword::VIEW) {
        return None;
    }
    // The name: identifiers joined by dots, up to AS.
    let mut name = Vec::new();
    loop {
        i += 1;
        match words.get(i).map(|t| &t.token) {
            None => return Some(Err("expected AS <query> after the view's name".into())),
            Some(_) if words.is(i, Keyword::AS) && !name.is_empty() => break,
            Some(Token::Word(w)) => name.push(w.value.clone()),
            Some(Token::Period) => {}
            Some(other) => return Some(Err(format!("unexpected {other} in the view's name"))),
        }
    }
    let query = words.after(i).to_string();
    if query.is_empty() {
        return Some(Err("expected a query after AS".into()));
    }
    let name = match name.as_slice() {
        [n] => n.clone(),
        [schema, n] if schema.eq_ignore_ascii_case("default") => n.clone(),
        [catalog, schema, n]
            if catalog.eq_ignore_ascii_case(crate::catalog::ATHENA_CATALOG)
                && schema.eq_ignore_ascii_case("default") =>
        {
            n.clone()
        }
        _ => return Some(Err(format!("views are made in the default schema, not {}", name.join(".")))),
    };
    Some(Ok(CreateView { name: name.to_lowercase(), or_replace, query }))
}

/// Trino's name of an Arrow type, as Athena writes view columns and `DESCRIBE` shows them.
pub fn trino_type(data_type: &DataType) -> Result<String, String> {
    Ok(match data_type {
        DataType::Null => "unknown".into(),
        DataType::Int32 => "integer".into(),
        DataType::Float32 => "real".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "varbinary".into(),
        DataType::Timestamp(unit, None) => {
            let digits = match unit {
                arrow::datatypes::TimeUnit::Second => 0,
                arrow::datatypes::TimeUnit::Millisecond => 3,
                arrow::datatypes::TimeUnit::Microsecond => 6,
                arrow::datatypes::TimeUnit::Nanosecond => 9,
            };
            format!("timestamp({digits})")
        }
        DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) | DataType::FixedSizeList(f, _) => {
            format!("array({})", trino_type(f.data_type())?)
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("map({}, {})", trino_type(kv[0].data_type())?, trino_type(kv[1].data_type())?)
            }
            other => return Err(format!("no Trino type for the map entries {other}")),
        },
        DataType::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| Ok(format!("{} {}", f.name(), trino_type(f.data_type())?)))
                .collect::<Result<_, String>>()?;
            format!("row({})", fields.join(", "))
        }
        other => hive_type(other)?,
    })
}

/// Hive's name of a Trino type name (`varchar` is `string`, `array(integer)` is `array<int>`).
fn hive_of_trino(trino: &str) -> String {
    let t = trino.trim();
    let inner = |prefix: &str| t.strip_prefix(prefix).and_then(|r| r.strip_suffix(')'));
    if let Some(e) = inner("array(") {
        return format!("array<{}>", hive_of_trino(e));
    }
    if let Some(kv) = inner("map(")
        && let Some((k, v)) = split_top(kv)
    {
        return format!("map<{},{}>", hive_of_trino(k), hive_of_trino(v));
    }
    if let Some(fields) = inner("row(") {
        let mut parts = Vec::new();
        let mut rest = fields;
        loop {
            let (field, tail) = split_top(rest).unwrap_or((rest, ""));
            let (name, ty) = field.trim().split_once(' ').unwrap_or((field.trim(), "unknown"));
            parts.push(format!("{name}:{}", hive_of_trino(ty)));
            if tail.is_empty() {
                break;
            }
            rest = tail;
        }
        return format!("struct<{}>", parts.join(","));
    }
    match t {
        "varchar" => "string".into(),
        "integer" => "int".into(),
        "real" => "float".into(),
        "varbinary" => "binary".into(),
        t if t.starts_with("varchar(") || t.starts_with("char(") => "string".into(),
        t if t.starts_with("timestamp") => "timestamp".into(),
        t => t.to_string(),
    }
}

/// `a, b` split at its first comma outside parentheses.
fn split_top(text: &str) -> Option<(&str, &str)> {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return Some((text[..i].trim(), text[i + 1..].trim())),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{Field, Fields};

    use super::*;

    #[test]
    fn glue_text_round_trips_and_reads_athenas_own() {
        let mut v = ViewDef::new("Ultima", "SELECT 1 AS a;", "default");
        v.columns.push(ViewColumn { name: "a".into(), data_type: "integer".into() });
        let text = v.glue_original_text();
        assert!(text.starts_with("/* Presto View: ") && text.ends_with(" */"));
        assert_eq!(ViewDef::from_glue_original_text("ultima", &text).unwrap(), v);
        // As Athena writes it: base64 of {"originalSql": ..., "catalog": ..., ...}.
        let athena = r#"{"originalSql":"SELECT * FROM t","catalog":"awsdatacatalog","schema":"default","columns":[{"name":"x","type":"varchar"}],"owner":"arn:aws:iam::123456789012:user/a","runAsInvoker":false,"properties":{}}"#;
        let glue = format!("/* Presto View: {} */", base64::engine::general_purpose::STANDARD.encode(athena));
        let read = ViewDef::from_glue_original_text("v", &glue).unwrap();
        assert_eq!((read.original_sql.as_str(), read.columns[0].data_type.as_str()), ("SELECT * FROM t", "varchar"));
        assert!(ViewDef::from_glue_original_text("v", "SELECT 1").is_err());
    }

    #[test]
    fn create_view_is_split_as_written() {
        let v = parse_create_view("create or replace view \"default\".ultima AS\n  SELECT 'é' AS a -- x\n;")
            .unwrap()
            .unwrap();
        assert_eq!(v, CreateView { name: "ultima".into(), or_replace: true, query: "SELECT 'é' AS a -- x".into() });
        assert_eq!(parse_create_view("CREATE TABLE x AS SELECT 1"), None);
        assert_eq!(parse_create_view("SELECT 1"), None);
        assert!(parse_create_view("CREATE VIEW v AS").unwrap().is_err());
        assert!(parse_create_view("CREATE VIEW other.v AS SELECT 1").unwrap().is_err());
    }

    #[test]
    fn trino_and_hive_type_names() {
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int32, true)));
        let row = DataType::Struct(Fields::from(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Decimal128(13, 2), true),
        ]));
        assert_eq!(trino_type(&list).unwrap(), "array(integer)");
        assert_eq!(trino_type(&row).unwrap(), "row(a varchar, b decimal(13,2))");
        assert_eq!(trino_type(&DataType::Int64).unwrap(), "bigint");
        assert_eq!(hive_of_trino("row(a varchar, b decimal(13,2))"), "struct<a:string,b:decimal(13,2)>");
        assert_eq!(hive_of_trino("map(varchar, array(integer))"), "map<string,array<int>>");
        assert_eq!(hive_of_trino("timestamp(3)"), "timestamp");
    }
}
