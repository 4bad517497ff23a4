//! What only some environments let a scenario do, each a facet an
//! environment may have (`Environment::iam()`, ...): where it has one, the
//! capability it stands for follows (`Capability::of`); where it has none, the scenarios
//! needing it are skipped before they start. The aws-emulator provides
//! all of them (`secrets_manager::EmulatedSecretsManager`); kind provides
//! an outage (LocalStack's container stopped); a live system none.

use aws_emulator::{AccessKey, AuditEvent, PolicyDocument, Snapshot};
use futures::future::BoxFuture;

/// The optional parts of an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Facet {
    Iam,
    Audit,
    Outage,
    Snapshots,
    Regions,
}

impl Facet {
    pub const ALL: [Facet; 5] = [
        Self::Iam,
        Self::Audit,
        Self::Outage,
        Self::Snapshots,
        Self::Regions,
    ];

    /// What a step needing it says where it is absent.
    pub fn what(self) -> &'static str {
        match self {
            Self::Iam => "Secrets Manager's IAM (the aws-emulator's)",
            Self::Audit => "Secrets Manager's audit trail (the aws-emulator's)",
            Self::Outage => "a Secrets Manager it can make unreachable",
            Self::Snapshots => "Secrets Manager snapshots (the aws-emulator's)",
            Self::Regions => "Secrets Manager regions that fail alone (the aws-emulator's)",
        }
    }
}

/// Secrets Manager's IAM: the controller's principal and its policies.
pub trait Iam: Send + Sync {
    fn account_id(&self) -> String;
    /// The key of the controller's IAM user (the one `aws-secret` holds).
    fn controller_key(&self) -> AccessKey;
    /// A Secrets Manager client acting as the controller's principal.
    fn as_controller(&self) -> aws_sdk_secretsmanager::Client;
    /// Adds (or replaces) a policy of the controller's user.
    fn put_controller_policy(&self, name: &str, policy: PolicyDocument) -> anyhow::Result<()>;
    fn delete_controller_policy(&self, name: &str) -> anyhow::Result<()>;
    /// The names of the controller's user's policies.
    fn controller_policies(&self) -> Vec<String>;
    /// The OIDC issuers whose ServiceAccount tokens IAM trusts.
    fn trusted_issuers(&self) -> Vec<String>;
    /// IAM trusts no cluster's tokens any more.
    fn distrust_issuers(&self);
}

/// Secrets Manager's audit trail.
pub trait Audit: Send + Sync {
    fn account_id(&self) -> String;
    fn events(&self) -> Vec<AuditEvent>;
}

/// Secrets Manager made unreachable for the controller, and reachable again.
pub trait Outage: Send + Sync {
    fn set_reachable(&self, reachable: bool) -> BoxFuture<'_, anyhow::Result<()>>;
}

/// Secrets Manager's state saved and put back.
pub trait Snapshots: Send + Sync {
    fn snapshot(&self) -> Snapshot;
    /// Puts back what `snapshot` held (through a private file, as an
    /// operator restores a backup).
    fn restore(&self, snapshot: &Snapshot) -> anyhow::Result<()>;
}

/// Secrets Manager's regions, one of which can fail alone.
pub trait Regions: Send + Sync {
    /// Every call to `region` is answered ServiceUnavailable.
    fn fail(&self, region: &str);
    /// Every region (and every other injected fault) back to normal.
    fn clear_faults(&self);
}
