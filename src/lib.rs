//! b3lake: B3's public market data as a queryable data lake, on a laptop or on AWS.
//!
//! Modules follow the data: [`source`] reads what B3 publishes (COTAHIST files, downloads,
//! generated data, index portfolios), [`lake`] stores it as Hive-partitioned Parquet on local
//! disk or S3, [`ingest`] joins the two all-or-nothing, [`transform`] refines the raw table with
//! SQL into the refined table, a daily summary and the index members' quotes, [`quality`]
//! checks the raw and refined tables, [`catalog`] defines the tables (Athena DDL) and indexes their partitions,
//! locally and in AWS Glue, and [`sql`] queries them with DataFusion, [`chart`] draws them and
//! [`report`] puts charts, tables and checks into one HTML page.
//!
//! A generated trading day, ingested into a lake, refined by the transform job and queried,
//! as `b3lake demo` does on a month:
//!
//! ```
//! use b3lake::ingest::{IngestOptions, ingest};
//! use b3lake::lake::Lake;
//! use b3lake::transform::{Layout, TransformOptions, transform};
//! use chrono::NaiveDate;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> b3lake::Result<()> {
//! let dir = tempfile::tempdir().unwrap();
//! let day = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
//! let file = dir.path().join("COTAHIST_D02012024.TXT");
//! b3lake::source::synth::write_file(&file, day, day, 1).unwrap();
//!
//! let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).await?;
//! ingest(&lake, &b3lake::source::resolve(&[file])?, &IngestOptions::default()).await?;
//! // One file a day (the default writes one folder per day and ticker, as the design's Glue job).
//! let options = TransformOptions { layout: Some(Layout::Compact), ..Default::default() };
//! let refined = transform(&lake, &options).await?;
//! assert_eq!(refined.days, [day]);
//!
//! let session = b3lake::sql::session(&lake).await?;
//! let sql = "SELECT count(DISTINCT symbol) > 100 FROM cotacoes_b3_refined WHERE day = 2";
//! let answer = b3lake::sql::execute(&session, sql).await?;
//! assert_eq!(answer.rows, 1);
//! # Ok(())
//! # }
//! ```
//!
//! The layers, lowest first; a module imports only from its own layer and those below
//! (`tests/it/layers.rs` checks it):
//! 1. [`source`] and small utilities ([`chain`], [`deadline`], [`local_fs`], [`retry`], [`aws`], [`telemetry`]);
//! 2. [`lake`];
//! 3. [`ingest`] and [`catalog`];
//! 4. the SQL engine: [`sql`] (session, lake tables, dialect, statements, execution);
//! 5. [`transform`];
//! 6. [`chart`], [`quality`], [`report`] and the crate's [`Error`];
//! 7. the front ends: the REPL, scripts, output formats, the Athena client, the Athena API
//!    server and the Lambda function's handler in [`frontend`], and [`demo`];
//! 8. the binary.

#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod aws;
pub mod catalog;
pub mod chain;
#[cfg(feature = "cli")]
pub mod chart;
pub mod deadline;
pub mod demo;
pub mod error;
pub mod frontend;
pub mod ingest;
pub mod lake;
pub mod local_fs;
pub mod quality;
#[cfg(feature = "cli")]
pub mod report;
pub mod retry;
pub mod source;
pub mod sql;
pub mod telemetry;
pub mod transform;
pub mod words;

pub use error::{Error, Result};
