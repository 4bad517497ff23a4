//! Store validation as ESO's store controller does it with the AWS
//! provider, and ClusterSecretStores: referent credentials, conditions.

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};

use crate::support::*;

fn cluster_api(stack: &Stack) -> Api<DynamicObject> {
    Api::all_with(stack.client.clone(), &resource("clustersecretstores"))
}

async fn create_cluster_store(stack: &Stack, obj: Value) {
    cluster_api(stack)
        .create(
            &PostParams::default(),
            &serde_json::from_value(obj).unwrap(),
        )
        .await
        .unwrap();
}

/// A ClusterSecretStore reading `aws-secret`, in `namespace` if given.
fn cluster_store(name: &str, namespace: Option<&str>, conditions: Value) -> Value {
    let sel = |key: &str| match namespace {
        Some(ns) => json!({"name": "aws-secret", "key": key, "namespace": ns}),
        None => json!({"name": "aws-secret", "key": key}),
    };
    json!({"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
        "metadata": {"name": name},
        "spec": {"conditions": conditions, "provider": {"aws": {"service": "SecretsManager", "region": REGION,
            "auth": {"secretRef": {"accessKeyIDSecretRef": sel("access-key-id"),
                "secretAccessKeySecretRef": sel("secret-access-key")}}}}}})
}

fn using_cluster_store(name: &str, store: &str, key: &str) -> Value {
    let mut es = extract_es(name, key, "1h");
    es["spec"]["secretStoreRef"] = json!({"name": store, "kind": "ClusterSecretStore"});
    es
}

/// Waits for the store's Ready condition; returns (status, reason, message).
async fn store_ready(api: &Api<DynamicObject>, name: &str) -> (String, String, String) {
    let obj = wait_for(api, name, "the store's Ready condition", |o| {
        ready_reason(o).is_some()
    })
    .await;
    ready_reason(&obj).unwrap()
}

/// The events in "default", where those about cluster-scoped objects go.
async fn default_events(stack: &Stack, name: &str) -> Vec<(String, String, String)> {
    Api::<Event>::namespaced(stack.client.clone(), "default")
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(name))
        .map(|e| {
            (
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.message.unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_referent_cluster_store_is_valid_unread_and_reads_in_the_external_secrets_namespace() {
    let stack = stack().await;
    let v = values(&["k"]);
    put_sm(&stack, "app/referent", &v).await;
    create_cluster_store(&stack, cluster_store("referent", None, json!([]))).await;
    assert_eq!(
        store_ready(&cluster_api(&stack), "referent").await,
        ("True".into(), "Valid".into(), "store validated".into())
    );
    let events = within("the store's Valid event", async {
        loop {
            let e = default_events(&stack, "referent").await;
            if !e.is_empty() {
                break e;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(
        events,
        vec![("Normal".into(), "Valid".into(), "store validated".into())]
    );
    create(
        &stack.client,
        "externalsecrets",
        using_cluster_store("via-referent", "referent", "app/referent"),
    )
    .await
    .unwrap();
    wait_secret_data(
        &stack,
        "via-referent",
        &v,
        "synced with the team's aws-secret",
    )
    .await;
}

#[tokio::test]
async fn a_cluster_store_refuses_a_namespace_its_conditions_do_not_name() {
    let stack = stack().await;
    let v = values(&["k"]);
    put_sm(&stack, "app/conditions", &v).await;
    create_cluster_store(
        &stack,
        cluster_store("elsewhere", Some(NS), json!([{"namespaces": ["other"]}])),
    )
    .await;
    create_cluster_store(
        &stack,
        cluster_store(
            "here",
            Some(NS),
            json!([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": NS}}}]),
        ),
    )
    .await;
    store_ready(&cluster_api(&stack), "elsewhere").await;
    store_ready(&cluster_api(&stack), "here").await;
    create(
        &stack.client,
        "externalsecrets",
        using_cluster_store("denied", "elsewhere", "app/conditions"),
    )
    .await
    .unwrap();
    create(
        &stack.client,
        "externalsecrets",
        using_cluster_store("allowed", "here", "app/conditions"),
    )
    .await
    .unwrap();
    wait_secret_data(&stack, "allowed", &v, "allowed by its selector").await;
    wait_ready(&stack, "denied", "False", "SecretSyncedError").await;
    let (_, _, message) = wait_event(&stack, "denied", "Warning", "UpdateFailed").await;
    // ESO's errClusterStoreMismatch (client_manager.go, v0.20.4), in the
    // first entry's words, as real ESO v0.20.4 showed it.
    assert_eq!(
        message,
        "error processing spec.dataFrom[0].extract, err: using cluster store \"elsewhere\" is not allowed from namespace \"team\": denied by spec.condition"
    );
}

fn secret_store(name: &str, aws: Value) -> Value {
    json!({"apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": {"name": name},
        "spec": {"provider": {"aws": aws}}})
}

#[tokio::test]
async fn default_chain_and_assume_role_fail_validation_as_real_eso_did() {
    let stack = stack().await;
    create(
        &stack.client,
        "secretstores",
        secret_store(
            "no-auth",
            json!({"service": "SecretsManager", "region": REGION}),
        ),
    )
    .await
    .unwrap();
    create(&stack.client, "secretstores", secret_store("role", json!({
        "service": "SecretsManager", "region": REGION, "role": "arn:aws:iam::111122223333:role/r",
        "auth": {"secretRef": {"accessKeyIDSecretRef": {"name": "aws-secret", "key": "access-key-id"},
            "secretAccessKeySecretRef": {"name": "aws-secret", "key": "secret-access-key"}}}})))
    .await
    .unwrap();
    let stores = api(&stack.client, "secretstores");
    // ESO's errUnableValidateStore (secretstore/common.go, v0.20.4).
    assert_eq!(
        store_ready(&stores, "no-auth").await,
        (
            "False".into(),
            "InvalidProviderConfig".into(),
            "unable to validate store".into()
        )
    );
    assert_eq!(
        store_ready(&stores, "role").await.2,
        "unable to validate store"
    );
    let (_, _, no_auth) = wait_event(&stack, "no-auth", "Warning", "InvalidProviderConfig").await;
    // The Go SDK's words with instance metadata disabled, from the binary.
    assert_eq!(
        no_auth,
        "failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled to EC2 IMDS via client option, or \"AWS_EC2_METADATA_DISABLED\" environment variable"
    );
    let (_, _, role) = wait_event(&stack, "role", "Warning", "InvalidProviderConfig").await;
    assert!(
        role.starts_with(
            "operation error STS: AssumeRole, https response error StatusCode: 400, RequestID: "
        ),
        "{role}"
    );
}
