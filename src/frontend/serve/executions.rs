//! Query executions as Athena keeps them: each started at once in its own task, QUEUED while
//! `max_concurrent` others run, RUNNING, then SUCCEEDED, FAILED or CANCELLED, with its
//! statistics; its record written at each change under the state folder
//! (`_history/<day>/<id>.json`), so that the history (Athena keeps 45 days) survives a
//! restart, and a query that was running when the server stopped reads as FAILED.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use chrono::{DateTime, Duration as Days, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::AbortHandle;
use tracing::{info, warn};

use super::protocol::ApiError;
use super::results::{self, Column, Format};
use super::statement::{self, Kind};
use crate::catalog::{Catalog, LocalCatalog};
use crate::lake::Lake;
use crate::sql::statements::Statement;
use crate::sql::write::Write;
use crate::sql::{Error as SqlError, Partitions};

/// How long Athena keeps a query's history.
pub const HISTORY_DAYS: i64 = 45;

/// A query's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    /// Waiting for a slot.
    Queued,
    /// Running.
    Running,
    /// Done; its results are in its file.
    Succeeded,
    /// Failed; the reason says why.
    Failed,
    /// Stopped by `StopQueryExecution`.
    Cancelled,
}

impl State {
    /// As Athena spells it (`SUCCEEDED`).
    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "QUEUED",
            State::Running => "RUNNING",
            State::Succeeded => "SUCCEEDED",
            State::Failed => "FAILED",
            State::Cancelled => "CANCELLED",
        }
    }

    /// Whether the query has ended.
    pub fn is_final(self) -> bool {
        matches!(self, State::Succeeded | State::Failed | State::Cancelled)
    }
}

/// A failed query's error, as `Status.AthenaError` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// 1: the system's, 2: the user's (the query), 3: other.
    pub category: u8,
    /// Whether trying again may succeed.
    pub retryable: bool,
}

/// Everything Athena says of a query execution, and where its results are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// `QueryExecutionId`.
    pub id: String,
    /// The query as submitted.
    pub query: String,
    /// `StatementType`.
    pub statement_type: String,
    /// `SubstatementType`.
    pub substatement_type: String,
    /// The database of unqualified names.
    pub database: String,
    /// The workgroup.
    pub workgroup: String,
    /// `ExecutionParameters`.
    pub parameters: Vec<String>,
    /// The folder the results go to (ends in `/`).
    pub output_folder: String,
    /// The state.
    pub state: State,
    /// `StateChangeReason`.
    pub reason: Option<String>,
    /// The error of a failed query.
    pub failure: Option<Failure>,
    /// Submitted, started, ended.
    pub submitted: DateTime<Utc>,
    /// When it left the queue.
    pub started: Option<DateTime<Utc>>,
    /// When it ended.
    pub completed: Option<DateTime<Utc>>,
    /// Bytes its scans read.
    pub scanned_bytes: u64,
    /// The result's columns.
    pub columns: Vec<Column>,
    /// The result file's size, once written.
    pub result_bytes: Option<u64>,
    /// Rows in the result.
    pub rows: u64,
    /// Rows an INSERT or CTAS wrote.
    pub update_count: Option<i64>,
    /// The data files a CTAS or UNLOAD wrote, listed (`DataManifestLocation`).
    #[serde(default)]
    pub manifest: Option<String>,
}

impl Record {
    /// How its result file spells rows: a query's CSV, a statement's text.
    pub fn format(&self) -> Format {
        if self.statement_type == Kind::Dml.name() && self.substatement_type == "SELECT" {
            Format::Csv
        } else {
            Format::Txt
        }
    }

    /// The result file's name in the output folder.
    pub fn result_name(&self) -> String {
        format!("{}.{}", self.id, self.format().extension())
    }

    /// Milliseconds from `from` to `to`, 0 if either is unknown.
    pub fn millis(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> i64 {
        match (from, to) {
            (Some(a), Some(b)) => (b - a).num_milliseconds().max(0),
            _ => 0,
        }
    }
}

/// A prepared statement of a workgroup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepared {
    /// Its name.
    pub name: String,
    /// The workgroup.
    pub workgroup: String,
    /// The statement, with its `?`s.
    pub query: String,
    /// `Description`.
    pub description: Option<String>,
    /// When it last changed.
    pub last_modified: DateTime<Utc>,
}

/// What a new execution asks.
pub struct Submission {
    /// The query.
    pub query: String,
    /// The database.
    pub database: String,
    /// The workgroup.
    pub workgroup: String,
    /// The output folder, if the request names one.
    pub output: Option<String>,
    /// `ExecutionParameters`.
    pub parameters: Vec<String>,
    /// `ClientRequestToken`.
    pub token: Option<String>,
}

/// The runtime queries run on, apart from the one that answers requests: a query's operators
/// keep its threads busy for as long as they compute, and a request must not wait for them.
struct EngineRuntime(Option<tokio::runtime::Runtime>);

impl EngineRuntime {
    fn new(threads: usize) -> std::io::Result<EngineRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("b3lake-engine")
            .thread_stack_size(crate::deadline::STACK)
            .enable_all()
            .build()?;
        Ok(EngineRuntime(Some(runtime)))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("dropped only at the end").handle()
    }
}

impl Drop for EngineRuntime {
    fn drop(&mut self) {
        // Dropped from async code when the server stops: without waiting for its threads.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The server's executions.
pub struct Executions {
    lake: Lake,
    engine: EngineRuntime,
    /// Where state and default results go.
    state: Lake,
    default_output: String,
    read_only: bool,
    slots: Arc<Semaphore>,
    inner: Mutex<Inner>,
    /// Stores of output folders, by URL.
    outputs: tokio::sync::Mutex<HashMap<String, Lake>>,
}

#[derive(Default)]
struct Inner {
    records: HashMap<String, Record>,
    /// Ids, oldest first.
    order: Vec<String>,
    /// `ClientRequestToken` → id.
    tokens: HashMap<String, String>,
    tasks: HashMap<String, AbortHandle>,
    prepared: BTreeMap<(String, String), Prepared>,
}

const HISTORY: &str = "_history";
const PREPARED: &str = "_prepared";

impl Executions {
    /// Executions over `lake`, keeping their state (and results unless a request names another
    /// folder) in `output`; loads the history of the last 45 days.
    pub async fn open(lake: Lake, output: &str, max_concurrent: usize, read_only: bool) -> crate::Result<Executions> {
        let default_output = format!("{}/", output.trim_end_matches('/'));
        let state = Lake::open(&default_output).await?;
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let engine = EngineRuntime::new(threads)
            .map_err(|e| crate::Error::Usage(format!("cannot start the engine's threads: {e}")))?;
        let executions = Executions {
            lake,
            engine,
            state,
            default_output,
            read_only,
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
            inner: Mutex::default(),
            outputs: tokio::sync::Mutex::default(),
        };
        executions.load().await?;
        Ok(executions)
    }

    /// The folder results go to when the request names none, as a URL.
    pub fn default_output_url(&self) -> String {
        self.state.url().to_string()
    }

    async fn load(&self) -> crate::Result<()> {
        let today = Utc::now().date_naive();
        let mut loaded = Vec::new();
        // One folder a day: the days kept are listed, the older ones never read.
        for back in 0..=HISTORY_DAYS {
            let day = today - Days::days(back);
            let folder = self.state.path(&format!("{HISTORY}/{day}"));
            for path in self.state.list_all(&folder).await? {
                let Some(bytes) = self.state.read(&path).await? else { continue };
                match serde_json::from_slice::<Record>(&bytes) {
                    Ok(record) => loaded.push(record),
                    Err(e) => warn!(file = %path, "an unreadable query record, skipped: {e}"),
                }
            }
        }
        let mut interrupted = Vec::new();
        for path in self.state.list_all(&self.state.path(PREPARED)).await? {
            if let Some(bytes) = self.state.read(&path).await?
                && let Ok(p) = serde_json::from_slice::<Prepared>(&bytes)
            {
                self.inner.lock().expect("not poisoned").prepared.insert((p.workgroup.clone(), p.name.clone()), p);
            }
        }
        loaded.sort_by_key(|r| r.submitted);
        {
            let mut inner = self.inner.lock().expect("not poisoned");
            for mut record in loaded {
                if !record.state.is_final() {
                    record.state = State::Failed;
                    record.reason = Some("the server stopped before the query finished".into());
                    record.failure = Some(Failure { category: 1, retryable: true });
                    record.completed = Some(Utc::now());
                    interrupted.push(record.clone());
                }
                inner.order.push(record.id.clone());
                inner.records.insert(record.id.clone(), record);
            }
        }
        for record in interrupted {
            self.save(&record).await;
        }
        Ok(())
    }

    /// Starts a query: answers its id at once, runs it when a slot frees.
    pub async fn start(self: &Arc<Self>, submission: Submission) -> Result<String, ApiError> {
        if let Some(token) = &submission.token
            && let Some(id) = self.inner.lock().expect("not poisoned").tokens.get(token)
        {
            return Ok(id.clone());
        }
        // EXECUTE is what the statement it runs is.
        let classified = match statement::parse_execute(&submission.query) {
            Some((name, _)) => match self.prepared(&submission.workgroup, &name) {
                Ok(prepared) => statement::classify(&prepared.query),
                Err(_) => statement::classify("SELECT"),
            },
            None => statement::classify(&submission.query),
        };
        if self.read_only && classified.writes {
            return Err(ApiError::access_denied(format!(
                "this server is read-only: {} statements are refused",
                classified.sub
            )));
        }
        let output_folder = match &submission.output {
            Some(folder) => format!("{}/", folder.trim_end_matches('/')),
            None => self.default_output.clone(),
        };
        let record = Record {
            id: uuid::Uuid::new_v4().to_string(),
            query: submission.query,
            statement_type: classified.kind.name().into(),
            substatement_type: classified.sub.into(),
            database: submission.database,
            workgroup: submission.workgroup,
            parameters: submission.parameters,
            output_folder,
            state: State::Queued,
            reason: None,
            failure: None,
            submitted: Utc::now(),
            started: None,
            completed: None,
            scanned_bytes: 0,
            columns: Vec::new(),
            result_bytes: None,
            rows: 0,
            update_count: None,
            manifest: None,
        };
        let id = record.id.clone();
        {
            let mut inner = self.inner.lock().expect("not poisoned");
            if let Some(token) = &submission.token {
                inner.tokens.insert(token.clone(), id.clone());
            }
            inner.order.push(id.clone());
            inner.records.insert(id.clone(), record.clone());
        }
        self.save(&record).await;
        let this = self.clone();
        let run_id = id.clone();
        let task = self.engine.handle().spawn(async move { this.run(run_id).await });
        let mut inner = self.inner.lock().expect("not poisoned");
        if inner.records.get(&id).is_some_and(|r| r.state.is_final()) {
            // Stopped before its handle was kept: its plan is dropped now (a finished task
            // ignores it).
            task.abort();
        } else {
            inner.tasks.insert(id.clone(), task.abort_handle());
        }
        Ok(id)
    }

    /// A query's record.
    pub fn get(&self, id: &str) -> Result<Record, ApiError> {
        let inner = self.inner.lock().expect("not poisoned");
        inner.records.get(id).cloned().ok_or_else(|| ApiError::invalid(format!("QueryExecution {id} was not found")))
    }

    /// Ids of a workgroup's queries, newest first.
    pub fn list(&self, workgroup: &str) -> Vec<String> {
        let inner = self.inner.lock().expect("not poisoned");
        inner.order.iter().rev().filter(|id| inner.records[*id].workgroup == workgroup).cloned().collect()
    }

    /// Stops a query: a queued one never runs, a running one's plan is dropped (its scans and
    /// writes stop at their next step; a write is left as the lake's crash promises say).
    pub async fn stop(&self, id: &str) -> Result<(), ApiError> {
        let record = {
            let mut inner = self.inner.lock().expect("not poisoned");
            let Some(record) = inner.records.get_mut(id) else {
                return Err(ApiError::invalid(format!("QueryExecution {id} was not found")));
            };
            if record.state.is_final() {
                return Ok(());
            }
            record.state = State::Cancelled;
            record.completed = Some(Utc::now());
            let record = record.clone();
            if let Some(task) = inner.tasks.remove(id) {
                task.abort();
            }
            record
        };
        info!(id, "query cancelled");
        self.save(&record).await;
        Ok(())
    }

    async fn run(self: Arc<Self>, id: String) {
        let _slot = self.slots.clone().acquire_owned().await.expect("the semaphore is never closed");
        let record = {
            let mut inner = self.inner.lock().expect("not poisoned");
            let Some(record) = inner.records.get_mut(&id) else { return };
            if record.state != State::Queued {
                return;
            }
            record.state = State::Running;
            record.started = Some(Utc::now());
            record.clone()
        };
        self.save(&record).await;
        let outcome = self.execute(&record).await;
        let finished = {
            let mut inner = self.inner.lock().expect("not poisoned");
            inner.tasks.remove(&id);
            let Some(current) = inner.records.get_mut(&id) else { return };
            if current.state != State::Running {
                return;
            }
            current.completed = Some(Utc::now());
            match outcome {
                Ok(done) => {
                    current.state = State::Succeeded;
                    current.scanned_bytes = done.scanned_bytes;
                    current.columns = done.columns;
                    current.result_bytes = Some(done.bytes);
                    current.rows = done.rows;
                    current.update_count = done.update_count;
                    current.manifest = done.manifest;
                }
                Err((reason, failure)) => {
                    current.state = State::Failed;
                    current.reason = Some(reason);
                    current.failure = Some(failure);
                }
            }
            current.clone()
        };
        self.save(&finished).await;
    }

    /// Runs a query to its result file.
    async fn execute(&self, record: &Record) -> Result<Done, (String, Failure)> {
        let user = |message: String| (message, Failure { category: 2, retryable: false });
        let system = |message: String| (message, Failure { category: 1, retryable: true });
        if self.prepare_in_sql(record).await.map_err(user)? {
            let output = self.output(&record.output_folder).await.map_err(|e| user(e.to_string()))?;
            output.write(&output.path(&record.result_name()), Vec::new()).await.map_err(|e| system(e.to_string()))?;
            return Ok(Done {
                bytes: 0,
                columns: Vec::new(),
                rows: 0,
                scanned_bytes: 0,
                update_count: None,
                manifest: None,
            });
        }
        let sql = self.resolve(record).map_err(user)?;
        let session = crate::sql::session_in(&self.lake, Partitions::Index, &record.database)
            .await
            .map_err(|e| system(crate::chain::chain(&e)))?;
        let output = self.output(&record.output_folder).await.map_err(|e| user(e.to_string()))?;
        let path = output.path(&record.result_name());
        let mut writer = results::Writer::new(output.store().clone(), path, record.format());
        // The engine hands its batches over a short queue to the writer, which holds it back
        // while the store is slower; a writer that fails ends the queue, and the query.
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<RecordBatch>(2);
        let run = async {
            let sent = |batch| {
                let sender = sender.clone();
                async move { sender.send(batch).await.map_err(|_| SqlError::Usage("the results writer stopped".into())) }
            };
            let executed = crate::sql::execute_with::<SqlError, _>(&session, &sql, sent).await;
            drop(sender);
            executed
        };
        let write = async {
            let mut first = None;
            while let Some(batch) = receiver.recv().await {
                writer.push(&batch).await?;
                first.get_or_insert(batch);
            }
            Ok::<_, object_store::Error>(first)
        };
        let (executed, written) = tokio::join!(run, write);
        let (executed, first) = match (executed, written) {
            (_, Err(e)) => {
                writer.abort().await;
                return Err(system(format!("writing the results: {e}")));
            }
            (Err(e), _) => {
                writer.abort().await;
                return Err(user(athena_message(&e)));
            }
            (Ok(executed), Ok(first)) => (executed, first),
        };
        writer.header(&executed.schema);
        let bytes = writer.finish().await.map_err(|e| system(format!("writing the results: {e}")))?;
        let columns = results::columns(&executed.schema);
        // CTAS and INSERT answer the rows they wrote.
        let update_count = match record.substatement_type.as_str() {
            "INSERT" | "CREATE_TABLE_AS_SELECT" => first.as_ref().and_then(|b| {
                let rows = b.column(0).as_any().downcast_ref::<arrow::array::Int64Array>()?;
                (rows.len() == 1).then(|| rows.value(0))
            }),
            _ => None,
        };
        let rows = executed.rows as u64;
        let manifest =
            self.manifest(record, &sql, &output).await.map_err(|e| system(format!("the data manifest: {e}")))?;
        Ok(Done { bytes, columns, rows, scanned_bytes: executed.scanned.bytes, update_count, manifest })
    }

    /// Lists the data files a CTAS or UNLOAD wrote, one URL a line, where Athena puts that list
    /// (`tables/<id>-manifest.csv` for a CTAS, `<id>-manifest.csv` for an UNLOAD): clients such
    /// as awswrangler read the new files from it. The target was empty before the statement
    /// (both refuse otherwise), so what is there now is what it wrote, besides this query's own
    /// result files.
    async fn manifest(&self, record: &Record, sql: &str, output: &Lake) -> crate::Result<Option<String>> {
        let (target, name) = match crate::sql::statements::parse(sql) {
            Some(Ok(Statement::Write(Write::CreateTableAs { name, .. }))) => {
                let catalog = LocalCatalog::new(&self.lake);
                let Some(def) = catalog.table(&name).await? else { return Ok(None) };
                (def.resolved_location(&catalog.lake_url()), format!("tables/{}-manifest.csv", record.id))
            }
            Some(Ok(Statement::Write(Write::Unload { location, .. }))) => {
                (location, format!("{}-manifest.csv", record.id))
            }
            _ => return Ok(None),
        };
        let written = self.output(&target).await?;
        let mut lines = String::new();
        for path in written.list_all(&written.path("")).await? {
            // A client may send the results where the data goes (awswrangler's UNLOAD does).
            if path.filename().is_some_and(|name| name.starts_with(&record.id)) {
                continue;
            }
            lines.push_str(&format!("{}{}\n", written.url(), written.relative(&path)));
        }
        let path = output.path(&name);
        output.write(&path, lines.into_bytes()).await?;
        Ok(Some(format!("{}{name}", record.output_folder)))
    }

    /// Runs `PREPARE name FROM ...` and `DEALLOCATE PREPARE name`, if the record is one.
    async fn prepare_in_sql(&self, record: &Record) -> Result<bool, String> {
        if let Some((name, query)) = statement::parse_prepare(&record.query) {
            let replace = self.prepared(&record.workgroup, &name).is_ok();
            let prepared = Prepared {
                name,
                workgroup: record.workgroup.clone(),
                query,
                description: None,
                last_modified: Utc::now(),
            };
            self.prepare(prepared, replace).await.map_err(|e| e.message)?;
            return Ok(true);
        }
        if let Some(name) = statement::parse_deallocate(&record.query) {
            self.unprepare(&record.workgroup, &name).await.map_err(|e| e.message)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The statement a record runs: `EXECUTE`'s prepared statement, and its parameters bound.
    fn resolve(&self, record: &Record) -> Result<String, String> {
        let (sql, values) = match statement::parse_execute(&record.query) {
            Some((name, using)) => {
                let prepared = self.prepared(&record.workgroup, &name).map_err(|e| e.message)?;
                let mut values = record.parameters.clone();
                values.extend(using);
                (prepared.query, values)
            }
            None => (record.query.clone(), record.parameters.clone()),
        };
        statement::bind(&sql, &values)
    }

    /// The lake of an output folder (local or `s3://`), opened once.
    async fn output(&self, folder: &str) -> crate::Result<Lake> {
        let mut outputs = self.outputs.lock().await;
        if let Some(lake) = outputs.get(folder) {
            return Ok(lake.clone());
        }
        let lake = Lake::open(folder).await?;
        outputs.insert(folder.to_string(), lake.clone());
        Ok(lake)
    }

    /// Writes a record where the next start finds it.
    async fn save(&self, record: &Record) {
        let path = self.state.path(&format!("{HISTORY}/{}/{}.json", record.submitted.date_naive(), record.id));
        let body = serde_json::to_vec(record).expect("a record serializes");
        if let Err(e) = self.state.write(&path, body).await {
            warn!(id = %record.id, "the query's record was not saved: {e}");
        }
    }

    /// Creates or replaces a prepared statement.
    pub async fn prepare(&self, prepared: Prepared, replace: bool) -> Result<(), ApiError> {
        let key = (prepared.workgroup.clone(), prepared.name.clone());
        {
            let mut inner = self.inner.lock().expect("not poisoned");
            let exists = inner.prepared.contains_key(&key);
            if exists != replace {
                return Err(if replace {
                    ApiError::not_found(format!("Prepared statement {} was not found", prepared.name))
                } else {
                    ApiError::invalid(format!("Prepared statement {} already exists", prepared.name))
                });
            }
            inner.prepared.insert(key, prepared.clone());
        }
        let path = self.state.path(&format!("{PREPARED}/{}/{}.json", prepared.workgroup, prepared.name));
        let body = serde_json::to_vec(&prepared).expect("a statement serializes");
        self.state.write(&path, body).await.map_err(|e| ApiError::internal(e.to_string()))
    }

    /// A prepared statement.
    pub fn prepared(&self, workgroup: &str, name: &str) -> Result<Prepared, ApiError> {
        let inner = self.inner.lock().expect("not poisoned");
        inner
            .prepared
            .get(&(workgroup.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("Prepared statement {name} was not found")))
    }

    /// A workgroup's prepared statements, by name.
    pub fn prepared_in(&self, workgroup: &str) -> Vec<Prepared> {
        let inner = self.inner.lock().expect("not poisoned");
        inner.prepared.values().filter(|p| p.workgroup == workgroup).cloned().collect()
    }

    /// Deletes a prepared statement.
    pub async fn unprepare(&self, workgroup: &str, name: &str) -> Result<(), ApiError> {
        let removed = self.inner.lock().expect("not poisoned").prepared.remove(&(workgroup.into(), name.into()));
        if removed.is_none() {
            return Err(ApiError::not_found(format!("Prepared statement {name} was not found")));
        }
        let path = self.state.path(&format!("{PREPARED}/{workgroup}/{name}.json"));
        self.state.remove(&path).await.map_err(|e| ApiError::internal(e.to_string()))
    }

    /// Whether statements that change the lake are refused.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The lake queries run on.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// Reads a page of a finished query's result file.
    pub async fn page(&self, record: &Record, offset: u64, max: usize) -> Result<results::Page, ApiError> {
        match record.state {
            State::Succeeded => {}
            State::Failed | State::Cancelled => {
                let reason = record.reason.clone().unwrap_or_else(|| "Query was cancelled".into());
                return Err(ApiError::invalid(format!(
                    "Query did not finish successfully. Final query state: {}: {reason}",
                    record.state.name()
                )));
            }
            State::Queued | State::Running => {
                return Err(ApiError::invalid(format!(
                    "Query has not yet finished. Current state: {}",
                    record.state.name()
                )));
            }
        }
        let size = record.result_bytes.ok_or_else(|| ApiError::internal("no result file"))?;
        let output = self.output(&record.output_folder).await.map_err(|e| ApiError::internal(e.to_string()))?;
        let path = output.path(&record.result_name());
        results::page(output.store().as_ref(), &path, record.format(), size, offset, max)
            .await
            .map_err(|e| ApiError::internal(format!("reading the results: {e}")))
    }
}

/// A query's result, once written.
struct Done {
    bytes: u64,
    columns: Vec<Column>,
    rows: u64,
    scanned_bytes: u64,
    update_count: Option<i64>,
    manifest: Option<String>,
}

/// An engine error as Athena words a failed query: its error name, then the message.
pub fn athena_message(e: &SqlError) -> String {
    let message = crate::chain::chain(e);
    let lower = message.to_ascii_lowercase();
    let name = if lower.contains("parsererror") || lower.contains("sql parser error") || lower.contains("syntax") {
        "SYNTAX_ERROR"
    } else if lower.contains("no field named") || lower.contains("column") && lower.contains("not found") {
        "COLUMN_NOT_FOUND"
    } else if (lower.contains("table") || lower.contains("view"))
        && (lower.contains("not found") || lower.contains("does not exist"))
    {
        "TABLE_NOT_FOUND"
    } else if lower.contains("divide by zero") || lower.contains("division by zero") {
        "DIVISION_BY_ZERO"
    } else {
        "GENERIC_USER_ERROR"
    };
    format!("{name}: {message}")
}
