//! Contender discovery and data generation, on real files; plus the fixture helpers
//! the setup, supervisor and verify tests share.

use std::path::{Path, PathBuf};

use bakeoff::contender::datagen::{self, DataSpec, FORTUNES};
use bakeoff::contender::setup::{self, SetupOptions};
use bakeoff::contender::supervisor::{ContractEnv, SpawnSpec};
use bakeoff::contender::Installed;
use bakeoff::contender::{discover, Contender, ContenderError, ContendersDir, Selection};
use tokio_util::sync::CancellationToken;

pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A temp dir holding copies of the named fixtures (and their shared `_lib`), so
/// tests never write into the source tree.
pub(crate) fn copy_fixtures(names: &[&str]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for name in names.iter().chain(&["_lib"]) {
        copy_dir(&fixtures_dir().join(name), &tmp.path().join(name));
    }
    tmp
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let ft = entry.file_type().unwrap();
        let name = entry.file_name();
        if name == "node_modules" || name == "__pycache__" {
            continue;
        }
        if ft.is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else if ft.is_file() {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// Set up a (`kind = "none"`) fixture contender from the source tree, caching into `cache`.
pub(crate) async fn installed(name: &str, cache: &Path) -> Installed {
    let c = Contender::load(&fixtures_dir().join(name)).unwrap();
    let mut opts = SetupOptions::new(cache, false);
    opts.cache_dir = cache.join("cache");
    setup::ensure_one(&c, &opts, &CancellationToken::new())
        .await
        .unwrap()
}

/// A spawn spec for a fixture that does not touch the data or the upstream.
pub(crate) fn spec(installed: &Installed, workers: u32, logs: &Path) -> SpawnSpec {
    let env = ContractEnv {
        sqlite: logs.join("unused.sqlite"),
        data: logs.join("unused.csv"),
        upstream: "http://127.0.0.1:9".into(),
        log_dir: logs.to_path_buf(),
        database_url: None,
    };
    SpawnSpec::new(installed, workers, &env)
}

/// Live (non-zombie) processes whose `/proc/<pid>/<file>` has a NUL-separated entry
/// equal to `needle` (`environ` or `cmdline`).
pub(crate) fn live_processes_with(file: &str, needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(bytes) = std::fs::read(format!("/proc/{pid}/{file}")) else {
            continue;
        };
        let live = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| bakeoff::measure::procfs::parse_stat(&s))
            .is_some_and(|st| st.state != 'Z');
        if live && bytes.split(|b| *b == 0).any(|e| e == needle.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

fn args(dir: &Path) -> Selection {
    Selection {
        names: Vec::new(),
        paths: Vec::new(),
        dir: Some(ContendersDir::given(dir)),
    }
}

#[test]
fn discovers_all_named_and_path_contenders() {
    let all = discover(&args(&fixtures_dir())).unwrap();
    let names: Vec<&str> = all.iter().map(Contender::name).collect();
    assert!(
        names.contains(&"broken") && names.contains(&"healthy"),
        "{names:?}"
    );
    assert!(!names.contains(&"_lib"));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    let mut a = args(&fixtures_dir());
    a.names = vec!["healthy".into()];
    a.paths = vec![fixtures_dir().join("broken/bakeoff.toml")];
    let two = discover(&a).unwrap();
    assert_eq!(
        two.iter().map(Contender::name).collect::<Vec<_>>(),
        ["healthy", "broken"]
    );
    assert!(two[1].dir.is_absolute());
}

#[test]
fn unknown_and_duplicate_contenders_are_rejected() {
    let mut a = args(&fixtures_dir());
    a.names = vec!["nope".into()];
    let e = discover(&a).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ContenderError::Unknown { .. }));
    assert!(
        msg.contains("`nope`") && msg.contains("broken, crashing"),
        "{msg}"
    );

    a.names = vec!["healthy".into()];
    a.paths = vec![fixtures_dir().join("healthy")];
    let msg = discover(&a).unwrap_err().to_string();
    assert!(msg.contains("`healthy` is used by both"), "{msg}");

    let empty = tempfile::tempdir().unwrap();
    let msg = discover(&args(empty.path())).unwrap_err().to_string();
    assert!(msg.contains("no contenders found"), "{msg}");
    let msg = discover(&args(&empty.path().join("missing")))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("no contenders found") && msg.contains("--contenders-dir"),
        "{msg}"
    );
}

#[test]
fn a_bad_manifest_names_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(fixtures_dir().join("healthy/bakeoff.toml"))
        .unwrap()
        .replace("kind = \"none\"", "kind = \"conda\"");
    std::fs::write(dir.join("bakeoff.toml"), text).unwrap();
    let mut a = args(tmp.path());
    a.paths = vec![dir.clone()];
    let msg = discover(&a).unwrap_err().to_string();
    assert!(
        msg.contains("mine/bakeoff.toml: setup.kind: `conda`"),
        "{msg}"
    );
}

/// world rows, fortune rows, journal mode.
type DbContents = (Vec<(i64, i64)>, Vec<(i64, String)>, String);

fn read_sqlite(path: &Path) -> DbContents {
    let conn = rusqlite::Connection::open(path).unwrap();
    let world = conn
        .prepare("SELECT id, randomNumber FROM world ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let fortunes = conn
        .prepare("SELECT id, message FROM fortune ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    (world, fortunes, mode)
}

#[test]
fn data_is_deterministic_and_follows_the_contract() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let spec = DataSpec {
        seed: 42,
        csv_rows: 5_000,
    };
    let fa = datagen::ensure_with(a.path(), spec).unwrap();
    let fb = datagen::ensure_with(b.path(), spec).unwrap();
    assert_eq!(
        std::fs::read(&fa.csv).unwrap(),
        std::fs::read(&fb.csv).unwrap()
    );
    let (wa, fortunes, mode) = read_sqlite(&fa.sqlite);
    let (wb, _, _) = read_sqlite(&fb.sqlite);
    assert_eq!(wa, wb);
    assert_eq!(mode, "wal");
    assert_eq!(wa.len(), 10_000);
    assert_eq!(wa.first().unwrap().0, 1);
    assert_eq!(wa.last().unwrap().0, 10_000);
    assert!(wa.iter().all(|(_, n)| (1..=10_000).contains(n)));
    let distinct: std::collections::BTreeSet<i64> = wa.iter().map(|(_, n)| *n).collect();
    assert!(
        distinct.len() > 5_000,
        "randomNumber is not random: {}",
        distinct.len()
    );
    let want: Vec<(i64, String)> = FORTUNES.iter().map(|(i, m)| (*i, m.to_string())).collect();
    assert_eq!(fortunes, want);
    assert_eq!(fortunes[11].1, "フレームワークのベンチマーク");
    assert_eq!(
        fortunes[10].1,
        "<script>alert(\"This should not be displayed in a browser alert box.\");</script>"
    );
    let csv = std::fs::read_to_string(&fa.csv).unwrap();
    assert_eq!(csv.lines().count(), 5_001);

    // Another seed gives other data.
    let c = tempfile::tempdir().unwrap();
    let fc = datagen::ensure_with(
        c.path(),
        DataSpec {
            seed: 43,
            csv_rows: 5_000,
        },
    )
    .unwrap();
    assert_ne!(
        std::fs::read(&fa.csv).unwrap(),
        std::fs::read(&fc.csv).unwrap()
    );
    assert_ne!(read_sqlite(&fc.sqlite).0, wa);
}

#[test]
fn data_is_reused_while_the_stamp_matches_and_copies_are_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let spec = DataSpec {
        seed: 7,
        csv_rows: 1_000,
    };
    let files = datagen::ensure_with(dir.path(), spec).unwrap();
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let (m_db, m_csv) = (mtime(&files.sqlite), mtime(&files.csv));
    std::thread::sleep(std::time::Duration::from_millis(20));
    datagen::ensure_with(dir.path(), spec).unwrap();
    assert_eq!((mtime(&files.sqlite), mtime(&files.csv)), (m_db, m_csv));
    // A different row count regenerates.
    datagen::ensure_with(
        dir.path(),
        DataSpec {
            seed: 7,
            csv_rows: 10,
        },
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(&files.csv).unwrap().lines().count(),
        11
    );

    let work = files.working_copy("x").unwrap();
    let conn = rusqlite::Connection::open(&work).unwrap();
    conn.execute("UPDATE world SET randomNumber = -1", [])
        .unwrap();
    drop(conn);
    let again = files.working_copy("x").unwrap();
    assert_eq!(again, work);
    let (world, _, _) = read_sqlite(&again);
    assert!(
        world.iter().all(|(_, n)| *n > 0),
        "the working copy was not refreshed"
    );
    let (pristine, _, _) = read_sqlite(&files.sqlite);
    assert!(pristine.iter().all(|(_, n)| *n > 0));
}
