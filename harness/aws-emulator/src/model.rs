//! The state of Secrets Manager: secrets per region, each with its versions.
//! Serializable as a whole, which is what a snapshot is.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The stage of a secret's current value.
pub const AWSCURRENT: &str = "AWSCURRENT";
/// The stage of the value AWSCURRENT last moved away from.
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";
/// The stage of the value a rotation is making.
pub const AWSPENDING: &str = "AWSPENDING";

/// Every secret of every region.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SecretsState {
    /// Region name → secrets in it by name.
    pub regions: BTreeMap<String, BTreeMap<String, Secret>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
/// One secret of one region (a replica is a secret of its own region).
pub struct Secret {
    /// Its name, unique in its region.
    pub name: String,
    /// Its ARN: the name with a random six-character suffix.
    pub arn: String,
    /// Its description, if given one.
    pub description: Option<String>,
    /// The KMS key it names (stored and echoed; nothing is encrypted).
    pub kms_key_id: Option<String>,
    /// Its tags, in the order given.
    pub tags: Vec<Tag>,
    /// When CreateSecret made it.
    pub created: Timestamp,
    /// When its value or metadata last changed.
    pub last_changed: Timestamp,
    /// The day its value was last read (AWS keeps it to the day).
    pub last_accessed: Option<Timestamp>,
    /// Its scheduled deletion, while marked for deletion.
    pub deletion: Option<Deletion>,
    /// Its rotation configuration, once RotateSecret has been called.
    pub rotation: Option<Rotation>,
    /// In creation order.
    pub versions: Vec<Version>,
    /// Whether it is a primary (with its replicas) or a replica.
    pub replication: Replication,
}

/// A tag, as the API writes it (`{"Key": ..., "Value": ...}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tag {
    /// The tag's key.
    #[serde(rename = "Key")]
    pub key: String,
    /// The tag's value.
    #[serde(rename = "Value")]
    pub value: String,
}

/// A deletion scheduled by DeleteSecret.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Deletion {
    /// When DeleteSecret was called (DescribeSecret's DeletedDate).
    pub requested: Timestamp,
    /// When the secret is purged (DeleteSecret's DeletionDate).
    pub purge_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
/// A secret's rotation configuration.
pub struct Rotation {
    /// Whether it rotates on a schedule.
    pub enabled: bool,
    /// The Lambda named (the emulator runs its rotation hook instead).
    pub lambda_arn: Option<String>,
    /// The schedule: rotate this many days after the last rotation.
    pub automatically_after_days: Option<i64>,
    /// A schedule expression (stored and echoed, not scheduled).
    pub schedule_expression: Option<String>,
    /// The rotation window (stored and echoed).
    pub duration: Option<String>,
    /// When it was last rotated.
    pub last_rotated: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
/// One version of a secret's value.
pub struct Version {
    /// Its id (the ClientRequestToken it was made with, or a UUID).
    pub id: String,
    /// Its stages (AWSCURRENT, AWSPREVIOUS, AWSPENDING, custom); none when
    /// deprecated.
    pub stages: Vec<String>,
    /// The value.
    pub value: SecretValue,
    /// When it was made.
    pub created: Timestamp,
    /// When it was last read.
    pub last_accessed: Option<Timestamp>,
}

/// A secret's value; its `Debug` shows only its length.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub enum SecretValue {
    /// Text (SecretString).
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

/// Where a secret stands in replication.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Replication {
    /// A secret of its own (most have no replica).
    Primary {
        /// Its replicas, in the order they were added.
        replicas: Vec<ReplicaStatus>,
    },
    /// A read-only copy; the primary writes through to it.
    Replica {
        /// The region of its primary.
        primary_region: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
/// One replica of a primary, as ReplicationStatus reports it.
pub struct ReplicaStatus {
    /// The replica's region.
    pub region: String,
    /// The KMS key named for the replica.
    pub kms_key_id: Option<String>,
    /// `InSync`, or `Failed` when the region had a secret of that name.
    pub status: String,
    /// Why it failed.
    pub status_message: Option<String>,
}

impl Secret {
    /// Whether it is marked for deletion.
    pub fn is_deleted(&self) -> bool {
        self.deletion.is_some()
    }

    /// Whether it is a replica of a secret in another region.
    pub fn is_replica(&self) -> bool {
        matches!(self.replication, Replication::Replica { .. })
    }

    /// The version carrying `stage`.
    pub fn version_with_stage(&self, stage: &str) -> Option<&Version> {
        self.versions
            .iter()
            .find(|v| v.stages.iter().any(|s| s == stage))
    }

    /// The version with id `id`.
    pub fn version(&self, id: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }

    /// The version with id `id`, to change.
    pub fn version_mut(&mut self, id: &str) -> Option<&mut Version> {
        self.versions.iter_mut().find(|v| v.id == id)
    }

    /// Takes `stage` off every version.
    pub fn remove_stage_everywhere(&mut self, stage: &str) {
        for v in &mut self.versions {
            v.stages.retain(|s| s != stage);
        }
    }
}
