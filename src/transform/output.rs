//! Writing a transformed day: the refined table in one of two layouts, and the daily summary.
//!
//! A day's output replaces the previous one as a unit, in two steps: [`prepare_day`] does
//! the slow part (encoding; on local disk in the symbol layout, building the new day in the
//! run's staging folder), [`DayOutput::publish`] the quick one, which the caller runs holding
//! the lake still for queries (`lake::snapshot`) together with the index update. The folder
//! swap itself is the lake's ([`crate::lake::folders`]): in one step locally; on S3 the index
//! is pointed at the staged copy (marked so that a crash is rolled forward, see
//! `lake::staging::staged`) while the files are copied in and those of symbols that left the
//! day deleted, then pointed back at the day's folder: b3lake's readers see the old day or the
//! whole new one, and no reader ever sees a partial file or a row twice. The compact layout and
//! the summary are one file a day: one atomic write anywhere.
//!
//! In the symbol layout each day also gets its *companion*, [`DAY_COMPANION`]: the day's rows
//! in one file (the compact layout's encoding, symbol as a column) beside the symbol folders,
//! staged and published with them and named in the day's index entry. Queries that read whole
//! days read it instead of a file per ticker (see `catalog::index`). Other engines never take
//! it for table data: it lies in no partition's folder, its name starts with `_` (hidden to
//! Athena, Hive, Spark and pyarrow) and has no `.parquet` extension (for globs).

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::DataType;
use bytes::Bytes;
use chrono::NaiveDate;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::Error;
use crate::catalog::partition::{day_values, written as written_partition, written_file};
pub use crate::catalog::refined::Layout;
use crate::catalog::{DataFile, Partition};
use crate::lake::layout::{self, DAY_COMPANION, PART_FILE};
use crate::lake::{self, Lake, folders};

/// The column that partitions the refined table by ticker.
pub const SYMBOL: &str = "symbol";

/// Rows per row group and per page of the compact layout: a symbol filter reads about one
/// page of a day's ~1,200 tickers.
const COMPACT_ROW_GROUP_ROWS: usize = 256;
const COMPACT_PAGE_ROWS: usize = 32;

fn properties(layout: Layout, schema: &arrow::datatypes::Schema) -> WriterProperties {
    let builder = lake::writer::base_properties();
    match layout {
        // A file is one ticker's day, found by its folder: statistics would only add bytes.
        Layout::Symbol => builder.set_statistics_enabled(EnabledStatistics::None).set_dictionary_enabled(false).build(),
        Layout::Compact => {
            let sorting = schema
                .index_of(SYMBOL)
                .ok()
                .map(|i| vec![SortingColumn { column_idx: i as i32, descending: false, nulls_first: false }]);
            builder
                .set_statistics_enabled(EnabledStatistics::Page)
                .set_max_row_group_row_count(Some(COMPACT_ROW_GROUP_ROWS))
                .set_data_page_row_count_limit(COMPACT_PAGE_ROWS)
                .set_write_batch_size(COMPACT_PAGE_ROWS)
                .set_column_bloom_filter_enabled(ColumnPath::from(SYMBOL), true)
                .set_sorting_columns(sorting)
                .build()
        }
    }
}

fn encode(batch: &RecordBatch, props: WriterProperties, what: &str) -> Result<Bytes, Error> {
    // The embedded Arrow schema would be a third of a one-row file; Parquet's own logical
    // types (DECIMAL, DATE) already say everything readers need.
    let options = ArrowWriterOptions::new().with_properties(props).with_skip_arrow_metadata(true);
    Ok(lake::writer::encode_batch(batch, options, what)?)
}

/// A file: its path relative to the lake root, and its bytes.
type File = (String, Bytes);

/// A day's files.
type Files = Vec<File>;

/// The refined rows of one day, sorted by symbol, cut into files for `layout`, and in the
/// symbol layout the day's companion.
fn refined_files(date: NaiveDate, layout: Layout, refined: &RecordBatch) -> Result<(Files, Option<File>), Error> {
    let schema = refined.schema();
    let symbol_idx = schema.index_of(SYMBOL).map_err(|_| Error::Queries(format!("refinado has no {SYMBOL} column")))?;
    if refined.num_rows() == 0 {
        return Ok((Vec::new(), None));
    }
    let whole_day = |name: &str| {
        let path = format!("{}/{name}", layout::refined_day(date));
        let bytes = encode(refined, properties(Layout::Compact, &schema), &path)?;
        Ok::<_, Error>((path, bytes))
    };
    match layout {
        Layout::Compact => Ok((vec![whole_day(PART_FILE)?], None)),
        Layout::Symbol => {
            // The SQL may build the symbol any way (a CAST, a function, a view type): any text works.
            let symbols = match schema.field(symbol_idx).data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    arrow::compute::cast(refined.column(symbol_idx), &DataType::Utf8)
                        .map_err(|e| Error::Arrow(e.to_string()))?
                }
                other => return Err(Error::Queries(format!("refinado's {SYMBOL} column is {other}; it must be text"))),
            };
            let symbols = symbols.as_string::<i32>();
            let keep: Vec<usize> = (0..schema.fields().len()).filter(|&i| i != symbol_idx).collect();
            let data = refined.project(&keep).map_err(|e| Error::Arrow(e.to_string()))?;
            let props = properties(layout, &data.schema());
            let mut files = Vec::new();
            let mut start = 0;
            while start < symbols.len() {
                let symbol = if symbols.is_valid(start) { symbols.value(start) } else { "" };
                let mut end = start + 1;
                while end < symbols.len() && symbols.is_valid(end) && symbols.value(end) == symbol {
                    end += 1;
                }
                let path = layout::refined_symbol_file(date, symbol);
                let bytes = encode(&data.slice(start, end - start), props.clone(), &path)?;
                files.push((path, bytes));
                start = end;
            }
            Ok((files, Some(whole_day(DAY_COMPANION)?)))
        }
    }
}

/// What writing a day put into the lake.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Files written.
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
    /// The day's partitions of the refined table and of the summary, for the catalog.
    pub refined: Vec<Partition>,
    /// The summary table's partitions written.
    pub summary: Vec<Partition>,
    /// The day's companion file (the day's folder and the file), for the catalog.
    pub companion: Option<(String, DataFile)>,
}

/// A day's output with the slow part done: encoded, and on local disk in the symbol layout
/// already written to the run's staging folder. [`DayOutput::publish`] puts it in place.
pub struct DayOutput {
    date: NaiveDate,
    layout: Layout,
    run: String,
    refined: Files,
    companion: Option<File>,
    summary: Files,
}

/// Encodes one day's refined rows (sorted by symbol) and summary, and stages the files a
/// folder swap publishes. `run` names the run's staging folder.
pub async fn prepare_day(
    lake: &Lake,
    layout: Layout,
    run: &str,
    date: NaiveDate,
    refined: RecordBatch,
    summary: RecordBatch,
) -> Result<DayOutput, Error> {
    let (refined, companion, summary) = tokio::task::spawn_blocking(move || {
        let (files, companion) = refined_files(date, layout, &refined)?;
        let mut summary_files = Vec::new();
        if summary.num_rows() > 0 {
            let path = format!("{}/{PART_FILE}", layout::summary_day(date));
            let bytes = encode(&summary, properties(Layout::Symbol, &summary.schema()), &path)?;
            summary_files.push((path, bytes));
        }
        Ok::<_, Error>((files, companion, summary_files))
    })
    .await
    .map_err(|e| Error::Arrow(format!("encoding {date}: {e}")))??;
    let output = DayOutput { date, layout, run: run.to_string(), refined, companion, summary };
    if output.layout == Layout::Symbol {
        let staged: Files = output.refined.iter().chain(&output.companion).cloned().collect();
        folders::stage(lake, run, &layout::refined_day(date), staged).await?;
    }
    Ok(output)
}

impl DayOutput {
    /// On S3, the day's refined partitions as staged: a day of many files cannot be put in
    /// place at once there, so the caller points the index at the staged copy before
    /// [`DayOutput::publish`] copies it in (see `lake::staging::staged`). `None` elsewhere.
    pub fn staged_remotely(&self, lake: &Lake) -> Option<Vec<Partition>> {
        if lake.local_root().is_some() || self.layout != Layout::Symbol || self.refined.is_empty() {
            return None;
        }
        Some(partitions(self.date, &self.refined, &folders::staged(&self.run, "")))
    }

    /// Replaces what the lake held for the day with this output: a few renames or PUTs and
    /// deletions, quick enough to run while readers wait (see `lake::snapshot`).
    pub async fn publish(self, lake: &Lake) -> Result<Written, Error> {
        let all = self.refined.iter().chain(&self.companion).chain(&self.summary);
        let written = Written {
            files: all.clone().count() as u64,
            bytes: all.map(|(_, b)| b.len() as u64).sum(),
            refined: partitions(self.date, &self.refined, ""),
            summary: partitions(self.date, &self.summary, ""),
            companion: self.companion.as_ref().map(|(path, bytes)| written_file(path, bytes.len() as u64)),
        };
        let day = layout::refined_day(self.date);
        match self.layout {
            Layout::Symbol => folders::swap_in(lake, &self.run, &day, self.refined.is_empty()).await?,
            Layout::Compact => folders::replace(lake, &day, &self.refined).await?,
        }
        folders::replace(lake, &layout::summary_day(self.date), &self.summary).await?;
        Ok(written)
    }
}

/// Writes a day's index members' rows as one file (one atomic PUT), or, with `None` (the day
/// has no portfolio any more), removes the day's file. Returns the day's partitions.
pub async fn write_index_day(
    lake: &Lake,
    date: NaiveDate,
    index: Option<RecordBatch>,
) -> Result<Vec<Partition>, Error> {
    let day = layout::index_members_day(date);
    let mut files = Vec::new();
    if let Some(batch) = index.filter(|b| b.num_rows() > 0) {
        let path = format!("{day}/{PART_FILE}");
        let bytes = tokio::task::spawn_blocking({
            let path = path.clone();
            move || encode(&batch, properties(Layout::Symbol, &batch.schema()), &path)
        })
        .await
        .map_err(|e| Error::Arrow(format!("encoding {date}: {e}")))??;
        files.push((path, bytes));
    }
    folders::replace(lake, &day, &files).await?;
    Ok(partitions(date, &files, ""))
}

/// The partitions of a day's files, for the catalog, the files' paths taken under `under`
/// (`""`: where they are; `_staging/<run>/`: their staged copies).
fn partitions(date: NaiveDate, files: &Files, under: &str) -> Vec<Partition> {
    let values = day_values(date);
    files.iter().map(|(p, b)| written_partition(&format!("{under}{p}"), &values, b.len() as u64)).collect()
}

/// Removes a whole table folder (before rewriting a lake in another layout).
pub async fn remove_table(lake: &Lake, table: &str) -> Result<(), Error> {
    Ok(folders::remove(lake, table).await?)
}
