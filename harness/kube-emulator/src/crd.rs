//! CustomResourceDefinitions: their validation, the kinds they serve, and
//! the status the API server gives them once established.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::{ApiError, Cause, invalid_value, required};
use crate::kinds::{Builtin, Column, ColumnSource, ResKey, ResourceType};
use crate::metadata::strings_at;

pub(crate) fn resource_key(crd: &Value) -> ResKey {
    ResKey {
        group: crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        plural: crd
            .pointer("/spec/names/plural")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    }
}

pub(crate) fn validate(crd: &mut Value, name: &str) -> Result<(), ApiError> {
    let mut causes: Vec<Cause> = Vec::new();
    let s = |p: &str| {
        crd.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (group, plural, kind, scope) = (
        s("/spec/group"),
        s("/spec/names/plural"),
        s("/spec/names/kind"),
        s("/spec/scope"),
    );
    for (value, field) in [
        (&group, "spec.group"),
        (&plural, "spec.names.plural"),
        (&kind, "spec.names.kind"),
    ] {
        if value.is_empty() {
            causes.push(required(field));
        }
    }
    if !matches!(scope.as_str(), "Namespaced" | "Cluster") {
        causes.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!(
                "Unsupported value: \"{scope}\": supported values: \"Cluster\", \"Namespaced\""
            ),
            field: "spec.scope".into(),
        });
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        causes.push(invalid_value(
            "metadata.name",
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        causes.push(required("spec.versions"));
    }
    let storage = versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .count();
    if !versions.is_empty() && storage != 1 {
        causes.push(invalid_value(
            "spec.versions",
            "Invalid value: must have exactly one version marked as storage version",
        ));
    }
    for (i, v) in versions.iter().enumerate() {
        if v.get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            causes.push(required(&format!("spec.versions[{i}].name")));
        }
        if v.pointer("/schema/openAPIV3Schema").is_none() {
            causes.push(Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value: schemas are required".into(),
                field: format!("spec.versions[{i}].schema.openAPIV3Schema"),
            });
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            name,
            causes,
        ));
    }
    // Defaults the real server fills in.
    if crd
        .pointer("/spec/names/singular")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        crd["spec"]["names"]["singular"] = json!(kind.to_lowercase());
    }
    if crd.pointer("/spec/names/listKind").is_none() {
        crd["spec"]["names"]["listKind"] = json!(format!("{kind}List"));
    }
    Ok(())
}

/// The kinds a (valid) CRD serves, one per served version.
pub(crate) fn served_types(crd: &Value) -> Result<Vec<ResourceType>, Vec<Cause>> {
    let s = |p: &str| {
        crd.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let strings = |p: &str| strings_at(crd, p);
    // Every served version's objects are stored in this one (validation
    // made sure there is exactly one).
    let storage_version = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|v| v.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut out = Vec::new();
    for v in crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if v.get("served").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let mut columns = vec![Column {
            name: "Name".into(),
            type_: "string".into(),
            format: "name".into(),
            description: String::new(),
            priority: 0,
            source: ColumnSource::Name,
        }];
        for c in v
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            columns.push(Column {
                name: c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                type_: c
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("string")
                    .to_owned(),
                format: c
                    .get("format")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                description: c.get("description").and_then(Value::as_str).map_or_else(
                    || {
                        format!(
                            "Custom resource definition column (in JSONPath format): {}",
                            c.get("jsonPath")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                        )
                    },
                    str::to_owned,
                ),
                priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                source: ColumnSource::JsonPath(
                    c.get("jsonPath")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                ),
            });
        }
        // Age only stands in for columns a CRD does not define
        // (serveDefaultColumnsIfEmpty in apiextensions-apiserver).
        let defined = columns.len() > 1;
        columns.extend((!defined).then(|| Column {
            name: "Age".into(),
            type_: "date".into(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            source: ColumnSource::Age,
        }));
        out.push(ResourceType {
            group: s("/spec/group"),
            version: v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            kind: s("/spec/names/kind"),
            plural: s("/spec/names/plural"),
            singular: s("/spec/names/singular"),
            short_names: strings("/spec/names/shortNames"),
            categories: strings("/spec/names/categories"),
            namespaced: s("/spec/scope") == "Namespaced",
            status_subresource: v.pointer("/subresources/status").is_some(),
            builtin: Builtin::Custom,
            storage_version: storage_version.clone(),
            schema: v.pointer("/schema/openAPIV3Schema").cloned().map(Arc::new),
            columns,
        });
    }
    Ok(out)
}

/// What the CRD controllers of the real server report once the names are
/// accepted and the kind is served.
/// The finalizer apiextensions-apiserver puts on a CRD being deleted.
pub(crate) const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// The condition a CRD being deleted shows until its objects are gone.
pub(crate) fn mark_terminating(crd: &mut Value) {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let terminating = json!({ "type": "Terminating", "status": "True", "reason": "InstanceDeletionPending", "message": "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon", "lastTransitionTime": now });
    if let Some(conditions) = crd
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    {
        conditions.retain(|c| c["type"] != "Terminating");
        conditions.push(terminating);
    }
}

pub(crate) fn mark_established(crd: &mut Value) {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let storage: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").cloned())
        .collect();
    // The defaulting of apiextensions/v1.
    if crd.pointer("/spec/conversion").is_none() {
        crd["spec"]["conversion"] = json!({ "strategy": "None" });
    }
    let names = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    crd["status"] = json!({
        "acceptedNames": names,
        "storedVersions": storage,
        "conditions": [
            { "type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now },
            { "type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now },
        ],
    });
}
