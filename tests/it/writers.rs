//! Many writers at once: separate `b3lake` processes (ingests, transforms, INSERTs) on one
//! lake, local and on S3. Writers of other days run together and end as they would one after
//! another; writers of one day end as one of the serial orders; writers killed at random
//! among live ones leave no partial day, never break the others, and a rerun finishes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A COTAHIST file of one trading day (`yyyymmdd`): `n` spot records of a real 2022 day,
/// from the `variant`-th block of `n` instruments (two variants of a day differ).
fn day_file(dir: &Path, day: &str, n: usize, variant: usize) -> PathBuf {
    let lines = lines(DAY_2022);
    let spot: Vec<&Vec<u8>> = lines.iter().filter(|l| l.starts_with(b"01") && &l[24..27] == b"010").collect();
    let mut out = vec![lines[0].clone()];
    for record in spot.iter().skip(variant * n).take(n) {
        let mut record = (*record).clone();
        record[2..10].copy_from_slice(day.as_bytes());
        out.push(record);
    }
    let mut trailer = lines.last().unwrap().clone();
    trailer[31..42].copy_from_slice(format!("{:011}", out.len() + 1).as_bytes());
    out.push(trailer);
    let path = dir.join(format!("COTAHIST_{day}_{variant}.TXT"));
    write_lines(&path, &out);
    path
}

/// `yyyy-mm-dd` of `yyyymmdd`.
fn dashed(day: &str) -> String {
    format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..])
}

fn spawn(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .args(args)
        .env("RUST_LOG", "info")
        .env("B3LAKE_LOCK_WAIT", "300")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run b3lake")
}

/// Waits for a writer; its log (stderr) if it succeeded, a failure naming it if not.
fn finished(child: Child, args: &[String]) -> String {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stderr(&out)
}

fn run_all_at_once(jobs: &[Vec<String>]) -> Vec<String> {
    let children: Vec<Child> = jobs.iter().map(|j| spawn(j)).collect();
    children.into_iter().zip(jobs).map(|(c, j)| finished(c, j)).collect()
}

fn run_in_turn(jobs: &[Vec<String>]) {
    for job in jobs {
        finished(spawn(job), job);
    }
}

fn ingest(lake: &str, file: &Path) -> Vec<String> {
    vec!["ingest".into(), file.to_str().unwrap().into(), "--lake".into(), lake.into()]
}

fn transform(lake: &str, days: &[&str]) -> Vec<String> {
    let mut args = vec!["transform".to_string(), "--lake".into(), lake.into()];
    for day in days {
        args.extend(["--day".to_string(), dashed(day)]);
    }
    args
}

fn statement(lake: &str, sql: &str) -> Vec<String> {
    vec!["sql".into(), "--lake".into(), lake.into(), "-c".into(), sql.into()]
}

/// An INSERT of one raw day's rows into `t`, partitioned by that day.
fn insert_day(lake: &str, day: &str) -> Vec<String> {
    let day = dashed(day);
    statement(
        lake,
        &format!(
            "INSERT INTO t SELECT codigo_negociacao, preco_ultimo_negocio, '{day}' FROM cotacoes_b3_raw \
             WHERE data_pregao = DATE '{day}'"
        ),
    )
}

const T: &str = "CREATE EXTERNAL TABLE t (codigo string, preco decimal(13,2)) PARTITIONED BY (dia string) \
     STORED AS PARQUET LOCATION '${lake}/t/'";

/// What the lake answers, table by table: rows, sums to the cent and partitions, through the
/// partition index and through a listing of the folders (which must agree).
fn answers(lake: &str) -> Vec<String> {
    let queries = [
        "SELECT CAST(data_pregao AS VARCHAR), count(*), sum(preco_ultimo_negocio), sum(volume_total_negociado) \
         FROM cotacoes_b3_raw GROUP BY 1 ORDER BY 1",
        "SELECT CAST(data_pregao AS VARCHAR), count(*), sum(preco_fechamento), sum(vol_financeiro_total) \
         FROM cotacoes_b3_refined GROUP BY 1 ORDER BY 1",
        "SELECT * FROM cotacoes_b3_resumo_diario ORDER BY 1",
        "SELECT dia, count(*), sum(preco) FROM t GROUP BY 1 ORDER BY 1",
        "SHOW PARTITIONS cotacoes_b3_raw",
        "SHOW PARTITIONS cotacoes_b3_refined",
        "SHOW PARTITIONS cotacoes_b3_resumo_diario",
        "SHOW PARTITIONS t",
    ];
    let mut out = Vec::new();
    for partitions in ["index", "listing"] {
        for q in queries {
            let o = cli(&["sql", "--lake", lake, "--format", "csv", "--partitions", partitions, "-c", q]);
            assert!(o.status.success(), "{q}: {}", stderr(&o));
            out.push(format!("{q}\n{}", String::from_utf8_lossy(&o.stdout)));
        }
    }
    assert_eq!(out[..queries.len()], out[queries.len()..], "{lake}: the index and a listing disagree");
    out.truncate(queries.len());
    out
}

/// `day,rows` of a table, by day.
fn per_day(lake: &str, table: &str) -> Vec<String> {
    let q = format!("SELECT CAST(data_pregao AS VARCHAR), count(*) FROM {table} GROUP BY 1 ORDER BY 1");
    let o = cli(&["sql", "--lake", lake, "--format", "csv", "-c", &q]);
    assert!(o.status.success(), "{q}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).lines().skip(1).map(str::to_string).collect()
}

/// The days the transform has bookmarked.
fn bookmarked(lake: &Path) -> BTreeSet<String> {
    let folder = lake.join("_b3lake/bookmarks/transform");
    std::fs::read_dir(folder).map_or_else(
        |_| BTreeSet::new(),
        |d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
    )
}

const DAYS: [&str; 8] =
    ["20240304", "20240305", "20240306", "20240307", "20240311", "20240312", "20240313", "20240314"];

/// Four days ingested and transformed, and the table `t` with one INSERT: every table the
/// writers below write is defined and indexed, so none of them needs the whole lake.
fn setup(lake: &str, files: &[PathBuf]) {
    run_in_turn(&[
        ingest(lake, &files[0]),
        ingest(lake, &files[1]),
        ingest(lake, &files[2]),
        ingest(lake, &files[3]),
        transform(lake, &[]),
        statement(lake, T),
        statement(lake, "INSERT INTO t VALUES ('X', 1.25, '2024-03-01')"),
    ]);
}

/// Eight writers of other days: two ingests, two transforms, four INSERTs.
fn disjoint_jobs(lake: &str, files: &[PathBuf]) -> Vec<Vec<String>> {
    vec![
        ingest(lake, &files[4]),
        ingest(lake, &files[6]),
        transform(lake, &DAYS[..2]),
        transform(lake, &DAYS[2..4]),
        insert_day(lake, DAYS[0]),
        insert_day(lake, DAYS[1]),
        insert_day(lake, DAYS[2]),
        insert_day(lake, DAYS[3]),
    ]
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    DAYS.iter().enumerate().map(|(i, d)| day_file(dir, d, 20, i % 3)).collect()
}

#[test]
fn eight_writers_of_other_days_run_at_once_and_end_as_one_after_another() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let serial = dir.path().join("serial");
    let at_once = dir.path().join("at_once");
    let (s, a) = (serial.to_str().unwrap(), at_once.to_str().unwrap());
    for lake in [s, a] {
        setup(lake, &files);
    }
    run_in_turn(&disjoint_jobs(s, &files));
    // Readers meanwhile: every day whole (20 rows) or absent, in every table, at every moment.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = std::thread::spawn({
        let (done, lake) = (done.clone(), a.to_string());
        move || {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                for q in [
                    "SELECT CAST(data_pregao AS VARCHAR), count(*) FROM cotacoes_b3_raw GROUP BY 1",
                    "SELECT CAST(data_pregao AS VARCHAR), count(*) FROM cotacoes_b3_refined GROUP BY 1",
                    "SELECT dia, count(*) FROM t WHERE dia <> '2024-03-01' GROUP BY 1",
                ] {
                    let o = cli(&["sql", "--lake", &lake, "--format", "csv", "-c", q]);
                    assert!(o.status.success(), "{q}: {}", stderr(&o));
                    for line in String::from_utf8_lossy(&o.stdout).lines().skip(1) {
                        assert!(line.ends_with(",20"), "{q}: a day partly seen: {line}");
                    }
                    reads += 1;
                }
            }
            reads
        }
    });
    let logs = run_all_at_once(&disjoint_jobs(a, &files));
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(reader.join().unwrap() > 0);
    for log in &logs {
        assert!(!log.contains("waiting for another writer"), "a writer of other days waited:\n{log}");
        assert!(!log.contains("waiting for the lake's lock"), "a writer of other days waited:\n{log}");
    }
    assert_eq!(answers(a), answers(s));
    assert_eq!(bookmarked(&at_once), bookmarked(&serial));
    assert_eq!(bookmarked(&at_once).len(), 4);
    // The new days then transform as in turn too.
    run_in_turn(&[transform(s, &[])]);
    run_all_at_once(&[transform(a, &[])]);
    assert_eq!(answers(a), answers(s));
}

#[test]
fn writers_of_one_day_at_once_end_as_one_of_the_serial_orders() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let day = DAYS[4];
    let (v1, v2) = (day_file(dir.path(), day, 30, 3), day_file(dir.path(), day, 30, 4));
    let lake = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let jobs = |l: &str| vec![ingest(l, &v1), ingest(l, &v2), insert_day(l, DAYS[0]), insert_day(l, DAYS[0])];
    let orders: Vec<Vec<String>> = [[0, 1], [1, 0]]
        .iter()
        .map(|order| {
            let l = lake(&format!("serial{}{}", order[0], order[1]));
            setup(&l, &files);
            let all = jobs(&l);
            run_in_turn(&[all[order[0]].clone(), all[order[1]].clone(), all[2].clone(), all[3].clone()]);
            answers(&l)
        })
        .collect();
    assert_ne!(orders[0], orders[1], "the two versions of the day must differ");
    for round in 0..3 {
        let l = lake(&format!("at_once{round}"));
        setup(&l, &files);
        run_all_at_once(&jobs(&l));
        let got = answers(&l);
        assert!(got == orders[0] || got == orders[1], "round {round}: not a serial order:\n{got:#?}");
    }
}

/// Kills one writer of a few running at once, at a random moment, until `kills` were killed
/// mid-run; the others must finish, no day may show partly, and the killed writer's rerun
/// must complete. Returns the rounds.
fn kill_rounds(lake: &str, files: &[PathBuf], kills_wanted: usize, seed: u64) -> usize {
    let mut rng = seed;
    let mut next = |n: u64| {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (rng >> 33) % n
    };
    let expected = {
        // Each day's rows, whole: the raw table's count per day is its file's.
        let mut counts = std::collections::BTreeMap::new();
        for d in DAYS {
            counts.insert(dashed(d), 20u64);
        }
        counts
    };
    let mut kills = 0;
    let mut round = 0;
    while kills < kills_wanted {
        round += 1;
        assert!(round < 4 * kills_wanted, "writers end before they can be killed: {kills} kills in {round} rounds");
        // Four writers of other days: ingests of two days, and INSERTs of two others.
        let a = next(4) as usize;
        let jobs = vec![
            ingest(lake, &files[4 + a]),
            ingest(lake, &files[4 + (a + 1) % 4]),
            insert_day(lake, DAYS[next(4) as usize]),
            transform(lake, &[DAYS[next(4) as usize]]),
        ];
        let mut children: Vec<Child> = jobs.iter().map(|j| spawn(j)).collect();
        let victim = next(jobs.len() as u64) as usize;
        std::thread::sleep(Duration::from_millis(next(150)));
        let _ = children[victim].kill();
        for (i, (child, job)) in children.into_iter().zip(&jobs).enumerate() {
            let out = child.wait_with_output().unwrap();
            if i == victim {
                use std::os::unix::process::ExitStatusExt;
                kills += usize::from(out.status.signal() == Some(9));
                continue;
            }
            assert!(
                out.status.success(),
                "round {round}: a writer beside the killed one failed: {job:?}: {}",
                stderr(&out)
            );
        }
        // No partial day: every raw day has all its rows or is not there.
        for line in per_day(lake, "cotacoes_b3_raw") {
            let (day, count) = line.split_once(',').unwrap();
            assert_eq!(Some(&count.parse::<u64>().unwrap()), expected.get(day), "round {round}: day {day} partly in");
        }
        // Nor a partial refined day: the transformed days have a row per instrument.
        let refined = per_day(lake, "cotacoes_b3_refined");
        let whole: Vec<String> = DAYS[..4].iter().map(|d| format!("{},20", dashed(d))).collect();
        assert_eq!(refined, whole, "round {round}: a refined day partly in");
        // The killed work, again, completes.
        finished(spawn(&jobs[victim]), &jobs[victim]);
    }
    round
}

/// Kills `kills` writers at random on `lake` ([`kill_rounds`]), then ingests and transforms
/// every day there and on `clean`, set up alike: both must then answer the same (but for `t`,
/// which each INSERT grows).
fn killed_lake_ends_clean(lake: &str, clean: &str, files: &[PathBuf], kills: usize, seed: u64) {
    setup(lake, files);
    let started = Instant::now();
    let rounds = kill_rounds(lake, files, kills, seed);
    eprintln!("{kills} writers killed mid-run in {rounds} rounds, {:?}", started.elapsed());
    setup(clean, files);
    for lake in [lake, clean] {
        let ingests: Vec<Vec<String>> = files[4..].iter().map(|f| ingest(lake, f)).collect();
        run_in_turn(&ingests);
        run_in_turn(&[transform(lake, &DAYS)]);
    }
    let (got, want) = (answers(lake), answers(clean));
    assert_eq!(got[..3], want[..3]);
    assert_eq!(got[4..7], want[4..7]);
}

#[test]
fn writers_killed_at_random_among_live_ones_leave_no_partial_day() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let lake = dir.path().join("lake");
    let clean = dir.path().join("clean");
    killed_lake_ends_clean(lake.to_str().unwrap(), clean.to_str().unwrap(), &files, 200, 7);
    assert!(!lake.join("_staging").exists(), "a killed writer's staging was left after the reruns");
}

#[test]
fn a_writer_whose_staged_files_vanish_fails_loudly_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let lake_dir = dir.path().join("lake");
    let l = lake_dir.to_str().unwrap();
    setup(l, &files);
    let before = answers(l);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt.block_on(async {
        let lake = b3lake::lake::Lake::open(l).await.unwrap();
        let writer = b3lake::catalog::writes::writer(&lake, "a test").await.unwrap();
        let mut staging = b3lake::lake::Staging::new(&lake, writer.run());
        let date = chrono::NaiveDate::from_ymd_opt(2024, 3, 11).unwrap();
        let day = b3lake::ingest::day_file::DayFile::new(date).unwrap().finish().unwrap();
        staging.stage(day).await.unwrap();
        // Another process removes this live run's staging: the run must not carry on as if
        // its day were in place.
        std::fs::remove_dir_all(lake_dir.join("_staging").join(writer.run())).unwrap();
        let err = staging.commit().await.expect_err("a commit whose files vanished fails");
        writer.end().await.unwrap();
        err.to_string()
    });
    assert!(err.contains("cotacoes_20240311.parquet"), "{err}");
    assert_eq!(answers(l), before);
}

fn s3_bucket(name: &str) -> String {
    tokio::runtime::Runtime::new().unwrap().block_on(bucket(name))
}

#[test]
fn eight_writers_of_other_days_on_s3_run_at_once_and_end_as_one_after_another() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let (s, a) = (s3_bucket("b3lake-writers-serial"), s3_bucket("b3lake-writers-at-once"));
    for lake in [&s, &a] {
        setup(lake, &files);
    }
    run_in_turn(&disjoint_jobs(&s, &files));
    let logs = run_all_at_once(&disjoint_jobs(&a, &files));
    for log in &logs {
        assert!(!log.contains("waiting for another writer"), "a writer of other days waited:\n{log}");
    }
    assert_eq!(answers(&a), answers(&s));
}

#[test]
fn writers_killed_at_random_among_live_ones_on_s3_leave_no_partial_day() {
    let dir = tempfile::tempdir().unwrap();
    let files = inputs(dir.path());
    let (lake, clean) = (s3_bucket("b3lake-writers-killed"), s3_bucket("b3lake-writers-killed-clean"));
    killed_lake_ends_clean(&lake, &clean, &files, 50, 11);
}

/// Two processes of the function (its binary, against a Lambda Runtime API on 127.0.0.1 each)
/// transforming other days of one S3 lake: they overlap in time, and neither waits for the other.
#[cfg(feature = "lambda")]
#[test]
fn two_function_processes_transform_other_days_at_once() {
    use std::sync::Mutex;
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = DAYS[..2].iter().map(|d| day_file(dir.path(), d, 200, 0)).collect();
    let lake = s3_bucket("b3lake-writers-functions");
    run_in_turn(&[ingest(&lake, &files[0]), ingest(&lake, &files[1]), transform(&lake, &[])]);
    type Window = Mutex<(Option<Instant>, Option<Instant>)>;
    let windows: Vec<std::sync::Arc<Window>> = (0..2).map(|_| Default::default()).collect();
    let apis: Vec<HttpServer> = (0..2)
        .map(|i| {
            let window = windows[i].clone();
            let payload = format!(r#"{{"b3lake": "transform", "days": ["{}"]}}"#, dashed(DAYS[i])).into_bytes();
            let served = std::sync::atomic::AtomicBool::new(false);
            HttpServer::start(move |_, path| {
                if path.ends_with("/response") || path.ends_with("/error") {
                    window.lock().unwrap().1 = Some(Instant::now());
                    return Reply::Status(202);
                }
                if !path.ends_with("/invocation/next") || served.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_secs(600));
                    return Reply::Status(500);
                }
                window.lock().unwrap().0 = Some(Instant::now());
                let headers = vec![
                    ("Lambda-Runtime-Aws-Request-Id", "req-1"),
                    ("Lambda-Runtime-Deadline-Ms", "4102444800000"),
                    (
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:b3lake-test",
                    ),
                ];
                Reply::Headers(200, headers, payload.clone())
            })
        })
        .collect();
    let mut children: Vec<Child> = apis
        .iter()
        .map(|api| {
            Command::new(env!("CARGO_BIN_EXE_b3lake-lambda"))
                .env("AWS_LAMBDA_RUNTIME_API", api.base.trim_start_matches("http://"))
                .env("AWS_LAMBDA_FUNCTION_NAME", "b3lake-test")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("B3LAKE_LAKE", &lake)
                .env("RUST_LOG", "info")
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let started = Instant::now();
    while windows.iter().any(|w| w.lock().unwrap().1.is_none()) && started.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let logs: Vec<String> = children
        .iter_mut()
        .map(|c| {
            c.kill().unwrap();
            let mut err = String::new();
            std::io::Read::read_to_string(c.stderr.as_mut().unwrap(), &mut err).unwrap();
            c.wait().unwrap();
            err
        })
        .collect();
    let spans: Vec<(Instant, Instant)> = windows
        .iter()
        .map(|w| {
            let w = w.lock().unwrap();
            (w.0.expect("asked for work"), w.1.unwrap_or_else(|| panic!("no answer:\n{}", logs.join("\n"))))
        })
        .collect();
    for (i, api) in apis.iter().enumerate() {
        assert!(api.seen().iter().any(|s| s.path.ends_with("/response")), "function {i} failed:\n{}", logs[i]);
    }
    assert!(spans[0].0 < spans[1].1 && spans[1].0 < spans[0].1, "the two runs did not overlap: {spans:?}");
    for log in &logs {
        assert!(!log.contains("waiting for another writer") && !log.contains("waiting for the lake's lock"), "{log}");
    }
}

/// A live run's lease on S3 changes at each heartbeat (so nobody takes it for dead), and a
/// writer of a day it holds waits, then fails naming it and what it holds, with nothing changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_on_s3_keeps_its_lease_and_its_days() {
    use object_store::ObjectStoreExt;
    let dir = tempfile::tempdir().unwrap();
    let url = bucket("b3lake-writers-lease").await;
    let (other, held_day) = (day_file(dir.path(), DAYS[0], 20, 0), day_file(dir.path(), DAYS[1], 20, 0));
    let out = cli(&["ingest", other.to_str().unwrap(), "--lake", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lake = b3lake::lake::Lake::open(&url).await.unwrap();
    let writer = b3lake::catalog::writes::writer(&lake, "a test").await.unwrap();
    let key = b3lake::lake::Key::day("cotacoes_b3_raw", chrono::NaiveDate::from_ymd_opt(2024, 3, 5).unwrap());
    let held = writer.take(&b3lake::lake::Scope::Keys([key].into())).await.unwrap();
    let lease = lake.path(&format!("_b3lake/writers/{}.json", writer.run()));
    let before = lake.store().head(&lease).await.unwrap().e_tag;
    let ingest = tokio::task::spawn_blocking({
        let (url, file) = (url.clone(), held_day.clone());
        move || {
            Command::new(env!("CARGO_BIN_EXE_b3lake"))
                .args(["ingest", file.to_str().unwrap(), "--lake", &url])
                .env("B3LAKE_LOCK_WAIT", "14")
                .output()
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_secs(12)).await;
    let after = lake.store().head(&lease).await.unwrap().e_tag;
    assert!(before.is_some() && before != after, "{before:?} {after:?}");
    let out = ingest.await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("another writer holds cotacoes_b3_raw year=2024/month=03/day=05: a test (pid"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    writer.release(held).await.unwrap();
    writer.end().await.unwrap();
    assert_eq!(per_day(&url, "cotacoes_b3_raw"), ["2024-03-04,20"]);
    let out = cli(&["ingest", held_day.to_str().unwrap(), "--lake", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(per_day(&url, "cotacoes_b3_raw"), ["2024-03-04,20", "2024-03-05,20"]);
}
