//! A controller that behaves as External Secrets Operator v2.9.0 does for
//! AWS Secrets Manager, against any Kubernetes API reached through kube-rs
//! (the kube-emulator or a real cluster) and any Secrets Manager endpoint
//! reached through the AWS SDK (the aws-emulator, LocalStack or AWS).
//!
//! Its visible effects follow ESO: the target Secret with its managed label,
//! data-hash annotation and owner reference; the ExternalSecret's status and
//! Ready condition with ESO's reasons and messages; the events; refreshes on
//! ESO's rules (force-sync by any label or annotation change); ESO's webhook
//! rules ([`webhook::EsoWebhook`]); and its metrics. Time is read from an
//! injectable clock, so moving a virtual clock forward makes refreshes due.
//!
//! The resource model it acts on (types, CRDs, conditions, ESO's reasons
//! and names) is the `eso-api` crate's. `examples/sync_one_secret.rs` runs
//! it against both emulators.

#![warn(missing_docs)]

mod cache;
mod controller;
mod created_by;
mod events;
mod external_secret;
pub mod metrics;
mod provider;
mod queue;
pub mod sdk_http;
mod sdk_time;
mod secret_store;
pub mod util;
pub mod webhook;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use emulator_core::Clock;
pub use queue::{Activity, Schedule};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use eso_api::StoreKind;
pub use secret_store::Endpoints;

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it reaches AWS.
    pub endpoints: Endpoints,
    /// The clock it reads and schedules on.
    pub clock: Clock,
    /// Reconciles at once (ESO's Helm value `concurrent`, default 1).
    pub concurrency: usize,
    /// How often a store is validated again (ESO: 5 min).
    pub store_refresh: Duration,
    /// The longest backoff after errors (ESO: about 7 min).
    pub max_backoff: Duration,
    /// Lines of controller log kept for diagnostics.
    pub log_lines: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            endpoints: Endpoints::from_env(),
            clock: Clock::system(),
            concurrency: 1,
            store_refresh: Duration::from_secs(300),
            max_backoff: Duration::from_secs(420),
            log_lines: 500,
        }
    }
}

/// What every reconcile shares.
pub(crate) struct Context {
    pub(crate) kube: kube::Client,
    pub(crate) clock: Clock,
    pub(crate) config: Config,
    pub(crate) clients: secret_store::ClientFactory,
    pub(crate) recorder: events::Recorder,
    pub(crate) metrics: Arc<metrics::Metrics>,
    /// Which Secrets carry each ExternalSecret's created-by label.
    pub(crate) created_by: created_by::CreatedBy,
    /// Each ExternalSecret's metadata as last seen (by the watch, or as the
    /// controller wrote it), so that a change is reconciled once.
    es_seen: Mutex<HashMap<controller::Key, controller::Fingerprint>>,
    /// The ExternalSecrets, SecretStores, ClusterSecretStores and Secrets
    /// as the watches have seen them: what ESO reads from its informer caches.
    pub(crate) external_secrets: cache::Cache<kube::api::DynamicObject>,
    secret_stores: cache::Cache<kube::api::DynamicObject>,
    cluster_secret_stores: cache::Cache<kube::api::DynamicObject>,
    pub(crate) secrets: cache::Cache<k8s_openapi::api::core::v1::Secret>,
    log: Mutex<VecDeque<String>>,
    /// Each line as it is written, for readers that follow the log.
    log_tx: tokio::sync::broadcast::Sender<String>,
}

impl Context {
    /// The cache of one kind of store.
    pub(crate) fn stores(&self, kind: StoreKind) -> &cache::Cache<kube::api::DynamicObject> {
        match kind {
            StoreKind::SecretStore => &self.secret_stores,
            StoreKind::ClusterSecretStore => &self.cluster_secret_stores,
        }
    }

    /// A line of the controller's log. Lines name keys and objects, never values.
    pub(crate) fn log(&self, line: String) {
        tracing::info!(target: "eso_emulator", "{line}");
        let stamped = format!("{} {line}", self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"));
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() == self.config.log_lines.max(1) {
            log.pop_front();
        }
        log.push_back(stamped.clone());
        // No follower is not an error.
        let _ = self.log_tx.send(stamped);
    }
}

/// A running controller. Dropping it (or [`EsoController::shutdown`]) stops
/// every task it started.
pub struct EsoController {
    ctx: Arc<Context>,
    queue: Arc<controller::Queue>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl EsoController {
    /// Starts the controller on `kube`: its watches and its reconcile loop.
    pub fn start(kube: kube::Client, config: Config) -> Self {
        let queue = Arc::new(controller::Queue::default());
        let (recorder, poster) = events::Recorder::new(kube.clone(), config.clock.clone());
        let ctx = Arc::new(Context {
            clients: secret_store::ClientFactory::new(
                kube.clone(),
                config.endpoints.clone(),
                sdk_time::SdkTime::new(config.clock.clone(), queue.clone()),
            ),
            recorder,
            metrics: Arc::new(metrics::Metrics::default()),
            created_by: created_by::CreatedBy::default(),
            es_seen: Mutex::new(HashMap::new()),
            external_secrets: cache::Cache::default(),
            secret_stores: cache::Cache::default(),
            cluster_secret_stores: cache::Cache::default(),
            secrets: cache::Cache::default(),
            clock: config.clock.clone(),
            log: Mutex::new(VecDeque::new()),
            log_tx: tokio::sync::broadcast::channel(256).0,
            kube,
            config,
        });
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let targets: controller::Targets = Arc::new(Mutex::new(HashMap::new()));
        let until_stopped =
            |fut: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>| {
                let stop = stop.clone();
                async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = fut => {}
                    }
                }
            };
        tasks.spawn(until_stopped(Box::pin(poster.run())));
        tasks.spawn(until_stopped(Box::pin(controller::watch_stores(
            ctx.clone(),
            queue.clone(),
            StoreKind::SecretStore,
        ))));
        tasks.spawn(until_stopped(Box::pin(controller::watch_stores(
            ctx.clone(),
            queue.clone(),
            StoreKind::ClusterSecretStore,
        ))));
        tasks.spawn(until_stopped(Box::pin(controller::watch_external_secrets(
            ctx.clone(),
            queue.clone(),
            targets.clone(),
        ))));
        tasks.spawn(until_stopped(Box::pin(controller::watch_secrets(
            ctx.clone(),
            queue.clone(),
            targets,
        ))));
        tasks.spawn(controller::run(ctx.clone(), queue.clone(), stop.clone()));
        tasks.close();
        ctx.log("controller started".into());
        Self {
            ctx,
            queue,
            stop,
            tasks,
        }
    }

    /// Its metrics, as ESO's `:8080/metrics` serves them.
    pub fn metrics(&self) -> Arc<metrics::Metrics> {
        self.ctx.metrics.clone()
    }

    /// The controller's recent log, oldest first.
    pub fn recent_log(&self) -> Vec<String> {
        self.ctx
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The lines the controller writes from now on; the receiver ends
    /// (`Closed`) once the controller has stopped and been dropped.
    pub fn follow_log(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.ctx.log_tx.subscribe()
    }

    /// How many objects wait in the queue (for diagnostics).
    pub fn pending(&self) -> usize {
        self.queue.pending()
    }

    /// What the controller is doing, for whoever moves its virtual clock.
    pub fn schedule(&self) -> Schedule {
        Schedule::new(self.queue.clone(), self.ctx.clock.clone())
    }

    /// Stops every task and waits until they have ended.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.tasks.wait().await;
    }

    /// A handle on the controller's tasks that outlives it: `wait()` on it
    /// completes once every task has ended (after a drop, say).
    pub fn tasks(&self) -> TaskTracker {
        self.tasks.clone()
    }

    /// Whether any task of this controller is still running.
    pub fn is_running(&self) -> bool {
        !self.tasks.is_empty()
    }
}

impl Drop for EsoController {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
