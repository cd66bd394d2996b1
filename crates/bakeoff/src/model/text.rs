//! The one table between the model's kinds and their text.
//!
//! A closed kind (a run's status, a trial's outcome, …) lists its values in `ALL`
//! and names each in `as_str`; [`text_enum!`] derives `parse`, `Display`,
//! `FromStr` and serde from those two, so the store, the JSON documents and the
//! reports cannot disagree on a name. Open kinds ([`Language`] here,
//! [`crate::workload::Workload`]) keep a variant for any other name, so text
//! written by another bakeoff reads back instead of failing.

/// Text that names none of a kind's known values (a closed kind, or the built-in workloads).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}`; expected one of: {expected}")]
pub struct UnknownName {
    /// The kind, e.g. "trial outcome".
    pub what: &'static str,
    pub name: String,
    /// The valid names, comma-separated.
    pub expected: String,
}

/// `parse`, `Display`, `FromStr`, `Serialize` and `Deserialize` for a closed
/// enum, all through its `ALL` and `as_str` (the one table of its text).
macro_rules! text_enum {
    ($t:ty, $what:literal) => {
        impl $t {
            /// The value named `s`, if any (see `as_str`).
            pub fn parse(s: &str) -> Option<$t> {
                <$t>::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $t {
            type Err = $crate::model::UnknownName;

            fn from_str(s: &str) -> Result<$t, Self::Err> {
                <$t>::parse(s).ok_or_else(|| $crate::model::UnknownName {
                    what: $what,
                    name: s.to_string(),
                    expected: <$t>::ALL
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let name = String::deserialize(d)?;
                name.parse().map_err(serde::de::Error::custom)
            }
        }

        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($t).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let names: Vec<&str> = <$t>::ALL.iter().map(|v| v.as_str()).collect();
                schemars::json_schema!({ "type": "string", "enum": names })
            }
        }
    };
}
pub(crate) use text_enum;

/// `Display`, `FromStr`, `Serialize` and `Deserialize` for an open kind: every
/// name is a value (`from_name`), written back as it was read (`name`).
macro_rules! open_text {
    ($t:ty) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $t {
            type Err = std::convert::Infallible;

            fn from_str(s: &str) -> Result<$t, Self::Err> {
                Ok(<$t>::from_name(s))
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                Ok(<$t>::from_name(
                    &<String as serde::Deserialize>::deserialize(d)?,
                ))
            }
        }
    };
}
pub(crate) use open_text;

/// The JSON Schema of an open kind: any string, its known names (`$known`, each
/// with a `name()`) listed in the description.
macro_rules! open_schema {
    ($t:ty, $what:literal, $known:expr) => {
        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($t).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let known: Vec<String> = $known.iter().map(|v| v.name().to_string()).collect();
                let description = format!(
                    "{}: {}, or any other name (read back as it is)",
                    $what,
                    known.join(", ")
                );
                schemars::json_schema!({ "type": "string", "description": description })
            }
        }
    };
}
pub(crate) use open_schema;

/// A contender's language: what the verdict compares ("Node.js vs Python").
///
/// Its text is [`Language::name`]; any name other than `node` and `python` is
/// [`Language::Other`], so every manifest's language reads and round-trips.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Node,
    Python,
    /// Any other language, by its name (empty when unknown). Never `node` or
    /// `python`: build it with [`Language::from_name`].
    Other(String),
}

impl Language {
    /// The languages the verdict compares.
    pub const COMPARED: [Language; 2] = [Language::Node, Language::Python];

    /// The language's text in manifests, the store and every JSON document.
    pub fn name(&self) -> &str {
        match self {
            Language::Node => "node",
            Language::Python => "python",
            Language::Other(name) => name,
        }
    }

    /// The language of this name; any name is one (see [`Language::Other`]).
    pub fn from_name(s: &str) -> Language {
        Language::COMPARED
            .into_iter()
            .find(|l| l.name() == s)
            .unwrap_or_else(|| Language::Other(s.to_string()))
    }

    /// How prose names it: "Node.js", "Python", or the name itself.
    pub fn label(&self) -> &str {
        match self {
            Language::Node => "Node.js",
            Language::Python => "Python",
            Language::Other(name) => name,
        }
    }
}

/// An unknown language, as a contender with no manifest language has.
impl Default for Language {
    fn default() -> Language {
        Language::Other(String::new())
    }
}

open_text!(Language);
open_schema!(Language, "A language", Language::COMPARED);

#[cfg(test)]
mod tests {
    use std::fmt;

    use serde::Serialize;

    use super::*;
    use crate::model::{Interval, RunStatus, StepPhase, StepVerdict, TrialOutcome};

    /// Every value through its text and back, by `FromStr` and by serde.
    fn round_trips<T>(all: &[T])
    where
        T: fmt::Display + std::str::FromStr + Serialize + serde::de::DeserializeOwned,
        T: PartialEq + fmt::Debug,
        T::Err: fmt::Debug,
    {
        for v in all {
            let text = v.to_string();
            assert_eq!(&text.parse::<T>().unwrap(), v, "{text}");
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v, "{json}");
        }
    }

    #[test]
    fn closed_kinds_round_trip_through_one_table() {
        round_trips(&RunStatus::ALL);
        round_trips(&Interval::ALL);
        round_trips(&TrialOutcome::ALL);
        round_trips(&StepPhase::ALL);
        round_trips(&StepVerdict::ALL);
        // The names the store and the JSON documents have always used.
        assert_eq!(Interval::TInterval95.to_string(), "t_interval_95");
        assert_eq!(TrialOutcome::NoCapacity.to_string(), "no_capacity");
        assert_eq!(RunStatus::Interrupted.to_string(), "interrupted");
    }

    #[test]
    fn closed_kinds_reject_an_unknown_name_and_say_what_fits() {
        let err = "bogus".parse::<StepVerdict>().unwrap_err();
        assert_eq!(err.what, "step verdict");
        let msg = err.to_string();
        assert!(
            msg.contains("`bogus`") && msg.contains("generator_limited"),
            "{msg}"
        );
        assert!(serde_json::from_str::<TrialOutcome>("\"bogus\"").is_err());
    }

    #[test]
    fn languages_round_trip_and_others_are_kept() {
        round_trips(&[
            Language::Node,
            Language::Python,
            Language::Other("ruby".into()),
        ]);
        assert_eq!(Language::from_name("node"), Language::Node);
        assert_eq!(Language::from_name("python"), Language::Python);
        assert_eq!(Language::from_name("ruby"), Language::Other("ruby".into()));
        assert_eq!(Language::Node.label(), "Node.js");
        assert_eq!(Language::default().name(), "");
    }
}
