use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_emulator::{AccessKey, AwsEmulator, PolicyDocument};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use eso_emulator::{Clock, Config, Endpoints, EsoController};
use k8s_openapi::api::core::v1::{Event, Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::await_condition;
use kube_emulator::KubeEmulator;
use serde_json::{Value, json};

pub(crate) const NS: &str = "team";
pub(crate) const REGION: &str = "us-west-2";

pub(crate) struct Stack {
    pub aws: AwsEmulator,
    pub kube: KubeEmulator,
    pub client: kube::Client,
    pub sm: aws_sdk_secretsmanager::Client,
    pub clock: Clock,
    pub key: AccessKey,
    pub controller: Option<EsoController>,
}

pub(crate) fn sm_client(endpoint: &str, key: &AccessKey) -> aws_sdk_secretsmanager::Client {
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            key.access_key_id.clone(),
            key.secret_access_key.clone(),
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

/// Both emulators, the CRDs, a namespace with `aws-secret` holding a key of
/// an IAM user that may read `app/*`, and a valid SecretStore; the
/// controller running on a virtual clock.
pub(crate) async fn stack() -> Stack {
    let clock = Clock::virtual_running();
    let aws = AwsEmulator::builder()
        .clock(clock.clone())
        .account_id("111122223333")
        .start()
        .await
        .unwrap();
    let admin = aws.with_iam(|iam| {
        iam.create_user("admin").unwrap();
        iam.put_user_policy(
            "admin",
            "all",
            PolicyDocument::parse(
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            )
            .unwrap(),
        )
        .unwrap();
        iam.create_access_key("admin").unwrap()
    });
    let eso_key = aws.with_iam(|iam| {
        iam.create_user("eso").unwrap();
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:us-west-2:111122223333:secret:app/*"}]}"#;
        iam.put_user_policy("eso", "read", PolicyDocument::parse(policy).unwrap()).unwrap();
        iam.create_access_key("eso").unwrap()
    });
    let kube = KubeEmulator::builder()
        .clock(clock.clone())
        .admission_hook(Arc::new(eso_emulator::webhook::EsoWebhook))
        .start()
        .await
        .unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(&kube.kubeconfig(None)).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in eso_api::crds() {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": NS}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    put_aws_secret(&client, &eso_key).await;
    create(&client, "secretstores", json!({
        "apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": {"name": "aws"},
        "spec": {"provider": {"aws": {"service": "SecretsManager", "region": REGION, "auth": {"secretRef": {
            "accessKeyIDSecretRef": {"name": "aws-secret", "key": "access-key-id"},
            "secretAccessKeySecretRef": {"name": "aws-secret", "key": "secret-access-key"}}}}}}
    }))
    .await
    .unwrap();
    let sm = sm_client(&aws.endpoint(), &admin);
    let endpoints = Endpoints {
        secretsmanager: Some(aws.endpoint()),
        sts: Some(aws.endpoint()),
        ec2_metadata_disabled: true,
    };
    let controller = EsoController::start(
        client.clone(),
        Config {
            endpoints,
            clock: clock.clone(),
            ..Config::default()
        },
    );
    Stack {
        aws,
        kube,
        client,
        sm,
        clock,
        key: eso_key,
        controller: Some(controller),
    }
}

pub(crate) async fn put_aws_secret(client: &kube::Client, key: &AccessKey) {
    let s: Secret =
        serde_json::from_value(json!({"metadata": {"name": "aws-secret"}, "stringData": {
        "access-key-id": key.access_key_id, "secret-access-key": key.secret_access_key}}))
        .unwrap();
    let api: Api<Secret> = Api::namespaced(client.clone(), NS);
    let _ = api.delete("aws-secret", &Default::default()).await;
    api.create(&PostParams::default(), &s).await.unwrap();
}

/// ESO's resource by its plural.
pub(crate) fn resource(plural: &str) -> kube::api::ApiResource {
    match plural {
        "externalsecrets" => eso_api::external_secret_resource(),
        "secretstores" => eso_api::store_resource(eso_api::StoreKind::SecretStore),
        _ => eso_api::store_resource(eso_api::StoreKind::ClusterSecretStore),
    }
}

pub(crate) fn api(client: &kube::Client, plural: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), NS, &resource(plural))
}

pub(crate) async fn create(
    client: &kube::Client,
    plural: &str,
    obj: Value,
) -> Result<DynamicObject, kube::Error> {
    api(client, plural)
        .create(
            &PostParams::default(),
            &serde_json::from_value(obj).unwrap(),
        )
        .await
}

/// An ExternalSecret `name` extracting every key of `key`.
pub(crate) fn extract_es(name: &str, key: &str, interval: &str) -> Value {
    json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": name},
        "spec": {"refreshInterval": interval, "secretStoreRef": {"name": "aws", "kind": "SecretStore"},
            "target": {"name": name}, "dataFrom": [{"extract": {"key": key}}]}})
}

/// Values made per run.
pub(crate) fn values(keys: &[&str]) -> BTreeMap<String, String> {
    keys.iter()
        .map(|k| (k.to_string(), format!("{k}-{:x}", rand_u64())))
        .collect()
}

pub(crate) fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(7);
    h.finish()
}

pub(crate) async fn put_sm(stack: &Stack, name: &str, v: &BTreeMap<String, String>) {
    let s = serde_json::to_string(v).unwrap();
    match stack.sm.describe_secret().secret_id(name).send().await {
        Ok(_) => {
            stack
                .sm
                .put_secret_value()
                .secret_id(name)
                .secret_string(s)
                .send()
                .await
                .unwrap();
        }
        Err(_) => {
            stack
                .sm
                .create_secret()
                .name(name)
                .secret_string(s)
                .send()
                .await
                .unwrap();
        }
    }
}

/// Waits (on a watch) until `cond` holds for the named object.
pub(crate) async fn wait_for<K, F>(api: &Api<K>, name: &str, what: &str, cond: F) -> K
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    F: Fn(&K) -> bool + Send + 'static,
{
    let found = tokio::time::timeout(
        Duration::from_secs(20),
        await_condition(api.clone(), name, move |o: Option<&K>| o.is_some_and(&cond)),
    )
    .await
    .unwrap_or_else(|_| panic!("timed out after 20s waiting for {what}"))
    .unwrap();
    found.unwrap_or_else(|| panic!("{what}: object vanished"))
}

/// The Ready condition as (status, reason, message), for short assertions.
pub(crate) fn ready_reason(obj: &DynamicObject) -> Option<(String, String, String)> {
    let c = eso_api::ready_condition(obj)?;
    Some((
        c.status.as_str().to_owned(),
        c.reason?,
        c.message.unwrap_or_default(),
    ))
}

pub(crate) async fn wait_ready(
    stack: &Stack,
    name: &str,
    status: &str,
    reason: &str,
) -> DynamicObject {
    let (status, reason) = (status.to_owned(), reason.to_owned());
    let what = format!("ExternalSecret {name} Ready={status} reason {reason}");
    wait_for(
        &api(&stack.client, "externalsecrets"),
        name,
        &what,
        move |es| ready_reason(es).is_some_and(|(s, r, _)| s == status && r == reason),
    )
    .await
}

pub(crate) async fn secret(stack: &Stack, name: &str) -> Option<Secret> {
    Api::<Secret>::namespaced(stack.client.clone(), NS)
        .get_opt(name)
        .await
        .unwrap()
}

pub(crate) fn decoded(s: &Secret) -> BTreeMap<String, String> {
    s.data
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(v.0).unwrap()))
        .collect()
}

pub(crate) async fn wait_secret_data(
    stack: &Stack,
    name: &str,
    expected: &BTreeMap<String, String>,
    what: &str,
) -> Secret {
    let expected = expected.clone();
    wait_for(
        &Api::<Secret>::namespaced(stack.client.clone(), NS),
        name,
        what,
        move |s| decoded(s) == expected,
    )
    .await
}

/// Events about an object, as `kubectl describe` lists them.
pub(crate) async fn events_for(stack: &Stack, name: &str) -> Vec<(String, String, String)> {
    let api: Api<Event> = Api::namespaced(stack.client.clone(), NS);
    let list = api
        .list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
        .await
        .unwrap();
    list.items
        .into_iter()
        .map(|e| {
            (
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.message.unwrap_or_default(),
            )
        })
        .collect()
}

/// Waits until an event with this type and reason exists, and returns it.
pub(crate) async fn wait_event(
    stack: &Stack,
    name: &str,
    type_: &str,
    reason: &str,
) -> (String, String, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let api: Api<Event> = Api::namespaced(stack.client.clone(), NS);
    loop {
        if let Some(e) = events_for(stack, name)
            .await
            .into_iter()
            .find(|(t, r, _)| t == type_ && r == reason)
        {
            return e;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after 20s waiting for a {type_} {reason} event about {name}"
        );
        // Wait for the next event in the namespace rather than polling blindly.
        let _ = tokio::time::timeout(Duration::from_secs(1), next_change(&api)).await;
    }
}

async fn next_change(api: &Api<Event>) {
    use futures::StreamExt;
    let rv = api
        .list(&ListParams::default().limit(1))
        .await
        .ok()
        .and_then(|l| l.metadata.resource_version)
        .unwrap_or_default();
    if let Ok(stream) = api.watch(&kube::api::WatchParams::default(), &rv).await {
        let _ = stream.boxed().next().await;
    }
}

/// Runs `f` and fails with `what` if it takes longer than 20s.
pub(crate) async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .unwrap_or_else(|_| panic!("timed out after 20s: {what}"))
}

/// The force-sync annotation, as `kubectl annotate ... force-sync=V --overwrite` sets it.
pub(crate) async fn force_sync(stack: &Stack, name: &str, value: &str) {
    api(&stack.client, "externalsecrets")
        .patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"metadata": {"annotations": {"force-sync": value}}})),
        )
        .await
        .unwrap();
}

/// Everything due has been reconciled once a marker queued now has synced
/// (the queue takes the earliest due first), and every event recorded
/// before has been written once the marker's own is (they are written in
/// order).
pub(crate) async fn caught_up(stack: &Stack, n: u32) {
    let name = format!("marker-{n}");
    put_sm(stack, &format!("app/{name}"), &values(&["m"])).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es(&name, &format!("app/{name}"), "1h"),
    )
    .await
    .unwrap();
    wait_ready(stack, &name, "True", "SecretSynced").await;
    wait_event(stack, &name, "Normal", "Created").await;
}
