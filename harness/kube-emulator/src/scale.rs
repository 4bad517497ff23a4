//! The `scale` subresource of Deployments and ReplicaSets (what `kubectl
//! scale` patches): an autoscaling/v1 Scale read from and written to the
//! object's `spec.replicas`.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::api::{Api, Query};
use crate::error::{ApiError, invalid_value};
use crate::kinds::ResourceType;
use crate::metadata::meta_str;
use crate::patch::{self, PatchType};

/// Whether `rt` has a scale subresource.
pub(crate) fn scalable(rt: &ResourceType) -> bool {
    matches!(
        rt.builtin,
        crate::kinds::Builtin::Deployment | crate::kinds::Builtin::ReplicaSet
    )
}

/// The Scale of an object.
pub(crate) fn of(obj: &Value) -> Value {
    let mut metadata = json!({});
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = obj.pointer(&format!("/metadata/{field}")) {
            metadata[field] = v.clone();
        }
    }
    // autoscaling/v1's `spec.replicas` is omitempty: 0 is not shown.
    let desired = crate::printers::desired(obj);
    let spec = if desired == 0 {
        json!({})
    } else {
        json!({ "replicas": desired })
    };
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": metadata,
        "spec": spec,
        "status": {
            "replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
            "selector": crate::printers::selector_text(obj),
        },
    })
}

pub(crate) fn get(
    api: &Api,
    rt: &ResourceType,
    ns: Option<&str>,
    name: &str,
) -> Result<Value, ApiError> {
    api.get(rt, ns, name).map(|o| of(&o))
}

/// PUT of a Scale: its replicas become the object's.
pub(crate) fn update(
    api: &mut Api,
    rt: &Arc<ResourceType>,
    ns: Option<&str>,
    name: &str,
    scale: &Value,
    query: &Query,
) -> Result<Value, ApiError> {
    let obj = api.get(rt, ns, name)?;
    let replicas = replicas_of(scale, name)?;
    let mut changed = obj.clone();
    changed["spec"]["replicas"] = json!(replicas);
    // A Scale that names a resourceVersion is an update of that version.
    match meta_str(scale, "resourceVersion") {
        Some(rv) if !rv.is_empty() => changed["metadata"]["resourceVersion"] = json!(rv),
        _ => {}
    }
    let updated = api.update(rt, ns, name, None, changed, query)?;
    Ok(of(&updated))
}

/// PATCH of a Scale (`kubectl scale` sends `{"spec":{"replicas":N}}` as a
/// merge patch).
// The address and the patch are what the request carries.
#[allow(clippy::too_many_arguments)]
pub(crate) fn patch(
    api: &mut Api,
    rt: &Arc<ResourceType>,
    ns: Option<&str>,
    name: &str,
    kind: PatchType,
    body: &[u8],
    query: &Query,
) -> Result<Value, ApiError> {
    let current = of(&api.get(rt, ns, name)?);
    // A Scale has no lists to merge by key: strategic and apply patches
    // of it are merges.
    let kind = match kind {
        PatchType::Strategic | PatchType::Apply => PatchType::Merge,
        k => k,
    };
    let patched = patch::apply_patch(kind, &current, body)?;
    update(api, rt, ns, name, &patched, query)
}

fn replicas_of(scale: &Value, name: &str) -> Result<i64, ApiError> {
    let replicas = scale.pointer("/spec/replicas").unwrap_or(&Value::Null);
    match replicas.as_i64() {
        Some(n) if n >= 0 => Ok(n),
        Some(n) => Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            vec![invalid_value(
                "spec.replicas",
                format!("Invalid value: {n}: must be greater than or equal to 0"),
            )],
        )),
        None => Err(ApiError::bad_request(format!(
            "Scale in version \"v1\" cannot be handled as a Scale: spec.replicas must be an integer, not {replicas}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scale_shows_the_replicas_and_selector() {
        let d = json!({"metadata": {"name": "web", "namespace": "ns", "resourceVersion": "7"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"replicas": 2}});
        let s = of(&d);
        assert_eq!(s["kind"], "Scale");
        assert_eq!(s["apiVersion"], "autoscaling/v1");
        assert_eq!(s["spec"]["replicas"], 3);
        assert_eq!(s["status"], json!({"replicas": 2, "selector": "app=web"}));
        assert_eq!(s["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn negative_replicas_are_invalid() {
        let e = replicas_of(&json!({"spec": {"replicas": -1}}), "web").unwrap_err();
        assert_eq!(e.reason, crate::error::Reason::Invalid);
        assert!(replicas_of(&json!({"spec": {"replicas": 2}}), "web").is_ok());
    }
}
