//! An in-process Kubernetes API server over HTTPS on 127.0.0.1 that the real
//! clients (kube-rs, kubectl) talk to unchanged. It is generic over kinds:
//! the built-in ones it needs (Namespace, Secret, ConfigMap, ServiceAccount,
//! Event, Deployment, ReplicaSet and Pod, CustomResourceDefinition, the
//! self-subject reviews) and any kind a CRD adds, validated and defaulted by
//! the CRD's schema. Deployments get ReplicaSets and Pods, whose containers
//! an embedder can stand in for with a [`PodRunner`] (see `workloads`).
//!
//! Semantics the scenarios rely on follow the real server: one global
//! resourceVersion counter, watches that resume from a version (410 Gone
//! when too old), generation and status subresources, optimistic
//! concurrency, finalizers, owner references with garbage collection,
//! namespace deletion, `Status` errors with the real reasons and codes, and
//! ServiceAccount tokens signed by a key whose set the server publishes.

#![warn(missing_docs)]

mod admission;
mod api;
mod auth;
mod crd;
mod discovery;
pub mod error;
mod events;
mod go_json;
mod jsonpath;
mod kinds;
mod list;
mod metadata;
mod ordered;
mod owners;
mod patch;
mod path;
mod pod_log;
mod printers;
mod protobuf;
mod scale;
mod schema;
mod selector;
mod service;
mod store;
mod table;
mod tls;
mod tokens;
mod watch;
mod workloads;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use admission::{AdmissionHook, AdmissionRequest, Operation};
pub use auth::User;
pub use emulator_core::Clock;
use emulator_core::{HttpService, InProcess, ServerError, ServerHandle};
pub use error::ApiError;
use rand::Rng;
pub use service::Faults;
use service::{Service, Shared};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
pub use workloads::{PodLog, PodRef, PodRunner};

/// The `iss` of ServiceAccount tokens unless [`Builder::issuer`] says
/// otherwise: a cluster's own issuer, as kind's is.
pub const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listener could not be opened.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The ServiceAccount token signing key could not be made.
    #[error(transparent)]
    Key(#[from] tokens::KeyError),
    /// The serving certificate could not be made.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The namespaces every cluster has could not be created.
    #[error("creating the system namespaces: {0}")]
    Bootstrap(#[from] ApiError),
}

/// How the server is set up before it starts: its clock, token issuer,
/// watch history, admission hooks and user.
pub struct Builder {
    clock: Clock,
    issuer: String,
    watch_log: usize,
    hooks: Vec<Arc<dyn AdmissionHook>>,
    user: User,
}

impl Builder {
    /// Who the bearer token authenticates as (`kubectl auth whoami`);
    /// by default `kube-emulator-admin` in `system:masters`.
    pub fn user(mut self, user: User) -> Self {
        self.user = user;
        self
    }

    /// The clock of creation and deletion timestamps, token lifetimes,
    /// Events and the `Date` header: a virtual one lets a test move the
    /// server's time forward.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The `iss` of ServiceAccount tokens (an EKS cluster's OIDC issuer, say).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// How many changes watches can resume from (older: 410 Gone).
    pub fn watch_log(mut self, changes: usize) -> Self {
        self.watch_log = changes.max(16);
        self
    }

    /// Adds an admission hook, run on every write of the kinds it handles.
    pub fn admission_hook(mut self, hook: Arc<dyn AdmissionHook>) -> Self {
        self.hooks.push(hook);
        self
    }

    /// Starts the server on 127.0.0.1 on an ephemeral port.
    pub async fn start(self) -> Result<KubeEmulator, StartError> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts the server on `addr`, which must be a loopback address.
    pub async fn start_on(self, addr: SocketAddr) -> Result<KubeEmulator, StartError> {
        let issuer = Arc::new(tokens::TokenIssuer::new(self.issuer)?);
        let mut api = api::Api::new(self.clock, issuer, self.watch_log);
        api.create_system_namespaces()?;
        api.hooks = self.hooks;
        let token: String = {
            const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
            let mut rng = rand::rng();
            (0..48)
                .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
                .collect()
        };
        let shared = Arc::new(Shared {
            api: Mutex::new(api),
            token,
            user: self.user,
            runners: Default::default(),
            faults: Mutex::new(Faults::default()),
            server_address: Mutex::new(String::new()),
            stop: CancellationToken::new(),
            wake: Notify::new(),
        });
        let tls = tls::generate()?;
        // Namespaces there at the start get their defaults on the
        // controllers' first pass.
        shared.api().root_ca = Some(tls.ca_pem.clone());
        shared.wake.notify_one();
        let server =
            ServerHandle::start_tls(addr, Arc::new(Service(shared.clone())), tls.config).await?;
        if let Ok(mut a) = shared.server_address.lock() {
            *a = server.local_addr().to_string();
        }
        tokio::spawn(shared.clone().run_controllers());
        Ok(KubeEmulator {
            shared,
            server,
            ca_pem: tls.ca_pem,
        })
    }
}

/// A running API server. Dropping it stops the server, its watches and its
/// controllers.
pub struct KubeEmulator {
    shared: Arc<Shared>,
    server: ServerHandle,
    ca_pem: String,
}

impl Drop for KubeEmulator {
    fn drop(&mut self) {
        self.shared.stop.cancel();
    }
}

impl KubeEmulator {
    /// A server with the system clock, [`DEFAULT_ISSUER`], a watch history
    /// of 100,000 changes, no admission hooks and the default [`User`].
    pub fn builder() -> Builder {
        Builder {
            clock: Clock::system(),
            issuer: DEFAULT_ISSUER.to_owned(),
            watch_log: 100_000,
            hooks: Vec::new(),
            user: User::default(),
        }
    }

    /// `https://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The PEM of the CA that signed the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The bearer token clients must send.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// A kubeconfig with one context, `kube-emulator`, for this server.
    pub fn kubeconfig(&self, namespace: Option<&str>) -> String {
        use base64::Engine;
        let ns = namespace
            .map(|n| format!("\n    namespace: {n}"))
            .unwrap_or_default();
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-emulator\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\ncontexts:\n- name: kube-emulator\n  context:\n    cluster: kube-emulator\n    user: kube-emulator{ns}\ncurrent-context: kube-emulator\nusers:\n- name: kube-emulator\n  user:\n    token: {}\n",
            self.url(),
            self.shared.token
        )
    }

    /// Writes the kubeconfig readable by its owner only (it holds the
    /// token): 0600 from the moment the file is created, and an existing
    /// file made 0600 before the token goes in.
    pub fn write_kubeconfig(&self, path: &Path, namespace: Option<&str>) -> std::io::Result<()> {
        use std::io::Write as _;
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(self.kubeconfig(namespace).as_bytes())
    }

    /// The server's clock (a clone sharing its time).
    pub fn clock(&self) -> Clock {
        self.shared.api().clock.clone()
    }

    /// The `iss` of the ServiceAccount tokens it signs.
    pub fn issuer(&self) -> String {
        self.shared.api().tokens.issuer().to_owned()
    }

    /// The ServiceAccount token signing keys, as `/openid/v1/jwks` serves them.
    pub fn jwks(&self) -> serde_json::Value {
        self.shared.api().tokens.jwks()
    }

    /// Runs the Pods of the Deployment `namespace/deployment` with `runner`:
    /// it is started when one of them is scheduled and stopped when it is
    /// deleted (scaling the Deployment to 0 stops it). Set it before the
    /// Deployment's first Pod, or that Pod runs without it.
    pub fn run_pods_of(&self, namespace: &str, deployment: &str, runner: Arc<dyn PodRunner>) {
        self.shared.runners.set(namespace, deployment, runner);
    }

    /// Adds an admission hook to the running server, for the writes after it.
    pub fn add_admission_hook(&self, hook: Arc<dyn AdmissionHook>) {
        self.shared.api().hooks.push(hook);
    }

    /// Every request answers 503 while set.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.shared.faults().unavailable = unavailable;
    }

    /// Every request waits `latency` before it is answered (None: no wait).
    pub fn set_latency(&self, latency: Option<Duration>) {
        self.shared.faults().latency = latency;
    }

    /// Requests to this server from this process, without a connection:
    /// answered as requests over HTTPS are (the bearer token checked, the
    /// faults applied, watches streamed), without the TLS and HTTP/1
    /// framing that cost an in-process client most of its CPU. For
    /// `kube::Client::new`, under the kubeconfig's auth layer. A stopped
    /// server answers them as a closed connection; `stop_listening` does
    /// not reach them. A client over it does not keep the server alive
    /// (so a runner the server holds may hold one).
    pub fn in_process(&self) -> InProcess<impl HttpService + use<>> {
        InProcess::new(Arc::new(service::InProcessService(Arc::downgrade(
            &self.shared,
        ))))
    }

    /// Refuses connections until [`KubeEmulator::resume_listening`].
    pub fn stop_listening(&self) {
        self.server.stop_listening();
    }

    /// Accepts connections again, on the same port.
    pub fn resume_listening(&self) {
        self.server.resume_listening();
    }

    /// The address it listens on (127.0.0.1 and its port).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Stops the server, its watches and its controllers, as dropping it
    /// does, for a caller that wants the stop written out.
    pub async fn shutdown(self) {
        self.shared.stop.cancel();
        // Moving the server out of `self` is not possible with Drop; stop it in place.
        self.server.stop_listening();
    }
}

impl KubeEmulator {
    /// Creates an object in-process (no HTTP), as a POST to `collection`
    /// would: for bootstrapping before any client is set up.
    pub fn create_json(&self, collection: &str, body: &str) -> Result<(), ApiError> {
        let mut api = self.shared.api();
        let target = path::parse(collection, &api.catalogue)?;
        let path::Target::Collection { rt, namespace } = target else {
            return Err(ApiError::bad_request(format!(
                "{collection} is not a collection"
            )));
        };
        let obj = api.decode(&rt, api::BodyFormat::Json, body.as_bytes())?;
        api.create(&rt, namespace.as_deref(), obj, &Default::default())
            .map(|_| ())
    }
}
