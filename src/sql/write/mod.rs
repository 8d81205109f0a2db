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

use arrow::array::{Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::sql::sqlparser::ast::{Expr, SqlOption, Value};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};
use futures::StreamExt;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};

mod rows;

use self::rows::{Format, Target, publish, write_rows};
use super::session::{CATALOG, Session};
use super::{Error, Result};
use crate::catalog::ddl::{Column, in_lake, table_name};
use crate::catalog::projection::Projection;
use crate::catalog::types::{hive_type, parse_hive_type};
use crate::catalog::writes::{with_scope, within};
use crate::catalog::{Catalog, Partition, TableDef};
use crate::lake::{Scope, Writer};
use crate::words::Words;

/// Athena's limit on the partitions one statement writes.
pub const MAX_PARTITIONS: usize = rows::MAX_PARTITIONS;

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
    let words = Words::new(sql)?;
    let usage = |e: String| Error::Usage(e);
    if words.is(0, Keyword::CREATE) && words.is(1, Keyword::TABLE) {
        // `AS` outside parentheses ends the header.
        let at = top_level(words.all()).find(|&i| words.is(i, Keyword::AS))?;
        let (query, with_data) = strip_with_data(words.after(at));
        return Some(ctas_header(words.before(at)).map_err(usage).and_then(|(name, if_not_exists, options)| {
            if query.is_empty() {
                return Err(Error::Usage("expected a query after AS".into()));
            }
            Ok(Write::CreateTableAs { name, if_not_exists, options, query, with_data })
        }));
    }
    if words.is(0, Keyword::INSERT) && words.is(1, Keyword::INTO) {
        return Some(insert(&words).map_err(usage));
    }
    if words.is(0, Keyword::UNLOAD) {
        return Some(unload(&words).map_err(usage));
    }
    None
}

/// Indexes of the tokens outside parentheses and brackets.
fn top_level(words: &[TokenWithSpan]) -> impl Iterator<Item = usize> + '_ {
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

fn insert(words: &Words) -> std::result::Result<Write, String> {
    // The name, then an optional column list, then the query (SELECT, VALUES, WITH or `(`).
    let token = |i: usize| words.get(i).map(|t| &t.token);
    let mut i = 2;
    let mut name = String::new();
    while let Some(t) = token(i) {
        match t {
            Token::Word(w) => name.push_str(&w.value),
            Token::Period => name.push('.'),
            _ => break,
        }
        i += 1;
        if !matches!(token(i), Some(Token::Period)) && !name.ends_with('.') {
            break;
        }
    }
    if name.is_empty() {
        return Err("expected a table name after INSERT INTO".into());
    }
    let starts_query =
        |i: usize| [Keyword::SELECT, Keyword::VALUES, Keyword::WITH, Keyword::TABLE].iter().any(|k| words.is(i, *k));
    let mut columns = None;
    if matches!(token(i), Some(Token::LParen)) && !starts_query(i + 1) {
        let mut list = Vec::new();
        i += 1;
        loop {
            match token(i) {
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
    let query = words.from(i).to_string();
    if query.is_empty() {
        return Err("expected a query after INSERT INTO".into());
    }
    Ok(Write::Insert { table: table_name(&name), columns, query })
}

fn unload(words: &Words) -> std::result::Result<Write, String> {
    if !matches!(words.get(1).map(|t| &t.token), Some(Token::LParen)) {
        return Err("expected UNLOAD (<query>) TO 'location' WITH (...)".into());
    }
    // The parenthesis that closes the query: the first after it at the top level.
    let close = top_level(words.all()).find(|&i| i > 1).ok_or("UNLOAD's query has no closing parenthesis")? - 1;
    let query = words.between(1, close).to_string();
    let mut p = parser(words.after(close))?;
    let e = |e: datafusion::sql::sqlparser::parser::ParserError| e.to_string();
    p.expect_keyword(Keyword::TO).map_err(e)?;
    let location = p.parse_literal_string().map_err(e)?;
    let options = options(p.parse_options(Keyword::WITH).map_err(e)?)?;
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
            Value::Boolean(b) => Ok(b.to_string()),
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
    let created = matches!(write, Write::CreateTableAs { .. });
    // An INSERT takes the shards it adds to once its rows are staged; a new table or an
    // UNLOAD's folder is the whole lake's business.
    let rows = match write {
        Write::CreateTableAs { name, if_not_exists, options, query, with_data } => {
            with_scope(&lake, what, &Scope::Lake, async |w: &Writer| {
                create_table_as(session, w, name, if_not_exists, options, &query, with_data).await
            })
            .await?
        }
        Write::Insert { table, columns, query } => {
            within(&lake, what, async |w: &Writer| insert_into(session, w, &table, columns, &query).await).await?
        }
        Write::Unload { query, location, options } => {
            with_scope(&lake, what, &Scope::Lake, async |w: &Writer| {
                unload_to(session, w, &query, &location, options).await
            })
            .await?
        }
    };
    if created {
        // The new table, registered.
        session.refresh().await?;
    }
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
    writer: &Writer,
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
    // What Athena's CTAS makes by default, said out loud (dbt-athena does): an external Hive table.
    let kind = text(&mut options, "table_type")?.unwrap_or_else(|| "HIVE".into()).to_uppercase();
    if kind != "HIVE" {
        return Err(Error::Usage(format!(
            "table_type '{kind}': b3lake's tables are Hive tables (table_type = 'HIVE')"
        )));
    }
    if let Some(external) = text(&mut options, "is_external")?
        && !external.eq_ignore_ascii_case("true")
    {
        return Err(Error::Usage(format!(
            "is_external {external}: b3lake's Hive tables are external (is_external = true)"
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
    // Held from planning to the last row staged, as any query holds the lake.
    let reading = session.catalog().lake().reading().await?;
    let df = session.plan(query).await?;
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
    keys_last(
        fields.iter().map(|c| c.name.as_str()),
        &keys,
        "in the table and in the same order as the table properties",
    )?;
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
    def.validate().map_err(Error::Usage)?;
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
    let target = Target {
        def: def.clone(),
        folder: location,
        existing: HashMap::new(),
        format: Format::Parquet(codec),
        projection: None,
    };
    let written = write_rows(session, writer, reading, df, &target, &query_id).await?;
    // The table first, then its files: a statement that dies in between leaves an empty table.
    catalog.create_table(&def).await?;
    if let Err(e) = publish(session, None, &def, written.additions, &written.partitions, &HashMap::new()).await {
        let _ = catalog.drop_table(&def.name).await;
        return Err(e);
    }
    Ok(written.rows)
}

async fn insert_into(
    session: &Session,
    writer: &Writer,
    table: &str,
    columns: Option<Vec<String>>,
    query: &str,
) -> Result<u64> {
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
    // Held from planning to the last row staged, as any query holds the lake.
    let reading = session.catalog().lake().reading().await?;
    let df = session.plan(query).await?;
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
    // The partitions there are (an unpartitioned table's one, if it has files), whose files
    // the new ones join. A projected table's partitions are where its projection puts them.
    let projection = Projection::of(&def, &catalog.lake_url())?;
    let existing: HashMap<Vec<String>, Partition> = match projection {
        Some(_) => HashMap::new(),
        None => catalog.partitions(&def, &[]).await?.into_iter().map(|p| (p.values.clone(), p)).collect(),
    };
    let query_id = query_id();
    let target = Target {
        def: def.clone(),
        folder,
        existing: existing.clone(),
        format: Format::Parquet(codec_of(&def)?),
        projection,
    };
    let df = reorder(df, &order, &all)?;
    let written = write_rows(session, writer, reading, df, &target, &query_id).await?;
    if written.rows > 0 {
        publish(session, Some(writer), &def, written.additions, &written.partitions, &existing).await?;
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

pub(super) fn type_name(t: &DataType) -> String {
    crate::catalog::view::trino_type(t).unwrap_or_else(|_| t.to_string())
}

async fn unload_to(
    session: &Session,
    writer: &Writer,
    query: &str,
    location: &str,
    mut options: Options,
) -> Result<u64> {
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
    // Held from planning to the last row staged, as any query holds the lake.
    let reading = session.catalog().lake().reading().await?;
    let df = session.plan(query).await?;
    let schema = df.schema().as_arrow().clone();
    let n = schema.fields().len();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().to_lowercase()).collect();
    keys_last(names.iter().map(String::as_str), &keys, "of the query and in the same order as partitioned_by")?;
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
    let target =
        Target { def: unload_def(&schema, partition_keys), folder, existing: HashMap::new(), format, projection: None };
    let written = write_rows(session, writer, reading, df, &target, &query_id()).await?;
    // Files of no table: nothing to index, now or by a recovery.
    let committed = written.additions.commit(None).await?;
    committed.finish(session.catalog().lake()).await?;
    Ok(written.rows)
}

/// Athena's rule for `partitioned_by`: the keys are the query's last columns, in order (and
/// not all of them).
fn keys_last<'a>(columns: impl ExactSizeIterator<Item = &'a str>, keys: &[String], rule: &str) -> Result<()> {
    let n = columns.len();
    if keys.len() >= n || columns.skip(n - keys.len()).ne(keys.iter().map(String::as_str)) {
        return Err(Error::Usage(format!(
            "HIVE_COLUMN_ORDER_MISMATCH: Partition keys must be the last columns {rule}: [{}]",
            keys.join(", ")
        )));
    }
    Ok(())
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
