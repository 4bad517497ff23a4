//! ESO's resource model as the harness reads it, in one place: where its
//! kinds are served, the Ready condition, the messages ESO gives each
//! reason, Go durations and the data hash. The model is eso-api's (no
//! controller in it, so `check`, the steps and the kind and binaries
//! environments read ESO's objects without the emulator); only the data
//! hash, which ESO computes as the controller writes, is the emulator's.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject};

pub use eso_api::StoreKind;

/// Where ExternalSecrets are served.
pub fn external_secrets() -> ApiResource {
    eso_api::external_secret_resource()
}

/// Where SecretStores (or ClusterSecretStores) are served.
pub fn stores(kind: StoreKind) -> ApiResource {
    eso_api::store_resource(kind)
}

/// ESO's CRDs as the eso-emulator serves them (eso-api's model).
pub fn crds() -> Vec<CustomResourceDefinition> {
    eso_api::crds()
}

/// An object's `Ready` condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ready {
    pub status: String,
    pub reason: String,
    pub message: String,
}

impl Ready {
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// The `Ready` condition of an ExternalSecret or a store, if it has one.
pub fn ready(obj: &DynamicObject) -> Option<Ready> {
    // A condition without a reason is one ESO never wrote: not Ready's.
    let c = eso_api::ready_condition(obj)?;
    Some(Ready {
        status: c.status.as_str().to_owned(),
        reason: c.reason?,
        message: c.message.unwrap_or_default(),
    })
}

/// Whether an object has a `Ready` condition with this status.
pub fn is_ready(obj: &DynamicObject) -> bool {
    ready(obj).is_some_and(|r| r.is_true())
}

/// The messages ESO gives an ExternalSecret's `Ready` condition with this
/// status and reason (its controller's constants); `None` for a pair ESO
/// never writes.
pub fn ready_messages(status: &str, reason: &str) -> Option<&'static [&'static str]> {
    use eso_api::reasons as es;
    const SYNCED: &[&str] = &[es::MSG_SYNCED, es::MSG_RETAINED];
    const DELETED: &[&str] = &[es::MSG_DELETED];
    // The provider's failure, or the target's write failing.
    const SYNCED_ERROR: &[&str] = &[es::MSG_PROVIDER_ERROR, es::MSG_UPDATE_ERROR];
    match (status, reason) {
        ("True", es::REASON_SYNCED) => Some(SYNCED),
        ("True", es::REASON_DELETED) => Some(DELETED),
        ("False", es::REASON_SYNCED_ERROR) => Some(SYNCED_ERROR),
        _ => None,
    }
}

/// The Secret an ExternalSecret's labels and annotations are copied onto
/// when ESO syncs it: its target, when it has no template (ESO's
/// setMetadata copies them only then), writes a Secret at all (not
/// creationPolicy None) and may change it (not immutable).
pub fn annotations_copied_to(es: &DynamicObject) -> Option<String> {
    let target = es.data.pointer("/spec/target");
    let field = |k: &str| target.and_then(|t| t.get(k));
    let templated = field("template").is_some_and(|t| !t.is_null());
    let writes_none = field("creationPolicy").and_then(|p| p.as_str()) == Some("None");
    let immutable = field("immutable").and_then(|i| i.as_bool()) == Some(true);
    if templated || writes_none || immutable {
        return None;
    }
    field("name")
        .and_then(|n| n.as_str())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .or_else(|| es.metadata.name.clone())
}

/// A Go duration (`1h`, `30s`, `1h0m0s`), as ESO reads `refreshInterval`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    eso_api::parse_duration(text)
}

/// The hash ESO keeps in a target Secret's data-hash annotation.
pub fn data_hash(data: &BTreeMap<String, Vec<u8>>) -> String {
    eso_emulator::util::data_hash(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es(spec: serde_json::Value) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
            "metadata": {"name": "app"}, "spec": spec
        }))
        .unwrap()
    }

    #[test]
    fn annotations_are_copied_to_the_target_only_without_a_template() {
        assert_eq!(
            annotations_copied_to(&es(serde_json::json!({}))).as_deref(),
            Some("app")
        );
        assert_eq!(
            annotations_copied_to(&es(serde_json::json!({"target": {"name": "other"}}))).as_deref(),
            Some("other")
        );
        for target in [
            serde_json::json!({"template": {"type": "Opaque"}}),
            serde_json::json!({"creationPolicy": "None"}),
            serde_json::json!({"immutable": true}),
        ] {
            assert_eq!(
                annotations_copied_to(&es(serde_json::json!({"target": target}))),
                None
            );
        }
    }

    #[test]
    fn each_reason_has_only_the_messages_eso_gives_it() {
        let synced = ready_messages("True", "SecretSynced").unwrap();
        assert!(synced.contains(&"secret synced"));
        // An error's message never passes for a sync.
        assert!(!synced.contains(&"could not update secret"));
        assert!(!synced.contains(&"could not get secret data from provider"));
        let failed = ready_messages("False", "SecretSyncedError").unwrap();
        assert!(failed.contains(&"could not get secret data from provider"));
        assert!(!failed.contains(&"secret synced"));
        assert_eq!(
            ready_messages("True", "SecretDeleted"),
            Some(&["secret deleted due to DeletionPolicy=Delete"][..])
        );
        // A pair ESO never writes has no message to accept.
        assert_eq!(ready_messages("False", "SecretSynced"), None);
        assert_eq!(ready_messages("True", "NoSuchReason"), None);
    }
}
