//! N ExternalSecrets brought to Ready from a cold start at a given
//! concurrency, and the latency of force-sync (annotation to updated
//! Secret), against both emulators on the system clock. The SecretStore is
//! validated first (by a controller that then stops); the watch that
//! counts Ready ExternalSecrets starts before the controller, so the time
//! is from the controller's start to the last Ready it sees.
//!
//! `cargo run --release -p eso-emulator --example bench_reconcile -- --count N --concurrency C [--force-syncs F]`
//!
//! Prints one line on stdout, `count=N concurrency=C ready_s=S
//! force_syncs=F force_p50_ms=M force_p99_ms=M`, for
//! `scripts/bench-eso-emulator.sh`; progress goes to stderr.

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

fn ready(es: &DynamicObject) -> bool {
    es.data["status"]["conditions"]
        .as_array()
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn arg(args: &[String], name: &str) -> Option<usize> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
}

/// As the emulators' binaries: see [`emulator_core::Allocator`].
#[global_allocator]
static ALLOCATOR: emulator_core::Allocator = emulator_core::ALLOCATOR;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let count = arg(&args, "--count").unwrap_or(1_000);
    let concurrency = arg(&args, "--concurrency").unwrap_or(1);
    let force_syncs = arg(&args, "--force-syncs").unwrap_or(200);
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
    // Room in the watch log for every write of the run.
    let kube = KubeEmulator::builder()
        .watch_log(count * 12 + 10_000)
        .start()
        .await?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(
            Kubeconfig::from_yaml(&kube.kubeconfig(None))?,
            &KubeConfigOptions::default(),
        )
        .await?,
    )?;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(client.clone());
    for crd in eso_api::crds() {
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
    let stores: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "bench",
        &eso_api::store_resource(eso_api::StoreKind::SecretStore),
    );
    stores
        .create(&PostParams::default(), &serde_json::from_value(json!({"apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": {"name": "aws"},
            "spec": {"provider": {"aws": {"service": "SecretsManager", "region": "us-west-2", "auth": {"secretRef": {
                "accessKeyIDSecretRef": {"name": "aws-secret", "key": "id"}, "secretAccessKeySecretRef": {"name": "aws-secret", "key": "key"}}}}}}}))?)
        .await?;
    let ess: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "bench",
        &eso_api::external_secret_resource(),
    );
    let config = Config {
        endpoints: Endpoints {
            secretsmanager: Some(aws.endpoint()),
            sts: Some(aws.endpoint()),
            ec2_metadata_disabled: true,
        },
        clock: Clock::system(),
        concurrency,
        ..Config::default()
    };
    // A first controller validates the store and stops: the run times
    // syncing, not the first retry of ExternalSecrets reconciled before
    // their store was Ready (a backoff of 1 s or more at any N).
    let validating = EsoController::start(client.clone(), config.clone());
    tokio::time::timeout(
        Duration::from_secs(30),
        kube::runtime::wait::await_condition(stores.clone(), "aws", |s: Option<&DynamicObject>| {
            s.is_some_and(ready)
        }),
    )
    .await
    .context("the SecretStore was not Ready within 30 s")??;
    validating.shutdown().await;
    eprintln!("creating {count} secrets and ExternalSecrets");
    futures::stream::iter(0..count)
        .map(|i| {
            let (sm, ess) = (sm.clone(), ess.clone());
            async move {
                sm.create_secret().name(format!("bench/{i:05}")).secret_string(format!("{{\"k\":\"v{i}\"}}")).send().await?;
                let es = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": format!("es-{i:05}")},
                    "spec": {"refreshInterval": "1h", "secretStoreRef": {"name": "aws"}, "dataFrom": [{"extract": {"key": format!("bench/{i:05}")}}]}});
                ess.create(&PostParams::default(), &serde_json::from_value(es)?).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await?;

    // The watch first: every Ready the controller writes is seen.
    let rv = ess
        .list(&kube::api::ListParams::default().limit(1))
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();
    let mut stream = ess
        .watch(&WatchParams::default().timeout(290), &rv)
        .await?
        .boxed();
    eprintln!("starting the controller (concurrency {concurrency})");
    let started = Instant::now();
    let controller = EsoController::start(client.clone(), config);
    let mut ready_now = std::collections::HashSet::new();
    while ready_now.len() < count {
        let event = tokio::time::timeout(Duration::from_secs(60), stream.try_next())
            .await
            .with_context(|| {
                format!(
                    "no ExternalSecret became Ready for 60 s ({} of {count} Ready)",
                    ready_now.len()
                )
            })??
            .context("the watch of ExternalSecrets ended")?;
        if let WatchEvent::Modified(es) = event
            && ready(&es)
        {
            ready_now.insert(es.metadata.name.unwrap_or_default());
        }
    }
    let all_ready = started.elapsed();
    drop(stream);
    eprintln!("{count} Ready in {all_ready:.2?}");

    // Force-sync: new value in Secrets Manager, annotate, wait for the Secret.
    let mut latencies = Vec::with_capacity(force_syncs);
    for n in 0..force_syncs {
        let i = n * count.max(1) / force_syncs.max(1);
        let name = format!("es-{i:05}");
        let value = format!("forced-{n}");
        sm.put_secret_value()
            .secret_id(format!("bench/{i:05}"))
            .secret_string(format!("{{\"k\":\"{value}\"}}"))
            .send()
            .await?;
        let holds = |s: &Secret| {
            s.data
                .as_ref()
                .and_then(|d| d.get("k"))
                .is_some_and(|v| v.0 == value.as_bytes())
        };
        let mut rv = secrets
            .get(&name)
            .await?
            .metadata
            .resource_version
            .unwrap_or_default();
        let watch = |rv: String| {
            let secrets = secrets.clone();
            let fields = format!("metadata.name={name}");
            async move {
                anyhow::Ok(
                    secrets
                        .watch(&WatchParams::default().fields(&fields).timeout(30), &rv)
                        .await?
                        .boxed(),
                )
            }
        };
        let mut changes = watch(rv.clone()).await?;
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
                .context("a forced refresh did not reach its Secret in 10 s")??;
            match event {
                Some(WatchEvent::Modified(s)) if holds(&s) => break,
                Some(WatchEvent::Modified(s)) => {
                    rv = s.metadata.resource_version.unwrap_or_default();
                }
                Some(_) => {}
                // A watch can end early: look, then watch on from there.
                None => {
                    let now = secrets.get(&name).await?;
                    if holds(&now) {
                        break;
                    }
                    rv = now.metadata.resource_version.unwrap_or(rv);
                    changes = watch(rv.clone()).await?;
                }
            }
        }
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let p = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    controller.shutdown().await;
    println!(
        "count={count} concurrency={concurrency} ready_s={:.4} force_syncs={force_syncs} force_p50_ms={:.3} force_p99_ms={:.3}",
        all_ready.as_secs_f64(),
        p(0.5),
        p(0.99)
    );
    Ok(())
}
