//! A run that raised its steal limit (`--max-steal`) says so in every output,
//! and a comparison with a run that did not names the difference; every
//! output names the resolution its capacities were found to.

use super::compare::Comparison;
use super::fixtures::sample_run;
use super::{render_html, render_json, render_markdown, render_text, HtmlExtras};
use crate::model::Run;

fn out<F: FnOnce(&mut Vec<u8>) -> std::io::Result<()>>(f: F) -> String {
    let mut buf = Vec::new();
    f(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

fn raised(percent: f64) -> Run {
    let mut run = sample_run();
    run.settings.max_steal_percent = Some(percent);
    run
}

#[test]
fn a_raised_steal_limit_is_named_in_every_report() {
    let run = raised(8.0);
    let said = "steal tolerated up to 8% (capacities may read low)";
    let text = out(|w| render_text(&run, false, w));
    assert!(text.contains(said), "{text}");
    let md = out(|w| render_markdown(&run, w));
    assert!(md.contains(said), "{md}");
    assert!(md.contains("raised the steal limit to 8%"), "{md}");
    let html = out(|w| render_html(&run, &HtmlExtras::default(), w));
    assert!(html.contains(said) && html.contains("raised the steal limit to 8%"));
    let json: serde_json::Value = serde_json::from_str(&out(|w| render_json(&run, w))).unwrap();
    assert_eq!(json["settings"]["max_steal_percent"], 8.0);
    // The default, recorded or not (older runs), is not a caveat.
    for default in [Some(2.0), None] {
        let mut run = sample_run();
        run.settings.max_steal_percent = default;
        let text = out(|w| render_text(&run, false, w));
        assert!(!text.contains("steal tolerated"), "{text}");
    }
}

#[test]
fn runs_of_different_steal_limits_compare_with_a_caveat() {
    let c = Comparison::new(&sample_run(), &raised(10.0), None);
    assert!(
        c.caveats
            .contains(&"steal limit (%) differs: 2 (A) vs 10 (B)".to_string()),
        "{:?}",
        c.caveats
    );
    let c = Comparison::new(&raised(2.0), &sample_run(), None);
    assert!(
        c.caveats.iter().all(|x| !x.contains("steal")),
        "{:?}",
        c.caveats
    );
}

/// Every report's header says how finely the capacities were found; a run
/// stored before the resolution was recorded says nothing of it.
#[test]
fn the_search_resolution_is_named_in_every_report() {
    let mut run = sample_run();
    run.settings.search_resolution = Some(0.025);
    let said = "capacities found to 2.5%";
    let text = out(|w| render_text(&run, false, w));
    assert!(text.contains(said), "{text}");
    let md = out(|w| render_markdown(&run, w));
    assert!(md.contains(said), "{md}");
    let html = out(|w| render_html(&run, &HtmlExtras::default(), w));
    assert!(html.contains(said));
    run.settings.search_resolution = Some(0.08);
    let text = out(|w| render_text(&run, false, w));
    assert!(text.contains("capacities found to 8%,"), "{text}");
    run.settings.search_resolution = None;
    let text = out(|w| render_text(&run, false, w));
    assert!(!text.contains("capacities found"), "{text}");
}
