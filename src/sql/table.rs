//! A catalog table as DataFusion sees it: typed partition keys, and a scan that asks the
//! catalog for the partitions the query's filters keep (from the index, one small read for
//! a day) and hands their files straight to the Parquet reader. DataFusion's own listing
//! table cannot do this: it lists folders to find files, and it builds folder names from
//! the filter's literals (`month=2`), which misses b3lake's `month=02`.
//!
//! A day of the refined table's symbol layout that the scan reads whole (or mostly) comes from
//! its companion file when the index says it is current: one file instead of ~1,150 one-row
//! files, its deeper keys (the symbol) read as a column, and its rows filtered on the keys when
//! the filters drop some. The two kinds of files are two Parquet scans under one union.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use async_trait::async_trait;
use chrono::DateTime;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DFSchema, DataFusionError, project_schema};
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column as PhysicalColumn;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::union::UnionExec;
use object_store::ObjectMeta;

use crate::catalog::index::{SHARD_KEYS, ScanParts};
use crate::catalog::partition::typed_value;
use crate::catalog::projection::Projection;
use crate::catalog::{LocalCatalog, Partition, Pruner, TableDef};

/// Where a table's partitions come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Partitions {
    /// The catalog's partition index (listing only tables never indexed).
    #[default]
    Index,
    /// Listing the folders, as if there were no index.
    Listing,
}

/// A table of the lake's catalog.
#[derive(Debug)]
pub struct LakeTable {
    def: TableDef,
    catalog: LocalCatalog,
    schema: SchemaRef,
    partitions: Partitions,
}

impl LakeTable {
    /// The table `def`, its partitions from `catalog`'s index or from listings.
    pub fn new(def: TableDef, catalog: LocalCatalog, partitions: Partitions) -> Self {
        let fields: Vec<Arc<Field>> =
            def.file_schema().fields().iter().cloned().chain(def.partition_fields()).collect();
        Self { schema: Arc::new(Schema::new(fields)), def, catalog, partitions }
    }

    /// Its definition.
    pub fn definition(&self) -> &TableDef {
        &self.def
    }

    fn key_names(&self) -> Vec<&str> {
        self.def.partition_keys.iter().map(|k| k.name.as_str()).collect()
    }

    /// A file of the folder `location`, whose leading partition keys have `values`.
    fn file(
        &self,
        location: &str,
        values: &[String],
        file: &crate::catalog::DataFile,
    ) -> datafusion::error::Result<PartitionedFile> {
        if location.contains("://") {
            return Err(DataFusionError::Plan(format!(
                "partition ({}) of {} lies outside the lake ({location})",
                Partition::spec(&self.def.partition_keys, values),
                self.def.name,
            )));
        }
        let lake = self.catalog.lake();
        let meta = ObjectMeta {
            location: lake.path(&format!("{location}/{}", file.name)),
            last_modified: DateTime::from_timestamp_millis(file.modified).unwrap_or_default(),
            size: file.size,
            e_tag: None,
            version: None,
        };
        let mut pf = PartitionedFile::new_from_meta(meta);
        pf.partition_values = self
            .def
            .partition_keys
            .iter()
            .zip(values)
            .map(|(k, v)| typed_value(k, v))
            .collect::<datafusion::error::Result<_>>()?;
        Ok(pf)
    }
}

#[async_trait]
impl TableProvider for LakeTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Filters on partition keys alone are applied exactly by choosing partitions.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        let keys = self.key_names();
        Ok(filters
            .iter()
            .map(|f| {
                if !keys.is_empty() && expr_applicable_for_cols(&keys, f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Inexact
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let pruner = Pruner::new(&self.def.partition_keys, filters);
        let projected = Projection::of(&self.def, &crate::catalog::Catalog::lake_url(&self.catalog))
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let found = match (&projected, self.partitions) {
            // Computed from the table's properties; the index and the folders are not asked.
            (Some(projected), _) => projected
                .partitions(self.catalog.lake(), &pruner)
                .await
                .map(|partitions| ScanParts { partitions, ..Default::default() }),
            (None, Partitions::Index) => self.catalog.find_for_scan(&self.def, &pruner).await,
            (None, Partitions::Listing) => self
                .catalog
                .list_partitions(&self.def, &pruner)
                .await
                .map(|partitions| ScanParts { partitions, ..Default::default() }),
        }
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let files: Vec<PartitionedFile> = found
            .partitions
            .iter()
            .flat_map(|p| p.files.iter().map(move |f| (p, f)))
            .map(|(p, f)| self.file(&p.location, &p.values, f))
            .collect::<datafusion::error::Result<_>>()?;
        let days: Vec<PartitionedFile> = found
            .days
            .iter()
            .map(|(values, c)| self.file(&c.location, values, &c.file))
            .collect::<datafusion::error::Result<_>>()?;
        tracing::debug!(table = %self.def.name, partitions = found.partitions.len(), files = files.len(), days = days.len(), "scan");
        let mut scans = Vec::new();
        if !files.is_empty() {
            let keys = self.def.partition_keys.len();
            scans.push(self.parquet_scan(state, files, keys, projection.cloned(), limit).await?);
        }
        if !days.is_empty() {
            // A companion holds the keys below the day as columns: the scan's columns are
            // renumbered into its schema, in the table's order, so both scans line up.
            let (columns, day_keys) = (self.def.columns.len(), SHARD_KEYS.min(self.def.partition_keys.len()));
            let deeper = self.def.partition_keys.len() - day_keys;
            let renumber = |i: usize| match i.checked_sub(columns) {
                None => i,
                Some(k) if k < day_keys => columns + deeper + k,
                Some(k) => columns + (k - day_keys),
            };
            let wanted: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
            let filter = conjunction(pruner.filters().iter().cloned()).filter(|_| found.days_filtered);
            match filter {
                None => {
                    let indices = wanted.iter().map(|&i| renumber(i)).collect();
                    scans.push(self.parquet_scan(state, days, day_keys, Some(indices), limit).await?);
                }
                // Some days' companions hold partitions the filters drop: their rows are
                // filtered on the keys (read too), then the columns asked for kept.
                Some(filter) => {
                    let keys = columns..self.schema.fields().len();
                    let read: Vec<usize> = wanted.iter().copied().chain(keys.filter(|k| !wanted.contains(k))).collect();
                    let indices = read.iter().map(|&i| renumber(i)).collect();
                    let scan = self.parquet_scan(state, days, day_keys, Some(indices), None).await?;
                    let schema = scan.schema();
                    let predicate = state.create_physical_expr(filter, &DFSchema::try_from(schema.clone())?)?;
                    let filtered: Arc<dyn ExecutionPlan> = Arc::new(FilterExec::try_new(predicate, scan)?);
                    let kept = (0..wanted.len()).map(|i| {
                        let name = schema.field(i).name();
                        (Arc::new(PhysicalColumn::new(name, i)) as Arc<dyn PhysicalExpr>, name.clone())
                    });
                    scans.push(Arc::new(ProjectionExec::try_new(kept, filtered)?));
                }
            }
        }
        match scans.len() {
            0 => Ok(Arc::new(EmptyExec::new(project_schema(&self.schema, projection)?))),
            _ => UnionExec::try_new(scans),
        }
    }
}

impl LakeTable {
    /// A Parquet scan of `files`, whose values of the first `keys` partition keys come from
    /// their folders and the other keys' from their columns, spread over the session's
    /// target partitions.
    async fn parquet_scan(
        &self,
        state: &dyn Session,
        files: Vec<PartitionedFile>,
        keys: usize,
        projection: Option<Vec<usize>>,
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let groups_n = state.config().target_partitions().clamp(1, files.len());
        let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); groups_n];
        for (i, f) in files.into_iter().enumerate() {
            groups[i % groups_n].push(f);
        }
        let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
        let key_fields = self.def.partition_fields();
        let file_fields: Vec<Arc<Field>> =
            self.def.file_schema().fields().iter().cloned().chain(key_fields[keys..].iter().cloned()).collect();
        let table_schema = TableSchema::builder(Arc::new(Schema::new(file_fields)))
            .with_table_partition_cols(key_fields[..keys].to_vec())
            .build();
        let config =
            FileScanConfigBuilder::new(self.catalog.lake().object_store_url(), format.file_source(table_schema))
                .with_file_groups(groups.into_iter().map(FileGroup::new).collect())
                .with_projection_indices(projection)?
                .with_limit(limit)
                .build();
        format.create_physical_plan(state, config).await
    }
}
