//! 1,000 ExternalSecrets brought to Ready from a cold start, and the latency
//! of force-sync (annotation to updated Secret), against both emulators.
//!
//! `cargo run --release -p eso-emulator --example bench_reconcile -- [--check] [--concurrency N]`
//! With `--check` it fails unless all 1,000 are Ready within 5 s and the
//! force-sync p99 is under 50 ms.

use std::time::{Duration, Instant};

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_emulator::{AwsEmulator, PolicyDocument};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use eso_emulator::{Clock, Config, Endpoints, EsoController};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_emulator::KubeEmulator;
use serde_json::json;

const COUNT: usize = 1_000;
const FORCE_SYNCS: usize = 200;

fn ready(es: &DynamicObject) -> bool {
    es.data["status"]["conditions"]
        .as_array()
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let check = args.iter().any(|a| a == "--check");
    let concurrency = args
        .iter()
        .position(|a| a == "--concurrency")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1usize);
    let aws = AwsEmulator::builder()
        .account_id("111122223333")
        .start()
        .await?;
    let (admin, eso) = aws.with_iam(|iam| -> anyhow::Result<_> {
        let all = PolicyDocument::parse(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        )?;
        iam.create_user("admin")?;
        iam.put_user_policy("admin", "all", all.clone())?;
        iam.create_user("eso")?;
        iam.put_user_policy("eso", "all", all)?;
        Ok((
            iam.create_access_key("admin")?,
            iam.create_access_key("eso")?,
        ))
    })?;
    let sm = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-west-2"))
            .endpoint_url(aws.endpoint())
            .credentials_provider(Credentials::new(
                admin.access_key_id.clone(),
                admin.secret_access_key.clone(),
                None,
                None,
                "bench",
            ))
            .build(),
    );
    let kube = KubeEmulator::builder().watch_log(50_000).start().await?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(
            Kubeconfig::from_yaml(&kube.kubeconfig(None))?,
            &KubeConfigOptions::default(),
        )
        .await?,
    )?;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(client.clone());
    for crd in eso_emulator::types::crds() {
        crds.create(&PostParams::default(), &crd).await?;
    }
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "bench"}}))?;
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "bench");
    let creds: Secret = serde_json::from_value(
        json!({"metadata": {"name": "aws-secret"}, "stringData": {"id": eso.access_key_id, "key": eso.secret_access_key}}),
    )?;
    secrets.create(&PostParams::default(), &creds).await?;
    let ar = |kind: &str, plural: &str| {
        kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("external-secrets.io", "v1", kind),
            plural,
        )
    };
    let stores: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "bench", &ar("SecretStore", "secretstores"));
    stores
        .create(&PostParams::default(), &serde_json::from_value(json!({"apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": {"name": "aws"},
            "spec": {"provider": {"aws": {"service": "SecretsManager", "region": "us-west-2", "auth": {"secretRef": {
                "accessKeyIDSecretRef": {"name": "aws-secret", "key": "id"}, "secretAccessKeySecretRef": {"name": "aws-secret", "key": "key"}}}}}}}))?)
        .await?;
    let ess: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "bench",
        &ar("ExternalSecret", "externalsecrets"),
    );
    futures::stream::iter(0..COUNT)
        .map(|i| {
            let (sm, ess) = (sm.clone(), ess.clone());
            async move {
                sm.create_secret().name(format!("bench/{i:04}")).secret_string(format!("{{\"k\":\"v{i}\"}}")).send().await?;
                let es = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": format!("es-{i:04}")},
                    "spec": {"refreshInterval": "1h", "secretStoreRef": {"name": "aws"}, "dataFrom": [{"extract": {"key": format!("bench/{i:04}")}}]}});
                ess.create(&PostParams::default(), &serde_json::from_value(es)?).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await?;

    let started = Instant::now();
    let endpoints = Endpoints {
        secretsmanager: Some(aws.endpoint()),
        sts: Some(aws.endpoint()),
        ec2_metadata_disabled: true,
    };
    let controller = EsoController::start(
        client.clone(),
        Config {
            endpoints,
            clock: Clock::system(),
            concurrency,
            ..Config::default()
        },
    );
    let rv = ess
        .list(&Default::default())
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();
    let mut ready_now: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut stream = ess
        .watch(&WatchParams::default().timeout(60), &rv)
        .await?
        .boxed();
    while ready_now.len() < COUNT {
        let event = tokio::time::timeout(Duration::from_secs(60), stream.try_next())
            .await
            .context("no progress for 60 s")??
            .context("watch ended")?;
        if let WatchEvent::Modified(es) = event
            && ready(&es)
        {
            ready_now.insert(es.metadata.name.unwrap_or_default());
        }
    }
    let all_ready = started.elapsed();
    println!(
        "{COUNT} ExternalSecrets Ready in {all_ready:.2?} (concurrency {concurrency}; target < 5 s)"
    );

    // Force-sync: new value in Secrets Manager, annotate, wait for the Secret.
    let mut latencies = Vec::with_capacity(FORCE_SYNCS);
    for n in 0..FORCE_SYNCS {
        let name = format!("es-{:04}", n % COUNT);
        let value = format!("forced-{n}");
        sm.put_secret_value()
            .secret_id(format!("bench/{:04}", n % COUNT))
            .secret_string(format!("{{\"k\":\"{value}\"}}"))
            .send()
            .await?;
        let rv = secrets
            .get(&name)
            .await?
            .metadata
            .resource_version
            .unwrap_or_default();
        let mut changes = secrets
            .watch(
                &WatchParams::default()
                    .fields(&format!("metadata.name={name}"))
                    .timeout(30),
                &rv,
            )
            .await?
            .boxed();
        let t = Instant::now();
        ess.patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"force-sync": n.to_string()}}})),
        )
        .await?;
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), changes.try_next())
                .await
                .context("force-sync not seen in 10 s")??
                .context("watch ended")?;
            if let WatchEvent::Modified(s) = event
                && s.data
                    .as_ref()
                    .and_then(|d| d.get("k"))
                    .is_some_and(|v| v.0 == value.as_bytes())
            {
                break;
            }
        }
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "force-sync latency over {FORCE_SYNCS}: p50 {:.2?}, p99 {:.2?} (target p99 < 50 ms)",
        p(0.5),
        p(0.99)
    );
    controller.shutdown().await;
    if check {
        anyhow::ensure!(
            all_ready < Duration::from_secs(5),
            "target missed: {all_ready:?} to Ready"
        );
        anyhow::ensure!(
            p(0.99) < Duration::from_millis(50),
            "target missed: force-sync p99 {:?}",
            p(0.99)
        );
    }
    Ok(())
}
