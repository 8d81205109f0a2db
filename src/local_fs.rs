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

/// Times a folder is made again when it vanishes as it is made (see [`create_dir_all`]).
const FOLDER_TRIES: usize = 100;

/// Makes `dir` and the folders above it, as [`std::fs::create_dir_all`] does, and again when
/// another process removes one of them while it is empty (a lake writer's clean-up removes
/// `_staging` when it leaves it empty) between the making of that folder and of the next one
/// below it: std then reports the folder as not found, or as already there when it went
/// between its `mkdir` and its check.
pub fn create_dir_all(dir: &std::path::Path) -> std::io::Result<()> {
    let mut tries = 0;
    loop {
        match std::fs::create_dir_all(dir) {
            Err(e)
                if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::AlreadyExists)
                    && tries < FOLDER_TRIES =>
            {
                tries += 1;
            }
            done => return done,
        }
    }
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
