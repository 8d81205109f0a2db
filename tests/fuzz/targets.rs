//! What each fuzz target does with one input, shared by the fuzz targets (nightly, libFuzzer)
//! and by the integration test that replays their corpora on stable. Each must never panic,
//! whatever the bytes; where a parse succeeds, its result must hold what it promises.

use b3lake::catalog::TableDef;
use b3lake::frontend::script::{Vars, split};
use b3lake::source::ReaderOptions;
use b3lake::source::cotahist::CotahistReader;
use b3lake::source::portfolio::{Language, read_answer};

/// The COTAHIST reader over any bytes: batches or a located error.
pub fn cotahist(data: &[u8]) {
    let opts = ReaderOptions { batch_rows: 64, allow_count_mismatch: data.len().is_multiple_of(2) };
    let mut reader = CotahistReader::new(data, "fuzz", opts);
    let mut rows = 0u64;
    loop {
        match reader.next_batch() {
            Ok(Some(batch)) => rows += batch.num_rows() as u64,
            Ok(None) => break,
            Err(e) => {
                assert!(e.line >= 1, "errors name a line: {e}");
                return;
            }
        }
    }
    assert_eq!(rows, reader.quotes(), "every record read is in a batch");
}

/// Any bytes as a `.ZIP` input: resolved and read, or refused.
pub fn zip(data: &[u8]) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("COTAHIST_A2022.ZIP");
    std::fs::write(&path, data).expect("write the input");
    let Ok(inputs) = b3lake::source::resolve(&[path]) else { return };
    for input in inputs {
        let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let _ = input.read_batches(&ReaderOptions::default(), progress, |_| true);
    }
}

/// Any bytes as an answer of B3's portfolio API, in both languages.
pub fn portfolio(data: &[u8]) {
    for language in [Language::PtBr, Language::EnUs] {
        if let Ok(portfolio) = read_answer(data, "fuzz", "IBOV", language) {
            assert!(!portfolio.members.is_empty(), "an accepted portfolio has members");
            assert_eq!(portfolio.to_batch().num_rows(), portfolio.members.len());
        }
    }
}

/// Any text as a table's DDL: a definition that parses prints as DDL that parses back to it.
pub fn ddl(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(def) = TableDef::parse(text, "fuzz") else { return };
    if let Ok(printed) = def.to_ddl() {
        let again = TableDef::parse(&printed, "fuzz").unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert_eq!(again, def, "{printed}");
    }
}

/// Any text as a Hive/Athena catalog statement.
pub fn statements(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = b3lake::sql::statements::parse(text);
}

/// Any bytes as an S3 event notification.
pub fn s3_event(data: &[u8]) {
    if let Ok(objects) = b3lake::transform::trigger::parse_event(data) {
        let (lakes, ignored) = b3lake::transform::trigger::days_by_lake(&objects);
        let days: usize = lakes.values().map(|d| d.quotes.len() + d.portfolios.len()).sum();
        assert!(days + ignored.len() >= lakes.len());
        for lake in lakes.keys() {
            assert!(lake.starts_with("s3://") && !lake.contains("/_staging"), "{lake}");
        }
    }
}

/// Any text as a script: split into statements whose positions lie in the text, and its
/// `${var}`s substituted with the defaults it sets.
pub fn script(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(statements) = split(text) {
        for s in &statements {
            assert!(text.contains(s.sql.trim()), "a statement is a part of the script");
        }
    }
    let _ = Vars::default().with_defaults(text).substitute(text);
}
