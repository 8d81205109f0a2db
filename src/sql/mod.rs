//! One engine for every front door: the SQL session that sees the catalog's tables, the
//! catalog statements, and the execution of statements on it.

pub mod exec;
pub mod session;
pub mod statements;
pub mod table;

pub use exec::{Executed, execute};
pub use session::{Session, session, session_with};
pub use table::{LakeTable, Partitions};
