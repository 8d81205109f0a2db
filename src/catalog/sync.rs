//! Making one catalog match another: a pure diff into a [`Plan`] (what `--dry-run` prints),
//! then [`apply`]. Used to push the local catalog to Glue, whole or one day at a time.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ddl::TableDef;
use super::glue::GlueCatalog;
use super::local::LocalCatalog;
use super::partition::Partition;
use super::partition::day_values;
use super::view::ViewDef;
use super::{Catalog, Error};
use crate::lake::Lake;

/// More days than this and a scoped sync reads the whole table instead (one listing is
/// cheaper than that many filtered ones).
const MAX_SCOPES: usize = 16;

/// What to compare.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every table and partition.
    All,
    /// These tables, and of their partitions only those under these leading values (days).
    Partitions {
        /// The tables whose partitions are compared.
        tables: Vec<String>,
        /// Leading partition values (`["2022", "2", "4"]` for a day); a partition under any of them is in scope.
        prefixes: Vec<Vec<String>>,
    },
}

/// One change to the target catalog.
#[derive(Debug, Clone)]
pub enum Change {
    /// A table Glue does not have.
    CreateTable(TableDef),
    /// A table whose definition differs in Glue.
    UpdateTable(TableDef),
    /// A table Glue has and the lake's catalog does not.
    DropTable(String),
    /// Partitions Glue does not have.
    AddPartitions(TableDef, Vec<Partition>),
    /// Partitions whose location differs in Glue.
    UpdatePartitions(TableDef, Vec<Partition>),
    /// Partitions Glue has and the index does not (their values).
    DropPartitions(TableDef, Vec<Vec<String>>),
}

/// The changes that make the target match the source.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The catalog changed: the Glue database.
    pub target: String,
    /// The changes, in the order they are made.
    pub changes: Vec<Change>,
    /// What the target holds once the plan is applied, for the parts of it that were compared.
    pub compared: Vec<Compared>,
}

/// One table's partitions under one prefix, compared: their digests by group (a day).
#[derive(Debug, Clone)]
pub struct Compared {
    /// The table.
    pub table: String,
    /// The partition values the group's files lie under.
    pub prefix: Vec<String>,
    /// Each group (a day) and the digest of its partitions.
    pub groups: BTreeMap<String, String>,
}

/// What the last sync to a target left there: per table, a digest of each group of
/// partitions (a trading day: the first three keys). A group whose digest has not changed
/// since is not compared again, so a sync with nothing to do reads the target's tables but
/// none of its partitions. `--full` compares everything (for changes made to the target
/// behind b3lake's back).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Baseline {
    /// Per table, the digest of each group as the last sync left it.
    pub tables: BTreeMap<String, BTreeMap<String, String>>,
}

/// Partition keys that make a group.
const GROUP_KEYS: usize = 3;

fn group_key(values: &[String]) -> String {
    values[..values.len().min(GROUP_KEYS)].join("/")
}

/// The digest of every group of `partitions`: their values and locations.
fn digests<'a>(partitions: impl Iterator<Item = &'a Partition>) -> BTreeMap<String, String> {
    let mut groups: BTreeMap<String, Sha256> = BTreeMap::new();
    for p in partitions {
        let hash = groups.entry(group_key(&p.values)).or_default();
        for v in &p.values {
            hash.update(v.as_bytes());
            hash.update([0]);
        }
        hash.update(p.location.as_bytes());
        hash.update([b'\n']);
    }
    groups.into_iter().map(|(k, h)| (k, hex::encode(&h.finalize()[..8]))).collect()
}

impl Baseline {
    /// Takes in what an applied plan made the target hold.
    pub fn merge(&mut self, plan: &Plan) {
        for c in &plan.compared {
            let groups = self.tables.entry(c.table.clone()).or_default();
            let prefix = c.prefix.join("/");
            groups.retain(|k, _| !(prefix.is_empty() || *k == prefix || k.starts_with(&format!("{prefix}/"))));
            groups.extend(c.groups.clone());
        }
        for change in &plan.changes {
            if let Change::DropTable(t) = change {
                self.tables.remove(t);
            }
        }
    }
}

impl Plan {
    /// Whether Glue already matches.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Partitions the plan adds, updates and drops.
    pub fn partition_counts(&self) -> (usize, usize, usize) {
        self.changes.iter().fold((0, 0, 0), |(a, u, d), c| match c {
            Change::AddPartitions(_, p) => (a + p.len(), u, d),
            Change::UpdatePartitions(_, p) => (a, u + p.len(), d),
            Change::DropPartitions(_, v) => (a, u, d + v.len()),
            _ => (a, u, d),
        })
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return writeln!(f, "no changes: {} already matches", self.target);
        }
        writeln!(f, "changes to {}:", self.target)?;
        for change in &self.changes {
            match change {
                Change::CreateTable(t) => {
                    writeln!(f, "  create table {} ({} columns, partitioned by {})", t.name, t.columns.len(), keys(t))?
                }
                Change::UpdateTable(t) => writeln!(f, "  update table {}", t.name)?,
                Change::DropTable(t) => writeln!(f, "  drop table {t}")?,
                Change::AddPartitions(t, p) => {
                    writeln!(f, "  add {} partitions to {}{}", p.len(), t.name, sample(t, p.iter().map(|p| &p.values)))?
                }
                Change::UpdatePartitions(t, p) => writeln!(
                    f,
                    "  update {} partitions of {}{}",
                    p.len(),
                    t.name,
                    sample(t, p.iter().map(|p| &p.values))
                )?,
                Change::DropPartitions(t, v) => {
                    writeln!(f, "  drop {} partitions of {}{}", v.len(), t.name, sample(t, v.iter()))?
                }
            }
        }
        Ok(())
    }
}

fn keys(t: &TableDef) -> String {
    if t.partition_keys.is_empty() {
        return "nothing".into();
    }
    t.partition_keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn sample<'a>(t: &TableDef, values: impl Iterator<Item = &'a Vec<String>>) -> String {
    let all: Vec<&Vec<String>> = values.collect();
    match all.as_slice() {
        [] => String::new(),
        [one] => format!(": {}", Partition::spec(&t.partition_keys, one)),
        [first, .., last] => {
            format!(": {} .. {}", Partition::spec(&t.partition_keys, first), Partition::spec(&t.partition_keys, last))
        }
    }
}

/// Whether `target`'s definition already says what `source`'s says (the target may carry
/// properties of its own).
fn same_table(source: &TableDef, target: &TableDef) -> bool {
    source.columns == target.columns
        && source.partition_keys == target.partition_keys
        && source.location == target.location
        && source.properties.iter().all(|(k, v)| target.properties.get(k) == Some(v))
}

/// The changes that make `target` match `source` within `scope`, comparing only the groups
/// of partitions that changed since `baseline` when there is one.
pub async fn plan(
    source: &dyn Catalog,
    target: &dyn Catalog,
    scope: &Scope,
    baseline: Option<&Baseline>,
) -> Result<Plan, Error> {
    let mut changes = Vec::new();
    let mut compared = Vec::new();
    let (names, scoped) = match scope {
        Scope::All => (source.tables().await?, None),
        Scope::Partitions { tables, prefixes } if prefixes.len() > MAX_SCOPES => (tables.clone(), None),
        Scope::Partitions { tables, prefixes } => (tables.clone(), Some(prefixes.clone())),
    };
    for name in &names {
        let Some(def) = source.table(name).await? else { continue };
        let existing = target.table(name).await?;
        let columns_changed = match &existing {
            None => {
                changes.push(Change::CreateTable(def.clone()));
                false
            }
            Some(t) if !same_table(&def, t) => {
                changes.push(Change::UpdateTable(def.clone()));
                t.columns != def.columns
            }
            Some(_) => false,
        };
        let known = baseline.and_then(|b| b.tables.get(name)).filter(|_| existing.is_some() && !columns_changed);
        let prefixes = match (&scoped, known) {
            (Some(prefixes), _) => prefixes.clone(),
            (None, None) => vec![vec![]],
            (None, Some(known)) => {
                let now = digests(source.partitions(&def, &[]).await?.iter());
                let mut changed: Vec<Vec<String>> = now
                    .iter()
                    .filter(|(k, d)| known.get(*k) != Some(d))
                    .map(|(k, _)| k.clone())
                    .chain(known.keys().filter(|k| !now.contains_key(*k)).cloned())
                    .map(|k| if k.is_empty() { vec![] } else { k.split('/').map(str::to_string).collect() })
                    .collect();
                changed.dedup();
                if changed.len() > MAX_SCOPES { vec![vec![]] } else { changed }
            }
        };
        let (mut add, mut update, mut drop) = (vec![], vec![], vec![]);
        for prefix in &prefixes {
            let wanted: BTreeMap<Vec<String>, Partition> =
                source.partitions(&def, prefix).await?.into_iter().map(|p| (p.values.clone(), p)).collect();
            let have: BTreeMap<Vec<String>, Partition> = match existing {
                Some(_) => target.partitions(&def, prefix).await?.into_iter().map(|p| (p.values.clone(), p)).collect(),
                None => BTreeMap::new(),
            };
            for (values, p) in &wanted {
                match have.get(values) {
                    None => add.push(p.clone()),
                    Some(h) if h.location != p.location || columns_changed => update.push(p.clone()),
                    Some(_) => {}
                }
            }
            drop.extend(have.keys().filter(|v| !wanted.contains_key(*v)).cloned());
            compared.push(Compared { table: name.clone(), prefix: prefix.clone(), groups: digests(wanted.values()) });
        }
        super::partition::sort(&mut add);
        super::partition::sort(&mut update);
        drop.sort_by(|a, b| super::partition::order(a, b));
        if !add.is_empty() {
            changes.push(Change::AddPartitions(def.clone(), add));
        }
        if !update.is_empty() {
            changes.push(Change::UpdatePartitions(def.clone(), update));
        }
        if !drop.is_empty() {
            changes.push(Change::DropPartitions(def.clone(), drop));
        }
    }
    if matches!(scope, Scope::All) {
        for name in target.managed_tables().await? {
            if !names.contains(&name) {
                changes.push(Change::DropTable(name));
            }
        }
    }
    Ok(Plan { target: target.describe(), changes, compared })
}

/// Applies a plan to `target`, in order.
pub async fn apply(target: &dyn Catalog, plan: &Plan) -> Result<(), Error> {
    if plan.is_empty() {
        return Ok(());
    }
    target.prepare().await?;
    for change in &plan.changes {
        match change {
            Change::CreateTable(t) => target.create_table(t).await?,
            Change::UpdateTable(t) => target.update_table(t).await?,
            Change::DropTable(t) => target.drop_table(t).await?,
            Change::AddPartitions(t, p) => target.add_partitions(t, p).await?,
            Change::UpdatePartitions(t, p) => target.update_partitions(t, p).await?,
            Change::DropPartitions(t, v) => target.drop_partitions(t, v).await?,
        }
    }
    Ok(())
}

/// Plans and applies (unless `dry_run`) comparing everything, returning the plan.
pub async fn sync(source: &dyn Catalog, target: &dyn Catalog, scope: &Scope, dry_run: bool) -> Result<Plan, Error> {
    let plan = plan(source, target, scope, None).await?;
    if !dry_run {
        apply(target, &plan).await?;
    }
    Ok(plan)
}

/// How to sync a lake with Glue.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    /// Print the plan only.
    pub dry_run: bool,
    /// Compare every partition with Glue, not only the days changed since the last sync.
    pub full: bool,
    /// Give Glue the day-partitioned tables with partition projection instead of partitions.
    pub projection: bool,
}

/// The lake's catalog as `catalog sync --projection` shows it to Glue: every table
/// partitioned by `year`, `month` and `day` (the raw table, the compact refined layout, the
/// daily summary) carries Athena's projection properties and no partitions, so Athena
/// computes its days and no partition sync is needed again. Tables partitioned otherwise
/// (the day/ticker refined layout: projecting `symbol` would need an equality filter on it or
/// a list of tickers that goes stale) keep their partitions.
pub struct WithProjection<'a> {
    local: &'a LocalCatalog,
}

impl<'a> WithProjection<'a> {
    /// The local catalog, projected.
    pub fn new(local: &'a LocalCatalog) -> Self {
        Self { local }
    }

    fn project(def: TableDef) -> TableDef {
        match super::projection::day_properties(&def) {
            Some(properties) if !super::projection::enabled(&def) => {
                let mut def = def;
                def.properties.extend(properties);
                def
            }
            _ => def,
        }
    }
}

#[async_trait::async_trait]
impl Catalog for WithProjection<'_> {
    fn describe(&self) -> String {
        self.local.describe()
    }
    fn lake_url(&self) -> String {
        self.local.lake_url()
    }
    async fn tables(&self) -> Result<Vec<String>, Error> {
        self.local.tables().await
    }
    async fn table(&self, name: &str) -> Result<Option<TableDef>, Error> {
        Ok(self.local.table(name).await?.map(Self::project))
    }
    async fn create_table(&self, def: &TableDef) -> Result<(), Error> {
        self.local.create_table(def).await
    }
    async fn update_table(&self, def: &TableDef) -> Result<(), Error> {
        self.local.update_table(def).await
    }
    async fn drop_table(&self, name: &str) -> Result<(), Error> {
        self.local.drop_table(name).await
    }
    async fn partitions(&self, def: &TableDef, prefix: &[String]) -> Result<Vec<Partition>, Error> {
        if super::projection::enabled(def) {
            return Ok(vec![]);
        }
        self.local.partitions(def, prefix).await
    }
    async fn add_partitions(&self, def: &TableDef, partitions: &[Partition]) -> Result<(), Error> {
        self.local.add_partitions(def, partitions).await
    }
    async fn update_partitions(&self, def: &TableDef, partitions: &[Partition]) -> Result<(), Error> {
        self.local.update_partitions(def, partitions).await
    }
    async fn drop_partitions(&self, def: &TableDef, values: &[Vec<String>]) -> Result<(), Error> {
        self.local.drop_partitions(def, values).await
    }
}

/// Syncs a lake's catalog with a Glue database, keeping what it synced in the lake
/// (`_b3lake/catalog/sync/glue-<database>.json`) so that the next sync compares only what
/// changed since.
pub async fn sync_glue(
    local: &LocalCatalog,
    glue: &GlueCatalog,
    scope: &Scope,
    opts: SyncOptions,
) -> Result<Plan, Error> {
    if local.lake().local_root().is_some() {
        tracing::warn!(
            lake = %local.lake(),
            "the lake is on local disk: Glue will hold file:// locations, which Athena cannot read"
        );
    }
    let name = format!("glue-{}", glue.database());
    let baseline: Baseline = local.load_state(&name).await?.unwrap_or_default();
    let known = (!opts.full && !baseline.tables.is_empty()).then_some(&baseline);
    let projected = WithProjection::new(local);
    let source: &dyn Catalog = if opts.projection { &projected } else { local };
    let plan = plan(source, glue, scope, known).await?;
    if !opts.dry_run {
        apply(glue, &plan).await?;
        // Into what the state is now: writers of other days sync theirs at the same time.
        local
            .update_state(&name, |current: Option<Baseline>| {
                let mut baseline = current.unwrap_or_default();
                baseline.merge(&plan);
                baseline
            })
            .await?;
    }
    Ok(plan)
}

/// Syncs `tables` of `lake`'s catalog with a Glue database, for these days only: what
/// `--sync-glue` does after a job writes them.
pub async fn glue_days(lake: &Lake, database: &str, tables: &[&str], days: &[NaiveDate]) -> Result<Plan, Error> {
    if days.is_empty() {
        return Ok(Plan { target: format!("the Glue database {database}"), changes: vec![], compared: vec![] });
    }
    let local = LocalCatalog::new(lake);
    let glue = GlueCatalog::for_lake(&local, database).await;
    // A few days at a time: more at once would compare whole tables.
    let mut all = Plan { target: format!("the Glue database {database}"), changes: vec![], compared: vec![] };
    for chunk in days.chunks(MAX_SCOPES) {
        let scope = Scope::Partitions {
            tables: tables.iter().map(|t| t.to_string()).collect(),
            prefixes: chunk.iter().map(|d| day_values(*d)).collect(),
        };
        let plan = sync_glue(&local, &glue, &scope, SyncOptions::default()).await?;
        all.target = plan.target;
        all.changes.extend(plan.changes);
        all.compared.extend(plan.compared);
    }
    Ok(all)
}

/// What a sync of views changed (or would change) in Glue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewChanges {
    /// Views Glue did not have.
    pub created: Vec<String>,
    /// Views whose text or columns differed.
    pub updated: Vec<String>,
    /// Views b3lake had made in Glue that the lake no longer has.
    pub dropped: Vec<String>,
}

impl fmt::Display for ViewChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (what, names) in
            [("create view", &self.created), ("update view", &self.updated), ("drop view", &self.dropped)]
        {
            for name in names {
                writeln!(f, "{what} {name}")?;
            }
        }
        Ok(())
    }
}

/// Makes Glue's Athena views match `views` (the lake's, with their columns resolved): views
/// are created and replaced as Athena writes them; views b3lake made that the lake no
/// longer has are dropped; views made in Athena are left alone.
pub async fn sync_views(views: &[ViewDef], glue: &GlueCatalog, dry_run: bool) -> Result<ViewChanges, Error> {
    let existing: BTreeMap<String, (ViewDef, bool)> =
        glue.views().await?.into_iter().map(|(v, managed)| (v.name.clone(), (v, managed))).collect();
    let mut changes = ViewChanges::default();
    for view in views {
        match existing.get(&view.name) {
            None => changes.created.push(view.name.clone()),
            Some((v, _)) if v.original_sql != view.original_sql || v.columns != view.columns => {
                changes.updated.push(view.name.clone())
            }
            Some(_) => {}
        }
    }
    let wanted: std::collections::BTreeSet<&str> = views.iter().map(|v| v.name.as_str()).collect();
    changes.dropped = existing
        .iter()
        .filter(|(n, (_, managed))| *managed && !wanted.contains(n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    if dry_run {
        return Ok(changes);
    }
    if !(changes.created.is_empty() && changes.updated.is_empty()) {
        glue.ensure_database().await?;
    }
    for view in views {
        if changes.created.contains(&view.name) || changes.updated.contains(&view.name) {
            glue.put_view(view, existing.contains_key(&view.name)).await?;
        }
    }
    for name in &changes.dropped {
        glue.drop_table(name).await?;
    }
    Ok(changes)
}

/// Reads Glue's Athena views into the lake's catalog, or, with `out`, into `views/<name>.sql`
/// files there (`CREATE OR REPLACE VIEW`, as `catalog/views/` holds them). Returns their names.
pub async fn pull_views(
    glue: &GlueCatalog,
    local: &LocalCatalog,
    out: Option<&std::path::Path>,
) -> Result<Vec<String>, Error> {
    let mut pulled = Vec::new();
    for (view, _) in glue.views().await? {
        match out {
            Some(dir) => {
                let text = format!("{};\n", view.to_ddl().replacen("CREATE VIEW", "CREATE OR REPLACE VIEW", 1));
                write_file(&dir.join("views").join(format!("{}.sql", view.name)), &text)?;
            }
            None => local.put_view(&view, true).await?,
        }
        pulled.push(view.name);
    }
    Ok(pulled)
}

/// Reads the table definitions of `remote` into the lake's catalog, or, with `out`, into DDL
/// files there (one `<table>.sql` each, `${lake}` standing for the lake's URL). Tables that
/// are not external Parquet tables are skipped with a warning. Returns the tables read.
pub async fn pull(
    remote: &dyn Catalog,
    local: &LocalCatalog,
    out: Option<&std::path::Path>,
) -> Result<Vec<String>, Error> {
    let mut pulled = Vec::new();
    for name in remote.tables().await? {
        let def = match remote.table(&name).await {
            Ok(Some(def)) => def.with_location_template(&local.lake_url()),
            Ok(None) => continue,
            Err(Error::Invalid(e)) => {
                tracing::warn!(table = %name, "skipped: {e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        match out {
            Some(dir) => {
                let ddl = def.to_ddl().map_err(|message| Error::Ddl { origin: name.clone(), message })?;
                write_file(&dir.join(format!("{name}.sql")), &ddl)?;
            }
            None => {
                local.put_table(&def).await?;
            }
        }
        pulled.push(name);
    }
    Ok(pulled)
}

/// Writes a pulled definition's file, making its folder.
fn write_file(path: &std::path::Path, text: &str) -> Result<(), Error> {
    path.parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, text))
        .map_err(|source| Error::Lake(crate::lake::Error::Io { path: path.display().to_string(), source }))
}
