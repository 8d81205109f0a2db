//! `EXPLAIN` and `EXPLAIN ANALYZE` with what an Athena user reads them for: besides the plan,
//! each table's partitions kept and pruned, and the files and bytes its scans read (for
//! `EXPLAIN`, what they would read; for `EXPLAIN ANALYZE`, what they did).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::physical_plan::display::DisplayableExecutionPlan;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::sql::sqlparser::keywords::Keyword;

use super::exec::{for_each_scan, human_bytes};
use super::session::Session;
use super::{Error, Result};
use crate::catalog::{Catalog, TableDef};

/// `EXPLAIN [ANALYZE] [VERBOSE] <query>`: whether it analyzes, and the query's text.
pub fn parse(sql: &str) -> Option<(bool, &str)> {
    let words = crate::words::Words::new(sql)?;
    if !words.is(0, Keyword::EXPLAIN) {
        return None;
    }
    let analyze = words.is(1, Keyword::ANALYZE);
    let next = if analyze { 2 } else { 1 };
    // DataFusion's verbose plans are its own output, without b3lake's lines.
    if words.is(next, Keyword::VERBOSE) || words.get(next).is_none() {
        return None;
    }
    Some((analyze, words.from(next)))
}

/// The scans of a plan, by table: partitions, files and bytes.
#[derive(Debug, Default, Clone)]
struct TableScan {
    partitions: HashSet<String>,
    files: HashSet<String>,
    /// Sizes of the files (what a scan may read).
    sizes: u64,
    /// What the scans read, once run.
    read: u64,
}

/// Runs `EXPLAIN [ANALYZE] query`: DataFusion's plan (with its metrics, once run, for
/// ANALYZE), then a line per table read.
pub async fn run(session: &Session, analyze: bool, query: &str) -> Result<Vec<RecordBatch>> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let df = session.plan(query).await?;
    let task = Arc::new(df.task_ctx());
    let (plan, elapsed) = if analyze {
        let plan = df.create_physical_plan().await?;
        let started = std::time::Instant::now();
        collect(plan.clone(), task).await?;
        let elapsed = started.elapsed();
        rows.push((
            "Plan with Metrics".into(),
            DisplayableExecutionPlan::with_metrics(plan.as_ref()).indent(true).to_string(),
        ));
        (plan, Some(elapsed))
    } else {
        for batch in df.clone().explain(false, false)?.collect().await? {
            let (kinds, plans) = (batch.column(0), batch.column(1));
            for i in 0..batch.num_rows() {
                let text = |c: &arrow::array::ArrayRef| {
                    super::dialect::text::value(c.as_ref(), i, super::dialect::text::Double::Shown).unwrap_or_default()
                };
                rows.push((text(kinds), text(plans)));
            }
        }
        (df.create_physical_plan().await?, None)
    };
    let catalog = session.catalog();
    let definitions = catalog.definitions().await?;
    let mut total_bytes = 0;
    for (table, scan) in &scans(session, &definitions, &plan) {
        let pruned = match definitions.get(table) {
            Some(def) if crate::catalog::projection::enabled(def) => "projected".to_string(),
            Some(def) if def.partition_keys.is_empty() => "unpartitioned".to_string(),
            Some(def) => {
                let all = catalog.partitions(def, &[]).await?.len();
                format!("{} pruned of {all}", all.saturating_sub(scan.partitions.len()))
            }
            None => String::new(),
        };
        let bytes = if analyze { scan.read } else { scan.sizes };
        total_bytes += bytes;
        rows.push((
            "partitions".into(),
            format!(
                "{table}: {} kept, {pruned}; {} {}, {} {}",
                scan.partitions.len(),
                scan.files.len(),
                if scan.files.len() == 1 { "file" } else { "files" },
                human_bytes(bytes),
                if analyze { "read" } else { "in the files" }
            ),
        ));
    }
    if let Some(elapsed) = elapsed {
        rows.push(("data scanned".into(), format!("{} in {:.3} s", human_bytes(total_bytes), elapsed.as_secs_f64())));
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("plan_type", DataType::Utf8, false),
        Field::new("plan", DataType::Utf8, false),
    ]));
    let kinds: StringArray = rows.iter().map(|(k, _)| Some(k.as_str())).collect();
    let plans: StringArray = rows.iter().map(|(_, p)| Some(p.as_str())).collect();
    Ok(vec![
        RecordBatch::try_new(schema, vec![Arc::new(kinds), Arc::new(plans)])
            .map_err(|e| Error::Usage(e.to_string()))?,
    ])
}

/// Each table the plan's scans read (by the lake folder its files lie in), with what they read.
fn scans(
    session: &Session,
    definitions: &BTreeMap<String, TableDef>,
    plan: &Arc<dyn ExecutionPlan>,
) -> BTreeMap<String, TableScan> {
    let lake = session.catalog().lake();
    let prefixes: Vec<(&str, &str)> =
        definitions.values().filter_map(|d| Some((d.lake_prefix()?, d.name.as_str()))).collect();
    let mut out: BTreeMap<String, TableScan> = BTreeMap::new();
    for_each_scan(plan, |config, read| {
        let mut tables_here = HashSet::new();
        for file in config.file_groups.iter().flat_map(|g| g.files()) {
            let relative = lake.relative(&file.object_meta.location).to_string();
            // The table whose folder is the longest prefix of the file's.
            let table = prefixes
                .iter()
                .filter(|(p, _)| relative.starts_with(&format!("{p}/")))
                .max_by_key(|(p, _)| p.len())
                .map_or_else(|| "(other files)".to_string(), |(_, n)| n.to_string());
            let scan = out.entry(table.clone()).or_default();
            if scan.files.insert(relative.clone()) {
                scan.sizes += file.object_meta.size;
            }
            scan.partitions.insert(format!("{:?}", file.partition_values));
            tables_here.insert(table);
        }
        // A scan reads one table; its bytes are that table's.
        if let Some(table) = tables_here.into_iter().next() {
            out.entry(table).or_default().read += read;
        }
    });
    out
}
