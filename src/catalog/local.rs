//! The local catalog: table definitions as DDL files and partition indexes, kept in the
//! lake's `_b3lake/catalog/`, so whoever opens the lake (a laptop, a Glue job, a CI run)
//! sees the same tables. A lake that never changed its catalog has b3lake's built-in tables.

use std::collections::BTreeMap;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use tracing::info;

use super::ddl::{self, TableDef};
use super::index::{PartitionIndex, ScanParts};
use super::partition::{Partition, Pruner, discover, discover_under, list_files, outside};
use super::view::{ViewDef, builtin_views};
use super::{Catalog, Error};
use crate::lake::Lake;
use crate::lake::layout::META;

/// Written when the catalog is first changed; from then on the files are the whole truth.
const MARKER: &str = "catalog.json";

/// A day a writer put: its values, its partitions, and its companion file (the day's folder
/// and the file in it), if it wrote one.
pub type DayRecord = (Vec<String>, Vec<Partition>, Option<(String, super::DataFile)>);

/// What a statement (INSERT INTO, CTAS) indexes once its files are in: the partitions it
/// adds or grows, each with all its files. The statement records it with its files (see
/// `lake::staging::Additions`), so that a recovery indexes exactly these partitions, wherever
/// their folders are, and nothing else.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingIndex {
    /// The table.
    pub table: String,
    /// Its partitions, new or grown, whole.
    pub partitions: Vec<Partition>,
}

/// A lake's own catalog.
#[derive(Clone, Debug)]
pub struct LocalCatalog {
    lake: Lake,
}

/// What MSCK REPAIR changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repaired {
    /// Partitions new to the index.
    pub added: usize,
    /// Partitions the index had and the scope no longer has.
    pub removed: usize,
    /// Partitions whose files changed.
    pub changed: usize,
    /// Partitions in the scope after the change.
    pub total: usize,
}

impl LocalCatalog {
    /// The catalog kept in the lake's `_b3lake/` folder.
    pub fn new(lake: &Lake) -> Self {
        Self { lake: lake.clone() }
    }

    /// The lake the catalog describes.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    fn folder() -> String {
        format!("{META}/catalog")
    }

    fn table_file(name: &str) -> String {
        format!("{}/tables/{name}.sql", Self::folder())
    }

    fn view_file(name: &str) -> String {
        format!("{}/views/{name}.json", Self::folder())
    }

    fn state_file(name: &str) -> String {
        format!("{}/sync/{name}.json", Self::folder())
    }

    fn marker(&self) -> object_store::path::Path {
        self.lake.path(&format!("{}/{MARKER}", Self::folder()))
    }

    async fn materialized(&self) -> Result<bool, Error> {
        Ok(self.lake.exists(&self.marker()).await?)
    }

    /// Every table definition, by name.
    pub async fn definitions(&self) -> Result<BTreeMap<String, TableDef>, Error> {
        if !self.materialized().await? {
            return Ok(ddl::builtin().into_iter().map(|t| (t.name.clone(), t)).collect());
        }
        let files = self.lake.list_all(&self.lake.path(&format!("{}/tables", Self::folder()))).await?;
        let mut tables = BTreeMap::new();
        for path in files.into_iter().filter(|p| p.extension() == Some("sql")) {
            let Some(bytes) = self.lake.read(&path).await? else { continue };
            let text = String::from_utf8_lossy(&bytes);
            let def = TableDef::parse(&text, &self.lake.file_url(self.lake.relative(&path)))?;
            tables.insert(def.name.clone(), def);
        }
        Ok(tables)
    }

    /// Writes the built-in tables out before the first change, so that the change is the only
    /// difference from them.
    async fn materialize(&self) -> Result<(), Error> {
        if self.materialized().await? {
            return Ok(());
        }
        for def in ddl::builtin() {
            self.write_def(&def).await?;
        }
        for view in builtin_views() {
            self.write_view(&view).await?;
        }
        let body = serde_json::json!({"database": "default"}).to_string();
        Ok(self.lake.write(&self.marker(), body).await?)
    }

    async fn write_def(&self, def: &TableDef) -> Result<(), Error> {
        let text = def.to_ddl().map_err(|message| Error::Ddl { origin: def.name.clone(), message })?;
        Ok(self.lake.write(&self.lake.path(&Self::table_file(&def.name)), text).await?)
    }

    /// Every view, by name.
    pub async fn views(&self) -> Result<BTreeMap<String, ViewDef>, Error> {
        if !self.materialized().await? {
            return Ok(builtin_views().into_iter().map(|v| (v.name.clone(), v)).collect());
        }
        let files = self.lake.list_all(&self.lake.path(&format!("{}/views", Self::folder()))).await?;
        let mut views = BTreeMap::new();
        for path in files.into_iter().filter(|p| p.extension() == Some("json")) {
            let Some(bytes) = self.lake.read(&path).await? else { continue };
            let name = path.filename().unwrap_or_default().trim_end_matches(".json").to_string();
            let view = ViewDef::from_json(&name, &bytes, &self.lake.file_url(self.lake.relative(&path)))?;
            views.insert(view.name.clone(), view);
        }
        Ok(views)
    }

    /// The view `name`, if there is one.
    pub async fn view(&self, name: &str) -> Result<Option<ViewDef>, Error> {
        Ok(self.views().await?.remove(&ddl::table_name(name)))
    }

    /// Creates or replaces a view. A table of that name is an error, and so is an existing
    /// view unless `or_replace`.
    pub async fn put_view(&self, view: &ViewDef, or_replace: bool) -> Result<(), Error> {
        if self.definitions().await?.contains_key(&view.name) {
            return Err(Error::TableExists(view.name.clone()));
        }
        if !or_replace && self.views().await?.contains_key(&view.name) {
            return Err(Error::ViewExists(view.name.clone()));
        }
        self.materialize().await?;
        self.write_view(view).await
    }

    /// Removes a view.
    pub async fn drop_view(&self, name: &str) -> Result<(), Error> {
        let name = ddl::table_name(name);
        if !self.views().await?.contains_key(&name) {
            return Err(Error::ViewNotFound(name));
        }
        self.materialize().await?;
        Ok(self.lake.remove(&self.lake.path(&Self::view_file(&name))).await?)
    }

    async fn write_view(&self, view: &ViewDef) -> Result<(), Error> {
        Ok(self.lake.write(&self.lake.path(&Self::view_file(&view.name)), view.to_json()).await?)
    }

    /// State b3lake keeps about `name` (a sync target), if any.
    pub async fn load_state<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>, Error> {
        // An unreadable state is as good as none: the next sync compares everything.
        let bytes = self.lake.read(&self.lake.path(&Self::state_file(name))).await?;
        Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// Replaces the JSON file `name` of the catalog by `change` of what it holds now, as one
    /// compare-and-swap ([`Lake::update`]): many writers may update it at once.
    pub async fn update_state<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        name: &str,
        change: impl Fn(Option<T>) -> T,
    ) -> Result<(), Error> {
        let path = self.lake.path(&Self::state_file(name));
        let change = |bytes: Option<bytes::Bytes>| {
            let current = bytes.and_then(|b| serde_json::from_slice(&b).ok());
            serde_json::to_vec(&change(current)).expect("state serializes")
        };
        Ok(self.lake.update(&path, change).await?)
    }

    /// The definition of `name`, or `TableNotFound`.
    pub async fn require(&self, name: &str) -> Result<TableDef, Error> {
        let mut all = self.definitions().await?;
        all.remove(&ddl::table_name(name)).ok_or_else(|| Error::TableNotFound(name.to_string()))
    }

    /// Creates the table, or replaces its definition (and keeps its partitions when the keys
    /// stay the same); the writers call this so the catalog follows what they write.
    pub async fn put_table(&self, def: &TableDef) -> Result<bool, Error> {
        let current = self.definitions().await?.remove(&def.name);
        if current.as_ref() == Some(def) {
            return Ok(false);
        }
        self.materialize().await?;
        self.write_def(def).await?;
        if current.is_some_and(|c| c.partition_keys != def.partition_keys) {
            PartitionIndex::new(&self.lake, def).delete().await?;
        }
        Ok(true)
    }

    /// The partitions a pruner keeps: from the index, or by listing for a table never indexed.
    /// The files of folders a writer is changing (or died changing) are listed, not taken from
    /// the index, which may still give their old sizes.
    pub async fn find_partitions(&self, def: &TableDef, pruner: &Pruner) -> Result<Vec<Partition>, Error> {
        Ok(self.find(def, pruner, false).await?.partitions)
    }

    /// What a scan reads: [`LocalCatalog::find_partitions`], except that days read whole
    /// whose companion file is current come as that one file (see `catalog::index`). A day
    /// a writer is changing (or died changing) is never read from its companion.
    pub async fn find_for_scan(&self, def: &TableDef, pruner: &Pruner) -> Result<ScanParts, Error> {
        self.find(def, pruner, true).await
    }

    async fn find(&self, def: &TableDef, pruner: &Pruner, companions: bool) -> Result<ScanParts, Error> {
        let index = PartitionIndex::new(&self.lake, def);
        if !index.exists().await? {
            return Ok(ScanParts { partitions: discover(&self.lake, def, pruner).await?, ..Default::default() });
        }
        let changing = crate::lake::staging::changing_folders(&self.lake).await?;
        // A folder is changed when it is a changing folder, or lies below or above one.
        let changed = |location: &str| changing.iter().any(|f| within(location, f) || within(f, location));
        let mut found = if companions {
            index.read_for_scan(pruner, |c| !changed(&c.location)).await?
        } else {
            ScanParts { partitions: index.read(pruner).await?, ..Default::default() }
        };
        let partitions = &mut found.partitions;
        if !changing.is_empty() {
            for p in partitions.iter_mut().filter(|p| changed(&p.location)) {
                p.files = list_files(&self.lake, &p.location).await?;
            }
            // A partition a statement added whose files are all in place but not yet indexed
            // (it died while indexing): listed, so that the statement's rows show whole.
            // A changing day (a transform swapping it in) is listed whole: its new symbols
            // are not in the index yet, and its old ones may be gone. Unless the index names
            // a copy elsewhere (on S3 the staged day, while it is copied in): that copy is whole.
            let depth = def.partition_keys.len();
            for folder in &changing {
                let Some(values) = super::partition::folder_values(def, folder).filter(|v| !v.is_empty()) else {
                    continue;
                };
                if !pruner.keep(values.len(), &[values.as_slice()])?[0] {
                    continue;
                }
                if values.len() < depth {
                    if partitions.iter().any(|p| p.values.starts_with(&values) && !within(&p.location, folder)) {
                        continue;
                    }
                    partitions.retain(|p| !p.values.starts_with(&values));
                    let listed = discover_under(&self.lake, def, pruner, folder.clone(), values).await?;
                    partitions.extend(listed.into_iter().filter(|p| !p.files.is_empty()));
                    continue;
                }
                if partitions.iter().any(|p| p.values == values) {
                    continue;
                }
                let files = list_files(&self.lake, folder).await?;
                if !files.is_empty() {
                    partitions.push(Partition { values, location: folder.clone(), files });
                }
            }
            super::partition::sort(partitions);
        }
        Ok(found)
    }

    /// The partitions found by listing, whether or not the table is indexed.
    pub async fn list_partitions(&self, def: &TableDef, pruner: &Pruner) -> Result<Vec<Partition>, Error> {
        discover(&self.lake, def, pruner).await
    }

    /// MSCK REPAIR TABLE: makes the index match the folders (adds, removes and updates).
    pub async fn repair(&self, def: &TableDef) -> Result<Repaired, Error> {
        let index = PartitionIndex::new(&self.lake, def);
        let indexed = index.exists().await?;
        let old: BTreeMap<Vec<String>, Partition> = if indexed {
            index.read(&Pruner::all(&def.partition_keys)).await?.into_iter().map(|p| (p.values.clone(), p)).collect()
        } else {
            BTreeMap::new()
        };
        let found = discover(&self.lake, def, &Pruner::all(&def.partition_keys)).await?;
        let mut report = Repaired { total: found.len(), ..Default::default() };
        // Changed: another folder, or other files (modification times aside: writers record
        // their own clock, the store its own).
        let files = |p: &Partition| p.files.iter().map(|f| (f.name.clone(), f.size)).collect::<Vec<_>>();
        for p in &found {
            match old.get(&p.values) {
                None => report.added += 1,
                Some(o) if o.location != p.location || files(o) != files(p) => report.changed += 1,
                Some(_) => {}
            }
        }
        let present: std::collections::HashSet<&Vec<String>> = found.iter().map(|p| &p.values).collect();
        report.removed = old.keys().filter(|v| !present.contains(v)).count();
        if indexed {
            index.replace(&[], found).await?
        } else {
            index.build(found).await?
        }
        info!(table = %def.name, ?report, "partition index repaired");
        Ok(report)
    }

    /// Records what a writer just put: for each scope (a day), the scope's partitions become
    /// exactly those given. A table not yet indexed is indexed first, from a listing.
    pub async fn record(&self, def: &TableDef, scopes: Vec<(Vec<String>, Vec<Partition>)>) -> Result<(), Error> {
        self.record_days(def, scopes.into_iter().map(|(scope, partitions)| (scope, partitions, None)).collect()).await
    }

    /// [`LocalCatalog::record`] of whole days, each with its companion file, if it has one
    /// (its day folder, and the file in it).
    pub async fn record_days(&self, def: &TableDef, days: Vec<DayRecord>) -> Result<(), Error> {
        self.ensure_indexed(def).await?;
        let index = PartitionIndex::new(&self.lake, def);
        futures::stream::iter(days)
            .map(|(scope, partitions, companion)| {
                let index = &index;
                async move { index.replace_day(&scope, partitions, companion).await }
            })
            .buffer_unordered(16)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// Indexes what a statement recorded ([`PendingIndex`]); again after a crash, to the
    /// same end. A table dropped since, or projected (its partitions are never indexed),
    /// takes nothing.
    pub async fn index_pending(&self, pending: &PendingIndex) -> Result<(), Error> {
        let Some(def) = self.definitions().await?.remove(&pending.table) else { return Ok(()) };
        if super::projection::enabled(&def) || pending.partitions.is_empty() {
            return Ok(());
        }
        self.ensure_indexed(&def).await?;
        PartitionIndex::new(&self.lake, &def).upsert(pending.partitions.clone(), true).await
    }

    /// Indexes a table from a listing if it has no index yet (before parallel writers).
    pub async fn ensure_indexed(&self, def: &TableDef) -> Result<(), Error> {
        if !PartitionIndex::new(&self.lake, def).exists().await? {
            self.repair(def).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Catalog for LocalCatalog {
    fn describe(&self) -> String {
        format!("the local catalog of {}", self.lake)
    }

    fn lake_url(&self) -> String {
        self.lake.url().as_str().trim_end_matches('/').to_string()
    }

    async fn tables(&self) -> Result<Vec<String>, Error> {
        Ok(self.definitions().await?.into_keys().collect())
    }

    async fn table(&self, name: &str) -> Result<Option<TableDef>, Error> {
        Ok(self.definitions().await?.remove(&ddl::table_name(name)))
    }

    async fn create_table(&self, def: &TableDef) -> Result<(), Error> {
        def.lake_prefix().ok_or_else(|| outside(def))?;
        if self.definitions().await?.contains_key(&def.name) || self.views().await?.contains_key(&def.name) {
            return Err(Error::TableExists(def.name.clone()));
        }
        self.materialize().await?;
        self.write_def(def).await?;
        PartitionIndex::new(&self.lake, def).create().await
    }

    async fn update_table(&self, def: &TableDef) -> Result<(), Error> {
        if !self.definitions().await?.contains_key(&def.name) {
            return Err(Error::TableNotFound(def.name.clone()));
        }
        self.put_table(def).await.map(|_| ())
    }

    async fn drop_table(&self, name: &str) -> Result<(), Error> {
        let def = self.require(name).await?;
        self.materialize().await?;
        self.lake.remove(&self.lake.path(&Self::table_file(&def.name))).await?;
        PartitionIndex::new(&self.lake, &def).delete().await
    }

    async fn partitions(&self, def: &TableDef, scope: &[String]) -> Result<Vec<Partition>, Error> {
        self.find_partitions(def, &Pruner::prefix(&def.partition_keys, scope)).await
    }

    async fn add_partitions(&self, def: &TableDef, partitions: &[Partition]) -> Result<(), Error> {
        self.ensure_indexed(def).await?;
        PartitionIndex::new(&self.lake, def).upsert(partitions.to_vec(), false).await
    }

    async fn update_partitions(&self, def: &TableDef, partitions: &[Partition]) -> Result<(), Error> {
        self.ensure_indexed(def).await?;
        PartitionIndex::new(&self.lake, def).upsert(partitions.to_vec(), true).await
    }

    async fn drop_partitions(&self, def: &TableDef, values: &[Vec<String>]) -> Result<(), Error> {
        self.ensure_indexed(def).await?;
        PartitionIndex::new(&self.lake, def).remove(values).await
    }
}

/// Whether the lake-relative `path` is `folder` or lies below it.
fn within(path: &str, folder: &str) -> bool {
    path.strip_prefix(folder).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}
