//! The workloads: which contract endpoints each one exercises and with what
//! request mix, plus the upstream service (`upstream`) and the contract
//! verifier (`verify`).

use std::fmt;

pub mod upstream;
pub mod verify;

/// A workload modelling one of the blog's use cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

#[derive(Debug, thiserror::Error)]
#[error("unknown workload `{0}`; expected one of: {names}", names = Workload::ALL.iter().map(|w| w.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownWorkload(pub String);

impl Workload {
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

    pub fn name(self) -> &'static str {
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
        }
    }

    /// What a rate of this workload counts: messages for `ws`, else requests.
    pub fn rate_unit(self) -> &'static str {
        match self {
            Workload::Ws => "msg/s",
            _ => "req/s",
        }
    }

    pub fn parse(s: &str) -> Result<Workload, UnknownWorkload> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| UnknownWorkload(s.to_string()))
    }

    /// The contract endpoints (manifest `endpoints.supported` names) this workload needs.
    /// Whether the workload reads the database (SQLite or PostgreSQL).
    pub fn uses_database(self) -> bool {
        matches!(
            self,
            Workload::Db | Workload::Queries | Workload::Fortunes | Workload::Updates
        )
    }

    pub fn endpoints(self) -> &'static [&'static str] {
        match self {
            Workload::Plaintext => &["plaintext"],
            Workload::Json => &["json"],
            Workload::Db => &["db"],
            Workload::Queries => &["queries"],
            Workload::Fortunes => &["fortunes"],
            Workload::Updates => &["updates"],
            Workload::Io => &["io"],
            Workload::Cpu => &["cpu"],
            Workload::CpuMixed => &["json", "cpu"],
            Workload::Data => &["data"],
            Workload::Ws => &["ws"],
            Workload::Startup => &[],
        }
    }

    /// The HTTP request mix; empty for `ws` and `startup`, which are driven differently.
    pub fn requests(self) -> Vec<WeightedRequest> {
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
            Workload::Io => one("/io?ms=50"),
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
            Workload::Ws | Workload::Startup => Vec::new(),
        }
    }
}

/// `/cpu?n=` for the CPU workloads: a few milliseconds of trial division per request.
pub const CPU_N: u32 = 30_000;

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.name()).unwrap(), w);
        }
        let err = Workload::parse("nope").unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("cpu-mixed"), "{err}");
    }
}
