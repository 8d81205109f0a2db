//! The Lambda function's handler, in-process, as AWS would start it: S3 events against a lake on
//! moto's S3, the schedule against a B3 look-alike on
//! 127.0.0.1, and the backfill's invocations against a scripted Lambda endpoint.

use std::time::Duration;

use b3lake::frontend::lambda::{Config, handle};
use b3lake::lake::Lake;
use b3lake::retry::RetryConfig;
use b3lake::transform::backfill::{BackfillOptions, invoke_days, payload};
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::common::*;
use crate::portfolio::{API, portfolio_page, quotes_of_the_portfolio_day, real_answer};
use crate::trigger::event;

/// The function's configuration for the lake at the root of `bucket`, as the template sets it.
pub(crate) fn config(bucket: &str, extra: &[(&str, &str)]) -> Config {
    let mut vars: Vec<(String, String)> = vec![("B3LAKE_LAKE".into(), format!("s3://{bucket}"))];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_vars(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())).unwrap()
}

pub(crate) fn raw_key(day: &str) -> String {
    let (y, m, d) = (&day[0..4], &day[5..7], &day[8..10]);
    format!("raw/year%3D{y}/month%3D{m}/day%3D{d}/cotacoes_{y}{m}{d}.parquet")
}

pub(crate) async fn bucket_lake(name: &str) -> Lake {
    bucket(name).await;
    Lake::open(&format!("s3://{name}")).await.unwrap()
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

#[tokio::test]
async fn an_s3_event_transforms_its_day_in_the_function_once() {
    let lake = bucket_lake("b3lake-fn-event").await;
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    let config = config("b3lake-fn-event", &[]);

    let delivery = parse(&event("b3lake-fn-event", &[&raw_key("2022-02-04")]));
    let answer = handle(&delivery, &config).await.unwrap();
    assert_eq!(answer["transformed"][0]["days"], json!(["2022-02-04"]), "{answer}");
    let refined = "SELECT count(*), sum(vol_financeiro_total) FROM cotacoes_b3_refined";
    let raw = "SELECT count(*), sum(volume_total_negociado) FROM cotacoes_b3_raw WHERE tipo_mercado = 10";
    let expected = strings(&query(&lake, raw).await);
    assert_eq!(strings(&query(&lake, refined).await), expected);
    assert!(expected[0].starts_with("1196|"), "{expected:?}");

    // S3 delivers at least once: the same event again finds the day up to date.
    let again = handle(&delivery, &config).await.unwrap();
    assert_eq!(again["transformed"][0]["days"], json!([]), "{again}");
    assert_eq!(again["transformed"][0]["up_to_date"], 1);
    assert_eq!(strings(&query(&lake, refined).await), expected, "no duplicate rows");

    // S3's test event, sent when the notification is set up, is nothing to do.
    let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-01-01T00:00:00.000Z", "Bucket": "b3lake-fn-event"});
    assert_eq!(handle(&test_event, &config).await.unwrap()["transformed"], json!([]));

    // Another lake's event is refused, and changes nothing.
    let elsewhere = parse(&event("someone-else", &[&raw_key("2022-02-04")]));
    let e = b3lake::chain::chain(&handle(&elsewhere, &config).await.unwrap_err());
    assert!(e.contains("s3://someone-else") && e.contains("serves s3://b3lake-fn-event"), "{e}");

    // A backfill request transforms the day again, replacing it.
    let backfill = parse(&payload(&[NaiveDate::from_ymd_opt(2022, 2, 4).unwrap()]));
    let answer = handle(&backfill, &config).await.unwrap();
    assert_eq!(answer["days"], json!(["2022-02-04"]), "{answer}");
    assert_eq!(strings(&query(&lake, refined).await), expected);
}

/// A B3 look-alike: the day's COTAHIST ZIP for 2022-12-08 (the real 2022-02-04 session, dated
/// that day), B3's HTML page for any other day, and the real IBOV portfolio of 2022-12-08.
pub(crate) fn b3_mirror() -> HttpServer {
    let inputs = tempfile::tempdir().unwrap();
    let zip = zip_file("COTAHIST_D08122022.TXT", &quotes_of_the_portfolio_day(inputs.path()));
    let answer = real_answer();
    HttpServer::start(move |_, path| {
        if path == "/InstDados/SerHist/COTAHIST_D08122022.ZIP" {
            Reply::Body("application/zip", zip.clone())
        } else if path.starts_with("/InstDados/") {
            Reply::Body("text/html", b"<html><body>Arquivo n&atilde;o encontrado</body></html>".to_vec())
        } else {
            portfolio_page(&answer, path)
        }
    })
}

pub(crate) fn mirror_config(
    bucket: &str,
    mirror: &HttpServer,
    cache: &std::path::Path,
    extra: &[(&str, &str)],
) -> Config {
    let base = format!("{}/InstDados/SerHist", mirror.base);
    let portfolios = format!("{}{API}", mirror.base);
    let mut vars = vec![
        ("B3LAKE_BASE_URL", base.as_str()),
        ("B3LAKE_PORTFOLIO_URL", portfolios.as_str()),
        ("B3LAKE_CACHE_DIR", cache.to_str().unwrap()),
        ("B3LAKE_ATTEMPTS", "2"),
    ];
    vars.extend_from_slice(extra);
    config(bucket, &vars)
}

#[tokio::test]
async fn the_schedule_ingests_the_day_tells_late_files_from_holidays_and_catches_up() {
    let mirror = b3_mirror();
    let cache = tempfile::tempdir().unwrap();
    let lake = bucket_lake("b3lake-fn-schedule").await;
    let config = mirror_config("b3lake-fn-schedule", &mirror, cache.path(), &[]);
    let members = real_answer()["results"].as_array().unwrap().len() as i64;

    // A holiday (15 November 2022, a Tuesday): nothing asked of B3, nothing written.
    let holiday = handle(&json!({"b3lake": "ingest", "time": "2022-11-16T00:00:00Z"}), &config).await.unwrap();
    assert_eq!(holiday["holiday"], "Proclamation of the Republic", "{holiday}");
    assert_eq!((holiday["ingested"].as_array().unwrap().len(), &holiday["late"]), (0, &json!([])));
    let explicit = handle(&json!({"b3lake": "ingest", "day": "2022-11-15"}), &config).await.unwrap();
    assert_eq!(explicit["holiday"], "Proclamation of the Republic");
    assert_eq!(mirror.requests().len(), 0, "no download on a holiday");
    assert!(list(&lake).await.is_empty());

    // The template's schedule: 21:00 in São Paulo, already the next day in UTC. A lake without
    // the week's days gets the schedule's own day.
    let tick = json!({"b3lake": "ingest", "time": "2022-12-09T00:00:00Z"});
    let answer = handle(&tick, &config).await.unwrap();
    assert_eq!(answer["day"], "2022-12-08", "{answer}");
    let ingested = &answer["ingested"][0];
    assert_eq!((&ingested["day"], answer["ingested"].as_array().unwrap().len()), (&json!("2022-12-08"), 1));
    assert_eq!(ingested["portfolios"][0], json!({"index": "IBOV", "members": members}));
    let records = ingested["records"].as_i64().unwrap();
    let raw_count = "SELECT count(*) FROM cotacoes_b3_raw WHERE year = 2022 AND month = 12 AND day = 8";
    assert_eq!(query_one_i64(&lake, raw_count).await, records);
    assert_eq!(records as usize, lines(DAY_2022).len() - 2, "every quote record of the file");
    assert!(std::fs::read_dir(cache.path()).unwrap().next().is_none(), "the download is not kept in /tmp");

    // The ingest's writes are what S3 then announces: the day and its portfolio, transformed
    // with the portfolio's members joined.
    let portfolio_key = "raw_ibov/year%3D2022/month%3D12/day%3D08/carteira_20221208.parquet";
    let delivery = parse(&event("b3lake-fn-schedule", &[&raw_key("2022-12-08"), portfolio_key]));
    let transformed = handle(&delivery, &config).await.unwrap();
    assert_eq!(transformed["transformed"][0]["days"], json!(["2022-12-08"]), "{transformed}");
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_membros_indice").await, members);

    // The schedule again (a retry): the lake has the day, nothing to do. Asked for the day, it
    // is replaced, not duplicated.
    let again = handle(&tick, &config).await.unwrap();
    assert_eq!(again["ingested"], json!([]), "{again}");
    handle(&json!({"b3lake": "ingest", "day": "2022-12-08"}), &config).await.unwrap();
    assert_eq!(query_one_i64(&lake, raw_count).await, records);

    // Friday 9 December is a trading day whose file B3 has not published (the mirror answers
    // its HTML page): late at 21:00, missing at 08:00 the next morning; nothing written.
    let before: Vec<String> = list(&lake).await;
    let evening = handle(&json!({"b3lake": "ingest", "time": "2022-12-10T00:00:00Z"}), &config).await.unwrap();
    assert_eq!((&evening["late"], &evening["missing"]), (&json!(["2022-12-09"]), &json!([])), "{evening}");
    let morning = handle(&json!({"b3lake": "ingest", "time": "2022-12-10T11:00:00Z"}), &config).await.unwrap();
    assert_eq!((&morning["late"], &morning["missing"]), (&json!([]), &json!(["2022-12-09"])), "{morning}");
    // Monday's schedule looks back to the lake's last day: Friday is tried again with Monday.
    let monday = handle(&json!({"b3lake": "ingest", "time": "2022-12-13T00:00:00Z"}), &config).await.unwrap();
    assert_eq!((&monday["late"], &monday["missing"]), (&json!(["2022-12-12"]), &json!(["2022-12-09"])), "{monday}");
    let e =
        b3lake::chain::chain(&handle(&json!({"b3lake": "ingest", "day": "2022-12-09"}), &config).await.unwrap_err());
    assert!(e.contains("2022-12-09") && e.contains("late"), "{e}");
    assert_eq!(list(&lake).await, before);
}

/// Every key of the lake, sorted.
pub(crate) async fn list(lake: &Lake) -> Vec<String> {
    use futures::TryStreamExt;
    let mut keys: Vec<String> = lake.store().list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    keys.sort();
    keys
}

fn lambda_at(url: &str) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version_latest()
        .endpoint_url(url)
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new("AKID", "SECRET", None, None, "test"))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

#[tokio::test]
async fn a_backfill_invokes_the_function_once_per_day_asynchronously_and_throttled() {
    let throttled =
        br#"{"Type":"User","message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}"#;
    let server = HttpServer::start(move |i, _| match i {
        // As Lambda answers: the error's code in a header, its message in the body.
        0 => Reply::Headers(429, vec![("x-amzn-ErrorType", "TooManyRequestsException")], throttled.to_vec()),
        _ => Reply::StatusBody(202, "application/json", Vec::new()),
    });
    let days: Vec<NaiveDate> = (2..=5).map(|d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap()).collect();
    let options = BackfillOptions {
        function: "b3lake-dev-transform".into(),
        days_per_invocation: 1,
        concurrency: 2,
        per_second: 10,
        retry: RetryConfig::new(3, Duration::from_millis(50)),
    };
    let queued = invoke_days(&lambda_at(&server.base), &days, &options).await.unwrap();
    assert_eq!(queued.iter().map(|(d, _)| *d).collect::<Vec<_>>(), days);

    let seen = server.seen();
    assert_eq!(seen.len(), 5, "four days and one retry of the throttled one");
    let mut sent: Vec<Value> = Vec::new();
    for request in &seen {
        assert_eq!(request.path, "/2015-03-31/functions/b3lake-dev-transform/invocations");
        assert!(request.head.to_ascii_lowercase().contains("x-amz-invocation-type: event"), "{}", request.head);
        sent.push(serde_json::from_slice(&request.body).unwrap());
    }
    let mut days_sent: Vec<String> = sent.iter().map(|p| p["days"][0].as_str().unwrap().to_string()).collect();
    days_sent.sort();
    days_sent.dedup();
    assert_eq!(days_sent, ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]);
    assert!(sent.iter().all(|p| p["b3lake"] == "transform"));
    // Ten a second at most: the fourth day starts no sooner than 0.3 s after the first.
    let times = server.times();
    assert!(times[times.len() - 1] - times[0] >= Duration::from_millis(290), "{:?}", times[times.len() - 1] - times[0]);
}

#[tokio::test]
async fn the_cli_backfills_the_raw_days_of_a_range() {
    let server = HttpServer::start(|_, _| Reply::StatusBody(202, "application/json", Vec::new()));
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    ingest_paths(&lake, &[small_days(&dir.path().join("in.txt"), 0, 5)]).await.unwrap();
    let backfill = |per_invocation: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_b3lake"))
            .args(["trigger", "--lambda-function", "fn", "--lake", dir.path().to_str().unwrap()])
            .args(["--from", "2024-03-01", "--to", "2024-03-31", "--per-second", "100"])
            .args(["--days-per-invocation", per_invocation])
            .env("AWS_ENDPOINT_URL", &server.base)
            .output()
            .unwrap()
    };
    let out = backfill("1");
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("3 trading days sent to fn in 3 asynchronous invocations"), "{stdout}");
    assert_eq!(server.seen().len(), 3);

    // Two days an invocation: the third goes alone.
    let out = backfill("2");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("3 trading days sent to fn in 2 asynchronous invocations"), "{stdout}{}", stderr(&out));
    let mut batches: Vec<String> = server.seen()[3..]
        .iter()
        .map(|s| serde_json::from_slice::<Value>(&s.body).unwrap()["days"].to_string())
        .collect();
    batches.sort();
    assert_eq!(batches, [r#"["2024-03-04","2024-03-05"]"#, r#"["2024-03-06"]"#]);

    let out = cli(&["trigger", "--lambda-function", "fn", "--from", "2016-01-01", "--to", "2016-12-31"]);
    assert!(!out.status.success() && stderr(&out).contains("--lake"), "{}", stderr(&out));

    // The state machine's list of days: the raw days of the range, and the trading days between
    // them the lake lacks (B3's calendar: 4 to 6 March 2024 are a Monday to a Wednesday).
    let lake_dir = dir.path().to_str().unwrap().to_string();
    let function = Config::from_vars(|name| match name {
        "B3LAKE_LAKE" => Some(lake_dir.clone()),
        "B3LAKE_BACKFILL_DAYS_PER_INVOCATION" => Some("2".into()),
        _ => None,
    })
    .unwrap();
    let list = json!({"b3lake": "days", "from": "2024-03-01", "to": "2024-03-31"});
    let answer = handle(&list, &function).await.unwrap();
    assert_eq!((&answer["days"], &answer["missing"]), (&json!(["2024-03-04", "2024-03-05", "2024-03-06"]), &json!([])));
    let batches = json!([["2024-03-04", "2024-03-05"], ["2024-03-06"]]);
    assert_eq!((&answer["batches"], &answer["concurrency"]), (&batches, &json!(40)));
    std::fs::remove_dir_all(dir.path().join("raw/year=2024/month=03/day=05")).unwrap();
    let answer = handle(&list, &function).await.unwrap();
    assert_eq!((&answer["days"], &answer["missing"]), (&json!(["2024-03-04", "2024-03-06"]), &json!(["2024-03-05"])));
    // The command says so too, for a backfill and for a transform of the range.
    let out = backfill("1");
    let warning = "1 trading days of B3's calendar in the range have no raw data (2024-03-05)";
    assert!(out.status.success() && stderr(&out).contains(warning), "{}", stderr(&out));
    let out = cli(&["transform", "--lake", &lake_dir, "--from", "2024-03-01", "--to", "2024-03-31"]);
    assert!(out.status.success() && stderr(&out).contains(warning), "{}", stderr(&out));
    assert!(!stderr(&backfill("1")).contains("2024-03-04"), "days present are not named");
}

/// The function's binary itself, started as Lambda starts it, against a Lambda Runtime API on
/// 127.0.0.1: an S3 event is answered with the day transformed, a bad request with an error
/// (so Lambda would retry it); its stderr is JSON lines, one of them the job's metrics.
#[tokio::test]
async fn the_function_binary_serves_the_lambda_runtime_api() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let lake = bucket_lake("b3lake-fn-runtime").await;
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    let event = event("b3lake-fn-runtime", &[&raw_key("2022-02-04")]).into_bytes();
    let nexts = AtomicUsize::new(0);
    let api = HttpServer::start(move |_, path| {
        if !path.ends_with("/invocation/next") {
            return Reply::Status(202);
        }
        let (id, payload) = match nexts.fetch_add(1, Ordering::SeqCst) {
            0 => ("req-1", event.clone()),
            1 => ("req-2", br#"{"b3lake": "drop"}"#.to_vec()),
            _ => {
                std::thread::sleep(Duration::from_secs(600));
                return Reply::Status(500);
            }
        };
        let headers = vec![
            ("Lambda-Runtime-Aws-Request-Id", id),
            ("Lambda-Runtime-Deadline-Ms", "4102444800000"),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:b3lake-test"),
        ];
        Reply::Headers(200, headers, payload)
    });
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_b3lake-lambda"))
        .env("AWS_LAMBDA_RUNTIME_API", api.base.trim_start_matches("http://"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "b3lake-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("B3LAKE_LAKE", "s3://b3lake-fn-runtime")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let answered = |seen: &[Seen]| seen.iter().any(|s| s.path.ends_with("req-2/error"));
    while !answered(&api.seen()) && started.elapsed() < Duration::from_secs(300) {
        assert!(child.try_wait().unwrap().is_none(), "the function exited");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr).to_string();
    let seen = api.seen();
    let reply = |suffix: &str| -> Value {
        let s = seen.iter().find(|s| s.path.ends_with(suffix)).unwrap_or_else(|| panic!("no {suffix}:\n{logs}"));
        serde_json::from_slice(&s.body).unwrap()
    };
    assert_eq!(reply("req-1/response")["transformed"][0]["days"], json!(["2022-02-04"]), "{logs}");
    let error = reply("req-2/error");
    assert!(error["errorMessage"].as_str().unwrap().contains("not a request b3lake's function serves"), "{error}");

    let lines: Vec<Value> =
        logs.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    let metrics = lines.iter().find(|l| l["Job"] == "transform").unwrap_or_else(|| panic!("no metrics line:\n{logs}"));
    assert_eq!((metrics["Function"].as_str(), metrics["DaysTransformed"].as_f64()), (Some("b3lake-test"), Some(1.0)));
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_refined").await, 1196);
}
