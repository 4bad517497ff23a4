//! `test`: run the scenarios.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use super::env_args::{EnvKind, RunArgs, check_inputs, workspace_default};
use crate::differential::record::Record;
use crate::run::observer::Observer;
use crate::run::{self, RunOptions};

#[derive(clap::Args, Debug, Clone)]
pub struct TestArgs {
    #[arg(long, value_enum, env = "OPSSIGHT_ENV", default_value = "embedded")]
    env: EnvKind,
    /// A tag expression, e.g. "@requires-iam and not @slow".
    #[arg(long)]
    tags: Option<String>,
    /// Write a JUnit report here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write a cucumber JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Feature file or directory.
    #[arg(long, default_value = "features")]
    features: PathBuf,
    /// Record every scenario's observable state at each checkpoint here
    /// (JSON), for `differential`.
    #[arg(long)]
    record: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

pub async fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    let TestArgs {
        env,
        tags,
        junit,
        json,
        features,
        record,
        run,
    } = args;
    let features = workspace_default(features, "features");
    // Every input checked before anything starts: exit 2 naming it.
    run::preflight(
        &features,
        tags.as_deref(),
        &[
            ("--junit", &junit),
            ("--json", &json),
            ("--record", &record),
        ],
    )?;
    check_inputs(env).await?;
    let (artifacts, concurrency) = (run.artifacts.clone(), run.concurrency);
    run.with_env(env, |env| async move {
        let mut observers: Vec<Arc<dyn Observer>> = Vec::new();
        if let Some(path) = &record {
            observers.push(Arc::new(Record::to(path)?));
        }
        let outcome = run::run(RunOptions {
            features,
            tags,
            junit,
            json,
            artifacts,
            concurrency,
            env,
            observers,
        })
        .await?;
        Ok(if outcome.failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
    .await
}
