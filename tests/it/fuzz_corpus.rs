//! The fuzz targets' corpora (`tests/fuzz/corpus/`: the seeds and what libFuzzer kept) and
//! every input that once crashed a target (`tests/fuzz/crashes/`), replayed on stable: each
//! target's code must not panic on any of them.

use std::path::Path;

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
        let (corpus, crashes) = (format!("tests/fuzz/corpus/{name}"), format!("tests/fuzz/crashes/{name}"));
        let mut inputs = 0;
        for folder in [corpus.as_str(), crashes.as_str()].into_iter().chain(seeds.iter().copied()) {
            let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
                assert_eq!(folder, crashes, "{folder} is missing");
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let replay = std::panic::catch_unwind(|| target(&bytes));
                assert!(replay.is_ok(), "{name}: {} panics", path.display());
                inputs += 1;
            }
        }
        assert!(inputs > 1, "{name}: an empty corpus");
    }
}
