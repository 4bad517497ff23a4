//! Kubernetes Events as ESO's recorder writes them (core/v1, source
//! `external-secrets`), with identical events aggregated into one whose
//! count grows, as client-go's recorder does. Times come from the clock.

use std::collections::HashMap;
use std::sync::Mutex;

use emulator_core::Clock;
use eso_api::metadata::CONTROLLER_NAME;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum EventType {
    Normal,
    Warning,
}

/// The object an event is about.
#[derive(Debug, Clone)]
pub(crate) struct Regarding {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
}

/// What makes two events "the same" for aggregation: (uid, type, reason, message).
type EventKey = (String, EventType, String, String);

pub(crate) struct Recorder {
    client: kube::Client,
    clock: Clock,
    /// (uid, type, reason, message) → (event name, count)
    seen: Mutex<HashMap<EventKey, (String, i32)>>,
}

impl Recorder {
    pub(crate) fn new(client: kube::Client, clock: Clock) -> Self {
        Self {
            client,
            clock,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records an event; failures to record are logged, never fatal, as in ESO.
    pub(crate) async fn publish(
        &self,
        about: &Regarding,
        type_: EventType,
        reason: &str,
        message: &str,
    ) {
        let now = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let ns = if about.namespace.is_empty() {
            "default".to_owned()
        } else {
            about.namespace.clone()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
        let key = (
            about.uid.clone(),
            type_,
            reason.to_owned(),
            message.to_owned(),
        );
        let existing = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some((name, count)) = existing {
            let patch = json!({ "count": count + 1, "lastTimestamp": now });
            if api
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .is_ok()
            {
                self.seen
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, (name, count + 1));
                return;
            }
        }
        let suffix: u64 = rand_suffix();
        let name = format!("{}.{suffix:016x}", about.name);
        let event: Event = match serde_json::from_value(json!({
            "metadata": { "name": name, "namespace": ns },
            "involvedObject": {
                "apiVersion": eso_api::API_VERSION, "kind": about.kind, "namespace": about.namespace,
                "name": about.name, "uid": about.uid, "resourceVersion": about.resource_version,
            },
            "reason": reason,
            "message": message,
            "type": match type_ { EventType::Normal => "Normal", EventType::Warning => "Warning" },
            "source": { "component": CONTROLLER_NAME },
            "reportingComponent": CONTROLLER_NAME,
            "reportingInstance": "eso-emulator",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        })) {
            Ok(e) => e,
            Err(error) => {
                tracing::warn!(%error, "could not build an event");
                return;
            }
        };
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => {
                self.seen
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, (name, 1));
            }
            Err(error) => tracing::warn!(%error, reason, "could not record an event"),
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
