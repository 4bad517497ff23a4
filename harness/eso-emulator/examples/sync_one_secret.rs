//! The controller against both emulators: a secret in Secrets Manager
//! becomes a Kubernetes Secret through a SecretStore and an ExternalSecret,
//! as with the real ESO. Prints the target Secret's key names and value
//! lengths, never the values.
//!
//! `cargo run -p eso-emulator --example sync_one_secret`

use std::hash::BuildHasher;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_emulator::{AwsEmulator, PolicyDocument};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use eso_api::{
    AwsAuth, AwsProvider, AwsSecretRef, ExternalSecret, ExternalSecretDataFromRemoteRef,
    ExternalSecretSpec, Provider, RemoteRef, SecretKeySelector, SecretStore, SecretStoreRef,
    SecretStoreSpec,
};
use eso_emulator::{Config, Endpoints, EsoController};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::await_condition;
use kube_emulator::KubeEmulator;

const NAMESPACE: &str = "team";
const REGION: &str = "us-west-2";

// pub(crate): `tests/examples.rs` runs it too.
#[tokio::main]
pub(crate) async fn main() -> anyhow::Result<()> {
    // Secrets Manager, with an IAM user whose key ESO will use.
    let aws = AwsEmulator::builder().start().await?;
    let key = aws.with_iam(|iam| -> anyhow::Result<_> {
        iam.create_user("eso")?;
        let policy =
            r#"{"Statement":{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}}"#;
        iam.put_user_policy("eso", "secrets", PolicyDocument::parse(policy)?)?;
        Ok(iam.create_access_key("eso")?)
    })?;
    let sm = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(aws.endpoint())
            .credentials_provider(Credentials::new(
                &key.access_key_id,
                &key.secret_access_key,
                None,
                None,
                "example",
            ))
            .build(),
    );
    // Values made for this run: they are never printed.
    let random = std::collections::hash_map::RandomState::new().hash_one(0u8);
    let value = serde_json::json!({ "username": "app", "password": format!("{random:016x}") });
    sm.create_secret()
        .name("team/app")
        .secret_string(value.to_string())
        .send()
        .await?;

    // The Kubernetes API, with ESO's CRDs and admission rules, reached by kube-rs.
    let kube = KubeEmulator::builder()
        .admission_hook(std::sync::Arc::new(eso_emulator::webhook::EsoWebhook))
        .start()
        .await?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(
            Kubeconfig::from_yaml(&kube.kubeconfig(None))?,
            &KubeConfigOptions::default(),
        )
        .await?,
    )?;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in eso_api::crds() {
        crds.create(&PostParams::default(), &crd).await?;
    }
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(NAMESPACE.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await?;

    // The key in a Secret, a SecretStore reading it, an ExternalSecret
    // extracting every field of `team/app` into the Secret `app-secrets`.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    let credentials = Secret {
        metadata: ObjectMeta {
            name: Some("aws-secret".into()),
            ..Default::default()
        },
        string_data: Some(
            [
                ("access-key-id".to_owned(), key.access_key_id.clone()),
                (
                    "secret-access-key".to_owned(),
                    key.secret_access_key.clone(),
                ),
            ]
            .into(),
        ),
        ..Default::default()
    };
    secrets.create(&PostParams::default(), &credentials).await?;
    let selector = |key: &str| SecretKeySelector {
        name: "aws-secret".into(),
        key: key.into(),
        namespace: None,
    };
    let store = SecretStore::new(
        "aws",
        SecretStoreSpec {
            provider: Provider {
                aws: Some(AwsProvider {
                    service: "SecretsManager".into(),
                    region: REGION.into(),
                    role: None,
                    auth: Some(AwsAuth {
                        secret_ref: Some(AwsSecretRef {
                            access_key_id_secret_ref: Some(selector("access-key-id")),
                            secret_access_key_secret_ref: Some(selector("secret-access-key")),
                            session_token_secret_ref: None,
                        }),
                        jwt: None,
                    }),
                }),
            },
            ..Default::default()
        },
    );
    Api::<SecretStore>::namespaced(client.clone(), NAMESPACE)
        .create(&PostParams::default(), &store)
        .await?;
    let mut spec = ExternalSecretSpec {
        secret_store_ref: Some(SecretStoreRef {
            name: "aws".into(),
            kind: None,
        }),
        refresh_interval: Some("1h".into()),
        data_from: vec![ExternalSecretDataFromRemoteRef {
            extract: Some(RemoteRef {
                key: "team/app".into(),
                ..Default::default()
            }),
        }],
        ..Default::default()
    };
    spec.target.name = Some("app-secrets".into());
    Api::<ExternalSecret>::namespaced(client.clone(), NAMESPACE)
        .create(&PostParams::default(), &ExternalSecret::new("app", spec))
        .await?;

    // The controller, as ESO runs with AWS_SECRETSMANAGER_ENDPOINT and
    // AWS_STS_ENDPOINT pointing at the emulator.
    let controller = EsoController::start(
        client.clone(),
        Config {
            endpoints: Endpoints {
                secretsmanager: Some(aws.endpoint()),
                sts: Some(aws.endpoint()),
                ec2_metadata_disabled: true,
            },
            ..Config::default()
        },
    );

    // Wait, on a watch, for the Secret it writes.
    let written = |s: Option<&Secret>| s.is_some_and(|s| s.data.is_some());
    let target = tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(secrets.clone(), "app-secrets", written),
    )
    .await
    .map_err(|_| anyhow::anyhow!("no Secret app-secrets with data within 30 s"))??
    .ok_or_else(|| anyhow::anyhow!("Secret app-secrets was deleted"))?;
    for (key, value) in target.data.unwrap_or_default() {
        println!("app-secrets: {key} ({} bytes)", value.0.len());
    }

    controller.shutdown().await;
    kube.shutdown().await;
    aws.shutdown().await;
    Ok(())
}
