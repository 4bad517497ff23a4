//! The embedded stack's ESO controller is the Pod of its deployment: its
//! log is the Pod's log, and scaling the deployment (as `kubectl scale`
//! does, through the scale subresource) stops it and starts a new one.

use std::time::Duration;

use common::{all_synced, embedded};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams, Patch, PatchParams};
use opssight_harness::env::Environment;
use opssight_harness::system::{ESO_DEPLOYMENTS, ESO_NAMESPACE};
use serde_json::json;

use crate::common;

const WAIT: Duration = Duration::from_secs(20);

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(WAIT, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "timed out after {WAIT:?} waiting for {what}"
    );
}

async fn ready_of(deployments: &Api<Deployment>) -> (i32, i32) {
    let d = deployments.get(ESO_DEPLOYMENTS[0]).await.unwrap();
    let s = d.status.unwrap_or_default();
    (s.ready_replicas.unwrap_or(0), d.spec.replicas.unwrap_or(-1))
}

async fn scale(deployments: &Api<Deployment>, replicas: i32) {
    deployments
        .patch_scale(
            ESO_DEPLOYMENTS[0],
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": replicas } })),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_the_controllers_deployment_stops_and_starts_the_controller() {
    let env = embedded().await;
    all_synced(&env).await;
    let deployments: Api<Deployment> = Api::namespaced(env.kube(), ESO_NAMESPACE);
    let pods: Api<Pod> = Api::namespaced(env.kube(), ESO_NAMESPACE);
    assert_eq!(ready_of(&deployments).await, (1, 1));
    let selector = format!("app.kubernetes.io/name={}", ESO_DEPLOYMENTS[0]);
    let pod = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .unwrap()
        .items
        .remove(0);
    let log = pods
        .logs(pod.metadata.name.as_deref().unwrap(), &LogParams::default())
        .await
        .unwrap();
    assert!(log.contains("controller started"), "{log}");
    assert!(
        log.contains("reconciled ExternalSecret opssight-production/opssight-app-secrets"),
        "{log}"
    );

    scale(&deployments, 0).await;
    until("the controller stopped", || !env.controller_running()).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while ready_of(&deployments).await != (0, 0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for the deployment to show 0/0"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    scale(&deployments, 1).await;
    until("the controller started again", || env.controller_running()).await;
    let log = env.controller_log().await;
    assert!(
        log.iter().any(|l| l.ends_with(" controller started")),
        "a new controller, with a log of its own: {log:?}"
    );
}
