//! The generated data: the SQLite database (`world`, `fortune`) and the sales CSV,
//! deterministic from a seed (docs/contract.md, "Data").
//!
//! A self-contained splitmix64 generator is used instead of `rand` so the bytes never
//! change with a crate upgrade. Files are written to a temporary name and renamed,
//! and a stamp records the seed and sizes so an unchanged request is skipped.
//! `/updates` modifies the database, so runs use [`DataFiles::working_copy`] of the
//! pristine file.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::workload::REGIONS;

pub const DEFAULT_SEED: u64 = 20_250_101;
pub const DEFAULT_CSV_ROWS: u64 = 200_000;
pub const WORLD_ROWS: u32 = 10_000;
pub const PRODUCTS: u32 = 25;
const DAYS_2025: u32 = 365;

/// TechEmpower's 12 fortunes, id and message, byte for byte.
pub const FORTUNES: [(i64, &str); 12] = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u{2014} Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u{2014} Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, "<script>alert(\"This should not be displayed in a browser alert box.\");</script>"),
    (12, "\u{30d5}\u{30ec}\u{30fc}\u{30e0}\u{30ef}\u{30fc}\u{30af}\u{306e}\u{30d9}\u{30f3}\u{30c1}\u{30de}\u{30fc}\u{30af}"),
];

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSpec {
    pub seed: u64,
    pub csv_rows: u64,
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec {
            seed: DEFAULT_SEED,
            csv_rows: DEFAULT_CSV_ROWS,
        }
    }
}

/// The generated files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFiles {
    /// `<results>/data`.
    pub dir: PathBuf,
    /// The pristine database; never handed to a contender directly.
    pub sqlite: PathBuf,
    pub csv: PathBuf,
    pub spec: DataSpec,
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    // Not a `#[source]`: the message carries the OS error once, for `{}` and `{:#}` alike.
    #[error("cannot write the generated data at {path}: {error}; give --results-dir a writable directory", path = .path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot build the SQLite database at {path}: {source}", path = .path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// A run of stamp-identical output.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Stamp {
    format: u32,
    spec: DataSpec,
    world_rows: u32,
}

const STAMP_FORMAT: u32 = 1;

/// Ensure the default data exists under `<results_dir>/data`.
pub fn ensure(results_dir: &Path) -> Result<DataFiles, DataError> {
    ensure_with(results_dir, DataSpec::default())
}

/// Ensure the data for `spec` exists; regenerates when the stamp differs or a file is missing.
pub fn ensure_with(results_dir: &Path, spec: DataSpec) -> Result<DataFiles, DataError> {
    // Absolute: contenders get these paths and run in their own directories.
    let dir =
        std::path::absolute(results_dir.join("data")).map_err(|source| io(results_dir, source))?;
    let files = DataFiles {
        sqlite: dir.join("bakeoff.sqlite"),
        csv: dir.join("sales.csv"),
        dir: dir.clone(),
        spec,
    };
    let stamp_path = dir.join("stamp.json");
    let want = Stamp {
        format: STAMP_FORMAT,
        spec,
        world_rows: WORLD_ROWS,
    };
    let current = fs::read(&stamp_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Stamp>(&b).ok());
    if current.as_ref() == Some(&want) && files.sqlite.is_file() && files.csv.is_file() {
        return Ok(files);
    }
    fs::create_dir_all(&dir).map_err(|source| io(&dir, source))?;
    // Invalidate first: a crash mid-way must not leave a stamp over mixed files.
    let _ = fs::remove_file(&stamp_path);
    write_sqlite(&files.sqlite, spec.seed)?;
    write_csv(&files.csv, spec)?;
    let stamp = serde_json::to_vec_pretty(&want).unwrap_or_default();
    atomic_write(&stamp_path, |w| w.write_all(&stamp))?;
    Ok(files)
}

impl DataFiles {
    /// A fresh copy of the pristine database at `<dir>/work/<name>.sqlite`, for one
    /// contender start (`/updates` writes to it).
    pub fn working_copy(&self, name: &str) -> Result<PathBuf, DataError> {
        let work = self.dir.join("work");
        fs::create_dir_all(&work).map_err(|source| io(&work, source))?;
        let dest = work.join(format!("{name}.sqlite"));
        for suffix in ["-wal", "-shm"] {
            let _ = fs::remove_file(with_suffix(&dest, suffix));
        }
        let tmp = with_suffix(&dest, &tmp_suffix());
        fs::copy(&self.sqlite, &tmp).map_err(|source| io(&tmp, source))?;
        fs::rename(&tmp, &dest).map_err(|source| io(&dest, source))?;
        Ok(dest)
    }
}

/// The dataset's generator: splitmix64, whose sequence is fixed forever.
pub use bakeoff_load::rng::Rng as SplitMix64;

fn write_sqlite(path: &Path, seed: u64) -> Result<(), DataError> {
    let tmp = with_suffix(path, &tmp_suffix());
    for p in [
        tmp.clone(),
        with_suffix(&tmp, "-wal"),
        with_suffix(&tmp, "-shm"),
    ] {
        let _ = fs::remove_file(p);
    }
    let sql = |source| DataError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    {
        let mut conn = rusqlite::Connection::open(&tmp).map_err(sql)?;
        // journal_mode=WAL is persistent in the file, so copies stay in WAL mode.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.execute_batch(
            "CREATE TABLE world (id INTEGER PRIMARY KEY, randomNumber INTEGER NOT NULL);
             CREATE TABLE fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL);",
        )
        .map_err(sql)?;
        let tx = conn.transaction().map_err(sql)?;
        {
            let mut rng = SplitMix64::new(seed);
            let mut ins = tx
                .prepare("INSERT INTO world (id, randomNumber) VALUES (?1, ?2)")
                .map_err(sql)?;
            for id in 1..=WORLD_ROWS {
                ins.execute((id, 1 + rng.below(10_000))).map_err(sql)?;
            }
            let mut ins = tx
                .prepare("INSERT INTO fortune (id, message) VALUES (?1, ?2)")
                .map_err(sql)?;
            for (id, msg) in FORTUNES {
                ins.execute((id, msg)).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .map_err(sql)?;
    }
    fs::rename(&tmp, path).map_err(|source| io(path, source))
}

/// Write the CSV for `spec` (header + `csv_rows` rows).
fn write_csv(path: &Path, spec: DataSpec) -> Result<(), DataError> {
    atomic_write(path, |w| write_csv_rows(w, spec))
}

/// The CSV body; separate so tests can hash it without a file.
pub fn write_csv_rows(w: &mut dyn Write, spec: DataSpec) -> std::io::Result<()> {
    // A different stream from the database's, so changing one leaves the other alone.
    let mut rng = SplitMix64::new(spec.seed ^ 0x5A1E_5C5F_0000_0001);
    writeln!(w, "region,product,units,unit_price,day")?;
    for _ in 0..spec.csv_rows {
        let region = REGIONS[rng.below(REGIONS.len() as u32) as usize];
        let product = 1 + rng.below(PRODUCTS);
        let units = 1 + rng.below(50);
        let cents = 50 + rng.below(50_000 - 50 + 1);
        let (month, day) = month_day(rng.below(DAYS_2025));
        writeln!(
            w,
            "{region},product-{product:02},{units},{}.{:02},2025-{month:02}-{day:02}",
            cents / 100,
            cents % 100
        )?;
    }
    Ok(())
}

/// Day-of-year (0-based, 2025 is not a leap year) to (month, day).
fn month_day(mut yday: u32) -> (u32, u32) {
    const LEN: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for (m, len) in LEN.iter().enumerate() {
        if yday < *len {
            return (m as u32 + 1, yday + 1);
        }
        yday -= len;
    }
    (12, 31)
}

fn atomic_write(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), DataError> {
    let tmp = with_suffix(path, &tmp_suffix());
    let result = (|| {
        let file = fs::File::create(&tmp)?;
        let mut w = BufWriter::new(file);
        fill(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    result.map_err(|source| io(&tmp, source))?;
    fs::rename(&tmp, path).map_err(|source| io(path, source))
}

/// Per process, so two bakeoffs sharing a results directory never write (or
/// delete) each other's temporary files before the atomic rename.
fn tmp_suffix() -> String {
    format!(".tmp{}", std::process::id())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn io(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        error: source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_day_covers_the_year() {
        assert_eq!(month_day(0), (1, 1));
        assert_eq!(month_day(31), (2, 1));
        assert_eq!(month_day(58), (2, 28));
        assert_eq!(month_day(59), (3, 1));
        assert_eq!(month_day(364), (12, 31));
    }

    #[test]
    fn csv_values_follow_the_contract() {
        let mut out = Vec::new();
        write_csv_rows(
            &mut out,
            DataSpec {
                seed: 1,
                csv_rows: 2000,
            },
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("region,product,units,unit_price,day"));
        let mut n = 0;
        for line in lines {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 5, "{line}");
            assert!(REGIONS.contains(&f[0]));
            let p: u32 = f[1].strip_prefix("product-").unwrap().parse().unwrap();
            assert!((1..=25).contains(&p) && f[1].len() == 10);
            let u: u32 = f[2].parse().unwrap();
            assert!((1..=50).contains(&u));
            let price: f64 = f[3].parse().unwrap();
            assert!((0.5..=500.0).contains(&price) && f[3].split('.').nth(1).unwrap().len() == 2);
            assert!(f[4].starts_with("2025-") && f[4].len() == 10);
            n += 1;
        }
        assert_eq!(n, 2000);
    }
}
