//! Runs statements and reports what a person at a prompt wants to know: the rows, how many,
//! and how long it took.

use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// A finished statement.
pub struct Executed {
    pub batches: Vec<RecordBatch>,
    pub rows: usize,
    pub elapsed: Duration,
}

/// Plans and runs one statement to completion.
pub async fn execute(ctx: &SessionContext, sql: &str) -> Result<Executed> {
    let started = Instant::now();
    let batches = ctx.sql(sql).await?.collect().await?;
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    Ok(Executed { batches, rows, elapsed: started.elapsed() })
}
