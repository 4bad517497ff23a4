//! What a scenario tells whoever follows its timeline from outside (a
//! disaster-recovery drill): the phases its steps mark, the clock's jumps,
//! the values it changed on purpose, and its baseline. The scenario layer
//! defines the sink; the drill's recorder implements it, so that the World
//! knows nothing of drills.

use std::collections::BTreeMap;

use emulator_core::Clock;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::secret_data::SecretData;

/// A phase of a disaster and its recovery, as a step marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Values recorded; the watch on the namespace started.
    Baseline,
    DisasterInjected,
    /// A step saw the damage (first time after a disaster, before recovery).
    Detected,
    RecoveryAction,
    SecretRestored,
    /// The scenario's last check passed.
    Verified,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::DisasterInjected => "disaster injected",
            Self::Detected => "detected",
            Self::RecoveryAction => "recovery action",
            Self::SecretRestored => "Secret restored",
            Self::Verified => "verified",
        }
    }
}

/// Where a scenario's phases go.
pub trait PhaseSink: Send + Sync {
    /// The baseline: what each Secret holds now (ExternalSecret = target
    /// Secret name → (remote key, data)); from here on the namespace is
    /// followed. The receiver answers once that watch has listed it.
    fn start(
        &self,
        clock: Clock,
        client: kube::Client,
        namespace: &str,
        secrets: BTreeMap<String, (String, SecretData)>,
    ) -> tokio::sync::oneshot::Receiver<()>;
    /// A phase, now (marks before the baseline are ignored).
    fn mark(&self, phase: Phase, detail: &str);
    /// The virtual clock jumped from `from` to `to` (a wait of the scenario).
    fn jumped(&self, from: Timestamp, to: Timestamp);
    /// The scenario changed what `secret` should hold on purpose.
    fn expect(&self, secret: &str, data: &SecretData);
}
