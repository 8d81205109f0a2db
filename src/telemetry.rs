//! Logs through `tracing`: readable lines for people, JSON lines for log pipelines, and with
//! JSON the jobs' metrics in CloudWatch's Embedded Metric Format.

use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log pipelines (CloudWatch, Loki...).
    Json,
}

/// Installs the global subscriber, writing to stderr. `RUST_LOG` overrides `default_level`.
pub fn init(format: LogFormat, default_level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => {
            METRICS.store(true, std::sync::atomic::Ordering::Relaxed);
            builder.json().flatten_event(true).try_init()
        }
    };
}

/// A progress bar drawn with indicatif's `template`, or a hidden one when progress is off (not a
/// terminal, or nothing to count).
pub fn progress_bar(enabled: bool, len: u64, template: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    bar
}

/// Whether jobs write their metrics (set by [`init`] with [`LogFormat::Json`]).
static METRICS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The CloudWatch namespace of b3lake's metrics, unless `B3LAKE_METRICS_NAMESPACE` names another.
pub const METRICS_NAMESPACE: &str = "b3lake";

/// The unit of a metric, as CloudWatch names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A number of things: records, days, rows, failures.
    Count,
    /// Bytes.
    Bytes,
    /// Wall time in milliseconds.
    Milliseconds,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Bytes => "Bytes",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// Writes a job's metrics as one line of CloudWatch's Embedded Metric Format on stderr, beside
/// the JSON logs, when they are on: in Lambda, CloudWatch Logs turns the line into metrics with
/// no API call of ours, and anywhere else the same line can be collected the same way. The
/// dimensions are the function (`AWS_LAMBDA_FUNCTION_NAME`, or `cli`) and the job.
pub fn emit_metrics(job: &str, metrics: &[(&str, Unit, f64)]) {
    if !METRICS.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let line = metrics_line(job, metrics, chrono::Utc::now().timestamp_millis());
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The EMF line of [`emit_metrics`].
pub fn metrics_line(job: &str, metrics: &[(&str, Unit, f64)], timestamp_ms: i64) -> String {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "cli".to_string());
    let namespace = std::env::var("B3LAKE_METRICS_NAMESPACE").unwrap_or_else(|_| METRICS_NAMESPACE.to_string());
    let definitions: Vec<serde_json::Value> =
        metrics.iter().map(|(name, unit, _)| serde_json::json!({ "Name": name, "Unit": unit.name() })).collect();
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Function", "Job"]],
                "Metrics": definitions,
            }],
        },
        "Function": function,
        "Job": job,
    });
    for (name, _, value) in metrics {
        line[*name] = serde_json::json!(value);
    }
    line.to_string()
}

/// Runs a job and writes its metrics: what `measure` reads off its report and its duration, or
/// `Failures: 1` when it fails.
pub async fn measured<T, E>(
    job: &str,
    run: impl std::future::Future<Output = Result<T, E>>,
    measure: impl FnOnce(&T) -> Vec<(&'static str, Unit, f64)>,
) -> Result<T, E> {
    let started = std::time::Instant::now();
    // Boxed: a job's future is large, and this wrapper must not add it to the caller's stack.
    let result = Box::pin(run).await;
    let duration = ("Duration", Unit::Milliseconds, started.elapsed().as_secs_f64() * 1e3);
    match &result {
        Ok(report) => {
            let mut metrics = measure(report);
            metrics.push(("Failures", Unit::Count, 0.0));
            metrics.push(duration);
            emit_metrics(job, &metrics);
        }
        Err(_) => emit_metrics(job, &[("Failures", Unit::Count, 1.0), duration]),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_line_is_embedded_metric_format() {
        let line =
            metrics_line("transform", &[("DaysTransformed", Unit::Count, 3.0), ("BytesWritten", Unit::Bytes, 10.0)], 7);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 7);
        assert_eq!(directive["Dimensions"], serde_json::json!([["Function", "Job"]]));
        assert_eq!(directive["Metrics"][1], serde_json::json!({"Name": "BytesWritten", "Unit": "Bytes"}));
        // Every dimension and metric a directive names is a member of the line itself.
        assert_eq!(v["Job"], "transform");
        assert!(v["Function"].is_string());
        assert_eq!(v["DaysTransformed"], 3.0);
        assert_eq!(v["BytesWritten"], 10.0);
    }
}
