//! The drill report as Markdown, JUnit XML and a self-contained HTML page
//! whose timelines are inline SVG. Every text comes from the report, which
//! holds hashes and key names, never values.

use std::fmt::Write as _;

use super::report::{DataCheck, DrillReport, Outcome, ScenarioReport, SecretReport, Verdict};
use crate::scenario::Phase;

pub fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "objectives met",
        Verdict::Missed => "objectives missed",
        Verdict::NotRun => "not run",
    }
}

fn data_label(d: DataCheck) -> &'static str {
    match d {
        DataCheck::Intact => "intact",
        DataCheck::ChangedAsIntended => "changed as intended",
        DataCheck::Differs => "LOST (other values)",
        DataCheck::Missing => "LOST (Secret missing)",
        DataCheck::NotChecked => "not checked",
    }
}

fn outcome_label(o: &Outcome) -> String {
    match o {
        Outcome::Passed => "passed".into(),
        Outcome::Failed(why) => format!("failed: {why}"),
        Outcome::Skipped(why) => format!("skipped: {why}"),
    }
}

/// "0.042 s", "5 min", "7 min 1.5 s", "1 h", "1 h 0 min 1 s": whole
/// units without a trailing ".0", and no zero parts at the end.
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.3} s");
    }
    // Tenths of a second, rounded once, so that 299.96 s is "5 min".
    let tenths = (seconds * 10.0).round() as u64;
    let (h, m, t) = (tenths / 36_000, (tenths % 36_000) / 600, tenths % 600);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 || (h > 0 && t > 0) {
        parts.push(format!("{m} min"));
    }
    if t > 0 {
        parts.push(if t % 10 == 0 {
            format!("{} s", t / 10)
        } else {
            format!("{}.{} s", t / 10, t % 10)
        });
    }
    parts.join(" ")
}

fn opt_duration(s: Option<f64>) -> String {
    s.map(duration).unwrap_or_else(|| "-".into())
}

fn secret_time(s: &SecretReport) -> String {
    match (s.affected, s.recovery_seconds) {
        (false, _) => "not affected".into(),
        (true, Some(r)) => duration(r),
        (true, None) => "not restored".into(),
    }
}

/// What a partial report says of itself.
pub fn interrupted_note(why: &str, r: &DrillReport) -> String {
    format!(
        "Interrupted ({why}): a partial report of the {} scenario(s) that finished",
        r.scenarios.len()
    )
}

pub fn markdown(r: &DrillReport) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Disaster recovery drill: {}\n",
        verdict_label(r.verdict)
    );
    if let Some(why) = &r.interrupted {
        let _ = writeln!(md, "**{}**\n", interrupted_note(why, r));
    }
    let _ = writeln!(
        md,
        "- Environment: {} (clock: {})\n- Started: {}\n- Finished: {}\n- Wall-clock time: {}\n- Tool: {}\n- Report schema: {}",
        r.environment,
        r.clock,
        r.started_at,
        r.finished_at,
        duration(r.wall_seconds),
        r.tool,
        r.schema_version
    );
    let _ = writeln!(
        md,
        "- Objectives: every Secret restored within {} of the first recovery action; data loss {}\n",
        duration(r.objectives.max_recovery_seconds.as_secs_f64()),
        if r.objectives.allow_data_loss {
            "allowed"
        } else {
            "not allowed"
        }
    );
    let _ = writeln!(md, "| Scenario | Outcome | Verdict | Slowest recovery |");
    let _ = writeln!(md, "|---|---|---|---|");
    for s in &r.scenarios {
        let slowest = s
            .secrets
            .iter()
            .filter_map(|x| x.recovery_seconds)
            .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            md_cell(&s.name),
            md_cell(&outcome_label(&s.outcome)),
            verdict_label(s.verdict),
            opt_duration(slowest)
        );
    }
    for s in &r.scenarios {
        let _ = writeln!(md, "\n## {}\n", s.name);
        let _ = writeln!(
            md,
            "Feature: {}. Outcome: {}. Verdict: **{}**.\n",
            s.feature,
            outcome_label(&s.outcome),
            verdict_label(s.verdict)
        );
        for reason in &s.reasons {
            let _ = writeln!(md, "- {}", reason);
        }
        if !s.reasons.is_empty() {
            md.push('\n');
        }
        if !s.phases.is_empty() {
            let _ = writeln!(md, "| Time | + since baseline | Phase | Detail |");
            let _ = writeln!(md, "|---|---|---|---|");
            for row in timeline_rows(s) {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    row.at,
                    duration(row.offset_seconds),
                    row.label,
                    md_cell(&row.detail)
                );
            }
            md.push('\n');
        }
        if !s.secrets.is_empty() {
            let _ = writeln!(
                md,
                "| Secret | Recovery time | Objective | Data | Hash before | Hash after | Met |"
            );
            let _ = writeln!(md, "|---|---|---|---|---|---|---|");
            for x in &s.secrets {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | `{}` | `{}` | {} |",
                    x.name,
                    secret_time(x),
                    duration(x.objective_seconds),
                    data_label(x.data),
                    x.baseline_hash,
                    x.final_hash.as_deref().unwrap_or("-"),
                    if x.objective_met { "yes" } else { "no" }
                );
            }
        }
    }
    md
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// One test case per scenario; a missed objective is a failure, a scenario
/// that did not run is skipped.
pub fn junit(r: &DrillReport) -> String {
    let failures = r
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Missed)
        .count();
    let skipped = r
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::NotRun)
        .count();
    let total: f64 = r
        .scenarios
        .iter()
        .filter_map(|s| s.phases.last().map(|p| p.offset_seconds))
        .sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"disaster recovery drill\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        r.scenarios.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"drill ({})\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{total:.3}\" timestamp=\"{}\">",
        xml(&r.environment),
        r.scenarios.len(),
        r.started_at
    );
    for s in &r.scenarios {
        let time = s.phases.last().map(|p| p.offset_seconds).unwrap_or(0.0);
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.3}\">",
            xml(&s.feature),
            xml(&s.name)
        );
        let _ = writeln!(out, "      <properties>");
        for x in &s.secrets {
            let _ = writeln!(
                out,
                "        <property name=\"{}\" value=\"recovery {}; data {}\"/>",
                xml(&x.name),
                xml(&secret_time(x)),
                data_label(x.data)
            );
        }
        let _ = writeln!(out, "      </properties>");
        match s.verdict {
            Verdict::Missed => {
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\">{}</failure>",
                    xml(s.reasons.first().map(String::as_str).unwrap_or("missed")),
                    xml(&s.reasons.join("\n"))
                );
            }
            Verdict::NotRun => {
                let _ = writeln!(
                    out,
                    "      <skipped message=\"{}\"/>",
                    xml(&outcome_label(&s.outcome))
                );
            }
            Verdict::Met => {}
        }
        let _ = writeln!(out, "    </testcase>");
    }
    if let Some(why) = &r.interrupted {
        let _ = writeln!(
            out,
            "    <testcase classname=\"drill\" name=\"the drill ran to its end\" time=\"0\">\n      <failure message=\"{}\"/>\n    </testcase>",
            xml(&interrupted_note(why, r))
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Marker colours of the timeline; the screenshot check looks for them.
pub fn phase_colour(p: Phase) -> &'static str {
    match p {
        Phase::Baseline => "#7f7f7f",
        Phase::DisasterInjected => "#d62728",
        Phase::Detected => "#ff7f0e",
        Phase::RecoveryAction => "#1f77b4",
        Phase::SecretRestored => "#2ca02c",
        Phase::Verified => "#9467bd",
    }
}

/// The bar of the time a Secret was out of order.
pub const OUTAGE_BAR: &str = "#e4572e";

/// The band where the axis breaks for a jump of the virtual clock.
pub const JUMP_BAND: &str = "#f5d76e";

/// One line of a scenario's table of events: a phase or a clock jump.
struct TimelineRow {
    at: jiff::Timestamp,
    offset_seconds: f64,
    label: &'static str,
    detail: String,
}

fn timeline_rows(s: &ScenarioReport) -> Vec<TimelineRow> {
    let mut rows: Vec<TimelineRow> = s
        .phases
        .iter()
        .map(|p| TimelineRow {
            at: p.at,
            offset_seconds: p.offset_seconds,
            label: p.phase.label(),
            detail: p.detail.clone(),
        })
        .chain(s.jumps.iter().map(|j| TimelineRow {
            at: j.at,
            offset_seconds: j.offset_seconds,
            label: "clock jump",
            detail: format!("the virtual clock jumped {} forward", duration(j.seconds)),
        }))
        .collect();
    // Stable: a jump stays after the phases stamped at the same instant.
    rows.sort_by(|a, b| a.offset_seconds.total_cmp(&b.offset_seconds));
    rows
}

/// Where each time (seconds since the baseline) goes on a timeline: to
/// scale, except that each jump of the virtual clock takes a fixed-width
/// break, so that an hour passed in one step neither squeezes the events
/// around it into a point nor looks like no time at all.
pub struct Axis {
    left: f64,
    scale: f64,
    break_width: f64,
    /// (start, length) of each jump, in order.
    jumps: Vec<(f64, f64)>,
}

impl Axis {
    pub fn new(left: f64, width: f64, end: f64, jumps: &[(f64, f64)]) -> Self {
        let mut jumps: Vec<(f64, f64)> = jumps.iter().copied().filter(|j| j.1 > 0.0).collect();
        jumps.sort_by(|a, b| a.0.total_cmp(&b.0));
        let break_width = 48.0_f64.min(width / (2.0 * jumps.len().max(1) as f64));
        let jumped: f64 = jumps.iter().map(|j| j.1).sum();
        let real = (end - jumped).max(0.0);
        let room = (width - break_width * jumps.len() as f64).max(1.0);
        Self {
            left,
            // Everything at one instant: all marks at the left.
            scale: if real > 0.0 { room / real } else { 0.0 },
            break_width,
            jumps,
        }
    }

    pub fn x(&self, t: f64) -> f64 {
        let mut x = self.left;
        let mut from = 0.0;
        for &(start, len) in &self.jumps {
            if t <= start {
                break;
            }
            x += (start - from) * self.scale;
            if t < start + len {
                // Inside a jump (an instant only a virtual clock skips).
                return x + self.break_width * (t - start) / len;
            }
            x += self.break_width;
            from = start + len;
        }
        x + (t - from).max(0.0) * self.scale
    }

    /// The breaks: (x where it starts, its width, the jump's length).
    pub fn breaks(&self) -> Vec<(f64, f64, f64)> {
        self.jumps
            .iter()
            .map(|&(start, len)| (self.x(start), self.break_width, len))
            .collect()
    }
}

fn offset_of(s: &ScenarioReport, t: jiff::Timestamp) -> Option<f64> {
    let b = s.phases.first()?.at;
    Some((t.as_millisecond() - b.as_millisecond()) as f64 / 1000.0)
}

/// A timeline as SVG, to scale with a marked break for each jump of the
/// virtual clock (see [`Axis`]).
pub fn timeline_svg(s: &ScenarioReport) -> String {
    let mut times: Vec<f64> = s.phases.iter().map(|p| p.offset_seconds).collect();
    for x in &s.secrets {
        times.extend(
            [x.affected_at, x.restored_at]
                .into_iter()
                .flatten()
                .filter_map(|t| offset_of(s, t)),
        );
    }
    let jumps: Vec<(f64, f64)> = s
        .jumps
        .iter()
        .map(|j| (j.offset_seconds, j.seconds))
        .collect();
    times.extend(jumps.iter().map(|j| j.0 + j.1));
    times.sort_by(f64::total_cmp);
    times.dedup_by(|a, b| (*a - *b).abs() < 0.0005);
    let end = times.last().copied().unwrap_or(0.0);
    let (left, plot, top, row) = (240.0, 640.0, 34.0, 24.0);
    let width = left + plot + 110.0;
    let axis = Axis::new(left, plot, end, &jumps);
    // One row per kind of phase (a Secret's restoration is on its own row).
    let phase_rows: Vec<Phase> = [
        Phase::Baseline,
        Phase::DisasterInjected,
        Phase::Detected,
        Phase::RecoveryAction,
        Phase::Verified,
    ]
    .into_iter()
    .filter(|k| s.phases.iter().any(|p| p.phase == *k))
    .collect();
    let rows = s.secrets.len() + phase_rows.len();
    let height = top + row * rows as f64 + 80.0;
    let end_x = left + plot;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"100%\" style=\"max-width:{width:.0}px\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"timeline of {}\">",
        xml(&s.name)
    );
    let axis_y = top + row * rows as f64;
    for (x, w, len) in axis.breaks() {
        let mid = x + w / 2.0;
        let _ = write!(
            svg,
            "<g class=\"jump\"><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{JUMP_BAND}\"><title>the virtual clock jumped {} forward</title></rect><text x=\"{mid:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">jump +{}</text></g>",
            top - 12.0,
            axis_y - top + 12.0,
            xml(&duration(len)),
            top - 16.0,
            xml(&duration(len))
        );
    }
    // The axis, broken (a zigzag) where the clock jumped.
    let mut from = left;
    for (x, w, _) in axis.breaks() {
        let _ = write!(
            svg,
            "<line x1=\"{from:.1}\" y1=\"{axis_y}\" x2=\"{x:.1}\" y2=\"{axis_y}\" stroke=\"#333\"/><polyline points=\"{x:.1},{axis_y} {:.1},{:.1} {:.1},{:.1} {:.1},{axis_y}\" fill=\"none\" stroke=\"#333\"/>",
            x + w / 3.0,
            axis_y - 5.0,
            x + 2.0 * w / 3.0,
            axis_y + 5.0,
            x + w
        );
        from = x + w;
    }
    let _ = write!(
        svg,
        "<line x1=\"{from:.1}\" y1=\"{axis_y}\" x2=\"{end_x:.1}\" y2=\"{axis_y}\" stroke=\"#333\" stroke-width=\"1\"/>"
    );
    // A tick per distinct time; labels only where they do not overlap.
    let mut last_label = f64::NEG_INFINITY;
    for t in &times {
        let x = axis.x(*t);
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{axis_y}\" stroke=\"#ddd\"/>"
        );
        if x - last_label >= 14.0 {
            last_label = x;
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-35 {x:.1} {:.1})\">+{}</text>",
                axis_y + 14.0,
                axis_y + 14.0,
                xml(&duration(*t))
            );
        }
    }
    for (i, kind) in phase_rows.iter().enumerate() {
        let _ = write!(
            svg,
            "<text x=\"8\" y=\"{:.1}\" font-size=\"12\" font-style=\"italic\">{}</text>",
            top + row * (i as f64 + 0.5) + 4.0,
            kind.label()
        );
    }
    for p in s.phases.iter().filter(|p| p.phase != Phase::SecretRestored) {
        let x = axis.x(p.offset_seconds);
        let phase_y = top
            + row
                * (phase_rows
                    .iter()
                    .position(|k| *k == p.phase)
                    .unwrap_or_default() as f64
                    + 0.5);
        let _ = write!(
            svg,
            "<circle class=\"phase {}\" cx=\"{x:.1}\" cy=\"{phase_y:.1}\" r=\"7\" fill=\"{}\"><title>{}: {} (+{})</title></circle>",
            serde_json::to_value(p.phase)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            phase_colour(p.phase),
            p.phase.label(),
            xml(&p.detail),
            xml(&duration(p.offset_seconds))
        );
    }
    for (i, x) in s.secrets.iter().enumerate() {
        let y = top + row * (i as f64 + phase_rows.len() as f64 + 0.5);
        let _ = write!(
            svg,
            "<text x=\"8\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            y + 4.0,
            xml(&x.name)
        );
        let Some(a) = x.affected_at.and_then(|a| offset_of(s, a)) else {
            let _ = write!(
                svg,
                "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{end_x:.1}\" y2=\"{y:.1}\" stroke=\"#2ca02c\" stroke-width=\"2\" stroke-dasharray=\"4 4\"><title>not affected</title></line>"
            );
            continue;
        };
        let x1 = axis.x(a);
        let x2 = x
            .restored_at
            .and_then(|r| offset_of(s, r))
            .map(|r| axis.x(r))
            .unwrap_or(end_x);
        let _ = write!(
            svg,
            "<rect class=\"outage\" x=\"{x1:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{OUTAGE_BAR}\"><title>{}: out of order for {}</title></rect>",
            y - 7.0,
            (x2 - x1).max(3.0),
            xml(&x.name),
            xml(&opt_duration(x.outage_seconds))
        );
        if x.restored_at.is_some() {
            let _ = write!(
                svg,
                "<circle class=\"restored\" cx=\"{x2:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"{}\"><title>restored: {}</title></circle>",
                phase_colour(Phase::SecretRestored),
                xml(&secret_time(x))
            );
        } else {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#d62728\">not restored</text>",
                x2 + 6.0,
                y + 4.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

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
        if r.objectives.allow_data_loss {
            "allowed"
        } else {
            "not allowed"
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_whole_units_without_zero_parts() {
        assert_eq!(duration(0.042), "0.042 s");
        assert_eq!(duration(300.0), "5 min");
        assert_eq!(duration(299.96), "5 min");
        assert_eq!(duration(421.5), "7 min 1.5 s");
        assert_eq!(duration(3600.0), "1 h");
        assert_eq!(duration(3601.0), "1 h 0 min 1 s");
        assert_eq!(duration(3660.0), "1 h 1 min");
    }

    #[test]
    fn the_axis_is_to_scale_except_for_a_fixed_break_per_jump() {
        // 2 s of events, a one-hour jump at 1 s, 640 px of plot.
        let axis = Axis::new(100.0, 640.0, 3602.0, &[(1.0, 3600.0)]);
        let (x, w, len) = axis.breaks()[0];
        assert_eq!(len, 3600.0);
        assert_eq!(w, 48.0);
        // Before the jump and after it, a second is the same width.
        let before = axis.x(1.0) - axis.x(0.0);
        let after = axis.x(3602.0) - axis.x(3601.0);
        assert!((before - after).abs() < 1e-9, "{before} vs {after}");
        assert!((before - (640.0 - 48.0) / 2.0).abs() < 1e-9, "{before}");
        // The jump takes its break and no more.
        assert!((axis.x(3601.0) - axis.x(1.0) - 48.0).abs() < 1e-9);
        assert_eq!(x, axis.x(1.0));
        assert!((axis.x(3602.0) - 740.0).abs() < 1e-9);
        // Events 10 ms apart are told apart (they were one slot each).
        assert!(axis.x(0.01) > axis.x(0.0));
    }

    #[test]
    fn without_jumps_the_axis_is_plainly_proportional() {
        let axis = Axis::new(0.0, 600.0, 6.0, &[]);
        assert!(axis.breaks().is_empty());
        assert!((axis.x(3.0) - 300.0).abs() < 1e-9);
        // Nothing but one instant: everything at the left, no division by 0.
        let point = Axis::new(10.0, 600.0, 0.0, &[]);
        assert_eq!(point.x(0.0), 10.0);
    }
}
