//! Runs the feature files: chooses scenarios by tags, reports a scenario
//! whose environment lacks a capability as skipped with the reason, writes
//! the console report and optional JUnit and JSON reports, and saves
//! diagnostics of failed scenarios.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::writer::Stats as _;
use cucumber::{World as _, WriterExt as _, gherkin, parser, writer};
use futures::StreamExt;
use futures::future::FutureExt;

use crate::env::{Capabilities, Capability, EnvChoice};
use crate::world::OpsWorld;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub features: PathBuf,
    pub tags: Option<String>,
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub artifacts: PathBuf,
    pub concurrency: usize,
    pub env: EnvChoice,
    /// Run as a drill: every scenario is recorded for the drill's report.
    pub drill: Option<crate::drill::Collector>,
    /// Record every scenario's checkpoints for the differential, here.
    pub record: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub failed: bool,
    pub passed_steps: usize,
    pub failed_steps: usize,
    pub skipped_steps: usize,
    pub parsing_errors: usize,
}

/// Parses features like cucumber's own parser, then puts in front of every
/// scenario needing a missing capability a step no definition matches, whose
/// text says why: cucumber reports such a scenario as skipped.
struct GatedParser {
    capabilities: Capabilities,
    env: &'static str,
    /// Only scenarios tagged `@read-only` may run (a live cluster without
    /// `--allow-destructive`).
    read_only: bool,
}

/// The tag of scenarios that change nothing in the environment.
pub const READ_ONLY_TAG: &str = "read-only";

fn tags_of(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> Vec<String> {
    feature
        .tags
        .iter()
        .chain(scenario.tags.iter())
        .map(|t| t.trim_start_matches('@').to_owned())
        .collect()
}

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
                            skip.value = format!("SKIPPED: the environment {reason}");
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

fn output(path: &Option<PathBuf>) -> anyhow::Result<Box<dyn io::Write + Send>> {
    Ok(match path {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            Box::new(std::fs::File::create(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?)
        }
        None => Box::new(io::sink()),
    })
}

pub async fn run(opts: RunOptions) -> anyhow::Result<Outcome> {
    let tags: Option<TagOperation> = match &opts.tags {
        Some(t) => Some(
            t.parse()
                .map_err(|e| anyhow::anyhow!("--tags {t:?}: {e}"))?,
        ),
        None => None,
    };
    if !opts.features.exists() {
        anyhow::bail!(
            "{}: no such feature file or directory",
            opts.features.display()
        );
    }
    check_feature_files(&opts.features)?;
    std::fs::create_dir_all(&opts.artifacts)?;
    let properties = opts.env.properties();
    println!(
        "environment: {}",
        properties
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let artifacts = opts.artifacts.clone();
    let drill = opts.drill.clone();
    let drill_before = opts.drill.is_some();
    let recording: Arc<Mutex<crate::differential::compare::Recording>> = Default::default();
    let record_before = opts.record.is_some();
    let record_after = recording.clone();
    let env_choice = opts.env.clone();
    // A live system not put back as found fails the run.
    let not_restored: Arc<Mutex<Vec<String>>> = Default::default();
    let not_restored_after = not_restored.clone();
    let writer = writer::Basic::raw(io::stdout(), writer::Coloring::Never, 0)
        .summarized()
        .tee::<OpsWorld, _>(writer::JUnit::for_tee(output(&opts.junit)?, 0))
        .tee::<OpsWorld, _>(writer::Json::for_tee(output(&opts.json)?))
        .normalized();
    let result = OpsWorld::cucumber::<PathBuf>()
        .with_parser(GatedParser {
            capabilities: opts.env.capabilities(),
            env: opts.env.name(),
            read_only: opts.env.read_only(),
        })
        .with_writer(writer)
        // An undefined step fails the run (naming its file and line); only
        // the capability gate's own steps mean "skipped".
        .fail_on_skipped_with(|_feature, _rule, scenario| {
            !scenario
                .steps
                .first()
                .is_some_and(|s| s.value.starts_with("SKIPPED: "))
        })
        // One live system is shared by every scenario: one at a time there.
        .max_concurrent_scenarios(opts.env.concurrency(opts.concurrency))
        // Options come from our CLI, not from cucumber parsing the process's arguments.
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .before(move |_feature, _rule, _scenario, world| {
            world.choice = env_choice.clone();
            if drill_before {
                world.drill = Some(crate::drill::Recorder::default());
            }
            if record_before {
                world.checkpoints = Some(Default::default());
            }
            async {}.boxed_local()
        })
        .after(move |feature, _rule, scenario, finished, world| {
            let artifacts = artifacts.clone();
            let drill = drill.clone();
            let recording = record_after.clone();
            let not_restored = not_restored_after.clone();
            let mut world = world;
            async move {
                if let Some(w) = world.as_deref()
                    && w.checkpoints.is_some()
                {
                    w.checkpoint("end", None).await;
                    let record = crate::differential::compare::ScenarioRecord {
                        outcome: outcome_of(scenario, finished).into(),
                        checkpoints: w
                            .checkpoints
                            .as_ref()
                            .map(|c| c.lock().unwrap_or_else(|e| e.into_inner()).clone())
                            .unwrap_or_default(),
                    };
                    recording
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .scenarios
                        // The line tells a Scenario Outline's examples apart.
                        .insert(
                            format!(
                                "{}: {} (line {})",
                                feature.name, scenario.name, scenario.position.line
                            ),
                            record,
                        );
                }
                if let (cucumber::event::ScenarioFinished::StepFailed(..), Some(w)) =
                    (finished, &world)
                {
                    crate::diagnostics::dump(w, &feature.name, &scenario.name, &artifacts).await;
                }
                if let Some(collector) = drill {
                    collector.push(
                        drill_record(feature, scenario, finished, world.as_deref_mut()).await,
                    );
                }
                // Last, whatever the outcome: what the scenario changed on a
                // live system goes back as it was (diagnostics and records
                // above saw the scenario's own end).
                if let Some(w) = world.as_deref() {
                    match w.restore_live_system().await {
                        Some(Ok(summary)) if summary != "nothing had changed" => {
                            eprintln!("put back after \"{}\": {summary}", scenario.name);
                        }
                        Some(Err(e)) => {
                            let e = format!("\"{}\": {e:#}", scenario.name);
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
                .is_none_or(|t| t.eval(tags_of(feature, scenario).iter()))
        })
        .await;
    if let Some(path) = &opts.junit {
        crate::report_properties::add_to_junit(path, &properties)?;
    }
    if let Some(path) = &opts.record {
        let mut r = recording.lock().unwrap_or_else(|e| e.into_inner()).clone();
        r.environment = opts.env.name().into();
        r.properties = properties.clone();
        std::fs::write(path, serde_json::to_vec_pretty(&r)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &opts.json {
        crate::report_properties::add_to_json(path, &properties)?;
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
    Ok(Outcome {
        failed: result.execution_has_failed() || !not_restored.is_empty(),
        passed_steps: result.passed_steps(),
        failed_steps: result.failed_steps(),
        skipped_steps: result.skipped_steps(),
        parsing_errors: result.parsing_errors(),
    })
}

/// How a scenario ended, for the differential's record.
fn outcome_of(
    scenario: &gherkin::Scenario,
    finished: &cucumber::event::ScenarioFinished,
) -> &'static str {
    let gated = scenario
        .steps
        .first()
        .is_some_and(|s| s.value.starts_with("SKIPPED: "));
    match finished {
        _ if gated => "skipped",
        cucumber::event::ScenarioFinished::StepPassed => "passed",
        _ => "failed",
    }
}

async fn drill_record(
    feature: &gherkin::Feature,
    scenario: &gherkin::Scenario,
    finished: &cucumber::event::ScenarioFinished,
    world: Option<&mut OpsWorld>,
) -> crate::drill::ScenarioRecord {
    use crate::drill::report::Outcome;
    use cucumber::event::ScenarioFinished as F;
    let gate = scenario
        .steps
        .first()
        .and_then(|s| s.value.strip_prefix("SKIPPED: "));
    let outcome = match (finished, gate) {
        (_, Some(why)) => Outcome::Skipped(why.to_owned()),
        (F::StepPassed, None) => Outcome::Passed,
        (F::StepSkipped, None) => Outcome::Failed("a step is not defined".into()),
        (F::StepFailed(_, _, e), None) => {
            let text = e.to_string();
            let text = match &world {
                Some(w) => crate::redact::redact(&text, w),
                None => text,
            };
            Outcome::Failed(text.lines().take(3).collect::<Vec<_>>().join(" "))
        }
        (F::BeforeHookFailed(_), None) => Outcome::Failed("the before hook failed".into()),
    };
    let timeline = match world {
        Some(w) => w.finish_drill(outcome == Outcome::Passed).await,
        None => None,
    };
    crate::drill::ScenarioRecord {
        feature: feature.name.clone(),
        name: scenario.name.clone(),
        outcome,
        timeline,
    }
}

/// Parses every feature file first, so a malformed one is reported with its
/// line and column (cucumber's own report names only the file).
pub fn check_feature_files(path: &Path) -> anyhow::Result<()> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "feature"))
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_owned()]
    };
    for file in files {
        if let Err(e) = gherkin::Feature::parse_path(&file, gherkin::GherkinEnv::default()) {
            let detail = match &e {
                // "Error at LINE:COL: {expected tokens}"
                gherkin::ParseFileError::Parsing { source, .. } => {
                    source.to_string().replacen("Error at ", "line:column ", 1)
                }
                other => other.to_string(),
            };
            anyhow::bail!("{}: malformed feature file: {detail}", file.display());
        }
    }
    Ok(())
}
