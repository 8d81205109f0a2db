//! The staging that makes a run all-or-nothing, and the records that let readers and the
//! next writer see through a crash.
//!
//! A run writes every day it produces under `_staging/<run>/` first; only when every input
//! has been read without error does it commit: it records the days it is committing
//! (`_staging/<run>/_commit.json`), then moves the files into their partitions. A failed run
//! deletes its staging and leaves the lake as it was. A crashed one leaves files only under
//! `_staging/`, where no table looks; a writer that takes the dead run over ([`super::tx`], [`recover_run`]) deletes them, or, when
//! the crash came after the commit was recorded, finishes the commit, so a run's days go in
//! all together. Each partition holds exactly one file, and moving it in replaces the
//! previous one in a single step (a rename locally, a copy on S3), so re-running never
//! duplicates rows and a reader sees a day's old file or its new one, never a mix. On local
//! disk a commit runs from its record to [`Committed::finish`] publishing (see
//! [`super::snapshot`]): a query sees all the run's days old or all new.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use super::layout::{STAGING, raw_file, raw_partition};
use super::writer::StagedDay;
use super::{Error, Lake};

/// What a staged day became.
#[derive(Debug, Clone, Copy)]
struct Staged {
    rows: usize,
    bytes: usize,
}

/// The files of one run, invisible to readers until [`Staging::commit`].
pub struct Staging {
    lake: Lake,
    run: String,
    days: BTreeMap<NaiveDate, Staged>,
}

/// What a commit put into the lake.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    /// The days published, in order.
    pub days: Vec<NaiveDate>,
    /// Rows written.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Folders of a transform that died after staging them, now moved in, to be indexed
    /// again from their files.
    pub folders: Vec<String>,
    /// For a statement's additions finished by [`recover_run`]: what the statement was to index
    /// once its files were in, as it recorded it ([`Additions::commit`]).
    pub index: Option<serde_json::Value>,
    /// The run whose staging folder (and commit record) [`Committed::finish`] removes.
    run: String,
    /// Queries wait until the caller has indexed the days and finished.
    _publishing: super::Snapshot,
}

/// The days a run is committing, written before the first of them moves: a run that dies
/// while moving its days is finished by [`recover_run`], so a commit is whole once it starts.
#[derive(Serialize, Deserialize)]
struct CommitRecord {
    days: Vec<NaiveDate>,
}

/// The folders a writer is changing (or was, when it died), beside its staging files: until
/// the record goes, the partition index may name those folders' files with their old sizes,
/// so readers list them instead (see [`changing_folders`]).
#[derive(Serialize, Deserialize)]
struct ChangeRecord {
    folders: Vec<String>,
    /// The folders' new content is complete under the run's staging folder (at the same
    /// relative paths): a run that dies is finished by [`recover_run`], not undone.
    #[serde(default)]
    staged: bool,
}

const COMMIT_RECORD: &str = "_commit.json";
/// The files a statement adds (INSERT INTO, CTAS, UNLOAD), written before the first is
/// copied in: a run that dies after it is finished by [`recover_run`].
const ADDITIONS_RECORD: &str = "_additions.json";
const CHANGE_RECORDS: &str = "_changing";

/// New files a statement adds to folders of the lake, each under a name no other file has:
/// staged under `_staging/<run>/` (where no table looks), then [committed](Additions::commit)
/// by recording them and copying each in (one atomic PUT or rename each). Nothing that was
/// there is replaced, so readers that take files from the partition index see none of them
/// until the caller indexes them; a run that dies after its record is rolled forward by
/// [`recover_run`], which returns the folders for the caller to index.
pub struct Additions {
    lake: Lake,
    run: String,
    files: Vec<String>,
    bytes: u64,
}

#[derive(Serialize, Deserialize)]
struct AdditionsRecord {
    files: Vec<String>,
    /// What the caller indexes once the files are in; none for files of no table (UNLOAD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index: Option<serde_json::Value>,
}

impl Additions {
    /// An empty set of additions for the statement run as `run` ([`super::tx::Writer::run`]).
    pub fn new(lake: &Lake, run: &str) -> Self {
        Self { lake: lake.clone(), run: run.to_string(), files: Vec::new(), bytes: 0 }
    }

    /// Stages `bytes` as the file `relative` (its final path in the lake, a name no file has).
    pub async fn stage(&mut self, relative: String, bytes: bytes::Bytes) -> Result<(), Error> {
        let path = self.lake.path(&format!("{STAGING}/{}/{relative}", self.run));
        self.bytes += bytes.len() as u64;
        self.lake.write(&path, bytes).await?;
        self.files.push(relative);
        Ok(())
    }

    /// The files staged so far, by final path.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Bytes staged so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Records the files, and `index`, what the caller will index once they are in (the
    /// partitions of a table; `None` for files no table reads, such as an UNLOAD's), then
    /// copies each into place. The caller indexes, then calls [`Committed::finish`]; queries
    /// wait until then. A recovery returns `index` for its caller to do the same: it alone
    /// knows which table the files joined, whatever their folders are called.
    pub async fn commit(self, index: Option<serde_json::Value>) -> Result<Committed, Error> {
        let publishing = self.lake.publishing().await?;
        let marked = index.is_some();
        let record = AdditionsRecord { files: self.files.clone(), index };
        let record = serde_json::to_vec(&record).expect("a record serializes");
        self.lake.write(&self.lake.path(&format!("{STAGING}/{}/{ADDITIONS_RECORD}", self.run)), record).await?;
        copy_in(&self.lake, &self.run, &self.files, marked, false).await?;
        Ok(Committed {
            days: vec![],
            rows: 0,
            bytes: self.bytes,
            folders: vec![],
            index: None,
            run: self.run,
            _publishing: publishing,
        })
    }

    /// Deletes everything staged.
    pub async fn abort(self) -> Result<(), Error> {
        cleanup(&self.lake, &self.run).await
    }
}

/// Copies staged files in (`again` after a crash: a copy replaces a whole file by the same one,
/// and a staged file already moved is in place), then, when they are a table's (`marked`),
/// marks their folders as changing: until the caller has indexed the files, readers list these
/// folders, so a crash while indexing shows all the rows, not some.
async fn copy_in(lake: &Lake, run: &str, files: &[String], marked: bool, again: bool) -> Result<(), Error> {
    let store = lake.store().clone();
    futures::stream::iter(files.iter().cloned())
        .map(|relative| {
            let store = store.clone();
            let from = lake.path(&format!("{STAGING}/{run}/{relative}"));
            let to = lake.path(&relative);
            async move {
                match store.copy(&from, &to).await {
                    Ok(()) => Ok(()),
                    // Copied before a crash, and its staged copy since removed.
                    Err(object_store::Error::NotFound { .. }) if again && lake.exists(&to).await? => Ok(()),
                    Err(source) => Err(Error::Store { path: to.to_string(), source }),
                }
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await?;
    if marked {
        mark(lake, run, "additions", ChangeRecord { folders: folders_of(files), staged: false }).await?;
    }
    Ok(())
}

/// A run's name: when it started, and a random part.
pub(super) fn new_run() -> String {
    format!("{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"), uuid::Uuid::new_v4().simple())
}

fn folders_of(files: &[String]) -> Vec<String> {
    let folders: BTreeSet<String> =
        files.iter().map(|f| f.rsplit_once('/').map_or(String::new(), |(folder, _)| folder.to_string())).collect();
    folders.into_iter().collect()
}

/// Marks `folders` (relative to the lake root) as being changed by `run`, under `name`;
/// [`Change::done`] removes the mark. A run that dies leaves it, and the next writer's
/// [`recover_run`] removes it with the run's staging.
pub async fn changing(lake: &Lake, run: &str, name: &str, folders: Vec<String>) -> Result<Change, Error> {
    mark(lake, run, name, ChangeRecord { folders, staged: false }).await
}

/// Marks `folders` as replaced by their copies under `_staging/<run>/`, which are complete:
/// from now on a run that dies is rolled forward by [`recover_run`] (the copies moved in, the
/// caller re-indexes the folders), so a reader that is shown the staged copies keeps seeing
/// that version. [`Change::done`] removes the mark.
pub async fn staged(lake: &Lake, run: &str, name: &str, folders: Vec<String>) -> Result<Change, Error> {
    mark(lake, run, &format!("{name}-staged"), ChangeRecord { folders, staged: true }).await
}

async fn mark(lake: &Lake, run: &str, name: &str, record: ChangeRecord) -> Result<Change, Error> {
    let path = lake.path(&format!("{STAGING}/{run}/{CHANGE_RECORDS}/{name}.json"));
    lake.write(&path, serde_json::to_vec(&record).expect("a record serializes")).await?;
    Ok(Change { path })
}

/// Replaces a folder's files by its staged copy under `_staging/<run>/`: each file copied in
/// (one atomic PUT or rename each), then the files the copy does not have deleted. Running it
/// again after a crash finishes it.
pub async fn move_in(lake: &Lake, run: &str, folder: &str) -> Result<(), Error> {
    let staged_root = format!("{STAGING}/{run}");
    let staged: Vec<Path> = lake.list_all(&lake.path(&format!("{staged_root}/{folder}"))).await?;
    let relative =
        |p: &Path| lake.relative(p).strip_prefix(staged_root.as_str()).map(|r| r.trim_start_matches('/').to_string());
    let moves: Vec<(Path, Path)> = staged.iter().filter_map(|p| Some((p.clone(), lake.path(&relative(p)?)))).collect();
    let wanted: BTreeSet<Path> = moves.iter().map(|(_, to)| to.clone()).collect();
    let store = lake.store().clone();
    futures::stream::iter(moves)
        .map(|(from, to)| {
            let store = store.clone();
            async move { store.copy(&from, &to).await.map_err(|source| Error::Store { path: to.to_string(), source }) }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await?;
    let live = lake.list_all(&lake.path(folder)).await?;
    lake.remove_all(live.into_iter().filter(|p| !wanted.contains(p)).collect()).await?;
    if let Some(root) = lake.local_root() {
        crate::local_fs::remove_empty_dirs_async(root.join(folder)).await;
    }
    Ok(())
}

/// A mark of folders being changed.
pub struct Change {
    path: Path,
}

impl Change {
    /// Removes the mark: the folders are whole again.
    pub async fn done(self, lake: &Lake) -> Result<(), Error> {
        lake.remove(&self.path).await
    }
}

/// Every folder a writer is changing or left half-changed: the days of recorded commits and
/// the folders of change marks.
pub async fn changing_folders(lake: &Lake) -> Result<BTreeSet<String>, Error> {
    let mut folders = BTreeSet::new();
    for path in lake.list_all(&lake.path(STAGING)).await? {
        let is_commit = path.filename() == Some(COMMIT_RECORD);
        let is_change = lake.relative(&path).split('/').rev().nth(1) == Some(CHANGE_RECORDS);
        if !is_commit && !is_change {
            continue;
        }
        let Some(bytes) = lake.read(&path).await? else { continue };
        if is_commit {
            if let Ok(record) = serde_json::from_slice::<CommitRecord>(&bytes) {
                folders.extend(record.days.into_iter().map(raw_partition));
            }
        } else if let Ok(record) = serde_json::from_slice::<ChangeRecord>(&bytes) {
            folders.extend(record.folders);
        }
    }
    Ok(folders)
}

/// The folders a run marked as staged whole ([`staged`]).
async fn staged_folders(lake: &Lake, run: &str) -> Result<Vec<String>, Error> {
    Ok(marked_folders(lake, run).await?.0)
}

/// The folders a run marked: those staged whole ([`staged`]), and those it was changing in
/// place ([`changing`]).
async fn marked_folders(lake: &Lake, run: &str) -> Result<(Vec<String>, Vec<String>), Error> {
    let (mut staged, mut changing) = (Vec::new(), Vec::new());
    for path in lake.list_all(&lake.path(&format!("{STAGING}/{run}/{CHANGE_RECORDS}"))).await? {
        let Some(bytes) = lake.read(&path).await? else { continue };
        if let Ok(record) = serde_json::from_slice::<ChangeRecord>(&bytes) {
            if record.staged { staged.extend(record.folders) } else { changing.extend(record.folders) }
        }
    }
    Ok((staged, changing))
}

fn record_path(lake: &Lake, run: &str) -> Path {
    lake.path(&format!("{STAGING}/{run}/{COMMIT_RECORD}"))
}

fn staged_path(lake: &Lake, run: &str, date: NaiveDate) -> Path {
    lake.path(&format!("{STAGING}/{run}/{}", raw_file(date)))
}

impl Staging {
    /// An empty staging area for the run `run` ([`super::tx::Writer::run`]) on `lake`.
    pub fn new(lake: &Lake, run: &str) -> Self {
        Self { lake: lake.clone(), run: run.to_string(), days: BTreeMap::new() }
    }

    /// Stores a day under the run's staging folder. A day staged twice (the same session in
    /// two inputs) keeps the later one.
    pub async fn stage(&mut self, day: StagedDay) -> Result<(), Error> {
        let path = staged_path(&self.lake, &self.run, day.date);
        if self.days.contains_key(&day.date) {
            warn!(date = %day.date, "trading day appears in more than one input; the later one wins");
        }
        let size = day.bytes.len();
        self.lake
            .store()
            .put(&path, PutPayload::from_bytes(day.bytes))
            .await
            .map_err(|source| Error::Store { path: path.to_string(), source })?;
        debug!(date = %day.date, rows = day.rows, bytes = size, "staged");
        self.days.insert(day.date, Staged { rows: day.rows, bytes: size });
        Ok(())
    }

    /// The days staged so far.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.days.keys().copied().collect()
    }

    /// Records the commit, then moves every staged day into its partition, replacing what was
    /// there. The caller indexes the days, then calls [`Committed::finish`].
    pub async fn commit(self) -> Result<Committed, Error> {
        let publishing = self.lake.publishing().await?;
        let days: Vec<NaiveDate> = self.days.keys().copied().collect();
        let record = serde_json::to_vec(&CommitRecord { days: days.clone() }).expect("a record serializes");
        self.lake.write(&record_path(&self.lake, &self.run), record).await?;
        for &date in &days {
            move_day(&self.lake, &self.run, date, false).await?;
        }
        Ok(Committed {
            days,
            rows: self.days.values().map(|s| s.rows as u64).sum(),
            bytes: self.days.values().map(|s| s.bytes as u64).sum(),
            folders: vec![],
            index: None,
            run: self.run,
            _publishing: publishing,
        })
    }

    /// Deletes everything the run staged.
    pub async fn abort(self) -> Result<(), Error> {
        cleanup(&self.lake, &self.run).await
    }
}

impl Committed {
    /// Ends a commit: removes the run's record and staging folder, and lets queries see it.
    pub async fn finish(self, lake: &Lake) -> Result<(), Error> {
        cleanup(lake, &self.run).await
    }
}

/// Moves a staged day into its partition (unless, `again` after a crash, the commit already
/// did) and drops any other file there: a partition holds one file.
async fn move_day(lake: &Lake, run: &str, date: NaiveDate, again: bool) -> Result<(), Error> {
    let store = lake.store();
    let (from, to) = (staged_path(lake, run, date), lake.path(&raw_file(date)));
    match store.rename(&from, &to).await {
        Ok(()) => {}
        // Moved before a crash: its recovery finds the day already in place.
        Err(object_store::Error::NotFound { .. }) if again && lake.exists(&to).await? => {}
        // Neither staged nor in place: a day whose staged file something else removed. The
        // run cannot bring it in; the day stays as it was, and the rest of the run goes on.
        Err(object_store::Error::NotFound { .. }) if again => {
            warn!(%date, staged = %from, "the staged file of a day is gone; the day is left as it was");
            return Ok(());
        }
        Err(source) => return Err(Error::Store { path: to.to_string(), source }),
    }
    let partition = lake.path(&raw_partition(date));
    let others: Vec<Path> = store
        .list(Some(&partition))
        .map_ok(|meta| meta.location)
        .try_filter(|loc| futures::future::ready(*loc != to))
        .try_collect()
        .await
        .map_err(|source| Error::Store { path: partition.to_string(), source })?;
    for other in others {
        warn!(file = %other, "removing a stray file from the partition");
        lake.remove(&other).await?;
    }
    Ok(())
}

/// The runs with something under `_staging/`.
pub async fn runs(lake: &Lake) -> Result<Vec<String>, Error> {
    let staging = lake.path(STAGING);
    let listing = match lake.store().list_with_delimiter(Some(&staging)).await {
        Ok(listing) => listing,
        Err(object_store::Error::NotFound { .. }) => return Ok(vec![]),
        Err(source) => return Err(Error::Store { path: staging.to_string(), source }),
    };
    Ok(listing.common_prefixes.iter().filter_map(|f| f.filename().map(str::to_string)).collect())
}

/// What a writer that died left under `_staging/<run>/`: a run that had recorded its commit
/// is finished (its remaining days moved in), and so is a run that had marked folders
/// [`staged`] (the folders moved in); either is returned, for the caller to index and then
/// [`Committed::finish`]. Any other run's files (a failed or killed ingest or transform) are
/// deleted. Call it only for a run whose writer is gone and whose lease this writer took
/// ([`super::tx`]), so that nothing still writes there.
pub async fn recover_run(lake: &Lake, run: &str) -> Result<Option<Committed>, Error> {
    let run = run.to_string();
    let additions = lake.path(&format!("{STAGING}/{run}/{ADDITIONS_RECORD}"));
    if let Some(bytes) = lake.read(&additions).await? {
        let record: AdditionsRecord = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Location { url: additions.to_string(), message: e.to_string() })?;
        warn!(run = %run, files = record.files.len(), "finishing the additions of a statement that stopped half-way");
        let publishing = lake.publishing().await?;
        copy_in(lake, &run, &record.files, record.index.is_some(), true).await?;
        return Ok(Some(Committed {
            days: vec![],
            rows: 0,
            bytes: 0,
            folders: vec![],
            index: record.index,
            run,
            _publishing: publishing,
        }));
    }
    if let Some(bytes) = lake.read(&record_path(lake, &run)).await? {
        let record: CommitRecord = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Location { url: record_path(lake, &run).to_string(), message: e.to_string() })?;
        warn!(run = %run, days = record.days.len(), "finishing the commit of a run that stopped half-way");
        let publishing = lake.publishing().await?;
        for &date in &record.days {
            move_day(lake, &run, date, true).await?;
        }
        return Ok(Some(Committed {
            days: record.days,
            rows: 0,
            bytes: 0,
            folders: vec![],
            index: None,
            run,
            _publishing: publishing,
        }));
    }
    let (staged, changing) = marked_folders(lake, &run).await?;
    if staged.is_empty() && changing.is_empty() {
        if !lake.list_all(&lake.path(&format!("{STAGING}/{run}"))).await?.is_empty() {
            warn!(run = %run, "removing the staging files of a run that did not finish");
        }
        cleanup(lake, &run).await?;
        return Ok(None);
    }
    warn!(run = %run, folders = staged.len() + changing.len(), "finishing what a run that stopped half-way had staged");
    let publishing = lake.publishing().await?;
    for folder in &staged {
        move_in(lake, &run, folder).await?;
    }
    // The folders it changed in place are whole (each swapped in one step) but maybe not yet
    // indexed as they are: the caller indexes them again from their files, as the staged ones.
    let folders = staged.into_iter().chain(changing).collect();
    Ok(Some(Committed { days: vec![], rows: 0, bytes: 0, folders, index: None, run, _publishing: publishing }))
}

/// Ends a run that wrote through [`staged`] marks: its staging goes, unless a mark is left (a
/// folder the run failed to move in whole), which the next writer's [`recover_run`] finishes.
pub async fn finish_run(lake: &Lake, run: &str) -> Result<(), Error> {
    if staged_folders(lake, run).await?.is_empty() {
        cleanup(lake, run).await
    } else {
        warn!(run = %run, "folders were left half moved in; the next writer finishes them");
        Ok(())
    }
}

/// Deletes what a run staged under `folder` (relative to the lake).
pub async fn discard(lake: &Lake, run: &str, folder: &str) -> Result<(), Error> {
    let staged = format!("{STAGING}/{run}/{folder}");
    lake.remove_all(lake.list_all(&lake.path(&staged)).await?).await?;
    if let Some(root) = lake.local_root() {
        let _ = std::fs::remove_dir_all(root.join(staged));
    }
    Ok(())
}

/// Deletes a run's staging folder, its commit record last.
async fn cleanup(lake: &Lake, run: &str) -> Result<(), Error> {
    let record = record_path(lake, run);
    let files = lake.list_all(&lake.path(&format!("{STAGING}/{run}"))).await?;
    lake.remove_all(files.into_iter().filter(|f| *f != record).collect()).await?;
    lake.remove(&record).await?;
    // Local folders outlive their files; remove the run's tree, and `_staging` if empty.
    if let Some(root) = lake.local_root() {
        let staging = root.join(STAGING);
        let _ = std::fs::remove_dir_all(staging.join(run));
        let _ = std::fs::remove_dir(&staging);
    }
    Ok(())
}
