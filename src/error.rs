//! The crate's error: one variant per layer, each carrying its own context (file, line,
//! field, URL, object path), so a message alone tells the user what to fix.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Source(#[from] crate::source::Error),
    #[error(transparent)]
    Lake(#[from] crate::lake::Error),
    #[error(transparent)]
    Ingest(#[from] crate::ingest::Error),
    #[error(transparent)]
    Transform(#[from] crate::transform::Error),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
    #[error(transparent)]
    Sql(#[from] crate::sql::Error),
    #[error(transparent)]
    Chart(#[from] crate::chart::Error),
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// A data quality check whose query failed.
    #[error("check {check}")]
    Check { check: String, source: Box<crate::sql::Error> },
    #[error("{0}")]
    Usage(String),
}

impl From<crate::source::download::DownloadError> for Error {
    fn from(e: crate::source::download::DownloadError) -> Self {
        Error::Source(e.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
