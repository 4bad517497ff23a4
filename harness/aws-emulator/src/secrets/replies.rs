//! The answers of the frequent operations (GetSecretValue, DescribeSecret,
//! ListSecrets, PutSecretValue), serialized straight from the secret they
//! describe. Building a `serde_json::Value` first cost a map, a key string
//! and a value string per field, all freed again right after writing them:
//! most of a ListSecrets call went there.
//!
//! Fields are declared in the byte order of their JSON names, the order a
//! `Value` (a `BTreeMap`) writes its keys in, so the bytes are those the
//! answers had when they were built as `Value`s. The unit tests check every
//! answer is in that order.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use jiff::Timestamp;

use super::lifecycle::next_rotation;
use crate::model::{ReplicaStatus, Replication, Secret, SecretValue, Tag, Version};

/// An operation's answer: built as a `Value` (the rare operations), or
/// already written as JSON (the frequent ones).
pub(super) enum Reply {
    Value(serde_json::Value),
    Json(Vec<u8>),
}

impl From<serde_json::Value> for Reply {
    fn from(value: serde_json::Value) -> Self {
        Self::Value(value)
    }
}

impl Reply {
    pub(super) fn json(answer: &impl Serialize) -> Self {
        Self::Json(to_json(answer))
    }

    pub(super) fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Value(value) => to_json(&value),
            Self::Json(bytes) => bytes,
        }
    }
}

/// Serializing these shapes cannot fail: every map key is a string. The
/// buffer starts at the size of a one-secret answer, so that most answers
/// are written without growing it.
fn to_json(answer: &impl Serialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut out, answer) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// A shape as a `Value`, for the answers that embed one (BatchGetSecretValue,
/// replication). As [`to_json`], it cannot fail.
pub(super) fn to_value(answer: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(answer).unwrap_or_default()
}

/// A date as the JSON 1.1 protocol carries it: epoch seconds with
/// millisecond precision.
#[derive(Clone, Copy)]
pub(super) struct Epoch(pub Timestamp);

impl Serialize for Epoch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0.as_millisecond() as f64 / 1000.0)
    }
}

/// GetSecretValue's answer, and each of BatchGetSecretValue's values.
#[derive(Serialize)]
pub(super) struct SecretValueReply<'a> {
    #[serde(rename = "ARN")]
    pub arn: &'a str,
    #[serde(rename = "CreatedDate")]
    pub created_date: Epoch,
    #[serde(rename = "Name")]
    pub name: &'a str,
    /// Base64, as the wire carries bytes.
    #[serde(rename = "SecretBinary", skip_serializing_if = "Option::is_none")]
    pub secret_binary: Option<String>,
    #[serde(rename = "SecretString", skip_serializing_if = "Option::is_none")]
    pub secret_string: Option<&'a str>,
    #[serde(rename = "VersionId")]
    pub version_id: &'a str,
    #[serde(rename = "VersionStages")]
    pub version_stages: &'a [String],
}

impl<'a> SecretValueReply<'a> {
    pub(super) fn of(secret: &'a Secret, version: &'a Version) -> Self {
        let (secret_string, secret_binary) = match &version.value {
            SecretValue::String(s) => (Some(s.as_str()), None),
            SecretValue::Binary(b) => (None, Some(super::wire::encode_binary(b))),
        };
        Self {
            arn: &secret.arn,
            created_date: Epoch(version.created),
            name: &secret.name,
            secret_binary,
            secret_string,
            version_id: &version.id,
            version_stages: &version.stages,
        }
    }
}

/// PutSecretValue's answer.
#[derive(Serialize)]
pub(super) struct PutSecretValueReply<'a> {
    #[serde(rename = "ARN")]
    pub arn: &'a str,
    #[serde(rename = "Name")]
    pub name: &'a str,
    #[serde(rename = "VersionId")]
    pub version_id: &'a str,
    #[serde(rename = "VersionStages")]
    pub version_stages: &'a [String],
}

/// Version id → stages, for the versions that carry any, by id.
pub(super) struct Stages<'a>(&'a Secret);

impl Serialize for Stages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Newest first and a stable sort, so that of two versions with one
        // id (which only a hand-made snapshot could hold) the newer is kept,
        // as a map built in creation order would keep it.
        let mut staged: Vec<&Version> = self
            .0
            .versions
            .iter()
            .rev()
            .filter(|v| !v.stages.is_empty())
            .collect();
        staged.sort_by(|a, b| a.id.cmp(&b.id));
        staged.dedup_by(|later, kept| later.id == kept.id);
        let mut map = s.serialize_map(Some(staged.len()))?;
        for v in staged {
            map.serialize_entry(&v.id, &v.stages)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
pub(super) struct ReplicaStatusReply<'a> {
    #[serde(rename = "KmsKeyId", skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<&'a str>,
    #[serde(rename = "Region")]
    region: &'a str,
    #[serde(rename = "Status")]
    status: &'a str,
    #[serde(rename = "StatusMessage", skip_serializing_if = "Option::is_none")]
    status_message: Option<&'a str>,
}

impl<'a> ReplicaStatusReply<'a> {
    pub(super) fn of(r: &'a ReplicaStatus) -> Self {
        Self {
            kms_key_id: r.kms_key_id.as_deref(),
            region: &r.region,
            status: &r.status,
            status_message: r.status_message.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct RotationRulesReply<'a> {
    #[serde(
        rename = "AutomaticallyAfterDays",
        skip_serializing_if = "Option::is_none"
    )]
    automatically_after_days: Option<i64>,
    #[serde(rename = "Duration", skip_serializing_if = "Option::is_none")]
    duration: Option<&'a str>,
    #[serde(rename = "ScheduleExpression", skip_serializing_if = "Option::is_none")]
    schedule_expression: Option<&'a str>,
}

/// What DescribeSecret answers, and ListSecrets for each secret: the same
/// fields, the version stages under another name.
#[derive(Serialize)]
pub(super) struct Summary<'a> {
    #[serde(rename = "ARN")]
    arn: &'a str,
    #[serde(rename = "CreatedDate")]
    created_date: Epoch,
    #[serde(rename = "DeletedDate", skip_serializing_if = "Option::is_none")]
    deleted_date: Option<Epoch>,
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "KmsKeyId", skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<&'a str>,
    #[serde(rename = "LastAccessedDate", skip_serializing_if = "Option::is_none")]
    last_accessed_date: Option<Epoch>,
    #[serde(rename = "LastChangedDate")]
    last_changed_date: Epoch,
    #[serde(rename = "LastRotatedDate", skip_serializing_if = "Option::is_none")]
    last_rotated_date: Option<Epoch>,
    #[serde(rename = "Name")]
    name: &'a str,
    #[serde(rename = "NextRotationDate", skip_serializing_if = "Option::is_none")]
    next_rotation_date: Option<Epoch>,
    #[serde(rename = "PrimaryRegion", skip_serializing_if = "Option::is_none")]
    primary_region: Option<&'a str>,
    #[serde(rename = "ReplicationStatus", skip_serializing_if = "Option::is_none")]
    replication_status: Option<Vec<ReplicaStatusReply<'a>>>,
    #[serde(rename = "RotationEnabled")]
    rotation_enabled: bool,
    #[serde(rename = "RotationLambdaARN", skip_serializing_if = "Option::is_none")]
    rotation_lambda_arn: Option<&'a str>,
    #[serde(rename = "RotationRules", skip_serializing_if = "Option::is_none")]
    rotation_rules: Option<RotationRulesReply<'a>>,
    #[serde(
        rename = "SecretVersionsToStages",
        skip_serializing_if = "Option::is_none"
    )]
    secret_versions_to_stages: Option<Stages<'a>>,
    #[serde(rename = "Tags", skip_serializing_if = "Option::is_none")]
    tags: Option<&'a [Tag]>,
    #[serde(rename = "VersionIdsToStages", skip_serializing_if = "Option::is_none")]
    version_ids_to_stages: Option<Stages<'a>>,
}

impl<'a> Summary<'a> {
    /// DescribeSecret's answer.
    pub(super) fn describe(secret: &'a Secret) -> Self {
        Self {
            version_ids_to_stages: Some(Stages(secret)),
            ..Self::common(secret)
        }
    }

    /// A ListSecrets entry.
    pub(super) fn list_entry(secret: &'a Secret) -> Self {
        Self {
            secret_versions_to_stages: Some(Stages(secret)),
            ..Self::common(secret)
        }
    }

    fn common(secret: &'a Secret) -> Self {
        let rotation = secret.rotation.as_ref();
        let (primary_region, replication_status) = match &secret.replication {
            Replication::Primary { replicas } if !replicas.is_empty() => (
                Some(secret.arn.split(':').nth(3).unwrap_or_default()),
                Some(replicas.iter().map(ReplicaStatusReply::of).collect()),
            ),
            Replication::Primary { .. } => (None, None),
            Replication::Replica { primary_region } => (Some(primary_region.as_str()), None),
        };
        Self {
            arn: &secret.arn,
            created_date: Epoch(secret.created),
            deleted_date: secret.deletion.map(|d| Epoch(d.requested)),
            description: secret.description.as_deref(),
            kms_key_id: secret.kms_key_id.as_deref(),
            last_accessed_date: secret.last_accessed.map(Epoch),
            last_changed_date: Epoch(secret.last_changed),
            last_rotated_date: rotation.and_then(|r| r.last_rotated).map(Epoch),
            name: &secret.name,
            next_rotation_date: next_rotation(secret).map(Epoch),
            primary_region,
            replication_status,
            rotation_enabled: rotation.is_some_and(|r| r.enabled),
            rotation_lambda_arn: rotation.and_then(|r| r.lambda_arn.as_deref()),
            rotation_rules: rotation.map(|r| RotationRulesReply {
                automatically_after_days: r.automatically_after_days,
                duration: r.duration.as_deref(),
                schedule_expression: r.schedule_expression.as_deref(),
            }),
            secret_versions_to_stages: None,
            tags: (!secret.tags.is_empty()).then_some(secret.tags.as_slice()),
            version_ids_to_stages: None,
        }
    }
}

/// ListSecrets' answer.
#[derive(Serialize)]
pub(super) struct ListSecretsReply<'a> {
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(rename = "SecretList")]
    pub secret_list: Vec<Summary<'a>>,
}
