//! The kind environment: a kind cluster, LocalStack on kind's Docker
//! network, ESO 2.9.0 installed by Helm, and the fixtures' kind overlay (the
//! local overlay with a refresh interval short enough to wait for in real
//! time). One cluster serves a whole run; scenarios take turns on it.
//!
//! Everything it starts is undone on success, failure, panic and Ctrl-C
//! unless `--keep`, and carries the run id (`opssight-harness down --all`
//! finds leftovers by it).

pub mod commands;
pub mod helm;
pub mod localstack;
pub mod names;
pub mod pins;
pub mod scenario;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use futures::future::BoxFuture;

use self::commands::{Cleanup, run};
use self::localstack::ContainerSpec;
use super::capability::Profile;
use super::environment::SharedClient;
use super::facets::{Facet, Outage};
use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;

pub use self::names::{CLUSTER_PREFIX, DOCKER_LABEL, LOCALSTACK_KEY, RUN_LABEL};
/// The overlay applied wherever a scenario applies the local one.
pub const OVERLAY: &str = "kind";

#[derive(Debug, Clone)]
pub struct KindOptions {
    pub fixtures: Fixtures,
    pub kind_config: PathBuf,
    pub reuse_cluster: Option<String>,
    pub localstack_image: String,
    pub run_id: String,
    /// Where the kubeconfig and the Helm values of the run go.
    pub workdir: PathBuf,
    /// Where `kind export logs` writes when the run fails (before the
    /// cluster is deleted).
    pub logs_dir: PathBuf,
    /// How long LocalStack may take to be ready.
    pub ready_timeout: Duration,
}

impl KindOptions {
    pub fn cluster_name(&self) -> String {
        self.reuse_cluster
            .clone()
            .unwrap_or_else(|| format!("{CLUSTER_PREFIX}{}", self.run_id))
    }
}

/// A short random id: cluster, container and labels carry it.
pub fn new_run_id() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// What LocalStack and a real-time cluster are: LocalStack can be stopped
/// (an outage) but checks no IAM, keeps no audit trail, serves every region
/// at once and keeps no snapshots; the clock is real, and the kind overlay
/// shortens the refresh interval to wait for it.
pub fn profile() -> Profile {
    Profile {
        lacks: vec![
            (
                Facet::Iam,
                "LocalStack's community edition checks neither signatures nor IAM policies",
            ),
            (
                Facet::Audit,
                "LocalStack's community edition keeps no audit trail",
            ),
            (
                Facet::Regions,
                "one LocalStack serves every region; one cannot fail alone",
            ),
            (
                Facet::Snapshots,
                "LocalStack's community edition has no state snapshots",
            ),
        ],
        wall_clock: Some("kind runs in real time"),
        local_overlay: OVERLAY,
        no_kubelet: None,
        no_irsa: Some(
            "LocalStack's community edition issues credentials for any web identity token, so the token path cannot be told from another",
        ),
    }
}

/// The key `aws-secret` holds on kind.
pub fn localstack_key() -> aws_emulator::AccessKey {
    aws_emulator::AccessKey {
        access_key_id: LOCALSTACK_KEY.0.into(),
        secret_access_key: LOCALSTACK_KEY.1.into(),
        session_token: None,
        expiration: None,
    }
}

const TOOL_TIMEOUT: Duration = Duration::from_secs(600);

async fn tool(program: &str, args: &[String]) -> anyhow::Result<String> {
    Ok(run(program, args, TOOL_TIMEOUT).await?)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// A running kind environment.
pub struct KindCluster {
    pub opts: KindOptions,
    pub cluster_name: String,
    pub kubeconfig: PathBuf,
    pub client: kube::Client,
    pub localstack: ContainerSpec,
    /// LocalStack as the host reaches it (read again after it restarts).
    pub localstack_url: RwLock<String>,
    /// The harness's client of LocalStack (replaced when it comes back on
    /// another port).
    pub sm: SharedClient,
    pub region: String,
    /// LocalStack stopped by a scenario (an outage).
    pub stopped: AtomicBool,
    /// What LocalStack held when it was stopped, put back when it starts:
    /// its community edition keeps nothing across a restart. In memory only.
    saved: Mutex<Option<Vec<localstack::SavedSecret>>>,
    /// ESO's controller scaled to 0 by a scenario.
    pub controller_stopped: AtomicBool,
}

impl KindCluster {
    /// Brings the environment up, registering with `cleanup` how to undo
    /// each step before taking it.
    pub async fn up(opts: KindOptions, cleanup: Arc<Cleanup>) -> anyhow::Result<Self> {
        let found = super::preflight::check().await?;
        eprintln!("tools: {}", found.summary());
        for warning in &found.warnings {
            eprintln!("warning: {warning}");
        }
        // It will hold the cluster's admin kubeconfig.
        crate::files::create_private_dir_all(&opts.workdir)?;
        let name = opts.cluster_name();
        let kubeconfig = opts.workdir.join("kubeconfig");
        let kubeconfig_arg = kubeconfig.display().to_string();
        match &opts.reuse_cluster {
            Some(existing) => {
                let clusters = tool("kind", &strings(&["get", "clusters"])).await?;
                if !clusters.lines().any(|l| l.trim() == existing) {
                    anyhow::bail!(
                        "--reuse-cluster {existing}: kind has no such cluster (it has: {})",
                        clusters.split_whitespace().collect::<Vec<_>>().join(", ")
                    );
                }
                tool(
                    "kind",
                    &strings(&[
                        "export",
                        "kubeconfig",
                        "--name",
                        existing,
                        "--kubeconfig",
                        &kubeconfig_arg,
                    ]),
                )
                .await?;
                register_log_export(&cleanup, &opts, existing);
                // ESO stays installed on a reused cluster; what this run made goes.
                cleanup.register(
                    "kubectl",
                    &[
                        "--kubeconfig",
                        &kubeconfig_arg,
                        "delete",
                        "namespace",
                        "-l",
                        &format!("{RUN_LABEL}={}", opts.run_id),
                        "--ignore-not-found",
                        "--wait=false",
                    ],
                );
            }
            None => {
                cleanup.register("kind", &["delete", "cluster", "--name", &name]);
                register_log_export(&cleanup, &opts, &name);
                tool(
                    "kind",
                    &strings(&[
                        "create",
                        "cluster",
                        "--name",
                        &name,
                        "--config",
                        &opts.kind_config.display().to_string(),
                        // The config names no image: this one, pinned by digest.
                        "--image",
                        pins::KIND_NODE,
                        "--kubeconfig",
                        &kubeconfig_arg,
                        "--wait",
                        "120s",
                    ]),
                )
                .await?;
            }
        }

        let host_port = localstack::free_host_port()
            .context("finding a free port on 127.0.0.1 to publish LocalStack on")?;
        let spec = ContainerSpec::localstack(&opts.localstack_image, &opts.run_id, host_port);
        cleanup.register("docker", &["rm", "-f", "-v", &spec.name]);
        tool(
            "docker",
            // An empty variable is unset (a CI secret that is not defined
            // expands to ""): LocalStack would take "" for a token.
            &spec.docker_run_args(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty())),
        )
        .await?;
        let localstack_url = published_url(&spec).await?;
        localstack::wait_ready(&spec, &localstack_url, opts.ready_timeout).await?;

        let seed = Seed::load(&opts.fixtures.seed_file())?;
        let sm = localstack_client(&localstack_url, &seed.region);
        crate::env::secrets_manager::seed_secrets(&sm, &seed, true).await?;

        tool("helm", &helm::repo_add_args()).await?;
        let values_file = opts.workdir.join("eso-values.yaml");
        let values = helm::values(&spec.in_network_url(), &opts.run_id);
        crate::files::write_private(&values_file, serde_json::to_string_pretty(&values)?)
            .with_context(|| format!("writing {}", values_file.display()))?;
        tool("helm", &helm::upgrade_args(&values_file, &kubeconfig)).await?;

        let client = super::cluster::client_for(&kubeconfig).await?;
        let cluster = Self {
            cluster_name: name,
            kubeconfig,
            client,
            localstack: spec,
            localstack_url: RwLock::new(localstack_url),
            sm: Arc::new(RwLock::new(sm)),
            region: seed.region.clone(),
            opts,
            stopped: AtomicBool::new(false),
            saved: Mutex::new(None),
            controller_stopped: AtomicBool::new(false),
        };
        cluster.apply_overlay(OVERLAY).await?;
        Ok(cluster)
    }

    /// Applies a fixture overlay with the run's label on every object,
    /// `aws-secret` (LocalStack's credentials) before the store.
    pub async fn apply_overlay(&self, overlay: &str) -> anyhow::Result<()> {
        super::apply::apply_overlay_with_key(
            &self.client,
            &self.opts.fixtures,
            overlay,
            &[(RUN_LABEL, self.opts.run_id.as_str())],
            &localstack_key(),
        )
        .await
    }

    pub fn fixtures(&self) -> &Fixtures {
        &self.opts.fixtures
    }

    /// The harness's client of LocalStack, at its current address.
    pub fn sm(&self) -> aws_sdk_secretsmanager::Client {
        self.sm.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// An outage: LocalStack's container stopped, its secrets saved first.
    /// Stopped, not paused or disconnected: a paused container's kernel
    /// still accepts connections, and a disconnected one leaves the
    /// controller's pooled keep-alive connections open to an address that
    /// no longer answers; ESO v2.9.0 sets no timeout on its AWS calls, so
    /// either hangs it (`concurrent: 1`: every ExternalSecret). A stopped
    /// container's sockets are closed and its name no longer resolves:
    /// every call fails at once.
    pub async fn stop_localstack(&self) -> anyhow::Result<()> {
        let saved = localstack::save_secrets(&self.sm()).await?;
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved);
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        tool("docker", &strings(&["stop", &self.localstack.name])).await?;
        Ok(())
    }

    /// The end of an outage: the container started again, its published
    /// port read again (Docker publishes it anew on start), Secrets
    /// Manager waited for and given back what it held.
    pub async fn start_localstack(&self) -> anyhow::Result<()> {
        tool("docker", &strings(&["start", &self.localstack.name])).await?;
        let url = published_url(&self.localstack).await?;
        localstack::wait_ready(&self.localstack, &url, self.opts.ready_timeout).await?;
        let changed = {
            let mut current = self
                .localstack_url
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let changed = *current != url;
            *current = url.clone();
            changed
        };
        if changed {
            *self.sm.write().unwrap_or_else(|e| e.into_inner()) =
                localstack_client(&url, &self.region);
        }
        let saved = self.saved.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(saved) = saved {
            localstack::restore_secrets(&self.sm(), &saved).await?;
        }
        self.stopped
            .store(false, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// On a failed run, kind's node logs (kubelet, containerd, every pod's)
/// into the artifacts, before the cluster is deleted: the nightly cannot
/// export them once the harness has removed it.
fn register_log_export(cleanup: &Cleanup, opts: &KindOptions, cluster: &str) {
    cleanup.register_on_failure(
        "kind",
        &[
            "export",
            "logs",
            &opts.logs_dir.display().to_string(),
            "--name",
            cluster,
        ],
    );
}

/// Where Docker publishes LocalStack on 127.0.0.1, as a URL.
async fn published_url(spec: &ContainerSpec) -> anyhow::Result<String> {
    let port = tool(
        "docker",
        &strings(&["port", &spec.name, &format!("{}/tcp", spec.port)]),
    )
    .await?;
    localstack::parse_port_output(&port).with_context(|| {
        format!(
            "`docker port {}` printed no 127.0.0.1 address: {port:?}",
            spec.name
        )
    })
}

fn localstack_client(url: &str, region: &str) -> aws_sdk_secretsmanager::Client {
    super::secrets_manager::sm_client(url, &localstack_key(), region)
}

/// An outage on kind: LocalStack's container stopped, and started again.
impl Outage for KindCluster {
    fn set_reachable(&self, reachable: bool) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            if reachable {
                self.start_localstack().await
            } else {
                self.stop_localstack().await
            }
        })
    }
}

/// Brings a kind environment up, runs `body` on it, and undoes it all
/// after: on success, on an error, while a panic unwinds (the guard's Drop)
/// and on SIGINT, SIGTERM or SIGHUP (exit code 128 + the signal's number,
/// the running tool stopped first), unless `keep`.
pub async fn with_cluster<T: Verdict, F, Fut>(
    opts: KindOptions,
    keep: bool,
    body: F,
) -> anyhow::Result<T>
where
    F: FnOnce(Arc<KindCluster>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let opts = KindOptions {
        kind_config: std::fs::canonicalize(&opts.kind_config)
            .with_context(|| format!("the kind configuration {}", opts.kind_config.display()))?,
        ..opts
    };
    let cleanup = Cleanup::new(keep);
    let guard = commands::CleanupGuard(cleanup.clone());
    let on_interrupt = cleanup.clone();
    // SIGTERM (a CI runner cancelling the job) and SIGHUP (a closed
    // terminal) mean the same as Ctrl-C: stop and clean up.
    let signal = crate::interrupt::listen();
    let interrupt = tokio::spawn(async move {
        let (name, number) = signal.await;
        eprintln!("{name}: stopping what runs and cleaning up");
        commands::terminate_running();
        // A cluster kept (--keep) outlives the harness: what an interrupted
        // scenario changed is put back before it is left to the user.
        if keep {
            crate::env::live_state::put_back_pending(std::time::Duration::from_secs(60)).await;
        }
        on_interrupt.run_all();
        crate::interrupt::run_all(name);
        std::process::exit(128 + number);
    });
    eprintln!(
        "kind environment {} (run {}): checking the tools, then bringing it up (a few minutes)",
        opts.cluster_name(),
        opts.run_id
    );
    let cluster = match KindCluster::up(opts, cleanup.clone()).await {
        Ok(c) => c,
        Err(e) => {
            cleanup.mark_failed();
            return Err(e);
        }
    };
    eprintln!(
        "kind environment ready: KUBECONFIG={}",
        cluster.kubeconfig.display()
    );
    let result = body(Arc::new(cluster)).await;
    interrupt.abort();
    if result.as_ref().map_or(true, Verdict::failed) {
        cleanup.mark_failed();
    }
    drop(guard);
    result
}

/// Whether what a run returned is a failure (its kind logs are kept).
pub trait Verdict {
    fn failed(&self) -> bool;
}

impl Verdict for std::process::ExitCode {
    fn failed(&self) -> bool {
        *self != std::process::ExitCode::SUCCESS
    }
}

/// Removes every cluster and container a run left behind (`down --all`):
/// kind clusters named `opssight-harness-*` and containers labelled with a
/// run id. Returns what it removed.
pub async fn down_all() -> anyhow::Result<Vec<String>> {
    let mut removed = Vec::new();
    let clusters = tool("kind", &strings(&["get", "clusters"])).await?;
    for name in clusters
        .lines()
        .map(str::trim)
        .filter(|n| n.starts_with(CLUSTER_PREFIX))
    {
        tool("kind", &strings(&["delete", "cluster", "--name", name])).await?;
        removed.push(format!("kind cluster {name}"));
    }
    let containers = tool(
        "docker",
        &strings(&["ps", "-aq", "--filter", &format!("label={DOCKER_LABEL}")]),
    )
    .await?;
    let ids: Vec<&str> = containers.split_whitespace().collect();
    if !ids.is_empty() {
        let mut args = strings(&["rm", "-f", "-v"]);
        args.extend(ids.iter().map(|s| s.to_string()));
        tool("docker", &args).await?;
        removed.extend(ids.iter().map(|id| format!("container {id}")));
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Capability;
    use std::path::Path;

    #[test]
    fn the_localstack_container_is_pinned() {
        let spec = ContainerSpec::localstack(localstack::DEFAULT_IMAGE, "abc123", 45123);
        assert_eq!(spec.image, pins::LOCALSTACK);
        assert_eq!(spec.name, "opssight-harness-localstack-abc123");
        assert_eq!(spec.network, "kind");
        assert_eq!(
            spec.labels,
            [("opssight-harness.run-id".to_owned(), "abc123".to_owned())]
        );
        assert_eq!(
            spec.env,
            [
                ("SERVICES".to_owned(), "secretsmanager,sts".to_owned()),
                ("EAGER_SERVICE_LOADING".to_owned(), "1".to_owned())
            ]
        );
        assert_eq!(spec.ready_when.path, "/_localstack/health");
        assert_eq!(spec.ready_when.service, "secretsmanager");
        assert_eq!(
            spec.in_network_url(),
            "http://opssight-harness-localstack-abc123:4566"
        );
        let without_token = spec.docker_run_args(|_| false);
        assert_eq!(
            without_token.join(" "),
            "run -d --name opssight-harness-localstack-abc123 --network kind \
             --label opssight-harness.run-id=abc123 -p 127.0.0.1:45123:4566 \
             -e SERVICES=secretsmanager,sts -e EAGER_SERVICE_LOADING=1 localstack/localstack:4.12@sha256:0df3a97da57de03a588c05d9b8f390f15c7033fc7c4512f94619d344bc3cd317"
        );
        // The token goes by name: docker reads its value from the environment.
        let with_token = spec.docker_run_args(|k| k == "LOCALSTACK_AUTH_TOKEN");
        assert!(
            with_token
                .windows(2)
                .any(|w| w[0] == "-e" && w[1] == "LOCALSTACK_AUTH_TOKEN")
        );
    }

    #[test]
    fn the_helm_release_is_pinned() {
        let values = helm::values("http://opssight-harness-localstack-abc123:4566", "abc123");
        assert_eq!(
            values,
            serde_json::json!({
                "installCRDs": true,
                "concurrent": 1,
                "extraEnv": [
                    { "name": "AWS_SECRETSMANAGER_ENDPOINT", "value": "http://opssight-harness-localstack-abc123:4566" },
                    { "name": "AWS_STS_ENDPOINT", "value": "http://opssight-harness-localstack-abc123:4566" },
                ],
                "podLabels": { "opssight-harness/run-id": "abc123" },
            })
        );
        assert_eq!(
            helm::upgrade_args(Path::new("/w/eso-values.yaml"), Path::new("/w/kubeconfig"))
                .join(" "),
            "upgrade --install external-secrets external-secrets/external-secrets --version 2.9.0 \
             --namespace external-secrets-system --create-namespace --set installCRDs=true \
             --values /w/eso-values.yaml --wait --timeout 5m --kubeconfig /w/kubeconfig"
        );
    }

    #[test]
    fn kind_shows_outages_and_controller_restarts_but_not_what_localstack_lacks() {
        let caps = crate::env::Capabilities::derive(&profile());
        for present in [
            Capability::SecretsManagerOutage,
            Capability::ControllerRestart,
            Capability::WaitableRefresh,
            Capability::Kubelet,
        ] {
            assert_eq!(caps.lacks(present), None, "{present:?}");
        }
        for absent in [
            Capability::VirtualClock,
            Capability::Iam,
            Capability::Audit,
            Capability::Regions,
            Capability::Snapshot,
            Capability::RunbookRefreshInterval,
            Capability::Irsa,
        ] {
            assert!(caps.lacks(absent).is_some(), "{absent:?}");
        }
    }

    #[test]
    fn docker_port_output() {
        assert_eq!(
            localstack::parse_port_output("127.0.0.1:49153\n[::1]:49153\n").as_deref(),
            Some("http://127.0.0.1:49153")
        );
        assert_eq!(localstack::parse_port_output("0.0.0.0:1\n"), None);
    }
}
