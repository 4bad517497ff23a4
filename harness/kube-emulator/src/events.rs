//! `events.k8s.io/v1` and core `v1` Events are one kind stored once, as on a
//! real server: events written through either API are read through both.
//! Objects are stored in the core form; these convert at the boundary.

use serde_json::{Map, Value};

/// (events.k8s.io/v1 field, core/v1 field)
const RENAMES: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn rename(obj: &Value, from_v1: bool, api_version: &str) -> Value {
    let Value::Object(map) = obj else {
        return obj.clone();
    };
    let mut out = Map::new();
    for (k, v) in map {
        let renamed = RENAMES
            .iter()
            .find(|(v1, core)| if from_v1 { v1 == k } else { core == k })
            .map(|(v1, core)| if from_v1 { *core } else { *v1 })
            .unwrap_or(k);
        out.insert(renamed.to_owned(), v.clone());
    }
    out.insert("apiVersion".into(), Value::String(api_version.into()));
    Value::Object(out)
}

/// An events.k8s.io/v1 Event as stored (core form).
pub(crate) fn to_core(v1: &Value) -> Value {
    let mut core = rename(v1, true, "v1");
    // kubectl describe shows "From" from source.component.
    if core.get("source").is_none()
        && let Some(c) = core.get("reportingComponent").cloned()
    {
        core["source"] = serde_json::json!({ "component": c });
    }
    if let Some(series) = v1.get("series") {
        if let Some(n) = series.get("count") {
            core["count"] = n.clone();
        }
        if let Some(t) = series.get("lastObservedTime") {
            core["lastTimestamp"] = t.clone();
        }
    }
    if core.get("lastTimestamp").is_none()
        && let Some(t) = v1.get("eventTime").filter(|t| !t.is_null())
    {
        core["lastTimestamp"] = t.clone();
        core["firstTimestamp"] = t.clone();
    }
    core
}

/// A stored Event read through events.k8s.io/v1. Its reportingController
/// and reportingInstance are omitempty there, where core/v1 writes them
/// even empty.
pub(crate) fn to_v1(core: &Value) -> Value {
    let mut v1 = rename(core, false, "events.k8s.io/v1");
    if let Some(m) = v1.as_object_mut() {
        for field in ["reportingController", "reportingInstance"] {
            if m.get(field).is_some_and(|v| v.as_str() == Some("")) {
                m.remove(field);
            }
        }
    }
    v1
}

/// The core/v1 fields the real server writes when a client left them out:
/// Go marshals a zero time as null and these two strings without
/// omitempty, so a stored Event always has them.
pub(crate) fn fill_unset(core: &mut Value) {
    let Some(m) = core.as_object_mut() else {
        return;
    };
    for (field, zero) in [
        ("eventTime", Value::Null),
        ("firstTimestamp", Value::Null),
        ("lastTimestamp", Value::Null),
        ("reportingComponent", Value::String(String::new())),
        ("reportingInstance", Value::String(String::new())),
    ] {
        m.entry(field).or_insert(zero);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_fields() {
        let v1 = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
            "regarding": {"kind": "ExternalSecret", "name": "es"}, "note": "secret synced", "reason": "Updated",
            "type": "Normal", "reportingController": "external-secrets", "eventTime": "2026-01-01T00:00:00.000000Z"});
        let core = to_core(&v1);
        assert_eq!(core["involvedObject"]["name"], "es");
        assert_eq!(core["message"], "secret synced");
        assert_eq!(core["source"]["component"], "external-secrets");
        assert_eq!(core["apiVersion"], "v1");
        let back = to_v1(&core);
        assert_eq!(back["regarding"], v1["regarding"]);
        assert_eq!(back["note"], v1["note"]);
        assert_eq!(back["apiVersion"], "events.k8s.io/v1");
    }
}
