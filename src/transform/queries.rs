//! The transform's SQL, kept as files in `queries/transform/` so that analysts can read,
//! test and change it without touching Rust.
//!
//! Each file is one `SELECT`, registered as a view named after the file (`01_agregado.sql`
//! becomes `agregado`), in file-name order, so each step reads the ones before it. The first
//! step reads `raw_dia`, the day's selected raw records; the chain must produce `refinado`
//! (the refined table) and may go on to `resumo_diario` (the daily summary), which reads only
//! `refinado`. The files are built into the binary; `--queries DIR` runs another set.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use sha2::{Digest, Sha256};

use super::Error;
use crate::source::cotahist::raw_schema;

/// The view the first step reads: one trading day of raw records, filtered.
pub const INPUT_VIEW: &str = "raw_dia";
/// The view that is the refined table.
pub const REFINED_VIEW: &str = "refinado";
/// The view that is the daily summary.
pub const SUMMARY_VIEW: &str = "resumo_diario";

const EMBEDDED: &[(&str, &str)] = &[
    ("01_agregado.sql", include_str!("../../queries/transform/01_agregado.sql")),
    ("02_renomeado.sql", include_str!("../../queries/transform/02_renomeado.sql")),
    ("03_refinado.sql", include_str!("../../queries/transform/03_refinado.sql")),
    ("04_resumo_diario.sql", include_str!("../../queries/transform/04_resumo_diario.sql")),
];

/// One step: a view name and its SQL.
#[derive(Debug, Clone)]
pub struct Step {
    pub view: String,
    pub file: String,
    pub sql: String,
}

/// The transform's steps: the chain up to `refinado`, then the summary's.
#[derive(Debug, Clone)]
pub struct Queries {
    refined: Vec<Step>,
    summary: Vec<Step>,
}

impl Default for Queries {
    fn default() -> Self {
        Self::embedded()
    }
}

impl Queries {
    /// The SQL built into b3lake (the files of `queries/transform/`).
    pub fn embedded() -> Self {
        let steps = EMBEDDED.iter().map(|(file, sql)| step(file, sql)).collect();
        Self::from_steps(steps).expect("the built-in transform has refinado and resumo_diario")
    }

    /// Every `*.sql` file of `dir`, in file-name order.
    pub fn from_dir(dir: &Path) -> Result<Self, Error> {
        let io = |e: std::io::Error| Error::Queries(format!("{}: {e}", dir.display()));
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        let mut steps = Vec::new();
        for path in files {
            let sql = std::fs::read_to_string(&path).map_err(io)?;
            steps.push(step(&path.file_name().unwrap_or_default().to_string_lossy(), &sql));
        }
        Self::from_steps(steps).map_err(|e| Error::Queries(format!("{}: {e}", dir.display())))
    }

    fn from_steps(mut steps: Vec<Step>) -> Result<Self, String> {
        let Some(at) = steps.iter().position(|s| s.view == REFINED_VIEW) else {
            return Err(format!("no step named {REFINED_VIEW} (a file such as 03_{REFINED_VIEW}.sql)"));
        };
        let summary = steps.split_off(at + 1);
        if !summary.iter().any(|s| s.view == SUMMARY_VIEW) {
            return Err(format!("no step named {SUMMARY_VIEW} after {REFINED_VIEW}"));
        }
        Ok(Self { refined: steps, summary })
    }

    /// A short hash of every step's SQL: a day transformed by other SQL is out of date.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for s in self.refined.iter().chain(&self.summary) {
            hash.update(s.view.as_bytes());
            hash.update([0]);
            hash.update(s.sql.as_bytes());
            hash.update([0]);
        }
        hex::encode(&hash.finalize()[..8])
    }

    /// Registers the steps up to `refinado`; `raw_dia` must exist.
    pub async fn register_refined(&self, ctx: &SessionContext) -> Result<(), Error> {
        register(ctx, &self.refined).await
    }

    /// Registers the summary's steps; `refinado` must exist.
    pub async fn register_summary(&self, ctx: &SessionContext) -> Result<(), Error> {
        register(ctx, &self.summary).await
    }

    /// Registers every step; `raw_dia` must exist.
    pub async fn register_all(&self, ctx: &SessionContext) -> Result<(), Error> {
        self.register_refined(ctx).await?;
        self.register_summary(ctx).await
    }

    /// Plans every step over an empty raw table filtered by `filter`: a typo in the filter or
    /// the SQL fails here, before any work, and the plan gives the tables' schemas.
    pub async fn plan_empty_day(&self, filter: &str) -> Result<(SchemaRef, SchemaRef), Error> {
        let ctx = SessionContext::new();
        crate::sql::dialect::register(&ctx);
        let empty = MemTable::try_new(raw_schema(), vec![vec![]]).map_err(|e| Error::Sql("raw".into(), e))?;
        ctx.register_table("raw", Arc::new(empty)).map_err(|e| Error::Sql("raw".into(), e))?;
        register_input(&ctx, "raw", filter).await?;
        self.register_all(&ctx).await?;
        let schema = |name: &'static str| {
            let ctx = &ctx;
            async move {
                let df = ctx.table(name).await.map_err(|e| Error::Sql(name.into(), e))?;
                Ok::<_, Error>(Arc::new(df.schema().as_arrow().clone()))
            }
        };
        Ok((schema(REFINED_VIEW).await?, schema(SUMMARY_VIEW).await?))
    }
}

/// Registers `raw_dia`: the records of the table `source` that `filter` selects.
pub async fn register_input(ctx: &SessionContext, source: &str, filter: &str) -> Result<(), Error> {
    let sql = format!("SELECT * FROM {source} WHERE {filter}");
    let err = |e| Error::Sql(format!("the filter {filter:?}"), e);
    let view = ctx.sql(&sql).await.map_err(err)?.into_view();
    ctx.register_table(INPUT_VIEW, view).map_err(err)?;
    Ok(())
}

fn step(file: &str, sql: &str) -> Step {
    let stem = file.strip_suffix(".sql").unwrap_or(file);
    let view = stem.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_').to_string();
    Step { view, file: file.to_string(), sql: sql.to_string() }
}

async fn register(ctx: &SessionContext, steps: &[Step]) -> Result<(), Error> {
    for s in steps {
        let sql_err = |e| Error::Sql(s.file.clone(), e);
        let view = ctx.sql(&s.sql).await.map_err(sql_err)?.into_view();
        ctx.register_table(s.view.as_str(), view).map_err(sql_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_named_after_files() {
        let q = Queries::embedded();
        let names: Vec<_> = q.refined.iter().chain(&q.summary).map(|s| s.view.as_str()).collect();
        assert_eq!(names, ["agregado", "renomeado", "refinado", "resumo_diario"]);
        assert_eq!(q.fingerprint().len(), 16);
    }

    #[tokio::test]
    async fn money_stays_decimal() {
        let (refined, summary) = Queries::embedded().plan_empty_day("TRUE").await.unwrap();
        for name in ["preco_abertura", "preco_fechamento", "preco_medio_ponderado", "vol_financeiro_total"] {
            let t = refined.field_with_name(name).unwrap().data_type();
            assert!(matches!(t, arrow::datatypes::DataType::Decimal128(..)), "{name}: {t}");
        }
        assert!(summary.field_with_name("vol_financeiro_total").is_ok());
    }
}
