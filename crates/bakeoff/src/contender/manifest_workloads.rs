//! The rules of the manifest's `[[workloads]]`: custom workloads, each a name
//! (never a built-in workload's, nor a category of the advisor's mix, which
//! names them too) and a scenario file (docs/scenarios.md) inside
//! the contender directory, loaded and checked with the manifest.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::raw::RawWorkload;
use super::{escapes, invalid, is_slug, Check, Manifest, R};
use crate::verdict::profile::Category;
use crate::workload::Workload;

/// One `[[workloads]]` entry: an app's own workload, measured like a built-in one
/// with its scenario's request mix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomWorkload {
    /// `[a-z0-9-]`, unique within the manifest, not a built-in workload's name.
    pub name: String,
    /// The scenario file, relative to the contender directory.
    pub scenario: PathBuf,
}

impl Check<'_> {
    /// `[[workloads]]`: names and paths (the files are read by [`check_scenarios`]).
    pub(super) fn workloads(&self, raw: Vec<RawWorkload>) -> R<Vec<CustomWorkload>> {
        let mut out: Vec<CustomWorkload> = Vec::new();
        for (i, w) in raw.into_iter().enumerate() {
            let prefix = format!("workloads[{i}]");
            let name = self.required(&format!("{prefix}.name"), w.name, "checkout")?;
            let field = format!("{prefix}.name");
            if Workload::parse(&name).is_ok() {
                return Err(self.err(
                    &field,
                    format!("`{name}` is a built-in workload; give your own workload another name, e.g. name = \"my-{name}\""),
                ));
            }
            if Category::ALL.iter().any(|c| c.name() == name) {
                return Err(self.err(
                    &field,
                    format!("`{name}` is a category of `bakeoff advise --mix`, which names custom workloads too; give yours another name, e.g. name = \"my-{name}\""),
                ));
            }
            if !is_slug(&name) {
                return Err(self.err(
                    &field,
                    format!("`{name}` must use only a-z, 0-9 and '-' (not first), at most 64 characters, e.g. name = \"checkout\""),
                ));
            }
            if out.iter().any(|o| o.name == name) {
                return Err(self.err(
                    &field,
                    format!("`{name}` is declared twice; name each workload once"),
                ));
            }
            let scenario = self.required(&format!("{prefix}.scenario"), w.scenario, "crud.toml")?;
            if escapes(&scenario) {
                return Err(self.err(
                    &format!("{prefix}.scenario"),
                    format!("`{scenario}` must be a path inside the contender directory, e.g. \"scenarios/checkout.toml\""),
                ));
            }
            out.push(CustomWorkload {
                name,
                scenario: PathBuf::from(scenario),
            });
        }
        Ok(out)
    }
}

/// Load every custom workload's scenario (relative to `dir`, the manifest's
/// directory): an error names the manifest, the workload and the scenario's own
/// error. `bakeoff run` drives it open-loop, where a think time has no meaning.
pub(super) fn check_scenarios(file: &Path, dir: &Path, m: &Manifest) -> R<()> {
    for (i, w) in m.workloads.iter().enumerate() {
        let field = format!("workloads[{i}].scenario");
        let scenario = crate::scenario::load(&dir.join(&w.scenario))
            .map_err(|e| invalid(file, &field, format!("workload `{}`: {e}", w.name)))?;
        if let Some(s) = scenario.sessions.iter().find(|s| s.think.is_some()) {
            return Err(invalid(
                file,
                &field,
                format!(
                    "workload `{}`: session `{}` has a think time, but `bakeoff run` measures open-loop (the rate sets when requests are sent); remove `think` from {}",
                    w.name,
                    s.name,
                    w.scenario.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{load, parse};
    use crate::model::Endpoint;
    use std::path::Path;

    const BASE: &str = r#"
name = "my-app"
language = "python"
runtime = "python3"
framework = "stdlib"
server = "http.server"
[setup]
kind = "none"
[start]
command = ["python3", "app.py", "{port}"]
"#;

    #[test]
    fn an_app_with_only_custom_workloads_needs_no_endpoints() {
        let text = format!("{BASE}[[workloads]]\nname = \"shop\"\nscenario = \"shop.toml\"\n");
        let m = parse(Path::new("bakeoff.toml"), &text).unwrap();
        assert_eq!(m.workloads.len(), 1);
        assert_eq!(m.workloads[0].name, "shop");
        assert_eq!(m.workloads[0].scenario, Path::new("shop.toml"));
        assert!(m.supported.is_empty());
        assert_eq!(m.unsupported.len(), Endpoint::ALL.len());
        assert!(m.unsupported[&Endpoint::Json].contains("[[workloads]]"));
        // Some built-in endpoints served, the rest implicitly not.
        let text = format!("{text}[endpoints]\nsupported = [\"json\"]\n");
        let m = parse(Path::new("bakeoff.toml"), &text).unwrap();
        assert_eq!(m.supported, [Endpoint::Json]);
        assert!(
            !m.unsupported.contains_key(&Endpoint::Json)
                && m.unsupported.contains_key(&Endpoint::Db)
        );
        // Without custom workloads the section stays required.
        let err = parse(Path::new("bakeoff.toml"), BASE).unwrap_err();
        assert_eq!(err.field(), Some("endpoints"), "{err}");
    }

    #[test]
    fn workload_mistakes_name_the_field_and_the_fix() {
        let err = |w: &str| {
            parse(Path::new("bakeoff.toml"), &format!("{BASE}{w}"))
                .unwrap_err()
                .to_string()
        };
        let one = |name: &str, scenario: &str| {
            format!("[[workloads]]\nname = \"{name}\"\nscenario = \"{scenario}\"\n")
        };
        let cases = [
            (
                one("json", "a.toml"),
                "workloads[0].name: `json` is a built-in workload",
            ),
            (one("Shop Flow", "a.toml"), "only a-z"),
            (
                one("crud", "a.toml"),
                "`crud` is a category of `bakeoff advise --mix`",
            ),
            (
                one("a", "a.toml") + &one("a", "b.toml"),
                "workloads[1].name: `a` is declared twice",
            ),
            (
                "[[workloads]]\nname = \"a\"\n".into(),
                "workloads[0].scenario: is required",
            ),
            (one("a", "../a.toml"), "inside the contender directory"),
            (
                one("a", "a.toml") + "weight = 2\n",
                "unknown key; allowed here: name, scenario",
            ),
        ];
        for (workloads, needle) in cases {
            let e = err(&workloads);
            assert!(e.contains(needle), "{needle:?} not in {e}");
        }
    }

    #[test]
    fn a_scenario_is_loaded_with_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bakeoff.toml");
        let write = |scenario: &str| {
            std::fs::write(
                &file,
                format!("{BASE}[[workloads]]\nname = \"shop\"\nscenario = \"{scenario}\"\n"),
            )
            .unwrap();
        };
        write("missing.toml");
        let e = load(&file).unwrap_err().to_string();
        assert!(
            e.contains("bakeoff.toml")
                && e.contains("workloads[0].scenario")
                && e.contains("workload `shop`")
                && e.contains("missing.toml")
                && e.contains("cannot read it"),
            "{e}"
        );
        std::fs::write(
            dir.path().join("bad.toml"),
            "[[request]]\nname = \"a\"\npath = \"x\"\n",
        )
        .unwrap();
        write("bad.toml");
        let e = load(&file).unwrap_err().to_string();
        assert!(e.contains("must start with /"), "{e}");
        let ok = "[[request]]\nname = \"a\"\npath = \"/a\"\n";
        std::fs::write(dir.path().join("ok.toml"), ok).unwrap();
        write("ok.toml");
        assert_eq!(load(&file).unwrap().workloads[0].name, "shop");
        // Sessions run open-loop in `bakeoff run`: a think time is refused.
        let session = format!("{ok}[[session]]\nname = \"s\"\nsteps = [\"a\"]\n");
        std::fs::write(dir.path().join("ok.toml"), &session).unwrap();
        assert!(
            load(&file).is_ok(),
            "a session without think runs open-loop"
        );
        std::fs::write(
            dir.path().join("ok.toml"),
            format!("{session}think = \"1s\"\n"),
        )
        .unwrap();
        let e = load(&file).unwrap_err().to_string();
        assert!(
            e.contains("session `s` has a think time") && e.contains("open-loop"),
            "{e}"
        );
    }
}
