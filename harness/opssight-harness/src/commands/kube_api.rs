//! `kube-api`: the kube API differential's requests replayed against the
//! kube-emulator or the real kube-apiserver, each response recorded.

use std::path::PathBuf;
use std::process::ExitCode;

use super::env_args::{BinariesArgs, LocalEnv};
use crate::differential::kube_api;
use crate::say;

#[derive(clap::Args, Debug, Clone)]
pub struct KubeApiArgs {
    #[arg(long, value_enum, default_value = "embedded")]
    env: LocalEnv,
    /// The requests (YAML).
    #[arg(
        long,
        default_value = "harness/opssight-harness/tests/kube_api/requests.yaml"
    )]
    requests: PathBuf,
    /// Where the recording goes (JSON).
    #[arg(long)]
    record: PathBuf,
    #[command(flatten)]
    binaries: BinariesArgs,
}

pub async fn run(args: KubeApiArgs) -> anyhow::Result<ExitCode> {
    // Checked before anything starts.
    let requests = kube_api::load(&args.requests)?;
    let recording = match args.env {
        LocalEnv::Embedded => kube_api::on_kube_emulator(&requests).await?,
        LocalEnv::Binaries => {
            kube_api::on_real_apiserver(args.binaries.options()?, &requests).await?
        }
    };
    let record = &args.record;
    std::fs::write(record, serde_json::to_string_pretty(&recording)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", record.display()))?;
    say!(
        "{} responses recorded in {}",
        recording.scenarios.len(),
        record.display()
    );
    Ok(ExitCode::SUCCESS)
}
