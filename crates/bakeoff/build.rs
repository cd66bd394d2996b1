//! Build step: embeds the reference contenders' sources (so an installed `bakeoff`
//! runs from any directory) and records the git revision for `--version`.
//!
//! Writes `$OUT_DIR/contenders.rs`: a sorted list of (relative path, executable,
//! bytes) for every file under `../../contenders`, leaving out what installs and
//! interpreters create there (`node_modules`, virtualenvs, `__pycache__`, symlinks).

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Entries an install or an interpreter leaves inside a contender; never embedded.
const SKIP: &[&str] = &[
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".pytest_cache",
];

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=build.rs");

    let root = manifest_dir.join("../../contenders");
    let mut files = Vec::new();
    if root.is_dir() {
        // Not the directory itself: cargo would scan it through the node_modules
        // symlinks into the install cache and rebuild after every install.
        walk(&root, &root, &mut files);
    } else {
        println!(
            "cargo:warning=no contenders directory at {}; the binary embeds none",
            root.display()
        );
    }
    files.sort();
    let mut src = String::from("&[\n");
    for (rel, abs, exec) in &files {
        println!("cargo:rerun-if-changed={}", abs.display());
        writeln!(
            src,
            "    ({rel:?}, {exec}, include_bytes!({:?}) as &[u8]),",
            abs.display().to_string()
        )
        .expect("write to String");
    }
    src.push(']');
    std::fs::write(out_dir.join("contenders.rs"), src).expect("write contenders.rs");

    git_revision(&manifest_dir);
}

/// Regular files under `dir`, as (path relative to `root` with '/', absolute path, executable).
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf, bool)>) {
    // A new file in a directory changes the directory's mtime; only a directory
    // with nothing skipped in it can be watched without following symlinks.
    let entries = std::fs::read_dir(dir).expect("read the contenders directory");
    let mut clean = true;
    for entry in entries {
        let entry = entry.expect("read a directory entry");
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = std::fs::symlink_metadata(&path).expect("stat a contender file");
        if meta.file_type().is_symlink() || SKIP.contains(&name.as_str()) || name.ends_with(".pyc")
        {
            clean = false;
            continue;
        }
        if meta.is_dir() {
            walk(root, &path, out);
        } else if meta.is_file() {
            let rel = path.strip_prefix(root).expect("under root");
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let abs = path.canonicalize().expect("canonical path");
            out.push((rel, abs, meta.permissions().mode() & 0o111 != 0));
        }
    }
    if clean && dir != root {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
}

/// `BAKEOFF_VERSION`: the package version, plus the short git revision when built
/// from a clone with git on PATH (never an error without either).
fn git_revision(manifest_dir: &Path) {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(manifest_dir)
            .output()
            .ok()?;
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !s.is_empty()).then_some(s)
    };
    let full = match git(&["rev-parse", "--short", "HEAD"]) {
        Some(rev) => {
            // Rebuild when HEAD moves: HEAD itself, and the branch it points to.
            for name in ["HEAD", "packed-refs"] {
                watch(git(&[
                    "rev-parse",
                    "--path-format=absolute",
                    "--git-path",
                    name,
                ]));
            }
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch(git(&[
                    "rev-parse",
                    "--path-format=absolute",
                    "--git-path",
                    &branch,
                ]));
            }
            format!("{version} (git {rev})")
        }
        None => version,
    };
    println!("cargo:rustc-env=BAKEOFF_VERSION={full}");
}

/// Watch a file that exists (a missing one would rerun this script on every build).
fn watch(path: Option<String>) {
    if let Some(p) = path.filter(|p| Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={p}");
    }
}
