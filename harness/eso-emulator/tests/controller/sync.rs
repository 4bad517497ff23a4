//! What a sync writes: target Secret, status, events; data/property/version.

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn extract_syncs_every_key_with_label_hash_owner_status_and_event() {
    let stack = stack().await;
    let v = values(&["username", "password", "host"]);
    put_sm(&stack, "app/database", &v).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("db", "app/database", "1h"),
    )
    .await
    .unwrap();
    let es = wait_ready(&stack, "db", "True", "SecretSynced").await;
    let (_, _, message) = ready_reason(&es).unwrap();
    assert_eq!(message, "secret synced");
    let status = &es.data["status"];
    assert!(status["refreshTime"].is_string());
    // Generation 2: adding its finalizer wrote the spec back as Go prints
    // it (refreshInterval 1h0m0s), as ESO's Update does.
    assert!(
        status["syncedResourceVersion"]
            .as_str()
            .unwrap()
            .starts_with("2-"),
        "{status}"
    );
    assert_eq!(es.data["spec"]["refreshInterval"], "1h0m0s");
    assert_eq!(status["binding"]["name"], "db");
    let target = secret(&stack, "db").await.expect("target Secret created");
    assert_eq!(
        decoded(&target),
        v,
        "exactly the keys and values of the Secrets Manager JSON"
    );
    let labels = target.metadata.labels.clone().unwrap();
    assert_eq!(labels["reconcile.external-secrets.io/managed"], "true");
    let annotations = target.metadata.annotations.clone().unwrap();
    assert_eq!(
        annotations["reconcile.external-secrets.io/data-hash"].len(),
        32
    );
    let owner = &target.metadata.owner_references.clone().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("ExternalSecret", "db", Some(true))
    );
    assert_eq!(owner.uid, es.metadata.uid.clone().unwrap());
    let (t, r, m) = wait_event(&stack, "db", "Normal", "Created").await;
    assert_eq!(
        (t.as_str(), r.as_str(), m.as_str()),
        ("Normal", "Created", "secret created")
    );
    assert!(
        stack
            .controller
            .as_ref()
            .unwrap()
            .metrics()
            .render()
            .contains("externalsecret_sync_calls_total{name=\"db\",namespace=\"team\"} 1")
    );
}

#[tokio::test]
async fn data_with_property_and_version() {
    let stack = stack().await;
    let v1 = values(&["password"]);
    put_sm(&stack, "app/redis", &v1).await;
    let v2 = values(&["password"]);
    put_sm(&stack, "app/redis", &v2).await;
    let es = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "redis"},
        "spec": {"refreshInterval": "1h", "secretStoreRef": {"name": "aws"}, "target": {"name": "redis-secret"},
            "data": [
                {"secretKey": "current", "remoteRef": {"key": "app/redis", "property": "password"}},
                {"secretKey": "previous", "remoteRef": {"key": "app/redis", "property": "password", "version": "AWSPREVIOUS"}},
                {"secretKey": "whole", "remoteRef": {"key": "app/redis"}}]}});
    create(&stack.client, "externalsecrets", es).await.unwrap();
    wait_ready(&stack, "redis", "True", "SecretSynced").await;
    let data = decoded(&secret(&stack, "redis-secret").await.unwrap());
    assert_eq!(data["current"], v2["password"]);
    assert_eq!(data["previous"], v1["password"]);
    assert_eq!(data["whole"], serde_json::to_string(&v2).unwrap());
}

#[tokio::test]
async fn missing_property_and_missing_secret_are_errors_with_esos_messages() {
    let stack = stack().await;
    put_sm(&stack, "app/x", &values(&["a"])).await;
    let es = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "p"},
        "spec": {"secretStoreRef": {"name": "aws"}, "data": [{"secretKey": "k", "remoteRef": {"key": "app/x", "property": "nope"}}]}});
    create(&stack.client, "externalsecrets", es).await.unwrap();
    let es = wait_ready(&stack, "p", "False", "SecretSyncedError").await;
    assert_eq!(
        ready_reason(&es).unwrap().2,
        "could not get secret data from provider"
    );
    let (_, _, detail) = wait_event(&stack, "p", "Warning", "UpdateFailed").await;
    assert_eq!(
        detail,
        "error processing spec.data[0] (key: app/x), err: key nope does not exist in secret app/x"
    );
    assert!(secret(&stack, "p").await.is_none());
    let metrics = stack.controller.as_ref().unwrap().metrics().render();
    assert!(
        metrics.contains("externalsecret_sync_calls_error{name=\"p\",namespace=\"team\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("externalsecret_status_condition{condition=\"Ready\",name=\"p\",namespace=\"team\",status=\"False\"} 1"), "{metrics}");
    assert!(metrics.contains("externalsecret_provider_api_calls_count{call=\"GetSecretValue\",provider=\"AWS/SecretsManager\",status=\"success\"}"), "{metrics}");

    create(
        &stack.client,
        "externalsecrets",
        extract_es("gone", "app/never-created", "1h"),
    )
    .await
    .unwrap();
    wait_ready(&stack, "gone", "False", "SecretSyncedError").await;
    let (_, _, detail) = wait_event(&stack, "gone", "Warning", "UpdateFailed").await;
    assert_eq!(
        detail,
        "error processing spec.dataFrom[0].extract, err: Secret does not exist"
    );
}

#[tokio::test]
async fn deletion_policy_delete_removes_the_target_when_the_secret_goes() {
    let stack = stack().await;
    put_sm(&stack, "app/temp", &values(&["k"])).await;
    let mut es = extract_es("temp", "app/temp", "1h");
    es["spec"]["target"]["deletionPolicy"] = json!("Delete");
    create(&stack.client, "externalsecrets", es).await.unwrap();
    wait_ready(&stack, "temp", "True", "SecretSynced").await;
    stack
        .sm
        .delete_secret()
        .secret_id("app/temp")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    kube::api::Api::<kube::api::DynamicObject>::namespaced_with(
        stack.client.clone(),
        NS,
        &resource("externalsecrets"),
    )
    .patch(
        "temp",
        &Default::default(),
        &kube::api::Patch::Merge(json!({"metadata": {"annotations": {"force-sync": "1"}}})),
    )
    .await
    .unwrap();
    let es = wait_ready(&stack, "temp", "True", "SecretDeleted").await;
    assert_eq!(
        ready_reason(&es).unwrap().2,
        "secret deleted due to DeletionPolicy=Delete"
    );
    assert!(secret(&stack, "temp").await.is_none());
}

#[tokio::test]
async fn a_deleted_or_hand_edited_target_is_repaired_inside_the_interval() {
    let stack = stack().await;
    let v = values(&["token"]);
    put_sm(&stack, "app/ext", &v).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("ext", "app/ext", "1h"),
    )
    .await
    .unwrap();
    wait_secret_data(&stack, "ext", &v, "first sync").await;
    let secrets: Api<Secret> = Api::namespaced(stack.client.clone(), NS);
    secrets
        .patch(
            "ext",
            &Default::default(),
            &kube::api::Patch::Merge(json!({"stringData": {"token": "tampered"}})),
        )
        .await
        .unwrap();
    wait_secret_data(&stack, "ext", &v, "hand-edited target repaired").await;
    let uid = secret(&stack, "ext").await.unwrap().metadata.uid.unwrap();
    secrets.delete("ext", &Default::default()).await.unwrap();
    let repaired = wait_secret_data(&stack, "ext", &v, "deleted target recreated").await;
    assert_ne!(repaired.metadata.uid.unwrap(), uid);
}

/// ESO's watch of Secrets queues only those carrying its managed label
/// (its predicate looks at the Secret as it is now): a target whose label
/// is taken off by hand is left as it is until its next refresh, which
/// writes it back, label and data.
#[tokio::test]
async fn a_target_whose_managed_label_is_taken_off_waits_for_its_refresh() {
    let stack = stack().await;
    let v = values(&["token"]);
    put_sm(&stack, "app/ext", &v).await;
    put_sm(&stack, "app/other", &v).await;
    for (name, key) in [("ext", "app/ext"), ("other", "app/other")] {
        create(
            &stack.client,
            "externalsecrets",
            extract_es(name, key, "1h"),
        )
        .await
        .unwrap();
        wait_secret_data(&stack, name, &v, "first sync").await;
    }
    let secrets: Api<Secret> = Api::namespaced(stack.client.clone(), NS);
    secrets
        .patch(
            "ext",
            &Default::default(),
            &kube::api::Patch::Merge(json!({
                "metadata": {"labels": {"reconcile.external-secrets.io/managed": null}},
                "stringData": {"token": "tampered"},
            })),
        )
        .await
        .unwrap();
    // A managed target deleted after it is repaired: by then the watch,
    // which brings changes in order, has passed the label's removal.
    secrets.delete("other", &Default::default()).await.unwrap();
    wait_secret_data(&stack, "other", &v, "the deleted managed target recreated").await;
    let left = secret(&stack, "ext").await.unwrap();
    assert_eq!(
        decoded(&left)["token"],
        "tampered",
        "repaired before its refresh"
    );
    stack
        .clock
        .advance(std::time::Duration::from_secs(3600))
        .unwrap();
    let repaired =
        wait_secret_data(&stack, "ext", &v, "the target written back at its refresh").await;
    assert_eq!(
        repaired.metadata.labels.unwrap()["reconcile.external-secrets.io/managed"],
        "true"
    );
}

#[tokio::test]
async fn deleting_the_external_secret_collects_its_owned_target() {
    let stack = stack().await;
    put_sm(&stack, "app/own", &values(&["k"])).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("own", "app/own", "1h"),
    )
    .await
    .unwrap();
    wait_ready(&stack, "own", "True", "SecretSynced").await;
    let uid = secret(&stack, "own").await.unwrap().metadata.uid.unwrap();
    api(&stack.client, "externalsecrets")
        .delete("own", &Default::default())
        .await
        .unwrap();
    within(
        "the owned target garbage-collected",
        kube::runtime::wait::await_condition(
            Api::<Secret>::namespaced(stack.client.clone(), NS),
            "own",
            kube::runtime::wait::conditions::is_deleted(&uid),
        ),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn renaming_the_target_deletes_the_old_one_as_orphaned() {
    let stack = stack().await;
    let v = values(&["k"]);
    put_sm(&stack, "app/rename", &v).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("ren", "app/rename", "1h"),
    )
    .await
    .unwrap();
    wait_secret_data(&stack, "ren", &v, "first target").await;
    // A Secret the ExternalSecret did not create stays, whatever its name.
    Api::<Secret>::namespaced(stack.client.clone(), NS)
        .create(
            &Default::default(),
            &serde_json::from_value(json!({"metadata": {"name": "bystander"}})).unwrap(),
        )
        .await
        .unwrap();
    api(&stack.client, "externalsecrets")
        .patch(
            "ren",
            &Default::default(),
            &kube::api::Patch::Merge(json!({"spec": {"target": {"name": "ren-new"}}})),
        )
        .await
        .unwrap();
    wait_secret_data(&stack, "ren-new", &v, "renamed target").await;
    let (_, _, message) = wait_event(&stack, "ren", "Normal", "Deleted").await;
    // ESO's eventDeletedOrphaned (externalsecret_controller.go, v0.20.4).
    assert_eq!(message, "secret deleted because it was orphaned");
    assert!(secret(&stack, "ren").await.is_none(), "old target deleted");
    assert!(secret(&stack, "bystander").await.is_some());
}
