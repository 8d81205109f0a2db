//! The fuzz targets' corpora (`tests/fuzz/corpus/`: the seeds and what libFuzzer kept),
//! every input that once crashed a target (`tests/fuzz/crashes/`) and every input that once
//! took it seconds (`tests/fuzz/slow/`), replayed on stable: each target's code must not panic
//! on any of them, nor take much longer than the parser's time limit.

use std::path::Path;
use std::time::{Duration, Instant};

#[path = "../fuzz/targets.rs"]
mod targets;

/// A target, its code, and the project's folders it also takes as seeds.
type Target = (&'static str, fn(&[u8]), &'static [&'static str]);

/// The targets, as `tests/fuzz/fuzz_targets/` runs them.
const TARGETS: [Target; 7] = [
    ("cotahist", targets::cotahist, &[]),
    ("zip", targets::zip, &[]),
    ("portfolio", targets::portfolio, &[]),
    ("ddl", targets::ddl, &["catalog"]),
    ("statements", targets::statements, &[]),
    ("s3_event", targets::s3_event, &[]),
    ("script", targets::script, &["queries", "queries/transform"]),
];

#[test]
fn the_fuzz_corpora_replay_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, target, seeds) in TARGETS {
        let corpus = format!("tests/fuzz/corpus/{name}");
        let (crashes, slow) = (format!("tests/fuzz/crashes/{name}"), format!("tests/fuzz/slow/{name}"));
        let mut inputs = 0;
        for folder in [&corpus, &crashes, &slow].map(String::as_str).into_iter().chain(seeds.iter().copied()) {
            let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
                assert!(folder == crashes || folder == slow, "{folder} is missing");
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let started = Instant::now();
                let replay = std::panic::catch_unwind(|| target(&bytes));
                assert!(replay.is_ok(), "{name}: {} panics", path.display());
                // Twice the limit: a DDL target parses twice (the input, then its printed form).
                let limit = 2 * b3lake::deadline::PARSE_TIME + Duration::from_secs(2);
                assert!(started.elapsed() < limit, "{name}: {} took {:?}", path.display(), started.elapsed());
                inputs += 1;
            }
        }
        assert!(inputs > 1, "{name}: an empty corpus");
    }
}
