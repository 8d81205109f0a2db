//! The whole-lake lock: what a writer of [`super::tx::Scope::Lake`] holds (a table's
//! definition, a layout change, a repair of a whole table), alone.
//!
//! Two such writers that interleave can each leave the lake consistent by itself and
//! inconsistent together (a layout change racing a day's rewrite). Readers never take this
//! lock (a local query holds the lake still with [`super::snapshot`]). A second writer waits
//! for the first (up to `B3LAKE_LOCK_WAIT` seconds, 600 by default) and then fails, naming the
//! holder; the writers of keys ([`super::tx`]) wait for it too.
//!
//! - On local disk the lock is `File::try_lock` (`flock`) on the lake's folder: the kernel
//!   releases it when its process ends, however it ends, and taking it writes nothing into
//!   the lake.
//! - On S3 it is the object `_b3lake/lock.json`, created only if absent (`If-None-Match: *`).
//!   The holder rewrites it every few seconds; a lock whose object has not changed for a minute
//!   is stale (its holder died) and is taken over with a conditional overwrite
//!   (`If-Match` on the stale ETag), so two waiters cannot both take it. A lock left by a
//!   process of this host that no longer runs is taken over at once.

use std::time::{Duration, Instant};

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, UpdateVersion};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::layout::META;
use super::{Error, Lake};

const LOCK_OBJECT: &str = "lock.json";
const HEARTBEAT: Duration = Duration::from_secs(10);
const STALE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(200);

/// Who holds a lock or a lease, for the waiters' messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Holder {
    command: String,
    host: String,
    /// The running kernel (its boot id): a pid means something only on the same one.
    #[serde(default)]
    machine: String,
    pub(super) pid: u32,
    since: chrono::DateTime<chrono::Utc>,
    token: String,
    /// Counts the heartbeats: a rewrite must change the object (and its ETag), or waiters
    /// would take a live lock for a stale one.
    #[serde(default)]
    beat: u64,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (pid {} on {}, since {})",
            self.command,
            self.pid,
            self.host,
            self.since.format("%Y-%m-%d %H:%M:%S UTC")
        )
    }
}

/// A held lock. Release it with [`LakeLock::release`]; dropped, a local lock is released by
/// closing its file, an S3 lock stops its heartbeat and goes stale.
pub struct LakeLock {
    held: Held,
}

enum Held {
    Local { _file: std::fs::File, _intent: std::fs::File, info: std::path::PathBuf },
    Remote { lake: Lake, path: Path, heartbeat: tokio::task::JoinHandle<()> },
}

impl Drop for LakeLock {
    fn drop(&mut self) {
        match &self.held {
            Held::Local { info, .. } => {
                let _ = std::fs::remove_file(info);
            }
            Held::Remote { heartbeat, .. } => heartbeat.abort(),
        }
    }
}

/// Where a local lock's holder is described, outside the lake: the system's temporary folder,
/// named after the lake's path.
fn holder_file(root: &std::path::Path) -> std::path::PathBuf {
    use sha2::Digest;
    let hash = hex::encode(&sha2::Sha256::digest(root.as_os_str().as_encoded_bytes())[..8]);
    std::env::temp_dir().join(format!("b3lake-lock-{hash}.json"))
}

/// Who holds a local lake's whole-lake lock, as its holder described itself.
pub(super) fn local_holder(root: &std::path::Path) -> String {
    std::fs::read(holder_file(root))
        .ok()
        .and_then(|b| serde_json::from_slice::<Holder>(&b).ok())
        .map_or_else(|| "a whole-lake writer".to_string(), |h| h.to_string())
}

pub(super) fn wait_limit() -> Duration {
    let secs = std::env::var("B3LAKE_LOCK_WAIT").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
    Duration::from_secs(secs)
}

impl Holder {
    /// Whether the holder ran on this machine (so its pid can be looked up here).
    pub(super) fn same_machine(&self) -> bool {
        !self.machine.is_empty() && self.machine == machine()
    }
}

pub(super) fn holder(command: &str) -> Holder {
    Holder {
        command: command.to_string(),
        host: hostname(),
        machine: machine(),
        pid: std::process::id(),
        since: chrono::Utc::now(),
        token: uuid::Uuid::new_v4().simple().to_string(),
        beat: 0,
    }
}

pub(super) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown host".into())
}

/// This machine's running kernel: two Lambda sandboxes may share a host name and pids,
/// never a boot id.
pub(super) fn machine() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|b| b.trim().to_string()).unwrap_or_default()
}

/// Whether a process of this host with this pid still runs.
pub(super) fn alive(pid: u32) -> bool {
    // Signal 0: sends nothing, checks that the process exists (EPERM: it does, another user's).
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    matches!(rustix::process::test_kill_process(pid), Ok(()) | Err(rustix::io::Errno::PERM))
}

impl Lake {
    /// Takes the lake's writer lock for `command`, waiting for another writer to finish.
    pub async fn lock(&self, command: &str) -> Result<LakeLock, Error> {
        let me = holder(command);
        match self.local_root() {
            Some(root) => {
                let root = root.to_path_buf();
                tokio::task::spawn_blocking(move || lock_local(&root, me))
                    .await
                    .map_err(|e| Error::Location { url: self.to_string(), message: e.to_string() })?
            }
            None => self.lock_remote(me).await,
        }
    }

    async fn lock_remote(&self, me: Holder) -> Result<LakeLock, Error> {
        let path = self.path(&format!("{META}/{LOCK_OBJECT}"));
        let body = serde_json::to_vec(&me).expect("a holder serializes");
        let started = Instant::now();
        let mut seen: Option<(Option<String>, Instant)> = None;
        let mut told = false;
        loop {
            let created = self.store().put_opts(&path, body.clone().into(), PutOptions::from(PutMode::Create)).await;
            match created {
                Ok(put) => return self.held_remote(path, me, put.into()).await,
                Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {}
                Err(source) => return Err(Error::Store { path: path.to_string(), source }),
            }
            // Someone holds it: who, and is it stale?
            let current = match self.store().get(&path).await {
                Ok(got) => {
                    let e_tag = got.meta.e_tag.clone();
                    let bytes = got.bytes().await.map_err(|source| Error::Store { path: path.to_string(), source })?;
                    Some((e_tag, serde_json::from_slice::<Holder>(&bytes).ok()))
                }
                Err(object_store::Error::NotFound { .. }) => None,
                Err(source) => return Err(Error::Store { path: path.to_string(), source }),
            };
            let Some((e_tag, other)) = current else { continue };
            let dead_here = other.as_ref().is_some_and(|o| o.same_machine() && o.pid != me.pid && !alive(o.pid));
            let unchanged_for = match &seen {
                Some((tag, since)) if *tag == e_tag => since.elapsed(),
                _ => {
                    seen = Some((e_tag.clone(), Instant::now()));
                    Duration::ZERO
                }
            };
            if dead_here || unchanged_for >= STALE {
                let who = other.as_ref().map_or_else(|| "an unreadable lock".to_string(), |o| o.to_string());
                warn!(lock = %path, holder = %who, "taking over a stale lock");
                let update = PutMode::Update(UpdateVersion { e_tag, version: None });
                match self.store().put_opts(&path, body.clone().into(), PutOptions::from(update)).await {
                    Ok(put) => return self.held_remote(path, me, put.into()).await,
                    Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => continue,
                    Err(source) => return Err(Error::Store { path: path.to_string(), source }),
                }
            }
            let who = other.map_or_else(|| "another writer".to_string(), |o| o.to_string());
            if started.elapsed() >= wait_limit() {
                return Err(locked(self.to_string(), &who));
            }
            if !told {
                info!(holder = %who, "waiting for the lake's lock");
                told = true;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn held_remote(&self, path: Path, me: Holder, version: UpdateVersion) -> Result<LakeLock, Error> {
        Ok(self.heartbeat(path, me, version))
    }

    fn heartbeat(&self, path: Path, me: Holder, mut version: UpdateVersion) -> LakeLock {
        let lake = self.clone();
        let beat_path = path.clone();
        let heartbeat = tokio::spawn(async move {
            let mut me = me;
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                me.beat += 1;
                let body = serde_json::to_vec(&me).expect("a holder serializes");
                let mode = PutMode::Update(version.clone());
                match lake.store().put_opts(&beat_path, body.into(), PutOptions::from(mode)).await {
                    Ok(put) => version = put.into(),
                    Err(e) => {
                        warn!(lock = %beat_path, error = %crate::chain::Chain(&e), "the lake's lock was lost (taken over as stale?)");
                        return;
                    }
                }
            }
        });
        LakeLock { held: Held::Remote { lake: self.clone(), path, heartbeat } }
    }
}

fn locked(url: String, who: &str) -> Error {
    Error::Location {
        url,
        message: format!(
            "another writer holds the whole lake: {who}; waited {} s (B3LAKE_LOCK_WAIT)",
            wait_limit().as_secs()
        ),
    }
}

/// The file whose lock says that a whole-lake writer holds the lake, or waits for it (on
/// local disk): writers of keys share it for a moment before they share the lake folder's
/// lock, so that new ones cannot keep a waiting whole-lake writer out for ever.
pub(super) fn open_intent(root: &std::path::Path) -> Result<std::fs::File, Error> {
    let folder = root.join(META);
    let io = |path: &std::path::Path, source| Error::Io { path: path.display().to_string(), source };
    std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
    let path = folder.join("lake.intent");
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io(&path, e))
}

/// One try at the lake folder's lock (`folder`), through the intent ([`open_intent`]) first:
/// exclusive for a whole-lake writer, which keeps the intent while it waits and holds, shared
/// for a writer of keys. `intended` says the intent is held, from one try to the next.
pub(super) fn try_lake_folder(
    intent: &std::fs::File,
    folder: &std::fs::File,
    shared: bool,
    intended: &mut bool,
) -> std::io::Result<bool> {
    let taken = |lock: Result<(), std::fs::TryLockError>| match lock {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    };
    if !*intended {
        *intended = taken(if shared { intent.try_lock_shared() } else { intent.try_lock() })?;
    }
    Ok(*intended && taken(if shared { folder.try_lock_shared() } else { folder.try_lock() })?)
}

fn lock_local(root: &std::path::Path, me: Holder) -> Result<LakeLock, Error> {
    let io = |path: &std::path::Path, source| Error::Io { path: path.display().to_string(), source };
    let intent = open_intent(root)?;
    // The lake's folder itself is locked for the whole lake.
    let path = root.to_path_buf();
    let file = std::fs::File::open(&path).map_err(|e| io(&path, e))?;
    let info = holder_file(root);
    let started = Instant::now();
    let mut told = false;
    let mut intended = false;
    loop {
        if try_lake_folder(&intent, &file, false, &mut intended).map_err(|e| io(&path, e))? {
            // Who holds it, for the others' messages (informative only: the flock is the lock).
            let holder = serde_json::to_vec(&me).expect("a holder serializes");
            let _ = crate::local_fs::replace_local_file(&info, &holder);
            return Ok(LakeLock { held: Held::Local { _file: file, _intent: intent, info } });
        }
        let who = std::fs::read(&info)
            .ok()
            .and_then(|b| serde_json::from_slice::<Holder>(&b).ok())
            .map_or_else(|| "another writer".to_string(), |h| h.to_string());
        if started.elapsed() >= wait_limit() {
            return Err(locked(root.display().to_string(), &who));
        }
        if !told {
            info!(holder = %who, "waiting for the lake's lock");
            told = true;
        }
        std::thread::sleep(POLL);
    }
}

impl LakeLock {
    /// Releases the lock.
    pub async fn release(mut self) -> Result<(), Error> {
        if let Held::Remote { lake, path, heartbeat } = &mut self.held {
            heartbeat.abort();
            lake.remove(path).await?;
        }
        Ok(())
    }
}
