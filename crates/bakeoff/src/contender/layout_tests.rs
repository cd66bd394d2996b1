//! The contender modules do not import each other in a cycle: each file's
//! `super::x` and `crate::contender::x` paths (outside comments and its tests)
//! are its edges; a module's own files (`setup/*.rs`, `manifest_*.rs`) are one
//! node, and `mod.rs`, the parent that declares them all, is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name -> the sibling modules its code uses.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/contender");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).unwrap() {
                files.push(inner.unwrap().path());
            }
        } else {
            files.push(path);
        }
    }
    let stem = |p: &Path| p.file_stem().unwrap().to_string_lossy().into_owned();
    // The modules mod.rs declares; other files are their `#[path]` children
    // (`manifest_toml.rs` is manifest's) or tests.
    let declared = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    let modules: BTreeSet<String> = declared
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ").or(l.strip_prefix("mod ")))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_string)
        .collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let nested = file.parent() != Some(dir.as_path());
        let name = stem(if nested { file.parent().unwrap() } else { file });
        let node = match modules.contains(&name) {
            true => name,
            false => match modules.iter().find(|m| name.starts_with(&format!("{m}_"))) {
                Some(parent) => parent.clone(),
                None => continue,
            },
        };
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let deps = out.entry(node.clone()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for prefix in ["crate::contender::", "super::"] {
                // In a nested file `super::` is its own module.
                if nested && prefix == "super::" {
                    continue;
                }
                for (i, _) in line.match_indices(prefix) {
                    let rest = &line[i + prefix.len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if modules.contains(&name) && name != node {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_contender_modules_have_no_import_cycle() {
    let edges = edges();
    assert!(edges["supervisor"].contains("logfile"), "{edges:?}");
    assert!(edges["setup"].contains("cache"), "{edges:?}");
    // Depth-first search for a back edge, reporting the cycle.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(i) = path.iter().position(|p| p == node) {
            panic!("import cycle: {} -> {node}", path[i..].join(" -> "));
        }
        if !done.insert(node.to_string()) {
            return;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        visit(node, &edges, &mut Vec::new(), &mut done);
    }
}
