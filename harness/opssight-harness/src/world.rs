//! The state of one scenario. Each scenario gets an environment of its own,
//! so scenarios run side by side without seeing each other.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject};
use kube::runtime::wait::await_condition;

use crate::env::{
    Audit, EnvChoice, Environment, Facet, Iam, Outage, Regions, Snapshots, default_patience,
    patience_override,
};
use crate::fixtures::Fixtures;
use crate::secret_data::{as_bytes, data_of};
use crate::system::NAMESPACE;

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
    pub recorded: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    pub refresh_times: BTreeMap<String, String>,
    pub last_command: Option<CommandResult>,
    pub snapshot: Option<aws_emulator::Snapshot>,
    pub counter: u64,
    /// Set when the scenario runs as part of a drill.
    pub drill: Option<crate::drill::Recorder>,
    /// Set when the run records checkpoints for the differential.
    pub checkpoints: Option<Arc<std::sync::Mutex<Vec<crate::differential::observe::Checkpoint>>>>,
    /// The events there were when the system was up (for the differential).
    pub event_baseline: crate::differential::observe::EventBaseline,
    pub baseline_taken: bool,
    /// On a live system: what it was before the scenario, put back after.
    pub live_state: Option<crate::env::live_state::Pending>,
    /// Where "I run ..." runs its command (the repository's root if unset):
    /// a private directory holding copies of files the runbook names.
    pub command_dir: Option<crate::files::PrivateDir>,
    /// When the scenario marked the audit trail: what it checks after.
    pub audit_mark: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone)]
pub struct CommandResult {
    pub command: String,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
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

/// What a step returns. cucumber shows a failed step's error with `{}`,
/// which for an anyhow error is its outermost context only ("starting the
/// embedded environment"); this one shows the whole chain of causes.
pub type StepResult = Result<(), StepFailure>;

pub struct StepFailure(pub anyhow::Error);

/// `anyhow::bail!` for functions returning a [`StepResult`] as well as an
/// `anyhow::Result`.
macro_rules! bail {
    ($($t:tt)*) => { return Err(anyhow::anyhow!($($t)*).into()) };
}
pub(crate) use bail;

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::fmt::Debug for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<E: Into<anyhow::Error>> From<E> for StepFailure {
    fn from(e: E) -> Self {
        Self(e.into())
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
            drill: None,
            checkpoints: None,
            event_baseline: Default::default(),
            baseline_taken: false,
            live_state: None,
            command_dir: None,
            audit_mark: None,
        })
    }

    pub fn fixtures(&self) -> anyhow::Result<&Fixtures> {
        self.fixtures.as_ref().ok_or_else(|| anyhow!("cannot find the fixtures directory; run from the repository or set OPSSIGHT_FIXTURES"))
    }

    pub async fn start(&mut self) -> StepResult {
        let env = self.choice.start(self.fixtures()?.clone()).await?;
        self.expected = env.seed().secrets.clone();
        if env.live() {
            self.live_state = Some(
                crate::env::live_state::Pending::record(env.clone())
                    .await
                    .context("recording the live system before the scenario changes it")?,
            );
        }
        self.env = Some(env);
        if self.checkpoints.is_some() {
            // A shared system's reset refreshed every Secret before this.
            self.take_event_baseline().await;
            self.baseline_taken = false;
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
        let manifests = crate::fixtures::manifests::kustomize(&self.fixtures()?.overlay("local"))?;
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
    pub async fn elapse(&self, d: std::time::Duration) -> StepResult {
        let env = self.env()?;
        let clock = env.clock();
        let before = clock.now();
        env.elapse(d).await?;
        if let (Some(recorder), true) = (&self.drill, clock.is_virtual()) {
            recorder.jumped(before, clock.now());
        }
        Ok(())
    }

    /// Marks a drill phase (nothing outside a drill).
    pub fn mark(&self, phase: crate::drill::Phase, detail: &str) {
        if let Some(d) = &self.drill {
            d.mark(phase, detail);
        }
    }

    /// In a drill: the baseline is what every Secret holds now; a watch
    /// follows them from here.
    pub async fn start_drill_baseline(&self) -> StepResult {
        let Some(recorder) = &self.drill else {
            return Ok(());
        };
        let mut secrets = BTreeMap::new();
        for (es, remote) in self.external_secrets()? {
            let data = self.secrets()?.get(&es).await.map(|s| data_of(&s))?;
            secrets.insert(es, (remote, data));
        }
        let env = self.env()?;
        let listed = recorder.start(env.clock(), env.kube(), NAMESPACE, secrets);
        Ok(tokio::time::timeout(self.patience(), listed)
            .await
            .map_err(|_| {
                anyhow!(
                    "timed out after {:?} waiting for the drill's watch to list Secrets and ExternalSecrets",
                    self.patience()
                )
            })?
            .map_err(|_| anyhow!("the drill's watch ended before it listed the namespace"))?)
    }

    /// In a drill: the scenario put new values in Secrets Manager on purpose.
    pub fn expect_in_drill(&self, remote: &str) -> StepResult {
        let (Some(recorder), Some(values)) = (&self.drill, self.expected.get(remote)) else {
            return Ok(());
        };
        for (es, key) in self.external_secrets()? {
            if key == remote {
                recorder.expect(&es, &as_bytes(values));
            }
        }
        Ok(())
    }

    /// Ends the drill's record of this scenario with what each Secret holds.
    pub async fn finish_drill(&self, verified: bool) -> Option<crate::drill::recorder::Timeline> {
        let recorder = self.drill.as_ref().filter(|r| r.is_started())?;
        let mut finals = BTreeMap::new();
        if let (Ok(api), Ok(names)) = (self.secrets(), self.external_secrets()) {
            for es in names.into_keys() {
                let data = api.get_opt(&es).await.ok().flatten().map(|s| data_of(&s));
                finals.insert(es, data);
            }
        }
        Some(recorder.finish(finals, verified))
    }

    /// The values this scenario knows, named for the differential: the
    /// current and previous value of each remote key.
    pub fn value_names(&self) -> crate::differential::observe::ValueNames {
        let mut names = crate::differential::observe::ValueNames::new();
        for (which, map) in [("previous", &self.previous), ("current", &self.expected)] {
            for (remote, kv) in map.iter() {
                for (k, v) in kv {
                    names.insert(v.clone().into_bytes(), format!("{remote}:{k} ({which})"));
                }
            }
        }
        names
    }

    /// Adds the events there are now to those the differential leaves out.
    pub async fn take_event_baseline(&mut self) {
        if let Ok(env) = self.env()
            && let Ok(b) = crate::differential::observe::event_baseline(&env.kube()).await
        {
            self.event_baseline.extend(b);
        }
        self.baseline_taken = true;
    }

    /// Records what is observable now, when the run records checkpoints:
    /// of everything (`subject` None: a scenario's end), or of the object
    /// a step waited for (its fields and its events), the only one the wait
    /// has settled; the rest may be mid-reconcile on a real controller.
    pub async fn checkpoint(&self, label: &str, subject: Option<&str>) {
        let (Some(sink), Ok(env)) = (&self.checkpoints, self.env()) else {
            return;
        };
        let mut fields = match crate::differential::observe::observe(
            &env.kube(),
            &self.value_names(),
            &self.event_baseline,
        )
        .await
        {
            Ok(f) => f,
            Err(e) => [("(observation)".to_owned(), format!("failed: {e}"))].into(),
        };
        if let Some(name) = subject {
            fields.retain(|k, _| crate::differential::observe::is_about(k, name));
        }
        sink.lock().unwrap_or_else(|e| e.into_inner()).push(
            crate::differential::observe::Checkpoint {
                label: label.to_owned(),
                fields,
            },
        );
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

    /// Waits for `condition` (a future that ends when it holds) up to the
    /// patience, failing with what it waited for. Meanwhile the environment
    /// skips what its controller would only wait for within that patience
    /// (on a virtual clock: backoffs and retries are jumps, not waits).
    pub async fn within<T>(
        &self,
        what: &str,
        condition: impl std::future::Future<Output = T>,
    ) -> anyhow::Result<T> {
        let patience = self.patience();
        let skip = match &self.env {
            Some(env) => env.skip_waiting(patience),
            None => Box::pin(std::future::pending()),
        };
        let raced = async {
            tokio::select! {
                biased;
                held = condition => held,
                () = skip => unreachable!("skip_waiting never ends"),
            }
        };
        tokio::time::timeout(patience, raced)
            .await
            .map_err(|_| anyhow!("timed out after {patience:?} waiting for {what}"))
    }

    /// Waits on a watch until the ExternalSecret satisfies `cond`.
    pub async fn wait_es(
        &self,
        name: &str,
        what: &str,
        cond: impl Fn(&DynamicObject) -> bool + Send + 'static,
    ) -> anyhow::Result<DynamicObject> {
        let api = self.es_api()?;
        let found = self
            .within(
                what,
                await_condition(api.clone(), name, move |o: Option<&DynamicObject>| {
                    o.is_some_and(&cond)
                }),
            )
            .await??;
        let found = found.ok_or_else(|| anyhow!("{what}: the ExternalSecret {name} is gone"))?;
        self.checkpoint(what, Some(name)).await;
        Ok(found)
    }

    pub async fn wait_secret(
        &self,
        name: &str,
        what: &str,
        cond: impl Fn(&Secret) -> bool + Send + 'static,
    ) -> anyhow::Result<Secret> {
        let api = self.secrets()?;
        let found = self
            .within(
                what,
                await_condition(api, name, move |o: Option<&Secret>| o.is_some_and(&cond)),
            )
            .await??;
        let found = found.ok_or_else(|| anyhow!("{what}: the Secret {name} is gone"))?;
        self.checkpoint(what, Some(name)).await;
        Ok(found)
    }

    pub async fn wait_gone_secret(&self, name: &str) -> StepResult {
        let api = self.secrets()?;
        let uid = match api.get_opt(name).await? {
            Some(s) => s.metadata.uid.unwrap_or_default(),
            None => {
                // Gone already: the same checkpoint as after a wait.
                self.checkpoint(&format!("the Secret {name} to be deleted"), Some(name))
                    .await;
                return Ok(());
            }
        };
        self.within(
            &format!("the Secret {name} to be deleted"),
            await_condition(api, name, kube::runtime::wait::conditions::is_deleted(&uid)),
        )
        .await??;
        self.checkpoint(&format!("the Secret {name} to be deleted"), Some(name))
            .await;
        Ok(())
    }
}

pub fn ensure(cond: bool, msg: impl FnOnce() -> String) -> StepResult {
    if cond { Ok(()) } else { bail!(msg()) }
}
