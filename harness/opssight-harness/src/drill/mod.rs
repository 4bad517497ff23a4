//! Disaster-recovery drills: the disaster-recovery scenarios run with a
//! recorder in each, then judged against recovery objectives and written as
//! JSON, Markdown, JUnit and HTML reports.

pub mod collector;
pub mod objectives;
pub mod recorder;
pub mod render;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

pub use self::collector::Collector;
pub use self::objectives::Objectives;
pub use self::recorder::Recorder;
pub use self::report::{DrillReport, ScenarioRecord, Verdict};
pub use crate::scenario::Phase;

use crate::env::EnvChoice;
use crate::run::{self, RunOptions};

pub struct DrillOptions {
    pub features: PathBuf,
    pub tags: Option<String>,
    pub objectives: Objectives,
    pub report_dir: PathBuf,
    pub artifacts: PathBuf,
    pub concurrency: usize,
    pub env: EnvChoice,
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
    run::run(RunOptions {
        features: opts.features,
        tags: opts.tags,
        junit: None,
        json: None,
        artifacts: opts.artifacts,
        concurrency: opts.concurrency,
        env: opts.env.clone(),
        observers: vec![Arc::new(collector.clone())],
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
    env: &EnvChoice,
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
            EnvChoice::Embedded => {
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
