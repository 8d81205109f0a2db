//! One engine for every front door: the SQL session that sees the catalog's tables, the
//! catalog statements, and the execution of statements on it.

pub mod athena;
pub mod depth;
pub mod dialect;
pub mod exec;
pub mod print;
pub mod repl;
pub mod script;
pub mod session;
pub mod shell;
pub mod statements;
pub mod table;

pub use exec::{Executed, Scanned, execute, execute_with};
pub use session::{Session, session, session_in, session_with};
pub use table::{LakeTable, Partitions};

/// What can go wrong running SQL, besides the engine's own errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A statement of a script failed: where, and the engine's message.
    #[error("{script}: {position}: {message}")]
    Statement { script: String, position: script::Position, message: String },
    /// A script that cannot be split into statements, or a variable that is not set.
    #[error("{script}: {message}")]
    Script { script: String, message: String },
    #[error("Athena: {0}")]
    Athena(String),
    #[error("query cancelled")]
    Cancelled,
    #[error(transparent)]
    TooDeep(#[from] depth::TooDeep),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}
