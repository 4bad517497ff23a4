//! `opssight-harness`: run the scenarios, serve the embedded stack for an
//! operator, or check what this machine can run. The command line only:
//! each command's options and work are in the library's `commands`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use opssight_harness::commands::{
    check, differential, doctor, down, drill, kube_api, rotation, test, up,
};

#[derive(Parser)]
#[command(
    version,
    about = "Test and verification harness for OpsSight's production secrets (AWS Secrets Manager -> ESO -> Kubernetes)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenarios.
    Test(test::TestArgs),
    /// Rehearse disaster recovery: run the disaster-recovery scenarios,
    /// time each Secret's recovery, check no value was lost, and write JSON,
    /// Markdown, JUnit and HTML reports. Exit code 1 when an objective is missed.
    Drill(drill::DrillArgs),
    /// Serve a stack until Ctrl-C (or SIGTERM, SIGHUP), for running the
    /// runbook's commands by hand: the embedded one, or the real components.
    Up(up::UpArgs),
    /// The runbook's maintenance checks against the current kubeconfig
    /// context, read-only: ExternalSecrets Ready and refreshed in time,
    /// stores valid, ESO's deployments available. Exit code 1 on a problem.
    Check(check::CheckArgs),
    /// Secrets' age and rotation against the runbook's rotation policy
    /// (DescribeSecret only). Exit code 1 when a secret is overdue.
    Rotation(rotation::RotationArgs),
    /// Remove what kind runs left behind (after --keep, or a killed run):
    /// kind clusters named opssight-harness-* and containers labelled with a
    /// run id.
    Down(down::DownArgs),
    /// Say what this machine can run.
    Doctor,
    /// Replay the kube API differential's requests against the kube-emulator
    /// (`--env embedded`) or the real kube-apiserver (`--env binaries`) and
    /// record each response, for `differential --declared
    /// harness/kube-emulator/README.md`.
    KubeApi(kube_api::KubeApiArgs),
    /// Compare two recordings (`test --record`) of the same scenarios, the
    /// emulators' and the real components', with the differences declared
    /// in a README. Exit code 1 on an undeclared difference or a declared
    /// one that no longer differs.
    Differential(differential::DifferentialArgs),
}

/// See [`emulator_core::Allocator`] for why.
#[global_allocator]
static ALLOCATOR: emulator_core::Allocator = emulator_core::ALLOCATOR;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // kube_client logs each failed request that it also returns
                // as an error: the harness reports those itself, once, and a
                // readiness poll or a stack shutting down is not alarming.
                .unwrap_or_else(|_| "warn,kube_client=off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            // The whole chain of causes, through the run's redaction.
            eprintln!(
                "error: {}",
                opssight_harness::secret_data::redact::text(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Test(args) => test::run(args).await,
        Command::Drill(args) => drill::run(args).await,
        Command::Up(args) => up::run(args).await,
        Command::Check(args) => check::run(args).await,
        Command::Rotation(args) => rotation::run(args).await,
        Command::Down(args) => down::run(args).await,
        Command::Doctor => doctor::run().await,
        Command::KubeApi(args) => kube_api::run(args).await,
        Command::Differential(args) => differential::run(args),
    }
}
