//! `b3lake-lambda`: the AWS Lambda function (`provided.al2023`). It reads its configuration
//! from the environment, logs JSON lines (with the jobs' metrics in CloudWatch's Embedded
//! Metric Format) and hands each invocation to [`b3lake::frontend::lambda::handle`].

use b3lake::chain::chain;
use b3lake::frontend::lambda::{Config, handle};
use b3lake::telemetry::{self, LogFormat};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init(LogFormat::Json, "info");
    // A bad configuration fails the function's start, where Lambda reports it, not each event.
    let config = Config::from_env().map_err(|e| chain(&e))?;
    let config = &config;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(&event.payload, config).await.map_err(|e| {
            let error = chain(&e);
            tracing::error!(request = %event.context.request_id, %error, "invocation failed");
            error
        })
    }))
    .await
}
