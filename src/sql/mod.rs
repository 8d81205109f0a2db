//! One engine for every front door: the SQL session that sees the catalog's tables, the
//! catalog statements, and the execution of statements on it. It knows nothing of
//! terminals, printing or charts: the front ends ([`crate::frontend`]) sit above it.

pub mod depth;
pub mod dialect;
pub mod exec;
pub mod expansion;
pub mod explain;
pub mod session;
pub mod statements;
pub mod table;
pub mod write;
pub mod yielding;

pub use exec::{Executed, Scanned, execute, execute_with};
pub use session::{Session, session, session_in, session_with};
pub use table::{LakeTable, Partitions};

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Error::DataFusion(dialect::trino_error(e))
    }
}

/// The engine's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong running SQL: the engine's own errors, the catalog's and the lake's
/// (kept whole, so callers can match them), and the statements b3lake refuses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DataFusion's: a syntax error, an unknown table or column, a failed execution (a failed
    /// cast in Trino's words).
    #[error(transparent)]
    DataFusion(datafusion::error::DataFusionError),
    /// The lake's catalog: a table's definition or partitions.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
    /// The lake's files, or the hold a query takes on them.
    #[error(transparent)]
    Lake(#[from] crate::lake::Error),
    /// A statement b3lake does not run, or cannot run as written.
    #[error("{0}")]
    Usage(String),
    /// A statement nested too deep to plan safely.
    #[error(transparent)]
    TooDeep(#[from] depth::TooDeep),
    /// A statement whose CTEs or views expand to too large a plan.
    #[error(transparent)]
    TooLarge(#[from] expansion::TooLarge),
}
