//! A team's profile for the advisor: the workload mix, the team's skills, the
//! domain needs, the expected peak, the SLO and the score weights. Parsed from
//! flags and from a TOML file; every bad value is an error naming the key and
//! the fix.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::Language;
use crate::workload::Workload;

/// A use-case category of the mix, and the workloads that measure it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// JSON APIs: `json`, else `plaintext`.
    Api,
    /// Database CRUD: `db`, else `queries`, `updates`, `fortunes`.
    Crud,
    /// Waiting on other services: `io`.
    Io,
    /// CPU-heavy requests among light ones: `cpu-mixed`, else `cpu`.
    Cpu,
    /// Aggregation over a dataset: `data`.
    Data,
    /// Real-time WebSocket broadcast: `ws`.
    Realtime,
    /// A custom workload of the run (a contender's `[[workloads]]`), by name.
    Custom(String),
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Api,
        Category::Crud,
        Category::Io,
        Category::Cpu,
        Category::Data,
        Category::Realtime,
    ];

    pub fn name(&self) -> &str {
        match self {
            Category::Api => "api",
            Category::Crud => "crud",
            Category::Io => "io",
            Category::Cpu => "cpu",
            Category::Data => "data",
            Category::Realtime => "realtime",
            Category::Custom(name) => name,
        }
    }

    /// Workloads that measure this category, in order of preference.
    pub fn workloads(&self) -> Vec<Workload> {
        match self {
            Category::Api => vec![Workload::Json, Workload::Plaintext],
            Category::Crud => vec![
                Workload::Db,
                Workload::Queries,
                Workload::Updates,
                Workload::Fortunes,
            ],
            Category::Io => vec![Workload::Io],
            Category::Cpu => vec![Workload::CpuMixed, Workload::Cpu],
            Category::Data => vec![Workload::Data],
            Category::Realtime => vec![Workload::Ws],
            Category::Custom(name) => vec![Workload::Custom(name.clone())],
        }
    }

    /// The categories `run` measured (a cell of theirs is ok): the built-in
    /// ones, then each custom workload.
    pub fn measured(run: &crate::model::Run) -> Vec<Category> {
        let ok = |w: &Workload| {
            run.cells
                .iter()
                .any(|c| c.status.is_ok() && c.workload == *w)
        };
        let custom = run
            .settings
            .workloads
            .iter()
            .filter_map(|w| w.custom_name().map(|n| Category::Custom(n.to_string())));
        Category::ALL
            .into_iter()
            .chain(custom)
            .filter(|c| c.workloads().iter().any(ok))
            .collect()
    }

    /// A built-in category, or one of `custom` (the run's custom workloads) by name.
    fn parse(s: &str, custom: &[Category]) -> Result<Category, ProfileError> {
        Category::ALL
            .into_iter()
            .chain(custom.iter().cloned())
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                ProfileError::new(
                    "mix",
                    format!("unknown category `{s}`; use {}", names(custom)),
                )
            })
    }
}

/// The built-in categories, then the measured custom workloads among `known`.
fn names(known: &[Category]) -> String {
    let custom: Vec<&str> = known
        .iter()
        .filter(|c| matches!(c, Category::Custom(_)))
        .map(Category::name)
        .collect();
    let builtin = Category::ALL.map(|c| c.name().to_string()).join(", ");
    match custom.is_empty() {
        true => builtin,
        false => format!(
            "{builtin}, or a custom workload of the run: {}",
            custom.join(", ")
        ),
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Team {
    Js,
    Python,
    Both,
}

impl Team {
    pub fn parse(s: &str) -> Result<Team, ProfileError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "js" | "javascript" | "node" | "ts" | "typescript" => Ok(Team::Js),
            "python" | "py" => Ok(Team::Python),
            "both" => Ok(Team::Both),
            other => Err(ProfileError::new(
                "team",
                format!("`{other}` is not a team skill; use js, python or both"),
            )),
        }
    }

    /// Whether the team already writes `language`.
    pub fn speaks(self, language: &Language) -> bool {
        matches!(
            (self, language),
            (Team::Both, _) | (Team::Js, Language::Node) | (Team::Python, Language::Python)
        )
    }
}

/// Weights of the four grounds, in percent of the score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Weights {
    pub performance: f64,
    pub fit: f64,
    pub ecosystem: f64,
    pub learning: f64,
}

impl Default for Weights {
    /// Measured performance first, then fit to the use cases, then ecosystem and learning curve.
    fn default() -> Self {
        Weights {
            performance: 40.0,
            fit: 25.0,
            ecosystem: 20.0,
            learning: 15.0,
        }
    }
}

impl Weights {
    /// Apply overrides like `performance=50,learning=30` (other weights keep their defaults).
    pub fn with_overrides(
        mut self,
        overrides: &BTreeMap<String, f64>,
    ) -> Result<Weights, ProfileError> {
        for (k, &v) in overrides {
            if !v.is_finite() || v < 0.0 {
                return Err(ProfileError::new(
                    "weights",
                    format!("{k}={v}: a weight must be a number ≥ 0"),
                ));
            }
            match k.as_str() {
                "performance" => self.performance = v,
                "fit" => self.fit = v,
                "ecosystem" => self.ecosystem = v,
                "learning" => self.learning = v,
                other => {
                    return Err(ProfileError::new(
                        "weights",
                        format!(
                            "unknown weight `{other}`; use performance, fit, ecosystem, learning"
                        ),
                    ))
                }
            }
        }
        if self.total() <= 0.0 {
            return Err(ProfileError::new(
                "weights",
                "at least one weight must be above 0",
            ));
        }
        Ok(self)
    }

    pub fn total(&self) -> f64 {
        self.performance + self.fit + self.ecosystem + self.learning
    }
}

/// A validated profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamProfile {
    /// Percent per category; sums to 100.
    pub mix: BTreeMap<Category, f64>,
    pub team: Team,
    pub needs: Vec<String>,
    /// None: the capacity plan uses [`DEFAULT_PEAK_RPS`] and says so.
    pub peak_rps: Option<f64>,
    pub slo_p99_ms: Option<f64>,
    pub weights: Weights,
}

pub const DEFAULT_PEAK_RPS: f64 = 1000.0;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ProfileError {
    pub key: String,
    pub message: String,
}

impl ProfileError {
    fn new(key: &str, message: impl Into<String>) -> ProfileError {
        ProfileError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// The TOML profile file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    pub mix: Option<BTreeMap<String, f64>>,
    pub team: Option<String>,
    pub needs: Option<Vec<String>>,
    pub peak_rps: Option<f64>,
    pub slo_p99: Option<String>,
    pub weights: Option<BTreeMap<String, f64>>,
}

impl ProfileFile {
    pub fn parse(text: &str) -> Result<ProfileFile, ProfileError> {
        toml::from_str(text).map_err(|e| {
            ProfileError::new(
                "profile",
                format!(
                    "{}; valid keys are mix, team, needs, peak_rps, slo_p99, weights",
                    e.message()
                ),
            )
        })
    }
}

/// Raw inputs from flags and file (flags win); validated by [`Inputs::validate`].
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    pub mix: Option<BTreeMap<String, f64>>,
    pub team: Option<String>,
    pub needs: Vec<String>,
    pub peak_rps: Option<f64>,
    pub slo_p99: Option<String>,
    pub weights: Option<BTreeMap<String, f64>>,
}

impl Inputs {
    /// Fill what the flags left unset from the file.
    pub fn or_file(mut self, file: ProfileFile) -> Inputs {
        self.mix = self.mix.or(file.mix);
        self.team = self.team.or(file.team);
        if self.needs.is_empty() {
            self.needs = file.needs.unwrap_or_default();
        }
        self.peak_rps = self.peak_rps.or(file.peak_rps);
        self.slo_p99 = self.slo_p99.or(file.slo_p99);
        self.weights = self.weights.or(file.weights);
        self
    }

    /// Validate into a profile. A missing mix defaults to an even split over
    /// `default_mix` (the run's measured categories, whose custom workloads the
    /// mix may also name); a missing team to `both`.
    pub fn validate(
        self,
        default_mix: &[Category],
        known_needs: &[String],
    ) -> Result<TeamProfile, ProfileError> {
        let mix = match self.mix {
            Some(raw) => validate_mix(&raw, default_mix)?,
            None => {
                if default_mix.is_empty() {
                    return Err(ProfileError::new(
                        "mix",
                        format!(
                            "give a mix such as --mix io=50,api=50 ({})",
                            names(default_mix)
                        ),
                    ));
                }
                let share = 100.0 / default_mix.len() as f64;
                default_mix.iter().map(|c| (c.clone(), share)).collect()
            }
        };
        let team = match self.team {
            Some(t) => Team::parse(&t)?,
            None => Team::Both,
        };
        for n in &self.needs {
            if !known_needs.iter().any(|k| k == n) {
                return Err(ProfileError::new(
                    "needs",
                    format!(
                        "unknown need `{n}`; known needs: {}",
                        known_needs.join(", ")
                    ),
                ));
            }
        }
        if let Some(p) = self.peak_rps {
            if !p.is_finite() || p <= 0.0 {
                return Err(ProfileError::new(
                    "peak_rps",
                    format!(
                        "{p} is not a peak; give requests per second above 0, e.g. --peak-rps 2000"
                    ),
                ));
            }
        }
        let slo_p99_ms = match self.slo_p99 {
            Some(s) => Some(parse_slo(&s)?),
            None => None,
        };
        let weights = match self.weights {
            Some(w) => Weights::default().with_overrides(&w)?,
            None => Weights::default(),
        };
        Ok(TeamProfile {
            mix,
            team,
            needs: self.needs,
            peak_rps: self.peak_rps,
            slo_p99_ms,
            weights,
        })
    }
}

/// Parse `realtime=40,io=40,data=20`.
pub fn parse_pairs(s: &str, key: &str) -> Result<BTreeMap<String, f64>, ProfileError> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| {
            ProfileError::new(key, format!("`{part}` is not NAME=NUMBER, e.g. io=40"))
        })?;
        let v: f64 = v.trim().parse().map_err(|_| {
            ProfileError::new(key, format!("`{part}`: `{}` is not a number", v.trim()))
        })?;
        if out.insert(k.trim().to_string(), v).is_some() {
            return Err(ProfileError::new(
                key,
                format!("`{}` is given twice", k.trim()),
            ));
        }
    }
    if out.is_empty() {
        return Err(ProfileError::new(
            key,
            "is empty; give NAME=NUMBER pairs, e.g. io=40,api=60",
        ));
    }
    Ok(out)
}

fn validate_mix(
    raw: &BTreeMap<String, f64>,
    known: &[Category],
) -> Result<BTreeMap<Category, f64>, ProfileError> {
    let mut mix = BTreeMap::new();
    for (k, &v) in raw {
        let c = Category::parse(k, known)?;
        if !v.is_finite() || v < 0.0 {
            return Err(ProfileError::new(
                "mix",
                format!("{k}={v}: a share must be a percentage ≥ 0"),
            ));
        }
        if v > 0.0 {
            mix.insert(c, v);
        }
    }
    let sum: f64 = raw.values().sum();
    if (sum - 100.0).abs() > 0.01 {
        return Err(ProfileError::new(
            "mix",
            format!("the shares add up to {sum}, not 100; e.g. realtime=40,io=40,data=20"),
        ));
    }
    Ok(mix)
}

/// An SLO beyond this is not a latency objective (and would overflow later sums).
const MAX_SLO: Duration = Duration::from_secs(3600);

/// Parse an SLO like `100ms` or `0.25s` into milliseconds.
pub fn parse_slo(s: &str) -> Result<f64, ProfileError> {
    let d: Duration = humantime::parse_duration(s.trim())
        .map_err(|e| ProfileError::new("slo_p99", format!("`{s}`: {e}; write e.g. 100ms")))?;
    if d.is_zero() || d > MAX_SLO {
        return Err(ProfileError::new(
            "slo_p99",
            format!("`{s}` must be above 0 and at most 1h, e.g. 100ms"),
        ));
    }
    Ok(d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        vec!["ml".into(), "admin-ui".into()]
    }

    fn inputs(mix: &str) -> Inputs {
        Inputs {
            mix: Some(parse_pairs(mix, "mix").unwrap()),
            ..Inputs::default()
        }
    }

    #[test]
    fn a_good_profile_validates() {
        let p = inputs("realtime=40,io=40,data=20")
            .validate(&[], &known())
            .unwrap();
        assert_eq!(p.mix.len(), 3);
        assert_eq!(p.team, Team::Both);
        assert_eq!(p.weights, Weights::default());
    }

    #[test]
    fn a_mix_must_add_up_to_100() {
        let e = inputs("realtime=40,io=40")
            .validate(&[], &known())
            .unwrap_err();
        assert_eq!(e.key, "mix");
        assert!(e.message.contains("80"), "{e}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = inputs("cooking=100").validate(&[], &known()).unwrap_err();
        assert!(
            e.to_string().starts_with("mix: unknown category `cooking`"),
            "{e}"
        );
        let mut i = inputs("io=100");
        i.peak_rps = Some(-5.0);
        assert_eq!(i.validate(&[], &known()).unwrap_err().key, "peak_rps");
        let mut i = inputs("io=100");
        i.needs = vec!["blockchain".into()];
        assert_eq!(i.validate(&[], &known()).unwrap_err().key, "needs");
        let mut i = inputs("io=100");
        i.team = Some("rust".into());
        assert_eq!(i.validate(&[], &known()).unwrap_err().key, "team");
        assert_eq!(parse_pairs("io", "mix").unwrap_err().key, "mix");
        assert_eq!(parse_pairs("io=x", "mix").unwrap_err().key, "mix");
        assert!(parse_slo("0ms").is_err() && parse_slo("fast").is_err());
        assert_eq!(parse_slo("250ms").unwrap(), 250.0);
    }

    #[test]
    fn the_file_rejects_unknown_keys_and_flags_win() {
        let e = ProfileFile::parse("mix = { io = 100 }\ncolour = \"red\"\n").unwrap_err();
        assert!(e.message.contains("colour"), "{e}");
        let file =
            ProfileFile::parse("team = \"python\"\npeak_rps = 500.0\n[mix]\nio = 100\n").unwrap();
        let flags = Inputs {
            team: Some("js".into()),
            ..Inputs::default()
        };
        let p = flags.or_file(file).validate(&[], &known()).unwrap();
        assert_eq!(p.team, Team::Js);
        assert_eq!(p.peak_rps, Some(500.0));
    }

    #[test]
    fn weights_override_and_reject_nonsense() {
        let w = Weights::default()
            .with_overrides(&parse_pairs("performance=0,learning=85", "weights").unwrap())
            .unwrap();
        assert_eq!((w.performance, w.learning, w.fit), (0.0, 85.0, 25.0));
        assert!(Weights::default()
            .with_overrides(&parse_pairs("speed=1", "weights").unwrap())
            .is_err());
        assert!(Weights::default()
            .with_overrides(&parse_pairs("fit=-1", "weights").unwrap())
            .is_err());
    }

    #[test]
    fn a_missing_mix_splits_evenly_over_the_default() {
        let p = Inputs::default()
            .validate(&[Category::Io, Category::Api], &known())
            .unwrap();
        assert_eq!(
            p.mix.values().copied().collect::<Vec<_>>(),
            vec![50.0, 50.0]
        );
        assert!(Inputs::default().validate(&[], &known()).is_err());
    }

    /// A custom workload the run measured is a category of the mix by its
    /// name; one it did not measure is unknown, and the error lists the ones it did.
    #[test]
    fn a_measured_custom_workload_is_a_category() {
        let shop = Category::Custom("shop".into());
        let measured = [Category::Io, shop.clone()];
        let p = inputs("shop=70,io=30")
            .validate(&measured, &known())
            .unwrap();
        assert_eq!(p.mix[&shop], 70.0);
        assert_eq!(shop.workloads(), [Workload::Custom("shop".into())]);
        assert_eq!(serde_json::to_value(&p.mix).unwrap()["shop"], 70.0);
        let e = inputs("login=100")
            .validate(&measured, &known())
            .unwrap_err();
        assert!(
            e.message.contains("unknown category `login`")
                && e.message.contains("a custom workload of the run: shop"),
            "{e}"
        );
    }
}
