//! Stamps of passed verifications ([`super::verification`]), remembered under the
//! results directory so `bakeoff run` verifies again only what changed: the key hashes bakeoff's
//! version, the data, the installed runtime, every file of the app, and the
//! variant's name, start command and environment (each variant has its own stamp).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::datagen::DataFiles;
use super::footprint;
use super::Installed;

fn stamp(results_dir: &Path, name: &str) -> PathBuf {
    results_dir.join("verified").join(format!("{name}.key"))
}

/// A hash of everything a verification result depends on.
pub fn key(inst: &Installed, data: &DataFiles) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    h.update(format!("{:?}", data.spec));
    h.update(&inst.info.runtime_version);
    h.update(&inst.info.framework_version);
    // A variant starts the same files differently: its name, command and env count.
    let c = &inst.contender;
    h.update(c.name());
    h.update(c.manifest.start.command.join("\0"));
    for (k, v) in &c.env {
        h.update(format!("{k}={v}\0"));
    }
    let mut files = Vec::new();
    footprint::walk(&inst.contender.dir, &mut |p| files.push(p.to_path_buf()));
    files.sort();
    for f in files {
        if f.file_name().is_some_and(|n| n == "bakeoff-stamp.json") {
            continue;
        }
        h.update(f.to_string_lossy().as_bytes());
        if let Ok(bytes) = std::fs::read(&f) {
            h.update(&bytes);
        }
    }
    format!("{:x}", h.finalize())
}

/// The stamp name and key of a verification on `database`: SQLite keeps the
/// contender's own stamp; PostgreSQL has its own (`<name>.postgres`).
pub fn key_on(
    inst: &Installed,
    data: &DataFiles,
    database: crate::database::Database,
) -> (String, String) {
    let name = inst.contender.name();
    match database {
        crate::database::Database::Sqlite => (name.to_string(), key(inst, data)),
        db => (format!("{name}.{db}"), format!("{}-{db}", key(inst, data))),
    }
}

pub fn is_verified(results_dir: &Path, name: &str, key: &str) -> bool {
    std::fs::read_to_string(stamp(results_dir, name)).is_ok_and(|k| k.trim() == key)
}

/// Best effort: a stamp that cannot be written only means verifying again next time.
pub fn record(results_dir: &Path, name: &str, key: &str) {
    let path = stamp(results_dir, name);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(path, key);
}
