//! `check`: the runbook's maintenance checks against the current
//! kubeconfig context, read-only.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use crate::checks::weekly::{self, CheckOptions};
use crate::say_raw;
use crate::system::{ESO_NAMESPACE, NAMESPACE};

/// Where `check` looks.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CheckEnv {
    /// The current kubeconfig context.
    Existing,
}

#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    #[arg(long, value_enum, default_value = "existing")]
    env: CheckEnv,
    /// Namespace of the ExternalSecrets and SecretStores.
    #[arg(long, default_value = NAMESPACE, conflicts_with = "all_namespaces")]
    namespace: String,
    /// Check ExternalSecrets and SecretStores of every namespace.
    #[arg(long)]
    all_namespaces: bool,
    /// Namespace of ESO's deployments.
    #[arg(long, default_value = ESO_NAMESPACE)]
    eso_namespace: String,
    /// Seconds past an ExternalSecret's refresh interval before it counts as stale.
    #[arg(long, default_value_t = 300)]
    margin_seconds: u64,
    /// Write the report as JSON here too.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub async fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let CheckEnv::Existing = args.env;
    let opts = CheckOptions {
        namespace: (!args.all_namespaces).then_some(args.namespace),
        eso_namespace: args.eso_namespace,
        margin: std::time::Duration::from_secs(args.margin_seconds),
    };
    let kubeconfig = kube::config::Kubeconfig::read().ok();
    let context = kubeconfig.and_then(|k| k.current_context);
    let client = kube::Client::try_default()
        .await
        .map_err(|e| anyhow::anyhow!("connecting to the current kubeconfig context: {e}"))?;
    let report = weekly::run(&client, context, &opts).await?;
    say_raw!("{}", weekly::render(&report));
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    Ok(if report.problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
