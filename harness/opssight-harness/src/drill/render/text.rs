//! The words and numbers every format shows: verdicts, durations, a
//! scenario's events in order.

use crate::drill::report::{
    DataCheck, DrillReport, Outcome, ScenarioReport, SecretReport, Verdict,
};

pub fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "objectives met",
        Verdict::Missed => "objectives missed",
        Verdict::NotRun => "not run",
    }
}

pub(super) fn data_label(d: DataCheck) -> &'static str {
    match d {
        DataCheck::Intact => "intact",
        DataCheck::ChangedAsIntended => "changed as intended",
        DataCheck::Differs => "LOST (other values)",
        DataCheck::Missing => "LOST (Secret missing)",
        DataCheck::NotChecked => "not checked",
    }
}

pub(super) fn outcome_label(o: &Outcome) -> String {
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

pub(super) fn opt_duration(s: Option<f64>) -> String {
    s.map(duration).unwrap_or_else(|| "-".into())
}

pub(super) fn secret_time(s: &SecretReport) -> String {
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

pub(super) fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// One line of a scenario's table of events: a phase or a clock jump.
pub(super) struct TimelineRow {
    pub(super) at: jiff::Timestamp,
    pub(super) offset_seconds: f64,
    pub(super) label: &'static str,
    pub(super) detail: String,
}

pub(super) fn timeline_rows(s: &ScenarioReport) -> Vec<TimelineRow> {
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
}
