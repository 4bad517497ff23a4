//! Every event through the run's redaction before cucumber's writers
//! (console, JUnit, JSON) see it.

use std::sync::Arc;

use cucumber::parser;

use crate::scenario::OpsWorld;

/// Puts every event through the run's redaction before cucumber's writers
/// (console, JUnit, JSON) see it: a failed step's or hook's message (a
/// command's stderr, say) and a scenario's log lines.
pub(super) struct Redacting<Wr>(pub(super) Wr);

fn redacted_info(info: &cucumber::event::Info, world: Option<&OpsWorld>) -> cucumber::event::Info {
    if let Some(w) = world {
        w.register_values();
    }
    let text = info
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(a panic without a message)".into());
    Arc::new(crate::secret_data::redact::text(&text))
}

fn redacted_step(step: cucumber::event::Step<OpsWorld>) -> cucumber::event::Step<OpsWorld> {
    use cucumber::event::{Step, StepError};
    match step {
        Step::Failed(captures, loc, world, StepError::Panic(info)) => {
            let info = redacted_info(&info, world.as_deref());
            Step::Failed(captures, loc, world, StepError::Panic(info))
        }
        other => other,
    }
}

fn redacted_scenario(
    ev: cucumber::event::RetryableScenario<OpsWorld>,
) -> cucumber::event::RetryableScenario<OpsWorld> {
    use cucumber::event::{Hook, Scenario};
    let event = match ev.event {
        Scenario::Step(s, step) => Scenario::Step(s, redacted_step(step)),
        Scenario::Background(s, step) => Scenario::Background(s, redacted_step(step)),
        Scenario::Hook(ty, Hook::Failed(world, info)) => {
            let info = redacted_info(&info, world.as_deref());
            Scenario::Hook(ty, Hook::Failed(world, info))
        }
        Scenario::Log(line) => Scenario::Log(crate::secret_data::redact::text(&line)),
        other => other,
    };
    cucumber::event::RetryableScenario {
        event,
        retries: ev.retries,
    }
}

fn redacted(ev: cucumber::event::Cucumber<OpsWorld>) -> cucumber::event::Cucumber<OpsWorld> {
    use cucumber::event::{Cucumber, Feature, Rule};
    match ev {
        Cucumber::Feature(f, Feature::Scenario(s, ev)) => {
            Cucumber::Feature(f, Feature::Scenario(s, redacted_scenario(ev)))
        }
        Cucumber::Feature(f, Feature::Rule(r, Rule::Scenario(s, ev))) => Cucumber::Feature(
            f,
            Feature::Rule(r, Rule::Scenario(s, redacted_scenario(ev))),
        ),
        other => other,
    }
}

impl<Wr: cucumber::Writer<OpsWorld>> cucumber::Writer<OpsWorld> for Redacting<Wr> {
    type Cli = Wr::Cli;

    async fn handle_event(
        &mut self,
        event: parser::Result<cucumber::Event<cucumber::event::Cucumber<OpsWorld>>>,
        cli: &Self::Cli,
    ) {
        self.0
            .handle_event(event.map(|e| e.map(redacted)), cli)
            .await
    }
}

impl<Wr: cucumber::writer::Stats<OpsWorld>> cucumber::writer::Stats<OpsWorld> for Redacting<Wr> {
    fn passed_steps(&self) -> usize {
        self.0.passed_steps()
    }
    fn skipped_steps(&self) -> usize {
        self.0.skipped_steps()
    }
    fn failed_steps(&self) -> usize {
        self.0.failed_steps()
    }
    fn retried_steps(&self) -> usize {
        self.0.retried_steps()
    }
    fn parsing_errors(&self) -> usize {
        self.0.parsing_errors()
    }
    fn hook_errors(&self) -> usize {
        self.0.hook_errors()
    }
}

impl<Wr: cucumber::writer::Normalized> cucumber::writer::Normalized for Redacting<Wr> {}
