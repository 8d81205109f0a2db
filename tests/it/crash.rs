//! Crashes at every step: each writing command is killed (SIGKILL) just before its 1st, 2nd,
//! ... rename (every file put on a local lake is a rename into place, every day swap one),
//! by a small `LD_PRELOAD` library built here with the system's C compiler; on S3, just
//! before its 1st, 2nd, ... PUT, copy or DELETE, by a proxy between it and the test's S3
//! server. After each kill, queries must succeed with the old or the new data, and a rerun
//! must end in exactly the clean result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::*;

const SHIM: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static long seen;
static long at = -1;
static void step(void) {
    if (at < 0) { const char *s = getenv("CRASH_AT"); at = s ? atol(s) : 0; }
    long n = __atomic_add_fetch(&seen, 1, __ATOMIC_SEQ_CST);
    if (at > 0 && n == at) kill(getpid(), SIGKILL);
}
__attribute__((destructor)) static void report(void) {
    const char *path = getenv("CRASH_COUNT");
    if (!path) return;
    FILE *f = fopen(path, "w");
    if (f) { fprintf(f, "%ld", seen); fclose(f); }
}
int rename(const char *a, const char *b) {
    step();
    int (*real)(const char *, const char *) = dlsym(RTLD_NEXT, "rename");
    return real(a, b);
}
int renameat(int fa, const char *a, int fb, const char *b) {
    step();
    int (*real)(int, const char *, int, const char *) = dlsym(RTLD_NEXT, "renameat");
    return real(fa, a, fb, b);
}
int renameat2(int fa, const char *a, int fb, const char *b, unsigned int flags) {
    step();
    int (*real)(int, const char *, int, const char *, unsigned int) = dlsym(RTLD_NEXT, "renameat2");
    return real(fa, a, fb, b, flags);
}
"#;

/// The shim, compiled once per test run.
fn shim() -> &'static Path {
    static SO: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &SO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("crash.c");
        std::fs::write(&src, SHIM).unwrap();
        let so = dir.path().join("libcrash.so");
        let out = Command::new("cc")
            .args(["-shared", "-fPIC", "-O1", "-o"])
            .arg(&so)
            .arg(&src)
            .arg("-ldl")
            .output()
            .expect("a C compiler (cc) builds the crash shim");
        assert!(out.status.success(), "cc: {}", String::from_utf8_lossy(&out.stderr));
        (dir, so)
    })
    .1
}

/// Runs the CLI under the shim: killed before rename number `at`, or (with `None`) to the end,
/// returning how many renames it made.
fn run(args: &[String], at: Option<usize>) -> (bool, usize) {
    let count = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_b3lake"));
    cmd.args(args).env("LD_PRELOAD", shim()).env("CRASH_COUNT", count.path()).env("RUST_LOG", "off");
    if let Some(at) = at {
        cmd.env("CRASH_AT", at.to_string());
    }
    let out = cmd.output().unwrap();
    let killed = {
        use std::os::unix::process::ExitStatusExt;
        out.status.signal() == Some(9)
    };
    if at.is_none() {
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    } else if !killed {
        assert!(out.status.success(), "{args:?} (crash at {at:?}): {}", stderr(&out));
    }
    let renames = std::fs::read_to_string(count.path()).unwrap_or_default().parse().unwrap_or(0);
    (killed, renames)
}

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    for (path, bytes) in snapshot(from) {
        let target = to.join(&path);
        if path.to_string_lossy().ends_with('/') || (bytes.is_empty() && from.join(&path).is_dir()) {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, bytes).unwrap();
        }
    }
}

/// One query through the CLI, as CSV rows without the header; it must succeed.
fn sql(lake: impl AsRef<std::ffi::OsStr>, query: &str) -> Vec<String> {
    let lake = lake.as_ref().to_str().unwrap();
    let out = cli(&["sql", "--lake", lake, "--format", "csv", "-c", query]);
    assert!(out.status.success(), "{query}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).lines().skip(1).map(str::to_string).collect()
}

/// Rows per day of a table, as `day,count` lines.
fn per_day(lake: &Path, table: &str) -> Vec<String> {
    sql(lake, &format!("SELECT CAST(data_pregao AS VARCHAR), count(*) FROM {table} GROUP BY 1 ORDER BY 1"))
}

/// Runs `args` on a fresh copy of `base` killed at each rename in turn; `check(lake, killed)`
/// judges each copy. Returns how many kill points there were.
fn at_every_rename(base: &Path, args: &[&str], check: impl Fn(&Path)) -> usize {
    let probe = tempfile::tempdir().unwrap();
    copy_tree(base, probe.path());
    let (_, total) = run(&with_lake(args, probe.path()), None);
    assert!(total > 0, "{args:?} renamed nothing");
    for at in 1..=total {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(base, dir.path());
        let (killed, _) = run(&with_lake(args, dir.path()), Some(at));
        assert!(killed || at == total, "{args:?}: not killed at rename {at} of {total}");
        check(dir.path());
    }
    total
}

fn with_lake(args: &[&str], lake: &Path) -> Vec<String> {
    args.iter().map(|a| if *a == "LAKE" { lake.to_str().unwrap().to_string() } else { a.to_string() }).collect()
}

/// Three small days, ingested and transformed in the symbol layout.
fn base_lake(dir: &Path) -> PathBuf {
    let input = small_days(&dir.join("COTAHIST_OLD.TXT"), 0, 12);
    let lake = dir.join("lake");
    let l = lake.to_str().unwrap();
    let out = cli(&["ingest", input.to_str().unwrap(), "--lake", l]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(&["transform", "--lake", l]);
    assert!(out.status.success(), "{}", stderr(&out));
    lake
}

#[test]
fn a_layout_change_killed_at_any_rename_is_finished_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let clean = per_day(&base, "cotacoes_b3_refined");
    assert_eq!(clean.len(), 3);
    let args = ["transform", "--lake", "LAKE", "--all", "--layout", "compact"];
    let points = at_every_rename(&base, &args, |lake| {
        // Whatever a kill left, queries run, and a plain run finishes the change.
        per_day(lake, "cotacoes_b3_refined");
        run(&with_lake(&["transform", "--lake", "LAKE"], lake), None);
        assert_eq!(per_day(lake, "cotacoes_b3_refined"), clean, "{}", lake.display());
        let files = layouts(&lake.join("refined"));
        assert_eq!(files.len(), 1, "one layout, not a mix: {files:?}");
    });
    assert!(points >= 6, "{points} kill points");
}

/// The layouts of a refined table's files: `compact` (a file per day) or `symbol`.
fn layouts(refined: &Path) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for (path, _) in snapshot(refined) {
        let name = path.to_string_lossy();
        if name.ends_with(".parquet") {
            *out.entry(if name.contains("symbol=") { "symbol" } else { "compact" }).or_default() += 1;
        }
    }
    out
}

#[test]
fn msck_repair_killed_at_any_rename_never_hides_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let clean = per_day(&base, "cotacoes_b3_raw");
    // A table without an index: MSCK REPAIR builds one from a listing.
    std::fs::remove_dir_all(base.join("_b3lake/catalog/partitions/cotacoes_b3_raw")).unwrap();
    assert_eq!(per_day(&base, "cotacoes_b3_raw"), clean);
    let args = ["sql", "--lake", "LAKE", "-c", "MSCK REPAIR TABLE cotacoes_b3_raw"];
    at_every_rename(&base, &args, |lake| {
        assert_eq!(per_day(lake, "cotacoes_b3_raw"), clean, "{}", lake.display());
    });
}

#[test]
fn an_ingest_killed_at_any_rename_goes_in_whole_at_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    // The same three days again, with other records.
    let input = small_days(&dir.path().join("COTAHIST_NEW.TXT"), 20, 9);
    let old = (per_day(&base, "cotacoes_b3_raw"), per_day(&base, "cotacoes_b3_refined"));
    let after = tempfile::tempdir().unwrap();
    copy_tree(&base, after.path());
    run(&with_lake(&["ingest", input.to_str().unwrap(), "--lake", "LAKE"], after.path()), None);
    run(&with_lake(&["transform", "--lake", "LAKE"], after.path()), None);
    let new = (per_day(after.path(), "cotacoes_b3_raw"), per_day(after.path(), "cotacoes_b3_refined"));
    assert!(old.0.iter().zip(&new.0).all(|(o, n)| o != n), "every day differs: {old:?} {new:?}");

    let args = ["ingest", input.to_str().unwrap(), "--lake", "LAKE"];
    at_every_rename(&base, &args, |lake| {
        // The next writer (here a transform) finds the run's days all old or all new.
        run(&with_lake(&["transform", "--lake", "LAKE"], lake), None);
        let now = (per_day(lake, "cotacoes_b3_raw"), per_day(lake, "cotacoes_b3_refined"));
        assert!(now == old || now == new, "{}: {now:?}", lake.display());
        assert!(!lake.join("_staging").exists(), "staging left behind");
        // A rerun of the ingest ends in the clean new lake.
        run(&with_lake(&args, lake), None);
        run(&with_lake(&["transform", "--lake", "LAKE"], lake), None);
        assert_eq!((per_day(lake, "cotacoes_b3_raw"), per_day(lake, "cotacoes_b3_refined")), new);
    });
}

#[test]
fn a_killed_transform_leaves_no_staging_after_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let clean = per_day(&base, "cotacoes_b3_refined");
    at_every_rename(&base, &["transform", "--lake", "LAKE", "--all"], |lake| {
        run(&with_lake(&["transform", "--lake", "LAKE"], lake), None);
        assert!(!lake.join("_staging").exists(), "staging left behind");
        assert_eq!(per_day(lake, "cotacoes_b3_refined"), clean);
    });
}

#[test]
fn a_transform_killed_at_any_rename_never_reads_a_stale_day_companion() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    // The same three days with other records, ingested: the transform rewrites every day.
    let input = small_days(&dir.path().join("COTAHIST_NEW.TXT"), 20, 9);
    run(&with_lake(&["ingest", input.to_str().unwrap(), "--lake", "LAKE"], &base), None);
    let query = "SELECT CAST(data_pregao AS VARCHAR), count(*), sum(vol_financeiro_total), min(symbol) \
                 FROM cotacoes_b3_refined GROUP BY 1 ORDER BY 1";
    let listed = |lake: &Path| {
        let out =
            cli(&["sql", "--lake", lake.to_str().unwrap(), "--partitions", "listing", "--format", "csv", "-c", query]);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).lines().skip(1).map(str::to_string).collect::<Vec<_>>()
    };
    let old = sql(&base, query);
    let after = tempfile::tempdir().unwrap();
    copy_tree(&base, after.path());
    run(&with_lake(&["transform", "--lake", "LAKE"], after.path()), None);
    let new = sql(after.path(), query);
    assert!(old.iter().zip(&new).all(|(o, n)| o != n), "every day differs: {old:?} {new:?}");
    at_every_rename(&base, &["transform", "--lake", "LAKE"], |lake| {
        // Each day is old or new, and the companions agree with the ticker files.
        let now = sql(lake, query);
        assert_eq!(now.len(), 3, "{now:?} (listing: {:?})", listed(lake));
        for (i, row) in now.iter().enumerate() {
            assert!(row == &old[i] || row == &new[i], "{}: {row}", lake.display());
        }
        assert_eq!(now, listed(lake));
        run(&with_lake(&["transform", "--lake", "LAKE"], lake), None);
        assert_eq!(sql(lake, query), new);
        for day in 4..=6 {
            let day = lake.join(format!("refined/year=2024/month=03/day={day:02}/_b3lake_day"));
            assert!(day.is_file(), "{} missing after the rerun", day.display());
        }
    });
}

#[tokio::test]
async fn a_second_writer_waits_for_the_lock_or_fails_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let lake = b3lake::lake::Lake::open(base.to_str().unwrap()).await.unwrap();
    let held = lake.lock("a test").await.unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .args(["transform", "--lake", base.to_str().unwrap(), "--all"])
        .env("B3LAKE_LOCK_WAIT", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("another writer holds the whole lake: a test (pid"), "{err}");
    // Released while the second waits: it goes on.
    let waiting = Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .args(["transform", "--lake", base.to_str().unwrap(), "--all"])
        .env("B3LAKE_LOCK_WAIT", "60")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    held.release().await.unwrap();
    let out = waiting.wait_with_output().unwrap();
    assert!(out.status.success());
}

#[test]
fn a_portfolio_ingest_killed_at_any_rename_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let answer = data("GetPortfolioDay_IBOV_pt-br_2022-12-08.json");
    let args = ["ingest-ibov", "--file", answer.to_str().unwrap(), "--lake", "LAKE"];
    let count = "SELECT count(*) FROM carteira_b3_raw";
    at_every_rename(&base, &args, |lake| {
        let n = sql(lake, count);
        assert!(n == ["0"] || n == ["92"], "{}: {n:?}", lake.display());
        run(&with_lake(&args, lake), None);
        assert_eq!(sql(lake, count), ["92"]);
        assert_eq!(per_day(lake, "cotacoes_b3_raw").len(), 3, "the quotes are untouched");
    });
}

#[test]
fn catalog_statements_killed_at_any_rename_leave_a_readable_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let clean = per_day(&base, "cotacoes_b3_raw");
    let script = "CREATE EXTERNAL TABLE IF NOT EXISTS spot (codigo_negociacao string) \
                  PARTITIONED BY (year int, month int, day int) STORED AS PARQUET LOCATION '${lake}/raw/'; \
                  MSCK REPAIR TABLE spot; \
                  ALTER TABLE spot DROP IF EXISTS PARTITION (year=2024, month=3, day=5); \
                  ALTER TABLE spot ADD IF NOT EXISTS PARTITION (year=2024, month=3, day=5) \
                  LOCATION '${lake}/raw/year=2024/month=03/day=05/'";
    let spot = "SELECT count(*) FROM spot";
    let after = tempfile::tempdir().unwrap();
    copy_tree(&base, after.path());
    run(&with_lake(&["sql", "--lake", "LAKE", "-c", script], after.path()), None);
    let whole = sql(after.path(), spot);
    at_every_rename(&base, &["sql", "--lake", "LAKE", "-c", script], |lake| {
        assert_eq!(per_day(lake, "cotacoes_b3_raw"), clean, "{}", lake.display());
        sql(lake, "SHOW TABLES");
        run(&with_lake(&["sql", "--lake", "LAKE", "-c", script], lake), None);
        assert_eq!(sql(lake, spot), whole);
    });
}

#[test]
fn an_insert_killed_at_any_rename_adds_all_its_rows_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let ctas = "CREATE TABLE vista WITH (partitioned_by = ARRAY['day']) AS \
                SELECT codigo_negociacao, preco_ultimo_negocio, day FROM cotacoes_b3_raw WHERE day = 4";
    run(&with_lake(&["sql", "--lake", "LAKE", "-c", ctas], &base), None);
    let count = "SELECT count(*), count(DISTINCT day) FROM vista";
    let before = sql(&base, count);
    // Two new partitions and one that grows: several files, several renames.
    let insert = "INSERT INTO vista SELECT codigo_negociacao, preco_ultimo_negocio, day FROM cotacoes_b3_raw";
    let after = tempfile::tempdir().unwrap();
    copy_tree(&base, after.path());
    run(&with_lake(&["sql", "--lake", "LAKE", "-c", insert], after.path()), None);
    let whole = sql(after.path(), count);
    assert_ne!(before, whole);
    let listed = |lake: &Path| {
        let out =
            cli(&["sql", "--lake", lake.to_str().unwrap(), "--partitions", "listing", "--format", "csv", "-c", count]);
        String::from_utf8_lossy(&out.stdout).lines().skip(1).map(str::to_string).collect::<Vec<_>>()
    };
    at_every_rename(&base, &["sql", "--lake", "LAKE", "-c", insert], |lake| {
        let now = old_or_new_then_recovered(lake, count, &before, &whole);
        assert_eq!(listed(lake), now, "no file outside the index");
        no_stray_files(lake);
        assert!(!lake.join("_staging").exists());
    });
}

/// What a killed statement leaves: `count` answers as `before` or as `whole`, and again once
/// the next writer (a catalog statement) has finished the statement or forgotten it: all its
/// rows or none. Returns the answer then.
fn old_or_new_then_recovered(lake: &Path, count: &str, before: &[String], whole: &[String]) -> Vec<String> {
    let seen = sql(lake, count);
    assert!(seen == before || seen == whole, "{}: {seen:?}", lake.display());
    sql(lake, "DROP VIEW IF EXISTS nada");
    let now = sql(lake, count);
    assert!(now == before || now == whole, "{}: {now:?}", lake.display());
    now
}

/// Fails if a file another engine would read as data was left behind: object_store's
/// `<name>#<n>` staging files (Athena, Spark and pyarrow skip only names that start with `_`
/// or `.`).
fn no_stray_files(lake: &Path) {
    for (path, _) in snapshot(lake) {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        assert!(!name.contains('#'), "{}: a staging file left in the lake", path.display());
    }
}

#[test]
fn an_insert_killed_at_any_rename_keeps_partitions_at_other_locations() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let statement =
        |lake: &Path, sql_text: &str| run(&with_lake(&["sql", "--lake", "LAKE", "-c", sql_text], lake), None);
    statement(
        &base,
        "CREATE TABLE vista WITH (partitioned_by = ARRAY['day']) AS \
         SELECT codigo_negociacao, preco_ultimo_negocio, day FROM cotacoes_b3_raw WHERE day = 4",
    );
    // Day 5 lives outside the table's folder, as ALTER TABLE ... LOCATION allows.
    statement(&base, "ALTER TABLE vista ADD PARTITION (day = 5) LOCATION '${lake}/elsewhere/'");
    statement(
        &base,
        "INSERT INTO vista SELECT codigo_negociacao, preco_ultimo_negocio, day FROM cotacoes_b3_raw WHERE day = 5",
    );
    let count = "SELECT day, count(*) FROM vista GROUP BY day ORDER BY day";
    let before = sql(&base, count);
    assert_eq!(before, ["4,12", "5,12"]);
    let insert = "INSERT INTO vista SELECT codigo_negociacao, preco_ultimo_negocio, day FROM cotacoes_b3_raw";
    let whole = ["4,24", "5,24", "6,12"].map(String::from);
    at_every_rename(&base, &["sql", "--lake", "LAKE", "-c", insert], |lake| {
        old_or_new_then_recovered(lake, count, &before, &whole);
        no_stray_files(lake);
        assert!(!lake.join("_staging").exists());
    });
}

#[test]
fn an_unload_killed_at_any_rename_never_joins_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let ctas = "CREATE TABLE vista WITH (external_location = '${lake}/vista/', partitioned_by = ARRAY['day']) AS \
                SELECT codigo_negociacao, day FROM cotacoes_b3_raw";
    run(&with_lake(&["sql", "--lake", "LAKE", "-c", ctas], &base), None);
    let count = "SELECT day, count(*) FROM vista GROUP BY day ORDER BY day";
    let before = sql(&base, count);
    // Files of no table, into a table's partition folders: Athena's tables take no part of them.
    for format in ["TEXTFILE", "PARQUET"] {
        let unload = format!(
            "UNLOAD (SELECT codigo_negociacao, day FROM cotacoes_b3_raw) TO '${{lake}}/vista/' \
             WITH (format = '{format}', partitioned_by = ARRAY['day'])"
        );
        at_every_rename(&base, &["sql", "--lake", "LAKE", "-c", &unload], |lake| {
            assert_eq!(sql(lake, count), before, "{format}, {}", lake.display());
            sql(lake, "DROP VIEW IF EXISTS nada");
            assert_eq!(sql(lake, count), before, "{format}, {}: after the recovery", lake.display());
            no_stray_files(lake);
        });
    }
}

#[test]
fn a_ctas_killed_at_any_rename_leaves_no_half_table() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let ctas = "CREATE TABLE vista WITH (external_location = '${lake}/vista/', partitioned_by = ARRAY['day']) AS \
                SELECT codigo_negociacao, preco_ultimo_negocio, day FROM cotacoes_b3_raw";
    let after = tempfile::tempdir().unwrap();
    copy_tree(&base, after.path());
    run(&with_lake(&["sql", "--lake", "LAKE", "-c", ctas], after.path()), None);
    let count = "SELECT count(*) FROM vista";
    let whole = sql(after.path(), count);
    at_every_rename(&base, &["sql", "--lake", "LAKE", "-c", ctas], |lake| {
        sql(lake, "DROP VIEW IF EXISTS nada");
        let tables = sql(lake, "SHOW TABLES");
        if tables.contains(&"vista".to_string()) {
            // Made: every row, or (killed before its files were recorded) none.
            let seen = sql(lake, count);
            assert!(seen == whole || seen == ["0"], "{}: {seen:?}", lake.display());
        } else {
            assert!(!lake.join("vista").exists(), "no table, no files: {}", lake.display());
        }
        assert!(!lake.join("_staging").exists());
    });
}

#[tokio::test]
async fn a_glue_sync_killed_at_any_rename_is_completed_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_lake(dir.path());
    let glue = crate::trigger::glue().await;
    let mut n = 0;
    let args = ["catalog", "sync", "--lake", "LAKE", "--database", "DB"];
    let probe = tempfile::tempdir().unwrap();
    copy_tree(&base, probe.path());
    let (_, total) =
        run(&with_lake(&args, probe.path()).iter().map(|a| a.replace("DB", "crash_probe")).collect::<Vec<_>>(), None);
    assert!(total > 0);
    for at in 1..=total {
        n += 1;
        let database = format!("crash_sync_{n}");
        let copy = tempfile::tempdir().unwrap();
        copy_tree(&base, copy.path());
        let args: Vec<String> = with_lake(&args, copy.path()).iter().map(|a| a.replace("DB", &database)).collect();
        let (killed, _) = run(&args, Some(at));
        assert!(killed || at == total);
        run(&args, None);
        let partitions = glue.get_partitions().database_name(&database).table_name("cotacoes_b3_raw").send().await;
        assert_eq!(partitions.unwrap().partitions().len(), 3, "{database}");
        let tables = glue.get_tables().database_name(&database).send().await.unwrap();
        let views = tables.table_list().iter().filter(|t| t.table_type() == Some("VIRTUAL_VIEW")).count();
        assert_eq!((tables.table_list().len() - views, views), (5, 2), "{database}");
    }
}

/// A loopback proxy in front of the S3 server that SIGKILLs its client just before the
/// client's Nth changing request (0: never), and counts those requests.
const PROXY: &str = r####""""A loopback HTTP proxy in front of the test S3 server that SIGKILLs the client just before
its Nth changing request (PUT, POST, DELETE): a crash at each PUT, copy and delete in turn.

usage: proxy.py UPSTREAM PORTFILE PIDFILE KILL_AT COUNTFILE
"""
import http.client, http.server, os, signal, socketserver, sys, threading, time, urllib.parse

upstream, port_file, pid_file, kill_at, count_file = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
up = urllib.parse.urlparse(upstream)
lock = threading.Lock()
seen = 0

def record():
    with open(count_file + ".tmp", "w") as f:
        f.write(str(seen))
    os.replace(count_file + ".tmp", count_file)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        global seen
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command in ("PUT", "POST", "DELETE"):
            with lock:
                seen += 1
                n = seen
                record()
            if n == kill_at:
                for _ in range(200):
                    if os.path.exists(pid_file) and open(pid_file).read().strip():
                        break
                    time.sleep(0.01)
                os.kill(int(open(pid_file).read()), signal.SIGKILL)
                self.close_connection = True
                return
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                self.send_header(k, v)
        # A HEAD answer has no body but the object's length.
        length = resp.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a killed client's connection breaks: expected

server = Server(("127.0.0.1", 0), Handler)
record()
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(port_file + ".tmp", port_file)
server.serve_forever()
"####;

pub(crate) struct Proxy {
    child: std::process::Child,
    dir: tempfile::TempDir,
    url: String,
}

impl Proxy {
    pub(crate) fn start(kill_at: usize) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("proxy.py");
        std::fs::write(&script, PROXY).unwrap();
        let upstream = std::env::var("AWS_ENDPOINT_URL").expect("the test command starts an S3 server");
        let file = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        let child = Command::new("python3")
            .arg(&script)
            .args([&upstream, &file("port"), &file("pid"), &kill_at.to_string(), &file("count")])
            .spawn()
            .expect("python3 runs the proxy");
        let port = (0..500)
            .find_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                std::fs::read_to_string(dir.path().join("port")).ok()
            })
            .expect("the proxy starts");
        Proxy { child, url: format!("http://127.0.0.1:{port}"), dir }
    }

    /// Runs the CLI through the proxy: whether it was killed, and its changing requests.
    pub(crate) fn run(&self, args: &[String]) -> (bool, usize) {
        use std::os::unix::process::ExitStatusExt;
        let child = Command::new(env!("CARGO_BIN_EXE_b3lake"))
            .args(args)
            .env("AWS_ENDPOINT_URL", &self.url)
            .env("RUST_LOG", "off")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::fs::write(self.dir.path().join("pid"), child.id().to_string()).unwrap();
        let out = child.wait_with_output().unwrap();
        let killed = out.status.signal() == Some(9);
        assert!(killed || out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let count = std::fs::read_to_string(self.dir.path().join("count")).unwrap();
        (killed, count.trim().parse().unwrap())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies every object under one S3 lake to another prefix of its bucket.
async fn copy_s3_lake(from: &b3lake::lake::Lake, to: &str) -> b3lake::lake::Lake {
    use futures::TryStreamExt;
    use object_store::ObjectStoreExt;
    let target = b3lake::lake::Lake::open(to).await.unwrap();
    let objects: Vec<_> = from.store().list(Some(&from.path(""))).try_collect().await.unwrap();
    for meta in objects {
        let relative = from.relative(&meta.location).to_string();
        from.store().copy(&meta.location, &target.path(&relative)).await.unwrap();
    }
    target
}

const PER_DAY_RAW: &str = "SELECT CAST(data_pregao AS VARCHAR), count(*) FROM cotacoes_b3_raw GROUP BY 1 ORDER BY 1";

/// An S3 lake at `s3://<bucket>/base` holding `old` tickers a day, ingested and transformed,
/// and a new input of `(skip, n)` tickers for the same days.
async fn s3_base(
    bucket_name: &str,
    dir: &Path,
    old: usize,
    (skip, n): (usize, usize),
) -> (String, b3lake::lake::Lake, PathBuf) {
    let old_input = small_days(&dir.join("COTAHIST_OLD.TXT"), 0, old);
    let new_input = small_days(&dir.join("COTAHIST_NEW.TXT"), skip, n);
    let base_url = bucket(bucket_name).await.replace("/lake", "/base");
    let base = b3lake::lake::Lake::open(&base_url).await.unwrap();
    ingest_paths(&base, std::slice::from_ref(&old_input)).await.unwrap();
    b3lake::transform::transform(&base, &Default::default()).await.unwrap();
    (base_url, base, new_input)
}

#[tokio::test]
async fn an_s3_ingest_killed_at_any_put_goes_in_whole_at_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let (base_url, base, new_input) = s3_base("b3lake-crash", dir.path(), 12, (20, 9)).await;
    let raw = |lake: &str| sql(lake, PER_DAY_RAW);
    let old = raw(&base_url);
    let ingest = |lake: &str| -> Vec<String> {
        ["ingest", new_input.to_str().unwrap(), "--lake", lake].iter().map(|a| a.to_string()).collect()
    };
    let probe = copy_s3_lake(&base, &base_url.replace("/base", "/probe")).await;
    let (_, total) = Proxy::start(0).run(&ingest(&probe.to_string()));
    let new = raw(&probe.to_string());
    assert_ne!(old, new);
    assert!(total >= 6, "{total} changing requests");
    eprintln!("ingest on S3: {total} changing requests");
    for at in 1..=total {
        let url = base_url.replace("/base", &format!("/k{at}"));
        copy_s3_lake(&base, &url).await;
        let (killed, _) = Proxy::start(at).run(&ingest(&url));
        assert!(killed || at == total, "not killed at request {at} of {total}");
        // Queries run; the next writer finds the run's days all old or all new.
        raw(&url);
        let out = cli(&["transform", "--lake", &url]);
        assert!(out.status.success(), "{}", stderr(&out));
        let now = raw(&url);
        assert!(now == old || now == new, "request {at}: {now:?}");
        let lake = b3lake::lake::Lake::open(&url).await.unwrap();
        assert!(lake.list_all(&lake.path("_staging")).await.unwrap().is_empty(), "request {at}: staging left");
        // A rerun ends in the new lake.
        let out = cli(&ingest(&url).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(raw(&url), new, "request {at}");
    }
}

#[tokio::test]
async fn an_s3_transform_killed_at_any_put_leaves_each_day_old_or_new() {
    let dir = tempfile::tempdir().unwrap();
    let (base_url, base, new_input) = s3_base("b3lake-crash-transform", dir.path(), 3, (10, 2)).await;
    let refined = |lake: &str| -> BTreeMap<String, String> {
        let rows = sql(
            lake,
            "SELECT CAST(data_pregao AS VARCHAR), count(*), sum(vol_financeiro_total) FROM cotacoes_b3_refined \
             GROUP BY 1 ORDER BY 1",
        );
        rows.into_iter().map(|l| (l.split(',').next().unwrap().to_string(), l)).collect()
    };
    let old = refined(&base_url);
    // The raw table changes whole; the transform then rewrites each day.
    ingest_paths(&base, std::slice::from_ref(&new_input)).await.unwrap();
    let transform =
        |lake: &str| -> Vec<String> { ["transform", "--lake", lake].iter().map(|a| a.to_string()).collect() };
    let probe = copy_s3_lake(&base, &base_url.replace("/base", "/probe")).await;
    let (_, total) = Proxy::start(0).run(&transform(&probe.to_string()));
    let new = refined(&probe.to_string());
    assert_eq!(old.len(), 3);
    assert!(old.iter().all(|(day, row)| new.get(day) != Some(row)), "{old:?} {new:?}");
    assert!(total >= 20, "{total} changing requests");
    eprintln!("transform on S3: {total} changing requests");
    for at in 1..=total {
        let url = base_url.replace("/base", &format!("/t{at}"));
        copy_s3_lake(&base, &url).await;
        let (killed, _) = Proxy::start(at).run(&transform(&url));
        assert!(killed || at == total, "not killed at request {at} of {total}");
        // Queries run at once (the dead writer's marks are its host's), each day old or new.
        let now = refined(&url);
        for (day, row) in &now {
            assert!(old.get(day) == Some(row) || new.get(day) == Some(row), "request {at}: {row}");
        }
        // A rerun ends in the new lake.
        let out = cli(&transform(&url).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(refined(&url), new, "request {at}");
    }
}
