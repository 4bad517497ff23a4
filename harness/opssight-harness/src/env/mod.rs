//! Environments the scenarios run in, behind one trait. Each declares what
//! it can show; a scenario that needs a capability its environment lacks is
//! reported as skipped with the reason.

pub mod embedded;
pub mod preflight;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::seed::Seed;

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

/// What every environment gives a scenario.
pub trait Environment: Send + Sync {
    fn name(&self) -> &'static str;
    fn capabilities(&self) -> &Capabilities;
    fn kube(&self) -> kube::Client;
    fn kubeconfig(&self) -> &Path;
    /// A client with rights to change Secrets Manager (the harness's own).
    fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client;
    fn seed(&self) -> &Seed;
    /// Lets `d` of time pass: moves a virtual clock, or waits.
    /// The clock the environment's components share (virtual in embedded).
    fn clock(&self) -> emulator_core::Clock;
    fn elapse(&self, d: Duration) -> futures::future::BoxFuture<'_, anyhow::Result<()>>;
}
