//! `bakeoff cache list|prune`: the install cache shared by every project
//! ([`crate::contender::cache`]): what each entry is, its size and last use, and
//! removing old ones. Prune prints exactly what it removes.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::cli::{CacheAction, CacheArgs, PruneArgs};
use crate::contender::cache::{self, Entry, Prune};
use crate::report::table::text_table;
use crate::InputError;

pub(super) fn execute(args: CacheArgs) -> Result<u8> {
    // The results directory only matters when there is no HOME to put the cache in.
    let dir = cache::default_dir(&PathBuf::from("bakeoff-results"));
    match args.action {
        CacheAction::List { json } => list(&dir, json),
        CacheAction::Prune(p) => prune(&dir, &p),
    }
}

fn list(dir: &std::path::Path, json: bool) -> Result<u8> {
    let entries =
        cache::list(dir).with_context(|| format!("reading the cache {}", dir.display()))?;
    if json {
        let doc = serde_json::json!({
            "cache": dir,
            "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(0);
    }
    outln!("cache: {}", dir.display())?;
    if entries.is_empty() {
        outln!("(empty)")?;
        return Ok(0);
    }
    outln!("{}", table(&entries))?;
    let total: u64 = entries.iter().map(|e| e.bytes).sum();
    outln!(
        "{} entries, {}; remove old ones with `bakeoff cache prune --older-than 30d`",
        entries.len(),
        size(total)
    )?;
    Ok(0)
}

fn prune(dir: &std::path::Path, args: &PruneArgs) -> Result<u8> {
    let which = match (&args.older_than, args.all) {
        (_, true) => Prune::All,
        (Some(age), false) => Prune::OlderThan(parse_age(age)?),
        // clap requires one of the two.
        (None, false) => {
            return Err(InputError::new("pass --older-than AGE (e.g. 30d) or --all").into())
        }
    };
    let now = SystemTime::now();
    if args.dry_run {
        let entries =
            cache::list(dir).with_context(|| format!("reading the cache {}", dir.display()))?;
        let selected: Vec<Entry> = entries
            .into_iter()
            .filter(|e| match which {
                Prune::All => true,
                Prune::OlderThan(age) => {
                    now.duration_since(e.last_use).is_ok_and(|idle| idle > age)
                }
            })
            .collect();
        outln!("would remove from {}:", dir.display())?;
        outln!(
            "{}",
            if selected.is_empty() {
                "(nothing)".into()
            } else {
                table(&selected)
            }
        )?;
        return Ok(0);
    }
    let out = cache::prune(dir, which, now)
        .with_context(|| format!("pruning the cache {}", dir.display()))?;
    outln!("removed from {}:", dir.display())?;
    outln!(
        "{}",
        if out.removed.is_empty() {
            "(nothing)".into()
        } else {
            table(&out.removed)
        }
    )?;
    let freed: u64 = out.removed.iter().map(|e| e.bytes).sum();
    outln!("{} entries, {} freed", out.removed.len(), size(freed))?;
    if !out.skipped.is_empty() {
        outln!("skipped (in use by a running bakeoff):")?;
        outln!("{}", table(&out.skipped))?;
    }
    Ok(0)
}

/// "30d", "12h", "2weeks": a humantime duration.
fn parse_age(s: &str) -> Result<Duration> {
    humantime::parse_duration(s.trim()).map_err(|e| {
        InputError::new(format!(
            "--older-than `{s}`: {e}; give an age such as 30d, 12h or 2weeks"
        ))
        .into()
    })
}

fn table(entries: &[Entry]) -> String {
    let now = SystemTime::now();
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.describe(),
                size(e.bytes),
                match e.in_use {
                    true => format!("{} (in use)", ago(now, e.last_use)),
                    false => ago(now, e.last_use),
                },
                e.path.display().to_string(),
            ]
        })
        .collect();
    text_table(&["entry", "size", "last use", "path"], &rows)
}

fn entry_json(e: &Entry) -> serde_json::Value {
    let secs = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    serde_json::json!({
        "kind": e.kind,
        "contender": e.contender,
        "key": e.key,
        "runtime": e.runtime,
        "complete": e.complete,
        "in_use": e.in_use,
        "bytes": e.bytes,
        "last_use_unix": secs(e.last_use),
        "path": e.path,
    })
}

fn size(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// "3 days ago", "5 hours ago", "just now".
fn ago(now: SystemTime, then: SystemTime) -> String {
    let s = now.duration_since(then).unwrap_or_default().as_secs();
    match s {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", s / 60),
        3600..86_400 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse_and_print() {
        assert_eq!(parse_age("30d").unwrap(), Duration::from_secs(30 * 86_400));
        let msg = parse_age("soon").unwrap_err().to_string();
        assert!(
            msg.contains("--older-than `soon`") && msg.contains("30d"),
            "{msg}"
        );
        let now = SystemTime::now();
        assert_eq!(
            ago(now, now - Duration::from_secs(3 * 86_400 + 5)),
            "3 days ago"
        );
        assert_eq!(ago(now, now - Duration::from_secs(7200)), "2 h ago");
        assert_eq!(ago(now, now), "just now");
    }
}
