//! The transform's SQL, kept as files in `queries/transform/` so that analysts can read,
//! test and change it without touching Rust.
//!
//! Each file is one `SELECT`, registered as a view named after the file (`01_agregado.sql`
//! becomes `agregado`), in file-name order, so each step reads the ones before it. The first
//! step reads `raw_dia`, the day's selected raw records; the chain must produce `refinado`
//! (the refined table) and go on to `resumo_diario` (the daily summary), which reads only
//! `refinado`. Steps after the summary, if any, must produce `membros_indice` (the index
//! members' quotes) from `refinado` and `carteira_dia`, the day's index portfolios; they run
//! only on days that have a portfolio. The files are built into the binary; `--queries DIR`
//! runs another set.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use sha2::{Digest, Sha256};

use super::Error;
use crate::source::cotahist::raw_schema;
use crate::source::portfolio::portfolio_schema;

/// The view the first step reads: one trading day of raw records, filtered.
pub const INPUT_VIEW: &str = "raw_dia";
/// The view that is the refined table.
pub const REFINED_VIEW: &str = "refinado";
/// The view that is the daily summary.
pub const SUMMARY_VIEW: &str = "resumo_diario";
/// The view the index steps read beside `refinado`: the day's index portfolios.
pub const PORTFOLIO_VIEW: &str = "carteira_dia";
/// The view that is the index members' table.
pub const INDEX_VIEW: &str = "membros_indice";

const EMBEDDED: &[(&str, &str)] = &[
    ("01_agregado.sql", include_str!("../../queries/transform/01_agregado.sql")),
    ("02_renomeado.sql", include_str!("../../queries/transform/02_renomeado.sql")),
    ("03_refinado.sql", include_str!("../../queries/transform/03_refinado.sql")),
    ("04_resumo_diario.sql", include_str!("../../queries/transform/04_resumo_diario.sql")),
    ("05_membros_indice.sql", include_str!("../../queries/transform/05_membros_indice.sql")),
];

/// One step: a view name and its SQL.
#[derive(Debug, Clone)]
pub struct Step {
    /// The view the step defines, named after its file.
    pub view: String,
    /// The step's file name.
    pub file: String,
    /// Its SQL.
    pub sql: String,
}

/// The transform's steps: the chain up to `refinado`, the summary's, and the index members'.
#[derive(Debug, Clone)]
pub struct Queries {
    refined: Vec<Step>,
    summary: Vec<Step>,
    index: Vec<Step>,
}

/// The schemas of the tables a transform writes; `index` when the SQL has the index steps.
#[derive(Debug, Clone)]
pub struct Schemas {
    /// The refined table's columns.
    pub refined: SchemaRef,
    /// The daily summary's columns.
    pub summary: SchemaRef,
    /// The index members' columns, when the SQL has that step.
    pub index: Option<SchemaRef>,
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
        let mut summary = steps.split_off(at + 1);
        let Some(at) = summary.iter().position(|s| s.view == SUMMARY_VIEW) else {
            return Err(format!("no step named {SUMMARY_VIEW} after {REFINED_VIEW}"));
        };
        let index = summary.split_off(at + 1);
        if !index.is_empty() && !index.iter().any(|s| s.view == INDEX_VIEW) {
            return Err(format!("the steps after {SUMMARY_VIEW} must produce {INDEX_VIEW}"));
        }
        Ok(Self { refined: steps, summary, index })
    }

    /// Whether the SQL joins quotes with index portfolios.
    pub fn has_index(&self) -> bool {
        !self.index.is_empty()
    }

    /// A short hash of the refined and summary steps' SQL: a day transformed by other SQL is
    /// out of date. The index steps have their own ([`Self::index_fingerprint`]), so that they
    /// touch only the days that have portfolios.
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

    /// A short hash of the index steps' SQL, if there are any.
    pub fn index_fingerprint(&self) -> Option<String> {
        self.has_index().then(|| {
            let mut hash = Sha256::new();
            for s in &self.index {
                hash.update(s.view.as_bytes());
                hash.update([0]);
                hash.update(s.sql.as_bytes());
                hash.update([0]);
            }
            hex::encode(&hash.finalize()[..8])
        })
    }

    /// Registers the steps up to `refinado`; `raw_dia` must exist.
    pub async fn register_refined(&self, ctx: &SessionContext) -> Result<(), Error> {
        register(ctx, &self.refined).await
    }

    /// Registers the summary's steps; `refinado` must exist.
    pub async fn register_summary(&self, ctx: &SessionContext) -> Result<(), Error> {
        register(ctx, &self.summary).await
    }

    /// Registers the index members' steps; `refinado` and `carteira_dia` must exist.
    pub async fn register_index(&self, ctx: &SessionContext) -> Result<(), Error> {
        register(ctx, &self.index).await
    }

    /// Registers every step; `raw_dia` and `carteira_dia` must exist.
    pub async fn register_all(&self, ctx: &SessionContext) -> Result<(), Error> {
        self.register_refined(ctx).await?;
        self.register_summary(ctx).await?;
        self.register_index(ctx).await
    }

    /// Plans every step over an empty raw table filtered by `filter`: a typo in the filter or
    /// the SQL fails here, before any work, and the plan gives the tables' schemas.
    pub async fn plan_empty_day(&self, filter: &str) -> Result<Schemas, Error> {
        let ctx = crate::sql::dialect::context(SessionStateBuilder::new().with_default_features());
        for (name, schema) in [("raw", raw_schema()), (PORTFOLIO_VIEW, portfolio_schema())] {
            let empty = MemTable::try_new(schema, vec![vec![]]).map_err(|e| Error::Sql(name.into(), e))?;
            ctx.register_table(name, Arc::new(empty)).map_err(|e| Error::Sql(name.into(), e))?;
        }
        register_input(&ctx, "raw", filter).await?;
        self.register_all(&ctx).await?;
        let schema = |name: &'static str| {
            let ctx = &ctx;
            async move {
                let df = ctx.table(name).await.map_err(|e| Error::Sql(name.into(), e))?;
                Ok::<_, Error>(Arc::new(df.schema().as_arrow().clone()))
            }
        };
        let index = if self.has_index() { Some(schema(INDEX_VIEW).await?) } else { None };
        Ok(Schemas { refined: schema(REFINED_VIEW).await?, summary: schema(SUMMARY_VIEW).await?, index })
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
        let names: Vec<_> = q.refined.iter().chain(&q.summary).chain(&q.index).map(|s| s.view.as_str()).collect();
        assert_eq!(names, ["agregado", "renomeado", "refinado", "resumo_diario", "membros_indice"]);
        assert_eq!(q.fingerprint().len(), 16);
    }

    #[test]
    fn the_index_steps_leave_the_other_days_fingerprint_alone() {
        let dir = tempfile::tempdir().unwrap();
        for (file, sql) in EMBEDDED {
            std::fs::write(dir.path().join(file), sql).unwrap();
        }
        let with = Queries::from_dir(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join("05_membros_indice.sql")).unwrap();
        let without = Queries::from_dir(dir.path()).unwrap();
        assert!(with.has_index() && !without.has_index());
        assert_eq!(with.fingerprint(), without.fingerprint());
        assert_eq!(with.index_fingerprint().map(|f| f.len()), Some(16));
        assert_eq!(without.index_fingerprint(), None);
    }

    #[tokio::test]
    async fn money_stays_decimal() {
        let schemas = Queries::embedded().plan_empty_day("TRUE").await.unwrap();
        for name in ["preco_abertura", "preco_fechamento", "preco_medio_ponderado", "vol_financeiro_total"] {
            let t = schemas.refined.field_with_name(name).unwrap().data_type();
            assert!(matches!(t, arrow::datatypes::DataType::Decimal128(..)), "{name}: {t}");
        }
        assert!(schemas.summary.field_with_name("vol_financeiro_total").is_ok());
        let index = schemas.index.unwrap();
        for name in ["qtd_teorica", "participacao_pct", "vol_financeiro_total", "valor_teorico"] {
            let t = index.field_with_name(name).unwrap().data_type();
            assert!(matches!(t, arrow::datatypes::DataType::Decimal128(..)), "{name}: {t}");
        }
    }
}
