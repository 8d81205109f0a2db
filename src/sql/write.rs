//! The statements that write a query's rows into the lake, as Athena runs them:
//! `CREATE TABLE ... WITH (...) AS <query> [WITH NO DATA]` (CTAS), `INSERT INTO t [(cols)]
//! <query>` and `UNLOAD (<query>) TO '...' WITH (...)`.
//!
//! Every one writes new files under names no file has, staged where no table looks, then
//! committed together ([`crate::lake::staging::Additions`]): readers see none of them until
//! the partition index names them all, a failed statement leaves the lake as it was, and one
//! that dies after its commit record is finished by the next writer. Athena's limits hold
//! with Athena's words: at most 100 partitions a statement, and a CTAS or UNLOAD writes only
//! to an empty location.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, UInt32Array, new_null_array};
use arrow::compute::{CastOptions, cast_with_options, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::FormatOptions;
use bytes::Bytes;
use datafusion::physical_plan::execute_stream;
use datafusion::sql::sqlparser::ast::{Expr, SqlOption, Value};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};

use super::session::{CATALOG, Session};
use super::{Error, Result};
use crate::catalog::ddl::{Column, in_lake, table_name};
use crate::catalog::partition::{canonical, default_location};
use crate::catalog::types::{hive_type, parse_hive_type};
use crate::catalog::{Catalog, DataFile, Partition, TableDef};
use crate::lake::layout::HIVE_DEFAULT_PARTITION;
use crate::lake::staging::Additions;

/// Athena's limit on the partitions one statement writes.
pub const MAX_PARTITIONS: usize = 100;
/// A file is closed and a new one started past this many encoded bytes, so a statement's
/// memory is bounded by its open partitions, not by its rows.
const FILE_BYTES: usize = 64 << 20;
/// Files encoded at once when a statement closes them.
const ENCODERS: usize = 8;
/// Rows a partition holds before they are encoded (so at most 100 times this is held).
const PENDING_BYTES: usize = 2 << 20;

/// A statement that writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// `CREATE TABLE ... AS`.
    CreateTableAs {
        /// The new table.
        name: String,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The `WITH (...)` properties.
        options: Options,
        /// The query, as written.
        query: String,
        /// False for `WITH NO DATA`.
        with_data: bool,
    },
    /// `INSERT INTO`.
    Insert {
        /// The table.
        table: String,
        /// The columns named, if any (the others are NULL).
        columns: Option<Vec<String>>,
        /// The query or `VALUES`, as written.
        query: String,
    },
    /// `UNLOAD`.
    Unload {
        /// The query, as written.
        query: String,
        /// `TO`.
        location: String,
        /// The `WITH (...)` properties.
        options: Options,
    },
}

/// `WITH (key = value, ...)`: strings, numbers and `ARRAY[...]`s of them, keys lower case.
pub type Options = BTreeMap<String, OptionValue>;

/// One property's value.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// A string or a number.
    Text(String),
    /// `ARRAY['a', 'b']`.
    List(Vec<String>),
}

/// The writing statement `sql` is, if it is one.
pub fn parse(sql: &str) -> Option<Result<Write>> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location().ok()?;
    let words: Vec<&TokenWithSpan> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    let is = |i: usize, k: Keyword| matches!(words.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == k && w.quote_style.is_none());
    let usage = |e: String| Error::Usage(e);
    if is(0, Keyword::CREATE) && is(1, Keyword::TABLE) {
        // `AS` outside parentheses ends the header.
        let at = top_level(&words).find(|&i| is(i, Keyword::AS))?;
        let (mut query, with_data) = strip_with_data(rest(sql, words[at]));
        query = query.trim().to_string();
        let header = &sql[..offset(sql, words[at].span.start)];
        return Some(ctas_header(header).map_err(usage).and_then(|(name, if_not_exists, options)| {
            non_empty(&query)?;
            Ok(Write::CreateTableAs { name, if_not_exists, options, query, with_data })
        }));
    }
    if is(0, Keyword::INSERT) && is(1, Keyword::INTO) {
        return Some(insert(sql, &words).map_err(usage));
    }
    if is(0, Keyword::UNLOAD) {
        return Some(unload(sql, &words).map_err(usage));
    }
    None
}

/// Indexes of the tokens outside parentheses and brackets.
fn top_level<'a>(words: &'a [&TokenWithSpan]) -> impl Iterator<Item = usize> + 'a {
    let mut depth = 0i32;
    words.iter().enumerate().filter_map(move |(i, t)| {
        let here = depth;
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            _ => {}
        }
        (here == 0).then_some(i)
    })
}

fn offset(sql: &str, at: datafusion::sql::sqlparser::tokenizer::Location) -> usize {
    let mut offset = 0;
    for (i, line) in sql.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == at.line {
            return offset
                + line.char_indices().nth(at.column.saturating_sub(1) as usize).map_or(line.len(), |(b, _)| b);
        }
        offset += line.len();
    }
    sql.len()
}

/// The text after token `t`, without a final `;`.
fn rest<'a>(sql: &'a str, t: &TokenWithSpan) -> &'a str {
    sql[offset(sql, t.span.end)..].trim().trim_end_matches(';').trim_end()
}

fn non_empty(query: &str) -> Result<()> {
    if query.is_empty() { Err(Error::Usage("expected a query".into())) } else { Ok(()) }
}

/// A query without its trailing `WITH [NO] DATA`, and whether it keeps the data.
fn strip_with_data(query: &str) -> (String, bool) {
    let words: Vec<&str> = query.split_whitespace().collect();
    let upper: Vec<String> = words.iter().rev().take(3).map(|w| w.to_uppercase()).collect();
    let cut = |n: usize| {
        let mut text = query.trim_end();
        for _ in 0..n {
            text = text[..text.rfind(char::is_whitespace).unwrap_or(0)].trim_end();
        }
        text.to_string()
    };
    match upper.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["DATA", "NO", "WITH", ..] => (cut(3), false),
        ["DATA", "WITH", ..] => (cut(2), true),
        _ => (query.to_string(), true),
    }
}

fn parser(sql: &str) -> std::result::Result<Parser<'static>, String> {
    static DIALECT: GenericDialect = GenericDialect {};
    Parser::new(&DIALECT).try_with_sql(sql).map_err(|e| e.to_string())
}

fn ctas_header(header: &str) -> std::result::Result<(String, bool, Options), String> {
    let mut p = parser(header)?;
    let e = |e: datafusion::sql::sqlparser::parser::ParserError| e.to_string();
    p.expect_keywords(&[Keyword::CREATE, Keyword::TABLE]).map_err(e)?;
    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = table_name(&p.parse_object_name(false).map_err(e)?.to_string());
    let options = options(p.parse_options(Keyword::WITH).map_err(e)?)?;
    if p.peek_token().token != Token::EOF {
        return Err(format!("expected WITH (...) AS <query>, found {}", p.peek_token()));
    }
    Ok((name, if_not_exists, options))
}

fn insert(sql: &str, words: &[&TokenWithSpan]) -> std::result::Result<Write, String> {
    // The name, then an optional column list, then the query (SELECT, VALUES, WITH or `(`).
    let mut i = 2;
    let mut name = String::new();
    while let Some(t) = words.get(i) {
        match &t.token {
            Token::Word(w) => name.push_str(&w.value),
            Token::Period => name.push('.'),
            _ => break,
        }
        i += 1;
        if !matches!(words.get(i).map(|t| &t.token), Some(Token::Period)) && !name.ends_with('.') {
            break;
        }
    }
    if name.is_empty() {
        return Err("expected a table name after INSERT INTO".into());
    }
    let starts_query = |t: &Token| match t {
        Token::Word(w) => matches!(w.keyword, Keyword::SELECT | Keyword::VALUES | Keyword::WITH | Keyword::TABLE),
        _ => false,
    };
    let mut columns = None;
    if matches!(words.get(i).map(|t| &t.token), Some(Token::LParen))
        && !words.get(i + 1).is_some_and(|t| starts_query(&t.token))
    {
        let mut list = Vec::new();
        i += 1;
        loop {
            match words.get(i).map(|t| &t.token) {
                Some(Token::Word(w)) => list.push(w.value.to_lowercase()),
                Some(Token::Comma) => {}
                Some(Token::RParen) => break,
                other => return Err(format!("expected a column name, found {other:?}")),
            }
            i += 1;
        }
        i += 1;
        columns = Some(list);
    }
    let first = words.get(i).ok_or("expected a query after INSERT INTO")?;
    let query = sql[offset(sql, first.span.start)..].trim().trim_end_matches(';').trim_end().to_string();
    Ok(Write::Insert { table: table_name(&name), columns, query })
}

fn unload(sql: &str, words: &[&TokenWithSpan]) -> std::result::Result<Write, String> {
    if !matches!(words.get(1).map(|t| &t.token), Some(Token::LParen)) {
        return Err("expected UNLOAD (<query>) TO 'location' WITH (...)".into());
    }
    let mut depth = 0;
    let close = words
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, t)| {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            depth == 0
        })
        .map(|(i, _)| i)
        .ok_or("UNLOAD's query has no closing parenthesis")?;
    let query = sql[offset(sql, words[1].span.end)..offset(sql, words[close].span.start)].trim().to_string();
    let tail = &sql[offset(sql, words[close].span.end)..];
    let mut p = parser(tail)?;
    let e = |e: datafusion::sql::sqlparser::parser::ParserError| e.to_string();
    p.expect_keyword(Keyword::TO).map_err(e)?;
    let location = p.parse_literal_string().map_err(e)?;
    let options = options(p.parse_options(Keyword::WITH).map_err(e)?)?;
    while p.consume_token(&Token::SemiColon) {}
    if p.peek_token().token != Token::EOF {
        return Err(format!("unexpected {} after UNLOAD's properties", p.peek_token()));
    }
    Ok(Write::Unload { query, location, options })
}

fn options(list: Vec<SqlOption>) -> std::result::Result<Options, String> {
    let scalar = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Ok(s.clone()),
            Value::Number(n, _) => Ok(n.clone()),
            other => Err(format!("unsupported property value {other}")),
        },
        other => Err(format!("unsupported property value {other}")),
    };
    let mut out = Options::new();
    for option in list {
        let SqlOption::KeyValue { key, value } = option else {
            return Err(format!("unsupported property {option}"));
        };
        let value = match &value {
            Expr::Array(a) => OptionValue::List(a.elem.iter().map(scalar).collect::<Result<_, _>>()?),
            other => OptionValue::Text(scalar(other)?),
        };
        out.insert(key.value.to_lowercase(), value);
    }
    Ok(out)
}

/// Runs a writing statement holding the lake's writer lock; returns the rows written.
pub async fn run(session: &Session, write: Write) -> Result<Vec<RecordBatch>> {
    let lake = session.catalog().lake().clone();
    let what = match &write {
        Write::CreateTableAs { .. } => "CREATE TABLE AS",
        Write::Insert { .. } => "INSERT INTO",
        Write::Unload { .. } => "UNLOAD",
    };
    let rows = crate::ingest::locked(&lake, what, async {
        match write {
            Write::CreateTableAs { name, if_not_exists, options, query, with_data } => {
                create_table_as(session, name, if_not_exists, options, &query, with_data).await
            }
            Write::Insert { table, columns, query } => insert_into(session, &table, columns, &query).await,
            Write::Unload { query, location, options } => unload_to(session, &query, &location, options).await,
        }
    })
    .await?;
    session.refresh().await?;
    let schema = Arc::new(Schema::new(vec![Field::new("rows", DataType::Int64, false)]));
    Ok(vec![
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![rows as i64]))])
            .map_err(|e| Error::Usage(e.to_string()))?,
    ])
}

/// Takes `key` out of `options` as text.
fn text(options: &mut Options, key: &str) -> Result<Option<String>> {
    match options.remove(key) {
        None => Ok(None),
        Some(OptionValue::Text(t)) => Ok(Some(t)),
        Some(OptionValue::List(_)) => Err(Error::Usage(format!("property {key} takes a value, not an ARRAY"))),
    }
}

fn list(options: &mut Options, key: &str) -> Result<Vec<String>> {
    match options.remove(key) {
        None => Ok(vec![]),
        Some(OptionValue::List(l)) => Ok(l.into_iter().map(|c| c.to_lowercase()).collect()),
        Some(OptionValue::Text(_)) => Err(Error::Usage(format!("property {key} takes an ARRAY['...']"))),
    }
}

/// Refuses properties left over, as Trino does.
fn no_more(options: Options) -> Result<()> {
    match options.into_keys().next() {
        None => Ok(()),
        Some(key) => Err(Error::Usage(format!("Catalog '{CATALOG}' table property '{key}' does not exist"))),
    }
}

/// The Parquet codec of `write_compression` (Athena's default for Parquet is GZIP).
fn parquet_codec(name: Option<&str>) -> Result<(Compression, String)> {
    let name = name.unwrap_or("GZIP").to_uppercase();
    let codec = match name.as_str() {
        "SNAPPY" => Compression::SNAPPY,
        "GZIP" => Compression::GZIP(GzipLevel::default()),
        "ZSTD" => Compression::ZSTD(ZstdLevel::default()),
        "LZ4" => Compression::LZ4_RAW,
        "NONE" | "UNCOMPRESSED" => Compression::UNCOMPRESSED,
        other => {
            return Err(Error::Usage(format!(
                "write_compression '{other}' is not one Parquet takes here (SNAPPY, GZIP, ZSTD, LZ4, NONE)"
            )));
        }
    };
    Ok((codec, name))
}

/// The query planned, and its columns named as Athena names them (lower case).
async fn planned(session: &Session, query: &str) -> Result<datafusion::prelude::DataFrame> {
    session.plan(query).await
}

/// A location inside the lake, relative to its root, or Athena-like refusal.
fn lake_folder(session: &Session, location: &str) -> Result<String> {
    let lake_url = session.catalog().lake_url();
    let location = super::statements::local_path(location, session)?;
    let folder = in_lake(&location, &lake_url).ok_or_else(|| {
        Error::Usage(format!(
            "location {location} lies outside the lake ({lake_url}); b3lake writes inside the lake only"
        ))
    })?;
    // b3lake's own folders (`_b3lake/`, `_staging/`) hold no table.
    if folder.split('/').any(|segment| segment.starts_with('_') || segment.starts_with('.')) {
        return Err(Error::Usage(format!(
            "location {location}: a folder whose name starts with _ or . holds no table"
        )));
    }
    Ok(folder)
}

async fn is_empty(session: &Session, folder: &str) -> Result<bool> {
    let lake = session.catalog().lake();
    let mut listing = lake.store().list(Some(&lake.path(folder)));
    match listing.next().await {
        None => Ok(true),
        Some(Ok(_)) => Ok(false),
        Some(Err(source)) => Err(crate::lake::Error::Store { path: folder.to_string(), source }.into()),
    }
}

async fn create_table_as(
    session: &Session,
    name: String,
    if_not_exists: bool,
    mut options: Options,
    query: &str,
    with_data: bool,
) -> Result<u64> {
    let catalog = session.catalog();
    if catalog.table(&name).await?.is_some() || catalog.view(&name).await?.is_some() {
        if if_not_exists {
            return Ok(0);
        }
        return Err(Error::Usage(format!("Table '{CATALOG}.default.{name}' already exists")));
    }
    let format = text(&mut options, "format")?.unwrap_or_else(|| "PARQUET".into()).to_uppercase();
    if format != "PARQUET" {
        return Err(Error::Usage(format!(
            "format '{format}': b3lake's tables are Parquet (format = 'PARQUET'); UNLOAD writes the other formats"
        )));
    }
    let compression = match text(&mut options, "write_compression")? {
        Some(c) => Some(c),
        None => text(&mut options, "parquet_compression")?,
    };
    let (codec, codec_name) = parquet_codec(compression.as_deref())?;
    let query_id = query_id();
    let location = match text(&mut options, "external_location")? {
        Some(l) => lake_folder(session, &l)?,
        // Athena writes to the workgroup's location, a folder per query.
        None => format!("tables/{name}/{query_id}"),
    };
    let keys = list(&mut options, "partitioned_by")?;
    let bucketed_by = list(&mut options, "bucketed_by")?;
    let buckets = match (bucketed_by.is_empty(), text(&mut options, "bucket_count")?) {
        (true, None) => None,
        (false, Some(n)) => {
            let count = n.parse::<u32>().ok().filter(|n| (1..=MAX_PARTITIONS as u32).contains(n));
            let count = count.ok_or_else(|| Error::Usage(format!("bucket_count {n}: a number from 1 to 100")))?;
            Some(crate::catalog::ddl::Buckets { columns: bucketed_by, count })
        }
        _ => return Err(Error::Usage("bucketed_by and bucket_count go together".into())),
    };
    no_more(options)?;
    let df = planned(session, query).await?;
    let schema = df.schema().as_arrow().clone();
    let fields: Vec<Column> = schema
        .fields()
        .iter()
        .map(|f| {
            let hive = hive_type(f.data_type()).map_err(|e| Error::Usage(format!("column {}: {e}", f.name())))?;
            Ok(Column::new(f.name().to_lowercase(), parse_hive_type(&hive).map_err(Error::Usage)?))
        })
        .collect::<Result<_>>()?;
    let n = fields.len();
    if keys.len() >= n || fields[n - keys.len()..].iter().map(|c| &c.name).ne(keys.iter()) {
        return Err(Error::Usage(format!(
            "HIVE_COLUMN_ORDER_MISMATCH: Partition keys must be the last columns in the table and in the same order as \
             the table properties: [{}]",
            keys.join(", ")
        )));
    }
    let def = TableDef {
        name: name.clone(),
        columns: fields[..n - keys.len()].to_vec(),
        partition_keys: fields[n - keys.len()..].to_vec(),
        location: format!("{}/{location}/", crate::catalog::ddl::LAKE_VAR),
        properties: [("classification", "parquet".to_string()), ("parquet.compression", codec_name)]
            .into_iter()
            .chain(buckets.is_some().then(|| ("bucketing_version", "1".to_string())))
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        buckets,
    };
    if let Some(b) = def.buckets.iter().flat_map(|b| &b.columns).find(|b| !def.columns.iter().any(|c| &c.name == *b)) {
        return Err(Error::Usage(format!("bucketed_by {b}: not a column of the query (or a partition key)")));
    }
    let url = def.resolved_location(&catalog.lake_url());
    if !is_empty(session, &location).await? {
        return Err(Error::Usage(format!(
            "HIVE_PATH_ALREADY_EXISTS: Target directory for table 'default.{name}' already exists: {url}. You may need \
             to manually clean the data at location '{url}' before retrying. Athena will not delete data in your account."
        )));
    }
    if !with_data {
        catalog.create_table(&def).await?;
        return Ok(0);
    }
    let target =
        Target { def: Some(def.clone()), folder: location, existing: HashMap::new(), format: Format::Parquet(codec) };
    let written = write_rows(session, df, &target, &query_id).await?;
    // The table first, then its files: a statement that dies in between leaves an empty table.
    catalog.create_table(&def).await?;
    if let Err(e) = publish(session, &def, written.additions, &written.partitions, &HashMap::new()).await {
        let _ = catalog.drop_table(&def.name).await;
        return Err(e);
    }
    Ok(written.rows)
}

async fn insert_into(session: &Session, table: &str, columns: Option<Vec<String>>, query: &str) -> Result<u64> {
    let catalog = session.catalog();
    let Some(def) = catalog.table(table).await? else {
        if catalog.view(table).await?.is_some() {
            return Err(Error::Usage("Inserting into views is not supported".into()));
        }
        return Err(Error::Usage(format!("Table '{CATALOG}.default.{table}' does not exist")));
    };
    if def.buckets.is_some() {
        return Err(Error::Usage("INSERT INTO is not supported on bucketed tables".into()));
    }
    let folder =
        def.lake_prefix().ok_or_else(|| Error::Usage(format!("table {table} lies outside the lake")))?.to_string();
    let all: Vec<&Column> = def.columns.iter().chain(&def.partition_keys).collect();
    let named: Vec<String> = match &columns {
        Some(list) => {
            for c in list {
                if !all.iter().any(|a| &a.name == c) {
                    return Err(Error::Usage(format!("Insert column name does not exist in target table: {c}")));
                }
            }
            list.clone()
        }
        None => all.iter().map(|c| c.name.clone()).collect(),
    };
    let df = planned(session, query).await?;
    let schema = df.schema().as_arrow().clone();
    if schema.fields().len() != named.len() {
        return Err(Error::Usage(format!(
            "Insert query has mismatched column size: the table's columns {}, the query's {}",
            named.len(),
            schema.fields().len()
        )));
    }
    let mismatched: Vec<usize> = named
        .iter()
        .zip(schema.fields())
        .enumerate()
        .filter(|(_, (name, f))| {
            let target = &all.iter().find(|c| &c.name == *name).expect("checked").data_type;
            !assignable(f.data_type(), target)
        })
        .map(|(i, _)| i)
        .collect();
    if !mismatched.is_empty() {
        let names = |types: Vec<String>| format!("[{}]", types.join(", "));
        let table_types = named
            .iter()
            .map(|n| all.iter().find(|c| &c.name == n).map(|c| type_name(&c.data_type)).unwrap_or_default())
            .collect();
        return Err(Error::Usage(format!(
            "Insert query has mismatched column types: Table: {}, Query: {}",
            names(table_types),
            names(schema.fields().iter().map(|f| type_name(f.data_type())).collect())
        )));
    }
    // The query's columns in the table's order, the missing ones NULL.
    let order: Vec<Option<usize>> = all.iter().map(|c| named.iter().position(|n| *n == c.name)).collect();
    let existing: HashMap<Vec<String>, Partition> = if def.partition_keys.is_empty() {
        HashMap::new()
    } else {
        catalog.partitions(&def, &[]).await?.into_iter().map(|p| (p.values.clone(), p)).collect()
    };
    let query_id = query_id();
    let target =
        Target { def: Some(def.clone()), folder, existing: existing.clone(), format: Format::Parquet(codec_of(&def)?) };
    let df = reorder(df, &order, &all)?;
    let written = write_rows(session, df, &target, &query_id).await?;
    if written.rows > 0 {
        publish(session, &def, written.additions, &written.partitions, &existing).await?;
    } else {
        written.additions.abort().await?;
    }
    Ok(written.rows)
}

/// The table's compression, for the files an INSERT adds.
fn codec_of(def: &TableDef) -> Result<Compression> {
    let name = def.properties.get("parquet.compression").or_else(|| def.properties.get("write.compression"));
    Ok(parquet_codec(Some(name.map_or("SNAPPY", String::as_str)))?.0)
}

/// The DataFrame with the table's columns in order, cast to the table's types at write time.
fn reorder(
    df: datafusion::prelude::DataFrame,
    order: &[Option<usize>],
    all: &[&Column],
) -> Result<datafusion::prelude::DataFrame> {
    use datafusion::prelude::{cast, col, lit};
    let fields: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
    let exprs = order
        .iter()
        .zip(all)
        .map(|(i, c)| match i {
            Some(i) => {
                cast(col(datafusion::common::Column::from_name(&fields[*i])), c.data_type.clone()).alias(&c.name)
            }
            None => cast(lit(datafusion::common::ScalarValue::Null), c.data_type.clone()).alias(&c.name),
        })
        .collect::<Vec<_>>();
    Ok(df.select(exprs)?)
}

/// Whether a query's column of type `from` goes into a column of type `to` (Trino's implicit
/// coercions: numbers into numbers, text into text, a NULL into anything).
fn assignable(from: &DataType, to: &DataType) -> bool {
    let family = |t: &DataType| {
        if t.is_numeric() {
            1
        } else if matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
            2
        } else if matches!(t, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)) {
            3
        } else {
            4
        }
    };
    from == to || matches!(from, DataType::Null) || (family(from) == family(to) && family(from) != 4)
}

fn type_name(t: &DataType) -> String {
    crate::catalog::view::trino_type(t).unwrap_or_else(|_| t.to_string())
}

async fn unload_to(session: &Session, query: &str, location: &str, mut options: Options) -> Result<u64> {
    let folder = lake_folder(session, location)?;
    let format = text(&mut options, "format")?.unwrap_or_else(|| "PARQUET".into()).to_uppercase();
    let compression = text(&mut options, "compression")?;
    let delimiter = text(&mut options, "field_delimiter")?;
    let keys = list(&mut options, "partitioned_by")?;
    no_more(options)?;
    let format = match format.as_str() {
        "PARQUET" => Format::Parquet(parquet_codec(compression.as_deref())?.0),
        "TEXTFILE" | "JSON" => {
            let gzip = match compression.as_deref().map(str::to_uppercase).as_deref() {
                None | Some("GZIP") => true,
                Some("NONE") => false,
                Some(other) => {
                    return Err(Error::Usage(format!("compression '{other}' for {format}: GZIP or NONE here")));
                }
            };
            if format == "JSON" {
                Format::Json { gzip }
            } else {
                let delimiter = delimiter.unwrap_or_else(|| "\u{1}".into());
                if delimiter.chars().count() != 1 {
                    return Err(Error::Usage(format!("field_delimiter '{delimiter}' must be one character")));
                }
                Format::Text { gzip, delimiter }
            }
        }
        other => {
            return Err(Error::Usage(format!(
                "format '{other}': UNLOAD writes PARQUET, TEXTFILE and JSON here (not ORC or AVRO)"
            )));
        }
    };
    let df = planned(session, query).await?;
    let schema = df.schema().as_arrow().clone();
    let n = schema.fields().len();
    let last: Vec<String> =
        schema.fields()[n.saturating_sub(keys.len())..].iter().map(|f| f.name().to_lowercase()).collect();
    if keys.len() >= n || last != keys {
        return Err(Error::Usage(format!(
            "HIVE_COLUMN_ORDER_MISMATCH: Partition keys must be the last columns of the query and in the same order as \
             partitioned_by: [{}]",
            keys.join(", ")
        )));
    }
    // Athena writes only into an empty location, unless it writes partitions.
    if keys.is_empty() && !is_empty(session, &folder).await? {
        let url = session.catalog().lake().file_url(&folder);
        return Err(Error::Usage(format!(
            "HIVE_PATH_ALREADY_EXISTS: UNLOAD's target location {url} is not empty; UNLOAD writes only to an empty \
             location (or partitions)"
        )));
    }
    let partition_keys = schema.fields()[n - keys.len()..]
        .iter()
        .map(|f| Column::new(f.name().to_lowercase(), f.data_type().clone()))
        .collect();
    let target = Target { def: None, folder, existing: HashMap::new(), format };
    let target = Target { def: Some(unload_def(&schema, partition_keys)), ..target };
    let written = write_rows(session, df, &target, &query_id()).await?;
    let committed = written.additions.commit().await?;
    committed.finish(session.catalog().lake()).await?;
    Ok(written.rows)
}

/// A stand-in table definition for UNLOAD's partitions (never registered).
fn unload_def(schema: &Schema, keys: Vec<Column>) -> TableDef {
    let n = schema.fields().len() - keys.len();
    TableDef {
        name: "unload".into(),
        columns: schema.fields()[..n]
            .iter()
            .map(|f| Column::new(f.name().to_lowercase(), f.data_type().clone()))
            .collect(),
        partition_keys: keys,
        location: String::new(),
        properties: BTreeMap::new(),
        buckets: None,
    }
}

/// Athena's query ids name its files: `20240304_101500_00042_abcde`.
fn query_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = chrono::Utc::now();
    format!("{}_{:05}_{}", now.format("%Y%m%d_%H%M%S"), now.timestamp_subsec_millis(), &id[..5])
}

/// Where rows go.
struct Target {
    /// The table (its keys are the last columns of the rows); for UNLOAD a stand-in.
    def: Option<TableDef>,
    /// The table's (or UNLOAD's) folder in the lake.
    folder: String,
    /// Partitions that exist, where new files join the old.
    existing: HashMap<Vec<String>, Partition>,
    format: Format,
}

#[derive(Clone)]
enum Format {
    Parquet(Compression),
    Text { gzip: bool, delimiter: String },
    Json { gzip: bool },
}

/// What a statement staged.
struct Written {
    additions: Additions,
    rows: u64,
    /// Each partition's values and the files staged for it.
    partitions: BTreeMap<Vec<String>, (String, Vec<DataFile>)>,
}

/// A file being written: its partition's values and its bucket.
type WriterKey = (Vec<String>, Option<u32>);

/// One partition's (or bucket's) open file, and the rows it has not encoded yet: a query's
/// batches fall into many partitions, and one encoder call per batch and partition would cost
/// more than the rows.
struct Open {
    folder: String,
    writer: FileWriter,
    bucket: Option<u32>,
    pending: Vec<RecordBatch>,
    pending_bytes: usize,
}

impl Open {
    fn new(folder: String, writer: FileWriter, bucket: Option<u32>) -> Self {
        Self { folder, writer, bucket, pending: Vec::new(), pending_bytes: 0 }
    }

    fn push(&mut self, batch: RecordBatch) -> Result<()> {
        self.pending_bytes += batch.get_array_memory_size();
        self.pending.push(batch);
        if self.pending_bytes >= PENDING_BYTES { self.flush() } else { Ok(()) }
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(first) = self.pending.first() {
            let batch = arrow::compute::concat_batches(&first.schema(), &self.pending)
                .map_err(|e| Error::Usage(e.to_string()))?;
            self.writer.write(&batch)?;
        }
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(())
    }

    /// The file's bytes.
    fn encode(mut self) -> Result<Bytes> {
        self.flush()?;
        self.writer.finish()
    }
}

/// Runs the query, staging its rows partition by partition; on any error nothing is left.
async fn write_rows(
    session: &Session,
    df: datafusion::prelude::DataFrame,
    target: &Target,
    id: &str,
) -> Result<Written> {
    let mut additions = Additions::new(session.catalog().lake());
    match stage_rows(df, target, id, &mut additions).await {
        Ok((rows, partitions)) => Ok(Written { additions, rows, partitions }),
        Err(e) => {
            let _ = additions.abort().await;
            Err(e)
        }
    }
}

async fn stage_rows(
    df: datafusion::prelude::DataFrame,
    target: &Target,
    id: &str,
    additions: &mut Additions,
) -> Result<(u64, BTreeMap<Vec<String>, (String, Vec<DataFile>)>)> {
    let def = target.def.as_ref().expect("a definition");
    let keys = &def.partition_keys;
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let mut stream = execute_stream(plan, task)?;
    let mut open: HashMap<WriterKey, Open> = HashMap::new();
    let mut writers: std::collections::HashSet<WriterKey> = std::collections::HashSet::new();
    let mut staged: BTreeMap<Vec<String>, (String, Vec<DataFile>)> = BTreeMap::new();
    let mut rows = 0u64;
    let mut seq = 0usize;
    let data_schema: SchemaRef = Arc::new(Schema::new(
        def.columns.iter().map(|c| Field::new(&c.name, c.data_type.clone(), true)).collect::<Vec<_>>(),
    ));
    let cast_options = CastOptions { safe: false, format_options: FormatOptions::default() };
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        rows += batch.num_rows() as u64;
        let n = batch.num_columns() - keys.len();
        let data: Vec<ArrayRef> = batch.columns()[..n]
            .iter()
            .zip(data_schema.fields())
            .map(|(a, f)| {
                if a.data_type() == f.data_type() {
                    Ok(a.clone())
                } else if a.data_type() == &DataType::Null {
                    Ok(new_null_array(f.data_type(), a.len()))
                } else {
                    cast_with_options(a, f.data_type(), &cast_options)
                        .map_err(|e| Error::Usage(format!("column {}: {e}", f.name())))
                }
            })
            .collect::<Result<_>>()?;
        let data = RecordBatch::try_new(data_schema.clone(), data).map_err(|e| Error::Usage(e.to_string()))?;
        let buckets = match &def.buckets {
            Some(b) => Some(bucket_numbers(&data, b)?),
            None => None,
        };
        // Each (partition, bucket)'s rows, gathered with one take per column: the batch
        // reordered so that each group is a slice of it.
        let mut groups: Vec<(WriterKey, usize)> = Vec::new();
        let mut order: Vec<u32> = Vec::with_capacity(data.num_rows());
        for (values, indices) in group(&batch.columns()[n..], keys, batch.num_rows())? {
            // Within a partition, a file per bucket (Hive's bucket of each row).
            let mut by_bucket: BTreeMap<Option<u32>, Vec<u32>> = BTreeMap::new();
            for i in indices {
                by_bucket.entry(buckets.as_ref().map(|b| b[i as usize])).or_default().push(i);
            }
            for (bucket, indices) in by_bucket {
                groups.push(((values.clone(), bucket), indices.len()));
                order.extend(indices);
            }
        }
        let reordered = if groups.len() == 1 {
            data.clone()
        } else {
            let order = UInt32Array::from(order);
            let columns = data.columns().iter().map(|c| take(c, &order, None)).collect::<Result<Vec<_>, _>>();
            RecordBatch::try_new(data_schema.clone(), columns.map_err(|e| Error::Usage(e.to_string()))?)
                .map_err(|e| Error::Usage(e.to_string()))?
        };
        let mut offset = 0;
        for (key, len) in groups {
            let part = reordered.slice(offset, len);
            offset += len;
            let (values, bucket) = (key.0.clone(), key.1);
            if !writers.contains(&key) {
                if writers.len() >= MAX_PARTITIONS {
                    return Err(Error::Usage(format!(
                        "HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of {MAX_PARTITIONS} open writers for \
                         partitions/buckets"
                    )));
                }
                writers.insert(key.clone());
            }
            if !open.contains_key(&key) {
                let folder = match target.existing.get(&values) {
                    Some(p) => p.location.clone(),
                    None => {
                        let inside = default_location("", keys, &values);
                        [target.folder.as_str(), inside.as_str()]
                            .iter()
                            .filter(|s| !s.is_empty())
                            .copied()
                            .collect::<Vec<_>>()
                            .join("/")
                    }
                };
                let writer = FileWriter::new(&target.format, data_schema.clone())?;
                open.insert(key.clone(), Open::new(folder, writer, bucket));
            }
            let file = open.get_mut(&key).expect("opened");
            file.push(part)?;
            // A bucket is one file (Hive's readers find a bucket by its file's name).
            if bucket.is_none() && file.writer.size() >= FILE_BYTES {
                let file = open.remove(&key).expect("open");
                seq += 1;
                let done = finish(file, id, seq, &target.format, additions).await?;
                staged.entry(values.clone()).or_insert_with(|| (done.0.clone(), vec![])).1.push(done.1);
            }
        }
    }
    tracing::debug!(rows, files = open.len(), "query done");
    // The last files are encoded in parallel (each one's footer and last pages), then staged.
    let encoded: Vec<_> = futures::stream::iter(open)
        .map(|((values, _), file)| async move {
            let (folder, bucket) = (file.folder.clone(), file.bucket);
            let bytes = tokio::task::spawn_blocking(move || file.encode())
                .await
                .unwrap_or_else(|e| Err(Error::Usage(format!("encoding a file: {e}"))));
            (values, folder, bucket, bytes)
        })
        .buffer_unordered(ENCODERS)
        .collect()
        .await;
    for (values, folder, bucket, bytes) in encoded {
        seq += 1;
        let done = stage_file(folder, bucket, bytes?, id, seq, &target.format, additions).await?;
        staged.entry(values).or_insert_with(|| (done.0.clone(), vec![])).1.push(done.1);
    }
    Ok((rows, staged))
}

async fn finish(
    file: Open,
    id: &str,
    seq: usize,
    format: &Format,
    additions: &mut Additions,
) -> Result<(String, DataFile)> {
    let (folder, bucket) = (file.folder.clone(), file.bucket);
    stage_file(folder, bucket, file.encode()?, id, seq, format, additions).await
}

/// Stages one encoded file under a name no file has.
async fn stage_file(
    folder: String,
    bucket: Option<u32>,
    bytes: Bytes,
    id: &str,
    seq: usize,
    format: &Format,
    additions: &mut Additions,
) -> Result<(String, DataFile)> {
    let extension = match format {
        Format::Parquet(_) => ".parquet",
        Format::Text { gzip: true, .. } | Format::Json { gzip: true } => ".gz",
        Format::Text { .. } => ".txt",
        Format::Json { .. } => ".json",
    };
    // A bucket's file is named as Trino names them, so Athena finds its bucket.
    let name = match bucket {
        Some(b) => format!("{id}_bucket-{b:05}{extension}"),
        None => format!("{id}_{seq:05}_{}{extension}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
    };
    let size = bytes.len() as u64;
    let relative = if folder.is_empty() { name.clone() } else { format!("{folder}/{name}") };
    additions.stage(relative, bytes).await?;
    Ok((folder, DataFile { name, size, modified: chrono::Utc::now().timestamp_millis() }))
}

/// Each row's bucket: Hive's hash (bucketing version 1) of the bucket columns, modulo the
/// count, as Athena computes it to find a bucket.
fn bucket_numbers(batch: &RecordBatch, buckets: &crate::catalog::ddl::Buckets) -> Result<Vec<u32>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Date32Type, Int8Type, Int16Type, Int32Type, Int64Type};
    let mut hashes = vec![0i32; batch.num_rows()];
    for name in &buckets.columns {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| Error::Usage(format!("bucket column {name} is not a column of the table")))?;
        let hash = |row: usize| -> Result<i32> {
            if column.is_null(row) {
                return Ok(0);
            }
            Ok(match column.data_type() {
                DataType::Boolean => column.as_boolean().value(row) as i32,
                DataType::Int8 => column.as_primitive::<Int8Type>().value(row) as i32,
                DataType::Int16 => column.as_primitive::<Int16Type>().value(row) as i32,
                DataType::Int32 => column.as_primitive::<Int32Type>().value(row),
                DataType::Date32 => column.as_primitive::<Date32Type>().value(row),
                DataType::Int64 => {
                    let v = column.as_primitive::<Int64Type>().value(row);
                    (v ^ ((v as u64) >> 32) as i64) as i32
                }
                DataType::Utf8 => hive_string_hash(column.as_string::<i32>().value(row)),
                DataType::Utf8View => hive_string_hash(column.as_string_view().value(row)),
                other => {
                    return Err(Error::Usage(format!(
                        "bucketed_by {name}: b3lake buckets by integer, date, boolean and varchar columns, not {}",
                        type_name(other)
                    )));
                }
            })
        };
        for (row, h) in hashes.iter_mut().enumerate() {
            *h = h.wrapping_mul(31).wrapping_add(hash(row)?);
        }
    }
    Ok(hashes.into_iter().map(|h| ((h & i32::MAX) as u32) % buckets.count).collect())
}

/// Hive's hash of a string: Java's `31 * h + b` over its UTF-8 bytes, as signed bytes.
fn hive_string_hash(s: &str) -> i32 {
    s.bytes().fold(0i32, |h, b| h.wrapping_mul(31).wrapping_add(b as i8 as i32))
}

/// Rows grouped by the canonical values of their partition keys: each distinct key is found
/// by its bytes (Arrow's row format) and spelled once.
fn group(keys: &[ArrayRef], columns: &[Column], rows: usize) -> Result<Vec<(Vec<String>, Vec<u32>)>> {
    use arrow::row::{RowConverter, SortField};
    if keys.is_empty() {
        return Ok(vec![(vec![], (0..rows as u32).collect())]);
    }
    let arrow_err = |e: arrow::error::ArrowError| Error::Usage(e.to_string());
    let converter =
        RowConverter::new(keys.iter().map(|k| SortField::new(k.data_type().clone())).collect()).map_err(arrow_err)?;
    let converted = converter.convert_columns(keys).map_err(arrow_err)?;
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    let mut groups: Vec<(usize, Vec<u32>)> = Vec::new();
    for row in 0..rows {
        let key = converted.row(row).data();
        match index.get(key) {
            Some(&g) => groups[g].1.push(row as u32),
            None => {
                index.insert(key, groups.len());
                groups.push((row, vec![row as u32]));
            }
        }
    }
    let formats: Vec<_> = keys
        .iter()
        .map(|k| arrow::util::display::ArrayFormatter::try_new(k.as_ref(), &FormatOptions::default()))
        .collect::<Result<_, _>>()
        .map_err(arrow_err)?;
    let mut out = groups
        .into_iter()
        .map(|(first, rows)| {
            let values = keys
                .iter()
                .zip(&formats)
                .zip(columns)
                .map(|((k, f), c)| {
                    if k.is_null(first) {
                        return Ok(HIVE_DEFAULT_PARTITION.to_string());
                    }
                    canonical(c, &f.value(first).to_string()).map_err(Error::Usage)
                })
                .collect::<Result<Vec<String>>>()?;
            Ok((values, rows))
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort();
    Ok(out)
}

/// Commits the staged files, then records them in the partition index.
async fn publish(
    session: &Session,
    def: &TableDef,
    additions: Additions,
    written: &BTreeMap<Vec<String>, (String, Vec<DataFile>)>,
    existing: &HashMap<Vec<String>, Partition>,
) -> Result<()> {
    let catalog = session.catalog();
    let lake = catalog.lake();
    tracing::debug!(files = additions.files().len(), bytes = additions.bytes(), "staged");
    let committed = additions.commit().await?;
    tracing::debug!("copied in");
    let (mut new, mut grown) = (Vec::new(), Vec::new());
    for (values, (location, files)) in written {
        match existing.get(values) {
            Some(p) => {
                let mut p = p.clone();
                p.files.extend(files.iter().cloned());
                p.files.sort_by(|a, b| a.name.cmp(&b.name));
                grown.push(p);
            }
            None => new.push(Partition { values: values.clone(), location: location.clone(), files: files.clone() }),
        }
    }
    if !crate::catalog::projection::enabled(def) {
        if !new.is_empty() {
            catalog.add_partitions(def, &new).await?;
        }
        if !grown.is_empty() {
            catalog.update_partitions(def, &grown).await?;
        }
    }
    tracing::debug!("indexed");
    committed.finish(lake).await?;
    tracing::debug!("finished");
    Ok(())
}

/// An encoder of one file.
enum FileWriter {
    Parquet(Box<ArrowWriter<Vec<u8>>>),
    Text { out: Vec<u8>, gzip: bool, delimiter: String },
    Json { out: Vec<u8>, gzip: bool },
}

impl FileWriter {
    fn new(format: &Format, schema: SchemaRef) -> Result<Self> {
        Ok(match format {
            Format::Parquet(codec) => {
                let props = crate::lake::writer::base_properties().set_compression(*codec).build();
                FileWriter::Parquet(Box::new(
                    ArrowWriter::try_new(Vec::new(), schema, Some(props)).map_err(|e| Error::Usage(e.to_string()))?,
                ))
            }
            Format::Text { gzip, delimiter } => {
                FileWriter::Text { out: Vec::new(), gzip: *gzip, delimiter: delimiter.clone() }
            }
            Format::Json { gzip } => FileWriter::Json { out: Vec::new(), gzip: *gzip },
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        use super::dialect::text::{Double, value};
        match self {
            FileWriter::Parquet(w) => w.write(batch).map_err(|e| Error::Usage(e.to_string())),
            FileWriter::Text { out, delimiter, .. } => {
                // Hive's text format: fields split by the delimiter, NULL as \N.
                for row in 0..batch.num_rows() {
                    let fields: Vec<String> = batch
                        .columns()
                        .iter()
                        .map(|c| value(c.as_ref(), row, Double::Shown).unwrap_or_else(|| "\\N".into()))
                        .collect();
                    out.extend_from_slice(fields.join(delimiter.as_str()).as_bytes());
                    out.push(b'\n');
                }
                Ok(())
            }
            FileWriter::Json { out, .. } => {
                let schema = batch.schema();
                for row in 0..batch.num_rows() {
                    let mut object = serde_json::Map::new();
                    for (c, f) in batch.columns().iter().zip(schema.fields()) {
                        object.insert(f.name().clone(), json_value(c.as_ref(), row));
                    }
                    out.extend_from_slice(serde_json::Value::Object(object).to_string().as_bytes());
                    out.push(b'\n');
                }
                Ok(())
            }
        }
    }

    fn size(&self) -> usize {
        match self {
            FileWriter::Parquet(w) => w.bytes_written() + w.in_progress_size(),
            FileWriter::Text { out, .. } | FileWriter::Json { out, .. } => out.len(),
        }
    }

    fn finish(self) -> Result<Bytes> {
        let gz = |data: Vec<u8>| -> Result<Vec<u8>> {
            use std::io::Write as _;
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&data).and_then(|()| encoder.finish()).map_err(|e| Error::Usage(e.to_string()))
        };
        Ok(Bytes::from(match self {
            FileWriter::Parquet(w) => w.into_inner().map_err(|e| Error::Usage(e.to_string()))?,
            FileWriter::Text { out, gzip, .. } | FileWriter::Json { out, gzip } => {
                if gzip {
                    gz(out)?
                } else {
                    out
                }
            }
        }))
    }
}

/// A cell as JSON: numbers as numbers (decimals exactly), the rest as Athena shows them.
fn json_value(array: &dyn Array, row: usize) -> serde_json::Value {
    use super::dialect::text::{Double, value};
    let Some(text) = value(array, row, Double::Shown) else { return serde_json::Value::Null };
    let numeric = array.data_type().is_integer() || matches!(array.data_type(), DataType::Decimal128(..));
    match array.data_type() {
        DataType::Boolean => serde_json::Value::Bool(text == "true"),
        _ if numeric => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        DataType::Float32 | DataType::Float64 => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        _ => serde_json::Value::String(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_statements_are_split_as_written() {
        let w = parse(
            "CREATE TABLE IF NOT EXISTS t WITH (format = 'PARQUET', partitioned_by = ARRAY['year', 'month']) AS\n\
             SELECT a, (1) AS year, 2 AS month FROM x WITH NO DATA;",
        )
        .unwrap()
        .unwrap();
        let Write::CreateTableAs { name, if_not_exists, options, query, with_data } = w else { panic!("{w:?}") };
        assert_eq!((name.as_str(), if_not_exists, with_data), ("t", true, false));
        assert_eq!(query, "SELECT a, (1) AS year, 2 AS month FROM x");
        assert_eq!(options["partitioned_by"], OptionValue::List(vec!["year".into(), "month".into()]));
        let w = parse("INSERT INTO default.t (a, b) SELECT 1, 2").unwrap().unwrap();
        assert_eq!(
            w,
            Write::Insert {
                table: "t".into(),
                columns: Some(vec!["a".into(), "b".into()]),
                query: "SELECT 1, 2".into()
            }
        );
        let w = parse("insert into t values (1, 'a;b');").unwrap().unwrap();
        assert_eq!(w, Write::Insert { table: "t".into(), columns: None, query: "values (1, 'a;b')".into() });
        let w = parse("INSERT INTO t (SELECT 1)").unwrap().unwrap();
        assert_eq!(w, Write::Insert { table: "t".into(), columns: None, query: "(SELECT 1)".into() });
        let w =
            parse("UNLOAD (SELECT f(x) FROM t WHERE y = ')') TO 's3://b/x/' WITH (format = 'JSON')").unwrap().unwrap();
        assert_eq!(
            w,
            Write::Unload {
                query: "SELECT f(x) FROM t WHERE y = ')'".into(),
                location: "s3://b/x/".into(),
                options: [("format".to_string(), OptionValue::Text("JSON".into()))].into_iter().collect(),
            }
        );
        assert_eq!(parse("CREATE TABLE t (a int)").map(|r| r.is_ok()), None);
        assert!(parse("SELECT 1").is_none());
        assert!(parse("UNLOAD SELECT 1 TO 'x'").unwrap().is_err());
    }

    #[test]
    fn with_data_is_read_off_the_end() {
        assert_eq!(strip_with_data("SELECT 1 with no data"), ("SELECT 1".into(), false));
        assert_eq!(strip_with_data("SELECT 1\nWITH DATA"), ("SELECT 1".into(), true));
        assert_eq!(strip_with_data("SELECT data FROM t"), ("SELECT data FROM t".into(), true));
    }
}
