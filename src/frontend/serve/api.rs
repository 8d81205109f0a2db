//! Athena's operations over the lake: each takes the request's JSON and answers Athena's,
//! field for field as the Athena API Reference names them.

use std::sync::Arc;

use serde_json::{Value, json};

use super::executions::{Executions, Prepared, Record, Submission};
use super::protocol::{ApiError, epoch, required, string};
use crate::catalog::types::hive_type;
use crate::catalog::{Catalog, LocalCatalog};

/// Athena's longest query string, in bytes.
pub const MAX_QUERY_BYTES: usize = 262_144;
/// The one workgroup, as every account has it.
pub const WORKGROUP: &str = "primary";
/// The data catalog's name in Athena's API.
const DATA_CATALOG: &str = "AwsDataCatalog";

/// What the operations share.
pub struct Api {
    /// The queries.
    pub executions: Arc<Executions>,
    /// The database the lake's tables are in.
    pub database: String,
}

impl Api {
    /// Answers one operation.
    pub async fn call(&self, operation: &str, input: &Value) -> Result<Value, ApiError> {
        match operation {
            "StartQueryExecution" => self.start(input).await,
            "GetQueryExecution" => {
                let record = self.executions.get(required(input, "QueryExecutionId")?)?;
                Ok(json!({ "QueryExecution": execution(&record) }))
            }
            "BatchGetQueryExecution" => Ok(self.batch_get(input)),
            "GetQueryResults" => self.results(input).await,
            "GetQueryRuntimeStatistics" => {
                let record = self.executions.get(required(input, "QueryExecutionId")?)?;
                Ok(json!({ "QueryRuntimeStatistics": runtime_statistics(&record) }))
            }
            "StopQueryExecution" => {
                self.executions.stop(required(input, "QueryExecutionId")?).await?;
                Ok(json!({}))
            }
            "ListQueryExecutions" => {
                let workgroup = self.workgroup(input)?;
                let ids = self.executions.list(workgroup);
                let (page, next) = paginate(&ids, input, 50)?;
                Ok(with_token(json!({ "QueryExecutionIds": page }), next))
            }
            "GetWorkGroup" => {
                let name = required(input, "WorkGroup")?;
                self.known_workgroup(name)?;
                Ok(json!({ "WorkGroup": self.workgroup_description() }))
            }
            "ListWorkGroups" => Ok(json!({ "WorkGroups": [{
                "Name": WORKGROUP, "State": "ENABLED", "Description": "b3lake serve",
                "EngineVersion": engine_version(),
            }]})),
            "GetDataCatalog" => {
                self.known_catalog(required(input, "Name")?)?;
                Ok(
                    json!({ "DataCatalog": { "Name": DATA_CATALOG, "Type": "GLUE", "Parameters": { "catalog-id": "000000000000" } } }),
                )
            }
            "ListDataCatalogs" => {
                Ok(json!({ "DataCatalogsSummary": [{ "CatalogName": DATA_CATALOG, "Type": "GLUE" }] }))
            }
            "GetDatabase" => {
                self.known_catalog(required(input, "CatalogName")?)?;
                let name = required(input, "DatabaseName")?;
                self.known_database(name)?;
                Ok(json!({ "Database": { "Name": self.database } }))
            }
            "ListDatabases" => {
                self.known_catalog(required(input, "CatalogName")?)?;
                Ok(json!({ "DatabaseList": [{ "Name": self.database }] }))
            }
            "GetTableMetadata" => {
                let name = required(input, "TableName")?.to_ascii_lowercase();
                let tables = self.tables(input).await?;
                let table = tables.into_iter().find(|t| t["Name"] == name.as_str());
                let table = table.ok_or_else(|| {
                    ApiError::invalid(format!("Table {name} not found in database {}", self.database))
                })?;
                Ok(json!({ "TableMetadata": table }))
            }
            "ListTableMetadata" => {
                let mut tables = self.tables(input).await?;
                if let Some(expression) = string(input, "Expression") {
                    tables.retain(|t| like(expression, t["Name"].as_str().unwrap_or_default()));
                }
                let (page, next) = paginate(&tables, input, 50)?;
                Ok(with_token(json!({ "TableMetadataList": page }), next))
            }
            "CreatePreparedStatement" | "UpdatePreparedStatement" => {
                let prepared = Prepared {
                    name: required(input, "StatementName")?.to_string(),
                    workgroup: self.workgroup(input)?.to_string(),
                    query: required(input, "QueryStatement")?.to_string(),
                    description: string(input, "Description").map(str::to_string),
                    last_modified: chrono::Utc::now(),
                };
                self.executions.prepare(prepared, operation == "UpdatePreparedStatement").await?;
                Ok(json!({}))
            }
            "GetPreparedStatement" => {
                let p = self.executions.prepared(self.workgroup(input)?, required(input, "StatementName")?)?;
                let mut statement = json!({
                    "StatementName": p.name, "QueryStatement": p.query, "WorkGroupName": p.workgroup,
                    "LastModifiedTime": epoch(p.last_modified),
                });
                if let Some(description) = p.description {
                    statement["Description"] = json!(description);
                }
                Ok(json!({ "PreparedStatement": statement }))
            }
            "ListPreparedStatements" => {
                let all: Vec<Value> = self
                    .executions
                    .prepared_in(self.workgroup(input)?)
                    .into_iter()
                    .map(|p| json!({ "StatementName": p.name, "LastModifiedTime": epoch(p.last_modified) }))
                    .collect();
                let (page, next) = paginate(&all, input, 50)?;
                Ok(with_token(json!({ "PreparedStatements": page }), next))
            }
            "DeletePreparedStatement" => {
                self.executions.unprepare(self.workgroup(input)?, required(input, "StatementName")?).await?;
                Ok(json!({}))
            }
            other => Err(ApiError::unknown_operation(other)),
        }
    }

    async fn start(&self, input: &Value) -> Result<Value, ApiError> {
        let query = required(input, "QueryString")?;
        if query.len() > MAX_QUERY_BYTES {
            return Err(ApiError::invalid(format!(
                "1 validation error detected: Value at 'queryString' failed to satisfy constraint: \
                 Member must have length less than or equal to {MAX_QUERY_BYTES}"
            )));
        }
        let workgroup = self.workgroup(input)?.to_string();
        let context = input.get("QueryExecutionContext");
        if let Some(catalog) = context.and_then(|c| string(c, "Catalog")) {
            self.known_catalog(catalog)?;
        }
        let database = context.and_then(|c| string(c, "Database")).unwrap_or(&self.database);
        self.known_database(database)?;
        let output = input.get("ResultConfiguration").and_then(|c| string(c, "OutputLocation")).map(str::to_string);
        let parameters = match input.get("ExecutionParameters") {
            None => Vec::new(),
            Some(Value::Array(values)) => values
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| ApiError::invalid("ExecutionParameters are strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(ApiError::invalid("ExecutionParameters is a list of strings")),
        };
        let submission = Submission {
            query: query.to_string(),
            database: database.to_ascii_lowercase(),
            workgroup,
            output,
            parameters,
            token: string(input, "ClientRequestToken").map(str::to_string),
        };
        let id = self.executions.start(submission).await?;
        Ok(json!({ "QueryExecutionId": id }))
    }

    fn batch_get(&self, input: &Value) -> Value {
        let ids = input.get("QueryExecutionIds").and_then(Value::as_array).cloned().unwrap_or_default();
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for id in ids.iter().filter_map(Value::as_str) {
            match self.executions.get(id) {
                Ok(record) => found.push(execution(&record)),
                Err(e) => missing
                    .push(json!({ "QueryExecutionId": id, "ErrorCode": "INVALID_INPUT", "ErrorMessage": e.message })),
            }
        }
        json!({ "QueryExecutions": found, "UnprocessedQueryExecutionIds": missing })
    }

    async fn results(&self, input: &Value) -> Result<Value, ApiError> {
        let record = self.executions.get(required(input, "QueryExecutionId")?)?;
        let max = match input.get("MaxResults") {
            None => 1000,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=1000) => n as usize,
                _ => {
                    return Err(ApiError::invalid(
                        "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: \
                         Member must have value less than or equal to 1000",
                    ));
                }
            },
        };
        let offset = match string(input, "NextToken") {
            None => 0,
            Some(token) => token.parse::<u64>().map_err(|_| ApiError::invalid("NextToken is not valid"))?,
        };
        let page = self.executions.page(&record, offset, max).await?;
        let rows: Vec<Value> = page
            .rows
            .into_iter()
            .map(|row| {
                let data: Vec<Value> =
                    row.into_iter().map(|v| v.map_or_else(|| json!({}), |v| json!({ "VarCharValue": v }))).collect();
                json!({ "Data": data })
            })
            .collect();
        let columns: Vec<Value> = record.columns.iter().map(|c| c.info()).collect();
        let mut answer = json!({
            "UpdateCount": record.update_count.unwrap_or(0),
            "ResultSet": { "Rows": rows, "ResultSetMetadata": { "ColumnInfo": columns } },
        });
        if let Some(next) = page.next {
            answer["NextToken"] = json!(next.to_string());
        }
        Ok(answer)
    }

    fn workgroup<'a>(&self, input: &'a Value) -> Result<&'a str, ApiError> {
        let name = string(input, "WorkGroup").unwrap_or(WORKGROUP);
        self.known_workgroup(name)?;
        Ok(name)
    }

    fn known_workgroup(&self, name: &str) -> Result<(), ApiError> {
        if name == WORKGROUP { Ok(()) } else { Err(ApiError::invalid(format!("WorkGroup {name} is not found."))) }
    }

    fn known_catalog(&self, name: &str) -> Result<(), ApiError> {
        if name.eq_ignore_ascii_case(DATA_CATALOG) {
            Ok(())
        } else {
            Err(ApiError::invalid(format!("Catalog {name} was not found")))
        }
    }

    /// Whether `name` is the lake's database.
    pub fn known_database(&self, name: &str) -> Result<(), ApiError> {
        if name.eq_ignore_ascii_case(&self.database) {
            Ok(())
        } else {
            Err(ApiError::not_found(format!("Database {name} not found.")))
        }
    }

    fn workgroup_description(&self) -> Value {
        json!({
            "Name": WORKGROUP,
            "State": "ENABLED",
            "Description": "b3lake serve",
            "Configuration": {
                "ResultConfiguration": { "OutputLocation": self.executions.default_output_url() },
                "EnforceWorkGroupConfiguration": false,
                "PublishCloudWatchMetricsEnabled": false,
                "RequesterPaysEnabled": false,
                "EngineVersion": engine_version(),
            },
        })
    }

    /// The tables and views of the catalog and database `input` names.
    async fn tables(&self, input: &Value) -> Result<Vec<Value>, ApiError> {
        self.known_catalog(required(input, "CatalogName")?)?;
        self.known_database(required(input, "DatabaseName")?)?;
        self.table_metadata().await
    }

    /// The lake's tables and views as `TableMetadata`, by name.
    pub async fn table_metadata(&self) -> Result<Vec<Value>, ApiError> {
        let catalog = LocalCatalog::new(self.executions.lake());
        let internal = |e: crate::catalog::Error| ApiError::internal(e.to_string());
        let mut tables = Vec::new();
        for def in catalog.definitions().await.map_err(internal)?.into_values() {
            let column = |c: &crate::catalog::Column| {
                let mut column = json!({ "Name": c.name, "Type": hive_type(&c.data_type).unwrap_or_else(|e| e) });
                if let Some(comment) = &c.comment {
                    column["Comment"] = json!(comment);
                }
                column
            };
            let mut parameters: serde_json::Map<String, Value> =
                def.properties.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            parameters.insert("location".into(), json!(def.resolved_location(&catalog.lake_url())));
            tables.push(json!({
                "Name": def.name,
                "TableType": "EXTERNAL_TABLE",
                "Columns": def.columns.iter().map(column).collect::<Vec<_>>(),
                "PartitionKeys": def.partition_keys.iter().map(column).collect::<Vec<_>>(),
                "Parameters": parameters,
            }));
        }
        for (name, view) in catalog.views().await.map_err(internal)? {
            let columns: Vec<Value> =
                view.hive_columns().into_iter().map(|(n, t)| json!({ "Name": n, "Type": t })).collect();
            tables.push(json!({
                "Name": name,
                "TableType": "VIRTUAL_VIEW",
                "Columns": columns,
                "PartitionKeys": [],
                "Parameters": { "presto_view": "true", "comment": "Presto View" },
            }));
        }
        tables.sort_by(|a, b| a["Name"].as_str().cmp(&b["Name"].as_str()));
        Ok(tables)
    }
}

fn engine_version() -> Value {
    json!({ "SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3" })
}

/// `QueryExecution`.
fn execution(r: &Record) -> Value {
    let mut status = json!({ "State": r.state.name(), "SubmissionDateTime": epoch(r.submitted) });
    if let Some(completed) = r.completed {
        status["CompletionDateTime"] = epoch(completed);
    }
    if let Some(reason) = &r.reason {
        status["StateChangeReason"] = json!(reason);
    }
    if let Some(failure) = &r.failure {
        status["AthenaError"] = json!({
            "ErrorCategory": failure.category,
            "Retryable": failure.retryable,
            "ErrorMessage": r.reason.clone().unwrap_or_default(),
        });
    }
    let output = format!("{}{}", r.output_folder, r.result_name());
    let mut execution = json!({
        "QueryExecutionId": r.id,
        "Query": r.query,
        "StatementType": r.statement_type,
        "SubstatementType": r.substatement_type,
        "ResultConfiguration": { "OutputLocation": output },
        "ResultReuseConfiguration": { "ResultReuseByAgeConfiguration": { "Enabled": false } },
        "QueryExecutionContext": { "Database": r.database, "Catalog": DATA_CATALOG.to_ascii_lowercase() },
        "Status": status,
        "Statistics": statistics(r),
        "WorkGroup": r.workgroup,
        "EngineVersion": engine_version(),
    });
    if !r.parameters.is_empty() {
        execution["ExecutionParameters"] = json!(r.parameters);
    }
    execution
}

/// `QueryExecutionStatistics`.
fn statistics(r: &Record) -> Value {
    let queued = Record::millis(Some(r.submitted), r.started.or(r.completed));
    let engine = Record::millis(r.started, r.completed);
    let total = Record::millis(Some(r.submitted), r.completed);
    let mut statistics = json!({
        "EngineExecutionTimeInMillis": engine,
        "DataScannedInBytes": r.scanned_bytes,
        "TotalExecutionTimeInMillis": total,
        "QueryQueueTimeInMillis": queued,
        "ServicePreProcessingTimeInMillis": 0,
        "QueryPlanningTimeInMillis": 0,
        "ServiceProcessingTimeInMillis": 0,
        "ResultReuseInformation": { "ReusedPreviousResult": false },
    });
    if let Some(manifest) = &r.manifest {
        statistics["DataManifestLocation"] = json!(manifest);
    }
    statistics
}

/// `QueryRuntimeStatistics`: the timeline and the rows and bytes out.
fn runtime_statistics(r: &Record) -> Value {
    let stats = statistics(r);
    let output_bytes = r.result_bytes.unwrap_or(0);
    json!({
        "Timeline": {
            "QueryQueueTimeInMillis": stats["QueryQueueTimeInMillis"],
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "EngineExecutionTimeInMillis": stats["EngineExecutionTimeInMillis"],
            "ServiceProcessingTimeInMillis": 0,
            "TotalExecutionTimeInMillis": stats["TotalExecutionTimeInMillis"],
        },
        "Rows": { "InputBytes": r.scanned_bytes, "OutputBytes": output_bytes, "OutputRows": r.rows },
    })
}

/// A page of `items` from the request's `NextToken` (an index), at most its `MaxResults`
/// (at most `limit`).
fn paginate<T: Clone>(items: &[T], input: &Value, limit: u64) -> Result<(Vec<T>, Option<usize>), ApiError> {
    let max = match input.get("MaxResults").map(Value::as_u64) {
        None => limit,
        Some(Some(n)) if (1..=limit).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid(format!("MaxResults is between 1 and {limit}"))),
    } as usize;
    let start = match string(input, "NextToken") {
        None => 0,
        Some(token) => token.parse::<usize>().map_err(|_| ApiError::invalid("NextToken is not valid"))?,
    };
    let end = (start + max).min(items.len());
    let page = items.get(start.min(items.len())..end).unwrap_or_default().to_vec();
    Ok((page, (end < items.len()).then_some(end)))
}

fn with_token(mut answer: Value, next: Option<usize>) -> Value {
    if let Some(next) = next {
        answer["NextToken"] = json!(next.to_string());
    }
    answer
}

/// `ListTableMetadata`'s `Expression`: a regular expression Athena matches whole names with
/// (`*` is any characters).
fn like(expression: &str, name: &str) -> bool {
    let pattern = format!("^(?:{})$", expression.replace('*', ".*"));
    regex::Regex::new(&pattern).is_ok_and(|re| re.is_match(name))
}
