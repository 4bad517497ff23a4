//! `kubectl get`'s server-side printing: objects as a meta.k8s.io/v1 Table
//! with the kind's columns (a CRD's additionalPrinterColumns).

use emulator_core::Clock;
use serde_json::{Value, json};

use crate::jsonpath;
use crate::kinds::{ColumnSource, ResourceType};

/// Whether the Accept header asks for a Table.
pub(crate) fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

/// The printers' ages (Go's `HumanDuration`): 45s, 3m20s, 2h, 5d.
pub(crate) fn age(created: Option<&str>, clock: &Clock) -> String {
    crate::printers::since(created, clock)
}

fn cell(source: &ColumnSource, obj: &Value, clock: &Clock) -> Value {
    match source {
        ColumnSource::Name => json!(
            obj.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ),
        ColumnSource::Age => json!(age(
            obj.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str),
            clock
        )),
        ColumnSource::DataCount => {
            let n = |k: &str| {
                obj.get(k)
                    .and_then(Value::as_object)
                    .map(|m| m.len())
                    .unwrap_or(0)
            };
            json!(n("data") + n("binaryData"))
        }
        ColumnSource::Count(path) => json!(
            jsonpath::select(obj, path)
                .first()
                .and_then(|v| v.as_array())
                .map(|a| a.len())
                .unwrap_or(0)
        ),
        ColumnSource::InvolvedObject => {
            let o = obj.get("involvedObject").or_else(|| obj.get("regarding"));
            let kind = o
                .and_then(|o| o.get("kind"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase();
            let name = o
                .and_then(|o| o.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            json!(format!("{kind}/{name}"))
        }
        ColumnSource::Printer(f) => f(obj, clock),
        ColumnSource::JsonPath(path) => match jsonpath::render(obj, path) {
            Some(s) => json!(s),
            None => Value::Null,
        },
    }
}

pub(crate) fn table(
    rt: &ResourceType,
    objects: &[Value],
    resource_version: &str,
    clock: &Clock,
    include_definitions: bool,
) -> Value {
    let rows = objects.iter().map(|o| row(rt, o, clock)).collect();
    from_rows(
        rt,
        rows,
        json!({ "resourceVersion": resource_version }),
        include_definitions,
    )
}

/// One object's row: its cells and its metadata.
pub(crate) fn row(rt: &ResourceType, object: &Value, clock: &Clock) -> Value {
    let cells: Vec<Value> = rt
        .columns
        .iter()
        .map(|c| cell(&c.source, object, clock))
        .collect();
    json!({
        "cells": cells,
        "object": { "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object.get("metadata").cloned().unwrap_or(json!({})) },
    })
}

/// A Table of rows, with the list metadata (resourceVersion, and a
/// continue token when a page has more after it).
pub(crate) fn from_rows(
    rt: &ResourceType,
    rows: Vec<Value>,
    metadata: Value,
    include_definitions: bool,
) -> Value {
    let definitions: Vec<Value> = rt
        .columns
        .iter()
        .map(|c| json!({ "name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority }))
        .collect();
    let mut t = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "rows": rows,
    });
    t["columnDefinitions"] = if include_definitions {
        json!(definitions)
    } else {
        json!([])
    };
    t
}
