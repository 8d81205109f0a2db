//! Many writers, one lake: the one write protocol every writer runs.
//!
//! A [`Writer`] is one run (an ingest, a transform, a statement). It starts by taking a
//! *lease*, the proof that it still runs; its staged files live under `_staging/<run>/`
//! (see [`super::staging`]). Before it commits, it takes the [`Scope`] it changes: the
//! [`Key`]s it writes (a table's day, or one shard of a table's partition index), or the
//! whole lake. Writers whose keys differ run at once; a writer of a key another holds waits
//! for it (up to `B3LAKE_LOCK_WAIT` seconds, then fails naming the holder and its scope); a
//! whole-lake writer excludes every other.
//!
//! A key's lock names the run that holds it. A run ends by removing its keys' locks, then its
//! lease, so a lock that names a run whose lease is dead was left by a writer that died: the
//! next writer of that key takes the dead run over (its lease, by a conditional write on S3,
//! by its `flock` on local disk, so only one can) and finishes or undoes the run
//! ([`super::staging::recover_run`]) before it goes on. A run is never taken over while its
//! owner lives, so a recovering writer never touches a live writer's files.
//!
//! - On local disk a lease is an `flock`ed file under `_b3lake/writers/`, a key's lock an
//!   `flock`ed file under `_b3lake/locks/` that names its run. The kernel releases the locks of
//!   a process that dies, however it dies; the files stay and say who died holding what. A
//!   whole-lake writer holds the lake folder's lock exclusively, the others shared.
//! - On S3 every lock and lease is an object created only if absent (`If-None-Match: *`) and
//!   replaced only if unchanged (`If-Match`), so of two writers that race for one, one wins.
//!   A lease is rewritten every 10 s; one not rewritten for a minute (S3's clock against S3's
//!   clock: the age is the difference of two objects' times) is dead, and is taken over by a
//!   conditional write. Time decides only when a writer is presumed dead, never who owns what.
//!   The whole-lake lock is `_b3lake/lock.json` ([`super::lock`]): a whole-lake writer takes it,
//!   then waits for the keys' locks to go; a key's writer takes its locks, then steps back if it
//!   finds `lock.json` held.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, UpdateVersion};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::layout::{META, date_partition};
use super::lock::{Holder, LakeLock, alive, wait_limit};
use super::staging::Committed;
use super::{Error, Lake};

const LOCKS: &str = "locks";
const WRITERS: &str = "writers";
const HEARTBEAT: Duration = Duration::from_secs(10);
const STALE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

/// One unit of what writers change: a shard of a table's partition index (for b3lake's
/// tables, a trading day), or a whole unpartitioned table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    /// The table's folder in the lake (`raw`, `summary/daily_aggregates`).
    pub table: String,
    /// The shard: `year=2024/month=03/day=04`, or `all`.
    pub shard: String,
}

impl Key {
    /// A trading day of a table.
    pub fn day(table: &str, date: NaiveDate) -> Self {
        Self { table: table.to_string(), shard: date_partition(date) }
    }

    /// A shard of a table's index, as the index names it (`k=v/...`, escaped); `""` for a
    /// table without partitions.
    pub fn shard(table: &str, shard: &str) -> Self {
        let shard = if shard.is_empty() { "all".to_string() } else { shard.to_string() };
        Self { table: table.to_string(), shard }
    }

    fn relative(&self, extension: &str) -> String {
        format!("{META}/{LOCKS}/{}/{}.{extension}", self.table, self.shard)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.table, self.shard)
    }
}

/// What a writer changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Anything: a table's definition, a layout, a repair of a whole table.
    Lake,
    /// These keys only.
    Keys(BTreeSet<Key>),
}

impl Scope {
    /// The keys of these days of these tables.
    pub fn days(tables: &[&str], days: impl IntoIterator<Item = NaiveDate>) -> Self {
        let days: Vec<NaiveDate> = days.into_iter().collect();
        Scope::Keys(tables.iter().flat_map(|t| days.iter().map(|d| Key::day(t, *d))).collect())
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Lake => write!(f, "the whole lake"),
            Scope::Keys(keys) => {
                let mut shown: Vec<String> = keys.iter().take(3).map(Key::to_string).collect();
                if keys.len() > 3 {
                    shown.push(format!("and {} more", keys.len() - 3));
                }
                write!(f, "{}", shown.join(", "))
            }
        }
    }
}

/// Indexes what a recovery finished: the catalog's part, which the lake does not know.
pub trait Finisher: Send + Sync {
    /// Records `done` (a dead run's commit, just finished) in the partition index.
    fn index<'a>(&'a self, lake: &'a Lake, done: &'a Committed) -> BoxFuture<'a, Result<(), Error>>;
}

/// What a lease says: who runs, and the keys it holds (so that whoever takes a dead run over
/// knows which locks it leaves).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LeaseBody {
    holder: Holder,
    #[serde(default)]
    keys: BTreeSet<Key>,
    /// Changes at each rewrite, so that the object does.
    #[serde(default)]
    beat: u64,
    /// Set when another writer took this run over to finish it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recovered_by: Option<String>,
}

/// A run's proof that it still runs.
struct Lease {
    run: String,
    kind: LeaseKind,
}

enum LeaseKind {
    Local {
        file: std::fs::File,
        path: std::path::PathBuf,
        body: std::sync::Mutex<LeaseBody>,
    },
    Remote {
        path: Path,
        state: Arc<tokio::sync::Mutex<RemoteLease>>,
        heartbeat: tokio::task::JoinHandle<()>,
        /// The run's mark on this machine ([`here_mark`]), held while this process lives;
        /// `None` for a dead run's lease taken over.
        _here: Option<std::fs::File>,
    },
}

struct RemoteLease {
    body: LeaseBody,
    version: UpdateVersion,
    /// Another writer took the lease over: this run must stop.
    lost: bool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let LeaseKind::Remote { heartbeat, .. } = &self.kind {
            heartbeat.abort();
        }
    }
}

/// This machine's mark of a run on a remote lake: a file named after the run in the temp
/// folder, locked by its process from before its lease exists until it ends. Writers on this
/// machine tell its dead runs from live ones by trying the lock, without reading each lease on
/// the store: with hundreds of writers at once, each reading every other's lease would cost
/// requests that grow as their square. (On Lambda, each sandbox has its own temp folder, where
/// the next invocation finds a run that timed out.)
fn here_mark(run: &str) -> std::path::PathBuf {
    std::env::temp_dir().join("b3lake-runs").join(format!("{run}.lock"))
}

/// Whether `run` ran in a process of this machine that is gone (its mark is here, unlocked).
fn died_here(run: &str) -> bool {
    matches!(try_lock_file(&here_mark(run), false), Ok(Some(_)))
}

fn lease_relative(run: &str, local: bool) -> String {
    format!("{META}/{WRITERS}/{run}.{}", if local { "lock" } else { "json" })
}

fn io(path: &std::path::Path, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}

fn store(path: &Path, source: object_store::Error) -> Error {
    Error::Store { path: path.to_string(), source }
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("a record serializes")
}

/// Rewrites a locked local file's content in place (it is read only by who holds it next).
fn rewrite(file: &std::fs::File, body: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek, Write};
    let mut file = file;
    file.set_len(0)?;
    file.seek(std::io::SeekFrom::Start(0))?;
    file.write_all(body)
}

fn read_file(file: &std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek};
    let mut file = file;
    let mut bytes = Vec::new();
    file.seek(std::io::SeekFrom::Start(0))?;
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Whether `file` (locked) is still the file at `path`: one removed after it was opened is
/// no lock anyone else would see.
fn still_at(file: &std::fs::File, path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

/// Opens and locks the local file `path` (created if missing) unless another holds it;
/// `None` when another does.
fn try_lock_file(path: &std::path::Path, create: bool) -> Result<Option<std::fs::File>, Error> {
    loop {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(create);
        let file = match options.open(path) {
            Ok(file) => file,
            Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
                let parent = path.parent().expect("a lock file has a folder");
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
                continue;
            }
            Err(e) => return Err(io(path, e)),
        };
        match file.try_lock() {
            Ok(()) if still_at(&file, path) => return Ok(Some(file)),
            // Removed by its holder as it let go: the next file at that path is the lock.
            Ok(()) => continue,
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(path, e)),
        }
    }
}

impl Lease {
    async fn create(lake: &Lake, run: &str, holder: Holder) -> Result<Lease, Error> {
        let body = LeaseBody { holder, keys: BTreeSet::new(), beat: 0, recovered_by: None };
        match lake.local_root() {
            Some(root) => {
                let path = root.join(lease_relative(run, true));
                let bytes = to_json(&body);
                // Locked before it has its name, so nobody can find it unlocked and call it dead.
                let tmp = path.with_file_name(format!(".{run}.{}.tmp", uuid::Uuid::new_v4().simple()));
                let parent = path.parent().expect("a lease has a folder").to_path_buf();
                // The folder goes when its last lease does: made again if another writer's
                // removal came between.
                let file = loop {
                    std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
                    match std::fs::File::create_new(&tmp) {
                        Ok(file) => break file,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(io(&tmp, e)),
                    }
                };
                file.lock().map_err(|e| io(&tmp, e))?;
                rewrite(&file, &bytes).map_err(|e| io(&tmp, e))?;
                std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
                Ok(Lease {
                    run: run.to_string(),
                    kind: LeaseKind::Local { file, path, body: std::sync::Mutex::new(body) },
                })
            }
            None => {
                // Marked before the lease exists, so no writer here finds it unmarked. Best
                // effort: without a mark, a death here is known by the lease's age alone.
                let here = try_lock_file(&here_mark(run), true).ok().flatten();
                let path = lake.path(&lease_relative(run, false));
                let put = match lake
                    .store()
                    .put_opts(&path, to_json(&body).into(), PutOptions::from(PutMode::Create))
                    .await
                {
                    Ok(put) => put,
                    Err(e) => {
                        let _ = std::fs::remove_file(here_mark(run));
                        return Err(store(&path, e));
                    }
                };
                Ok(Lease::remote(lake, run, path, body, put.into(), here))
            }
        }
    }

    fn remote(
        lake: &Lake,
        run: &str,
        path: Path,
        body: LeaseBody,
        version: UpdateVersion,
        here: Option<std::fs::File>,
    ) -> Lease {
        let state = Arc::new(tokio::sync::Mutex::new(RemoteLease { body, version, lost: false }));
        let (beat_state, beat_path, beat_store) = (state.clone(), path.clone(), lake.store().clone());
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let mut state = beat_state.lock().await;
                state.body.beat += 1;
                let mode = PutMode::Update(state.version.clone());
                match beat_store.put_opts(&beat_path, to_json(&state.body).into(), PutOptions::from(mode)).await {
                    Ok(put) => state.version = put.into(),
                    Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                        warn!(lease = %beat_path, "this run's lease was taken over: another writer took it for dead");
                        state.lost = true;
                        return;
                    }
                    Err(e) => {
                        warn!(lease = %beat_path, error = %crate::chain::Chain(&e), "could not renew the run's lease")
                    }
                }
            }
        });
        Lease { run: run.to_string(), kind: LeaseKind::Remote { path, state, heartbeat, _here: here } }
    }

    /// Fails when the lease is no longer this run's.
    async fn check(&self) -> Result<(), Error> {
        if let LeaseKind::Remote { state, path, .. } = &self.kind
            && state.lock().await.lost
        {
            return Err(Error::Location {
                url: path.to_string(),
                message: format!(
                    "run {} lost its lease (another writer took it for dead, after a pause of over {} s); it changed nothing more",
                    self.run,
                    STALE.as_secs()
                ),
            });
        }
        Ok(())
    }

    async fn keys(&self) -> BTreeSet<Key> {
        match &self.kind {
            LeaseKind::Local { body, .. } => body.lock().expect("not poisoned").keys.clone(),
            LeaseKind::Remote { state, .. } => state.lock().await.body.keys.clone(),
        }
    }

    /// Changes the keys the run records as held (before it takes new ones, after it lets go
    /// of some); parallel parts of one run change them one at a time.
    async fn update_keys(&self, lake: &Lake, change: impl FnOnce(&mut BTreeSet<Key>)) -> Result<(), Error> {
        match &self.kind {
            LeaseKind::Local { file, path, body } => {
                let mut body = body.lock().expect("not poisoned");
                change(&mut body.keys);
                rewrite(file, &to_json(&*body)).map_err(|e| io(path, e))
            }
            LeaseKind::Remote { path, state, .. } => {
                let mut state = state.lock().await;
                if state.lost {
                    drop(state);
                    return self.check().await;
                }
                change(&mut state.body.keys);
                let mode = PutMode::Update(state.version.clone());
                match lake.store().put_opts(path, to_json(&state.body).into(), PutOptions::from(mode)).await {
                    Ok(put) => {
                        state.version = put.into();
                        Ok(())
                    }
                    Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                        state.lost = true;
                        drop(state);
                        self.check().await
                    }
                    Err(e) => Err(store(path, e)),
                }
            }
        }
    }

    /// Ends the lease: its file or object goes.
    async fn remove(&self, lake: &Lake) -> Result<(), Error> {
        match &self.kind {
            LeaseKind::Local { path, .. } => {
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(path, e)),
                }
                remove_empty_folders(path, lake);
                Ok(())
            }
            LeaseKind::Remote { path, heartbeat, .. } => {
                heartbeat.abort();
                lake.remove(path).await?;
                // The run's mark, its own or a dead run's: the run is over.
                let _ = std::fs::remove_file(here_mark(&self.run));
                Ok(())
            }
        }
    }
}

/// A run: one writer's transaction on a lake. Create it with [`Lake::writer`]; stage under
/// [`Writer::run`], [`Writer::take`] the scope, commit, index, release, then
/// [`Writer::end`]. Clones are the same run (for its parallel parts).
#[derive(Clone)]
pub struct Writer {
    lake: Lake,
    command: String,
    lease: Arc<Lease>,
    finisher: Arc<dyn Finisher>,
}

/// A scope a writer holds; [`Writer::release`] lets go of it.
#[must_use = "the scope is held until released"]
pub struct Held {
    scope: Scope,
    keys: Vec<HeldKey>,
    whole: Option<LakeLock>,
    /// On local disk, the lake folder's lock, shared by the writers of keys.
    _root: Option<std::fs::File>,
}

enum HeldKey {
    Local { file: std::fs::File, path: std::path::PathBuf },
    Remote { path: Path },
}

/// The state of a run that holds (or held) a key's lock.
enum Owner {
    /// Its lease is gone: the lock is left over, free to take.
    Gone,
    /// It runs (or another writer is finishing it).
    Live(String),
    /// Its lease is dead: taken over by this writer, to finish the run.
    Dead(Box<Lease>),
}

impl Lake {
    /// Starts a run for `command`: takes its lease, and finishes what dead writers left
    /// that no writer of theirs is waiting to (as far as this writer may; see the module).
    pub async fn writer(&self, command: &str, finisher: Arc<dyn Finisher>) -> Result<Writer, Error> {
        let run = super::staging::new_run();
        let lease = Lease::create(self, &run, super::lock::holder(command)).await?;
        let writer = Writer { lake: self.clone(), command: command.to_string(), lease: Arc::new(lease), finisher };
        writer.recover_dead().await?;
        Ok(writer)
    }
}

impl Writer {
    /// The run's name: its staging folder is `_staging/<run>/`.
    pub fn run(&self) -> &str {
        &self.lease.run
    }

    /// The lake.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// Fails if another writer took this run over as dead (on S3, after a long pause): the
    /// run must then change nothing more.
    pub async fn check(&self) -> Result<(), Error> {
        self.lease.check().await
    }

    /// Ends the run. A run that left staged work behind (it failed with a commit under way)
    /// keeps its lease, no longer held: the next writer of its keys, or the next writer to
    /// start, finishes it as a dead writer's.
    pub async fn end(self) -> Result<(), Error> {
        if super::staging::runs(&self.lake).await?.contains(&self.lease.run) {
            warn!(run = %self.lease.run, "the run stopped with work staged; the next writer finishes it");
            return Ok(());
        }
        self.lease.remove(&self.lake).await
    }

    /// Takes `scope`, waiting for the writers that hold any of it, and finishing the runs of
    /// dead writers that held some.
    pub async fn take(&self, scope: &Scope) -> Result<Held, Error> {
        self.lease.check().await?;
        let started = Instant::now();
        match scope {
            Scope::Lake => self.take_lake(started).await,
            Scope::Keys(keys) => self.take_keys(keys, started).await,
        }
    }

    async fn take_lake(&self, started: Instant) -> Result<Held, Error> {
        let whole = self.lake.lock(&self.command).await?;
        if self.lake.local_root().is_none() {
            // Every key's writer that took its locks before ours must end first.
            loop {
                let mut waiting = None;
                for (key_path, run) in self.remote_key_locks().await? {
                    if run == self.lease.run {
                        continue;
                    }
                    match self.owner(&run).await? {
                        Owner::Gone => self.lake.remove(&key_path).await?,
                        Owner::Dead(lease) => self.recover(lease).await?,
                        Owner::Live(who) => waiting = Some(who),
                    }
                }
                let Some(who) = waiting else { break };
                if started.elapsed() >= wait_limit() {
                    whole.release().await?;
                    return Err(self.waited("the whole lake", &who));
                }
                tokio::time::sleep(POLL * 4).await;
            }
            // No other writer runs: a publication still marked is a dead writer's.
            self.lake.clear_dead_publications().await?;
        }
        // Nobody else writes now: every dead run can be finished, and an older b3lake's too.
        self.recover_all_dead(true).await?;
        Ok(Held { scope: Scope::Lake, keys: vec![], whole: Some(whole), _root: None })
    }

    async fn take_keys(&self, keys: &BTreeSet<Key>, started: Instant) -> Result<Held, Error> {
        let mut told = false;
        loop {
            let root = match self.lake.local_root() {
                Some(root) => Some(self.shared_root(root, started, &Scope::Keys(keys.clone()).to_string()).await?),
                None => None,
            };
            // Recorded first: a lock of ours that outlives us is found through the lease.
            self.lease.update_keys(&self.lake, |all| all.extend(keys.iter().cloned())).await?;
            let mut held = Held { scope: Scope::Keys(keys.clone()), keys: vec![], whole: None, _root: root };
            let mut blocked = None;
            // In order, so that two writers of overlapping scopes cannot each wait on the other.
            for key in keys {
                match self.take_key(key).await {
                    Ok(h) => held.keys.push(h),
                    Err(KeyWait::Busy(who)) => {
                        blocked = Some(format!("{key}: {who}"));
                        break;
                    }
                    Err(KeyWait::Failed(e)) => {
                        self.release(held).await?;
                        return Err(e);
                    }
                }
            }
            if blocked.is_none() && self.lake.local_root().is_none() {
                // A whole-lake writer that started before us goes first.
                if let Some(who) = self.whole_lake_holder().await? {
                    blocked = Some(format!("the whole lake: {who}"));
                }
            }
            let Some(who) = blocked else { return Ok(held) };
            self.release(held).await?;
            if started.elapsed() >= wait_limit() {
                return Err(self.waited(&Scope::Keys(keys.clone()).to_string(), &who));
            }
            if !told {
                info!(holder = %who, "waiting for another writer");
                told = true;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn waited(&self, scope: &str, who: &str) -> Error {
        Error::Location {
            url: self.lake.to_string(),
            message: format!(
                "{} could not take {scope}: another writer holds {who}; waited {} s (B3LAKE_LOCK_WAIT); nothing was changed",
                self.command,
                wait_limit().as_secs()
            ),
        }
    }

    /// On local disk, the lake folder's lock, shared with the other writers of keys
    /// (a whole-lake writer holds it alone).
    async fn shared_root(
        &self,
        root: &std::path::Path,
        started: Instant,
        wanted: &str,
    ) -> Result<std::fs::File, Error> {
        let root = root.to_path_buf();
        let intent = super::lock::open_intent(&root)?;
        let file = std::fs::File::open(&root).map_err(|e| io(&root, e))?;
        let mut intended = false;
        loop {
            if super::lock::try_lake_folder(&intent, &file, true, &mut intended).map_err(|e| io(&root, e))? {
                return Ok(file);
            }
            if started.elapsed() >= wait_limit() {
                let who = format!("the whole lake: {}", super::lock::local_holder(&root));
                return Err(self.waited(wanted, &who));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// One key's lock, unless a live writer holds it; a dead writer's run is finished first.
    async fn take_key(&self, key: &Key) -> Result<HeldKey, KeyWait> {
        loop {
            let taken = match self.lake.local_root() {
                Some(root) => self.take_local_key(&root.join(key.relative("lock"))).await,
                None => self.take_remote_key(&self.lake.path(&key.relative("json"))).await,
            };
            match taken {
                Ok(Taken::Held(held)) => return Ok(held),
                Ok(Taken::Busy(who)) => return Err(KeyWait::Busy(who)),
                Ok(Taken::DeadOwner(lease)) => self.recover(lease).await.map_err(KeyWait::Failed)?,
                Ok(Taken::Again) => {}
                Err(e) => return Err(KeyWait::Failed(e)),
            }
        }
    }

    async fn take_local_key(&self, path: &std::path::Path) -> Result<Taken, Error> {
        let Some(file) = try_lock_file(path, true)? else {
            let who = std::fs::read(path).ok().and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
            return Ok(Taken::Busy(self.describe_run(who.trim()).await));
        };
        let named = String::from_utf8(read_file(&file).map_err(|e| io(path, e))?).unwrap_or_default();
        let named = named.trim();
        if !named.is_empty() && named != self.lease.run {
            // Left by a run that died holding it (a run that ends removes its locks).
            drop(file);
            return Ok(match self.owner(named).await? {
                Owner::Gone => {
                    clear_local_key(path, named)?;
                    Taken::Again
                }
                Owner::Live(who) => Taken::Busy(who),
                Owner::Dead(lease) => Taken::DeadOwner(lease),
            });
        }
        rewrite(&file, self.lease.run.as_bytes()).map_err(|e| io(path, e))?;
        Ok(Taken::Held(HeldKey::Local { file, path: path.to_path_buf() }))
    }

    async fn take_remote_key(&self, path: &Path) -> Result<Taken, Error> {
        let body = self.lease.run.clone();
        match self.lake.store().put_opts(path, body.clone().into(), PutOptions::from(PutMode::Create)).await {
            Ok(_) => return Ok(Taken::Held(HeldKey::Remote { path: path.clone() })),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {}
            Err(e) => return Err(store(path, e)),
        }
        let got = match self.lake.store().get(path).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(Taken::Again),
            Err(e) => return Err(store(path, e)),
        };
        let e_tag = got.meta.e_tag.clone();
        let named = got.bytes().await.map_err(|e| store(path, e))?;
        let named = String::from_utf8_lossy(&named).trim().to_string();
        if named == self.lease.run {
            return Ok(Taken::Held(HeldKey::Remote { path: path.clone() }));
        }
        Ok(match self.owner(&named).await? {
            Owner::Live(who) => Taken::Busy(who),
            Owner::Dead(lease) => Taken::DeadOwner(lease),
            Owner::Gone => {
                // A lock nobody holds: replaced only if it is still that one.
                let mode = PutMode::Update(UpdateVersion { e_tag, version: None });
                match self.lake.store().put_opts(path, body.into(), PutOptions::from(mode)).await {
                    Ok(_) => Taken::Held(HeldKey::Remote { path: path.clone() }),
                    Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                        Taken::Again
                    }
                    Err(e) => return Err(store(path, e)),
                }
            }
        })
    }

    /// Lets go of a scope: the locks go, then the lease stops naming them.
    pub async fn release(&self, held: Held) -> Result<(), Error> {
        let Held { scope, keys, whole, _root } = held;
        for key in keys {
            match key {
                HeldKey::Local { file, path } => {
                    // Removed while locked: a waiter that opened the old file finds it gone.
                    let _ = std::fs::remove_file(&path);
                    drop(file);
                    remove_empty_folders(&path, &self.lake);
                }
                HeldKey::Remote { path } => self.lake.remove(&path).await?,
            }
        }
        if let Scope::Keys(released) = &scope {
            self.lease.update_keys(&self.lake, |all| all.retain(|k| !released.contains(k))).await?;
        }
        if let Some(whole) = whole {
            whole.release().await?;
        }
        Ok(())
    }

    /// Ends a scope with what was done in it: released after a success, let go of after a
    /// failure ([`Writer::let_go`]); the result comes back.
    pub async fn settle<T, E: From<Error>>(&self, held: Held, result: Result<T, E>) -> Result<T, E> {
        match &result {
            Ok(_) => self.release(held).await?,
            Err(_) => self.let_go(held).await?,
        }
        result
    }

    /// Lets go of a scope after a failure: released, unless the run left work staged (a
    /// commit under way), whose keys stay locked for whoever finishes the run.
    pub async fn let_go(&self, held: Held) -> Result<(), Error> {
        if super::staging::runs(&self.lake).await?.contains(&self.lease.run) {
            drop(held);
            return Ok(());
        }
        self.release(held).await
    }

    /// Who runs `run`, for a waiter's message.
    async fn describe_run(&self, run: &str) -> String {
        match self.read_lease(run).await {
            Ok(Some((body, _))) => format!("{} (run {run}; holds {})", body.holder, Scope::Keys(body.keys)),
            _ => format!("run {run}"),
        }
    }

    async fn read_lease(&self, run: &str) -> Result<Option<(LeaseBody, Option<object_store::ObjectMeta>)>, Error> {
        if let Some(root) = self.lake.local_root() {
            let path = root.join(lease_relative(run, true));
            return Ok(std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()).map(|b| (b, None)));
        }
        let path = self.lake.path(&lease_relative(run, false));
        match self.lake.store().get(&path).await {
            Ok(got) => {
                let meta = got.meta.clone();
                let bytes = got.bytes().await.map_err(|e| store(&path, e))?;
                Ok(serde_json::from_slice(&bytes).ok().map(|b| (b, Some(meta))))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store(&path, e)),
        }
    }

    /// Whether `run` still runs; a dead run's lease is taken over (only one writer can).
    async fn owner(&self, run: &str) -> Result<Owner, Error> {
        match self.lake.local_root() {
            Some(root) => {
                let path = root.join(lease_relative(run, true));
                match try_lock_file(&path, false) {
                    Ok(Some(file)) => {
                        let body = read_file(&file).ok().and_then(|b| serde_json::from_slice::<LeaseBody>(&b).ok());
                        let body = body.unwrap_or_else(|| LeaseBody {
                            holder: super::lock::holder("a writer"),
                            keys: BTreeSet::new(),
                            beat: 0,
                            recovered_by: None,
                        });
                        Ok(Owner::Dead(Box::new(Lease {
                            run: run.to_string(),
                            kind: LeaseKind::Local { file, path, body: std::sync::Mutex::new(body) },
                        })))
                    }
                    Ok(None) => Ok(Owner::Live(self.describe_run(run).await)),
                    Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(Owner::Gone),
                    Err(e) => Err(e),
                }
            }
            None => {
                let Some((body, meta)) = self.read_lease(run).await? else { return Ok(Owner::Gone) };
                let meta = meta.expect("a remote lease has metadata");
                let dead_here = died_here(run) || (body.holder.same_machine() && !alive(body.holder.pid));
                let age = self.store_age(&meta).await?;
                if !dead_here && age < STALE {
                    return Ok(Owner::Live(format!("{} (run {run}; holds {})", body.holder, Scope::Keys(body.keys))));
                }
                let path = meta.location.clone();
                let mut taken = body.clone();
                taken.recovered_by = Some(self.lease.run.clone());
                taken.beat += 1;
                let mode = PutMode::Update(UpdateVersion { e_tag: meta.e_tag.clone(), version: None });
                match self.lake.store().put_opts(&path, to_json(&taken).into(), PutOptions::from(mode)).await {
                    Ok(put) => {
                        warn!(run, holder = %body.holder, "taking over the run of a writer that died");
                        Ok(Owner::Dead(Box::new(Lease::remote(&self.lake, run, path, taken, put.into(), None))))
                    }
                    // Another writer took it first (or it ended): it is that writer's now.
                    Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                        Ok(Owner::Live(format!("run {run}, being finished by another writer")))
                    }
                    Err(e) => Err(store(&path, e)),
                }
            }
        }
    }

    /// How long ago, by the store's clock, `meta` was last written (see [`Writer::store_now`]).
    async fn store_age(&self, meta: &object_store::ObjectMeta) -> Result<Duration, Error> {
        let now = self.store_now().await?;
        Ok((now - meta.last_modified).to_std().unwrap_or(Duration::ZERO))
    }

    /// The store's time now: this run's own lease, rewritten and read back, so that no
    /// machine's clock enters into a lease's age. (On local disk, the machine's.)
    async fn store_now(&self) -> Result<chrono::DateTime<chrono::Utc>, Error> {
        let LeaseKind::Remote { path, state, .. } = &self.lease.kind else { return Ok(chrono::Utc::now()) };
        Ok({
            let mut state = state.lock().await;
            state.body.beat += 1;
            let mode = PutMode::Update(state.version.clone());
            match self.lake.store().put_opts(path, to_json(&state.body).into(), PutOptions::from(mode)).await {
                Ok(put) => state.version = put.into(),
                Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                    state.lost = true;
                }
                Err(e) => return Err(store(path, e)),
            }
            drop(state);
            self.lease.check().await?;
            self.lake.store().head(path).await.map_err(|e| store(path, e))?.last_modified
        })
    }

    /// Finishes (or undoes) a dead run whose lease this writer took over, then removes its
    /// locks and its lease.
    async fn recover(&self, lease: Box<Lease>) -> Result<(), Error> {
        let run = lease.run.clone();
        let keys = lease.keys().await;
        if let Some(committed) = super::staging::recover_run(&self.lake, &run).await? {
            lease.check().await?;
            self.finisher.index(&self.lake, &committed).await?;
            committed.finish(&self.lake).await?;
        }
        for key in &keys {
            match self.lake.local_root() {
                Some(root) => clear_local_key(&root.join(key.relative("lock")), &run)?,
                None => {
                    let path = self.lake.path(&key.relative("json"));
                    if self.lake.read(&path).await?.is_some_and(|named| named.as_ref() == run.as_bytes()) {
                        self.lake.remove(&path).await?;
                    }
                }
            }
        }
        lease.remove(&self.lake).await
    }

    /// Finishes the runs of writers that died and that no writer of theirs waits on. With
    /// `whole` (the whole lake held) also the staging of runs without a lease (an older
    /// b3lake's); otherwise, if there are any, takes the whole lake for them.
    async fn recover_dead(&self) -> Result<(), Error> {
        if let Err(e) = self.recover_all_dead(false).await {
            // Someone else's run: left for a writer that may finish it.
            warn!(error = %crate::chain::Chain(&e), "could not finish a dead writer's run; left for the next writer");
        }
        if !self.legacy_runs().await?.is_empty() {
            let held = self.take(&Scope::Lake).await?;
            self.release(held).await?;
        }
        Ok(())
    }

    async fn recover_all_dead(&self, whole: bool) -> Result<(), Error> {
        if let Some(root) = self.lake.local_root() {
            // A lease being made when its writer died (between its creation and its lock): a
            // minute old and locked by nobody. Tidying only; one that young may be in the making.
            let folder = root.join(META).join(WRITERS);
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let old = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
                if name.starts_with('.')
                    && name.ends_with(".tmp")
                    && old.is_some_and(|age| age >= STALE)
                    && matches!(try_lock_file(&entry.path(), false), Ok(Some(_)))
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let others: Vec<_> =
            self.listed_leases().await?.into_iter().filter(|(run, _)| *run != self.lease.run).collect();
        // The store's time, once for the pass: the listing gives each lease's.
        let now = match (others.is_empty(), self.lake.local_root()) {
            (false, None) => Some(self.store_now().await?),
            _ => None,
        };
        for (run, written) in others {
            let dead = match now {
                None => true,
                Some(now) => (now - written).to_std().unwrap_or(Duration::ZERO) >= STALE || died_here(&run),
            };
            if dead && let Owner::Dead(lease) = self.owner(&run).await? {
                self.recover(lease).await?;
            }
        }
        if whole {
            for run in self.legacy_runs().await? {
                warn!(run = %run, "finishing a run an older b3lake left");
                if let Some(committed) = super::staging::recover_run(&self.lake, &run).await? {
                    self.finisher.index(&self.lake, &committed).await?;
                    committed.finish(&self.lake).await?;
                }
            }
        }
        Ok(())
    }

    /// The runs that have a lease.
    async fn leases(&self) -> Result<Vec<String>, Error> {
        Ok(self.listed_leases().await?.into_iter().map(|(run, _)| run).collect())
    }

    /// The runs that have a lease, with when each was last written (by the store's clock).
    async fn listed_leases(&self) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>, Error> {
        let folder = self.lake.path(&format!("{META}/{WRITERS}"));
        let listed: Vec<object_store::ObjectMeta> = match self.lake.store().list(Some(&folder)).try_collect().await {
            Ok(listed) => listed,
            Err(object_store::Error::NotFound { .. }) => vec![],
            Err(e) => return Err(store(&folder, e)),
        };
        Ok(listed
            .into_iter()
            .filter_map(|m| {
                let name = m.location.filename()?;
                let run = name.strip_suffix(".lock").or_else(|| name.strip_suffix(".json"))?;
                (!name.starts_with('.')).then(|| (run.to_string(), m.last_modified))
            })
            .collect())
    }

    /// Staged runs without a lease: left by a b3lake from before leases.
    async fn legacy_runs(&self) -> Result<Vec<String>, Error> {
        // Staging first: a run's lease exists before its staging and outlives it.
        let staged = super::staging::runs(&self.lake).await?;
        if staged.is_empty() {
            return Ok(vec![]);
        }
        let leases: BTreeSet<String> = self.leases().await?.into_iter().collect();
        let candidates: Vec<String> = staged.into_iter().filter(|r| !leases.contains(r)).collect();
        if candidates.is_empty() {
            return Ok(candidates);
        }
        // A run that ended between the two listings removed its staging before its lease: one
        // still staged now, with no lease before, has none.
        let still: BTreeSet<String> = super::staging::runs(&self.lake).await?.into_iter().collect();
        Ok(candidates.into_iter().filter(|r| still.contains(r)).collect())
    }

    /// Every key lock on S3, with the run it names.
    async fn remote_key_locks(&self) -> Result<Vec<(Path, String)>, Error> {
        let folder = self.lake.path(&format!("{META}/{LOCKS}"));
        let paths = self.lake.list_all(&folder).await?;
        let lake = &self.lake;
        futures::stream::iter(paths)
            .map(|path| async move {
                let named = lake.read(&path).await?;
                Ok::<_, Error>(named.map(|n| (path, String::from_utf8_lossy(&n).trim().to_string())))
            })
            .buffer_unordered(32)
            .try_filter_map(|x| futures::future::ready(Ok(x)))
            .try_collect()
            .await
    }

    /// The holder of `_b3lake/lock.json`, if one holds it now (a lock not rewritten for a
    /// minute is a dead writer's, and holds nothing).
    async fn whole_lake_holder(&self) -> Result<Option<String>, Error> {
        let path = self.lake.path(&format!("{META}/lock.json"));
        let got = match self.lake.store().get(&path).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(store(&path, e)),
        };
        let meta = got.meta.clone();
        let bytes = got.bytes().await.map_err(|e| store(&path, e))?;
        if self.store_age(&meta).await? >= STALE {
            return Ok(None);
        }
        let holder = serde_json::from_slice::<Holder>(&bytes).ok();
        if holder.as_ref().is_some_and(|h| h.same_machine() && !alive(h.pid)) {
            return Ok(None);
        }
        Ok(Some(holder.map_or_else(|| "a whole-lake writer".to_string(), |h| h.to_string())))
    }
}

/// Removes the folders above a removed lock or lease that it leaves empty, up to `_b3lake/`:
/// a writer leaves the lake as it found it. (A writer making one of them again meanwhile makes
/// it once more.)
fn remove_empty_folders(path: &std::path::Path, lake: &Lake) {
    let Some(root) = lake.local_root() else { return };
    let meta = root.join(META);
    let mut folder = path.parent();
    while let Some(f) = folder.filter(|f| f.starts_with(&meta) && *f != meta) {
        if std::fs::remove_dir(f).is_err() {
            return;
        }
        folder = f.parent();
    }
}

/// Removes a local key lock that still names `run` (a dead run's, now finished).
fn clear_local_key(path: &std::path::Path, run: &str) -> Result<(), Error> {
    let deadline = Instant::now() + wait_limit();
    loop {
        match try_lock_file(path, false) {
            Ok(Some(file)) => {
                let named = read_file(&file).map_err(|e| io(path, e))?;
                if String::from_utf8_lossy(&named).trim() == run {
                    let _ = std::fs::remove_file(path);
                }
                return Ok(());
            }
            // Another writer looking at it (it will find the run finished).
            Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
            Ok(None) => return Ok(()),
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

enum Taken {
    Held(HeldKey),
    Busy(String),
    DeadOwner(Box<Lease>),
    Again,
}

enum KeyWait {
    Busy(String),
    Failed(Error),
}
