//! Rows into files: a query's rows split by partition (and bucket), encoded as Parquet, Hive
//! text or JSON lines, staged under names no file has, and, for tables, published into the
//! partition index. Memory is bounded by the open files, not by the rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array, new_null_array};
use arrow::compute::{CastOptions, cast_with_options, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::FormatOptions;
use bytes::Bytes;
use datafusion::physical_plan::execute_stream;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;

use crate::catalog::ddl::Column;
use crate::catalog::local::PendingIndex;
use crate::catalog::partition::{canonical, default_location};
use crate::catalog::projection::Projection;
use crate::catalog::writes::{shard_key, shard_of, take_for};
use crate::catalog::{DataFile, Partition, TableDef};
use crate::lake::layout::HIVE_DEFAULT_PARTITION;
use crate::lake::staging::Additions;
use crate::lake::{Scope, Writer};
use crate::sql::session::Session;
use crate::sql::{Error, Result};

/// Athena's limit on the partitions one statement writes.
pub(super) const MAX_PARTITIONS: usize = 100;
/// A file is closed and a new one started past this many encoded bytes, so a statement's
/// memory is bounded by its open partitions, not by its rows.
const FILE_BYTES: usize = 64 << 20;
/// Files encoded at once when a statement closes them.
const ENCODERS: usize = 8;
/// Rows a partition holds before they are encoded (so at most 100 times this is held).
const PENDING_BYTES: usize = 2 << 20;

/// Where rows go.
pub(super) struct Target {
    /// The table (its keys are the last columns of the rows); for UNLOAD a stand-in.
    pub(super) def: TableDef,
    /// The table's (or UNLOAD's) folder in the lake.
    pub(super) folder: String,
    /// Partitions that exist, where new files join the old.
    pub(super) existing: HashMap<Vec<String>, Partition>,
    pub(super) format: Format,
    /// A projected table's projection, which decides the folder of a new partition.
    pub(super) projection: Option<Projection>,
}

#[derive(Clone)]
pub(super) enum Format {
    Parquet(Compression),
    Text { gzip: bool, delimiter: String },
    Json { gzip: bool },
}

/// What a statement staged.
pub(super) struct Written {
    pub(super) additions: Additions,
    pub(super) rows: u64,
    /// Each partition's values and the files staged for it.
    pub(super) partitions: BTreeMap<Vec<String>, (String, Vec<DataFile>)>,
}

/// A file being written: its partition's values and its bucket.
type WriterKey = (Vec<String>, Option<u32>);

/// One partition's (or bucket's) open file, and the rows it has not encoded yet: a query's
/// batches fall into many partitions, and one encoder call per batch and partition would cost
/// more than the rows.
struct Open {
    folder: String,
    writer: FileWriter,
    bucket: Option<u32>,
    pending: Vec<RecordBatch>,
    pending_bytes: usize,
}

impl Open {
    fn new(folder: String, writer: FileWriter, bucket: Option<u32>) -> Self {
        Self { folder, writer, bucket, pending: Vec::new(), pending_bytes: 0 }
    }

    fn push(&mut self, batch: RecordBatch) -> Result<()> {
        self.pending_bytes += batch.get_array_memory_size();
        self.pending.push(batch);
        if self.pending_bytes >= PENDING_BYTES { self.flush() } else { Ok(()) }
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(first) = self.pending.first() {
            let batch = arrow::compute::concat_batches(&first.schema(), &self.pending)
                .map_err(|e| Error::Usage(e.to_string()))?;
            self.writer.write(&batch)?;
        }
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(())
    }

    /// The file's bytes.
    fn encode(mut self) -> Result<Bytes> {
        self.flush()?;
        self.writer.finish()
    }
}

/// Runs the query (planned holding `reading`), staging its rows partition by partition; on any
/// error nothing is left.
pub(super) async fn write_rows(
    session: &Session,
    writer: &Writer,
    reading: crate::lake::Snapshot,
    df: datafusion::prelude::DataFrame,
    target: &Target,
    id: &str,
) -> Result<Written> {
    let lake = session.catalog().lake();
    let mut additions = Additions::new(lake, writer.run());
    // `reading` holds the lake still from the query's planning on, as for any query, so that
    // writers of the days it reads publish before or after it; released before this run
    // publishes.
    let staged = stage_rows(df, target, id, &mut additions).await;
    reading.release().await?;
    match staged {
        Ok((rows, partitions)) => Ok(Written { additions, rows, partitions }),
        Err(e) => {
            let _ = additions.abort().await;
            Err(e)
        }
    }
}

async fn stage_rows(
    df: datafusion::prelude::DataFrame,
    target: &Target,
    id: &str,
    additions: &mut Additions,
) -> Result<(u64, BTreeMap<Vec<String>, (String, Vec<DataFile>)>)> {
    let def = &target.def;
    let keys = &def.partition_keys;
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let mut stream = execute_stream(plan, task)?;
    let mut open: HashMap<WriterKey, Open> = HashMap::new();
    let mut writers: std::collections::HashSet<WriterKey> = std::collections::HashSet::new();
    let mut staged: BTreeMap<Vec<String>, (String, Vec<DataFile>)> = BTreeMap::new();
    let mut rows = 0u64;
    let mut seq = 0usize;
    let data_schema: SchemaRef = Arc::new(Schema::new(
        def.columns.iter().map(|c| Field::new(&c.name, c.data_type.clone(), true)).collect::<Vec<_>>(),
    ));
    let cast_options = CastOptions { safe: false, format_options: FormatOptions::default() };
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        rows += batch.num_rows() as u64;
        let n = batch.num_columns() - keys.len();
        let data: Vec<ArrayRef> = batch.columns()[..n]
            .iter()
            .zip(data_schema.fields())
            .map(|(a, f)| {
                if a.data_type() == f.data_type() {
                    Ok(a.clone())
                } else if a.data_type() == &DataType::Null {
                    Ok(new_null_array(f.data_type(), a.len()))
                } else {
                    cast_with_options(a, f.data_type(), &cast_options)
                        .map_err(|e| Error::Usage(format!("column {}: {e}", f.name())))
                }
            })
            .collect::<Result<_>>()?;
        let data = RecordBatch::try_new(data_schema.clone(), data).map_err(|e| Error::Usage(e.to_string()))?;
        let buckets = match &def.buckets {
            Some(b) => Some(bucket_numbers(&data, b)?),
            None => None,
        };
        // Each (partition, bucket)'s rows, gathered with one take per column: the batch
        // reordered so that each group is a slice of it.
        let mut groups: Vec<(WriterKey, usize)> = Vec::new();
        let mut order: Vec<u32> = Vec::with_capacity(data.num_rows());
        for (values, indices) in group(&batch.columns()[n..], keys, batch.num_rows())? {
            // Within a partition, a file per bucket (Hive's bucket of each row).
            let mut by_bucket: BTreeMap<Option<u32>, Vec<u32>> = BTreeMap::new();
            for i in indices {
                by_bucket.entry(buckets.as_ref().map(|b| b[i as usize])).or_default().push(i);
            }
            for (bucket, indices) in by_bucket {
                groups.push(((values.clone(), bucket), indices.len()));
                order.extend(indices);
            }
        }
        let reordered = if groups.len() == 1 {
            data.clone()
        } else {
            let order = UInt32Array::from(order);
            let columns = data.columns().iter().map(|c| take(c, &order, None)).collect::<Result<Vec<_>, _>>();
            RecordBatch::try_new(data_schema.clone(), columns.map_err(|e| Error::Usage(e.to_string()))?)
                .map_err(|e| Error::Usage(e.to_string()))?
        };
        let mut offset = 0;
        for (key, len) in groups {
            let part = reordered.slice(offset, len);
            offset += len;
            let (values, bucket) = (key.0.clone(), key.1);
            if !writers.contains(&key) {
                if writers.len() >= MAX_PARTITIONS {
                    return Err(Error::Usage(format!(
                        "HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of {MAX_PARTITIONS} open writers for \
                         partitions/buckets"
                    )));
                }
                writers.insert(key.clone());
            }
            if !open.contains_key(&key) {
                let folder = match (target.existing.get(&values), &target.projection) {
                    (Some(p), _) => p.location.clone(),
                    (None, Some(projection)) => projection.folder_of(&values)?,
                    (None, None) => {
                        let inside = default_location("", keys, &values);
                        [target.folder.as_str(), inside.as_str()]
                            .iter()
                            .filter(|s| !s.is_empty())
                            .copied()
                            .collect::<Vec<_>>()
                            .join("/")
                    }
                };
                let writer = FileWriter::new(&target.format, data_schema.clone())?;
                open.insert(key.clone(), Open::new(folder, writer, bucket));
            }
            let file = open.get_mut(&key).expect("opened");
            file.push(part)?;
            // A bucket is one file (Hive's readers find a bucket by its file's name).
            if bucket.is_none() && file.writer.size() >= FILE_BYTES {
                let file = open.remove(&key).expect("open");
                seq += 1;
                let done = finish(file, id, seq, &target.format, additions).await?;
                staged.entry(values.clone()).or_insert_with(|| (done.0.clone(), vec![])).1.push(done.1);
            }
        }
    }
    tracing::debug!(rows, files = open.len(), "query done");
    // The last files are encoded in parallel (each one's footer and last pages), then staged.
    let encoded: Vec<_> = futures::stream::iter(open)
        .map(|((values, _), file)| async move {
            let (folder, bucket) = (file.folder.clone(), file.bucket);
            let bytes = tokio::task::spawn_blocking(move || file.encode())
                .await
                .unwrap_or_else(|e| Err(Error::Usage(format!("encoding a file: {e}"))));
            (values, folder, bucket, bytes)
        })
        .buffer_unordered(ENCODERS)
        .collect()
        .await;
    for (values, folder, bucket, bytes) in encoded {
        seq += 1;
        let done = stage_file(folder, bucket, bytes?, id, seq, &target.format, additions).await?;
        staged.entry(values).or_insert_with(|| (done.0.clone(), vec![])).1.push(done.1);
    }
    Ok((rows, staged))
}

async fn finish(
    file: Open,
    id: &str,
    seq: usize,
    format: &Format,
    additions: &mut Additions,
) -> Result<(String, DataFile)> {
    let (folder, bucket) = (file.folder.clone(), file.bucket);
    stage_file(folder, bucket, file.encode()?, id, seq, format, additions).await
}

/// Stages one encoded file under a name no file has.
async fn stage_file(
    folder: String,
    bucket: Option<u32>,
    bytes: Bytes,
    id: &str,
    seq: usize,
    format: &Format,
    additions: &mut Additions,
) -> Result<(String, DataFile)> {
    let extension = match format {
        Format::Parquet(_) => ".parquet",
        Format::Text { gzip: true, .. } | Format::Json { gzip: true } => ".gz",
        Format::Text { .. } => ".txt",
        Format::Json { .. } => ".json",
    };
    // A bucket's file is named as Trino names them, so Athena finds its bucket.
    let name = match bucket {
        Some(b) => format!("{id}_bucket-{b:05}{extension}"),
        None => format!("{id}_{seq:05}_{}{extension}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
    };
    let size = bytes.len() as u64;
    let relative = if folder.is_empty() { name.clone() } else { format!("{folder}/{name}") };
    additions.stage(relative, bytes).await?;
    Ok((folder, DataFile { name, size, modified: chrono::Utc::now().timestamp_millis() }))
}

/// Each row's bucket: Hive's hash (bucketing version 1) of the bucket columns, modulo the
/// count, as Athena computes it to find a bucket.
fn bucket_numbers(batch: &RecordBatch, buckets: &crate::catalog::ddl::Buckets) -> Result<Vec<u32>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Date32Type, Int8Type, Int16Type, Int32Type, Int64Type};
    let mut hashes = vec![0i32; batch.num_rows()];
    for name in &buckets.columns {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| Error::Usage(format!("bucket column {name} is not a column of the table")))?;
        let hash = |row: usize| -> Result<i32> {
            if column.is_null(row) {
                return Ok(0);
            }
            Ok(match column.data_type() {
                DataType::Boolean => column.as_boolean().value(row) as i32,
                DataType::Int8 => column.as_primitive::<Int8Type>().value(row) as i32,
                DataType::Int16 => column.as_primitive::<Int16Type>().value(row) as i32,
                DataType::Int32 => column.as_primitive::<Int32Type>().value(row),
                DataType::Date32 => column.as_primitive::<Date32Type>().value(row),
                DataType::Int64 => {
                    let v = column.as_primitive::<Int64Type>().value(row);
                    (v ^ ((v as u64) >> 32) as i64) as i32
                }
                DataType::Utf8 => hive_string_hash(column.as_string::<i32>().value(row)),
                DataType::Utf8View => hive_string_hash(column.as_string_view().value(row)),
                other => {
                    return Err(Error::Usage(format!(
                        "bucketed_by {name}: b3lake buckets by integer, date, boolean and varchar columns, not {}",
                        super::type_name(other)
                    )));
                }
            })
        };
        for (row, h) in hashes.iter_mut().enumerate() {
            *h = h.wrapping_mul(31).wrapping_add(hash(row)?);
        }
    }
    Ok(hashes.into_iter().map(|h| ((h & i32::MAX) as u32) % buckets.count).collect())
}

/// Hive's hash of a string: Java's `31 * h + b` over its UTF-8 bytes, as signed bytes.
fn hive_string_hash(s: &str) -> i32 {
    s.bytes().fold(0i32, |h, b| h.wrapping_mul(31).wrapping_add(b as i8 as i32))
}

/// Rows grouped by the canonical values of their partition keys: each distinct key is found
/// by its bytes (Arrow's row format) and spelled once.
fn group(keys: &[ArrayRef], columns: &[Column], rows: usize) -> Result<Vec<(Vec<String>, Vec<u32>)>> {
    use arrow::row::{RowConverter, SortField};
    if keys.is_empty() {
        return Ok(vec![(vec![], (0..rows as u32).collect())]);
    }
    let arrow_err = |e: arrow::error::ArrowError| Error::Usage(e.to_string());
    let converter =
        RowConverter::new(keys.iter().map(|k| SortField::new(k.data_type().clone())).collect()).map_err(arrow_err)?;
    let converted = converter.convert_columns(keys).map_err(arrow_err)?;
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    let mut groups: Vec<(usize, Vec<u32>)> = Vec::new();
    for row in 0..rows {
        let key = converted.row(row).data();
        match index.get(key) {
            Some(&g) => groups[g].1.push(row as u32),
            None => {
                index.insert(key, groups.len());
                groups.push((row, vec![row as u32]));
            }
        }
    }
    let formats: Vec<_> = keys
        .iter()
        .map(|k| arrow::util::display::ArrayFormatter::try_new(k.as_ref(), &FormatOptions::default()))
        .collect::<Result<_, _>>()
        .map_err(arrow_err)?;
    let mut out = groups
        .into_iter()
        .map(|(first, rows)| {
            let values = keys
                .iter()
                .zip(&formats)
                .zip(columns)
                .map(|((k, f), c)| {
                    if k.is_null(first) {
                        return Ok(HIVE_DEFAULT_PARTITION.to_string());
                    }
                    canonical(c, &f.value(first).to_string()).map_err(Error::Usage)
                })
                .collect::<Result<Vec<String>>>()?;
            Ok((values, rows))
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort();
    Ok(out)
}

/// Commits the staged files, then records them in the partition index. What is indexed is
/// recorded with the files, so that a statement that dies is indexed by the next writer's
/// recovery exactly as it would have been. A `writer` given takes the index shards the files
/// go to first, and the partitions they join are read again under them (another writer may
/// have added to them since `existing` was read); without one, the caller holds the lake.
pub(super) async fn publish(
    session: &Session,
    writer: Option<&Writer>,
    def: &TableDef,
    additions: Additions,
    written: &BTreeMap<Vec<String>, (String, Vec<DataFile>)>,
    existing: &HashMap<Vec<String>, Partition>,
) -> Result<()> {
    let Some(writer) = writer else { return publish_held(session, def, additions, written, existing).await };
    let catalog = session.catalog();
    let shards: BTreeSet<Vec<String>> = written.keys().map(|v| shard_of(def, v)).collect();
    let scope = Scope::Keys(shards.iter().map(|s| shard_key(def, s)).collect());
    let held = match take_for(writer, &scope, std::slice::from_ref(def)).await {
        Ok(held) => held,
        Err(e) => {
            let _ = additions.abort().await;
            return Err(e.into());
        }
    };
    let mut current = HashMap::new();
    if crate::catalog::projection::enabled(def) {
        current = existing.clone();
    } else {
        for p in crate::catalog::Catalog::partitions(catalog, def, &[]).await? {
            if shards.contains(&shard_of(def, &p.values)) {
                current.insert(p.values.clone(), p);
            }
        }
    }
    writer.settle(held, publish_held(session, def, additions, written, &current).await).await
}

async fn publish_held(
    session: &Session,
    def: &TableDef,
    additions: Additions,
    written: &BTreeMap<Vec<String>, (String, Vec<DataFile>)>,
    existing: &HashMap<Vec<String>, Partition>,
) -> Result<()> {
    let catalog = session.catalog();
    let lake = catalog.lake();
    tracing::debug!(files = additions.files().len(), bytes = additions.bytes(), "staged");
    let partitions = written
        .iter()
        .map(|(values, (location, files))| match existing.get(values) {
            Some(p) => {
                let mut p = p.clone();
                p.files.extend(files.iter().cloned());
                p.files.sort_by(|a, b| a.name.cmp(&b.name));
                p
            }
            None => Partition { values: values.clone(), location: location.clone(), files: files.clone() },
        })
        .collect();
    let pending = PendingIndex { table: def.name.clone(), partitions };
    // A table never indexed is indexed from a listing now, before the new files are in its
    // folders: afterwards that listing would already hold them.
    if !crate::catalog::projection::enabled(def) {
        catalog.ensure_indexed(def).await?;
    }
    let committed = additions.commit(Some(serde_json::to_value(&pending).expect("partitions serialize"))).await?;
    tracing::debug!("copied in");
    catalog.index_pending(&pending).await?;
    tracing::debug!("indexed");
    committed.finish(lake).await?;
    tracing::debug!("finished");
    Ok(())
}

/// An encoder of one file.
enum FileWriter {
    Parquet(Box<ArrowWriter<Vec<u8>>>),
    Text { out: Vec<u8>, gzip: bool, delimiter: String },
    Json { out: Vec<u8>, gzip: bool },
}

impl FileWriter {
    fn new(format: &Format, schema: SchemaRef) -> Result<Self> {
        Ok(match format {
            Format::Parquet(codec) => {
                let props = crate::lake::writer::base_properties().set_compression(*codec).build();
                FileWriter::Parquet(Box::new(
                    ArrowWriter::try_new(Vec::new(), schema, Some(props)).map_err(|e| Error::Usage(e.to_string()))?,
                ))
            }
            Format::Text { gzip, delimiter } => {
                FileWriter::Text { out: Vec::new(), gzip: *gzip, delimiter: delimiter.clone() }
            }
            Format::Json { gzip } => FileWriter::Json { out: Vec::new(), gzip: *gzip },
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        use crate::sql::dialect::text::{Double, value};
        match self {
            FileWriter::Parquet(w) => w.write(batch).map_err(|e| Error::Usage(e.to_string())),
            FileWriter::Text { out, delimiter, .. } => {
                // Hive's text format: fields split by the delimiter, NULL as \N.
                for row in 0..batch.num_rows() {
                    let fields: Vec<String> = batch
                        .columns()
                        .iter()
                        .map(|c| value(c.as_ref(), row, Double::Shown).unwrap_or_else(|| "\\N".into()))
                        .collect();
                    out.extend_from_slice(fields.join(delimiter.as_str()).as_bytes());
                    out.push(b'\n');
                }
                Ok(())
            }
            FileWriter::Json { out, .. } => {
                let schema = batch.schema();
                for row in 0..batch.num_rows() {
                    let mut object = serde_json::Map::new();
                    for (c, f) in batch.columns().iter().zip(schema.fields()) {
                        object.insert(f.name().clone(), json_value(c.as_ref(), row));
                    }
                    out.extend_from_slice(serde_json::Value::Object(object).to_string().as_bytes());
                    out.push(b'\n');
                }
                Ok(())
            }
        }
    }

    fn size(&self) -> usize {
        match self {
            FileWriter::Parquet(w) => w.bytes_written() + w.in_progress_size(),
            FileWriter::Text { out, .. } | FileWriter::Json { out, .. } => out.len(),
        }
    }

    fn finish(self) -> Result<Bytes> {
        let gz = |data: Vec<u8>| -> Result<Vec<u8>> {
            use std::io::Write as _;
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&data).and_then(|()| encoder.finish()).map_err(|e| Error::Usage(e.to_string()))
        };
        Ok(Bytes::from(match self {
            FileWriter::Parquet(w) => w.into_inner().map_err(|e| Error::Usage(e.to_string()))?,
            FileWriter::Text { out, gzip, .. } | FileWriter::Json { out, gzip } => {
                if gzip {
                    gz(out)?
                } else {
                    out
                }
            }
        }))
    }
}

/// A cell as JSON: numbers as numbers (decimals exactly), the rest as Athena shows them.
fn json_value(array: &dyn Array, row: usize) -> serde_json::Value {
    use crate::sql::dialect::text::{Double, value};
    let Some(text) = value(array, row, Double::Shown) else { return serde_json::Value::Null };
    let numeric = array.data_type().is_integer() || matches!(array.data_type(), DataType::Decimal128(..));
    match array.data_type() {
        DataType::Boolean => serde_json::Value::Bool(text == "true"),
        _ if numeric => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        DataType::Float32 | DataType::Float64 => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        _ => serde_json::Value::String(text),
    }
}
