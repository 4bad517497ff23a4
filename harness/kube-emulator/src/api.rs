//! The verbs of the API over the store: get, list, create, update, patch,
//! delete, deletecollection, and the status and token subresources, with
//! the object semantics of the real server.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use emulator_core::Clock;
use http::StatusCode;
use rand::Rng;
use serde_json::{Map, Value, json};

use crate::admission::{AdmissionHook, AdmissionRequest, Operation};
use crate::crd;
use crate::error::{ApiError, Cause, Reason, invalid_value, required};
use crate::events;
use crate::kinds::{Builtin, Catalogue, ResKey, ResourceType, split_api_version};
use crate::patch::{self, PatchType};
use crate::protobuf;
use crate::schema;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::Store;
use crate::tokens::TokenIssuer;

/// The namespaces a new cluster has.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// etcd's limit on one object.
pub const MAX_OBJECT_BYTES: usize = 1_572_864;

pub type Query = HashMap<String, String>;

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

pub struct Api {
    pub catalogue: Catalogue,
    pub store: Store,
    pub hooks: Vec<Arc<dyn AdmissionHook>>,
    pub clock: Clock,
    pub tokens: Arc<TokenIssuer>,
    /// Set when something the background controllers act on changed.
    pub dirty: bool,
    /// The serving CA, which the root CA publisher puts in every namespace.
    pub root_ca: Option<String>,
    /// The kubelet's Pods being started and stopped.
    pub workloads: crate::workloads::State,
}

pub(crate) fn now_rfc3339(clock: &Clock) -> String {
    clock.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn new_uid() -> String {
    emulator_core::ids::uuid_v4()
}

fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    meta(obj).and_then(|m| m.get(field)).and_then(Value::as_str)
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    meta(obj)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

pub struct DeleteOptions {
    pub propagation: Option<Propagation>,
    pub precondition_rv: Option<String>,
    pub precondition_uid: Option<String>,
}

impl DeleteOptions {
    pub fn parse(body: &[u8], query: &Query) -> Result<Self, ApiError> {
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
        Ok(Self {
            propagation,
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

    pub fn background() -> Self {
        Self {
            propagation: Some(Propagation::Background),
            precondition_rv: None,
            precondition_uid: None,
        }
    }
}

/// The formats of create and update bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Yaml,
    Protobuf,
}

impl BodyFormat {
    /// The format of a body sent as `content_type` to `rt`; 415 for one the
    /// server does not read for that kind.
    pub fn of(rt: &ResourceType, content_type: &str) -> Result<Self, ApiError> {
        let ct = content_type.split(';').next().unwrap_or_default().trim();
        match ct {
            "" | "application/json" | "*/*" => Ok(Self::Json),
            "application/yaml" => Ok(Self::Yaml),
            protobuf::CONTENT_TYPE if takes_protobuf(rt) => Ok(Self::Protobuf),
            _ => Err(ApiError::new(
                Reason::UnsupportedMediaType,
                unsupported_media_type(rt),
            )),
        }
    }
}

/// The kinds whose protobuf bodies are decoded here: those kubectl's typed
/// generators send as protobuf. (A real server reads protobuf for every
/// built-in kind; for custom resources it does not.)
fn takes_protobuf(rt: &ResourceType) -> bool {
    (matches!(
        rt.builtin,
        Builtin::Namespace | Builtin::Secret | Builtin::ConfigMap | Builtin::ServiceAccount
    ) || rt.is_review())
        && protobuf::decodes(&rt.api_version(), &rt.kind)
}

fn unsupported_media_type(rt: &ResourceType) -> String {
    let protobuf = if takes_protobuf(rt) {
        ", application/vnd.kubernetes.protobuf"
    } else {
        ""
    };
    format!(
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml{protobuf}"
    )
}

/// How an unreadable body is named in the error. The real server quotes
/// its first 30 bytes; this names only its length, because those bytes can
/// hold a Secret's value and the error ends up in clients' logs.
fn summarize(body: &[u8]) -> String {
    if body.is_empty() {
        "<empty>".into()
    } else {
        format!("<{} bytes>", body.len())
    }
}

/// A body whose type could not be read at all.
fn unrecognized(rt: &ResourceType, error: &str, body: &[u8]) -> ApiError {
    ApiError::bad_request(format!(
        "the object provided is unrecognized (must be of type {}): {error} ({})",
        rt.kind,
        summarize(body)
    ))
}

/// A body of a known type that cannot become an object of `rt`.
fn cannot_handle(rt: &ResourceType, api_version: &str, kind: &str, error: &str) -> ApiError {
    let (_, version) = split_api_version(api_version);
    ApiError::bad_request(format!(
        "{kind} in version \"{version}\" cannot be handled as a {}: {error}",
        rt.kind
    ))
}

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

/// 422 for a custom resource claiming another kind, as its validation says.
fn wrong_custom_kind(rt: &ResourceType, kind: &str, name: &str) -> ApiError {
    ApiError::invalid(
        &rt.group,
        kind,
        name,
        vec![invalid_value(
            "kind",
            format!("Invalid value: \"{kind}\": must be {}", rt.kind),
        )],
    )
}

/// The Go package of a group's internal types, which conversion errors name.
fn internal_package(group: &str) -> &str {
    match group {
        "" | "events.k8s.io" => "core",
        g => g.split('.').next().unwrap_or(g),
    }
}

impl Api {
    pub fn new(clock: Clock, tokens: Arc<TokenIssuer>, watch_log: usize) -> Self {
        Self {
            catalogue: Catalogue::with_builtins(),
            store: Store::new(watch_log),
            hooks: Vec::new(),
            clock,
            tokens,
            dirty: false,
            root_ca: None,
            workloads: Default::default(),
        }
    }

    /// The namespaces every cluster has from its start, which the real
    /// API server's bootstrap controller creates: `default` (where clients
    /// without a namespace put things), `kube-system`, `kube-public`,
    /// `kube-node-lease`.
    pub fn create_system_namespaces(&mut self) -> Result<(), ApiError> {
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

    /// The object as a client of `rt`'s version sees it.
    pub fn present(&self, rt: &ResourceType, obj: &Value) -> Value {
        present_as(rt, obj)
    }

    fn ns_key(rt: &ResourceType, ns: Option<&str>) -> String {
        if rt.namespaced {
            ns.unwrap_or_default().to_owned()
        } else {
            String::new()
        }
    }

    pub fn get(&self, rt: &ResourceType, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
        let ns = Self::ns_key(rt, ns);
        self.store
            .get(&rt.key(), &ns, name)
            .map(|o| self.present(rt, o))
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
    }

    pub fn selectors(query: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
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

    /// Decodes a request body of `format` into an object of `rt`, refusing
    /// an object of another kind or version as the real server does.
    pub fn decode(
        &self,
        rt: &ResourceType,
        format: BodyFormat,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let obj: Value = match format {
            BodyFormat::Json => serde_json::from_slice(body).map_err(|e| {
                unrecognized(
                    rt,
                    &format!("couldn't get version/kind; json parse error: {e}"),
                    body,
                )
            })?,
            BodyFormat::Yaml => serde_saphyr::from_slice(body)
                .map_err(|e| unrecognized(rt, &format!("yaml: {e}"), body))?,
            BodyFormat::Protobuf => self.decode_protobuf(rt, body)?,
        };
        if !obj.is_object() {
            return Err(unrecognized(
                rt,
                "couldn't get version/kind; json parse error: not an object",
                body,
            ));
        }
        self.check_type(rt, &obj, body)?;
        Ok(obj)
    }

    fn decode_protobuf(&self, rt: &ResourceType, body: &[u8]) -> Result<Value, ApiError> {
        let env = protobuf::envelope(body).map_err(|e| unrecognized(rt, &e.to_string(), body))?;
        // What the envelope leaves out, the request path says (as Go's
        // decoder defaults a partial GroupVersionKind).
        let api_version = if env.api_version.is_empty() {
            rt.api_version()
        } else {
            env.api_version
        };
        let kind = if env.kind.is_empty() {
            rt.kind.clone()
        } else {
            env.kind
        };
        match protobuf::decode_object(&api_version, &kind, env.raw) {
            Some(Ok(obj)) => Ok(obj),
            Some(Err(e)) => Err(cannot_handle(rt, &api_version, &kind, &e.to_string())),
            None => {
                // Another kind than the path's: the same refusal as for JSON.
                let typed = json!({ "apiVersion": api_version, "kind": kind });
                self.check_type(rt, &typed, body)?;
                Err(ApiError::new(
                    Reason::UnsupportedMediaType,
                    unsupported_media_type(rt),
                ))
            }
        }
    }

    /// The apiVersion and kind in a body against the path's. Built-in kinds
    /// are typed in the real server: another known kind fails conversion,
    /// an unknown one is not in its scheme. Custom resources are
    /// unstructured: their apiVersion is compared, their kind validated.
    fn check_type(&self, rt: &ResourceType, obj: &Value, body: &[u8]) -> Result<(), ApiError> {
        let field = |f: &str| obj.get(f).and_then(Value::as_str).filter(|s| !s.is_empty());
        if rt.builtin == Builtin::Custom {
            let Some(kind) = field("kind") else {
                let missing = format!(
                    "Object 'Kind' is missing in '{}'",
                    String::from_utf8_lossy(body)
                );
                return Err(unrecognized(rt, &missing, body));
            };
            let api_version = field("apiVersion").unwrap_or_default();
            if api_version != rt.api_version() {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({api_version}) does not match the expected API version ({})",
                    rt.api_version()
                )));
            }
            if kind != rt.kind {
                let name = meta_str(obj, "name").unwrap_or_default();
                return Err(wrong_custom_kind(rt, kind, name));
            }
            return Ok(());
        }
        let expected = rt.api_version();
        let api_version = field("apiVersion").unwrap_or(&expected);
        let kind = field("kind").unwrap_or(&rt.kind);
        if api_version == expected && kind == rt.kind {
            return Ok(());
        }
        match self
            .catalogue
            .by_kind(api_version, kind)
            .filter(|t| t.builtin != Builtin::Custom)
        {
            None => Err(cannot_handle(
                rt,
                api_version,
                kind,
                &format!(
                    "no kind \"{kind}\" is registered for version \"{api_version}\" in scheme \"pkg/runtime/scheme.go:110\""
                ),
            )),
            // One kind in two API versions (core and events.k8s.io Event)
            // converts; only then is the version compared.
            Some(t) if t.kind == rt.kind => Err(ApiError::bad_request(format!(
                "the API version in the data ({api_version}) does not match the expected API version ({expected})"
            ))),
            Some(_) => {
                let (_, version) = split_api_version(api_version);
                Err(cannot_handle(
                    rt,
                    api_version,
                    kind,
                    &format!(
                        "converting ({version}.{kind}) to ({}.{}): unknown conversion",
                        internal_package(&rt.group),
                        rt.kind
                    ),
                ))
            }
        }
    }

    pub fn create(
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
    pub fn create_stored(
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
                    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
                    let mut rng = rand::rng();
                    let suffix: String = (0..5)
                        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
                        .collect();
                    m.insert("name".into(), json!(format!("{prefix}{suffix}")));
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
        let key = ResKey {
            group: String::new(),
            plural: "namespaces".into(),
        };
        match self.store.get(&key, "", ns) {
            None => Err(ApiError::not_found("", "namespaces", ns)),
            Some(n) if meta(n).is_some_and(|m| m.contains_key("deletionTimestamp")) => {
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

    pub fn update(
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
    pub fn patch(
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

    /// The one path every change goes through: semantics, validation,
    /// admission, then the store.
    #[allow(clippy::too_many_arguments)]
    fn write(
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
                match status {
                    Some(s) => obj["status"] = s,
                    None => {
                        obj.as_object_mut().map(|m| m.remove("status"));
                    }
                }
            } else if rt.status_subresource {
                match old.get("status") {
                    Some(s) => obj["status"] = s.clone(),
                    None => {
                        obj.as_object_mut().map(|m| m.remove("status"));
                    }
                }
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
        if let (Some(known), Some(fields)) = (builtin_fields(rt.builtin), obj.as_object_mut()) {
            let unknown: Vec<String> = fields
                .keys()
                .filter(|k| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
                .filter(|k| !known.contains(&k.as_str()))
                .cloned()
                .collect();
            if !unknown.is_empty()
                && query.get("fieldValidation").map(String::as_str) == Some("Strict")
            {
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
            if !outcome.unknown.is_empty()
                && query.get("fieldValidation").map(String::as_str) == Some("Strict")
            {
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
            Builtin::Custom | Builtin::Crd | Builtin::Deployment | Builtin::ReplicaSet
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
            // The last finalizer went: the deletion completes.
            if meta(&obj).is_some_and(|m| m.contains_key("deletionTimestamp"))
                && finalizers(&obj).is_empty()
            {
                self.dirty = true;
                return self
                    .remove(rt, ns, name)
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
        if meta(&obj).is_some_and(|m| m.contains_key("deletionTimestamp"))
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

    /// Kind-specific rules of the built-in kinds.
    fn normalize(
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
                if old.is_none() {
                    crate::workloads::default_new_pod(obj, &now_rfc3339(&self.clock));
                }
                Ok(())
            }
            Builtin::Deployment => {
                // The API server's defaults (pkg/apis/apps/v1/defaults.go).
                if !obj.get("spec").is_some_and(Value::is_object) {
                    obj["spec"] = json!({});
                }
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
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn admit(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        let hooks: Vec<&Arc<dyn AdmissionHook>> = self
            .hooks
            .iter()
            .filter(|h| h.handles(&rt.group, &rt.kind))
            .collect();
        if hooks.is_empty() {
            return Ok(());
        }
        let req = AdmissionRequest {
            operation: if old.is_some() {
                Operation::Update
            } else {
                Operation::Create
            },
            group: &rt.group,
            version: &rt.version,
            kind: &rt.kind,
            namespace: ns,
            name,
            old,
        };
        for h in &hooks {
            h.mutate(&req, obj);
        }
        for h in &hooks {
            h.validate(&req, obj).map_err(|message| {
                ApiError::new(
                    Reason::Forbidden,
                    format!("admission webhook denied the request: {message}"),
                )
            })?;
        }
        Ok(())
    }

    /// Removes an object now and tells the watches; the garbage collector
    /// then deals with what it owned.
    pub(crate) fn remove(&mut self, rt: &ResourceType, ns: &str, name: &str) -> Option<Arc<Value>> {
        let mut last = (**self.store.get(&rt.key(), ns, name)?).clone();
        self.dirty = true;
        // A CRD's objects go first, so that resourceVersions rise in the
        // order of the events, as the watch log needs.
        if rt.builtin == Builtin::Crd {
            let key = crd::resource_key(&last);
            self.drop_custom_kind(&key);
        }
        let rv = self.store.next_rv();
        meta_mut(&mut last).insert("resourceVersion".into(), json!(rv.to_string()));
        self.store.remove(&rt.key(), ns, name, last, rv)
    }

    /// A CRD went away: its objects go with it, each with a DELETED event.
    fn drop_custom_kind(&mut self, key: &ResKey) {
        for obj in self.store.list(key, None) {
            let (ns, name) = (
                meta_str(&obj, "namespace").unwrap_or_default().to_owned(),
                meta_str(&obj, "name").unwrap_or_default().to_owned(),
            );
            let mut last = (*obj).clone();
            let rv = self.store.next_rv();
            meta_mut(&mut last).insert("resourceVersion".into(), json!(rv.to_string()));
            self.store.remove(key, &ns, &name, last, rv);
        }
        self.store.drop_kind(key);
        self.catalogue.replace_group_resource(key, Vec::new());
    }

    pub fn delete(
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
            return Ok(self.delete_pod_gracefully(rt, &ns_key, name, &obj));
        }
        let mut finalizers = finalizers(&obj);
        if rt.builtin == Builtin::Namespace {
            // The namespace controller empties it, then removes it.
            let mut terminating = (*obj).clone();
            if terminating.pointer("/metadata/deletionTimestamp").is_none() {
                meta_mut(&mut terminating)
                    .insert("deletionTimestamp".into(), json!(now_rfc3339(&self.clock)));
                terminating["status"] = json!({ "phase": "Terminating" });
                let rv = self.store.next_rv();
                meta_mut(&mut terminating).insert("resourceVersion".into(), json!(rv.to_string()));
                self.dirty = true;
                let stored = self.store.put(&rt.key(), "", name, terminating, rv);
                return Ok(self.present(rt, &stored));
            }
            return Ok(self.present(rt, &obj));
        }
        // A CRD goes through apiextensions' cleanup finalizer: its custom
        // resources are deleted first (by the background controllers).
        if rt.builtin == Builtin::Crd
            && obj.pointer("/metadata/deletionTimestamp").is_none()
            && !finalizers.iter().any(|f| f == crd::CLEANUP_FINALIZER)
        {
            finalizers.push(crd::CLEANUP_FINALIZER.into());
        }
        let propagation = opts.propagation.unwrap_or(Propagation::Background);
        // Orphaning is the garbage collector's work, under the `orphan`
        // finalizer: the object stays until its dependents let go of it.
        if propagation == Propagation::Orphan && !finalizers.iter().any(|f| f == "orphan") {
            finalizers.push("orphan".into());
        }
        if propagation == Propagation::Foreground
            && !finalizers.iter().any(|f| f == "foregroundDeletion")
        {
            finalizers.push("foregroundDeletion".into());
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
            // apiextensions marks a CRD itself, without a grace period.
            if rt.builtin != Builtin::Crd {
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
            }
        }
        m.insert("finalizers".into(), json!(finalizers));
        if rt.builtin == Builtin::Crd {
            crd::mark_terminating(&mut marked);
        } else if matches!(
            rt.builtin,
            Builtin::Custom | Builtin::Deployment | Builtin::ReplicaSet
        ) {
            let g = m.get("generation").and_then(Value::as_i64).unwrap_or(1);
            m.insert("generation".into(), json!(g + 1));
        }
        let rv = self.store.next_rv();
        meta_mut(&mut marked).insert("resourceVersion".into(), json!(rv.to_string()));
        self.dirty = true;
        let stored = self.store.put(&rt.key(), &ns_key, name, marked, rv);
        Ok(self.present(rt, &stored))
    }

    fn admit_delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        obj: &Value,
    ) -> Result<(), ApiError> {
        let req = AdmissionRequest {
            operation: Operation::Delete,
            group: &rt.group,
            version: &rt.version,
            kind: &rt.kind,
            namespace: ns,
            name,
            old: Some(obj),
        };
        for h in self.hooks.iter().filter(|h| h.handles(&rt.group, &rt.kind)) {
            h.validate(&req, obj).map_err(|m| {
                ApiError::new(
                    Reason::Forbidden,
                    format!("admission webhook denied the request: {m}"),
                )
            })?;
        }
        Ok(())
    }

    /// Removes owner references to `uid` from its dependents.
    fn orphan_dependents(&mut self, uid: &str) {
        for loc in self.store.owners.dependents_of(uid) {
            let Some(obj) = self.store.get_at(&loc).cloned() else {
                continue;
            };
            let refs = obj
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let kept: Vec<Value> = refs
                .into_iter()
                .filter(|r| r.get("uid").and_then(Value::as_str) != Some(uid))
                .collect();
            let mut updated = (*obj).clone();
            let m = meta_mut(&mut updated);
            if kept.is_empty() {
                m.remove("ownerReferences");
            } else {
                m.insert("ownerReferences".into(), json!(kept));
            }
            let rv = self.store.next_rv();
            m.insert("resourceVersion".into(), json!(rv.to_string()));
            let (ns, name) = (
                meta_str(&obj, "namespace").unwrap_or_default().to_owned(),
                meta_str(&obj, "name").unwrap_or_default().to_owned(),
            );
            self.store.put(&loc.0, &ns, &name, updated, rv);
        }
    }

    pub fn delete_collection(
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

    /// What kube-controller-manager puts in every namespace that is not
    /// terminating: the root CA publisher's `kube-root-ca.crt` ConfigMap
    /// (pkg/controller/certificates/rootcacertpublisher) and the
    /// serviceaccount controller's `default` ServiceAccount. Put back when
    /// deleted, as they are.
    fn publish_namespace_defaults(&mut self) -> bool {
        const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
        let (Some(ca), Some(maps), Some(accounts)) = (
            self.root_ca.clone(),
            self.catalogue.find("", "v1", "configmaps"),
            self.catalogue.find("", "v1", "serviceaccounts"),
        ) else {
            return false;
        };
        let ns_key = ResKey {
            group: String::new(),
            plural: "namespaces".into(),
        };
        let mut changed = false;
        for namespace in self.store.list(&ns_key, None) {
            if namespace.pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            let ns = meta_str(&namespace, "name").unwrap_or_default().to_owned();
            let wanted = [
                (
                    &maps,
                    "kube-root-ca.crt",
                    json!({ "metadata": { "name": "kube-root-ca.crt", "annotations": { "kubernetes.io/description": DESCRIPTION } }, "data": { "ca.crt": ca } }),
                ),
                (
                    &accounts,
                    "default",
                    json!({ "metadata": { "name": "default" } }),
                ),
            ];
            for (rt, name, obj) in wanted {
                if self.store.get(&rt.key(), &ns, name).is_none() {
                    changed |= self.create(rt, Some(&ns), obj, &Query::new()).is_ok();
                }
            }
        }
        changed
    }

    /// apiextensions' finalizer controller: a deleted CRD's custom
    /// resources go, then its cleanup finalizer, then the CRD.
    fn clean_up_deleted_crds(&mut self) -> bool {
        let Some(rt) =
            self.catalogue
                .find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        else {
            return false;
        };
        let mut changed = false;
        for obj in self.store.list(&rt.key(), None) {
            if obj.pointer("/metadata/deletionTimestamp").is_none()
                || !finalizers(&obj).iter().any(|f| f == crd::CLEANUP_FINALIZER)
            {
                continue;
            }
            let name = meta_str(&obj, "name").unwrap_or_default().to_owned();
            let rest: Vec<String> = finalizers(&obj)
                .into_iter()
                .filter(|f| f != crd::CLEANUP_FINALIZER)
                .collect();
            if rest.is_empty() {
                // remove() drops the kind and its objects, each with its
                // DELETED event.
                changed |= self.remove(&rt, "", &name).is_some();
            } else {
                let mut kept = (*obj).clone();
                meta_mut(&mut kept).insert("finalizers".into(), json!(rest));
                let rv = self.store.next_rv();
                meta_mut(&mut kept).insert("resourceVersion".into(), json!(rv.to_string()));
                self.store.put(&rt.key(), "", &name, kept, rv);
                changed = true;
            }
        }
        changed
    }

    /// The namespace controller and the garbage collector, one pass each.
    /// Returns whether anything changed (run again until it does not).
    pub fn reconcile_background(&mut self) -> bool {
        let mut changed = self.publish_namespace_defaults();
        changed |= self.clean_up_deleted_crds();
        let ns_rt = self.catalogue.find("", "v1", "namespaces");
        let ns_key = ResKey {
            group: String::new(),
            plural: "namespaces".into(),
        };
        for namespace in self.store.list(&ns_key, None) {
            if namespace.pointer("/metadata/deletionTimestamp").is_none() {
                continue;
            }
            let ns_name = meta_str(&namespace, "name").unwrap_or_default().to_owned();
            for key in self.store.kinds() {
                let Some(rt) = self.catalogue.versions_of(&key).into_iter().next() else {
                    continue;
                };
                for obj in self.store.list(&key, Some(&ns_name)) {
                    if obj.pointer("/metadata/deletionTimestamp").is_some() {
                        continue;
                    }
                    let name = meta_str(&obj, "name").unwrap_or_default().to_owned();
                    changed |= self
                        .delete(&rt, Some(&ns_name), &name, &DeleteOptions::background())
                        .is_ok();
                }
            }
            if self.store.count_in_namespace(&ns_name) == 0
                && let Some(rt) = &ns_rt
            {
                changed |= self.remove(rt, "", &ns_name).is_some();
            }
        }
        changed |= self.collect_garbage();
        changed |= self.reconcile_workloads();
        changed
    }

    /// Deletes objects all of whose owners are gone (or being deleted in the
    /// foreground), lets dependents of an owner deleted with propagation
    /// Orphan go, and completes foreground deletions whose blocking
    /// dependents are gone. It looks only at what the owner index says
    /// changed since its last pass; what it could not do waits for the next.
    fn collect_garbage(&mut self) -> bool {
        let work = self.store.owners.take_work();
        let mut changed = false;
        for loc in work.dependents {
            let Some(obj) = self.store.get_at(&loc).cloned() else {
                continue;
            };
            let refs = obj
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if refs.is_empty() || obj.pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            let orphaned = refs
                .iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str))
                .all(|u| {
                    self.store
                        .owners
                        .locate(u)
                        .and_then(|owner| self.store.get_at(owner))
                        .is_none_or(|owner| crate::owners::in_foreground(owner))
                });
            if !orphaned {
                continue;
            }
            let (ns, name) = (
                meta_str(&obj, "namespace").map(str::to_owned),
                meta_str(&obj, "name").unwrap_or_default().to_owned(),
            );
            let deleted = match self.catalogue.versions_of(&loc.0).into_iter().next() {
                Some(rt) => self
                    .delete(&rt, ns.as_deref(), &name, &DeleteOptions::background())
                    .is_ok(),
                None => false,
            };
            if deleted {
                changed = true;
            } else {
                self.store.owners.retry_dependent(loc);
            }
        }
        for uid in work.owners {
            changed |= self.finish_owner_deletion(&uid);
        }
        changed
    }

    /// An owner being deleted: with propagation Orphan its dependents lose
    /// their reference to it, then the `orphan` finalizer goes; in the
    /// foreground, `foregroundDeletion` goes once no dependent blocks it.
    fn finish_owner_deletion(&mut self, uid: &str) -> bool {
        let Some(loc) = self.store.owners.locate(uid).cloned() else {
            return false;
        };
        let Some(rt) = self.catalogue.versions_of(&loc.0).into_iter().next() else {
            return false;
        };
        let mut changed = false;
        for finalizer in ["orphan", "foregroundDeletion"] {
            let Some(current) = self.store.get_at(&loc).cloned() else {
                return changed;
            };
            if current.pointer("/metadata/deletionTimestamp").is_none()
                || !finalizers(&current).iter().any(|f| f == finalizer)
                || (finalizer == "foregroundDeletion" && self.store.owners.blocking(uid) > 0)
            {
                continue;
            }
            if finalizer == "orphan" {
                self.orphan_dependents(uid);
            }
            let Some(current) = self.store.get_at(&loc).cloned() else {
                return changed;
            };
            let mut done = (*current).clone();
            let kept: Vec<String> = finalizers(&done)
                .into_iter()
                .filter(|f| f != finalizer)
                .collect();
            meta_mut(&mut done).insert("finalizers".into(), json!(kept));
            let (ns, name) = (
                meta_str(&current, "namespace")
                    .unwrap_or_default()
                    .to_owned(),
                meta_str(&current, "name").unwrap_or_default().to_owned(),
            );
            if self
                .write(&rt, &ns, &name, done, Some(current), None, &Query::new())
                .is_ok()
            {
                changed = true;
            } else {
                self.store.owners.retry_owner(uid.to_owned());
            }
        }
        changed
    }

    /// POST serviceaccounts/NAME/token
    pub fn token_request(&mut self, ns: &str, name: &str, body: &[u8]) -> Result<Value, ApiError> {
        let sa_key = ResKey {
            group: String::new(),
            plural: "serviceaccounts".into(),
        };
        let sa = self
            .store
            .get(&sa_key, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found("", "serviceaccounts", name))?;
        let req: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid TokenRequest: {e}")))?
        };
        let audiences: Vec<String> = req
            .pointer("/spec/audiences")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .filter(|a: &Vec<String>| !a.is_empty())
            .unwrap_or_else(|| vec![self.tokens.issuer().to_owned()]);
        let expires = req
            .pointer("/spec/expirationSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(3600);
        if expires < 600 {
            return Err(ApiError::invalid(
                "authentication.k8s.io",
                "TokenRequest",
                name,
                vec![invalid_value(
                    "spec.expirationSeconds",
                    format!(
                        "Invalid value: {expires}: may not specify a duration less than 10 minutes"
                    ),
                )],
            ));
        }
        let (token, expiration) = self
            .tokens
            .issue(
                ns,
                name,
                meta_str(&sa, "uid").unwrap_or_default(),
                &audiences,
                self.clock.now(),
                expires,
            )
            .map_err(|e| ApiError::new(Reason::InternalError, e.to_string()))?;
        Ok(json!({
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": { "name": name, "namespace": ns, "creationTimestamp": null },
            "spec": { "audiences": audiences, "expirationSeconds": expires, "boundObjectRef": null },
            "status": { "token": token, "expirationTimestamp": expiration.strftime("%Y-%m-%dT%H:%M:%SZ").to_string() },
        }))
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

/// The top-level fields of a built-in kind: a body's other fields are
/// dropped, as decoding into the real server's typed object drops them
/// (or refused under `fieldValidation=Strict`).
fn builtin_fields(builtin: Builtin) -> Option<&'static [&'static str]> {
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
