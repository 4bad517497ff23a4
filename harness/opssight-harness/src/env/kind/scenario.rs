//! One scenario's view of the shared kind environment. Scenarios take turns
//! on one cluster, so each starts by putting it back: LocalStack started,
//! the controller up, new values in Secrets Manager, the overlay and
//! `aws-secret` applied, and a refresh forced.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use emulator_core::Clock;
use futures::future::BoxFuture;

use super::{KindCluster, LOCALSTACK_KEY, OVERLAY, RUN_LABEL};
use crate::env::{Capabilities, Environment};
use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;

/// How long the controller may take to come back after scaling up.
const CONTROLLER_START: Duration = Duration::from_secs(180);

async fn put_aws_secret(client: &kube::Client, run_id: &str) -> anyhow::Result<()> {
    crate::env::apply::put_aws_secret(
        client,
        LOCALSTACK_KEY.0,
        LOCALSTACK_KEY.1,
        &[(RUN_LABEL, run_id)],
    )
    .await
}

/// Applies a fixture overlay with the run's label on every object,
/// `aws-secret` (LocalStack's credentials) before the store.
pub async fn apply(cluster: &KindCluster, overlay: &str) -> anyhow::Result<()> {
    let labels = [(RUN_LABEL, cluster.opts.run_id.as_str())];
    crate::env::apply::apply_overlay(
        &cluster.client,
        &cluster.opts.fixtures,
        overlay,
        &labels,
        || async {
            if !crate::env::apply::secret_exists(&cluster.client, "aws-secret").await? {
                put_aws_secret(&cluster.client, &cluster.opts.run_id).await?;
            }
            Ok(())
        },
    )
    .await
}

pub struct KindEnv {
    cluster: Arc<KindCluster>,
    seed: Seed,
    capabilities: Capabilities,
    dir: crate::files::PrivateDir,
}

impl KindEnv {
    pub async fn connect(cluster: Arc<KindCluster>) -> anyhow::Result<Self> {
        let env = Self {
            seed: Seed::load(&cluster.opts.fixtures.seed_file())?,
            capabilities: super::capabilities(),
            dir: crate::files::private_tempdir()?,
            cluster,
        };
        env.reset().await?;
        Ok(env)
    }

    async fn reset(&self) -> anyhow::Result<()> {
        let c = &self.cluster;
        if c.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            c.start_localstack().await?;
        }
        if c.controller_stopped
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            crate::env::cluster::scale_controller(&c.client, 1, CONTROLLER_START).await?;
        }
        let sm = c.sm();
        crate::env::turns::start_turn(crate::env::turns::Turn {
            client: &c.client,
            fixtures: &c.opts.fixtures,
            overlay: OVERLAY,
            secrets_manager: &sm,
            seed: &self.seed,
            patience: self.patience(),
            apply: || apply(c, OVERLAY),
            put_credentials: || put_aws_secret(&c.client, &c.opts.run_id),
        })
        .await
    }
}

async fn docker(args: &[&str]) -> anyhow::Result<String> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    Ok(super::commands::run("docker", &args, Duration::from_secs(60)).await?)
}

impl Environment for KindEnv {
    fn live(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "kind"
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    fn kube(&self) -> kube::Client {
        self.cluster.client.clone()
    }

    fn kubeconfig(&self) -> &Path {
        &self.cluster.kubeconfig
    }

    fn workdir(&self) -> &Path {
        self.dir.path()
    }

    fn fixtures(&self) -> &Fixtures {
        self.cluster.fixtures()
    }

    fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        self.cluster.sm()
    }

    fn seed(&self) -> &Seed {
        &self.seed
    }

    fn clock(&self) -> Clock {
        Clock::system()
    }

    /// Pods start, images are pulled, ESO retries: minutes, not seconds.
    fn patience(&self) -> Duration {
        Duration::from_secs(180)
    }

    fn elapse(&self, d: Duration) -> BoxFuture<'_, anyhow::Result<()>> {
        crate::env::wait_for_real(d)
    }

    fn apply_overlay<'a>(&'a self, overlay: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        // The kind overlay is the local one with a shorter refresh interval.
        let overlay = if overlay == "local" { OVERLAY } else { overlay };
        Box::pin(apply(&self.cluster, overlay))
    }

    fn restore_credentials(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(put_aws_secret(
            &self.cluster.client,
            &self.cluster.opts.run_id,
        ))
    }

    fn stop_controller(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            crate::env::cluster::scale_controller(&self.cluster.client, 0, CONTROLLER_START)
                .await?;
            self.cluster
                .controller_stopped
                .store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
    }

    fn start_controller(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            crate::env::cluster::scale_controller(&self.cluster.client, 1, CONTROLLER_START)
                .await?;
            self.cluster
                .controller_stopped
                .store(false, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
    }

    fn controller_running(&self) -> bool {
        !self
            .cluster
            .controller_stopped
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// LocalStack's container stopped and started (`KindCluster::stop_localstack`).
    fn set_secrets_manager_reachable(&self, reachable: bool) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            if reachable {
                self.cluster.start_localstack().await
            } else {
                self.cluster.stop_localstack().await
            }
        })
    }

    fn controller_log(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(crate::env::cluster::controller_log(&self.cluster.client))
    }

    fn service_log(&self) -> BoxFuture<'_, Option<(String, Vec<String>)>> {
        Box::pin(async move {
            let name = &self.cluster.localstack.name;
            let lines = match docker(&["logs", "--tail", "50", name]).await {
                Ok(text) => text.lines().map(str::to_owned).collect(),
                Err(e) => vec![format!("({e})")],
            };
            Some(("LocalStack".into(), lines))
        })
    }
}
