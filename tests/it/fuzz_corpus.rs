//! The fuzz targets' corpora (`tests/fuzz/corpus/`: the seeds, what libFuzzer kept, and every
//! input that once crashed a target), replayed on stable: each target's code must not panic
//! on any of them.

use std::path::Path;

#[path = "../fuzz/targets.rs"]
mod targets;

/// A target's corpus folder and its code.
type Target = (&'static str, fn(&[u8]));

#[test]
fn the_fuzz_corpora_replay_without_a_panic() {
    let targets: [Target; 7] = [
        ("cotahist", targets::cotahist),
        ("zip", targets::zip),
        ("portfolio", targets::portfolio),
        ("ddl", targets::ddl),
        ("statements", targets::statements),
        ("s3_event", targets::s3_event),
        ("script", targets::script),
    ];
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus");
    for (name, target) in targets {
        let mut inputs = 0;
        for entry in std::fs::read_dir(corpora.join(name)).unwrap_or_else(|e| panic!("{name}: {e}")) {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let replay = std::panic::catch_unwind(|| target(&bytes));
            assert!(replay.is_ok(), "{name}: {} panics", path.display());
            inputs += 1;
        }
        assert!(inputs > 0, "{name}: an empty corpus");
    }
}
