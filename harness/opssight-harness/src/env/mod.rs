//! Environments the scenarios run in, behind one trait. Each declares what
//! it can show; a scenario that needs a capability its environment lacks is
//! reported as skipped with the reason.

pub mod apply;
pub mod binaries;
pub mod cluster;
pub mod embedded;
pub mod eso_pods;
pub mod existing;
pub mod kind;
pub mod live_state;
pub mod preflight;
pub mod secrets_manager;
pub mod turns;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;

/// Something a scenario may need of its environment (`@requires-<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Capability {
    /// Time can be moved forward instead of waited for.
    VirtualClock,
    /// Secrets Manager checks signatures and enforces IAM policies.
    Iam,
    /// Secrets Manager keeps an audit trail the harness can read.
    Audit,
    /// Secrets Manager can be made unavailable and brought back.
    SecretsManagerOutage,
    /// One region can fail while others work; secrets replicate.
    Regions,
    /// Secrets Manager state can be snapshotted and restored.
    Snapshot,
    /// The controller can be stopped and started.
    ControllerRestart,
    /// The real kubectl is on PATH.
    Kubectl,
    /// ExternalSecrets keep the runbook's hourly refresh interval.
    RunbookRefreshInterval,
    /// A refresh interval can be let elapse within a scenario: a virtual
    /// clock, or an interval short enough to wait for.
    WaitableRefresh,
    /// IAM trusts the cluster's ServiceAccount tokens (an OIDC provider and
    /// the production overlay's role), as EKS does: IRSA can be exercised.
    Irsa,
    /// A kubelet runs pods: what an application sees of a Secret (its
    /// mounted files, its environment) can be read.
    Kubelet,
}

impl Capability {
    pub const ALL: &[Capability] = &[
        Self::VirtualClock,
        Self::Iam,
        Self::Audit,
        Self::SecretsManagerOutage,
        Self::Regions,
        Self::Snapshot,
        Self::ControllerRestart,
        Self::Kubectl,
        Self::RunbookRefreshInterval,
        Self::WaitableRefresh,
        Self::Irsa,
        Self::Kubelet,
    ];

    pub fn tag(self) -> &'static str {
        match self {
            Self::VirtualClock => "requires-virtual-clock",
            Self::Iam => "requires-iam",
            Self::Audit => "requires-audit",
            Self::SecretsManagerOutage => "requires-secrets-manager-outage",
            Self::Regions => "requires-regions",
            Self::Snapshot => "requires-snapshot",
            Self::ControllerRestart => "requires-controller-restart",
            Self::Kubectl => "requires-kubectl",
            Self::RunbookRefreshInterval => "requires-runbook-refresh-interval",
            Self::WaitableRefresh => "requires-waitable-refresh",
            Self::Irsa => "requires-irsa",
            Self::Kubelet => "requires-kubelet",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.tag() == tag)
    }
}

/// Capabilities an environment has, and why it lacks the others.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub missing: BTreeMap<Capability, String>,
}

impl Capabilities {
    pub fn lacks(&self, c: Capability) -> Option<&str> {
        self.missing.get(&c).map(String::as_str)
    }
}

pub fn kubectl_path() -> Option<std::path::PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates
        .into_iter()
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
}

/// `Environment::elapse` where time is real: wait.
pub(crate) fn wait_for_real(d: Duration) -> BoxFuture<'static, anyhow::Result<()>> {
    Box::pin(async move {
        tokio::time::sleep(d).await;
        Ok(())
    })
}

/// Which environment a run uses.
#[derive(Clone, Default)]
pub enum EnvChoice {
    #[default]
    Embedded,
    /// The current kubeconfig context and the AWS SDK's default credentials.
    Existing { allow_destructive: bool },
    /// A kind environment already brought up, shared by the run's scenarios.
    Kind(std::sync::Arc<kind::KindCluster>),
    /// The real ESO and control plane as local processes, shared likewise.
    Binaries(std::sync::Arc<binaries::ControlPlane>),
}

impl std::fmt::Debug for EnvChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl EnvChoice {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Existing { .. } => "existing",
            Self::Kind(_) => "kind",
            Self::Binaries(_) => "binaries",
        }
    }

    pub fn capabilities(&self) -> Capabilities {
        match self {
            Self::Embedded => embedded::capabilities(),
            Self::Existing { .. } => existing::capabilities(),
            Self::Kind(_) => kind::capabilities(),
            Self::Binaries(plane) => binaries::capabilities(plane.opts.secrets_manager),
        }
    }

    /// What the environment runs, for the run's header and the JUnit and
    /// JSON reports: its name, and on binaries the real components'
    /// versions (and why ESO's is not the chart's).
    pub fn properties(&self) -> Vec<(String, String)> {
        let mut p = vec![("environment".to_owned(), self.name().to_owned())];
        if let Self::Binaries(plane) = self {
            let c = &plane.components;
            p.extend([
                ("eso.version".to_owned(), c.eso.version.clone()),
                ("eso.helm-chart-pins".to_owned(), "v2.9.0".to_owned()),
                ("eso.version-note".to_owned(), c.eso.note.clone()),
                (
                    "kube-apiserver.version".to_owned(),
                    plane.apiserver_version.clone(),
                ),
                (
                    "kube-controller-manager.version".to_owned(),
                    c.kube_controller_manager.version.clone(),
                ),
                ("etcd.version".to_owned(), c.etcd.version.clone()),
                (
                    "secrets-manager".to_owned(),
                    plane.opts.secrets_manager.name().to_owned(),
                ),
            ]);
        }
        p
    }

    /// Several scenarios at once only where each has a stack of its own.
    pub fn concurrency(&self, asked: usize) -> usize {
        match self {
            Self::Embedded => asked.max(1),
            _ => 1,
        }
    }

    /// Whether the run itself brought the system up (kind, binaries), so
    /// that it may still be settling when the first scenario starts.
    pub fn brought_up_by_harness(&self) -> bool {
        matches!(self, Self::Kind(_) | Self::Binaries(_))
    }

    /// A client of a system that outlives the run (or is shared by its
    /// scenarios), for the health checks before and after it; `None` for
    /// embedded, where each scenario has a stack of its own.
    pub async fn live_client(&self) -> Option<anyhow::Result<kube::Client>> {
        use anyhow::Context as _;
        Some(match self {
            Self::Embedded => return None,
            Self::Existing { .. } => kube::Client::try_default()
                .await
                .context("connecting to the current kubeconfig context"),
            Self::Kind(cluster) => kind::client_for(&cluster.kubeconfig).await,
            Self::Binaries(plane) => binaries::client_for(&plane.kubeconfig).await,
        })
    }

    /// Only `@read-only` scenarios may run.
    pub fn read_only(&self) -> bool {
        matches!(
            self,
            Self::Existing {
                allow_destructive: false
            }
        )
    }
}

/// What every environment gives a scenario. Operations an environment
/// cannot perform are capabilities it lacks: the scenarios needing them are
/// skipped before they start, so those methods are not reached there.
pub trait Environment: Send + Sync {
    fn name(&self) -> &'static str;
    fn capabilities(&self) -> &Capabilities;
    fn kube(&self) -> kube::Client;
    fn kubeconfig(&self) -> &Path;
    /// A directory of this environment's own (kubectl's cache, ...).
    fn workdir(&self) -> &Path;
    fn fixtures(&self) -> &Fixtures;
    /// A client with rights to change Secrets Manager (the harness's own).
    fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client;
    /// What Secrets Manager held when the scenario started.
    fn seed(&self) -> &Seed;
    /// The clock the environment's components share (virtual in embedded).
    fn clock(&self) -> emulator_core::Clock;
    /// How long a condition may take to come true here.
    fn patience(&self) -> Duration {
        Duration::from_secs(15)
    }
    /// Lets `d` of time pass: moves a virtual clock, or waits.
    fn elapse(&self, d: Duration) -> BoxFuture<'_, anyhow::Result<()>>;
    /// Runs beside a step's wait for a condition of up to `patience`, and
    /// never ends. On a virtual clock it moves the clock past what the
    /// controller would only wait for within that patience (a backoff, a
    /// retry, a requeue), so that the wait sees what it would in real time
    /// without spending it. Elsewhere time passes as it does.
    fn skip_waiting(&self, patience: Duration) -> BoxFuture<'_, ()> {
        let _ = patience;
        Box::pin(std::future::pending())
    }
    /// Applies a fixture overlay as an operator would, the credentials in
    /// place before the store that reads them.
    fn apply_overlay<'a>(&'a self, overlay: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Puts `aws-secret` back with credentials the controller may use.
    fn restore_credentials(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    fn stop_controller(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    fn start_controller(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    fn controller_running(&self) -> bool;
    /// Makes Secrets Manager unreachable for the controller, or reachable again.
    fn set_secrets_manager_reachable(&self, reachable: bool) -> BoxFuture<'_, anyhow::Result<()>>;
    /// The controller's most recent log lines, oldest first.
    fn controller_log(&self) -> BoxFuture<'_, Vec<String>>;
    /// The last lines of another service's log (LocalStack's), titled.
    fn service_log(&self) -> BoxFuture<'_, Option<(String, Vec<String>)>> {
        Box::pin(async { None })
    }
    /// The aws-emulator behind this environment, for what only it can show
    /// (IAM, audit, regions, snapshots); `None` where Secrets Manager is
    /// something else (LocalStack, moto, AWS).
    fn emulated(&self) -> Option<Emulated<'_>> {
        None
    }
    /// A system that outlives the scenario (a live cluster, or one control
    /// plane shared by every scenario): what a scenario changes there is
    /// recorded first and put back after it (`live_state`).
    fn live(&self) -> bool {
        false
    }
    /// Puts `aws-secret` with this key, as an operator would create it
    /// (where the key can be chosen: the aws-emulator's IAM made it).
    fn put_credentials<'a>(
        &'a self,
        key: &'a aws_emulator::AccessKey,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        let _ = key;
        Box::pin(async move {
            anyhow::bail!(
                "{} cannot put chosen credentials in aws-secret",
                self.name()
            )
        })
    }
}

/// The aws-emulator as an environment runs it.
#[derive(Clone, Copy)]
pub struct Emulated<'a> {
    pub aws: &'a aws_emulator::AwsEmulator,
    /// The key `aws-secret` holds: the controller's IAM user's.
    pub eso_key: &'a aws_emulator::AccessKey,
    pub fixtures: &'a Fixtures,
}
