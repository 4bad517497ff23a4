//! create (POST), with generateName and the NamespaceLifecycle admission
//! plugin's refusals, and the namespaces a cluster starts with.

use std::sync::Arc;

use http::StatusCode;
use rand::Rng;
use serde_json::{Value, json};

use super::{Api, Query, SYSTEM_NAMESPACES};
use crate::error::{ApiError, Cause, Reason, required};
use crate::events;
use crate::kinds::{Builtin, ResKey, ResourceType};
use crate::metadata::{is_deleting, meta_mut, meta_str};

impl Api {
    /// The namespaces every cluster has from its start, which the real
    /// API server's bootstrap controller creates: `default` (where clients
    /// without a namespace put things), `kube-system`, `kube-public`,
    /// `kube-node-lease`.
    pub(crate) fn create_system_namespaces(&mut self) -> Result<(), ApiError> {
        let Some(rt) = self.catalogue.find("", "v1", "namespaces") else {
            return Err(ApiError::new(
                Reason::InternalError,
                "namespaces are not served",
            ));
        };
        for name in SYSTEM_NAMESPACES {
            let ns =
                json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name } });
            self.create(&rt, None, ns, &Query::new())?;
        }
        Ok(())
    }

    pub(crate) fn create(
        &mut self,
        rt: &Arc<ResourceType>,
        ns: Option<&str>,
        obj: Value,
        query: &Query,
    ) -> Result<(StatusCode, Value), ApiError> {
        let (status, stored) = self.create_stored(rt, ns, obj, query)?;
        Ok((status, self.present(rt, &stored)))
    }

    /// [`Api::create`], answering with the object as stored (which a
    /// caller presents, or writes out as it is when `rt` shows it so).
    pub(crate) fn create_stored(
        &mut self,
        rt: &Arc<ResourceType>,
        ns: Option<&str>,
        mut obj: Value,
        query: &Query,
    ) -> Result<(StatusCode, Arc<Value>), ApiError> {
        if rt.builtin == Builtin::EventV1 {
            obj = events::to_core(&obj);
        }
        let ns_key = Self::ns_key(rt, ns);
        let m = meta_mut(&mut obj);
        if rt.namespaced {
            match m.get("namespace").and_then(Value::as_str) {
                Some(body_ns) if body_ns != ns_key => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => {
                    m.insert("namespace".into(), json!(ns_key));
                }
            }
        } else {
            m.remove("namespace");
        }
        if m.get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            match m.get("generateName").and_then(Value::as_str) {
                Some(prefix) if !prefix.is_empty() => {
                    let name = format!("{prefix}{}", random_suffix());
                    m.insert("name".into(), json!(name));
                }
                _ => {
                    let mut cause = required("metadata.name");
                    cause.message.push_str(": name or generateName is required");
                    return Err(ApiError::invalid(&rt.group, &rt.kind, "", vec![cause]));
                }
            }
        }
        let name = meta_str(&obj, "name").unwrap_or_default().to_owned();
        if rt.namespaced {
            self.check_namespace_accepts(&ns_key, rt, &name)?;
        }
        let stored = self.write(rt, &ns_key, &name, obj, None, None, query)?;
        Ok((StatusCode::CREATED, stored))
    }

    /// The NamespaceLifecycle admission plugin's refusals, in its words.
    fn check_namespace_accepts(
        &self,
        ns: &str,
        rt: &ResourceType,
        name: &str,
    ) -> Result<(), ApiError> {
        let key = ResKey::core("namespaces");
        match self.store.get(&key, "", ns) {
            None => Err(ApiError::not_found("", "namespaces", ns)),
            Some(n) if is_deleting(n) => {
                let mut e = ApiError::new(
                    Reason::Forbidden,
                    format!(
                        "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                        crate::error::qualified(&rt.group, &rt.plural)
                    ),
                );
                e.details = Some(Box::new(crate::error::Details {
                    name: name.to_owned(),
                    group: rt.group.clone(),
                    kind: rt.plural.clone(),
                    causes: vec![Cause {
                        reason: "NamespaceTerminating".into(),
                        message: format!("namespace {ns} is being terminated"),
                        field: "metadata.namespace".into(),
                    }],
                }));
                Err(e)
            }
            Some(_) => Ok(()),
        }
    }
}

/// Five characters as the real server's generated names end in
/// (apimachinery's rand.String: no vowels, no look-alike digits).
pub(super) fn random_suffix() -> String {
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}
