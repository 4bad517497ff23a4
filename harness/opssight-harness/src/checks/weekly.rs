//! The runbook's weekly maintenance checks against a live cluster, read-only:
//! every ExternalSecret Ready and refreshed within its interval (plus a
//! margin), every store valid, ESO's deployments available.

use std::time::Duration;

use anyhow::Context as _;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DynamicObject, ListParams};
use serde::Serialize;

use crate::eso_model::{self, StoreKind};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// `None`: every namespace.
    pub namespace: Option<String>,
    pub eso_namespace: String,
    /// Slack on top of an ExternalSecret's refresh interval before it is stale.
    pub margin: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    ExternalSecretReady,
    ExternalSecretFresh,
    StoreValid,
    DeploymentAvailable,
}

impl CheckKind {
    fn label(self) -> &'static str {
        match self {
            Self::ExternalSecretReady => "ExternalSecret Ready",
            Self::ExternalSecretFresh => "ExternalSecret refreshed",
            Self::StoreValid => "store valid",
            Self::DeploymentAvailable => "ESO deployment available",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: CheckKind,
    /// `Kind namespace/name`.
    pub object: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub schema_version: u32,
    pub context: Option<String>,
    /// The API server's clock (its Date header), which refresh times are
    /// compared against.
    pub server_time: Timestamp,
    pub problems: usize,
    pub findings: Vec<Finding>,
}

fn ago(d: jiff::SignedDuration) -> String {
    let s = d.as_secs();
    match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// The API server's time, from its Date header.
async fn server_time(client: &kube::Client) -> anyhow::Result<Timestamp> {
    let request = http::Request::get("/version")
        .body(kube::client::Body::empty())
        .context("building a request")?;
    let response = client
        .send(request)
        .await
        .context("asking the API server for its version")?;
    let date = response
        .headers()
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .context("the API server sent no Date header")?;
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(date)
        .with_context(|| format!("the API server's Date header {date:?}"))
}

fn api_for(
    client: &kube::Client,
    namespace: &Option<String>,
    ar: &kube::api::ApiResource,
) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
        None => Api::all_with(client.clone(), ar),
    }
}

fn name_of(kind: &str, o: &kube::api::ObjectMeta) -> String {
    match &o.namespace {
        Some(ns) => format!("{kind} {ns}/{}", o.name.as_deref().unwrap_or_default()),
        None => format!("{kind} {}", o.name.as_deref().unwrap_or_default()),
    }
}

pub async fn run(
    client: &kube::Client,
    context: Option<String>,
    opts: &CheckOptions,
) -> anyhow::Result<CheckReport> {
    let now = server_time(client).await?;
    let mut findings = Vec::new();

    let es_api = api_for(client, &opts.namespace, &eso_model::external_secrets());
    let ess = es_api
        .list(&ListParams::default())
        .await
        .context("listing ExternalSecrets (are ESO's CRDs installed?)")?;
    if ess.items.is_empty() {
        findings.push(Finding {
            check: CheckKind::ExternalSecretReady,
            object: format!(
                "ExternalSecrets in {}",
                opts.namespace.as_deref().unwrap_or("every namespace")
            ),
            ok: false,
            detail: "none found".into(),
        });
    }
    for es in &ess.items {
        let object = name_of("ExternalSecret", &es.metadata);
        let (ok, detail) = match eso_model::ready(es) {
            Some(r) => (
                r.is_true(),
                format!("Ready={} {}: {}", r.status, r.reason, r.message),
            ),
            None => (false, "no Ready condition yet".into()),
        };
        findings.push(Finding {
            check: CheckKind::ExternalSecretReady,
            object: object.clone(),
            ok,
            detail,
        });
        let interval_text = es
            .data
            .pointer("/spec/refreshInterval")
            .and_then(|v| v.as_str())
            .unwrap_or("1h");
        let interval = eso_model::parse_duration(interval_text);
        let refreshed = es
            .data
            .pointer("/status/refreshTime")
            .and_then(|v| v.as_str())
            .and_then(|t| t.parse::<Timestamp>().ok());
        let (ok, detail) = match (interval, refreshed) {
            (None, _) => (
                false,
                format!("refreshInterval {interval_text:?} is not a duration"),
            ),
            (Some(i), _) if i.is_zero() => (true, "refresh disabled (refreshInterval 0)".into()),
            (Some(_), None) => (false, "never refreshed".into()),
            (Some(i), Some(t)) => {
                let age = now.duration_since(t);
                let limit = i + opts.margin;
                let stale = age.as_secs_f64() > limit.as_secs_f64();
                (
                    !stale,
                    format!(
                        "last refresh {} ago; interval {interval_text}, margin {} s{}",
                        ago(age),
                        opts.margin.as_secs(),
                        if stale { ": stale" } else { "" }
                    ),
                )
            }
        };
        findings.push(Finding {
            check: CheckKind::ExternalSecretFresh,
            object,
            ok,
            detail,
        });
    }

    for (kind, namespace) in [
        (StoreKind::SecretStore, opts.namespace.clone()),
        (StoreKind::ClusterSecretStore, None),
    ] {
        let api = api_for(client, &namespace, &eso_model::stores(kind));
        let stores = api
            .list(&ListParams::default())
            .await
            .with_context(|| format!("listing {kind:?}s"))?;
        for store in &stores.items {
            let (ok, detail) = match eso_model::ready(store) {
                Some(r) => (
                    r.is_true(),
                    format!("Ready={} {}: {}", r.status, r.reason, r.message),
                ),
                None => (false, "not validated yet (no Ready condition)".into()),
            };
            findings.push(Finding {
                check: CheckKind::StoreValid,
                object: name_of(&format!("{kind:?}"), &store.metadata),
                ok,
                detail,
            });
        }
    }

    let deployments = Api::<Deployment>::namespaced(client.clone(), &opts.eso_namespace)
        .list(&ListParams::default())
        .await
        .with_context(|| format!("listing deployments in {}", opts.eso_namespace))?;
    if deployments.items.is_empty() {
        findings.push(Finding {
            check: CheckKind::DeploymentAvailable,
            object: format!("deployments in {}", opts.eso_namespace),
            ok: false,
            detail: "none found: is ESO installed in this namespace? (--eso-namespace)".into(),
        });
    }
    for d in &deployments.items {
        let wanted = d.spec.replicas.unwrap_or(1);
        let status = d.status.clone().unwrap_or_default();
        let available = status.available_replicas.unwrap_or(0);
        let condition = status
            .conditions
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.type_.as_deref() == Some("Available"));
        let ok = wanted > 0
            && available >= wanted
            && condition
                .as_ref()
                .is_some_and(|c| c.status.as_deref() == Some("True"));
        let detail = format!(
            "{available}/{wanted} available{}",
            match (&condition, wanted) {
                (_, 0) => ": scaled to 0".to_owned(),
                (Some(c), _) => format!(
                    "; Available={} {}",
                    c.status.as_deref().unwrap_or_default(),
                    c.reason.as_deref().unwrap_or_default()
                ),
                (None, _) => "; no Available condition".to_owned(),
            }
        );
        findings.push(Finding {
            check: CheckKind::DeploymentAvailable,
            object: name_of("Deployment", &d.metadata),
            ok,
            detail,
        });
    }
    Ok(CheckReport {
        schema_version: SCHEMA_VERSION,
        context,
        server_time: now,
        problems: findings.iter().filter(|f| !f.ok).count(),
        findings,
    })
}

pub fn render(r: &CheckReport) -> String {
    let rows: Vec<[String; 4]> = r
        .findings
        .iter()
        .map(|f| {
            [
                if f.ok { "ok" } else { "PROBLEM" }.to_owned(),
                f.check.label().to_owned(),
                f.object.clone(),
                f.detail.clone(),
            ]
        })
        .collect();
    let header = [
        "STATUS".to_owned(),
        "CHECK".to_owned(),
        "OBJECT".to_owned(),
        "DETAIL".to_owned(),
    ];
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .chain(std::iter::once(&header))
                .map(|r| r[i].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    out.push_str(&match r.problems {
        0 => format!(
            "all {} checks passed (context {})\n",
            r.findings.len(),
            r.context.as_deref().unwrap_or("-")
        ),
        n => format!(
            "{n} of {} checks found a problem (context {})\n",
            r.findings.len(),
            r.context.as_deref().unwrap_or("-")
        ),
    });
    out
}
