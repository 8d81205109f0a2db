//! Parquet files: the settings every file b3lake writes shares, and the finished day files
//! [`super::staging`] puts into the lake (what is in them is the writers' business).

use arrow::array::RecordBatch;
use bytes::Bytes;
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::basic::Compression;
use parquet::file::properties::{WriterProperties, WriterPropertiesBuilder};

use super::Error;

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

/// A finished day file, ready to be staged.
#[derive(Debug, Clone)]
pub struct StagedDay {
    /// The trading day.
    pub date: NaiveDate,
    /// Rows in the file.
    pub rows: usize,
    /// The Parquet file.
    pub bytes: Bytes,
}
