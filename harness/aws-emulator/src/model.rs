//! The state of Secrets Manager: secrets per region, each with its versions.
//! Serializable as a whole, which is what a snapshot is.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub const AWSCURRENT: &str = "AWSCURRENT";
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";
pub const AWSPENDING: &str = "AWSPENDING";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SecretsState {
    /// Region name → secrets in it by name.
    pub regions: BTreeMap<String, BTreeMap<String, Secret>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Secret {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub tags: Vec<Tag>,
    pub created: Timestamp,
    pub last_changed: Timestamp,
    pub last_accessed: Option<Timestamp>,
    pub deletion: Option<Deletion>,
    pub rotation: Option<Rotation>,
    /// In creation order.
    pub versions: Vec<Version>,
    pub replication: Replication,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Deletion {
    /// When DeleteSecret was called (DescribeSecret's DeletedDate).
    pub requested: Timestamp,
    /// When the secret is purged (DeleteSecret's DeletionDate).
    pub purge_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rotation {
    pub enabled: bool,
    pub lambda_arn: Option<String>,
    pub automatically_after_days: Option<i64>,
    pub schedule_expression: Option<String>,
    pub duration: Option<String>,
    pub last_rotated: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Version {
    pub id: String,
    pub stages: Vec<String>,
    pub value: SecretValue,
    pub created: Timestamp,
    pub last_accessed: Option<Timestamp>,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub enum SecretValue {
    String(String),
    /// Raw bytes (base64 on the wire).
    Binary(Vec<u8>),
}

impl std::fmt::Debug for SecretValue {
    // Never print a value, even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::String(s) => write!(f, "String(<{} bytes>)", s.len()),
            Self::Binary(b) => write!(f, "Binary(<{} bytes>)", b.len()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Replication {
    Primary {
        replicas: Vec<ReplicaStatus>,
    },
    /// A read-only copy; the primary writes through to it.
    Replica {
        primary_region: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReplicaStatus {
    pub region: String,
    pub kms_key_id: Option<String>,
    pub status: String,
    pub status_message: Option<String>,
}

impl Secret {
    pub fn is_deleted(&self) -> bool {
        self.deletion.is_some()
    }

    pub fn is_replica(&self) -> bool {
        matches!(self.replication, Replication::Replica { .. })
    }

    pub fn version_with_stage(&self, stage: &str) -> Option<&Version> {
        self.versions
            .iter()
            .find(|v| v.stages.iter().any(|s| s == stage))
    }

    pub fn version(&self, id: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }

    pub fn version_mut(&mut self, id: &str) -> Option<&mut Version> {
        self.versions.iter_mut().find(|v| v.id == id)
    }

    pub fn remove_stage_everywhere(&mut self, stage: &str) {
        for v in &mut self.versions {
            v.stages.retain(|s| s != stage);
        }
    }
}
