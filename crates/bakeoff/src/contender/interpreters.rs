//! Other Python interpreters on this machine (on `PATH` as `python3.X`, or under
//! pyenv), so the same Python contender can be measured on several versions:
//! the blog's "the latest release … up to 50% speed improvement".

use std::path::{Path, PathBuf};

use super::Contender;

/// An interpreter found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// e.g. "3.13.0"
    pub version: String,
    pub path: PathBuf,
}

impl Interpreter {
    /// "313" for 3.13.x: the suffix of derived contender names.
    pub fn tag(&self) -> String {
        self.version.split('.').take(2).collect::<Vec<_>>().join("")
    }
}

fn version_of(python: &Path) -> Option<String> {
    let out = std::process::Command::new(python)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(if out.stdout.is_empty() {
        &out.stderr
    } else {
        &out.stdout
    })
    .into_owned();
    let v = text.trim().strip_prefix("Python ")?.to_string();
    out.status.success().then_some(v)
}

/// Every CPython 3 interpreter found: `python3.10`…`python3.15` on PATH, and pyenv's versions.
pub fn discover() -> Vec<Interpreter> {
    let mut found: Vec<Interpreter> = Vec::new();
    let mut candidates: Vec<PathBuf> = Vec::new();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for minor in 10..=15 {
            let p = dir.join(format!("python3.{minor}"));
            if p.is_file() {
                candidates.push(p);
            }
        }
    }
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(versions) = pyenv.map(|p| p.join("versions")) {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(versions)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        dirs.sort();
        candidates.extend(
            dirs.into_iter()
                .map(|d| d.join("bin/python3"))
                .filter(|p| p.is_file()),
        );
    }
    for p in candidates {
        if let Some(version) = version_of(&p) {
            if version.starts_with("3.") && !found.iter().any(|f| f.version == version) {
                found.push(Interpreter { version, path: p });
            }
        }
    }
    found.sort_by_key(|i| version_key(&i.version));
    found
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Resolve `--python` values: a path to an interpreter, or a version such as
/// `3.13` matched against [`discover`] (the newest patch release wins).
pub fn resolve(specs: &[String]) -> Result<Vec<Interpreter>, String> {
    let mut known: Option<Vec<Interpreter>> = None;
    let mut out = Vec::new();
    for spec in specs {
        let spec = spec.trim();
        let found = if spec.contains('/') {
            let path = PathBuf::from(spec);
            version_of(&path)
                .map(|version| Interpreter { version, path })
                .ok_or_else(|| {
                    format!("--python {spec}: not a Python interpreter that answers `--version`")
                })?
        } else {
            let all = known.get_or_insert_with(discover);
            all.iter()
                .rev()
                .find(|i| i.version == spec || i.version.starts_with(&format!("{spec}.")))
                .cloned()
                .ok_or_else(|| {
                    let have: Vec<&str> = all.iter().map(|i| i.version.as_str()).collect();
                    format!(
                        "--python {spec}: no such interpreter here (found: {}); install it, e.g. `pyenv install {spec}`, or give a path",
                        if have.is_empty() { "none".to_string() } else { have.join(", ") }
                    )
                })?
        };
        if !out.iter().any(|i: &Interpreter| i.version == found.version) {
            out.push(found);
        }
    }
    Ok(out)
}

/// The same Python contender on another interpreter, named `<name>-py<tag>`
/// (a variant keeps its `@variant` suffix).
pub fn on_interpreter(c: &Contender, python: &Interpreter) -> Contender {
    let mut derived = c.clone();
    let tag = python.tag();
    match derived.variant.as_mut() {
        // `python-flask@sync` on 3.13 is `python-flask-py313@sync`, a variant of `python-flask-py313`.
        Some(v) => {
            v.base = format!("{}-py{tag}", v.base);
            derived.manifest.name = format!("{}@{}", v.base, v.name);
        }
        None => derived.manifest.name = format!("{}-py{tag}", c.manifest.name),
    }
    derived.manifest.runtime = python.path.display().to_string();
    derived
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_ordering() {
        let i = Interpreter {
            version: "3.13.0".into(),
            path: "/x".into(),
        };
        assert_eq!(i.tag(), "313");
        assert!(version_key("3.9.18") < version_key("3.10.1"));
    }

    #[test]
    fn a_variant_on_another_interpreter_keeps_its_suffix() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contenders/python-flask");
        let base = Contender::load(&dir).unwrap();
        let py = Interpreter {
            version: "3.13.1".into(),
            path: "/opt/py/bin/python3.13".into(),
        };
        let derived = on_interpreter(&base.variant("sync").unwrap(), &py);
        assert_eq!(derived.name(), "python-flask-py313@sync");
        assert_eq!(derived.install_name(), "python-flask-py313");
        assert_eq!(derived.manifest.runtime, "/opt/py/bin/python3.13");
        assert_eq!(on_interpreter(&base, &py).name(), "python-flask-py313");
    }

    #[test]
    fn unknown_versions_and_paths_are_clear_errors() {
        let e = resolve(&["2.1".to_string()]).unwrap_err();
        assert!(
            e.contains("--python 2.1") && e.contains("pyenv install 2.1"),
            "{e}"
        );
        let e = resolve(&["/nonexistent/python".to_string()]).unwrap_err();
        assert!(e.contains("not a Python interpreter"), "{e}");
    }

    #[test]
    fn the_machines_python_is_found() {
        // Python ≥ 3.10 is a prerequisite of bakeoff, so one must be found.
        let all = discover();
        assert!(!all.is_empty(), "no python3.X on PATH or under pyenv");
        let again = resolve(&[all[0].version.clone()]).unwrap();
        assert_eq!(again[0].version, all[0].version);
    }
}
