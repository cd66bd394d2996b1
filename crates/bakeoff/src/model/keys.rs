//! The typed keys of the model's maps: a contender's contract endpoints
//! ([`Endpoint`], the keys of `unsupported`) and what an environment's
//! `runtimes` entry describes ([`RuntimeKey`]). Their text is here and nowhere
//! else; the store and the JSON documents write it.

use std::cmp::Ordering;

use super::text::{open_schema, open_text, text_enum};
use super::Language;
use crate::workload::Workload;

/// A contract endpoint: a path a contender serves (`/json`), as named in a
/// manifest's `endpoints.supported` and `[endpoints.unsupported]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Plaintext,
    Json,
    Db,
    Queries,
    Fortunes,
    Updates,
    Io,
    Cpu,
    Data,
    Ws,
}

impl Endpoint {
    /// Every endpoint, in the contract's order.
    pub const ALL: [Endpoint; 10] = [
        Endpoint::Plaintext,
        Endpoint::Json,
        Endpoint::Db,
        Endpoint::Queries,
        Endpoint::Fortunes,
        Endpoint::Updates,
        Endpoint::Io,
        Endpoint::Cpu,
        Endpoint::Data,
        Endpoint::Ws,
    ];

    /// The endpoint's name in manifests, the store and the JSON documents (its
    /// path without the slash).
    pub const fn as_str(self) -> &'static str {
        match self {
            Endpoint::Plaintext => "plaintext",
            Endpoint::Json => "json",
            Endpoint::Db => "db",
            Endpoint::Queries => "queries",
            Endpoint::Fortunes => "fortunes",
            Endpoint::Updates => "updates",
            Endpoint::Io => "io",
            Endpoint::Cpu => "cpu",
            Endpoint::Data => "data",
            Endpoint::Ws => "ws",
        }
    }

    /// The workload of the same name, which measures this endpoint alone.
    pub fn workload(self) -> Workload {
        match self {
            Endpoint::Plaintext => Workload::Plaintext,
            Endpoint::Json => Workload::Json,
            Endpoint::Db => Workload::Db,
            Endpoint::Queries => Workload::Queries,
            Endpoint::Fortunes => Workload::Fortunes,
            Endpoint::Updates => Workload::Updates,
            Endpoint::Io => Workload::Io,
            Endpoint::Cpu => Workload::Cpu,
            Endpoint::Data => Workload::Data,
            Endpoint::Ws => Workload::Ws,
        }
    }
}
text_enum!(Endpoint, "endpoint");

/// By name: the order maps keyed by endpoint have always been written in.
impl Ord for Endpoint {
    fn cmp(&self, o: &Endpoint) -> Ordering {
        self.as_str().cmp(o.as_str())
    }
}

impl PartialOrd for Endpoint {
    fn partial_cmp(&self, o: &Endpoint) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// What an [`Environment`](super::Environment) `runtimes` entry describes. An
/// open kind: any other name is a language's runtime ([`RuntimeKey::Runtime`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RuntimeKey {
    /// A language's runtime version, e.g. node → v20.20.2.
    Runtime(Language),
    /// The PostgreSQL server of a `--database postgres` run.
    Postgresql,
    /// Each app process's PostgreSQL pool size on such a run.
    PostgresqlPool,
    /// The Python interpreters found on the machine (for `--python`).
    PythonInterpreters,
    /// How many connections the generator's windows open (the rule, and the
    /// open-files limit it fits in).
    GeneratorConnections,
}

impl RuntimeKey {
    /// The entries that are not a language's runtime.
    pub const OTHERS: [RuntimeKey; 4] = [
        RuntimeKey::Postgresql,
        RuntimeKey::PostgresqlPool,
        RuntimeKey::PythonInterpreters,
        RuntimeKey::GeneratorConnections,
    ];

    /// The entry's name in the store, the JSON documents and the reports.
    pub fn name(&self) -> &str {
        match self {
            RuntimeKey::Runtime(language) => language.name(),
            RuntimeKey::Postgresql => "postgresql",
            RuntimeKey::PostgresqlPool => "postgresql pool per process",
            RuntimeKey::PythonInterpreters => "python interpreters found",
            RuntimeKey::GeneratorConnections => "generator connections",
        }
    }

    /// The entry of this name; any other name is a language's runtime.
    pub fn from_name(s: &str) -> RuntimeKey {
        RuntimeKey::OTHERS
            .into_iter()
            .find(|k| k.name() == s)
            .unwrap_or_else(|| RuntimeKey::Runtime(Language::from_name(s)))
    }
}

/// By name, as the reports and the store have always listed the entries.
impl Ord for RuntimeKey {
    fn cmp(&self, o: &RuntimeKey) -> Ordering {
        self.name().cmp(o.name())
    }
}

impl PartialOrd for RuntimeKey {
    fn partial_cmp(&self, o: &RuntimeKey) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

open_text!(RuntimeKey);
open_schema!(
    RuntimeKey,
    "An environment entry",
    [
        RuntimeKey::Runtime(Language::Node),
        RuntimeKey::Runtime(Language::Python),
        RuntimeKey::Postgresql,
        RuntimeKey::PostgresqlPool,
        RuntimeKey::PythonInterpreters,
        RuntimeKey::GeneratorConnections,
    ]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_round_trip_and_name_their_workload() {
        for e in Endpoint::ALL {
            assert_eq!(e.as_str().parse::<Endpoint>().unwrap(), e);
            assert_eq!(e.workload().name(), e.as_str());
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{e}\""));
        }
        let err = "nope".parse::<Endpoint>().unwrap_err().to_string();
        assert!(err.contains("`nope`") && err.contains("plaintext"), "{err}");
    }

    #[test]
    fn runtime_keys_round_trip_as_map_keys_in_name_order() {
        let map: std::collections::BTreeMap<RuntimeKey, String> = [
            (RuntimeKey::PythonInterpreters, "3.11.7".to_string()),
            (RuntimeKey::Runtime(Language::Python), "3.11.7".into()),
            (RuntimeKey::Runtime(Language::Node), "v20.20.2".into()),
            (RuntimeKey::Postgresql, "PostgreSQL 15.6".into()),
            (
                RuntimeKey::Runtime(Language::Other("ruby".into())),
                "3.3".into(),
            ),
        ]
        .into_iter()
        .collect();
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(
            json,
            r#"{"node":"v20.20.2","postgresql":"PostgreSQL 15.6","python":"3.11.7","python interpreters found":"3.11.7","ruby":"3.3"}"#
        );
        let back: std::collections::BTreeMap<RuntimeKey, String> =
            serde_json::from_str(&json).unwrap();
        assert_eq!(back, map);
        assert_eq!(
            RuntimeKey::from_name("postgresql pool per process"),
            RuntimeKey::PostgresqlPool
        );
    }
}
