//! The AWS Glue calls Athena's clients make beside Athena's (awswrangler reads a CTAS table's
//! types and deletes it through Glue; dbt-athena lists tables and their versions), answered from the lake's own catalog on the same port,
//! so that a client pointed at the server for both (`AWS_ENDPOINT_URL_ATHENA` and
//! `AWS_ENDPOINT_URL_GLUE`) never sees the lake and Glue disagree: there is one catalog.
//! AWS JSON 1.1, `X-Amz-Target: AWSGlue.<Operation>`.

use serde_json::{Value, json};

use super::api::Api;
use super::protocol::{ApiError, required};

fn not_found(message: String) -> ApiError {
    ApiError { kind: "EntityNotFoundException", message, code: None }
}

/// A Glue `Table` of Athena's `TableMetadata`.
fn glue_table(database: &str, meta: &Value) -> Value {
    let view = meta["TableType"] == "VIRTUAL_VIEW";
    json!({
        "Name": meta["Name"],
        "DatabaseName": database,
        "TableType": meta["TableType"],
        "StorageDescriptor": {
            "Columns": meta["Columns"],
            "Location": if view { json!("") } else { meta["Parameters"]["location"].clone() },
        },
        "PartitionKeys": meta["PartitionKeys"],
        "Parameters": meta["Parameters"],
        "CatalogId": "000000000000",
        "VersionId": "1",
    })
}

/// The Glue `Table` named `name`, or Glue's `EntityNotFoundException`.
async fn table(api: &Api, database: &str, name: &str) -> Result<Value, ApiError> {
    let name = name.to_ascii_lowercase();
    let tables = api.table_metadata().await?;
    let table = tables.iter().find(|t| t["Name"] == name.as_str());
    Ok(glue_table(database, table.ok_or_else(|| not_found(format!("Table {name} not found.")))?))
}

/// Answers one Glue operation.
pub async fn call(api: &Api, operation: &str, input: &Value) -> Result<Value, ApiError> {
    let database = |input: &Value, field: &str| -> Result<String, ApiError> {
        let name = required(input, field)?;
        api.known_database(name).map_err(|_| not_found(format!("Database {name} not found.")))?;
        Ok(name.to_ascii_lowercase())
    };
    match operation {
        "GetDatabase" => {
            let name = database(input, "Name")?;
            Ok(json!({ "Database": { "Name": name, "CatalogId": "000000000000" } }))
        }
        "GetDatabases" => Ok(json!({ "DatabaseList": [{ "Name": api.database, "CatalogId": "000000000000" }] })),
        "GetTable" => {
            let table = table(api, &database(input, "DatabaseName")?, required(input, "Name")?).await?;
            Ok(json!({ "Table": table }))
        }
        // One version, the table as it is: the lake keeps no older definitions.
        "GetTableVersions" => {
            let table = table(api, &database(input, "DatabaseName")?, required(input, "TableName")?).await?;
            Ok(json!({ "TableVersions": [{ "Table": table, "VersionId": "1" }] }))
        }
        "GetTables" => {
            let db = database(input, "DatabaseName")?;
            let tables: Vec<Value> = api.table_metadata().await?.iter().map(|t| glue_table(&db, t)).collect();
            Ok(json!({ "TableList": tables }))
        }
        "DeleteTable" => {
            let db = database(input, "DatabaseName")?;
            let name = required(input, "Name")?.to_ascii_lowercase();
            if api.executions.read_only() {
                return Err(ApiError::access_denied("this server is read-only: DeleteTable is refused"));
            }
            // As Athena's DROP TABLE: the definition goes, the data stays.
            let lake = api.executions.lake();
            let session = crate::sql::session_in(lake, crate::sql::Partitions::Index, &db)
                .await
                .map_err(|e| ApiError::internal(crate::chain::chain(&e)))?;
            match crate::sql::execute(&session, &format!("DROP TABLE `{name}`")).await {
                Ok(_) => Ok(json!({})),
                Err(crate::sql::Error::Catalog(crate::catalog::Error::TableNotFound(_))) => {
                    Err(not_found(format!("Table {name} not found.")))
                }
                Err(e) => Err(ApiError::invalid(crate::chain::chain(&e))),
            }
        }
        other => Err(ApiError::unknown_operation(&format!("AWSGlue.{other}"))),
    }
}
