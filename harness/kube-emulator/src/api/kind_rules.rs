//! What the built-in kinds add to a write: Secret and ConfigMap data
//! (immutability, Go's decoding errors), Namespace, Pod, Deployment,
//! ReplicaSet and Event defaults, a Deployment's selector rules, CRD
//! validation, and which top-level fields each kind has.

use base64::Engine;
use serde_json::{Value, json};

use super::Api;
use crate::crd;
use crate::error::{ApiError, Cause, forbidden, invalid_value, required};
use crate::kinds::{Builtin, ResourceType};
use crate::metadata::meta_mut;
use crate::metadata::now_rfc3339;

impl Api {
    /// Kind-specific rules of the built-in kinds.
    pub(super) fn normalize(
        &self,
        rt: &ResourceType,
        name: &str,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        match rt.builtin {
            Builtin::Secret => normalize_secret(rt, name, obj, old),
            Builtin::ConfigMap => {
                // Decoding into the typed ConfigMap refuses a value that is
                // not a string, in Go's words.
                if let Some(v) = obj
                    .get("data")
                    .and_then(Value::as_object)
                    .and_then(|d| d.values().find(|v| !v.is_string()))
                {
                    return Err(ApiError::bad_request(format!(
                        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal {} into Go struct field ConfigMap.data of type string",
                        go_json_type(v)
                    )));
                }
                let causes = old
                    .map(|o| immutable_causes(o, obj, &["data", "binaryData"]))
                    .unwrap_or_default();
                if causes.is_empty() {
                    Ok(())
                } else {
                    Err(ApiError::invalid("", "ConfigMap", name, causes))
                }
            }
            Builtin::Namespace => {
                if old.is_none() {
                    obj["spec"] = json!({ "finalizers": ["kubernetes"] });
                    obj["status"] = json!({ "phase": "Active" });
                }
                let labels = meta_mut(obj).entry("labels").or_insert(json!({}));
                if let Value::Object(l) = labels {
                    l.insert("kubernetes.io/metadata.name".into(), json!(name));
                }
                Ok(())
            }
            Builtin::Crd => crd::validate(obj, name),
            Builtin::Pod => {
                if obj
                    .pointer("/spec/containers")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
                {
                    return Err(ApiError::invalid(
                        "",
                        "Pod",
                        name,
                        vec![required("spec.containers")],
                    ));
                }
                match old {
                    None => {
                        crate::workloads::default_new_pod(obj, &now_rfc3339(&self.clock));
                        self.mount_service_account_token(obj);
                        Ok(())
                    }
                    Some(old) => {
                        if let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) {
                            crate::workloads::default_pod_spec(spec);
                        }
                        match pod_update_forbidden(old, obj) {
                            Some(cause) => Err(ApiError::invalid("", "Pod", name, vec![cause])),
                            None => Ok(()),
                        }
                    }
                }
            }
            Builtin::Event | Builtin::EventV1 => {
                // Stored in the core form (`events::to_core` came first).
                crate::events::fill_unset(obj);
                Ok(())
            }
            Builtin::ReplicaSet => {
                // pkg/apis/apps/v1/defaults.go, and ValidateReplicaSetSpec
                // (which holds the Deployment's selector rules, words and all).
                default_template(obj);
                if obj["spec"].get("replicas").is_none() {
                    obj["spec"]["replicas"] = json!(1);
                }
                if old.is_none() {
                    // A new ReplicaSet's status is the zero one, whose
                    // `replicas` (not omitempty) shows.
                    obj["status"] = json!({ "replicas": 0 });
                }
                let causes = deployment_causes(obj);
                if causes.is_empty() {
                    Ok(())
                } else {
                    Err(ApiError::invalid("apps", "ReplicaSet", name, causes))
                }
            }
            Builtin::Deployment => {
                // The API server's defaults (pkg/apis/apps/v1/defaults.go).
                default_template(obj);
                for (field, value) in [
                    ("replicas", json!(1)),
                    ("revisionHistoryLimit", json!(10)),
                    ("progressDeadlineSeconds", json!(600)),
                    (
                        "strategy",
                        json!({ "type": "RollingUpdate", "rollingUpdate": { "maxUnavailable": "25%", "maxSurge": "25%" } }),
                    ),
                ] {
                    if obj["spec"].get(field).is_none() {
                        obj["spec"][field] = value;
                    }
                }
                let causes = deployment_causes(obj);
                if causes.is_empty() {
                    Ok(())
                } else {
                    Err(ApiError::invalid("apps", "Deployment", name, causes))
                }
            }
            _ => Ok(()),
        }
    }
}

fn normalize_secret(
    rt: &ResourceType,
    name: &str,
    obj: &mut Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    if let Some(Value::Object(string_data)) =
        obj.as_object_mut().and_then(|m| m.remove("stringData"))
    {
        let data = obj
            .as_object_mut()
            .map(|m| m.entry("data").or_insert(json!({})));
        if let Some(Value::Object(data)) = data {
            for (k, v) in string_data {
                let s = v.as_str().ok_or_else(|| ApiError::bad_request(format!("Secret in version \"v1\" cannot be handled as a Secret: stringData.{k}: expected a string")))?;
                data.insert(k, json!(b64.encode(s)));
            }
        }
    }
    let mut causes = Vec::new();
    let mut total = 0usize;
    let mut decoded_data = std::collections::HashMap::new();
    if let Some(data) = obj.get("data") {
        let Value::Object(data) = data else {
            return Err(ApiError::bad_request(
                "Secret in version \"v1\" cannot be handled as a Secret: data must be an object",
            ));
        };
        for (k, v) in data {
            let text = v.as_str().ok_or_else(|| {
                ApiError::bad_request(format!("Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal {} into Go struct field Secret.data of type []uint8", go_json_type(v)))
            })?;
            let decoded = b64.decode(text).map_err(|e| {
                ApiError::bad_request(format!(
                    "Secret in version \"v1\" cannot be handled as a Secret: {}",
                    go_base64_error(&e, text.len())
                ))
            })?;
            total += decoded.len();
            decoded_data.insert(k.clone(), decoded);
            if k.is_empty()
                || !k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
            {
                causes.push(invalid_value(&format!("data[{k}]"), format!("Invalid value: \"{k}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")));
            }
        }
    }
    if total > 1024 * 1024 {
        causes.push(Cause {
            reason: "FieldValueTooLong".into(),
            message: "Too long: must have at most 1048576 bytes".into(),
            field: "data".into(),
        });
    }
    if obj
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        obj["type"] = json!("Opaque");
    }
    let annotated = |key: &str| {
        obj.pointer("/metadata/annotations")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    causes.extend(secret_type_causes(
        obj["type"].as_str().unwrap_or_default(),
        &decoded_data,
        annotated("kubernetes.io/service-account.name"),
    ));
    if let Some(old) = old {
        if old.get("type") != obj.get("type") {
            causes.push(invalid_value(
                "type",
                format!("Invalid value: {}: field is immutable", obj["type"]),
            ));
        }
        causes.extend(immutable_causes(old, obj, &["data"]));
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&rt.group, &rt.kind, name, causes))
    }
}

/// What ValidateSecret requires of each built-in Secret type, in its
/// order and words (a docker config's JSON error is Go's, its value
/// redacted); other types, Opaque included, require nothing.
fn secret_type_causes(
    kind: &str,
    data: &std::collections::HashMap<String, Vec<u8>>,
    has_service_account: bool,
) -> Vec<Cause> {
    let key = |k: &str| format!("data[{k}]");
    match kind {
        "kubernetes.io/service-account-token" if !has_service_account => vec![required(
            "metadata.annotations[kubernetes.io/service-account.name]",
        )],
        "kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson" => {
            let k = if kind == "kubernetes.io/dockercfg" {
                ".dockercfg"
            } else {
                ".dockerconfigjson"
            };
            match data.get(k) {
                None => vec![required(&key(k))],
                Some(bytes) => crate::go_json::object_error(bytes)
                    .map(|e| {
                        invalid_value(
                            &key(k),
                            format!("Invalid value: \"<secret contents redacted>\": {e}"),
                        )
                    })
                    .into_iter()
                    .collect(),
            }
        }
        "kubernetes.io/basic-auth"
            if !data.contains_key("username") && !data.contains_key("password") =>
        {
            vec![required(&key("username")), required(&key("password"))]
        }
        "kubernetes.io/ssh-auth" if data.get("ssh-privatekey").is_none_or(Vec::is_empty) => {
            vec![required(&key("ssh-privatekey"))]
        }
        "kubernetes.io/tls" => ["tls.crt", "tls.key"]
            .into_iter()
            .filter(|k| !data.contains_key(*k))
            .map(|k| required(&key(k)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Go's encoding/base64 error for a bad input: the offset of the first
/// byte it could not take (the end for a short input).
pub(crate) fn go_base64_error(e: &base64::DecodeError, len: usize) -> String {
    let at = match e {
        base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _) => {
            *at
        }
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => len,
    };
    format!("illegal base64 data at input byte {at}")
}

/// How Go's encoding/json names a JSON value's type in its errors.
fn go_json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An object stored with `immutable: true` keeps its data and the flag
/// itself (the real server's ValidateSecretUpdate/ValidateConfigMapUpdate;
/// `binaryData` is reported with `data`, under one cause).
fn immutable_causes(old: &Value, obj: &Value, data_fields: &[&str]) -> Vec<Cause> {
    let forbidden = |field: &str| Cause {
        reason: "FieldValueForbidden".into(),
        message: "Forbidden: field is immutable when `immutable` is set".into(),
        field: field.to_owned(),
    };
    let mut causes = Vec::new();
    if old.get("immutable") != Some(&json!(true)) {
        return causes;
    }
    if data_fields.iter().any(|f| old.get(*f) != obj.get(*f)) {
        causes.push(forbidden("data"));
    }
    if obj.get("immutable") != Some(&json!(true)) {
        causes.push(forbidden("immutable"));
    }
    causes
}

/// Where the ServiceAccount admission plugin mounts a Pod's token.
const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

impl Api {
    /// The ServiceAccount admission plugin's token volume: unless the Pod
    /// or its ServiceAccount turns automounting off, or a container already
    /// mounts something there, a projected volume `kube-api-access-XXXXX`
    /// (the token, the cluster's CA, the namespace) mounted read-only in
    /// every container, as `kubectl describe pod` then shows it.
    fn mount_service_account_token(&self, pod: &mut Value) {
        let ns = pod
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let spec = &mut pod["spec"];
        let sa_name = spec
            .get("serviceAccountName")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_owned();
        let sa_automount = self
            .store
            .get(
                &crate::kinds::ResKey::core("serviceaccounts"),
                &ns,
                &sa_name,
            )
            .and_then(|sa| sa.get("automountServiceAccountToken"))
            .and_then(Value::as_bool);
        let automount = spec
            .get("automountServiceAccountToken")
            .and_then(Value::as_bool)
            .or(sa_automount)
            .unwrap_or(true);
        let containers = ["initContainers", "containers"];
        let mounted = containers.iter().any(|list| {
            spec.get(*list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|c| c.get("volumeMounts").and_then(Value::as_array))
                .flatten()
                .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT_PATH))
        });
        if !automount || mounted {
            return;
        }
        let volume = format!("kube-api-access-{}", super::create::random_suffix());
        let source = json!({ "name": volume, "projected": { "defaultMode": 420, "sources": [
            { "serviceAccountToken": { "expirationSeconds": 3607, "path": "token" } },
            { "configMap": { "name": "kube-root-ca.crt", "items": [{ "key": "ca.crt", "path": "ca.crt" }] } },
            { "downwardAPI": { "items": [{ "path": "namespace", "fieldRef": { "apiVersion": "v1", "fieldPath": "metadata.namespace" } }] } },
        ] } });
        match spec.get_mut("volumes").and_then(Value::as_array_mut) {
            Some(volumes) => volumes.push(source),
            None => spec["volumes"] = json!([source]),
        }
        let mount = json!({ "name": volume, "readOnly": true, "mountPath": TOKEN_MOUNT_PATH });
        for list in containers {
            for c in spec
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                match c.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                    Some(mounts) => mounts.push(mount.clone()),
                    None => c["volumeMounts"] = json!([mount.clone()]),
                }
            }
        }
    }
}

/// ValidatePodUpdate: of a Pod's spec only the containers' images,
/// activeDeadlineSeconds, added tolerations and terminationGracePeriodSeconds
/// may change (the real message then prints a diff of the two specs as Go
/// structs, which the emulator leaves out).
fn pod_update_forbidden(old: &Value, new: &Value) -> Option<Cause> {
    let before = old.get("spec").cloned().unwrap_or(Value::Null);
    let mut after = new.get("spec").cloned().unwrap_or(Value::Null);
    for list in ["containers", "initContainers"] {
        let (Some(was), Some(now)) = (
            before.get(list).and_then(Value::as_array),
            after.get_mut(list).and_then(Value::as_array_mut),
        ) else {
            continue;
        };
        if was.len() == now.len() {
            for (w, n) in was.iter().zip(now.iter_mut()) {
                take_old(w, n, "image");
            }
        }
    }
    for field in ["activeDeadlineSeconds", "terminationGracePeriodSeconds"] {
        take_old(&before, &mut after, field);
    }
    // Tolerations may only be added to.
    let tolerations = |s: &Value| {
        s.get("tolerations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (was, now) = (tolerations(&before), tolerations(&after));
    if was.iter().all(|t| now.contains(t)) {
        take_old(&before, &mut after, "tolerations");
    }
    (after != before).then(|| {
        forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        )
    })
}

/// `field` of `new` as it is in `old` (absent if absent there): a change
/// the update rules allow, taken out of the comparison.
fn take_old(old: &Value, new: &mut Value, field: &str) {
    match (old.get(field), new.as_object_mut()) {
        (Some(v), Some(m)) => {
            m.insert(field.to_owned(), v.clone());
        }
        (None, Some(m)) => {
            m.remove(field);
        }
        (_, None) => {}
    }
}

/// A Deployment's or ReplicaSet's pod template gets a pod spec's defaults,
/// as the real server's decoding gives them (what a client reads back).
fn default_template(obj: &mut Value) {
    if !obj.get("spec").is_some_and(Value::is_object) {
        obj["spec"] = json!({});
    }
    if let Some(spec) = obj
        .pointer_mut("/spec/template/spec")
        .filter(|s| s.is_object())
    {
        crate::workloads::default_pod_spec(spec);
    }
}

/// ValidateDeploymentSpec's (and ValidateReplicaSetSpec's) rules on
/// replicas and the selector: replicas not negative, a selector required,
/// not empty, and selecting the template's labels (a missing selector
/// selects nothing, so it fails both, as on the real server).
fn deployment_causes(obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    if let Some(n) = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .filter(|n| *n < 0)
    {
        causes.push(invalid_value(
            "spec.replicas",
            format!("Invalid value: {n}: must be greater than or equal to 0"),
        ));
    }
    let selector = obj.pointer("/spec/selector").filter(|s| !s.is_null());
    match selector {
        None => causes.push(required("spec.selector")),
        Some(sel) => {
            // matchLabels is a map, matchExpressions a list.
            let terms = |f: &str| match sel.get(f) {
                Some(Value::Object(m)) => m.len(),
                Some(Value::Array(a)) => a.len(),
                _ => 0,
            };
            if terms("matchLabels") + terms("matchExpressions") == 0 {
                causes.push(invalid_value(
                    "spec.selector",
                    format!(
                        "Invalid value: {}: empty selector is invalid for deployment",
                        go_value(sel)
                    ),
                ));
            }
        }
    }
    let labels = obj
        .pointer("/spec/template/metadata/labels")
        .cloned()
        .unwrap_or(Value::Null);
    let selects = selector.is_some_and(|_| {
        crate::selector::LabelSelector::parse(&crate::printers::selector_text(obj))
            .is_ok_and(|s| s.matches(&json!({ "metadata": { "labels": labels } })))
    });
    if !selects {
        causes.push(invalid_value(
            "spec.template.metadata.labels",
            format!(
                "Invalid value: {}: `selector` does not match template `labels`",
                go_value(&labels)
            ),
        ));
    }
    causes
}

/// A value as a field error of the real server prints one that is not a
/// string or number: its JSON (`{"app":"web"}`; `null` for none).
fn go_value(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The top-level fields of a built-in kind: a body's other fields are
/// dropped, as decoding into the real server's typed object drops them
/// (or refused under `fieldValidation=Strict`).
pub(super) fn builtin_fields(builtin: Builtin) -> Option<&'static [&'static str]> {
    Some(match builtin {
        Builtin::Secret => &["data", "stringData", "type", "immutable"],
        Builtin::ConfigMap => &["data", "binaryData", "immutable"],
        Builtin::ServiceAccount => &[
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ],
        Builtin::Namespace
        | Builtin::Deployment
        | Builtin::ReplicaSet
        | Builtin::Pod
        | Builtin::Crd
        | Builtin::SelfSubjectReview
        | Builtin::SelfSubjectAccessReview
        | Builtin::SelfSubjectRulesReview => &["spec", "status"],
        Builtin::Event | Builtin::EventV1 | Builtin::Custom => return None,
    })
}
