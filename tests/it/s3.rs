//! The lake on S3, through object_store and the AWS credential chain, against moto on
//! 127.0.0.1 (started by the test command; a missing server fails these tests).

use futures::TryStreamExt;

use b3lake::lake::Lake;

use crate::common::*;

/// The lake's data objects (not b3lake's own state under `_b3lake/`).
async fn keys(lake: &Lake) -> Vec<String> {
    let mut keys: Vec<String> =
        lake.store().list(Some(&lake.path(""))).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    keys.retain(|k| !k.contains("/_b3lake/"));
    keys.sort();
    keys
}

#[tokio::test]
async fn ingest_into_s3_replace_and_fail_cleanly() {
    let url = bucket("b3lake-ingest").await;
    let lake = Lake::open(&url).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022), data(YEAR_2016)]).await.unwrap();
    assert_eq!(
        keys(&lake).await,
        vec![
            "lake/raw/year=2016/month=01/day=04/cotacoes_20160104.parquet",
            "lake/raw/year=2016/month=01/day=05/cotacoes_20160105.parquet",
            "lake/raw/year=2016/month=01/day=06/cotacoes_20160106.parquet",
            "lake/raw/year=2022/month=02/day=04/cotacoes_20220204.parquet",
        ]
    );
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw").await, 7522 + 5220);
    let n =
        query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw WHERE year = 2022 AND codigo_negociacao = 'PETR4'")
            .await;
    assert_eq!(n, 1);

    // Again: replaced, not duplicated.
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw").await, 7522 + 5220);

    // A bad input after a good one: nothing changes, and no staging object is left.
    let before = keys(&lake).await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    let mut l = lines(DAY_2022);
    l.pop();
    write_lines(&bad, &l);
    let err = ingest_paths(&lake, &[data(DEMO_2003), bad]).await.unwrap_err();
    assert!(err.to_string().contains("bad.txt"), "{err}");
    assert_eq!(keys(&lake).await, before);
}

#[test]
fn cli_ingest_to_s3() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(bucket("b3lake-cli"));
    let out = cli(&["ingest", data(DEMO_2003).to_str().unwrap(), "--lake", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("551 records"));
    let lake = rt.block_on(Lake::open(&url)).unwrap();
    assert_eq!(rt.block_on(keys(&lake)), vec!["lake/raw/year=2003/month=02/day=12/cotacoes_20030212.parquet"]);
}

/// Runs the CLI with AWS keys only in a named profile of its own config files.
fn cli_with_profile(dir: &std::path::Path, profile: &str, args: &[&str]) -> std::process::Output {
    std::fs::write(
        dir.join("credentials"),
        "[b3lake-test]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n",
    )
    .unwrap();
    std::fs::write(dir.join("config"), "[profile b3lake-test]\nregion = us-east-1\n").unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .args(args)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_REGION")
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
        .env("AWS_CONFIG_FILE", dir.join("config"))
        .env("AWS_PROFILE", profile)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

#[test]
fn credentials_and_region_from_a_profile() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(bucket("b3lake-profile"));
    let dir = tempfile::tempdir().unwrap();
    let file = data(DEMO_2003);
    let args = ["ingest", file.to_str().unwrap(), "--lake", &url];
    let out = cli_with_profile(dir.path(), "b3lake-test", &args);
    assert!(out.status.success(), "{}", stderr(&out));
    // The same run with a profile that does not exist has no credentials at all, and fails:
    // so the profile is what made the first one work.
    let out = cli_with_profile(dir.path(), "nobody", &args);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("AWS credentials"), "{}", stderr(&out));
}

#[tokio::test]
async fn one_writer_at_a_time_on_s3_and_a_dead_writers_lock_is_taken_over() {
    let url = bucket("b3lake-lock").await;
    let lake = Lake::open(&url).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    let transform = |url: String, wait: &'static str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_b3lake"))
            .args(["transform", "--lake", &url])
            .env("B3LAKE_LOCK_WAIT", wait)
            .output()
            .unwrap()
    };
    // Held (a conditional create of _b3lake/lock.json): the second writer fails, naming it.
    let held = lake.lock("a test").await.unwrap();
    let out = tokio::task::spawn_blocking({
        let url = url.clone();
        move || transform(url, "1")
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("another writer holds the whole lake: a test (pid"), "{}", stderr(&out));
    held.release().await.unwrap();
    assert!(!lake.exists(&lake.path("_b3lake/lock.json")).await.unwrap(), "released");

    // A lock left by a process of this host that has ended is taken over at once.
    let gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    let mut gone = gone;
    gone.wait().unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    let machine = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap().trim().to_string();
    let stale = serde_json::json!({"command": "ingest", "host": host, "machine": machine, "pid": pid,
        "since": "2026-01-01T00:00:00Z", "token": "x"});
    lake.write(&lake.path("_b3lake/lock.json"), serde_json::to_vec(&stale).unwrap()).await.unwrap();
    // Taken over by a writer that needs the whole lake (the first transform, which defines the
    // tables); a writer of days goes past it.
    let out = tokio::task::spawn_blocking({
        let url = url.clone();
        move || transform(url, "5")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    lake.write(&lake.path("_b3lake/lock.json"), serde_json::to_vec(&stale).unwrap()).await.unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_b3lake"))
            .args(["sql", "--lake", &url, "-c", "MSCK REPAIR TABLE cotacoes_b3_raw"])
            .env("B3LAKE_LOCK_WAIT", "5")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("taking over a stale lock"), "{}", stderr(&out));
    assert!(!lake.exists(&lake.path("_b3lake/lock.json")).await.unwrap());
}

#[tokio::test]
async fn a_held_lock_on_s3_changes_at_each_heartbeat() {
    use object_store::ObjectStoreExt;
    // Waiters take a lock whose object has not changed for a minute as a dead writer's: a live
    // writer's heartbeat must change it (an identical rewrite keeps its ETag).
    let lake = Lake::open(&bucket("b3lake-heartbeat").await).await.unwrap();
    let lock = lake.lock("test").await.unwrap();
    let path = lake.path("_b3lake/lock.json");
    let before = lake.store().head(&path).await.unwrap().e_tag;
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    let after = lake.store().head(&path).await.unwrap().e_tag;
    assert!(before.is_some() && before != after, "{before:?} {after:?}");
    lock.release().await.unwrap();
}
