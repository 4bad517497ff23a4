//! update (PUT) and patch (PATCH), of an object or its status.

use std::sync::Arc;

use http::StatusCode;
use serde_json::{Value, json};

use super::decode::wrong_custom_kind;
use super::{Api, Query};
use crate::error::{ApiError, Reason, required};
use crate::events;
use crate::kinds::{Builtin, ResourceType};
use crate::metadata::{meta, meta_mut, meta_str};
use crate::patch::{self, PatchType};

/// The name and namespace in a PUT body, or in a patch's result, against
/// the URL's, with the real server's refusals (k8s.io/apiserver's
/// `checkName` and `EnsureObjectNamespaceMatchesRequestNamespace`).
fn check_name(rt: &ResourceType, obj: &Value, name: &str, ns: &str) -> Result<(), ApiError> {
    match meta_str(obj, "name").filter(|n| !n.is_empty()) {
        None => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({name} based on URL) was undeterminable: name must be provided"
            )));
        }
        Some(body_name) if body_name != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        Some(_) => {}
    }
    match meta_str(obj, "namespace").filter(|n| !n.is_empty()) {
        Some(body_ns) if rt.namespaced && body_ns != ns => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => Ok(()),
    }
}

impl Api {
    pub(crate) fn update(
        &mut self,
        rt: &Arc<ResourceType>,
        ns: Option<&str>,
        name: &str,
        sub: Option<&str>,
        mut obj: Value,
        query: &Query,
    ) -> Result<Value, ApiError> {
        if rt.builtin == Builtin::EventV1 {
            obj = events::to_core(&obj);
        }
        let ns_key = Self::ns_key(rt, ns);
        check_name(rt, &obj, name, &ns_key)?;
        let Some(old) = self.store.get(&rt.key(), &ns_key, name).cloned() else {
            if sub.is_some() {
                return Err(ApiError::not_found(&rt.group, &rt.plural, name));
            }
            // Of these kinds only Events are created by a PUT
            // (AllowCreateOnUpdate in their registry strategies).
            if !matches!(rt.builtin, Builtin::Event | Builtin::EventV1) {
                return Err(ApiError::not_found(&rt.group, &rt.plural, name));
            }
            meta_mut(&mut obj).insert("name".into(), json!(name));
            return self.create(rt, ns, obj, query).map(|(_, v)| v);
        };
        let stored = self.write(rt, &ns_key, name, obj, Some(old), sub, query)?;
        Ok(self.present(rt, &stored))
    }

    // The address (kind, namespace, name, subresource) and the patch (type,
    // body) are what an HTTP PATCH carries; bundling them would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn patch(
        &mut self,
        rt: &Arc<ResourceType>,
        ns: Option<&str>,
        name: &str,
        sub: Option<&str>,
        kind: PatchType,
        body: &[u8],
        query: &Query,
    ) -> Result<(StatusCode, Value), ApiError> {
        if kind == PatchType::Apply
            && query
                .get("fieldManager")
                .is_none_or(|m| m.trim().is_empty())
        {
            let mut cause = required("fieldManager");
            cause.message.push_str(": is required for apply patch");
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                vec![cause],
            ));
        }
        if kind == PatchType::Strategic && rt.builtin == Builtin::Custom {
            return Err(ApiError::new(
                Reason::UnsupportedMediaType,
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            ));
        }
        let ns_key = Self::ns_key(rt, ns);
        let old = self.store.get(&rt.key(), &ns_key, name).cloned();
        let Some(old) = old else {
            if kind == PatchType::Apply && sub.is_none() {
                let obj = patch::apply_patch(kind, &json!({}), body)?;
                return self.create(rt, ns, obj, query);
            }
            return Err(ApiError::not_found(&rt.group, &rt.plural, name));
        };
        let current = self.present(rt, &old);
        let mut patched = patch::apply_patch(kind, &current, body)?;
        // A patch that removes the name (`"metadata": null`, say) or moves
        // the object is refused, as a PUT of the result would be.
        if kind != PatchType::Apply {
            check_name(rt, &patched, name, &ns_key)?;
        }
        // A custom resource's kind is validated, not overwritten.
        if rt.builtin == Builtin::Custom
            && let Some(k) = patched.get("kind").and_then(Value::as_str)
            && k != rt.kind
        {
            return Err(wrong_custom_kind(rt, k, name));
        }
        // A patch does not carry a resourceVersion unless it means to.
        let patch_rv = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|p| p.pointer("/metadata/resourceVersion").cloned());
        if patch_rv.is_none()
            && let Some(rv) = meta(&old).and_then(|m| m.get("resourceVersion")).cloned()
        {
            meta_mut(&mut patched).insert("resourceVersion".into(), rv);
        }
        if rt.builtin == Builtin::EventV1 {
            patched = events::to_core(&patched);
        }
        let stored = self.write(rt, &ns_key, name, patched, Some(old), sub, query)?;
        Ok((StatusCode::OK, self.present(rt, &stored)))
    }
}
