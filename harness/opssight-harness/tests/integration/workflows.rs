//! The GitHub workflows do what the README says: pull requests run .ci/run;
//! the nightly job installs the pinned tools, runs the scenarios and the
//! drill on kind, removes leftovers and uploads the reports whatever happens.

use crate::common;

use serde_json::Value;

fn workflow(name: &str) -> Value {
    let path = common::repo_root().join(".github/workflows").join(name);
    serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn steps(w: &Value, job: &str) -> Vec<Value> {
    w["jobs"][job]["steps"].as_array().unwrap().clone()
}

fn run_of(step: &Value) -> String {
    step["run"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn pull_requests_run_the_ci_script() {
    let w = workflow("ci.yml");
    assert!(w["on"].get("pull_request").is_some(), "{w}");
    let s = steps(&w, "test");
    assert!(s.iter().any(|s| run_of(s).trim() == ".ci/run"), "{s:?}");
}

#[test]
fn the_nightly_job_runs_kind_and_uploads_everything() {
    let w = workflow("nightly.yml");
    assert!(w["on"]["schedule"][0]["cron"].is_string(), "{w}");
    let s = steps(&w, "kind");
    let position = |needle: &str| {
        s.iter()
            .position(|s| run_of(s).contains(needle))
            .unwrap_or_else(|| panic!("no step runs {needle:?}"))
    };
    let install = position("scripts/install-tools.sh");
    let test = position("test --env kind");
    let drill = position("drill --env kind");
    let down = position("down --all");
    assert!(install < test && test < drill && drill < down);
    let suite = run_of(&s[test]);
    for flag in [
        "--junit artifacts/junit.xml",
        "--json artifacts/cucumber.json",
        "--artifacts artifacts",
    ] {
        assert!(suite.contains(flag), "{suite}");
    }
    for later in [drill, down] {
        assert_eq!(s[later]["if"], "always()", "{}", s[later]);
    }
    let upload = s
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .expect("an upload step");
    assert_eq!(upload["if"], "always()");
    let paths: Vec<&str> = upload["with"]["path"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .collect();
    assert_eq!(paths.first(), Some(&"artifacts/"), "{paths:?}");
    // The kind cluster's kubeconfig (an admin certificate) stays behind.
    assert!(
        paths.contains(&"!artifacts/kind-*/kubeconfig"),
        "the upload would include the cluster's kubeconfig: {paths:?}"
    );
}

#[test]
fn the_nightly_token_may_only_read_the_repository() {
    let w = workflow("nightly.yml");
    assert_eq!(
        w["permissions"],
        serde_json::json!({"contents": "read"}),
        "{w}"
    );
}
