//! An in-process AWS Secrets Manager (JSON 1.1 protocol) and STS that real
//! clients — the Rust SDK, the aws CLI — talk to over HTTP on 127.0.0.1.
//!
//! Unlike LocalStack's community edition it verifies SigV4 signatures and
//! evaluates IAM policies, so least-privilege and bad-credential cases can be
//! shown; [`AuthMode::AcceptAny`] turns that off. Every call lands in an
//! audit trail without secret values; faults can be switched on per region;
//! the whole state can be snapshotted and restored; time comes from an
//! injectable [`Clock`].
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let emulator = aws_emulator::AwsEmulator::builder().start().await?;
//! let key = emulator.with_iam(|iam| {
//!     iam.create_user("eso")?;
//!     iam.create_access_key("eso")
//! })?;
//! println!("endpoint {} key id {}", emulator.endpoint(), key.access_key_id);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod audit;
pub mod error;
pub mod faults;
pub mod identity;
pub mod model;
pub mod policy;
pub mod secrets;
mod service;
pub mod sigv4;
pub mod snapshot;
mod sts;

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

pub use emulator_core::Clock;
use emulator_core::{ServerError, ServerHandle};

pub use audit::AuditEvent;
pub use error::{AwsError, ErrorCode};
pub use faults::{Outage, RegionFaults};
pub use identity::{AccessKey, Caller, Iam, IamError, OidcProvider};
pub use model::SecretValue;
pub use policy::PolicyDocument;
pub use secrets::{RotationHook, RotationRequest};
pub use snapshot::{Snapshot, SnapshotError};

use service::{Service, Shared};

/// Whether requests must be signed by a known key and allowed by IAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// SigV4 verified, IAM policies enforced (the real service).
    #[default]
    Enforce,
    /// Anything goes, as in LocalStack's community edition.
    AcceptAny,
}

/// The account id unless [`Builder::account_id`] says otherwise.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";
/// The variable `up` and the binary export the admin token in.
pub const ADMIN_TOKEN_ENV: &str = "AWS_EMULATOR_ADMIN_TOKEN";
/// The region of unsigned requests unless [`Builder::default_region`] says
/// otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How an emulator is set up before it starts ([`AwsEmulator::builder`]).
pub struct Builder {
    clock: Clock,
    account_id: String,
    default_region: String,
    auth: AuthMode,
    rotation_hook: Option<RotationHook>,
    audit_capacity: usize,
    admin_token: Option<String>,
}

impl Builder {
    /// The clock for the emulator's own time (key expiry, dates, deletion
    /// windows, rotations); signatures are checked against the wall clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The account in every ARN.
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = account_id.into();
        self
    }

    /// The region of requests that carry no credential scope.
    pub fn default_region(mut self, region: impl Into<String>) -> Self {
        self.default_region = region.into();
        self
    }

    /// Whether signatures and IAM policies are enforced (the default).
    pub fn auth(mut self, auth: AuthMode) -> Self {
        self.auth = auth;
        self
    }

    /// What RotateSecret runs in place of a rotation Lambda.
    pub fn rotation_hook(mut self, hook: RotationHook) -> Self {
        self.rotation_hook = Some(hook);
        self
    }

    /// How many audit events are kept (at least one; 100,000 by default):
    /// past that, the oldest go.
    pub fn audit_capacity(mut self, events: usize) -> Self {
        self.audit_capacity = events.max(1);
        self
    }

    /// The bearer token the `/_emulator/` admin paths require. Without it a
    /// random one is made per emulator; set it only to share one token
    /// between processes of one run.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Starts serving on 127.0.0.1 with an ephemeral port.
    pub async fn start(self) -> Result<AwsEmulator, ServerError> {
        self.start_on(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
    }

    /// Starts serving on `addr`, which must be a loopback address (port 0
    /// for an ephemeral one).
    pub async fn start_on(self, addr: std::net::SocketAddr) -> Result<AwsEmulator, ServerError> {
        let mut secrets = secrets::SecretsManager::new(self.account_id.clone());
        secrets.set_rotation_hook(self.rotation_hook);
        let shared = Arc::new(Shared {
            secrets: Mutex::new(secrets),
            iam: RwLock::new(Iam::new(self.account_id)),
            audit: audit::AuditLog::new(self.audit_capacity),
            signing_keys: sigv4::SigningKeys::new(),
            faults: RwLock::new(faults::Faults::default()),
            clock: self.clock,
            auth: self.auth,
            default_region: self.default_region,
            // 256 random bits from the thread's CSPRNG: the admin paths serve
            // every secret, so the token must not be guessable.
            admin_token: self
                .admin_token
                .unwrap_or_else(|| hex::encode(rand::random::<[u8; 32]>())),
        });
        let server = ServerHandle::start_on(addr, Arc::new(Service(shared.clone()))).await?;
        Ok(AwsEmulator { shared, server })
    }
}

/// A running emulator. Dropping it stops the server.
pub struct AwsEmulator {
    shared: Arc<Shared>,
    server: ServerHandle,
}

impl AwsEmulator {
    /// A builder with the defaults: system clock, [`DEFAULT_ACCOUNT_ID`],
    /// [`DEFAULT_REGION`], [`AuthMode::Enforce`], no rotation hook, a random
    /// admin token.
    pub fn builder() -> Builder {
        Builder {
            clock: Clock::system(),
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            default_region: DEFAULT_REGION.to_owned(),
            auth: AuthMode::Enforce,
            rotation_hook: None,
            audit_capacity: 100_000,
            admin_token: None,
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL` / `AWS_SECRETSMANAGER_ENDPOINT` / `AWS_STS_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        self.server.url()
    }

    /// The address it listens on (127.0.0.1 and its port).
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.server.local_addr()
    }

    /// The account in its ARNs.
    pub fn account_id(&self) -> String {
        self.shared.iam().account_id().to_owned()
    }

    /// The clock it keeps its own time by.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// What `/_emulator/` requests must send as `Authorization: Bearer
    /// TOKEN`. It is a credential: hand it only to the harness and to the
    /// user who started the run (`up` prints it as [`ADMIN_TOKEN_ENV`]).
    pub fn admin_token(&self) -> &str {
        &self.shared.admin_token
    }

    /// Whether it enforces signatures and IAM policies.
    pub fn auth_mode(&self) -> AuthMode {
        self.shared.auth
    }

    /// Reads or changes IAM (users, roles, keys, policies, OIDC providers).
    /// Changes apply from the next call.
    pub fn with_iam<T>(&self, f: impl FnOnce(&mut Iam) -> T) -> T {
        f(&mut self.shared.iam_mut())
    }

    /// The audit trail, oldest first (no secret values).
    pub fn audit_events(&self) -> Vec<AuditEvent> {
        self.shared.audit.events()
    }

    /// Empties the audit trail.
    pub fn clear_audit(&self) {
        self.shared.audit.clear();
    }

    /// Sets the faults of one region (`*` for every region without its own).
    /// `RegionFaults::default()` heals it.
    pub fn set_faults(&self, region: &str, faults: RegionFaults) {
        self.shared.faults_mut().set(region, faults);
    }

    /// Heals every region.
    pub fn clear_faults(&self) {
        self.shared.faults_mut().clear();
    }

    /// Refuses connections (every region) until [`AwsEmulator::resume_listening`].
    pub fn stop_listening(&self) {
        self.server.stop_listening();
    }

    /// Accepts connections again, on the same port.
    pub fn resume_listening(&self) {
        self.server.resume_listening();
    }

    /// Replaces (or with `None` removes) the rotation hook, from the next call.
    pub fn set_rotation_hook(&self, hook: Option<RotationHook>) {
        self.shared.secrets().set_rotation_hook(hook);
    }

    /// The whole Secrets Manager state now, values included.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::take(&self.shared.secrets(), self.shared.clock.now())
    }

    /// Replaces the whole Secrets Manager state with `snapshot`'s.
    pub fn restore(&self, snapshot: Snapshot) {
        snapshot.restore_into(&mut self.shared.secrets());
    }

    /// Writes [`AwsEmulator::snapshot`] to `path` (atomically). It holds
    /// secret values: keep it private.
    pub fn snapshot_to(&self, path: &Path) -> Result<(), SnapshotError> {
        self.snapshot().write_to(path)
    }

    /// Restores a snapshot written by [`AwsEmulator::snapshot_to`].
    pub fn restore_from(&self, path: &Path) -> Result<(), SnapshotError> {
        self.restore(Snapshot::read_from(path)?);
        Ok(())
    }

    /// Stops the server and waits for its connections to close.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
