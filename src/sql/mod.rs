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

use std::fmt;

pub use exec::{Executed, Scanned, execute, execute_with};
pub use session::{Session, session, session_in, session_with};
pub use table::{LakeTable, Partitions};

/// The engine's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a statement failed: its number and the position of the error (or of the statement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The statement, counting from 1 in its script.
    pub statement: usize,
    /// The line in the script, from 1.
    pub line: u64,
    /// The column in the line, from 1.
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
    /// The lake's catalog: a table's definition or partitions.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
    /// The lake's files, or the hold a query takes on them.
    #[error(transparent)]
    Lake(#[from] crate::lake::Error),
    /// A statement b3lake does not run, or cannot run as written.
    #[error("{0}")]
    Usage(String),
    /// A statement of a script failed: where, and the engine's message.
    #[error("{script}: {position}: {message}")]
    Statement {
        /// The script: a file, `-c #1`, `stdin`.
        script: String,
        /// Where in it.
        position: Position,
        /// The engine's message and its causes.
        message: String,
    },
    /// A script that cannot be split into statements, or a variable that is not set.
    #[error("{script}: {message}")]
    Script {
        /// The script.
        script: String,
        /// What is wrong.
        message: String,
    },
    /// Athena failed the statement, or could not be asked.
    #[error("Athena: {0}")]
    Athena(String),
    /// Ctrl-C stopped the statement.
    #[error("query cancelled")]
    Cancelled,
    /// A statement nested too deep to plan safely.
    #[error(transparent)]
    TooDeep(#[from] depth::TooDeep),
    /// A statement whose CTEs or views expand to too large a plan.
    #[error(transparent)]
    TooLarge(#[from] expansion::TooLarge),
    /// Writing results failed.
    #[error("{path}")]
    Io {
        /// Where they went.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}
