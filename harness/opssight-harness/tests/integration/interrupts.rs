//! A `test` or `drill` interrupted mid-run (SIGTERM, SIGINT, SIGHUP): it
//! exits 128 + the signal, leaves no temporary file (kubeconfigs with a token
//! and a CA, snapshots of values) and no half-written report, and the drill
//! writes a report that says it was interrupted.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;

/// Starts the harness with a temporary directory of its own, and returns
/// once a first step has passed ("the OpsSight secrets system is running":
/// the environment, its kubeconfig and temporary files, exist).
fn start_and_wait_for_a_scenario(args: &[&str], tmp: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .args(args)
        .env("TMPDIR", tmp)
        .current_dir(common::repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim_start().starts_with('✔') {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("a first step passed within 120 s");
    child
}

fn signal_and_wait(child: &mut Child, signal: &str) -> Option<i32> {
    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            Instant::now() < deadline,
            "the harness did not exit within 60 s of {signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn left_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn an_interrupted_test_leaves_no_temporary_file_and_no_half_report() {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let junit = work.path().join("out/junit.xml");
    let mut child = start_and_wait_for_a_scenario(
        &[
            "test",
            "--artifacts",
            work.path().join("artifacts").to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        &tmp,
    );
    let code = signal_and_wait(&mut child, "-TERM");
    assert_eq!(code, Some(128 + 15), "exit code after SIGTERM");
    assert_eq!(left_in(&tmp), Vec::<String>::new(), "left in the temp dir");
    // Never a half-written report: none, or a whole one.
    let outs = left_in(&work.path().join("out"));
    assert!(
        outs.iter().all(|f| !f.contains("partial")),
        "a half-written report is left: {outs:?}"
    );
    if junit.exists() {
        assert!(
            std::fs::metadata(&junit).unwrap().len() > 0,
            "an empty JUnit report"
        );
    }
}

#[test]
fn an_interrupted_drill_writes_a_report_that_says_so() {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let reports = work.path().join("reports");
    let mut child = start_and_wait_for_a_scenario(
        &[
            "drill",
            "--artifacts",
            work.path().join("artifacts").to_str().unwrap(),
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        &tmp,
    );
    let code = signal_and_wait(&mut child, "-INT");
    assert_eq!(code, Some(128 + 2), "exit code after SIGINT");
    assert_eq!(left_in(&tmp), Vec::<String>::new(), "left in the temp dir");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("drill-report.json")).unwrap()).unwrap();
    assert_eq!(report["interrupted"], "by SIGINT", "{report}");
    assert_eq!(report["verdict"], "missed");
}
