//! The rules of ESO's validating webhook for ExternalSecrets, as an
//! admission hook of the kube-emulator.

use std::collections::BTreeSet;

use kube_emulator::{AdmissionHook, AdmissionRequest, Operation};
use serde_json::Value;

/// ESO's validating webhook, as a kube-emulator admission hook.
pub struct EsoWebhook;

/// ESO's webhook checks, on the JSON of an ExternalSecret. `Err` holds every
/// problem found, joined as ESO joins them.
pub fn validate_external_secret(obj: &Value) -> Result<(), String> {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let data = spec
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let data_from = spec
        .get("dataFrom")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut errors = Vec::new();
    if data.is_empty() && data_from.is_empty() {
        errors.push("either data or dataFrom should be specified".to_owned());
    }
    let mut seen = BTreeSet::new();
    for d in &data {
        if let Some(k) = d.get("secretKey").and_then(Value::as_str)
            && !seen.insert(k.to_owned())
        {
            errors.push(format!("duplicate secretKey found: {k}"));
        }
    }
    let creation = spec
        .pointer("/target/creationPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Owner");
    let deletion = spec
        .pointer("/target/deletionPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Retain");
    if deletion == "Delete" && creation != "Owner" {
        errors.push("deletionPolicy=Delete must not be used when the controller doesn't own the secret. Please set creationPolicy=Owner".to_owned());
    }
    if deletion == "Merge" && creation == "None" {
        errors.push("deletionPolicy=Merge must not be used with creationPolicy=None. There is no Secret to merge with".to_owned());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

impl AdmissionHook for EsoWebhook {
    fn handles(&self, group: &str, kind: &str) -> bool {
        group == eso_api::GROUP && kind == "ExternalSecret"
    }

    fn validate(&self, req: &AdmissionRequest<'_>, object: &Value) -> Result<(), String> {
        if req.operation == Operation::Delete {
            return Ok(());
        }
        validate_external_secret(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn webhook_rules() {
        assert!(
            validate_external_secret(&json!({"spec": {"dataFrom": [{"extract": {"key": "k"}}]}}))
                .is_ok()
        );
        assert_eq!(
            validate_external_secret(&json!({"spec": {}})),
            Err("either data or dataFrom should be specified".into())
        );
        let dup = json!({"spec": {"data": [{"secretKey": "a", "remoteRef": {"key": "x"}}, {"secretKey": "a", "remoteRef": {"key": "y"}}]}});
        assert_eq!(
            validate_external_secret(&dup),
            Err("duplicate secretKey found: a".into())
        );
        let bad = json!({"spec": {"dataFrom": [{"extract": {"key": "k"}}], "target": {"creationPolicy": "Merge", "deletionPolicy": "Delete"}}});
        assert!(
            validate_external_secret(&bad)
                .unwrap_err()
                .starts_with("deletionPolicy=Delete must not be used")
        );
    }
}
