//! Snapshots of the whole Secrets Manager state, for backup and restore drills.
//! A snapshot holds secret values: keep its file somewhere private.

use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::SecretsState;
use crate::secrets::SecretsManager;

/// The `format` every snapshot carries, naming its layout.
pub const FORMAT: &str = "aws-emulator-snapshot/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
/// The whole Secrets Manager state at one time, with its values.
pub struct Snapshot {
    /// [`FORMAT`].
    pub format: String,
    /// When it was taken, on the emulator's clock.
    pub taken_at: Timestamp,
    /// Every secret of every region, with its versions.
    pub secrets: SecretsState,
}

#[derive(Debug, thiserror::Error)]
/// Why a snapshot could not be read or written.
pub enum SnapshotError {
    /// Not JSON of a snapshot's shape.
    #[error("{origin}: not a snapshot (line {line}, column {column}): {message}")]
    Parse {
        /// Where it came from (a path, "request body").
        origin: String,
        /// Where the JSON went wrong.
        line: usize,
        /// Where on that line.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// A snapshot of another layout.
    #[error("{origin}: field `format` is {found:?}, expected {FORMAT:?}")]
    Format {
        /// Where it came from.
        origin: String,
        /// The `format` it has.
        found: String,
    },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

impl Snapshot {
    pub(crate) fn take(secrets: &SecretsManager, now: Timestamp) -> Self {
        Self {
            format: FORMAT.to_owned(),
            taken_at: now,
            secrets: secrets.state().clone(),
        }
    }

    pub(crate) fn restore_into(self, secrets: &mut SecretsManager) {
        secrets.replace_state(self.secrets);
    }

    /// Pretty-printed JSON (values included).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Reads [`Snapshot::to_json`]'s JSON; `origin` names it in errors.
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
        // A snapshot holds every secret's values: owner-only from the first
        // byte (the mode is set at creation, so no window where others could
        // open it), and written whole before it takes the name.
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        // A stale tmp file from an older run keeps its mode: set it anyway.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
        file.write_all(&self.to_json()).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a file [`Snapshot::write_to`] wrote.
    pub fn read_from(path: &Path) -> Result<Self, SnapshotError> {
        let bytes = std::fs::read(path).map_err(|source| SnapshotError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&bytes, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn a_snapshot_file_is_owner_only_even_over_a_world_readable_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup.json");
        // A leftover temporary file that others could read.
        std::fs::write(path.with_extension("tmp"), b"old").unwrap();
        std::fs::set_permissions(
            path.with_extension("tmp"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let snapshot = Snapshot {
            format: FORMAT.to_owned(),
            taken_at: Timestamp::UNIX_EPOCH,
            secrets: SecretsState::default(),
        };
        snapshot.write_to(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "snapshot file mode {mode:o}");
        assert_eq!(Snapshot::read_from(&path).unwrap(), snapshot);
        assert!(!path.with_extension("tmp").exists());
    }
}
