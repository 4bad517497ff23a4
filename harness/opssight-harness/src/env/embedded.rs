//! The embedded environment: aws-emulator, kube-emulator and eso-emulator in
//! this process on a virtual clock, with ESO's CRDs and webhook, Secrets
//! Manager seeded from the fixtures, the IAM policy of the runbook given to
//! the controller's user, `aws-secret` holding that user's key, and the local
//! overlay applied.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use aws_emulator::AccessKey;
use emulator_core::Clock;
use eso_emulator::webhook::EsoWebhook;
use futures::future::BoxFuture;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_emulator::KubeEmulator;

use super::capability::Profile;
use super::environment::{Base, Environment, default_patience};
use super::eso_pods::EsoPods;
use super::facets::{Audit, Iam, Outage, Regions, Snapshots};
use super::secrets_manager::EmulatedSecretsManager;
use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;
use crate::system::{
    ESO_DEPLOYMENTS, ESO_NAMESPACE, IRSA_SERVICE_ACCOUNT, LOCAL_OVERLAY, NAMESPACE,
};

/// How long ESO's deployments may take to become available or to stop.
const START_WAIT: Duration = Duration::from_secs(30);

/// What the embedded environment is: every facet (the aws-emulator is its
/// Secrets Manager), a virtual clock, the runbook's refresh interval, IAM
/// trusting the cluster's tokens; no kubelet.
pub fn profile() -> Profile {
    Profile {
        lacks: Vec::new(),
        wall_clock: None,
        local_overlay: LOCAL_OVERLAY,
        no_kubelet: Some("the embedded environment has no kubelet: it runs no pods"),
        no_irsa: None,
    }
}

/// Changes a watch can resume from in a scenario's API server.
const SCENARIO_WATCH_LOG: usize = 10_000;

pub struct Embedded {
    base: Base,
    /// Secrets Manager: the aws-emulator, seeded.
    pub sm: EmulatedSecretsManager,
    pub kube: KubeEmulator,
    /// The controller: ESO's deployment's Pods, run by the kube-emulator.
    eso: Arc<EsoPods>,
}

impl Embedded {
    pub async fn start(fixtures: Fixtures) -> anyhow::Result<Self> {
        let clock = Clock::virtual_running();
        let seed = Seed::load(&fixtures.seed_file())?;
        let sm = EmulatedSecretsManager::start(clock.clone(), &fixtures, &seed).await?;
        let kube = KubeEmulator::builder()
            .clock(clock.clone())
            // A scenario makes hundreds of changes, not the default's 100,000
            // (whose watch channel every scenario would allocate and free).
            .watch_log(SCENARIO_WATCH_LOG)
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
        let dir = crate::files::private_tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        // Holds a token: created 0600 in a 0700 directory removed on a signal.
        crate::files::write_private(&kubeconfig, kube.kubeconfig(Some(NAMESPACE)))?;
        let client = in_process_client(&kube).await?;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        for crd in crate::eso_model::crds() {
            crds.create(&PostParams::default(), &crd)
                .await
                .context("installing ESO's CRDs")?;
        }
        let eso = Arc::new(EsoPods::new(
            client.clone(),
            eso_emulator::Config {
                endpoints: eso_emulator::Endpoints {
                    secretsmanager: Some(sm.aws.endpoint()),
                    sts: Some(sm.aws.endpoint()),
                    // As the binaries env runs ESO: no instance metadata.
                    ec2_metadata_disabled: true,
                },
                clock: clock.clone(),
                ..eso_emulator::Config::default()
            },
        ));
        kube.run_pods_of(ESO_NAMESPACE, ESO_DEPLOYMENTS[0], eso.clone());
        let base = Base {
            name: "embedded",
            profile: profile(),
            kube: client,
            kubeconfig,
            workdir: dir,
            fixtures,
            seed,
            clock,
            patience: default_patience(),
            live: false,
            secrets_manager: Arc::new(RwLock::new(sm.admin.clone())),
            controller_key: Some(sm.eso_key.clone()),
            labels: Vec::new(),
        };
        let env = Self {
            base,
            sm,
            kube,
            eso,
        };
        // The overlay first, so that the controller finds it when it starts.
        env.apply_overlay(LOCAL_OVERLAY).await?;
        env.create_eso_deployments().await?;
        for name in ESO_DEPLOYMENTS {
            super::cluster::wait_available(&env.base.kube, name, 1, START_WAIT).await?;
        }
        Ok(env)
    }

    /// Server-side apply of one object.
    pub async fn apply(&self, obj: &serde_json::Value) -> anyhow::Result<()> {
        super::apply::apply(&self.base.kube, obj).await
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
        super::cluster::scale_controller(&self.base.kube, 1, START_WAIT).await
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
        super::cluster::scale_controller(&self.base.kube, 0, START_WAIT).await?;
        let eso = self.eso.clone();
        let stopped = async move {
            while eso.is_running() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        crate::wait::within(
            START_WAIT,
            &format!(
                "the controller to stop once {ESO_NAMESPACE}/{} was scaled to 0",
                ESO_DEPLOYMENTS[0]
            ),
            stopped,
        )
        .await?;
        Ok(())
    }

    pub fn admin_key(&self) -> &AccessKey {
        &self.sm.admin_key
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
    fn base(&self) -> &Base {
        &self.base
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
        self.eso.is_running()
    }

    fn controller_log(&self) -> BoxFuture<'_, Vec<String>> {
        let log = self.eso.recent_log();
        Box::pin(async move { log })
    }

    fn skip_waiting(&self, patience: Duration) -> BoxFuture<'_, ()> {
        Box::pin(skip_waiting(
            self.base.clock.clone(),
            self.eso.schedule(),
            patience,
        ))
    }

    fn iam(&self) -> Option<&dyn Iam> {
        Some(&self.sm)
    }
    fn audit(&self) -> Option<&dyn Audit> {
        Some(&self.sm)
    }
    fn outage(&self) -> Option<&dyn Outage> {
        Some(&self.sm)
    }
    fn snapshots(&self) -> Option<&dyn Snapshots> {
        Some(&self.sm)
    }
    fn regions(&self) -> Option<&dyn Regions> {
        Some(&self.sm)
    }
}

/// A client of `kube` from this process (the harness's and the
/// controller's; the manifests steps' for their own server): the stack
/// `kube::Client::try_from(config)` builds from `kube`'s kubeconfig (its
/// server URL, token and headers, retries of 429, 503 and 504), over
/// [`KubeEmulator::in_process`] instead of an HTTPS connection pool. TLS
/// handshakes, encryption and HTTP framing were over a third of the suite's
/// own CPU; the server answers these requests as it answers requests over
/// HTTPS, which `kubectl` (the runbook's lines) and the kube-emulator's own
/// tests still send.
pub(crate) async fn in_process_client(kube: &KubeEmulator) -> anyhow::Result<kube::Client> {
    use kube::client::ConfigExt as _;
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(&kube.kubeconfig(None))?,
        &KubeConfigOptions::default(),
    )
    .await?;
    let auth = config
        .auth_layer()?
        .context("the kube-emulator's kubeconfig has no credentials")?;
    // A config read from a kubeconfig always has `default_retry` set, so the
    // retry layer kube adds then is always added here.
    Ok(
        kube::client::ClientBuilder::new(kube.in_process(), config.default_namespace.clone())
            .with_layer(&config.base_uri_layer())
            .with_layer(&auth)
            .with_layer(&config.extra_headers_layer()?)
            .with_layer(&tower::retry::RetryLayer::new(
                kube::client::retry::RetryPolicy::server_retry(),
            ))
            .build(),
    )
}

/// How long the controller must stay waiting on the clock before the clock
/// is moved: what it last wrote reaches the waiting step's watch first, so
/// a step its write satisfies ends there, as in real time, rather than
/// after retries that real time would not have reached yet. 25 ms while the
/// harness watched over HTTPS; in process a write reaches a watch in well
/// under a millisecond, and the suite moves the clock ~13 times one
/// scenario at a time, so the window was ~0.3 s of its serial wall time.
/// 8 ms: 45 release runs (15 one scenario at a time, 15 more with both
/// cores kept busy by other processes) and three debug `cargo test` runs
/// of the suite all passed.
const SETTLE: Duration = Duration::from_millis(8);

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
