//! End-of-life dates of the runtimes the contenders run on, so a report can say
//! when the runtime it measured no longer gets security fixes.
//!
//! Sources (checked 2026-11-30; update when a new line is scheduled):
//! - Node.js: the release schedule, <https://nodejs.org/en/about/previous-releases>
//!   and <https://github.com/nodejs/Release#release-schedule> ("End-of-life").
//! - CPython: the status of Python versions, <https://devguide.python.org/versions/>
//!   (its "End of life" column gives the month; a line is past it after that month).

/// Node.js major -> last day of maintenance (YYYY-MM-DD).
pub const NODE: &[(u32, &str)] = &[
    (18, "2025-04-30"),
    (19, "2023-06-01"),
    (20, "2026-04-30"),
    (21, "2024-06-01"),
    (22, "2027-04-30"),
    (23, "2025-06-01"),
    (24, "2028-04-30"),
    (25, "2026-06-01"),
    (26, "2029-04-30"),
];

/// CPython minor -> end-of-life month (YYYY-MM).
pub const PYTHON: &[((u32, u32), &str)] = &[
    ((3, 8), "2024-10"),
    ((3, 9), "2025-10"),
    ((3, 10), "2026-10"),
    ((3, 11), "2027-10"),
    ((3, 12), "2028-10"),
    ((3, 13), "2029-10"),
    ((3, 14), "2030-10"),
];

/// The end of life of a runtime version, as the table has it: `language` is
/// "node" (version "v20.20.2") or "python" (CPython "3.11.7"); None when the
/// table does not list it (PyPy included: its support follows its own releases).
pub fn end_of_life(language: &str, version: &str) -> Option<&'static str> {
    let (major, minor) = super::version::parse_version(version)?;
    match language {
        "node" => NODE.iter().find(|(m, _)| *m == major).map(|(_, d)| *d),
        "python" => PYTHON
            .iter()
            .find(|(v, _)| *v == (major, minor))
            .map(|(_, d)| *d),
        _ => None,
    }
}

/// Whether `today` (YYYY-MM-DD, e.g. a run's start) is past the end of life
/// `eol` (a day, or a month meaning its last day).
pub fn is_past(eol: &str, today: &str) -> bool {
    let today = today.get(..eol.len()).unwrap_or(today);
    today > eol
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_20_is_past_its_end_of_life_in_november_2026() {
        assert_eq!(end_of_life("node", "v20.20.2"), Some("2026-04-30"));
        assert!(is_past("2026-04-30", "2026-11-30T23:55:00Z"));
        assert!(!is_past("2026-04-30", "2026-04-30T12:00:00Z"));
        assert!(!is_past(
            end_of_life("node", "v22.23.5").unwrap(),
            "2026-11-30"
        ));
        assert_eq!(end_of_life("python", "3.11.7"), Some("2027-10"));
        assert!(
            !is_past("2027-10", "2027-10-31"),
            "a month is past after its last day"
        );
        assert!(is_past("2027-10", "2027-11-01"));
        assert_eq!(end_of_life("python", "PyPy"), None);
        assert_eq!(end_of_life("node", "v99.0.0"), None);
    }

    #[test]
    fn the_tables_are_ordered_and_well_formed() {
        for w in NODE.windows(2) {
            assert!(w[0].0 < w[1].0);
        }
        for w in PYTHON.windows(2) {
            assert!(w[0].0 < w[1].0 && w[0].1 < w[1].1);
        }
        assert!(NODE.iter().all(|(_, d)| d.len() == 10));
        assert!(PYTHON.iter().all(|(_, d)| d.len() == 7));
    }
}
