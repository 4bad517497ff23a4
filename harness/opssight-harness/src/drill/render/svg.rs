//! A scenario's timeline as inline SVG: to scale, with a marked break for
//! each jump of the virtual clock.

use std::fmt::Write as _;

use super::text::{duration, opt_duration, secret_time, xml};
use crate::drill::report::ScenarioReport;
use crate::scenario::Phase;

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

#[cfg(test)]
mod tests {
    use super::*;

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
