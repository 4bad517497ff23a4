//! delete and deletecollection: preconditions, propagation (Background,
//! Foreground, Orphan) through finalizers, graceful Pod deletion, and the
//! removal of an object from the store.

use std::sync::Arc;

use serde_json::{Value, json};

use super::write::admission_request;
use super::{Api, Query};
use crate::admission::Operation;
use crate::crd;
use crate::error::{ApiError, Cause, Reason};
use crate::kinds::{Builtin, ResKey, ResourceType};
use crate::metadata::{
    finalizers, is_deleting, meta_mut, meta_str, namespace_and_name, now_rfc3339,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Propagation {
    Background,
    Foreground,
    Orphan,
}

pub(crate) struct DeleteOptions {
    pub propagation: Option<Propagation>,
    /// `gracePeriodSeconds`: how long a Pod may take to stop (0: now).
    pub grace_period: Option<i64>,
    pub precondition_rv: Option<String>,
    pub precondition_uid: Option<String>,
}

impl DeleteOptions {
    pub(crate) fn parse(body: &[u8], query: &Query) -> Result<Self, ApiError> {
        let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
        };
        let policy = body
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| query.get("propagationPolicy").cloned());
        let orphan = body
            .get("orphanDependents")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let propagation = match policy.as_deref() {
            Some("Background") => Some(Propagation::Background),
            Some("Foreground") => Some(Propagation::Foreground),
            Some("Orphan") => Some(Propagation::Orphan),
            Some(other) => {
                return Err(ApiError::invalid(
                    "",
                    "DeleteOptions",
                    "",
                    vec![Cause {
                        reason: "FieldValueNotSupported".into(),
                        message: format!(
                            "Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
                        ),
                        field: "propagationPolicy".into(),
                    }],
                ));
            }
            None if orphan => Some(Propagation::Orphan),
            None => None,
        };
        let grace_period = match body.get("gracePeriodSeconds") {
            Some(v) => v.as_i64(),
            None => query.get("gracePeriodSeconds").and_then(|g| g.parse().ok()),
        };
        Ok(Self {
            propagation,
            grace_period,
            precondition_rv: body
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
            precondition_uid: body
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    pub(crate) fn background() -> Self {
        Self {
            propagation: Some(Propagation::Background),
            grace_period: None,
            precondition_rv: None,
            precondition_uid: None,
        }
    }
}

impl Api {
    /// Removes an object now and tells the watches; the garbage collector
    /// then deals with what it owned.
    pub(crate) fn remove(&mut self, rt: &ResourceType, ns: &str, name: &str) -> Option<Arc<Value>> {
        let last = (**self.store.get(&rt.key(), ns, name)?).clone();
        self.remove_updated(rt, ns, name, last)
    }

    /// Removes an object whose deletion a change completed (its last
    /// finalizer taken off, a Pod's grace period cut to 0): `updated`, the
    /// object as changed, is what the answer and the DELETED event show.
    pub(crate) fn remove_updated(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        updated: Value,
    ) -> Option<Arc<Value>> {
        self.store.get(&rt.key(), ns, name)?;
        self.dirty = true;
        // A CRD's objects go first, so that resourceVersions rise in the
        // order of the events, as the watch log needs.
        if rt.builtin == Builtin::Crd {
            let key = crd::resource_key(&updated);
            self.drop_custom_kind(&key);
        }
        self.remove_as_next_version(&rt.key(), ns, name, updated)
    }

    /// Removes an object as the next resourceVersion, `last` being what
    /// its DELETED event shows.
    fn remove_as_next_version(
        &mut self,
        key: &ResKey,
        ns: &str,
        name: &str,
        mut last: Value,
    ) -> Option<Arc<Value>> {
        let rv = self.store.next_rv();
        meta_mut(&mut last).insert("resourceVersion".into(), json!(rv.to_string()));
        self.store.remove(key, ns, name, last, rv)
    }

    /// A CRD went away: its objects go with it, each with a DELETED event.
    fn drop_custom_kind(&mut self, key: &ResKey) {
        for obj in self.store.list(key, None) {
            let (ns, name) = namespace_and_name(&obj);
            self.remove_as_next_version(key, &ns, &name, (*obj).clone());
        }
        self.store.drop_kind(key);
        self.catalogue.replace_group_resource(key, Vec::new());
    }

    pub(crate) fn delete(
        &mut self,
        rt: &Arc<ResourceType>,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Value, ApiError> {
        let ns_key = Self::ns_key(rt, ns);
        let obj = self
            .store
            .get(&rt.key(), &ns_key, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        if opts
            .precondition_uid
            .as_deref()
            .is_some_and(|u| Some(u) != meta_str(&obj, "uid"))
        {
            let mut e = ApiError::new(
                Reason::Conflict,
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the UID in the precondition ({}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                    rt.kind,
                    opts.precondition_uid.as_deref().unwrap_or_default(),
                    meta_str(&obj, "uid").unwrap_or_default()
                ),
            );
            e.details = Some(Box::new(crate::error::Details {
                name: name.to_owned(),
                kind: rt.kind.clone(),
                ..Default::default()
            }));
            return Err(e);
        }
        if opts
            .precondition_rv
            .as_deref()
            .is_some_and(|rv| Some(rv) != meta_str(&obj, "resourceVersion"))
        {
            return Err(ApiError::conflict(&rt.group, &rt.plural, name));
        }
        self.admit_delete(rt, &ns_key, name, &obj)?;
        if rt.builtin == Builtin::Pod {
            return Ok(self.delete_pod_gracefully(rt, &ns_key, name, &obj, opts.grace_period));
        }
        let mut finalizers = finalizers(&obj);
        if rt.builtin == Builtin::Namespace {
            // The namespace controller empties it, then removes it.
            let mut terminating = (*obj).clone();
            if !is_deleting(&terminating) {
                meta_mut(&mut terminating)
                    .insert("deletionTimestamp".into(), json!(now_rfc3339(&self.clock)));
                terminating["status"] = json!({ "phase": "Terminating" });
                self.dirty = true;
                let stored = self.put_as_next_version(&rt.key(), "", name, terminating);
                return Ok(self.present(rt, &stored));
            }
            return Ok(self.present(rt, &obj));
        }
        // A CRD goes through apiextensions' cleanup finalizer: its custom
        // resources are deleted first (by the background controllers).
        let mut add = |finalizer: &str| {
            if !finalizers.iter().any(|f| f == finalizer) {
                finalizers.push(finalizer.to_owned());
            }
        };
        if rt.builtin == Builtin::Crd && !is_deleting(&obj) {
            add(crd::CLEANUP_FINALIZER);
        }
        // Orphaning is the garbage collector's work, under the `orphan`
        // finalizer: the object stays until its dependents let go of it.
        match opts.propagation.unwrap_or(Propagation::Background) {
            Propagation::Orphan => add("orphan"),
            Propagation::Foreground => add("foregroundDeletion"),
            Propagation::Background => {}
        }
        if finalizers.is_empty() {
            let last = self
                .remove(rt, &ns_key, name)
                .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
            // The real registry answers an immediate deletion with a Status
            // naming what went, except for the kinds whose store returns
            // the deleted object (ReturnDeletedObject: ServiceAccounts here;
            // Namespaces never get this far).
            if rt.builtin == Builtin::ServiceAccount {
                return Ok(self.present(rt, &last));
            }
            let mut details = json!({
                "name": name,
                "kind": rt.plural,
                "uid": meta_str(&last, "uid").unwrap_or_default(),
            });
            if !rt.group.is_empty() {
                details["group"] = json!(rt.group);
            }
            return Ok(json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": details,
            }));
        }
        let mut marked = (*obj).clone();
        let m = meta_mut(&mut marked);
        if !m.contains_key("deletionTimestamp") {
            m.insert("deletionTimestamp".into(), json!(now_rfc3339(&self.clock)));
            // apiextensions marks a CRD itself, without a grace period
            // and keeping its generation; every other kind is marked as
            // the generic registry's markAsDeleting does: a first mark
            // moves the generation of a kind that has one.
            if rt.builtin != Builtin::Crd {
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
                bump_generation(m);
            }
        }
        m.insert("finalizers".into(), json!(finalizers));
        if rt.builtin == Builtin::Crd {
            crd::mark_terminating(&mut marked);
        }
        self.dirty = true;
        let stored = self.put_as_next_version(&rt.key(), &ns_key, name, marked);
        Ok(self.present(rt, &stored))
    }

    fn admit_delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        obj: &Value,
    ) -> Result<(), ApiError> {
        let req = admission_request(Operation::Delete, rt, ns, name, Some(obj));
        self.validate_admission(rt, &req, obj)
    }

    pub(crate) fn delete_collection(
        &mut self,
        rt: &Arc<ResourceType>,
        ns: Option<&str>,
        query: &Query,
        opts: &DeleteOptions,
    ) -> Result<Value, ApiError> {
        let list = self.list(rt, ns, query)?;
        let mut deleted = Vec::new();
        for item in list["items"].as_array().into_iter().flatten() {
            let name = meta_str(item, "name").unwrap_or_default().to_owned();
            // The list says what each object was (or is, while finalizers
            // hold it), never a Status.
            let answer = self.delete(rt, ns, &name, opts)?;
            deleted.push(if answer["kind"] == "Status" {
                item.clone()
            } else {
                answer
            });
        }
        Ok(
            json!({ "kind": rt.list_kind(), "apiVersion": rt.api_version(), "metadata": { "resourceVersion": self.store.current_rv().to_string() }, "items": deleted }),
        )
    }
}

/// A generation the object has (above 0) moves by one: its deletion is a
/// change of what it asks for, which controllers watching `generation`
/// must see.
pub(crate) fn bump_generation(m: &mut serde_json::Map<String, Value>) {
    if let Some(g) = m
        .get("generation")
        .and_then(Value::as_i64)
        .filter(|g| *g > 0)
    {
        m.insert("generation".into(), json!(g + 1));
    }
}
