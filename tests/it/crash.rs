//! Crashes at every step: each writing command is killed (SIGKILL) just before its 1st, 2nd,
//! ... rename (every file put on a local lake is a rename into place, every day swap one),
//! by a small `LD_PRELOAD` library built here with the system's C compiler. After each kill,
//! queries must succeed with the old or the new data, and a rerun must end in exactly the
//! clean result.

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
fn sql(lake: &Path, query: &str) -> Vec<String> {
    let out = cli(&["sql", "--lake", lake.to_str().unwrap(), "--format", "csv", "-c", query]);
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

/// A small COTAHIST file: three days (2024-03-04 .. 06) of `n` spot-market records of the real
/// 2022-02-04 session, starting at its `skip`th such record (so two files can differ).
fn small_days(path: &Path, skip: usize, n: usize) -> PathBuf {
    let lines = lines(DAY_2022);
    let spot: Vec<&Vec<u8>> = lines.iter().filter(|l| l.starts_with(b"01") && &l[24..27] == b"010").collect();
    let mut out = vec![lines[0].clone()];
    for day in [b"20240304", b"20240305", b"20240306"] {
        for record in spot.iter().skip(skip).take(n) {
            let mut record = (*record).clone();
            record[2..10].copy_from_slice(day);
            out.push(record);
        }
    }
    let mut trailer = lines.last().unwrap().clone();
    trailer[31..42].copy_from_slice(format!("{:011}", out.len() + 1).as_bytes());
    out.push(trailer);
    write_lines(path, &out);
    path.to_path_buf()
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
    assert!(err.contains("another writer holds the lake's lock: a test (pid"), "{err}");
    // Released while the second waits: it goes on.
    let waiting = Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .args(["transform", "--lake", base.to_str().unwrap(), "--all"])
        .env("B3LAKE_LOCK_WAIT", "60")
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
        assert_eq!(tables.table_list().len(), 5, "{database}");
    }
}
