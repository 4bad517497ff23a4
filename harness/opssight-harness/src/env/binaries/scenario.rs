//! One scenario's view of the shared binaries environment. Scenarios take
//! turns on one control plane, so each starts by putting it back: Secrets
//! Manager reachable with no faults and the runbook's IAM policy alone, the
//! ESO process running, new values, the overlay and `aws-secret` applied,
//! and a refresh forced.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use emulator_core::Clock;
use futures::future::BoxFuture;

use super::{Backend, ControlPlane};
use crate::env::environment::{Base, Environment, patience_override};
use crate::env::facets::{Audit, Iam, Outage, Regions, Snapshots};
use crate::env::secrets_manager::EmulatedSecretsManager;
use crate::fixtures::seed::Seed;

pub struct BinariesEnv {
    base: Base,
    plane: Arc<ControlPlane>,
}

impl BinariesEnv {
    pub async fn connect(plane: Arc<ControlPlane>) -> anyhow::Result<Self> {
        let base = Base {
            name: "binaries",
            profile: super::profile(plane.opts.secrets_manager),
            kube: plane.client.clone(),
            kubeconfig: plane.kubeconfig.clone(),
            workdir: crate::files::private_tempdir()?,
            fixtures: plane.fixtures().clone(),
            seed: Seed::load(&plane.opts.fixtures.seed_file())?,
            clock: Clock::system(),
            // Real processes on 2 cores, ESO's own requeues and backoffs.
            patience: patience_override().unwrap_or(Duration::from_secs(60)),
            live: true,
            secrets_manager: Arc::new(RwLock::new(plane.backend.admin())),
            controller_key: Some(plane.backend.controller_key()),
            labels: Vec::new(),
        };
        let env = Self { base, plane };
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
        crate::env::turns::start_turn(self).await
    }

    /// The aws-emulator behind the real ESO (moto has no facets).
    fn emulator(&self) -> Option<&EmulatedSecretsManager> {
        match &self.plane.backend {
            Backend::Emulator(sm) => Some(sm),
            Backend::Moto { .. } => None,
        }
    }
}

impl Environment for BinariesEnv {
    fn base(&self) -> &Base {
        &self.base
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

    fn controller_log(&self) -> BoxFuture<'_, Vec<String>> {
        let lines = self.plane.eso_log(50);
        Box::pin(async move { lines })
    }

    fn service_log(&self) -> BoxFuture<'_, Option<(String, Vec<String>)>> {
        let lines = self.plane.apiserver_log(30);
        Box::pin(async move { Some(("kube-apiserver".into(), lines)) })
    }

    fn iam(&self) -> Option<&dyn Iam> {
        self.emulator().map(|e| e as &dyn Iam)
    }
    fn audit(&self) -> Option<&dyn Audit> {
        self.emulator().map(|e| e as &dyn Audit)
    }
    fn outage(&self) -> Option<&dyn Outage> {
        self.emulator().map(|e| e as &dyn Outage)
    }
    fn snapshots(&self) -> Option<&dyn Snapshots> {
        self.emulator().map(|e| e as &dyn Snapshots)
    }
    fn regions(&self) -> Option<&dyn Regions> {
        self.emulator().map(|e| e as &dyn Regions)
    }
}
