//! The portfolio ingest: one index's "carteira do dia" into `raw_ibov`, replacing that index's
//! file for that day and nothing else.
//!
//! The answer is fetched and checked whole before anything is written (see
//! [`crate::source::portfolio`]); the file is then one PUT, atomic on every store, so the
//! lake holds the previous portfolio or the new one, never a part, and re-running the same
//! day replaces the file instead of adding rows.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::NaiveDate;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use tracing::info;

use super::Error;
use crate::catalog::writes::{index_days, take_for};
use crate::catalog::{LocalCatalog, PORTFOLIO};
use crate::lake::layout::{portfolio_file, portfolio_partition};
use crate::lake::writer::{base_properties, encode_batch};
use crate::lake::{Lake, Scope, Writer};
use crate::source::portfolio::{Portfolio, PortfolioError};

/// What a portfolio ingest wrote.
#[derive(Debug, Clone)]
pub struct PortfolioReport {
    /// The index: IBOV, SMLL...
    pub index: String,
    /// The day the portfolio is for.
    pub date: NaiveDate,
    /// Members written.
    pub members: usize,
    /// Members whose text holds U+FFFD.
    pub replaced_text: usize,
    /// Lake-relative path of the file written.
    pub file: String,
    /// Bytes written.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl std::fmt::Display for PortfolioReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} portfolio of {}: {} members ({} with replaced characters) in {} ({:.1} KB) in {:.2} s",
            self.index,
            self.date,
            self.members,
            self.replaced_text,
            self.file,
            self.bytes as f64 / 1e3,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Checks that the portfolio is of `expected` (when given): B3 serves the current day's
/// portfolio only, and a portfolio filed under another day would be wrong data.
pub fn check_date(portfolio: &Portfolio, expected: Option<NaiveDate>, origin: &str) -> Result<(), PortfolioError> {
    match expected {
        Some(expected) if expected != portfolio.date => Err(PortfolioError::OtherDate {
            origin: origin.to_string(),
            index: portfolio.index.clone(),
            expected,
            got: portfolio.date,
        }),
        _ => Ok(()),
    }
}

/// Writes the portfolio to its day's partition, indexes the partition, and syncs it with Glue
/// when `sync_glue` names a database.
pub async fn ingest_portfolio(
    lake: &Lake,
    portfolio: &Portfolio,
    sync_glue: Option<&str>,
) -> Result<PortfolioReport, Error> {
    let run = crate::catalog::writes::within(lake, "ingest-ibov", async |writer: &Writer| {
        ingest_in(writer, portfolio, sync_glue).await
    });
    crate::telemetry::measured("ingest-ibov", run, |r: &PortfolioReport| {
        use crate::telemetry::Unit::{Bytes, Count};
        vec![("RecordsIngested", Count, r.members as f64), ("BytesWritten", Bytes, r.bytes as f64)]
    })
    .await
}

async fn ingest_in(writer: &Writer, portfolio: &Portfolio, sync_glue: Option<&str>) -> Result<PortfolioReport, Error> {
    let lake = writer.lake();
    let started = Instant::now();
    let file = portfolio_file(portfolio.date, &portfolio.index);
    let bytes = encode(portfolio, &file)?;
    let size = bytes.len() as u64;

    // The table first: a lake whose catalog predates the table gets it now.
    let scope = Scope::days(&[PORTFOLIO], [portfolio.date]);
    let held = take_for(writer, &scope, &[crate::catalog::ddl::builtin_table(PORTFOLIO)]).await?;
    let written = async {
        let def = LocalCatalog::new(lake).require(PORTFOLIO).await?;
        let publishing = lake.publishing().await?;
        lake.write(&lake.path(&file), bytes).await?;
        index_days(lake, &def, &[portfolio.date], portfolio_partition).await?;
        drop(publishing);
        Ok::<_, Error>(())
    }
    .await;
    writer.settle(held, written).await?;
    if let Some(database) = sync_glue {
        let plan = crate::catalog::sync::glue_days(lake, database, &[PORTFOLIO], &[portfolio.date]).await?;
        info!(database, changes = plan.changes.len(), "synced the portfolio partition with Glue");
    }
    let report = PortfolioReport {
        index: portfolio.index.clone(),
        date: portfolio.date,
        members: portfolio.members.len(),
        replaced_text: portfolio.replaced_text(),
        file,
        bytes: size,
        elapsed: started.elapsed(),
    };
    info!(index = %report.index, date = %report.date, members = report.members, file = %report.file, "portfolio ingested");
    Ok(report)
}

fn encode(portfolio: &Portfolio, what: &str) -> Result<Bytes, Error> {
    let options = ArrowWriterOptions::new().with_properties(base_properties().build());
    Ok(encode_batch(&portfolio.to_batch(), options, what)?)
}
