//! What every environment gives a scenario: a small core (the kube client
//! and kubeconfig, the fixtures and seed, the clock and patience, the
//! overlay and the controller's credentials, the controller stopped and
//! started, its log) held mostly in one [`Base`], plus the optional facets
//! of `facets` that only some environments have.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_emulator::AccessKey;
use emulator_core::Clock;
use futures::future::BoxFuture;

use super::capability::Profile;
use super::facets::{Audit, Facet, Iam, Outage, Regions, Snapshots};
use crate::files::PrivateDir;
use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;
use crate::system::{AWS_SECRET, LOCAL_OVERLAY};

/// `OPSSIGHT_WAIT_SECONDS`, when set: how long any step waits for a
/// condition, whatever the environment.
pub fn patience_override() -> Option<Duration> {
    static WAIT: std::sync::OnceLock<Option<Duration>> = std::sync::OnceLock::new();
    *WAIT.get_or_init(|| {
        std::env::var("OPSSIGHT_WAIT_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs)
    })
}

/// How long a step waits for a condition where no environment says
/// otherwise: 15 s, or `OPSSIGHT_WAIT_SECONDS`.
pub fn default_patience() -> Duration {
    patience_override().unwrap_or(Duration::from_secs(15))
}

/// A Secrets Manager client an environment may replace while it runs
/// (kind's, when LocalStack comes back on another port).
pub type SharedClient = Arc<RwLock<aws_sdk_secretsmanager::Client>>;

/// What every environment holds for its scenario.
pub struct Base {
    pub name: &'static str,
    pub profile: Profile,
    pub kube: kube::Client,
    pub kubeconfig: PathBuf,
    /// A directory of this environment's own (kubectl's cache, ...).
    pub workdir: PrivateDir,
    pub fixtures: Fixtures,
    /// What Secrets Manager held when the scenario started.
    pub seed: Seed,
    /// The clock the environment's components share (virtual in embedded).
    pub clock: Clock,
    /// How long a condition may take to come true here.
    pub patience: Duration,
    /// A system that outlives the scenario (a live cluster, or one control
    /// plane shared by every scenario): what a scenario changes there is
    /// recorded first and put back after it (`live_state`).
    pub live: bool,
    /// A client with rights to change Secrets Manager (the harness's own).
    pub secrets_manager: SharedClient,
    /// The key `aws-secret` holds for the controller; `None` where the
    /// harness does not know it (a live system: what was found is put back).
    pub controller_key: Option<AccessKey>,
    /// Labels on every object the harness applies (kind's run id).
    pub labels: Vec<(String, String)>,
}

impl Base {
    /// The overlay applied for `overlay`: the environment's own where a
    /// scenario applies the local one.
    pub fn overlay<'a>(&self, overlay: &'a str) -> &'a str {
        if overlay == LOCAL_OVERLAY {
            self.profile.local_overlay
        } else {
            overlay
        }
    }

    fn labels(&self) -> Vec<(&str, &str)> {
        self.labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// The facets `env` has.
pub fn facets_of(env: &dyn Environment) -> Vec<Facet> {
    Facet::ALL
        .into_iter()
        .filter(|f| match f {
            Facet::Iam => env.iam().is_some(),
            Facet::Audit => env.audit().is_some(),
            Facet::Outage => env.outage().is_some(),
            Facet::Snapshots => env.snapshots().is_some(),
            Facet::Regions => env.regions().is_some(),
        })
        .collect()
}

/// `Environment::elapse` where time is real: wait.
async fn wait_for_real(d: Duration) -> anyhow::Result<()> {
    tokio::time::sleep(d).await;
    Ok(())
}

/// What every environment gives a scenario. Operations only some can
/// perform are facets: a scenario needing one its environment lacks is
/// skipped before it starts.
pub trait Environment: Send + Sync {
    fn base(&self) -> &Base;

    fn name(&self) -> &'static str {
        self.base().name
    }
    fn kube(&self) -> kube::Client {
        self.base().kube.clone()
    }
    fn kubeconfig(&self) -> &Path {
        &self.base().kubeconfig
    }
    fn workdir(&self) -> &Path {
        self.base().workdir.path()
    }
    fn fixtures(&self) -> &Fixtures {
        &self.base().fixtures
    }
    fn seed(&self) -> &Seed {
        &self.base().seed
    }
    fn clock(&self) -> Clock {
        self.base().clock.clone()
    }
    fn patience(&self) -> Duration {
        self.base().patience
    }
    fn live(&self) -> bool {
        self.base().live
    }
    fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        self.base()
            .secrets_manager
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Lets `d` of time pass: moves a virtual clock, or waits.
    fn elapse(&self, d: Duration) -> BoxFuture<'_, anyhow::Result<()>> {
        let clock = self.clock();
        Box::pin(async move {
            if clock.is_virtual() {
                clock.advance(d)?;
                Ok(())
            } else {
                wait_for_real(d).await
            }
        })
    }

    /// Runs beside a step's wait for a condition of up to `patience`, and
    /// never ends. On a virtual clock it moves the clock past what the
    /// controller would only wait for within that patience (a backoff, a
    /// retry, a requeue), so that the wait sees what it would in real time
    /// without spending it. Elsewhere time passes as it does.
    fn skip_waiting(&self, patience: Duration) -> BoxFuture<'_, ()> {
        let _ = patience;
        Box::pin(std::future::pending())
    }

    /// Applies a fixture overlay as an operator would (the environment's
    /// own for the local one), the credentials in place before the store
    /// that reads them.
    fn apply_overlay<'a>(&'a self, overlay: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let b = self.base();
            super::apply::apply_overlay(
                &b.kube,
                &b.fixtures,
                b.overlay(overlay),
                &b.labels(),
                || async {
                    if !super::apply::secret_exists(&b.kube, AWS_SECRET).await? {
                        self.restore_credentials().await?;
                    }
                    Ok(())
                },
            )
            .await
        })
    }

    /// Puts `aws-secret` back with credentials the controller may use.
    fn restore_credentials(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            match self.base().controller_key.clone() {
                Some(key) => self.put_credentials(&key).await,
                None => Ok(()),
            }
        })
    }

    /// Puts `aws-secret` with this key, as an operator would create it.
    fn put_credentials<'a>(&'a self, key: &'a AccessKey) -> BoxFuture<'a, anyhow::Result<()>> {
        let b = self.base();
        Box::pin(async move { super::apply::put_aws_secret(&b.kube, key, &b.labels()).await })
    }

    fn stop_controller(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    fn start_controller(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    fn controller_running(&self) -> bool;
    /// The controller's most recent log lines, oldest first.
    fn controller_log(&self) -> BoxFuture<'_, Vec<String>>;
    /// The last lines of another service's log (LocalStack's), titled.
    fn service_log(&self) -> BoxFuture<'_, Option<(String, Vec<String>)>> {
        Box::pin(async { None })
    }

    fn iam(&self) -> Option<&dyn Iam> {
        None
    }
    fn audit(&self) -> Option<&dyn Audit> {
        None
    }
    fn outage(&self) -> Option<&dyn Outage> {
        None
    }
    fn snapshots(&self) -> Option<&dyn Snapshots> {
        None
    }
    fn regions(&self) -> Option<&dyn Regions> {
        None
    }
}
