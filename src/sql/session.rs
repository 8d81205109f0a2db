//! Builds the DataFusion session with the lake's store and tables registered.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::Result;
use crate::lake::Lake;
use crate::lake::layout::RAW_TABLE;
use crate::source::cotahist::raw_schema;

/// Hive partition columns of the raw table, as they appear in paths (`month=02`).
pub const RAW_PARTITIONS: [&str; 3] = ["year", "month", "day"];

/// A session over `lake` with the `raw` table registered. The raw table's schema is fixed
/// (no inference), so an empty lake is queryable too.
pub async fn session(lake: &Lake) -> Result<SessionContext> {
    let config = SessionConfig::new().with_information_schema(true);
    let ctx = SessionContext::new_with_config(config);
    lake.register(&ctx);
    register_raw(&ctx, lake)?;
    Ok(ctx)
}

/// Registers the raw table: one Parquet file per trading day under `raw/year=/month=/day=`.
pub fn register_raw(ctx: &SessionContext, lake: &Lake) -> Result<()> {
    let url = ListingTableUrl::parse(lake.table_url(RAW_TABLE))?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(RAW_PARTITIONS.iter().map(|c| (c.to_string(), DataType::Utf8)).collect());
    let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(raw_schema());
    ctx.register_table(RAW_TABLE, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}
