//! Files and the database under stress: a results directory or database that
//! cannot be created, a read-only results directory, a full disk, another process
//! holding the database's write lock, and two runs sharing one database. Each ends
//! with a clear message (or both runs stored), a database that passes
//! `PRAGMA integrity_check`, and no process left behind.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bakeoff::model::RunStatus;
use bakeoff::store::Store;

use crate::faults_run::{integrity_ok, Area};
use crate::hardening::{run_bounded, wait_bounded, Finished, Marker};

fn assert_clear_failure(done: &Finished, needles: &[&str]) {
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert!(
        matches!(done.code(), Some(1) | Some(2)),
        "exit {:?}: {}",
        done.code(),
        done.stderr
    );
    for n in needles {
        assert!(done.stderr.contains(n), "no `{n}` in: {}", done.stderr);
    }
}

/// A tmpfs mounted at a fresh directory, unmounted on drop; `None` (with a note on
/// stderr) where this sandbox does not allow mounting.
struct Tmpfs {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Tmpfs {
    fn mount(options: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)");
            return None;
        }
        Some(Tmpfs { _dir: dir, path })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[test]
fn a_results_directory_that_cannot_be_created_is_a_clear_error() {
    let marker = Marker::new();
    let area = Area::new();
    let file = area.dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let results = file.join("results");
    let mut cmd = area.run_cmd_at(&marker, &["steady"], "0.05", &area.db(), &results);
    let done = run_bounded(&mut cmd, Duration::from_secs(60));
    assert_clear_failure(&done, &[&file.display().to_string()]);
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn a_database_path_that_cannot_be_created_is_a_clear_error() {
    let marker = Marker::new();
    let area = Area::new();
    let file = area.dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let db = file.join("bakeoff.db");
    let mut cmd = area.run_cmd_at(&marker, &["steady"], "0.05", &db, &area.results());
    let done = run_bounded(&mut cmd, Duration::from_secs(60));
    assert_clear_failure(&done, &[&file.display().to_string()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory");
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn a_read_only_results_directory_is_a_clear_error() {
    let Some(ro) = Tmpfs::mount("ro,size=1m") else {
        return;
    };
    let marker = Marker::new();
    let area = Area::new();
    let mut cmd = area.run_cmd_at(&marker, &["steady"], "0.05", &area.db(), &ro.path);
    let done = run_bounded(&mut cmd, Duration::from_secs(60));
    assert_clear_failure(&done, &[&ro.path.display().to_string(), "Read-only"]);
    marker.assert_no_orphans(Duration::from_secs(10));
}

/// A results database on a read-only mount is still read: every command that
/// only reads opens it read-only (no migration, no marking of dead runs).
#[test]
fn a_database_on_a_read_only_mount_is_read() {
    let Some(fs) = Tmpfs::mount("size=4m") else {
        return;
    };
    let db = fs.path.join("bakeoff.db");
    crate::store::fixtures::stored_rich_run(&db);
    let remounted = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&fs.path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(remounted, "remount read-only");
    assert!(
        Store::open(&db).is_err(),
        "the read-write open must fail here"
    );
    let marker = Marker::new();
    for args in [
        vec!["runs"],
        vec!["report", "latest"],
        vec!["show", "latest"],
        vec!["claims", "latest"],
    ] {
        let done = run_bounded(
            marker.bakeoff().args(&args).arg("--db").arg(&db),
            Duration::from_secs(60),
        );
        assert_eq!(done.code(), Some(0), "{args:?}: {}", done.stderr);
        assert!(!done.stdout.is_empty(), "{args:?}");
    }
}

/// Fill the filesystem holding `dir` (the file is left in place).
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    path
}

#[test]
fn a_full_disk_fails_the_run_and_keeps_the_database_consistent() {
    let Some(small) = Tmpfs::mount("size=2m") else {
        return;
    };
    let marker = Marker::new();
    let area = Area::new();
    let db = small.path.join("bakeoff.db");
    // An earlier run in the database, which the full disk must not damage.
    let first = run_bounded(
        &mut area.run_cmd_at(&marker, &["steady"], "0.05", &db, &area.results()),
        Duration::from_secs(120),
    );
    assert_eq!(first.code(), Some(0), "{}", first.stderr);
    let filler = fill(&small.path);
    let done = run_bounded(
        &mut area.run_cmd_at(&marker, &["steady"], "0.05", &db, &area.results()),
        Duration::from_secs(120),
    );
    assert_clear_failure(&done, &["full"]);
    marker.assert_no_orphans(Duration::from_secs(10));
    std::fs::remove_file(filler).unwrap();
    integrity_ok(&db);
    let store = Store::open(&db).unwrap();
    let runs = store.list_runs().unwrap();
    let first_run = runs.iter().find(|r| r.id == 1).expect("run 1 is kept");
    assert_eq!(first_run.status, RunStatus::Complete);
    assert!(first_run.cells_ok >= 1);
    for r in &runs {
        assert_ne!(r.status, RunStatus::Running, "run {} left running", r.id);
    }
}

#[test]
fn a_database_locked_by_another_process_is_a_clear_error() {
    let marker = Marker::new();
    let area = Area::new();
    drop(Store::open(&area.db()).unwrap());
    let holder = rusqlite::Connection::open(area.db()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let done = run_bounded(
        &mut area.run_cmd(&marker, &["steady"], "0.05"),
        Duration::from_secs(60),
    );
    assert_clear_failure(&done, &["locked"]);
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    marker.assert_no_orphans(Duration::from_secs(10));
    integrity_ok(&area.db());
}

#[test]
fn two_runs_on_one_database_are_both_stored() {
    use std::os::unix::process::CommandExt;
    let marker = Marker::new();
    let area = Area::new();
    // One database, two results directories (contenders' working copies of the
    // data live in the results directory; see docs/reliability.md).
    let spawn = |results: &str| {
        area.run_cmd_at(
            &marker,
            &["steady"],
            "0.05",
            &area.db(),
            &area.dir.path().join(results),
        )
        .process_group(0)
        .spawn()
        .unwrap()
    };
    let (a, b) = (spawn("results-a"), spawn("results-b"));
    let (a, b) = (
        wait_bounded(a, Duration::from_secs(180)),
        wait_bounded(b, Duration::from_secs(180)),
    );
    assert_eq!(a.code(), Some(0), "{}", a.stderr);
    assert_eq!(b.code(), Some(0), "{}", b.stderr);
    integrity_ok(&area.db());
    let runs = Store::open(&area.db()).unwrap().list_runs().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs
        .iter()
        .all(|r| r.status == RunStatus::Complete && r.cells_ok == 1));
    marker.assert_no_orphans(Duration::from_secs(10));
}

#[test]
fn a_disk_that_fills_mid_run_fails_it_cleanly() {
    use std::os::unix::process::CommandExt;
    let Some(small) = Tmpfs::mount("size=2m") else {
        return;
    };
    let marker = Marker::new();
    let area = Area::new();
    let db = small.path.join("bakeoff.db");
    let child = area
        .run_cmd_at(&marker, &["steady"], "1", &db, &area.results())
        .process_group(0)
        .spawn()
        .unwrap();
    // The run row exists once measuring starts (> 60 /json: past verification).
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while std::fs::read_to_string(area.events())
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("json "))
        .count()
        <= 60
    {
        assert!(std::time::Instant::now() < deadline, "never measured");
        std::thread::sleep(Duration::from_millis(50));
    }
    let filler = fill(&small.path);
    let done = wait_bounded(child, Duration::from_secs(120));
    assert_clear_failure(&done, &["full"]);
    marker.assert_no_orphans(Duration::from_secs(10));
    std::fs::remove_file(filler).unwrap();
    integrity_ok(&db);
    // The next open marks the run its dead writer could not finish.
    let runs = Store::open(&db).unwrap().list_runs().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].status, RunStatus::Interrupted);
}
