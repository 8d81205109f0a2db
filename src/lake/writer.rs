//! Parquet files for the raw table, and the staging that makes a run all-or-nothing.
//!
//! A run writes every day it produces under `_staging/<run>/` first; only when every input
//! has been read without error does it move the files into their partitions. A failed run
//! deletes its staging and leaves the lake as it was; a crashed one leaves files only under
//! `_staging/`, where no table looks. Each partition holds exactly one file, and moving it in
//! replaces the previous one in a single step (a rename locally, a copy on S3), so re-running
//! never duplicates rows and a reader sees the old day or the new one, never a mix.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use bytes::Bytes;
use chrono::NaiveDate;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesBuilder};
use parquet::schema::types::ColumnPath;
use tracing::{debug, warn};

use super::layout::{STAGING, raw_file, raw_partition};
use super::{Error, Lake};
use crate::source::cotahist::layout::Kind;
use crate::source::cotahist::{QUOTE_FIELDS, raw_schema};

/// Rows per row group: a whole trading day (~7,500 records, 100,000 at most in a busy
/// session) fits in one, which suits scans; larger inputs are split.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// What every Parquet file b3lake writes starts from: Snappy, and b3lake named as the writer.
pub fn base_properties() -> WriterPropertiesBuilder {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(concat!("b3lake ", env!("CARGO_PKG_VERSION")).to_string())
}

/// One batch as a whole Parquet file in memory (a day's output, a portfolio).
pub fn encode_batch(batch: &RecordBatch, options: ArrowWriterOptions, what: &str) -> Result<Bytes, Error> {
    let parquet = |source| Error::Parquet { what: what.to_string(), source };
    let mut writer = ArrowWriter::try_new_with_options(Vec::new(), batch.schema(), options).map_err(parquet)?;
    writer.write(batch).map_err(parquet)?;
    Ok(Bytes::from(writer.into_inner().map_err(parquet)?))
}

/// Parquet settings of the raw table: Snappy, page statistics, and dictionaries where values
/// repeat (text, dates, codes) but not for prices, volumes and counts, which rarely repeat
/// within a day and cost more to dictionary-encode than they save.
pub fn writer_properties() -> WriterProperties {
    let mut builder = base_properties()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page);
    for field in QUOTE_FIELDS {
        let rarely_repeats = matches!(field.kind, Kind::Decimal { .. })
            || matches!(field.column, "numero_negocios" | "quantidade_papeis_negociados");
        if rarely_repeats {
            builder = builder.set_column_dictionary_enabled(ColumnPath::from(field.column), false);
        }
    }
    builder.build()
}

/// One trading day's Parquet file, built in memory (a day is a few hundred KB compressed).
pub struct DayFile {
    pub date: NaiveDate,
    writer: ArrowWriter<Vec<u8>>,
    rows: usize,
}

impl DayFile {
    pub fn new(date: NaiveDate) -> Result<Self, Error> {
        let writer = ArrowWriter::try_new(Vec::with_capacity(1 << 20), raw_schema(), Some(writer_properties()))
            .map_err(|source| Error::Parquet { what: date.to_string(), source })?;
        Ok(Self { date, writer, rows: 0 })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        self.rows += batch.num_rows();
        self.writer.write(batch).map_err(|source| Error::Parquet { what: self.date.to_string(), source })
    }

    pub fn finish(self) -> Result<StagedDay, Error> {
        let date = self.date;
        let bytes = self.writer.into_inner().map_err(|source| Error::Parquet { what: date.to_string(), source })?;
        Ok(StagedDay { date, rows: self.rows, bytes: Bytes::from(bytes) })
    }
}

/// A finished day file, ready to be staged.
#[derive(Debug, Clone)]
pub struct StagedDay {
    pub date: NaiveDate,
    pub rows: usize,
    pub bytes: Bytes,
}

/// What a staged day became.
#[derive(Debug, Clone, Copy)]
struct Staged {
    rows: usize,
    bytes: usize,
}

/// The files of one run, invisible to readers until [`Staging::commit`].
pub struct Staging {
    lake: Lake,
    run: String,
    days: BTreeMap<NaiveDate, Staged>,
}

/// What a commit put into the lake.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    pub days: Vec<NaiveDate>,
    pub rows: u64,
    pub bytes: u64,
}

impl Staging {
    pub fn new(lake: &Lake) -> Self {
        let run = format!("{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"), uuid::Uuid::new_v4().simple());
        Self { lake: lake.clone(), run, days: BTreeMap::new() }
    }

    fn staged_path(&self, date: NaiveDate) -> Path {
        self.lake.path(&format!("{STAGING}/{}/{}", self.run, raw_file(date)))
    }

    /// Stores a day under the run's staging folder. A day staged twice (the same session in
    /// two inputs) keeps the later one.
    pub async fn stage(&mut self, day: StagedDay) -> Result<(), Error> {
        let path = self.staged_path(day.date);
        if self.days.contains_key(&day.date) {
            warn!(date = %day.date, "trading day appears in more than one input; the later one wins");
        }
        let size = day.bytes.len();
        self.lake
            .store()
            .put(&path, PutPayload::from_bytes(day.bytes))
            .await
            .map_err(|source| Error::Store { path: path.to_string(), source })?;
        debug!(date = %day.date, rows = day.rows, bytes = size, "staged");
        self.days.insert(day.date, Staged { rows: day.rows, bytes: size });
        Ok(())
    }

    /// Moves every staged day into its partition, replacing what was there, then removes
    /// the staging folder.
    pub async fn commit(self) -> Result<Committed, Error> {
        let store = self.lake.store();
        let mut committed = Committed::default();
        for (&date, staged) in &self.days {
            let from = self.staged_path(date);
            let to = self.lake.path(&raw_file(date));
            store.rename(&from, &to).await.map_err(|source| Error::Store { path: to.to_string(), source })?;
            // A partition holds one file: drop any other (from an older layout or a tool).
            let partition = self.lake.path(&raw_partition(date));
            let others: Vec<Path> = store
                .list(Some(&partition))
                .map_ok(|meta| meta.location)
                .try_filter(|loc| futures::future::ready(*loc != to))
                .try_collect()
                .await
                .map_err(|source| Error::Store { path: partition.to_string(), source })?;
            for other in others {
                warn!(file = %other, "removing a stray file from the partition");
                store.delete(&other).await.map_err(|source| Error::Store { path: other.to_string(), source })?;
            }
            committed.days.push(date);
            committed.rows += staged.rows as u64;
            committed.bytes += staged.bytes as u64;
        }
        self.cleanup().await?;
        Ok(committed)
    }

    /// Deletes everything the run staged.
    pub async fn abort(self) -> Result<(), Error> {
        self.cleanup().await
    }

    async fn cleanup(&self) -> Result<(), Error> {
        let store = self.lake.store();
        let prefix = self.lake.path(&format!("{STAGING}/{}", self.run));
        let files: Vec<Path> = store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|source| Error::Store { path: prefix.to_string(), source })?;
        for file in files {
            store.delete(&file).await.map_err(|source| Error::Store { path: file.to_string(), source })?;
        }
        // Local folders outlive their files; remove the run's tree, and `_staging` if empty.
        if let Some(root) = self.lake.local_root() {
            let staging = root.join(STAGING);
            let _ = std::fs::remove_dir_all(staging.join(&self.run));
            let _ = std::fs::remove_dir(&staging);
        }
        Ok(())
    }
}
