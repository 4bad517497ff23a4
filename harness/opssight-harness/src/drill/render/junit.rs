//! The drill report as JUnit XML.

use std::fmt::Write as _;

use super::text::{data_label, interrupted_note, outcome_label, secret_time, xml};
use crate::drill::report::{DrillReport, Verdict};

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
