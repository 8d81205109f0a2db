//! `b3lake serve`: Athena's real clients (boto3, the AWS CLI, PyAthena, SQLAlchemy), unchanged,
//! against the server over a local lake and over an S3 lake on moto. Their answers must equal
//! `b3lake sql`'s on the same lake; the client script (tests/clients/athena_clients.py) asserts
//! what Athena's API Reference says of states, errors, paging and the spelling of values.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use b3lake::lake::Lake;
use serde_json::Value;

use crate::common::*;

const PRICES: &str = "SELECT codigo_negociacao, preco_ultimo_negocio, volume_total_negociado, data_pregao \
     FROM cotacoes_b3_raw WHERE year = 2022 AND codigo_negociacao IN ('PETR4', 'VALE3', 'ITUB4') \
     ORDER BY codigo_negociacao";

/// A running `b3lake serve`, stopped when dropped.
struct Served {
    child: Child,
    endpoint: String,
}

impl Served {
    fn start(lake: &str, args: &[&str]) -> Served {
        Self::start_with(lake, args, &[])
    }

    fn start_with(lake: &str, args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_b3lake"))
            .args(["serve", "--lake", lake, "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run b3lake serve");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let endpoint = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("the server did not start: {line}"))
            .to_string();
        // The rest of its log, read so that the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        Served { child, endpoint }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The clients' Python (`B3LAKE_CLIENTS`, which tests/run.sh fills).
fn python() -> PathBuf {
    let dir = std::env::var("B3LAKE_CLIENTS")
        .expect("B3LAKE_CLIENTS is not set: run the tests with tests/run.sh, which installs boto3, PyAthena, ...");
    let path = Path::new(&dir).join("python");
    assert!(path.exists(), "{} is missing: run the tests with tests/run.sh", path.display());
    path
}

/// Runs a mode of the client script; its JSON.
fn clients(mode: &str, endpoint: &str, args: &[&str]) -> Value {
    let out = Command::new(python())
        .arg("tests/clients/athena_clients.py")
        .args([mode, endpoint])
        .args(args)
        .output()
        .expect("run the clients");
    assert!(
        out.status.success(),
        "{mode}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{mode}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// `b3lake sql`'s rows of a statement, as CSV cells.
fn engine(lake: &str, sql: &str) -> Vec<Vec<String>> {
    let out = cli(&["sql", "--lake", lake, "--format", "csv", "-c", sql]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn rows(value: &Value) -> Vec<Vec<String>> {
    let rows = value.as_array().unwrap_or_else(|| panic!("not rows: {value}"));
    rows.iter()
        .map(|r| r.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect())
        .collect()
}

fn count(lake: &str, sql: &str) -> i64 {
    engine(lake, sql)[0][0].parse().unwrap()
}

/// Everything boto3 asks of the API, and the answers against the engine's.
fn check_boto3(lake: &str, endpoint: &str) -> Value {
    let out = clients("boto3", endpoint, &[]);
    let prices = engine(lake, PRICES);
    assert_eq!(prices[1][1], "32.63", "PETR4's close on 2022-02-04, from B3's file");
    assert_eq!(rows(&out["prices"]), prices);
    assert_eq!(out["paged"]["rows"], count(lake, "SELECT count(*) FROM cotacoes_b3_raw WHERE year = 2022"));
    assert_eq!(out["paged"]["pages"], 8, "7,523 rows with the header, 1,000 a page");
    assert_eq!(rows(&out["parameter"]), [["32.63"]]);
    assert_eq!(rows(&out["prepared"]), [["87.98"]]);
    let opening = "SELECT preco_abertura FROM cotacoes_b3_raw WHERE codigo_negociacao = 'VALE3' AND year = 2022";
    assert_eq!(rows(&out["prepared_updated"]), engine(lake, opening));
    let petr = "SELECT count(*) FROM cotacoes_b3_raw WHERE codigo_negociacao LIKE 'PETR%' AND year = 2022";
    assert_eq!(out["ctas_rows"], count(lake, petr));
    assert_eq!(out["ctas_count"].as_str().unwrap().parse::<i64>().unwrap(), count(lake, petr));
    let tables: Vec<Vec<String>> = engine(lake, "SHOW TABLES");
    let tables: Vec<String> = tables.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(out["tables"].as_array().unwrap().len(), tables.len(), "{out}");
    assert_eq!(rows(&out["history_rows"]), prices);
    out
}

fn check_pyathena(lake: &str, endpoint: &str, staging: Option<&str>) {
    let out = clients("pyathena", endpoint, staging.as_slice());
    let prices = engine(lake, PRICES);
    assert_eq!(rows(&out["cursor"]), prices);
    assert_eq!(rows(&out["sqlalchemy"]), prices, "SQLAlchemy with pandas.read_sql");
    assert_eq!(out["cursor_parameter"], serde_json::json!(["32.63"]));
    assert_eq!(out["cursor_count"], count(lake, "SELECT count(*) FROM cotacoes_b3_raw WHERE year = 2022"));
    assert_eq!(out["cursor_json"], serde_json::json!([{"a": [1, 2]}, [1]]), "JSON columns reach PyAthena as JSON");
    if staging.is_some() {
        // pandas keeps a decimal column as Python Decimals, spelled as the engine spells them.
        assert_eq!(rows(&out["pandas"]), prices, "PandasCursor, reading the CSV from S3");
    }
}

async fn json(answer: reqwest::Response) -> Value {
    serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap()
}

/// One Athena call in AWS JSON 1.1, as the Rust and Java SDKs make it; the answer's JSON.
async fn athena_call(client: &reqwest::Client, endpoint: &str, operation: &str, body: &Value) -> Value {
    let answer = client
        .post(endpoint)
        .header("x-amz-target", format!("AmazonAthena.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    json(answer).await
}

async fn local_lake(dir: &Path) -> String {
    let path = dir.join("lake");
    let lake = Lake::open(path.to_str().unwrap()).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn athenas_clients_run_unchanged_on_a_local_lake_and_the_history_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(dir.path()).await;
    let served = Served::start(&lake, &["--max-concurrent", "2"]);
    let out = tokio::task::block_in_place(|| check_boto3(&lake, &served.endpoint));
    // Results where Athena puts them: the workgroup's folder, by default under the lake.
    let id = out["history_id"].as_str().unwrap();
    let csv = std::fs::read_to_string(Path::new(&lake).join(format!("athena-results/{id}.csv"))).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("\"codigo_negociacao\",\"preco_ultimo_negocio\",\"volume_total_negociado\",\"data_pregao\"")
    );
    assert!(csv.contains("\"PETR4\",\"32.63\",\"1945649554.00\",\"2022-02-04\""), "{csv}");
    drop(served);

    let served = Served::start(&lake, &[]);
    let history = tokio::task::block_in_place(|| clients("history", &served.endpoint, &[id]));
    assert_eq!(rows(&history["rows"]), engine(&lake, PRICES));
    let cli = tokio::task::block_in_place(|| clients("cli", &served.endpoint, &[]));
    assert_eq!(rows(&cli["prices"]), engine(&lake, PRICES), "the AWS CLI");
    tokio::task::block_in_place(|| check_pyathena(&lake, &served.endpoint, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn athenas_clients_run_unchanged_on_an_s3_lake_with_results_on_s3() {
    let url = bucket("b3lake-serve").await;
    let lake = Lake::open(&url).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    let served = Served::start(&url, &["--max-concurrent", "2", "--output", "s3://b3lake-serve/athena-results"]);
    tokio::task::block_in_place(|| {
        let out = check_boto3(&url, &served.endpoint);
        let id = out["history_id"].as_str().unwrap();
        let key = format!("athena-results/{id}.csv");
        let results = Lake::open("s3://b3lake-serve/");
        let results = tokio::runtime::Handle::current().block_on(results).unwrap();
        let csv = tokio::runtime::Handle::current().block_on(results.read(&results.path(&key))).unwrap();
        assert!(csv.is_some_and(|c| c.starts_with(b"\"codigo_negociacao\"")), "the results are on S3");
        check_pyathena(&url, &served.endpoint, Some("s3://b3lake-serve/staging/"));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awswrangler_reads_by_csv_ctas_and_unload_and_its_glue_calls_reach_the_lakes_catalog() {
    let url = bucket("b3lake-wrangler").await;
    let lake = Lake::open(&url).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    let tables_before = engine(&url, "SHOW TABLES");
    // The workgroup's results under the lake, where CTAS's temporary tables then go too.
    let served = Served::start(&url, &[]);
    // UNLOAD's target must be empty, as Athena's.
    let target = format!("s3://b3lake-wrangler/lake/unloaded-{}/", uuid::Uuid::new_v4());
    let out = tokio::task::block_in_place(|| clients("wrangler", &served.endpoint, &[&target]));
    let prices = engine(&url, PRICES);
    for approach in ["csv", "ctas", "unload", "results"] {
        assert_eq!(rows(&out[approach]), prices, "{approach}");
    }
    let tables: Vec<String> = tables_before.into_iter().map(|r| r[0].clone()).collect();
    let served_tables: Vec<String> = rows(&out["tables"]).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(served_tables.iter().filter(|t| t.starts_with("temp_table_")).count(), 0, "{served_tables:?}");
    assert_eq!(served_tables.len(), tables.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pair_makes_every_request_signed_and_off_loopback_one_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(dir.path()).await;
    let refused = cli(&["serve", "--lake", &lake, "--listen", "0.0.0.0:0"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("needs a key pair"), "{}", stderr(&refused));

    let key = [("B3LAKE_SERVE_ACCESS_KEY_ID", "AKIAB3LAKETEST"), ("B3LAKE_SERVE_SECRET_ACCESS_KEY", "s3cr3t-value")];
    let served = Served::start_with(&lake, &[], &key);
    let out = tokio::task::block_in_place(|| clients("signed", &served.endpoint, &["AKIAB3LAKETEST", "s3cr3t-value"]));
    assert_eq!(out["ok"], true);
    // An unsigned request.
    let answer = reqwest::Client::new()
        .post(&served.endpoint)
        .header("x-amz-target", "AmazonAthena.ListWorkGroups")
        .header("content-type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    let body = json(answer).await;
    assert_eq!(body["__type"], "UnrecognizedClientException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_every_write_and_answers_queries() {
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(dir.path()).await;
    let before = snapshot(Path::new(&lake).join("raw").as_path());
    let served = Served::start(&lake, &["--read-only"]);
    let out = tokio::task::block_in_place(|| clients("read-only", &served.endpoint, &[]));
    assert_eq!(rows(&out["prices"]), engine(&lake, PRICES));
    assert_eq!(snapshot(Path::new(&lake).join("raw").as_path()), before, "the lake is as it was");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_athenas_errors() {
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(dir.path()).await;
    let served = Served::start(&lake, &[]);
    let client = reqwest::Client::new();
    let call = |target: &'static str, body: Vec<u8>| {
        client
            .post(&served.endpoint)
            .header("x-amz-target", target)
            .header("content-type", "application/x-amz-json-1.1")
            .body(body)
            .send()
    };
    let kind = |answer: reqwest::Response| async move {
        let status = answer.status().as_u16();
        let body = json(answer).await;
        (status, body["__type"].as_str().unwrap().to_string())
    };
    let malformed = call("AmazonAthena.StartQueryExecution", b"{\"QueryString\": ".to_vec()).await.unwrap();
    assert_eq!(kind(malformed).await, (400, "SerializationException".into()));
    let unknown = call("AmazonAthena.CreateNotebook", b"{}".to_vec()).await.unwrap();
    assert_eq!(kind(unknown).await, (400, "UnknownOperationException".into()));
    let missing = call("AmazonAthena.StartQueryExecution", b"{}".to_vec()).await.unwrap();
    assert_eq!(kind(missing).await, (400, "InvalidRequestException".into()));
    let huge = format!("{{\"QueryString\": \"SELECT '{}'\"}}", "x".repeat(2_000_000));
    // On a connection of its own: the server closes it, with the body unread.
    let huge = reqwest::Client::new()
        .post(&served.endpoint)
        .header("x-amz-target", "AmazonAthena.StartQueryExecution")
        .header("content-length", huge.len())
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(kind(huge).await, (413, "RequestEntityTooLargeException".into()));
    // The AWS JSON 1.1 protocol (the Rust SDK's) answers as the REST one (boto3's) does.
    let start = call("AmazonAthena.StartQueryExecution", br#"{"QueryString": "SELECT 1 AS one"}"#.to_vec());
    let id = json(start.await.unwrap()).await;
    let id = id["QueryExecutionId"].as_str().unwrap().to_string();
    let state = loop {
        let body = serde_json::to_vec(&serde_json::json!({ "QueryExecutionId": id })).unwrap();
        let answer = json(call("AmazonAthena.GetQueryExecution", body).await.unwrap()).await;
        let state = answer["QueryExecution"]["Status"]["State"].as_str().unwrap().to_string();
        if state != "QUEUED" && state != "RUNNING" {
            break state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(state, "SUCCEEDED");
    let body = serde_json::to_vec(&serde_json::json!({ "QueryExecutionId": id })).unwrap();
    let results = json(call("AmazonAthena.GetQueryResults", body).await.unwrap()).await;
    assert_eq!(results["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"], "1");
}

/// A server killed during a CTAS: the lake is whole (the table all there or not there), and the
/// query reads FAILED after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_ctas_leaves_the_lake_whole_and_the_query_failed() {
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(dir.path()).await;
    let mut served = Served::start(&lake, &[]);
    let client = reqwest::Client::new();
    let call = |endpoint: String, operation: &'static str, body: Value| {
        let client = client.clone();
        async move { athena_call(&client, &endpoint, operation, &body).await }
    };
    let ctas = "CREATE TABLE copies AS SELECT r.* FROM cotacoes_b3_raw r CROSS JOIN UNNEST(sequence(1, 20)) AS t(n)";
    let started =
        call(served.endpoint.clone(), "StartQueryExecution", serde_json::json!({ "QueryString": ctas })).await;
    let id = started["QueryExecutionId"].as_str().unwrap().to_string();
    loop {
        let answer =
            call(served.endpoint.clone(), "GetQueryExecution", serde_json::json!({ "QueryExecutionId": id })).await;
        if answer["QueryExecution"]["Status"]["State"] == "RUNNING" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    drop(served);

    let served = Served::start(&lake, &[]);
    let answer =
        call(served.endpoint.clone(), "GetQueryExecution", serde_json::json!({ "QueryExecutionId": id })).await;
    let status = &answer["QueryExecution"]["Status"];
    // Killed before it ended, or (on a fast machine) after: never left RUNNING.
    assert!(
        status["State"] == "FAILED" && status["StateChangeReason"].as_str().unwrap().contains("server stopped")
            || status["State"] == "SUCCEEDED",
        "{status}"
    );
    eprintln!("the killed CTAS: {}", status["State"]);
    let expected = 20 * count(&lake, "SELECT count(*) FROM cotacoes_b3_raw");
    let tables: Vec<String> = engine(&lake, "SHOW TABLES").into_iter().map(|r| r[0].clone()).collect();
    if tables.contains(&"copies".to_string()) {
        assert_eq!(count(&lake, "SELECT count(*) FROM copies"), expected, "all of the table, or none");
    } else {
        // Not there: the same CTAS runs again, to the whole table.
        let again = cli(&["sql", "--lake", &lake, "-c", ctas]);
        assert!(again.status.success(), "{}", stderr(&again));
        assert_eq!(count(&lake, "SELECT count(*) FROM copies"), expected);
    }
}

/// dbt-athena's `dbt run` and `dbt test` of examples/dbt (a view over raw, a table model, three
/// tests), with Athena and Glue at the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dbt_athena_runs_and_tests_the_example_project() {
    let url = bucket("b3lake-dbt").await;
    let lake = Lake::open(&url).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    let served = Served::start(&url, &[]);
    let dbt = std::env::var("B3LAKE_DBT")
        .expect("B3LAKE_DBT is not set: run the tests with tests/run.sh, which installs dbt-athena");
    let work = tempfile::tempdir().unwrap();
    let data_dir = format!("s3://b3lake-dbt/lake/dbt-{}/", uuid::Uuid::new_v4());
    // A second run replaces the table and the view, as a scheduled dbt job does.
    for step in ["run", "test", "run"] {
        let out = Command::new(Path::new(&dbt).join("dbt"))
            .current_dir("examples/dbt")
            .args([step, "--profiles-dir", "."])
            .arg("--target-path")
            .arg(work.path().join("target"))
            .arg("--log-path")
            .arg(work.path().join("logs"))
            .env("AWS_ENDPOINT_URL_ATHENA", &served.endpoint)
            .env("AWS_ENDPOINT_URL_GLUE", &served.endpoint)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("B3LAKE_DBT_STAGING", "s3://b3lake-dbt/lake/athena-results/")
            .env("B3LAKE_DBT_DATA", &data_dir)
            .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
            .env("HOME", work.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "dbt {step}:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("Completed successfully"), "dbt {step}:\n{text}");
    }
    // The models are the lake's: the same answers from b3lake sql.
    let volume = "SELECT data_pregao, count(*), sum(volume_total_negociado) FROM cotacoes_b3_raw \
                  WHERE tipo_mercado = 10 GROUP BY data_pregao";
    assert_eq!(engine(&url, "SELECT data_pregao, papeis, volume FROM daily_volume"), engine(&url, volume));
    let petr = "SELECT count(*) FROM cotacoes_b3_raw WHERE codigo_negociacao LIKE 'PETR%'";
    assert_eq!(engine(&url, "SELECT count(*) FROM petr_quotes"), engine(&url, petr));
}

/// The design's analytics notebook (examples/notebooks/), executed headless through PyAthena
/// against the server, saved as HTML whose Plotly charts then draw in headless Chromium.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analytics_notebook_runs_against_the_server_and_its_charts_draw() {
    let lake = demo_lake().await;
    let lake = lake.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let results = out.path().join("results");
    // Results apart: the demo lake is shared with other tests.
    let served = Served::start(lake, &["--output", results.to_str().unwrap()]);
    let jupyter = Path::new(&std::env::var("B3LAKE_CLIENTS").expect("B3LAKE_CLIENTS is not set")).join("jupyter");
    let run = Command::new(jupyter)
        .args([
            "nbconvert",
            "--to",
            "html",
            "--execute",
            "examples/notebooks/b3_athena_analytics.ipynb",
            "--output-dir",
        ])
        .arg(out.path())
        .env("B3LAKE_ATHENA_ENDPOINT", &served.endpoint)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let page = out.path().join("b3_athena_analytics.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("class=\"plotly-graph-div\"").count(), 3, "three charts");
    let top = "SELECT codigo_negociacao, volume_total_negociado FROM cotacoes_b3_raw WHERE tipo_mercado = 10 \
               AND data_pregao = (SELECT max(data_pregao) FROM cotacoes_b3_raw) ORDER BY volume_total_negociado DESC LIMIT 1";
    let top = &engine(lake, top)[0];
    assert!(html.contains(&top[0]) && html.contains(&top[1]), "the top ticker and its exact value: {top:?}");
    assert!(!html.contains("Traceback"), "every cell ran");

    // Interactive: Plotly draws each chart's SVG when the page runs, offline.
    let dom = chromium(&out.path().join("profile"))
        .args(["--virtual-time-budget=15000", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.matches("class=\"main-svg\"").count() >= 3, "the charts did not draw");
}

/// `b3lake sql --engine athena` pointed at the server runs the SQL as the local engine does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b3lakes_own_athena_engine_runs_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(dir.path()).await;
    let served = Served::start(&lake, &[]);
    let out = Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .args(["sql", "--lake", &lake, "--engine", "athena", "--format", "csv", "-c", PRICES])
        .env("AWS_ENDPOINT_URL_ATHENA", &served.endpoint)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let remote: Vec<Vec<String>> = text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(remote, engine(&lake, PRICES));
}

/// The `.slt` suite's records, run through Athena's API (AWS JSON 1.1) instead of the engine:
/// every query the suite checks locally answers the same through the server.
struct ApiDb {
    endpoint: String,
    client: reqwest::Client,
    /// The suite's own in-memory tables (`CREATE TABLE t (...)`, `INSERT INTO t VALUES`), which
    /// Athena has no equivalent of: their records run on a local session, as the suite's runner
    /// runs them.
    local: datafusion::prelude::SessionContext,
}

/// Records the suite ran through the API.
static THROUGH_API: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The tables the suite makes in memory.
const MEMORY_TABLES: [&str; 3] = ["shipping", "negocios", "big"];

impl ApiDb {
    async fn call(&self, operation: &str, body: Value) -> Value {
        athena_call(&self.client, &self.endpoint, operation, &body).await
    }

    fn uses_memory_tables(sql: &str) -> bool {
        let lower = sql.to_ascii_lowercase();
        lower.split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| MEMORY_TABLES.contains(&w))
    }

    async fn run_locally(&self, sql: &str) -> Result<sqllogictest::DBOutput<sqllogictest::DefaultColumnType>, String> {
        let statement = b3lake::sql::dialect::parse(sql, 50).map_err(|e| e.to_string())?;
        let plan = self.local.state().statement_to_plan(statement).await.map_err(|e| e.to_string())?;
        let df = self.local.execute_logical_plan(plan).await.map_err(|e| e.to_string())?;
        let columns = df.schema().fields().len();
        let batches = df.collect().await.map_err(|e| e.to_string())?;
        if batches.iter().all(|b| b.num_rows() == 0) && sql.trim_start().to_ascii_uppercase().starts_with("CREATE") {
            return Ok(sqllogictest::DBOutput::StatementComplete(0));
        }
        let mut rows = Vec::new();
        for batch in &batches {
            for i in 0..batch.num_rows() {
                rows.push(
                    b3lake::sql::dialect::text::row(batch, i, b3lake::sql::dialect::text::Double::Shown)
                        .map(cell)
                        .collect(),
                );
            }
        }
        Ok(sqllogictest::DBOutput::Rows { types: vec![sqllogictest::DefaultColumnType::Any; columns], rows })
    }
}

/// A value as the suite writes it.
fn cell(value: Option<String>) -> String {
    match value {
        None => "NULL".into(),
        Some(v) if v.is_empty() => "(empty)".into(),
        Some(v) => v,
    }
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for ApiDb {
    type Error = std::io::Error;
    type ColumnType = sqllogictest::DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<sqllogictest::DBOutput<Self::ColumnType>, Self::Error> {
        if Self::uses_memory_tables(sql) {
            return self.run_locally(sql).await.map_err(std::io::Error::other);
        }
        THROUGH_API.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = self.call("StartQueryExecution", serde_json::json!({ "QueryString": sql })).await;
        let id = started["QueryExecutionId"].as_str().ok_or_else(|| std::io::Error::other(started.to_string()))?;
        let execution = loop {
            let answer = self.call("GetQueryExecution", serde_json::json!({ "QueryExecutionId": id })).await;
            let execution = answer["QueryExecution"].clone();
            match execution["Status"]["State"].as_str() {
                Some("QUEUED" | "RUNNING") => tokio::time::sleep(std::time::Duration::from_millis(2)).await,
                _ => break execution,
            }
        };
        if execution["Status"]["State"] != "SUCCEEDED" {
            return Err(std::io::Error::other(
                execution["Status"]["StateChangeReason"].as_str().unwrap_or("failed").to_string(),
            ));
        }
        let (mut rows, mut token) = (Vec::new(), None::<String>);
        let mut columns;
        loop {
            let mut body = serde_json::json!({ "QueryExecutionId": id });
            if let Some(token) = &token {
                body["NextToken"] = serde_json::json!(token);
            }
            let page = self.call("GetQueryResults", body).await;
            columns = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"].as_array().map_or(0, Vec::len);
            for row in page["ResultSet"]["Rows"].as_array().into_iter().flatten() {
                let data = row["Data"].as_array().unwrap();
                rows.push(
                    data.iter().map(|d| cell(d["VarCharValue"].as_str().map(str::to_string))).collect::<Vec<_>>(),
                );
            }
            token = page["NextToken"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        // A query's first row repeats the column names.
        if execution["StatementType"] == "DML" && !rows.is_empty() {
            rows.remove(0);
        }
        if columns == 0 {
            return Ok(sqllogictest::DBOutput::StatementComplete(0));
        }
        Ok(sqllogictest::DBOutput::Rows { types: vec![sqllogictest::DefaultColumnType::Any; columns], rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "b3lake serve"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_athena_sql_suite_answers_the_same_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let served = Served::start(lake.to_str().unwrap(), &["--max-concurrent", "4"]);
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/slt/athena")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(files.len() >= 16, "{files:?}");
    let mut failed = Vec::new();
    for file in &files {
        let endpoint = served.endpoint.clone();
        let mut runner = sqllogictest::Runner::new(move || {
            let endpoint = endpoint.clone();
            async move {
                let local = b3lake::sql::dialect::context(
                    datafusion::execution::SessionStateBuilder::new().with_default_features(),
                );
                Ok::<_, std::io::Error>(ApiDb { endpoint, client: reqwest::Client::new(), local })
            }
        });
        if let Err(e) = runner.run_file_async(file).await {
            failed.push(format!("{}: {}", file.display(), e.display(false)));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    let through = THROUGH_API.load(std::sync::atomic::Ordering::Relaxed);
    assert!(through > 950, "{through} records through the API");
    eprintln!("{through} records of the .slt suite through the API");
}

/// Many clients at once, each its own connection: every answer equals the query's serial one,
/// stopped queries end CANCELLED, and failures stay each client's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_at_once_get_the_serial_answers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(dir.path()).await;
    let served = Served::start(&lake, &["--max-concurrent", "4"]);
    let queries = [
        PRICES,
        "SELECT tipo_mercado, count(*), sum(volume_total_negociado) FROM cotacoes_b3_raw GROUP BY 1 ORDER BY 1",
        "SELECT * FROM no_such_table",
    ];
    /// Runs a query to its end; its state and every row (the header row included).
    async fn answer(client: &reqwest::Client, endpoint: &str, sql: &str, stop: bool) -> (String, Vec<Value>) {
        let started =
            athena_call(client, endpoint, "StartQueryExecution", &serde_json::json!({ "QueryString": sql })).await;
        let id = serde_json::json!({ "QueryExecutionId": started["QueryExecutionId"] });
        if stop {
            athena_call(client, endpoint, "StopQueryExecution", &id).await;
        }
        let state = loop {
            let execution = athena_call(client, endpoint, "GetQueryExecution", &id).await;
            let state = execution["QueryExecution"]["Status"]["State"].as_str().unwrap().to_string();
            if state != "QUEUED" && state != "RUNNING" {
                break state;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        };
        let rows = match state.as_str() {
            "SUCCEEDED" => {
                let page = athena_call(client, endpoint, "GetQueryResults", &id).await;
                page["ResultSet"]["Rows"].as_array().unwrap().clone()
            }
            _ => Vec::new(),
        };
        (state, rows)
    }
    let client = reqwest::Client::new();
    let mut serial = Vec::new();
    for sql in queries {
        serial.push(answer(&client, &served.endpoint, sql, false).await);
    }
    assert_eq!(serial.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), ["SUCCEEDED", "SUCCEEDED", "FAILED"]);
    let slow = "SELECT count(*) FROM cotacoes_b3_raw a CROSS JOIN cotacoes_b3_raw b CROSS JOIN cotacoes_b3_raw c";
    let mut clients = tokio::task::JoinSet::new();
    for n in 0..8 {
        let (endpoint, serial) = (served.endpoint.clone(), serial.clone());
        clients.spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..12 {
                if (n + i) % 4 == 3 {
                    let (state, _) = answer(&client, &endpoint, slow, true).await;
                    assert_eq!(state, "CANCELLED", "client {n}, query {i}");
                } else {
                    let k = (n + i) % 3;
                    assert_eq!(answer(&client, &endpoint, queries[k], false).await, serial[k], "client {n}, query {i}");
                }
            }
        });
    }
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }
}
