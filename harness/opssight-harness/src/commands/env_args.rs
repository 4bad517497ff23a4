//! The options that choose an environment and bring it up, shared by the
//! commands that run scenarios (`test`, `drill`) and those that start a
//! stack (`up`, `kube-api`), and running a command's body on it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;

use crate::env::EnvChoice;
use crate::env::binaries::{BinariesOptions, SecretsManagerBackend};
use crate::env::kind::{self, KindOptions};
use crate::fixtures::Fixtures;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum EnvKind {
    /// In-process emulators of Secrets Manager, Kubernetes and ESO.
    Embedded,
    /// kind + LocalStack + ESO via Helm (needs Docker).
    Kind,
    /// The current kubeconfig context.
    Existing,
    /// The real ESO controller, kube-apiserver, kube-controller-manager and
    /// etcd as local processes (scripts/build-real-components.sh builds them).
    Binaries,
}

// The commands that run on fewer environments offer only those in --help
// (a value clap offers and the command then refuses is a trap).

/// What `up` and `kube-api` start.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LocalEnv {
    /// In-process emulators of Secrets Manager, Kubernetes and ESO.
    Embedded,
    /// The real ESO controller, kube-apiserver, kube-controller-manager and
    /// etcd as local processes.
    Binaries,
}

/// Which Secrets Manager the real ESO of --env binaries talks to.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum SecretsManagerKind {
    /// The aws-emulator (SigV4, IAM, audit, outages, regions, snapshots).
    Emulator,
    /// moto's server (pip install "moto[server]").
    Moto,
}

/// Options of the binaries environment.
#[derive(clap::Args, Debug, Clone)]
pub struct BinariesArgs {
    /// With --env binaries: the Secrets Manager behind the real ESO.
    #[arg(
        long,
        value_enum,
        env = "OPSSIGHT_SECRETS_MANAGER",
        default_value = "emulator"
    )]
    secrets_manager: SecretsManagerKind,
}

impl BinariesArgs {
    pub fn options(&self) -> anyhow::Result<BinariesOptions> {
        let mut opts = BinariesOptions::new(Fixtures::locate()?);
        opts.secrets_manager = match self.secrets_manager {
            SecretsManagerKind::Emulator => SecretsManagerBackend::Emulator,
            SecretsManagerKind::Moto => SecretsManagerBackend::Moto,
        };
        Ok(opts)
    }
}

/// Options of every run of scenarios (`test`, `drill`).
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Where diagnostics of failed scenarios go.
    #[arg(long, default_value = "artifacts")]
    pub artifacts: PathBuf,
    /// Scenarios run at once (always one on --env existing and kind).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// On --env existing, also run scenarios that change the cluster or
    /// Secrets Manager (without it, only those tagged @read-only run).
    #[arg(long)]
    allow_destructive: bool,
    #[command(flatten)]
    kind: KindArgs,
    #[command(flatten)]
    binaries: BinariesArgs,
}

/// Options of the kind environment.
#[derive(clap::Args, Debug, Clone)]
struct KindArgs {
    /// Leave the cluster and the LocalStack container running after the run.
    #[arg(long)]
    keep: bool,
    /// Use this existing kind cluster instead of creating one (it stays).
    #[arg(long, value_name = "NAME")]
    reuse_cluster: Option<String>,
    /// LocalStack image (a 4.x community tag starts without an auth token;
    /// LOCALSTACK_AUTH_TOKEN is passed on when set).
    #[arg(long, env = "OPSSIGHT_LOCALSTACK_IMAGE", default_value = kind::localstack::DEFAULT_IMAGE)]
    localstack_image: String,
    /// The run id in names and labels (random by default).
    #[arg(long)]
    run_id: Option<String>,
    /// The kind cluster's configuration (default: the repository's
    /// kind-config.yaml).
    #[arg(long)]
    kind_config: Option<PathBuf>,
    /// Seconds LocalStack may take to report Secrets Manager ready.
    #[arg(long, env = "OPSSIGHT_LOCALSTACK_READY_SECONDS", default_value_t = 120)]
    localstack_ready_seconds: u64,
}

impl RunArgs {
    /// Runs `body` on the chosen environment. A kind environment is
    /// brought up first and undone after it, on an error, on a panic (the
    /// guard's Drop) and on Ctrl-C (exit code 130), unless `--keep`.
    pub async fn with_env<F, Fut>(self, env: EnvKind, body: F) -> anyhow::Result<ExitCode>
    where
        F: FnOnce(EnvChoice) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<ExitCode>>,
    {
        match env {
            EnvKind::Embedded => {
                let _handler = exit_cleanly_on_signal();
                body(EnvChoice::Embedded).await
            }
            EnvKind::Existing => {
                let _handler = exit_cleanly_on_signal();
                body(EnvChoice::Existing {
                    allow_destructive: self.allow_destructive,
                })
                .await
            }
            EnvKind::Kind => {
                let kind = self.kind;
                let fixtures = Fixtures::locate()?;
                let kind_config = kind
                    .kind_config
                    .unwrap_or_else(|| fixtures.root().join("../kind-config.yaml"));
                let run_id = kind.run_id.unwrap_or_else(kind::new_run_id);
                let opts = KindOptions {
                    fixtures,
                    kind_config,
                    reuse_cluster: kind.reuse_cluster,
                    localstack_image: kind.localstack_image,
                    workdir: self.artifacts.join(format!("kind-{run_id}")),
                    logs_dir: self.artifacts.join("kind-logs").join(&run_id),
                    run_id,
                    ready_timeout: std::time::Duration::from_secs(kind.localstack_ready_seconds),
                };
                kind::with_cluster(opts, kind.keep, |cluster| body(EnvChoice::Kind(cluster))).await
            }
            EnvKind::Binaries => {
                crate::env::binaries::with_control_plane(self.binaries.options()?, |plane| {
                    body(EnvChoice::Binaries(plane))
                })
                .await
            }
        }
    }
}

/// A default path (`features`, ...) that is not where the command runs is
/// the repository's, as the fixtures are: `test` works from any directory
/// of a checkout. A path the user gave is taken as given.
pub fn workspace_default(path: PathBuf, default: &str) -> PathBuf {
    if path != Path::new(default) || path.exists() {
        return path;
    }
    let in_repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(default);
    if in_repo.exists() { in_repo } else { path }
}

/// The fixtures, read and checked, and on `--env existing` the kubeconfig:
/// a bad one is named with its line or field before anything starts.
pub async fn check_inputs(env: EnvKind) -> anyhow::Result<Fixtures> {
    let fixtures = Fixtures::locate()?;
    fixtures.validate()?;
    if env == EnvKind::Existing {
        crate::env::existing::check_kubeconfig().await?;
    }
    Ok(fixtures)
}

/// Where no environment stops things of its own on a signal (embedded,
/// existing): SIGINT, SIGTERM and SIGHUP remove the run's temporary files
/// and half-written reports, let a drill write its partial report, and
/// exit with 128 + the signal's number. Aborted when dropped.
fn exit_cleanly_on_signal() -> AbortOnDrop {
    let signal = crate::interrupt::listen();
    AbortOnDrop(tokio::spawn(async move {
        let (name, number) = signal.await;
        // On --env existing the system outlives the harness: a scenario cut
        // off midway is put back first, as its after hook would have.
        crate::env::live_state::put_back_pending(PUT_BACK_ON_SIGNAL).await;
        eprintln!("{name}: removing the run's temporary files");
        crate::interrupt::run_all(name);
        std::process::exit(128 + number);
    }))
}

/// How long a signal waits for an interrupted scenario's changes to be put
/// back before the harness exits anyway (saying what it could not do).
const PUT_BACK_ON_SIGNAL: std::time::Duration = std::time::Duration::from_secs(60);

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
