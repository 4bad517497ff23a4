//! No generated secret value appears in stdout, stderr, the JUnit and JSON
//! reports, the logs (at debug level) or the saved diagnostics of a run of
//! the whole suite, including a deliberately failing scenario.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p)
            } else {
                out.push(p)
            }
        }
    }
    out
}

fn run(features: &Path, work: &Path, ledger: &Path, name: &str) -> (bool, Vec<(String, String)>) {
    let junit = work.join(format!("{name}.xml"));
    let json = work.join(format!("{name}.json"));
    let artifacts = work.join(format!("{name}-artifacts"));
    let out = Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .env_remove("OPSSIGHT_ENV")
        .args(["test", "--features"])
        .arg(features)
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg("--artifacts")
        .arg(&artifacts)
        .env("OPSSIGHT_VALUE_LEDGER", ledger)
        .env("RUST_LOG", "debug")
        // The deliberate failures wait for what never comes: not the
        // default 15 s (the whole suite passes well within this too).
        .env("OPSSIGHT_WAIT_SECONDS", "4")
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .output()
        .expect("running opssight-harness");
    let mut texts = vec![
        (
            format!("{name} stdout"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        (
            format!("{name} stderr"),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
    ];
    for f in [junit, json].into_iter().chain(files_under(&artifacts)) {
        texts.push((
            f.display().to_string(),
            std::fs::read_to_string(&f).unwrap_or_default(),
        ));
    }
    (out.status.success(), texts)
}

#[test]
fn no_seeded_value_in_any_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    // The three runs at once (the failing ones mostly wait for what never
    // comes), each with a ledger of its own: values of every run are
    // searched for in every output.
    let runs = [
        (root.join("../../features"), "suite"),
        (root.join("tests/hygiene/failing.feature"), "failing"),
        (
            root.join("tests/hygiene/failing_command.feature"),
            "command",
        ),
    ];
    let ledgers: Vec<PathBuf> = runs
        .iter()
        .map(|(_, name)| work.path().join(format!("{name}.values")))
        .collect();
    let mut results = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .zip(&ledgers)
            .map(|((features, name), ledger)| {
                let work = work.path();
                scope.spawn(move || run(features, work, ledger, name))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    })
    .into_iter();
    let mut next = || results.next().unwrap();
    let ((passed, mut texts), (failing_passed, failing_texts), (command_passed, command_texts)) =
        (next(), next(), next());
    let all_values = || -> Vec<String> {
        ledgers
            .iter()
            .flat_map(|l| common::ledger_values(l))
            .collect()
    };
    assert!(
        passed,
        "the suite failed:\n{}",
        texts
            .iter()
            .map(|(n, t)| format!("== {n}\n{t}"))
            .collect::<String>()
    );
    // The JUnit report has one test case per scenario of the run.
    let stdout = &texts[0].1;
    let scenarios: usize = stdout
        .lines()
        // "36 scenarios (34 passed, 2 skipped)": skipped ones are cases too.
        .find_map(|l| {
            l.split_once(" scenarios (")
                .and_then(|(n, _)| n.trim().parse().ok())
        })
        .expect("a scenario summary line");
    let junit = texts
        .iter()
        .find(|(n, _)| n.ends_with("suite.xml"))
        .map(|(_, t)| t.clone())
        .unwrap_or_default();
    assert_eq!(
        junit.matches("<testcase").count(),
        scenarios,
        "one JUnit test case per scenario"
    );
    assert!(!failing_passed, "the deliberately failing scenario passed");
    let failure_report = failing_texts
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<String>();
    assert!(
        failure_report.contains("does not hold the values of opssight/production/redis"),
        "the failure says why"
    );
    assert!(
        failure_report.contains("missing key") || failure_report.contains("unexpected key"),
        "the failure names keys"
    );
    assert!(
        failure_report.contains("== Controller log"),
        "diagnostics were printed"
    );
    texts.extend(failing_texts);
    // A failing command whose stderr holds values, raw and base64: the
    // console, JUnit, JSON and diagnostics all show its failure, redacted.
    assert!(!command_passed, "the deliberately failing command passed");
    for writer in ["command stdout", "command.xml", "command.json"] {
        let (name, text) = command_texts
            .iter()
            .find(|(n, _)| n.ends_with(writer))
            .unwrap_or_else(|| panic!("no output {writer}"));
        assert!(
            text.contains("exited with Some(3)"),
            "{name} does not show the failure: {text}"
        );
        assert!(
            text.contains("sha256"),
            "{name} does not show a redacted value: {text}"
        );
    }
    let values = all_values();
    for (name, text) in &command_texts {
        assert_eq!(
            common::value_in(&values, text, true),
            None,
            "{name} holds a generated value, raw or base64"
        );
    }
    texts.extend(command_texts);

    let values = all_values();
    // 10 generated fields in each of the 22 scenarios that start a stack, at least.
    assert!(
        values.len() > 200,
        "the ledger holds only {} values",
        values.len()
    );
    let total: usize = texts.iter().map(|(_, t)| t.len()).sum();
    assert!(total > 10_000, "suspiciously little output ({total} bytes)");
    for (name, text) in &texts {
        assert_eq!(
            common::value_in(&values, text, false),
            None,
            "{name} holds a generated value"
        );
    }
}

/// The search above can fail: it finds a value raw, and base64 where asked.
#[test]
fn the_search_finds_a_value_raw_and_in_base64() {
    let values = vec!["Zq8hT3xw9Lp2".to_owned(), "Kd0vN7sQ1mYb".to_owned()];
    let log = "DEBUG wrote Secret data {password: Kd0vN7sQ1mYb}";
    assert_eq!(
        common::value_in(&values, log, false).as_deref(),
        Some("12 chars, starting \"Kd\"")
    );
    let b64 = "data: {token: WnE4aFQzeHc5THAy}"; // base64 of the first value
    assert_eq!(common::value_in(&values, b64, false), None);
    assert!(common::value_in(&values, b64, true).is_some());
    assert_eq!(common::value_in(&values, "nothing here", true), None);
}
