//! Where the reference contenders are: a directory the user names, the clone's
//! `./contenders`, or the copy embedded in the binary (unpacked on first use).
//!
//! Resolution order ([`resolve`]):
//! 1. the directory given (`--contenders-dir`, or `$BAKEOFF_CONTENDERS_DIR`), as is;
//! 2. `./contenders`, when it holds at least one of the embedded contenders' names
//!    with a `bakeoff.toml` (inside bakeoff's clone, so edits take effect);
//! 3. the embedded copy, unpacked into `<data dir>/contenders-<version>-<hash>`
//!    ([`data_dir`]: `$XDG_DATA_HOME/bakeoff`, else `~/.local/share/bakeoff`).
//!
//! The unpacked copy is keyed by bakeoff's package version and a hash of the
//! embedded files, so two versions (or two builds with different contenders) never
//! share one, while rebuilds that leave the contenders alone reuse theirs. It is
//! written to a temporary sibling and renamed into place, so a reader never sees
//! half a copy and two processes racing both end up with the same complete one.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::MANIFEST;

/// One embedded file: path relative to the contenders directory ('/'-separated),
/// executable bit, contents.
pub type EmbeddedFile = (&'static str, bool, &'static [u8]);

/// The reference contenders' sources, as they were when this binary was built.
pub static EMBEDDED: &[EmbeddedFile] = include!(concat!(env!("OUT_DIR"), "/contenders.rs"));

/// bakeoff's version, with the git revision when built from a clone.
pub const VERSION: &str = env!("BAKEOFF_VERSION");

/// How the contenders directory was chosen; errors use it to say how to change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--contenders-dir` or `$BAKEOFF_CONTENDERS_DIR`.
    Given,
    /// `./contenders` of a bakeoff clone.
    Clone,
    /// The copy embedded in the binary.
    Embedded,
}

/// The reference contenders' directory and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContendersDir {
    pub path: PathBuf,
    pub origin: Origin,
}

impl ContendersDir {
    /// A directory named by the user.
    pub fn given(path: impl Into<PathBuf>) -> ContendersDir {
        ContendersDir {
            path: path.into(),
            origin: Origin::Given,
        }
    }
}

impl fmt::Display for ContendersDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.origin {
            Origin::Given => "given by --contenders-dir or $BAKEOFF_CONTENDERS_DIR",
            Origin::Clone => "the clone's ./contenders",
            Origin::Embedded => "the reference contenders built into bakeoff",
        };
        write!(f, "{} ({how})", self.path.display())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error("cannot find a data directory for the built-in contenders: neither $XDG_DATA_HOME nor $HOME is set; set one, or pass --contenders-dir DIR")]
    NoDataDir,
    #[error("cannot unpack the built-in contenders into {path}: {source}; pass --contenders-dir DIR (or set $BAKEOFF_CONTENDERS_DIR) to use another copy", path = .path.display())]
    Unpack {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The contenders directory: `given` if any, else `<cwd>/contenders` when it is
/// bakeoff's, else the embedded copy unpacked under `data_dir`.
pub fn resolve(
    given: Option<&Path>,
    cwd: &Path,
    data_dir: Option<&Path>,
) -> Result<ContendersDir, LocateError> {
    if let Some(dir) = resolve_local(given, cwd) {
        return Ok(dir);
    }
    let data_dir = data_dir.ok_or(LocateError::NoDataDir)?;
    let path = unpack(EMBEDDED, data_dir, env!("CARGO_PKG_VERSION"))?;
    Ok(ContendersDir {
        path,
        origin: Origin::Embedded,
    })
}

/// [`resolve`]'s first two steps, which need no unpacking.
pub fn resolve_local(given: Option<&Path>, cwd: &Path) -> Option<ContendersDir> {
    if let Some(dir) = given {
        return Some(ContendersDir::given(dir));
    }
    let local = cwd.join("contenders");
    is_bakeoffs(&local).then_some(ContendersDir {
        path: local,
        origin: Origin::Clone,
    })
}

/// True when `dir` holds at least one embedded contender's `<name>/bakeoff.toml`.
pub fn is_bakeoffs(dir: &Path) -> bool {
    embedded_names()
        .iter()
        .any(|name| dir.join(name).join(MANIFEST).is_file())
}

/// The names of the embedded contenders (directories with a manifest), sorted.
pub fn embedded_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = EMBEDDED
        .iter()
        .filter_map(|(rel, _, _)| rel.strip_suffix(MANIFEST)?.strip_suffix('/'))
        .filter(|name| !name.contains('/'))
        .collect();
    names.sort_unstable();
    names
}

/// `$XDG_DATA_HOME/bakeoff` (when absolute, as the spec requires), else
/// `$HOME/.local/share/bakeoff`.
pub fn data_dir() -> Option<PathBuf> {
    xdg_dir("XDG_DATA_HOME", ".local/share")
}

/// `$<var>/bakeoff` when that variable holds an absolute path, else
/// `$HOME/<fallback>/bakeoff`.
pub(crate) fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env(var)
        .filter(|p| p.is_absolute())
        .or_else(|| env("HOME").map(|home| home.join(fallback)))
        .map(|base| base.join("bakeoff"))
}

/// Unpack `files` into `<data_dir>/contenders-<version>-<hash>` unless it is there
/// already; returns that directory. Safe against a concurrent unpack of the same
/// copy (both return the one that won the rename).
pub fn unpack(
    files: &[EmbeddedFile],
    data_dir: &Path,
    version: &str,
) -> Result<PathBuf, LocateError> {
    let target = data_dir.join(format!(
        "contenders-{}-{}",
        slug(version),
        content_hash(files)
    ));
    if target.is_dir() {
        return Ok(target);
    }
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LocateError::Unpack { path, source }
    };
    std::fs::create_dir_all(data_dir).map_err(err(data_dir))?;
    let tmp = tempdir_in(data_dir).map_err(err(data_dir))?;
    let written = write_all(files, &tmp);
    if let Err(source) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(LocateError::Unpack { path: tmp, source });
    }
    match std::fs::rename(&tmp, &target) {
        Ok(()) => Ok(target),
        // Another process renamed its complete copy first: use that one.
        Err(_) if target.is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(target)
        }
        Err(source) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(LocateError::Unpack {
                path: target,
                source,
            })
        }
    }
}

fn write_all(files: &[EmbeddedFile], dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for (rel, exec, bytes) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        if *exec {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}

/// A fresh, uniquely named directory `<dir>/.contenders-tmp-<pid>-<n>`.
fn tempdir_in(dir: &Path) -> std::io::Result<PathBuf> {
    let pid = std::process::id();
    let mut n = bakeoff_load::rng::Rng::unseeded().next_u64() as u32;
    loop {
        let path = dir.join(format!(".contenders-tmp-{pid}-{n:08x}"));
        match std::fs::create_dir(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n = n.wrapping_add(1),
            other => return other.map(|()| path),
        }
    }
}

/// The version as a safe directory-name part: "0.1.0 (git abc1234)" -> "0.1.0-abc1234".
fn slug(version: &str) -> String {
    version
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .filter(|s| !s.is_empty() && *s != "git")
        .collect::<Vec<_>>()
        .join("-")
}

/// The first 12 hex digits of a SHA-256 over the files' names, modes and contents.
fn content_hash(files: &[EmbeddedFile]) -> String {
    let mut h = Sha256::new();
    for (rel, exec, bytes) in files {
        for part in [rel.as_bytes(), &[u8::from(*exec)], bytes] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &[EmbeddedFile] = &[
        ("app-a/bakeoff.toml", false, b"name = \"app-a\"\n"),
        ("app-a/run.sh", true, b"#!/bin/sh\n"),
    ];

    #[test]
    fn the_embedded_copy_holds_every_reference_contender_and_no_install() {
        let names = embedded_names();
        for name in [
            "node-express",
            "node-fastify",
            "node-http",
            "python-django",
            "python-fastapi",
            "python-flask",
        ] {
            assert!(names.contains(&name), "{name} is not embedded: {names:?}");
        }
        for (rel, _, _) in EMBEDDED {
            assert!(
                !rel.split('/')
                    .any(|p| ["node_modules", "__pycache__", ".venv"].contains(&p)),
                "{rel} should not be embedded"
            );
        }
    }

    #[test]
    fn a_second_version_unpacks_beside_the_first() {
        let tmp = tempfile::tempdir().unwrap();
        let a = unpack(FILES, tmp.path(), "0.1.0").unwrap();
        let b = unpack(FILES, tmp.path(), "0.2.0 (git abc1234)").unwrap();
        assert_ne!(a, b);
        assert!(a
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("contenders-0.1.0-"));
        assert!(b
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("contenders-0.2.0-abc1234-"));
        for dir in [&a, &b] {
            assert_eq!(
                std::fs::read(dir.join("app-a/bakeoff.toml")).unwrap(),
                FILES[0].2
            );
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(a.join("app-a/run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        // The same version again reuses its copy; no temporary directory is left.
        std::fs::write(a.join("marker"), "kept").unwrap();
        assert_eq!(unpack(FILES, tmp.path(), "0.1.0").unwrap(), a);
        assert!(a.join("marker").is_file());
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // Different contents under one version get their own copy too.
        let other: &[EmbeddedFile] = &[("app-a/bakeoff.toml", false, b"name = \"changed\"\n")];
        assert_ne!(unpack(other, tmp.path(), "0.1.0").unwrap(), a);
    }

    #[test]
    fn racing_unpacks_agree_on_one_complete_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| unpack(FILES, tmp.path(), "9.9.9").unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(dirs.windows(2).all(|w| w[0] == w[1]), "{dirs:?}");
        assert!(dirs[0].join("app-a/run.sh").is_file());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_clone_wins_over_the_embedded_copy_and_a_given_dir_over_both() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        // No ./contenders: the embedded copy.
        let got = resolve(None, tmp.path(), Some(&data)).unwrap();
        assert_eq!(got.origin, Origin::Embedded);
        assert!(got.path.starts_with(&data) && got.path.join("node-http").join(MANIFEST).is_file());
        // A foreign ./contenders (none of bakeoff's names) is not taken for the clone's.
        std::fs::create_dir_all(tmp.path().join("contenders/mine")).unwrap();
        std::fs::write(tmp.path().join("contenders/mine").join(MANIFEST), "").unwrap();
        assert_eq!(
            resolve(None, tmp.path(), Some(&data)).unwrap().origin,
            Origin::Embedded
        );
        // bakeoff's ./contenders: used as is, so edits there take effect.
        let local = tmp.path().join("contenders/node-http");
        std::fs::create_dir_all(&local).unwrap();
        std::fs::write(local.join(MANIFEST), "edited").unwrap();
        let got = resolve(None, tmp.path(), Some(&data)).unwrap();
        assert_eq!(
            got,
            ContendersDir {
                path: tmp.path().join("contenders"),
                origin: Origin::Clone
            }
        );
        // A given directory wins over both, and needs no data directory.
        let got = resolve(Some(Path::new("/elsewhere")), tmp.path(), None).unwrap();
        assert_eq!(got, ContendersDir::given("/elsewhere"));
        // Without a data directory the embedded copy has nowhere to go: say so.
        let msg = resolve(None, &tmp.path().join("nowhere"), None)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("--contenders-dir"), "{msg}");
    }
}
