//! The statements of a Hive/Athena catalog, run against the lake's catalog instead of
//! DataFusion's in-memory one, so that they persist: `CREATE EXTERNAL TABLE`, `DROP TABLE`,
//! `MSCK REPAIR TABLE`, `ALTER TABLE ... ADD | DROP PARTITION`, `SHOW TABLES`,
//! `SHOW PARTITIONS`, `DESCRIBE`, `SHOW CREATE TABLE`, and the views' `CREATE [OR REPLACE]
//! VIEW`, `DROP VIEW`, `SHOW VIEWS` and `SHOW CREATE VIEW`. Anything else goes to DataFusion.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use datafusion::sql::sqlparser::ast::Value;
use datafusion::sql::sqlparser::dialect::HiveDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

use super::session::Session;
use super::{Error, Result};
use crate::catalog::ddl::{in_lake, table_name};
use crate::catalog::partition::{canonical, default_location, list_files};
use crate::catalog::types::hive_type;
use crate::catalog::writes::{shard_key, shard_of};
use crate::catalog::{Catalog, Error as CatalogError, LocalCatalog, Partition, Pruner, TableDef};
use crate::lake::{Scope, Writer};

/// `key = value` pairs of a PARTITION clause, as written.
type Spec = Vec<(String, String)>;

/// A catalog statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `CREATE EXTERNAL TABLE`.
    CreateTable {
        /// The definition.
        def: TableDef,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP TABLE`.
    DropTable {
        /// The table.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `MSCK REPAIR TABLE`.
    Repair {
        /// The table.
        table: String,
    },
    /// `ALTER TABLE ... ADD PARTITION`.
    AddPartitions {
        /// The table.
        table: String,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Each partition and its `LOCATION`.
        partitions: Vec<(Spec, Option<String>)>,
    },
    /// `ALTER TABLE ... DROP PARTITION`.
    DropPartitions {
        /// The table.
        table: String,
        /// `IF EXISTS`.
        if_exists: bool,
        /// The partitions, each maybe partial (every partition under it).
        partitions: Vec<Spec>,
    },
    /// `ALTER TABLE ... SET TBLPROPERTIES ('key' = 'value', ...)`.
    SetProperties {
        /// The table.
        table: String,
        /// The properties set (others are kept).
        properties: Vec<(String, String)>,
    },
    /// `SHOW TABLES`.
    ShowTables,
    /// `SHOW PARTITIONS`.
    ShowPartitions {
        /// The table.
        table: String,
    },
    /// `DESCRIBE`.
    Describe {
        /// The table.
        table: String,
    },
    /// `SHOW CREATE TABLE`.
    ShowCreateTable {
        /// The table.
        table: String,
    },
    /// `CREATE [OR REPLACE] VIEW`.
    CreateView(crate::catalog::view::CreateView),
    /// A statement that writes rows: CTAS, INSERT INTO, UNLOAD.
    Write(super::write::Write),
    /// `DROP VIEW`.
    DropView {
        /// The view.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `SHOW VIEWS [IN database] [LIKE 'pattern']`.
    ShowViews {
        /// Athena's pattern: `*` for any characters, `|` between alternatives.
        like: Option<String>,
    },
    /// `SHOW CREATE VIEW`.
    ShowCreateView {
        /// The view.
        name: String,
    },
}

/// The catalog statement `sql` is, if it is one. It reads keywords, names and literal
/// values only, in one pass (no expression, where the parser backtracks); a `CREATE` goes to
/// [`TableDef::parse`], which bounds its own time.
pub fn parse(sql: &str) -> Option<Result<Statement>> {
    if let Some(write) = super::write::parse(sql) {
        return Some(write.map(Statement::Write));
    }
    if let Some(view) = crate::catalog::view::parse_create_view(sql) {
        return Some(view.map(Statement::CreateView).map_err(Error::Usage));
    }
    let dialect = HiveDialect {};
    let mut p = Parser::new(&dialect).try_with_sql(sql).ok()?;
    let usage = |e: ParserError| Error::Usage(format!("{e}"));
    let parsed: std::result::Result<Statement, ParserError> =
        if p.parse_keywords(&[Keyword::CREATE, Keyword::EXTERNAL, Keyword::TABLE]) {
            return Some(create(sql));
        } else if p.parse_keywords(&[Keyword::DROP, Keyword::TABLE]) {
            (|| {
                let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
                let name = name(&mut p)?;
                Ok(Statement::DropTable { name, if_exists })
            })()
        } else if p.parse_keywords(&[Keyword::MSCK, Keyword::REPAIR, Keyword::TABLE]) {
            name(&mut p).map(|table| Statement::Repair { table })
        } else if p.parse_keywords(&[Keyword::ALTER, Keyword::TABLE]) {
            let Ok(table) = name(&mut p) else { return None };
            if p.parse_keyword(Keyword::ADD) {
                (|| {
                    let if_not_exists = p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
                    let mut partitions = Vec::new();
                    while p.parse_keyword(Keyword::PARTITION) {
                        let spec = spec(&mut p)?;
                        let location =
                            if p.parse_keyword(Keyword::LOCATION) { Some(p.parse_literal_string()?) } else { None };
                        partitions.push((spec, location));
                    }
                    if partitions.is_empty() {
                        return p.expected("PARTITION", p.peek_token());
                    }
                    Ok(Statement::AddPartitions { table, if_not_exists, partitions })
                })()
            } else if p.parse_keyword(Keyword::DROP) {
                (|| {
                    let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
                    let mut partitions = Vec::new();
                    loop {
                        p.expect_keyword(Keyword::PARTITION)?;
                        partitions.push(spec(&mut p)?);
                        if !p.consume_token(&Token::Comma) {
                            break;
                        }
                    }
                    Ok(Statement::DropPartitions { table, if_exists, partitions })
                })()
            } else if p.parse_keywords(&[Keyword::SET, Keyword::TBLPROPERTIES]) {
                (|| {
                    p.expect_token(&Token::LParen)?;
                    let mut properties = Vec::new();
                    loop {
                        let key = p.parse_literal_string()?;
                        p.expect_token(&Token::Eq)?;
                        properties.push((key, p.parse_literal_string()?));
                        if !p.consume_token(&Token::Comma) {
                            break;
                        }
                    }
                    p.expect_token(&Token::RParen)?;
                    Ok(Statement::SetProperties { table, properties })
                })()
            } else {
                return None;
            }
        } else if p.parse_keywords(&[Keyword::DROP, Keyword::VIEW]) {
            (|| {
                let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
                let name = name(&mut p)?;
                Ok(Statement::DropView { name, if_exists })
            })()
        } else if p.parse_keywords(&[Keyword::SHOW, Keyword::VIEWS]) {
            (|| {
                if p.parse_one_of_keywords(&[Keyword::IN, Keyword::FROM]).is_some() {
                    p.parse_identifier()?;
                }
                let like = if p.parse_keyword(Keyword::LIKE) { Some(p.parse_literal_string()?) } else { None };
                Ok(Statement::ShowViews { like })
            })()
        } else if p.parse_keywords(&[Keyword::SHOW, Keyword::CREATE, Keyword::VIEW]) {
            name(&mut p).map(|name| Statement::ShowCreateView { name })
        } else if p.parse_keywords(&[Keyword::SHOW, Keyword::TABLES]) {
            Ok(Statement::ShowTables)
        } else if p.parse_keywords(&[Keyword::SHOW, Keyword::PARTITIONS]) {
            name(&mut p).map(|table| Statement::ShowPartitions { table })
        } else if p.parse_keywords(&[Keyword::SHOW, Keyword::CREATE, Keyword::TABLE]) {
            name(&mut p).map(|table| Statement::ShowCreateTable { table })
        } else if p.parse_one_of_keywords(&[Keyword::DESCRIBE, Keyword::DESC]).is_some() {
            let _ = p.parse_one_of_keywords(&[Keyword::FORMATTED, Keyword::EXTENDED]);
            match name(&mut p) {
                Ok(table) if at_end(&mut p) => return Some(Ok(Statement::Describe { table })),
                _ => return None,
            }
        } else {
            return None;
        };
    Some(
        parsed
            .and_then(|s| if at_end(&mut p) { Ok(s) } else { p.expected("end of statement", p.peek_token()) })
            .map_err(usage),
    )
}

fn create(sql: &str) -> Result<Statement> {
    let (def, if_not_exists) = TableDef::parse_statement(sql, "CREATE EXTERNAL TABLE").map_err(|e| match e {
        CatalogError::Ddl { message, .. } => Error::Usage(message),
        other => other.into(),
    })?;
    Ok(Statement::CreateTable { def, if_not_exists })
}

fn name(p: &mut Parser) -> std::result::Result<String, ParserError> {
    Ok(table_name(&p.parse_object_name(false)?.to_string()))
}

fn at_end(p: &mut Parser) -> bool {
    while p.consume_token(&Token::SemiColon) {}
    p.peek_token().token == Token::EOF
}

fn spec(p: &mut Parser) -> std::result::Result<Spec, ParserError> {
    p.expect_token(&Token::LParen)?;
    let mut out = Vec::new();
    loop {
        let key = p.parse_identifier()?.value.to_lowercase();
        p.expect_token(&Token::Eq)?;
        let value = match p.parse_value()?.value {
            Value::Number(n, _) => n,
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s,
            other => return Err(ParserError::ParserError(format!("expected a number or a string, found {other}"))),
        };
        out.push((key, value));
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    p.expect_token(&Token::RParen)?;
    Ok(out)
}

/// Runs a catalog statement on the session's catalog; returns the rows to show.
pub async fn run(session: &Session, statement: Statement) -> Result<Vec<RecordBatch>> {
    use Statement::*;
    match statement {
        // Statements that change the catalog are writers of the whole lake.
        CreateTable { .. }
        | DropTable { .. }
        | Repair { .. }
        | AddPartitions { .. }
        | DropPartitions { .. }
        | SetProperties { .. }
        | CreateView(_)
        | DropView { .. } => {
            let lake = session.catalog().lake().clone();
            let changed = match partitions_scope(session, &statement).await? {
                // Partitions named whole: the writer holds their index shards only.
                Some((def, scope)) => {
                    crate::catalog::writes::within(&lake, "ALTER TABLE", async |w: &Writer| {
                        let held = crate::catalog::writes::take_for(w, &scope, std::slice::from_ref(&def)).await?;
                        w.settle(held, run_unlocked(session, statement).await).await
                    })
                    .await?
                }
                None => {
                    crate::catalog::writes::with_scope(
                        &lake,
                        "a catalog statement",
                        &Scope::Lake,
                        async |_: &Writer| run_unlocked(session, statement).await,
                    )
                    .await?
                }
            };
            // Views plan against the tables: one the statement changed may make a view
            // valid or stale.
            session.register_views().await?;
            Ok(changed)
        }
        // It takes the writer's lock itself and refreshes the session's tables after.
        Write(write) => super::write::run(session, write).await,
        ShowTables
        | ShowPartitions { .. }
        | Describe { .. }
        | ShowCreateTable { .. }
        | ShowViews { .. }
        | ShowCreateView { .. } => run_unlocked(session, statement).await,
    }
}

/// For ALTER TABLE ADD or DROP PARTITION naming every key of each partition, the table and
/// the index shards it changes; `None` for any other statement (the whole lake's business).
async fn partitions_scope(session: &Session, statement: &Statement) -> Result<Option<(TableDef, Scope)>> {
    let (table, specs): (&String, Vec<&Spec>) = match statement {
        Statement::AddPartitions { table, partitions, .. } => (table, partitions.iter().map(|(s, _)| s).collect()),
        Statement::DropPartitions { table, partitions, .. } => (table, partitions.iter().collect()),
        _ => return Ok(None),
    };
    let Some(def) = session.catalog().table(table).await? else { return Ok(None) };
    // A table never indexed is the whole lake's business (and indexed only if the statement
    // goes through).
    let indexed = crate::catalog::index::PartitionIndex::new(session.catalog().lake(), &def).exists().await?;
    if def.partition_keys.is_empty() || !indexed || crate::catalog::projection::enabled(&def) {
        return Ok(None);
    }
    let mut keys = BTreeSet::new();
    for spec in specs {
        // A partial spec (DROP of every partition under it) may span shards.
        let Ok(values) = full_values(&def, spec) else { return Ok(None) };
        keys.insert(shard_key(&def, &shard_of(&def, &values)));
    }
    Ok(Some((def, Scope::Keys(keys))))
}

async fn run_unlocked(session: &Session, statement: Statement) -> Result<Vec<RecordBatch>> {
    let catalog = session.catalog();
    let lake_url = catalog.lake_url();
    match statement {
        Statement::CreateTable { mut def, if_not_exists } => {
            def.location = local_path(&def.location, session)?;
            let def = def.with_location_template(&lake_url);
            // A projection that cannot be computed is refused now, not at every query.
            crate::catalog::projection::Projection::of(&def, &lake_url)?;
            match catalog.create_table(&def).await {
                Err(CatalogError::TableExists(_)) if if_not_exists => {}
                other => other?,
            }
            session.register(def)?;
            Ok(vec![])
        }
        Statement::SetProperties { table, properties } => {
            let mut def = catalog.require(&table).await?;
            def.properties.extend(properties);
            // A projection set this way must compute, as one made with the table.
            crate::catalog::projection::Projection::of(&def, &lake_url)?;
            catalog.update_table(&def).await?;
            session.register(def)?;
            Ok(vec![])
        }
        Statement::DropTable { name, if_exists } => {
            match catalog.drop_table(&name).await {
                Err(CatalogError::TableNotFound(_)) if if_exists => {}
                other => other?,
            }
            session.deregister(name.as_str())?;
            Ok(vec![])
        }
        Statement::Repair { table } => {
            let def = catalog.require(&table).await?;
            let r = catalog.repair(&def).await?;
            let ints = |v: usize| Arc::new(Int64Array::from(vec![v as i64])) as ArrayRef;
            batch(&[
                ("added", ints(r.added)),
                ("removed", ints(r.removed)),
                ("changed", ints(r.changed)),
                ("partitions", ints(r.total)),
            ])
        }
        Statement::AddPartitions { table, if_not_exists, partitions } => {
            add_partitions(session, table, if_not_exists, partitions).await
        }
        Statement::DropPartitions { table, if_exists, partitions } => {
            drop_partitions(session, table, if_exists, partitions).await
        }
        Statement::ShowTables => {
            // Athena lists views among the tables.
            let mut names = catalog.tables().await?;
            names.extend(catalog.views().await?.into_keys());
            names.sort();
            batch(&[("tab_name", strings(names))])
        }
        Statement::CreateView(create) => {
            let view = session.resolve_new_view(&create.name, &create.query).await?;
            catalog.put_view(&view, create.or_replace).await?;
            Ok(vec![])
        }
        Statement::DropView { name, if_exists } => {
            match catalog.drop_view(&name).await {
                Err(CatalogError::ViewNotFound(_)) if if_exists => {}
                other => other?,
            }
            Ok(vec![])
        }
        Statement::ShowViews { like } => {
            let pattern = like.map(|l| athena_pattern(&l)).transpose()?;
            let names = catalog.views().await?.into_keys().filter(|n| pattern.as_ref().is_none_or(|p| p.is_match(n)));
            batch(&[("views", strings(names.collect()))])
        }
        Statement::Write(_) => unreachable!("run takes writes"),
        Statement::ShowCreateView { name } => {
            let view = catalog.view(&name).await?.ok_or(CatalogError::ViewNotFound(name))?;
            batch(&[("createview_stmt", strings(vec![view.to_ddl()]))])
        }
        Statement::ShowPartitions { table } => {
            let def = catalog.require(&table).await?;
            let all = catalog.find_partitions(&def, &Pruner::all(&def.partition_keys)).await?;
            batch(&[(
                "partition",
                strings(all.iter().map(|p| Partition::spec(&def.partition_keys, &p.values)).collect()),
            )])
        }
        Statement::Describe { table } => describe(session, table).await,
        Statement::ShowCreateTable { table } => {
            let def = catalog.require(&table).await?;
            let def = def.resolved(&lake_url);
            let ddl = def.to_ddl().map_err(Error::Usage)?;
            batch(&[("createtab_stmt", strings(vec![ddl]))])
        }
    }
}

/// ALTER TABLE ... ADD PARTITION: each partition's files listed from its folder (inside the
/// lake only).
async fn add_partitions(
    session: &Session,
    table: String,
    if_not_exists: bool,
    partitions: Vec<(Spec, Option<String>)>,
) -> Result<Vec<RecordBatch>> {
    let catalog = session.catalog();
    let lake_url = catalog.lake_url();
    let def = catalog.require(&table).await?;
    let prefix = def.lake_prefix().unwrap_or_default().to_string();
    let mut new = Vec::new();
    for (spec, location) in partitions {
        let values = full_values(&def, &spec)?;
        if !catalog.partitions(&def, &values).await?.is_empty() {
            if if_not_exists {
                continue;
            }
            return Err(Error::Usage(format!(
                "partition ({}) of {} already exists",
                Partition::spec(&def.partition_keys, &values),
                def.name
            )));
        }
        let location = match location {
            None => default_location(&prefix, &def.partition_keys, &values),
            Some(l) => in_lake(&local_path(&l, session)?, &lake_url).ok_or_else(|| {
                Error::Usage(format!(
                    "partition location {l} lies outside the lake ({lake_url}); b3lake reads partitions \
                     inside the lake only"
                ))
            })?,
        };
        let files = list_files(catalog.lake(), &location).await?;
        new.push(Partition { values, location, files });
    }
    catalog.add_partitions(&def, &new).await?;
    Ok(vec![])
}

/// ALTER TABLE ... DROP PARTITION: a spec may name some keys only, and drops what it matches.
async fn drop_partitions(
    session: &Session,
    table: String,
    if_exists: bool,
    partitions: Vec<Spec>,
) -> Result<Vec<RecordBatch>> {
    let catalog = session.catalog();
    let def = catalog.require(&table).await?;
    let mut gone = Vec::new();
    for spec in partitions {
        let matching = matching(catalog, &def, &spec).await?;
        if matching.is_empty() && !if_exists {
            let text: Vec<String> = spec.iter().map(|(k, v)| format!("{k}={v}")).collect();
            return Err(Error::Usage(format!("no partition ({}) in {}", text.join(", "), def.name)));
        }
        gone.extend(matching);
    }
    gone.sort_by(|a, b| crate::catalog::partition::order(a, b));
    gone.dedup();
    if !gone.is_empty() {
        catalog.drop_partitions(&def, &gone).await?;
    }
    Ok(vec![])
}

/// A LOCATION on a local lake written as a path relative to the working directory, made
/// absolute (as a shell user means it); anything else as written.
pub(crate) fn local_path(location: &str, session: &Session) -> Result<String> {
    let plain = !location.contains("://") && !location.starts_with('/') && !location.starts_with("${");
    if !plain || session.catalog().lake().local_root().is_none() {
        return Ok(location.to_string());
    }
    let cwd = std::env::current_dir().map_err(|e| Error::Usage(format!("LOCATION {location}: {e}")))?;
    let slash = if location.ends_with('/') { "/" } else { "" };
    Ok(format!("{}{slash}", cwd.join(location).display()))
}

/// `SHOW VIEWS ... LIKE`'s pattern: `*` any characters, `|` between alternatives, whole
/// names, any case.
fn athena_pattern(like: &str) -> Result<regex::Regex> {
    let alternatives: Vec<String> =
        like.split('|').map(|a| a.trim().split('*').map(regex::escape).collect::<Vec<_>>().join(".*")).collect();
    regex::RegexBuilder::new(&format!("^(?:{})$", alternatives.join("|")))
        .case_insensitive(true)
        .build()
        .map_err(|e| Error::Usage(format!("LIKE '{like}': {e}")))
}

/// DESCRIBE: a catalog table's columns and partition keys with their Hive types, or a view's
/// columns with Trino's.
async fn describe(session: &Session, table: String) -> Result<Vec<RecordBatch>> {
    let catalog = session.catalog();
    if let Some(view) = catalog.view(&table).await? {
        // Its columns as they plan now (the stored ones are those it had when made).
        let view = session.resolve_view(&view.name, &view.original_sql).await?;
        let n = view.columns.len();
        return batch(&[
            ("col_name", strings(view.columns.iter().map(|c| c.name.clone()).collect())),
            ("data_type", strings(view.columns.iter().map(|c| c.data_type.clone()).collect())),
            ("comment", Arc::new(StringArray::from(vec![None::<String>; n]))),
            ("partition_key", Arc::new(BooleanArray::from(vec![false; n]))),
        ]);
    }
    // Not a catalog table (information_schema): DataFusion describes it.
    let Some(def) = catalog.table(&table).await? else {
        return Ok(session.plan(&format!("DESCRIBE {table}")).await?.collect().await?);
    };
    let all: Vec<_> =
        def.columns.iter().map(|c| (c, false)).chain(def.partition_keys.iter().map(|c| (c, true))).collect();
    let types = all.iter().map(|(c, _)| hive_type(&c.data_type).map_err(Error::Usage)).collect::<Result<Vec<_>>>()?;
    batch(&[
        ("col_name", strings(all.iter().map(|(c, _)| c.name.clone()).collect())),
        ("data_type", strings(types)),
        ("comment", Arc::new(all.iter().map(|(c, _)| c.comment.clone()).collect::<StringArray>())),
        ("partition_key", Arc::new(all.iter().map(|(_, k)| Some(*k)).collect::<BooleanArray>())),
    ])
}

/// The values of a full partition spec, in key order and canonical.
fn full_values(def: &TableDef, spec: &Spec) -> Result<Vec<String>> {
    let keys: Vec<&str> = def.partition_keys.iter().map(|k| k.name.as_str()).collect();
    let named: Vec<&str> = spec.iter().map(|(k, _)| k.as_str()).collect();
    let mut sorted_named = named.clone();
    sorted_named.sort_unstable();
    let mut sorted_keys = keys.clone();
    sorted_keys.sort_unstable();
    if sorted_named != sorted_keys {
        return Err(Error::Usage(format!(
            "{} is partitioned by ({}); the partition names ({})",
            def.name,
            keys.join(", "),
            named.join(", ")
        )));
    }
    def.partition_keys
        .iter()
        .map(|k| {
            let raw = &spec.iter().find(|(n, _)| *n == k.name).expect("checked above").1;
            canonical(k, raw).map_err(Error::Usage)
        })
        .collect()
}

/// The existing partitions a (possibly partial) spec names; only the index files under the
/// leading keys it names are read.
async fn matching(catalog: &LocalCatalog, def: &TableDef, spec: &Spec) -> Result<Vec<Vec<String>>> {
    let mut wanted = Vec::new();
    for (name, raw) in spec {
        let i = def
            .partition_keys
            .iter()
            .position(|k| &k.name == name)
            .ok_or_else(|| Error::Usage(format!("{name} is not a partition key of {}", def.name)))?;
        wanted.push((i, canonical(&def.partition_keys[i], raw).map_err(Error::Usage)?));
    }
    let leading: Vec<String> = (0..def.partition_keys.len())
        .map_while(|i| wanted.iter().find(|(j, _)| *j == i).map(|(_, v)| v.clone()))
        .collect();
    let existing = catalog.partitions(def, &leading).await?;
    Ok(existing.iter().filter(|p| wanted.iter().all(|(i, v)| &p.values[*i] == v)).map(|p| p.values.clone()).collect())
}

/// A LOCATION as the catalog keeps it: relative to the lake when inside it.
fn strings(values: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn batch(columns: &[(&str, ArrayRef)]) -> Result<Vec<RecordBatch>> {
    let schema =
        Schema::new(columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>());
    Ok(vec![
        RecordBatch::try_new(Arc::new(schema), columns.iter().map(|(_, a)| a.clone()).collect())
            .map_err(|e| Error::Usage(e.to_string()))?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_statements_are_recognised() {
        let s = |sql: &str| parse(sql).map(|r| r.unwrap());
        assert_eq!(s("SELECT 1"), None);
        assert_eq!(s("DESCRIBE SELECT 1"), None);
        assert_eq!(
            s("msck repair table cotacoes_b3_raw;"),
            Some(Statement::Repair { table: "cotacoes_b3_raw".into() })
        );
        assert_eq!(s("SHOW PARTITIONS default.x"), Some(Statement::ShowPartitions { table: "x".into() }));
        assert_eq!(s("DROP TABLE IF EXISTS `x`"), Some(Statement::DropTable { name: "x".into(), if_exists: true }));
        assert_eq!(
            s("ALTER TABLE `default`.`t` SET TBLPROPERTIES('classification' = 'parquet', 'k' = 'v')"),
            Some(Statement::SetProperties {
                table: "t".into(),
                properties: vec![("classification".into(), "parquet".into()), ("k".into(), "v".into())]
            })
        );
        assert_eq!(s("DESCRIBE x"), Some(Statement::Describe { table: "x".into() }));
        assert_eq!(
            s(
                "ALTER TABLE x ADD IF NOT EXISTS PARTITION (year=2022, month='02') LOCATION 's3://b/x/' PARTITION (year=2023, month=1)"
            ),
            Some(Statement::AddPartitions {
                table: "x".into(),
                if_not_exists: true,
                partitions: vec![
                    (vec![("year".into(), "2022".into()), ("month".into(), "02".into())], Some("s3://b/x/".into())),
                    (vec![("year".into(), "2023".into()), ("month".into(), "1".into())], None),
                ],
            })
        );
        assert_eq!(
            s("ALTER TABLE x DROP PARTITION (year=2022), PARTITION (year=2023)"),
            Some(Statement::DropPartitions {
                table: "x".into(),
                if_exists: false,
                partitions: vec![vec![("year".into(), "2022".into())], vec![("year".into(), "2023".into())]],
            })
        );
        assert!(parse("SHOW PARTITIONS x y").unwrap().is_err());
        assert!(parse("ALTER TABLE x ADD PARTITION year=1").unwrap().is_err());
    }
}
