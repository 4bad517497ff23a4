//! `drill`: rehearse disaster recovery and write its reports.

use std::path::PathBuf;
use std::process::ExitCode;

use super::env_args::{EnvKind, RunArgs, check_inputs, workspace_default};
use crate::drill::{self, DrillOptions, Objectives, render};
use crate::fixtures::Fixtures;
use crate::say;
use crate::system::LOCAL_OVERLAY;

#[derive(clap::Args, Debug, Clone)]
pub struct DrillArgs {
    #[arg(long, value_enum, env = "OPSSIGHT_ENV", default_value = "embedded")]
    env: EnvKind,
    /// Feature file or directory of the drill's scenarios.
    #[arg(long, default_value = "features/disaster_recovery.feature")]
    features: PathBuf,
    /// A tag expression choosing among them.
    #[arg(long)]
    tags: Option<String>,
    /// Where the four reports go.
    #[arg(long, default_value = "drill-report")]
    report_dir: PathBuf,
    /// YAML or JSON recovery objectives (default: every Secret restored
    /// within 300 s, no data loss).
    #[arg(long)]
    objectives: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

pub async fn run(args: DrillArgs) -> anyhow::Result<ExitCode> {
    let DrillArgs {
        env,
        features,
        tags,
        report_dir,
        objectives,
        run,
    } = args;
    let features = workspace_default(features, "features/disaster_recovery.feature");
    let fixtures = check_inputs(env).await?;
    crate::run::preflight(&features, tags.as_deref(), &[])?;
    crate::files::check_dir(&report_dir)
        .map_err(|e| anyhow::anyhow!("--report-dir {}: {e}", report_dir.display()))?;
    let objectives = match objectives {
        Some(path) => {
            let o = Objectives::load(&path)?;
            o.check_secrets(&path, &drill_secrets(&fixtures)?)?;
            o
        }
        None => Objectives::default(),
    };
    let (artifacts, concurrency) = (run.artifacts.clone(), run.concurrency);
    run.with_env(env, |env| {
        drill(DrillOptions {
            features,
            tags,
            objectives,
            report_dir,
            artifacts,
            concurrency,
            env,
        })
    })
    .await
}

/// The Secrets a drill follows (those of the local overlay's
/// ExternalSecrets), which per-Secret objectives must name.
fn drill_secrets(fixtures: &Fixtures) -> anyhow::Result<Vec<String>> {
    Ok(
        crate::fixtures::manifests::kustomize(&fixtures.overlay(LOCAL_OVERLAY))?
            .iter()
            .filter(|m| m.kind() == "ExternalSecret")
            .map(|m| m.name().to_owned())
            .collect(),
    )
}

async fn drill(opts: DrillOptions) -> anyhow::Result<ExitCode> {
    let (report, files) = drill::run(opts).await?;
    say!(
        "\ndisaster recovery drill: {}",
        render::verdict_label(report.verdict)
    );
    for s in &report.scenarios {
        say!("  {:<18} {}", render::verdict_label(s.verdict), s.name);
        for reason in &s.reasons {
            say!("  {:<18}   - {reason}", "");
        }
    }
    say!(
        "reports: {}, {}, {}, {}",
        files.json.display(),
        files.markdown.display(),
        files.junit.display(),
        files.html.display()
    );
    Ok(if report.verdict == drill::Verdict::Met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
