//! Serves the API server standalone and writes a kubeconfig for it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use kube_emulator::KubeEmulator;

/// A Kubernetes API server emulator on 127.0.0.1, for kubectl and kube-rs.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where to write the kubeconfig (it holds the bearer token).
    #[arg(long, default_value = "kube-emulator.kubeconfig")]
    kubeconfig: PathBuf,
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
async fn main() -> anyhow::Result<()> {
    emulator_core::logging::log_to_stderr()?;
    let args = Args::parse();
    let emulator = KubeEmulator::builder()
        .issuer(&args.issuer)
        .start_on(args.listen)
        .await?;
    emulator
        .write_kubeconfig(&args.kubeconfig, args.namespace.as_deref())
        .with_context(|| format!("writing {}", args.kubeconfig.display()))?;
    if let Some(ns) = &args.namespace {
        let body =
            format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{ns}"}}}}"#);
        create_namespace(&emulator, &body)
            .await
            .with_context(|| format!("creating namespace {ns}"))?;
    }
    println!(
        "export KUBECONFIG={}",
        args.kubeconfig
            .canonicalize()
            .unwrap_or(args.kubeconfig.clone())
            .display()
    );
    eprintln!("kube-emulator serving {} (Ctrl-C to stop)", emulator.url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    let _ = std::fs::remove_file(&args.kubeconfig);
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
