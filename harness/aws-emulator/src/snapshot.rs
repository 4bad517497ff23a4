//! Snapshots of the whole Secrets Manager state, for backup and restore drills.
//! A snapshot holds secret values: keep its file somewhere private.

use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::SecretsState;
use crate::secrets::SecretsManager;

pub const FORMAT: &str = "aws-emulator-snapshot/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    pub format: String,
    pub taken_at: Timestamp,
    pub secrets: SecretsState,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{origin}: not a snapshot (line {line}, column {column}): {message}")]
    Parse {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: field `format` is {found:?}, expected {FORMAT:?}")]
    Format { origin: String, found: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Snapshot {
    pub fn take(secrets: &SecretsManager, now: Timestamp) -> Self {
        Self {
            format: FORMAT.to_owned(),
            taken_at: now,
            secrets: secrets.state().clone(),
        }
    }

    pub fn restore_into(self, secrets: &mut SecretsManager) {
        secrets.replace_state(self.secrets);
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Self, SnapshotError> {
        let snapshot: Self = serde_json::from_slice(bytes).map_err(|e| SnapshotError::Parse {
            origin: origin.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if snapshot.format != FORMAT {
            return Err(SnapshotError::Format {
                origin: origin.to_owned(),
                found: snapshot.format,
            });
        }
        Ok(snapshot)
    }

    /// Writes atomically (a temporary file renamed over the target), so a
    /// crash mid-write never leaves a truncated backup.
    pub fn write_to(&self, path: &Path) -> Result<(), SnapshotError> {
        let io = |source| SnapshotError::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.to_json()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    pub fn read_from(path: &Path) -> Result<Self, SnapshotError> {
        let bytes = std::fs::read(path).map_err(|source| SnapshotError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&bytes, &path.display().to_string())
    }
}
