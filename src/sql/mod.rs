//! One engine for every front door: the SQL session that sees the lake's tables, and the
//! execution of statements on it.

pub mod exec;
pub mod session;

pub use exec::{Executed, execute};
pub use session::session;
