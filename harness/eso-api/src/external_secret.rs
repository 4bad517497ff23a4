//! The ExternalSecret: which store to read, what to fetch, the Secret to
//! write, and how often (`apis/externalsecrets/v1/externalsecret_types.go`).

use std::time::Duration;

use jiff::Timestamp;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::condition::{Condition, ready_in};
use crate::secret_store::StoreKind;

fn default_refresh_interval() -> Option<String> {
    Some("1h".into())
}

/// What an ExternalSecret asks for.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[kube(
    group = "external-secrets.io",
    version = "v1",
    kind = "ExternalSecret",
    namespaced,
    status = "ExternalSecretStatus",
    shortname = "es",
    category = "external-secrets",
    printcolumn = r#"{"name":"StoreType","type":"string","jsonPath":".spec.secretStoreRef.kind"}"#,
    printcolumn = r#"{"name":"Store","type":"string","jsonPath":".spec.secretStoreRef.name"}"#,
    printcolumn = r#"{"name":"Refresh Interval","type":"string","jsonPath":".spec.refreshInterval"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Last Sync","type":"date","jsonPath":".status.refreshTime"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    /// The store to read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_store_ref: Option<SecretStoreRef>,
    /// The Secret to write.
    #[serde(default = "default_target")]
    pub target: ExternalSecretTarget,
    /// How often to fetch again, a Go duration (`1h` when absent; `0`:
    /// once).
    #[serde(
        default = "default_refresh_interval",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_interval: Option<String>,
    /// When to fetch again (Periodic when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_policy: Option<RefreshPolicy>,
    /// One Secret key per remote value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<ExternalSecretData>,
    /// Every key of each remote JSON object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_from: Vec<ExternalSecretDataFromRemoteRef>,
}

impl ExternalSecretSpec {
    /// `refreshInterval` as a duration: `None` when it is not a Go duration.
    pub fn interval(&self) -> Option<Duration> {
        self.refresh_interval
            .as_deref()
            .and_then(crate::duration::parse_duration)
    }
}

fn default_target() -> ExternalSecretTarget {
    ExternalSecretTarget {
        creation_policy: CreationPolicy::Owner,
        deletion_policy: DeletionPolicy::Retain,
        ..Default::default()
    }
}

/// `spec.secretStoreRef`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretStoreRef {
    /// The store's name (in the ExternalSecret's namespace for a SecretStore).
    pub name: String,
    /// SecretStore when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<StoreKind>,
}

/// When ESO fetches again (`spec.refreshPolicy`).
#[derive(Deserialize, Serialize, Clone, Copy, Debug, JsonSchema, PartialEq, Eq)]
pub enum RefreshPolicy {
    /// Fetch once, when the ExternalSecret is created.
    CreatedOnce,
    /// Fetch every `refreshInterval`, and on a change of the ExternalSecret.
    Periodic,
    /// Fetch only on a change of the ExternalSecret.
    OnChange,
}

/// `spec.target`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretTarget {
    /// The Secret's name; the ExternalSecret's own when absent or empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether ESO creates and owns the Secret.
    #[serde(default)]
    pub creation_policy: CreationPolicy,
    /// What happens to the Secret when the provider's secrets are gone.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Kept, not modelled (the emulator renders no templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<serde_json::Value>,
    /// The Secret is made immutable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub immutable: bool,
}

impl ExternalSecretTarget {
    /// The target Secret's name for the ExternalSecret named `es_name`.
    pub fn name_for(&self, es_name: &str) -> String {
        self.name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| es_name.to_owned())
    }
}

/// Whether ESO creates and owns the target (`spec.target.creationPolicy`).
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, JsonSchema, PartialEq, Eq)]
pub enum CreationPolicy {
    /// ESO creates the Secret and is its controlling owner.
    #[default]
    Owner,
    /// ESO creates the Secret and does not own it.
    Orphan,
    /// ESO merges into a Secret that exists, never creates one.
    Merge,
    /// ESO writes no Secret.
    None,
}

/// What happens to the target when the provider's secrets are gone
/// (`spec.target.deletionPolicy`).
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, JsonSchema, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// The Secret is deleted.
    Delete,
    /// ESO's keys are removed from the Secret.
    Merge,
    /// The Secret keeps what it holds.
    #[default]
    Retain,
}

/// One `spec.data` entry.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretData {
    /// The key in the target Secret.
    pub secret_key: String,
    /// The remote value.
    pub remote_ref: RemoteRef,
}

/// A remote secret (or a property of it, at a version).
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRef {
    /// The secret's name or ARN.
    pub key: String,
    /// A field of its JSON (a literal key first, then a dotted path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// A version stage, or `uuid/<version id>`; AWSCURRENT when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One `spec.dataFrom` entry (only `extract` is modelled).
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretDataFromRemoteRef {
    /// Every top-level key of the remote JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extract: Option<RemoteRef>,
}

/// What ESO writes in `status`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretStatus {
    /// When the last successful sync ran.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::option"
    )]
    #[schemars(with = "Option<String>")]
    pub refresh_time: Option<Timestamp>,
    /// What of the ExternalSecret the last sync saw: a change of it is a
    /// reason to sync again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_resource_version: Option<String>,
    /// The Ready condition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The target Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Binding>,
}

impl ExternalSecretStatus {
    /// The Ready condition, if there is one.
    pub fn ready(&self) -> Option<&Condition> {
        ready_in(&self.conditions)
    }
}

/// `status.binding`: a local object reference.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    /// The target Secret's name.
    #[serde(default)]
    pub name: String,
}
