//! The crate's modules in layers, each importing only from the layers below it (see the
//! crate docs): this test reads every `crate::` and sibling `super::` path in the code of
//! `src/` (not in comments) and fails on an import that runs up the layers.

use std::collections::BTreeSet;
use std::path::Path;

/// The layer of a module path (`["sql", "exec"]`), lowest first; `None` for the crate root.
fn layer(module: &[&str]) -> Option<u8> {
    Some(match module.first().copied()? {
        // Utilities every layer may use.
        "source" | "chain" | "deadline" | "local_fs" | "retry" | "aws" | "telemetry" => 1,
        "lake" => 2,
        "catalog" | "ingest" => 3,
        "sql" => 4,
        "transform" => 5,
        // The crate's error wraps every layer's, so only the layers above them use it.
        "chart" | "quality" | "report" | "error" => 6,
        "frontend" | "demo" => 7,
        _ => return None,
    })
}

/// The module paths a file names: `crate::a::b`, the members of `crate::{a::b, c}`, and for
/// `super::x` the sibling module `x`.
fn targets(module: &[&str], text: &str) -> BTreeSet<Vec<String>> {
    let ident = |s: &str| -> Vec<String> {
        // The crate root re-exports the crate's error.
        if s.starts_with("Error") || s.starts_with("Result") {
            return vec!["error".to_string()];
        }
        let mut path = Vec::new();
        let mut rest = s;
        while path.len() < 2 {
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
                break;
            }
            rest = &rest[name.len()..];
            path.push(name);
            match rest.strip_prefix("::") {
                Some(next) => rest = next,
                None => break,
            }
        }
        path
    };
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inside = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(inside.split(',').map(|item| ident(item.trim())).filter(|p| !p.is_empty()));
        } else {
            found.insert(ident(rest));
        }
    }
    // `super::x` from a module's file names its sibling `x` (not inside test modules, which
    // use their parent).
    if let Some((_, parent)) = module.split_last() {
        for (i, _) in text.match_indices("super::") {
            let path = ident(&text[i + "super::".len()..]);
            if let Some(first) = path.first().filter(|p| p.as_str() != "super") {
                let mut sibling: Vec<String> = parent.iter().map(|s| s.to_string()).collect();
                sibling.push(first.clone());
                found.insert(sibling);
            }
        }
    }
    found.retain(|p| !p.is_empty());
    found
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let (mut upward, mut checked) = (BTreeSet::new(), 0);
    for file in &files {
        let relative = file.strip_prefix(root).unwrap().to_str().unwrap().to_string();
        let inside = relative.trim_start_matches("src/").trim_end_matches(".rs");
        let mut module: Vec<&str> = inside.split('/').collect();
        if module.last() == Some(&"mod") {
            module.pop();
        }
        let Some(own) = layer(&module) else { continue };
        checked += 1;
        // Code only: a doc link to a module above is no import.
        let text = std::fs::read_to_string(file).unwrap();
        let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        for target in targets(&module, &code) {
            let names: Vec<&str> = target.iter().map(String::as_str).collect();
            if layer(&names).is_some_and(|theirs| theirs > own) {
                upward.insert((relative.clone(), names.join("::")));
            }
        }
    }
    assert!(checked > 50, "only {checked} files read");
    assert!(upward.is_empty(), "imports from a layer above: {upward:?}");
}
