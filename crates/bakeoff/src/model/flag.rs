//! A cell's flags: what the suite noticed about a measurement.
//!
//! An open kind, like [`super::Language`]: a name this bakeoff does not know (a
//! flag of an older or newer version) is kept as [`Flag::Other`]. Flags order
//! by name, the order the store and the JSON documents have always listed them in.

use std::cmp::Ordering;

/// One of a cell's flags; their meanings are in `report::table::flag_meaning`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Flag {
    /// Trials disagree by more than 10% (coefficient of variation).
    Noisy,
    /// The load generator shared CPUs with the contender's workers.
    Contended,
    /// The generator could not send at the target rate.
    GeneratorLimited,
    /// No clean window could be had.
    MachineNoisy,
    /// The search stopped before its resolution.
    Truncated,
    /// The engine's counts disagree with an independent count.
    Inconsistent,
    /// A probe read the machine slower around a search (a warning: on a
    /// steady host hardly more often a slower search than an unflagged one).
    Drift,
    /// Windows were judged with steal only the run's raised limit let through.
    StealTolerated,
    /// The machine stalled every attempt at an equal-load window (or a
    /// WebSocket point): those figures are left out of verdicts.
    EqualLoadStalled,
    /// The equal-load rate was set without this cell's capacity (no clean
    /// trial, no failed window), or the cell met the SLO at no rate: its
    /// figures there are left out of verdicts.
    EqualLoadUnbased,
    /// A trial's server answered mostly with errors even at the lowest rate:
    /// it is failing, not slow, and the cell is left out of verdicts.
    Failing,
    /// The run was stopped (Ctrl-C) before the cell was finished: what it
    /// measured is kept, and left out of verdicts.
    Interrupted,
    /// A flag this bakeoff does not know, by its name. Never one of the names
    /// above: build it with [`Flag::from_name`].
    Other(String),
}

impl Flag {
    /// The flags this bakeoff raises.
    pub const KNOWN: [Flag; 12] = [
        Flag::Noisy,
        Flag::Contended,
        Flag::GeneratorLimited,
        Flag::MachineNoisy,
        Flag::Truncated,
        Flag::Inconsistent,
        Flag::Drift,
        Flag::StealTolerated,
        Flag::EqualLoadStalled,
        Flag::EqualLoadUnbased,
        Flag::Failing,
        Flag::Interrupted,
    ];

    /// The flag's text in the store, the JSON documents and the reports.
    pub fn name(&self) -> &str {
        match self {
            Flag::Noisy => "noisy",
            Flag::Contended => "contended",
            Flag::GeneratorLimited => "generator-limited",
            Flag::MachineNoisy => "machine-noisy",
            Flag::Truncated => "truncated",
            Flag::Inconsistent => "inconsistent",
            Flag::Drift => "drift",
            Flag::StealTolerated => "steal-tolerated",
            Flag::EqualLoadStalled => "equal-load-stalled",
            Flag::EqualLoadUnbased => "equal-load-unbased",
            Flag::Failing => "failing",
            Flag::Interrupted => "interrupted",
            Flag::Other(name) => name,
        }
    }

    /// The flag of this name; any name is one (see [`Flag::Other`]).
    pub fn from_name(s: &str) -> Flag {
        Flag::KNOWN
            .into_iter()
            .find(|f| f.name() == s)
            .unwrap_or_else(|| Flag::Other(s.to_string()))
    }

    /// The flags' names joined by `sep`, e.g. "noisy, contended".
    pub fn list(flags: &[Flag], sep: &str) -> String {
        flags.iter().map(Flag::name).collect::<Vec<_>>().join(sep)
    }
}

impl Ord for Flag {
    fn cmp(&self, o: &Flag) -> Ordering {
        self.name()
            .cmp(o.name())
            .then_with(|| matches!(self, Flag::Other(_)).cmp(&matches!(o, Flag::Other(_))))
    }
}

impl PartialOrd for Flag {
    fn partial_cmp(&self, o: &Flag) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

super::text::open_text!(Flag);
super::text::open_schema!(Flag, "A flag", Flag::KNOWN);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_and_unknown_ones_are_kept() {
        let mut all = Flag::KNOWN.to_vec();
        all.push(Flag::Other("littles-law".into()));
        for f in &all {
            assert_eq!(&f.name().parse::<Flag>().unwrap(), f);
            let json = serde_json::to_string(f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.name()));
            assert_eq!(&serde_json::from_str::<Flag>(&json).unwrap(), f);
        }
        assert_eq!(Flag::from_name("drift"), Flag::Drift);
    }

    #[test]
    fn flags_order_by_name() {
        let mut set: Vec<Flag> = Flag::KNOWN.to_vec();
        set.sort();
        let names: Vec<&str> = set.iter().map(Flag::name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }
}
