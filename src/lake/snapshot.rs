//! What a query sees of a lake while a writer changes it.
//!
//! A reader takes a day's file names and sizes from the partition index, then opens the
//! files; a writer replaces the files, then the index. Without coordination a query can
//! plan from the old index and read the new files (or the reverse): a mix of two versions of
//! a day, or bytes read at another file's offsets. So every query *holds* the lake from
//! planning to its last row, and a writer *publishes* (puts a day's files in place and
//! records them in the index) only while no query holds it. A query thus sees every day as
//! it was before a publication or after it, and a query over several days sees one state of
//! the lake.
//!
//! - On local disk a query holds a shared `flock` on the lake's catalog folder, a publication
//!   an exclusive one. The kernel releases the lock of a process that dies, and taking it
//!   writes nothing, so a read-only lake can be queried.
//! - On S3 a query writes a lease, `_b3lake/readers/<id>.json`, then lists
//!   `_b3lake/publishing/`; a publication writes its mark there, then lists the leases. S3 is
//!   strongly consistent, so of a query and a publication that start together at least one
//!   sees the other: the query withdraws its lease and waits for the publication to end, or
//!   the publication waits for the query. Leases and marks are rewritten every 10 s while
//!   held; one last written a minute ago (S3's time against this machine's) belongs to a
//!   process that died and is ignored. A user who may only read the lake (no `PutObject` on `_b3lake/readers/`)
//!   queries without a lease, as Athena does: during a rewrite such a query can see some of
//!   a day's files old and some new (each file whole).
//!
//! Publications are short (renames or PUTs, and a few small index files: the data is encoded
//! before), so a query waits little. A publication waits for the queries running, up to
//! `B3LAKE_LOCK_WAIT` seconds, then fails with nothing changed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::layout::META;
use super::{Error, Lake};

/// How often a local publication waiting for queries tries again.
const POLL: Duration = Duration::from_millis(20);
/// How often a query or a publication on S3 waiting for the other looks again.
const POLL_REMOTE: Duration = Duration::from_millis(200);
/// How often a held lease or mark is rewritten, and when one not rewritten is a dead one's.
const HEARTBEAT: Duration = Duration::from_secs(10);
const STALE: Duration = Duration::from_secs(60);

const READERS: &str = "readers";
const PUBLISHING: &str = "publishing";

/// A query's hold on the lake, or a publication in progress; it ends when the last clone is
/// dropped or [released](Snapshot::release).
#[must_use = "the lake can change as soon as this is dropped"]
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    held: Option<Arc<Held>>,
}

#[derive(Debug)]
enum Held {
    /// The locked descriptor: closing it releases the lock.
    Local(#[allow(dead_code)] std::fs::File),
    Remote(Mark),
}

impl Snapshot {
    /// Ends the hold now (on S3, deletes its lease or mark) unless a clone still holds it.
    pub async fn release(self) -> Result<(), Error> {
        match self.held.map(Arc::try_unwrap) {
            Some(Ok(Held::Remote(mark))) => mark.remove().await,
            _ => Ok(()),
        }
    }
}

/// An object that says a query reads or a writer publishes, rewritten while held.
#[derive(Debug)]
struct Mark {
    lake: Lake,
    path: Path,
    heartbeat: tokio::task::JoinHandle<()>,
    removed: bool,
}

#[derive(Serialize, Deserialize)]
struct MarkBody {
    host: String,
    /// The machine's boot id: a pid means something only on the same running kernel.
    #[serde(default)]
    machine: String,
    pid: u32,
    /// Changes at each rewrite, so that the object does.
    beat: u64,
}

impl Mark {
    async fn put(lake: &Lake, kind: &str) -> Result<Mark, object_store::Error> {
        let path = lake.path(&format!("{META}/{kind}/{}.json", uuid::Uuid::new_v4().simple()));
        let body = |beat| {
            let body = MarkBody {
                host: super::lock::hostname(),
                machine: super::lock::machine(),
                pid: std::process::id(),
                beat,
            };
            serde_json::to_vec(&body).expect("a mark serializes")
        };
        lake.store().put(&path, body(0).into()).await?;
        let (store, beat_path) = (lake.store().clone(), path.clone());
        let heartbeat = tokio::spawn(async move {
            for beat in 1.. {
                tokio::time::sleep(HEARTBEAT).await;
                if let Err(e) = store.put(&beat_path, body(beat).into()).await {
                    warn!(mark = %beat_path, error = %crate::chain::Chain(&e), "could not renew a mark in the lake");
                }
            }
        });
        Ok(Mark { lake: lake.clone(), path, heartbeat, removed: false })
    }

    async fn remove(mut self) -> Result<(), Error> {
        self.heartbeat.abort();
        self.removed = true;
        self.lake.remove(&self.path).await
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        self.heartbeat.abort();
        if !self.removed
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (store, path) = (self.lake.store().clone(), self.path.clone());
            runtime.spawn(async move { store.delete(&path).await });
        }
    }
}

impl Lake {
    /// Holds the lake still for a query: no writer publishes until this is released.
    pub async fn reading(&self) -> Result<Snapshot, Error> {
        let Some(root) = self.local_root() else { return self.reading_remote().await };
        let folder = root.join(META);
        blocking(move || {
            let file = match std::fs::File::open(&folder) {
                Ok(file) => file,
                // No catalog yet: no table to read, nothing to hold.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Snapshot::default()),
                Err(e) => return Err(io(&folder, e)),
            };
            // A publication takes milliseconds: wait for it.
            file.lock_shared().map_err(|e| io(&folder, e))?;
            Ok(Snapshot { held: Some(Arc::new(Held::Local(file))) })
        })
        .await
    }

    /// Waits for the running queries and holds new ones back while the caller, holding the
    /// lake's writer lock, publishes.
    pub async fn publishing(&self) -> Result<Snapshot, Error> {
        self.publishing_within(super::lock::wait_limit()).await
    }

    /// [`Lake::publishing`], waiting at most `limit` for the queries.
    pub async fn publishing_within(&self, limit: Duration) -> Result<Snapshot, Error> {
        let Some(root) = self.local_root() else { return self.publishing_remote(limit).await };
        let folder = root.join(META);
        blocking(move || {
            std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
            let file = std::fs::File::open(&folder).map_err(|e| io(&folder, e))?;
            let started = Instant::now();
            let mut told = false;
            loop {
                match file.try_lock() {
                    Ok(()) => return Ok(Snapshot { held: Some(Arc::new(Held::Local(file))) }),
                    Err(std::fs::TryLockError::WouldBlock) => {}
                    Err(std::fs::TryLockError::Error(e)) => return Err(io(&folder, e)),
                }
                if started.elapsed() >= limit {
                    return Err(queries_kept_reading(folder.display().to_string(), limit));
                }
                if !told {
                    info!("waiting for running queries to finish before publishing");
                    told = true;
                }
                std::thread::sleep(POLL);
            }
        })
        .await
    }

    async fn reading_remote(&self) -> Result<Snapshot, Error> {
        let started = Instant::now();
        loop {
            let lease = match Mark::put(self, READERS).await {
                Ok(lease) => lease,
                Err(
                    e @ (object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }),
                ) => {
                    static TOLD: std::sync::Once = std::sync::Once::new();
                    TOLD.call_once(|| {
                        warn!(lake = %self, error = %crate::chain::Chain(&e), "queries take no lease (read-only access): a day rewritten while one runs may read partly old, partly new");
                    });
                    return Ok(Snapshot::default());
                }
                Err(source) => return Err(Error::Store { path: format!("{META}/{READERS}"), source }),
            };
            if self.live(PUBLISHING).await?.is_empty() {
                return Ok(Snapshot { held: Some(Arc::new(Held::Remote(lease))) });
            }
            // A publication is under way: step back until it ends, then try again.
            lease.remove().await?;
            while !self.live(PUBLISHING).await?.is_empty() {
                if started.elapsed() >= super::lock::wait_limit() {
                    return Err(Error::Location {
                        url: self.to_string(),
                        message: format!(
                            "a writer kept publishing for {} s (B3LAKE_LOCK_WAIT)",
                            super::lock::wait_limit().as_secs()
                        ),
                    });
                }
                tokio::time::sleep(POLL_REMOTE).await;
            }
        }
    }

    /// Removes the publication marks of writers that died: called by the next writer when it
    /// takes the lake's lock, so that queries need not wait for the marks to go stale.
    pub(super) async fn clear_dead_publications(&self) -> Result<(), Error> {
        for dead in self.list_marks(PUBLISHING).await? {
            self.remove(&dead.location).await?;
        }
        Ok(())
    }

    async fn publishing_remote(&self, limit: Duration) -> Result<Snapshot, Error> {
        let mark = Mark::put(self, PUBLISHING)
            .await
            .map_err(|source| Error::Store { path: format!("{META}/{PUBLISHING}"), source })?;
        let started = Instant::now();
        let mut told = false;
        loop {
            if self.live(READERS).await?.is_empty() {
                return Ok(Snapshot { held: Some(Arc::new(Held::Remote(mark))) });
            }
            if started.elapsed() >= limit {
                mark.remove().await?;
                return Err(queries_kept_reading(self.to_string(), limit));
            }
            if !told {
                info!("waiting for running queries to finish before publishing");
                told = true;
            }
            tokio::time::sleep(POLL_REMOTE).await;
        }
    }

    async fn list_marks(&self, kind: &str) -> Result<Vec<object_store::ObjectMeta>, Error> {
        let folder = self.path(&format!("{META}/{kind}"));
        match self.store().list(Some(&folder)).try_collect().await {
            Ok(marks) => Ok(marks),
            Err(object_store::Error::NotFound { .. }) => Ok(vec![]),
            Err(source) => Err(Error::Store { path: folder.to_string(), source }),
        }
    }

    /// The marks of a kind that belong to running processes: rewritten within the last minute
    /// (by the store's clock), and not of a process of this host that is gone (whose mark is
    /// removed, so that nobody waits a minute for it).
    async fn live(&self, kind: &str) -> Result<Vec<object_store::ObjectMeta>, Error> {
        let now = chrono::Utc::now();
        let stale = chrono::Duration::from_std(STALE).expect("a minute");
        let machine = super::lock::machine();
        let mut live = Vec::new();
        for mark in self.list_marks(kind).await? {
            if now - mark.last_modified >= stale {
                continue;
            }
            let body = self.read(&mark.location).await?;
            let owner = body.and_then(|b| serde_json::from_slice::<MarkBody>(&b).ok());
            if owner.is_some_and(|o| !o.machine.is_empty() && o.machine == machine && !super::lock::alive(o.pid)) {
                // Tidying only: a reader without write access leaves it to the next writer.
                let _ = self.remove(&mark.location).await;
                continue;
            }
            live.push(mark);
        }
        Ok(live)
    }
}

fn queries_kept_reading(url: String, limit: Duration) -> Error {
    Error::Location {
        url,
        message: format!(
            "queries kept reading the lake for {} s (B3LAKE_LOCK_WAIT); nothing was changed",
            limit.as_secs()
        ),
    }
}

fn io(path: &std::path::Path, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}

async fn blocking(f: impl FnOnce() -> Result<Snapshot, Error> + Send + 'static) -> Result<Snapshot, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io { path: META.to_string(), source: std::io::Error::other(e.to_string()) })?
}
