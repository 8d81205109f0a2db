//! Runs the `.slt` files next to this one: SQL behaviour tested as data.
//!
//! Each file gets a fresh session in which the transform's views (`queries/transform/`) are
//! registered over empty `raw_dia` and `carteira_dia` tables; the file inserts the raw records
//! and portfolio rows it needs and states the rows it expects. Arguments filter files by name.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use b3lake::source::cotahist::raw_schema;
use b3lake::source::portfolio::portfolio_schema;
use b3lake::sql::dialect::text::{self, Double};
use b3lake::transform::Queries;
use b3lake::transform::queries::{INPUT_VIEW, PORTFOLIO_VIEW};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use sqllogictest::{DBOutput, DefaultColumnType};

struct Db {
    ctx: SessionContext,
}

impl Db {
    async fn new() -> Result<Self, DataFusionError> {
        let ctx = b3lake::sql::dialect::context(SessionStateBuilder::new().with_default_features());
        ctx.register_table(INPUT_VIEW, Arc::new(MemTable::try_new(raw_schema(), vec![vec![]])?))?;
        ctx.register_table(PORTFOLIO_VIEW, Arc::new(MemTable::try_new(portfolio_schema(), vec![vec![]])?))?;
        Queries::embedded().register_all(&ctx).await.map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Self { ctx })
    }
}

#[async_trait]
impl sqllogictest::AsyncDB for Db {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        let ran = async {
            // Parsed as the session parses Athena's SQL (lambdas included).
            let statement = b3lake::sql::dialect::parse(sql, 50)?;
            let plan = self.ctx.state().statement_to_plan(statement).await?;
            let df = self.ctx.execute_logical_plan(plan).await?;
            let is_statement =
                matches!(df.logical_plan(), LogicalPlan::Dml(_) | LogicalPlan::Ddl(_) | LogicalPlan::Statement(_));
            let columns = df.schema().fields().len();
            Ok::<_, DataFusionError>((is_statement, columns, df.collect().await?))
        };
        // Errors as the SQL layer words them for its users.
        let (is_statement, columns, batches) = ran.await.map_err(b3lake::sql::dialect::trino_error)?;
        if is_statement {
            return Ok(DBOutput::StatementComplete(0));
        }
        // Values as Athena shows them.
        let mut rows = Vec::new();
        for batch in &batches {
            for i in 0..batch.num_rows() {
                rows.push(
                    text::row(batch, i, Double::Shown)
                        .map(|c| match c {
                            None => "NULL".into(),
                            // An empty string, as DataFusion's .slt files write it.
                            Some(v) if v.is_empty() => "(empty)".into(),
                            Some(v) => v,
                        })
                        .collect(),
                );
            }
        }
        Ok(DBOutput::Rows { types: vec![DefaultColumnType::Any; columns], rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "b3lake"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

#[tokio::main]
async fn main() {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files = Vec::new();
    slt_files(&root, &mut files);
    files.retain(|f| filters.is_empty() || filters.iter().any(|x| f.to_string_lossy().contains(x.as_str())));
    assert!(!files.is_empty() || !filters.is_empty(), "no .slt files under {}", root.display());
    let mut failures = 0;
    for file in &files {
        let name = file.strip_prefix(&root).unwrap_or(file).display().to_string();
        let mut runner = sqllogictest::Runner::new(Db::new);
        match runner.run_file_async(file).await {
            Ok(()) => println!("ok      {name}"),
            Err(e) => {
                failures += 1;
                println!("FAILED  {name}\n{}", e.display(true));
            }
        }
    }
    println!("\n{} files, {} passed, {failures} failed", files.len(), files.len() - failures);
    if failures > 0 {
        std::process::exit(1);
    }
}
