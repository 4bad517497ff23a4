//! The existing environment: whatever the current kubeconfig context points
//! at (a staging cluster, a developer's kind, production for read-only
//! checks), with Secrets Manager reached through the AWS SDK's default
//! credentials, region and endpoint (`AWS_ENDPOINT_URL` for LocalStack).
//! Nothing is started; what the harness cannot do to a live system is a
//! capability this environment lacks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use aws_emulator::AccessKey;
use emulator_core::Clock;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};

use super::capability::Profile;
use super::environment::{Base, Environment};
use super::facets::Facet;
use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;
use crate::system::{AWS_SECRET, LOCAL_OVERLAY, NAMESPACE};

pub struct Existing {
    base: Base,
    /// `aws-secret` as found at the start, to put back after a scenario
    /// removed it (the harness never knows the credentials themselves).
    aws_secret: Option<Secret>,
    controller_stopped: AtomicBool,
    /// Replicas of ESO's controller before a scenario scaled it to 0.
    replicas: AtomicI32,
}

/// What a live system is: the harness changes neither its IAM nor its
/// Secrets Manager's reachability, reads no audit trail, and waits for its
/// clock and its refresh interval in real time.
pub fn profile() -> Profile {
    Profile {
        lacks: vec![
            (
                Facet::Iam,
                "the harness does not change IAM on a live account",
            ),
            (Facet::Audit, "the audit trail is the emulator's own"),
            (
                Facet::Outage,
                "the harness cannot make a live Secrets Manager unreachable",
            ),
            (Facet::Regions, "region outages are the emulator's own"),
            (Facet::Snapshots, "snapshots are the emulator's own"),
        ],
        wall_clock: Some("time passes for real on a live cluster"),
        local_overlay: LOCAL_OVERLAY,
        no_kubelet: Some(
            "the pod scenarios start a pod of their own; the harness starts none on a live cluster",
        ),
        no_irsa: Some("the harness does not change IAM's trust of a live cluster"),
    }
}

/// The kubeconfig file kubectl would read: the first of `KUBECONFIG`, or
/// `~/.kube/config`.
pub fn default_kubeconfig() -> PathBuf {
    std::env::var_os("KUBECONFIG")
        .and_then(|v| std::env::split_paths(&v).next())
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".kube/config")))
        .unwrap_or_else(|| PathBuf::from(".kube/config"))
}

/// Reads the kubeconfig the run would use and resolves its current
/// context, before anything starts: a bad one is named with the cause.
pub async fn check_kubeconfig() -> anyhow::Result<()> {
    let path = default_kubeconfig();
    kube::config::Kubeconfig::read()
        .map_err(anyhow::Error::from)
        .and_then(|k| {
            k.current_context
                .is_some()
                .then_some(())
                .ok_or_else(|| anyhow::anyhow!("no current-context set"))
        })
        .with_context(|| format!("--env existing: the kubeconfig {}", path.display()))?;
    kube::Config::from_kubeconfig(&kube::config::KubeConfigOptions::default())
        .await
        .with_context(|| {
            format!(
                "--env existing: the current context of the kubeconfig {}",
                path.display()
            )
        })?;
    Ok(())
}

impl Existing {
    pub async fn connect(fixtures: Fixtures) -> anyhow::Result<Self> {
        let client = kube::Client::try_default()
            .await
            .context("connecting to the current kubeconfig context")?;
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .context("no AWS region configured (AWS_REGION or a profile's region)")?;
        let sm = aws_sdk_secretsmanager::Client::new(&sdk);
        // The fixtures name the secrets and which of their keys are secret;
        // the values are what Secrets Manager holds now.
        let template = Seed::load(&fixtures.seed_file())?;
        let mut secrets = std::collections::BTreeMap::new();
        for name in template.secrets.keys() {
            let out = sm
                .get_secret_value()
                .secret_id(name)
                .send()
                .await
                .with_context(|| {
                    format!("reading {name} with the AWS SDK's default credentials")
                })?;
            let text = out.secret_string().unwrap_or_default();
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
                .with_context(|| format!("{name} does not hold a JSON object"))?;
            let values = map
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect();
            secrets.insert(name.clone(), values);
        }
        let seed = Seed {
            region,
            secrets,
            generated: template.generated,
        };
        let aws_secret = Api::<Secret>::namespaced(client.clone(), NAMESPACE)
            .get_opt(AWS_SECRET)
            .await
            .with_context(|| format!("reading the namespace {NAMESPACE}"))?;
        let base = Base {
            name: "existing",
            profile: profile(),
            kube: client,
            kubeconfig: default_kubeconfig(),
            workdir: crate::files::private_tempdir()?,
            fixtures,
            seed,
            clock: Clock::system(),
            patience: Duration::from_secs(120),
            live: true,
            secrets_manager: Arc::new(RwLock::new(sm)),
            // Unknown to the harness: what was found is put back instead.
            controller_key: None,
            labels: Vec::new(),
        };
        Ok(Self {
            base,
            aws_secret,
            controller_stopped: AtomicBool::new(false),
            replicas: AtomicI32::new(1),
        })
    }
}

impl Environment for Existing {
    fn base(&self) -> &Base {
        &self.base
    }

    fn restore_credentials(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let Some(saved) = &self.aws_secret else {
                // An IRSA setup has no aws-secret; nothing to put back.
                return Ok(());
            };
            let api = Api::<Secret>::namespaced(self.base.kube.clone(), NAMESPACE);
            if api.get_opt(AWS_SECRET).await?.is_some() {
                api.delete(AWS_SECRET, &Default::default()).await?;
            }
            let mut secret = saved.clone();
            secret.metadata = kube::api::ObjectMeta {
                name: saved.metadata.name.clone(),
                namespace: saved.metadata.namespace.clone(),
                labels: saved.metadata.labels.clone(),
                annotations: saved.metadata.annotations.clone(),
                ..Default::default()
            };
            api.create(&PostParams::default(), &secret)
                .await
                .context("putting back aws-secret as it was at the start")?;
            Ok(())
        })
    }

    fn put_credentials<'a>(&'a self, _key: &'a AccessKey) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            anyhow::bail!(
                "{} cannot put chosen credentials in aws-secret",
                self.name()
            )
        })
    }

    fn stop_controller(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let client = &self.base.kube;
            let replicas = super::cluster::controller_replicas(client).await?;
            self.replicas.store(replicas.max(1), Ordering::SeqCst);
            super::cluster::scale_controller(client, 0, self.patience()).await?;
            self.controller_stopped.store(true, Ordering::SeqCst);
            Ok(())
        })
    }

    fn start_controller(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let replicas = self.replicas.load(Ordering::SeqCst);
            super::cluster::scale_controller(&self.base.kube, replicas, self.patience()).await?;
            self.controller_stopped.store(false, Ordering::SeqCst);
            Ok(())
        })
    }

    fn controller_running(&self) -> bool {
        !self.controller_stopped.load(Ordering::SeqCst)
    }

    fn controller_log(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(super::cluster::controller_log(&self.base.kube))
    }
}
