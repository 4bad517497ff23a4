//! The state of one scenario (the cucumber World): its environment, what
//! it expects Secrets Manager and the Secrets to hold, what its steps
//! remembered, and the sinks of whoever follows it from outside. Each
//! scenario gets an environment of its own (or its turn on a shared one),
//! so scenarios run side by side without seeing each other. Its waits are
//! in `waits`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use futures::future::LocalBoxFuture;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject};

use super::phases::{Phase, PhaseSink};
use super::step::StepResult;
use crate::env::live_state::Pending;
use crate::env::{
    Audit, EnvChoice, Environment, Facet, Iam, Outage, Regions, Snapshots, default_patience,
    patience_override,
};
use crate::files::PrivateDir;
use crate::fixtures::Fixtures;
use crate::secret_data::{SecretData, as_bytes, data_of};
use crate::system::{LOCAL_OVERLAY, NAMESPACE};

#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct OpsWorld {
    /// Which environment "the OpsSight secrets system is running" starts.
    pub choice: EnvChoice,
    env: Option<Arc<dyn Environment>>,
    pub fixtures: Option<Fixtures>,
    /// What each Secrets Manager secret holds now, as far as the scenario knows.
    pub expected: BTreeMap<String, BTreeMap<String, String>>,
    /// What it held before the scenario changed it.
    pub previous: BTreeMap<String, BTreeMap<String, String>>,
    /// Data of each Secret when recorded.
    pub recorded: BTreeMap<String, SecretData>,
    pub refresh_times: BTreeMap<String, String>,
    pub last_command: Option<CommandResult>,
    pub snapshot: Option<aws_emulator::Snapshot>,
    pub counter: u64,
    /// Set when something follows the scenario's phases (a drill).
    pub phases: Option<Arc<dyn PhaseSink>>,
    /// Set when the run records checkpoints (for the differential).
    pub checkpoints: Option<Arc<dyn Checkpoints>>,
    /// On a live system: what it was before the scenario, put back after.
    pub live_state: Option<Pending>,
    /// Where "I run ..." runs its command (the repository's root if unset):
    /// a private directory holding copies of files the runbook names.
    pub command_dir: Option<PrivateDir>,
    /// When the scenario marked the audit trail: what it checks after.
    pub audit_mark: Option<jiff::Timestamp>,
    /// Refreshes a step forced that no later step has seen the end of, by
    /// ExternalSecret: "becomes Ready" waits for them to be done.
    pub forced: BTreeMap<String, ForcedRefresh>,
}

/// A refresh forced by a new `force-sync` annotation, and how to tell that
/// ESO has done it: an ExternalSecret that was Ready before is Ready at once,
/// so its Ready condition alone says nothing of the refresh.
#[derive(Debug, Clone)]
pub struct ForcedRefresh {
    /// The annotation's new value.
    pub stamp: String,
    /// The ExternalSecret's `status.syncedResourceVersion` before the
    /// annotation: a successful sync since moves it.
    pub synced_before: Option<String>,
    /// The Secret the ExternalSecret writes, when ESO copies the
    /// ExternalSecret's annotations onto it (no template, a target it may
    /// change): the stamp there is the forced sync itself, not one that
    /// was under way when the annotation came.
    pub copied_to: Option<String>,
}

/// Where a scenario's checkpoints go when a run records them (the
/// differential): at every wait a step makes and at the scenario's end.
/// The scenario defines the sink; the differential implements it.
pub trait Checkpoints: Send + Sync {
    /// The environment was started (a shared one reset): what it shows
    /// now is not the scenario's doing.
    fn env_started<'a>(&'a self, w: &'a OpsWorld) -> LocalBoxFuture<'a, ()>;
    /// Every ExternalSecret synced: the first time, the system is up and
    /// what it showed coming up is not the scenario's doing either.
    fn system_up<'a>(&'a self, w: &'a OpsWorld) -> LocalBoxFuture<'a, ()>;
    /// What is observable now: of everything (`subject` None), or of the
    /// object a step waited for (its fields and its events).
    fn checkpoint<'a>(
        &'a self,
        w: &'a OpsWorld,
        label: &'a str,
        subject: Option<&'a str>,
    ) -> LocalBoxFuture<'a, ()>;
}

#[derive(Debug, Clone)]
pub struct CommandResult {
    pub command: String,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// When it exited: whatever it read of the wall clock (`$(date +%s)`)
    /// it read before then.
    pub finished: std::time::SystemTime,
}

impl std::fmt::Debug for OpsWorld {
    // Never print values: key names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: BTreeMap<&String, Vec<&String>> = self
            .expected
            .iter()
            .map(|(n, kv)| (n, kv.keys().collect()))
            .collect();
        f.debug_struct("OpsWorld")
            .field("env", &self.env.as_ref().map(|e| e.name()))
            .field("secrets", &keys)
            .finish()
    }
}

impl OpsWorld {
    async fn new() -> anyhow::Result<Self> {
        Ok(Self {
            choice: EnvChoice::default(),
            env: None,
            fixtures: Fixtures::locate().ok(),
            expected: BTreeMap::new(),
            previous: BTreeMap::new(),
            recorded: BTreeMap::new(),
            refresh_times: BTreeMap::new(),
            last_command: None,
            snapshot: None,
            counter: 0,
            phases: None,
            checkpoints: None,
            live_state: None,
            command_dir: None,
            audit_mark: None,
            forced: BTreeMap::new(),
        })
    }

    pub fn fixtures(&self) -> anyhow::Result<&Fixtures> {
        self.fixtures.as_ref().ok_or_else(|| anyhow!("cannot find the fixtures directory; run from the repository or set OPSSIGHT_FIXTURES"))
    }

    /// Starts the scenario's environment (the run's choice); on a live
    /// system, records it first so that it is put back after.
    pub async fn start(&mut self) -> StepResult {
        let env = self.choice.start(self.fixtures()?.clone()).await?;
        self.expected = env.seed().secrets.clone();
        if env.live() {
            self.live_state = Some(
                Pending::record(env.clone())
                    .await
                    .context("recording the live system before the scenario changes it")?,
            );
        }
        self.env = Some(env);
        if let Some(c) = self.checkpoints.clone() {
            // A shared system's reset refreshed every Secret before this.
            c.env_started(self).await;
        }
        Ok(())
    }

    /// Puts a live system back as the scenario found it: `None` where there
    /// was nothing to record (not live, or the scenario never started).
    pub async fn restore_live_system(&self) -> Option<anyhow::Result<String>> {
        let pending = self.live_state.as_ref()?;
        Some(pending.put_back().await.map(|r| r.summary()))
    }

    /// Secrets Manager made unreachable (or reachable again) by a step: a
    /// live system's restore must undo it.
    pub fn set_secrets_manager_down(&self, down: bool) {
        if let Some(p) = &self.live_state {
            p.set_secrets_manager_down(down);
        }
    }

    pub fn env(&self) -> anyhow::Result<&Arc<dyn Environment>> {
        self.env.as_ref().ok_or_else(|| anyhow!("no environment: the scenario needs \"Given the OpsSight secrets system is running\""))
    }

    /// A facet of the environment, for the steps only some environments
    /// can perform (the scenarios using them are tagged with its
    /// capability, so environments without it skip them).
    fn facet<'a, T: ?Sized>(
        &'a self,
        facet: Facet,
        get: impl FnOnce(&'a dyn Environment) -> Option<&'a T>,
    ) -> anyhow::Result<&'a T> {
        let env = self.env()?;
        get(env.as_ref()).ok_or_else(|| {
            anyhow!(
                "this step needs {}, which {} does not have",
                facet.what(),
                env.name()
            )
        })
    }

    pub fn iam(&self) -> anyhow::Result<&dyn Iam> {
        self.facet(Facet::Iam, |e| e.iam())
    }

    pub fn audit(&self) -> anyhow::Result<&dyn Audit> {
        self.facet(Facet::Audit, |e| e.audit())
    }

    pub fn outage(&self) -> anyhow::Result<&dyn Outage> {
        self.facet(Facet::Outage, |e| e.outage())
    }

    pub fn snapshots(&self) -> anyhow::Result<&dyn Snapshots> {
        self.facet(Facet::Snapshots, |e| e.snapshots())
    }

    pub fn regions(&self) -> anyhow::Result<&dyn Regions> {
        self.facet(Facet::Regions, |e| e.regions())
    }

    pub fn es_api(&self) -> anyhow::Result<Api<DynamicObject>> {
        Ok(Api::namespaced_with(
            self.env()?.kube(),
            NAMESPACE,
            &crate::eso_model::external_secrets(),
        ))
    }

    pub fn secrets(&self) -> anyhow::Result<Api<Secret>> {
        Ok(Api::namespaced(self.env()?.kube(), NAMESPACE))
    }

    /// ExternalSecret name → remote key, from the local overlay.
    pub fn external_secrets(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let manifests =
            crate::fixtures::manifests::kustomize(&self.fixtures()?.overlay(LOCAL_OVERLAY))?;
        Ok(manifests
            .iter()
            .filter(|m| m.kind() == "ExternalSecret")
            .filter_map(|m| {
                let key = m
                    .object
                    .pointer("/spec/dataFrom/0/extract/key")
                    .and_then(|k| k.as_str())?;
                Some((m.name().to_owned(), key.to_owned()))
            })
            .collect())
    }

    /// Lets `d` pass (a jump of a virtual clock, a wait of a real one); a
    /// drill's report marks the jump so that its time axis can say so.
    pub async fn elapse(&self, d: Duration) -> StepResult {
        let env = self.env()?;
        let clock = env.clock();
        let before = clock.now();
        env.elapse(d).await?;
        if let (Some(phases), true) = (&self.phases, clock.is_virtual()) {
            phases.jumped(before, clock.now());
        }
        Ok(())
    }

    /// Marks a phase for whoever follows them (nothing outside a drill).
    pub fn mark(&self, phase: Phase, detail: &str) {
        if let Some(p) = &self.phases {
            p.mark(phase, detail);
        }
    }

    /// The baseline of whoever follows the phases: what every Secret holds
    /// now; a watch follows them from here (nothing outside a drill).
    pub async fn baseline(&self) -> StepResult {
        let Some(phases) = &self.phases else {
            return Ok(());
        };
        let mut secrets = BTreeMap::new();
        for (es, remote) in self.external_secrets()? {
            let data = self.secrets()?.get(&es).await.map(|s| data_of(&s))?;
            secrets.insert(es, (remote, data));
        }
        let env = self.env()?;
        let listed = phases.start(env.clock(), env.kube(), NAMESPACE, secrets);
        Ok(crate::wait::within(
            self.patience(),
            "the drill's watch to list Secrets and ExternalSecrets",
            listed,
        )
        .await?
        .map_err(|_| anyhow!("the drill's watch ended before it listed the namespace"))?)
    }

    /// The scenario put new values of `remote` in Secrets Manager on
    /// purpose: from now on its Secrets should hold them.
    pub fn changed_on_purpose(&self, remote: &str) -> StepResult {
        let (Some(phases), Some(values)) = (&self.phases, self.expected.get(remote)) else {
            return Ok(());
        };
        for (es, key) in self.external_secrets()? {
            if key == remote {
                phases.expect(&es, &as_bytes(values));
            }
        }
        Ok(())
    }

    /// The first time every ExternalSecret is synced: the system is up.
    pub async fn system_up(&self) {
        if let Some(c) = &self.checkpoints {
            c.system_up(self).await;
        }
    }

    /// Records what is observable now, when the run records checkpoints:
    /// of everything (`subject` None: a scenario's end), or of the object
    /// a step waited for (its fields and its events), the only one the wait
    /// has settled; the rest may be mid-reconcile on a real controller.
    pub async fn checkpoint(&self, label: &str, subject: Option<&str>) {
        if let Some(c) = &self.checkpoints {
            c.checkpoint(self, label, subject).await;
        }
    }

    /// How long a step waits for a condition here: the environment's own
    /// patience (a real cluster is slower than the emulators), or
    /// `OPSSIGHT_WAIT_SECONDS`.
    pub fn patience(&self) -> Duration {
        patience_override()
            .or_else(|| self.env.as_ref().map(|e| e.patience()))
            .unwrap_or_else(default_patience)
    }

    /// Makes every value the scenario knows (its environment's, those it
    /// set and those it replaced) one that no output may show.
    pub fn register_values(&self) {
        use crate::secret_data::redact::register;
        if let Ok(e) = self.env() {
            for v in e.seed().all_values() {
                register(&v);
            }
        }
        for kv in self.expected.values().chain(self.previous.values()) {
            for v in kv.values() {
                register(v);
            }
        }
    }

    /// `text` through the run's redaction, every value the scenario knows
    /// registered first.
    pub fn redact(&self, text: &str) -> String {
        self.register_values();
        crate::secret_data::redact::text(text)
    }

    pub fn next_number(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}
