//! The open-files limit a load's connections count against: each connection is
//! a descriptor here and another in the server, and a default soft limit of
//! 1,024 runs out at a few hundred connections once a workload's upstream
//! calls hold sockets too.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// The soft limit on open files, `None` when unlimited.
pub fn open_files_limit() -> Option<u64> {
    getrlimit(Resource::Nofile).current
}

/// Raise the soft limit on open files to the hard one, as Go's runtime does
/// at start: the hard limit is what the administrator allows, the soft one
/// only a default. Children started afterwards inherit it (the contenders
/// hold a socket a connection too). The limit in force afterwards; an
/// unchanged one if it could not be raised.
pub fn raise_open_files_limit() -> Option<u64> {
    if let Some(raised) = raised(getrlimit(Resource::Nofile)) {
        // Refused (a sandbox): the limit stays as it was, and says so below.
        let _ = setrlimit(Resource::Nofile, raised);
    }
    open_files_limit()
}

/// The limit to set, if any: the soft one up to a finite hard one. (Linux
/// caps open files at `fs.nr_open`, and takes no unlimited value for them.)
fn raised(limit: Rlimit) -> Option<Rlimit> {
    match (limit.current, limit.maximum) {
        (Some(soft), Some(hard)) if soft < hard => Some(Rlimit {
            current: Some(hard),
            maximum: Some(hard),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(current: Option<u64>, maximum: Option<u64>) -> Rlimit {
        Rlimit { current, maximum }
    }

    #[test]
    fn the_soft_limit_rises_to_a_finite_hard_one() {
        let up = raised(limit(Some(1_024), Some(524_288))).expect("raised");
        assert_eq!((up.current, up.maximum), (Some(524_288), Some(524_288)));
        assert!(raised(limit(Some(4_096), Some(4_096))).is_none());
        assert!(raised(limit(Some(1_024), None)).is_none());
        assert!(raised(limit(None, None)).is_none());
    }

    /// In this process: never lower than it was.
    #[test]
    fn raising_keeps_at_least_the_limit_there_was() {
        let before = getrlimit(Resource::Nofile);
        let after = raise_open_files_limit();
        assert!(after >= before.current || after.is_none(), "{after:?}");
        assert_eq!(after, before.maximum.or(before.current));
    }
}
