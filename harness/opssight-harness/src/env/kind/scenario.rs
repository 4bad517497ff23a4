//! One scenario's view of the shared kind environment. Scenarios take turns
//! on one cluster, so each starts by putting it back: LocalStack started,
//! the controller up, new values in Secrets Manager, the overlay and
//! `aws-secret` applied, and a refresh forced.

use std::sync::Arc;
use std::time::Duration;

use emulator_core::Clock;
use futures::future::BoxFuture;

use super::{KindCluster, RUN_LABEL, localstack_key};
use crate::env::environment::{Base, Environment};
use crate::env::facets::Outage;
use crate::fixtures::seed::Seed;

/// How long the controller may take to come back after scaling up.
const CONTROLLER_START: Duration = Duration::from_secs(180);

pub struct KindEnv {
    base: Base,
    cluster: Arc<KindCluster>,
}

impl KindEnv {
    pub async fn connect(cluster: Arc<KindCluster>) -> anyhow::Result<Self> {
        let base = Base {
            name: "kind",
            profile: super::profile(),
            kube: cluster.client.clone(),
            kubeconfig: cluster.kubeconfig.clone(),
            workdir: crate::files::private_tempdir()?,
            fixtures: cluster.opts.fixtures.clone(),
            seed: Seed::load(&cluster.opts.fixtures.seed_file())?,
            clock: Clock::system(),
            // Pods start, images are pulled, ESO retries: minutes, not seconds.
            patience: Duration::from_secs(180),
            live: true,
            secrets_manager: cluster.sm.clone(),
            controller_key: Some(localstack_key()),
            labels: vec![(RUN_LABEL.to_owned(), cluster.opts.run_id.clone())],
        };
        let env = Self { base, cluster };
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
        crate::env::turns::start_turn(self).await
    }
}

async fn docker(args: &[&str]) -> anyhow::Result<String> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    Ok(super::commands::run("docker", &args, Duration::from_secs(60)).await?)
}

impl Environment for KindEnv {
    fn base(&self) -> &Base {
        &self.base
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

    /// LocalStack's container stopped and started (`KindCluster::stop_localstack`).
    fn outage(&self) -> Option<&dyn Outage> {
        Some(self.cluster.as_ref())
    }
}
