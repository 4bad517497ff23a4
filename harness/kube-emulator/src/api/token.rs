//! The ServiceAccount `token` subresource (a TokenRequest).

use serde_json::{Value, json};

use super::Api;
use crate::error::{ApiError, Reason, invalid_value};
use crate::kinds::ResKey;
use crate::metadata::{meta_str, strings_at};

impl Api {
    /// POST serviceaccounts/NAME/token
    pub(crate) fn token_request(
        &mut self,
        ns: &str,
        name: &str,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let sa_key = ResKey::core("serviceaccounts");
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
        let mut audiences = strings_at(&req, "/spec/audiences");
        if audiences.is_empty() {
            audiences.push(self.tokens.issuer().to_owned());
        }
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
