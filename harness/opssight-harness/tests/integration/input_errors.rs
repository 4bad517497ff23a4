//! Bad input gets an error naming the file and line or field: a malformed
//! feature file, an undefined step, a malformed fixture, and a manifest that
//! fails ESO's CRD schema.

use std::path::Path;
use std::process::Command;

use crate::common;
use common::{fixtures_with, repo_root};

fn harness(args: &[&str], fixtures: Option<&Path>) -> (Option<i32>, String) {
    // A scenario that fails saves its diagnostics: here, not in the
    // repository's artifacts/ (where a user's own runs put theirs).
    let artifacts = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opssight-harness"));
    cmd.args(args);
    if args.first() == Some(&"test") {
        cmd.arg("--artifacts").arg(artifacts.path());
    }
    cmd.current_dir(repo_root())
        .env("OPSSIGHT_WAIT_SECONDS", "4")
        .env_remove("OPSSIGHT_ENV");
    if let Some(f) = fixtures {
        cmd.env("OPSSIGHT_FIXTURES", f);
    }
    let out = cmd.output().expect("running opssight-harness");
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_malformed_feature_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("broken.feature");
    std::fs::write(
        &f,
        "Feature: broken\n  Scenario: y\n    Given a step\n  Examples oops |\n   | a |\n",
    )
    .unwrap();
    let (code, out) = harness(&["test", "--features", f.to_str().unwrap()], None);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(&format!(
            "{}: malformed feature file: line:column 4:",
            f.display()
        )) || out.contains(&format!(
            "{}: malformed feature file: line:column 5:",
            f.display()
        )),
        "{out}"
    );
}

#[test]
fn an_undefined_step_fails_naming_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("undefined.feature");
    std::fs::write(
        &f,
        "Feature: x\n  Scenario: y\n    Then something nobody defined\n",
    )
    .unwrap();
    let (code, out) = harness(&["test", "--features", f.to_str().unwrap()], None);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("undefined.feature:3:5"), "{out}");
    assert!(out.contains("Step doesn't match any function"), "{out}");
}

#[test]
fn a_malformed_fixture_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let (fixtures, file) = fixtures_with(
        dir.path(),
        "k8s/base/external-secrets.yaml",
        "  refreshInterval: 1h",
        "  refreshInterval: [1h",
    );
    let feature = repo_root().join("features/manifests.feature");
    let (code, out) = harness(
        &["test", "--features", feature.to_str().unwrap()],
        Some(&fixtures),
    );
    // Found before the first scenario starts: exit 2, nothing started.
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(&format!("{}: not valid YAML", file.display())),
        "{out}"
    );
    assert!(out.contains("line"), "{out}");
    assert!(!out.contains("Scenario"), "a scenario ran: {out}");
}

/// Each bad fixture is found before anything starts: exit 2, the file and
/// its line or field named, no scenario run, under `test` and `drill`.
#[test]
fn bad_fixtures_are_named_before_anything_starts() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (file, from, to, what the error must say)
        (
            "secretsmanager/opssight-production.json",
            "\"secrets\"",
            "\"secrets\" [",
            "line",
        ),
        (
            "secretsmanager/opssight-production.json",
            "\"length\": ",
            "\"length\": \"ten\", \"x\": ",
            "generate needs a length",
        ),
        (
            "rotation-policy.json",
            "\"policies\"",
            "\"policies\": 1, \"p\"",
            "line",
        ),
    ];
    for (file, from, to, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (fixtures, path) = fixtures_with(dir.path(), file, from, to);
        for cmd in ["test", "drill"] {
            let report = dir.path().join("report");
            let args: &[&str] = if cmd == "drill" {
                &["drill", "--report-dir", report.to_str().unwrap()]
            } else {
                &["test"]
            };
            let (code, out) = harness(args, Some(&fixtures));
            assert_eq!(code, Some(2), "{cmd} with {file} broken: {out}");
            assert!(out.contains(&path.display().to_string()), "{cmd}: {out}");
            assert!(out.contains(says), "{cmd}: {out}");
            assert!(!out.contains("starting the embedded environment"), "{out}");
            assert!(!out.contains("scenarios ("), "{cmd}: a scenario ran: {out}");
        }
    }
    // A directory where a file should be.
    let dir = tempfile::tempdir().unwrap();
    let (fixtures, _) = fixtures_with(dir.path(), "rotation-policy.json", "", "");
    let policy = fixtures.join("rotation-policy.json");
    std::fs::remove_file(&policy).unwrap();
    std::fs::create_dir(&policy).unwrap();
    let (code, out) = harness(&["test"], Some(&fixtures));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains(&policy.display().to_string()), "{out}");
    assert!(out.contains("directory"), "{out}");
}

/// A seed length of 10^12 is refused with the field named, not an abort.
#[test]
fn a_huge_generated_length_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (fixtures, path) = fixtures_with(
        dir.path(),
        "secretsmanager/opssight-production.json",
        "\"length\": ",
        "\"length\": 1000000000000, \"was\": ",
    );
    let (code, out) = harness(&["test"], Some(&fixtures));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains(&path.display().to_string()), "{out}");
    assert!(
        out.contains("generate.length 1000000000000 is out of range"),
        "{out}"
    );
}

/// `--env existing` with a kubeconfig that is not one: exit 2 naming it,
/// before anything starts.
#[test]
fn a_bad_kubeconfig_is_named_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "apiVersion: v1\nclusters: [\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .args(["test", "--env", "existing"])
        .current_dir(repo_root())
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("OPSSIGHT_ENV")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains(&kubeconfig.display().to_string()), "{text}");
    assert!(!text.contains("scenarios ("), "a scenario ran: {text}");
}

/// A step's error keeps its chain of causes (cucumber shows `{}` of it).
#[test]
fn a_step_error_keeps_its_causes() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("patch.feature");
    std::fs::write(
        &f,
        "Feature: x\n  Scenario: y\n    Given the OpsSight secrets system is running\n    Given the ExternalSecret \"no-such-es\" has refresh interval \"1m\"\n",
    )
    .unwrap();
    let (code, out) = harness(&["test", "--features", f.to_str().unwrap()], None);
    assert_eq!(code, Some(1), "{out}");
    // kube's error says the API's reason under its own context.
    assert!(out.contains("no-such-es"), "{out}");
    assert!(
        out.contains("NotFound") || out.contains("not found"),
        "{out}"
    );
}

/// CLI edges: nothing selected, a malformed feature in a subdirectory,
/// outputs that cannot be written: exit 2 with the reason, before running.
#[test]
fn cli_edges_exit_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, out) = harness(&["test", "--features", empty.to_str().unwrap()], None);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("nothing to run"), "{out}");
    let (code, out) = harness(&["test", "--tags", "@typo"], None);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--tags \"@typo\" selects none"), "{out}");
    let deep = dir.path().join("features/sub/deeper");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::copy(
        repo_root().join("features/sync.feature"),
        dir.path().join("features/sync.feature"),
    )
    .unwrap();
    let bad = deep.join("bad.feature");
    std::fs::write(
        &bad,
        "Feature: b\n  Scenario: y\n    Given a step\n  Examples oops |\n",
    )
    .unwrap();
    let features = dir.path().join("features");
    let (code, out) = harness(&["test", "--features", features.to_str().unwrap()], None);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(&format!(
            "{}: malformed feature file: line:column",
            bad.display()
        )),
        "{out}"
    );
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "").unwrap();
    let under = plain.join("out.json");
    let (code, out) = harness(&["test", "--json", under.to_str().unwrap()], None);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains(&plain.display().to_string()), "{out}");
    assert!(!out.contains("scenarios ("), "it ran: {out}");
    let (code, out) = harness(&["drill", "--report-dir", plain.to_str().unwrap()], None);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(&format!("--report-dir {}", plain.display())),
        "{out}"
    );
    assert!(
        !out.contains("disaster recovery drill:"),
        "the drill ran: {out}"
    );
}

/// Objectives: `yes` is not a boolean, a per-Secret objective must name a
/// Secret of the drill.
#[test]
fn objectives_refuse_yes_and_unknown_secrets() {
    let dir = tempfile::tempdir().unwrap();
    for (text, says) in [
        ("allow_data_loss: \"yes\"\n", "allow_data_loss"),
        ("allow_data_loss: yes\n", "allow_data_loss"),
        (
            "secrets:\n  opssight-app-secret:\n    max_recovery_seconds: 30\n",
            "secrets: opssight-app-secret: no such Secret",
        ),
    ] {
        let o = dir.path().join("objectives.yaml");
        std::fs::write(&o, text).unwrap();
        let report = dir.path().join("report");
        let (code, out) = harness(
            &[
                "drill",
                "--objectives",
                o.to_str().unwrap(),
                "--report-dir",
                report.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(code, Some(2), "{text}: {out}");
        assert!(out.contains(says), "{text}: {out}");
        assert!(
            !out.contains("disaster recovery drill:"),
            "the drill ran: {out}"
        );
    }
}

/// `test | head -1`: a closed stdout does not make the harness panic.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} test --features features/sync.feature | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}",
            env!("CARGO_BIN_EXE_opssight-harness")
        ))
        .current_dir(repo_root())
        .env_remove("OPSSIGHT_ENV")
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert_eq!(status.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_manifest_that_fails_the_crd_schema_names_its_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let (fixtures, file) = fixtures_with(
        dir.path(),
        "k8s/base/external-secrets.yaml",
        "  refreshInterval: 1h",
        "  refreshInterval: 3600",
    );
    let feature = repo_root().join("features/manifests.feature");
    let (code, out) = harness(
        &["test", "--features", feature.to_str().unwrap()],
        Some(&fixtures),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&file.display().to_string()), "{out}");
    assert!(
        out.contains("spec.refreshInterval: Invalid value: \"integer\""),
        "{out}"
    );
}
