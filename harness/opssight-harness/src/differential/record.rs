//! `test --record FILE`: the run's observer that records, at every wait a
//! step makes and at each scenario's end, what is observable (the World's
//! checkpoint sink), and writes the recording when the run ends.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::future::LocalBoxFuture;

use super::compare::{Recording, ScenarioRecord};
use super::observe::{self, Checkpoint, EventBaseline, ValueNames};
use crate::run::observer::{Observer, RunInfo, ScenarioEnd, ScenarioObserver, ScenarioOutcome};
use crate::scenario::{Checkpoints, OpsWorld};

/// Records every scenario of a run into `path`.
pub struct Record {
    path: PathBuf,
    recording: Arc<Mutex<Recording>>,
    /// The uids of ESO's objects every scenario so far observed.
    observed: Arc<Mutex<BTreeSet<String>>>,
}

impl Record {
    /// A recording to `path`, checked writable before anything runs.
    pub fn to(path: &Path) -> anyhow::Result<Self> {
        crate::files::check_writable(path)
            .map_err(|e| anyhow::anyhow!("--record {}: {e}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            recording: Default::default(),
            observed: Default::default(),
        })
    }
}

impl Observer for Record {
    fn scenario_started(&self, world: &mut OpsWorld) -> Option<Box<dyn ScenarioObserver>> {
        let sink = Arc::new(ScenarioCheckpoints {
            observed: self.observed.clone(),
            ..Default::default()
        });
        world.checkpoints = Some(sink.clone());
        Some(Box::new(RecordScenario {
            sink,
            recording: self.recording.clone(),
        }))
    }

    fn run_finished(&self, run: &RunInfo) -> anyhow::Result<()> {
        let mut r = self
            .recording
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        r.environment = run.environment.into();
        r.properties = run.properties.clone();
        crate::files::write_atomic(&self.path, serde_json::to_vec_pretty(&r)?)?;
        Ok(())
    }
}

/// One scenario's checkpoints.
#[derive(Default)]
struct ScenarioCheckpoints {
    checkpoints: Mutex<Vec<Checkpoint>>,
    /// The events there were when the system was up: left out.
    event_baseline: Mutex<EventBaseline>,
    baseline_taken: Mutex<bool>,
    /// The run's: the uids of ESO's objects observed, this scenario's
    /// added to the earlier ones'.
    observed: Arc<Mutex<BTreeSet<String>>>,
}

impl ScenarioCheckpoints {
    /// Adds the events there are now, and those about what earlier
    /// scenarios observed and is gone, to those left out.
    async fn take_event_baseline(&self, w: &OpsWorld) {
        let observed = self
            .observed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Ok(env) = w.env()
            && let Ok(b) = observe::event_baseline(&env.kube(), &observed).await
        {
            self.event_baseline
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(b);
        }
    }
}

/// The values this scenario knows, named: the current and previous value
/// of each remote key.
fn value_names(w: &OpsWorld) -> ValueNames {
    let mut names = ValueNames::new();
    for (which, map) in [("previous", &w.previous), ("current", &w.expected)] {
        for (remote, kv) in map.iter() {
            for (k, v) in kv {
                names.insert(v.clone().into_bytes(), format!("{remote}:{k} ({which})"));
            }
        }
    }
    names
}

impl Checkpoints for ScenarioCheckpoints {
    fn env_started<'a>(&'a self, w: &'a OpsWorld) -> LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            self.take_event_baseline(w).await;
            *self
                .baseline_taken
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = false;
        })
    }

    fn system_up<'a>(&'a self, w: &'a OpsWorld) -> LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            let taken = *self
                .baseline_taken
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if !taken {
                // What it showed coming up: not the scenario's doing.
                self.checkpoints
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear();
                self.take_event_baseline(w).await;
                *self
                    .baseline_taken
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = true;
            }
        })
    }

    fn checkpoint<'a>(
        &'a self,
        w: &'a OpsWorld,
        label: &'a str,
        subject: Option<&'a str>,
    ) -> LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            let Ok(env) = w.env() else {
                return;
            };
            let baseline = self
                .event_baseline
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let mut observed = BTreeSet::new();
            let observation =
                observe::observe(&env.kube(), &value_names(w), &baseline, &mut observed).await;
            self.observed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(observed);
            let mut fields = match observation {
                Ok(f) => f,
                Err(e) => [("(observation)".to_owned(), format!("failed: {e}"))].into(),
            };
            if let Some(name) = subject {
                fields.retain(|k, _| observe::is_about(k, name));
            }
            self.checkpoints
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Checkpoint {
                    label: label.to_owned(),
                    fields,
                });
        })
    }
}

/// At a scenario's end: its last checkpoint, and its record.
struct RecordScenario {
    sink: Arc<ScenarioCheckpoints>,
    recording: Arc<Mutex<Recording>>,
}

impl ScenarioObserver for RecordScenario {
    fn finished<'a>(
        self: Box<Self>,
        end: &'a ScenarioEnd,
        world: Option<&'a mut OpsWorld>,
    ) -> LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(w) = world else {
                return;
            };
            self.sink.checkpoint(w, "end", None).await;
            let record = ScenarioRecord {
                outcome: match end.outcome {
                    ScenarioOutcome::Skipped(_) => "skipped",
                    ScenarioOutcome::Passed => "passed",
                    _ => "failed",
                }
                .into(),
                checkpoints: self
                    .sink
                    .checkpoints
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone(),
            };
            self.recording
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .scenarios
                // The line tells a Scenario Outline's examples apart.
                .insert(
                    format!("{}: {} (line {})", end.feature, end.scenario, end.line),
                    record,
                );
        })
    }
}
