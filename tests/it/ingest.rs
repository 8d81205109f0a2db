//! From files to the raw lake and back through DataFusion.

use std::path::PathBuf;

use arrow::array::RecordBatch;
use b3lake::lake::Lake;
use b3lake::source::cotahist::{CotahistReader, ReaderOptions, raw_schema};

use crate::common::*;

/// Rows as sorted strings: a multiset comparison that ignores row order.
fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = strings(batches);
    out.sort();
    out
}

fn parse(name: &str) -> Vec<RecordBatch> {
    let file = std::io::BufReader::new(std::fs::File::open(data(name)).unwrap());
    CotahistReader::new(file, name, ReaderOptions::default()).collect::<Result<_, _>>().unwrap()
}

fn all_columns() -> String {
    raw_schema().fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
}

#[tokio::test]
async fn round_trip_every_value_of_every_real_file() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    let files = [DAY_2022, YEAR_2016, DEMO_2003];
    let report = ingest_paths(&lake, &files.iter().map(|f| data(f)).collect::<Vec<_>>()).await.unwrap();
    // Record counts: the trailers say 7,524, 5,222 and 553, each with header and trailer.
    assert_eq!(report.records, (7524 - 2) + (5222 - 2) + (553 - 2));
    assert_eq!(report.days.len(), 1 + 3 + 1);
    for (name, date, expected) in [(DAY_2022, "2022-02-04", 7522), (DEMO_2003, "2003-02-12", 551)] {
        let n =
            query_one_i64(&lake, &format!("SELECT count(*) FROM cotacoes_b3_raw WHERE data_pregao = DATE '{date}'"))
                .await;
        assert_eq!(n, expected, "{name}");
    }
    let back = query(&lake, &format!("SELECT {} FROM cotacoes_b3_raw", all_columns())).await;
    let source: Vec<RecordBatch> = files.iter().flat_map(|f| parse(f)).collect();
    assert_eq!(rows(&back), rows(&source));
    // Exact decimals survive Parquet: the day's traded value to the cent.
    let batches =
        query(&lake, "SELECT CAST(sum(volume_total_negociado) AS VARCHAR) FROM cotacoes_b3_raw WHERE year = 2022")
            .await;
    let total = arrow::util::display::array_value_to_string(batches[0].column(0), 0).unwrap();
    let expected: u128 = lines(DAY_2022)[1..7523]
        .iter()
        .map(|l| std::str::from_utf8(&l[170..188]).unwrap().parse::<u128>().unwrap())
        .sum();
    assert_eq!(total, format!("{}.{:02}", expected / 100, expected % 100));
}

#[tokio::test]
async fn hive_layout_and_snappy() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    ingest_paths(&lake, &[data(YEAR_2016)]).await.unwrap();
    let files: Vec<PathBuf> =
        snapshot(dir.path()).into_keys().filter(|p| p.extension().is_some() && !p.starts_with("_b3lake")).collect();
    assert_eq!(
        files,
        ["04", "05", "06"]
            .iter()
            .map(|d| PathBuf::from(format!("raw/year=2016/month=01/day={d}/cotacoes_201601{d}.parquet")))
            .collect::<Vec<_>>()
    );
    let file = std::fs::File::open(dir.path().join(&files[0])).unwrap();
    let meta = parquet::file::reader::FileReader::metadata(
        &parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap(),
    )
    .clone();
    assert_eq!(meta.num_row_groups(), 1, "a day is one row group");
    for col in meta.row_group(0).columns() {
        assert_eq!(col.compression(), parquet::basic::Compression::SNAPPY);
    }
    assert_eq!(meta.file_metadata().num_rows(), 1743);
    // Partition pruning: a query for one day reads one file.
    let n =
        query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw WHERE year = 2016 AND month = 1 AND day = 5").await;
    assert_eq!(n, 1697);
}

#[tokio::test]
async fn reingesting_replaces_days_and_never_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    ingest_paths(&lake, &[data(DAY_2022)]).await.unwrap();
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw").await, 7522);
    // The same day inside a larger run, and a stray file in the partition, are both replaced.
    std::fs::write(dir.path().join("raw/year=2022/month=02/day=04/extra.parquet"), b"junk").unwrap();
    ingest_paths(&lake, &[data(DAY_2022), data(YEAR_2016)]).await.unwrap();
    assert_eq!(query_one_i64(&lake, "SELECT count(*) FROM cotacoes_b3_raw").await, 7522 + 5220);
    assert!(!dir.path().join("_staging").exists(), "staging is removed after a commit");
}

#[tokio::test]
async fn zip_members_and_folders() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    // A ZIP as B3 publishes it, and one with an old-style member name without extension.
    for (zip_name, member, source) in
        [("COTAHIST_A2016.ZIP", "COTAHIST_A2016.TXT", YEAR_2016), ("COTAHIST_A2003.ZIP", "COTAHIST.A2003", DEMO_2003)]
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(inputs.join(zip_name)).unwrap());
        zip.start_file(member, zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut zip, &std::fs::read(data(source)).unwrap()).unwrap();
        zip.finish().unwrap();
    }
    std::fs::copy(data(DAY_2022), inputs.join(DAY_2022)).unwrap();
    let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).await.unwrap();
    let report = ingest_paths(&lake, &[inputs]).await.unwrap();
    assert_eq!(report.inputs, 3);
    assert_eq!(report.records, 7522 + 5220 + 551);
    assert_eq!(query_one_i64(&lake, "SELECT count(DISTINCT data_pregao) FROM cotacoes_b3_raw").await, 5);
}

#[test]
fn killed_mid_run_leaves_no_visible_partial_day() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("COTAHIST_M032022.TXT");
    let lake = dir.path().join("lake");
    assert!(
        cli(&["synth", "--out", input.to_str().unwrap(), "--from", "2022-03-01", "--to", "2022-03-31"])
            .status
            .success()
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_b3lake"))
        .args(["ingest", input.to_str().unwrap(), "--lake", lake.to_str().unwrap()])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    child.kill().unwrap();
    child.wait().unwrap();
    // Whether the kill came during parsing, staging or commit, every file a reader can see
    // is a whole Parquet file: days are moved in one at a time, each in one step.
    for (path, bytes) in snapshot(&lake) {
        if path.starts_with("raw") && path.extension().is_some() {
            let reader = parquet::file::serialized_reader::SerializedFileReader::new(bytes::Bytes::from(bytes));
            assert!(reader.is_ok(), "{} is not a complete Parquet file", path.display());
        }
    }
    // And the next run recovers: the whole month, once.
    let out = cli(&["ingest", input.to_str().unwrap(), "--lake", lake.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let raw: Vec<_> = snapshot(&lake.join("raw")).into_keys().filter(|p| p.extension().is_some()).collect();
    assert_eq!(raw.len(), 22, "B3's trading days of March 2022 (Tuesday the 1st was Carnival)");
}

#[test]
fn json_logs_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = cli(&[
        "--log-format",
        "json",
        "--log-level",
        "info",
        "ingest",
        data(DEMO_2003).to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = stderr(&out);
    let events: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!events.is_empty());
    for line in &events {
        assert!(line.starts_with('{') && line.ends_with('}'), "not a JSON line: {line}");
    }
    assert!(events.iter().any(|l| l.contains("\"message\":\"ingested\"") && l.contains("\"records\":551")), "{logs}");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("1 inputs, 551 records, 1 trading days (2003-02-12)") && summary.contains("MB/s"),
        "{summary}"
    );
}
