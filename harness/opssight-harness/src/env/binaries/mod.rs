//! `--env binaries`: the real ESO controller on a real Kubernetes control
//! plane, as local processes on 127.0.0.1, no Docker. etcd,
//! kube-apiserver (its own CA, serving and client certificates and
//! service-account key made for the run, RBAC on, the default admission
//! plugins), kube-controller-manager (namespaces, garbage collection,
//! service accounts and their tokens), ESO's CRDs from its own module, the
//! RBAC its Helm chart renders, and the controller started with a
//! kubeconfig holding its ServiceAccount's token, so it has the chart's
//! rights, not admin's. Secrets Manager is the aws-emulator (on the wall
//! clock) or moto. One control plane serves a run; scenarios take turns.
//!
//! Everything it starts is stopped, and its directory (keys, tokens, etcd's
//! data, logs) removed, on success, failure, panic, SIGINT, SIGTERM and
//! SIGHUP.

pub mod components;
pub mod pki;
pub mod process;
pub mod scenario;

use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};

use self::components::Components;
use self::pki::{Pki, write_private};
use self::process::{Process, Spec, on_free_ports};
use super::capability::Profile;
use super::facets::Facet;
use super::secrets_manager::{EmulatedSecretsManager, sm_client};
use crate::fixtures::Fixtures;
use crate::fixtures::seed::Seed;
use crate::system::{ESO_DEPLOYMENTS, ESO_NAMESPACE, NAMESPACE};

/// The overlay scenarios apply where they apply the local one: the local
/// overlay with a refresh interval short enough to wait for.
pub const OVERLAY: &str = "binaries";
/// What moto accepts (it checks no credentials).
pub const MOTO_KEY: (&str, &str) = ("test", "test");
/// ESO's ServiceAccount, as the chart names it.
pub const ESO_SERVICE_ACCOUNT: &str = "external-secrets";

/// Which Secrets Manager the real ESO talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretsManagerBackend {
    /// The aws-emulator: SigV4, IAM, audit, outages, regions, snapshots.
    #[default]
    Emulator,
    /// moto's server (what LocalStack's Secrets Manager is built on).
    Moto,
}

impl SecretsManagerBackend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Emulator => "aws-emulator",
            Self::Moto => "moto",
        }
    }
}

#[derive(Debug, Clone)]
pub struct BinariesOptions {
    pub fixtures: Fixtures,
    /// Where the built components are (see `components::bin_dir`).
    pub bin_dir: PathBuf,
    pub secrets_manager: SecretsManagerBackend,
    /// How long each component may take to be ready.
    pub start_timeout: Duration,
}

impl BinariesOptions {
    pub fn new(fixtures: Fixtures) -> Self {
        Self {
            fixtures,
            bin_dir: components::bin_dir(),
            secrets_manager: SecretsManagerBackend::Emulator,
            start_timeout: Duration::from_secs(120),
        }
    }
}

/// What a real-time control plane with no kubelet is, and what the chosen
/// Secrets Manager has: the aws-emulator every facet, moto none.
pub fn profile(backend: SecretsManagerBackend) -> Profile {
    let lacks = match backend {
        SecretsManagerBackend::Emulator => Vec::new(),
        SecretsManagerBackend::Moto => vec![
            (
                Facet::Iam,
                "moto checks neither signatures nor IAM policies",
            ),
            (
                Facet::Audit,
                "moto keeps no audit trail the harness can read",
            ),
            (
                Facet::Regions,
                "one moto server serves every region; one cannot fail alone",
            ),
            (Facet::Snapshots, "moto's state cannot be snapshotted here"),
            (
                Facet::Outage,
                "stopping moto loses its state, and pausing it makes ESO's calls hang (ESO sets no timeout on them)",
            ),
        ],
    };
    Profile {
        lacks,
        wall_clock: Some("the real ESO and kube-apiserver run on the wall clock"),
        local_overlay: OVERLAY,
        no_kubelet: Some("the binaries environment runs no kubelet: pods are never run"),
        no_irsa: Some(
            "the real kube-apiserver's ServiceAccount token issuer is not registered as an OIDC provider in the aws-emulator's IAM",
        ),
    }
}

/// The Secrets Manager behind the real ESO.
pub enum Backend {
    Emulator(EmulatedSecretsManager),
    Moto {
        process: Mutex<Process>,
        endpoint: String,
        client: aws_sdk_secretsmanager::Client,
    },
}

impl Backend {
    pub fn endpoint(&self) -> String {
        match self {
            Self::Emulator(e) => e.aws.endpoint(),
            Self::Moto { endpoint, .. } => endpoint.clone(),
        }
    }

    /// The harness's own client, with rights to change everything.
    pub fn admin(&self) -> aws_sdk_secretsmanager::Client {
        match self {
            Self::Emulator(e) => e.admin.clone(),
            Self::Moto { client, .. } => client.clone(),
        }
    }

    /// The key `aws-secret` holds for the controller.
    pub fn controller_key(&self) -> aws_emulator::AccessKey {
        match self {
            Self::Emulator(e) => e.eso_key.clone(),
            Self::Moto { .. } => aws_emulator::AccessKey {
                access_key_id: MOTO_KEY.0.into(),
                secret_access_key: MOTO_KEY.1.into(),
                session_token: None,
                expiration: None,
            },
        }
    }
}

/// The real ESO controller's process, and how to start it again.
struct Controller {
    process: Option<Process>,
    /// Its arguments but the addresses it listens on, which each start
    /// picks anew (a port it held before may have been taken meanwhile).
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// A running control plane with the real ESO.
pub struct ControlPlane {
    // Fields drop in order: the controller first, etcd last, the directory
    // (keys, tokens, etcd's data, logs) after every process is gone.
    controller: Mutex<Controller>,
    controller_stopped: AtomicBool,
    controller_manager: Process,
    apiserver: Mutex<Process>,
    etcd: Process,
    pub backend: Backend,
    pub components: Components,
    pub opts: BinariesOptions,
    /// The harness's (system:masters) kubeconfig.
    pub kubeconfig: PathBuf,
    pub client: kube::Client,
    pub server: String,
    /// What `GET /version` of the API server said.
    pub apiserver_version: String,
    /// The pid of the kube-apiserver process.
    pub apiserver_pid: u32,
    pub region: String,
    dir: tempfile::TempDir,
}

/// The run's directory: 0700, removed at the end; a signal handler removes
/// it too, so its path is kept where the handler finds it.
static RUN_DIR: Mutex<Option<PathBuf>> = Mutex::new(None);

fn kubeconfig_json(server: &str, ca: &Path, user: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{ "name": "opssight-harness-binaries", "cluster": {
            "server": server, "certificate-authority": ca } }],
        "users": [{ "name": "user", "user": user }],
        "contexts": [{ "name": "opssight-harness-binaries", "context": {
            "cluster": "opssight-harness-binaries", "user": "user",
            "namespace": NAMESPACE } }],
        "current-context": "opssight-harness-binaries",
    })
}

/// `GET path` over plain HTTP on 127.0.0.1: the status code, if it answered.
async fn http_status(port: u16, path: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect((std::net::Ipv4Addr::LOCALHOST, port))
        .await
        .ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .ok()?
        .ok()?;
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace().nth(1)?.parse().ok()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

impl ControlPlane {
    /// Starts everything, in order, each waited for before the next.
    pub async fn up(opts: BinariesOptions) -> anyhow::Result<Self> {
        let components = Components::load(&opts.bin_dir)?;
        let dir = tempfile::Builder::new()
            .prefix("opssight-harness-binaries-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .context("creating the run's directory")?;
        *RUN_DIR.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.path().to_owned());
        let d = dir.path();
        let timeout = opts.start_timeout;
        let pki = Pki::generate(d)?;

        // etcd
        let etcd_path = &components.etcd.path;
        let (etcd, client_url) = on_free_ports("etcd", |[client_port, peer_port]| async move {
            let client_url = format!("http://127.0.0.1:{client_port}");
            let peer_url = format!("http://127.0.0.1:{peer_port}");
            let data_dir = d.join("etcd");
            // An attempt that lost a port may have begun a member with
            // other URLs there.
            if data_dir.exists() {
                std::fs::remove_dir_all(&data_dir)
                    .with_context(|| format!("removing {}", data_dir.display()))?;
            }
            let mut etcd = Process::spawn(Spec {
                name: "etcd",
                program: etcd_path,
                args: vec![
                    "--name=default".into(),
                    format!("--data-dir={}", data_dir.display()),
                    format!("--listen-client-urls={client_url}"),
                    format!("--advertise-client-urls={client_url}"),
                    format!("--listen-peer-urls={peer_url}"),
                    format!("--initial-advertise-peer-urls={peer_url}"),
                    format!("--initial-cluster=default={peer_url}"),
                    // A run's data is thrown away at its end: no fsync per write.
                    "--unsafe-no-fsync".into(),
                ],
                env: vec![],
                log: d.join("etcd.log"),
            })?;
            etcd.wait_ready(
                &format!("etcd to be healthy on {client_url}"),
                timeout,
                || async { http_status(client_port, "/health").await == Some(200) },
            )
            .await?;
            Ok((etcd, client_url))
        })
        .await?;

        // kube-apiserver
        let issuer = "https://kubernetes.default.svc.cluster.local";
        let path = |p: &Path| p.display().to_string();
        let admin_kubeconfig = d.join("admin.kubeconfig");
        let (apiserver_path, pki, client_url, admin_kc) = (
            &components.kube_apiserver.path,
            &pki,
            &client_url,
            &admin_kubeconfig,
        );
        let (apiserver, server, client) =
            on_free_ports("kube-apiserver", |[api_port]| async move {
                let server = format!("https://127.0.0.1:{api_port}");
                let mut apiserver = Process::spawn(Spec {
                    name: "kube-apiserver",
                    program: apiserver_path,
                    args: vec![
                        format!("--etcd-servers={client_url}"),
                        "--bind-address=127.0.0.1".into(),
                        "--advertise-address=127.0.0.1".into(),
                        format!("--secure-port={api_port}"),
                        format!("--cert-dir={}", d.join("apiserver").display()),
                        format!("--tls-cert-file={}", path(&pki.apiserver.cert)),
                        format!("--tls-private-key-file={}", path(&pki.apiserver.key)),
                        format!("--client-ca-file={}", path(&pki.ca_cert)),
                        format!("--service-account-issuer={issuer}"),
                        format!("--api-audiences={issuer}"),
                        format!("--service-account-key-file={}", path(&pki.sa_public)),
                        format!(
                            "--service-account-signing-key-file={}",
                            path(&pki.sa_private)
                        ),
                        "--service-cluster-ip-range=10.0.0.0/24".into(),
                        "--authorization-mode=RBAC".into(),
                        // No kubelet, no nodes: the "kubernetes" Service's endpoint
                        // would be 127.0.0.1, which Endpoints refuse.
                        "--endpoint-reconciler-type=none".into(),
                        "--profiling=false".into(),
                    ],
                    env: vec![],
                    log: d.join("kube-apiserver.log"),
                })?;
                write_private(
                    admin_kc,
                    serde_json::to_string_pretty(&kubeconfig_json(
                        &server,
                        &pki.ca_cert,
                        serde_json::json!({
                        "client-certificate": pki.admin.cert, "client-key": pki.admin.key }),
                    ))?
                    .as_bytes(),
                )?;
                let client = super::cluster::client_for(admin_kc).await?;
                let ready_client = client.clone();
                apiserver
                    .wait_ready(
                        &format!("kube-apiserver to be ready (GET {server}/readyz)"),
                        timeout,
                        move || {
                            let client = ready_client.clone();
                            async move {
                                let req = http::Request::get("/readyz").body(Vec::new());
                                match req {
                                    Ok(req) => {
                                        client.request_text(req).await.is_ok_and(|t| t == "ok")
                                    }
                                    Err(_) => false,
                                }
                            }
                        },
                    )
                    .await?;
                Ok((apiserver, server, client))
            })
            .await?;
        let apiserver_version = client
            .apiserver_version()
            .await
            .context("GET /version of kube-apiserver")?
            .git_version;

        // ESO's CRDs before kube-controller-manager starts: its garbage
        // collector and namespace controller discover resources when they
        // start and then only every 30 s, so CRDs installed after them go
        // unseen for up to that long: Secrets owned by a deleted
        // ExternalSecret then wait ~40 s for their garbage collection, as
        // they would not on a cluster whose controllers have long known
        // ESO's kinds.
        install_crds(&client, &components.eso.crds, timeout).await?;

        // kube-controller-manager
        let kcm_kubeconfig = d.join("kube-controller-manager.kubeconfig");
        write_private(
            &kcm_kubeconfig,
            serde_json::to_string_pretty(&kubeconfig_json(
                &server,
                &pki.ca_cert,
                serde_json::json!({
                    "client-certificate": pki.controller_manager.cert,
                    "client-key": pki.controller_manager.key }),
            ))?
            .as_bytes(),
        )?;
        let mut controller_manager = Process::spawn(Spec {
            name: "kube-controller-manager",
            program: &components.kube_controller_manager.path,
            args: vec![
                format!("--kubeconfig={}", path(&kcm_kubeconfig)),
                // It serves nothing: no port at all, on any address.
                "--secure-port=0".into(),
                "--controllers=namespace-controller,garbage-collector-controller,serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller".into(),
                format!("--service-account-private-key-file={}", path(&pki.sa_private)),
                format!("--root-ca-file={}", path(&pki.ca_cert)),
                // Each controller as its own ServiceAccount, with the
                // bootstrap role RBAC gives it (system:controller:*), as a
                // kubeadm cluster runs them; the manager's own identity may
                // do little more than that.
                "--use-service-account-credentials=true".into(),
                "--leader-elect=false".into(),
            ],
            env: vec![],
            log: d.join("kube-controller-manager.log"),
        })?;
        {
            // Its service-account controller gives every namespace its
            // "default" ServiceAccount: a sign it is running.
            let sas = Api::<ServiceAccount>::namespaced(client.clone(), "default");
            controller_manager
                .wait_ready(
                    "kube-controller-manager to create the default ServiceAccount",
                    timeout,
                    move || {
                        let sas = sas.clone();
                        async move { sas.get_opt("default").await.ok().flatten().is_some() }
                    },
                )
                .await?;
        }

        // Secrets Manager
        let seed = Seed::load(&opts.fixtures.seed_file())?;
        let backend = match opts.secrets_manager {
            SecretsManagerBackend::Emulator => Backend::Emulator(
                EmulatedSecretsManager::start(
                    emulator_core::Clock::system(),
                    &opts.fixtures,
                    &seed,
                )
                .await?,
            ),
            SecretsManagerBackend::Moto => start_moto(d, &seed, timeout).await?,
        };
        if matches!(backend, Backend::Moto { .. }) {
            super::secrets_manager::seed_secrets(&backend.admin(), &seed, true).await?;
        }

        // ESO: the chart's RBAC, a token, the controller.
        install_chart(&client, &components.eso.chart).await?;
        let token = Api::<ServiceAccount>::namespaced(client.clone(), ESO_NAMESPACE)
            .create_token_request(
                ESO_SERVICE_ACCOUNT,
                &PostParams::default(),
                &TokenRequest {
                    spec: Some(k8s_openapi::api::authentication::v1::TokenRequestSpec {
                        audiences: Some(vec![issuer.into()]),
                        expiration_seconds: Some(48 * 3600),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )
            .await
            .context("requesting a token for ESO's ServiceAccount")?
            .status
            .map(|s| s.token)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the TokenRequest for ESO's ServiceAccount came back without a token"
                )
            })?;
        let eso_kubeconfig = d.join("external-secrets.kubeconfig");
        write_private(
            &eso_kubeconfig,
            serde_json::to_string_pretty(&kubeconfig_json(
                &server,
                &pki.ca_cert,
                serde_json::json!({ "token": token }),
            ))?
            .as_bytes(),
        )?;
        let eso_home = d.join("eso-home");
        std::fs::DirBuilder::new().mode(0o700).create(&eso_home)?;
        let endpoint = backend.endpoint();
        let controller = Controller {
            process: None,
            args: vec![
                "--concurrent=1".into(),
                "--enable-leader-election=false".into(),
                "--loglevel=info".into(),
                "--zap-time-encoding=iso8601".into(),
            ],
            env: vec![
                ("KUBECONFIG".into(), path(&eso_kubeconfig)),
                ("HOME".into(), path(&eso_home)),
                ("AWS_SECRETSMANAGER_ENDPOINT".into(), endpoint.clone()),
                ("AWS_STS_ENDPOINT".into(), endpoint),
                // Never ask an instance-metadata address for credentials.
                ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ],
        };
        let region = seed.region.clone();
        let plane = Self {
            controller: Mutex::new(controller),
            controller_stopped: AtomicBool::new(true),
            controller_manager,
            apiserver_pid: apiserver.pid(),
            apiserver: Mutex::new(apiserver),
            etcd,
            backend,
            components,
            kubeconfig: admin_kubeconfig,
            client,
            server,
            apiserver_version,
            region,
            opts,
            dir,
        };
        plane.start_controller().await?;
        super::cluster::publish_deployment(
            &plane.client,
            &emulator_core::Clock::system(),
            ESO_DEPLOYMENTS[0],
            true,
        )
        .await?;
        plane.apply_overlay(OVERLAY).await?;
        Ok(plane)
    }

    /// Applies a fixture overlay, `aws-secret` (the controller's key)
    /// before the store when it is missing.
    pub async fn apply_overlay(&self, overlay: &str) -> anyhow::Result<()> {
        super::apply::apply_overlay_with_key(
            &self.client,
            self.fixtures(),
            overlay,
            &[],
            &self.backend.controller_key(),
        )
        .await
    }

    pub fn fixtures(&self) -> &Fixtures {
        &self.opts.fixtures
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts the ESO controller process and waits for its health endpoint.
    async fn start_controller(&self) -> anyhow::Result<()> {
        let (args, env) = {
            let c = self.controller.lock().unwrap_or_else(|e| e.into_inner());
            (c.args.clone(), c.env.clone())
        };
        let (args, env) = (&args, &env);
        let process = on_free_ports("ESO's controller", |[metrics, live]| async move {
            let mut args = args.clone();
            // Its defaults (:8080, :8082) listen on every interface.
            args.extend([
                format!("--metrics-addr=127.0.0.1:{metrics}"),
                format!("--live-addr=127.0.0.1:{live}"),
            ]);
            let mut process = Process::spawn(Spec {
                name: "external-secrets",
                program: &self.components.eso.path,
                args,
                env: env.clone(),
                log: self.dir.path().join("external-secrets.log"),
            })?;
            process
                .wait_ready(
                    &format!("ESO's controller to answer on 127.0.0.1:{live}/healthz"),
                    self.opts.start_timeout,
                    || async move { http_status(live, "/healthz").await == Some(200) },
                )
                .await?;
            Ok(process)
        })
        .await?;
        self.controller
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .process = Some(process);
        self.controller_stopped.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Starts the controller again (after `stop_eso`).
    pub async fn start_eso(&self) -> anyhow::Result<()> {
        self.start_controller().await?;
        super::cluster::publish_deployment(
            &self.client,
            &emulator_core::Clock::system(),
            ESO_DEPLOYMENTS[0],
            true,
        )
        .await
    }

    /// Stops the controller process (SIGTERM, as Kubernetes stops a pod).
    pub async fn stop_eso(&self) -> anyhow::Result<()> {
        let process = self
            .controller
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .process
            .take();
        if let Some(mut p) = process {
            tokio::task::spawn_blocking(move || p.stop(Duration::from_secs(10))).await?;
        }
        self.controller_stopped.store(true, Ordering::SeqCst);
        super::cluster::publish_deployment(
            &self.client,
            &emulator_core::Clock::system(),
            ESO_DEPLOYMENTS[0],
            false,
        )
        .await
    }

    pub fn eso_running(&self) -> bool {
        !self.controller_stopped.load(Ordering::SeqCst)
    }

    /// The pid of the ESO process running now.
    pub fn eso_pid(&self) -> Option<u32> {
        self.controller
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .process
            .as_ref()
            .map(Process::pid)
    }

    /// Every process of the control plane running now, named.
    pub fn pids(&self) -> Vec<(String, u32)> {
        let mut out = vec![
            ("etcd".to_owned(), self.etcd.pid()),
            ("kube-apiserver".to_owned(), self.apiserver_pid),
            (
                "kube-controller-manager".to_owned(),
                self.controller_manager.pid(),
            ),
        ];
        if let Some(p) = self.eso_pid() {
            out.push(("external-secrets".into(), p));
        }
        if let Backend::Moto { process, .. } = &self.backend {
            out.push((
                "moto".into(),
                process.lock().unwrap_or_else(|e| e.into_inner()).pid(),
            ));
        }
        out
    }

    /// The last lines of the ESO process's log.
    pub fn eso_log(&self, n: usize) -> Vec<String> {
        process::tail(&self.dir.path().join("external-secrets.log"), n)
    }

    /// The last lines of the API server's log, less the etcd client's
    /// connection chatter (grpc's, a line per reconnect).
    pub fn apiserver_log(&self, n: usize) -> Vec<String> {
        let lines = self
            .apiserver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .log_tail(n * 20);
        let mut kept: Vec<String> = lines
            .into_iter()
            .filter(|l| !l.contains("] [core] [Channel #"))
            .collect();
        kept.drain(..kept.len().saturating_sub(n));
        kept
    }
}

async fn start_moto(dir: &Path, seed: &Seed, timeout: Duration) -> anyhow::Result<Backend> {
    let program = crate::files::on_path("moto_server").ok_or_else(|| {
        anyhow::anyhow!(
            "--secrets-manager moto: moto_server is not on PATH (pip install \"moto[server]\")"
        )
    })?;
    // moto is Python: it needs PATH (and HOME for pyenv's shims).
    let env: Vec<(String, String)> = ["PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
    let (program, env) = (&program, &env);
    let (process, port) = on_free_ports("moto", |[port]| async move {
        let mut process = Process::spawn(Spec {
            name: "moto",
            program,
            args: strings(&["-H", "127.0.0.1", "-p", &port.to_string()]),
            env: env.clone(),
            log: dir.join("moto.log"),
        })?;
        process
            .wait_ready(
                &format!("moto to answer on 127.0.0.1:{port}"),
                timeout,
                || async move { http_status(port, "/moto-api/").await.is_some() },
            )
            .await?;
        Ok((process, port))
    })
    .await?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = sm_client(
        &endpoint,
        &aws_emulator::AccessKey {
            access_key_id: MOTO_KEY.0.into(),
            secret_access_key: MOTO_KEY.1.into(),
            session_token: None,
            expiration: None,
        },
        &seed.region,
    );
    Ok(Backend::Moto {
        process: Mutex::new(process),
        endpoint,
        client,
    })
}

/// ESO's CRDs from its module, applied and waited for until Established.
async fn install_crds(client: &kube::Client, crds: &Path, timeout: Duration) -> anyhow::Result<()> {
    let manifests = crate::fixtures::manifests::load_file(crds)?;
    let mut names = Vec::new();
    for m in manifests
        .iter()
        .filter(|m| m.kind() == "CustomResourceDefinition")
    {
        super::apply::apply(client, &m.object)
            .await
            .with_context(|| format!("installing the CRD {} from {}", m.name(), crds.display()))?;
        names.push(m.name().to_owned());
    }
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    for name in names {
        crate::wait::within(
            timeout,
            &format!("the CRD {name} to be Established"),
            kube::runtime::wait::await_condition(
                api.clone(),
                &name,
                kube::runtime::wait::conditions::is_crd_established(),
            ),
        )
        .await??;
    }
    Ok(())
}

/// The kinds of ESO's rendered chart that give the controller its identity
/// and rights, and its Deployment (which stands for the process; there is no
/// kubelet to run it).
const CHART_KINDS: [&str; 6] = [
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Deployment",
];

async fn install_chart(client: &kube::Client, chart: &Path) -> anyhow::Result<()> {
    super::apply::apply(
        client,
        &serde_json::json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": ESO_NAMESPACE } }),
    )
    .await?;
    let manifests = crate::fixtures::manifests::load_file(chart)?;
    let mut ordered: Vec<_> = manifests
        .iter()
        .filter(|m| CHART_KINDS.contains(&m.kind()))
        .collect();
    ordered.sort_by_key(|m| CHART_KINDS.iter().position(|k| *k == m.kind()));
    for m in ordered {
        let mut object = m.object.clone();
        if m.kind() == "Deployment" {
            object["metadata"]["annotations"]["opssight-harness/emulated-by"] = serde_json::json!(
                "a local external-secrets process (opssight-harness --env binaries)"
            );
        }
        super::apply::apply(client, &object)
            .await
            .with_context(|| {
                format!(
                    "applying {} {} from {}",
                    m.kind(),
                    m.name(),
                    chart.display()
                )
            })?;
    }
    Ok(())
}

/// Brings the control plane up, runs `body` on it, and stops it all after:
/// on success, on an error, while a panic unwinds, and on SIGINT, SIGTERM
/// or SIGHUP (every process stopped and the run's directory removed before
/// the harness exits with 128 + the signal's number).
pub async fn with_control_plane<T, F, Fut>(opts: BinariesOptions, body: F) -> anyhow::Result<T>
where
    F: FnOnce(Arc<ControlPlane>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let interrupt = tokio::spawn(on_signal_stop_everything());
    eprintln!(
        "binaries environment: starting etcd, kube-apiserver, kube-controller-manager, {} and ESO's controller from {}",
        opts.secrets_manager.name(),
        opts.bin_dir.display()
    );
    let plane = match ControlPlane::up(opts).await {
        Ok(p) => Arc::new(p),
        Err(e) => {
            interrupt.abort();
            clear_run_dir();
            return Err(e.context("starting the binaries environment"));
        }
    };
    eprintln!(
        "binaries environment ready: kube-apiserver {} (pid {}), ESO {} (pid {}), Secrets Manager: {} at {}",
        plane.apiserver_version,
        plane.apiserver_pid,
        plane.components.eso.version,
        plane.eso_pid().unwrap_or_default(),
        plane.opts.secrets_manager.name(),
        plane.backend.endpoint()
    );
    let result = body(plane.clone()).await;
    interrupt.abort();
    drop(plane);
    clear_run_dir();
    result
}

fn clear_run_dir() {
    RUN_DIR.lock().unwrap_or_else(|e| e.into_inner()).take();
}

async fn on_signal_stop_everything() {
    let (name, number) = crate::interrupt::signal().await;
    eprintln!("{name}: stopping the control plane and removing its files");
    process::stop_all(Duration::from_secs(5));
    if let Some(dir) = RUN_DIR.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = std::fs::remove_dir_all(dir);
    }
    // The scenarios' kubeconfigs, partial reports, a drill's report.
    crate::interrupt::run_all(name);
    std::process::exit(128 + number);
}
