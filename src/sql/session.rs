//! The one SQL session every front door uses: the lake's store and the catalog's tables.

use std::ops::Deref;
use std::sync::Arc;

use datafusion::catalog::SchemaProvider;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::Statement;
use tracing::warn;

use super::table::{LakeTable, Partitions};
use super::{Error, Result};
use crate::catalog::{LocalCatalog, TableDef};
use crate::lake::Lake;

/// The catalog the tables are in, named as Athena names it, so that a query that qualifies
/// its tables as Athena does (`awsdatacatalog.default.t`, `"default"."t"`) runs unchanged.
pub const CATALOG: &str = "awsdatacatalog";
/// The schema (Glue database) the tables are in unless told otherwise.
pub const DEFAULT_DATABASE: &str = "default";

/// A DataFusion session over a lake, with the lake's catalog.
pub struct Session {
    ctx: SessionContext,
    catalog: LocalCatalog,
    partitions: Partitions,
    database: String,
}

impl Deref for Session {
    type Target = SessionContext;
    fn deref(&self) -> &SessionContext {
        &self.ctx
    }
}

/// A session over `lake` with every table of its catalog registered.
pub async fn session(lake: &Lake) -> Result<Session> {
    session_with(lake, Partitions::Index).await
}

/// A session that finds partitions as `partitions` says.
pub async fn session_with(lake: &Lake, partitions: Partitions) -> Result<Session> {
    session_in(lake, partitions, DEFAULT_DATABASE).await
}

/// A session whose tables are in the schema `database` (the Glue database the lake syncs to).
pub async fn session_in(lake: &Lake, partitions: Partitions, database: &str) -> Result<Session> {
    // Table statistics would read the footer of every file a query touches while planning,
    // and again to run it; the scans prune with each file's own statistics anyway.
    let config = SessionConfig::new()
        .with_information_schema(true)
        .with_collect_statistics(false)
        .with_default_catalog_and_schema(CATALOG, database);
    // The tables find their own files (see `table`), from the catalog's partition index.
    let ctx = SessionContext::new_with_config(config);
    super::dialect::register(&ctx);
    lake.register(&ctx);
    let session = Session { ctx, catalog: LocalCatalog::new(lake), partitions, database: database.to_string() };
    session.refresh().await?;
    Ok(session)
}

impl Session {
    /// Plans one statement as [`SessionContext::sql`] does, after refusing DataFusion's file
    /// statements (`COPY`, non-Athena `CREATE EXTERNAL TABLE`), statements too deep to plan
    /// (see [`super::depth`]) and statements the parser cannot finish in time
    /// (see [`crate::deadline`]).
    pub async fn plan(&self, sql: &str) -> Result<DataFrame> {
        let state = self.ctx.state();
        let limit = state.config().options().sql_parser.recursion_limit.get();
        let text = sql.to_string();
        let parsed = crate::deadline::parse_within(move || super::dialect::parse(&text, limit));
        let statement = parsed.map_err(|slow| Error::Usage(slow.to_string()))??;
        // DataFusion's own file statements name any path: the lake's catalog statements
        // (CREATE EXTERNAL TABLE, inside the lake) and `--output` take their place.
        let outside = match &statement {
            Statement::CreateExternalTable(_) => Some(
                "this form of CREATE EXTERNAL TABLE (OR REPLACE, UNBOUNDED, WITH ORDER, ...) is not one Athena runs",
            ),
            Statement::CopyTo(_) => Some("COPY writes files outside the lake's tables; use b3lake sql --output FILE"),
            _ => None,
        };
        if let Some(why) = outside {
            return Err(Error::Usage(why.to_string()));
        }
        if let Err(too_deep) = super::depth::check(&statement) {
            super::depth::drop_deep(statement);
            return Err(too_deep.into());
        }
        let plan = state.statement_to_plan(statement).await?;
        Ok(self.ctx.execute_logical_plan(plan).await?)
    }

    /// The lake's catalog the tables come from.
    pub fn catalog(&self) -> &LocalCatalog {
        &self.catalog
    }

    /// The schema the lake's tables are registered in.
    pub fn schema(&self) -> Option<Arc<dyn SchemaProvider>> {
        self.ctx.catalog(CATALOG).and_then(|c| c.schema(&self.database))
    }

    /// Registers (again) every table of the catalog, and forgets those it no longer has.
    pub async fn refresh(&self) -> Result<()> {
        let defs = self.catalog.definitions().await?;
        if let Some(schema) = self.schema() {
            for name in schema.table_names() {
                if !defs.contains_key(&name)
                    && schema.table(&name).await.ok().flatten().is_some_and(|t| t.downcast_ref::<LakeTable>().is_some())
                {
                    self.ctx.deregister_table(name.as_str())?;
                }
            }
        }
        for def in defs.into_values() {
            self.register(def)?;
        }
        Ok(())
    }

    /// Registers one table definition, replacing a table of that name.
    pub fn register(&self, def: TableDef) -> Result<()> {
        if def.lake_prefix().is_none() {
            warn!(table = %def.name, location = %def.location, "table outside the lake; not registered");
            return Ok(());
        }
        let name = def.name.clone();
        self.ctx.deregister_table(name.as_str())?;
        self.ctx.register_table(name.as_str(), Arc::new(LakeTable::new(def, self.catalog.clone(), self.partitions)))?;
        Ok(())
    }
}
