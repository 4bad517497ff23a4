//! An object's metadata: reading it, and the fields a write sets.

use emulator_core::Clock;
use serde_json::{Map, Value, json};

/// A timestamp as the API server writes them (RFC 3339, whole seconds, UTC).
pub(crate) fn now_rfc3339(clock: &Clock) -> String {
    rfc3339(clock.now())
}

/// `at` as the API server writes a timestamp.
pub(crate) fn rfc3339(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn new_uid() -> String {
    emulator_core::ids::uuid_v4()
}

pub(crate) fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

/// A string field of `metadata` (`name`, `namespace`, `uid`, ...).
pub(crate) fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    meta(obj).and_then(|m| m.get(field)).and_then(Value::as_str)
}

/// An object's namespace (empty for a cluster-scoped one) and name, owned:
/// what a caller needs to write the object back while it changes the store.
pub(crate) fn namespace_and_name(obj: &Value) -> (String, String) {
    (
        meta_str(obj, "namespace").unwrap_or_default().to_owned(),
        meta_str(obj, "name").unwrap_or_default().to_owned(),
    )
}

pub(crate) fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

/// Whether the object is marked for deletion (it stays while finalizers
/// hold it, or while a Pod stops).
pub(crate) fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some()
}

/// The strings of the array at `pointer` (a missing array is empty, other
/// values in it are skipped).
pub(crate) fn strings_at(obj: &Value, pointer: &str) -> Vec<String> {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// An object's `metadata.finalizers`: what must let go of it before a
/// deletion completes.
pub(crate) fn finalizers(obj: &Value) -> Vec<String> {
    strings_at(obj, "/metadata/finalizers")
}

pub(crate) fn has_finalizer(obj: &Value, finalizer: &str) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|f| f.as_str() == Some(finalizer)))
}

/// The object's finalizers but `finalizer`: what stays once that
/// controller has done its part.
pub(crate) fn finalizers_without(obj: &Value, finalizer: &str) -> Vec<String> {
    finalizers(obj)
        .into_iter()
        .filter(|f| f != finalizer)
        .collect()
}

/// An object's `metadata.ownerReferences`, empty when it has none.
pub(crate) fn owner_references(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}
