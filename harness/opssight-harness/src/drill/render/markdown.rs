//! The drill report as Markdown.

use std::fmt::Write as _;

use super::text::{
    data_label, duration, interrupted_note, opt_duration, outcome_label, secret_time,
    timeline_rows, verdict_label,
};
use crate::drill::report::DrillReport;

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
        r.objectives.data_loss()
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
