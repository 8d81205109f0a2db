//! One engine for every front door: the SQL session that sees the catalog's tables, the
//! catalog statements, and the execution of statements on it. It knows nothing of
//! terminals, printing or charts: the front ends ([`crate::frontend`]) sit above it.

pub mod depth;
pub mod dialect;
pub mod exec;
pub mod session;
pub mod statements;
pub mod table;

use std::fmt;

pub use exec::{Executed, Scanned, execute, execute_with};
pub use session::{Session, session, session_in, session_with};
pub use table::{LakeTable, Partitions};

/// The engine's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a statement failed: its number and the position of the error (or of the statement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub statement: usize,
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "statement {}, line {}, column {}", self.statement, self.line, self.column)
    }
}

/// What can go wrong running SQL: the engine's own errors, the catalog's and the lake's
/// (kept whole, so callers can match them), and the statements b3lake refuses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DataFusion's: a syntax error, an unknown table or column, a failed execution.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
    #[error(transparent)]
    Lake(#[from] crate::lake::Error),
    /// A statement b3lake does not run, or cannot run as written.
    #[error("{0}")]
    Usage(String),
    /// A statement of a script failed: where, and the engine's message.
    #[error("{script}: {position}: {message}")]
    Statement { script: String, position: Position, message: String },
    /// A script that cannot be split into statements, or a variable that is not set.
    #[error("{script}: {message}")]
    Script { script: String, message: String },
    #[error("Athena: {0}")]
    Athena(String),
    #[error("query cancelled")]
    Cancelled,
    #[error(transparent)]
    TooDeep(#[from] depth::TooDeep),
    #[error("{path}")]
    Io { path: String, source: std::io::Error },
}
