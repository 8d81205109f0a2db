//! The local disk as a lake's store: object_store's `LocalFileSystem`, except where it would
//! leave something behind that another engine reads as data.
//!
//! `LocalFileSystem` writes (and copies) a whole file under `<name>#<n>` beside it and renames
//! that over the file. A process killed in between leaves `part.parquet#3` in the partition
//! folder: b3lake's listings skip it, but Athena, Hive, Spark and pyarrow read every file whose
//! name does not start with `_` or `.`, so they would count its rows. Here the temporary name
//! starts with `.`, which every one of them skips; the rename that ends the write is the same.

use std::io::{ErrorKind, Write};
use std::path::PathBuf;

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

/// A lake's local store (see the module's documentation).
#[derive(Debug, Default)]
pub struct LocalStore {
    inner: LocalFileSystem,
}

impl std::fmt::Display for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalStore({})", self.inner)
    }
}

/// A hidden name beside `path`, unique to this write.
fn temporary(path: &std::path::Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()))
}

/// Runs `step` (which writes `tmp`), creating the destination's folders when they are missing
/// (as [`crate::local_fs::create_dir_all`] does: again if another writer removes one as it is
/// made), then renames `tmp` over `to`; `tmp` never outlives a failure.
fn into_place(to: &std::path::Path, step: impl Fn(&std::path::Path) -> std::io::Result<()>) -> std::io::Result<()> {
    let tmp = temporary(to);
    let mut done = step(&tmp);
    if done.as_ref().is_err_and(|e| e.kind() == ErrorKind::NotFound)
        && let Some(parent) = to.parent()
    {
        crate::local_fs::create_dir_all(parent)?;
        done = step(&tmp);
    }
    let done = done.and_then(|()| std::fs::rename(&tmp, to));
    // Gone after a rename, except where `to` already was a link to the same file (a copy
    // made again): then rename does nothing, and the link is removed here.
    let _ = std::fs::remove_file(&tmp);
    done
}

fn io_error(path: &std::path::Path, source: std::io::Error) -> object_store::Error {
    match source.kind() {
        ErrorKind::NotFound => {
            object_store::Error::NotFound { path: path.display().to_string(), source: Box::new(source) }
        }
        _ => {
            object_store::Error::Generic { store: "LocalStore", source: format!("{}: {source}", path.display()).into() }
        }
    }
}

#[async_trait]
impl ObjectStore for LocalStore {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        if !matches!(opts.mode, PutMode::Overwrite) || !opts.attributes.is_empty() {
            return self.inner.put_opts(location, payload, opts).await;
        }
        let path = self.inner.path_to_filesystem(location)?;
        tokio::task::spawn_blocking(move || {
            into_place(&path, |tmp| {
                let mut file = std::fs::File::create_new(tmp)?;
                payload.iter().try_for_each(|chunk| file.write_all(chunk))
            })
            .map_err(|e| io_error(&path, e))?;
            Ok(PutResult { e_tag: None, version: None })
        })
        .await
        .map_err(|e| object_store::Error::Generic { store: "LocalStore", source: Box::new(e) })?
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        if !matches!(options.mode, CopyMode::Overwrite) {
            return self.inner.copy_opts(from, to, options).await;
        }
        let (from, to) = (self.inner.path_to_filesystem(from)?, self.inner.path_to_filesystem(to)?);
        tokio::task::spawn_blocking(move || {
            if !from.exists() {
                return Err(io_error(&from, std::io::Error::from(ErrorKind::NotFound)));
            }
            into_place(&to, |tmp| std::fs::hard_link(&from, tmp)).map_err(|e| io_error(&to, e))
        })
        .await
        .map_err(|e| object_store::Error::Generic { store: "LocalStore", source: Box::new(e) })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;

    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn whole_files_are_written_and_copied_in_place_leaving_nothing_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::default();
        let root = Path::from_filesystem_path(dir.path()).unwrap();
        let path = |p: &str| Path::parse(format!("{root}/{p}")).unwrap();
        store.put(&path("t/k=1/a.parquet"), "one".into()).await.unwrap();
        store.put(&path("t/k=1/a.parquet"), "two".into()).await.unwrap();
        store.copy(&path("t/k=1/a.parquet"), &path("t/k=2/b.parquet")).await.unwrap();
        store.copy(&path("t/k=1/a.parquet"), &path("t/k=2/b.parquet")).await.unwrap();
        assert_eq!(names(&dir.path().join("t/k=1")), ["a.parquet"]);
        assert_eq!(names(&dir.path().join("t/k=2")), ["b.parquet"]);
        assert_eq!(std::fs::read(dir.path().join("t/k=2/b.parquet")).unwrap(), b"two");
        let missing = store.copy(&path("t/nothing"), &path("t/k=3/c")).await.unwrap_err();
        assert!(matches!(missing, object_store::Error::NotFound { .. }), "{missing}");
        assert!(!dir.path().join("t/k=3").exists());
        // Create-only writes (the lock) keep their meaning.
        let again = store.put_opts(&path("t/k=1/a.parquet"), "x".into(), PutMode::Create.into()).await;
        assert!(matches!(again, Err(object_store::Error::AlreadyExists { .. })));
    }

    #[test]
    fn a_folder_removed_by_another_writer_as_it_is_made_is_made_again() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        // Another run's clean-up removes `_staging` whenever it is empty; each write here makes
        // `_staging/<run>/...` and its run then removes its folder, leaving `_staging` empty.
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join("_staging");
        let stop = Arc::new(AtomicBool::new(false));
        let remover = {
            let (staging, stop) = (staging.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut removed = 0;
                while !stop.load(Ordering::Relaxed) {
                    removed += usize::from(std::fs::remove_dir(&staging).is_ok());
                    std::thread::sleep(std::time::Duration::from_micros(20));
                }
                removed
            })
        };
        let written = (0..3000).try_for_each(|i| {
            let run = staging.join(format!("run{i}"));
            into_place(&run.join("raw/day=1/a.parquet"), |tmp| std::fs::write(tmp, b"x"))?;
            std::fs::remove_dir_all(&run)
        });
        stop.store(true, Ordering::Relaxed);
        let removed = remover.join().unwrap();
        written.unwrap();
        assert!(removed > 100, "`_staging` was removed only {removed} times: the race was not run");
    }

    #[test]
    fn a_write_cut_short_leaves_only_a_hidden_name() {
        // What a kill between the write and the rename leaves.
        let dir = tempfile::tempdir().unwrap();
        let tmp = temporary(&dir.path().join("k=1/part-00000.parquet"));
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".part-00000.parquet.") && name.ends_with(".tmp"), "{name}");
    }
}
