//! AWS Secrets Manager as ESO's AWS provider uses it: a client built from a
//! store's credentials, GetSecretValue with version and property, and the
//! errors ESO reports.

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use serde_json::Value;

use eso_api::RemoteRef;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProviderError {
    /// The secret does not exist (ESO's NoSecretError).
    #[error("Secret does not exist")]
    NoSecret,
    #[error("key {property} does not exist in secret {key}")]
    NoProperty { property: String, key: String },
    #[error("{0}")]
    Other(String),
}

pub(crate) struct Provider {
    pub client: aws_sdk_secretsmanager::Client,
    /// Where the client sends its requests (for the words of a failed dial).
    pub endpoint: String,
}

/// Errors of GetSecretValue that the Go SDK models as types of their own:
/// it prints those as `Code: message`, every other as `api error Code: message`.
const MODELED_ERRORS: &[&str] = &[
    "DecryptionFailure",
    "InternalServiceError",
    "InvalidParameterException",
    "InvalidRequestException",
    "ResourceNotFoundException",
];

/// An SDK error as ESO (the AWS SDK for Go v2) words it, so that events
/// and conditions read as real ESO's do:
/// `operation error Secrets Manager: GetSecretValue, https response error
/// StatusCode: 400, RequestID: ..., api error AccessDeniedException: ...`.
fn sdk_error<E: ProvideErrorMetadata + std::fmt::Debug>(
    endpoint: &str,
    e: SdkError<E, aws_sdk_secretsmanager::config::http::HttpResponse>,
) -> ProviderError {
    const OP: &str = "operation error Secrets Manager: GetSecretValue";
    match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            match err.code() {
                // Only this is "absent" to ESO: a secret scheduled for
                // deletion answers InvalidRequestException, which ESO
                // reports as any other error (seen on ESO v0.20.4; the same
                // check in v2.9.0's providers/v1/aws/secretsmanager).
                Some("ResourceNotFoundException") => ProviderError::NoSecret,
                code => {
                    let code = code.unwrap_or("UnknownError");
                    let raw = se.raw();
                    let request_id = raw
                        .headers()
                        .get("x-amzn-requestid")
                        .unwrap_or_default()
                        .to_owned();
                    ProviderError::Other(format!(
                        "{OP}, https response error StatusCode: {}, RequestID: {request_id}, {}{code}: {}",
                        raw.status().as_u16(),
                        if MODELED_ERRORS.contains(&code) {
                            ""
                        } else {
                            "api error "
                        },
                        err.message().unwrap_or_default()
                    ))
                }
            }
        }
        // The Go SDK retries a failed dial (3 attempts) and then says so.
        SdkError::DispatchFailure(d) if d.is_io() => {
            let addr = endpoint
                .trim_start_matches("http://")
                .trim_start_matches("https://")
                .trim_end_matches('/');
            ProviderError::Other(format!(
                "{OP}, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post \"{}/\": dial tcp {addr}: connect: connection refused",
                endpoint.trim_end_matches('/')
            ))
        }
        SdkError::DispatchFailure(d) => ProviderError::Other(format!(
            "{OP}, request send failed: {:?}",
            d.as_connector_error().map(|c| c.to_string())
        )),
        SdkError::TimeoutError(_) => ProviderError::Other(format!("{OP}, request timed out")),
        other => ProviderError::Other(format!("{OP}, {other}")),
    }
}

/// ESO's property lookup: a literal key (which may contain dots) first, then
/// a gjson-style dotted path with numeric indexes.
pub(crate) fn lookup_property<'a>(doc: &'a Value, property: &str) -> Option<&'a Value> {
    if let Some(v) = doc.get(property) {
        return Some(v);
    }
    property.split('.').try_fold(doc, |cur, part| match cur {
        Value::Object(m) => m.get(part),
        Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// A JSON value as ESO writes it into a Secret: strings as they are,
/// anything else as raw JSON.
pub(crate) fn value_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

impl Provider {
    async fn raw(&self, r: &RemoteRef) -> Result<Vec<u8>, ProviderError> {
        let mut req = self.client.get_secret_value().secret_id(&r.key);
        match r.version.as_deref() {
            Some(v) if v.starts_with("uuid/") => req = req.version_id(&v["uuid/".len()..]),
            Some(v) => req = req.version_stage(v),
            None => req = req.version_stage("AWSCURRENT"),
        }
        let out = req.send().await.map_err(|e| sdk_error(&self.endpoint, e))?;
        if let Some(s) = out.secret_string() {
            return Ok(s.as_bytes().to_vec());
        }
        Ok(out
            .secret_binary()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default())
    }

    /// One `spec.data[]` entry.
    pub(crate) async fn get_secret(&self, r: &RemoteRef) -> Result<Vec<u8>, ProviderError> {
        let raw = self.raw(r).await?;
        let Some(property) = r.property.as_deref().filter(|p| !p.is_empty()) else {
            return Ok(raw);
        };
        let missing = || ProviderError::NoProperty {
            property: property.to_owned(),
            key: r.key.clone(),
        };
        let doc: Value = serde_json::from_slice(&raw).map_err(|_| missing())?;
        lookup_property(&doc, property)
            .map(value_bytes)
            .ok_or_else(missing)
    }

    /// One `spec.dataFrom[].extract`: every top-level field of a JSON object.
    pub(crate) async fn get_secret_map(
        &self,
        r: &RemoteRef,
    ) -> Result<BTreeMap<String, Vec<u8>>, ProviderError> {
        let raw = self.get_secret(r).await?;
        extract_map(&raw)
            .map_err(|e| ProviderError::Other(format!("unable to unmarshal secret {}: {e}", r.key)))
    }
}

/// `dataFrom.extract` as ESO's AWS provider does it (GetSecretMap, v2.9.0
/// as v0.20.4): each top-level value that is a JSON string is its text;
/// `null` is empty (Go's json.Unmarshal into a string leaves it so); any
/// other value is kept as the raw JSON text it was written as, spaces
/// included.
pub(crate) fn extract_map(raw: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, serde_json::Error> {
    let kv: BTreeMap<String, Box<serde_json::value::RawValue>> = serde_json::from_slice(raw)?;
    Ok(kv
        .into_iter()
        .map(|(k, v)| {
            let text = v.get();
            let bytes = match serde_json::from_str::<Option<String>>(text) {
                Ok(Some(s)) => s.into_bytes(),
                Ok(None) => Vec::new(),
                Err(_) => text.as_bytes().to_vec(),
            };
            (k, bytes)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extract_keeps_what_is_not_a_string_as_written() {
        let m = extract_map(br#"{"port": 5432, "list": [1, "x"], "nested": {"a": 1}, "nothing": null, "text": "plain", "on": true}"#).unwrap();
        assert_eq!(m["port"], b"5432");
        assert_eq!(m["list"], br#"[1, "x"]"#);
        assert_eq!(m["nested"], br#"{"a": 1}"#);
        assert_eq!(m["nothing"], b"");
        assert_eq!(m["text"], b"plain");
        assert_eq!(m["on"], b"true");
        assert!(extract_map(b"[1]").is_err(), "not an object");
    }

    #[test]
    fn property_lookup_prefers_literal_keys() {
        let doc = json!({"a.b": "literal", "a": {"b": "nested"}, "list": [{"x": 1}]});
        assert_eq!(lookup_property(&doc, "a.b"), Some(&json!("literal")));
        assert_eq!(
            lookup_property(&json!({"a": {"b": "nested"}}), "a.b"),
            Some(&json!("nested"))
        );
        assert_eq!(lookup_property(&doc, "list.0.x"), Some(&json!(1)));
        assert_eq!(lookup_property(&doc, "nope"), None);
        assert_eq!(value_bytes(&json!({"k": 1})), br#"{"k":1}"#.to_vec());
    }
}
