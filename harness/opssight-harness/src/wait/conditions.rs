//! Named conditions on the objects the harness waits for, each a
//! predicate on an object that exists (wrap it with [`exists_and`] for
//! kube-runtime's `await_condition`, which also sees a missing object).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::DynamicObject;

use crate::eso_model;
use crate::secret_data::{SecretData, data_of};

/// `cond` on an object that exists.
pub fn exists_and<K>(cond: impl Fn(&K) -> bool) -> impl Fn(Option<&K>) -> bool {
    move |o| o.is_some_and(&cond)
}

/// An ExternalSecret (or store) whose Ready condition has this status and
/// reason.
pub fn ready_with(
    status: &str,
    reason: &str,
) -> impl Fn(&DynamicObject) -> bool + Send + Sync + 'static {
    let (status, reason) = (status.to_owned(), reason.to_owned());
    move |o| eso_model::ready(o).is_some_and(|r| r.status == status && r.reason == reason)
}

/// An ExternalSecret (or store) that is Ready.
pub fn is_ready() -> impl Fn(&DynamicObject) -> bool + Send + Sync + 'static {
    eso_model::is_ready
}

/// A store whose first condition is not ready with this reason and message.
pub fn store_not_ready(
    reason: &str,
    message: &str,
) -> impl Fn(&DynamicObject) -> bool + Send + Sync + 'static {
    let (reason, message) = (reason.to_owned(), message.to_owned());
    move |o| {
        o.data.pointer("/status/conditions/0").is_some_and(|c| {
            c["status"] == "False"
                && c["reason"] == reason.as_str()
                && c["message"] == message.as_str()
        })
    }
}

/// An ExternalSecret refreshed after `before` (its `status.refreshTime`).
pub fn refreshed_after(before: &str) -> impl Fn(&DynamicObject) -> bool + Send + Sync + 'static {
    let before = before.to_owned();
    move |o| {
        o.data
            .pointer("/status/refreshTime")
            .and_then(|v| v.as_str())
            .is_some_and(|t| t > before.as_str())
    }
}

/// An ExternalSecret synced since its `status.syncedResourceVersion` was
/// `before`: ESO sets it (the generation and a hash of the labels and
/// annotations) only when a sync succeeds, so a new value after a forced
/// refresh (a new annotation) is that refresh done.
pub fn synced_since(
    before: Option<String>,
) -> impl Fn(&DynamicObject) -> bool + Send + Sync + 'static {
    move |o| {
        o.data
            .pointer("/status/syncedResourceVersion")
            .and_then(|v| v.as_str())
            .is_some_and(|now| before.as_deref() != Some(now))
    }
}

/// A Secret whose annotation `key` is `value`.
pub fn annotated(key: &str, value: &str) -> impl Fn(&Secret) -> bool + Send + Sync + 'static {
    let (key, value) = (key.to_owned(), value.to_owned());
    move |s| {
        s.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(&key))
            .is_some_and(|v| *v == value)
    }
}

/// A Secret holding exactly `data`.
pub fn holds(data: SecretData) -> impl Fn(&Secret) -> bool + Send + Sync + 'static {
    move |s| data_of(s) == data
}

/// A Deployment with at least `replicas` available.
pub fn available(replicas: i32) -> impl Fn(&Deployment) -> bool + Send + Sync + 'static {
    move |d| {
        d.status
            .as_ref()
            .and_then(|s| s.available_replicas)
            .is_some_and(|a| a >= replicas)
    }
}
