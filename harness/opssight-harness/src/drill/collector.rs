//! The drill's observer of the run: a recorder in each scenario (the
//! World's phase sink), and at each scenario's end its record, with what
//! each Secret holds then.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::future::LocalBoxFuture;

use super::recorder::{Recorder, Timeline};
use super::report::{Outcome, ScenarioRecord};
use crate::run::observer::{Observer, ScenarioEnd, ScenarioObserver, ScenarioOutcome};
use crate::scenario::OpsWorld;
use crate::secret_data::data_of;

/// Where each scenario's record goes.
#[derive(Debug, Clone, Default)]
pub struct Collector(Arc<Mutex<Vec<ScenarioRecord>>>);

impl Collector {
    pub fn push(&self, r: ScenarioRecord) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(r);
    }

    pub fn take(&self) -> Vec<ScenarioRecord> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Observer for Collector {
    fn scenario_started(&self, world: &mut OpsWorld) -> Option<Box<dyn ScenarioObserver>> {
        let recorder = Recorder::default();
        world.phases = Some(Arc::new(recorder.clone()));
        Some(Box::new(DrillScenario {
            recorder,
            collector: self.clone(),
        }))
    }
}

/// One scenario of the drill.
struct DrillScenario {
    recorder: Recorder,
    collector: Collector,
}

impl ScenarioObserver for DrillScenario {
    fn finished<'a>(
        self: Box<Self>,
        end: &'a ScenarioEnd,
        world: Option<&'a mut OpsWorld>,
    ) -> LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            let outcome = match &end.outcome {
                ScenarioOutcome::Skipped(why) => Outcome::Skipped(why.clone()),
                ScenarioOutcome::Passed => Outcome::Passed,
                ScenarioOutcome::Undefined => Outcome::Failed("a step is not defined".into()),
                ScenarioOutcome::Failed(text) => {
                    let text = match &world {
                        Some(w) => w.redact(text),
                        None => text.clone(),
                    };
                    Outcome::Failed(text.lines().take(3).collect::<Vec<_>>().join(" "))
                }
                ScenarioOutcome::BeforeHookFailed => {
                    Outcome::Failed("the before hook failed".into())
                }
            };
            let timeline = match world {
                Some(w) if self.recorder.is_started() => {
                    Some(finish(w, &self.recorder, outcome == Outcome::Passed).await)
                }
                _ => None,
            };
            self.collector.push(ScenarioRecord {
                feature: end.feature.clone(),
                name: end.scenario.clone(),
                outcome,
                timeline,
            });
        })
    }
}

/// Ends the recorder's record of the scenario with what each Secret holds.
async fn finish(w: &OpsWorld, recorder: &Recorder, verified: bool) -> Timeline {
    let mut finals = BTreeMap::new();
    if let (Ok(api), Ok(names)) = (w.secrets(), w.external_secrets()) {
        for es in names.into_keys() {
            let data = api.get_opt(&es).await.ok().flatten().map(|s| data_of(&s));
            finals.insert(es, data);
        }
    }
    recorder.finish(finals, verified)
}
