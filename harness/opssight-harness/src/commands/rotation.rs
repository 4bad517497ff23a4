//! `rotation`: secrets' age against the runbook's rotation policy, with
//! DescribeSecret only.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use crate::checks::rotation;
use crate::env::Environment as _;
use crate::env::embedded::Embedded;
use crate::fixtures::Fixtures;
use crate::fixtures::rotation::load_policies;
use crate::fixtures::seed::Seed;
use crate::say_raw;

/// Where `rotation` reads Secrets Manager.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum RotationEnv {
    /// A fresh embedded stack.
    Embedded,
    /// Secrets Manager reached with the AWS SDK's default credentials and
    /// region (and --endpoint).
    Existing,
}

#[derive(clap::Args, Debug, Clone)]
pub struct RotationArgs {
    #[arg(long, value_enum, default_value = "existing")]
    env: RotationEnv,
    /// Secrets Manager endpoint (LocalStack, an emulator); AWS by default.
    #[arg(long)]
    endpoint: Option<String>,
    /// Write the report as JSON here too.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub async fn run(args: RotationArgs) -> anyhow::Result<ExitCode> {
    let fixtures = Fixtures::locate()?;
    let policies = load_policies(&fixtures.rotation_policy())?;
    let seed = Seed::load(&fixtures.seed_file())?;
    let keys = seed
        .secrets
        .iter()
        .map(|(n, kv)| (n.clone(), kv.keys().cloned().collect()))
        .collect();
    let embedded;
    let (sm, now) = match args.env {
        RotationEnv::Embedded => {
            embedded = Embedded::start(fixtures).await?;
            (embedded.secrets_manager(), embedded.clock().now())
        }
        RotationEnv::Existing => {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(e) = &args.endpoint {
                loader = loader.endpoint_url(e);
            }
            (
                aws_sdk_secretsmanager::Client::new(&loader.load().await),
                jiff::Timestamp::now(),
            )
        }
    };
    let rows = rotation::report(&sm, &keys, &policies, now).await?;
    say_raw!("{}", rotation::render(&rows));
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_vec_pretty(&rows)?)?;
    }
    Ok(if rows.iter().any(|r| r.overdue) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
