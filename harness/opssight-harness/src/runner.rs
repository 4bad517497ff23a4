//! Runs the feature files: chooses scenarios by tags, reports a scenario
//! whose environment lacks a capability as skipped with the reason, writes
//! the console report and optional JUnit and JSON reports, and saves
//! diagnostics of failed scenarios.

use std::io;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::writer::Stats as _;
use cucumber::{World as _, WriterExt as _, gherkin, parser, writer};
use futures::StreamExt;
use futures::future::FutureExt;

use anyhow::Context as _;

use crate::env::{Capabilities, Capability, EnvChoice};
use crate::world::OpsWorld;

/// How long a live system may take to settle, before the run and after it,
/// for the health checks that compare the two.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(60);

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

/// A run's outcome decides whether a kind cluster's logs are kept.
impl crate::env::kind::Verdict for Outcome {
    fn failed(&self) -> bool {
        self.failed
    }
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

/// A report cucumber streams into: a hidden file beside it (removed on a
/// signal), renamed over the report once complete, so that an interrupt
/// never leaves an empty or truncated report.
struct PartialReport {
    path: PathBuf,
    partial: PathBuf,
    _on_signal: crate::interrupt::Registration,
}

impl PartialReport {
    fn finish(self) -> anyhow::Result<()> {
        std::fs::rename(&self.partial, &self.path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.path.display()))
    }
}

fn output(
    path: &Option<PathBuf>,
) -> anyhow::Result<(Box<dyn io::Write + Send>, Option<PartialReport>)> {
    Ok(match path {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::files::create_private_dir_all(dir)?;
            }
            let partial = crate::files::partial_path(p);
            let on_signal = crate::interrupt::remove_on_signal(&partial);
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&partial)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            (
                Box::new(file),
                Some(PartialReport {
                    path: p.clone(),
                    partial,
                    _on_signal: on_signal,
                }),
            )
        }
        None => (Box::new(io::sink()), None),
    })
}

/// What `run` checks before anything starts (the environment included):
/// the tag expression, the feature files (every one, in subdirectories
/// too, with its line), that the selection has scenarios, and that the
/// reports can be written.
pub fn preflight(
    features: &Path,
    tags: Option<&str>,
    outputs: &[(&str, &Option<PathBuf>)],
) -> anyhow::Result<usize> {
    let tag_text = tags;
    let tags = parse_tags(tags)?;
    if !features.exists() {
        anyhow::bail!("{}: no such feature file or directory", features.display());
    }
    let parsed = check_feature_files(features)?;
    let selected: usize = parsed
        .iter()
        .map(|f| {
            scenarios_of(f)
                .filter(|s| tags.as_ref().is_none_or(|t| t.eval(tags_of(f, s).iter())))
                .count()
        })
        .sum();
    if selected == 0 {
        let total: usize = parsed.iter().map(|f| scenarios_of(f).count()).sum();
        match tag_text {
            _ if parsed.is_empty() => anyhow::bail!(
                "{}: no feature files (*.feature) there: nothing to run",
                features.display()
            ),
            Some(t) if total > 0 => anyhow::bail!(
                "--tags {t:?} selects none of the {total} scenarios of {}: nothing to run (a misspelt tag?)",
                features.display()
            ),
            _ => anyhow::bail!("{}: no scenarios: nothing to run", features.display()),
        }
    }
    for (flag, path) in outputs {
        if let Some(p) = path {
            crate::files::check_writable(p)
                .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", p.display()))?;
        }
    }
    Ok(selected)
}

fn parse_tags(tags: Option<&str>) -> anyhow::Result<Option<TagOperation>> {
    tags.map(|t| t.parse().map_err(|e| anyhow::anyhow!("--tags {t:?}: {e}")))
        .transpose()
}

fn scenarios_of(f: &gherkin::Feature) -> impl Iterator<Item = &gherkin::Scenario> {
    f.scenarios
        .iter()
        .chain(f.rules.iter().flat_map(|r| r.scenarios.iter()))
}

pub async fn run(opts: RunOptions) -> anyhow::Result<Outcome> {
    preflight(
        &opts.features,
        opts.tags.as_deref(),
        &[
            ("--junit", &opts.junit),
            ("--json", &opts.json),
            ("--record", &opts.record),
        ],
    )?;
    let tags = parse_tags(opts.tags.as_deref())?;
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
            crate::checks::health::Health::read_until(client, settle, |h| h.healthy())
                .await
                .context("the health check before the run (check's checks)")?,
        ),
        None => None,
    };
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
                .is_none_or(|t| t.eval(tags_of(feature, scenario).iter()))
        })
        .await;
    if let Some(report) = junit_report {
        crate::report_properties::add_to_junit(&report.partial, &properties)?;
        report.finish()?;
    }
    if let Some(path) = &opts.record {
        let mut r = recording.lock().unwrap_or_else(|e| e.into_inner()).clone();
        r.environment = opts.env.name().into();
        r.properties = properties.clone();
        crate::files::write_atomic(path, serde_json::to_vec_pretty(&r)?)?;
    }
    if let Some(report) = json_report {
        crate::report_properties::add_to_json(&report.partial, &properties)?;
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
        let as_found = |h: &crate::checks::health::Health| {
            matches!(
                crate::checks::health::compare(before, h).0,
                crate::checks::health::Comparison::AsFound { .. }
            )
        };
        match crate::checks::health::Health::read_until(client, SETTLE, as_found).await {
            Ok(after) => {
                let (comparison, stale) = crate::checks::health::compare(before, &after);
                worse = matches!(comparison, crate::checks::health::Comparison::Worse(_));
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

/// Puts every event through the run's redaction before cucumber's writers
/// (console, JUnit, JSON) see it: a failed step's or hook's message (a
/// command's stderr, say) and a scenario's log lines.
struct Redacting<Wr>(Wr);

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
                Some(w) => w.redact(&text),
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

/// Parses every feature file first (in subdirectories too, as cucumber
/// reads them), so a malformed one is reported with its line and column
/// (cucumber's own report names only the file). Returns them parsed.
pub fn check_feature_files(path: &Path) -> anyhow::Result<Vec<gherkin::Feature>> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v = Vec::new();
        let mut stack = vec![path.to_owned()];
        while let Some(dir) = stack.pop() {
            let entries =
                std::fs::read_dir(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            for entry in entries {
                let p = entry
                    .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
                    .path();
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("feature"))
                {
                    v.push(p);
                }
            }
        }
        v.sort();
        v
    } else {
        vec![path.to_owned()]
    };
    let mut parsed = Vec::new();
    for file in files {
        match gherkin::Feature::parse_path(&file, gherkin::GherkinEnv::default()) {
            Ok(f) => parsed.push(f),
            Err(e) => {
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
    }
    Ok(parsed)
}
