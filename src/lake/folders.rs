//! A folder of files replaced as one unit (a transformed day): the storage half of the
//! transform's output, kept here with the rest of the write protocol.
//!
//! The new folder is built under the run's staging folder first ([`stage`]), then put in place
//! ([`swap_in`]): locally in one step, `renameat2(RENAME_EXCHANGE)` (so even a reader that
//! lists folders sees the old folder or the new one), on S3, which has no rename, by copying
//! each staged file in and deleting the files the new folder does not have
//! ([`super::staging::move_in`], after the caller has pointed the index at the staged copy).
//! A folder of one file is simply [`replace`]d: one atomic PUT.

use std::collections::HashSet;
use std::path::Path as FsPath;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

use super::layout::STAGING;
use super::{Error, Lake};

/// Files by their path in the lake.
pub type Files = [(String, Bytes)];

fn io(path: &FsPath, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}

fn store(path: &Path, source: object_store::Error) -> Error {
    Error::Store { path: path.to_string(), source }
}

/// Where the run `run` stages a file whose path in the lake is `path`.
pub fn staged(run: &str, path: &str) -> String {
    format!("{STAGING}/{run}/{path}")
}

/// Writes `files` (all under `folder`) under the run's staging folder, as the folder will
/// hold them.
pub async fn stage(lake: &Lake, run: &str, folder: &str, files: Vec<(String, Bytes)>) -> Result<(), Error> {
    let Some(root) = lake.local_root() else {
        futures::stream::iter(files)
            .map(|(path, bytes)| {
                let path = lake.path(&staged(run, &path));
                async move { lake.store().put(&path, PutPayload::from_bytes(bytes)).await.map_err(|e| store(&path, e)) }
            })
            .buffer_unordered(32)
            .try_collect::<Vec<_>>()
            .await?;
        return Ok(());
    };
    let target = root.join(staged(run, folder));
    let folder = folder.to_string();
    blocking(move || {
        crate::local_fs::create_dir_all(&target).map_err(|e| io(&target, e))?;
        for (path, bytes) in &files {
            let relative = path.strip_prefix(&folder).unwrap_or(path).trim_start_matches('/');
            let file = target.join(relative);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::write(&file, bytes).map_err(|e| io(&file, e))?;
        }
        Ok(())
    })
    .await
}

/// Puts the folder [`stage`]d by the run in place of the live one (or, `empty`: the folder
/// has no files any more, removes the live one).
pub async fn swap_in(lake: &Lake, run: &str, folder: &str, empty: bool) -> Result<(), Error> {
    let Some(root) = lake.local_root() else { return super::staging::move_in(lake, run, folder).await };
    let staged = root.join(staged(run, folder));
    let live = root.join(folder);
    blocking(move || {
        if empty {
            let _ = std::fs::remove_dir_all(&live);
            let _ = std::fs::remove_dir_all(&staged);
            return Ok(());
        }
        if let Some(parent) = live.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        exchange(&staged, &live).map_err(|e| io(&live, e))?;
        // `staged` now holds the previous folder, if there was one.
        let _ = std::fs::remove_dir_all(&staged);
        Ok(())
    })
    .await
}

/// Puts `new` at `live`; afterwards `new` holds what `live` held (or nothing).
fn exchange(new: &FsPath, live: &FsPath) -> std::io::Result<()> {
    if !live.exists() {
        return std::fs::rename(new, live);
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, new, CWD, live, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            // Filesystems without RENAME_EXCHANGE fall back to two renames below.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let old = new.with_extension("old");
    std::fs::rename(live, &old)?;
    std::fs::rename(new, live)?;
    std::fs::rename(&old, new)
}

/// Writes every file with one PUT each, then deletes what else `folder` held.
pub async fn replace(lake: &Lake, folder: &str, files: &Files) -> Result<(), Error> {
    let new: HashSet<Path> = files.iter().map(|(p, _)| lake.path(p)).collect();
    futures::stream::iter(files.iter().cloned())
        .map(|(path, bytes)| {
            let path = lake.path(&path);
            async move { lake.store().put(&path, PutPayload::from_bytes(bytes)).await.map_err(|e| store(&path, e)) }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await?;
    let stale: Vec<Path> = lake.list_all(&lake.path(folder)).await?.into_iter().filter(|p| !new.contains(p)).collect();
    lake.remove_all(stale).await?;
    if let Some(root) = lake.local_root() {
        crate::local_fs::remove_empty_dirs_async(root.join(folder)).await;
    }
    Ok(())
}

/// Removes a whole folder (a table's, before it is rewritten in another layout).
pub async fn remove(lake: &Lake, folder: &str) -> Result<(), Error> {
    lake.remove_all(lake.list_all(&lake.path(folder)).await?).await?;
    if let Some(root) = lake.local_root() {
        let _ = std::fs::remove_dir_all(root.join(folder));
    }
    Ok(())
}

async fn blocking(f: impl FnOnce() -> Result<(), Error> + Send + 'static) -> Result<(), Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io { path: STAGING.into(), source: std::io::Error::other(e) })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_swaps_two_folders() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("new"), dir.path().join("live"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(a.join("f"), "new").unwrap();
        exchange(&a, &b).unwrap();
        assert_eq!(std::fs::read_to_string(b.join("f")).unwrap(), "new");
        assert!(!a.exists());
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(a.join("f"), "newer").unwrap();
        exchange(&a, &b).unwrap();
        assert_eq!(std::fs::read_to_string(b.join("f")).unwrap(), "newer");
        assert_eq!(std::fs::read_to_string(a.join("f")).unwrap(), "new");
    }
}
