//! The patch types of the API: JSON merge patch (RFC 7386), JSON patch
//! (RFC 6902), strategic merge patch for the built-in kinds, and a
//! simplified server-side apply.

use serde_json::{Map, Value};

use crate::error::{ApiError, Reason};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchType {
    pub(crate) fn from_content_type(ct: &str) -> Option<Self> {
        let ct = ct.split(';').next().unwrap_or_default().trim();
        Some(match ct {
            "application/merge-patch+json" => Self::Merge,
            "application/json-patch+json" => Self::Json,
            "application/strategic-merge-patch+json" => Self::Strategic,
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Self::Apply,
            _ => return None,
        })
    }
}

/// Lists of the built-in kinds that strategic merge merges by a key instead
/// of replacing: path (dotted, from the object root) → merge key. `""` as
/// key means a list of scalars merged as a set.
const MERGE_KEYS: &[(&str, &str)] = &[
    ("metadata.ownerReferences", "uid"),
    ("metadata.finalizers", ""),
    ("secrets", "name"),
    ("imagePullSecrets", "name"),
    // A Pod's spec and a Deployment's or ReplicaSet's template's, as the
    // Go types' patchMergeKey tags say (`kubectl set image`, `kubectl
    // patch` of one container); tolerations have none (replaced).
    ("spec.containers", "name"),
    ("spec.initContainers", "name"),
    ("spec.volumes", "name"),
    ("spec.imagePullSecrets", "name"),
    ("spec.containers.env", "name"),
    ("spec.containers.volumeMounts", "mountPath"),
    ("spec.containers.ports", "containerPort"),
    ("spec.initContainers.env", "name"),
    ("spec.initContainers.volumeMounts", "mountPath"),
    ("spec.template.spec.containers", "name"),
    ("spec.template.spec.initContainers", "name"),
    ("spec.template.spec.volumes", "name"),
    ("spec.template.spec.imagePullSecrets", "name"),
    ("spec.template.spec.containers.env", "name"),
    ("spec.template.spec.containers.volumeMounts", "mountPath"),
    ("spec.template.spec.containers.ports", "containerPort"),
];

pub(crate) fn apply_patch(
    kind: PatchType,
    target: &Value,
    patch: &[u8],
) -> Result<Value, ApiError> {
    let parse_err = |e: String| ApiError::bad_request(format!("error decoding patch: {e}"));
    match kind {
        PatchType::Merge => {
            let p: Value = serde_json::from_slice(patch).map_err(|e| parse_err(e.to_string()))?;
            let mut out = target.clone();
            json_patch::merge(&mut out, &p);
            Ok(out)
        }
        PatchType::Json => {
            let p: json_patch::Patch =
                serde_json::from_slice(patch).map_err(|e| parse_err(e.to_string()))?;
            let mut out = target.clone();
            // The real server's words, without json-patch's detail (it
            // gives none either).
            json_patch::patch(&mut out, &p).map_err(|_| {
                ApiError::new(
                    Reason::Invalid,
                    "the server rejected our request due to an error in our request",
                )
                .with_empty_details()
            })?;
            Ok(out)
        }
        PatchType::Strategic => {
            let p: Value = serde_json::from_slice(patch).map_err(|e| parse_err(e.to_string()))?;
            let mut out = target.clone();
            strategic_merge(&mut out, &p, "");
            Ok(out)
        }
        PatchType::Apply => {
            let p = apply_body(patch).map_err(parse_err)?;
            let mut out = target.clone();
            apply_merge(&mut out, &p);
            Ok(out)
        }
    }
}

/// An apply patch's body: YAML, of which JSON is a subset. Clients send
/// JSON (kube-rs, client-go), which serde_json reads several times faster
/// than the YAML parser (that parse was ~2% of the embedded suite's CPU);
/// anything else goes to the YAML parser, whose error is the one reported.
fn apply_body(patch: &[u8]) -> Result<Value, String> {
    if let Ok(v) = serde_json::from_slice(patch) {
        return Ok(v);
    }
    serde_saphyr::from_slice(patch).map_err(|e| e.to_string())
}

fn strategic_merge(target: &mut Value, patch: &Value, path: &str) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replacement = p.clone();
        replacement.remove("$patch");
        *target = Value::Object(replacement);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        let child = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        match v {
            Value::Null => {
                t.remove(k);
            }
            Value::Array(items) => {
                let merge_key = MERGE_KEYS
                    .iter()
                    .find(|(p, _)| *p == child)
                    .map(|(_, key)| *key);
                match (merge_key, t.get_mut(k)) {
                    (Some(""), Some(Value::Array(existing))) => {
                        for item in items {
                            if !existing.contains(item) {
                                existing.push(item.clone());
                            }
                        }
                    }
                    (Some(key), Some(Value::Array(existing))) => {
                        for item in items {
                            let id = item.get(key);
                            let delete =
                                item.get("$patch").and_then(Value::as_str) == Some("delete");
                            match existing
                                .iter()
                                .position(|e| e.get(key) == id && id.is_some())
                            {
                                Some(i) if delete => {
                                    existing.remove(i);
                                }
                                Some(i) => strategic_merge(&mut existing[i], item, &child),
                                None if !delete => existing.push(item.clone()),
                                None => {}
                            }
                        }
                    }
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(_) => {
                strategic_merge(t.entry(k.clone()).or_insert(Value::Null), v, &child)
            }
            other => {
                t.insert(k.clone(), other.clone());
            }
        }
    }
}

/// Server-side apply without field ownership: the applied configuration is
/// merged over the live object (maps merged, lists and scalars replaced).
fn apply_merge(target: &mut Value, applied: &Value) {
    match (target, applied) {
        (Value::Object(t), Value::Object(a)) => {
            for (k, v) in a {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        apply_merge(existing, v)
                    }
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, a) => *t = a.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_owner_references_by_uid_and_finalizers_as_a_set() {
        let target = json!({"metadata": {"ownerReferences": [{"uid": "a", "name": "x"}], "finalizers": ["f1"], "labels": {"k": "v"}}});
        let patch = json!({"metadata": {"ownerReferences": [{"uid": "b", "name": "y"}, {"uid": "a", "name": "x2"}], "finalizers": ["f2"], "labels": {"k": null, "n": "m"}, "$setElementOrder/finalizers": ["f1"]}});
        let out = apply_patch(
            PatchType::Strategic,
            &target,
            &serde_json::to_vec(&patch).unwrap(),
        )
        .unwrap();
        assert_eq!(
            out["metadata"]["ownerReferences"],
            json!([{"uid": "a", "name": "x2"}, {"uid": "b", "name": "y"}])
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["f1", "f2"]));
        assert_eq!(out["metadata"]["labels"], json!({"n": "m"}));
    }

    #[test]
    fn merge_json_and_apply() {
        let target = json!({"a": {"b": 1, "c": [1, 2]}});
        let out = apply_patch(
            PatchType::Merge,
            &target,
            br#"{"a": {"b": null, "c": [3]}}"#,
        )
        .unwrap();
        assert_eq!(out, json!({"a": {"c": [3]}}));
        let out = apply_patch(
            PatchType::Json,
            &target,
            br#"[{"op": "replace", "path": "/a/b", "value": 2}]"#,
        )
        .unwrap();
        assert_eq!(out["a"]["b"], 2);
        assert!(
            apply_patch(
                PatchType::Json,
                &target,
                br#"[{"op": "test", "path": "/a/b", "value": 9}]"#
            )
            .is_err()
        );
        let out = apply_patch(PatchType::Apply, &target, b"a:\n  d: x\n").unwrap();
        assert_eq!(out, json!({"a": {"b": 1, "c": [1, 2], "d": "x"}}));
        // The same patch as JSON (what clients send) reads the same.
        let as_json = apply_patch(PatchType::Apply, &target, br#"{"a": {"d": "x"}}"#).unwrap();
        assert_eq!(as_json, out);
        // Neither JSON nor YAML: the YAML parser's error.
        let err = apply_patch(PatchType::Apply, &target, b"a: [\n").unwrap_err();
        assert!(
            format!("{err:?}").contains("error decoding patch"),
            "{err:?}"
        );
        assert!(apply_patch(PatchType::Merge, &target, b"{nope").is_err());
    }
}
