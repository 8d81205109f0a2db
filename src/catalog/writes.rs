//! The catalog's part of the write protocol: a run ([`crate::lake::tx::Writer`]) that
//! finishes a dead writer's commit must index what it moved in, and only the catalog knows
//! which table a folder belongs to.

use std::sync::Arc;

use chrono::NaiveDate;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};

use super::local::PendingIndex;
use super::partition::{day_values, list_files};
use super::{Catalog, Error, LocalCatalog, Partition, RAW, TableDef};
use crate::lake::layout::raw_partition;
use crate::lake::staging::Committed;
use crate::lake::tx::{Finisher, Key, Scope, Writer};
use crate::lake::{self, Lake};

/// Indexes what a recovery finished.
struct IndexRecovered;

impl Finisher for IndexRecovered {
    fn index<'a>(&'a self, lake: &'a Lake, done: &'a Committed) -> BoxFuture<'a, Result<(), lake::Error>> {
        Box::pin(async move { index_recovered(lake, done).await.map_err(|e| lake::Error::Index(Box::new(e))) })
    }
}

/// Starts a run on `lake` for `command` (see [`crate::lake::tx`]).
pub async fn writer(lake: &Lake, command: &str) -> Result<Writer, lake::Error> {
    lake.writer(command, Arc::new(IndexRecovered)).await
}

/// Runs `job` as one run of `command` holding `scope` from start to end.
pub async fn with_scope<T, E: From<lake::Error>>(
    lake: &Lake,
    command: &str,
    scope: &Scope,
    job: impl AsyncFnOnce(&Writer) -> Result<T, E>,
) -> Result<T, E> {
    within(lake, command, async |writer: &Writer| {
        let held = writer.take(scope).await?;
        let result = job(writer).await;
        writer.settle(held, result).await
    })
    .await
}

/// Runs `job` as one run of `command`: the job takes its scope when it knows it.
pub async fn within<T, E: From<lake::Error>>(
    lake: &Lake,
    command: &str,
    job: impl AsyncFnOnce(&Writer) -> Result<T, E>,
) -> Result<T, E> {
    let writer = writer(lake, command).await?;
    let result = job(&writer).await;
    let ended = writer.end().await;
    let value = result?;
    ended?;
    Ok(value)
}

async fn index_recovered(lake: &Lake, committed: &Committed) -> Result<(), Error> {
    if !committed.days.is_empty() {
        index_raw_days(lake, &committed.days).await?;
    }
    if let Some(index) = &committed.index {
        let pending: PendingIndex = serde_json::from_value(index.clone())
            .map_err(|e| Error::Invalid(format!("a statement's recorded partitions cannot be read: {e}")))?;
        LocalCatalog::new(lake).index_pending(&pending).await?;
    }
    index_folders(lake, &committed.folders).await
}

/// Records days just written in `def`'s partition index: each day's partition is the folder
/// `partition_of(day)`, with the files listed there.
pub async fn index_days(
    lake: &Lake,
    def: &TableDef,
    days: &[NaiveDate],
    partition_of: fn(NaiveDate) -> String,
) -> Result<(), Error> {
    let scopes = futures::stream::iter(days.iter().copied())
        .map(|date| async move {
            let location = partition_of(date);
            let files = list_files(lake, &location).await?;
            let values = day_values(date);
            Ok::<_, Error>((values.clone(), vec![Partition { values, location, files }]))
        })
        .buffer_unordered(32)
        .try_collect()
        .await?;
    LocalCatalog::new(lake).record(def, scopes).await
}

/// Records the committed days in the raw table's partition index. A catalog without the
/// table (dropped with DROP TABLE) gets the built-in definition back, indexed from the files.
pub async fn index_raw_days(lake: &Lake, days: &[NaiveDate]) -> Result<(), Error> {
    let catalog = LocalCatalog::new(lake);
    let def = match catalog.table(RAW).await? {
        Some(def) => def,
        None => {
            let def = super::ddl::builtin_table(RAW);
            catalog.put_table(&def).await?;
            tracing::info!(table = RAW, "the table was not in the catalog; defined again");
            def
        }
    };
    index_days(lake, &def, days, raw_partition).await
}

/// Indexes again, from their files, the partitions under folders a recovery moved in: each
/// folder (`refined/year=2024/month=03/day=04`) is the scope of the table it lies in.
async fn index_folders(lake: &Lake, folders: &[String]) -> Result<(), Error> {
    if folders.is_empty() {
        return Ok(());
    }
    let catalog = LocalCatalog::new(lake);
    for def in catalog.definitions().await?.into_values() {
        for folder in folders {
            // A folder below the table's (a partition or a day), or an unpartitioned table's own.
            let values = super::partition::folder_values(&def, folder);
            let Some(values) = values.filter(|v| !v.is_empty() || def.partition_keys.is_empty()) else {
                continue;
            };
            let pruner = super::Pruner::prefix(&def.partition_keys, &values);
            let found = super::partition::discover(lake, &def, &pruner).await?;
            catalog.record(&def, vec![(values, found)]).await?;
        }
    }
    Ok(())
}

/// Takes `scope` to write into `tables`, each defined and indexed first: a table missing
/// from the catalog gets the definition given, and one never indexed is indexed from a
/// listing, both holding the whole lake, so that writers of keys never change a whole table.
pub async fn take_for(writer: &Writer, scope: &Scope, tables: &[TableDef]) -> Result<crate::lake::tx::Held, Error> {
    let catalog = LocalCatalog::new(writer.lake());
    loop {
        if !ready(&catalog, tables).await? {
            let whole = writer.take(&Scope::Lake).await?;
            for given in tables {
                let def = match catalog.table(&given.name).await? {
                    Some(def) => def,
                    None => {
                        catalog.put_table(given).await?;
                        tracing::info!(table = %given.name, "the table was not in the catalog; defined again");
                        given.clone()
                    }
                };
                if !super::projection::enabled(&def) {
                    catalog.ensure_indexed(&def).await?;
                }
            }
            writer.release(whole).await?;
        }
        let held = writer.take(scope).await?;
        // A whole-lake writer (DROP TABLE) may have come between.
        if ready(&catalog, tables).await? {
            return Ok(held);
        }
        writer.release(held).await?;
    }
}

async fn ready(catalog: &LocalCatalog, tables: &[TableDef]) -> Result<bool, Error> {
    for given in tables {
        let Some(def) = catalog.table(&given.name).await? else { return Ok(false) };
        if !super::projection::enabled(&def)
            && !super::index::PartitionIndex::new(catalog.lake(), &def).exists().await?
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A partition's index shard (see [`super::index`]): its first values.
pub fn shard_of(def: &TableDef, values: &[String]) -> Vec<String> {
    values[..def.partition_keys.len().min(super::index::SHARD_KEYS).min(values.len())].to_vec()
}

/// The writers' key of an index shard of `def`: what a writer of those partitions holds.
pub fn shard_key(def: &TableDef, shard: &[String]) -> Key {
    let spec: Vec<String> = def
        .partition_keys
        .iter()
        .zip(shard)
        .map(|(k, v)| format!("{}={}", k.name, crate::lake::layout::escape_partition_value(v)))
        .collect();
    Key::shard(&def.name, &spec.join("/"))
}
