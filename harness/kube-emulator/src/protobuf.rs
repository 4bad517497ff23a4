//! Kubernetes' protobuf encoding of request bodies, for the built-in kinds
//! kubectl's typed generators send that way (`kubectl create namespace|
//! secret generic|configmap|serviceaccount`): the `k8s\0` magic, a
//! `runtime.Unknown` envelope naming apiVersion and kind, and the object's
//! own message in its `raw` field.
//!
//! A hand-written reader of the few messages needed, not a protobuf crate:
//! the field numbers are those of k8s.io/api core/v1 and k8s.io/apimachinery
//! meta/v1 `generated.proto`, and each object comes out as the JSON the real
//! server would have decoded it to, so that it goes through the same create
//! path as a JSON body. Error texts follow the Go decoder's (gogo-generated
//! `Unmarshal`), because clients and the differential compare them.

use serde_json::{Map, Value, json};

/// The prefix of every Kubernetes protobuf body: `k8s` and a zero byte.
pub(crate) const MAGIC: &[u8; 4] = b"k8s\0";

/// The media type of Kubernetes protobuf bodies.
pub(crate) const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProtoError {
    #[error("empty data")]
    Empty,
    #[error(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
    )]
    NoMagic,
    #[error("empty body")]
    EmptyBody,
    #[error("unexpected EOF")]
    UnexpectedEof,
    #[error("proto: integer overflow")]
    IntOverflow,
    #[error("proto: negative length found during unmarshaling")]
    NegativeLength,
    #[error("proto: wrong wireType = {wire} for field {field}")]
    WrongWireType { wire: u8, field: &'static str },
    #[error("proto: illegal wireType {0}")]
    IllegalWireType(u8),
    #[error("proto: {message}: illegal tag {tag} (wire type {wire})")]
    IllegalTag {
        message: &'static str,
        tag: u64,
        wire: u8,
    },
    #[error("proto: {0}: wiretype end group for non-group")]
    EndGroup(&'static str),
    #[error("proto: unexpected end of group")]
    UnexpectedEndOfGroup,
}

/// The `runtime.Unknown` around an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope<'a> {
    /// Empty when the envelope does not say (the request path's applies).
    pub api_version: String,
    pub kind: String,
    pub raw: &'a [u8],
}

/// Reads the magic and the envelope.
pub(crate) fn envelope(body: &[u8]) -> Result<Envelope<'_>, ProtoError> {
    // The same checks in the same order as the Go serializer's Decode.
    if body.is_empty() {
        return Err(ProtoError::Empty);
    }
    let Some(rest) = body.strip_prefix(MAGIC.as_slice()) else {
        return Err(ProtoError::NoMagic);
    };
    if rest.is_empty() {
        return Err(ProtoError::EmptyBody);
    }
    let mut env = Envelope {
        api_version: String::new(),
        kind: String::new(),
        raw: &[],
    };
    let mut r = Reader::new(rest);
    while !r.done() {
        let (num, wire) = r.tag("Unknown")?;
        match num {
            1 => {
                let type_meta = r.expect_len(wire, "TypeMeta")?;
                let mut t = Reader::new(type_meta);
                while !t.done() {
                    let (num, wire) = t.tag("TypeMeta")?;
                    match num {
                        1 => env.api_version = text(t.expect_len(wire, "APIVersion")?),
                        2 => env.kind = text(t.expect_len(wire, "Kind")?),
                        _ => t.skip(wire)?,
                    }
                }
            }
            2 => env.raw = r.expect_len(wire, "Raw")?,
            // contentEncoding and contentType: the Go decoder reads and then
            // ignores them for request bodies; so does this one.
            3 => drop(r.expect_len(wire, "ContentEncoding")?),
            4 => drop(r.expect_len(wire, "ContentType")?),
            _ => r.skip(wire)?,
        }
    }
    Ok(env)
}

/// Whether objects of `api_version`/`kind` can be decoded here.
pub(crate) fn decodes(api_version: &str, kind: &str) -> bool {
    message_of(api_version, kind).is_some()
}

/// The object in `raw` as JSON, with its apiVersion and kind; `None` for a
/// kind this decoder does not know.
pub(crate) fn decode_object(
    api_version: &str,
    kind: &str,
    raw: &[u8],
) -> Option<Result<Value, ProtoError>> {
    let message = message_of(api_version, kind)?;
    let mut obj = Map::new();
    obj.insert("kind".into(), json!(kind));
    obj.insert("apiVersion".into(), json!(api_version));
    Some(decode_message(message, raw, &mut obj).map(|()| Value::Object(obj)))
}

fn message_of(api_version: &str, kind: &str) -> Option<&'static Message> {
    Some(match (api_version, kind) {
        ("v1", "Namespace") => &NAMESPACE,
        ("v1", "Secret") => &SECRET,
        ("v1", "ConfigMap") => &CONFIG_MAP,
        ("v1", "ServiceAccount") => &SERVICE_ACCOUNT,
        ("authentication.k8s.io/v1", "SelfSubjectReview") => &SELF_SUBJECT_REVIEW,
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => &SELF_SUBJECT_ACCESS_REVIEW,
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview") => &SELF_SUBJECT_RULES_REVIEW,
        _ => return None,
    })
}

/// Strings are taken as the Go decoder takes them, unchecked; JSON then
/// shows invalid UTF-8 as U+FFFD, as Go's encoder does.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(ProtoError::UnexpectedEof);
            };
            self.pos += 1;
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(ProtoError::IntOverflow)
    }

    /// A field's number and wire type, refused as the Go decoder refuses them.
    fn tag(&mut self, message: &'static str) -> Result<(u64, u8), ProtoError> {
        let tag = self.varint()?;
        let wire = (tag & 7) as u8;
        let num = tag >> 3;
        if wire == 4 {
            return Err(ProtoError::EndGroup(message));
        }
        // Go reads the number as an int32: zero or negative is no field.
        if num == 0 || num > i32::MAX as u64 {
            return Err(ProtoError::IllegalTag {
                message,
                tag: num,
                wire,
            });
        }
        Ok((num, wire))
    }

    fn bytes(&mut self) -> Result<&'a [u8], ProtoError> {
        let len = self.varint()?;
        if (len as i64) < 0 {
            return Err(ProtoError::NegativeLength);
        }
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| self.pos.checked_add(l))
            .filter(|end| *end <= self.buf.len())
            .ok_or(ProtoError::UnexpectedEof)?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn expect_len(&mut self, wire: u8, field: &'static str) -> Result<&'a [u8], ProtoError> {
        if wire != 2 {
            return Err(ProtoError::WrongWireType { wire, field });
        }
        self.bytes()
    }

    fn fixed(&mut self, n: usize) -> Result<(), ProtoError> {
        let end = self.pos.checked_add(n).ok_or(ProtoError::UnexpectedEof)?;
        if end > self.buf.len() {
            return Err(ProtoError::UnexpectedEof);
        }
        self.pos = end;
        Ok(())
    }

    /// Skips a field this decoder does not read (the Go decoder ignores
    /// unknown fields too), groups included.
    fn skip(&mut self, wire: u8) -> Result<(), ProtoError> {
        let mut depth = 0u32;
        let mut wire = wire;
        loop {
            match wire {
                0 => drop(self.varint()?),
                1 => self.fixed(8)?,
                2 => drop(self.bytes()?),
                3 => depth += 1,
                4 => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or(ProtoError::UnexpectedEndOfGroup)?;
                }
                5 => self.fixed(4)?,
                other => return Err(ProtoError::IllegalWireType(other)),
            }
            if depth == 0 {
                return Ok(());
            }
            wire = (self.varint()? & 7) as u8;
        }
    }
}

/// How a field's value is encoded and shown in JSON.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    Bool,
    Int64,
    /// meta/v1 Time: seconds and nanos, shown as RFC 3339 seconds.
    Time,
    Msg(&'static Message),
    MapStrStr,
    MapStrBytes,
}

struct Field {
    num: u64,
    json: &'static str,
    /// The Go field's name, which the Go decoder's errors show.
    go: &'static str,
    ty: Ty,
    repeated: bool,
    /// `omitempty` of a non-pointer Go field: its zero value is not shown.
    omit_empty: bool,
}

struct Message {
    name: &'static str,
    fields: &'static [Field],
}

const fn f(num: u64, json: &'static str, go: &'static str, ty: Ty) -> Field {
    Field {
        num,
        json,
        go,
        ty,
        repeated: false,
        omit_empty: true,
    }
}

const fn list(num: u64, json: &'static str, go: &'static str, ty: Ty) -> Field {
    Field {
        num,
        json,
        go,
        ty,
        repeated: true,
        omit_empty: true,
    }
}

/// A Go pointer field (`*int64`, `*bool`): shown whenever it was sent.
const fn ptr(num: u64, json: &'static str, go: &'static str, ty: Ty) -> Field {
    Field {
        num,
        json,
        go,
        ty,
        repeated: false,
        omit_empty: false,
    }
}

/// A Go field without `omitempty`: shown even when empty.
const fn always(num: u64, json: &'static str, go: &'static str, ty: Ty) -> Field {
    ptr(num, json, go, ty)
}

static OWNER_REFERENCE: Message = Message {
    name: "OwnerReference",
    fields: &[
        always(1, "kind", "Kind", Ty::Str),
        always(3, "name", "Name", Ty::Str),
        always(4, "uid", "UID", Ty::Str),
        always(5, "apiVersion", "APIVersion", Ty::Str),
        ptr(6, "controller", "Controller", Ty::Bool),
        ptr(7, "blockOwnerDeletion", "BlockOwnerDeletion", Ty::Bool),
    ],
};

// managedFields (17) is not read: kubectl does not send it, and the
// emulator keeps none.
static OBJECT_META: Message = Message {
    name: "ObjectMeta",
    fields: &[
        f(1, "name", "Name", Ty::Str),
        f(2, "generateName", "GenerateName", Ty::Str),
        f(3, "namespace", "Namespace", Ty::Str),
        f(4, "selfLink", "SelfLink", Ty::Str),
        f(5, "uid", "UID", Ty::Str),
        f(6, "resourceVersion", "ResourceVersion", Ty::Str),
        f(7, "generation", "Generation", Ty::Int64),
        f(8, "creationTimestamp", "CreationTimestamp", Ty::Time),
        f(9, "deletionTimestamp", "DeletionTimestamp", Ty::Time),
        ptr(
            10,
            "deletionGracePeriodSeconds",
            "DeletionGracePeriodSeconds",
            Ty::Int64,
        ),
        f(11, "labels", "Labels", Ty::MapStrStr),
        f(12, "annotations", "Annotations", Ty::MapStrStr),
        list(
            13,
            "ownerReferences",
            "OwnerReferences",
            Ty::Msg(&OWNER_REFERENCE),
        ),
        list(14, "finalizers", "Finalizers", Ty::Str),
    ],
};

static SECRET: Message = Message {
    name: "Secret",
    fields: &[
        f(1, "metadata", "ObjectMeta", Ty::Msg(&OBJECT_META)),
        f(2, "data", "Data", Ty::MapStrBytes),
        f(3, "type", "Type", Ty::Str),
        f(4, "stringData", "StringData", Ty::MapStrStr),
        ptr(5, "immutable", "Immutable", Ty::Bool),
    ],
};

static CONFIG_MAP: Message = Message {
    name: "ConfigMap",
    fields: &[
        f(1, "metadata", "ObjectMeta", Ty::Msg(&OBJECT_META)),
        f(2, "data", "Data", Ty::MapStrStr),
        f(3, "binaryData", "BinaryData", Ty::MapStrBytes),
        ptr(4, "immutable", "Immutable", Ty::Bool),
    ],
};

static OBJECT_REFERENCE: Message = Message {
    name: "ObjectReference",
    fields: &[
        f(1, "kind", "Kind", Ty::Str),
        f(2, "namespace", "Namespace", Ty::Str),
        f(3, "name", "Name", Ty::Str),
        f(4, "uid", "UID", Ty::Str),
        f(5, "apiVersion", "APIVersion", Ty::Str),
        f(6, "resourceVersion", "ResourceVersion", Ty::Str),
        f(7, "fieldPath", "FieldPath", Ty::Str),
    ],
};

static LOCAL_OBJECT_REFERENCE: Message = Message {
    name: "LocalObjectReference",
    fields: &[f(1, "name", "Name", Ty::Str)],
};

static SERVICE_ACCOUNT: Message = Message {
    name: "ServiceAccount",
    fields: &[
        f(1, "metadata", "ObjectMeta", Ty::Msg(&OBJECT_META)),
        list(2, "secrets", "Secrets", Ty::Msg(&OBJECT_REFERENCE)),
        list(
            3,
            "imagePullSecrets",
            "ImagePullSecrets",
            Ty::Msg(&LOCAL_OBJECT_REFERENCE),
        ),
        ptr(
            4,
            "automountServiceAccountToken",
            "AutomountServiceAccountToken",
            Ty::Bool,
        ),
    ],
};

static NAMESPACE_SPEC: Message = Message {
    name: "NamespaceSpec",
    fields: &[list(1, "finalizers", "Finalizers", Ty::Str)],
};

static NAMESPACE_CONDITION: Message = Message {
    name: "NamespaceCondition",
    fields: &[
        always(1, "type", "Type", Ty::Str),
        always(2, "status", "Status", Ty::Str),
        f(4, "lastTransitionTime", "LastTransitionTime", Ty::Time),
        f(5, "reason", "Reason", Ty::Str),
        f(6, "message", "Message", Ty::Str),
    ],
};

static NAMESPACE_STATUS: Message = Message {
    name: "NamespaceStatus",
    fields: &[
        f(1, "phase", "Phase", Ty::Str),
        list(2, "conditions", "Conditions", Ty::Msg(&NAMESPACE_CONDITION)),
    ],
};

static NAMESPACE: Message = Message {
    name: "Namespace",
    fields: &[
        f(1, "metadata", "ObjectMeta", Ty::Msg(&OBJECT_META)),
        always(2, "spec", "Spec", Ty::Msg(&NAMESPACE_SPEC)),
        always(3, "status", "Status", Ty::Msg(&NAMESPACE_STATUS)),
    ],
};

// The reviews `kubectl auth whoami|can-i` send through the typed client
// (k8s.io/api authentication/v1 and authorization/v1 generated.proto).
static SELF_SUBJECT_REVIEW: Message = Message {
    name: "SelfSubjectReview",
    fields: &[f(1, "metadata", "ObjectMeta", Ty::Msg(&OBJECT_META))],
};

static RESOURCE_ATTRIBUTES: Message = Message {
    name: "ResourceAttributes",
    fields: &[
        f(1, "namespace", "Namespace", Ty::Str),
        f(2, "verb", "Verb", Ty::Str),
        f(3, "group", "Group", Ty::Str),
        f(4, "version", "Version", Ty::Str),
        f(5, "resource", "Resource", Ty::Str),
        f(6, "subresource", "Subresource", Ty::Str),
        f(7, "name", "Name", Ty::Str),
    ],
};

static NON_RESOURCE_ATTRIBUTES: Message = Message {
    name: "NonResourceAttributes",
    fields: &[f(1, "path", "Path", Ty::Str), f(2, "verb", "Verb", Ty::Str)],
};

static SELF_SUBJECT_ACCESS_REVIEW_SPEC: Message = Message {
    name: "SelfSubjectAccessReviewSpec",
    fields: &[
        f(
            1,
            "resourceAttributes",
            "ResourceAttributes",
            Ty::Msg(&RESOURCE_ATTRIBUTES),
        ),
        f(
            2,
            "nonResourceAttributes",
            "NonResourceAttributes",
            Ty::Msg(&NON_RESOURCE_ATTRIBUTES),
        ),
    ],
};

static SELF_SUBJECT_ACCESS_REVIEW: Message = Message {
    name: "SelfSubjectAccessReview",
    fields: &[
        f(1, "metadata", "ObjectMeta", Ty::Msg(&OBJECT_META)),
        always(2, "spec", "Spec", Ty::Msg(&SELF_SUBJECT_ACCESS_REVIEW_SPEC)),
    ],
};

static SELF_SUBJECT_RULES_REVIEW_SPEC: Message = Message {
    name: "SelfSubjectRulesReviewSpec",
    fields: &[f(1, "namespace", "Namespace", Ty::Str)],
};

static SELF_SUBJECT_RULES_REVIEW: Message = Message {
    name: "SelfSubjectRulesReview",
    fields: &[
        f(1, "metadata", "ObjectMeta", Ty::Msg(&OBJECT_META)),
        always(2, "spec", "Spec", Ty::Msg(&SELF_SUBJECT_RULES_REVIEW_SPEC)),
    ],
};

fn decode_message(
    message: &'static Message,
    buf: &[u8],
    out: &mut Map<String, Value>,
) -> Result<(), ProtoError> {
    let mut r = Reader::new(buf);
    while !r.done() {
        let (num, wire) = r.tag(message.name)?;
        let Some(field) = message.fields.iter().find(|f| f.num == num) else {
            r.skip(wire)?;
            continue;
        };
        let expected = match field.ty {
            Ty::Bool | Ty::Int64 => 0,
            _ => 2,
        };
        if wire != expected {
            return Err(ProtoError::WrongWireType {
                wire,
                field: field.go,
            });
        }
        let value = match field.ty {
            Ty::Str => json!(text(r.bytes()?)),
            Ty::Bool => json!(r.varint()? != 0),
            // Two's complement, as Go's int64 conversion of the varint.
            Ty::Int64 => json!(r.varint()? as i64),
            Ty::Time => match time(r.bytes()?)? {
                Some(t) => json!(t),
                None => continue,
            },
            Ty::Msg(inner) => {
                let bytes = r.bytes()?;
                // A message field sent twice is merged, as in Go.
                let mut obj = match out.get_mut(field.json) {
                    Some(Value::Object(existing)) if !field.repeated => std::mem::take(existing),
                    _ => Map::new(),
                };
                decode_message(inner, bytes, &mut obj)?;
                Value::Object(obj)
            }
            Ty::MapStrStr | Ty::MapStrBytes => {
                let (key, value) = map_entry(r.bytes()?, field)?;
                let entries = out
                    .entry(field.json)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = entries {
                    m.insert(key, value);
                }
                continue;
            }
        };
        if field.repeated {
            let items = out
                .entry(field.json)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = items {
                a.push(value);
            }
        } else if field.omit_empty && is_zero(&value) {
            out.remove(field.json);
        } else {
            out.insert(field.json.into(), value);
        }
    }
    Ok(())
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_i64() == Some(0),
        _ => false,
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One entry of a `map<string, string|bytes>`: key 1, value 2.
fn map_entry(buf: &[u8], field: &Field) -> Result<(String, Value), ProtoError> {
    let mut r = Reader::new(buf);
    let mut key = String::new();
    let mut value: &[u8] = &[];
    while !r.done() {
        let (num, wire) = r.tag(field.go)?;
        match num {
            1 => key = text(r.expect_len(wire, field.go)?),
            2 => value = r.expect_len(wire, field.go)?,
            _ => r.skip(wire)?,
        }
    }
    let value = match field.ty {
        Ty::MapStrBytes => json!(base64_of(value)),
        _ => json!(text(value)),
    };
    Ok((key, value))
}

/// A meta/v1 Time as the RFC 3339 text JSON shows; `None` for the zero time.
fn time(buf: &[u8]) -> Result<Option<String>, ProtoError> {
    let mut r = Reader::new(buf);
    let mut seconds: i64 = 0;
    while !r.done() {
        let (num, wire) = r.tag("Timestamp")?;
        match num {
            1 if wire == 0 => seconds = r.varint()? as i64,
            1 => {
                return Err(ProtoError::WrongWireType {
                    wire,
                    field: "Seconds",
                });
            }
            // nanos: JSON shows whole seconds, so they are read and dropped.
            _ => r.skip(wire)?,
        }
    }
    if seconds == 0 {
        return Ok(None);
    }
    Ok(jiff::Timestamp::from_second(seconds)
        .ok()
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    fn ld(num: u64, data: &[u8]) -> Vec<u8> {
        let mut out = varint(num << 3 | 2);
        out.extend(varint(data.len() as u64));
        out.extend_from_slice(data);
        out
    }

    fn s(num: u64, text: &str) -> Vec<u8> {
        ld(num, text.as_bytes())
    }

    fn entry(num: u64, k: &str, v: &[u8]) -> Vec<u8> {
        ld(num, &[s(1, k), ld(2, v)].concat())
    }

    fn wrap(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let type_meta = [s(1, api_version), s(2, kind)].concat();
        [
            MAGIC.to_vec(),
            ld(1, &type_meta),
            ld(2, raw),
            s(3, ""),
            s(4, ""),
        ]
        .concat()
    }

    fn decode(body: &[u8]) -> Result<Value, ProtoError> {
        let env = envelope(body)?;
        decode_object(&env.api_version, &env.kind, env.raw).unwrap_or(Err(ProtoError::NoMagic))
    }

    /// The bytes kubectl 1.32 sent to a real server for
    /// `kubectl create secret generic s1 -n x --from-literal=pw=... --from-literal=user=...`
    /// (values replaced by `xxxxxxx` and `alice`, same lengths).
    const KUBECTL_SECRET: &[u8] = b"k8s\x00\x0a\x0c\x0a\x02v1\x12\x06Secret\x12\x35\x0a\x13\x0a\x02s1\x12\x00\x1a\x01x\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\x12\x0d\x0a\x02pw\x12\x07xxxxxxx\x12\x0d\x0a\x04user\x12\x05alice\x1a\x00\x1a\x00\x22\x00";

    #[test]
    fn decodes_the_secret_kubectl_sends() {
        let obj = decode(KUBECTL_SECRET).unwrap();
        assert_eq!(
            obj,
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "s1", "namespace": "x"},
                "data": {"pw": base64_of(b"xxxxxxx"), "user": base64_of(b"alice")},
            })
        );
    }

    #[test]
    fn decodes_configmaps_namespaces_and_service_accounts() {
        let meta = ld(
            1,
            &[
                s(1, "c"),
                entry(11, "team", b"ops"),
                entry(12, "note", b"hi"),
                s(14, "f1"),
                s(14, "f2"),
                ld(
                    13,
                    &[
                        s(5, "v1"),
                        s(1, "Secret"),
                        s(3, "o"),
                        s(4, "u1"),
                        varint(6 << 3),
                        varint(1),
                    ]
                    .concat(),
                ),
            ]
            .concat(),
        );
        let cm = decode(&wrap(
            "v1",
            "ConfigMap",
            &[
                meta.clone(),
                entry(2, "k", b"v"),
                entry(3, "b", &[0, 255]),
                varint(4 << 3),
                varint(1),
            ]
            .concat(),
        ))
        .unwrap();
        assert_eq!(cm["metadata"]["labels"], json!({"team": "ops"}));
        assert_eq!(cm["metadata"]["annotations"], json!({"note": "hi"}));
        assert_eq!(cm["metadata"]["finalizers"], json!(["f1", "f2"]));
        assert_eq!(
            cm["metadata"]["ownerReferences"],
            json!([{"apiVersion": "v1", "kind": "Secret", "name": "o", "uid": "u1", "controller": true}])
        );
        assert_eq!(cm["data"], json!({"k": "v"}));
        assert_eq!(cm["binaryData"], json!({"b": "AP8="}));
        assert_eq!(cm["immutable"], json!(true));

        let ns = decode(&wrap(
            "v1",
            "Namespace",
            &[ld(1, &s(1, "n")), ld(2, &[]), ld(3, &[])].concat(),
        ))
        .unwrap();
        assert_eq!(
            ns,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}, "spec": {}, "status": {}})
        );

        let sa = decode(&wrap(
            "v1",
            "ServiceAccount",
            &[
                ld(1, &s(1, "sa")),
                ld(3, &s(1, "pull")),
                varint(4 << 3),
                varint(0),
            ]
            .concat(),
        ))
        .unwrap();
        assert_eq!(sa["imagePullSecrets"], json!([{"name": "pull"}]));
        assert_eq!(
            sa["automountServiceAccountToken"],
            json!(false),
            "a *bool sent false stays"
        );
    }

    #[test]
    fn unknown_fields_and_groups_are_skipped_as_go_does() {
        let raw = [
            ld(1, &s(1, "c")),
            s(99, "zzz"),
            varint(98 << 3 | 5),
            vec![1, 2, 3, 4],
            varint(97 << 3 | 3),
            varint(1 << 3),
            varint(7),
            varint(97 << 3 | 4),
        ]
        .concat();
        let obj = decode(&wrap("v1", "ConfigMap", &raw)).unwrap();
        assert_eq!(obj["metadata"], json!({"name": "c"}));
    }

    #[test]
    fn malformed_bodies_are_refused_naming_the_fault() {
        assert_eq!(envelope(b""), Err(ProtoError::Empty));
        assert_eq!(envelope(b"{\"kind\":1}"), Err(ProtoError::NoMagic));
        assert_eq!(envelope(b"k8s\0"), Err(ProtoError::EmptyBody));
        let cut = &KUBECTL_SECRET[..KUBECTL_SECRET.len() - 10];
        assert_eq!(envelope(cut), Err(ProtoError::UnexpectedEof));
        assert_eq!(
            decode(&wrap("v1", "ConfigMap", &[0x0a, 0xff, 0xff, 0xff])),
            Err(ProtoError::UnexpectedEof)
        );
        assert_eq!(
            decode(&wrap(
                "v1",
                "ConfigMap",
                &[varint(1 << 3), varint(5)].concat()
            )),
            Err(ProtoError::WrongWireType {
                wire: 0,
                field: "ObjectMeta"
            })
        );
        assert_eq!(
            decode(&wrap("v1", "ConfigMap", &varint(1 << 3 | 7)))
                .unwrap_err()
                .to_string(),
            "proto: wrong wireType = 7 for field ObjectMeta"
        );
        assert_eq!(
            decode(&wrap("v1", "ConfigMap", &varint(9 << 3 | 6))),
            Err(ProtoError::IllegalWireType(6))
        );
        assert_eq!(
            decode(&wrap("v1", "Secret", &varint(2 << 3 | 4))),
            Err(ProtoError::EndGroup("Secret"))
        );
        assert_eq!(
            decode(&wrap("v1", "Secret", &[0x02, 0x00]))
                .unwrap_err()
                .to_string(),
            "proto: Secret: illegal tag 0 (wire type 2)"
        );
        assert_eq!(
            decode(&wrap(
                "v1",
                "Secret",
                &[
                    0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
                ]
            )),
            Err(ProtoError::IntOverflow)
        );
        assert_eq!(
            decode(&wrap(
                "v1",
                "Secret",
                &[
                    0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
                ]
            )),
            Err(ProtoError::NegativeLength)
        );
        assert!(
            decode_object("v1", "Pod", &[]).is_none(),
            "not a kind decoded here"
        );
        assert!(decode_object("apps/v1", "Secret", &[]).is_none());
    }
}
