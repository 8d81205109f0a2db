//! The same SQL, run by Athena on the same lake (through the Glue catalog `catalog sync`
//! fills): for the queries one machine is too small for.
//!
//! A statement is started, polled with backoff until it ends, and its rows paged in with
//! `GetQueryResults`; they come back as strings and are typed from Athena's column metadata,
//! so they print exactly like a local result. Dropping the future of a running statement (a
//! Ctrl-C) leaves it running in Athena; `execute` therefore takes an interrupt and stops the
//! query itself.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use aws_sdk_athena::Client;
use aws_sdk_athena::types::{
    ColumnInfo, QueryExecutionContext, QueryExecutionState, ResultConfiguration, StatementType,
};

use super::Error;
use crate::aws::retry;
use crate::retry::RetryConfig;
use crate::sql::exec::{Executed, Scanned};

/// Athena bills $5 per TB scanned, at least 10 MB a query.
const USD_PER_TB: f64 = 5.0;
const MIN_BILLED_BYTES: u64 = 10_000_000;

/// Where Athena runs: the workgroup, the database and where it writes results.
#[derive(Debug, Clone)]
pub struct AthenaOptions {
    /// The workgroup queries run in (its settings and limits apply).
    pub workgroup: String,
    /// The Glue database unqualified table names are looked up in.
    pub database: String,
    /// `s3://...` for result files; the workgroup's if unset.
    pub output_location: Option<String>,
    /// The first wait between polls; it grows by half after each poll, to at most `max_poll`.
    pub first_poll: Duration,
    /// The longest wait between polls.
    pub max_poll: Duration,
    /// For Athena's throttling answers.
    pub retry: RetryConfig,
}

impl Default for AthenaOptions {
    fn default() -> Self {
        AthenaOptions {
            workgroup: "primary".into(),
            database: "default".into(),
            output_location: None,
            first_poll: Duration::from_millis(100),
            max_poll: Duration::from_secs(2),
            retry: RetryConfig::default(),
        }
    }
}

/// An Athena client for a workgroup and database.
pub struct Athena {
    client: Client,
    options: AthenaOptions,
}

/// What Athena charges for a query that scanned `bytes_scanned`, in US dollars.
pub fn cost_usd(bytes_scanned: u64) -> f64 {
    bytes_scanned.max(MIN_BILLED_BYTES) as f64 / 1e12 * USD_PER_TB
}

fn athena_err(operation: &str, e: impl std::fmt::Display) -> Error {
    Error::Athena(format!("{operation}: {e}"))
}

impl Athena {
    /// A client from the standard AWS configuration (environment, profiles, `AWS_ENDPOINT_URL`).
    pub async fn connect(options: AthenaOptions) -> Athena {
        let config = aws_config::load_from_env().await;
        Athena { client: Client::new(&config), options }
    }

    /// Runs one statement; when `interrupted` completes first, stops the query in Athena and
    /// returns `Error::Cancelled`. The bytes Athena scanned are in `scanned.bytes`.
    pub async fn execute(&self, sql: &str, interrupted: impl Future<Output = ()>) -> Result<Executed, Error> {
        let started = Instant::now();
        let id = self.start(sql).await?;
        tokio::pin!(interrupted);
        let finished = tokio::select! {
            r = self.wait(&id) => r?,
            () = &mut interrupted => {
                self.stop(&id).await?;
                return Err(Error::Cancelled);
            }
        };
        let (schema, batches) = tokio::select! {
            r = self.results(&id, finished.statement_type == Some(StatementType::Dml)) => r?,
            () = &mut interrupted => return Err(Error::Cancelled),
        };
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let scanned = Scanned { files: 0, partitions: 0, bytes: finished.bytes_scanned };
        Ok(Executed { schema, batches, rows, elapsed: started.elapsed(), scanned })
    }

    async fn start(&self, sql: &str) -> Result<String, Error> {
        let o = &self.options;
        let response = retry("StartQueryExecution", &self.options.retry, || {
            let mut call = self
                .client
                .start_query_execution()
                .query_string(sql)
                .work_group(&o.workgroup)
                .query_execution_context(QueryExecutionContext::builder().database(&o.database).build());
            if let Some(output) = &o.output_location {
                call = call.result_configuration(ResultConfiguration::builder().output_location(output).build());
            }
            call.send()
        })
        .await
        .map_err(|e| athena_err("StartQueryExecution", e))?;
        response.query_execution_id.ok_or_else(|| Error::Athena("StartQueryExecution returned no id".into()))
    }

    async fn stop(&self, id: &str) -> Result<(), Error> {
        self.client
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| athena_err("StopQueryExecution", aws_sdk_athena::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    /// Polls until the query ends; its statement type and bytes scanned if it succeeded.
    async fn wait(&self, id: &str) -> Result<Finished, Error> {
        let mut pause = self.options.first_poll;
        loop {
            let response = retry("GetQueryExecution", &self.options.retry, || {
                self.client.get_query_execution().query_execution_id(id).send()
            })
            .await
            .map_err(|e| athena_err("GetQueryExecution", e))?;
            let execution = response.query_execution;
            let status = execution.as_ref().and_then(|e| e.status.as_ref());
            match status.and_then(|s| s.state.clone()) {
                Some(QueryExecutionState::Succeeded) => {
                    let execution = execution.expect("a state comes with its execution");
                    let bytes = execution.statistics.and_then(|s| s.data_scanned_in_bytes).unwrap_or(0);
                    return Ok(Finished {
                        statement_type: execution.statement_type,
                        bytes_scanned: bytes.max(0) as u64,
                    });
                }
                Some(QueryExecutionState::Failed) => {
                    let reason = status.and_then(|s| s.state_change_reason.clone());
                    let reason = reason.unwrap_or_else(|| "no reason given".into());
                    return Err(Error::Athena(reason));
                }
                Some(QueryExecutionState::Cancelled) => return Err(Error::Cancelled),
                _ => {}
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(self.options.max_poll);
        }
    }

    /// Every page of results, typed. Athena's first row of a query's results repeats the
    /// column names.
    async fn results(&self, id: &str, header_row: bool) -> Result<(Arc<Schema>, Vec<RecordBatch>), Error> {
        let mut columns: Vec<ColumnInfo> = Vec::new();
        let mut values: Vec<Vec<Option<String>>> = Vec::new();
        let mut token: Option<String> = None;
        let mut first = true;
        loop {
            let response = retry("GetQueryResults", &self.options.retry, || {
                self.client.get_query_results().query_execution_id(id).set_next_token(token.clone()).send()
            })
            .await
            .map_err(|e| athena_err("GetQueryResults", e))?;
            let Some(set) = response.result_set else { break };
            if columns.is_empty()
                && let Some(meta) = set.result_set_metadata
            {
                columns = meta.column_info.unwrap_or_default();
                values = vec![Vec::new(); columns.len()];
            }
            for (r, row) in set.rows.unwrap_or_default().into_iter().enumerate() {
                if first && r == 0 && header_row {
                    continue;
                }
                let data = row.data.unwrap_or_default();
                for (i, column) in values.iter_mut().enumerate() {
                    column.push(data.get(i).and_then(|d| d.var_char_value.clone()));
                }
            }
            first = false;
            token = response.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut fields = Vec::with_capacity(columns.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
        for (info, column) in columns.iter().zip(values) {
            let (field, array) = typed(info, column);
            fields.push(field);
            arrays.push(array);
        }
        let schema = Arc::new(Schema::new(fields));
        if arrays.first().is_none_or(|a| a.is_empty()) {
            return Ok((schema, vec![]));
        }
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| Error::Athena(e.to_string()))?;
        Ok((schema, vec![batch]))
    }
}

struct Finished {
    statement_type: Option<StatementType>,
    bytes_scanned: u64,
}

/// A column of Athena's strings as the type its metadata names; as strings if they do not
/// parse as that type.
fn typed(info: &ColumnInfo, values: Vec<Option<String>>) -> (Field, ArrayRef) {
    let name = info.name.clone();
    let text: ArrayRef = Arc::new(StringArray::from(values));
    let target = match info.r#type.to_ascii_lowercase().as_str() {
        "tinyint" => DataType::Int8,
        "smallint" => DataType::Int16,
        "integer" | "int" => DataType::Int32,
        "bigint" => DataType::Int64,
        "real" | "float" => DataType::Float32,
        "double" => DataType::Float64,
        "boolean" => DataType::Boolean,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Millisecond, None),
        "decimal" => DataType::Decimal128(info.precision.clamp(1, 38) as u8, info.scale.clamp(0, 38) as i8),
        _ => DataType::Utf8,
    };
    let strict = CastOptions { safe: false, ..Default::default() };
    match cast_with_options(&text, &target, &strict) {
        Ok(array) => (Field::new(name, target, true), array),
        Err(_) => (Field::new(name, DataType::Utf8, true), text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn athena_bills_ten_megabytes_at_least() {
        assert_eq!(cost_usd(0), 10_000_000.0 / 1e12 * 5.0);
        assert_eq!(cost_usd(2_000_000_000_000), 10.0);
    }

    #[test]
    fn results_are_typed_from_metadata() {
        let info =
            |t: &str, p: i32, s: i32| ColumnInfo::builder().name("c").r#type(t).precision(p).scale(s).build().unwrap();
        let (f, a) = typed(&info("decimal", 13, 2), vec![Some("32.63".into()), None]);
        assert_eq!(f.data_type(), &DataType::Decimal128(13, 2));
        assert_eq!(arrow::util::display::array_value_to_string(&a, 0).unwrap(), "32.63");
        let (f, _) = typed(&info("date", 0, 0), vec![Some("2022-02-04".into())]);
        assert_eq!(f.data_type(), &DataType::Date32);
        let (f, _) = typed(&info("bigint", 0, 0), vec![Some("not a number".into())]);
        assert_eq!(f.data_type(), &DataType::Utf8);
    }
}
