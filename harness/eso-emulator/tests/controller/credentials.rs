//! Missing or wrong credentials: store and ExternalSecret conditions and
//! events as ESO gives them; the target keeps its last good data; recovery.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::support::*;

async fn revalidate_store(stack: &Stack, v: &str) {
    api(&stack.client, "secretstores")
        .patch(
            "aws",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"touch": v}}})),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn aws_secret_deleted_then_restored() {
    let stack = stack().await;
    let v = values(&["password"]);
    put_sm(&stack, "app/c", &v).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("c", "app/c", "1h"),
    )
    .await
    .unwrap();
    wait_secret_data(&stack, "c", &v, "first sync").await;
    Api::<Secret>::namespaced(stack.client.clone(), NS)
        .delete("aws-secret", &Default::default())
        .await
        .unwrap();

    // The store learns of it at its next validation.
    revalidate_store(&stack, "1").await;
    let store = wait_for(
        &api(&stack.client, "secretstores"),
        "aws",
        "store InvalidProviderConfig",
        |s| {
            s.data
                .pointer("/status/conditions/0/reason")
                .and_then(|r| r.as_str())
                == Some("InvalidProviderConfig")
        },
    )
    .await;
    assert_eq!(
        store.data["status"]["conditions"][0]["message"],
        "unable to create client"
    );
    assert_eq!(store.data["status"]["conditions"][0]["status"], "False");
    let (_, _, detail) = wait_event(&stack, "aws", "Warning", "InvalidProviderConfig").await;
    assert_eq!(
        detail,
        format!(
            "unable to create session: could not fetch SecretAccessKey secret: cannot get Kubernetes secret \"aws-secret\" from namespace \"{NS}\": secrets \"aws-secret\" not found"
        )
    );

    // The ExternalSecret fails on the next sync and the target keeps its data.
    force_sync(&stack, "c", "1").await;
    wait_ready(&stack, "c", "False", "SecretSyncedError").await;
    let (_, _, detail) = wait_event(&stack, "c", "Warning", "UpdateFailed").await;
    // ESO's words: the store is checked inside the first entry's handling.
    assert_eq!(
        detail,
        "error processing spec.dataFrom[0].extract, err: SecretStore \"aws\" is not ready"
    );
    assert_eq!(
        decoded(&secret(&stack, "c").await.unwrap()),
        v,
        "no data lost"
    );

    put_aws_secret(&stack.client, &stack.key).await;
    revalidate_store(&stack, "2").await;
    wait_for(
        &api(&stack.client, "secretstores"),
        "aws",
        "store Valid again",
        |s| {
            s.data
                .pointer("/status/conditions/0/reason")
                .and_then(|r| r.as_str())
                == Some("Valid")
        },
    )
    .await;
    let v2 = values(&["password"]);
    put_sm(&stack, "app/c", &v2).await;
    wait_ready(&stack, "c", "True", "SecretSynced").await;
    wait_secret_data(&stack, "c", &v2, "sync resumed after the fix").await;
}

#[tokio::test]
async fn wrong_secret_key_and_a_policy_that_denies_reads() {
    let stack = stack().await;
    let v = values(&["k"]);
    put_sm(&stack, "app/w", &v).await;
    put_sm(&stack, "other/w", &v).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("w", "app/w", "1h"),
    )
    .await
    .unwrap();
    wait_secret_data(&stack, "w", &v, "first sync").await;

    let mut wrong = stack.key.clone();
    wrong.secret_access_key = "not-the-right-secret-key-0000000000000000".into();
    put_aws_secret(&stack.client, &wrong).await;
    force_sync(&stack, "w", "1").await;
    wait_ready(&stack, "w", "False", "SecretSyncedError").await;
    let (_, _, detail) = wait_event(&stack, "w", "Warning", "UpdateFailed").await;
    // The AWS SDK for Go's words, as real ESO reports them.
    assert!(
        detail.starts_with(
            "error processing spec.dataFrom[0].extract, err: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, RequestID: "
        ),
        "{detail}"
    );
    assert!(
        detail.contains(", api error InvalidSignatureException: "),
        "{detail}"
    );
    assert!(
        !detail.contains(&wrong.secret_access_key),
        "no credential in events"
    );
    assert_eq!(
        decoded(&secret(&stack, "w").await.unwrap()),
        v,
        "no data lost"
    );

    put_aws_secret(&stack.client, &stack.key).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("denied", "other/w", "1h"),
    )
    .await
    .unwrap();
    wait_ready(&stack, "denied", "False", "SecretSyncedError").await;
    let (_, _, detail) = wait_event(&stack, "denied", "Warning", "UpdateFailed").await;
    assert!(detail.contains(", api error AccessDeniedException: User: arn:aws:iam::111122223333:user/eso is not authorized to perform: secretsmanager:GetSecretValue"), "{detail}");
    force_sync(&stack, "w", "2").await;
    wait_ready(&stack, "w", "True", "SecretSynced").await;
}

#[tokio::test]
async fn a_key_missing_from_aws_secret() {
    let stack = stack().await;
    let secrets: Api<Secret> = Api::namespaced(stack.client.clone(), NS);
    secrets
        .patch(
            "aws-secret",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"secret-access-key": null}})),
        )
        .await
        .unwrap();
    revalidate_store(&stack, "x").await;
    wait_for(
        &api(&stack.client, "secretstores"),
        "aws",
        "store InvalidProviderConfig",
        |s| {
            s.data
                .pointer("/status/conditions/0/reason")
                .and_then(|r| r.as_str())
                == Some("InvalidProviderConfig")
        },
    )
    .await;
    let (_, _, detail) = wait_event(&stack, "aws", "Warning", "InvalidProviderConfig").await;
    assert_eq!(
        detail,
        "unable to create session: could not fetch SecretAccessKey secret: cannot find secret data for key: \"secret-access-key\""
    );
}
