//! Local files: written whole, and folders tidied after their files go. Every layer writes
//! some (downloads, reports, charts, the lake's own files on local disk).

/// Replaces a local file whole: writes a temporary file beside it, then renames it over, so a
/// reader or a crash never sees half a file.
pub fn replace_local_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// [`remove_empty_dirs`] off the async worker: the file system's calls block.
pub async fn remove_empty_dirs_async(dir: std::path::PathBuf) {
    let _ = tokio::task::spawn_blocking(move || remove_empty_dirs(&dir)).await;
}

/// Removes the empty folders under `dir`, and `dir` if it ends up empty: a local store keeps
/// the folders of the files it deletes.
pub fn remove_empty_dirs(dir: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                remove_empty_dirs(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}
