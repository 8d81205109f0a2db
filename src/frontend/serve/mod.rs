//! Amazon Athena's API on a local port, over the lake (both protocols its clients speak, see
//! [`protocol`]): the code people already point at
//! Athena (boto3, the AWS CLI, PyAthena, awswrangler, dbt-athena, notebooks) runs offline,
//! unchanged, with `endpoint_url` (or `AWS_ENDPOINT_URL_ATHENA`) set to the server.
//!
//! A query runs in its own task on the same engine as `b3lake sql`, its rows written as they
//! come to `<OutputLocation>/<id>.csv` (see [`results`]); the client polls its state and pages
//! the file back. Nothing a request does waits on the engine: the HTTP workers only read and
//! write small records. The server listens on loopback unless it is given a key pair, and
//! then checks every request's SigV4 signature ([`sigv4`]).

pub mod api;
pub mod executions;
pub mod glue;
pub mod protocol;
pub mod results;
pub mod sigv4;
pub mod statement;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use self::api::Api;
use self::executions::Executions;
use self::protocol::{ApiError, CONTENT_TYPE};
use self::sigv4::Key;
use crate::lake::Lake;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The Glue database the lake's tables are in.
    pub database: String,
    /// Where results (and the query history) go unless a request says otherwise; the lake's
    /// `athena-results/` if unset.
    pub output: Option<String>,
    /// Queries run at once; the rest wait QUEUED (Athena's default quota: 20 DML queries).
    pub max_concurrent: usize,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// Refuse statements that change the lake.
    pub read_only: bool,
    /// The key pair requests must be signed with; required off loopback.
    pub key: Option<Key>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            database: crate::sql::session::DEFAULT_DATABASE.into(),
            output: None,
            max_concurrent: 20,
            max_connections: 256,
            // Athena's longest query, escaped in JSON, with room for the rest of the request.
            max_body: 2 * api::MAX_QUERY_BYTES + 64 * 1024,
            read_only: false,
            key: None,
        }
    }
}

impl ServeOptions {
    /// Refuses an address beyond loopback without a key pair to check requests with.
    pub fn check_listen(&self, address: std::net::SocketAddr) -> Result<(), Error> {
        if address.ip().is_loopback() || self.key.is_some() { Ok(()) } else { Err(Error::Unauthenticated(address)) }
    }
}

/// What the server refuses to start with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A non-loopback address without a key pair.
    #[error(
        "{0} is not a loopback address: serving the lake beyond this machine needs a key pair \
         (--access-key-id and --secret-access-key, or B3LAKE_SERVE_ACCESS_KEY_ID and \
         B3LAKE_SERVE_SECRET_ACCESS_KEY), which every request must then be signed with"
    )]
    Unauthenticated(std::net::SocketAddr),
    /// The listener failed.
    #[error("listening: {0}")]
    Io(#[from] std::io::Error),
    /// The lake or the results folder.
    #[error(transparent)]
    Lake(#[from] Box<crate::Error>),
}

/// Athena's API over a lake.
pub struct Server {
    api: Api,
    options: ServeOptions,
}

impl Server {
    /// A server over `lake`, with the history its results folder keeps.
    pub async fn new(lake: Lake, options: ServeOptions) -> Result<Arc<Server>, Error> {
        let output = match &options.output {
            Some(output) => output.clone(),
            None => lake.file_url("athena-results"),
        };
        let executions = Executions::open(lake, &output, options.max_concurrent, options.read_only)
            .await
            .map_err(|e| Error::Lake(Box::new(e)))?;
        let api = Api { executions: Arc::new(executions), database: options.database.to_ascii_lowercase() };
        Ok(Arc::new(Server { api, options }))
    }

    /// The queries.
    pub fn executions(&self) -> &Arc<Executions> {
        &self.api.executions
    }

    /// Serves connections from `listener` until `shutdown` completes.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let address = listener.local_addr()?;
        self.options.check_listen(address)?;
        info!(%address, signed = self.options.key.is_some(), read_only = self.options.read_only, "serving Athena's API");
        let connections = Arc::new(Semaphore::new(self.options.max_connections.max(1)));
        tokio::pin!(shutdown);
        loop {
            // A connection is accepted only when one may be served: the rest wait in the
            // kernel's backlog, and memory stays bounded.
            let permit = tokio::select! {
                permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                () = &mut shutdown => return Ok(()),
            };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        warn!("accepting a connection: {e}");
                        continue;
                    }
                },
                () = &mut shutdown => return Ok(()),
            };
            let server = self.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| server.clone().handle(request));
                let served = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                if let Err(e) = served {
                    debug!(%peer, "connection ended: {e}");
                }
                drop(permit);
            });
        }
    }

    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (operation, answer) = match self.answer(request).await {
            Ok((operation, body)) => (operation, Ok(body)),
            Err((operation, e)) => (operation, Err(e)),
        };
        let (status, body) = match answer {
            Ok(body) => (200, body),
            Err(e) => {
                debug!(operation, kind = e.kind, "{}", e.message);
                (e.status(), e.body())
            }
        };
        debug!(operation, status, request_id, "answered");
        let response = Response::builder()
            .status(StatusCode::from_u16(status).expect("a valid status"))
            .header("content-type", CONTENT_TYPE)
            .header("x-amzn-requestid", request_id)
            .body(Full::new(Bytes::from(serde_json::to_vec(&body).expect("JSON serializes"))))
            .expect("a valid response");
        Ok(response)
    }

    /// The operation's answer, or its error; with the operation's name for the log.
    async fn answer(&self, request: Request<Incoming>) -> Result<(String, Value), (String, ApiError)> {
        let target =
            request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let fail = |e: ApiError| (target.clone(), e);
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, self.options.max_body).collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(fail(ApiError {
                    kind: "RequestEntityTooLargeException",
                    message: format!("the request is larger than {} bytes", self.options.max_body),
                    code: None,
                }));
            }
            Err(e) => return Err(fail(ApiError::serialization(format!("reading the request: {e}")))),
        };
        if let Some(key) = &self.options.key {
            let uri = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            sigv4::verify(key, parts.method.as_str(), uri, &parts.headers, &body).map_err(fail)?;
        }
        let mut input: Value = if body.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| fail(ApiError::serialization(format!("the body is not JSON: {e}"))))?
        };
        if !input.is_object() {
            return Err(fail(ApiError::serialization("the body is not a JSON object")));
        }
        if let Some(operation) = target.strip_prefix("AWSGlue.") {
            let answer = glue::call(&self.api, operation, &input).await.map_err(fail)?;
            return Ok((target.clone(), answer));
        }
        // AWS JSON 1.1 names its operation in a header; REST-JSON in the method and path.
        let operation = match protocol::operation(&target) {
            Some(operation) => operation.to_string(),
            None if !target.is_empty() => return Err(fail(ApiError::unknown_operation(&target))),
            None => {
                let route = protocol::route(parts.method.as_str(), parts.uri.path());
                let unknown = || fail(ApiError::unknown_operation(&format!("{} {}", parts.method, parts.uri.path())));
                let (operation, parameters) = route.ok_or_else(unknown)?;
                protocol::merge_parameters(&mut input, parameters, parts.uri.query());
                operation.to_string()
            }
        };
        let fail = |e: ApiError| (operation.clone(), e);
        let answer = self.api.call(&operation, &input).await.map_err(fail)?;
        Ok((operation, answer))
    }
}
