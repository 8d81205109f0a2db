//! Builds the DataFusion session with the lake's store and tables registered.

use std::sync::Arc;

use arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::Result;
use crate::lake::Lake;
use crate::lake::layout::{RAW_TABLE, REFINED_TABLE, SUMMARY_TABLE};
use crate::source::cotahist::raw_schema;
use crate::transform::output::SYMBOL;
use crate::transform::{Layout, Queries, RefinedSpec};

/// Hive partition columns of the raw table, as they appear in paths (`month=02`).
pub const RAW_PARTITIONS: [&str; 3] = ["year", "month", "day"];

/// The table names a session knows.
pub const REFINED: &str = "refined";
pub const DAILY_AGGREGATES: &str = "daily_aggregates";

/// A session over `lake` with the `raw`, `refined` and `daily_aggregates` tables registered.
/// Schemas are fixed (no inference, no listing), so an empty lake is queryable too.
pub async fn session(lake: &Lake) -> Result<SessionContext> {
    // Table statistics would read the footer of every file a query touches while planning,
    // and again to run it; the scans prune with each file's own statistics anyway.
    let config = SessionConfig::new().with_information_schema(true).with_collect_statistics(false);
    // DataFusion's list-files cache fills itself by listing a whole table on its first use,
    // whatever folders the query names: 290,000 files for a year of the refined table, for
    // a query about one day. Without it, a partition filter lists only its folders.
    let cache = CacheManagerConfig::default().with_list_files_cache_limit(0);
    let runtime = RuntimeEnvBuilder::new().with_cache_manager(cache).build_arc()?;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    lake.register(&ctx);
    register_raw(&ctx, lake)?;
    register_refined(&ctx, lake).await?;
    Ok(ctx)
}

/// Registers the raw table: one Parquet file per trading day under `raw/year=/month=/day=`.
pub fn register_raw(ctx: &SessionContext, lake: &Lake) -> Result<()> {
    register(ctx, lake, RAW_TABLE, RAW_TABLE, raw_schema(), &RAW_PARTITIONS)
}

/// Registers the refined table in the lake's layout, and the daily summary. Their schemas
/// are those of the built-in transform SQL.
pub async fn register_refined(ctx: &SessionContext, lake: &Lake) -> Result<()> {
    let spec = RefinedSpec::load(lake).await?.unwrap_or_default();
    let (refined, summary) = Queries::embedded().schemas().await?;
    let file_schema = match spec.layout {
        Layout::Compact => refined,
        Layout::Symbol => without(&refined, SYMBOL),
    };
    register(ctx, lake, REFINED, REFINED_TABLE, file_schema, spec.layout.partition_columns())?;
    register(ctx, lake, DAILY_AGGREGATES, SUMMARY_TABLE, summary, &RAW_PARTITIONS)
}

fn without(schema: &Schema, column: &str) -> SchemaRef {
    Arc::new(Schema::new(schema.fields().iter().filter(|f| f.name() != column).cloned().collect::<Vec<_>>()))
}

/// Partition columns are strings, as in the paths (`month=02`): DataFusion lists only the
/// folders an equality filter names when the filter's text matches the folder's.
fn register(
    ctx: &SessionContext,
    lake: &Lake,
    name: &str,
    folder: &str,
    schema: SchemaRef,
    partitions: &[&str],
) -> Result<()> {
    let url = ListingTableUrl::parse(lake.table_url(folder))?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partitions.iter().map(|c| (c.to_string(), DataType::Utf8)).collect());
    let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(schema);
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}
