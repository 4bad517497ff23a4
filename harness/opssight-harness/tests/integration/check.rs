//! `opssight-harness check --env existing` against the embedded environment
//! (reached through its kubeconfig like any cluster), healthy and broken:
//! a stale ExternalSecret with its controller down, an invalid store.

use std::path::Path;
use std::time::Duration;

use common::{all_synced, embedded, ready_is, wait_for};
use kube::api::{Api, Patch, PatchParams};
use opssight_harness::env::Environment;
use opssight_harness::system::NAMESPACE;
use serde_json::{Value, json};

use crate::common;

/// Runs the CLI in a child process (the emulators serve on this runtime, so
/// the wait must not block it).
async fn check(kubeconfig: &Path, json: &Path) -> (Option<i32>, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .args(["check", "--env", "existing", "--json"])
        .arg(json)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.code(),
        format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)),
    )
}

fn rows<'a>(report: &'a Value, check: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_system_passes_every_check() {
    let env = embedded().await;
    all_synced(&env).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("check.json");
    let (code, out) = check(env.kubeconfig(), &json).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("all 12 checks passed"), "{out}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["problems"], 0);
    assert_eq!(rows(&report, "external-secret-ready").len(), 4);
    assert_eq!(rows(&report, "external-secret-fresh").len(), 4);
    assert_eq!(rows(&report, "store-valid").len(), 1);
    assert_eq!(rows(&report, "deployment-available").len(), 3);
    assert!(
        rows(&report, "external-secret-fresh")
            .iter()
            .all(|f| f["detail"].as_str().unwrap().contains("interval 1h")),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_controller_leaves_every_external_secret_stale() {
    let env = embedded().await;
    all_synced(&env).await;
    env.stop_eso().await;
    // Past the hourly interval and the 5-minute margin, on the cluster's clock.
    env.clock().advance(Duration::from_secs(2 * 3600)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("check.json");
    let (code, out) = check(env.kubeconfig(), &json).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("5 of 12 checks found a problem"), "{out}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for f in rows(&report, "external-secret-fresh") {
        assert_eq!(f["ok"], false, "{f}");
        assert!(f["detail"].as_str().unwrap().contains("stale"), "{f}");
        assert!(
            f["detail"]
                .as_str()
                .unwrap()
                .contains("last refresh 2 h 0 min ago"),
            "{f}"
        );
    }
    let deployments = rows(&report, "deployment-available");
    let controller = deployments
        .iter()
        .find(|f| f["object"] == "Deployment external-secrets-system/external-secrets")
        .unwrap();
    // Stopped by scaling its deployment to 0, as on a real cluster: `check`
    // says so rather than only that nothing is available.
    assert_eq!(controller["ok"], false);
    assert_eq!(
        controller["detail"].as_str().unwrap(),
        "0/0 available: scaled to 0",
        "{controller}"
    );
    assert!(out.contains("PROBLEM  ExternalSecret refreshed"), "{out}");
    // ESO's status still says Ready: only the refresh time shows the trouble.
    assert!(
        rows(&report, "external-secret-ready")
            .iter()
            .all(|f| f["ok"] == true)
    );

    // Back up: the controller catches up and the checks pass again.
    env.start_eso().await.unwrap();
    let api = Api::namespaced_with(env.kube(), NAMESPACE, &eso_api::external_secret_resource());
    let since = env.clock().now() - jiff::SignedDuration::from_secs(60);
    for name in [
        "opssight-app-secrets",
        "opssight-database-secrets",
        "opssight-external-services",
        "opssight-redis-secrets",
    ] {
        wait_for(
            &api,
            name,
            &format!("a fresh refresh of {name}"),
            move |o| {
                o.data["status"]["refreshTime"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|t| t > since)
            },
        )
        .await;
    }
    let (code, out) = check(env.kubeconfig(), &json).await;
    assert_eq!(
        code,
        Some(0),
        "the checks pass once the controller has caught up: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_store_is_reported() {
    let env = embedded().await;
    all_synced(&env).await;
    let stores = Api::namespaced_with(
        env.kube(),
        NAMESPACE,
        &eso_api::store_resource(eso_api::StoreKind::SecretStore),
    );
    let patch = json!({ "spec": { "provider": { "aws": { "auth": { "secretRef": {
        "accessKeyIDSecretRef": { "name": "no-such-secret", "key": "access-key-id" } } } } } } });
    stores
        .patch(
            "aws-secrets-manager",
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
        .unwrap();
    wait_for(
        &stores,
        "aws-secrets-manager",
        "the SecretStore to become not Ready",
        ready_is("False"),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("check.json");
    let (code, out) = check(env.kubeconfig(), &json).await;
    assert_eq!(code, Some(1), "{out}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let store = rows(&report, "store-valid")[0];
    assert_eq!(store["ok"], false, "{store}");
    assert_eq!(
        store["object"],
        "SecretStore opssight-production/aws-secrets-manager"
    );
    assert!(
        store["detail"]
            .as_str()
            .unwrap()
            .contains("Ready=False InvalidProviderConfig"),
        "{store}"
    );
    assert!(out.contains("PROBLEM  store valid"), "{out}");
}

#[tokio::test]
async fn no_cluster_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    // A context whose server refuses connections: a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: gone\n  context:\n    cluster: c\n    user: u\ncurrent-context: gone\nusers:\n- name: u\n  user: {{}}\n"),
    )
    .unwrap();
    let (code, out) = check(&kubeconfig, &dir.path().join("check.json")).await;
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("asking the API server for its version"),
        "{out}"
    );
    assert!(!dir.path().join("check.json").exists());
}
