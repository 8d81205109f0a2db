//! Queries while writers rewrite the days they read: every answer must be the lake before a
//! write or after it (per day for a transform, whole for an ingest, which commits its days
//! together), never a mix of the two and never an error.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use b3lake::lake::Lake;

use crate::common::*;

const REFINED: &str = "SELECT CAST(data_pregao AS VARCHAR), count(*), sum(vol_financeiro_total), \
     sum(preco_fechamento) FROM cotacoes_b3_refined GROUP BY 1 ORDER BY 1";
const RAW: &str = "SELECT CAST(data_pregao AS VARCHAR), count(*), sum(volume_total_negociado) FROM cotacoes_b3_raw \
     GROUP BY 1 ORDER BY 1";

fn ok(args: &[&str]) {
    let out = cli(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

/// A query's rows by day.
async fn by_day(lake: &Lake, sql: &str) -> b3lake::Result<BTreeMap<String, String>> {
    let session = b3lake::sql::session(lake).await?;
    let done = b3lake::sql::execute(&session, sql).await?;
    Ok(strings(&done.batches).into_iter().map(|row| (row.split('|').next().unwrap().to_string(), row)).collect())
}

/// The answers of a clean lake holding `input`.
async fn clean(dir: &Path, input: &Path) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let lake = dir.join(input.file_stem().unwrap());
    let l = lake.to_str().unwrap();
    ok(&["ingest", input.to_str().unwrap(), "--lake", l]);
    ok(&["transform", "--lake", l]);
    let lake = Lake::open(l).await.unwrap();
    (by_day(&lake, RAW).await.unwrap(), by_day(&lake, REFINED).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_during_rewrites_see_each_day_old_or_new() {
    let dir = tempfile::tempdir().unwrap();
    rewrites_read_whole(dir.path(), dir.path().join("live").to_str().unwrap(), "symbol", 250, 2, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_during_rewrites_of_the_compact_layout_see_each_day_old_or_new() {
    let dir = tempfile::tempdir().unwrap();
    rewrites_read_whole(dir.path(), dir.path().join("live").to_str().unwrap(), "compact", 250, 2, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_during_rewrites_on_s3_see_each_day_old_or_new() {
    let dir = tempfile::tempdir().unwrap();
    rewrites_read_whole(dir.path(), &bucket("b3lake-readers").await, "symbol", 150, 2, 5).await;
}

/// Rewrites the lake at `live` (ingest and transform, to other data and back, `rounds`
/// times) while querying it, at least `min_reads` times; `tickers` a day.
async fn rewrites_read_whole(dir: &Path, live: &str, layout: &str, tickers: usize, rounds: usize, min_reads: usize) {
    // The same three days twice, with other tickers and figures: a file a ticker and day.
    let a = small_days(&dir.join("COTAHIST_A.TXT"), 0, tickers);
    let b = small_days(&dir.join("COTAHIST_B.TXT"), tickers / 2, tickers);
    let (raw_a, refined_a) = clean(dir, &a).await;
    let (raw_b, refined_b) = clean(dir, &b).await;
    assert_eq!(refined_a.len(), 3);
    for (day, row) in &refined_a {
        assert_ne!(Some(row), refined_b.get(day), "the versions differ on {day}");
    }

    let l = live.to_string();
    ok(&["ingest", a.to_str().unwrap(), "--lake", &l]);
    ok(&["transform", "--lake", &l, "--layout", layout]);

    let writing = Arc::new(AtomicBool::new(true));
    let writer = std::thread::spawn({
        let (writing, l) = (writing.clone(), l.clone());
        move || {
            for _ in 0..rounds {
                for input in [&b, &a] {
                    ok(&["ingest", input.to_str().unwrap(), "--lake", &l]);
                    ok(&["transform", "--lake", &l]);
                }
            }
            writing.store(false, Ordering::SeqCst);
        }
    });
    let lake = Lake::open(&l).await.unwrap();
    let (mut reads, mut mixed) = (0, Vec::new());
    while writing.load(Ordering::SeqCst) {
        let raw = by_day(&lake, RAW).await.unwrap_or_else(|e| panic!("a query during a write failed: {e}"));
        if raw != raw_a && raw != raw_b {
            mixed.push(format!("raw: {raw:?}"));
        }
        let refined = by_day(&lake, REFINED).await.unwrap_or_else(|e| panic!("a query during a write failed: {e}"));
        for (day, row) in &refined {
            if Some(row) != refined_a.get(day) && Some(row) != refined_b.get(day) {
                mixed.push(format!("refined: {row}"));
            }
        }
        if refined.len() != 3 {
            mixed.push(format!("refined has {} days", refined.len()));
        }
        reads += 1;
    }
    writer.join().unwrap();
    assert!(reads >= min_reads, "only {reads} reads ran during the writes");
    assert!(mixed.is_empty(), "{} of {reads} reads saw a mix: {:?}", mixed.len(), &mixed[..mixed.len().min(5)]);
}

/// What every backend's hold promises: queries hold together, a publication waits for them
/// (or gives up with nothing changed), and a query waits for a publication.
async fn holds(lake: &Lake) {
    // A lake with a catalog folder (a local lake without one has nothing to hold).
    lake.write(&lake.path("_b3lake/catalog/x"), "x").await.unwrap();
    let query = lake.reading().await.unwrap();
    let another = lake.reading().await.unwrap();
    let refused = lake.publishing_within(Duration::from_millis(300)).await.expect_err("queries are running");
    assert!(refused.to_string().contains("B3LAKE_LOCK_WAIT"), "{refused}");
    query.release().await.unwrap();
    another.release().await.unwrap();
    let publication = lake.publishing_within(Duration::from_secs(5)).await.unwrap();

    let reader = tokio::spawn({
        let lake = lake.clone();
        async move { lake.reading().await.map(|hold| (Instant::now(), hold)) }
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let published = Instant::now();
    publication.release().await.unwrap();
    let (read, hold) = reader.await.unwrap().unwrap();
    assert!(read >= published, "the query started during the publication");
    hold.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_lake_holds_still_for_queries() {
    let dir = tempfile::tempdir().unwrap();
    holds(&Lake::open(dir.path().to_str().unwrap()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_lake_holds_still_for_queries_and_forgets_dead_writers() {
    let lake = Lake::open(&bucket("b3lake-holds").await).await.unwrap();
    holds(&lake).await;
    // Queries leave no lease behind.
    let leases = lake.list_all(&lake.path("_b3lake/readers")).await.unwrap();
    assert!(leases.is_empty(), "{leases:?}");

    // A writer died publishing: queries wait, until the next writer takes the whole lake.
    lake.write(&lake.path("_b3lake/publishing/dead.json"), "{}").await.unwrap();
    let reader = tokio::spawn({
        let lake = lake.clone();
        async move { lake.reading().await }
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!reader.is_finished(), "the query did not wait for the publication");
    let writer = b3lake::catalog::writes::writer(&lake, "test").await.unwrap();
    let whole = writer.take(&b3lake::lake::Scope::Lake).await.unwrap();
    let hold = tokio::time::timeout(Duration::from_secs(5), reader).await.expect("the query went on").unwrap().unwrap();
    hold.release().await.unwrap();
    writer.release(whole).await.unwrap();
    writer.end().await.unwrap();
}
