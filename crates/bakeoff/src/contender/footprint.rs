//! A contender's footprint, for the "frameworks, libraries" and "learning curve"
//! grounds: lines of the app's own code, size on disk, and dependency counts.
//!
//! Methods (also in the report's footnotes):
//! - **app LOC**: non-blank lines that are not comment-only (`//`, `#`, `/*`, `*`,
//!   `<!--`, `{#`) in the app's source and template files (js, mjs, cjs, ts, py,
//!   html, jinja, j2, ejs, hbs, njk, css), skipping dependencies, caches and lockfiles.
//! - **install size**: apparent size of every file under the installed tree
//!   (`node_modules`, or the whole virtualenv including pip itself), symlinks not followed.
//! - **npm deps**: direct = `dependencies` in package.json (devDependencies excluded);
//!   total = `packages` entries under `node_modules/` in package-lock.json.
//! - **pip deps**: total = requirement lines in the pinned requirements file; direct =
//!   the requirements no other listed requirement depends on (roots of the dependency
//!   graph read from `importlib.metadata`, extras ignored).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const SOURCE_EXTS: [&str; 14] = [
    "js", "mjs", "cjs", "ts", "py", "html", "htm", "jinja", "jinja2", "j2", "ejs", "hbs", "njk",
    "css",
];
const SKIP_DIRS: [&str; 7] = [
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".git",
    ".pytest_cache",
    "coverage",
];
const LOCKFILES: [&str; 4] = [
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
];

/// Lines of the app's own code under `dir` (method in the module doc).
pub fn app_loc(dir: &Path) -> u32 {
    let mut total = 0u32;
    walk(dir, &mut |path| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if LOCKFILES.contains(&name) || !SOURCE_EXTS.contains(&ext) {
            return;
        }
        if let Ok(text) = std::fs::read_to_string(path) {
            total = total.saturating_add(count_code_lines(&text));
        }
    });
    total
}

pub fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            let name = entry.file_name();
            if !SKIP_DIRS.iter().any(|s| name == *s) {
                walk(&path, visit);
            }
        } else if ft.is_file() {
            visit(&path);
        }
    }
}

pub fn count_code_lines(text: &str) -> u32 {
    const COMMENT: [&str; 7] = ["//", "#", "/*", "*", "<!--", "-->", "{#"];
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !COMMENT.iter().any(|c| l.starts_with(c)))
        .count() as u32
}

/// Apparent size of all files under `dir` (symlinks not followed).
pub fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() {
                total += meta.len();
            }
        }
    }
    total
}

/// (direct, total) from package.json and package-lock.json texts.
pub fn npm_deps(package_json: &str, lock: &str) -> (u32, u32) {
    let count_keys =
        |v: Option<&serde_json::Value>| v.and_then(|d| d.as_object()).map_or(0, |o| o.len() as u32);
    let pkg: serde_json::Value = serde_json::from_str(package_json).unwrap_or_default();
    let direct = count_keys(pkg.get("dependencies"));
    let lock: serde_json::Value = serde_json::from_str(lock).unwrap_or_default();
    let total = lock
        .get("packages")
        .and_then(|p| p.as_object())
        .map_or(0, |o| {
            o.keys().filter(|k| k.contains("node_modules/")).count() as u32
        });
    (direct, total)
}

/// The npm package's version from `<node_modules>/<name>/package.json`.
pub fn npm_version(node_modules: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(node_modules.join(package).join("package.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(v.get("version")?.as_str()?.to_string())
}

/// PEP 503 normalised names of the requirements in a requirements.txt.
pub fn requirement_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut continued = false;
    for raw in text.lines() {
        let was_continued = continued;
        continued = raw.trim_end().ends_with('\\');
        if was_continued {
            continue;
        }
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('-') {
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect();
        if !name.is_empty() {
            names.push(normalise(&name));
        }
    }
    names
}

pub fn normalise(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The requirements no other requirement depends on.
pub fn roots(names: &[String], requires: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let required: BTreeSet<String> = requires
        .iter()
        .filter(|(owner, _)| names.contains(owner))
        .flat_map(|(owner, deps)| deps.iter().filter(move |d| *d != owner).cloned())
        .collect();
    names
        .iter()
        .filter(|n| !required.contains(*n))
        .cloned()
        .collect()
}

/// Run by the venv's python: prints `{"framework_version": ..., "requires": {name: [dep, ...]}}`
/// for the framework (`argv[1]`) and the requirement names (`argv[2:]`).
pub const PIP_PROBE: &str = r#"
import json, platform, re, sys
import importlib.metadata as md
def norm(n): return re.sub(r"[-_.]+", "-", n).lower()
out = {"framework_version": None, "requires": {}, "versions": {},
       "runtime": platform.python_implementation() + " " + " ".join(sys.version.split())}
try:
    out["framework_version"] = md.version(sys.argv[1])
except Exception:
    pass
for name in sys.argv[2:]:
    try:
        reqs = md.requires(name) or []
    except Exception:
        reqs = []
    deps = []
    for r in reqs:
        if re.search(r";.*\bextra\b", r):
            continue
        m = re.match(r"[A-Za-z0-9._-]+", r)
        if m:
            deps.append(norm(m.group(0)))
    out["requires"][name] = deps
    try:
        out["versions"][name] = md.version(name)
    except Exception:
        pass
print(json.dumps(out))
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lines_skip_blanks_and_comments() {
        let js = "// header\n\nconst a = 1;\n/* block\n * more\n */\nfunction f() {\n  return a; // trailing\n}\n";
        assert_eq!(count_code_lines(js), 4);
        let py = "#!/usr/bin/env python\n# c\nimport os\n\n\ndef f():\n    return 1\n";
        assert_eq!(count_code_lines(py), 3);
    }

    #[test]
    fn app_loc_skips_dependencies_and_lockfiles() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("server.js"), "a\nb\n").unwrap();
        std::fs::write(d.path().join("package-lock.json"), "{\n}\n").unwrap();
        std::fs::write(d.path().join("README.md"), "text\n").unwrap();
        std::fs::create_dir_all(d.path().join("views")).unwrap();
        std::fs::write(d.path().join("views/f.html"), "<p>\n</p>\n").unwrap();
        std::fs::create_dir_all(d.path().join("node_modules/x")).unwrap();
        std::fs::write(d.path().join("node_modules/x/i.js"), "1\n2\n3\n").unwrap();
        assert_eq!(app_loc(d.path()), 4);
        assert!(dir_bytes(d.path()) >= 4 + 4 + 5 + 4 + 6);
    }

    #[test]
    fn npm_counts() {
        let pkg = r#"{"dependencies":{"fastify":"5","ws":"8"},"devDependencies":{"x":"1"}}"#;
        let lock = r#"{"packages":{"":{},"node_modules/fastify":{},"node_modules/ws":{},"node_modules/a/node_modules/b":{}}}"#;
        assert_eq!(npm_deps(pkg, lock), (2, 3));
        assert_eq!(npm_deps("not json", ""), (0, 0));
    }

    #[test]
    fn requirement_parsing_and_roots() {
        let text = "# pinned\nFlask==3.0.0 \\\n    --hash=sha256:abc\nwerkzeug==3.0.1  # via flask\nJinja2==3.1.2\n-r other.txt\ngunicorn==21.2\n\n";
        let names = requirement_names(text);
        assert_eq!(names, vec!["flask", "werkzeug", "jinja2", "gunicorn"]);
        let mut req = BTreeMap::new();
        req.insert(
            "flask".to_string(),
            vec!["werkzeug".into(), "jinja2".into(), "click".into()],
        );
        req.insert("gunicorn".to_string(), vec!["packaging".into()]);
        assert_eq!(roots(&names, &req), vec!["flask", "gunicorn"]);
        assert_eq!(normalise("Typing_Extensions"), "typing-extensions");
        assert_eq!(normalise("zope.interface"), "zope-interface");
    }
}
