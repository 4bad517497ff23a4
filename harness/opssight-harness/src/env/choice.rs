//! Which environment a run uses, and starting one for a scenario.

use std::sync::Arc;

use anyhow::Context as _;

use super::binaries::{self, ControlPlane};
use super::capability::{Capabilities, Profile};
use super::embedded::{self, Embedded};
use super::environment::{Environment, facets_of};
use super::existing::{self, Existing};
use super::kind::{self, KindCluster};
use crate::fixtures::Fixtures;

/// Which environment a run uses.
#[derive(Clone, Default)]
pub enum EnvChoice {
    #[default]
    Embedded,
    /// The current kubeconfig context and the AWS SDK's default credentials.
    Existing { allow_destructive: bool },
    /// A kind environment already brought up, shared by the run's scenarios.
    Kind(Arc<KindCluster>),
    /// The real ESO and control plane as local processes, shared likewise.
    Binaries(Arc<ControlPlane>),
}

impl std::fmt::Debug for EnvChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl EnvChoice {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Existing { .. } => "existing",
            Self::Kind(_) => "kind",
            Self::Binaries(_) => "binaries",
        }
    }

    /// What the environment is, before one is started.
    pub fn profile(&self) -> Profile {
        match self {
            Self::Embedded => embedded::profile(),
            Self::Existing { .. } => existing::profile(),
            Self::Kind(_) => kind::profile(),
            Self::Binaries(plane) => binaries::profile(plane.opts.secrets_manager),
        }
    }

    pub fn capabilities(&self) -> Capabilities {
        Capabilities::derive(&self.profile())
    }

    /// Starts (or, on a shared system, prepares) the environment of one
    /// scenario, and checks that it has the facets its profile promised
    /// the capability gate.
    pub async fn start(&self, fixtures: Fixtures) -> anyhow::Result<Arc<dyn Environment>> {
        let env: Arc<dyn Environment> = match self {
            Self::Embedded => Arc::new(
                Embedded::start(fixtures)
                    .await
                    .context("starting the embedded environment")?,
            ),
            Self::Existing { .. } => Arc::new(
                Existing::connect(fixtures)
                    .await
                    .context("connecting to the existing environment")?,
            ),
            Self::Kind(cluster) => Arc::new(
                kind::scenario::KindEnv::connect(cluster.clone())
                    .await
                    .context("preparing the kind environment for the scenario")?,
            ),
            Self::Binaries(plane) => Arc::new(
                binaries::scenario::BinariesEnv::connect(plane.clone())
                    .await
                    .context("preparing the binaries environment for the scenario")?,
            ),
        };
        let profile = self.profile();
        let has = facets_of(env.as_ref());
        for facet in super::facets::Facet::ALL {
            anyhow::ensure!(
                has.contains(&facet) == profile.has(facet),
                "the {} environment {} {} but its profile says it {} (the capability gate relied on the profile)",
                env.name(),
                if has.contains(&facet) { "has" } else { "lacks" },
                facet.what(),
                if profile.has(facet) {
                    "has it"
                } else {
                    "lacks it"
                },
            );
        }
        Ok(env)
    }

    /// What the environment runs, for the run's header and the JUnit and
    /// JSON reports: its name, and on binaries the real components'
    /// versions (and why ESO's is not the chart's).
    pub fn properties(&self) -> Vec<(String, String)> {
        let mut p = vec![("environment".to_owned(), self.name().to_owned())];
        if let Self::Binaries(plane) = self {
            let c = &plane.components;
            p.extend([
                ("eso.version".to_owned(), c.eso.version.clone()),
                ("eso.helm-chart-pins".to_owned(), "v2.9.0".to_owned()),
                ("eso.version-note".to_owned(), c.eso.note.clone()),
                (
                    "kube-apiserver.version".to_owned(),
                    plane.apiserver_version.clone(),
                ),
                (
                    "kube-controller-manager.version".to_owned(),
                    c.kube_controller_manager.version.clone(),
                ),
                ("etcd.version".to_owned(), c.etcd.version.clone()),
                (
                    "secrets-manager".to_owned(),
                    plane.opts.secrets_manager.name().to_owned(),
                ),
            ]);
        }
        p
    }

    /// Several scenarios at once only where each has a stack of its own.
    pub fn concurrency(&self, asked: usize) -> usize {
        match self {
            Self::Embedded => asked.max(1),
            _ => 1,
        }
    }

    /// Whether the run itself brought the system up (kind, binaries), so
    /// that it may still be settling when the first scenario starts.
    pub fn brought_up_by_harness(&self) -> bool {
        matches!(self, Self::Kind(_) | Self::Binaries(_))
    }

    /// A client of a system that outlives the run (or is shared by its
    /// scenarios), for the health checks before and after it; `None` for
    /// embedded, where each scenario has a stack of its own.
    pub async fn live_client(&self) -> Option<anyhow::Result<kube::Client>> {
        Some(match self {
            Self::Embedded => return None,
            Self::Existing { .. } => kube::Client::try_default()
                .await
                .context("connecting to the current kubeconfig context"),
            Self::Kind(cluster) => super::cluster::client_for(&cluster.kubeconfig).await,
            Self::Binaries(plane) => super::cluster::client_for(&plane.kubeconfig).await,
        })
    }

    /// Only `@read-only` scenarios may run.
    pub fn read_only(&self) -> bool {
        matches!(
            self,
            Self::Existing {
                allow_destructive: false
            }
        )
    }
}
