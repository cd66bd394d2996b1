//! `bakeoff machine`'s report: what each probe read over the survey, held to
//! the bars a run holds its searches to, and whether this is a time to run;
//! as text, and as the `--json` document with its schema.

use std::io::{self, Write};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::measure::survey::{
    Assessment, Cause, SiteSteadiness, Survey, SurveyConfig, Verdict, SLOWED_TOLERATED,
};
use crate::model::{Probe, ProbeSite, ProbeSummary};
use crate::suite::live::{StealLimit, HELD_WAKEUPS_WARNED};

/// The survey as text: a line per probe site, one for the cores' idle
/// sleeps, the steal, then the verdict.
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
    let a = s.assess();
    if a.sites.is_empty() {
        writeln!(w, "  no probe gave a reading")?;
    }
    for site in &a.sites {
        writeln!(w, "  {}", site_line(site))?;
    }
    if let Some(line) = wakeups_line(s, cfg.late) {
        writeln!(w, "  {line}")?;
    }
    writeln!(w, "  {}", steal_line(s, cfg.steal))?;
    writeln!(w)?;
    writeln!(w, "{}", verdict(s, &a))
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

fn steal_line(s: &Survey, limit: StealLimit) -> String {
    let limits = format!(
        "a run retries a window from {:.0}% of the machine, {:.0}% of one CPU, or {} ms of one within {} s (half the SLO)",
        limit.machine() * 100.0,
        limit.one_cpu() * 100.0,
        limit.burst().as_millis(),
        bakeoff_load::bursts::SPAN.as_secs_f64()
    );
    let machine = s.machine_steal.map_or_else(
        || "steal: not reported by this kernel".to_string(),
        |m| format!("steal: {:.1}% of the machine's CPU time", m * 100.0),
    );
    match &s.steal {
        Some(st) => format!(
            "{machine}; {}, enough to void a window ({limits})",
            st.amount()
        ),
        None => format!("{machine} ({limits})"),
    }
}

fn verdict(s: &Survey, a: &Assessment) -> String {
    let secs = s.elapsed.as_secs_f64();
    let Assessment {
        sites,
        causes,
        verdict,
        drift_share,
    } = a;
    let drift_share = flagged(*drift_share);
    match verdict {
        Verdict::Unknown if s.interrupted => {
            return "unknown: stopped before any probe was timed".to_string()
        }
        Verdict::Unknown => {
            return "unknown: no probe could be timed here, so a run's drift check cannot be either"
                .to_string()
        }
        Verdict::Steady => {
            let dipped = dipped(sites);
            return if dipped.is_empty() {
                format!(
                    "steady: no reading more than its bar below its usual top speed, no core holding idle threads up and no steal that voids a window, over {secs:.0} s: a run now would flag no `drift` and void no window for the machine's sake, as far as that span tells; `bakeoff run` times the same probes throughout and says if that changes"
                )
            } else {
                format!(
                    "steady: at most {:.0}% of a site's readings more than its bar below its usual top speed ({}), no core holding idle threads up and no steal that voids a window, over {secs:.0} s: a run now would flag `drift` on {} and void no window for the machine's sake, as far as that span tells; `bakeoff run` times the same probes throughout and says if that changes",
                    SLOWED_TOLERATED * 100.0,
                    dipped.join(", "),
                    drift_share,
                )
            };
        }
        Verdict::Moving => {}
    }
    let what: Vec<String> = causes
        .iter()
        .map(|c| match c {
            Cause::Slowed { site } => format!(
                "the {}{}",
                site.what(),
                sites
                    .iter()
                    .find(|x| x.site == *site)
                    .and_then(below_of)
                    .map(|b| format!(": {b} under its bar"))
                    .unwrap_or_default()
            ),
            Cause::HeldUp { site } => format!("idle wake-ups on the {}", site.what()),
            Cause::Steal => "the hypervisor's steal".to_string(),
        })
        .collect();
    let any = |f: fn(&Cause) -> bool| causes.iter().any(f);
    let mut would = Vec::new();
    if any(|c| matches!(c, Cause::Slowed { .. })) {
        would.push(format!(
            "would flag `drift` on {drift_share}, its capacities moving with the machine"
        ));
    }
    if any(|c| matches!(c, Cause::HeldUp { .. })) {
        would.push("would retry the windows whose sends the machine held up, and leave out a cell with no clean window (`machine-noisy`)".to_string());
    }
    if any(|c| matches!(c, Cause::Steal)) {
        would.push("would retry the windows that much steal falls on, and leave out a cell with no clean window (`machine-noisy`)".to_string());
    }
    format!(
        "moving ({}): a run now {}; run when this says steady, or compare only runs whose probe medians agree within 5% (`bakeoff compare` says when they do not)",
        what.join(", "),
        would.join("; it ")
    )
}

/// "3 of 76 readings (3.9%)" for a site held to its bar with readings under
/// it.
fn below_of(x: &SiteSteadiness) -> Option<String> {
    let n = x.below_bar.filter(|&n| n > 0)?;
    Some(format!(
        "{n} of {} readings ({:.1}%)",
        x.summary.readings,
        x.share_below()? * 100.0
    ))
}

/// Each drift-checked site with readings under its bar, "the contender's
/// core 3 of 76 readings (3.9%)".
fn dipped(sites: &[SiteSteadiness]) -> Vec<String> {
    sites
        .iter()
        .filter_map(|x| Some(format!("the {} {}", x.site.what(), below_of(x)?)))
        .collect()
}

/// "about 10% of its searches (each timed before and after)"; "under 1%"
/// where a whole percent would round to nothing.
fn flagged(drift_share: Option<f64>) -> String {
    let share = drift_share.unwrap_or(0.0) * 100.0;
    let share = if share < 1.0 {
        "under 1%".to_string()
    } else {
        format!("about {share:.0}%")
    };
    format!("{share} of its searches (each timed before and after)")
}

/// The `bakeoff machine --json` document: the survey as measured, with its
/// verdict and causes. Rates in each probe's unit, times in seconds or
/// milliseconds as named, shares from 0 to 1.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(
    title = "bakeoff machine",
    description = "How steady this machine is, as printed by `bakeoff machine --json`: the run's probes timed on the cores a run pins, idle sleeps on each core, and the hypervisor's steal, held to the bars a run uses. Optional values are present as null.",
    deny_unknown_fields
)]
pub struct SurveyDocument {
    pub verdict: Verdict,
    /// Why it is moving (empty when steady).
    pub causes: Vec<Cause>,
    /// Stopped by Ctrl-C before its span.
    pub interrupted: bool,
    pub elapsed_s: f64,
    pub interval_s: f64,
    /// How many times the probes were timed.
    pub timings: u32,
    /// Which core each role was pinned to, e.g. "generator: cpu 0; contender: cpu 1".
    pub pinning: String,
    pub sites: Vec<SiteDocument>,
    /// A site with more than this share of its readings under its bar is
    /// moving.
    pub slowed_tolerated: f64,
    /// The share of a run's searches its drift check would flag at this
    /// span's rate of slowed readings (each search timed before and after);
    /// null without a drift-checked reading.
    pub drift_share: Option<f64>,
    /// How late an idle sleep's wake-up counts as held up.
    pub late_ms: f64,
    /// From this share of late wake-ups a core holds threads up.
    pub held_up_from: f64,
    pub wakeups: Vec<WakeupsDocument>,
    /// The machine's steal share over the span, where the kernel reports it.
    pub machine_steal: Option<f64>,
    /// The steal that would void a window, where there was such.
    pub voiding_steal: Option<StealDocument>,
}

/// One site's readings held to its bar.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SiteDocument {
    pub site: ProbeSite,
    pub probe: Probe,
    /// The unit of `summary` and `reference`, e.g. "M loop iterations/s".
    pub unit: String,
    pub summary: ProbeSummary,
    /// The readings' 90th percentile (nearest rank).
    pub reference: f64,
    /// The share under `reference` past which a reading is slowed; null for
    /// a site the drift check does not read.
    pub bar: Option<f64>,
    /// Readings past the bar; null with it.
    pub below_bar: Option<u32>,
}

/// One core's idle sleeps.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct WakeupsDocument {
    pub site: ProbeSite,
    pub late: u32,
    pub naps: u32,
}

/// Steal that voids a window.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct StealDocument {
    pub share: f64,
    /// The CPU it was read on; null for the machine's average.
    pub cpu: Option<usize>,
    /// The share from which it voids a window.
    pub limit: f64,
    /// Null: the share of the whole probe; else the span, in ms, of the burst
    /// whose share it is (the most the CPU lost within that span).
    pub within_ms: Option<f64>,
}

/// The survey as its JSON document.
pub fn survey_document(s: &Survey, cfg: &SurveyConfig, pinning: &str) -> SurveyDocument {
    let a = s.assess();
    SurveyDocument {
        verdict: a.verdict,
        causes: a.causes,
        interrupted: s.interrupted,
        elapsed_s: s.elapsed.as_secs_f64(),
        interval_s: cfg.interval.as_secs_f64(),
        timings: s.timings,
        pinning: pinning.to_string(),
        sites: a
            .sites
            .into_iter()
            .map(|x| SiteDocument {
                site: x.site,
                probe: x.site.probe(),
                unit: x.site.probe().unit().to_string(),
                summary: x.summary,
                reference: x.reference,
                bar: x.below_bar.map(|_| x.site.probe().drift()),
                below_bar: x.below_bar,
            })
            .collect(),
        slowed_tolerated: SLOWED_TOLERATED,
        drift_share: a.drift_share,
        late_ms: cfg.late.as_secs_f64() * 1000.0,
        held_up_from: HELD_WAKEUPS_WARNED,
        wakeups: ProbeSite::ALL
            .into_iter()
            .filter_map(|site| {
                let w = (*s.wakeups.at(site))?;
                Some(WakeupsDocument {
                    site,
                    late: w.late,
                    naps: w.naps,
                })
            })
            .collect(),
        machine_steal: s.machine_steal,
        voiding_steal: s.steal.as_ref().map(|st| StealDocument {
            share: st.share,
            cpu: st.cpu,
            limit: st.limit,
            within_ms: st.within.map(|d| d.as_secs_f64() * 1000.0),
        }),
    }
}

/// The JSON Schema of [`SurveyDocument`] (`docs/schema/machine.json`).
pub fn survey_schema() -> serde_json::Value {
    super::serialized_schema::<SurveyDocument>()
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

    /// The contender's core slowed (4 of 5 readings under its bar) and 7.1%
    /// of cpu 1 stolen.
    fn moving_under_steal() -> Survey {
        survey(
            vec![700.0, 405.0, 702.0, 520.0, 890.0],
            vec![80.0, 78.0, 82.0, 79.0, 81.0],
            Some(Stolen {
                share: 0.071,
                cpu: Some(1),
                limit: 0.05,
                default_limit: 0.05,
                within: None,
            }),
        )
    }

    fn config() -> SurveyConfig {
        SurveyConfig {
            span: Duration::from_secs(2),
            interval: Duration::from_millis(500),
            late: Duration::from_millis(5),
            steal: StealLimit::default(),
        }
    }

    fn rendered(s: &Survey) -> String {
        let cfg = config();
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

    /// One reading of 40 under the contender's bar (2.5%, within the 5%
    /// tolerated) leaves the machine steady, and says what a run would flag.
    #[test]
    fn a_steady_machine_whose_core_dipped_once() {
        let mut core = vec![700.0; 40];
        core[17] = 600.0;
        let s = survey(core, vec![80.0; 40], None);
        let text = rendered(&s);
        assert!(
            text.contains("\nsteady: at most 5% of a site's readings more than its bar below its usual top speed (the contender's core 1 of 40 readings (2.5%)), no core holding"),
            "{text}"
        );
        assert!(
            text.contains("a run now would flag `drift` on about 5% of its searches (each timed before and after)"),
            "{text}"
        );
        // One dip in 400 readings: 0.5% of searches, not "about 0%".
        let mut core = vec![700.0; 400];
        core[17] = 600.0;
        let text = rendered(&survey(core, vec![80.0; 400], None));
        assert!(
            text.contains("flag `drift` on under 1% of its searches"),
            "{text}"
        );
    }

    #[test]
    fn a_moving_machine_under_steal() {
        let s = moving_under_steal();
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

    /// The JSON document fits its schema, and says what the text says.
    #[test]
    fn the_json_document_fits_its_schema() {
        let s = moving_under_steal();
        let cfg = config();
        let doc = serde_json::to_value(survey_document(
            &s,
            &cfg,
            "generator: cpu 0; contender: cpu 1",
        ))
        .unwrap();
        let schema = survey_schema();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(doc["verdict"], "moving");
        assert_eq!(
            doc["causes"],
            serde_json::json!([
                {"kind": "slowed", "site": "contender_core"},
                {"kind": "steal"}
            ])
        );
        assert_eq!(doc["sites"][0]["below_bar"], 4);
        assert_eq!(doc["slowed_tolerated"], 0.05);
        // 4 of 5 readings under the bar: 1 − 0.2² of the searches.
        let share = doc["drift_share"].as_f64().unwrap();
        assert!((share - 0.96).abs() < 1e-9, "{share}");
        assert_eq!(doc["sites"][0]["bar"], 0.1);
        assert_eq!(doc["sites"][1]["bar"], serde_json::Value::Null);
        assert_eq!(doc["sites"][2]["probe"], "loopback");
        assert_eq!(doc["wakeups"][1]["site"], "generator_core");
        assert_eq!(doc["voiding_steal"]["cpu"], 1);
        // Not a rubber stamp: a field the schema does not know fails it.
        let mut bad = doc.clone();
        bad["verdikt"] = "steady".into();
        assert!(!validator.is_valid(&bad));
    }
}
