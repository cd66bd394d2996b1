//! A scenario's `[[session]]`s: requests in a fixed order on one connection,
//! with a closed loop's think time, checked against the file's requests.

use std::collections::BTreeSet;
use std::time::Duration;

use bakeoff_load::{SessionSpec, Think};

use super::File;

/// The `[[session]]`s with their steps as request indexes; every request
/// must be a step of some session, and none may carry its own weight.
pub(super) fn sessions(file: &File) -> Result<Vec<SessionSpec>, String> {
    if file.session.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(r) = file.request.iter().find(|r| r.weight.is_some()) {
        return Err(format!(
            "request `{}` has a weight, but the scenario has sessions, whose weights make the mix; remove the request's weight",
            r.name
        ));
    }
    let index = |name: &str| file.request.iter().position(|r| r.name == name);
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for s in &file.session {
        if s.name.trim().is_empty() {
            return Err("a [[session]] has an empty name; give each a name".into());
        }
        if !names.insert(s.name.as_str()) {
            return Err(format!(
                "two [[session]]s are named `{}`; names must be unique",
                s.name
            ));
        }
        if s.steps.is_empty() {
            return Err(format!(
                "session `{}` has no steps; list request names, e.g. steps = [\"login\", \"search\"]",
                s.name
            ));
        }
        let steps = s
            .steps
            .iter()
            .map(|step| {
                index(step).ok_or_else(|| {
                    format!(
                        "session `{}`: step `{step}` is not a [[request]] name (there are: {})",
                        s.name,
                        file.request
                            .iter()
                            .map(|r| r.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let think = match &s.think {
            Some(text) => Some(think(text).map_err(|e| format!("session `{}`: {e}", s.name))?),
            None => None,
        };
        out.push(SessionSpec {
            name: s.name.clone(),
            steps,
            weight: s.weight,
            think,
        });
    }
    if out.iter().all(|s| s.weight == 0) {
        return Err("every session has weight 0; give at least one a weight above 0".into());
    }
    if let Some(unused) = (0..file.request.len()).find(|i| !out.iter().any(|s| s.steps.contains(i)))
    {
        return Err(format!(
            "request `{}` is a step of no session, so it would never be sent; add it to a session's steps or remove it",
            file.request[unused].name
        ));
    }
    Ok(out)
}

/// `"1s"` or `"500ms..2s"`.
fn think(text: &str) -> Result<Think, String> {
    let span = |t: &str| {
        humantime::parse_duration(t.trim()).map_err(|e| {
            format!(
                "think `{text}`: `{}` is not a duration ({e}); write e.g. \"1s\" or \"500ms..2s\"",
                t.trim()
            )
        })
    };
    let (min, max) = match text.split_once("..") {
        Some((a, b)) => (span(a)?, span(b)?),
        None => {
            let d = span(text)?;
            (d, d)
        }
    };
    if min > max {
        return Err(format!(
            "think `{text}`: the range runs from the shorter pause to the longer"
        ));
    }
    if max > Duration::from_secs(3600) {
        return Err(format!(
            "think `{text}`: a pause of over an hour is not a think time"
        ));
    }
    Ok(Think { min, max })
}
