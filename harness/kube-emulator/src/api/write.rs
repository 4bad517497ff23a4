//! The one path every change goes through: optimistic concurrency, what a
//! subresource owns, names, the kind's rules, schema validation, admission,
//! generation, size, then the store.

use std::sync::Arc;

use serde_json::{Value, json};

use super::kind_rules::builtin_fields;
use super::{Api, Query};
use crate::admission::{AdmissionHook, AdmissionRequest, Operation};
use crate::crd;
use crate::error::{ApiError, Cause, Reason, invalid_value};
use crate::kinds::{Builtin, ResKey, ResourceType};
use crate::metadata::{finalizers, is_deleting, meta, meta_mut, meta_str, new_uid, now_rfc3339};
use crate::schema;

/// etcd's limit on one object.
pub(super) const MAX_OBJECT_BYTES: usize = 1_572_864;

/// The length of an object's JSON, without writing it anywhere.
fn json_len(obj: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, obj) {
        Ok(()) => count.0,
        Err(_) => 0,
    }
}

fn valid_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

fn valid_label(name: &str) -> bool {
    name.len() <= 63 && !name.contains('.') && valid_subdomain(name)
}

/// Everything of an object but its metadata and (optionally) status, to
/// decide whether its generation moves.
fn spec_part(obj: &Value, without_status: bool) -> Value {
    let mut v = obj.clone();
    if let Value::Object(m) = &mut v {
        m.remove("metadata");
        m.remove("apiVersion");
        m.remove("kind");
        if without_status {
            m.remove("status");
        }
    }
    v
}

/// An object without what changes on every write, to tell a no-op update.
fn comparable(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(Value::Object(m)) = v.get_mut("metadata") {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    v
}

/// What an admission hook is told of a request on `rt`'s object.
pub(super) fn admission_request<'a>(
    operation: Operation,
    rt: &'a ResourceType,
    ns: &'a str,
    name: &'a str,
    old: Option<&'a Value>,
) -> AdmissionRequest<'a> {
    AdmissionRequest {
        operation,
        group: &rt.group,
        version: &rt.version,
        kind: &rt.kind,
        namespace: ns,
        name,
        old,
    }
}

/// Puts `status` in the object, or takes its status out when there is none.
fn replace_status(obj: &mut Value, status: Option<Value>) {
    match status {
        Some(s) => obj["status"] = s,
        None => {
            obj.as_object_mut().map(|m| m.remove("status"));
        }
    }
}

/// `fieldValidation=Strict` refusing fields the kind does not have.
fn strict_decoding_error<'a>(
    rt: &ResourceType,
    unknown: impl Iterator<Item = &'a str>,
) -> ApiError {
    let listed: Vec<String> = unknown.map(|f| format!("unknown field \"{f}\"")).collect();
    ApiError::bad_request(format!(
        "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
        rt.kind,
        rt.version,
        rt.kind,
        listed.join(", ")
    ))
}

impl Api {
    /// The one path every change goes through: semantics, validation,
    /// admission, then the store.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write(
        &mut self,
        rt: &Arc<ResourceType>,
        ns: &str,
        name: &str,
        mut obj: Value,
        old: Option<Arc<Value>>,
        sub: Option<&str>,
        query: &Query,
    ) -> Result<Arc<Value>, ApiError> {
        match sub {
            None | Some("status") => {}
            Some(other) => {
                return Err(ApiError::new(
                    Reason::NotFound,
                    format!("the server could not find the requested resource ({other})"),
                ));
            }
        }
        if sub == Some("status") && !rt.status_subresource {
            return Err(ApiError::new(
                Reason::NotFound,
                "the server could not find the requested resource",
            ));
        }
        obj["apiVersion"] = json!(if rt.builtin == Builtin::EventV1 {
            "v1".to_owned()
        } else {
            rt.api_version()
        });
        obj["kind"] = json!(rt.kind);
        if let Some(old) = &old {
            // Optimistic concurrency.
            match meta_str(&obj, "resourceVersion") {
                Some(rv) if Some(rv) != meta_str(old, "resourceVersion") => {
                    return Err(ApiError::conflict(&rt.group, &rt.plural, name));
                }
                // The custom resource handler names the resource, not the
                // kind, in this one error.
                None if rt.builtin == Builtin::Custom => {
                    return Err(ApiError::invalid(
                        &rt.group,
                        &rt.plural,
                        name,
                        vec![invalid_value(
                            "metadata.resourceVersion",
                            "Invalid value: 0: must be specified for an update",
                        )],
                    ));
                }
                _ => {}
            }
            // What the subresource does not own comes from the stored object.
            if sub == Some("status") {
                let status = obj.get("status").cloned();
                obj = (**old).clone();
                replace_status(&mut obj, status);
            } else if rt.status_subresource {
                replace_status(&mut obj, old.get("status").cloned());
            }
            let old_meta = meta(old).cloned().unwrap_or_default();
            let m = meta_mut(&mut obj);
            for field in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "namespace",
                "generation",
            ] {
                match old_meta.get(field) {
                    Some(v) => m.insert(field.into(), v.clone()),
                    None => m.remove(field),
                };
            }
            if let Some(cause) = new_finalizers_while_deleting(old, &obj) {
                // The metadata is validated twice on an update (the
                // registry's BeforeUpdate, then the kind's strategy), and
                // the real server lists the cause twice.
                return Err(ApiError::invalid(
                    &rt.group,
                    &rt.kind,
                    name,
                    vec![cause.clone(), cause],
                ));
            }
        } else {
            if rt.status_subresource
                && matches!(
                    rt.builtin,
                    Builtin::Custom | Builtin::Deployment | Builtin::ReplicaSet
                )
            {
                obj.as_object_mut().map(|m| m.remove("status"));
            }
            let now = now_rfc3339(&self.clock);
            let m = meta_mut(&mut obj);
            m.insert("uid".into(), json!(new_uid()));
            m.insert("creationTimestamp".into(), json!(now));
            for field in [
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "resourceVersion",
            ] {
                m.remove(field);
            }
        }
        let valid_name = if matches!(rt.builtin, Builtin::Namespace) {
            valid_label(name)
        } else {
            valid_subdomain(name)
        };
        if old.is_none() && !valid_name && rt.builtin != Builtin::Event {
            // A namespace's name is a label; every other kind's a subdomain.
            let rule = if rt.builtin == Builtin::Namespace {
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            } else {
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            };
            return Err(ApiError::invalid(
                &rt.group,
                &rt.kind,
                name,
                vec![invalid_value(
                    "metadata.name",
                    format!("Invalid value: \"{name}\": {rule}"),
                )],
            ));
        }
        self.normalize(rt, name, &mut obj, old.as_deref())?;
        // ObjectMeta's lists and maps are `omitempty`: stored through the
        // typed metadata (a custom resource's too), an empty one is gone.
        let m = meta_mut(&mut obj);
        for field in ["finalizers", "ownerReferences", "labels", "annotations"] {
            if m.get(field).is_some_and(|v| {
                v.as_array().is_some_and(Vec::is_empty)
                    || v.as_object().is_some_and(|o| o.is_empty())
            }) {
                m.remove(field);
            }
        }
        let strict = query.get("fieldValidation").map(String::as_str) == Some("Strict");
        if let (Some(known), Some(fields)) = (builtin_fields(rt.builtin), obj.as_object_mut()) {
            let unknown: Vec<String> = fields
                .keys()
                .filter(|k| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
                .filter(|k| !known.contains(&k.as_str()))
                .cloned()
                .collect();
            if !unknown.is_empty() && strict {
                return Err(strict_decoding_error(
                    rt,
                    unknown.iter().map(String::as_str),
                ));
            }
            for f in unknown {
                fields.remove(&f);
            }
        }
        if let Some(schema) = &rt.schema {
            let outcome = schema::apply(schema, &mut obj);
            if !outcome.causes.is_empty() {
                return Err(ApiError::invalid(&rt.group, &rt.kind, name, outcome.causes));
            }
            if !outcome.unknown.is_empty() && strict {
                return Err(strict_decoding_error(
                    rt,
                    outcome.unknown.iter().map(|f| f.trim_start_matches('.')),
                ));
            }
        }
        self.admit(rt, ns, name, &mut obj, old.as_deref())?;
        // Generation: moves when what the object asks for changes.
        if matches!(
            rt.builtin,
            Builtin::Custom
                | Builtin::Crd
                | Builtin::Deployment
                | Builtin::ReplicaSet
                | Builtin::Pod
        ) {
            let generation = match &old {
                None => 1,
                Some(old) => {
                    let before = old
                        .pointer("/metadata/generation")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    let changed = spec_part(old, rt.status_subresource)
                        != spec_part(&obj, rt.status_subresource);
                    if changed { before + 1 } else { before }
                }
            };
            meta_mut(&mut obj).insert("generation".into(), json!(generation));
        }
        if let Some(old) = &old {
            if comparable(old) == comparable(&obj) {
                return Ok(old.clone());
            }
            // The last finalizer went: the deletion completes, and the
            // answer (and the DELETED event) is the object as updated.
            if is_deleting(&obj) && finalizers(&obj).is_empty() {
                return self
                    .remove_updated(rt, ns, name, obj)
                    .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name));
            }
        }
        let size = json_len(&obj);
        if size > MAX_OBJECT_BYTES {
            return Err(ApiError::new(
                Reason::RequestEntityTooLarge,
                format!(
                    "etcdserver: request is too large ({size} bytes; the limit is {MAX_OBJECT_BYTES})"
                ),
            ));
        }
        // Validation comes first, as on the real server: an invalid object is
        // 422 even when its name is taken.
        if old.is_none() && self.store.get(&rt.key(), ns, name).is_some() {
            return Err(ApiError::already_exists(&rt.group, &rt.plural, name));
        }
        // dryRun=All: everything a write does but keeping it.
        if query.get("dryRun").is_some_and(|d| d == "All") {
            return Ok(Arc::new(obj));
        }
        let rv = self.store.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        if rt.builtin == Builtin::Crd {
            let types = crd::served_types(&obj)
                .map_err(|causes| ApiError::invalid(&rt.group, &rt.kind, name, causes))?;
            crd::mark_established(&mut obj);
            let key = crd::resource_key(&obj);
            self.catalogue.replace_group_resource(&key, types);
        }
        // A deletion to carry out, a new namespace to furnish, or a
        // workload to run.
        if is_deleting(&obj)
            || (rt.builtin == Builtin::Namespace && old.is_none())
            || matches!(
                rt.builtin,
                Builtin::Deployment | Builtin::ReplicaSet | Builtin::Pod
            )
        {
            self.dirty = true;
        }
        Ok(self.store.put(&rt.key(), ns, name, obj, rv))
    }

    fn admit(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        let operation = if old.is_some() {
            Operation::Update
        } else {
            Operation::Create
        };
        let req = admission_request(operation, rt, ns, name, old);
        for h in self.hooks_for(rt) {
            h.mutate(&req, obj);
        }
        self.validate_admission(rt, &req, obj)
    }

    fn hooks_for<'a>(
        &'a self,
        rt: &'a ResourceType,
    ) -> impl Iterator<Item = &'a Arc<dyn AdmissionHook>> + 'a {
        self.hooks.iter().filter(|h| h.handles(&rt.group, &rt.kind))
    }

    /// Every admission hook's validation of `obj`; the first refusal is a
    /// 403 in the words the real server uses for a webhook's.
    pub(super) fn validate_admission(
        &self,
        rt: &ResourceType,
        req: &AdmissionRequest<'_>,
        obj: &Value,
    ) -> Result<(), ApiError> {
        for h in self.hooks_for(rt) {
            h.validate(req, obj).map_err(|message| {
                ApiError::new(
                    Reason::Forbidden,
                    format!("admission webhook denied the request: {message}"),
                )
            })?;
        }
        Ok(())
    }

    /// Stores `obj` as the next resourceVersion, past the checks of
    /// [`Api::write`]: for the changes the server makes itself (marking a
    /// deletion, dropping a finalizer or an owner reference), to which no
    /// client's precondition or validation applies.
    pub(crate) fn put_as_next_version(
        &mut self,
        key: &ResKey,
        ns: &str,
        name: &str,
        mut obj: Value,
    ) -> Arc<Value> {
        let rv = self.store.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        self.store.put(key, ns, name, obj, rv)
    }
}

/// ValidateObjectMetaUpdate's rule: an object being deleted may lose
/// finalizers but not gain any. The new ones are named sorted, as Go's
/// `%#v` of a string set's list prints them.
fn new_finalizers_while_deleting(old: &Value, new: &Value) -> Option<Cause> {
    if !is_deleting(old) {
        return None;
    }
    let before = finalizers(old);
    let mut added: Vec<String> = finalizers(new)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    if added.is_empty() {
        return None;
    }
    added.sort();
    added.dedup();
    let quoted: Vec<String> = added.iter().map(|f| format!("{f:?}")).collect();
    Some(crate::error::forbidden(
        "metadata.finalizers",
        format!(
            "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
            quoted.join(", ")
        ),
    ))
}
