//! What a query sees of a local lake while a writer changes it.
//!
//! A reader takes a day's file names and sizes from the partition index, then opens the
//! files; a writer replaces the files, then the index. Without coordination a query can
//! plan from the old index and read the new files (or the reverse): a mix of two versions of
//! a day, or bytes read at another file's offsets. So on local disk every query holds a
//! shared lock on the lake's catalog folder from planning to its last row, and a writer
//! *publishes* (swaps a day's files in and records them in the index) holding it
//! exclusively. A query thus sees every day as it was before a publication or after it, and
//! a query over several days sees one state of the lake.
//!
//! Publications are short (renames and a few small index files: the data is written before),
//! so a query waits a fraction of a second at most. A publication waits for the queries
//! running, up to `B3LAKE_LOCK_WAIT` seconds, then fails with nothing changed. The kernel
//! releases the lock of a process that dies, so a crash never blocks anyone. The lock writes
//! nothing, so a read-only lake can be queried.
//!
//! S3 has neither rename nor a lock a reader can take without writing; see [`super::lock`]
//! and the README for what a reader of an S3 lake sees during a rewrite.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::info;

use super::layout::META;
use super::{Error, Lake};

/// How often a publication waiting for queries tries again.
const POLL: Duration = Duration::from_millis(20);

/// A held view of the lake (a query's) or a publication in progress; released when dropped.
/// Remote lakes hold nothing.
/// Clones share the hold, which ends with the last of them.
#[must_use = "the lake can change as soon as this is dropped"]
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    _file: Option<Arc<std::fs::File>>,
}

impl Lake {
    /// Holds the lake still for a query: no writer publishes until this is dropped.
    pub async fn reading(&self) -> Result<Snapshot, Error> {
        let Some(folder) = self.local_root().map(|r| r.join(META)) else { return Ok(Snapshot::default()) };
        blocking(move || {
            let file = match std::fs::File::open(&folder) {
                Ok(file) => file,
                // No catalog yet: no table to read, nothing to hold.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Snapshot::default()),
                Err(e) => return Err(io(&folder, e)),
            };
            // A publication takes milliseconds: wait for it.
            // SAFETY: a valid open descriptor.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH) } != 0 {
                return Err(io(&folder, std::io::Error::last_os_error()));
            }
            Ok(Snapshot { _file: Some(Arc::new(file)) })
        })
        .await
    }

    /// Waits for the running queries and holds new ones back while the caller publishes.
    pub async fn publishing(&self) -> Result<Snapshot, Error> {
        self.publishing_within(super::lock::wait_limit()).await
    }

    async fn publishing_within(&self, limit: Duration) -> Result<Snapshot, Error> {
        let Some(folder) = self.local_root().map(|r| r.join(META)) else { return Ok(Snapshot::default()) };
        blocking(move || {
            std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
            let file = std::fs::File::open(&folder).map_err(|e| io(&folder, e))?;
            let started = Instant::now();
            let mut told = false;
            loop {
                // SAFETY: a valid open descriptor; LOCK_NB never blocks.
                if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                    return Ok(Snapshot { _file: Some(Arc::new(file)) });
                }
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                    return Err(io(&folder, err));
                }
                if started.elapsed() >= limit {
                    return Err(Error::Location {
                        url: folder.display().to_string(),
                        message: format!(
                            "queries kept reading the lake for {} s (B3LAKE_LOCK_WAIT); nothing was changed",
                            limit.as_secs()
                        ),
                    });
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
}

fn io(path: &std::path::Path, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}

async fn blocking(f: impl FnOnce() -> Result<Snapshot, Error> + Send + 'static) -> Result<Snapshot, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io { path: META.to_string(), source: std::io::Error::other(e.to_string()) })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_publication_waits_for_queries_and_queries_for_a_publication() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
        // No catalog folder yet: a reader holds nothing, and creates nothing.
        drop(lake.reading().await.unwrap());
        assert!(!dir.path().join(META).exists());
        std::fs::create_dir(dir.path().join(META)).unwrap();

        let query = lake.reading().await.unwrap();
        assert!(lake.reading().await.is_ok(), "queries read together");
        let refused = lake.publishing_within(Duration::ZERO).await.expect_err("a query is running");
        assert!(refused.to_string().contains("B3LAKE_LOCK_WAIT"), "{refused}");
        drop(query);
        let publication = lake.publishing().await.unwrap();

        let lake2 = lake.clone();
        let reader = tokio::spawn(async move { lake2.reading().await.map(|_| Instant::now()) });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let published = Instant::now();
        drop(publication);
        let read = reader.await.unwrap().unwrap();
        assert!(read >= published, "the query started before the publication ended");
    }
}
