//! The SQL front ends, above the engine ([`crate::sql`]): the REPL, batch scripts with their
//! `${var}`s, the output formats, the shell both share (with `\chart`), and the Athena client
//! that runs the same SQL remotely; and the AWS Lambda function's handler, which starts the
//! same jobs from S3 events, schedules and backfill requests; and Athena's own API served on
//! a local port ([`serve`]), for the programs already written against Athena.

#[cfg(feature = "cli")]
pub mod athena;
pub mod error;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "cli")]
pub mod print;
#[cfg(feature = "cli")]
pub mod repl;
pub mod script;
#[cfg(feature = "cli")]
pub mod serve;
#[cfg(feature = "cli")]
pub mod shell;

pub use error::{Error, Result};
