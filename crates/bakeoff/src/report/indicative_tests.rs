//! A run whose cells each rest on a single trial: every output says
//! "indicative" and none shows an interval it does not have.

use super::fixtures::{sample_run, single_trial};
use super::{render_html, render_json, render_markdown, render_text, HtmlExtras};
use crate::verdict::advice::{advise, Ecosystem};
use crate::verdict::claims::check_all;
use crate::verdict::profile::{parse_pairs, Inputs};
use crate::verdict::render::{advice_html, advice_text, claims_html, claims_text};

fn out<F: FnOnce(&mut Vec<u8>) -> std::io::Result<()>>(f: F) -> String {
    let mut buf = Vec::new();
    f(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn text_and_markdown_call_one_trial_indicative() {
    let run = single_trial(sample_run());
    let text = out(|w| render_text(&run, false, w));
    assert!(text.contains("(1 trial, indicative)"), "{text}");
    assert!(text.contains("indicative: single trial"), "{text}");
    assert!(!text.contains("range "), "no range with one trial:\n{text}");
    for line in text
        .lines()
        .filter(|l| l.contains(" vs ") && l.contains(" -> "))
    {
        assert_eq!(line.matches("indicative").count(), 1, "said once: {line}");
    }
    insta::assert_snapshot!("one_trial_text", text);
    let md = out(|w| render_markdown(&run, w));
    assert!(md.contains("(1 trial, indicative)") && md.contains("indicative: 1 trial"));
    insta::assert_snapshot!("one_trial_markdown", md);
}

#[test]
fn json_and_html_call_one_trial_indicative() {
    let run = single_trial(sample_run());
    let json: serde_json::Value = serde_json::from_str(&out(|w| render_json(&run, w))).unwrap();
    let cap = &json["cells"][0]["capacity"];
    assert_eq!(cap["indicative"], true, "{cap}");
    assert_eq!(cap["interval"], "single", "{cap}");
    let several: serde_json::Value =
        serde_json::from_str(&out(|w| render_json(&sample_run(), w))).unwrap();
    assert_eq!(several["cells"][0]["capacity"]["indicative"], false);

    let html = out(|w| render_html(&run, &HtmlExtras::default(), w));
    assert!(
        html.contains("(1 trial, indicative)"),
        "cell headers and bars"
    );
    // Each headline card says it once, in its sentence.
    let cards: Vec<&str> = html
        .split("<div class=\"card\">")
        .skip(1)
        .map(|c| &c[..c.find("</div></div>").unwrap()])
        .collect();
    assert!(!cards.is_empty());
    for card in cards {
        assert_eq!(card.matches("indicative").count(), 1, "{card}");
        assert!(card.contains("indicative: single trial"), "{card}");
    }
    // Below five trials the whiskers are a range: no sentence claims coverage.
    let three = out(|w| render_html(&sample_run(), &HtmlExtras::default(), w));
    assert!(
        !three.contains("95% confidence interval"),
        "a range is no CI"
    );
    assert!(three.contains("range below five (no coverage claimed)"));
}

fn advice_of(run: &crate::model::Run) -> crate::verdict::advice::Advice {
    let eco = Ecosystem::builtin();
    let p = Inputs {
        mix: Some(parse_pairs("io=50,data=50", "mix").unwrap()),
        team: Some("js".into()),
        ..Inputs::default()
    }
    .validate(&[], &eco.need_names())
    .unwrap();
    advise(run, &p, &eco)
}

#[test]
fn claims_and_advice_call_one_trial_indicative() {
    let run = single_trial(sample_run());
    let claims = check_all(&run);
    assert!(claims.iter().any(|c| c.indicative), "{claims:#?}");
    let text = out(|w| claims_text(&claims, w));
    assert!(text.contains("(INDICATIVE: SINGLE TRIAL)"), "{text}");
    insta::assert_snapshot!("one_trial_claims", text);
    let html = out(|w| claims_html(&claims, w));
    assert!(html.contains("(indicative: single trial)"), "{html}");
    let json = serde_json::to_value(&claims).unwrap();
    assert!(json
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["indicative"] == true));

    let advice = advice_of(&run);
    assert!(advice.indicative);
    let text = out(|w| advice_text(&advice, w));
    assert!(text.starts_with("Indicative (single trial): "), "{text}");
    insta::assert_snapshot!("one_trial_advice", text);
    let html = out(|w| advice_html(&advice, w));
    assert!(html.contains("Indicative (single trial)"), "{html}");
    assert_eq!(serde_json::to_value(&advice).unwrap()["indicative"], true);

    // The same run with three trials: no verdict rests on a single trial; the
    // claims on single readings (2–4: a p99 or a memory sample a cell) are
    // indicative whatever the trial count.
    let several = sample_run();
    assert!(check_all(&several).iter().all(|c| !c.single_trial));
    assert!(check_all(&several)
        .iter()
        .all(|c| c.indicative == c.single_readings));
    assert!(!advice_of(&several).indicative);
}
