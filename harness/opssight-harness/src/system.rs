//! The OpsSight system's names, once: what the runbook and the fixtures
//! call things. Everything else in the harness names them through here.

/// The namespace of the four ExternalSecrets, their Secrets and the store.
pub const NAMESPACE: &str = "opssight-production";
/// Where ESO's Helm chart puts its deployments (as the runbook installs it).
pub const ESO_NAMESPACE: &str = "external-secrets-system";
/// The chart's three deployments; the first is the controller's.
pub const ESO_DEPLOYMENTS: [&str; 3] = [
    "external-secrets",
    "external-secrets-cert-controller",
    "external-secrets-webhook",
];
/// The AWS account of the emulated Secrets Manager (and the production
/// overlay's `ACCOUNT_ID` placeholder's stand-in).
pub const ACCOUNT_ID: &str = "123456789012";
/// The controller's IAM user (whose key `aws-secret` holds) and, by the
/// same name, the role the production overlay's ServiceAccount assumes.
pub const ESO_USER: &str = "opssight-external-secrets";
/// The ServiceAccount the production overlay's store authenticates as.
pub const IRSA_SERVICE_ACCOUNT: &str = "external-secrets-sa";
/// The Secret holding the controller's AWS credentials, which the local
/// overlay's SecretStore reads.
pub const AWS_SECRET: &str = "aws-secret";
/// The overlays' SecretStore.
pub const STORE: &str = "aws-secrets-manager";
/// The overlay scenarios apply (an environment may stand another in for it,
/// with a refresh interval short enough to wait for).
pub const LOCAL_OVERLAY: &str = "local";
