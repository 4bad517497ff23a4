//! `opssight-harness drill` on the embedded environment: the four reports,
//! their phases, per-Secret times and verdicts, objectives that are missed,
//! and no seeded value in any report.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const SECRETS: [&str; 4] = [
    "opssight-app-secrets",
    "opssight-database-secrets",
    "opssight-external-services",
    "opssight-redis-secrets",
];

fn drill(work: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .arg("drill")
        .arg("--report-dir")
        .arg(work.join("reports"))
        .arg("--artifacts")
        .arg(work.join("artifacts"))
        .args(args)
        .env("OPSSIGHT_VALUE_LEDGER", work.join("ledger"))
        .current_dir(common::repo_root())
        .output()
        .expect("running opssight-harness drill")
}

fn read(work: &Path, file: &str) -> String {
    std::fs::read_to_string(work.join("reports").join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn scenario<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name:?} in the report"))
}

fn phases(s: &Value) -> Vec<&str> {
    s["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect()
}

/// `scenarios`: how many stacks the run started (each seeds ten values or more).
fn assert_no_value_in_reports(work: &Path, scenarios: usize) {
    let values = common::ledger_values(&work.join("ledger"));
    assert!(
        values.len() >= 10 * scenarios,
        "the ledger holds {} values",
        values.len()
    );
    for file in [
        "drill-report.json",
        "drill-report.md",
        "drill-junit.xml",
        "drill-report.html",
    ] {
        let text = read(work, file);
        for v in &values {
            assert!(
                !text.contains(v.as_str()),
                "{file} holds a seeded value ({} chars)",
                v.len()
            );
        }
    }
}

#[test]
fn the_drill_of_the_disaster_recovery_feature_meets_its_objectives() {
    let work = tempfile::tempdir().unwrap();
    let out = drill(work.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "drill failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("disaster recovery drill: objectives met"));

    let report: Value = serde_json::from_str(&read(work.path(), "drill-report.json")).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["environment"], "embedded");
    assert_eq!(report["verdict"], "met");
    assert_eq!(report["objectives"]["max_recovery_seconds"], 300.0);
    let scenarios = report["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 7, "every disaster-recovery scenario");
    for s in scenarios {
        let name = s["name"].as_str().unwrap();
        assert_eq!(s["outcome"]["status"], "passed", "{name}");
        assert_eq!(s["verdict"], "met", "{name}: {}", s["reasons"]);
        let p = phases(s);
        assert_eq!(p.first(), Some(&"baseline"), "{name}: {p:?}");
        assert_eq!(p.last(), Some(&"verified"), "{name}: {p:?}");
        assert!(p.contains(&"disaster-injected"), "{name}: {p:?}");
        let offsets: Vec<f64> = s["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["offset_seconds"].as_f64().unwrap())
            .collect();
        assert!(
            offsets.windows(2).all(|w| w[0] <= w[1]),
            "{name}: phases out of order"
        );
        let names: Vec<&str> = s["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, SECRETS, "{name}");
        for x in s["secrets"].as_array().unwrap() {
            assert_eq!(x["objective_met"], true, "{name}: {x}");
            assert!(
                x["data"] == "intact" || x["data"] == "changed-as-intended",
                "{name}: {x}"
            );
            assert_eq!(x["final_hash"], x["expected_hash"], "{name}: {x}");
            assert!(x["baseline_hash"].as_str().unwrap().starts_with("sha256:"));
        }
    }

    // The namespace's deletion takes every Secret: each is timed, in order.
    let ns = scenario(&report, "The namespace is deleted and rebuilt");
    assert_eq!(
        phases(ns)
            .into_iter()
            .filter(|p| *p != "secret-restored")
            .collect::<Vec<_>>(),
        [
            "baseline",
            "disaster-injected",
            "detected",
            "recovery-action",
            "verified"
        ]
    );
    for x in ns["secrets"].as_array().unwrap() {
        assert_eq!(x["affected"], true, "{x}");
        let t = x["recovery_seconds"].as_f64().expect("a recovery time");
        assert!((0.0..300.0).contains(&t), "{x}");
        assert!(x["restored_at"].as_str().unwrap() >= x["affected_at"].as_str().unwrap());
    }
    // A Secret deleted by hand: only that one is affected; the controller
    // repairs it with no recovery action.
    let by_hand = scenario(&report, "A synced Secret deleted by hand is recreated");
    assert!(!phases(by_hand).contains(&"recovery-action"));
    for x in by_hand["secrets"].as_array().unwrap() {
        assert_eq!(
            x["affected"],
            x["name"] == "opssight-database-secrets",
            "{x}"
        );
    }
    // The controller down while app's value changes: the new value counts.
    let down = scenario(&report, "The controller is down and comes back");
    let app = &down["secrets"][0];
    assert_eq!(app["data"], "changed-as-intended", "{app}");
    assert_ne!(app["baseline_hash"], app["final_hash"]);
    // ... and its Secret, stale from the change until the controller is
    // back, is affected and timed, as the timeline's detection says; the
    // others never stopped holding what they should.
    assert!(phases(down).contains(&"detected"), "{down}");
    for x in down["secrets"].as_array().unwrap() {
        let stale = x["name"] == "opssight-app-secrets";
        assert_eq!(x["affected"], stale, "{x}");
        assert_eq!(x["recovery_seconds"].is_f64(), stale, "{x}");
    }
    // The refresh interval elapsing is a jump of the virtual clock, on
    // record with its length.
    let jumps = down["jumps"].as_array().expect("jumps");
    assert!(
        jumps
            .iter()
            .any(|j| j["seconds"].as_f64().unwrap() >= 3600.0),
        "{jumps:?}"
    );
    // One clock in the header: nothing is stamped after the drill finished.
    let finished = report["finished_at"].as_str().unwrap();
    for s in report["scenarios"].as_array().unwrap() {
        for p in s["phases"].as_array().unwrap() {
            let at = p["at"].as_str().unwrap();
            assert!(
                at.parse::<jiff::Timestamp>().unwrap() <= finished.parse().unwrap(),
                "{at} after the drill finished at {finished}"
            );
        }
    }
    assert!(report["wall_seconds"].as_f64().unwrap() > 0.0);

    let md = read(work.path(), "drill-report.md");
    assert!(md.starts_with("# Disaster recovery drill: objectives met"));
    for s in scenarios {
        assert!(md.contains(&format!("## {}", s["name"].as_str().unwrap())));
    }
    assert!(md.contains("| disaster injected | namespace opssight-production deleted |"));
    assert!(
        md.contains("| clock jump | the virtual clock jumped 1 h"),
        "{md}"
    );
    assert!(md.contains("restored within 5 min of"), "{md}");
    let junit = read(work.path(), "drill-junit.xml");
    assert!(junit.contains("tests=\"7\" failures=\"0\" skipped=\"0\""));
    assert_eq!(junit.matches("<testcase ").count(), 7);
    assert!(!junit.contains("<failure"));
    let html = read(work.path(), "drill-report.html");
    assert_eq!(html.matches("<svg xmlns").count(), 7, "one timeline each");
    assert!(html.contains("class=\"outage\""));
    assert!(html.contains("<g class=\"jump\">"), "a marked jump");
    for text in [&md, &html] {
        assert!(
            !text.contains(" 0.0 s"),
            "a zero part of a duration printed"
        );
    }
    assert!(!html.contains("src=\"http"), "self-contained");

    assert_no_value_in_reports(work.path(), 7);
}

#[test]
fn a_drill_that_does_not_recover_or_recovers_too_slowly_misses_its_objectives() {
    let work = tempfile::tempdir().unwrap();
    let objectives = work.path().join("objectives.yaml");
    std::fs::write(
        &objectives,
        "# only the slow one is held to an impossible time\nmax_recovery_seconds: 300\nsecrets:\n  opssight-redis-secrets:\n    max_recovery_seconds: 0.000001\n",
    )
    .unwrap();
    let feature =
        common::repo_root().join("harness/opssight-harness/tests/drill/unrecovered.feature");
    let out = drill(
        work.path(),
        &[
            "--features",
            feature.to_str().unwrap(),
            "--objectives",
            objectives.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("disaster recovery drill: objectives missed"));

    let report: Value = serde_json::from_str(&read(work.path(), "drill-report.json")).unwrap();
    assert_eq!(report["verdict"], "missed");
    let lost = scenario(&report, "The namespace is deleted and nobody rebuilds it");
    assert_eq!(
        lost["outcome"]["status"], "passed",
        "the scenario itself passes"
    );
    assert_eq!(lost["verdict"], "missed");
    for x in lost["secrets"].as_array().unwrap() {
        assert_eq!(x["data"], "missing", "{x}");
        assert_eq!(x["restored_at"], Value::Null, "{x}");
        assert_eq!(x["objective_met"], false);
    }
    let reasons = lost["reasons"].to_string();
    assert!(
        reasons.contains("opssight-app-secrets was not restored"),
        "{reasons}"
    );
    assert!(reasons.contains("its values are lost"), "{reasons}");

    let slow = scenario(
        &report,
        "The namespace is rebuilt, slower than the objective",
    );
    assert_eq!(slow["verdict"], "missed");
    let by_name = |n: &str| {
        slow["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("opssight-redis-secrets")["objective_met"], false);
    assert_eq!(by_name("opssight-app-secrets")["objective_met"], true);
    assert_eq!(
        slow["reasons"].as_array().unwrap().len(),
        1,
        "{}",
        slow["reasons"]
    );
    assert!(
        slow["reasons"][0]
            .as_str()
            .unwrap()
            .contains("opssight-redis-secrets was restored in")
    );

    let junit = read(work.path(), "drill-junit.xml");
    assert!(junit.contains("failures=\"2\""), "{junit}");
    let md = read(work.path(), "drill-report.md");
    assert!(md.contains("LOST (Secret missing)"));
    let html = read(work.path(), "drill-report.html");
    assert!(html.contains("not restored"));
    assert_no_value_in_reports(work.path(), 2);
}

#[test]
fn a_malformed_objectives_file_is_named_with_its_field() {
    let work = tempfile::tempdir().unwrap();
    let objectives = work.path().join("objectives.yaml");
    std::fs::write(
        &objectives,
        "max_recovery_seconds: 300\nallow_data_los: true\n",
    )
    .unwrap();
    let out = drill(work.path(), &["--objectives", objectives.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("objectives.yaml"), "{stderr}");
    assert!(stderr.contains("allow_data_los"), "{stderr}");
    assert!(!work.path().join("reports").exists(), "nothing ran");
}
