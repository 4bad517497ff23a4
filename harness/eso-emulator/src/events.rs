//! Kubernetes Events as ESO's recorder writes them (core/v1, source
//! `external-secrets`), with identical events aggregated into one whose
//! count grows, as client-go's recorder does, and written in the
//! background, in order, as its broadcaster does. Times come from the
//! clock, read when the event is recorded.

use std::collections::HashMap;

use emulator_core::Clock;
use eso_api::metadata::CONTROLLER_NAME;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::mpsc;

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

/// An event as recorded: what it says and when, waiting to be written.
struct Pending {
    about: Regarding,
    type_: EventType,
    reason: String,
    message: String,
    /// The clock's time when it was recorded, as client-go stamps an
    /// event when `Event()` is called, not when it is written.
    at: String,
}

/// Where reconciles record events. As client-go's recorder, recording
/// hands the event to a queue and returns: a background [`Poster`] writes
/// them in order, so a reconcile does not wait for the API server to take
/// its events (one round trip less per sync).
pub(crate) struct Recorder {
    clock: Clock,
    queue: mpsc::UnboundedSender<Pending>,
}

/// Writes the recorded events, one after another.
pub(crate) struct Poster {
    client: kube::Client,
    queue: mpsc::UnboundedReceiver<Pending>,
    /// (uid, type, reason, message) → (event name, count)
    seen: HashMap<EventKey, (String, i32)>,
}

impl Recorder {
    /// The recorder, and the poster to run for its events to be written.
    pub(crate) fn new(client: kube::Client, clock: Clock) -> (Self, Poster) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Self { clock, queue: tx },
            Poster {
                client,
                queue: rx,
                seen: HashMap::new(),
            },
        )
    }

    /// Records an event; failures to record are logged, never fatal, as in ESO.
    pub(crate) fn publish(&self, about: &Regarding, type_: EventType, reason: &str, message: &str) {
        let pending = Pending {
            about: about.clone(),
            type_,
            reason: reason.to_owned(),
            message: message.to_owned(),
            at: self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        };
        // A poster that has stopped (the controller is stopping) drops it,
        // as a stopping client-go broadcaster does.
        let _ = self.queue.send(pending);
    }
}

impl Poster {
    /// Writes every recorded event until the recorder is gone.
    pub(crate) async fn run(mut self) {
        while let Some(p) = self.queue.recv().await {
            self.post(p).await;
        }
    }

    /// Writes one event: a new one, or the count of the same event (same
    /// object, type, reason, message) raised.
    async fn post(&mut self, p: Pending) {
        let Pending {
            about,
            type_,
            reason,
            message,
            at: now,
        } = p;
        let ns = if about.namespace.is_empty() {
            "default".to_owned()
        } else {
            about.namespace.clone()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
        let key = (about.uid.clone(), type_, reason.clone(), message.clone());
        if let Some((name, count)) = self.seen.get(&key).cloned() {
            let patch = json!({ "count": count + 1, "lastTimestamp": now });
            if api
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .is_ok()
            {
                self.seen.insert(key, (name, count + 1));
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
                self.seen.insert(key, (name, 1));
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
