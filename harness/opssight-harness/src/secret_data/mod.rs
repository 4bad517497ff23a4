//! A Secret's data as the harness handles it: read from a Secret, compared
//! with what it should be, and shown, never as values: by key name,
//! length and short hash. Every output goes through the one redaction
//! ([`redact`]).

pub mod redact;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;

/// A Secret's data: key → value.
pub type SecretData = BTreeMap<String, Vec<u8>>;

/// What a Secret holds.
pub fn data_of(s: &Secret) -> SecretData {
    s.data
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect()
}

/// String values (a Secrets Manager secret's JSON fields) as Secret data.
pub fn as_bytes(values: &BTreeMap<String, String>) -> SecretData {
    values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
        .collect()
}

/// Compares a Secret's data with the expected values without ever showing a
/// value: the difference names keys, lengths and short hashes.
pub fn compare(actual: &SecretData, expected: &SecretData) -> Result<(), String> {
    let mut problems = Vec::new();
    for k in expected.keys().filter(|k| !actual.contains_key(*k)) {
        problems.push(format!("missing key {k}"));
    }
    for k in actual.keys().filter(|k| !expected.contains_key(*k)) {
        problems.push(format!("unexpected key {k}"));
    }
    for (k, v) in expected {
        if let Some(a) = actual.get(k)
            && a != v
        {
            problems.push(format!(
                "key {k} holds {} instead of {}",
                describe(a),
                describe(v)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// What may be shown of a value: its length and a short hash.
pub fn describe(value: &[u8]) -> String {
    use sha2::Digest;
    format!(
        "<{} bytes, sha256 {}>",
        value.len(),
        &hex::encode(sha2::Sha256::digest(value))[..8]
    )
}

/// A short hash of a Secret's data: enough to tell values apart in a
/// report, useless for recovering them.
pub fn short_hash(data: &SecretData) -> String {
    // The hash ESO keeps in its data-hash annotation, shortened.
    let full = crate::eso_model::data_hash(data);
    format!("sha256:{}", &full[..16])
}
