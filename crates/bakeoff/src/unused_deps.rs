//! A test that every dependency of every workspace crate is used: each name in
//! `[dependencies]` must appear as a path (`name::`, `use name`) in the crate's
//! `src/`, and each in `[dev-dependencies]` in its `src/`, `tests/`, `examples/`
//! or `benches/`. It runs with `cargo test`, so CI needs no extra tool (cargo-machete
//! would have to be built on every fresh CI machine).

use std::path::{Path, PathBuf};

/// The Rust sources under `dirs` (recursively), as one text.
fn sources(dirs: &[PathBuf]) -> String {
    let mut text = String::new();
    let mut stack: Vec<PathBuf> = dirs.to_vec();
    while let Some(p) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&p) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                text.push('\n');
            }
        }
    }
    text
}

/// Whether `krate` (its Rust name) is named as a path in `text`.
fn used(text: &str, krate: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(krate).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = &text[at + krate.len()..];
        let starts_word = !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        starts_word
            && (after.starts_with("::") || after.starts_with(" as ") || after.starts_with(';'))
    })
}

/// The dependencies of one table that no source names, as `table.name`.
fn unused(manifest: &toml::Table, table: &str, text: &str, also: &[&str]) -> Vec<String> {
    let Some(deps) = manifest.get(table).and_then(|t| t.as_table()) else {
        return Vec::new();
    };
    let package = manifest["package"]["name"].as_str().unwrap_or_default();
    deps.iter()
        .filter(|(name, spec)| {
            // A dev-dependency on itself or on a normal dependency only adds features.
            let renamed = spec.get("package").and_then(|p| p.as_str());
            let name = renamed.unwrap_or(name);
            name != package && !also.contains(&name)
        })
        .filter(|(name, _)| !used(text, &name.replace('-', "_")))
        .map(|(name, _)| format!("{table}.{name}"))
        .collect()
}

fn check(crate_dir: &Path) -> Vec<String> {
    let manifest: toml::Table = std::fs::read_to_string(crate_dir.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let src = sources(&[crate_dir.join("src")]);
    let mut missing = unused(&manifest, "dependencies", &src, &[]);
    let normal: Vec<&str> = manifest
        .get("dependencies")
        .and_then(|t| t.as_table())
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let all = sources(&["src", "tests", "examples", "benches"].map(|d| crate_dir.join(d)));
    missing.extend(unused(&manifest, "dev-dependencies", &all, &normal));
    missing
}

#[test]
fn every_dependency_is_used() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    for e in std::fs::read_dir(&crates).unwrap().flatten() {
        if e.path().join("Cargo.toml").is_file() {
            let missing = check(&e.path());
            assert!(
                missing.is_empty(),
                "{}: unused dependencies {missing:?}; remove them from its Cargo.toml",
                e.path().display()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 2,
        "found {checked} crates under {}",
        crates.display()
    );
}

#[test]
fn the_check_sees_paths_and_nothing_else() {
    assert!(used("use serde::Deserialize;", "serde"));
    assert!(used("x = tokio_util::sync::X", "tokio_util"));
    assert!(used("extern crate libc;", "libc"));
    assert!(!used("use serde_json::Value;", "serde"));
    assert!(!used("// plotters would draw it", "plotters"));
    assert!(!used("my_rand::x()", "rand"));
    let manifest: toml::Table =
        "[package]\nname = \"p\"\n[dependencies]\nserde = \"1\"\nplotters = \"0.3\"\n"
            .parse()
            .unwrap();
    assert_eq!(
        unused(&manifest, "dependencies", "use serde::Serialize;", &[]),
        ["dependencies.plotters"]
    );
}
