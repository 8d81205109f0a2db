//! B3's COTAHIST historical quotes: a fixed-width, Latin-1 text format with a header record,
//! one record per instrument and session, and a trailer that counts the records.

pub mod layout;
pub mod reader;
pub mod record;

pub use layout::{QUOTE_FIELDS, raw_schema};
pub use reader::{CotahistReader, Header, ParseError, ReaderOptions};
