//! Partitions: the typed values of a table's partition keys, the folder that holds them, and
//! its files. Values are kept canonical (`2` for an int key, whatever its folder says, `02`
//! included), so that `month = 2` finds the partition that b3lake writes as `month=02`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use datafusion::physical_expr::create_physical_expr;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use super::Error;
use super::ddl::{Column, TableDef};
use crate::lake::Lake;
use crate::lake::layout::{DAY_KEYS, HIVE_DEFAULT_PARTITION, escape_partition_value};

/// Folders listed at once while walking a table.
const LIST_CONCURRENCY: usize = 64;

/// A data file of a partition: enough to read it without asking the store again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// File name inside the partition's folder.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// Last modification, milliseconds since the epoch.
    pub modified: i64,
}

/// One partition of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// One canonical value per partition key, in key order.
    pub values: Vec<String>,
    /// The folder: relative to the lake root (`refined/year=2022/month=02/day=04/symbol=PETR4`),
    /// or an absolute URL outside the lake.
    pub location: String,
    /// The partition's data files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<DataFile>,
}

/// Orders partition values as their keys do: numbers as numbers (`2` before `10`).
pub fn order(a: &[String], b: &[String]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x.parse::<i64>(), y.parse::<i64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Sorts partitions by their values, numbers as numbers.
pub fn sort(partitions: &mut [Partition]) {
    partitions.sort_by(|a, b| order(&a.values, &b.values));
}

impl Partition {
    /// `year=2022/month=2/day=4`, as `SHOW PARTITIONS` prints it.
    pub fn spec(keys: &[Column], values: &[String]) -> String {
        keys.iter()
            .zip(values)
            .map(|(k, v)| format!("{}={}", k.name, escape_partition_value(v)))
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The canonical form of a partition value read from a folder name or a statement. An
/// empty value is Hive's default partition, as NULL is: Hive, Athena and Spark write both
/// to `k=__HIVE_DEFAULT_PARTITION__` and read both back as NULL, so they are one partition.
pub fn canonical(key: &Column, raw: &str) -> Result<String, String> {
    if raw == HIVE_DEFAULT_PARTITION || raw.is_empty() {
        return Ok(HIVE_DEFAULT_PARTITION.to_string());
    }
    match key.data_type {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => raw
            .trim()
            .parse::<i64>()
            .map(|v| v.to_string())
            .map_err(|_| format!("{}: {raw:?} is not an integer", key.name)),
        _ => Ok(raw.to_string()),
    }
}

/// The canonical values of a trading day's `year`, `month` and `day` keys.
pub fn day_values(date: chrono::NaiveDate) -> Vec<String> {
    use chrono::Datelike;
    vec![date.year().to_string(), date.month().to_string(), date.day().to_string()]
}

/// The partition of a file a writer just put at `path` (lake-relative), whose leading values
/// are `leading` and whose further keys, if any, are read from the folder names after them.
pub fn written(path: &str, leading: &[String], size: u64) -> Partition {
    let (location, file) = written_file(path, size);
    let mut values = leading.to_vec();
    let extra: Vec<String> = location
        .rsplit('/')
        .take_while(|seg| !seg.starts_with("day="))
        .map(|seg| percent_decode_str(seg.split_once('=').map_or(seg, |(_, v)| v)).decode_utf8_lossy().into_owned())
        .collect();
    values.extend(extra.into_iter().rev());
    Partition { values, location, files: vec![file] }
}

/// The folder and the entry of a file a writer just put at `path` (lake-relative).
pub fn written_file(path: &str, size: u64) -> (String, DataFile) {
    let (location, name) = path.rsplit_once('/').unwrap_or(("", path));
    let file = DataFile { name: name.to_string(), size, modified: chrono::Utc::now().timestamp_millis() };
    (location.to_string(), file)
}

/// The value a Hive partition folder `key=value` holds for `key` (matched in any case, as Hive
/// does), percent-decoded; `None` for a folder of another key or no partition folder at all.
pub fn folder_value(folder: &str, key: &str) -> Option<String> {
    let (k, raw) = folder.split_once('=')?;
    k.eq_ignore_ascii_case(key).then(|| percent_decode_str(raw).decode_utf8_lossy().into_owned())
}

/// The folder Hive gives a partition that names no LOCATION: `<table>/k1=v1/k2=v2`. A table
/// partitioned by day first (integer keys `year`, `month`, `day`: b3lake's tables, and any
/// other keyed so) spells its days as b3lake's writers do, `year=2024/month=01/day=02`, so
/// that a day has one folder whoever writes it (an INSERT, ADD PARTITION, the transform):
/// otherwise a transform that replaces `day=02` leaves the rows an INSERT put in `day=2`.
pub fn default_location(table_prefix: &str, keys: &[Column], values: &[String]) -> String {
    let day_keyed = keys.len() >= DAY_KEYS.len()
        && keys.iter().zip(DAY_KEYS).all(|(k, (name, _))| k.name == name && k.data_type.is_integer());
    let spec: Vec<String> = keys
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (k, v))| {
            let width = DAY_KEYS.get(i).filter(|_| day_keyed).map(|(_, width)| *width);
            match (width, v.parse::<i64>()) {
                (Some(width), Ok(n)) if n >= 0 => format!("{}={n:0width$}", k.name),
                _ => format!("{}={}", k.name, escape_partition_value(v)),
            }
        })
        .collect();
    let spec = spec.join("/");
    if table_prefix.is_empty() { spec } else { format!("{table_prefix}/{spec}") }
}

/// The typed value of a partition key (`__HIVE_DEFAULT_PARTITION__` is NULL).
pub fn typed_value(key: &Column, value: &str) -> datafusion::error::Result<ScalarValue> {
    if value == HIVE_DEFAULT_PARTITION {
        return ScalarValue::try_from(&key.data_type);
    }
    ScalarValue::try_from_string(value.to_string(), &key.data_type)
}

/// Decides which partitions a query needs from its filters on partition keys, evaluated
/// exactly as DataFusion would evaluate them on the rows.
#[derive(Debug, Clone)]
pub struct Pruner {
    keys: Vec<Column>,
    filters: Vec<Expr>,
}

impl Pruner {
    /// Every partition.
    pub fn all(keys: &[Column]) -> Self {
        Self { keys: keys.to_vec(), filters: vec![] }
    }

    /// The filters it applies (on partition keys only).
    pub fn filters(&self) -> &[Expr] {
        &self.filters
    }

    /// The filters of `filters` that use partition keys only.
    pub fn new(keys: &[Column], filters: &[Expr]) -> Self {
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        // Conjuncts one by one, so that `year = 2022 AND month = 2` prunes years before months.
        let filters = filters
            .iter()
            .flat_map(split_conjunction)
            .filter(|f| expr_applicable_for_cols(&names, f))
            .cloned()
            .collect();
        Self { keys: keys.to_vec(), filters }
    }

    /// Partitions whose leading values are exactly `prefix`.
    pub fn prefix(keys: &[Column], prefix: &[String]) -> Self {
        let filters = keys
            .iter()
            .zip(prefix)
            .filter_map(|(k, v)| {
                Some(datafusion::prelude::col(&k.name).eq(datafusion::prelude::lit(typed_value(k, v).ok()?)))
            })
            .collect();
        Self { keys: keys.to_vec(), filters }
    }

    /// The values of the leading keys that `key = literal` filters fix, spelled as the index
    /// spells them. Only integer and text keys have one spelling per value (`1` of a double
    /// key may be the folder `k=1.0`, a timestamp has many), so a key of another type ends
    /// the prefix.
    pub fn equality_prefix(&self) -> Vec<String> {
        let conjuncts: Vec<&Expr> = self.filters.iter().flat_map(split_conjunction).collect();
        let mut prefix = Vec::new();
        for key in &self.keys {
            if !(key.data_type.is_integer() || is_text(&key.data_type)) {
                break;
            }
            let fixed = conjuncts.iter().find_map(|e| equality(e, key)).and_then(|v| v.cast_to(&key.data_type).ok());
            match fixed {
                Some(v) if !v.is_null() => prefix.push(v.to_string()),
                _ => break,
            }
        }
        prefix
    }

    /// The values `key = literal` or `key IN (literals)` filters allow `key`, if one does
    /// (the first such filter; the others still prune what it allows).
    pub fn equal_values(&self, key: &str) -> Option<Vec<ScalarValue>> {
        let key = self.keys.iter().find(|k| k.name == key)?;
        self.filters.iter().flat_map(split_conjunction).find_map(|e| equal_values(e, key))
    }

    /// Which of `candidates` (values of the first `depth` keys) the filters on those keys keep.
    pub fn keep(&self, depth: usize, candidates: &[&[String]]) -> Result<Vec<bool>, Error> {
        let names: Vec<&str> = self.keys[..depth].iter().map(|k| k.name.as_str()).collect();
        let Some(filter) = conjunction(self.filters.iter().filter(|f| expr_applicable_for_cols(&names, f)).cloned())
        else {
            return Ok(vec![true; candidates.len()]);
        };
        let err = |e: datafusion::error::DataFusionError| Error::Invalid(format!("partition filter {filter}: {e}"));
        let keys = &self.keys[..depth];
        let schema = Arc::new(Schema::new(
            keys.iter().map(|k| arrow::datatypes::Field::new(&k.name, k.data_type.clone(), true)).collect::<Vec<_>>(),
        ));
        let columns = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let text: StringArray =
                    candidates.iter().map(|c| Some(c[i].as_str()).filter(|v| *v != HIVE_DEFAULT_PARTITION)).collect();
                cast(&text, &k.data_type).map_err(|e| err(e.into()))
            })
            .collect::<Result<Vec<ArrayRef>, _>>()?;
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| err(e.into()))?;
        let df_schema = DFSchema::try_from(schema).map_err(err)?;
        let expr =
            create_physical_expr(&filter, &df_schema, &ExecutionProps::new(), &PhysicalPlanningContext::default())
                .map_err(err)?;
        let result = expr.evaluate(&batch).and_then(|v| v.into_array(batch.num_rows())).map_err(err)?;
        let result = result.as_boolean();
        Ok((0..candidates.len()).map(|i| result.is_valid(i) && result.value(i)).collect())
    }

    /// The partitions the filters keep.
    pub fn filter(&self, partitions: Vec<Partition>) -> Result<Vec<Partition>, Error> {
        Ok(self.split(partitions)?.0)
    }

    /// The partitions the filters keep, and those they drop.
    pub fn split(&self, partitions: Vec<Partition>) -> Result<(Vec<Partition>, Vec<Partition>), Error> {
        let values: Vec<&[String]> = partitions.iter().map(|p| p.values.as_slice()).collect();
        let mut keep = self.keep(self.keys.len(), &values)?.into_iter();
        Ok(partitions.into_iter().partition(|_| keep.next().unwrap_or(false)))
    }
}

/// The values `expr` allows `key`: `key = literal`, `key IN (literals)`, or an OR of them.
fn equal_values(expr: &Expr, key: &Column) -> Option<Vec<ScalarValue>> {
    match expr {
        Expr::InList(list) if !list.negated && is_key(&list.expr, key) => list.list.iter().map(literal).collect(),
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Or, right }) => {
            let mut values = equal_values(left, key)?;
            values.extend(equal_values(right, key)?);
            Some(values)
        }
        _ => equality(expr, key).map(|v| vec![v]),
    }
}

/// `key = literal`, `literal = key` or `key IN (literal)`, through casts of the key.
fn equality(expr: &Expr, key: &Column) -> Option<ScalarValue> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right }) => {
            if is_key(left, key) {
                literal(right)
            } else if is_key(right, key) {
                literal(left)
            } else {
                None
            }
        }
        Expr::InList(list) if !list.negated && list.list.len() == 1 && is_key(&list.expr, key) => {
            literal(&list.list[0])
        }
        _ => None,
    }
}

/// Whether `e` is the column `key`, or a cast of it that keeps every value apart and equal
/// to itself (an integer widened, text as text). Any other cast maps many values to one
/// (`CAST(k AS INTEGER)` of `'1'`, `'01'` and `' 1'`), so an equality on it says nothing
/// about which partition holds the rows.
fn is_key(e: &Expr, key: &Column) -> bool {
    match e.clone().unalias() {
        Expr::Column(c) => c.name == key.name,
        Expr::Cast(c) => {
            let to = c.field.data_type();
            let lossless = (key.data_type.is_integer() && to.is_integer()) || (is_text(&key.data_type) && is_text(to));
            lossless && matches!(*c.expr, Expr::Column(ref col) if col.name == key.name)
        }
        _ => false,
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn literal(e: &Expr) -> Option<ScalarValue> {
    match e {
        Expr::Literal(v, _) => Some(v.clone()),
        _ => None,
    }
}

/// The values a folder of `def` (relative to the lake, such as `refined/year=2024/month=03`)
/// stands for: one per `key=value` segment below the table's folder, as many as it has, or
/// `None` when the folder is not the table's or a segment is not its key's.
pub fn folder_values(def: &TableDef, folder: &str) -> Option<Vec<String>> {
    let prefix = def.lake_prefix()?;
    let inside = if prefix.is_empty() { folder } else { folder.strip_prefix(prefix)? };
    if !(inside.is_empty() || inside.starts_with('/') || prefix.is_empty()) {
        return None;
    }
    let segments: Vec<&str> = inside.split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() > def.partition_keys.len() {
        return None;
    }
    segments
        .iter()
        .zip(&def.partition_keys)
        .map(|(segment, key)| canonical(key, &folder_value(segment, &key.name)?).ok())
        .collect()
}

/// Finds a table's partitions by walking its `key=value` folders one level at a time,
/// listing only the folders that the filters on the keys seen so far keep, then the files
/// of each partition. Folders that do not follow the keys (`_staging`, `.hidden`, a stray
/// `notes/`) are skipped, as Athena skips them.
pub async fn discover(lake: &Lake, def: &TableDef, pruner: &Pruner) -> Result<Vec<Partition>, Error> {
    let prefix = def.lake_prefix().ok_or_else(|| outside(def))?;
    if pruner.filters.is_empty() {
        return discover_all(lake, def, prefix).await;
    }
    discover_under(lake, def, pruner, prefix.to_string(), vec![]).await
}

/// [`discover`] inside `folder`, the folder of partition values `values` (leading keys).
pub async fn discover_under(
    lake: &Lake,
    def: &TableDef,
    pruner: &Pruner,
    folder: String,
    values: Vec<String>,
) -> Result<Vec<Partition>, Error> {
    let store = lake.store().clone();
    let start = values.len();
    let mut level: Vec<(String, Vec<String>)> = vec![(folder, values)];
    for (depth, key) in def.partition_keys.iter().enumerate().skip(start) {
        let listed: Vec<Vec<(String, Vec<String>)>> = futures::stream::iter(level)
            .map(|(folder, values)| {
                let store = store.clone();
                async move {
                    let path = lake.path(&folder);
                    let listing =
                        store.list_with_delimiter(Some(&path)).await.map_err(|source| store_err(&path, source))?;
                    let mut children = Vec::new();
                    for dir in listing.common_prefixes {
                        let Some(name) = dir.filename() else { continue };
                        let Some(raw) = folder_value(name, &key.name) else { continue };
                        match canonical(key, &raw) {
                            Ok(v) => {
                                let mut values = values.clone();
                                values.push(v);
                                children.push((lake.relative(&dir).to_string(), values));
                            }
                            Err(e) => tracing::warn!(folder = %dir, "skipping a partition folder: {e}"),
                        }
                    }
                    Ok::<_, Error>(children)
                }
            })
            .buffer_unordered(LIST_CONCURRENCY)
            .try_collect()
            .await?;
        let candidates: Vec<(String, Vec<String>)> = listed.into_iter().flatten().collect();
        let values: Vec<&[String]> = candidates.iter().map(|(_, v)| v.as_slice()).collect();
        let keep = pruner.keep(depth + 1, &values)?;
        level = candidates.into_iter().zip(keep).filter_map(|(c, k)| k.then_some(c)).collect();
    }
    let mut partitions: Vec<Partition> = futures::stream::iter(level)
        .map(|(folder, values)| async move {
            let files = list_files(lake, &folder).await?;
            Ok::<_, Error>(Partition { values, location: folder, files })
        })
        .buffer_unordered(LIST_CONCURRENCY)
        .try_collect()
        .await?;
    sort(&mut partitions);
    Ok(partitions)
}

/// Every partition, from one recursive listing of the table: with nothing to prune, one pass
/// over the files (on S3, a request per thousand files) beats a listing per folder.
async fn discover_all(lake: &Lake, def: &TableDef, prefix: &str) -> Result<Vec<Partition>, Error> {
    let root = lake.path(prefix);
    let mut objects = lake.store().list(Some(&root));
    let mut found: std::collections::HashMap<String, Partition> = std::collections::HashMap::new();
    let n = def.partition_keys.len();
    while let Some(meta) = objects.try_next().await.map_err(|source| store_err(&root, source))? {
        let relative = lake.relative(&meta.location);
        let inside = relative.strip_prefix(prefix).unwrap_or(relative).trim_start_matches('/');
        let parts: Vec<&str> = inside.split('/').collect();
        if parts.len() != n + 1 || parts.iter().any(|p| p.starts_with('_') || p.starts_with('.')) {
            continue;
        }
        let values: Option<Vec<String>> = def
            .partition_keys
            .iter()
            .zip(&parts)
            .map(|(key, part)| canonical(key, &folder_value(part, &key.name)?).ok())
            .collect();
        let Some(values) = values else { continue };
        if meta.size == 0 {
            return Err(crate::lake::Error::EmptyFile { path: meta.location.to_string() }.into());
        }
        let (location, name) = relative.rsplit_once('/').unwrap_or(("", relative));
        let file =
            DataFile { name: name.to_string(), size: meta.size, modified: meta.last_modified.timestamp_millis() };
        found
            .entry(location.to_string())
            .or_insert_with(|| Partition { values, location: location.to_string(), files: vec![] })
            .files
            .push(file);
    }
    let mut partitions: Vec<Partition> = found.into_values().collect();
    for p in &mut partitions {
        p.files.sort_by(|a, b| a.name.cmp(&b.name));
    }
    sort(&mut partitions);
    Ok(partitions)
}

/// The data files directly in a folder (not `_` or `.` files). An empty data file is an
/// error, not a partition without rows; an S3 "folder" object (the folder's own key) is not
/// a file.
pub async fn list_files(lake: &Lake, folder: &str) -> Result<Vec<DataFile>, Error> {
    let path = lake.path(folder);
    let listing = lake.store().list_with_delimiter(Some(&path)).await.map_err(|source| store_err(&path, source))?;
    let mut files = Vec::new();
    for o in listing.objects {
        let Some(name) = o.location.filename().filter(|_| o.location != path) else { continue };
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        if o.size == 0 {
            return Err(crate::lake::Error::EmptyFile { path: o.location.to_string() }.into());
        }
        files.push(DataFile { name: name.to_string(), size: o.size, modified: o.last_modified.timestamp_millis() });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

pub(crate) fn outside(def: &TableDef) -> Error {
    Error::Invalid(format!(
        "table {} lies outside the lake ({}); b3lake reads tables inside the lake only",
        def.name, def.location
    ))
}

pub(crate) fn store_err(path: &object_store::path::Path, source: object_store::Error) -> Error {
    Error::Lake(crate::lake::Error::Store { path: path.to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    fn keys() -> Vec<Column> {
        vec![
            Column::new("year", DataType::Int32),
            Column::new("month", DataType::Int32),
            Column::new("symbol", DataType::Utf8),
        ]
    }

    fn v(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_are_canonical() {
        let k = keys();
        assert_eq!(canonical(&k[1], "02").unwrap(), "2");
        assert_eq!(canonical(&k[2], "02").unwrap(), "02");
        assert!(canonical(&k[0], "x").unwrap_err().contains("not an integer"));
        assert_eq!(canonical(&k[2], "").unwrap(), HIVE_DEFAULT_PARTITION);
        assert_eq!(canonical(&k[1], "").unwrap(), HIVE_DEFAULT_PARTITION);
        assert_eq!(Partition::spec(&k, &v(&["2022", "2", "A/B"])), "year=2022/month=2/symbol=A%2FB");
    }

    #[test]
    fn a_day_has_one_folder_whoever_writes_it() {
        let day = [
            Column::new("year", DataType::Int32),
            Column::new("month", DataType::Int32),
            Column::new("day", DataType::Int32),
            Column::new("symbol", DataType::Utf8),
        ];
        let values = v(&["2024", "1", "2", "PETR4"]);
        // As the layout spells a trading day for the ingest and the transform.
        let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        let expected = format!("{}/symbol=PETR4", crate::lake::layout::refined_day(date));
        assert_eq!(default_location("refined", &day, &values), expected);
        // Other keys as Hive spells them.
        assert_eq!(default_location("t", &keys(), &v(&["2022", "2", "A/B"])), "t/year=2022/month=2/symbol=A%2FB");
        assert_eq!(default_location("", &day[..2], &v(&["2024", "1"])), "year=2024/month=1");
    }

    #[test]
    fn written_files_name_their_partition() {
        let day = day_values(chrono::NaiveDate::from_ymd_opt(2022, 2, 4).unwrap());
        assert_eq!(day, v(&["2022", "2", "4"]));
        let p = written("refined/year=2022/month=02/day=04/symbol=A%2FB/part-00000.parquet", &day, 10);
        assert_eq!(p.values, v(&["2022", "2", "4", "A/B"]));
        assert_eq!(p.location, "refined/year=2022/month=02/day=04/symbol=A%2FB");
        assert_eq!((p.files[0].name.as_str(), p.files[0].size), ("part-00000.parquet", 10));
        let raw = written("raw/year=2022/month=02/day=04/cotacoes_20220204.parquet", &day, 5);
        assert_eq!((raw.values, raw.location.as_str()), (day, "raw/year=2022/month=02/day=04"));
    }

    #[test]
    fn pruner_keeps_what_the_filters_select() {
        let filters = [
            col("year").eq(lit(2022)).and(col("month").eq(lit(2))),
            col("symbol").in_list(vec![lit("A"), lit("B")], false),
        ];
        let p = Pruner::new(&keys(), &filters);
        assert_eq!(p.equality_prefix(), v(&["2022", "2"]));
        let c = [v(&["2022", "2", "A"]), v(&["2022", "3", "A"]), v(&["2022", "2", "C"]), v(&["2021", "2", "B"])];
        let refs: Vec<&[String]> = c.iter().map(|x| x.as_slice()).collect();
        assert_eq!(p.keep(3, &refs).unwrap(), [true, false, false, false]);
        // With only the year known, every 2022 candidate may still match.
        assert_eq!(p.keep(1, &refs).unwrap(), [true, true, true, false]);
        // Filters on other columns are not the pruner's.
        let mixed = Pruner::new(&keys(), &[col("preco").gt(lit(1))]);
        assert_eq!(mixed.keep(3, &refs).unwrap(), [true; 4]);
        assert_eq!(Pruner::prefix(&keys(), &v(&["2022"])).keep(1, &refs).unwrap(), [true, true, true, false]);
    }
}
