//! The drill report as a self-contained HTML page, each scenario's
//! timeline inline SVG.

use std::fmt::Write as _;

use super::svg::{JUMP_BAND, OUTAGE_BAR, phase_colour, timeline_svg};
use super::text::{
    data_label, duration, interrupted_note, outcome_label, secret_time, verdict_label, xml,
};
use crate::drill::report::DrillReport;
use crate::scenario::Phase;

pub fn html(r: &DrillReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Disaster recovery drill: {}</title><style>{}</style></head><body>",
        verdict_label(r.verdict),
        CSS
    );
    let _ = write!(
        h,
        "<h1>Disaster recovery drill: <span class=\"verdict {v:?}\">{}</span></h1><p class=\"meta\">Environment <b>{}</b> (clock: {}) &middot; started {} &middot; finished {} ({} on the wall clock) &middot; {} &middot; report schema {}</p>",
        verdict_label(r.verdict),
        xml(&r.environment),
        xml(&r.clock),
        r.started_at,
        r.finished_at,
        duration(r.wall_seconds),
        xml(&r.tool),
        r.schema_version,
        v = r.verdict
    );
    if let Some(why) = &r.interrupted {
        let _ = write!(
            h,
            "<p class=\"interrupted\"><b>{}</b></p>",
            xml(&interrupted_note(why, r))
        );
    }
    let _ = write!(
        h,
        "<p>Objectives: every Secret restored within <b>{}</b> of the first recovery action; data loss <b>{}</b>. Values are compared by hash; no value appears in this report.</p>",
        duration(r.objectives.max_recovery_seconds.as_secs_f64()),
        r.objectives.data_loss()
    );
    h.push_str("<p class=\"legend\">");
    for p in [
        Phase::Baseline,
        Phase::DisasterInjected,
        Phase::Detected,
        Phase::RecoveryAction,
        Phase::SecretRestored,
        Phase::Verified,
    ] {
        let _ = write!(
            h,
            "<span><svg width=\"12\" height=\"12\"><circle cx=\"6\" cy=\"6\" r=\"5\" fill=\"{}\"/></svg> {}</span>",
            phase_colour(p),
            p.label()
        );
    }
    let _ = write!(
        h,
        "<span><svg width=\"18\" height=\"12\"><rect width=\"18\" height=\"10\" y=\"1\" fill=\"{OUTAGE_BAR}\"/></svg> Secret out of order</span><span><svg width=\"18\" height=\"12\"><rect width=\"18\" height=\"12\" fill=\"{JUMP_BAND}\"/></svg> jump of the virtual clock (the axis is to scale elsewhere)</span></p>"
    );
    for s in &r.scenarios {
        let _ = write!(
            h,
            "<section><h2>{} <span class=\"verdict {:?}\">{}</span></h2><p class=\"meta\">{} &middot; {}</p>",
            xml(&s.name),
            s.verdict,
            verdict_label(s.verdict),
            xml(&s.feature),
            xml(&outcome_label(&s.outcome))
        );
        if !s.reasons.is_empty() {
            h.push_str("<ul class=\"reasons\">");
            for reason in &s.reasons {
                let _ = write!(h, "<li>{}</li>", xml(reason));
            }
            h.push_str("</ul>");
        }
        if !s.phases.is_empty() {
            h.push_str(&timeline_svg(s));
            h.push_str("<table><tr><th>Secret</th><th>Recovery time</th><th>Objective</th><th>Data</th><th>Hash before</th><th>Hash after</th><th>Met</th></tr>");
            for x in &s.secrets {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                    xml(&x.name),
                    secret_time(x),
                    duration(x.objective_seconds),
                    data_label(x.data),
                    xml(&x.baseline_hash),
                    xml(x.final_hash.as_deref().unwrap_or("-")),
                    if x.objective_met { "yes" } else { "no" }
                );
            }
            h.push_str("</table>");
        }
        h.push_str("</section>");
    }
    h.push_str("</body></html>\n");
    h
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em}\
.meta{color:#555}.verdict{padding:0 .4em;border-radius:3px;color:#fff}\
.verdict.Met{background:#2ca02c}.verdict.Missed{background:#d62728}.verdict.NotRun{background:#7f7f7f}\
.legend span{margin-right:1.2em}table{border-collapse:collapse;margin-top:.5em}\
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em}\
.reasons{color:#d62728}svg.timeline{display:block;margin:.5em 0}";
