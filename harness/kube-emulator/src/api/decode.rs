//! Request bodies (JSON, YAML, protobuf) into objects of the kind a path
//! names, with the real server's refusals of another kind or version.

use serde_json::{Value, json};

use super::Api;
use crate::error::{ApiError, Reason, invalid_value};
use crate::kinds::{Builtin, ResourceType, split_api_version};
use crate::metadata::meta_str;
use crate::protobuf;

/// The formats of create and update bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    Json,
    Yaml,
    Protobuf,
}

impl BodyFormat {
    /// The format of a body sent as `content_type` to `rt`; 415 for one the
    /// server does not read for that kind.
    pub(crate) fn of(rt: &ResourceType, content_type: &str) -> Result<Self, ApiError> {
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

/// 422 for a custom resource claiming another kind, as its validation says.
pub(super) fn wrong_custom_kind(rt: &ResourceType, kind: &str, name: &str) -> ApiError {
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
    /// Decodes a request body of `format` into an object of `rt`, refusing
    /// an object of another kind or version as the real server does.
    pub(crate) fn decode(
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
}
