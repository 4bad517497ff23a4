//! Small pieces: Go durations, the hashes ESO keeps in annotations and status.

use std::collections::BTreeMap;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// Parses a Go duration (`1h`, `30m`, `1h30m`, `0s`, `250ms`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    Some(Duration::from_secs_f64(total))
}

/// A duration as Go's `time.Duration.String` prints it (`1h0m0s`, `10s`,
/// `1m30s`, `1.5s`, `250ms`): what a Go client writes back for a
/// `metav1.Duration` field, whatever text it read.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (unit, scale) = if nanos < 1_000 {
            ("ns", 1u128)
        } else if nanos < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", fraction(nanos, scale));
    }
    let secs = d.as_secs();
    let (h, m) = (secs / 3600, secs / 60 % 60);
    let s = fraction(nanos % 60_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

/// `n / scale` in decimal, without trailing zeros.
fn fraction(n: u128, scale: u128) -> String {
    let (whole, rest) = (n / scale, n % scale);
    if rest == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

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
pub fn synced_resource_version(
    generation: i64,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> String {
    let meta = serde_json::to_vec(&(labels, annotations)).unwrap_or_default();
    format!("{generation}-{}", short_hash(&meta))
}

/// A short, stable fingerprint of a value for logs (never the value).
pub fn fingerprint(bytes: &[u8]) -> String {
    short_hash(bytes)[..8].to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_print_as_go_prints_them() {
        for (text, go) in [
            ("1h", "1h0m0s"),
            ("10s", "10s"),
            ("90s", "1m30s"),
            ("0", "0s"),
            ("1.5s", "1.5s"),
            ("250ms", "250ms"),
            ("72h3m0.5s", "72h3m0.5s"),
        ] {
            let d = super::parse_duration(text).unwrap();
            assert_eq!(super::go_duration(d), go, "{text}");
        }
    }

    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0s"), Some(Duration::ZERO));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("h"), None);
    }

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
