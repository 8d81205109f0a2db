//! The two protocols Athena's clients speak. AWS JSON 1.1 (the Rust and Java SDKs, older
//! botocore): a POST to `/`, the operation in `X-Amz-Target: AmazonAthena.<Operation>`.
//! REST-JSON (botocore since Athena's model moved to it, so boto3, the AWS CLI, PyAthena and
//! awswrangler): the operation in the method and path (`GET /query-executions/{id}/results`),
//! some parameters in the path and query string. Both carry the same JSON, and errors as
//! `{"__type": ..., "Message": ...}` with the status AWS gives each, which is what the SDKs turn
//! into their exceptions.

use serde_json::{Value, json};

/// The content type of requests and answers.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error answer: Athena's exception name, its HTTP status, and the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ApiError {
    /// The exception (`__type`).
    pub kind: &'static str,
    /// What is wrong.
    pub message: String,
    /// `AthenaErrorCode`, for `InvalidRequestException`.
    pub code: Option<&'static str>,
}

impl ApiError {
    fn new(kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { kind, message: message.into(), code: None }
    }

    /// A request Athena refuses (bad parameters, an unknown id or workgroup).
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError { code: Some("INVALID_INPUT"), ..ApiError::new("InvalidRequestException", message) }
    }

    /// Something this server failed at.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new("InternalServerException", message)
    }

    /// A named thing that does not exist (a prepared statement, a catalog).
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new("ResourceNotFoundException", message)
    }

    /// A body that is not the JSON the operation takes.
    pub fn serialization(message: impl Into<String>) -> ApiError {
        ApiError::new("SerializationException", message)
    }

    /// An operation Athena does not have, or this server does not serve.
    pub fn unknown_operation(target: &str) -> ApiError {
        ApiError::new("UnknownOperationException", format!("Operation {target} is not supported"))
    }

    /// A caller not allowed to do what it asks (`--read-only`).
    pub fn access_denied(message: impl Into<String>) -> ApiError {
        ApiError::new("AccessDeniedException", message)
    }

    /// A request without a signature of a known key.
    pub fn unrecognized_client(message: impl Into<String>) -> ApiError {
        ApiError::new("UnrecognizedClientException", message)
    }

    /// A signature that does not match the request.
    pub fn invalid_signature(message: impl Into<String>) -> ApiError {
        ApiError::new("InvalidSignatureException", message)
    }

    /// Too many requests at once.
    pub fn too_many(message: impl Into<String>) -> ApiError {
        ApiError { code: Some("TOO_MANY_REQUESTS"), ..ApiError::new("TooManyRequestsException", message) }
    }

    /// The HTTP status AWS answers this error with.
    pub fn status(&self) -> u16 {
        match self.kind {
            "InternalServerException" => 500,
            "AccessDeniedException" | "UnrecognizedClientException" | "InvalidSignatureException" => 403,
            "RequestEntityTooLargeException" => 413,
            _ => 400,
        }
    }

    /// The body.
    pub fn body(&self) -> Value {
        let mut body = json!({ "__type": self.kind, "Message": self.message });
        if let Some(code) = self.code {
            body["AthenaErrorCode"] = json!(code);
        }
        body
    }
}

/// The operation a target names: `AmazonAthena.StartQueryExecution` is `StartQueryExecution`.
pub fn operation(target: &str) -> Option<&str> {
    target.strip_prefix("AmazonAthena.")
}

/// The REST-JSON operation of a method and path, with the parameters the path carries.
pub fn route(method: &str, path: &str) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let one = |name: &'static str, value: &str| vec![(name, value.to_string())];
    let found = match (method, s.as_slice()) {
        ("POST", ["query-executions"]) => ("StartQueryExecution", vec![]),
        ("GET", ["query-executions"]) => ("ListQueryExecutions", vec![]),
        ("GET", ["query-executions", id]) => ("GetQueryExecution", one("QueryExecutionId", id)),
        ("GET", ["query-executions", id, "results"]) => ("GetQueryResults", one("QueryExecutionId", id)),
        ("POST", ["query-executions", id, "stop"]) => ("StopQueryExecution", one("QueryExecutionId", id)),
        ("GET", ["query-executions", id, "runtime-statistics"]) => {
            ("GetQueryRuntimeStatistics", one("QueryExecutionId", id))
        }
        ("POST", ["batch-get-query-executions"]) => ("BatchGetQueryExecution", vec![]),
        ("GET", ["workgroups"]) => ("ListWorkGroups", vec![]),
        ("GET", ["workgroups", wg]) => ("GetWorkGroup", one("WorkGroup", wg)),
        ("POST", ["workgroups", wg, "prepared-statements"]) => ("CreatePreparedStatement", one("WorkGroup", wg)),
        ("GET", ["workgroups", wg, "prepared-statements"]) => ("ListPreparedStatements", one("WorkGroup", wg)),
        (method, ["workgroups", wg, "prepared-statements", name]) => {
            let operation = match method {
                "GET" => "GetPreparedStatement",
                "PATCH" => "UpdatePreparedStatement",
                "DELETE" => "DeletePreparedStatement",
                _ => return None,
            };
            (operation, vec![("WorkGroup", wg.to_string()), ("StatementName", name.to_string())])
        }
        ("GET", ["data-catalogs"]) => ("ListDataCatalogs", vec![]),
        ("GET", ["data-catalogs", name]) => ("GetDataCatalog", one("Name", name)),
        ("GET", ["data-catalogs", catalog, "databases"]) => ("ListDatabases", one("CatalogName", catalog)),
        ("GET", ["data-catalogs", catalog, "databases", db]) => {
            ("GetDatabase", vec![("CatalogName", catalog.to_string()), ("DatabaseName", db.to_string())])
        }
        ("GET", ["data-catalogs", catalog, "databases", db, "tables"]) => {
            ("ListTableMetadata", vec![("CatalogName", catalog.to_string()), ("DatabaseName", db.to_string())])
        }
        ("GET", ["data-catalogs", catalog, "databases", db, "tables", table]) => (
            "GetTableMetadata",
            vec![
                ("CatalogName", catalog.to_string()),
                ("DatabaseName", db.to_string()),
                ("TableName", table.to_string()),
            ],
        ),
        _ => return None,
    };
    Some(found)
}

/// Adds a REST-JSON request's path and query-string parameters to its body's: numbers as
/// numbers (`MaxResults`), repeated ones as lists (`AttributesToGet`).
pub fn merge_parameters(input: &mut Value, path: Vec<(&'static str, String)>, query: Option<&str>) {
    let object = input.as_object_mut().expect("the input is an object");
    for (name, value) in path {
        object.insert(name.to_string(), json!(value));
    }
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = match name.as_ref() {
            "MaxResults" => value.parse::<u64>().map_or_else(|_| json!(value), |n| json!(n)),
            _ => json!(value),
        };
        match (name.as_ref(), object.get_mut(name.as_ref())) {
            ("AttributesToGet", Some(Value::Array(list))) => list.push(value),
            ("AttributesToGet", _) => {
                object.insert(name.into_owned(), json!([value]));
            }
            _ => {
                object.insert(name.into_owned(), value);
            }
        }
    }
}

/// A timestamp as AWS JSON protocols send them: seconds since the epoch, with milliseconds.
pub fn epoch(at: chrono::DateTime<chrono::Utc>) -> Value {
    json!(at.timestamp_millis() as f64 / 1000.0)
}

/// A string parameter of a request.
pub fn string<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// A string parameter the operation needs.
pub fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    string(input, name).ok_or_else(|| ApiError::invalid(format!("{name} is required")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_status_and_type_sdks_read() {
        let e = ApiError::invalid("QueryExecution abc was not found");
        assert_eq!(e.status(), 400);
        assert_eq!(e.body()["__type"], "InvalidRequestException");
        assert_eq!(e.body()["AthenaErrorCode"], "INVALID_INPUT");
        assert_eq!(ApiError::unrecognized_client("no").status(), 403);
        assert_eq!(operation("AmazonAthena.GetQueryResults"), Some("GetQueryResults"));
        assert_eq!(operation("AWSGlue.GetTable"), None);
    }

    #[test]
    fn rest_routes_carry_their_path_parameters() {
        let (operation, path) = route("GET", "/query-executions/abc%2Fd/results").unwrap();
        assert_eq!((operation, path), ("GetQueryResults", vec![("QueryExecutionId", "abc/d".to_string())]));
        let (operation, _) = route("DELETE", "/workgroups/primary/prepared-statements/q").unwrap();
        assert_eq!(operation, "DeletePreparedStatement");
        assert_eq!(route("PUT", "/query-executions"), None);
        let mut input = json!({});
        merge_parameters(&mut input, vec![("QueryExecutionId", "x".into())], Some("MaxResults=5&NextToken=a%3Db"));
        assert_eq!(input, json!({"QueryExecutionId": "x", "MaxResults": 5, "NextToken": "a=b"}));
    }
}
