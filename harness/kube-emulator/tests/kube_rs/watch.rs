//! Watches: initial state, resumption from a resourceVersion, 410 Gone.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

use crate::support::*;

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": {"app": "x"}}, "data": {"v": value}}),
    )
    .unwrap()
}

async fn next_event(
    stream: &mut (impl futures::Stream<Item = Result<WatchEvent<ConfigMap>, kube::Error>> + Unpin),
) -> WatchEvent<ConfigMap> {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("no watch event within 5s")
        .expect("watch stream ended")
        .expect("watch error")
}

#[tokio::test]
async fn watch_resumes_from_a_resource_version() {
    let env = start_api().await;
    let ns = env.ns("ns");
    namespace(&env.client, &ns).await;
    let api: Api<ConfigMap> = Api::namespaced(env.client.clone(), &ns);
    let a = api
        .create(&PostParams::default(), &cm("a", "1"))
        .await
        .unwrap();
    let from = a.metadata.resource_version.clone().unwrap();
    // Changes made while nobody watches...
    api.create(&PostParams::default(), &cm("b", "1"))
        .await
        .unwrap();
    api.replace("a", &PostParams::default(), &{
        let mut x = api.get("a").await.unwrap();
        x.data = Some([("v".to_owned(), "2".to_owned())].into());
        x
    })
    .await
    .unwrap();
    // ...are replayed to a watch that resumes from before them, in order.
    // Its own objects only: the namespace's kube-root-ca.crt is published
    // by a controller, at a moment of its own.
    let mut stream = api
        .watch(&WatchParams::default().labels("app=x"), &from)
        .await
        .unwrap()
        .boxed();
    match next_event(&mut stream).await {
        WatchEvent::Added(o) => assert_eq!(o.metadata.name.as_deref(), Some("b")),
        other => panic!("expected ADDED b, got {other:?}"),
    }
    match next_event(&mut stream).await {
        WatchEvent::Modified(o) => assert_eq!(o.data.unwrap()["v"], "2"),
        other => panic!("expected MODIFIED a, got {other:?}"),
    }
    // And live changes follow.
    api.delete("b", &Default::default()).await.unwrap();
    match next_event(&mut stream).await {
        WatchEvent::Deleted(o) => assert_eq!(o.metadata.name.as_deref(), Some("b")),
        other => panic!("expected DELETED b, got {other:?}"),
    }
}

#[tokio::test]
async fn a_label_selected_watch_sees_objects_leave_the_selection() {
    let env = start_api().await;
    let ns = env.ns("ns");
    namespace(&env.client, &ns).await;
    let api: Api<ConfigMap> = Api::namespaced(env.client.clone(), &ns);
    let a = api
        .create(&PostParams::default(), &cm("a", "1"))
        .await
        .unwrap();
    let mut stream = api
        .watch(
            &WatchParams::default().labels("app=x"),
            a.metadata.resource_version.as_deref().unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    let mut moved = api.get("a").await.unwrap();
    moved.metadata.labels = Some([("app".to_owned(), "y".to_owned())].into());
    api.replace("a", &PostParams::default(), &moved)
        .await
        .unwrap();
    assert!(
        matches!(next_event(&mut stream).await, WatchEvent::Deleted(_)),
        "leaving the selection reads as DELETED"
    );
}

#[tokio::test]
async fn too_old_resource_version_is_gone_and_watcher_recovers() {
    let env = start_with(kube_emulator::KubeEmulator::builder().watch_log(16)).await;
    namespace(&env.client, "ns").await;
    let api: Api<ConfigMap> = Api::namespaced(env.client.clone(), "ns");
    let first = api
        .create(&PostParams::default(), &cm("first", "0"))
        .await
        .unwrap();
    for i in 0..40 {
        api.create(&PostParams::default(), &cm(&format!("c{i}"), "x"))
            .await
            .unwrap();
    }
    let mut stream = api
        .watch(
            &WatchParams::default(),
            first.metadata.resource_version.as_deref().unwrap(),
        )
        .await
        .unwrap()
        .boxed();
    match next_event(&mut stream).await {
        WatchEvent::Error(e) => {
            assert_eq!(e.code, 410);
            assert!(
                e.message.starts_with("too old resource version"),
                "{}",
                e.message
            );
        }
        other => panic!("expected 410 Gone, got {other:?}"),
    }
    // kube-runtime's watcher lists again and sees everything.
    let seen = tokio::time::timeout(
        Duration::from_secs(10),
        watcher(api.clone(), watcher::Config::default())
            .applied_objects()
            .take(41)
            .try_collect::<Vec<_>>(),
    )
    .await
    .expect("watcher did not deliver 41 objects within 10s")
    .unwrap();
    assert_eq!(seen.len(), 41);
}
