//! The crate's error: one variant per layer, each carrying its own context (file, line,
//! field, URL, object path), so a message alone tells the user what to fix.

/// Every error of b3lake, for the layers above the engine (report, checks, demo, front ends) and the binary.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading an input.
    #[error(transparent)]
    Source(#[from] crate::source::Error),
    /// The lake: its storage, locks and staging.
    #[error(transparent)]
    Lake(#[from] crate::lake::Error),
    /// The ingest job.
    #[error(transparent)]
    Ingest(#[from] crate::ingest::Error),
    /// The transform job.
    #[error(transparent)]
    Transform(#[from] crate::transform::Error),
    /// The catalog, local or Glue.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
    /// The SQL engine.
    #[error(transparent)]
    Sql(#[from] crate::sql::Error),
    /// A chart.
    #[cfg(feature = "cli")]
    #[error(transparent)]
    Chart(#[from] crate::chart::Error),
    /// DataFusion, called directly (the checks, the report).
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// A data quality check whose query failed.
    #[error("check {check}")]
    Check {
        /// The check: `table.check`.
        check: String,
        /// Why its query failed.
        source: Box<crate::sql::Error>,
    },
    /// Arguments that cannot be run as given.
    #[error("{0}")]
    Usage(String),
}

impl From<crate::source::download::DownloadError> for Error {
    fn from(e: crate::source::download::DownloadError) -> Self {
        Error::Source(e.into())
    }
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
