//! Small pieces: the hashes the emulator keeps in annotations and status.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..16])
}

/// The `reconcile.external-secrets.io/data-hash` of a Secret's data.
pub fn data_hash(data: &BTreeMap<String, Vec<u8>>) -> String {
    let mut h = Sha256::new();
    for (k, v) in data {
        h.update((k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_be_bytes());
        h.update(v);
    }
    hex::encode(&h.finalize()[..16])
}

/// `status.syncedResourceVersion`: the generation and a hash of the labels and
/// annotations, so that changing either (the force-sync annotation) counts as
/// a change of the object.
pub(crate) fn synced_resource_version(
    generation: i64,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> String {
    let meta = serde_json::to_vec(&(labels, annotations)).unwrap_or_default();
    format!("{generation}-{}", short_hash(&meta))
}

/// A short, stable fingerprint of a value for logs (never the value).
pub(crate) fn fingerprint(bytes: &[u8]) -> String {
    short_hash(bytes)[..8].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn force_sync_changes_the_synced_resource_version() {
        let labels = BTreeMap::new();
        let mut annotations = BTreeMap::new();
        let before = synced_resource_version(1, &labels, &annotations);
        annotations.insert("force-sync".to_owned(), "1700000000".to_owned());
        let after = synced_resource_version(1, &labels, &annotations);
        assert_ne!(before, after);
        assert!(after.starts_with("1-"));
    }
}
