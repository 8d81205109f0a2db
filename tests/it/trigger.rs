//! The S3-event trigger: real event JSON, run here against moto's S3 through the real AWS SDK;
//! a scripted Glue endpoint for the catalog's throttling tests.

use b3lake::lake::Lake;
use b3lake::transform::trigger::{self, Target};
use b3lake::transform::{Days, TransformOptions};
use chrono::NaiveDate;

use crate::common::*;

/// An S3 event notification as AWS delivers it to Lambda, one record per key (keys as S3
/// sends them: URL-encoded, `+` for spaces).
pub(crate) fn event(bucket: &str, keys: &[&str]) -> String {
    let records: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            format!(
                r#"{{
      "eventVersion": "2.1",
      "eventSource": "aws:s3",
      "awsRegion": "us-east-1",
      "eventTime": "2022-02-04T21:30:0{i}.000Z",
      "eventName": "ObjectCreated:Put",
      "userIdentity": {{ "principalId": "AWS:AIDAEXAMPLE" }},
      "requestParameters": {{ "sourceIPAddress": "203.0.113.7" }},
      "responseElements": {{ "x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD" }},
      "s3": {{
        "s3SchemaVersion": "1.0",
        "configurationId": "raw-landed",
        "bucket": {{ "name": "{bucket}", "ownerIdentity": {{ "principalId": "A3NL1KOZZKExample" }}, "arn": "arn:aws:s3:::{bucket}" }},
        "object": {{ "key": "{key}", "size": 312771, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E{i}" }}
      }}
    }}"#
            )
        })
        .collect();
    format!("{{\n  \"Records\": [\n    {}\n  ]\n}}\n", records.join(",\n    "))
}

const KEY_0204: &str = "data+lake/raw/year%3D2022/month%3D02/day%3D04/cotacoes_20220204.parquet";

#[tokio::test]
async fn an_s3_event_transforms_its_days_in_the_lake_it_names() {
    let url = bucket("b3lake-trigger").await;
    let lake_url = url.replace("/lake", "/data lake");
    let lake = Lake::open(&lake_url).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();

    let json = event("b3lake-trigger", &[KEY_0204, "data+lake/landing/COTAHIST_D04022022.ZIP"]);
    let target = Target { lake: None, options: TransformOptions::default() };
    let report = trigger::handle_event(json.as_bytes(), &target).await.unwrap();
    assert_eq!(report.local.len(), 1);
    let (transformed_lake, run) = &report.local[0];
    assert_eq!(transformed_lake, "s3://b3lake-trigger/data lake");
    assert_eq!(run.days, [NaiveDate::from_ymd_opt(2022, 2, 4).unwrap()]);
    assert_eq!(report.ignored.len(), 1, "the landing key is not a raw day");
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_refined WHERE year = 2022").await, 1196);

    // The command does the same from a file. Delivered again (S3 delivers at least once), the
    // event finds the day up to date and does nothing; nothing is duplicated.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("event.json");
    std::fs::write(&file, &json).unwrap();
    let out = cli(&["trigger", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 trading days transformed, 1 up to date"));
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_refined").await, 1196);
}

#[tokio::test]
async fn an_event_that_is_not_json_or_names_no_day_is_reported() {
    let target = Target { lake: None, options: TransformOptions::default() };
    let err = trigger::handle_event(b"<html>", &target).await.unwrap_err().to_string();
    assert!(err.contains("not an S3 event"), "{err}");
    // S3's test event carries no records: nothing to do.
    let test_event =
        br#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2022-02-04T21:30:00.000Z","Bucket":"b"}"#;
    let report = trigger::handle_event(test_event, &target).await.unwrap();
    assert!(report.local.is_empty() && report.ignored.is_empty());
    for not_an_event in [&b"[]"[..], b"{}", br#"{"Records": []}"#] {
        let err = trigger::handle_event(not_an_event, &target).await.unwrap_err().to_string();
        assert!(err.contains("S3 event"), "{err}");
    }
}

#[tokio::test]
async fn an_event_does_each_changed_day_once_and_skips_what_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let synth = dir.path().join("in/COTAHIST_M.TXT");
    let d = |day| NaiveDate::from_ymd_opt(2024, 3, day).unwrap();
    b3lake::source::synth::write_file(&synth, d(4), d(5), 3).unwrap();
    ingest_paths(&lake, &[synth]).await.unwrap();
    let key = |day: u32| format!("raw/year%3D2024/month%3D03/day%3D{day:02}/cotacoes_202403{day:02}.parquet");
    // 200 records of one day, one of another, one of a day with no raw file (removed since),
    // and an ingest's own staging key, which is no lake.
    let mut keys: Vec<String> = vec![key(4); 200];
    keys.push(key(5));
    keys.push(key(6));
    keys.push(format!("_staging/20240306T000000-abc/{}", key(4)));
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let json = event("b", &keys);
    let target = Target { lake: Some(dir.path().to_str().unwrap().to_string()), options: Default::default() };
    let report = trigger::handle_event(json.as_bytes(), &target).await.unwrap();
    assert_eq!(report.local.len(), 1, "one lake");
    assert_eq!(report.local[0].1.days, [d(4), d(5)]);
    assert_eq!(report.ignored.len(), 1, "{:?}", report.ignored);
    assert!(report.ignored[0].contains("_staging"));
    // Again: nothing changed, nothing done.
    let report = trigger::handle_event(json.as_bytes(), &target).await.unwrap();
    assert_eq!((report.local[0].1.days.len(), report.local[0].1.up_to_date), (0, 2));
}

pub(crate) async fn glue() -> aws_sdk_glue::Client {
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "run the tests with tests/run.sh, which starts moto");
    b3lake::aws::glue_client().await
}

/// A Glue endpoint on 127.0.0.1 that answers each request with the next scripted reply.
pub(crate) fn scripted_glue(replies: Vec<(u16, &'static str)>) -> HttpServer {
    HttpServer::start(move |i, _| {
        let (status, body) = replies[i.min(replies.len() - 1)];
        Reply::StatusBody(status, "application/x-amz-json-1.1", body.as_bytes().to_vec())
    })
}

pub(crate) fn glue_at(url: &str) -> aws_sdk_glue::Client {
    let config = aws_sdk_glue::Config::builder()
        .behavior_version_latest()
        .endpoint_url(url)
        .region(aws_sdk_glue::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_glue::config::Credentials::new("AKID", "SECRET", None, None, "test"))
        .build();
    aws_sdk_glue::Client::from_conf(config)
}

#[tokio::test]
async fn a_local_event_run_can_target_another_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    let json = event("any-bucket", &["raw/year%3D2022/month%3D02/day%3D04/cotacoes_20220204.parquet"]);
    let target = Target {
        lake: Some(dir.path().to_str().unwrap().to_string()),
        options: TransformOptions { days: Days::Incremental, ..Default::default() },
    };
    let report = trigger::handle_event(json.as_bytes(), &target).await.unwrap();
    assert_eq!(report.local[0].1.days.len(), 1);
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_refined").await, 1196);
}
