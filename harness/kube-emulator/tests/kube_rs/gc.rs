//! Finalizers, owner references with garbage collection, namespace deletion.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::runtime::wait::await_condition;
use serde_json::json;

use crate::support::*;

async fn owner_and_dependent(
    client: &kube::Client,
    ns: &str,
) -> (Api<ConfigMap>, Api<Secret>, String) {
    namespace(client, ns).await;
    let owners: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let owner = owners
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "owner"}})).unwrap(),
        )
        .await
        .unwrap();
    let uid = owner.metadata.uid.clone().unwrap();
    let dependent: Secret = serde_json::from_value(json!({"metadata": {"name": "owned", "ownerReferences": [{
        "apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid, "controller": true, "blockOwnerDeletion": true
    }]}, "stringData": {"k": "v"}}))
    .unwrap();
    secrets
        .create(&PostParams::default(), &dependent)
        .await
        .unwrap();
    (owners, secrets, uid)
}

/// Gone within 30 s: a real kube-controller-manager's collector takes
/// longer than the emulator's.
async fn gone<K>(api: &Api<K>, name: &str, uid: Option<&str>)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    gone_within(api, name, uid, Duration::from_secs(30)).await
}

#[tokio::test]
async fn background_deletion_collects_the_owned_secret() {
    let env = start_api().await;
    let (owners, secrets, _) = owner_and_dependent(&env.client, &env.ns("ns")).await;
    let owned_uid = secrets.get("owned").await.unwrap().metadata.uid.unwrap();
    owners
        .delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    gone(&secrets, "owned", Some(&owned_uid)).await;
}

#[tokio::test]
async fn orphan_deletion_keeps_the_dependent_without_its_owner_reference() {
    let env = start_api().await;
    let (owners, secrets, _) = owner_and_dependent(&env.client, &env.ns("ns")).await;
    let owner_uid = owners.get("owner").await.unwrap().metadata.uid;
    // Held by the `orphan` finalizer until the collector has let its
    // dependents go.
    let held = owners
        .delete("owner", &DeleteParams::orphan())
        .await
        .unwrap()
        .left()
        .expect("the owner, held by its finalizer");
    assert_eq!(held.metadata.finalizers, Some(vec!["orphan".to_owned()]));
    gone(&owners, "owner", owner_uid.as_deref()).await;
    let kept = secrets.get("owned").await.unwrap();
    assert!(kept.metadata.owner_references.is_none_or(|r| r.is_empty()));
}

#[tokio::test]
async fn foreground_deletion_waits_for_dependents() {
    let env = start_api().await;
    let (owners, secrets, owner_uid) = owner_and_dependent(&env.client, &env.ns("ns")).await;
    // The dependent holds a finalizer, so the owner must wait in the foreground.
    secrets
        .patch(
            "owned",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["test/hold"]}})),
        )
        .await
        .unwrap();
    let deleting = owners
        .delete("owner", &DeleteParams::foreground())
        .await
        .unwrap();
    let owner = deleting
        .left()
        .expect("the owner is still there while its dependents are");
    assert!(owner.metadata.deletion_timestamp.is_some());
    assert!(
        owner
            .metadata
            .finalizers
            .unwrap()
            .contains(&"foregroundDeletion".to_owned())
    );
    let owned = secrets.get("owned").await.unwrap();
    let owned_uid = owned.metadata.uid.clone().unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(secrets.clone(), "owned", |s: Option<&Secret>| {
            s.is_some_and(|s| s.metadata.deletion_timestamp.is_some())
        }),
    )
    .await
    .expect("dependent not marked for deletion within 5s")
    .unwrap();
    assert!(
        owners.get("owner").await.is_ok(),
        "owner waits for the finalized dependent"
    );
    secrets
        .patch(
            "owned",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    gone(&secrets, "owned", Some(&owned_uid)).await;
    gone(&owners, "owner", Some(&owner_uid)).await;
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let env = start_api().await;
    let ns = env.ns("ns");
    namespace(&env.client, &ns).await;
    let api: Api<ConfigMap> = Api::namespaced(env.client.clone(), &ns);
    let c = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "c", "finalizers": ["test/f"]}}))
                .unwrap(),
        )
        .await
        .unwrap();
    let held = api
        .delete("c", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(held.metadata.deletion_grace_period_seconds, Some(0));
    // While it is deleted it may change, and lose finalizers, but not
    // gain any (the cause twice: the metadata is validated twice).
    let refused = status_of(
        api.patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["test/f", "test/z", "test/b"]}})),
        )
        .await,
    );
    assert_eq!(refused.code, 422, "{refused:?}");
    let causes = refused.details.unwrap().causes;
    assert_eq!(causes.len(), 2, "{causes:?}");
    assert_eq!(causes[0].field, "metadata.finalizers");
    assert_eq!(
        causes[0].message,
        r#"Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"test/b", "test/z"}"#
    );
    assert_eq!(
        refused.message.matches("no new finalizers").count(),
        1,
        "the message names the cause once: {}",
        refused.message
    );
    api.patch(
        "c",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "v"}})),
    )
    .await
    .unwrap();
    // The update that takes the last finalizer off answers with the object
    // as updated (no finalizers: an empty list is not kept), then it goes.
    let released = api
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": []}})),
        )
        .await
        .unwrap();
    assert_eq!(released.metadata.finalizers, None);
    gone(&api, "c", c.metadata.uid.as_deref()).await;
}

/// A kind with a generation (a Deployment here) moves it once when it is
/// marked for deletion, not again on a second delete.
#[tokio::test]
async fn a_deletion_moves_the_generation_once() {
    let env = start_api().await;
    let ns = env.ns("gen");
    namespace(&env.client, &ns).await;
    let api: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(env.client.clone(), &ns);
    let d = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "d", "finalizers": ["test/f"]},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": "d"}},
                    "template": {
                        "metadata": {"labels": {"app": "d"}},
                        "spec": {"containers": [{"name": "c", "image": "example.test/d:1"}]},
                    },
                },
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(d.metadata.generation, Some(1));
    for _ in 0..2 {
        let marked = api
            .delete("d", &DeleteParams::default())
            .await
            .unwrap()
            .left()
            .unwrap();
        assert_eq!(marked.metadata.generation, Some(2));
    }
    api.patch(
        "d",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    gone(&api, "d", d.metadata.uid.as_deref()).await;
}

#[tokio::test]
async fn deleting_a_namespace_removes_everything_in_it() {
    let env = start_api().await;
    let doomed = env.ns("doomed");
    namespace(&env.client, &doomed).await;
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &doomed);
    for i in 0..5 {
        secrets
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": format!("s{i}")}})).unwrap(),
            )
            .await
            .unwrap();
    }
    let held: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "held", "finalizers": ["test/f"]}}))
            .unwrap();
    let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), &doomed);
    maps.create(&PostParams::default(), &held).await.unwrap();
    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    let ns_uid = namespaces.get(&doomed).await.unwrap().metadata.uid.unwrap();
    let terminating = namespaces
        .delete(
            &doomed,
            &DeleteParams {
                propagation_policy: Some(PropagationPolicy::Background),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .left()
        .unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    let e = status_of(
        secrets
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": "late"}})).unwrap(),
            )
            .await,
    );
    assert_eq!(e.code, 403);
    assert_eq!(
        e.message,
        format!(
            "secrets \"late\" is forbidden: unable to create new content in namespace {doomed} because it is being terminated"
        )
    );
    for i in 0..5 {
        gone(&secrets, &format!("s{i}"), None).await;
    }
    assert!(
        namespaces.get(&doomed).await.is_ok(),
        "Terminating while an object holds a finalizer"
    );
    maps.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    gone(&namespaces, &doomed, Some(&ns_uid)).await;
}

/// The collector follows owner references as they are now: after an update
/// and a patch moved two dependents away from an owner, deleting it takes
/// only the one still its own, and deleting the new owner takes the moved
/// one with its other dependent; an unrelated object stays throughout.
#[tokio::test]
async fn collection_follows_owner_references_changed_by_update_and_patch() {
    let env = start_api().await;
    let ns = env.ns("owners");
    namespace(&env.client, &ns).await;
    let owners: Api<ConfigMap> = Api::namespaced(env.client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &ns);
    let mut uids = std::collections::HashMap::new();
    for name in ["first", "second"] {
        let owner = owners
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
            )
            .await
            .unwrap();
        uids.insert(name, owner.metadata.uid.unwrap());
    }
    let reference = |owner: &str| json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": uids[owner]}]);
    for (name, owner) in [
        ("kept-by-first", Some("first")),
        ("updated-away", Some("first")),
        ("patched-to-second", Some("first")),
        ("of-second", Some("second")),
        ("unrelated", None),
    ] {
        let mut s = json!({"metadata": {"name": name}, "stringData": {"k": "v"}});
        if let Some(owner) = owner {
            s["metadata"]["ownerReferences"] = reference(owner);
        }
        secrets
            .create(&PostParams::default(), &serde_json::from_value(s).unwrap())
            .await
            .unwrap();
    }
    let mut updated = secrets.get("updated-away").await.unwrap();
    updated.metadata.owner_references = None;
    secrets
        .replace("updated-away", &PostParams::default(), &updated)
        .await
        .unwrap();
    secrets
        .patch(
            "patched-to-second",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"ownerReferences": reference("second")}})),
        )
        .await
        .unwrap();
    let uid_of = async |name: &str| secrets.get(name).await.unwrap().metadata.uid.unwrap();
    let (kept_by_first, patched, of_second) = (
        uid_of("kept-by-first").await,
        uid_of("patched-to-second").await,
        uid_of("of-second").await,
    );

    owners
        .delete("first", &DeleteParams::background())
        .await
        .unwrap();
    gone(&secrets, "kept-by-first", Some(&kept_by_first)).await;
    for name in [
        "updated-away",
        "patched-to-second",
        "of-second",
        "unrelated",
    ] {
        assert!(
            secrets.get_opt(name).await.unwrap().is_some(),
            "{name} went with an owner it no longer had"
        );
    }

    owners
        .delete("second", &DeleteParams::background())
        .await
        .unwrap();
    gone(&secrets, "patched-to-second", Some(&patched)).await;
    gone(&secrets, "of-second", Some(&of_second)).await;
    for name in ["updated-away", "unrelated"] {
        assert!(
            secrets.get_opt(name).await.unwrap().is_some(),
            "{name} collected"
        );
    }
}
