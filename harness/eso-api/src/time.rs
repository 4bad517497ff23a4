//! `metav1.Time` (a condition's `lastTransitionTime`, an ExternalSecret's
//! `refreshTime`): RFC 3339 in UTC with whole seconds, as Kubernetes' Go
//! types write it; any RFC 3339 time is read.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serializer};

/// A time as `metav1.Time` writes it: `2026-01-02T03:04:05Z` (fractions
/// of a second are dropped, as Go's marshaller drops them).
pub fn metav1_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `#[serde(with = "crate::time::option")]` for an `Option<Timestamp>`.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&metav1_time(*t)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| text.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_in_utc() {
        let t: Timestamp = "2026-01-02T03:04:05.678+01:00".parse().unwrap();
        assert_eq!(metav1_time(t), "2026-01-02T02:04:05Z");
    }
}
