//! The runner's hook for whoever follows a run's scenarios from outside
//! (a drill's recorder, a differential recording): it is called before
//! each scenario, after it with how it ended, and after the run. The
//! runner knows nothing else of them.

use futures::future::LocalBoxFuture;

use crate::scenario::OpsWorld;

/// Follows a run's scenarios.
pub trait Observer: Send + Sync {
    /// Before a scenario's first step (the capability gate's included):
    /// what follows this one scenario, if anything. It may give the World
    /// a sink (`phases`, `checkpoints`) to hear of it as it runs.
    fn scenario_started(&self, world: &mut OpsWorld) -> Option<Box<dyn ScenarioObserver>>;

    /// After the last scenario, before the run's reports are finished.
    fn run_finished(&self, run: &RunInfo) -> anyhow::Result<()> {
        let _ = run;
        Ok(())
    }
}

/// Follows one scenario.
pub trait ScenarioObserver: Send {
    /// After the scenario's last step, whatever its end; before a live
    /// system is put back, so the scenario's own end is what it sees.
    fn finished<'a>(
        self: Box<Self>,
        end: &'a ScenarioEnd,
        world: Option<&'a mut OpsWorld>,
    ) -> LocalBoxFuture<'a, ()>;
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioEnd {
    /// The feature's name.
    pub feature: String,
    pub scenario: String,
    /// Where it starts in its file (tells a Scenario Outline's examples apart).
    pub line: usize,
    pub outcome: ScenarioOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioOutcome {
    Passed,
    /// Skipped by the capability gate, with its reason.
    Skipped(String),
    /// A step no definition matches.
    Undefined,
    /// A step failed: its error, unredacted (an observer that shows it
    /// redacts it with the World's values).
    Failed(String),
    BeforeHookFailed,
}

/// What the run was, for what an observer writes at its end.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub environment: &'static str,
    /// The environment's name and versions (`EnvChoice::properties`).
    pub properties: Vec<(String, String)>,
}
