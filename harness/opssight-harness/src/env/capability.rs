//! What a scenario may need of its environment (`@requires-<name>`), and
//! how an environment's capabilities follow from what it is: the facets it
//! has (IAM, audit, outages, snapshots, regions), its clock and its refresh
//! interval. Only what no operation of the harness stands for is declared:
//! a kubelet, IAM's trust of the cluster's tokens, and kubectl on PATH.

use std::collections::BTreeMap;

use super::facets::Facet;
use crate::system::LOCAL_OVERLAY;

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

    /// The capability a facet's presence gives.
    pub fn of(facet: Facet) -> Self {
        match facet {
            Facet::Iam => Self::Iam,
            Facet::Audit => Self::Audit,
            Facet::Outage => Self::SecretsManagerOutage,
            Facet::Snapshots => Self::Snapshot,
            Facet::Regions => Self::Regions,
        }
    }
}

/// What an environment is, known before it starts (the capability gate
/// reads it before any scenario runs), and checked against each started
/// instance (`EnvChoice::start`): a facet it lacks here must be absent
/// there, and the reverse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The facets it lacks, each with why; it has the others.
    pub lacks: Vec<(Facet, &'static str)>,
    /// Why its clock cannot be moved; `None`: a virtual clock.
    pub wall_clock: Option<&'static str>,
    /// The overlay it applies where a scenario applies the local one: the
    /// local overlay itself, or one with a refresh interval short enough
    /// to wait for.
    pub local_overlay: &'static str,
    /// Why no kubelet runs pods there; `None`: one does. Declared: the
    /// harness runs no pod itself, so no operation stands for it.
    pub no_kubelet: Option<&'static str>,
    /// Why IAM does not trust the cluster's ServiceAccount tokens; `None`:
    /// it does. Declared: it is how the environment was set up, not an
    /// operation a step performs.
    pub no_irsa: Option<&'static str>,
}

impl Profile {
    pub fn has(&self, facet: Facet) -> bool {
        !self.lacks.iter().any(|(f, _)| *f == facet)
    }
}

/// Capabilities an environment has, and why it lacks the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub missing: BTreeMap<Capability, String>,
}

impl Capabilities {
    pub fn lacks(&self, c: Capability) -> Option<&str> {
        self.missing.get(&c).map(String::as_str)
    }

    /// What an environment of this profile can show on this machine.
    /// Stopping and starting the controller is part of every environment.
    pub fn derive(profile: &Profile) -> Self {
        let mut missing = BTreeMap::new();
        for (facet, why) in &profile.lacks {
            missing.insert(Capability::of(*facet), (*why).to_owned());
        }
        if let Some(why) = profile.wall_clock {
            missing.insert(Capability::VirtualClock, why.to_owned());
        }
        let shortened = profile.local_overlay != LOCAL_OVERLAY;
        if shortened {
            missing.insert(
                Capability::RunbookRefreshInterval,
                format!(
                    "the {} overlay shortens refreshInterval so refreshes happen in real time",
                    profile.local_overlay
                ),
            );
        } else if profile.wall_clock.is_some() {
            missing.insert(
                Capability::WaitableRefresh,
                "its ExternalSecrets' refresh interval would be waited for in real time".into(),
            );
        }
        if let Some(why) = profile.no_kubelet {
            missing.insert(Capability::Kubelet, why.to_owned());
        }
        if let Some(why) = profile.no_irsa {
            missing.insert(Capability::Irsa, why.to_owned());
        }
        if kubectl_path().is_none() {
            missing.insert(Capability::Kubectl, "kubectl is not on PATH".into());
        }
        Self { missing }
    }
}

pub fn kubectl_path() -> Option<std::path::PathBuf> {
    crate::files::on_path("kubectl")
}
