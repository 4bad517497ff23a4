//! OpenAPI v3 structural schemas of CRDs: defaulting, pruning of unknown
//! fields, and validation with the field paths and messages the API server
//! gives. CEL rules (`x-kubernetes-validations`) are not evaluated.

use serde_json::{Map, Value};

use crate::error::{Cause, invalid_value, required};

#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub causes: Vec<Cause>,
    /// Fields the schema does not declare (pruned), as `.spec.foo`.
    pub unknown: Vec<String>,
}

/// Defaults, prunes and validates `obj` (a whole custom resource) against `schema`.
pub(crate) fn apply(schema: &Value, obj: &mut Value) -> Outcome {
    let mut out = Outcome::default();
    walk(schema, obj, "", &mut out, true);
    out
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn walk(schema: &Value, value: &mut Value, path: &str, out: &mut Outcome, root: bool) {
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let expected = schema.get("type").and_then(Value::as_str);
    let actual = type_name(value);
    if let Some(expected) = expected {
        let fits = expected == actual
            || (expected == "number" && actual == "integer")
            || (int_or_string && matches!(actual, "integer" | "string"));
        if !fits {
            let mut cause = invalid_value(
                path,
                format!(
                    "Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""
                ),
            );
            cause.reason = "FieldValueTypeInvalid".into();
            out.causes.push(cause);
            return;
        }
    } else if int_or_string && !matches!(actual, "integer" | "string") {
        out.causes.push(invalid_value(path, format!("Invalid value: \"{actual}\": {path} in body must be of type integer or string: \"{actual}\"")));
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        let supported: Vec<String> = options.iter().map(show).collect();
        out.causes.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!(
                "Unsupported value: {}: supported values: {}",
                show(value),
                supported.join(", ")
            ),
            field: path.to_owned(),
        });
    }
    match value {
        Value::Object(map) => walk_object(schema, map, path, out, root, preserve),
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(min) = schema
                .get("minItems")
                .and_then(Value::as_u64)
                .filter(|m| len < *m)
            {
                out.causes.push(invalid_value(
                    path,
                    format!(
                        "Invalid value: {len}: {path} in body should have at least {min} items"
                    ),
                ));
            }
            if let Some(max) = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .filter(|m| len > *m)
            {
                out.causes.push(Cause {
                    reason: "FieldValueTooMany".into(),
                    message: format!("Too many: {len}: must have at most {max} items"),
                    field: path.to_owned(),
                });
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(item_schema, item, &format!("{path}[{i}]"), out, false);
                }
            }
        }
        Value::String(s) => check_string(schema, s, path, out),
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some(min) = schema
                .get("minimum")
                .and_then(Value::as_f64)
                .filter(|m| x < *m)
            {
                out.causes.push(invalid_value(path, format!("Invalid value: {n}: {path} in body should be greater than or equal to {min}")));
            }
            if let Some(max) = schema
                .get("maximum")
                .and_then(Value::as_f64)
                .filter(|m| x > *m)
            {
                out.causes.push(invalid_value(
                    path,
                    format!(
                        "Invalid value: {n}: {path} in body should be less than or equal to {max}"
                    ),
                ));
            }
        }
        _ => {}
    }
}

fn check_string(schema: &Value, s: &str, path: &str, out: &mut Outcome) {
    let len = s.chars().count() as u64;
    if let Some(max) = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .filter(|m| len > *m)
    {
        out.causes.push(Cause {
            reason: "FieldValueTooLong".into(),
            message: format!("Too long: may not be more than {max} bytes"),
            field: path.to_owned(),
        });
    }
    if let Some(min) = schema
        .get("minLength")
        .and_then(Value::as_u64)
        .filter(|m| len < *m)
    {
        out.causes.push(invalid_value(
            path,
            format!("Invalid value: {s:?}: {path} in body should be at least {min} chars long"),
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(pattern) {
            Ok(re) if !re.is_match(s) => {
                out.causes.push(invalid_value(
                    path,
                    format!("Invalid value: {s:?}: {path} in body should match '{pattern}'"),
                ));
            }
            _ => {}
        }
    }
    let bad_format = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => s.parse::<jiff::Timestamp>().is_err(),
        Some("byte") => {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).is_err()
        }
        Some("int32" | "int64" | "int") => false,
        _ => false,
    };
    if bad_format {
        let format = schema
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or_default();
        out.causes.push(invalid_value(
            path,
            format!("Invalid value: {s:?}: {path} in body must be of type {format}: {s:?}"),
        ));
    }
}

fn walk_object(
    schema: &Value,
    map: &mut Map<String, Value>,
    path: &str,
    out: &mut Outcome,
    root: bool,
    preserve: bool,
) {
    let props = schema.get("properties").and_then(Value::as_object);
    // Nulls in fields that are not nullable are dropped, as the server does.
    if let Some(props) = props {
        map.retain(|k, v| {
            !(v.is_null()
                && props
                    .get(k)
                    .is_some_and(|s| !s.get("nullable").and_then(Value::as_bool).unwrap_or(false)))
        });
        for (k, s) in props {
            if !map.contains_key(k)
                && let Some(d) = s.get("default")
            {
                map.insert(k.clone(), d.clone());
            }
        }
    }
    for field in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(field) {
            out.causes.push(required(&join(path, field)));
        }
    }
    let additional = schema.get("additionalProperties");
    let keys: Vec<String> = map.keys().cloned().collect();
    for k in keys {
        // apiVersion, kind and metadata of the object itself are the server's business.
        if root && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        let child_path = join(path, &k);
        let child_schema = props.and_then(|p| p.get(&k)).or(match additional {
            Some(s @ Value::Object(_)) => Some(s),
            _ => None,
        });
        match child_schema {
            Some(s) => {
                if let Some(v) = map.get_mut(&k) {
                    walk(s, v, &child_path, out, false);
                }
            }
            None if preserve || matches!(additional, Some(Value::Bool(true))) => {}
            None => {
                map.remove(&k);
                out.unknown.push(format!(".{child_path}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "spec": {"type": "object", "required": ["store"], "properties": {
                "store": {"type": "string"},
                "interval": {"type": "string", "default": "1h"},
                "policy": {"type": "string", "enum": ["Owner", "Orphan"]},
                "items": {"type": "array", "items": {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "when": {"type": "string", "format": "date-time"}
            }}
        }})
    }

    #[test]
    fn defaults_prunes_and_validates() {
        let mut obj = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a", "anything": 1},
            "spec": {"store": "s", "extra": 1, "free": {"k": {"deep": true}}, "labels": {"a": "b"}}});
        let out = apply(&schema(), &mut obj);
        assert!(out.causes.is_empty(), "{:?}", out.causes);
        assert_eq!(out.unknown, [".spec.extra"]);
        assert_eq!(obj["spec"]["interval"], "1h");
        assert_eq!(obj["spec"]["free"]["k"]["deep"], true);
        assert_eq!(obj["metadata"]["anything"], 1, "metadata is not pruned");
    }

    #[test]
    fn errors_name_the_field() {
        let mut obj = json!({"spec": {"interval": 5, "policy": "Bogus", "items": [{"key": "a"}, {}], "labels": {"a": 1}, "when": "yesterday"}});
        let out = apply(&schema(), &mut obj);
        let fields: Vec<(&str, &str)> = out
            .causes
            .iter()
            .map(|c| (c.field.as_str(), c.reason.as_str()))
            .collect();
        assert!(
            fields.contains(&("spec.store", "FieldValueRequired")),
            "{fields:?}"
        );
        // A value of the wrong type is FieldValueTypeInvalid, as the real
        // server's schema validation says.
        assert!(fields.contains(&("spec.interval", "FieldValueTypeInvalid")));
        assert!(fields.contains(&("spec.policy", "FieldValueNotSupported")));
        assert!(fields.contains(&("spec.items[1].key", "FieldValueRequired")));
        assert!(fields.contains(&("spec.labels.a", "FieldValueTypeInvalid")));
        assert!(fields.contains(&("spec.when", "FieldValueInvalid")));
        let interval = out
            .causes
            .iter()
            .find(|c| c.field == "spec.interval")
            .unwrap();
        assert_eq!(
            interval.message,
            "Invalid value: \"integer\": spec.interval in body must be of type string: \"integer\""
        );
        let policy = out
            .causes
            .iter()
            .find(|c| c.field == "spec.policy")
            .unwrap();
        assert_eq!(
            policy.message,
            "Unsupported value: \"Bogus\": supported values: \"Owner\", \"Orphan\""
        );
    }
}
