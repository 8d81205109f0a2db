//! The one SQL session every front door uses: the lake's store and the catalog's tables.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use datafusion::catalog::SchemaProvider;
use datafusion::catalog::view::ViewTable;
use datafusion::execution::SessionStateBuilder;
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
/// Views a view may read through, one inside the other. Planning a view inlines the plans of
/// those it reads, so a chain costs the square of its length (3,000 levels took half a minute
/// and 2.8 GB), and planning recurses once per level (200 levels overflowed a 2 MiB thread
/// stack in a debug build; 100 plan in a fraction of a second).
pub const MAX_VIEW_DEPTH: usize = 100;

/// A DataFusion session over a lake, with the lake's catalog.
pub struct Session {
    ctx: SessionContext,
    catalog: LocalCatalog,
    partitions: Partitions,
    database: String,
    /// The catalog's views, planned and registered only when a statement names them.
    views: Mutex<Views>,
}

/// The session's views: a view is planned the first time a statement reads it, so a lake of
/// thousands of views costs a statement only the views it reads.
#[derive(Default)]
struct Views {
    /// Every view of the catalog, by name.
    all: BTreeMap<String, ViewDef>,
    /// Those registered (planned) in the session.
    planned: std::collections::BTreeSet<String>,
    /// What each planned view expands to (see [`super::expansion`]).
    sizes: BTreeMap<String, u64>,
    /// How deep views nest in each planned view (1: it reads no view).
    depths: BTreeMap<String, usize>,
    /// Those that do not plan (a table they read was dropped, they read themselves), and why.
    stale: BTreeMap<String, String>,
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
    let ctx = super::dialect::context(
        SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(super::yielding::YieldingJoins)),
    );
    lake.register(&ctx);
    let session = Session {
        ctx,
        catalog: LocalCatalog::new(lake),
        partitions,
        database: database.to_string(),
        views: Mutex::default(),
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
        self.plan_views(sql).await;
        Ok(self.plan_sized(sql).await?.0)
    }

    /// [`Session::plan`] with the views registered as they are, and what the statement
    /// expands to (see [`super::expansion`]).
    async fn plan_sized(&self, sql: &str) -> Result<(DataFrame, u64)> {
        let state = self.ctx.state();
        let limit = state.config().options().sql_parser.recursion_limit.get();
        let text = sql.to_string();
        let parsed = crate::deadline::parse_within_async(move || super::dialect::parse(&text, limit)).await;
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
        let size = {
            let views = self.views.lock().expect("not poisoned");
            super::expansion::size(&statement, &|name| views.sizes.get(name).copied())?
        };
        let plan = match state.statement_to_plan(statement).await {
            Ok(plan) => plan,
            Err(e) => return Err(self.explain_stale(sql, e.into())),
        };
        Ok((self.ctx.execute_logical_plan(plan).await?, size))
    }

    /// An error planning `sql` that names a stale view says so, as Athena does.
    fn explain_stale(&self, sql: &str, error: Error) -> Error {
        let views = self.views.lock().expect("not poisoned");
        let named = views.stale.iter().find(|(name, _)| crate::words::word_at(sql, name).is_some());
        match named {
            Some((name, why)) => Error::Usage(format!(
                "View '{CATALOG}.{}.{name}' is stale or in invalid state: {why}; create it again (CREATE OR REPLACE VIEW)",
                self.database
            )),
            None => error,
        }
    }

    /// Forgets a table the catalog dropped.
    pub fn deregister(&self, name: &str) -> Result<()> {
        self.ctx.deregister_table(name)?;
        Ok(())
    }

    /// The names of the session's scalar and aggregate functions (for completion).
    pub fn function_names(&self) -> Vec<String> {
        let state = self.ctx.state();
        state.scalar_functions().keys().chain(state.aggregate_functions().keys()).cloned().collect()
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

    /// The catalog's views, planned or not.
    pub fn view_names(&self) -> Vec<String> {
        self.views.lock().expect("not poisoned").all.keys().cloned().collect()
    }

    /// Takes the catalog's views (again), forgetting those planned: each is planned when a
    /// statement first reads it (see [`Session::plan`]).
    pub async fn register_views(&self) -> Result<()> {
        let all = self.catalog.views().await?;
        let planned = std::mem::take(&mut self.views.lock().expect("not poisoned").planned);
        for name in planned {
            self.ctx.deregister_table(name.as_str())?;
        }
        *self.views.lock().expect("not poisoned") = Views { all, ..Default::default() };
        Ok(())
    }

    /// Plans and registers the views `sql` may read that are not yet, each after the views
    /// it reads. Which views a text reads is told by the names in it (a name in a string or
    /// a column's name only costs a view planned early); a view that reads itself, directly
    /// or through others, is found on the way and does not plan. A view that fails is
    /// remembered as stale, for the error of a statement that reads it.
    async fn plan_views(&self, sql: &str) {
        let (order, cyclic) = {
            let views = self.views.lock().expect("not poisoned");
            if views.all.is_empty() {
                return;
            }
            order_views(&views, sql)
        };
        for (name, depth) in order {
            let Some(view) = self.views.lock().expect("not poisoned").all.get(&name).cloned() else { continue };
            let planned = if depth > MAX_VIEW_DEPTH {
                Err(Error::Usage(format!(
                    "views nested more than {MAX_VIEW_DEPTH} deep (a view reading a view reading a view ...); read \
                     the tables below in fewer levels"
                )))
            } else {
                self.plan_sized(&view.original_sql).await
            };
            let planned = match planned {
                Ok((df, size)) => {
                    let table = ViewTable::new(df.logical_plan().clone(), Some(view.original_sql.clone()));
                    let registered = self.ctx.register_table(name.as_str(), Arc::new(table));
                    registered.map(|_| size).map_err(Error::from)
                }
                Err(e) => Err(e),
            };
            let mut views = self.views.lock().expect("not poisoned");
            match planned {
                Ok(size) => {
                    views.sizes.insert(name.clone(), size);
                    views.depths.insert(name.clone(), depth);
                    views.planned.insert(name);
                }
                Err(e) => {
                    let why = if cyclic.contains(&name) {
                        "it reads itself, directly or through other views".to_string()
                    } else {
                        e.to_string()
                    };
                    warn!(view = %name, "the view does not plan: {why}");
                    views.stale.insert(name, why);
                }
            }
        }
    }

    /// The view `sql` makes, with its columns as the session plans them: planning is also
    /// the check that every table and column it names exists.
    pub async fn resolve_view(&self, name: &str, sql: &str) -> Result<ViewDef> {
        let mut view = ViewDef::new(name, sql, &self.database);
        let df = self.plan(&view.original_sql).await?;
        self.columns_of(&mut view, &df)?;
        Ok(view)
    }

    /// [`Session::resolve_view`] of a view being created or replaced: planned in a session of
    /// its own where `name` is the new definition, so that a view reading itself (directly,
    /// or through views that read its old definition) is refused, not stored.
    pub async fn resolve_new_view(&self, name: &str, sql: &str) -> Result<ViewDef> {
        let mut view = ViewDef::new(name, sql, &self.database);
        let own = session_in(self.catalog.lake(), self.partitions, &self.database).await?;
        own.views.lock().expect("not poisoned").all.insert(view.name.clone(), view.clone());
        let df = own.plan(&format!("SELECT * FROM \"{}\"", view.name)).await;
        let stale = own.views.lock().expect("not poisoned").stale.remove(&view.name);
        let df = match (df, stale) {
            (Ok(df), _) => df,
            (Err(_), Some(why)) => {
                return Err(Error::Usage(format!(
                    "View '{CATALOG}.{}.{}' cannot be created: {why}",
                    self.database, view.name
                )));
            }
            (Err(e), None) => return Err(e),
        };
        self.columns_of(&mut view, &df)?;
        Ok(view)
    }

    fn columns_of(&self, view: &mut ViewDef, df: &DataFrame) -> Result<()> {
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

/// The views `sql` may read that are not planned yet, each after the views it reads and with
/// how deep views nest in it (1: it reads no view), and those found reading themselves.
fn order_views(views: &Views, sql: &str) -> (Vec<(String, usize)>, std::collections::BTreeSet<String>) {
    let named = |text: &str| -> Vec<String> {
        let mut names: Vec<String> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map(str::to_lowercase)
            .filter(|w| views.all.contains_key(w))
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let mut order = Vec::new();
    let mut depths: BTreeMap<String, usize> = BTreeMap::new();
    let mut cyclic = std::collections::BTreeSet::new();
    // Depth first without recursion: (view, whether the views it reads are done).
    let mut visiting = std::collections::BTreeSet::new();
    let unplanned = |name: &String| !views.planned.contains(name);
    let mut stack: Vec<(String, bool)> = named(sql).into_iter().filter(unplanned).rev().map(|n| (n, false)).collect();
    while let Some((name, ready)) = stack.pop() {
        if ready {
            visiting.remove(&name);
            let below = named(&views.all[&name].original_sql)
                .iter()
                .filter(|read| **read != name)
                .filter_map(|read| depths.get(read).or_else(|| views.depths.get(read)).copied())
                .max()
                .unwrap_or(0);
            depths.insert(name.clone(), below + 1);
            order.push((name, below + 1));
            continue;
        }
        if depths.contains_key(&name) {
            continue;
        }
        if !visiting.insert(name.clone()) {
            cyclic.insert(name);
            continue;
        }
        stack.push((name.clone(), true));
        for read in named(&views.all[&name].original_sql).into_iter().filter(unplanned).rev() {
            if visiting.contains(&read) {
                cyclic.insert(read);
            } else if !depths.contains_key(&read) {
                stack.push((read, false));
            }
        }
    }
    (order, cyclic)
}
