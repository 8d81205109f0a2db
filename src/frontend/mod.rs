//! The SQL front ends, above the engine ([`crate::sql`]): the REPL, batch scripts with their
//! `${var}`s, the output formats, the shell both share (with `\chart`), and the Athena client
//! that runs the same SQL remotely.

pub mod athena;
pub mod print;
pub mod repl;
pub mod script;
pub mod shell;
