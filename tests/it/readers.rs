//! Queries while writers rewrite the days they read: every answer must be the lake before a
//! write or after it (per day for a transform, whole for an ingest, which commits its days
//! together), never a mix of the two and never an error.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    rewrites_read_whole("symbol").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_during_rewrites_of_the_compact_layout_see_each_day_old_or_new() {
    rewrites_read_whole("compact").await;
}

/// Rewrites a lake of the `layout` four times (ingest and transform) while querying it.
async fn rewrites_read_whole(layout: &str) {
    let dir = tempfile::tempdir().unwrap();
    // The same three days twice, with other tickers and figures: a few hundred files a day.
    let a = small_days(&dir.path().join("COTAHIST_A.TXT"), 0, 250);
    let b = small_days(&dir.path().join("COTAHIST_B.TXT"), 100, 250);
    let (raw_a, refined_a) = clean(dir.path(), &a).await;
    let (raw_b, refined_b) = clean(dir.path(), &b).await;
    assert_eq!(refined_a.len(), 3);
    for (day, row) in &refined_a {
        assert_ne!(Some(row), refined_b.get(day), "the versions differ on {day}");
    }

    let live = dir.path().join("live");
    let l = live.to_str().unwrap().to_string();
    ok(&["ingest", a.to_str().unwrap(), "--lake", &l]);
    ok(&["transform", "--lake", &l, "--layout", layout]);

    let writing = Arc::new(AtomicBool::new(true));
    let writer = std::thread::spawn({
        let (writing, l) = (writing.clone(), l.clone());
        move || {
            for _ in 0..2 {
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
    assert!(reads >= 10, "only {reads} reads ran during the writes");
    assert!(mixed.is_empty(), "{} of {reads} reads saw a mix: {:?}", mixed.len(), &mixed[..mixed.len().min(5)]);
}
