//! `--env existing`: the scenarios and the drill against whatever the
//! current kubeconfig context and the AWS SDK's default credentials reach,
//! here an embedded stack started by the test. Without
//! `--allow-destructive` only `@read-only` scenarios run, and nothing in the
//! cluster changes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use opssight_harness::env::Environment;
use opssight_harness::env::embedded::Embedded;
use opssight_harness::system::NAMESPACE;

use crate::common;

use common::{all_synced, changed, embedded};

/// The CLI as a user of a live system runs it: kubeconfig and AWS settings
/// from the environment, nothing else.
async fn harness(env: &Embedded, args: &[&str], work: &Path) -> Output {
    harness_with(env, args, work, &[]).await
}

async fn harness_with(env: &Embedded, args: &[&str], work: &Path, vars: &[(&str, &str)]) -> Output {
    command(env, args, work, vars).output().await.unwrap()
}

/// The harness's command line on a live system, not yet started.
fn command(
    env: &Embedded,
    args: &[&str],
    work: &Path,
    vars: &[(&str, &str)],
) -> tokio::process::Command {
    let key = env.admin_key();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_opssight-harness"));
    cmd.envs(vars.iter().copied())
        .args(args)
        .arg("--artifacts")
        .arg(work.join("artifacts"))
        .env("KUBECONFIG", env.kubeconfig())
        .env("AWS_ENDPOINT_URL", env.sm.aws.endpoint())
        .env("AWS_ACCESS_KEY_ID", &key.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &key.secret_access_key)
        .env("AWS_REGION", &env.seed().region)
        .env_remove("AWS_PROFILE")
        .env("OPSSIGHT_VALUE_LEDGER", work.join("ledger"))
        .current_dir(common::repo_root())
        .kill_on_drop(true);
    cmd
}

async fn versions(env: &Embedded) -> BTreeMap<String, String> {
    Api::<Secret>::namespaced(env.kube(), NAMESPACE)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|s| {
            (
                s.metadata.name.unwrap_or_default(),
                s.metadata.resource_version.unwrap_or_default(),
            )
        })
        .collect()
}

use common::output_text as text;
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_allow_destructive_only_read_only_scenarios_run_and_nothing_changes() {
    let env = embedded().await;
    all_synced(&env).await;
    let work = tempfile::tempdir().unwrap();
    let before = versions(&env).await;
    assert_eq!(before.len(), 5, "four Secrets and aws-secret: {before:?}");
    let out = harness(&env, &["test", "--env", "existing"], work.path()).await;
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    // sync.feature's five and manifests.feature's eight are @read-only.
    assert!(log.contains("13 passed"), "{log}");
    assert!(
        log.contains("health after the run: as the harness found it"),
        "{log}"
    );
    assert!(
        log.contains("existing is a live system and this scenario changes it (not @read-only): run with --allow-destructive"),
        "{log}"
    );
    assert!(
        log.contains("Each category ends up as its Kubernetes Secret"),
        "{log}"
    );
    assert_eq!(
        versions(&env).await,
        before,
        "a read-only run changed Secrets"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_allow_destructive_the_drill_runs_what_a_live_system_allows() {
    let env = embedded().await;
    let work = tempfile::tempdir().unwrap();
    let reports = work.path().join("reports");
    let out = harness(
        &env,
        &[
            "drill",
            "--env",
            "existing",
            "--allow-destructive",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        work.path(),
    )
    .await;
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("drill-report.json")).unwrap()).unwrap();
    assert_eq!(report["environment"], "existing");
    assert_eq!(report["verdict"], "met");
    let verdicts: BTreeMap<String, String> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // What needs the emulators (outage, snapshot, regions, a virtual clock)
    // is not run; the runbook's own procedures are.
    for name in [
        "ExternalSecret configuration lost, applied again, refresh forced",
        "The namespace is deleted and rebuilt",
        "A synced Secret deleted by hand is recreated",
    ] {
        assert_eq!(verdicts[name], "met", "{name}: {verdicts:?}");
    }
    for name in [
        "Secrets Manager restored from a snapshot",
        "Region failover to a replica",
        // Its hourly refresh would be waited for in real time.
        "The controller is down and comes back",
    ] {
        assert_eq!(verdicts[name], "not-run", "{name}: {verdicts:?}");
    }
    // The namespace was rebuilt: aws-secret was put back as it was.
    let creds = Api::<Secret>::namespaced(env.kube(), NAMESPACE)
        .get("aws-secret")
        .await
        .unwrap();
    assert_eq!(
        creds.data.unwrap()["access-key-id"].0,
        env.sm.eso_key.access_key_id.as_bytes()
    );
    // The live values were read to compare; none is in a report.
    let html = std::fs::read_to_string(reports.join("drill-report.html")).unwrap();
    for v in env.seed().all_values() {
        assert!(!html.contains(&v), "a value of the system is in the report");
        assert!(!log.contains(&v), "a value of the system is in the output");
    }
}

/// Everything a scenario may change, as the test sees it itself (not through
/// the harness's own record): each object of the namespace without what the
/// server or a controller keeps, the Secrets ESO writes by type and data,
/// and the runbook's values in Secrets Manager.
async fn fingerprint(env: &Embedded) -> BTreeMap<String, String> {
    common::live_fingerprint(
        env.kube(),
        &env.secrets_manager(),
        env.seed().secrets.keys(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_destructive_scenario_leaves_the_system_as_it_found_it() {
    let env = embedded().await;
    all_synced(&env).await;
    let work = tempfile::tempdir().unwrap();
    let before = fingerprint(&env).await;
    let out = harness(
        &env,
        &["test", "--env", "existing", "--allow-destructive"],
        work.path(),
    )
    .await;
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    // The runbook's destructive procedures ran (and were put back), and
    // check's checks before and after the run find no new problem.
    common::assert_put_back_as_found(&log);
    let after = fingerprint(&env).await;
    assert_eq!(changed(&before, &after), Vec::<String>::new(), "{log}");
    for v in env.seed().all_values() {
        assert!(!log.contains(&v), "a value of the system is in the output");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_failing_midway_still_leaves_the_system_as_it_found_it() {
    let env = embedded().await;
    all_synced(&env).await;
    let work = tempfile::tempdir().unwrap();
    let feature = work.path().join("fails_midway.feature");
    std::fs::write(
        &feature,
        r#"Feature: A destructive scenario that fails midway
  Scenario: credentials broken, remote value changed, a Secret deleted, then a check fails
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"
    When the key "secret-access-key" is removed from "aws-secret"
    And the value of "opssight/production/app" changes in Secrets Manager
    And the Secret "opssight-redis-secrets" is deleted
    Then the ExternalSecret "opssight-app-secrets" becomes Ready with reason "NoSuchReason"
"#,
    )
    .unwrap();
    let before = fingerprint(&env).await;
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(300),
        harness_with(
            &env,
            &[
                "test",
                "--env",
                "existing",
                "--allow-destructive",
                "--features",
                feature.to_str().unwrap(),
            ],
            work.path(),
            // The failing wait need not take the default two minutes.
            &[("OPSSIGHT_WAIT_SECONDS", "4")],
        ),
    )
    .await
    .expect("the run ended within 300 s");
    let log = text(&out);
    assert!(
        !out.status.success(),
        "the scenario was meant to fail: {log}"
    );
    assert!(log.contains("put back after"), "{log}");
    let after = fingerprint(&env).await;
    assert_eq!(changed(&before, &after), Vec::<String>::new(), "{log}");
}

/// Ctrl-C in the middle of a destructive scenario: the signal handler puts
/// back what the scenario had changed before the harness exits (130).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_interrupted_midway_still_leaves_the_system_as_it_found_it() {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
    let env = embedded().await;
    all_synced(&env).await;
    let work = tempfile::tempdir().unwrap();
    let feature = work.path().join("interrupted.feature");
    std::fs::write(
        &feature,
        r#"Feature: A destructive scenario interrupted midway
  Scenario: credentials broken, remote value changed, a Secret deleted, then a long wait
    Given the OpsSight secrets system is running
    And every ExternalSecret becomes Ready with reason "SecretSynced"
    When the key "secret-access-key" is removed from "aws-secret"
    And the value of "opssight/production/app" changes in Secrets Manager
    And the Secret "opssight-redis-secrets" is deleted
    Then the ExternalSecret "opssight-app-secrets" becomes Ready with reason "NoSuchReason"
"#,
    )
    .unwrap();
    let before = fingerprint(&env).await;
    let mut child = command(
        &env,
        &[
            "test",
            "--env",
            "existing",
            "--allow-destructive",
            "--features",
            feature.to_str().unwrap(),
        ],
        work.path(),
        // Long enough that the last step is still waiting at the signal.
        &[("OPSSIGHT_WAIT_SECONDS", "240")],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    let deleted = tokio::time::timeout(std::time::Duration::from_secs(180), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            seen.push_str(&line);
            seen.push('\n');
            if line.trim_start().starts_with('✔') && line.contains("is deleted") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        deleted,
        Ok(true),
        "the destructive steps passed within 180 s: {seen}"
    );
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut stderr = String::new();
    let mut err = child.stderr.take().unwrap();
    let status = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        err.read_to_string(&mut stderr).await.unwrap();
        child.wait().await.unwrap()
    })
    .await
    .expect("the harness exited within 120 s of SIGINT");
    assert_eq!(status.code(), Some(130), "{seen}{stderr}");
    assert!(
        stderr.contains("put back the interrupted scenario's changes"),
        "{stderr}"
    );
    assert!(!stderr.contains("NOT PUT BACK"), "{stderr}");
    let after = fingerprint(&env).await;
    assert_eq!(changed(&before, &after), Vec::<String>::new(), "{stderr}");
}
