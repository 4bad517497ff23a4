//! get, and how a stored object is shown to a client of a version.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::{Api, Query};
use crate::error::ApiError;
use crate::events;
use crate::kinds::{Builtin, ResourceType};
use crate::selector::{FieldSelector, LabelSelector};

pub(crate) fn present_as(rt: &ResourceType, obj: &Value) -> Value {
    if rt.builtin == Builtin::EventV1 {
        return events::to_v1(obj);
    }
    let mut out = obj.clone();
    out["apiVersion"] = json!(rt.api_version());
    out["kind"] = json!(rt.kind);
    out
}

/// [`present_as`] without the copy when the object is stored as `rt`
/// (`api_version` is `rt.api_version()`, which the caller computes once)
/// shows it, as it is unless read in another version: what lists and
/// watches send of every object.
pub(crate) fn presented<'a>(
    rt: &ResourceType,
    api_version: &str,
    obj: &'a Value,
) -> Cow<'a, Value> {
    let as_stored = rt.builtin != Builtin::EventV1
        && obj.get("apiVersion").and_then(Value::as_str) == Some(api_version)
        && obj.get("kind").and_then(Value::as_str) == Some(rt.kind.as_str());
    if as_stored {
        Cow::Borrowed(obj)
    } else {
        Cow::Owned(present_as(rt, obj))
    }
}

impl Api {
    /// The object as a client of `rt`'s version sees it.
    pub(crate) fn present(&self, rt: &ResourceType, obj: &Value) -> Value {
        present_as(rt, obj)
    }

    pub(crate) fn get(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let ns = Self::ns_key(rt, ns);
        self.store
            .get(&rt.key(), &ns, name)
            .map(|o| self.present(rt, o))
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
    }

    pub(crate) fn selectors(query: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
        let labels = LabelSelector::parse(
            query
                .get("labelSelector")
                .map(String::as_str)
                .unwrap_or_default(),
        )?;
        let fields = FieldSelector::parse(
            query
                .get("fieldSelector")
                .map(String::as_str)
                .unwrap_or_default(),
        )?;
        Ok((labels, fields))
    }
}
