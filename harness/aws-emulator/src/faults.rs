//! Faults a scenario can switch on at run time, per region.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What is wrong with one region's endpoint. The default is healthy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegionFaults {
    /// How every call fails, if it does.
    pub outage: Option<Outage>,
    /// Added before every answer.
    #[serde(default, with = "millis")]
    pub latency: Option<Duration>,
    /// Every call answers ThrottlingException.
    #[serde(default)]
    pub throttle: bool,
}

/// How a region's calls fail during an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outage {
    /// HTTP 503 ServiceUnavailableException.
    ServiceUnavailable,
    /// The connection is closed without an answer. (For connections refused
    /// on every region, stop the whole emulator listening.)
    ConnectionReset,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// Faults by region; the key `*` applies to every region without its own entry.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    by_region: BTreeMap<String, RegionFaults>,
}

impl Faults {
    pub(crate) fn set(&mut self, region: &str, faults: RegionFaults) {
        if faults == RegionFaults::default() {
            self.by_region.remove(region);
        } else {
            self.by_region.insert(region.to_owned(), faults);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.by_region.clear();
    }

    pub(crate) fn for_region(&self, region: &str) -> Option<&RegionFaults> {
        self.by_region
            .get(region)
            .or_else(|| self.by_region.get("*"))
    }

    pub(crate) fn all(&self) -> &BTreeMap<String, RegionFaults> {
        &self.by_region
    }
}
