//! The transform layer (the design's Glue ETL job): the raw table to the refined table and
//! its daily summary, with SQL kept as data, job bookmarks kept in the lake, and the
//! triggers that start it (an S3 event, a poll of the raw prefix).

pub mod job;
pub mod output;
pub mod queries;
pub mod state;
pub mod trigger;
pub mod watch;

use chrono::NaiveDate;

pub use job::{Days, TransformOptions, TransformReport, transform};
pub use output::Layout;
pub use queries::Queries;
pub use state::{Bookmarks, RefinedSpec};

/// Errors of the transform layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Lake(#[from] crate::lake::Error),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
    #[error("{0}")]
    Sql(String, #[source] datafusion::error::DataFusionError),
    #[error("transform queries: {0}")]
    Queries(String),
    #[error("{0}")]
    Arrow(String),
    #[error("transform state: {0}")]
    State(String),
    #[error("{0}")]
    Usage(String),
    #[error("{} of {} days failed (the others are done and bookmarked; a rerun retries the failures): {}",
        failed.len(), failed.len() + done, failed.iter().map(|(d, e)| format!("{d}: {e}")).collect::<Vec<_>>().join("; "))]
    DaysFailed { failed: Vec<(NaiveDate, String)>, done: usize },
    #[error("S3 event: {0}")]
    Event(String),
    #[error("Glue: {0}")]
    Glue(String),
}
