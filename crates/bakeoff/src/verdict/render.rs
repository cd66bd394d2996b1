//! Renderers for the verdict: plain text for the terminal, and HTML fragments
//! for the report page. Pure functions into any `Write`.

use std::io::{self, Write};

use super::advice::Advice;
use super::claims::{ClaimResult, Source, Verdict};

fn fmt_value(v: f64, unit: &str) -> String {
    match unit {
        "bytes" if v >= 1e6 => format!("{:.1} MB", v / 1e6),
        "bytes" if v >= 1e3 => format!("{:.1} kB", v / 1e3),
        "bytes" => format!("{v:.0} B"),
        "req/s" | "msg/s" => format!("{v:.0} {unit}"),
        "ms" => format!("{v:.2} ms"),
        "×" => format!("{v:.2}×"),
        "% change" => format!("{v:+.1}%"),
        u => format!("{v:.2} {u}"),
    }
}

pub fn claims_text(claims: &[ClaimResult], w: &mut impl Write) -> io::Result<()> {
    if let Some(c) = claims.first() {
        writeln!(w, "Claims from the blog, tested on {}.", c.scope)?;
    }
    for c in claims {
        writeln!(w)?;
        match c.source {
            Source::Blog => writeln!(w, "{}. \"{}\"", c.id, c.quote)?,
            Source::Bakeoff => writeln!(w, "{}. {}", c.id, c.quote)?,
        }
        writeln!(w, "   hypothesis: {}", c.hypothesis)?;
        writeln!(w, "   test:       {}", c.test)?;
        writeln!(
            w,
            "   verdict:    {} — {}",
            c.verdict_label().to_uppercase(),
            c.reason
        )?;
        for e in &c.evidence {
            match &e.contender {
                Some(who) => writeln!(
                    w,
                    "     · {} [{}]: {}",
                    e.what,
                    who,
                    fmt_value(e.value, &e.unit)
                )?,
                None => writeln!(w, "     · {}: {}", e.what, fmt_value(e.value, &e.unit))?,
            }
        }
        if !c.missing.is_empty() {
            writeln!(w, "     missing: {}", c.missing.join(", "))?;
        }
    }
    Ok(())
}

pub fn advice_text(a: &Advice, w: &mut impl Write) -> io::Result<()> {
    writeln!(w, "{}", a.recommendation)?;
    writeln!(w)?;
    writeln!(
        w,
        "Ranking (weights: performance {}, fit {}, ecosystem {}, learning {}):",
        a.profile.weights.performance,
        a.profile.weights.fit,
        a.profile.weights.ecosystem,
        a.profile.weights.learning
    )?;
    writeln!(
        w,
        "  {:<22} {:>6}  {:>11} {:>5} {:>9} {:>8}",
        "contender", "score", "performance", "fit", "ecosystem", "learning"
    )?;
    for r in &a.ranking {
        let b = &r.breakdown;
        writeln!(
            w,
            "  {:<22} {:>6.1}  {:>11.2} {:>5.2} {:>9.2} {:>8.2}",
            r.contender, r.score, b.performance, b.fit, b.ecosystem, b.learning
        )?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "Capacity plan for a peak of {:.0} req/s{}:",
        a.peak_rps,
        if a.peak_is_default {
            " (default; set --peak-rps)"
        } else {
            ""
        }
    )?;
    for p in &a.plan {
        match p.cores {
            Some(n) => writeln!(
                w,
                "  {:<22} {:>3} core{}  ({})",
                p.contender,
                n,
                if n == 1 { " " } else { "s" },
                p.basis
            )?,
            None => writeln!(w, "  {:<22}   -         ({})", p.contender, p.basis)?,
        }
    }
    if !a.reasons.is_empty() {
        writeln!(w)?;
        writeln!(w, "Why:")?;
        for r in &a.reasons {
            writeln!(w, "  - {r}")?;
        }
    }
    for (need, by_lang) in &a.ecosystem {
        writeln!(w, "  - need `{need}`:")?;
        for (lang, e) in by_lang {
            writeln!(
                w,
                "      {lang}: {} (strength {:.2}; {})",
                e.libraries.join(", "),
                e.strength,
                e.source
            )?;
        }
    }
    if !a.missing.is_empty() {
        writeln!(w)?;
        writeln!(w, "Missing cells: {}", a.missing.join(", "))?;
        if let Some(cmd) = &a.measure_command {
            writeln!(
                w,
                "Measure them with: {cmd}   (or rerun advise with --measure)"
            )?;
        }
    }
    writeln!(w)?;
    writeln!(w, "Caveats:")?;
    for c in &a.caveats {
        writeln!(w, "  - {c}")?;
    }
    Ok(())
}

/// Minimal HTML escaping for text from the run and the knowledge file.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The claims as an HTML section body (a table), for the report page.
pub fn claims_html(claims: &[ClaimResult], w: &mut impl Write) -> io::Result<()> {
    writeln!(w, "<table class=\"claims\"><thead><tr><th>#</th><th>claim</th><th>verdict</th><th>evidence</th></tr></thead><tbody>")?;
    for c in claims {
        let class = match c.verdict {
            Verdict::Supported => "supported",
            Verdict::NotSupported => "not-supported",
            Verdict::Inconclusive => "inconclusive",
        };
        let evidence: Vec<String> = c
            .evidence
            .iter()
            .map(|e| {
                let who = e
                    .contender
                    .as_deref()
                    .map(|c| format!(" [{c}]"))
                    .unwrap_or_default();
                escape_html(&format!(
                    "{}{}: {}",
                    e.what,
                    who,
                    fmt_value(e.value, &e.unit)
                ))
            })
            .collect();
        writeln!(
            w,
            "<tr><td>{}</td><td>{}<br><small>{}</small></td><td class=\"{class}\"><b>{}</b><br>{}</td><td>{}</td></tr>",
            c.id,
            match c.source {
                Source::Blog => format!("<q>{}</q>", escape_html(c.quote)),
                Source::Bakeoff => format!("<i>{}</i>", escape_html(c.quote)),
            },
            escape_html(c.hypothesis),
            escape_html(&c.verdict_label()),
            escape_html(&c.reason),
            evidence.join("<br>")
        )?;
    }
    writeln!(w, "</tbody></table>")
}

/// The advice as an HTML section body, for the report page.
pub fn advice_html(a: &Advice, w: &mut impl Write) -> io::Result<()> {
    let mix: Vec<String> = a
        .profile
        .mix
        .iter()
        .map(|(k, v)| format!("{k} {v:.0}%"))
        .collect();
    writeln!(
        w,
        "<p>For a team profile of <b>{}</b> (team: {:?}, peak {:.0} req/s{}):</p>",
        escape_html(&mix.join(", ")),
        a.profile.team,
        a.peak_rps,
        if a.peak_is_default { ", default" } else { "" }
    )?;
    writeln!(
        w,
        "<p class=\"recommendation\"><b>{}</b></p>",
        escape_html(&a.recommendation)
    )?;
    writeln!(w, "<table class=\"advice\"><thead><tr><th>contender</th><th>score</th><th>performance</th><th>fit</th><th>ecosystem</th><th>learning</th><th>cores for the peak</th></tr></thead><tbody>")?;
    for r in &a.ranking {
        let b = &r.breakdown;
        let cores = a
            .plan
            .iter()
            .find(|p| p.contender == r.contender)
            .map(|p| {
                p.cores
                    .map_or_else(|| escape_html(&p.basis), |c| c.to_string())
            })
            .unwrap_or_default();
        writeln!(
            w,
            "<tr><td>{}</td><td>{:.1}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td></tr>",
            escape_html(&r.contender),
            r.score,
            b.performance,
            b.fit,
            b.ecosystem,
            b.learning,
            cores
        )?;
    }
    writeln!(w, "</tbody></table><ul>")?;
    for line in a.reasons.iter().chain(&a.caveats) {
        writeln!(w, "<li>{}</li>", escape_html(line))?;
    }
    writeln!(w, "</ul><p><small>Other profiles: <code>bakeoff advise --mix … --team … --peak-rps …</code></small></p>")
}

/// The claims check and a default-profile advice, as fragments for the HTML report.
pub fn html_extras(run: &crate::model::Run) -> crate::report::HtmlExtras {
    use super::advice::{advise, Ecosystem};
    use super::claims::check_all;
    use super::profile::{Category, Inputs};
    let mut claims = Vec::new();
    let _ = claims_html(&check_all(run), &mut claims);
    let eco = Ecosystem::builtin();
    let measured = Category::measured(run);
    let advice = Inputs::default()
        .validate(&measured, &eco.need_names())
        .ok()
        .map(|profile| {
            let mut buf = Vec::new();
            let _ = advice_html(&advise(run, &profile, &eco), &mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        });
    crate::report::HtmlExtras {
        claims_html: Some(String::from_utf8_lossy(&claims).into_owned()),
        advice_html: advice,
        fairness_doc: crate::report::fairness_doc(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::advice::{advise, Ecosystem};
    use crate::verdict::claims::check_all;
    use crate::verdict::fixture;
    use crate::verdict::profile::{parse_pairs, Inputs};

    fn text<F: Fn(&mut Vec<u8>) -> io::Result<()>>(f: F) -> String {
        let mut buf = Vec::new();
        f(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn claims_text_snapshot() {
        let claims = check_all(&fixture::run());
        insta::assert_snapshot!(text(|w| claims_text(&claims, w)));
    }

    #[test]
    fn advice_text_snapshot() {
        let eco = Ecosystem::builtin();
        let mut p = Inputs {
            mix: Some(parse_pairs("realtime=40,io=40,data=20", "mix").unwrap()),
            team: Some("js".into()),
            needs: vec!["shared-frontend-code".into()],
            peak_rps: Some(2500.0),
            ..Inputs::default()
        }
        .validate(&[], &eco.need_names())
        .unwrap();
        p.slo_p99_ms = Some(50.0);
        let a = advise(&fixture::run(), &p, &eco);
        insta::assert_snapshot!(text(|w| advice_text(&a, w)));
    }

    #[test]
    fn html_extras_carry_claims_and_advice() {
        let extras = html_extras(&fixture::run());
        assert!(extras.claims_html.unwrap().contains("class=\"claims\""));
        let advice = extras.advice_html.unwrap();
        assert!(advice.contains("Choose node-fastify"), "{advice}");
        assert!(advice.contains("cores for the peak"));
    }

    #[test]
    fn claims_html_escapes() {
        let mut claims = check_all(&fixture::run());
        claims[0].reason = "<script>alert(1)</script>".into();
        let html = text(|w| claims_html(&claims, w));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        // The header, the seven claims and bakeoff's own observation.
        assert_eq!(html.matches("<tr>").count(), 9);
        assert!(html.contains("<i>Newer Node.js is faster (bakeoff&#39;s own observation"));
    }
}
