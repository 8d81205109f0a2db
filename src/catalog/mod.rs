//! The catalog: which tables the lake has, their columns, and their partitions. Definitions
//! are Athena DDL (`catalog/*.sql`), so one text serves DataFusion and Athena; partitions are
//! indexed so a query never lists the lake. Two backends, one trait: the lake's own
//! [`LocalCatalog`] and the AWS Glue Data Catalog ([`GlueCatalog`]), kept equal by [`sync`].

pub mod cloudformation;
pub mod ddl;
pub mod glue;
pub mod index;
pub mod local;
pub mod partition;
pub mod projection;
pub mod refined;
pub mod sync;
pub mod types;
pub mod view;
pub mod writes;

use async_trait::async_trait;

pub use ddl::{Column, INDEX_MEMBERS, PORTFOLIO, RAW, REFINED, SUMMARY, TableDef};
pub use glue::GlueCatalog;
pub use local::LocalCatalog;
pub use partition::{DataFile, Partition, Pruner};
pub use view::ViewDef;

/// The catalog Athena resolves unqualified names in: Glue's.
pub const ATHENA_CATALOG: &str = "awsdatacatalog";

/// Errors of the catalog layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A table definition that does not parse, or is not one b3lake can read.
    #[error("{origin}: {message}")]
    Ddl {
        /// The file or statement the DDL came from.
        origin: String,
        /// What is wrong with it.
        message: String,
    },
    /// No table of that name.
    #[error("table {0} does not exist")]
    TableNotFound(String),
    /// A table of that name already exists.
    #[error("table {0} already exists")]
    TableExists(String),
    /// No view of that name (Athena's wording).
    #[error("View '{0}' not found")]
    ViewNotFound(String),
    /// A view of that name already exists (Athena's wording).
    #[error("View '{0}' already exists")]
    ViewExists(String),
    /// A Glue call that failed.
    #[error("Glue {operation}: {message}")]
    Glue {
        /// The API call and the database.
        operation: String,
        /// Glue's answer.
        message: String,
    },
    /// Catalog content that is not what b3lake wrote (a damaged index, a definition Glue cannot take).
    #[error("{0}")]
    Invalid(String),
    /// The lake under the catalog's files.
    #[error(transparent)]
    Lake(#[from] crate::lake::Error),
}

/// A catalog of external Parquet tables and their partitions. Partition locations are
/// relative to the lake root when inside the lake, so two catalogs of one lake compare equal
/// wherever the lake is.
#[async_trait]
pub trait Catalog: Send + Sync {
    /// Names the catalog in messages.
    fn describe(&self) -> String;
    /// What `${lake}` stands for.
    fn lake_url(&self) -> String;
    /// Whatever must exist before the first change (Glue: the database).
    async fn prepare(&self) -> Result<(), Error> {
        Ok(())
    }
    /// Table names, sorted.
    async fn tables(&self) -> Result<Vec<String>, Error>;
    /// The tables a sync may drop (for Glue: those b3lake created).
    async fn managed_tables(&self) -> Result<Vec<String>, Error> {
        self.tables().await
    }
    /// The definition of table `name`, if there is one.
    async fn table(&self, name: &str) -> Result<Option<TableDef>, Error>;
    /// Adds a table; fails with [`Error::TableExists`] if there is one of that name.
    async fn create_table(&self, def: &TableDef) -> Result<(), Error>;
    /// Replaces the definition of an existing table.
    async fn update_table(&self, def: &TableDef) -> Result<(), Error>;
    /// Removes a table's definition (and its partitions); its files stay.
    async fn drop_table(&self, name: &str) -> Result<(), Error>;
    /// Partitions whose leading values are `prefix` (all of them for an empty prefix), sorted.
    async fn partitions(&self, def: &TableDef, prefix: &[String]) -> Result<Vec<Partition>, Error>;
    /// Adds partitions; one that exists already is an error.
    async fn add_partitions(&self, def: &TableDef, partitions: &[Partition]) -> Result<(), Error>;
    /// Replaces the location (and files) of existing partitions.
    async fn update_partitions(&self, def: &TableDef, partitions: &[Partition]) -> Result<(), Error>;
    /// Drops partitions by their values; a missing one is an error.
    async fn drop_partitions(&self, def: &TableDef, values: &[Vec<String>]) -> Result<(), Error>;
}
