//! Other Python interpreters on this machine (on `PATH` as `python3.X` or
//! `pypy3`, or under pyenv), so the same Python contender can be measured on
//! several versions: the blog's "the latest release … up to 50% speed improvement".

use std::path::{Path, PathBuf};

/// An interpreter found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The Python language version, e.g. "3.13.0".
    pub version: String,
    pub path: PathBuf,
    /// PyPy's own version ("7.3.11") when this is PyPy; None for CPython.
    pub pypy: Option<String>,
}

impl Interpreter {
    /// "py313" for CPython 3.13.x, "pypy39" for PyPy's 3.9: the suffix of derived contender names.
    pub fn tag(&self) -> String {
        let minor = self.version.split('.').take(2).collect::<Vec<_>>().join("");
        match self.pypy {
            Some(_) => format!("pypy{minor}"),
            None => format!("py{minor}"),
        }
    }

    /// "CPython" or "PyPy 7.3.11".
    pub fn implementation(&self) -> String {
        match &self.pypy {
            Some(v) => format!("PyPy {v}"),
            None => "CPython".to_string(),
        }
    }
}

/// `--version`: "Python 3.9.16 (…)\n[PyPy 7.3.11 with …]" -> ("3.9.16", Some("7.3.11")).
fn parse_version_text(text: &str) -> Option<(String, Option<String>)> {
    let first = text.lines().next()?.trim().strip_prefix("Python ")?;
    let version = first.split_whitespace().next()?.to_string();
    let pypy = text
        .split("[PyPy ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(String::from);
    Some((version, pypy))
}

fn probe(python: &Path) -> Option<Interpreter> {
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
    let (version, pypy) = parse_version_text(&text)?;
    out.status.success().then(|| Interpreter {
        version,
        path: python.to_path_buf(),
        pypy,
    })
}

/// Every Python 3 interpreter found: `python3.10`…`python3.15` and `pypy3` on PATH,
/// and pyenv's versions; CPython first, oldest first.
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
        let p = dir.join("pypy3");
        if p.is_file() {
            candidates.push(p);
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
        if let Some(i) = probe(&p) {
            let seen = found
                .iter()
                .any(|f| f.version == i.version && f.pypy.is_some() == i.pypy.is_some());
            if i.version.starts_with("3.") && !seen {
                found.push(i);
            }
        }
    }
    found.sort_by_key(|i| (i.pypy.is_some(), version_key(&i.version)));
    found
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Resolve `--python` values: a path to an interpreter, `pypy3` (or `pypy3.9`),
/// or a CPython version such as `3.13`, matched against [`discover`] (the newest
/// patch release wins).
pub fn resolve(specs: &[String]) -> Result<Vec<Interpreter>, String> {
    let mut known: Option<Vec<Interpreter>> = None;
    let mut out = Vec::new();
    for spec in specs {
        let spec = spec.trim();
        let found = if spec.contains('/') {
            let path = PathBuf::from(spec);
            probe(&path).ok_or_else(|| {
                format!("--python {spec}: not a Python interpreter that answers `--version`")
            })?
        } else {
            let all = known.get_or_insert_with(discover);
            // "pypy3" is any PyPy; "pypy3.9" the one for Python 3.9; "3.9" only CPython.
            let (want_pypy, version) = match spec.strip_prefix("pypy") {
                Some(rest) => (true, rest),
                None => (false, spec),
            };
            all.iter()
                .rev()
                .filter(|i| i.pypy.is_some() == want_pypy)
                .find(|i| {
                    i.version == version
                        || i.version.starts_with(&format!("{version}."))
                        || (want_pypy && (version.is_empty() || version == "3"))
                })
                .cloned()
                .ok_or_else(|| {
                    let have: Vec<String> =
                        all.iter().map(|i| format!("{} {}", i.implementation(), i.version)).collect();
                    let how = match want_pypy {
                        true => "e.g. `apt-get install pypy3`".to_string(),
                        false => format!("e.g. `pyenv install {spec}`"),
                    };
                    format!(
                        "--python {spec}: no such interpreter here (found: {}); install it, {how}, or give a path",
                        if have.is_empty() { "none".to_string() } else { have.join(", ") }
                    )
                })?
        };
        if !out.iter().any(|i: &Interpreter| i.tag() == found.tag()) {
            out.push(found);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contender::runtimes::on_interpreter;
    use crate::contender::Contender;

    #[test]
    fn tags_and_ordering() {
        let i = Interpreter {
            version: "3.13.0".into(),
            path: "/x".into(),
            pypy: None,
        };
        assert_eq!(i.tag(), "py313");
        let text = "Python 3.9.16 (7.3.11+dfsg-2+deb12u3, Dec 30 2024, 22:36:23)\n[PyPy 7.3.11 with GCC 12.2.0]";
        let (v, pypy) = parse_version_text(text).unwrap();
        assert_eq!((v.as_str(), pypy.as_deref()), ("3.9.16", Some("7.3.11")));
        let p = Interpreter {
            version: v,
            path: "/usr/bin/pypy3".into(),
            pypy,
        };
        assert_eq!(
            (p.tag().as_str(), p.implementation().as_str()),
            ("pypy39", "PyPy 7.3.11")
        );
        assert_eq!(
            parse_version_text("Python 3.11.7\n").unwrap(),
            ("3.11.7".into(), None)
        );
        assert!(version_key("3.9.18") < version_key("3.10.1"));
    }

    #[test]
    fn a_variant_on_another_interpreter_keeps_its_suffix() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contenders/python-flask");
        let base = Contender::load(&dir).unwrap();
        let py = Interpreter {
            version: "3.13.1".into(),
            path: "/opt/py/bin/python3.13".into(),
            pypy: None,
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
        let all: Vec<Interpreter> = discover()
            .into_iter()
            .filter(|i| i.pypy.is_none())
            .collect();
        assert!(!all.is_empty(), "no python3.X on PATH or under pyenv");
        let again = resolve(&[all[0].version.clone()]).unwrap();
        assert_eq!(again[0].version, all[0].version);
    }
}
