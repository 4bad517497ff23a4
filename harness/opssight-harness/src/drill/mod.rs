//! Disaster-recovery drills: the disaster-recovery scenarios run with a
//! recorder in each, then judged against recovery objectives and written as
//! JSON, Markdown, JUnit and HTML reports.

pub mod objectives;
pub mod recorder;
pub mod render;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;

pub use objectives::Objectives;
pub use recorder::{Phase, Recorder};
pub use report::{DrillReport, ScenarioRecord, Verdict};

use crate::runner::{self, RunOptions};

/// Where the runner leaves one record per scenario.
#[derive(Debug, Clone, Default)]
pub struct Collector(Arc<Mutex<Vec<ScenarioRecord>>>);

impl Collector {
    pub fn push(&self, r: ScenarioRecord) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(r);
    }

    fn take(&self) -> Vec<ScenarioRecord> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

pub struct DrillOptions {
    pub features: PathBuf,
    pub tags: Option<String>,
    pub objectives: Objectives,
    pub report_dir: PathBuf,
    pub artifacts: PathBuf,
    pub concurrency: usize,
    pub env: crate::env::EnvChoice,
}

/// The report files, by format.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub json: PathBuf,
    pub markdown: PathBuf,
    pub junit: PathBuf,
    pub html: PathBuf,
}

impl ReportFiles {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            json: dir.join("drill-report.json"),
            markdown: dir.join("drill-report.md"),
            junit: dir.join("drill-junit.xml"),
            html: dir.join("drill-report.html"),
        }
    }
}

pub async fn run(opts: DrillOptions) -> anyhow::Result<(DrillReport, ReportFiles)> {
    let collector = Collector::default();
    let started_at = jiff::Timestamp::now();
    // Checked before any scenario runs: a drill must not run for nothing.
    crate::files::check_dir(&opts.report_dir)
        .with_context(|| format!("--report-dir {}", opts.report_dir.display()))?;
    // On a signal: the scenarios that finished, in a report that says so.
    let partial = {
        let (collector, objectives, dir, env) = (
            collector.clone(),
            opts.objectives.clone(),
            opts.report_dir.clone(),
            opts.env.clone(),
        );
        crate::interrupt::on_signal(move |signal| {
            let report = build(
                &env,
                &objectives,
                collector.take(),
                started_at,
                Some(signal),
            );
            match write_reports(&dir, &report) {
                Ok(files) => eprintln!(
                    "{signal}: the partial drill report is in {}",
                    files.json.display()
                ),
                Err(e) => eprintln!("{signal}: could not write the partial drill report: {e:#}"),
            }
        })
    };
    runner::run(RunOptions {
        record: None,
        features: opts.features,
        tags: opts.tags,
        junit: None,
        json: None,
        artifacts: opts.artifacts,
        concurrency: opts.concurrency,
        env: opts.env.clone(),
        drill: Some(collector.clone()),
    })
    .await?;
    drop(partial);
    let report = build(
        &opts.env,
        &opts.objectives,
        collector.take(),
        started_at,
        None,
    );
    let files = write_reports(&opts.report_dir, &report)?;
    Ok((report, files))
}

fn build(
    env: &crate::env::EnvChoice,
    objectives: &Objectives,
    mut records: Vec<ScenarioRecord>,
    started_at: jiff::Timestamp,
    interrupted: Option<&str>,
) -> DrillReport {
    records.sort_by(|a, b| (&a.feature, &a.name).cmp(&(&b.feature, &b.name)));
    let scenarios: Vec<_> = records
        .iter()
        .map(|r| report::judge(r, objectives))
        .collect();
    let now = jiff::Timestamp::now();
    // One clock in the header: the one the events are stamped with.
    let finished_at = scenarios
        .iter()
        .filter_map(report::latest_instant)
        .fold(now, std::cmp::max);
    DrillReport {
        schema_version: report::SCHEMA_VERSION,
        tool: format!("opssight-harness {}", env!("CARGO_PKG_VERSION")),
        environment: env.name().into(),
        clock: match env {
            crate::env::EnvChoice::Embedded => {
                "virtual: each scenario's clock starts at the wall clock's time and jumps over its waits (marked on the timelines); every time here is on it".into()
            }
            _ => "the system's".into(),
        },
        started_at,
        finished_at,
        wall_seconds: (now.as_millisecond() - started_at.as_millisecond()) as f64 / 1000.0,
        objectives: objectives.clone(),
        // A drill that did not run to its end has not met its objectives.
        verdict: match interrupted {
            Some(_) => Verdict::Missed,
            None => report::overall(&scenarios),
        },
        interrupted: interrupted.map(|s| format!("by {s}")),
        scenarios,
    }
}

pub fn write_reports(dir: &Path, report: &DrillReport) -> anyhow::Result<ReportFiles> {
    crate::files::create_private_dir_all(dir)?;
    let files = ReportFiles::in_dir(dir);
    // Atomically: an interrupt leaves the previous report or this one whole.
    let write = |path: &Path, text: String| {
        crate::files::write_atomic(path, text)
            .with_context(|| format!("writing {}", path.display()))
    };
    write(&files.json, serde_json::to_string_pretty(report)?)?;
    write(&files.markdown, render::markdown(report))?;
    write(&files.junit, render::junit(report))?;
    write(&files.html, render::html(report))?;
    Ok(files)
}
