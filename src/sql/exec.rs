//! Runs statements and reports what a person at a prompt wants to know: the rows, how many,
//! how long it took, and how much of the lake it read (what Athena bills for).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use futures::StreamExt;

use super::session::Session;
use super::statements;
use super::{Error, Result};

/// A finished statement.
#[derive(Debug)]
pub struct Executed {
    /// The result's columns.
    pub schema: SchemaRef,
    /// The rows, unless they were handed out as computed.
    pub batches: Vec<RecordBatch>,
    /// Rows in the result.
    pub rows: usize,
    /// From planning to the last row.
    pub elapsed: Duration,
    /// What its scans read.
    pub scanned: Scanned,
}

/// What a query read: the files and partitions its scans opened and the bytes they read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scanned {
    /// Files opened.
    pub files: usize,
    /// Partitions they lie in.
    pub partitions: usize,
    /// Bytes read from them.
    pub bytes: u64,
}

impl Scanned {
    /// The scans of an executed plan.
    fn of(plan: &Arc<dyn ExecutionPlan>) -> Scanned {
        let mut scanned = Scanned::default();
        for_each_scan(plan, |config, bytes| {
            // A large file may be read as several byte ranges: it is still one file.
            let (mut files, mut partitions) = (HashSet::new(), HashSet::new());
            for file in config.file_groups.iter().flat_map(|g| g.files()) {
                files.insert(&file.object_meta.location);
                partitions.insert(&file.partition_values);
            }
            scanned.files += files.len();
            scanned.partitions += partitions.len();
            scanned.bytes += bytes;
        });
        scanned
    }
}

/// Calls `each` with every file scan of a plan and the bytes it read (0 before it runs).
pub(crate) fn for_each_scan(plan: &Arc<dyn ExecutionPlan>, mut each: impl FnMut(&FileScanConfig, u64)) {
    let mut stack = vec![plan.clone()];
    while let Some(node) = stack.pop() {
        if let Some(exec) = node.downcast_ref::<DataSourceExec>()
            && let Some(config) = exec.data_source().downcast_ref::<FileScanConfig>()
        {
            let bytes = node.metrics().and_then(|m| m.sum_by_name("bytes_scanned")).map_or(0, |v| v.as_usize());
            each(config, bytes as u64);
        }
        stack.extend(node.children().into_iter().cloned());
    }
}

impl fmt::Display for Scanned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "data scanned: {} ({} {}, {} {})",
            human_bytes(self.bytes),
            self.files,
            if self.files == 1 { "file" } else { "files" },
            self.partitions,
            if self.partitions == 1 { "partition" } else { "partitions" }
        )
    }
}

/// `1.23 MB`, as Athena's console shows data scanned.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.2} {}", UNITS[unit]) }
}

/// Plans and runs one statement to completion: a catalog statement on the lake's catalog,
/// anything else on DataFusion.
pub async fn execute(session: &Session, sql: &str) -> Result<Executed> {
    let mut batches = Vec::new();
    let mut done = execute_with::<Error, _>(session, sql, |b| {
        batches.push(b);
        std::future::ready(Ok(()))
    })
    .await?;
    done.batches = batches;
    Ok(done)
}

/// Runs one statement, handing its batches to `each` as they are computed instead of keeping
/// them (the `Executed` has none): how a large result is written without holding it. Every
/// query of the lake passes here, so that each sees one state of it. `each` fails with the
/// caller's error type (a front end's write to its output), which the engine's convert into.
/// Its future is awaited before the next batch, so that a front end writing to a network
/// store holds the query back without blocking its worker; it owns what it needs (a batch
/// costs a reference count), so that a query can run in a task of its own.
pub async fn execute_with<E: From<Error>, F: Future<Output = Result<(), E>>>(
    session: &Session,
    sql: &str,
    mut each: impl FnMut(RecordBatch) -> F,
) -> Result<Executed, E> {
    let started = Instant::now();
    let mut rows = 0;
    let (schema, scanned) = match statements::parse(sql) {
        Some(statement) => {
            let batches = statements::run(session, statement?).await?;
            let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| Arc::new(Schema::empty()));
            for batch in batches {
                rows += batch.num_rows();
                each(batch).await?;
            }
            (schema, Scanned::default())
        }
        None => {
            // From planning to the last row: no writer publishes in between (see
            // `lake::snapshot`), so the files read are the ones the index named.
            let snapshot = session.catalog().lake().reading().await.map_err(Error::from)?;
            let ran = async {
                if let Some((analyze, query)) = super::explain::parse(sql) {
                    let batches = super::explain::run(session, analyze, query).await?;
                    let schema = batches[0].schema();
                    for batch in batches {
                        rows += batch.num_rows();
                        each(batch).await?;
                    }
                    return Ok::<_, E>((schema, Scanned::default()));
                }
                let df = session.plan(sql).await?;
                let task = Arc::new(df.task_ctx());
                let plan = df.create_physical_plan().await.map_err(Error::from)?;
                let mut stream = execute_stream(plan.clone(), task).map_err(Error::from)?;
                while let Some(batch) = stream.next().await {
                    let batch = match batch {
                        Ok(batch) => batch,
                        Err(e) => return Err(changed_file(session, e).await.into()),
                    };
                    rows += batch.num_rows();
                    each(batch).await?;
                }
                Ok::<_, E>((plan.schema(), Scanned::of(&plan)))
            }
            .await;
            let released = snapshot.release().await;
            let ran = ran?;
            released.map_err(Error::from)?;
            ran
        }
    };
    Ok(Executed { schema, batches: Vec::new(), rows, elapsed: started.elapsed(), scanned })
}

/// A scan's error, saying what to do when it is a data file that another tool replaced or
/// removed since b3lake indexed it: the partition index (like Glue's partitions for Athena)
/// is what a query reads, and `MSCK REPAIR TABLE` makes it match the folders again.
async fn changed_file(session: &Session, error: datafusion::error::DataFusionError) -> Error {
    let text = error.to_string();
    let Some(at) = text.find("Failed to fetch metadata for file ") else { return error.into() };
    let path = text[at..].trim_start_matches("Failed to fetch metadata for file ");
    let path = path.split(':').next().unwrap_or_default();
    let lake = session.catalog().lake();
    let relative = lake.relative(&object_store::path::Path::from(path)).to_string();
    let tables = session.catalog().definitions().await.unwrap_or_default();
    let table = tables.values().find(|def| {
        def.lake_prefix().is_some_and(|prefix| !prefix.is_empty() && relative.starts_with(&format!("{prefix}/")))
    });
    match table {
        Some(def) => Error::Usage(format!(
            "{text}; the file changed or was removed after b3lake indexed table {name} (by another tool?): \
             MSCK REPAIR TABLE {name} indexes its folders again",
            name = def.name
        )),
        None => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_read_like_athena() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_234_567), "1.23 MB");
        assert_eq!(human_bytes(5_000_000_000_000), "5.00 TB");
    }
}
