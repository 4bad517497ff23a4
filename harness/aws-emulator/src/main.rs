//! Serves the emulator standalone and prints what a client needs to reach it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use aws_emulator::{AuthMode, AwsEmulator, PolicyDocument};
use clap::Parser;

/// An AWS Secrets Manager and STS emulator on 127.0.0.1.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long, default_value = aws_emulator::DEFAULT_ACCOUNT_ID)]
    account_id: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Accept any request unsigned or signed with any key, like LocalStack.
    #[arg(long)]
    accept_any: bool,
    /// Create an IAM user with an access key, and print the key.
    #[arg(long, default_value = "emulator-admin")]
    user: String,
    /// Identity policy for that user (IAM JSON). Default: allow everything.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Replace this placeholder in the policy by the account id.
    #[arg(long, default_value = "ACCOUNT_ID")]
    policy_placeholder: String,
    /// Load this snapshot at start.
    #[arg(long)]
    restore: Option<PathBuf>,
    /// Write the endpoint and credentials as shell exports to this file too.
    #[arg(long)]
    env_file: Option<PathBuf>,
}

/// See [`emulator_core::Allocator`] for why.
#[global_allocator]
static ALLOCATOR: emulator_core::Allocator = emulator_core::ALLOCATOR;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    emulator_core::logging::log_to_stderr()?;
    let args = Args::parse();
    let auth = if args.accept_any {
        AuthMode::AcceptAny
    } else {
        AuthMode::Enforce
    };
    let emulator = AwsEmulator::builder()
        .account_id(&args.account_id)
        .default_region(&args.region)
        .auth(auth)
        .start_on(args.listen)
        .await?;
    if let Some(path) = &args.restore {
        emulator.restore_from(path)?;
    }
    let policy = match &args.policy {
        Some(path) => PolicyDocument::from_file(path)?
            .with_placeholder(&args.policy_placeholder, &args.account_id),
        None => PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )?,
    };
    let key = emulator.with_iam(|iam| -> anyhow::Result<_> {
        iam.create_user(&args.user)?;
        iam.put_user_policy(&args.user, "cli", policy)?;
        Ok(iam.create_access_key(&args.user)?)
    })?;
    let exports = format!(
        "export AWS_ENDPOINT_URL={endpoint}\nexport AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\nexport AWS_DEFAULT_REGION={}\nexport AWS_REGION={}\nexport {}={}\n",
        key.access_key_id,
        key.secret_access_key,
        args.region,
        args.region,
        aws_emulator::ADMIN_TOKEN_ENV,
        emulator.admin_token(),
        endpoint = emulator.endpoint()
    );
    if let Some(path) = &args.env_file {
        std::fs::write(path, &exports).with_context(|| format!("writing {}", path.display()))?;
    }
    // The credentials (and the admin token of /_emulator/) are the
    // emulator's own, made for this run; printing them is how a user gets them.
    print!("{exports}");
    eprintln!(
        "aws-emulator listening on {} (Ctrl-C to stop)",
        emulator.endpoint()
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    emulator.shutdown().await;
    Ok(())
}
