//! Create 10,000 Secrets through kube-rs while a watch observes them all;
//! report objects per second and the process's peak memory (server and
//! client together, as both run in this process).
//!
//! `cargo run --release -p kube-emulator --example bench_secrets -- [--check]`
//! With `--check` it fails unless >= 5,000 objects/s and < 200 MiB.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_emulator::KubeEmulator;

const OBJECTS: usize = 10_000;
const IN_FLIGHT: usize = 32;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let check = std::env::args().any(|a| a == "--check");
    let emulator = KubeEmulator::builder()
        .watch_log(2 * OBJECTS)
        .start()
        .await?;
    let kubeconfig = Kubeconfig::from_yaml(&emulator.kubeconfig(None))?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?,
    )?;
    let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": "bench"}}))?;
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await?;
    let api: Api<Secret> = Api::namespaced(client.clone(), "bench");
    let start_rv = Api::<Secret>::namespaced(client.clone(), "bench")
        .list(&Default::default())
        .await?
        .metadata
        .resource_version
        .unwrap_or_default();

    let watcher = {
        let api = api.clone();
        tokio::spawn(async move {
            let mut seen = 0usize;
            let mut rv = start_rv;
            while seen < OBJECTS {
                let mut events = api
                    .watch(&WatchParams::default().timeout(290), &rv)
                    .await?
                    .boxed();
                while let Some(e) = events.try_next().await? {
                    if let WatchEvent::Added(s) = e {
                        rv = s.metadata.resource_version.unwrap_or(rv);
                        seen += 1;
                        if seen == OBJECTS {
                            break;
                        }
                    }
                }
            }
            anyhow::Ok(seen)
        })
    };

    let started = Instant::now();
    stream::iter(0..OBJECTS)
        .map(|i| {
            let api = api.clone();
            async move {
                let s: Secret = serde_json::from_value(serde_json::json!({
                    "metadata": {"name": format!("s-{i:05}"), "labels": {"bench": "yes"}},
                    "stringData": {"password": format!("value-{i}")},
                }))?;
                api.create(&PostParams::default(), &s).await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    let created = started.elapsed();
    let seen = tokio::time::timeout(Duration::from_secs(120), watcher)
        .await??
        .map_err(|e| anyhow::anyhow!("watch: {e}"))?;
    let observed = started.elapsed();
    let rate = OBJECTS as f64 / observed.as_secs_f64();
    let peak = peak_rss_mib();
    println!("created {OBJECTS} Secrets in {created:.2?}; the watch saw {seen} by {observed:.2?}");
    println!("objects/s (created and observed): {rate:.0} (target >= 5000)");
    match peak {
        Some(p) => {
            println!("peak memory (VmHWM, server and client): {p:.1} MiB (target < 200 MiB)")
        }
        None => println!("peak memory: /proc/self/status unavailable"),
    }
    if check {
        anyhow::ensure!(rate >= 5000.0, "target missed: {rate:.0} objects/s");
        anyhow::ensure!(
            peak.is_some_and(|p| p < 200.0),
            "target missed: peak memory {peak:?} MiB"
        );
    }
    Ok(())
}
