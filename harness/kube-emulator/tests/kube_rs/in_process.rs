//! kube-rs over `KubeEmulator::in_process`: no connection, the same answers.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use kube::client::{ClientBuilder, ConfigExt};

use crate::support::*;

/// The stack kube builds from the kubeconfig, over the in-process service.
async fn in_process_client(emulator: &kube_emulator::KubeEmulator) -> kube::Client {
    let config = config_for(emulator).await;
    ClientBuilder::new(emulator.in_process(), config.default_namespace.clone())
        .with_layer(&config.base_uri_layer())
        .with_layer(&config.auth_layer().unwrap().unwrap())
        .build()
}

#[tokio::test]
async fn without_the_token_it_is_401_as_over_https() {
    let env = start().await;
    let client = kube::Client::new(env.emulator.in_process(), "default");
    let e = status_of(
        Api::<Namespace>::all(client)
            .list(&Default::default())
            .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (401, "Unauthorized"));
}

#[tokio::test]
async fn writes_and_watches_are_answered_without_a_connection() {
    let env = start().await;
    let client = in_process_client(&env.emulator).await;
    namespace(&client, "in-process").await;
    let secrets: Api<Secret> = Api::namespaced(client, "in-process");
    let mut events = secrets
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "s" }, "stringData": { "k": "v" },
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    // The HTTPS client sees what the in-process one wrote.
    let over_https: Api<Secret> = Api::namespaced(env.client.clone(), "in-process");
    assert!(over_https.get_opt("s").await.unwrap().is_some());
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), events.try_next())
        .await
        .expect("the watch to deliver the created Secret within 10 s")
        .unwrap();
    match first {
        Some(WatchEvent::Added(s)) => assert_eq!(s.metadata.name.as_deref(), Some("s")),
        other => panic!("expected the Secret added, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stopped_server_answers_in_process_requests_as_a_closed_connection() {
    let env = start().await;
    let client = in_process_client(&env.emulator).await;
    let namespaces: Api<Namespace> = Api::all(client);
    namespaces.list(&Default::default()).await.unwrap();
    env.emulator.shutdown().await;
    match namespaces.list(&Default::default()).await {
        Err(kube::Error::Service(_)) => {}
        other => panic!("expected the request to fail as a closed connection, got {other:?}"),
    }
}

/// A runner that holds an in-process client of the server that holds it,
/// as the embedded environment's ESO Pods do.
struct HoldsClient(#[allow(dead_code)] kube::Client);

impl kube_emulator::PodRunner for HoldsClient {
    fn start(
        &self,
        _: &kube_emulator::PodRef,
    ) -> futures::future::BoxFuture<'static, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
    fn stop(&self, _: &kube_emulator::PodRef) -> futures::future::BoxFuture<'static, ()> {
        Box::pin(async {})
    }
    fn log(&self, _: &kube_emulator::PodRef) -> kube_emulator::PodLog {
        kube_emulator::PodLog {
            lines: Vec::new(),
            follow: None,
        }
    }
}

#[tokio::test]
async fn a_client_the_server_holds_does_not_keep_it_alive() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let emulator = kube_emulator::KubeEmulator::builder()
        .start()
        .await
        .unwrap();
    let client = in_process_client(&emulator).await;
    namespace(&client, "held").await;
    emulator.run_pods_of(
        "held",
        "controller",
        std::sync::Arc::new(HoldsClient(client)),
    );
    drop(emulator);
    // The server's tasks and the client's request worker (kube's Buffer)
    // end once nothing outside holds them; a cycle through the worker
    // (server -> runner -> client -> worker -> server) kept them, and the
    // server's whole store, for the life of the process.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while metrics.num_alive_tasks() > before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} tasks still alive 10 s after the server was dropped (it had {before} before)",
            metrics.num_alive_tasks()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
