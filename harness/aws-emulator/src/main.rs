//! Serves the emulator standalone and prints what a client needs to reach
//! it: the endpoint, region and access key id as `export` lines, then a
//! line that sources the 0600 file holding the secret key and admin token.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use aws_emulator::{AuthMode, AwsEmulator, PolicyDocument, Snapshot};
use clap::Parser;
use emulator_core::standalone;

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
    /// Create an IAM user with an access key (its id is printed, its
    /// secret key written to the credentials file).
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
    /// Write the endpoint and credentials as shell exports to this new file
    /// (0600; refused if it exists; removed when the emulator stops)
    /// instead of a credentials file in a private directory of the run.
    #[arg(long)]
    env_file: Option<PathBuf>,
}

/// See [`emulator_core::Allocator`] for why.
#[global_allocator]
static ALLOCATOR: emulator_core::Allocator = emulator_core::ALLOCATOR;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(e) = emulator_core::logging::log_to_stderr() {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    let args = Args::parse();
    // Everything the user handed in is read before anything starts: a bad
    // file is exit 2 with nothing to clean up.
    let input = match Input::read(&args) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    match serve(&args, input).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// What the arguments name, read and checked.
struct Input {
    policy: PolicyDocument,
    snapshot: Option<Snapshot>,
}

impl Input {
    fn read(args: &Args) -> anyhow::Result<Self> {
        let policy = match &args.policy {
            Some(path) => PolicyDocument::from_file(path)?
                .with_placeholder(&args.policy_placeholder, &args.account_id),
            None => PolicyDocument::parse(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            )?,
        };
        let snapshot = args
            .restore
            .as_deref()
            .map(Snapshot::read_from)
            .transpose()?;
        if let Some(path) = &args.env_file {
            if path.symlink_metadata().is_ok() {
                anyhow::bail!(
                    "--env-file {}: the file exists; the emulator writes a new one (it holds credentials) and never overwrites a file",
                    path.display()
                );
            }
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => std::path::Path::new("."),
            };
            if !dir.is_dir() {
                anyhow::bail!(
                    "--env-file {}: no directory {} to write it in",
                    path.display(),
                    dir.display()
                );
            }
        }
        Ok(Self { policy, snapshot })
    }
}

async fn serve(args: &Args, input: Input) -> anyhow::Result<()> {
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
    if let Some(snapshot) = input.snapshot {
        emulator.restore(snapshot);
    }
    let key = emulator.with_iam(|iam| -> anyhow::Result<_> {
        iam.create_user(&args.user)?;
        iam.put_user_policy(&args.user, "cli", input.policy)?;
        Ok(iam.create_access_key(&args.user)?)
    })?;
    let public = format!(
        "export AWS_ENDPOINT_URL={}\nexport AWS_ACCESS_KEY_ID={}\nexport AWS_DEFAULT_REGION={}\nexport AWS_REGION={}\n",
        emulator.endpoint(),
        key.access_key_id,
        args.region,
        args.region,
    );
    let secret = format!(
        "export AWS_SECRET_ACCESS_KEY={}\nexport {}={}\n",
        key.secret_access_key,
        aws_emulator::ADMIN_TOKEN_ENV,
        emulator.admin_token(),
    );
    // The secret key and the admin token (which serves every secret) never
    // go to stdout: they are in a 0600 file, the one --env-file names or
    // one in a private directory of this run, removed when it stops.
    let (file, _dir) = match &args.env_file {
        Some(path) => (path.clone(), None),
        None => {
            let dir = standalone::private_dir("aws-emulator")?;
            (dir.path().join("credentials.env"), Some(dir))
        }
    };
    // Listening before saying it is up: a signal sent on reading the last
    // line stops it the orderly way.
    let stop = standalone::stop_signal().context("listening for SIGINT, SIGTERM and SIGHUP")?;
    standalone::write_new_private(&file, format!("{public}{secret}").as_bytes())?;
    let _remove = standalone::RemoveOnDrop(file.clone());
    // The last line sources the file: `eval "$(aws-emulator)"` sets all.
    println!("{public}. {}", file.display());
    std::io::stdout().flush().context("writing to stdout")?;
    eprintln!(
        "aws-emulator listening on {} (Ctrl-C to stop)",
        emulator.endpoint()
    );
    let signal = stop.await;
    tracing::info!(?signal, "stopping");
    emulator.shutdown().await;
    Ok(())
}
