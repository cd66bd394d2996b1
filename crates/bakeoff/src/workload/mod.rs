//! The workloads: which contract endpoints each one exercises and with what
//! request mix, plus the upstream service (`upstream`) and the contract
//! verifier (`verify`).

use std::fmt;

use crate::model::{Endpoint, UnknownName};

pub mod upstream;
pub mod verify;

/// A workload: one of bakeoff's own, each modelling one of the blog's use cases,
/// or a custom one known by its name.
///
/// Its text is [`Workload::name`]; [`Workload::parse`] (and `FromStr`) accept only
/// the built-in names, for what a user types, while [`Workload::from_name`] (and
/// serde) turn any other name into [`Workload::Custom`], for what a store or a
/// JSON document written elsewhere holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    Plaintext,
    Json,
    Db,
    Queries,
    Fortunes,
    Updates,
    Io,
    Cpu,
    CpuMixed,
    Data,
    Ws,
    Startup,
    /// A workload bakeoff does not define: user-defined, or written by another
    /// bakeoff version. Never a built-in name: build it with [`Workload::from_name`].
    /// It has no endpoints or request mix of its own here.
    Custom(String),
}

/// One request kind in a workload's mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedRequest {
    /// Label for per-class statistics, e.g. "light" and "heavy" in `cpu-mixed`.
    pub class: &'static str,
    /// Path and query, e.g. "/io?ms=50".
    pub path: String,
    pub weight: u32,
}

/// Regions of the generated sales dataset (see docs/contract.md).
pub const REGIONS: [&str; 7] = [
    "africa",
    "asia",
    "europe",
    "latin-america",
    "middle-east",
    "north-america",
    "oceania",
];

impl Workload {
    /// The built-in workloads.
    pub const ALL: [Workload; 12] = [
        Workload::Plaintext,
        Workload::Json,
        Workload::Db,
        Workload::Queries,
        Workload::Fortunes,
        Workload::Updates,
        Workload::Io,
        Workload::Cpu,
        Workload::CpuMixed,
        Workload::Data,
        Workload::Ws,
        Workload::Startup,
    ];

    /// The workload's text in the CLI, the store and every JSON document.
    pub fn name(&self) -> &str {
        match self {
            Workload::Plaintext => "plaintext",
            Workload::Json => "json",
            Workload::Db => "db",
            Workload::Queries => "queries",
            Workload::Fortunes => "fortunes",
            Workload::Updates => "updates",
            Workload::Io => "io",
            Workload::Cpu => "cpu",
            Workload::CpuMixed => "cpu-mixed",
            Workload::Data => "data",
            Workload::Ws => "ws",
            Workload::Startup => "startup",
            Workload::Custom(name) => name,
        }
    }

    /// A custom workload's name, or `None` for a built-in one.
    pub fn custom_name(&self) -> Option<&str> {
        match self {
            Workload::Custom(name) => Some(name),
            _ => None,
        }
    }

    /// What a rate of this workload counts: messages for `ws`, else requests.
    pub fn rate_unit(&self) -> RateUnit {
        match self {
            Workload::Ws => RateUnit::Messages,
            _ => RateUnit::Requests,
        }
    }

    /// A built-in workload by name; any other name is an error that lists them.
    pub fn parse(s: &str) -> Result<Workload, UnknownName> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| UnknownName {
                what: "workload",
                name: s.to_string(),
                expected: Workload::ALL.map(|w| w.name().to_string()).join(", "),
            })
    }

    /// The workload of this name: a built-in one, else [`Workload::Custom`].
    pub fn from_name(s: &str) -> Workload {
        Workload::parse(s).unwrap_or_else(|_| Workload::Custom(s.to_string()))
    }

    /// Whether its launches get the dataset (`BAKEOFF_DATA`): `data` reads it,
    /// and a custom workload's scenario may call any endpoint, `/data`
    /// included. The contract gives the dataset to no other launch, since
    /// loading it costs start-up time and memory.
    pub fn needs_dataset(&self) -> bool {
        matches!(self, Workload::Data | Workload::Custom(_))
    }

    /// Whether the workload reads the database (SQLite or PostgreSQL).
    pub fn uses_database(&self) -> bool {
        matches!(
            self,
            Workload::Db | Workload::Queries | Workload::Fortunes | Workload::Updates
        )
    }

    /// The contract endpoints (manifest `endpoints.supported` names) this workload needs.
    pub fn endpoints(&self) -> &'static [Endpoint] {
        match self {
            Workload::Plaintext => &[Endpoint::Plaintext],
            Workload::Json => &[Endpoint::Json],
            Workload::Db => &[Endpoint::Db],
            Workload::Queries => &[Endpoint::Queries],
            Workload::Fortunes => &[Endpoint::Fortunes],
            Workload::Updates => &[Endpoint::Updates],
            Workload::Io => &[Endpoint::Io],
            Workload::Cpu => &[Endpoint::Cpu],
            Workload::CpuMixed => &[Endpoint::Json, Endpoint::Cpu],
            Workload::Data => &[Endpoint::Data],
            Workload::Ws => &[Endpoint::Ws],
            Workload::Startup | Workload::Custom(_) => &[],
        }
    }

    /// The HTTP request mix; empty for `ws` and `startup`, which are driven differently.
    pub fn requests(&self) -> Vec<WeightedRequest> {
        let one = |path: &str| {
            vec![WeightedRequest {
                class: "all",
                path: path.to_string(),
                weight: 1,
            }]
        };
        match self {
            Workload::Plaintext => one("/plaintext"),
            Workload::Json => one("/json"),
            Workload::Db => one("/db"),
            Workload::Queries => one("/queries?queries=20"),
            Workload::Fortunes => one("/fortunes"),
            Workload::Updates => one("/updates?queries=5"),
            Workload::Io => one(&format!("/io?ms={IO_WAIT_MS}")),
            Workload::Cpu => one(&format!("/cpu?n={CPU_N}")),
            Workload::CpuMixed => vec![
                WeightedRequest {
                    class: "light",
                    path: "/json".to_string(),
                    weight: 9,
                },
                WeightedRequest {
                    class: "heavy",
                    path: format!("/cpu?n={CPU_N}"),
                    weight: 1,
                },
            ],
            Workload::Data => REGIONS
                .iter()
                .map(|r| WeightedRequest {
                    class: "all",
                    path: format!("/data?region={r}"),
                    weight: 1,
                })
                .collect(),
            Workload::Ws | Workload::Startup | Workload::Custom(_) => Vec::new(),
        }
    }
}

/// `/io?ms=` for the `io` workload: the upstream's delay per request.
pub const IO_WAIT_MS: u32 = 50;

/// `/cpu?n=` for the CPU workloads: a few milliseconds of trial division per request.
pub const CPU_N: u32 = 30_000;

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Workload {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Workload, UnknownName> {
        Workload::parse(s)
    }
}

impl serde::Serialize for Workload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Lenient, as [`Workload::from_name`]: a document from another bakeoff still reads.
impl<'de> serde::Deserialize<'de> for Workload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Workload, D::Error> {
        let name = String::deserialize(d)?;
        Ok(Workload::from_name(&name))
    }
}

crate::model::open_schema!(Workload, "A workload", Workload::ALL);

/// What a workload's rate counts: requests for HTTP, messages into a room
/// (each fanned out to its clients) for `ws`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateUnit {
    Requests,
    Messages,
}

impl RateUnit {
    pub const ALL: [RateUnit; 2] = [RateUnit::Requests, RateUnit::Messages];

    /// "req/s" or "msg/s".
    pub fn as_str(self) -> &'static str {
        match self {
            RateUnit::Requests => "req/s",
            RateUnit::Messages => "msg/s",
        }
    }
}

crate::model::text_enum!(RateUnit, "rate unit");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.name()).unwrap(), w);
            assert_eq!(w.to_string().parse::<Workload>().unwrap(), w);
            assert_eq!(Workload::from_name(w.name()), w);
            assert_eq!(w.custom_name(), None);
        }
        let err = Workload::parse("nope").unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("cpu-mixed"), "{err}");
    }

    #[test]
    fn an_unknown_name_is_a_custom_workload_that_round_trips() {
        let w = Workload::from_name("checkout-flow");
        assert_eq!(w, Workload::Custom("checkout-flow".into()));
        assert_eq!(w.name(), "checkout-flow");
        assert_eq!(w.to_string(), "checkout-flow");
        assert_eq!(w.custom_name(), Some("checkout-flow"));
        // A user's typing is checked; only stored text becomes custom.
        assert!("checkout-flow".parse::<Workload>().is_err());
        assert!(w.endpoints().is_empty() && w.requests().is_empty());
    }

    #[test]
    fn serde_uses_the_same_names() {
        let mut all: Vec<Workload> = Workload::ALL.to_vec();
        all.push(Workload::Custom("checkout-flow".into()));
        for w in all {
            let json = serde_json::to_string(&w).unwrap();
            assert_eq!(json, format!("\"{}\"", w.name()));
            assert_eq!(serde_json::from_str::<Workload>(&json).unwrap(), w);
        }
    }
}
