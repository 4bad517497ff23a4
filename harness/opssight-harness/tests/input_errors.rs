//! Bad input gets an error naming the file and line or field: a malformed
//! feature file, an undefined step, a malformed fixture, and a manifest that
//! fails ESO's CRD schema.

use std::path::Path;
use std::process::Command;

mod common;
use common::{fixtures_with, repo_root};

fn harness(args: &[&str], fixtures: Option<&Path>) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opssight-harness"));
    cmd.args(args)
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
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!("{}: not valid YAML", file.display())),
        "{out}"
    );
    assert!(out.contains("line"), "{out}");
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
