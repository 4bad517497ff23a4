//! Serves the API server standalone and writes a kubeconfig for it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use emulator_core::standalone;
use kube_emulator::KubeEmulator;

/// A Kubernetes API server emulator on 127.0.0.1, for kubectl and kube-rs.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where to write the kubeconfig (it holds the bearer token): a new
    /// file, 0600, removed when the emulator stops. Without it, `kubeconfig`
    /// in a private directory (0700) of this run, removed with it.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Create this namespace at start and make it the context's default.
    #[arg(long)]
    namespace: Option<String>,
    /// The `iss` of ServiceAccount tokens.
    #[arg(long, default_value = kube_emulator::DEFAULT_ISSUER)]
    issuer: String,
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
    // The kubeconfig holds the bearer token: it is written new, and a file
    // already at that path is the user's, not overwritten (exit 2 before
    // anything starts).
    if let Some(path) = &args.kubeconfig
        && path.symlink_metadata().is_ok()
    {
        eprintln!(
            "error: --kubeconfig {}: the file exists; the emulator writes a new one (it holds a token) and never overwrites a file",
            path.display()
        );
        return ExitCode::from(2);
    }
    match serve(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: &Args) -> anyhow::Result<()> {
    let emulator = KubeEmulator::builder()
        .issuer(&args.issuer)
        .start_on(args.listen)
        .await?;
    // Listening before saying it is up: a signal sent on reading the export
    // line stops it the orderly way, removing the kubeconfig.
    let stop = standalone::stop_signal().context("listening for SIGINT, SIGTERM and SIGHUP")?;
    // Not in the current directory by default: a run killed with SIGKILL
    // would leave a token there, and the next start would refuse the file.
    let (kubeconfig, _dir) = match &args.kubeconfig {
        Some(path) => (path.clone(), None),
        None => {
            let dir = standalone::private_dir("kube-emulator")?;
            (dir.path().join("kubeconfig"), Some(dir))
        }
    };
    standalone::write_new_private(
        &kubeconfig,
        emulator.kubeconfig(args.namespace.as_deref()).as_bytes(),
    )?;
    let _remove = standalone::RemoveOnDrop(kubeconfig.clone());
    if let Some(ns) = &args.namespace {
        let body =
            format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#);
        create_namespace(&emulator, &body)
            .await
            .with_context(|| format!("creating namespace {ns}"))?;
    }
    println!(
        "export KUBECONFIG={}",
        kubeconfig
            .canonicalize()
            .unwrap_or(kubeconfig.clone())
            .display()
    );
    eprintln!("kube-emulator serving {} (Ctrl-C to stop)", emulator.url());
    let signal = stop.await;
    tracing::info!(?signal, "stopping");
    emulator.shutdown().await;
    Ok(())
}

async fn create_namespace(emulator: &KubeEmulator, body: &str) -> anyhow::Result<()> {
    // `default` and the other system namespaces exist from the start.
    match emulator.create_json("/api/v1/namespaces", body) {
        Err(e) if e.reason == kube_emulator::error::Reason::AlreadyExists => Ok(()),
        other => other.map_err(|e| anyhow::anyhow!("{e}")),
    }
}
