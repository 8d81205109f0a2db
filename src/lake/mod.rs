//! Where data lives: a lake is a root URL (a local folder or `s3://bucket/prefix`) holding
//! Hive-partitioned Parquet tables. The rest of b3lake sees one `ObjectStore`, never the backend.

pub mod folders;
pub mod layout;
mod local;
pub mod lock;
pub mod snapshot;
pub mod staging;
pub mod store;
pub mod tx;
pub mod writer;

pub use lock::LakeLock;
pub use snapshot::Snapshot;
pub use staging::Staging;
pub use store::Lake;
pub use tx::{Key, Scope, Writer};
pub use writer::StagedDay;

/// Errors of the lake layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A lake location that cannot be used.
    #[error("lake {url}: {message}")]
    Location {
        /// The location.
        url: String,
        /// Why.
        message: String,
    },
    /// An object store call failed.
    #[error("{path}")]
    Store {
        /// The object or folder.
        path: String,
        /// The store's error.
        source: object_store::Error,
    },
    /// Encoding Parquet failed.
    #[error("writing Parquet for {what}")]
    Parquet {
        /// What was being written (a day, a file).
        what: String,
        /// The encoder's error.
        source: parquet::errors::ParquetError,
    },
    /// A local file operation failed.
    #[error("{path}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Indexing what a recovery finished (the catalog's error).
    #[error("indexing what a dead writer's run left, now finished")]
    Index(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A data file of 0 bytes: never something b3lake wrote (a Parquet file has a footer),
    /// so a cut-off copy or a stray `touch`. Read as "no rows" it would silently empty a day.
    #[error("{path}: empty file (0 bytes), not a Parquet file; remove it or write the day again")]
    EmptyFile {
        /// The file.
        path: String,
    },
}
