//! One engine for every front door: the SQL session that sees the lake's tables.

pub mod session;

pub use session::session;
