//! Finding the machine's PostgreSQL programs: never downloaded, always the
//! installed package's. A directory qualifies when it holds `initdb`, `pg_ctl`
//! and `postgres` together (Debian keeps them in `/usr/lib/postgresql/<major>/bin`,
//! off PATH); PATH is searched first, then those directories, newest major first.

use std::path::{Path, PathBuf};

use super::DatabaseError;

/// The server programs every candidate directory must hold.
const SERVER_TOOLS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];
/// Where Debian and Ubuntu install each major version.
pub const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// One directory of PostgreSQL programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    /// The directory holding initdb, pg_ctl and postgres.
    pub dir: PathBuf,
    /// psql: beside them, else on PATH.
    pub psql: PathBuf,
}

impl Binaries {
    pub fn initdb(&self) -> PathBuf {
        self.dir.join("initdb")
    }

    pub fn pg_ctl(&self) -> PathBuf {
        self.dir.join("pg_ctl")
    }

    pub fn postgres(&self) -> PathBuf {
        self.dir.join("postgres")
    }

    /// `postgres --version`, e.g. "postgres (PostgreSQL) 15.8"; empty if it fails.
    pub fn version(&self) -> String {
        std::process::Command::new(self.postgres())
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    }
}

/// Names the one directory to use (e.g. another major version), instead of the search.
pub const BIN_VAR: &str = "BAKEOFF_POSTGRES_BIN";

/// Find the programs: [`BIN_VAR`] alone when set; else PATH, then
/// [`DEBIAN_ROOT`]`/*/bin`, newest version first.
pub fn find() -> Result<Binaries, DatabaseError> {
    let path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(dir) = std::env::var_os(BIN_VAR).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        let dirs = std::slice::from_ref(&dir);
        return find_in(dirs, dirs);
    }
    let mut candidates = path.clone();
    candidates.extend(debian_dirs(Path::new(DEBIAN_ROOT)));
    find_in(&candidates, &path)
}

/// Find the programs in `candidates` (in order); psql may also come from `path`.
pub fn find_in(candidates: &[PathBuf], path: &[PathBuf]) -> Result<Binaries, DatabaseError> {
    for dir in candidates {
        // A PATH entry is often a symlink farm (/usr/local/bin/initdb ->
        // /usr/lib/postgresql/15/bin/initdb): its siblings are in the target's dir.
        let dir = match std::fs::canonicalize(dir.join("initdb")) {
            Ok(real) => match real.parent() {
                Some(p) => p.to_path_buf(),
                None => continue,
            },
            Err(_) => continue,
        };
        if SERVER_TOOLS.iter().all(|t| is_executable(&dir.join(t))) {
            let psql = std::iter::once(dir.clone())
                .chain(path.iter().cloned())
                .map(|d| d.join("psql"))
                .find(|p| is_executable(p));
            return match psql {
                Some(psql) => Ok(Binaries { dir, psql }),
                None => Err(missing("psql", candidates)),
            };
        }
    }
    let tool = SERVER_TOOLS
        .iter()
        .find(|t| !candidates.iter().any(|d| is_executable(&d.join(t))))
        .unwrap_or(&"initdb");
    Err(missing(tool, candidates))
}

fn missing(tool: &str, candidates: &[PathBuf]) -> DatabaseError {
    let shown: Vec<String> = candidates
        .iter()
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.display().to_string())
        .collect();
    DatabaseError::Missing {
        tool: tool.to_string(),
        searched: if shown.is_empty() {
            format!("{DEBIAN_ROOT}/*/bin")
        } else {
            format!("{} and {DEBIAN_ROOT}/*/bin", shown.join(":"))
        },
    }
}

/// `<root>/<major>/bin` for every installed major version, newest first.
pub fn debian_dirs(root: &Path) -> Vec<PathBuf> {
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().to_str()?.to_string();
            let key: Vec<u32> = name
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            Some((key, e.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, p)| p).collect()
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch_exe(p: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn an_empty_directory_names_the_package() {
        let dir = tempfile::tempdir().unwrap();
        let e = find_in(&[dir.path().to_path_buf()], &[]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`initdb`"), "{msg}");
        assert!(msg.contains("apt-get install postgresql"), "{msg}");
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    }

    #[test]
    fn newest_major_comes_first_and_junk_is_ignored() {
        let root = tempfile::tempdir().unwrap();
        for v in ["9.6", "15", "13", "notes"] {
            std::fs::create_dir_all(root.path().join(v).join("bin")).unwrap();
        }
        let dirs = debian_dirs(root.path());
        let names: Vec<String> = dirs
            .iter()
            .map(|d| {
                d.parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into()
            })
            .collect();
        assert_eq!(names, ["15", "13", "9.6"]);
    }

    #[test]
    fn a_directory_needs_all_server_tools_and_psql() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        // a: initdb only (incomplete); b: the full set.
        touch_exe(&a.path().join("initdb"));
        for t in SERVER_TOOLS {
            touch_exe(&b.path().join(t));
        }
        let dirs = [a.path().to_path_buf(), b.path().to_path_buf()];
        let e = find_in(&dirs, &[]).unwrap_err();
        assert!(e.to_string().contains("`psql`"), "{e}");
        touch_exe(&b.path().join("psql"));
        let found = find_in(&dirs, &[]).unwrap();
        assert_eq!(found.dir, std::fs::canonicalize(b.path()).unwrap());
        assert_eq!(found.psql, found.dir.join("psql"));
    }
}
