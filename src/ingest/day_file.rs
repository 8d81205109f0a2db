//! The raw table's day files: one trading day of COTAHIST quotes as one Parquet file, built
//! in memory (a day is a few hundred KB compressed) and handed to the lake's staging.

use arrow::array::RecordBatch;
use bytes::Bytes;
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::lake::writer::base_properties;
use crate::lake::{Error, StagedDay};
use crate::source::cotahist::layout::Kind;
use crate::source::cotahist::{QUOTE_FIELDS, raw_schema};

/// Rows per row group: a whole trading day (~7,500 records, 100,000 at most in a busy
/// session) fits in one, which suits scans; larger inputs are split.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

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
    /// The trading day.
    pub date: NaiveDate,
    writer: ArrowWriter<Vec<u8>>,
    rows: usize,
}

impl DayFile {
    /// An empty file for `date`.
    pub fn new(date: NaiveDate) -> Result<Self, Error> {
        let writer = ArrowWriter::try_new(Vec::with_capacity(1 << 20), raw_schema(), Some(writer_properties()))
            .map_err(|source| Error::Parquet { what: date.to_string(), source })?;
        Ok(Self { date, writer, rows: 0 })
    }

    /// Adds records of the day.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        self.rows += batch.num_rows();
        self.writer.write(batch).map_err(|source| Error::Parquet { what: self.date.to_string(), source })
    }

    /// The finished file's bytes.
    pub fn finish(self) -> Result<StagedDay, Error> {
        let date = self.date;
        let bytes = self.writer.into_inner().map_err(|source| Error::Parquet { what: date.to_string(), source })?;
        Ok(StagedDay { date, rows: self.rows, bytes: Bytes::from(bytes) })
    }
}
