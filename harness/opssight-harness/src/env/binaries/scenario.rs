//! One scenario's view of the shared binaries environment. Scenarios take
//! turns on one control plane, so each starts by putting it back: Secrets
//! Manager reachable with no faults and the runbook's IAM policy alone, the
//! ESO process running, new values, the overlay and `aws-secret` applied,
//! and a refresh forced.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_emulator::AccessKey;
use emulator_core::Clock;
use futures::future::BoxFuture;

use super::{Backend, ControlPlane, OVERLAY};
use crate::env::{Capabilities, Emulated, Environment};
use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;

/// `aws-secret` with this key, replacing what is there.
async fn put_aws_secret(client: &kube::Client, key: &AccessKey) -> anyhow::Result<()> {
    crate::env::apply::put_aws_secret(client, &key.access_key_id, &key.secret_access_key, &[]).await
}

/// Applies a fixture overlay, `aws-secret` (the controller's key) before
/// the store when it is missing.
pub async fn apply(plane: &ControlPlane, overlay: &str) -> anyhow::Result<()> {
    crate::env::apply::apply_overlay(&plane.client, plane.fixtures(), overlay, &[], || async {
        if !crate::env::apply::secret_exists(&plane.client, "aws-secret").await? {
            put_aws_secret(&plane.client, &plane.backend.controller_key()).await?;
        }
        Ok(())
    })
    .await
}

pub struct BinariesEnv {
    plane: Arc<ControlPlane>,
    seed: Seed,
    capabilities: Capabilities,
    dir: crate::files::PrivateDir,
}

impl BinariesEnv {
    pub async fn connect(plane: Arc<ControlPlane>) -> anyhow::Result<Self> {
        let env = Self {
            seed: Seed::load(&plane.opts.fixtures.seed_file())?,
            capabilities: super::capabilities(plane.opts.secrets_manager),
            dir: crate::files::private_tempdir()?,
            plane,
        };
        env.reset().await?;
        Ok(env)
    }

    pub fn plane(&self) -> &ControlPlane {
        &self.plane
    }

    async fn reset(&self) -> anyhow::Result<()> {
        let p = &self.plane;
        if let Backend::Emulator(sm) = &p.backend {
            sm.reset(p.fixtures())?;
        }
        if !p.eso_running() {
            p.start_eso().await?;
        }
        let key = p.backend.controller_key();
        crate::env::turns::start_turn(crate::env::turns::Turn {
            client: &p.client,
            fixtures: p.fixtures(),
            overlay: OVERLAY,
            secrets_manager: &p.backend.admin(),
            seed: &self.seed,
            patience: self.patience(),
            apply: || apply(p, OVERLAY),
            put_credentials: || put_aws_secret(&p.client, &key),
        })
        .await
    }
}

impl Environment for BinariesEnv {
    fn live(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "binaries"
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    fn kube(&self) -> kube::Client {
        self.plane.client.clone()
    }

    fn kubeconfig(&self) -> &Path {
        &self.plane.kubeconfig
    }

    fn workdir(&self) -> &Path {
        self.dir.path()
    }

    fn fixtures(&self) -> &Fixtures {
        self.plane.fixtures()
    }

    fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        self.plane.backend.admin()
    }

    fn seed(&self) -> &Seed {
        &self.seed
    }

    fn clock(&self) -> Clock {
        Clock::system()
    }

    /// Real processes on 2 cores, ESO's own requeues and backoffs.
    fn patience(&self) -> Duration {
        crate::world::wait_override().unwrap_or(Duration::from_secs(60))
    }

    fn elapse(&self, d: Duration) -> BoxFuture<'_, anyhow::Result<()>> {
        crate::env::wait_for_real(d)
    }

    fn apply_overlay<'a>(&'a self, overlay: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        // The binaries overlay is the local one with a shorter refresh interval.
        let overlay = if overlay == "local" { OVERLAY } else { overlay };
        Box::pin(apply(&self.plane, overlay))
    }

    fn restore_credentials(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            put_aws_secret(&self.plane.client, &self.plane.backend.controller_key()).await
        })
    }

    fn put_credentials<'a>(&'a self, key: &'a AccessKey) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(put_aws_secret(&self.plane.client, key))
    }

    fn stop_controller(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.plane.stop_eso())
    }

    fn start_controller(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.plane.start_eso())
    }

    fn controller_running(&self) -> bool {
        self.plane.eso_running()
    }

    /// The aws-emulator refuses connections: ESO's calls fail at once, as
    /// they do when an endpoint is unreachable.
    fn set_secrets_manager_reachable(&self, reachable: bool) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            match &self.plane.backend {
                Backend::Emulator(sm) if reachable => sm.aws.resume_listening(),
                Backend::Emulator(sm) => sm.aws.stop_listening(),
                Backend::Moto { .. } => {
                    anyhow::bail!(
                        "moto cannot be made unreachable (the scenario should have been skipped)"
                    )
                }
            }
            Ok(())
        })
    }

    fn controller_log(&self) -> BoxFuture<'_, Vec<String>> {
        let lines = self.plane.eso_log(50);
        Box::pin(async move { lines })
    }

    fn service_log(&self) -> BoxFuture<'_, Option<(String, Vec<String>)>> {
        let lines = self.plane.apiserver_log(30);
        Box::pin(async move { Some(("kube-apiserver".into(), lines)) })
    }

    fn emulated(&self) -> Option<Emulated<'_>> {
        match &self.plane.backend {
            Backend::Emulator(sm) => Some(Emulated {
                aws: &sm.aws,
                eso_key: &sm.eso_key,
                fixtures: self.plane.fixtures(),
            }),
            Backend::Moto { .. } => None,
        }
    }
}
