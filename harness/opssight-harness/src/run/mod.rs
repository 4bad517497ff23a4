//! Runs the feature files: chooses scenarios by tags, reports a scenario
//! whose environment lacks a capability as skipped with the reason
//! (`gate`), writes the console report and optional JUnit and JSON reports
//! (through the run's redaction, `writer`), saves diagnostics of failed
//! scenarios (`diagnostics`), puts a live system back after each scenario,
//! and tells its observers (`observer`) of every scenario.

pub mod diagnostics;
pub mod features;
pub mod gate;
pub mod observer;
mod redacting;
mod report_files;
pub mod report_properties;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use cucumber::event::ScenarioFinished;
use cucumber::tag::Ext as _;
use cucumber::writer::Stats as _;
use cucumber::{World as _, WriterExt as _, gherkin, writer};
use futures::future::FutureExt;

pub use self::features::{check_feature_files, preflight};
pub use self::gate::READ_ONLY_TAG;
use self::gate::{GatedParser, skipped_because};
use self::observer::{Observer, ScenarioEnd, ScenarioObserver, ScenarioOutcome};
use self::redacting::Redacting;
use self::report_files::output;
use crate::checks::health::{self, Health};
use crate::env::EnvChoice;
use crate::scenario::OpsWorld;

/// How long a live system may take to settle, before the run and after it,
/// for the health checks that compare the two.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Clone)]
pub struct RunOptions {
    pub features: PathBuf,
    pub tags: Option<String>,
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub artifacts: PathBuf,
    pub concurrency: usize,
    pub env: EnvChoice,
    /// Whoever follows the scenarios (a drill, a differential recording).
    pub observers: Vec<Arc<dyn Observer>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub failed: bool,
    pub passed_steps: usize,
    pub failed_steps: usize,
    pub skipped_steps: usize,
    pub parsing_errors: usize,
}

/// A run's outcome decides whether a kind cluster's logs are kept.
impl crate::env::kind::Verdict for Outcome {
    fn failed(&self) -> bool {
        self.failed
    }
}

/// A scenario as both hooks see it: its file and where it starts.
type ScenarioKey = (Option<PathBuf>, usize, usize);

/// What follows each running scenario, from its before hook to its after.
type Following = Arc<Mutex<HashMap<ScenarioKey, Vec<Box<dyn ScenarioObserver>>>>>;

fn key_of(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> ScenarioKey {
    (
        feature.path.clone(),
        scenario.position.line,
        scenario.position.col,
    )
}

/// How a scenario ended, as observers are told.
fn outcome_of(scenario: &gherkin::Scenario, finished: &ScenarioFinished) -> ScenarioOutcome {
    match (finished, skipped_because(scenario)) {
        (_, Some(why)) => ScenarioOutcome::Skipped(why.to_owned()),
        (ScenarioFinished::StepPassed, None) => ScenarioOutcome::Passed,
        (ScenarioFinished::StepSkipped, None) => ScenarioOutcome::Undefined,
        (ScenarioFinished::StepFailed(_, _, e), None) => ScenarioOutcome::Failed(e.to_string()),
        (ScenarioFinished::BeforeHookFailed(_), None) => ScenarioOutcome::BeforeHookFailed,
    }
}

pub async fn run(opts: RunOptions) -> anyhow::Result<Outcome> {
    preflight(
        &opts.features,
        opts.tags.as_deref(),
        &[("--junit", &opts.junit), ("--json", &opts.json)],
    )?;
    let tags = features::parse_tags(opts.tags.as_deref())?;
    // Checked now, made only when a scenario fails and has something to
    // leave there: a green run leaves no empty directory behind.
    crate::files::check_dir(&opts.artifacts)
        .map_err(|e| anyhow::anyhow!("--artifacts {}: {e}", opts.artifacts.display()))?;
    let properties = opts.env.properties();
    crate::say!(
        "environment: {}",
        properties
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // A live system's health as found, to compare with its end.
    let live_client = match opts.env.live_client().await {
        Some(client) => Some(client.context("the health check before the run")?),
        None => None,
    };
    // A system the harness brought up itself (kind, binaries) is still
    // settling: its health as found is the one it settles to.
    let settle = if opts.env.brought_up_by_harness() {
        SETTLE
    } else {
        std::time::Duration::ZERO
    };
    let health_before = match &live_client {
        Some(client) => Some(
            Health::read_until(client, settle, |h| h.healthy())
                .await
                .context("the health check before the run (check's checks)")?,
        ),
        None => None,
    };
    let artifacts = opts.artifacts.clone();
    let env_choice = opts.env.clone();
    let observers = opts.observers.clone();
    let following: Following = Default::default();
    let following_after = following.clone();
    // A live system not put back as found fails the run.
    let not_restored: Arc<Mutex<Vec<String>>> = Default::default();
    let not_restored_after = not_restored.clone();
    let (junit_out, junit_report) = output(&opts.junit)?;
    let (json_out, json_report) = output(&opts.json)?;
    let writer = writer::Basic::raw(crate::out::Stdout, writer::Coloring::Never, 0)
        .summarized()
        .tee::<OpsWorld, _>(writer::JUnit::for_tee(junit_out, 0))
        .tee::<OpsWorld, _>(writer::Json::for_tee(json_out))
        .normalized();
    let writer = Redacting(writer);
    let result = OpsWorld::cucumber::<PathBuf>()
        .with_parser(GatedParser {
            capabilities: opts.env.capabilities(),
            env: opts.env.name(),
            read_only: opts.env.read_only(),
        })
        .with_writer(writer)
        // An undefined step fails the run (naming its file and line); only
        // the capability gate's own steps mean "skipped".
        .fail_on_skipped_with(|_feature, _rule, scenario| skipped_because(scenario).is_none())
        // One live system is shared by every scenario: one at a time there.
        .max_concurrent_scenarios(opts.env.concurrency(opts.concurrency))
        // Options come from our CLI, not from cucumber parsing the process's arguments.
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .before(move |feature, _rule, scenario, world| {
            world.choice = env_choice.clone();
            let started: Vec<_> = observers
                .iter()
                .filter_map(|o| o.scenario_started(world))
                .collect();
            following
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key_of(feature, scenario), started);
            async {}.boxed_local()
        })
        .after(move |feature, _rule, scenario, finished, world| {
            let artifacts = artifacts.clone();
            let not_restored = not_restored_after.clone();
            let followers = following_after
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key_of(feature, scenario))
                .unwrap_or_default();
            let end = ScenarioEnd {
                feature: feature.name.clone(),
                scenario: scenario.name.clone(),
                line: scenario.position.line,
                outcome: outcome_of(scenario, finished),
            };
            let failed = matches!(finished, ScenarioFinished::StepFailed(..));
            let mut world = world;
            async move {
                for follower in followers {
                    follower.finished(&end, world.as_deref_mut()).await;
                }
                if let (true, Some(w)) = (failed, &world) {
                    diagnostics::dump(w, &feature.name, &scenario.name, &artifacts).await;
                }
                // Last, whatever the outcome: what the scenario changed on a
                // live system goes back as it was (diagnostics and observers
                // above saw the scenario's own end).
                if let Some(w) = world.as_deref() {
                    match w.restore_live_system().await {
                        Some(Ok(summary)) if summary != "nothing had changed" => {
                            eprintln!(
                                "{}",
                                crate::secret_data::redact::text(&format!(
                                    "put back after \"{}\": {summary}",
                                    scenario.name
                                ))
                            );
                        }
                        Some(Err(e)) => {
                            // Through the run's redaction, as every writer:
                            // an error from the API can quote what it refused.
                            let e = crate::secret_data::redact::text(&format!(
                                "\"{}\": {e:#}",
                                scenario.name
                            ));
                            eprintln!("NOT PUT BACK after {e}");
                            not_restored
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(e);
                        }
                        _ => {}
                    }
                }
            }
            .boxed_local()
        })
        .filter_run(opts.features.clone(), move |feature, _rule, scenario| {
            tags.as_ref()
                .is_none_or(|t| t.eval(features::tags_of(feature, scenario).iter()))
        })
        .await;
    if let Some(report) = junit_report {
        report_properties::add_to_junit(&report.partial, &properties)?;
        report.finish()?;
    }
    let info = observer::RunInfo {
        environment: opts.env.name(),
        properties: properties.clone(),
    };
    for o in &opts.observers {
        o.run_finished(&info)?;
    }
    if let Some(report) = json_report {
        report_properties::add_to_json(&report.partial, &properties)?;
        report.finish()?;
    }
    let not_restored = not_restored
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if !not_restored.is_empty() {
        eprintln!(
            "the live system was not put back as found after {} scenario(s): see NOT PUT BACK above",
            not_restored.len()
        );
    }
    let mut worse = false;
    if let (Some(client), Some(before)) = (&live_client, &health_before) {
        let as_found = |h: &Health| {
            matches!(
                health::compare(before, h).0,
                health::Comparison::AsFound { .. }
            )
        };
        match Health::read_until(client, SETTLE, as_found).await {
            Ok(after) => {
                let (comparison, stale) = health::compare(before, &after);
                worse = matches!(comparison, health::Comparison::Worse(_));
                eprintln!(
                    "{}",
                    crate::secret_data::redact::text(&comparison.line(&stale))
                );
            }
            Err(e) => {
                worse = true;
                eprintln!("health after the run: could not be checked: {e:#}");
            }
        }
    }
    Ok(Outcome {
        failed: result.execution_has_failed() || !not_restored.is_empty() || worse,
        passed_steps: result.passed_steps(),
        failed_steps: result.failed_steps(),
        skipped_steps: result.skipped_steps(),
        parsing_errors: result.parsing_errors(),
    })
}
