//! A Kubernetes label selector (`metav1.LabelSelector`), as a
//! ClusterSecretStore's `conditions[].namespaceSelector` holds it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Labels that must match, and expressions that must hold.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Each of these labels with exactly this value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Each of these requirements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One of `matchExpressions`.
#[derive(Deserialize, Serialize, Clone, Debug, Default, JsonSchema, PartialEq)]
pub struct LabelSelectorRequirement {
    /// The label.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`. A plain string, as
    /// Kubernetes declares it: an unknown operator is refused when the
    /// selector is used, not when it is read.
    pub operator: String,
    /// The values `In` and `NotIn` compare with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A selector that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid label selector operator")]
pub struct UnknownOperator(pub String);

impl LabelSelector {
    /// Whether `labels` match, as `metav1.LabelSelectorAsSelector`'s
    /// selector does.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> Result<bool, UnknownOperator> {
        if self
            .match_labels
            .iter()
            .any(|(k, v)| labels.get(k) != Some(v))
        {
            return Ok(false);
        }
        for r in &self.match_expressions {
            let value = labels.get(&r.key);
            let ok = match r.operator.as_str() {
                "In" => value.is_some_and(|v| r.values.contains(v)),
                "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                other => return Err(UnknownOperator(other.to_owned())),
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirement(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: operator.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn labels_and_expressions_must_all_hold() {
        let labels = BTreeMap::from([("team".to_owned(), "a".to_owned())]);
        let by = |match_expressions| LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions,
        };
        assert_eq!(
            by(vec![requirement("team", "In", &["a", "b"])]).matches(&labels),
            Ok(true)
        );
        assert_eq!(
            by(vec![requirement("team", "NotIn", &["a"])]).matches(&labels),
            Ok(false)
        );
        assert_eq!(
            by(vec![requirement("env", "DoesNotExist", &[])]).matches(&labels),
            Ok(true)
        );
        assert_eq!(
            by(vec![
                requirement("team", "Exists", &[]),
                requirement("env", "Exists", &[])
            ])
            .matches(&labels),
            Ok(false)
        );
        let wrong_value = LabelSelector {
            match_labels: BTreeMap::from([("team".to_owned(), "b".to_owned())]),
            ..Default::default()
        };
        assert_eq!(wrong_value.matches(&labels), Ok(false));
        assert_eq!(
            by(vec![requirement("team", "Equals", &["a"])])
                .matches(&labels)
                .map_err(|e| e.to_string()),
            Err("\"Equals\" is not a valid label selector operator".to_owned())
        );
    }
}
