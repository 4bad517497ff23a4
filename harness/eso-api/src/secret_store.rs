//! SecretStore and ClusterSecretStore with the AWS provider
//! (`apis/externalsecrets/v1/secretstore_types.go`,
//! `secretstore_aws_types.go`).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::condition::{Condition, ready_in};
use crate::selector::LabelSelector;

/// The two kinds of store an ExternalSecret can name.
#[derive(
    Deserialize,
    Serialize,
    Clone,
    Copy,
    Debug,
    Default,
    JsonSchema,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
)]
pub enum StoreKind {
    /// Namespaced: used by the ExternalSecrets of its namespace.
    #[default]
    SecretStore,
    /// Cluster scoped: used from any namespace its conditions allow.
    ClusterSecretStore,
}

impl StoreKind {
    /// Both kinds.
    pub const ALL: [StoreKind; 2] = [StoreKind::SecretStore, StoreKind::ClusterSecretStore];

    /// The kind's name, as in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::SecretStore => "SecretStore",
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
        }
    }

    /// The kind named `kind`, if it is one.
    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == kind)
    }

    /// The resource's plural, as in its URL.
    pub fn plural(self) -> &'static str {
        match self {
            StoreKind::SecretStore => "secretstores",
            StoreKind::ClusterSecretStore => "clustersecretstores",
        }
    }

    /// Whether its objects live in a namespace.
    pub fn namespaced(self) -> bool {
        self == StoreKind::SecretStore
    }
}

impl std::fmt::Display for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a SecretStore connects to.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[kube(
    group = "external-secrets.io",
    version = "v1",
    kind = "SecretStore",
    namespaced,
    status = "SecretStoreStatus",
    shortname = "ss",
    category = "external-secrets",
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Capabilities","type":"string","jsonPath":".status.capabilities"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct SecretStoreSpec {
    /// The provider and how to authenticate to it.
    pub provider: Provider,
    /// Seconds between validations of the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<i64>,
    /// Which controller (by its class) handles the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
}

/// The same spec, cluster scoped (its secret references name a namespace).
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[kube(
    group = "external-secrets.io",
    version = "v1",
    kind = "ClusterSecretStore",
    status = "SecretStoreStatus",
    shortname = "css",
    category = "external-secrets",
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSecretStoreSpec {
    /// The provider and how to authenticate to it.
    pub provider: Provider,
    /// Seconds between validations of the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<i64>,
    /// Which namespaces' ExternalSecrets may use it; none: every one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ClusterSecretStoreCondition>,
}

/// One of a ClusterSecretStore's `conditions`: a namespace that matches
/// any of its selectors may use the store.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSecretStoreCondition {
    /// Namespaces by their labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Namespaces by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Namespaces whose names match one of these regular expressions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespace_regexes: Vec<String>,
}

/// `spec.provider` (only AWS is modelled).
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    /// AWS Secrets Manager (or Parameter Store, which the emulator refuses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsProvider>,
}

/// `spec.provider.aws`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AwsProvider {
    /// `SecretsManager` or `ParameterStore`.
    pub service: String,
    /// The AWS region.
    #[serde(default)]
    pub region: String,
    /// An IAM role to assume with the store's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Where the credentials come from; the default chain of the
    /// controller's environment when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AwsAuth>,
}

/// `spec.provider.aws.auth`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AwsAuth {
    /// Static keys held in Secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<AwsSecretRef>,
    /// A ServiceAccount's token exchanged at STS (IRSA); wins over
    /// `secretRef` when both are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<AwsJwtAuth>,
}

/// `auth.secretRef`: where each part of an access key is.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AwsSecretRef {
    /// The access key id.
    #[serde(
        default,
        rename = "accessKeyIDSecretRef",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_key_id_secret_ref: Option<SecretKeySelector>,
    /// The secret access key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key_secret_ref: Option<SecretKeySelector>,
    /// A session token, for temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_secret_ref: Option<SecretKeySelector>,
}

/// A key of a Secret.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeySelector {
    /// The Secret's name.
    pub name: String,
    /// The key in its data.
    #[serde(default)]
    pub key: String,
    /// Its namespace (ClusterSecretStore only; the ExternalSecret's when
    /// absent, "referent" authentication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `auth.jwt`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AwsJwtAuth {
    /// The ServiceAccount whose token is exchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_ref: Option<ServiceAccountSelector>,
}

/// A ServiceAccount, and the audiences to ask its token for.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountSelector {
    /// Its name.
    pub name: String,
    /// Its namespace (ClusterSecretStore only; the ExternalSecret's when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Audiences besides the ServiceAccount's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
}

/// What ESO writes in a store's `status`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretStoreStatus {
    /// The Ready condition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// What the provider can do with secrets: ReadOnly, WriteOnly or ReadWrite.
    // A plain string in the CRD, as in ESO's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub capabilities: Option<Capabilities>,
}

impl SecretStoreStatus {
    /// The Ready condition, if there is one.
    pub fn ready(&self) -> Option<&Condition> {
        ready_in(&self.conditions)
    }
}

/// `status.capabilities` (`SecretStoreCapabilities`).
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capabilities {
    /// Secrets can be read.
    ReadOnly,
    /// Secrets can be written (pushed).
    WriteOnly,
    /// Both: what the AWS Secrets Manager provider reports.
    ReadWrite,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_kinds_by_name_and_plural() {
        for kind in StoreKind::ALL {
            assert_eq!(StoreKind::from_kind(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str()),
                "as the JSON names it"
            );
        }
        assert_eq!(
            StoreKind::from_kind("secretstore"),
            None,
            "kinds are case sensitive"
        );
        assert_eq!(
            StoreKind::ClusterSecretStore.plural(),
            "clustersecretstores"
        );
        assert!(!StoreKind::ClusterSecretStore.namespaced());
    }
}
