//! Request shapes of the Secrets Manager operations (JSON 1.1, PascalCase)
//! and helpers to shape responses.

use base64::Engine;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::AwsError;
use crate::model::{Tag, Version};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct CreateSecretInput {
    pub(crate) name: Option<String>,
    pub(crate) client_request_token: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) kms_key_id: Option<String>,
    pub(crate) secret_string: Option<String>,
    pub(crate) secret_binary: Option<String>,
    pub(crate) tags: Option<Vec<Tag>>,
    pub(crate) add_replica_regions: Option<Vec<ReplicaRegion>>,
    pub(crate) force_overwrite_replica_secret: Option<bool>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ReplicaRegion {
    pub(crate) region: Option<String>,
    pub(crate) kms_key_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct GetSecretValueInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) version_id: Option<String>,
    pub(crate) version_stage: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct BatchGetSecretValueInput {
    pub(crate) secret_id_list: Option<Vec<String>>,
    pub(crate) filters: Option<Vec<Filter>>,
    pub(crate) max_results: Option<i64>,
    pub(crate) next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct PutSecretValueInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) client_request_token: Option<String>,
    pub(crate) secret_string: Option<String>,
    pub(crate) secret_binary: Option<String>,
    pub(crate) version_stages: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct UpdateSecretInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) client_request_token: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) kms_key_id: Option<String>,
    pub(crate) secret_string: Option<String>,
    pub(crate) secret_binary: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct SecretIdInput {
    pub(crate) secret_id: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct Filter {
    pub(crate) key: Option<String>,
    pub(crate) values: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ListSecretsInput {
    pub(crate) include_planned_deletion: Option<bool>,
    pub(crate) max_results: Option<i64>,
    pub(crate) next_token: Option<String>,
    pub(crate) filters: Option<Vec<Filter>>,
    pub(crate) sort_order: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ListSecretVersionIdsInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) max_results: Option<i64>,
    pub(crate) next_token: Option<String>,
    pub(crate) include_deprecated: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct UpdateSecretVersionStageInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) version_stage: Option<String>,
    pub(crate) remove_from_version_id: Option<String>,
    pub(crate) move_to_version_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct DeleteSecretInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) recovery_window_in_days: Option<i64>,
    pub(crate) force_delete_without_recovery: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct RotateSecretInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) client_request_token: Option<String>,
    #[serde(rename = "RotationLambdaARN")]
    pub(crate) rotation_lambda_arn: Option<String>,
    pub(crate) rotation_rules: Option<RotationRules>,
    pub(crate) rotate_immediately: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct RotationRules {
    pub(crate) automatically_after_days: Option<i64>,
    pub(crate) duration: Option<String>,
    pub(crate) schedule_expression: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct TagResourceInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) tags: Option<Vec<Tag>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct UntagResourceInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct ReplicateSecretToRegionsInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) add_replica_regions: Option<Vec<ReplicaRegion>>,
    pub(crate) force_overwrite_replica_secret: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct RemoveRegionsFromReplicationInput {
    pub(crate) secret_id: Option<String>,
    pub(crate) remove_replica_regions: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct GetRandomPasswordInput {
    pub(crate) password_length: Option<i64>,
    pub(crate) exclude_characters: Option<String>,
    pub(crate) exclude_numbers: Option<bool>,
    pub(crate) exclude_punctuation: Option<bool>,
    pub(crate) exclude_uppercase: Option<bool>,
    pub(crate) exclude_lowercase: Option<bool>,
    pub(crate) include_space: Option<bool>,
    pub(crate) require_each_included_type: Option<bool>,
}

/// AWS's message for a missing required member.
pub(crate) fn required<T>(value: Option<T>, member: &str) -> Result<T, AwsError> {
    value.ok_or_else(|| {
        AwsError::new(
            crate::error::ErrorCode::ValidationException,
            format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"),
        )
    })
}

/// Epoch seconds with millisecond precision, as the JSON 1.1 protocol carries dates.
pub(crate) fn epoch(ts: Timestamp) -> Value {
    json!(ts.as_millisecond() as f64 / 1000.0)
}

/// LastAccessedDate is kept to the day, as AWS does.
pub(crate) fn day_of(ts: Timestamp) -> Timestamp {
    let secs = ts.as_second();
    Timestamp::from_second(secs - secs.rem_euclid(86_400)).unwrap_or(ts)
}

pub(crate) fn decode_binary(b64: &str) -> Result<Vec<u8>, AwsError> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| {
            AwsError::new(
                crate::error::ErrorCode::SerializationException,
                "SecretBinary is not valid base64",
            )
        })
}

/// Bytes as the wire carries them (SecretBinary).
pub(crate) fn encode_binary(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn version_entry(v: &Version) -> Value {
    let mut out = Map::new();
    out.insert("VersionId".into(), json!(v.id));
    out.insert("VersionStages".into(), json!(v.stages));
    out.insert("CreatedDate".into(), epoch(v.created));
    if let Some(at) = v.last_accessed {
        out.insert("LastAccessedDate".into(), epoch(day_of(at)));
    }
    Value::Object(out)
}
