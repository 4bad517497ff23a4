//! refreshPolicy, creationPolicy and deletionPolicy rows of the specification.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn created_once_never_refreshes_and_on_change_refreshes_only_on_change() {
    let stack = stack().await;
    let v1 = values(&["k"]);
    put_sm(&stack, "app/once", &v1).await;
    put_sm(&stack, "app/change", &v1).await;
    let mut once = extract_es("once", "app/once", "1m");
    once["spec"]["refreshPolicy"] = json!("CreatedOnce");
    let mut change = extract_es("change", "app/change", "1m");
    change["spec"]["refreshPolicy"] = json!("OnChange");
    create(&stack.client, "externalsecrets", once)
        .await
        .unwrap();
    create(&stack.client, "externalsecrets", change)
        .await
        .unwrap();
    wait_secret_data(&stack, "once", &v1, "CreatedOnce first sync").await;
    wait_secret_data(&stack, "change", &v1, "OnChange first sync").await;
    let v2 = values(&["k"]);
    put_sm(&stack, "app/once", &v2).await;
    put_sm(&stack, "app/change", &v2).await;
    stack.clock.advance(Duration::from_secs(3600)).unwrap();
    caught_up(&stack, 1).await;
    assert_eq!(
        decoded(&secret(&stack, "once").await.unwrap()),
        v1,
        "CreatedOnce: no periodic refresh"
    );
    assert_eq!(
        decoded(&secret(&stack, "change").await.unwrap()),
        v1,
        "OnChange: no periodic refresh"
    );
    force_sync(&stack, "once", "1").await;
    force_sync(&stack, "change", "1").await;
    wait_secret_data(
        &stack,
        "change",
        &v2,
        "OnChange refresh after a metadata change",
    )
    .await;
    caught_up(&stack, 2).await;
    assert_eq!(
        decoded(&secret(&stack, "once").await.unwrap()),
        v1,
        "CreatedOnce: not even on change"
    );
}

#[tokio::test]
async fn creation_policies_orphan_merge_and_none() {
    let stack = stack().await;
    let v = values(&["a"]);
    put_sm(&stack, "app/p", &v).await;
    let mut orphan = extract_es("orphan", "app/p", "1h");
    orphan["spec"]["target"]["creationPolicy"] = json!("Orphan");
    create(&stack.client, "externalsecrets", orphan)
        .await
        .unwrap();
    let s = wait_secret_data(&stack, "orphan", &v, "Orphan creates the target").await;
    assert!(
        s.metadata.owner_references.unwrap_or_default().is_empty(),
        "Orphan: no owner reference"
    );

    let secrets: Api<Secret> = Api::namespaced(stack.client.clone(), NS);
    let existing: Secret = serde_json::from_value(
        json!({"metadata": {"name": "merged"}, "stringData": {"keep": "kept-value"}}),
    )
    .unwrap();
    secrets
        .create(&PostParams::default(), &existing)
        .await
        .unwrap();
    let mut merge = extract_es("merge", "app/p", "1h");
    merge["spec"]["target"]["name"] = json!("merged");
    merge["spec"]["target"]["creationPolicy"] = json!("Merge");
    create(&stack.client, "externalsecrets", merge)
        .await
        .unwrap();
    let mut expected = v.clone();
    expected.insert("keep".into(), "kept-value".into());
    let merged = wait_secret_data(
        &stack,
        "merged",
        &expected,
        "Merge adds keys to the existing Secret",
    )
    .await;
    assert!(
        merged
            .metadata
            .owner_references
            .unwrap_or_default()
            .is_empty()
    );

    let mut missing = extract_es("merge-missing", "app/p", "1h");
    missing["spec"]["target"]["creationPolicy"] = json!("Merge");
    create(&stack.client, "externalsecrets", missing)
        .await
        .unwrap();
    // ESO v2.9.0 (and v0.20.4, seen by the differential): Ready, reason
    // SecretMissing, and it waits for the next refresh.
    let es = wait_ready(&stack, "merge-missing", "True", "SecretMissing").await;
    assert_eq!(
        ready_reason(&es).map(|(_, _, m)| m).as_deref(),
        Some("secret will not be created due to CreationPolicy=Merge")
    );
    assert!(
        secret(&stack, "merge-missing").await.is_none(),
        "Merge never creates"
    );

    let mut none = extract_es("none", "app/p", "1h");
    none["spec"]["target"]["creationPolicy"] = json!("None");
    create(&stack.client, "externalsecrets", none)
        .await
        .unwrap();
    wait_ready(&stack, "none", "True", "SecretSynced").await;
    assert!(
        secret(&stack, "none").await.is_none(),
        "None writes no Secret"
    );
}

#[tokio::test]
async fn labels_and_annotations_are_copied_and_empty_data_is_retained() {
    let stack = stack().await;
    let v = values(&["a"]);
    put_sm(&stack, "app/l", &v).await;
    let mut es = extract_es("l", "app/l", "1h");
    es["metadata"]["labels"] = json!({"team": "ops"});
    es["metadata"]["annotations"] = json!({"owner": "platform"});
    create(&stack.client, "externalsecrets", es).await.unwrap();
    let s = wait_secret_data(&stack, "l", &v, "first sync").await;
    assert_eq!(s.metadata.labels.unwrap()["team"], "ops");
    assert_eq!(s.metadata.annotations.unwrap()["owner"], "platform");

    stack
        .sm
        .create_secret()
        .name("app/empty")
        .secret_string("{}")
        .send()
        .await
        .unwrap();
    create(
        &stack.client,
        "externalsecrets",
        extract_es("empty", "app/empty", "1h"),
    )
    .await
    .unwrap();
    let es = wait_ready(&stack, "empty", "True", "SecretSynced").await;
    assert_eq!(
        ready_reason(&es).unwrap().2,
        "secret retained due to DeletionPolicy=Retain"
    );
}

/// ESO v2.9.0 (and v0.20.4), GetProviderSecretData: with deletionPolicy
/// Delete a secret gone at the provider is skipped with a Normal
/// MissingProviderSecret event, and the Secret keeps the keys that remain;
/// dataFrom is read first and data after it, so data wins a shared key.
#[tokio::test]
async fn delete_policy_keeps_the_remaining_keys_and_data_wins_over_data_from() {
    let stack = stack().await;
    let kept = values(&["a", "user"]);
    let other = values(&["value"]);
    put_sm(&stack, "app/kept", &kept).await;
    put_sm(&stack, "app/lost", &other).await;
    let es = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "mix"},
        "spec": {"refreshInterval": "1m", "secretStoreRef": {"name": "aws", "kind": "SecretStore"},
            "target": {"name": "mix", "deletionPolicy": "Delete"},
            "data": [{"secretKey": "user", "remoteRef": {"key": "app/lost", "property": "value"}}],
            "dataFrom": [{"extract": {"key": "app/kept"}}]}});
    create(&stack.client, "externalsecrets", es).await.unwrap();
    let mut want = kept.clone();
    want.insert("user".into(), other["value"].clone());
    wait_secret_data(&stack, "mix", &want, "data's value for the shared key").await;
    stack
        .sm
        .delete_secret()
        .secret_id("app/lost")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    force_sync(&stack, "mix", "1").await;
    let (_, _, message) = wait_event(&stack, "mix", "Normal", "MissingProviderSecret").await;
    assert_eq!(
        message,
        "secret does not exist at provider using spec.dataFrom[0] (key=app/lost)"
    );
    wait_secret_data(&stack, "mix", &kept, "the keys that remain").await;
}

#[tokio::test]
async fn an_immutable_target_keeps_its_first_data_and_syncs() {
    let stack = stack().await;
    let v1 = values(&["k"]);
    put_sm(&stack, "app/frozen", &v1).await;
    let mut es = extract_es("frozen", "app/frozen", "1h");
    es["spec"]["target"]["immutable"] = json!(true);
    create(&stack.client, "externalsecrets", es).await.unwrap();
    let first = wait_secret_data(&stack, "frozen", &v1, "first sync").await;
    assert_eq!(first.immutable, Some(true));
    put_sm(&stack, "app/frozen", &values(&["k"])).await;
    force_sync(&stack, "frozen", "1").await;
    caught_up(&stack, 1).await;
    let after = secret(&stack, "frozen").await.unwrap();
    assert_eq!(decoded(&after), v1, "the data of an immutable target stays");
    assert_eq!(
        after.metadata.resource_version, first.metadata.resource_version,
        "nothing written: ESO does not copy the new annotation either"
    );
    let es = wait_ready(&stack, "frozen", "True", "SecretSynced").await;
    assert_eq!(ready_reason(&es).unwrap().2, "secret synced");
    assert!(
        !events_for(&stack, "frozen")
            .await
            .iter()
            .any(|(_, r, _)| r == "Updated" || r == "UpdateFailed")
    );
}

#[tokio::test]
async fn a_target_another_external_secret_owns_is_refused_without_retry() {
    let stack = stack().await;
    let v = values(&["k"]);
    put_sm(&stack, "app/shared", &v).await;
    let mut first = extract_es("first", "app/shared", "1h");
    first["spec"]["target"]["name"] = json!("shared");
    create(&stack.client, "externalsecrets", first)
        .await
        .unwrap();
    wait_secret_data(&stack, "shared", &v, "first owner's sync").await;
    let mut second = extract_es("second", "app/shared", "1h");
    second["spec"]["target"]["name"] = json!("shared");
    create(&stack.client, "externalsecrets", second)
        .await
        .unwrap();
    let es = wait_ready(&stack, "second", "False", "SecretSyncedError").await;
    // ESO's msgErrorIsOwned, and ErrSecretIsOwned wrapped by errMutate
    // (externalsecret_controller.go, v0.20.4).
    assert_eq!(
        ready_reason(&es).unwrap().2,
        "target is owned by another ExternalSecret"
    );
    let (_, _, message) = wait_event(&stack, "second", "Warning", "UpdateFailed").await;
    assert_eq!(
        message,
        "unable to mutate secret shared: secret is owned by another ExternalSecret: first"
    );
    let owners = secret(&stack, "shared")
        .await
        .unwrap()
        .metadata
        .owner_references
        .unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].name, "first");
}
