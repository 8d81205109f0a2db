//! Where data lives: a lake is a root URL (a local folder or `s3://bucket/prefix`) holding
//! Hive-partitioned Parquet tables. The rest of b3lake sees one `ObjectStore`, never the backend.

pub mod layout;
pub mod lock;
pub mod snapshot;
pub mod staging;
pub mod store;
pub mod writer;

pub use lock::LakeLock;
pub use snapshot::Snapshot;
pub use staging::Staging;
pub use store::Lake;
pub use writer::{DayFile, StagedDay};

/// Replaces a local file whole: writes a temporary file beside it, then renames it over, so a
/// reader or a crash never sees half a file.
pub fn replace_local_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
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

/// Errors of the lake layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("lake {url}: {message}")]
    Location { url: String, message: String },
    #[error("{path}: {source}")]
    Store { path: String, source: object_store::Error },
    #[error("writing Parquet for {what}: {source}")]
    Parquet { what: String, source: parquet::errors::ParquetError },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// A data file of 0 bytes: never something b3lake wrote (a Parquet file has a footer),
    /// so a cut-off copy or a stray `touch`. Read as "no rows" it would silently empty a day.
    #[error("{path}: empty file (0 bytes), not a Parquet file; remove it or write the day again")]
    EmptyFile { path: String },
}
