//! Status conditions as ESO writes them on ExternalSecrets and stores
//! (`ExternalSecretStatusCondition`, `SecretStoreStatusCondition`).

use jiff::Timestamp;
use kube::api::DynamicObject;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The condition type ESO sets on every ExternalSecret and store.
pub const CONDITION_READY: &str = "Ready";

/// A condition's status (`corev1.ConditionStatus`): written as the strings
/// `True`, `False` and `Unknown`, which are all Kubernetes allows.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// It does not.
    False,
    /// Nobody can tell yet.
    Unknown,
}

impl ConditionStatus {
    /// The text Kubernetes writes for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

impl From<bool> for ConditionStatus {
    fn from(holds: bool) -> Self {
        if holds {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        }
    }
}

impl std::fmt::Display for ConditionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of `status.conditions`.
#[derive(Deserialize, Serialize, Clone, Debug, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// What the condition is about (`Ready`).
    #[serde(rename = "type")]
    pub type_: String,
    /// Whether it holds: True, False or Unknown.
    // A plain string in the CRD, as in ESO's.
    #[schemars(with = "String")]
    pub status: ConditionStatus,
    /// Why, in one CamelCase word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why, for a reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When `status` last changed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::option"
    )]
    #[schemars(with = "Option<String>")]
    pub last_transition_time: Option<Timestamp>,
}

impl Condition {
    /// The Ready condition to write at `now`: its transition time is kept
    /// from the `previous` conditions while its status stays what it was,
    /// as ESO keeps it.
    pub fn ready(
        status: ConditionStatus,
        reason: &str,
        message: &str,
        now: Timestamp,
        previous: &[Condition],
    ) -> Self {
        let since = previous
            .iter()
            .find(|c| c.type_ == CONDITION_READY && c.status == status)
            .and_then(|c| c.last_transition_time)
            .unwrap_or(now);
        Condition {
            type_: CONDITION_READY.into(),
            status,
            reason: Some(reason.into()),
            message: Some(message.into()),
            last_transition_time: Some(since),
        }
    }

    /// Whether this is a Ready condition whose status is True.
    pub fn is_ready(&self) -> bool {
        self.type_ == CONDITION_READY && self.status == ConditionStatus::True
    }
}

/// The Ready condition among `conditions`, if there is one.
pub fn ready_in(conditions: &[Condition]) -> Option<&Condition> {
    conditions.iter().find(|c| c.type_ == CONDITION_READY)
}

/// The Ready condition of an ExternalSecret or a store read untyped (as
/// ESO wrote it, or the emulator): `None` when it has none, or when that
/// condition is not one (a status other than True, False or Unknown, say).
pub fn ready_condition(obj: &DynamicObject) -> Option<Condition> {
    obj.data
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(serde_json::Value::as_str) == Some(CONDITION_READY))
        .and_then(|c| serde_json::from_value(c.clone()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(status: serde_json::Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
            "metadata": {"name": "es"}, "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn the_ready_condition_is_read_with_its_json_shape() {
        let written = json!({"type": "Ready", "status": "False", "reason": "SecretSyncedError",
            "message": "could not get secret data from provider", "lastTransitionTime": "2026-01-01T00:00:00Z"});
        let es = object(json!({"conditions": [{"type": "Other", "status": "True"}, written]}));
        let ready = ready_condition(&es).unwrap();
        assert_eq!(ready.status, ConditionStatus::False);
        assert_eq!(ready.reason.as_deref(), Some("SecretSyncedError"));
        assert!(!ready.is_ready());
        assert_eq!(
            serde_json::to_value(&ready).unwrap(),
            written,
            "written back as read"
        );
        assert_eq!(ready_condition(&object(json!({}))), None);
        assert_eq!(
            ready_condition(&object(
                json!({"conditions": [{"type": "Ready", "status": "Maybe"}]})
            )),
            None,
            "not a condition status"
        );
    }

    #[test]
    fn the_transition_time_stays_while_the_status_does() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
        let first = Condition::ready(
            ConditionStatus::True,
            "SecretSynced",
            "secret synced",
            t0,
            &[],
        );
        let again = Condition::ready(
            ConditionStatus::True,
            "SecretSynced",
            "secret synced",
            t1,
            std::slice::from_ref(&first),
        );
        assert_eq!(again.last_transition_time, Some(t0));
        let failed = Condition::ready(
            ConditionStatus::False,
            "SecretSyncedError",
            "m",
            t1,
            &[again],
        );
        assert_eq!(failed.last_transition_time, Some(t1));
        assert_eq!(ready_in(std::slice::from_ref(&failed)), Some(&failed));
    }
}
