//! `bakeoff machine`'s report: what each probe read over the survey, held to
//! the bars a run holds its searches to, and whether this is a time to run.

use std::io::{self, Write};
use std::time::Duration;

use crate::measure::survey::{SiteSteadiness, Survey, SurveyConfig};
use crate::model::ProbeSite;
use crate::suite::live::{HELD_WAKEUPS_WARNED, STALLED_CPU_STEAL, STALLED_STEAL};

/// The survey as text: a line per probe site, the steal, then the verdict.
pub fn render_survey<W: Write>(
    s: &Survey,
    cfg: &SurveyConfig,
    pinning: &str,
    w: &mut W,
) -> io::Result<()> {
    let stopped = if s.interrupted {
        " (stopped by Ctrl-C)"
    } else {
        ""
    };
    writeln!(
        w,
        "How steady this machine is: {} timings over {:.0} s, one every {}{stopped}, with nothing of bakeoff's serving ({pinning})",
        s.timings,
        s.elapsed.as_secs_f64(),
        humantime::format_duration(cfg.interval),
    )?;
    let sites = s.sites();
    if sites.is_empty() {
        writeln!(w, "  no probe gave a reading")?;
    }
    for site in &sites {
        writeln!(w, "  {}", site_line(site))?;
    }
    if let Some(line) = wakeups_line(s, cfg.late) {
        writeln!(w, "  {line}")?;
    }
    writeln!(w, "  {}", steal_line(s))?;
    writeln!(w)?;
    writeln!(w, "{}", verdict(s, &sites))
}

fn site_line(s: &SiteSteadiness) -> String {
    let probe = s.site.probe();
    let held = match s.below_bar {
        None => "not held to a bar (a run's drift check does not read it)".to_string(),
        Some(n) => format!(
            "{} more than {:.0}% below its usual top speed ({:.0}, the 90th percentile)",
            match n {
                0 => "no reading".to_string(),
                n => format!("{n} of {} readings", s.summary.readings),
            },
            probe.drift() * 100.0,
            s.reference
        ),
    };
    format!(
        "{} ({}): {}; {held}",
        s.site.what(),
        probe.name(),
        s.summary.describe(probe)
    )
}

/// One line for the idle sleeps of every core that had them.
fn wakeups_line(s: &Survey, late: Duration) -> Option<String> {
    let each: Vec<String> = ProbeSite::ALL
        .into_iter()
        .filter_map(|site| {
            let wk = (*s.wakeups.at(site))?;
            let share = wk.late_share()?;
            Some(format!(
                "the {} {} of {} ({:.2}%)",
                site.what(),
                wk.late,
                wk.naps,
                share * 100.0
            ))
        })
        .collect();
    (!each.is_empty()).then(|| {
        format!(
            "idle 1 ms sleeps that woke more than {} late: {} (a run warns from {:.1}%; it retries a window with more than 1% of its sends held up that long)",
            humantime::format_duration(late),
            each.join(", "),
            HELD_WAKEUPS_WARNED * 100.0
        )
    })
}

fn steal_line(s: &Survey) -> String {
    let limits = format!(
        "a run retries a window from {:.0}% of the machine, {:.0}% of one CPU",
        STALLED_STEAL * 100.0,
        STALLED_CPU_STEAL * 100.0
    );
    let machine = s.machine_steal.map_or_else(
        || "steal: not reported by this kernel".to_string(),
        |m| format!("steal: {:.1}% of the machine's CPU time", m * 100.0),
    );
    match &s.steal {
        Some(st) => format!(
            "{machine}; {:.1}% of {}, enough to void a window ({limits})",
            st.share * 100.0,
            st.of()
        ),
        None => format!("{machine} ({limits})"),
    }
}

fn verdict(s: &Survey, sites: &[SiteSteadiness]) -> String {
    let secs = s.elapsed.as_secs_f64();
    if sites.is_empty() {
        return if s.interrupted {
            "unknown: stopped before any probe was timed".to_string()
        } else {
            "unknown: no probe could be timed here, so a run's drift check cannot be either"
                .to_string()
        };
    }
    if s.steady() {
        return format!(
            "steady: no reading more than its bar below its usual top speed, no core holding idle threads up and no steal that voids a window, over {secs:.0} s: a run now would flag no `drift` and void no window for the machine's sake, as far as that span tells; `bakeoff run` times the same probes throughout and says if that changes"
        );
    }
    let mut what: Vec<String> = sites
        .iter()
        .filter(|x| x.moved())
        .map(|x| format!("the {}", x.site.what()))
        .collect();
    let mut would = Vec::new();
    if !what.is_empty() {
        would.push("would flag `drift` on the searches timed in such moments, its capacities moving with the machine");
    }
    let held = s.held_up();
    if !held.is_empty() {
        what.extend(
            held.iter()
                .map(|(site, _)| format!("idle wake-ups on the {}", site.what())),
        );
        would.push("would retry the windows whose sends the machine held up, and leave out a cell with no clean window (`machine-noisy`)");
    }
    if s.steal.is_some() {
        what.push("the hypervisor's steal".to_string());
        would.push("would retry the windows that much steal falls on, and leave out a cell with no clean window (`machine-noisy`)");
    }
    format!(
        "moving ({}): a run now {}; run when this says steady, or compare only runs whose probe medians agree within 5% (`bakeoff compare` says when they do not)",
        what.join(", "),
        would.join("; it ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BySite, ProbeReadings, Wakeups};
    use crate::suite::live::Stolen;

    fn survey(contender: Vec<f64>, loopback: Vec<f64>, steal: Option<Stolen>) -> Survey {
        Survey {
            elapsed: Duration::from_millis(2_050),
            interrupted: false,
            timings: contender.len() as u32,
            readings: ProbeReadings {
                generator: contender.iter().map(|r| r * 0.95).collect(),
                contender,
                loopback,
            },
            wakeups: BySite {
                contender: Some(Wakeups {
                    late: 0,
                    naps: 1_800,
                }),
                generator: Some(Wakeups {
                    late: 3,
                    naps: 1_500,
                }),
                loopback: None,
            },
            steal,
            machine_steal: Some(0.001),
        }
    }

    fn rendered(s: &Survey) -> String {
        let cfg = SurveyConfig {
            span: Duration::from_secs(2),
            interval: Duration::from_millis(500),
            late: Duration::from_millis(5),
        };
        let mut out = Vec::new();
        render_survey(s, &cfg, "generator: cpu 0; contender: cpu 1", &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_steady_machine() {
        let s = survey(
            vec![700.0, 705.0, 702.0, 698.0, 710.0],
            vec![80.0, 78.0, 82.0, 79.0, 81.0],
            None,
        );
        insta::assert_snapshot!(rendered(&s));
    }

    #[test]
    fn a_moving_machine_under_steal() {
        let s = survey(
            vec![700.0, 405.0, 702.0, 520.0, 890.0],
            vec![80.0, 78.0, 82.0, 79.0, 81.0],
            Some(Stolen {
                share: 0.071,
                cpu: Some(1),
                limit: 0.05,
            }),
        );
        insta::assert_snapshot!(rendered(&s));
    }

    #[test]
    fn steady_probes_on_a_machine_that_holds_threads_up() {
        let mut s = survey(
            vec![700.0, 705.0, 702.0, 698.0, 710.0],
            vec![80.0, 78.0, 82.0, 79.0, 81.0],
            None,
        );
        s.wakeups.generator = Some(Wakeups {
            late: 24,
            naps: 1_500,
        });
        let text = rendered(&s);
        assert!(
            text.contains("\nmoving (idle wake-ups on the generator's core): a run now would retry the windows whose sends the machine held up"),
            "{text}"
        );
        assert!(
            text.contains("woke more than 5ms late: the contender's core 0 of 1800 (0.00%), the generator's core 24 of 1500 (1.60%)"),
            "{text}"
        );
    }
}
