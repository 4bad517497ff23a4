//! The runbook's rotation policy (`fixtures::rotation`) checked against
//! Secrets Manager with DescribeSecret only: which keys a secret holds
//! comes from the fixtures' templates, never from reading a value.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::Serialize;

use crate::fixtures::rotation::Policy;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretRotation {
    pub name: String,
    /// Policies covering its keys, by name, with their periods.
    pub policies: BTreeMap<String, i64>,
    /// The strictest period: a rotation changes every key at once.
    pub max_age_days: Option<i64>,
    pub age_days: i64,
    pub rotation_enabled: bool,
    pub overdue: bool,
    /// Keys fall under policies of different periods.
    pub mixed_periods: bool,
}

/// One row per secret of the templates.
/// What went wrong, whole: the service's error code and message when it
/// answered, otherwise the SDK's chain of causes (an endpoint that does not
/// answer, credentials that cannot be loaded), which its `Display` alone
/// hides behind "dispatch failure".
fn describe_error<E>(name: &str, e: aws_sdk_secretsmanager::error::SdkError<E>) -> anyhow::Error
where
    E: aws_sdk_secretsmanager::error::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
    match (e.code(), e.message()) {
        (Some(code), message) => anyhow::anyhow!(
            "DescribeSecret {name}: Secrets Manager answered {code}: {}",
            message.unwrap_or("(no message)")
        ),
        (None, _) => anyhow::Error::new(e).context(format!(
            "DescribeSecret {name}: no answer from Secrets Manager"
        )),
    }
}

pub async fn report(
    sm: &aws_sdk_secretsmanager::Client,
    keys_by_secret: &BTreeMap<String, BTreeSet<String>>,
    policies: &[Policy],
    now: Timestamp,
) -> anyhow::Result<Vec<SecretRotation>> {
    let mut rows = Vec::new();
    for (name, keys) in keys_by_secret {
        let d = sm
            .describe_secret()
            .secret_id(name)
            .send()
            .await
            .map_err(|e| describe_error(name, e))?;
        let since = d
            .last_rotated_date()
            .or(d.created_date())
            .map(|t| t.secs())
            .unwrap_or(now.as_second());
        let age_days = (now.as_second() - since).max(0) / 86_400;
        let covering: BTreeMap<String, i64> = policies
            .iter()
            .filter(|p| {
                p.secrets.iter().any(|s| s == name) && p.keys.iter().any(|k| keys.contains(k))
            })
            .map(|p| (p.name.clone(), p.max_age_days))
            .collect();
        let periods: BTreeSet<i64> = covering.values().copied().collect();
        let max_age_days = periods.iter().min().copied();
        rows.push(SecretRotation {
            name: name.clone(),
            overdue: max_age_days.is_some_and(|m| age_days > m),
            mixed_periods: periods.len() > 1,
            policies: covering,
            max_age_days,
            age_days,
            rotation_enabled: d.rotation_enabled().unwrap_or(false),
        });
    }
    Ok(rows)
}

pub fn render(rows: &[SecretRotation]) -> String {
    let mut out = format!(
        "{:<40} {:>8} {:>8} {:<9} {}\n",
        "SECRET", "AGE(d)", "MAX(d)", "ROTATION", "FINDINGS"
    );
    for r in rows {
        let mut findings = Vec::new();
        if r.overdue {
            findings.push(format!(
                "OVERDUE by {} days",
                r.age_days - r.max_age_days.unwrap_or(0)
            ));
        }
        if r.mixed_periods {
            let parts: Vec<String> = r
                .policies
                .iter()
                .map(|(n, d)| format!("{n} {d}d"))
                .collect();
            findings.push(format!(
                "keys under policies of different periods ({})",
                parts.join(", ")
            ));
        }
        if r.max_age_days.is_none() {
            findings.push("no policy covers its keys".into());
        }
        out.push_str(&format!(
            "{:<40} {:>8} {:>8} {:<9} {}\n",
            r.name,
            r.age_days,
            r.max_age_days
                .map(|m| m.to_string())
                .unwrap_or_else(|| "-".into()),
            if r.rotation_enabled { "enabled" } else { "off" },
            if findings.is_empty() {
                "ok".into()
            } else {
                findings.join("; ")
            }
        ));
    }
    out
}
