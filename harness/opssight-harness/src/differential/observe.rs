//! What a scenario can observe of the system at one moment, flattened to
//! `field → value` and normalised, so that a run on one environment can be
//! compared with a run on another: ExternalSecret and store conditions, the
//! namespace's events, each target Secret's type, labels, annotations,
//! owner references, finalizers and data (each value named by what it is:
//! the current or previous value of a remote key, or its length).
//! Volatile parts (uids, times, resource versions, ports, request ids,
//! hashes of random values, the harness's own stamps) are replaced by
//! placeholders.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, DynamicObject, ListParams};
use serde::{Deserialize, Serialize};

use crate::system::NAMESPACE;

/// Whether a field is about the object `name` (an ExternalSecret and the
/// Secret it writes share it): its own fields and its events.
pub fn is_about(field: &str, name: &str) -> bool {
    let object = field
        .split(' ')
        .find(|w| w.contains('/'))
        .unwrap_or_default();
    object.split_once('/').is_some_and(|(_, n)| n == name)
}

/// One moment of one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// What the scenario had just waited for ("end" after its last step).
    pub label: String,
    pub fields: BTreeMap<String, String>,
}

/// Names of the values a scenario knows: value → "remote:key (current)".
pub type ValueNames = BTreeMap<Vec<u8>, String>;

static VOLATILE: LazyLock<Vec<(regex::Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            "<uuid>",
        ),
        (
            r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?",
            "<time>",
        ),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<port>"),
        // Secrets Manager's ARNs end in six random characters.
        (
            r"(arn:aws:secretsmanager:[a-z0-9-]+:\d+:secret:[^\s,]+)-[A-Za-z0-9]{6}\b",
            "${1}-<suffix>",
        ),
        (r"\b[0-9a-f]{32,}\b", "<hex>"),
        // A Pod's token volume ends in five random characters.
        (
            r"\bkube-api-access-[a-z0-9]{5}\b",
            "kube-api-access-<suffix>",
        ),
        (r"RequestID: [A-Za-z0-9-]+", "RequestID: <id>"),
    ]
    .into_iter()
    .filter_map(|(re, to)| regex::Regex::new(re).ok().map(|r| (r, to)))
    .collect()
});

/// A text with its volatile parts replaced.
pub fn normalise(text: &str) -> String {
    let mut out = text.to_owned();
    for (re, to) in VOLATILE.iter() {
        out = re.replace_all(&out, *to).into_owned();
    }
    out
}

/// Annotations whose values are per run by construction: ESO's hash of
/// the data (random values), the runbook's force-sync stamp.
fn volatile_annotation(key: &str) -> bool {
    matches!(
        key,
        "reconcile.external-secrets.io/data-hash" | "force-sync"
    )
}

/// The harness's own reconcile triggers: set by a shared system's reset
/// between scenarios (and copied by ESO onto the target), never by a step.
fn harness_annotation(key: &str) -> bool {
    matches!(key, "harness/validate" | "opssight-harness/refresh")
}

fn condition_fields(
    kind: &str,
    name: &str,
    obj: &serde_json::Value,
    out: &mut BTreeMap<String, String>,
) {
    let conditions = obj
        .pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    for c in conditions {
        let field = |k: &str| {
            c.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        out.insert(
            format!("{kind}/{name} condition {}", field("type")),
            normalise(&format!(
                "{} {}: {}",
                field("status"),
                field("reason"),
                field("message")
            )),
        );
    }
}

fn joined(items: impl IntoIterator<Item = String>) -> String {
    let set: BTreeSet<String> = items.into_iter().collect();
    set.into_iter().collect::<Vec<_>>().join(", ")
}

/// Events that are not the scenario's doing, left out of what it observes.
#[derive(Debug, Clone, Default)]
pub struct EventBaseline {
    /// The events there were when a scenario's first step began (name →
    /// count): what bringing the system up emitted, which differs by
    /// environment (a fresh stack creates its Secrets, a shared one
    /// refreshes them).
    seen: BTreeMap<String, i32>,
    /// The uids of objects an earlier scenario observed that were gone
    /// when this one began (on a shared system, a probe's store): an event
    /// about one that lands later (a validation that was in flight when it
    /// was deleted) belongs to the scenario before.
    removed: BTreeSet<String>,
}

impl EventBaseline {
    /// Adds what `other` leaves out to what this leaves out.
    pub fn extend(&mut self, other: EventBaseline) {
        self.seen.extend(other.seen);
        self.removed.extend(other.removed);
    }

    fn leaves_out(&self, e: &Event) -> bool {
        let name = e.metadata.name.as_deref().unwrap_or_default();
        self.seen
            .get(name)
            .is_some_and(|c| *c >= e.count.unwrap_or(1))
            || e.involved_object
                .uid
                .as_ref()
                .is_some_and(|u| self.removed.contains(u))
    }
}

/// The events there are now, and which of the objects `observed` before
/// (their uids) are gone.
pub async fn event_baseline(
    client: &kube::Client,
    observed: &BTreeSet<String>,
) -> anyhow::Result<EventBaseline> {
    let mut live = BTreeSet::new();
    for api in eso_objects(client) {
        live.extend(
            api.list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .filter_map(|o| o.metadata.uid),
        );
    }
    Ok(EventBaseline {
        seen: observed_events(client)
            .await?
            .into_iter()
            .map(|e| (e.metadata.name.unwrap_or_default(), e.count.unwrap_or(1)))
            .collect(),
        removed: observed.difference(&live).cloned().collect(),
    })
}

/// Where ESO's objects are, those its events are about: ExternalSecrets
/// and SecretStores of the OpsSight namespace, every ClusterSecretStore.
fn eso_objects(client: &kube::Client) -> [Api<DynamicObject>; 3] {
    use crate::eso_model::{StoreKind, external_secrets, stores};
    [
        Api::namespaced_with(client.clone(), NAMESPACE, &external_secrets()),
        Api::namespaced_with(client.clone(), NAMESPACE, &stores(StoreKind::SecretStore)),
        Api::all_with(client.clone(), &stores(StoreKind::ClusterSecretStore)),
    ]
}

/// The events observed: the OpsSight namespace's, and those about
/// ClusterSecretStores, which go to "default" (client-go's recorder puts an
/// event about a cluster-scoped object there, as the emulator's does).
async fn observed_events(client: &kube::Client) -> anyhow::Result<Vec<Event>> {
    let events: Api<Event> = Api::namespaced(client.clone(), NAMESPACE);
    let mut all = events.list(&ListParams::default()).await?.items;
    let default_ns: Api<Event> = Api::namespaced(client.clone(), "default");
    all.extend(
        default_ns
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|e| e.involved_object.kind.as_deref() == Some(CLUSTER_STORE)),
    );
    Ok(all)
}

const CLUSTER_STORE: &str = "ClusterSecretStore";

/// Everything observable in the OpsSight namespace now (events since the
/// baseline only); adds the uids of ESO's objects there to `observed`.
pub async fn observe(
    client: &kube::Client,
    values: &ValueNames,
    baseline: &EventBaseline,
    observed: &mut BTreeSet<String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let [es, stores, cluster_stores] = eso_objects(client);
    for o in es.list(&ListParams::default()).await?.items {
        let name = o.metadata.name.clone().unwrap_or_default();
        observed.extend(o.metadata.uid.clone());
        condition_fields("ExternalSecret", &name, &o.data, &mut out);
        let finalizers = o.metadata.finalizers.clone().unwrap_or_default();
        if !finalizers.is_empty() {
            out.insert(
                format!("ExternalSecret/{name} finalizers"),
                joined(finalizers),
            );
        }
    }
    for o in stores.list(&ListParams::default()).await?.items {
        let name = o.metadata.name.clone().unwrap_or_default();
        observed.extend(o.metadata.uid.clone());
        condition_fields("SecretStore", &name, &o.data, &mut out);
    }
    // Cluster-scoped: every one there is (the probes add them; a scenario
    // on a shared cluster starts with none).
    for o in cluster_stores.list(&ListParams::default()).await?.items {
        let name = o.metadata.name.clone().unwrap_or_default();
        observed.extend(o.metadata.uid.clone());
        condition_fields("ClusterSecretStore", &name, &o.data, &mut out);
    }
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    for s in secrets.list(&ListParams::default()).await?.items {
        let name = s.metadata.name.clone().unwrap_or_default();
        // The harness's own credentials, and what Kubernetes itself makes.
        if name == crate::system::AWS_SECRET
            || s.type_.as_deref() == Some("kubernetes.io/service-account-token")
        {
            continue;
        }
        let p = format!("Secret/{name}");
        out.insert(
            format!("{p} type"),
            s.type_.clone().unwrap_or_else(|| "Opaque".into()),
        );
        for (k, v) in s.metadata.labels.clone().unwrap_or_default() {
            out.insert(format!("{p} label {k}"), normalise(&v));
        }
        for (k, v) in s.metadata.annotations.clone().unwrap_or_default() {
            if harness_annotation(&k) {
                continue;
            }
            let v = if volatile_annotation(&k) {
                "<per run>".to_owned()
            } else {
                normalise(&v)
            };
            out.insert(format!("{p} annotation {k}"), v);
        }
        let owners = s.metadata.owner_references.clone().unwrap_or_default();
        if !owners.is_empty() {
            out.insert(
                format!("{p} ownerReferences"),
                joined(owners.into_iter().map(|o| {
                    format!(
                        "{}/{} controller={} blockOwnerDeletion={}",
                        o.kind,
                        o.name,
                        o.controller.unwrap_or(false),
                        o.block_owner_deletion.unwrap_or(false)
                    )
                })),
            );
        }
        let finalizers = s.metadata.finalizers.clone().unwrap_or_default();
        if !finalizers.is_empty() {
            out.insert(format!("{p} finalizers"), joined(finalizers));
        }
        for (k, v) in s.data.clone().unwrap_or_default() {
            // A value the scenario knows is named; another (a probe's fixed
            // value) by length and short hash, equal wherever it is equal.
            let named = values
                .get(&v.0)
                .cloned()
                .unwrap_or_else(|| crate::secret_data::describe(&v.0));
            out.insert(format!("{p} data {k}"), named);
        }
    }
    let mut by_reason: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in observed_events(client).await? {
        if baseline.leaves_out(&e) {
            continue;
        }
        let o = &e.involved_object;
        by_reason
            .entry(format!(
                "Event {}/{} {} {}",
                o.kind.clone().unwrap_or_default(),
                o.name.clone().unwrap_or_default(),
                e.type_.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default()
            ))
            .or_default()
            .insert(normalise(&e.message.clone().unwrap_or_default()));
    }
    for (k, messages) in by_reason {
        out.insert(k, messages.into_iter().collect::<Vec<_>>().join(" | "));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Event;

    fn event(name: &str, count: i32, uid: &str) -> Event {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name},
            "involvedObject": {"kind": "SecretStore", "name": "probe-irsa", "uid": uid},
            "count": count
        }))
        .unwrap()
    }

    #[test]
    fn the_baseline_leaves_out_what_was_there_and_what_was_removed() {
        let baseline = super::EventBaseline {
            seen: [("up".to_owned(), 2)].into(),
            removed: ["uid-of-a-removed-store".to_owned()].into(),
        };
        assert!(baseline.leaves_out(&event("up", 2, "uid-live")));
        // Emitted again during the scenario: its doing.
        assert!(!baseline.leaves_out(&event("up", 3, "uid-live")));
        assert!(!baseline.leaves_out(&event("new", 1, "uid-live")));
        // About an object gone before the scenario, however new.
        assert!(baseline.leaves_out(&event("late", 1, "uid-of-a-removed-store")));
    }

    #[test]
    fn a_field_is_about_its_object() {
        assert!(super::is_about("Secret/app data k", "app"));
        assert!(super::is_about(
            "Event ExternalSecret/app Normal Updated",
            "app"
        ));
        assert!(!super::is_about("Secret/app-x data k", "app"));
        assert!(!super::is_about("SecretStore/aws condition Ready", "app"));
    }

    #[test]
    fn volatile_parts_are_replaced() {
        assert_eq!(
            super::normalise(
                "operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, RequestID: 3f2a-11, at 2026-12-02T01:00:14Z on 127.0.0.1:4566"
            ),
            "operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, RequestID: <id>, at <time> on 127.0.0.1:<port>"
        );
        assert_eq!(
            super::normalise("uid 0b6e3c1e-9a3c-4d1e-8f1e-0123456789ab"),
            "uid <uuid>"
        );
        assert_eq!(
            super::normalise(
                "on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:opssight/production/external-services-EuQQC5 because"
            ),
            "on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:opssight/production/external-services-<suffix> because"
        );
    }
}
