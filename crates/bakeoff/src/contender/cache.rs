//! The install cache shared by every project on the machine: where it is
//! ([`default_dir`]), what it holds ([`list`]) and removing old entries ([`prune`]).
//!
//! Layout (written by [`super::setup`]): `<cache>/<kind>/<name>-<key>/` per
//! install (`kind` is npm, pip or none; `key` the first 16 hex digits of the
//! install key), with `bakeoff-stamp.json` inside once the install finished, and
//! `<cache>/<kind>/<name>-<key>.lock`, flocked exclusively while setup checks or
//! builds it, and `<cache>/<kind>/<name>-<key>.use`, flocked shared by every
//! command using the install ([`InUse`]). [`prune`] needs both exclusively, so
//! it never removes an install being built or run. The stamp's mtime is the
//! entry's last use: setup touches it whenever it hands the install to a command.

use rustix::fs::{flock, FlockOperation};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use super::footprint;

/// The file that marks a finished install (see [`super::setup`]).
pub const STAMP: &str = "bakeoff-stamp.json";

/// `$BAKEOFF_CACHE_DIR`, else `$XDG_CACHE_HOME/bakeoff`, else `~/.cache/bakeoff`,
/// else (no HOME) `<results_dir>/cache`; absolute, since symlinks and `{python}`
/// point into it from elsewhere.
pub fn default_dir(results_dir: &Path) -> PathBuf {
    let dir = std::env::var_os("BAKEOFF_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| super::locate::xdg_dir("XDG_CACHE_HOME", ".cache"))
        .unwrap_or_else(|| results_dir.join("cache"));
    std::path::absolute(&dir).unwrap_or(dir)
}

/// One install in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// `npm`, `pip` or `none`.
    pub kind: String,
    /// The contender it was installed for.
    pub contender: String,
    /// The first 16 hex digits of its install key.
    pub key: String,
    pub path: PathBuf,
    /// Bytes on disk (symlinks not followed).
    pub bytes: u64,
    /// When setup last used it (its stamp's mtime; the directory's when unfinished).
    pub last_use: SystemTime,
    /// The runtime version it was built for, from its stamp.
    pub runtime: Option<String>,
    /// False for an install that never finished (no stamp).
    pub complete: bool,
    /// True while another bakeoff holds its lock.
    pub in_use: bool,
}

impl Entry {
    /// What the entry is, in a few words: "pip python-flask (3.11.7)".
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.kind, self.contender);
        match (&self.runtime, self.complete) {
            (Some(r), true) => s.push_str(&format!(" ({r})")),
            (_, false) => s.push_str(" (unfinished install)"),
            _ => {}
        }
        s
    }
}

/// Every install entry under `cache`, oldest use first. A missing cache is empty.
pub fn list(cache: &Path) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    let kinds = match std::fs::read_dir(cache) {
        Ok(k) => k,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for kind in kinds.filter_map(Result::ok) {
        if !kind.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let kind_name = kind.file_name().to_string_lossy().into_owned();
        for e in std::fs::read_dir(kind.path())?.filter_map(Result::ok) {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue; // the .lock and .use files
            }
            let path = e.path();
            let dir_name = e.file_name().to_string_lossy().into_owned();
            let Some((contender, key)) = dir_name.rsplit_once('-') else {
                continue;
            };
            let stamp = path.join(STAMP);
            let stamp_meta = std::fs::metadata(&stamp).ok();
            let last_use = stamp_meta
                .as_ref()
                .or(e.metadata().ok().as_ref())
                .and_then(|m| m.modified().ok())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let runtime = std::fs::read(&stamp)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["runtime_version"].as_str().map(String::from));
            out.push(Entry {
                kind: kind_name.clone(),
                contender: contender.to_string(),
                key: key.to_string(),
                bytes: footprint::dir_bytes(&path),
                last_use,
                runtime,
                complete: stamp_meta.is_some(),
                in_use: try_lock(&path).is_none(),
                path,
            });
        }
    }
    out.sort_by(|a, b| a.last_use.cmp(&b.last_use).then(a.path.cmp(&b.path)));
    Ok(out)
}

/// Which entries [`prune`] removes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prune {
    /// Every entry not in use.
    All,
    /// Entries last used longer ago than this.
    OlderThan(Duration),
}

/// What [`prune`] did.
#[derive(Debug, Default)]
pub struct Pruned {
    pub removed: Vec<Entry>,
    /// Selected, but locked by a running bakeoff: left alone.
    pub skipped: Vec<Entry>,
}

/// Remove the entries `which` selects, each under its lock (an entry another
/// bakeoff holds is skipped). The lock files stay: removing one another process
/// is waiting on would let two installs into one entry.
pub fn prune(cache: &Path, which: Prune, now: SystemTime) -> std::io::Result<Pruned> {
    let mut out = Pruned::default();
    for entry in list(cache)? {
        let selected = match which {
            Prune::All => true,
            Prune::OlderThan(age) => now
                .duration_since(entry.last_use)
                .is_ok_and(|idle| idle > age),
        };
        if !selected {
            continue;
        }
        let Some(_lock) = try_lock(&entry.path) else {
            out.skipped.push(Entry {
                in_use: true,
                ..entry
            });
            continue;
        };
        std::fs::remove_dir_all(&entry.path)?;
        out.removed.push(entry);
    }
    Ok(out)
}

/// A command's hold on an install: a shared flock on `<entry>.use`, released when
/// the last clone of the [`super::Installed`] holding it is dropped.
#[derive(Debug)]
pub struct InUse {
    _files: Vec<std::fs::File>,
}

impl InUse {
    /// Take the shared hold; waits only while a prune removes this very entry.
    pub fn acquire(entry: &Path) -> std::io::Result<InUse> {
        Ok(InUse {
            _files: vec![shared(entry)?],
        })
    }

    /// Hold another entry the install needs too (the cached Node.js it runs on).
    pub fn also(&mut self, entry: &Path) -> std::io::Result<()> {
        self._files.push(shared(entry)?);
        Ok(())
    }
}

fn shared(entry: &Path) -> std::io::Result<std::fs::File> {
    let file = open_lock(entry, "use")?;
    flock(&file, FlockOperation::LockShared)?;
    Ok(file)
}

fn open_lock(entry: &Path, ext: &str) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(entry.with_extension(ext))
}

/// Both of the entry's locks, exclusively, if nobody holds either (released when
/// dropped: the files close).
fn try_lock(entry: &Path) -> Option<(std::fs::File, std::fs::File)> {
    let exclusive = |ext: &str| {
        let file = open_lock(entry, ext).ok()?;
        flock(&file, FlockOperation::NonBlockingLockExclusive).ok()?;
        Some(file)
    };
    Some((exclusive("lock")?, exclusive("use")?))
}

/// Record a use of the entry whose stamp is `stamp` (its mtime is the last use).
pub(crate) fn touch(stamp: &Path) {
    if let Ok(f) = std::fs::OpenOptions::new().write(true).open(stamp) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// An exclusive `flock` on `<entry>.lock`, held while an install entry is checked
/// or built; released when dropped (the file closes).
pub(crate) struct CacheLock(std::fs::File);

impl CacheLock {
    pub(crate) async fn acquire(
        entry: &Path,
        wait: Duration,
        cancel: &CancellationToken,
    ) -> std::io::Result<CacheLock> {
        let path = entry.with_extension("lock");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        let deadline = Instant::now() + wait;
        loop {
            let locked = flock(&file, FlockOperation::NonBlockingLockExclusive);
            if locked.is_ok() {
                return Ok(CacheLock(file));
            }
            if Instant::now() >= deadline {
                return Err(std::io::Error::other(format!(
                    "{} is held by another bakeoff for over {}s",
                    path.display(),
                    wait.as_secs()
                )));
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(std::io::ErrorKind::Interrupted.into()),
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    }
}

impl Drop for CacheLock {
    fn drop(&mut self) {
        // Closing would release it anyway.
        let _ = flock(&self.0, FlockOperation::Unlock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    /// A fake finished install last used `age` ago.
    fn entry(cache: &Path, kind: &str, name: &str, age: Duration) -> PathBuf {
        let dir = cache.join(kind).join(format!("{name}-0123456789abcdef"));
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("lib/blob"), vec![0u8; 1000]).unwrap();
        std::fs::write(dir.join(STAMP), r#"{"runtime_version":"v22.1.0"}"#).unwrap();
        let f = std::fs::File::options()
            .write(true)
            .open(dir.join(STAMP))
            .unwrap();
        f.set_modified(SystemTime::now() - age).unwrap();
        dir
    }

    #[test]
    fn prune_removes_only_what_it_lists() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path();
        let old = entry(cache, "npm", "node-old", 40 * DAY);
        let fresh = entry(cache, "pip", "python-fresh", DAY);
        let busy = entry(cache, "npm", "node-busy", 50 * DAY);
        let building = entry(cache, "npm", "node-building", 45 * DAY);
        std::fs::write(cache.join("unrelated.txt"), "not an entry").unwrap();
        let listed = list(cache).unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|e| e.contender.as_str())
                .collect::<Vec<_>>(),
            ["node-busy", "node-building", "node-old", "python-fresh"],
            "oldest use first"
        );
        assert!(listed
            .iter()
            .all(|e| e.bytes >= 1000 && e.complete && !e.in_use));
        assert_eq!(listed[2].describe(), "npm node-old (v22.1.0)");

        // A command running node-busy, and a setup checking node-building.
        let running = InUse::acquire(&busy).unwrap();
        let setup = open_lock(&building, "lock").unwrap();
        flock(&setup, FlockOperation::LockExclusive).unwrap();
        assert!(list(cache).unwrap().iter().filter(|e| e.in_use).count() == 2);
        let out = prune(cache, Prune::OlderThan(30 * DAY), SystemTime::now()).unwrap();
        let paths = |v: &[Entry]| v.iter().map(|e| e.path.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&out.removed), std::slice::from_ref(&old));
        assert_eq!(paths(&out.skipped), [busy.clone(), building.clone()]);
        assert!(!old.exists() && fresh.is_dir() && busy.is_dir() && building.is_dir());
        assert!(cache.join("unrelated.txt").is_file());
        drop((running, setup));

        let out = prune(cache, Prune::All, SystemTime::now()).unwrap();
        assert_eq!(
            paths(&out.removed),
            [busy.clone(), building.clone(), fresh.clone()]
        );
        assert!(list(cache).unwrap().is_empty());
        assert!(cache.join("unrelated.txt").is_file());
    }

    #[test]
    fn a_missing_cache_lists_nothing_and_touch_records_a_use() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(list(&tmp.path().join("none")).unwrap().is_empty());
        let dir = entry(tmp.path(), "pip", "python-x", 10 * DAY);
        touch(&dir.join(STAMP));
        let e = &list(tmp.path()).unwrap()[0];
        assert!(SystemTime::now().duration_since(e.last_use).unwrap() < DAY);
    }
}
