//! The capability gate: a scenario needing a capability its environment
//! lacks (or, on a live system without `--allow-destructive`, one not
//! tagged `@read-only`) gets a first step no definition matches, whose
//! text says why, so that cucumber reports it skipped before any of its
//! steps (its Background included) touches the system.

use std::path::Path;

use cucumber::{gherkin, parser};
use futures::StreamExt as _;

use crate::env::{Capabilities, Capability};

/// How the gate's step starts: only such a step means "skipped".
pub const SKIPPED: &str = "SKIPPED: ";

/// Why the gate skipped `scenario`, if it did.
pub fn skipped_because(scenario: &gherkin::Scenario) -> Option<&str> {
    scenario
        .steps
        .first()
        .and_then(|s| s.value.strip_prefix(SKIPPED))
}

/// Parses features like cucumber's own parser, then puts in front of every
/// scenario needing a missing capability a step no definition matches, whose
/// text says why: cucumber reports such a scenario as skipped.
pub(super) struct GatedParser {
    pub(super) capabilities: Capabilities,
    pub(super) env: &'static str,
    /// Only scenarios tagged `@read-only` may run (a live cluster without
    /// `--allow-destructive`).
    pub(super) read_only: bool,
}

/// The tag of scenarios that change nothing in the environment.
pub const READ_ONLY_TAG: &str = "read-only";

impl<I: AsRef<Path>> cucumber::Parser<I> for GatedParser {
    type Cli = <parser::Basic as cucumber::Parser<I>>::Cli;
    type Output = futures::stream::BoxStream<'static, parser::Result<gherkin::Feature>>;

    fn parse(self, input: I, cli: Self::Cli) -> Self::Output {
        let caps = self.capabilities;
        let env = self.env;
        let read_only = self.read_only;
        parser::Basic::new()
            .parse(input, cli)
            .map(move |feature| {
                feature.map(|mut f| {
                    let feature_tags: Vec<String> = f.tags.clone();
                    let gate = |scenario: &mut gherkin::Scenario| {
                        let tags: Vec<&str> = feature_tags
                            .iter()
                            .chain(scenario.tags.iter())
                            .map(|t| t.trim_start_matches('@'))
                            .collect();
                        let reason = tags
                            .iter()
                            .filter_map(|t| Capability::from_tag(t))
                            .find_map(|c| {
                                caps.lacks(c)
                                    .map(|why| format!("{} (needs @{}): {why}", env, c.tag()))
                            })
                            .or_else(|| {
                                (read_only && !tags.contains(&READ_ONLY_TAG)).then(|| {
                                    format!(
                                        "{env} is a live system and this scenario changes it (not @{READ_ONLY_TAG}): run with --allow-destructive to let it"
                                    )
                                })
                            });
                        if let (Some(reason), Some(first)) =
                            (reason, scenario.steps.first().cloned())
                        {
                            let mut skip = first;
                            skip.keyword = "Given ".into();
                            skip.ty = gherkin::StepType::Given;
                            skip.value = format!("{SKIPPED}the environment {reason}");
                            skip.docstring = None;
                            skip.table = None;
                            // Reported at the scenario's own line.
                            skip.position = scenario.position;
                            scenario.steps.insert(0, skip);
                        }
                    };
                    // Backgrounds are written into each scenario, so that the
                    // gate comes before every step: a scenario skipped on a
                    // live system runs not even its Background there.
                    let background = f.background.take().map(|b| b.steps).unwrap_or_default();
                    for scenario in &mut f.scenarios {
                        scenario.steps.splice(0..0, background.iter().cloned());
                        gate(scenario);
                    }
                    for rule in &mut f.rules {
                        let mut steps = background.clone();
                        steps.extend(rule.background.take().map(|b| b.steps).unwrap_or_default());
                        for scenario in &mut rule.scenarios {
                            scenario.steps.splice(0..0, steps.iter().cloned());
                            gate(scenario);
                        }
                    }
                    f
                })
            })
            .boxed()
    }
}
