//! `opssight-harness`: run the scenarios, serve the embedded stack for an
//! operator, or check what this machine can run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use opssight_harness::drill::{DrillOptions, Objectives};
use opssight_harness::env::{EnvChoice, Environment};
use opssight_harness::run::{self as runner, RunOptions};
use opssight_harness::{say, say_raw};

#[derive(Parser)]
#[command(
    version,
    about = "Test and verification harness for OpsSight's production secrets (AWS Secrets Manager -> ESO -> Kubernetes)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum EnvKind {
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

/// Where `check` looks.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum CheckEnv {
    /// The current kubeconfig context.
    Existing,
}

/// Where `rotation` reads Secrets Manager.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum RotationEnv {
    /// A fresh embedded stack.
    Embedded,
    /// Secrets Manager reached with the AWS SDK's default credentials and
    /// region (and --endpoint).
    Existing,
}

/// What `up` and `kube-api` start.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum LocalEnv {
    /// In-process emulators of Secrets Manager, Kubernetes and ESO.
    Embedded,
    /// The real ESO controller, kube-apiserver, kube-controller-manager and
    /// etcd as local processes.
    Binaries,
}

/// Which Secrets Manager the real ESO of --env binaries talks to.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum SecretsManagerKind {
    /// The aws-emulator (SigV4, IAM, audit, outages, regions, snapshots).
    Emulator,
    /// moto's server (pip install "moto[server]").
    Moto,
}

/// Options of the binaries environment.
#[derive(clap::Args, Debug, Clone)]
struct BinariesArgs {
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
    fn options(&self) -> anyhow::Result<opssight_harness::env::binaries::BinariesOptions> {
        use opssight_harness::env::binaries::{BinariesOptions, SecretsManagerBackend};
        let mut opts = BinariesOptions::new(opssight_harness::fixtures::Fixtures::locate()?);
        opts.secrets_manager = match self.secrets_manager {
            SecretsManagerKind::Emulator => SecretsManagerBackend::Emulator,
            SecretsManagerKind::Moto => SecretsManagerBackend::Moto,
        };
        Ok(opts)
    }
}

/// Options of every run of scenarios (`test`, `drill`).
#[derive(clap::Args, Debug, Clone)]
struct RunArgs {
    /// Where diagnostics of failed scenarios go.
    #[arg(long, default_value = "artifacts")]
    artifacts: PathBuf,
    /// Scenarios run at once (always one on --env existing and kind).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
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
    #[arg(long, env = "OPSSIGHT_LOCALSTACK_IMAGE", default_value = opssight_harness::env::kind::localstack::DEFAULT_IMAGE)]
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

#[derive(Subcommand)]
enum Command {
    /// Run the scenarios.
    Test {
        #[arg(long, value_enum, env = "OPSSIGHT_ENV", default_value = "embedded")]
        env: EnvKind,
        /// A tag expression, e.g. "@requires-iam and not @slow".
        #[arg(long)]
        tags: Option<String>,
        /// Write a JUnit report here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Write a cucumber JSON report here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Feature file or directory.
        #[arg(long, default_value = "features")]
        features: PathBuf,
        /// Record every scenario's observable state at each checkpoint here
        /// (JSON), for `differential`.
        #[arg(long)]
        record: Option<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Rehearse disaster recovery: run the disaster-recovery scenarios,
    /// time each Secret's recovery, check no value was lost, and write JSON,
    /// Markdown, JUnit and HTML reports. Exit code 1 when an objective is missed.
    Drill {
        #[arg(long, value_enum, env = "OPSSIGHT_ENV", default_value = "embedded")]
        env: EnvKind,
        /// Feature file or directory of the drill's scenarios.
        #[arg(long, default_value = "features/disaster_recovery.feature")]
        features: PathBuf,
        /// A tag expression choosing among them.
        #[arg(long)]
        tags: Option<String>,
        /// Where the four reports go.
        #[arg(long, default_value = "drill-report")]
        report_dir: PathBuf,
        /// YAML or JSON recovery objectives (default: every Secret restored
        /// within 300 s, no data loss).
        #[arg(long)]
        objectives: Option<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Serve a stack until Ctrl-C (or SIGTERM, SIGHUP), for running the
    /// runbook's commands by hand: the embedded one, or the real components.
    Up {
        #[arg(long, value_enum, default_value = "embedded")]
        env: LocalEnv,
        #[command(flatten)]
        binaries: BinariesArgs,
    },
    /// The runbook's maintenance checks against the current kubeconfig
    /// context, read-only: ExternalSecrets Ready and refreshed in time,
    /// stores valid, ESO's deployments available. Exit code 1 on a problem.
    Check {
        #[arg(long, value_enum, default_value = "existing")]
        env: CheckEnv,
        /// Namespace of the ExternalSecrets and SecretStores.
        #[arg(
            long,
            default_value = "opssight-production",
            conflicts_with = "all_namespaces"
        )]
        namespace: String,
        /// Check ExternalSecrets and SecretStores of every namespace.
        #[arg(long)]
        all_namespaces: bool,
        /// Namespace of ESO's deployments.
        #[arg(long, default_value = "external-secrets-system")]
        eso_namespace: String,
        /// Seconds past an ExternalSecret's refresh interval before it counts as stale.
        #[arg(long, default_value_t = 300)]
        margin_seconds: u64,
        /// Write the report as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Secrets' age and rotation against the runbook's rotation policy
    /// (DescribeSecret only). Exit code 1 when a secret is overdue.
    Rotation {
        #[arg(long, value_enum, default_value = "existing")]
        env: RotationEnv,
        /// Secrets Manager endpoint (LocalStack, an emulator); AWS by default.
        #[arg(long)]
        endpoint: Option<String>,
        /// Write the report as JSON here too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Remove what kind runs left behind (after --keep, or a killed run):
    /// kind clusters named opssight-harness-* and containers labelled with a
    /// run id.
    Down {
        /// Every leftover (the only mode).
        #[arg(long)]
        all: bool,
    },
    /// Say what this machine can run.
    Doctor,
    /// Replay the kube API differential's requests against the kube-emulator
    /// (`--env embedded`) or the real kube-apiserver (`--env binaries`) and
    /// record each response, for `differential --declared
    /// harness/kube-emulator/README.md`.
    KubeApi {
        #[arg(long, value_enum, default_value = "embedded")]
        env: LocalEnv,
        /// The requests (YAML).
        #[arg(
            long,
            default_value = "harness/opssight-harness/tests/kube_api/requests.yaml"
        )]
        requests: PathBuf,
        /// Where the recording goes (JSON).
        #[arg(long)]
        record: PathBuf,
        #[command(flatten)]
        binaries: BinariesArgs,
    },
    /// Compare two recordings (`test --record`) of the same scenarios, the
    /// emulators' and the real components', with the differences declared
    /// in a README. Exit code 1 on an undeclared difference or a declared
    /// one that no longer differs.
    Differential {
        /// A recording of `test --env embedded --record` (repeat the flag
        /// for several runs; their scenarios are taken together).
        #[arg(long, required = true)]
        embedded: Vec<PathBuf>,
        /// A recording of `test --env binaries --record` (likewise).
        #[arg(long, required = true)]
        real: Vec<PathBuf>,
        /// The README whose differential table declares the differences.
        #[arg(long, default_value = "harness/eso-emulator/README.md")]
        declared: PathBuf,
        /// Write the Markdown report here too.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Rewrite the README's table with the differences found, keeping
        /// the reasons already written (new rows say UNDECLARED).
        #[arg(long)]
        update: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // kube_client logs each failed request that it also returns
                // as an error: the harness reports those itself, once, and a
                // readiness poll or a stack shutting down is not alarming.
                .unwrap_or_else(|_| "warn,kube_client=off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            // The whole chain of causes, through the run's redaction.
            eprintln!(
                "error: {}",
                opssight_harness::secret_data::redact::text(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}

/// A default path (`features`, ...) that is not where the command runs is
/// the repository's, as the fixtures are: `test` works from any directory
/// of a checkout. A path the user gave is taken as given.
fn workspace_default(path: PathBuf, default: &str) -> PathBuf {
    if path != std::path::Path::new(default) || path.exists() {
        return path;
    }
    let in_repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(default);
    if in_repo.exists() { in_repo } else { path }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Test {
            env,
            tags,
            junit,
            json,
            features,
            record,
            run,
        } => {
            let RunArgs {
                artifacts,
                concurrency,
                allow_destructive,
                kind,
                binaries,
            } = run;
            let features = workspace_default(features, "features");
            // Every input checked before anything starts: exit 2 naming it.
            runner::preflight(
                &features,
                tags.as_deref(),
                &[
                    ("--junit", &junit),
                    ("--json", &json),
                    ("--record", &record),
                ],
            )?;
            check_inputs(env).await?;
            let workdir = artifacts.clone();
            with_env(
                env,
                allow_destructive,
                kind,
                binaries,
                &workdir,
                |env| async move {
                    let mut observers: Vec<std::sync::Arc<dyn runner::observer::Observer>> =
                        Vec::new();
                    if let Some(path) = &record {
                        observers.push(std::sync::Arc::new(
                            opssight_harness::differential::record::Record::to(path)?,
                        ));
                    }
                    let outcome = runner::run(RunOptions {
                        features,
                        tags,
                        junit,
                        json,
                        artifacts,
                        concurrency,
                        env,
                        observers,
                    })
                    .await?;
                    Ok(if outcome.failed {
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    })
                },
            )
            .await
        }
        Command::Drill {
            env,
            features,
            tags,
            report_dir,
            objectives,
            run,
        } => {
            let RunArgs {
                artifacts,
                concurrency,
                allow_destructive,
                kind,
                binaries,
            } = run;
            let features = workspace_default(features, "features/disaster_recovery.feature");
            let fixtures = check_inputs(env).await?;
            runner::preflight(&features, tags.as_deref(), &[])?;
            opssight_harness::files::check_dir(&report_dir)
                .map_err(|e| anyhow::anyhow!("--report-dir {}: {e}", report_dir.display()))?;
            let objectives = match objectives {
                Some(path) => {
                    let o = Objectives::load(&path)?;
                    o.check_secrets(&path, &drill_secrets(&fixtures)?)?;
                    o
                }
                None => Objectives::default(),
            };
            let workdir = artifacts.clone();
            with_env(env, allow_destructive, kind, binaries, &workdir, |env| {
                drill(DrillOptions {
                    features,
                    tags,
                    objectives,
                    report_dir,
                    artifacts,
                    concurrency,
                    env,
                })
            })
            .await
        }
        Command::Check {
            env: CheckEnv::Existing,
            namespace,
            all_namespaces,
            eso_namespace,
            margin_seconds,
            json,
        } => {
            check(
                opssight_harness::checks::weekly::CheckOptions {
                    namespace: (!all_namespaces).then_some(namespace),
                    eso_namespace,
                    margin: std::time::Duration::from_secs(margin_seconds),
                },
                json,
            )
            .await
        }
        // For kind, `test --env kind --keep` leaves a cluster to use.
        Command::Up { env, binaries } => match env {
            LocalEnv::Embedded => up().await,
            LocalEnv::Binaries => up_binaries(binaries.options()?).await,
        },
        Command::Down { all } => {
            if !all {
                anyhow::bail!("say --all: down removes every leftover of every run");
            }
            let removed = opssight_harness::env::kind::down_all().await?;
            if removed.is_empty() {
                say!("nothing to remove");
            }
            for r in removed {
                say!("removed {r}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rotation {
            env,
            endpoint,
            json,
        } => rotation(env, endpoint, json).await,
        Command::KubeApi {
            env,
            requests,
            record,
            binaries,
        } => {
            use opssight_harness::differential::kube_api;
            // Checked before anything starts.
            let requests = kube_api::load(&requests)?;
            let recording = match env {
                LocalEnv::Embedded => kube_api::on_kube_emulator(&requests).await?,
                LocalEnv::Binaries => {
                    kube_api::on_real_apiserver(binaries.options()?, &requests).await?
                }
            };
            std::fs::write(&record, serde_json::to_string_pretty(&recording)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", record.display()))?;
            say!(
                "{} responses recorded in {}",
                recording.scenarios.len(),
                record.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Differential {
            embedded,
            real,
            declared,
            report,
            update,
        } => differential(&embedded, &real, &declared, report.as_deref(), update),
        Command::Doctor => {
            doctor().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs `body` on the chosen environment. A kind environment is brought up
/// first and undone after it, on an error, on a panic (the guard's Drop) and
/// on Ctrl-C (exit code 130), unless `--keep`.
async fn with_env<F, Fut>(
    env: EnvKind,
    allow_destructive: bool,
    kind: KindArgs,
    binaries: BinariesArgs,
    artifacts: &std::path::Path,
    body: F,
) -> anyhow::Result<ExitCode>
where
    F: FnOnce(EnvChoice) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ExitCode>>,
{
    use opssight_harness::env::kind::{self, KindOptions};
    match env {
        EnvKind::Embedded => {
            let _handler = exit_cleanly_on_signal();
            body(EnvChoice::Embedded).await
        }
        EnvKind::Existing => {
            let _handler = exit_cleanly_on_signal();
            body(EnvChoice::Existing { allow_destructive }).await
        }
        EnvKind::Kind => {
            let fixtures = opssight_harness::fixtures::Fixtures::locate()?;
            let kind_config = kind
                .kind_config
                .unwrap_or_else(|| fixtures.root().join("../kind-config.yaml"));
            let run_id = kind.run_id.unwrap_or_else(kind::new_run_id);
            let opts = KindOptions {
                fixtures,
                kind_config,
                reuse_cluster: kind.reuse_cluster,
                localstack_image: kind.localstack_image,
                workdir: artifacts.join(format!("kind-{run_id}")),
                logs_dir: artifacts.join("kind-logs").join(&run_id),
                run_id,
                ready_timeout: std::time::Duration::from_secs(kind.localstack_ready_seconds),
            };
            kind::with_cluster(opts, kind.keep, |cluster| body(EnvChoice::Kind(cluster))).await
        }
        EnvKind::Binaries => {
            opssight_harness::env::binaries::with_control_plane(binaries.options()?, |plane| {
                body(EnvChoice::Binaries(plane))
            })
            .await
        }
    }
}

/// The fixtures, read and checked, and on `--env existing` the kubeconfig:
/// a bad one is named with its line or field before anything starts.
async fn check_inputs(env: EnvKind) -> anyhow::Result<opssight_harness::fixtures::Fixtures> {
    let fixtures = opssight_harness::fixtures::Fixtures::locate()?;
    fixtures.validate()?;
    if env == EnvKind::Existing {
        opssight_harness::env::existing::check_kubeconfig().await?;
    }
    Ok(fixtures)
}

/// The Secrets a drill follows (those of the local overlay's
/// ExternalSecrets), which per-Secret objectives must name.
fn drill_secrets(fixtures: &opssight_harness::fixtures::Fixtures) -> anyhow::Result<Vec<String>> {
    Ok(
        opssight_harness::fixtures::manifests::kustomize(&fixtures.overlay("local"))?
            .iter()
            .filter(|m| m.kind() == "ExternalSecret")
            .map(|m| m.name().to_owned())
            .collect(),
    )
}

/// Where no environment stops things of its own on a signal (embedded,
/// existing): SIGINT, SIGTERM and SIGHUP remove the run's temporary files
/// and half-written reports, let a drill write its partial report, and
/// exit with 128 + the signal's number. Aborted when dropped.
fn exit_cleanly_on_signal() -> AbortOnDrop {
    let signal = opssight_harness::interrupt::listen();
    AbortOnDrop(tokio::spawn(async move {
        let (name, number) = signal.await;
        // On --env existing the system outlives the harness: a scenario cut
        // off midway is put back first, as its after hook would have.
        opssight_harness::env::live_state::put_back_pending(PUT_BACK_ON_SIGNAL).await;
        eprintln!("{name}: removing the run's temporary files");
        opssight_harness::interrupt::run_all(name);
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

async fn drill(opts: DrillOptions) -> anyhow::Result<ExitCode> {
    use opssight_harness::drill::{self, render};
    let (report, files) = drill::run(opts).await?;
    say!(
        "\ndisaster recovery drill: {}",
        render::verdict_label(report.verdict)
    );
    for s in &report.scenarios {
        say!("  {:<18} {}", render::verdict_label(s.verdict), s.name);
        for reason in &s.reasons {
            say!("  {:<18}   - {reason}", "");
        }
    }
    say!(
        "reports: {}, {}, {}, {}",
        files.json.display(),
        files.markdown.display(),
        files.junit.display(),
        files.html.display()
    );
    Ok(if report.verdict == drill::Verdict::Met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn check(
    opts: opssight_harness::checks::weekly::CheckOptions,
    json: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use opssight_harness::checks::weekly as check;
    let kubeconfig = kube::config::Kubeconfig::read().ok();
    let context = kubeconfig.and_then(|k| k.current_context);
    let client = kube::Client::try_default()
        .await
        .map_err(|e| anyhow::anyhow!("connecting to the current kubeconfig context: {e}"))?;
    let report = check::run(&client, context, &opts).await?;
    say_raw!("{}", check::render(&report));
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    Ok(if report.problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn rotation(
    env: RotationEnv,
    endpoint: Option<String>,
    json: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use opssight_harness::checks::rotation;
    use opssight_harness::fixtures::{Fixtures, rotation::load_policies, seed::Seed};
    let fixtures = Fixtures::locate()?;
    let policies = load_policies(&fixtures.rotation_policy())?;
    let seed = Seed::load(&fixtures.seed_file())?;
    let keys = seed
        .secrets
        .iter()
        .map(|(n, kv)| (n.clone(), kv.keys().cloned().collect()))
        .collect();
    let embedded;
    let (sm, now) = match env {
        RotationEnv::Embedded => {
            embedded = opssight_harness::env::embedded::Embedded::start(fixtures).await?;
            (embedded.secrets_manager(), embedded.clock().now())
        }
        RotationEnv::Existing => {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(e) = &endpoint {
                loader = loader.endpoint_url(e);
            }
            (
                aws_sdk_secretsmanager::Client::new(&loader.load().await),
                jiff::Timestamp::now(),
            )
        }
    };
    let rows = rotation::report(&sm, &keys, &policies, now).await?;
    say_raw!("{}", rotation::render(&rows));
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_vec_pretty(&rows)?)?;
    }
    Ok(if rows.iter().any(|r| r.overdue) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether `--env binaries` can run: the built components and their
/// versions, or what is missing.
fn doctor_binaries() {
    use opssight_harness::env::binaries::components::{Components, bin_dir};
    let dir = bin_dir();
    match Components::load(&dir) {
        Ok(c) => {
            say!("binaries: available ({})", dir.display());
            for (what, version, path) in c.files() {
                say!("            {what} {version}: {}", path.display());
            }
            say!("            note: {}", c.eso.note);
        }
        Err(e) => {
            say!("binaries: not available: {e}");
            let go = std::process::Command::new("go").arg("version").output();
            match go {
                Ok(o) if o.status.success() => say!(
                    "            Go is installed ({}): scripts/build-real-components.sh can build them",
                    String::from_utf8_lossy(&o.stdout).trim()
                ),
                _ => say!("            Go is not installed: it is needed once, to build them"),
            }
        }
    }
}

async fn up() -> anyhow::Result<ExitCode> {
    // Caught from before anything starts.
    let signal = opssight_harness::interrupt::listen();
    eprintln!("starting the embedded environment (aws-emulator, kube-emulator, eso-emulator)...");
    let fixtures = opssight_harness::fixtures::Fixtures::locate()?;
    let env = opssight_harness::env::embedded::Embedded::start(fixtures).await?;
    let key = env.admin_key();
    // These are the emulator's own credentials, made for this run.
    say!("export KUBECONFIG={}", env.kubeconfig().display());
    say!("export AWS_ENDPOINT_URL={}", env.sm.aws.endpoint());
    say!("export AWS_ACCESS_KEY_ID={}", key.access_key_id);
    say!("export AWS_SECRET_ACCESS_KEY={}", key.secret_access_key);
    say!("export AWS_DEFAULT_REGION={}", env.seed().region);
    // Last, so readers that stop after the five above still work. The admin
    // paths (/_emulator/) of the aws-emulator answer only this token.
    say!(
        "export {}={}",
        aws_emulator::ADMIN_TOKEN_ENV,
        env.sm.aws.admin_token()
    );
    eprintln!(
        "ready: run the runbook's kubectl and aws commands in a shell with the exports above. Ctrl-C stops everything."
    );
    // SIGTERM and SIGHUP stop it as Ctrl-C does: returning drops the
    // environment, whose directory (the kubeconfig, with its token) goes.
    let (name, _) = signal.await;
    eprintln!("{name}: stopping");
    env.stop_eso().await;
    drop(env);
    Ok(ExitCode::SUCCESS)
}

fn differential(
    embedded: &[PathBuf],
    real: &[PathBuf],
    declared_in: &std::path::Path,
    report_to: Option<&std::path::Path>,
    update: bool,
) -> anyhow::Result<ExitCode> {
    use opssight_harness::differential::compare::{self, Recording};
    let (e, r) = (Recording::load_all(embedded)?, Recording::load_all(real)?);
    let real_name = r
        .properties
        .iter()
        .find(|(k, _)| k == "eso.version")
        .map(|(_, v)| format!("real ESO {v}"))
        .or_else(|| {
            r.properties
                .iter()
                .find(|(k, _)| k == opssight_harness::differential::kube_api::REAL_NAME)
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| r.environment.clone());
    let readme = std::fs::read_to_string(declared_in)
        .map_err(|err| anyhow::anyhow!("{}: {err}", declared_in.display()))?;
    let declared = compare::declared(&readme, declared_in)?;
    let diffs = compare::differences(&e, &r);
    if update {
        let written = compare::with_table(&readme, &compare::table(&diffs, &declared, &real_name))?;
        std::fs::write(declared_in, written)
            .map_err(|err| anyhow::anyhow!("{}: {err}", declared_in.display()))?;
        say!(
            "{}: {} difference(s) written",
            declared_in.display(),
            diffs.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let verdict = compare::check(&diffs, &declared);
    let text = compare::report(&diffs, &verdict, &real_name);
    say_raw!("{text}");
    if let Some(path) = report_to {
        std::fs::write(path, &text).map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
    }
    Ok(if verdict.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `up --env binaries`: the real components until a signal.
async fn up_binaries(
    opts: opssight_harness::env::binaries::BinariesOptions,
) -> anyhow::Result<ExitCode> {
    opssight_harness::env::binaries::with_control_plane(opts, |plane| async move {
        use opssight_harness::env::binaries::Backend;
        say!("export KUBECONFIG={}", plane.kubeconfig.display());
        say!("export AWS_ENDPOINT_URL={}", plane.backend.endpoint());
        // The harness's own credentials, made for this run (moto's are fixed).
        let (id, secret) = match &plane.backend {
            Backend::Emulator(sm) => (
                sm.admin_key.access_key_id.clone(),
                sm.admin_key.secret_access_key.clone(),
            ),
            Backend::Moto { .. } => (
                opssight_harness::env::binaries::MOTO_KEY.0.to_owned(),
                opssight_harness::env::binaries::MOTO_KEY.1.to_owned(),
            ),
        };
        say!("export AWS_ACCESS_KEY_ID={id}");
        say!("export AWS_SECRET_ACCESS_KEY={secret}");
        say!("export AWS_DEFAULT_REGION={}", plane.region);
        // The admin paths (/_emulator/) of the aws-emulator answer only this
        // token; moto has none.
        if let Backend::Emulator(sm) = &plane.backend {
            say!(
                "export {}={}",
                aws_emulator::ADMIN_TOKEN_ENV,
                sm.aws.admin_token()
            );
        }
        eprintln!(
            "ready: {}; kube-apiserver {} at {}. Ctrl-C stops everything.",
            plane.components.summary(),
            plane.apiserver_version,
            plane.server
        );
        // with_control_plane's handler stops everything on SIGINT, SIGTERM
        // and SIGHUP and exits; until then, serve.
        std::future::pending::<()>().await;
        Ok(ExitCode::SUCCESS)
    })
    .await
}

/// What this machine can run: each environment, and why not.
async fn doctor() {
    say!("embedded: available (needs nothing beyond this binary)");
    doctor_binaries();
    match opssight_harness::env::preflight::check().await {
        Ok(found) => {
            say!(
                "kind:     available (Docker reachable; {} on PATH)",
                found.summary()
            );
            for warning in &found.warnings {
                say!("            warning: {warning}");
            }
        }
        Err(e) => {
            say!("kind:     not available:");
            for p in &e.problems {
                say!("            - {}: {}", p.what, p.fix);
            }
        }
    }
    let kubeconfig = opssight_harness::env::existing::default_kubeconfig();
    match kube::config::Kubeconfig::read_from(&kubeconfig) {
        Ok(k) => say!(
            "existing: current context {} (from {})",
            k.current_context.as_deref().unwrap_or("(none set)"),
            kubeconfig.display()
        ),
        Err(_) => say!("existing: no kubeconfig at {}", kubeconfig.display()),
    }
    if opssight_harness::env::kubectl_path().is_none() {
        say!("scenarios tagged @requires-kubectl will be skipped: kubectl is not on PATH");
    }
}
