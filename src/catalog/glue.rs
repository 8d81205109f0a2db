//! The AWS Glue Data Catalog as a [`Catalog`]: what Athena reads. Tables are external Parquet
//! tables (Parquet SerDe and formats, `classification=parquet`); each partition carries the
//! table's storage descriptor with its own location, as Athena's `ADD PARTITION` writes it.
//! Batches follow Glue's limits (100 partitions to create or update, 25 to delete a call),
//! run in parallel, and are retried with backoff when Glue throttles.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use aws_sdk_glue::error::ProvideErrorMetadata;
use aws_sdk_glue::types::{
    BatchUpdatePartitionRequestEntry, Column as GlueColumn, DatabaseInput, PartitionError, PartitionInput,
    PartitionValueList, SerDeInfo, StorageDescriptor, Table, TableInput,
};
use futures::{StreamExt, TryStreamExt};

use super::ddl::{Column, TableDef};
use super::partition::Partition;
use super::types::{hive_type, parse_hive_type};
use super::view::ViewDef;
use super::{Catalog, Error};
use crate::aws::{CallError, retry};
use crate::retry::RetryConfig;

pub(crate) const SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
pub(crate) const INPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
pub(crate) const OUTPUT_FORMAT: &str = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
/// Marks the tables b3lake created, the only ones a sync may delete.
pub const MANAGED: &str = "b3lake.managed";
/// Glue's own table parameter for external tables; not part of the definition.
const EXTERNAL: &str = "EXTERNAL";

const CREATE_BATCH: usize = 100;
const UPDATE_BATCH: usize = 100;
const DELETE_BATCH: usize = 25;
/// Batch calls in flight at once.
const PARALLEL_CALLS: usize = 8;

/// A database of the Glue Data Catalog, for one lake.
#[derive(Clone)]
pub struct GlueCatalog {
    client: aws_sdk_glue::Client,
    database: String,
    lake_url: String,
    retry: RetryConfig,
    calls: Arc<AtomicU64>,
}

impl GlueCatalog {
    /// `lake_url` is what `${lake}` stands for in table locations.
    pub fn new(client: aws_sdk_glue::Client, database: &str, lake_url: &str) -> Self {
        Self {
            client,
            database: database.to_string(),
            lake_url: lake_url.trim_end_matches('/').to_string(),
            retry: RetryConfig::default(),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The Glue database `database` for the lake `local`, with the standard AWS configuration.
    pub async fn for_lake(local: &super::LocalCatalog, database: &str) -> Self {
        Self::new(crate::aws::glue_client().await, database, &local.lake_url())
    }

    /// The same catalog, retrying throttled calls under `retry`.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// API calls made so far (retries included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The Glue database.
    pub fn database(&self) -> &str {
        &self.database
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    fn err(&self, operation: &str, e: CallError) -> Error {
        Error::Glue { operation: format!("{operation} ({})", self.database), message: e.to_string() }
    }

    /// Creates the database if it is missing.
    pub async fn ensure_database(&self) -> Result<(), Error> {
        self.count();
        match self.client.get_database().name(&self.database).send().await {
            Ok(_) => return Ok(()),
            Err(e) if e.code() == Some("EntityNotFoundException") => {}
            Err(e) => return Err(self.err("GetDatabase", call_error(&e))),
        }
        let input = DatabaseInput::builder()
            .name(&self.database)
            .description("B3 market data (b3lake)")
            .build()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        retry("CreateDatabase", &self.retry, || {
            self.count();
            self.client.create_database().database_input(input.clone()).send()
        })
        .await
        .map_err(|e| self.err("CreateDatabase", e))?;
        Ok(())
    }

    fn absolute(&self, location: &str) -> String {
        if location.contains("://") {
            location.to_string()
        } else {
            format!("{}/{}/", self.lake_url, location.trim_matches('/'))
        }
    }

    fn relative(&self, location: &str) -> String {
        match location.strip_prefix(&self.lake_url) {
            Some(rest) if rest.starts_with('/') => rest.trim_matches('/').to_string(),
            _ => location.to_string(),
        }
    }

    fn storage(&self, def: &TableDef, location: String) -> Result<StorageDescriptor, Error> {
        let columns = def.columns.iter().map(glue_column).collect::<Result<Vec<_>, _>>()?;
        let (bucket_columns, buckets) = match &def.buckets {
            Some(b) => (Some(b.columns.clone()), b.count as i32),
            None => (None, 0),
        };
        Ok(StorageDescriptor::builder()
            .set_columns(Some(columns))
            .set_bucket_columns(bucket_columns)
            .number_of_buckets(buckets)
            .location(location)
            .input_format(INPUT_FORMAT)
            .output_format(OUTPUT_FORMAT)
            .serde_info(
                SerDeInfo::builder().serialization_library(SERDE).parameters("serialization.format", "1").build(),
            )
            .build())
    }

    fn table_input(&self, def: &TableDef) -> Result<TableInput, Error> {
        let def = &def.clone().resolved(&self.lake_url);
        let keys = def.partition_keys.iter().map(glue_column).collect::<Result<Vec<_>, _>>()?;
        let mut parameters: HashMap<String, String> = def.properties.clone().into_iter().collect();
        parameters.insert(EXTERNAL.into(), "TRUE".into());
        parameters.insert(MANAGED.into(), "true".into());
        TableInput::builder()
            .name(&def.name)
            .table_type("EXTERNAL_TABLE")
            .storage_descriptor(self.storage(def, def.location.clone())?)
            .set_partition_keys(Some(keys))
            .set_parameters(Some(parameters))
            .build()
            .map_err(|e| Error::Invalid(e.to_string()))
    }

    fn partition_input(&self, def: &TableDef, p: &Partition) -> Result<PartitionInput, Error> {
        Ok(PartitionInput::builder()
            .set_values(Some(p.values.clone()))
            .storage_descriptor(self.storage(def, self.absolute(&p.location))?)
            .build())
    }

    fn definition(&self, table: &Table) -> Result<TableDef, Error> {
        let bad = |message: String| Error::Invalid(format!("Glue table {}.{}: {message}", self.database, table.name));
        let sd = table.storage_descriptor.as_ref().ok_or_else(|| bad("no storage descriptor".into()))?;
        let parquet = sd.serde_info.as_ref().and_then(|s| s.serialization_library.as_deref()) == Some(SERDE)
            || sd.input_format.as_deref() == Some(INPUT_FORMAT);
        if !parquet {
            return Err(bad("not a Parquet table".into()));
        }
        let columns = sd.columns().iter().map(|c| local_column(c).map_err(bad)).collect::<Result<Vec<_>, _>>()?;
        let partition_keys =
            table.partition_keys().iter().map(|c| local_column(c).map_err(bad)).collect::<Result<_, _>>()?;
        let properties = table
            .parameters
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != EXTERNAL && k != MANAGED)
            .collect();
        let location = sd.location.clone().ok_or_else(|| bad("no location".into()))?;
        Ok(TableDef {
            name: table.name.clone(),
            columns,
            partition_keys,
            location: format!("{}/", location.trim_end_matches('/')),
            properties,
            buckets: match (sd.bucket_columns(), sd.number_of_buckets) {
                (columns, n) if !columns.is_empty() && n > 0 => Some(super::ddl::Buckets {
                    columns: columns.iter().map(|c| c.to_lowercase()).collect(),
                    count: n as u32,
                }),
                _ => None,
            },
        }
        .with_location_template(&self.lake_url))
    }

    async fn get_tables(&self) -> Result<Vec<Table>, Error> {
        let pages = self.client.get_tables().database_name(&self.database).into_paginator().send();
        let mut tables = Vec::new();
        let mut pages = std::pin::pin!(pages);
        while let Some(page) = pages.next().await {
            self.count();
            match page {
                Ok(page) => tables.extend(page.table_list.unwrap_or_default()),
                Err(e) if e.code() == Some("EntityNotFoundException") => return Ok(vec![]),
                Err(e) => return Err(self.err("GetTables", call_error(&e))),
            }
        }
        Ok(tables)
    }

    async fn batches<T, F, Fut>(&self, items: Vec<T>, size: usize, call: F) -> Result<(), Error>
    where
        T: Clone + Send,
        F: Fn(Vec<T>) -> Fut + Sync,
        Fut: std::future::Future<Output = Result<Vec<PartitionError>, Error>> + Send,
    {
        let chunks: Vec<Vec<T>> = items.chunks(size).map(<[T]>::to_vec).collect();
        let errors: Vec<Vec<PartitionError>> =
            futures::stream::iter(chunks).map(&call).buffer_unordered(PARALLEL_CALLS).try_collect().await?;
        match errors.into_iter().flatten().next() {
            None => Ok(()),
            Some(e) => {
                let detail = e.error_detail.as_ref();
                Err(Error::Glue {
                    operation: format!("partition ({})", e.partition_values().join(", ")),
                    message: format!(
                        "{} {}",
                        detail.and_then(|d| d.error_code.as_deref()).unwrap_or_default(),
                        detail.and_then(|d| d.error_message.as_deref()).unwrap_or_default()
                    ),
                })
            }
        }
    }
}

/// Glue's table type of a view.
const VIRTUAL_VIEW: &str = "VIRTUAL_VIEW";

fn is_view(t: &Table) -> bool {
    t.table_type.as_deref() == Some(VIRTUAL_VIEW)
}

fn managed(t: &Table) -> bool {
    t.parameters.as_ref().and_then(|p| p.get(MANAGED)).map(String::as_str) == Some("true")
}

/// Views, stored as Athena stores them: a `VIRTUAL_VIEW` table whose original text is the
/// encoded definition, its columns in the storage descriptor with Hive's type names.
impl GlueCatalog {
    /// Every Athena view of the database (other `VIRTUAL_VIEW`s, such as Data Catalog
    /// views, are skipped with a warning), and whether b3lake made it.
    pub async fn views(&self) -> Result<Vec<(ViewDef, bool)>, Error> {
        let mut views = Vec::new();
        for t in self.get_tables().await?.into_iter().filter(is_view) {
            match ViewDef::from_glue_original_text(&t.name, t.view_original_text.as_deref().unwrap_or_default()) {
                Ok(v) => views.push((v, managed(&t))),
                Err(e) => tracing::warn!(view = %t.name, "skipped: {e}"),
            }
        }
        views.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(views)
    }

    fn view_input(&self, view: &ViewDef) -> Result<TableInput, Error> {
        let columns = view
            .hive_columns()
            .into_iter()
            .map(|(name, hive)| GlueColumn::builder().name(name).r#type(hive).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let parameters = HashMap::from([
            ("presto_view".to_string(), "true".to_string()),
            ("comment".to_string(), "Presto View".to_string()),
            (MANAGED.to_string(), "true".to_string()),
        ]);
        TableInput::builder()
            .name(&view.name)
            .table_type(VIRTUAL_VIEW)
            .view_original_text(view.glue_original_text())
            .view_expanded_text(super::view::EXPANDED_TEXT)
            .storage_descriptor(StorageDescriptor::builder().set_columns(Some(columns)).build())
            .set_parameters(Some(parameters))
            .build()
            .map_err(|e| Error::Invalid(e.to_string()))
    }

    /// Creates the view, or replaces it.
    pub async fn put_view(&self, view: &ViewDef, exists: bool) -> Result<(), Error> {
        let input = self.view_input(view)?;
        if exists { self.update_input(input).await } else { self.create_input(input).await }
    }

    /// CreateTable, retried; a table of that name is [`Error::TableExists`].
    async fn create_input(&self, input: TableInput) -> Result<(), Error> {
        retry("CreateTable", &self.retry, || {
            self.count();
            self.client.create_table().database_name(&self.database).table_input(input.clone()).send()
        })
        .await
        .map_err(|e| match e.code.as_str() {
            "AlreadyExistsException" => Error::TableExists(input.name.clone()),
            _ => self.err("CreateTable", e),
        })?;
        Ok(())
    }

    /// UpdateTable, retried; no table of that name is [`Error::TableNotFound`].
    async fn update_input(&self, input: TableInput) -> Result<(), Error> {
        retry("UpdateTable", &self.retry, || {
            self.count();
            self.client.update_table().database_name(&self.database).table_input(input.clone()).send()
        })
        .await
        .map_err(|e| match e.code.as_str() {
            "EntityNotFoundException" => Error::TableNotFound(input.name.clone()),
            _ => self.err("UpdateTable", e),
        })?;
        Ok(())
    }
}

#[async_trait]
impl Catalog for GlueCatalog {
    fn describe(&self) -> String {
        format!("the Glue database {}", self.database)
    }

    fn lake_url(&self) -> String {
        self.lake_url.clone()
    }

    async fn prepare(&self) -> Result<(), Error> {
        self.ensure_database().await
    }

    async fn tables(&self) -> Result<Vec<String>, Error> {
        let mut names: Vec<String> =
            self.get_tables().await?.into_iter().filter(|t| !is_view(t)).map(|t| t.name).collect();
        names.sort();
        Ok(names)
    }

    async fn managed_tables(&self) -> Result<Vec<String>, Error> {
        let tables = self.get_tables().await?;
        let mut names: Vec<String> = tables.into_iter().filter(|t| !is_view(t) && managed(t)).map(|t| t.name).collect();
        names.sort();
        Ok(names)
    }

    async fn table(&self, name: &str) -> Result<Option<TableDef>, Error> {
        self.count();
        match self.client.get_table().database_name(&self.database).name(name).send().await {
            Ok(out) => out.table.as_ref().map(|t| self.definition(t)).transpose(),
            Err(e) if e.code() == Some("EntityNotFoundException") => Ok(None),
            Err(e) => Err(self.err("GetTable", call_error(&e))),
        }
    }

    async fn create_table(&self, def: &TableDef) -> Result<(), Error> {
        self.create_input(self.table_input(def)?).await
    }

    async fn update_table(&self, def: &TableDef) -> Result<(), Error> {
        self.update_input(self.table_input(def)?).await
    }

    async fn drop_table(&self, name: &str) -> Result<(), Error> {
        retry("DeleteTable", &self.retry, || {
            self.count();
            self.client.delete_table().database_name(&self.database).name(name).send()
        })
        .await
        .map_err(|e| match e.code.as_str() {
            "EntityNotFoundException" => Error::TableNotFound(name.to_string()),
            _ => self.err("DeleteTable", e),
        })?;
        Ok(())
    }

    async fn partitions(&self, def: &TableDef, scope: &[String]) -> Result<Vec<Partition>, Error> {
        let expression = expression(&def.partition_keys, scope);
        let pages = self
            .client
            .get_partitions()
            .database_name(&self.database)
            .table_name(&def.name)
            .set_expression(expression)
            .exclude_column_schema(true)
            .into_paginator()
            .send();
        let mut pages = std::pin::pin!(pages);
        let mut partitions = Vec::new();
        while let Some(page) = pages.next().await {
            self.count();
            match page {
                Ok(page) => {
                    for p in page.partitions.unwrap_or_default() {
                        let location =
                            p.storage_descriptor.as_ref().and_then(|s| s.location.as_deref()).unwrap_or_default();
                        partitions.push(Partition {
                            values: p.values.unwrap_or_default(),
                            location: self.relative(location),
                            files: vec![],
                        });
                    }
                }
                Err(e) if e.code() == Some("EntityNotFoundException") => {
                    return Err(Error::TableNotFound(def.name.clone()));
                }
                Err(e) => return Err(self.err("GetPartitions", call_error(&e))),
            }
        }
        super::partition::sort(&mut partitions);
        Ok(partitions)
    }

    async fn add_partitions(&self, def: &TableDef, partitions: &[Partition]) -> Result<(), Error> {
        let inputs = partitions.iter().map(|p| self.partition_input(def, p)).collect::<Result<Vec<_>, _>>()?;
        self.batches(inputs, CREATE_BATCH, |chunk| async move {
            let out = retry("BatchCreatePartition", &self.retry, || {
                self.count();
                self.client
                    .batch_create_partition()
                    .database_name(&self.database)
                    .table_name(&def.name)
                    .set_partition_input_list(Some(chunk.clone()))
                    .send()
            })
            .await
            .map_err(|e| self.err("BatchCreatePartition", e))?;
            Ok(out.errors.unwrap_or_default())
        })
        .await
    }

    async fn update_partitions(&self, def: &TableDef, partitions: &[Partition]) -> Result<(), Error> {
        let entries = partitions
            .iter()
            .map(|p| {
                BatchUpdatePartitionRequestEntry::builder()
                    .set_partition_value_list(Some(p.values.clone()))
                    .partition_input(self.partition_input(def, p)?)
                    .build()
                    .map_err(|e| Error::Invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batches(entries, UPDATE_BATCH, |chunk| async move {
            let out = retry("BatchUpdatePartition", &self.retry, || {
                self.count();
                self.client
                    .batch_update_partition()
                    .database_name(&self.database)
                    .table_name(&def.name)
                    .set_entries(Some(chunk.clone()))
                    .send()
            })
            .await
            .map_err(|e| self.err("BatchUpdatePartition", e))?;
            Ok(out
                .errors
                .unwrap_or_default()
                .into_iter()
                .map(|e| {
                    PartitionError::builder()
                        .set_partition_values(e.partition_value_list)
                        .set_error_detail(e.error_detail)
                        .build()
                })
                .collect())
        })
        .await
    }

    async fn drop_partitions(&self, def: &TableDef, values: &[Vec<String>]) -> Result<(), Error> {
        let lists = values
            .iter()
            .map(|v| {
                PartitionValueList::builder()
                    .set_values(Some(v.clone()))
                    .build()
                    .map_err(|e| Error::Invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batches(lists, DELETE_BATCH, |chunk| async move {
            let out = retry("BatchDeletePartition", &self.retry, || {
                self.count();
                self.client
                    .batch_delete_partition()
                    .database_name(&self.database)
                    .table_name(&def.name)
                    .set_partitions_to_delete(Some(chunk.clone()))
                    .send()
            })
            .await
            .map_err(|e| self.err("BatchDeletePartition", e))?;
            Ok(out.errors.unwrap_or_default())
        })
        .await
    }
}

/// Glue's partition expression for the leading values (`year = 2022 AND month = 2`).
fn expression(keys: &[Column], scope: &[String]) -> Option<String> {
    let terms: Vec<String> = keys
        .iter()
        .zip(scope)
        .map(|(k, v)| match k.data_type {
            arrow::datatypes::DataType::Utf8 => format!("{} = '{}'", k.name, v.replace('\'', "''")),
            _ => format!("{} = {v}", k.name),
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

fn glue_column(c: &Column) -> Result<GlueColumn, Error> {
    let t = hive_type(&c.data_type).map_err(|e| Error::Invalid(format!("column {}: {e}", c.name)))?;
    GlueColumn::builder()
        .name(&c.name)
        .r#type(t)
        .set_comment(c.comment.clone())
        .build()
        .map_err(|e| Error::Invalid(e.to_string()))
}

fn local_column(c: &GlueColumn) -> Result<Column, String> {
    let data_type = parse_hive_type(c.r#type().unwrap_or_default()).map_err(|e| format!("column {}: {e}", c.name))?;
    Ok(Column { name: c.name.clone(), data_type, comment: c.comment.clone() })
}

fn call_error<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &E) -> CallError {
    CallError {
        code: e.code().unwrap_or_default().to_string(),
        message: e.message().map(str::to_string).unwrap_or_else(|| crate::chain::chain(e)),
        attempts: 1,
        of: 1,
    }
}
