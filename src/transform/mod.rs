//! The transform layer (the design's Glue ETL job): the raw table to the refined table and
//! its daily summary, with SQL kept as data, job bookmarks kept in the lake, and the
//! triggers that start it (an S3 event, a poll of the raw prefix).

#[cfg(feature = "cli")]
pub mod backfill;
pub mod job;
pub mod output;
pub mod queries;
pub mod state;
pub mod trigger;
pub mod watch;

use chrono::NaiveDate;

pub use job::{Days, TransformOptions, TransformReport, raw_dates, transform};
pub use output::Layout;
pub use queries::Queries;
pub use state::{Bookmarks, RefinedSpec};

/// Errors of the transform layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lake's files, locks or staging.
    #[error(transparent)]
    Lake(#[from] crate::lake::Error),
    /// The catalog: definitions, the partition index, Glue.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
    /// A step of the job failed in DataFusion: which, and why.
    #[error("{0}")]
    Sql(String, #[source] datafusion::error::DataFusionError),
    /// The transform SQL files are missing or wrong.
    #[error("transform queries: {0}")]
    Queries(String),
    /// Arrow data of an unexpected shape.
    #[error("{0}")]
    Arrow(String),
    /// The job's bookmarks cannot be read or written.
    #[error("transform state: {0}")]
    State(String),
    /// Options that cannot run together (a layout change without `--all`).
    #[error("{0}")]
    Usage(String),
    /// Some days failed; the others are done.
    #[error("{} of {} days failed (the others are done and bookmarked; a rerun retries the failures): {}",
        failed.len(), failed.len() + done, failed.iter().map(|(d, e)| format!("{d}: {e}")).collect::<Vec<_>>().join("; "))]
    DaysFailed {
        /// Each failed day and why.
        failed: Vec<(NaiveDate, String)>,
        /// Days that finished.
        done: usize,
    },
    /// Not an S3 event notification b3lake can read.
    #[error("S3 event: {0}")]
    Event(String),
    /// Invoking the Lambda function failed.
    #[error("Lambda: {0}")]
    Lambda(String),
}
