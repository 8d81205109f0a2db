//! The one SQL session every front door uses: the lake's store and the catalog's tables.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use datafusion::catalog::SchemaProvider;
use datafusion::catalog::view::ViewTable;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::Statement;
use tracing::warn;

use super::table::{LakeTable, Partitions};
use super::{Error, Result};
use crate::catalog::view::{ViewColumn, trino_type};
use crate::catalog::{LocalCatalog, TableDef, ViewDef};
use crate::lake::Lake;

/// The catalog the tables are in, named as Athena names it, so that a query that qualifies
/// its tables as Athena does (`awsdatacatalog.default.t`, `"default"."t"`) runs unchanged.
pub const CATALOG: &str = crate::catalog::ATHENA_CATALOG;
/// The schema (Glue database) the tables are in unless told otherwise.
pub const DEFAULT_DATABASE: &str = "default";

/// A DataFusion session over a lake, with the lake's catalog.
pub struct Session {
    ctx: SessionContext,
    catalog: LocalCatalog,
    partitions: Partitions,
    database: String,
    /// Views that no longer plan (a table they read was dropped), and why.
    stale: Mutex<BTreeMap<String, String>>,
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
    let session = Session {
        ctx,
        catalog: LocalCatalog::new(lake),
        partitions,
        database: database.to_string(),
        stale: Mutex::default(),
    };
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
        let plan = match state.statement_to_plan(statement).await {
            Ok(plan) => plan,
            Err(e) => return Err(self.explain_stale(sql, e.into())),
        };
        Ok(self.ctx.execute_logical_plan(plan).await?)
    }

    /// An error planning `sql` that names a stale view says so, as Athena does.
    fn explain_stale(&self, sql: &str, error: Error) -> Error {
        let stale = self.stale.lock().expect("not poisoned");
        let named = stale.iter().find(|(name, _)| crate::words::word_at(sql, name).is_some());
        match named {
            Some((name, why)) => Error::Usage(format!(
                "View '{CATALOG}.{}.{name}' is stale or in invalid state: {why}; create it again (CREATE OR REPLACE VIEW)",
                self.database
            )),
            None => error,
        }
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
        self.register_views().await
    }

    /// Registers (again) every view of the catalog, after the tables, in an order where each
    /// view's views come first; a view that no longer plans is remembered as stale.
    pub async fn register_views(&self) -> Result<()> {
        let mut pending = self.catalog.views().await?;
        if let Some(schema) = self.schema() {
            for name in schema.table_names() {
                let is_view =
                    schema.table(&name).await.ok().flatten().is_some_and(|t| t.downcast_ref::<ViewTable>().is_some());
                if is_view {
                    self.ctx.deregister_table(name.as_str())?;
                }
            }
        }
        let mut failed = BTreeMap::new();
        loop {
            failed.clear();
            let before = pending.len();
            for (name, view) in std::mem::take(&mut pending) {
                match self.view_plan(&view).await {
                    Ok(table) => {
                        self.ctx.register_table(name.as_str(), Arc::new(table))?;
                    }
                    Err(e) => {
                        failed.insert(name.clone(), e.to_string());
                        pending.insert(name, view);
                    }
                }
            }
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        for (name, why) in &failed {
            warn!(view = %name, "the view no longer plans: {why}");
        }
        *self.stale.lock().expect("not poisoned") = failed;
        Ok(())
    }

    async fn view_plan(&self, view: &ViewDef) -> Result<ViewTable> {
        let df = self.plan(&view.original_sql).await?;
        Ok(ViewTable::new(df.logical_plan().clone(), Some(view.original_sql.clone())))
    }

    /// The view `sql` makes, with its columns as the session plans them: planning is also
    /// the check that every table and column it names exists.
    pub async fn resolve_view(&self, name: &str, sql: &str) -> Result<ViewDef> {
        let mut view = ViewDef::new(name, sql, &self.database);
        let df = self.plan(&view.original_sql).await?;
        view.columns = df
            .schema()
            .fields()
            .iter()
            .map(|f| {
                let data_type =
                    trino_type(f.data_type()).map_err(|e| Error::Usage(format!("column {}: {e}", f.name())))?;
                Ok(ViewColumn { name: f.name().to_lowercase(), data_type })
            })
            .collect::<Result<_>>()?;
        Ok(view)
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
