//! Runs statements and reports what a person at a prompt wants to know: the rows, how many,
//! and how long it took.

use std::time::{Duration, Instant};

use arrow::array::RecordBatch;

use super::session::Session;
use super::statements;
use crate::error::Result;

/// A finished statement.
#[derive(Debug)]
pub struct Executed {
    pub batches: Vec<RecordBatch>,
    pub rows: usize,
    pub elapsed: Duration,
}

/// Plans and runs one statement to completion: a catalog statement on the lake's catalog,
/// anything else on DataFusion.
pub async fn execute(session: &Session, sql: &str) -> Result<Executed> {
    let started = Instant::now();
    let batches = match statements::parse(sql) {
        Some(statement) => statements::run(session, statement?).await?,
        None => session.sql(sql).await?.collect().await?,
    };
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    Ok(Executed { batches, rows, elapsed: started.elapsed() })
}
