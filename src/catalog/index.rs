//! The partition index: what MSCK REPAIR finds by listing the lake, kept with the catalog so
//! that a query plans from one small read instead of a listing. A table's index is sharded by
//! its first three partition keys (a trading day for b3lake's tables), one JSON file a shard:
//! a one-day query reads one shard, each day's writer replaces its own shard without touching
//! the others, and parallel writers of different days never meet. Entries carry the files'
//! sizes, so reading needs no listing at all.
//!
//! A shard may also name the day's *companion*: one file beside the day's partition folders
//! holding all their rows, the further keys as columns (the transform writes it with a day
//! of the refined table's day/ticker layout). A scan that keeps every partition of the day
//! reads that one file instead of hundreds of one-row files. The companion is current only
//! while the shard still lists the partitions it was made from: every other writer rewrites
//! the shard without it, and a digest of the partitions it covers is checked as well.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use super::Error;
use super::ddl::{Column, TableDef};
use super::partition::{DataFile, Partition, Pruner};
use crate::lake::Lake;
use crate::lake::layout::{META, escape_partition_value};

/// Partition keys that name a shard.
pub const SHARD_KEYS: usize = 3;

/// Shards read or written at once.
const CONCURRENCY: usize = 32;

/// The marker that says a table is indexed (its absence: discover partitions by listing).
const MARKER: &str = "_index.json";

#[derive(Serialize, Deserialize, Default)]
struct Shard {
    partitions: Vec<Partition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    companion: Option<Companion>,
}

/// A day's companion file (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Companion {
    /// The day's folder, relative to the lake root.
    pub location: String,
    /// The file, inside that folder.
    pub file: DataFile,
    /// [`digest`] of the partitions whose rows it holds.
    pub digest: String,
}

/// A fingerprint of partitions (values, folders, files and sizes), in any order: what a
/// companion was made from, to be compared with what the index lists when it is read.
pub fn digest<'a>(partitions: impl IntoIterator<Item = &'a Partition>) -> String {
    let mut lines: Vec<String> = partitions
        .into_iter()
        .flat_map(|p| {
            p.files
                .iter()
                .map(move |f| format!("{}\u{1}{}\u{1}{}\u{1}{}", p.values.join("\u{2}"), p.location, f.name, f.size))
        })
        .collect();
    lines.sort();
    // FNV-1a, 64 bits: stable across builds and platforms, unlike the standard hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in lines.join("\n").bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}-{}", lines.len())
}

/// Kept partitions of a day from which its companion is read instead of their files, when
/// the filters drop some: reading the day's ~1,200 rows costs about what opening this many
/// one-row files does.
const COMPANION_MIN_KEPT: usize = 16;

/// What a scan reads: the partitions kept, and the days read from their companions.
#[derive(Debug, Default)]
pub struct ScanParts {
    /// Partitions to read file by file.
    pub partitions: Vec<Partition>,
    /// Days to read from their companion file (each holds all the day's partitions).
    pub days: Vec<(Vec<String>, Companion)>,
    /// Some of those days have partitions the filters drop: the companions' rows must be
    /// filtered by the partition filters.
    pub days_filtered: bool,
}

#[derive(Serialize, Deserialize)]
struct Marker {
    keys: Vec<String>,
}

/// One table's partition index in a lake.
pub struct PartitionIndex<'a> {
    lake: &'a Lake,
    table: String,
    keys: Vec<Column>,
}

/// The folder of a table's index.
fn index_folder(table: &str) -> String {
    format!("{META}/catalog/partitions/{table}")
}

impl<'a> PartitionIndex<'a> {
    /// The index of table `def` in `lake`.
    pub fn new(lake: &'a Lake, def: &TableDef) -> Self {
        Self { lake, table: def.name.clone(), keys: def.partition_keys.clone() }
    }

    fn depth(&self) -> usize {
        self.keys.len().min(SHARD_KEYS)
    }

    fn folder(&self) -> String {
        index_folder(&self.table)
    }

    fn shard_path(&self, values: &[String]) -> Path {
        let spec: Vec<String> =
            self.keys.iter().zip(values).map(|(k, v)| format!("{}={}", k.name, escape_partition_value(v))).collect();
        let name = if spec.is_empty() { "all".to_string() } else { spec.join("/") };
        self.lake.path(&format!("{}/{name}.json", self.folder()))
    }

    fn shard_of(&self, partition: &Partition) -> Vec<String> {
        partition.values[..self.depth()].to_vec()
    }

    fn marker(&self) -> Path {
        self.lake.path(&format!("{}/{MARKER}", self.folder()))
    }

    /// Whether the table has an index.
    pub async fn exists(&self) -> Result<bool, Error> {
        Ok(self.lake.exists(&self.marker()).await?)
    }

    /// Starts an empty index (a new table has no partitions until they are added or repaired).
    pub async fn create(&self) -> Result<(), Error> {
        self.delete().await?;
        self.mark().await
    }

    /// Builds the index from `partitions` (a listing). The marker is written last: until it
    /// is, readers list the folders, so a crash half-way never leaves a partial index that
    /// readers would take as the table.
    pub async fn build(&self, partitions: Vec<Partition>) -> Result<(), Error> {
        self.replace(&[], partitions).await?;
        self.mark().await
    }

    async fn mark(&self) -> Result<(), Error> {
        let marker = Marker { keys: self.keys.iter().map(|k| k.name.clone()).collect() };
        Ok(self.lake.write(&self.marker(), serde_json::to_vec(&marker).expect("marker serializes")).await?)
    }

    /// Removes the index, the marker first (so a crash half-way leaves no index, not a part).
    pub async fn delete(&self) -> Result<(), Error> {
        self.lake.remove(&self.marker()).await?;
        for path in self.shard_files(&[]).await? {
            self.lake.remove(&path).await?;
        }
        if let Some(root) = self.lake.local_root() {
            let _ = std::fs::remove_dir_all(root.join(self.folder()));
        }
        Ok(())
    }

    /// The partitions the pruner keeps, reading only the shards it may need.
    pub async fn read(&self, pruner: &Pruner) -> Result<Vec<Partition>, Error> {
        let partitions: Vec<Vec<Partition>> = futures::stream::iter(self.shards(pruner).await?)
            .map(|path| async move { Ok::<_, Error>(self.read_shard(&path).await?.partitions) })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        pruner.filter(partitions.into_iter().flatten().collect())
    }

    /// What a scan with `pruner` reads: like [`PartitionIndex::read`], except that a day
    /// whose companion is current and `usable`, and whose partitions are all kept (or many
    /// of them: the rows are then filtered), is one companion file instead of its
    /// partitions. Each shard is reduced as it is read, so a scan of years holds one entry a
    /// day, not one a partition.
    pub async fn read_for_scan(
        &self,
        pruner: &Pruner,
        usable: impl Fn(&Companion) -> bool,
    ) -> Result<ScanParts, Error> {
        let usable = &usable;
        let shards: Vec<ScanParts> = futures::stream::iter(self.shards(pruner).await?)
            .map(|path| async move {
                let values = self.values_of(&path);
                let shard = self.read_shard(&path).await?;
                let (kept, dropped) = pruner.split(shard.partitions)?;
                let whole = dropped.is_empty();
                // The digest last: only for a day the companion would serve.
                let serves = |c: &Companion| {
                    !kept.is_empty()
                        && (whole || kept.len() >= COMPANION_MIN_KEPT)
                        && usable(c)
                        && c.digest == digest(kept.iter().chain(&dropped))
                };
                match (shard.companion, values) {
                    (Some(c), Some(values)) if serves(&c) => {
                        Ok::<_, Error>(ScanParts { partitions: vec![], days: vec![(values, c)], days_filtered: !whole })
                    }
                    _ => Ok(ScanParts { partitions: kept, ..Default::default() }),
                }
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut all = ScanParts::default();
        for shard in shards {
            all.partitions.extend(shard.partitions);
            all.days.extend(shard.days);
            all.days_filtered |= shard.days_filtered;
        }
        Ok(all)
    }

    /// The shard files a pruner may need, in key order.
    async fn shards(&self, pruner: &Pruner) -> Result<Vec<Path>, Error> {
        let depth = self.depth();
        let mut prefix = pruner.equality_prefix();
        prefix.truncate(depth);
        let shards = if prefix.len() == depth {
            vec![self.shard_path(&prefix)]
        } else {
            let files = self.shard_files(&prefix).await?;
            let mut named: Vec<(Path, Vec<String>)> =
                files.into_iter().filter_map(|p| Some((p.clone(), self.values_of(&p)?))).collect();
            // Shards in key order, partitions in key order inside each: the result is sorted.
            named.sort_by(|a, b| super::partition::order(&a.1, &b.1));
            let values: Vec<&[String]> = named.iter().map(|(_, v)| v.as_slice()).collect();
            let keep = pruner.keep(depth, &values)?;
            named.into_iter().zip(keep).filter_map(|((p, _), k)| k.then_some(p)).collect()
        };
        Ok(shards)
    }

    /// Replaces every partition whose values start with `scope` by `partitions` (which must
    /// lie in the scope): a day rewritten, a table repaired.
    pub async fn replace(&self, scope: &[String], partitions: Vec<Partition>) -> Result<(), Error> {
        self.replace_with(scope, partitions, None).await
    }

    /// [`PartitionIndex::replace`] of a whole shard (a day), naming the day's companion file.
    /// The companion's digest is that of `partitions`.
    pub async fn replace_day(
        &self,
        day: &[String],
        partitions: Vec<Partition>,
        companion: Option<(String, DataFile)>,
    ) -> Result<(), Error> {
        let companion = companion
            .filter(|_| day.len() == self.depth() && !partitions.is_empty())
            .map(|(location, file)| Companion { location, file, digest: digest(&partitions) });
        self.replace_with(day, partitions, companion).await
    }

    async fn replace_with(
        &self,
        scope: &[String],
        partitions: Vec<Partition>,
        companion: Option<Companion>,
    ) -> Result<(), Error> {
        let depth = self.depth();
        let mut groups: BTreeMap<Vec<String>, Shard> = BTreeMap::new();
        if scope.len() >= depth {
            let shard = scope[..depth].to_vec();
            let mut kept = if scope.len() > depth {
                let current = self.read_shard(&self.shard_path(&shard)).await?.partitions;
                current.into_iter().filter(|p| !p.values.starts_with(scope)).collect()
            } else {
                vec![]
            };
            kept.extend(partitions);
            groups.insert(shard, Shard { partitions: kept, companion });
        } else {
            for path in self.shard_files(scope).await? {
                if let Some(values) = self.values_of(&path) {
                    groups.insert(values, Shard::default());
                }
            }
            for p in partitions {
                groups.entry(self.shard_of(&p)).or_default().partitions.push(p);
            }
        }
        self.write_shards(groups).await
    }

    /// Adds partitions, or replaces those with the same values when `overwrite`.
    pub async fn upsert(&self, partitions: Vec<Partition>, overwrite: bool) -> Result<(), Error> {
        let mut added: BTreeMap<Vec<String>, Vec<Partition>> = BTreeMap::new();
        for p in partitions {
            added.entry(self.shard_of(&p)).or_default().push(p);
        }
        let mut groups = BTreeMap::new();
        for (shard, new) in added {
            let mut current = self.read_shard(&self.shard_path(&shard)).await?.partitions;
            for p in new {
                match current.iter_mut().find(|c| c.values == p.values) {
                    Some(c) if overwrite => *c = p,
                    Some(_) => {
                        return Err(Error::Invalid(format!(
                            "partition ({}) of {} already exists",
                            Partition::spec(&self.keys, &p.values),
                            self.table
                        )));
                    }
                    None => current.push(p),
                }
            }
            groups.insert(shard, Shard { partitions: current, companion: None });
        }
        self.write_shards(groups).await
    }

    /// Removes the partitions with these values; missing ones are an error.
    pub async fn remove(&self, values: &[Vec<String>]) -> Result<(), Error> {
        let mut by_shard: BTreeMap<Vec<String>, Vec<&Vec<String>>> = BTreeMap::new();
        for v in values {
            by_shard.entry(v[..self.depth()].to_vec()).or_default().push(v);
        }
        let mut groups = BTreeMap::new();
        for (shard, gone) in by_shard {
            let current = self.read_shard(&self.shard_path(&shard)).await?.partitions;
            for v in &gone {
                if !current.iter().any(|p| &p.values == *v) {
                    return Err(Error::Invalid(format!(
                        "partition ({}) of {} does not exist",
                        Partition::spec(&self.keys, v),
                        self.table
                    )));
                }
            }
            let partitions = current.into_iter().filter(|p| !gone.contains(&&p.values)).collect();
            groups.insert(shard, Shard { partitions, companion: None });
        }
        self.write_shards(groups).await
    }

    /// Writes each shard whole; any write but a transform's day (`replace_day`) leaves the
    /// shard without a companion.
    async fn write_shards(&self, groups: BTreeMap<Vec<String>, Shard>) -> Result<(), Error> {
        futures::stream::iter(groups)
            .map(|(values, mut shard)| {
                let path = self.shard_path(&values);
                async move {
                    if shard.partitions.is_empty() {
                        return self.lake.remove(&path).await;
                    }
                    super::partition::sort(&mut shard.partitions);
                    let body = serde_json::to_vec(&shard).expect("shard serializes");
                    self.lake.write(&path, body).await
                }
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn read_shard(&self, path: &Path) -> Result<Shard, Error> {
        let Some(bytes) = self.lake.read(path).await? else { return Ok(Shard::default()) };
        // Parsed off the async workers, so a query over many days parses on every core.
        let parsed = tokio::task::spawn_blocking(move || serde_json::from_slice::<Shard>(&bytes))
            .await
            .map_err(|e| Error::Invalid(format!("partition index {path}: {e}")))?;
        let shard = parsed.map_err(|e| {
            Error::Invalid(format!("partition index {path}: {e}; MSCK REPAIR TABLE {} rebuilds it", self.table))
        })?;
        Ok(shard)
    }

    /// The shard files under the shards whose leading values are `prefix`.
    async fn shard_files(&self, prefix: &[String]) -> Result<Vec<Path>, Error> {
        let spec: Vec<String> =
            self.keys.iter().zip(prefix).map(|(k, v)| format!("{}={}", k.name, escape_partition_value(v))).collect();
        let mut folder = self.folder();
        for s in &spec {
            folder = format!("{folder}/{s}");
        }
        let files = self.lake.list_all(&self.lake.path(&folder)).await?;
        Ok(files.into_iter().filter(|p| p.extension() == Some("json") && p.filename() != Some(MARKER)).collect())
    }

    /// The shard values of a shard file's path.
    fn values_of(&self, path: &Path) -> Option<Vec<String>> {
        let relative = self.lake.relative(path);
        let inside = relative.strip_prefix(&self.folder())?.trim_start_matches('/').strip_suffix(".json")?;
        if self.depth() == 0 {
            return (inside == "all").then(Vec::new);
        }
        let parts: Vec<&str> = inside.split('/').collect();
        if parts.len() != self.depth() {
            return None;
        }
        parts.iter().zip(&self.keys).map(|(part, key)| super::partition::folder_value(part, &key.name)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ddl::{REFINED, builtin_table};

    fn partition(symbol: &str, size: u64) -> Partition {
        let location = format!("refined/year=2024/month=03/day=04/symbol={symbol}");
        let file = DataFile { name: "part-00000.parquet".into(), size, modified: 0 };
        Partition { values: vec!["2024".into(), "3".into(), "4".into(), symbol.into()], location, files: vec![file] }
    }

    #[test]
    fn a_digest_changes_with_any_partition_file_or_size_but_not_their_order() {
        let (a, b) = (partition("PETR4", 10), partition("VALE3", 20));
        assert_eq!(digest(&[a.clone(), b.clone()]), digest(&[b.clone(), a.clone()]));
        assert_ne!(digest(&[a.clone(), b.clone()]), digest(std::slice::from_ref(&a)));
        assert_ne!(digest(&[a.clone(), b.clone()]), digest(&[a.clone(), partition("VALE3", 21)]));
        let mut renamed = b.clone();
        renamed.files[0].name = "other.parquet".into();
        assert_ne!(digest(&[a.clone(), b]), digest(&[a, renamed]));
    }

    /// An empty lake with the refined table's keys, and the day 2024-03-04 with its companion.
    async fn refined_lake() -> (tempfile::TempDir, Lake, TableDef, Vec<String>, (String, DataFile)) {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
        let def = builtin_table(REFINED);
        PartitionIndex::new(&lake, &def).create().await.unwrap();
        let day = vec!["2024".into(), "3".into(), "4".into()];
        let companion = (
            "refined/year=2024/month=03/day=04".to_string(),
            DataFile { name: "_b3lake_day".into(), size: 99, modified: 0 },
        );
        (dir, lake, def, day, companion)
    }

    #[tokio::test]
    async fn only_a_transforms_day_names_a_companion_and_any_other_write_drops_it() {
        let (_dir, lake, def, day, companion) = refined_lake().await;
        let index = PartitionIndex::new(&lake, &def);
        let all = Pruner::all(&def.partition_keys);
        let days = |parts: &ScanParts| parts.days.iter().map(|(v, c)| (v.clone(), c.file.size)).collect::<Vec<_>>();

        index
            .replace_day(&day, vec![partition("PETR4", 10), partition("VALE3", 20)], Some(companion.clone()))
            .await
            .unwrap();
        let read = index.read_for_scan(&all, |_| true).await.unwrap();
        assert_eq!((days(&read), read.partitions.len(), read.days_filtered), (vec![(day.clone(), 99)], 0, false));
        // Not usable (a writer is changing the day): the partitions.
        assert_eq!(index.read_for_scan(&all, |_| false).await.unwrap().partitions.len(), 2);
        // The plain read is unchanged.
        assert_eq!(index.read(&all).await.unwrap().len(), 2);

        // Any other write of the day drops the companion.
        index.upsert(vec![partition("ITUB4", 30)], false).await.unwrap();
        let read = index.read_for_scan(&all, |_| true).await.unwrap();
        assert_eq!((days(&read), read.partitions.len()), (vec![], 3));
        index.replace_day(&day, vec![partition("PETR4", 10), partition("VALE3", 20)], Some(companion)).await.unwrap();
        index.remove(&[partition("VALE3", 20).values]).await.unwrap();
        assert_eq!(index.read_for_scan(&all, |_| true).await.unwrap().partitions.len(), 1);
    }

    #[tokio::test]
    async fn a_filter_that_keeps_many_of_a_days_partitions_reads_its_companion_filtered() {
        use datafusion::prelude::{col, lit};
        let (_dir, lake, def, day, companion) = refined_lake().await;
        let index = PartitionIndex::new(&lake, &def);
        let partitions: Vec<Partition> = (0..20).map(|i| partition(&format!("S{i:02}"), 10)).collect();
        index.replace_day(&day, partitions, Some(companion)).await.unwrap();
        let read = |filter| {
            let pruner = Pruner::new(&def.partition_keys, &[filter]);
            let index = &index;
            async move {
                let parts = index.read_for_scan(&pruner, |_| true).await.unwrap();
                (parts.days.len(), parts.partitions.len(), parts.days_filtered)
            }
        };
        // 19 of 20 kept: the companion, filtered; 16 kept: still; 15: their files.
        assert_eq!(read(col("symbol").not_eq(lit("S00"))).await, (1, 0, true));
        assert_eq!(read(col("symbol").gt_eq(lit("S04"))).await, (1, 0, true));
        assert_eq!(read(col("symbol").gt_eq(lit("S05"))).await, (0, 15, false));
        assert_eq!(read(col("day").eq(lit(4))).await, (1, 0, false));
        assert_eq!(read(col("day").eq(lit(5))).await, (0, 0, false));
    }
}
