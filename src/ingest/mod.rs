//! The ingest job: COTAHIST inputs to the raw table, all or nothing.
//!
//! Each input runs as a pipeline so that every core works: a thread parses text into Arrow
//! batches, a pool of threads encodes whole trading days as Parquet, and the async side
//! stages finished days in the store. Nothing reaches the table until every input has been
//! read without error (see [`crate::lake::staging`]). [`portfolio`] ingests B3's index
//! portfolios, the second dataset.

pub mod day_file;
pub mod portfolio;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Date32Type;
use chrono::NaiveDate;
use indicatif::ProgressBar;
use tracing::info;

use crate::catalog::RAW;
use crate::catalog::writes::{index_raw_days, take_for};
use crate::lake::{Lake, Scope, StagedDay, Staging, Writer};
use crate::source::cotahist::record::UNIX_EPOCH_DAYS_FROM_CE;
use crate::source::{self, Input, ReaderOptions};
use day_file::DayFile;

/// What can stop an ingest: an input, the lake, or the catalog's index of the days written.
/// Each keeps its own context (file, line and field; object path); this layer adds none.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input: a file, a record, a download.
    #[error(transparent)]
    Source(#[from] source::Error),
    /// Writing the lake.
    #[error(transparent)]
    Lake(#[from] crate::lake::Error),
    /// Indexing the days written, or syncing them with Glue.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::Error),
}

impl From<crate::source::portfolio::PortfolioError> for Error {
    fn from(e: crate::source::portfolio::PortfolioError) -> Self {
        Error::Source(e.into())
    }
}

/// What an ingest did.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    /// Inputs read (ZIP members count one each).
    pub inputs: usize,
    /// Quote records read.
    pub records: u64,
    /// Trading days written.
    pub days: Vec<NaiveDate>,
    /// Bytes read from disk (compressed for ZIPs).
    pub bytes_read: u64,
    /// Bytes of Parquet written.
    pub bytes_written: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl IngestReport {
    /// Input throughput in MB/s (10^6 bytes).
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes_read as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for IngestReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let span = day_span(&self.days);
        write!(
            f,
            "{} inputs, {} records, {} trading days{span}; read {:.1} MB, wrote {:.1} MB of Parquet in {:.2} s ({:.0} MB/s)",
            self.inputs,
            self.records,
            self.days.len(),
            self.bytes_read as f64 / 1e6,
            self.bytes_written as f64 / 1e6,
            self.elapsed.as_secs_f64(),
            self.mb_per_sec()
        )
    }
}

/// ` (first .. last)` of sorted trading days, ` (day)` for one, nothing for none.
pub(crate) fn day_span(days: &[NaiveDate]) -> String {
    match (days.first(), days.last()) {
        (Some(a), Some(b)) if a != b => format!(" ({a} .. {b})"),
        (Some(a), _) => format!(" ({a})"),
        _ => String::new(),
    }
}

/// How an ingest runs.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// How inputs are read.
    pub reader: ReaderOptions,
    /// Draw a progress bar (only shown on a terminal).
    pub progress: bool,
    /// Sync the days written to this Glue database.
    pub sync_glue: Option<String>,
}

/// Reads every input and replaces the raw table's partitions for the days they contain.
/// On any error the lake is left as it was.
pub async fn ingest(lake: &Lake, inputs: &[Input], opts: &IngestOptions) -> Result<IngestReport, Error> {
    let run =
        crate::catalog::writes::within(lake, "ingest", async |writer: &Writer| ingest_in(writer, inputs, opts).await);
    crate::telemetry::measured("ingest", run, |r: &IngestReport| {
        use crate::telemetry::Unit::{Bytes, Count};
        vec![
            ("RecordsIngested", Count, r.records as f64),
            ("DaysIngested", Count, r.days.len() as f64),
            ("BytesWritten", Bytes, r.bytes_written as f64),
        ]
    })
    .await
}

async fn ingest_in(writer: &Writer, inputs: &[Input], opts: &IngestOptions) -> Result<IngestReport, Error> {
    let lake = writer.lake();
    let started = Instant::now();
    let total: u64 = inputs.iter().map(Input::size).sum();
    let bar = crate::telemetry::progress_bar(
        opts.progress,
        total,
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
    );
    let read = Arc::new(AtomicU64::new(0));
    let mut staging = Staging::new(lake, writer.run());
    let mut report = IngestReport { inputs: inputs.len(), ..Default::default() };
    for input in inputs {
        info!(input = %input, bytes = input.size(), "reading");
        bar.set_message(input.to_string());
        match ingest_one(&mut staging, input, opts, &read, &bar).await {
            Ok(records) => report.records += records,
            Err(e) => {
                bar.abandon();
                if let Err(cleanup) = staging.abort().await {
                    tracing::error!(error = %crate::chain::Chain(&cleanup), "could not remove the staging files of the failed run");
                }
                return Err(e);
            }
        }
    }
    // Only now are the days known: the run holds them from its commit to its last index write.
    let scope = Scope::days(&[RAW], staging.days());
    let held = match take_for(writer, &scope, &[crate::catalog::ddl::builtin_table(RAW)]).await {
        Ok(held) => held,
        Err(e) => {
            bar.abandon();
            let _ = staging.abort().await;
            return Err(e.into());
        }
    };
    let committed = async {
        let committed = staging.commit().await?;
        bar.finish_and_clear();
        index_raw_days(lake, &committed.days).await?;
        (report.days, report.bytes_written) = (committed.days.clone(), committed.bytes);
        committed.finish(lake).await?;
        Ok::<_, Error>(())
    }
    .await;
    writer.settle(held, committed).await?;
    if let Some(database) = &opts.sync_glue {
        let plan = crate::catalog::sync::glue_days(lake, database, &[RAW], &report.days).await?;
        info!(database = %database, changes = plan.changes.len(), "synced the raw partitions with Glue");
    }
    report.bytes_read = read.load(Ordering::Relaxed);
    report.elapsed = started.elapsed();
    info!(records = report.records, days = report.days.len(), "ingested");
    Ok(report)
}

async fn ingest_one(
    staging: &mut Staging,
    input: &Input,
    opts: &IngestOptions,
    read: &Arc<AtomicU64>,
    bar: &ProgressBar,
) -> Result<u64, Error> {
    let (day_tx, mut day_rx) = tokio::sync::mpsc::channel::<StagedDay>(2);
    let encoder = {
        let (input, reader_opts, read) = (input.clone(), opts.reader.clone(), read.clone());
        tokio::task::spawn_blocking(move || encode(&input, &reader_opts, read, day_tx))
    };
    let mut staged = Ok(());
    while let Some(day) = day_rx.recv().await {
        bar.set_position(read.load(Ordering::Relaxed));
        if let Err(e) = staging.stage(day).await {
            staged = Err(e);
            break;
        }
    }
    // Closing the channel stops the encoder if staging failed.
    drop(day_rx);
    let records = encoder.await.expect("the encoder does not panic");
    staged?;
    bar.set_position(read.load(Ordering::Relaxed));
    records
}

/// A trading day's rows, in file order, ready to be encoded.
type DayRows = (NaiveDate, Vec<RecordBatch>);

/// Parses on one thread, cuts at day boundaries here, and encodes whole days on a pool of
/// threads (one per core): Parquet encoding is the costliest step, and days are independent.
fn encode(
    input: &Input,
    opts: &ReaderOptions,
    read: Arc<AtomicU64>,
    out: tokio::sync::mpsc::Sender<StagedDay>,
) -> Result<u64, Error> {
    let (tx, rx) = sync_channel::<RecordBatch>(2);
    let parser = {
        let (input, opts) = (input.clone(), opts.clone());
        std::thread::spawn(move || input.read_batches(&opts, read, |batch| tx.send(batch).is_ok()))
    };
    let (day_tx, day_rx) = sync_channel::<DayRows>(2);
    let day_rx = Arc::new(Mutex::new(day_rx));
    let encoders = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let workers: Vec<_> = (0..encoders)
        .map(|_| {
            let (jobs, out) = (day_rx.clone(), out.clone());
            std::thread::spawn(move || -> Result<(), Error> {
                loop {
                    let job = jobs.lock().expect("no encoder panics").recv();
                    let Ok((date, batches)) = job else { return Ok(()) };
                    let mut file = DayFile::new(date)?;
                    for batch in &batches {
                        file.write(batch)?;
                    }
                    // A closed channel means staging failed; its error is the one reported.
                    if out.blocking_send(file.finish()?).is_err() {
                        return Ok(());
                    }
                }
            })
        })
        .collect();
    drop(day_rx);

    let mut split = DaySplitter::new(input.to_string());
    let split_result = rx.iter().try_for_each(|batch| split.push(&batch, &day_tx));
    drop(rx);
    // A parse error explains an early end better than anything seen after it.
    let records = parser.join().expect("the parser does not panic");
    if records.is_ok() && split_result.is_ok() {
        split.flush(&day_tx);
    }
    drop(day_tx);
    let encoded: Result<Vec<()>, Error> =
        workers.into_iter().map(|w| w.join().expect("encoders do not panic")).collect();
    let records = records?;
    split_result?;
    encoded?;
    Ok(records)
}

/// Cuts batches at trading-date boundaries and hands each finished day to the encoders.
struct DaySplitter {
    input: String,
    current: Option<DayRows>,
    done: BTreeSet<NaiveDate>,
}

impl DaySplitter {
    fn new(input: String) -> Self {
        Self { input, current: None, done: BTreeSet::new() }
    }

    fn push(&mut self, batch: &RecordBatch, out: &SyncSender<DayRows>) -> Result<(), Error> {
        let dates = batch.column(0).as_primitive::<Date32Type>();
        debug_assert_eq!(dates.null_count(), 0);
        let values = dates.values();
        let mut start = 0;
        while start < values.len() {
            let day = values[start];
            let end = start + values[start..].iter().position(|&d| d != day).unwrap_or(values.len() - start);
            let date =
                NaiveDate::from_num_days_from_ce_opt(day + UNIX_EPOCH_DAYS_FROM_CE).expect("parsed dates are valid");
            if self.current.as_ref().is_none_or(|(d, _)| *d != date) {
                self.flush(out);
                if self.done.contains(&date) {
                    return Err(source::Error::Unsorted { input: self.input.clone(), date }.into());
                }
                self.current = Some((date, Vec::new()));
            }
            let (_, rows) = self.current.as_mut().expect("set above");
            rows.push(batch.slice(start, end - start));
            start = end;
        }
        Ok(())
    }

    fn flush(&mut self, out: &SyncSender<DayRows>) {
        if let Some(day) = self.current.take() {
            self.done.insert(day.0);
            // A closed channel means every encoder stopped; their error is the one reported.
            let _ = out.send(day);
        }
    }
}
