//! `up`: serve the embedded stack, or the real components, until a signal,
//! printing what to export to run the runbook's commands against it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::env_args::{BinariesArgs, LocalEnv};
use crate::env::Environment as _;
use crate::env::binaries::{self, Backend, BinariesOptions};
use crate::env::embedded::Embedded;
use crate::fixtures::Fixtures;
use crate::say;

#[derive(clap::Args, Debug, Clone)]
pub struct UpArgs {
    #[arg(long, value_enum, default_value = "embedded")]
    env: LocalEnv,
    #[command(flatten)]
    binaries: BinariesArgs,
}

pub async fn run(args: UpArgs) -> anyhow::Result<ExitCode> {
    // For kind, `test --env kind --keep` leaves a cluster to use.
    match args.env {
        LocalEnv::Embedded => up_embedded().await,
        LocalEnv::Binaries => up_binaries(args.binaries.options()?).await,
    }
}

async fn up_embedded() -> anyhow::Result<ExitCode> {
    // Caught from before anything starts.
    let signal = crate::interrupt::listen();
    eprintln!("starting the embedded environment (aws-emulator, kube-emulator, eso-emulator)...");
    let fixtures = Fixtures::locate()?;
    let env = Embedded::start(fixtures).await?;
    let key = env.admin_key();
    // These are the emulator's own credentials, made for this run. The
    // admin paths (/_emulator/) of the aws-emulator answer only its token.
    print_exports(
        env.kubeconfig(),
        &env.sm.aws.endpoint(),
        &key.access_key_id,
        &env.seed().region,
        &[
            ("AWS_SECRET_ACCESS_KEY", &key.secret_access_key),
            (aws_emulator::ADMIN_TOKEN_ENV, env.sm.aws.admin_token()),
        ],
    )?;
    eprintln!(
        "ready: run the runbook's kubectl and aws commands in a shell that sourced the lines above. Ctrl-C stops everything."
    );
    // SIGTERM and SIGHUP stop it as Ctrl-C does: returning drops the
    // environment, whose directory (the kubeconfig, with its token) goes.
    let (name, _) = signal.await;
    eprintln!("{name}: stopping");
    env.stop_eso().await;
    drop(env);
    Ok(ExitCode::SUCCESS)
}

/// `up --env binaries`: the real components until a signal.
async fn up_binaries(opts: BinariesOptions) -> anyhow::Result<ExitCode> {
    binaries::with_control_plane(opts, |plane| async move {
        // The harness's own credentials, made for this run (moto's are fixed).
        let (id, secret) = match &plane.backend {
            Backend::Emulator(sm) => (
                sm.admin_key.access_key_id.clone(),
                sm.admin_key.secret_access_key.clone(),
            ),
            Backend::Moto { .. } => (
                binaries::MOTO_KEY.0.to_owned(),
                binaries::MOTO_KEY.1.to_owned(),
            ),
        };
        let mut secrets = vec![("AWS_SECRET_ACCESS_KEY", secret.as_str())];
        // The admin paths (/_emulator/) of the aws-emulator answer only this
        // token; moto has none.
        if let Backend::Emulator(sm) = &plane.backend {
            secrets.push((aws_emulator::ADMIN_TOKEN_ENV, sm.aws.admin_token()));
        }
        print_exports(
            &plane.kubeconfig,
            &plane.backend.endpoint(),
            &id,
            &plane.region,
            &secrets,
        )?;
        eprintln!(
            "ready: {}; kube-apiserver {} at {}. Ctrl-C stops everything.",
            plane.components.summary(),
            plane.apiserver_version,
            plane.server
        );
        // with_control_plane's handler stops everything on SIGINT, SIGTERM
        // and SIGHUP and exits; until then, serve.
        std::future::pending::<()>().await;
        Ok(ExitCode::SUCCESS)
    })
    .await
}

/// What to export, printed for a shell to source: the endpoints, the key id
/// and the region as `export` lines; the secret ones (`secrets`: the secret
/// key, the aws-emulator's admin token) in `credentials.env` beside the
/// kubeconfig (0600 in its 0700 directory, removed when `up` stops), which
/// the last line sources. Sourcing the output sets all of them, and no
/// terminal, log or captured output shows a credential. The last line is
/// also how a reader knows the exports are complete.
fn print_exports(
    kubeconfig: &Path,
    endpoint: &str,
    key_id: &str,
    region: &str,
    secrets: &[(&str, &str)],
) -> anyhow::Result<()> {
    let dir = kubeconfig
        .parent()
        .context("the kubeconfig has no directory to keep the credentials in")?;
    let credentials = dir.join("credentials.env");
    let text: String = secrets
        .iter()
        .map(|(name, value)| format!("export {name}={value}\n"))
        .collect();
    crate::files::write_private(&credentials, text)
        .with_context(|| format!("writing {}", credentials.display()))?;
    say!("export KUBECONFIG={}", kubeconfig.display());
    say!("export AWS_ENDPOINT_URL={endpoint}");
    say!("export AWS_ACCESS_KEY_ID={key_id}");
    say!("export AWS_DEFAULT_REGION={region}");
    say!(". {}", credentials.display());
    Ok(())
}
