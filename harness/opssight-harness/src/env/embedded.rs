//! The embedded environment: aws-emulator, kube-emulator and eso-emulator in
//! this process on a virtual clock, with ESO's CRDs and webhook, Secrets
//! Manager seeded from the fixtures, the IAM policy of the runbook given to
//! the controller's user, `aws-secret` holding that user's key, and the local
//! overlay applied.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use aws_credential_types::Credentials;
use aws_emulator::{AccessKey, AwsEmulator};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use emulator_core::Clock;
use eso_emulator::webhook::EsoWebhook;
use futures::future::BoxFuture;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_emulator::KubeEmulator;

use super::{Capabilities, Capability, Environment};
use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;
use crate::system::{ESO_DEPLOYMENTS, ESO_NAMESPACE, IRSA_SERVICE_ACCOUNT, NAMESPACE};

/// How long ESO's deployments may take to become available or to stop.
const START_WAIT: Duration = Duration::from_secs(30);

/// What the embedded environment can show on this machine: everything but
/// kubectl when it is not installed.
pub fn capabilities() -> Capabilities {
    let mut caps = Capabilities::default();
    caps.missing.insert(
        Capability::Kubelet,
        "the embedded environment has no kubelet: it runs no pods".into(),
    );
    if super::kubectl_path().is_none() {
        caps.missing
            .insert(Capability::Kubectl, "kubectl is not on PATH".into());
    }
    caps
}

pub struct Embedded {
    pub aws: AwsEmulator,
    pub kube: KubeEmulator,
    pub clock: Clock,
    client: kube::Client,
    admin: aws_sdk_secretsmanager::Client,
    admin_key: AccessKey,
    /// The key in `aws-secret`: the controller's user's.
    pub eso_key: AccessKey,
    eso: Arc<super::eso_pods::EsoPods>,
    seed: Seed,
    capabilities: Capabilities,
    dir: crate::files::PrivateDir,
    kubeconfig: PathBuf,
    pub fixtures: Fixtures,
}

pub fn sm_client(endpoint: &str, key: &AccessKey, region: &str) -> aws_sdk_secretsmanager::Client {
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            key.access_key_id.clone(),
            key.secret_access_key.clone(),
            key.session_token.clone(),
            None,
            "opssight-harness",
        ))
        .retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

impl Embedded {
    pub async fn start(fixtures: Fixtures) -> anyhow::Result<Self> {
        let clock = Clock::virtual_running();
        let seed = Seed::load(&fixtures.seed_file())?;
        let sm =
            super::secrets_manager::EmulatedSecretsManager::start(clock.clone(), &fixtures, &seed)
                .await?;
        let kube = KubeEmulator::builder()
            .clock(clock.clone())
            .admission_hook(Arc::new(EsoWebhook))
            .start()
            .await?;
        // As on EKS: the production overlay's IRSA store works here too.
        sm.trust_cluster_tokens(
            &fixtures,
            &kube.issuer(),
            kube.jwks(),
            (NAMESPACE, IRSA_SERVICE_ACCOUNT),
        )?;
        let super::secrets_manager::EmulatedSecretsManager {
            aws,
            admin,
            admin_key,
            eso_key,
        } = sm;
        let dir = crate::files::private_tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        // Holds a token: created 0600 in a 0700 directory removed on a signal.
        crate::files::write_private(&kubeconfig, kube.kubeconfig(Some(NAMESPACE)))?;
        let config = kube::Config::from_custom_kubeconfig(
            Kubeconfig::from_yaml(&kube.kubeconfig(None))?,
            &KubeConfigOptions::default(),
        )
        .await?;
        let client = kube::Client::try_from(config)?;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in eso_emulator::types::crds() {
            crds.create(&PostParams::default(), &crd)
                .await
                .context("installing ESO's CRDs")?;
        }
        let capabilities = self::capabilities();
        let eso = Arc::new(super::eso_pods::EsoPods::new(
            client.clone(),
            eso_emulator::Config {
                endpoints: eso_emulator::Endpoints {
                    secretsmanager: Some(aws.endpoint()),
                    sts: Some(aws.endpoint()),
                    // As the binaries env runs ESO: no instance metadata.
                    ec2_metadata_disabled: true,
                },
                clock: clock.clone(),
                ..eso_emulator::Config::default()
            },
        ));
        kube.run_pods_of(ESO_NAMESPACE, ESO_DEPLOYMENTS[0], eso.clone());
        let env = Self {
            aws,
            kube,
            clock,
            client,
            admin,
            admin_key,
            eso_key,
            eso,
            seed,
            capabilities,
            dir,
            kubeconfig,
            fixtures,
        };
        // The overlay first, so that the controller finds it when it starts.
        env.apply_overlay("local").await?;
        env.create_eso_deployments().await?;
        for name in ESO_DEPLOYMENTS {
            super::cluster::wait_available(&env.client, name, 1, START_WAIT).await?;
        }
        Ok(env)
    }

    /// Creates (or replaces) every object of a fixture overlay, `aws-secret`
    /// (the controller's user's key) before the store that reads it.
    pub async fn apply_overlay(&self, overlay: &str) -> anyhow::Result<()> {
        super::apply::apply_overlay(&self.client, &self.fixtures, overlay, &[], || async {
            if !super::apply::secret_exists(&self.client, "aws-secret").await? {
                self.put_aws_secret(&self.eso_key.clone()).await?;
            }
            Ok(())
        })
        .await
    }

    /// Server-side apply of one object.
    pub async fn apply(&self, obj: &serde_json::Value) -> anyhow::Result<()> {
        super::apply::apply(&self.client, obj).await
    }

    /// `aws-secret` with this key, as an operator would create it.
    pub async fn put_aws_secret(&self, key: &AccessKey) -> anyhow::Result<()> {
        super::apply::put_aws_secret(
            &self.client,
            &key.access_key_id,
            &key.secret_access_key,
            &[],
        )
        .await
    }

    async fn create_eso_deployments(&self) -> anyhow::Result<()> {
        let ns = serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": ESO_NAMESPACE },
        });
        self.apply(&ns).await?;
        for name in ESO_DEPLOYMENTS {
            let labels = serde_json::json!({
                "app.kubernetes.io/name": name,
                "app.kubernetes.io/instance": "external-secrets",
            });
            let deployment = serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {
                    "name": name, "namespace": ESO_NAMESPACE, "labels": labels,
                    "annotations": { "opssight-harness/emulated-by": "eso-emulator (in process)" },
                },
                "spec": {
                    "replicas": 1,
                    "selector": { "matchLabels": labels },
                    "template": {
                        "metadata": { "labels": labels },
                        "spec": { "containers": [{ "name": name, "image": "eso-emulator" }] },
                    },
                },
            });
            self.apply(&deployment).await?;
        }
        Ok(())
    }

    /// Scales the controller's deployment to 1 and waits until it runs.
    pub async fn start_eso(&self) -> anyhow::Result<()> {
        super::cluster::scale_controller(&self.client, 1, START_WAIT).await
    }

    /// Scales the controller's deployment to 0 and waits until the
    /// controller has stopped, as `kubectl scale --replicas=0` does it.
    pub async fn stop_eso(&self) {
        if let Err(e) = self.scale_to_zero().await {
            tracing::warn!("{e:#}");
            // Stopped all the same: what follows relies on it.
            self.eso.kill();
        }
    }

    async fn scale_to_zero(&self) -> anyhow::Result<()> {
        super::cluster::scale_controller(&self.client, 0, START_WAIT).await?;
        let eso = self.eso.clone();
        let stopped = async move {
            while eso.is_running() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(START_WAIT, stopped)
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "timed out after {START_WAIT:?} waiting for the controller to stop once {ESO_NAMESPACE}/{} was scaled to 0",
                    ESO_DEPLOYMENTS[0]
                )
            })
    }

    pub fn eso_running(&self) -> bool {
        self.eso.is_running()
    }

    pub fn eso_log(&self) -> Vec<String> {
        self.eso.recent_log()
    }

    pub fn admin_key(&self) -> &AccessKey {
        &self.admin_key
    }
}

impl Drop for Embedded {
    // The runner is shared with the kube-emulator, which may outlive this
    // for a moment: the controller goes with the environment.
    fn drop(&mut self) {
        self.eso.kill();
    }
}

impl Environment for Embedded {
    fn name(&self) -> &'static str {
        "embedded"
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    fn kube(&self) -> kube::Client {
        self.client.clone()
    }

    fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        self.admin.clone()
    }

    fn seed(&self) -> &Seed {
        &self.seed
    }

    fn clock(&self) -> Clock {
        self.clock.clone()
    }

    fn workdir(&self) -> &Path {
        self.dir.path()
    }

    fn fixtures(&self) -> &Fixtures {
        &self.fixtures
    }

    fn apply_overlay<'a>(&'a self, overlay: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(Embedded::apply_overlay(self, overlay))
    }

    fn restore_credentials(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { self.put_aws_secret(&self.eso_key.clone()).await })
    }

    fn stop_controller(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.stop_eso().await;
            Ok(())
        })
    }

    fn start_controller(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.start_eso())
    }

    fn controller_running(&self) -> bool {
        self.eso_running()
    }

    fn set_secrets_manager_reachable(&self, reachable: bool) -> BoxFuture<'_, anyhow::Result<()>> {
        if reachable {
            self.aws.resume_listening();
        } else {
            self.aws.stop_listening();
        }
        Box::pin(async { Ok(()) })
    }

    fn controller_log(&self) -> BoxFuture<'_, Vec<String>> {
        let log = self.eso_log();
        Box::pin(async move { log })
    }

    fn emulated(&self) -> Option<super::Emulated<'_>> {
        Some(super::Emulated {
            aws: &self.aws,
            eso_key: &self.eso_key,
            fixtures: &self.fixtures,
        })
    }

    fn put_credentials<'a>(&'a self, key: &'a AccessKey) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(self.put_aws_secret(key))
    }

    fn elapse(&self, d: Duration) -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.clock.advance(d)?;
            Ok(())
        })
    }

    fn skip_waiting(&self, patience: Duration) -> BoxFuture<'_, ()> {
        Box::pin(skip_waiting(
            self.clock.clone(),
            self.eso.schedule(),
            patience,
        ))
    }
}

/// How long the controller must stay waiting on the clock before the clock
/// is moved: what it last wrote reaches the waiting step's watch first, so
/// a step its write satisfies ends there, as in real time, rather than
/// after retries that real time would not have reached yet.
const SETTLE: Duration = Duration::from_millis(25);

/// Whenever the controller has nothing to do but wait on the clock for
/// something within `patience` of now, and stays so for [`SETTLE`], moves
/// the clock there (the controller cannot tell a jump from time passing).
/// Without a controller there is nothing to skip; one started later is not
/// followed.
async fn skip_waiting(clock: Clock, schedule: Option<eso_emulator::Schedule>, patience: Duration) {
    let Some(schedule) = schedule else {
        return std::future::pending().await;
    };
    let limit = jiff::SignedDuration::try_from(patience)
        .ok()
        .and_then(|p| clock.now().checked_add(p).ok())
        .unwrap_or(jiff::Timestamp::MAX);
    let mut changes = schedule.changes();
    loop {
        changes.borrow_and_update();
        if let eso_emulator::Activity::Idle { until: Some(t) } = schedule.activity()
            && t <= limit
        {
            match tokio::time::timeout(SETTLE, changes.changed()).await {
                // Something happened meanwhile: look again.
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return std::future::pending().await,
                Err(_settled) => {
                    // A running clock may have passed `t`: never backwards.
                    if clock.set(t).is_ok() || clock.now() >= t {
                        continue;
                    }
                }
            }
        }
        if changes.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}
