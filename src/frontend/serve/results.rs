//! A query's results where Athena puts them, and paged back as `GetQueryResults` pages them.
//!
//! A query's rows go to `<OutputLocation>/<QueryExecutionId>.csv` as Athena writes them: a
//! header row, every value quoted (`"32.63"`), `""` for an empty string and nothing for NULL,
//! so that a client reading the file itself (PyAthena's `PandasCursor`, awswrangler) tells
//! the two apart. Other statements' rows (SHOW, DESCRIBE) go to `<id>.txt`, a row a line,
//! tab-separated, as Athena writes them. The file is written as the rows are computed, never
//! held whole; a page is read back from its byte offset (the `NextToken`), so paging costs
//! neither memory nor a scan from the start.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::catalog::view::trino_type;
use crate::sql::dialect::text::{self, Double};

/// How a result file spells its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A query's: quoted CSV with a header row.
    Csv,
    /// A statement's (SHOW, DESCRIBE): tab-separated, no header.
    Txt,
}

impl Format {
    /// The file's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Txt => "txt",
        }
    }
}

/// A result column as `ResultSetMetadata.ColumnInfo` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Athena's type name without its parameters (`decimal`, `varchar`, `array`).
    pub type_name: String,
    /// Digits (or characters) the type holds, as Athena reports them.
    pub precision: i64,
    /// Digits after the point.
    pub scale: i64,
}

impl Column {
    /// The column Athena reports for a result field.
    pub fn of(field: &Field) -> Column {
        // Any type a result can have has a name; `varchar` is how an odd one is read back.
        let full = trino_type(field.data_type()).unwrap_or_else(|_| "varchar".into());
        let base = full.split('(').next().unwrap_or(&full).trim().to_string();
        let (precision, scale) = match field.data_type() {
            DataType::Decimal32(p, s) | DataType::Decimal64(p, s) => (*p as i64, *s as i64),
            DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => (*p as i64, *s as i64),
            DataType::Int8 | DataType::UInt8 => (3, 0),
            DataType::Int16 | DataType::UInt16 => (5, 0),
            DataType::Int32 | DataType::UInt32 => (10, 0),
            DataType::Int64 | DataType::UInt64 => (19, 0),
            DataType::Float32 => (24, 0),
            DataType::Float64 => (53, 0),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => (2_147_483_647, 0),
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => (2_147_483_647, 0),
            DataType::Timestamp(unit, _) => (timestamp_digits(unit), 0),
            _ => (0, 0),
        };
        // A zone-less timestamp is `timestamp` whatever its precision, as Athena names it.
        let type_name = if base.starts_with("timestamp") && full.ends_with("with time zone") {
            "timestamp with time zone".to_string()
        } else {
            base
        };
        // JSON is text marked as JSON; Athena names it `json` (and clients parse it).
        if crate::sql::dialect::is_json(field) {
            return Column { name: field.name().clone(), type_name: "json".into(), precision: 0, scale: 0 };
        }
        Column { name: field.name().clone(), type_name, precision, scale }
    }

    /// As `ColumnInfo`.
    pub fn info(&self) -> Value {
        let case_sensitive = matches!(self.type_name.as_str(), "varchar" | "char" | "varbinary");
        json!({
            "CatalogName": "hive",
            "SchemaName": "",
            "TableName": "",
            "Name": self.name,
            "Label": self.name,
            "Type": self.type_name,
            "Precision": self.precision,
            "Scale": self.scale,
            "Nullable": "UNKNOWN",
            "CaseSensitive": case_sensitive,
        })
    }
}

fn timestamp_digits(unit: &arrow::datatypes::TimeUnit) -> i64 {
    use arrow::datatypes::TimeUnit;
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

/// The columns of a result.
pub fn columns(schema: &Schema) -> Vec<Column> {
    schema.fields().iter().map(|f| Column::of(f)).collect()
}

/// Bytes of rows gathered before they go to the store: the writer's memory, whatever the
/// result's size.
const CHUNK: usize = 1 << 20;

/// A result file being written.
pub struct Writer {
    out: BufWriter,
    format: Format,
    pending: Vec<u8>,
    /// Bytes written so far.
    bytes: u64,
    header: bool,
}

impl Writer {
    /// A writer of `path` in `store`.
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, format: Format) -> Writer {
        Writer { out: BufWriter::new(store, path), format, pending: Vec::new(), bytes: 0, header: false }
    }

    /// Writes the header row (a CSV's only), once, before any row.
    pub fn header(&mut self, schema: &Schema) {
        if std::mem::replace(&mut self.header, true) || self.format != Format::Csv || schema.fields().is_empty() {
            return;
        }
        let names: Vec<Option<String>> = schema.fields().iter().map(|f| Some(f.name().clone())).collect();
        self.row(&names);
    }

    /// Writes a batch's rows.
    pub async fn push(&mut self, batch: &RecordBatch) -> object_store::Result<()> {
        self.header(&batch.schema());
        let mut values = vec![None; batch.num_columns()];
        for i in 0..batch.num_rows() {
            for (value, cell) in values.iter_mut().zip(text::row(batch, i, Double::Shown)) {
                *value = cell;
            }
            self.row(&values);
            if self.pending.len() >= CHUNK {
                self.flush().await?;
            }
        }
        Ok(())
    }

    fn row(&mut self, values: &[Option<String>]) {
        let out = &mut self.pending;
        for (i, value) in values.iter().enumerate() {
            match self.format {
                Format::Csv => {
                    if i > 0 {
                        out.push(b',');
                    }
                    if let Some(v) = value {
                        out.push(b'"');
                        out.extend_from_slice(v.replace('"', "\"\"").as_bytes());
                        out.push(b'"');
                    }
                }
                Format::Txt => {
                    if i > 0 {
                        out.push(b'\t');
                    }
                    out.extend_from_slice(value.as_deref().unwrap_or("").as_bytes());
                }
            }
        }
        out.push(b'\n');
    }

    async fn flush(&mut self) -> object_store::Result<()> {
        let chunk = std::mem::take(&mut self.pending);
        self.bytes += chunk.len() as u64;
        self.out.put(Bytes::from(chunk)).await
    }

    /// Writes what is left and ends the file.
    pub async fn finish(mut self) -> object_store::Result<u64> {
        self.flush().await?;
        self.out
            .shutdown()
            .await
            .map_err(|e| object_store::Error::Generic { store: "results", source: Box::new(e) })?;
        Ok(self.bytes)
    }

    /// Gives up the file: a multipart upload begun is aborted.
    pub async fn abort(mut self) {
        let _ = self.out.abort().await;
    }
}

/// One page of a result file: its rows (`None` a NULL) and the offset of the next, if any.
pub struct Page {
    /// The rows read.
    pub rows: Vec<Vec<Option<String>>>,
    /// Where the next page starts.
    pub next: Option<u64>,
}

/// Reads up to `max_rows` rows from `offset` of a result file of `size` bytes. A row may hold
/// newlines inside quotes; the read grows until it holds the rows asked for or the file ends.
pub async fn page(
    store: &dyn ObjectStore,
    path: &Path,
    format: Format,
    size: u64,
    offset: u64,
    max_rows: usize,
) -> object_store::Result<Page> {
    let mut want: u64 = 64 * 1024;
    loop {
        let end = (offset + want).min(size);
        let bytes = if end > offset { store.get_range(path, offset..end).await? } else { Bytes::new() };
        let at_end = end == size;
        let (rows, used) = parse_rows(&bytes, format, max_rows, at_end);
        if rows.len() == max_rows || at_end {
            let next = offset + used as u64;
            return Ok(Page { rows, next: (next < size).then_some(next) });
        }
        want *= 4;
    }
}

/// Parses whole rows of `bytes` (at most `max`), with the bytes they took. The last line
/// counts only when `complete` (the file ends there), unless a newline ends it.
fn parse_rows(bytes: &[u8], format: Format, max: usize, complete: bool) -> (Vec<Vec<Option<String>>>, usize) {
    let mut rows = Vec::new();
    let mut start = 0;
    while rows.len() < max && start < bytes.len() {
        let Some((row, end)) = parse_row(&bytes[start..], format, complete) else { break };
        rows.push(row);
        start += end;
    }
    (rows, start)
}

/// One row at the start of `bytes` and the bytes it took (its newline included).
fn parse_row(bytes: &[u8], format: Format, complete: bool) -> Option<(Vec<Option<String>>, usize)> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match format {
        Format::Txt => {
            let (line, used) = match bytes.iter().position(|&b| b == b'\n') {
                Some(n) => (&bytes[..n], n + 1),
                None if complete => (bytes, bytes.len()),
                None => return None,
            };
            Some((line.split(|&b| b == b'\t').map(|v| Some(text(v))).collect(), used))
        }
        Format::Csv => {
            let mut row = Vec::new();
            let mut i = 0;
            loop {
                // One field: quoted, or empty (NULL).
                let value = if bytes.get(i) == Some(&b'"') {
                    let mut value = Vec::new();
                    i += 1;
                    loop {
                        match bytes.get(i) {
                            Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                                value.push(b'"');
                                i += 2;
                            }
                            Some(b'"') => {
                                i += 1;
                                break;
                            }
                            Some(&b) => {
                                value.push(b);
                                i += 1;
                            }
                            None => return None,
                        }
                    }
                    Some(text(&value))
                } else {
                    None
                };
                row.push(value);
                match bytes.get(i) {
                    Some(b',') => i += 1,
                    Some(b'\n') => return Some((row, i + 1)),
                    None if complete => return Some((row, i)),
                    None => return None,
                    // Not a file this writer wrote: what remains of the line is the field.
                    Some(_) => {
                        let end = bytes[i..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |n| i + n);
                        if let Some(last) = row.last_mut() {
                            *last = Some(text(&bytes[i..end]));
                        }
                        return Some((row, (end + 1).min(bytes.len())));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_nulls_empty_strings_quotes_and_newlines_apart() {
        let file = b"\"a\",\"b\"\n\"x\"\"y\",\n\"\",\"two\nlines\"\n";
        let (rows, used) = parse_rows(file, Format::Csv, 10, true);
        assert_eq!(used, file.len());
        assert_eq!(rows[0], [Some("a".into()), Some("b".into())]);
        assert_eq!(rows[1], [Some("x\"y".into()), None]);
        assert_eq!(rows[2], [Some(String::new()), Some("two\nlines".into())]);
        // A row cut by the end of a read is left for the next read.
        let (rows, used) = parse_rows(&file[..20], Format::Csv, 10, false);
        assert_eq!((rows.len(), used), (2, 16));
    }

    #[test]
    fn columns_are_named_as_athena_names_them() {
        let decimal = Column::of(&Field::new("preco", DataType::Decimal128(13, 2), true));
        assert_eq!((decimal.type_name.as_str(), decimal.precision, decimal.scale), ("decimal", 13, 2));
        let json = Column::of(&crate::sql::dialect::json_field("j"));
        assert_eq!((json.type_name.as_str(), json.precision), ("json", 0));
        let list = Column::of(&Field::new("l", DataType::new_list(DataType::Int32, true), true));
        assert_eq!(list.type_name, "array");
        let ts = Column::of(&Field::new("t", DataType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, None), true));
        assert_eq!((ts.type_name.as_str(), ts.precision), ("timestamp", 3));
    }
}
