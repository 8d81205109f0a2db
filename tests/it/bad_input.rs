//! Every kind of bad input: a clear error naming file, line and field, a non-zero exit, and a
//! lake exactly as it was.

use std::path::{Path, PathBuf};

use crate::common::*;

/// A lake holding the 2016 sessions, to check that failures leave it untouched.
fn lake_with_data(dir: &Path) -> PathBuf {
    let lake = dir.join("lake");
    let out = cli(&["ingest", data(YEAR_2016).to_str().unwrap(), "--lake", lake.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    lake
}

/// Ingests the good 2022 day together with `bad` (so a partial run would have something to
/// write) and checks the failure.
fn assert_rejected(bad: &Path, expected: &[&str]) {
    let dir = bad.parent().unwrap();
    let lake = lake_with_data(dir);
    let before = snapshot(&lake);
    let out =
        cli(&["ingest", data(DAY_2022).to_str().unwrap(), bad.to_str().unwrap(), "--lake", lake.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(!out.status.success(), "accepted {}", bad.display());
    assert_eq!(out.status.code(), Some(1));
    for needle in expected {
        assert!(err.contains(needle), "error {err:?} lacks {needle:?}");
    }
    assert_eq!(snapshot(&lake).keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>(), "files changed");
    assert!(snapshot(&lake) == before, "lake content changed");
    let _ = std::fs::remove_dir_all(lake);
}

/// The 2022 day with `edit` applied to its lines, written as `name`.
fn edited(dir: &Path, name: &str, edit: impl FnOnce(&mut Vec<Vec<u8>>)) -> PathBuf {
    let mut l = lines(DAY_2022);
    edit(&mut l);
    let path = dir.join(name);
    write_lines(&path, &l);
    path
}

#[test]
fn record_of_the_wrong_width() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "short.txt", |l| {
        l[9].truncate(200);
    });
    assert_rejected(&bad, &["short.txt", "line 10", "200 bytes long, expected 245"]);
}

#[test]
fn non_digit_in_a_price() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "nondigit.txt", |l| l[4][60] = b'X');
    assert_rejected(&bad, &["nondigit.txt", "line 5", "PREABE", "preco_abertura", "positions 57-69", "non-digit 'X'"]);
}

#[test]
fn impossible_date() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "date.txt", |l| l[6][202..210].copy_from_slice(b"20221301"));
    assert_rejected(&bad, &["date.txt", "line 7", "DATVEN", "data_vencimento", "impossible date"]);
}

#[test]
fn unknown_record_type() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "type.txt", |l| l[2][..2].copy_from_slice(b"02"));
    assert_rejected(&bad, &["type.txt", "line 3", "TIPREG", "unknown record type \"02\""]);
}

#[test]
fn missing_header() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "noheader.txt", |l| {
        l.remove(0);
    });
    assert_rejected(&bad, &["noheader.txt", "line 1", "missing header"]);
}

#[test]
fn missing_trailer() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "notrailer.txt", |l| {
        l.pop();
    });
    assert_rejected(&bad, &["notrailer.txt", "line 7523", "without the trailer record 99"]);
}

#[test]
fn trailer_count_mismatch_and_its_override() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "count.txt", |l| {
        l.remove(100);
    });
    assert_rejected(
        &bad,
        &[
            "count.txt",
            "line 7523",
            "TOTREG",
            "trailer says the file has 7524 records, but it has 7523",
            "--allow-count-mismatch",
        ],
    );
    let lake = dir.path().join("lenient");
    let out = cli(&["ingest", bad.to_str().unwrap(), "--allow-count-mismatch", "--lake", lake.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("7521 records"));
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("empty.txt");
    std::fs::write(&bad, b"").unwrap();
    assert_rejected(&bad, &["empty.txt", "empty file"]);
}

#[test]
fn zip_without_cotahist_member() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("COTAHIST_A2022.ZIP");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&bad).unwrap());
    zip.start_file("LEIAME.TXT", zip::write::SimpleFileOptions::default()).unwrap();
    std::io::Write::write_all(&mut zip, b"nada aqui").unwrap();
    zip.finish().unwrap();
    assert_rejected(&bad, &["COTAHIST_A2022.ZIP", "no COTAHIST member", "LEIAME.TXT"]);
}

#[test]
fn html_page_instead_of_a_zip() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("COTAHIST_D05022022.ZIP");
    std::fs::write(&bad, b"<!DOCTYPE html>\r\n<html><body>Arquivo n\xe3o encontrado</body></html>").unwrap();
    assert_rejected(&bad, &["COTAHIST_D05022022.ZIP", "HTML page"]);
}

#[test]
fn truncated_zip() {
    let dir = tempfile::tempdir().unwrap();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("COTAHIST_A2016.TXT", zip::write::SimpleFileOptions::default()).unwrap();
    std::io::Write::write_all(&mut zip, &std::fs::read(data(YEAR_2016)).unwrap()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let bad = dir.path().join("COTAHIST_A2016.ZIP");
    std::fs::write(&bad, &bytes[..bytes.len() * 6 / 10]).unwrap();
    assert_rejected(&bad, &["COTAHIST_A2016.ZIP", "not a valid ZIP archive"]);
}

#[test]
fn cut_off_text_file() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(data(DAY_2022)).unwrap();
    let bad = dir.path().join("cut.txt");
    std::fs::write(&bad, &full[..full.len() / 2]).unwrap();
    assert_rejected(&bad, &["cut.txt", "line 3762"]);
}

#[test]
fn blank_lines_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = edited(dir.path(), "blank.txt", |l| l.insert(50, Vec::new()));
    let lake = dir.path().join("lake");
    let out = cli(&["ingest", path.to_str().unwrap(), "--lake", lake.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("skipping blank line"), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("7522 records"));
}

#[test]
fn records_out_of_date_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = lines(YEAR_2016);
    // Move a record of 2016-01-04 to after the records of 2016-01-05.
    let moved = l.remove(2);
    let at = l.iter().position(|r| &r[2..10] == b"20160106").unwrap();
    l.insert(at, moved);
    let bad = dir.path().join("unsorted.txt");
    write_lines(&bad, &l);
    assert_rejected(&bad, &["unsorted.txt", "records of 2016-01-04 appear again after later dates"]);
}

#[test]
fn a_record_without_a_trading_code() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "blankcode.txt", |l| l[7][12..24].copy_from_slice(b"            "));
    assert_rejected(&bad, &["blankcode.txt", "line 8", "CODNEG", "codigo_negociacao", "positions 13-24", "blank"]);
}

#[test]
fn a_record_with_no_trading_date() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(dir.path(), "nodate.txt", |l| l[3][2..10].copy_from_slice(b"99991231"));
    assert_rejected(&bad, &["nodate.txt", "line 4", "DATPRE", "data_pregao", "not a trading date"]);
}

/// Runs the CLI and returns its exit code, standard error and peak resident memory in KiB.
/// A small Python process runs it and reads the peak from `getrusage`: a child forked from
/// this (large, multi-threaded) test process would count the test's own pages as its peak.
fn cli_peak_kib(args: &[&str]) -> (Option<i32>, String, i64) {
    let script = "import resource, subprocess, sys\n\
                  p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n\
                  sys.stderr.buffer.write(p.stderr)\n\
                  print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let out = std::process::Command::new("python3")
        .args(["-c", script, env!("CARGO_BIN_EXE_b3lake")])
        .args(args)
        .output()
        .expect("python3 runs the measurement");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut fields = text.split_whitespace().map(|f| f.parse::<i64>().unwrap());
    let (code, peak) = (fields.next().unwrap(), fields.next().unwrap());
    (Some(code as i32), String::from_utf8_lossy(&out.stderr).to_string(), peak)
}

#[test]
fn a_huge_line_is_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // 256 MiB without a line break, after a valid header; then the same inside a ZIP (a small
    // archive that inflates to it).
    let header = &lines(DAY_2022)[0];
    let mut huge = header.strip_suffix(b"\r").unwrap_or(header).to_vec();
    huge.extend_from_slice(b"\r\n");
    huge.resize(huge.len() + (256 << 20), b'7');
    let txt = dir.path().join("oneline.txt");
    std::fs::write(&txt, &huge).unwrap();
    let zip_path = dir.path().join("COTAHIST_A2022.ZIP");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file("COTAHIST_A2022.TXT", zip::write::SimpleFileOptions::default()).unwrap();
    std::io::Write::write_all(&mut zip, &huge).unwrap();
    zip.finish().unwrap();
    drop(huge);
    for input in [&txt, &zip_path] {
        let (code, err, peak) = cli_peak_kib(&["ingest", input.to_str().unwrap(), "--lake", lake.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("line 2") && err.contains("no line break in the first 4096 bytes"), "{err}");
        assert!(peak < 150 * 1024, "{}: peak {peak} KiB for a 256 MiB line", input.display());
    }
    assert!(!lake.join("raw").exists());
}

/// What the binary prints for three everyday mistakes, whole: what failed (with the file, line
/// and field, or the statement's position), then why, each said once.
#[test]
fn printed_errors_say_what_failed_then_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake = lake.to_str().unwrap();

    let out = cli(&["ingest-ibov", "--file", "/nonexistent/x", "--lake", lake]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: /nonexistent/x: No such file or directory (os error 2)\n");

    let bad = edited(dir.path(), "nondigit.txt", |l| l[4][60] = b'X');
    let mut field = lines(DAY_2022)[4][56..69].to_vec();
    field[4] = b'X';
    let out = cli(&["ingest", bad.to_str().unwrap(), "--lake", lake]);
    assert_eq!(out.status.code(), Some(1));
    let why = format!("non-digit 'X' in {:?}", String::from_utf8(field).unwrap());
    let expected = format!("error: {}: line 5: field PREABE (preco_abertura, positions 57-69): {why}\n", bad.display());
    assert_eq!(stderr(&out), expected);

    let out = cli(&["sql", "--lake", lake, "-c", "SELECT * FROM cotacoes_b3_nada"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: -c #1: statement 1, line 1, column 15: Error during planning: table 'awsdatacatalog.default.cotacoes_b3_nada' not found\n"
    );
}
