//! Checks of the fixtures themselves: they build, validate against ESO's
//! CRDs, hold no credential, and say what the runbook says.

use std::collections::BTreeSet;

use cucumber::then;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use serde_json::Value;

use crate::fixtures::manifests::{Manifest, kustomize};
use crate::scenario::step::{StepResult, ensure};
use crate::scenario::world::OpsWorld;

fn build(w: &OpsWorld, overlay: &str) -> anyhow::Result<Vec<Manifest>> {
    Ok(kustomize(&w.fixtures()?.overlay(overlay))?)
}

#[then(expr = "the overlay {string} builds")]
async fn builds(w: &mut OpsWorld, overlay: String) -> StepResult {
    let objects = build(w, &overlay)?;
    let es = objects
        .iter()
        .filter(|m| m.kind() == "ExternalSecret")
        .count();
    ensure(es == 4, || {
        format!("the overlay {overlay} has {es} ExternalSecrets, the runbook has 4")
    })?;
    ensure(objects.iter().any(|m| m.kind() == "SecretStore"), || {
        format!("the overlay {overlay} has no SecretStore")
    })
}

fn canonical(objects: Vec<Value>) -> BTreeSet<String> {
    objects
        .into_iter()
        .filter(|o| !o.is_null())
        .map(|o| o.to_string())
        .collect()
}

#[then(expr = "the runbook's single file holds the objects of the overlay {string}")]
async fn single_file(w: &mut OpsWorld, overlay: String) -> StepResult {
    let path = w.fixtures()?.runbook_single_file();
    let file: Vec<Value> = crate::fixtures::manifests::load_file(&path)?
        .into_iter()
        .map(|m| m.object)
        .collect();
    let built: Vec<Value> = build(w, &overlay)?.into_iter().map(|m| m.object).collect();
    let (file, built) = (canonical(file), canonical(built));
    ensure(file == built, || {
        let only_file: Vec<&String> = file.difference(&built).collect();
        let only_overlay: Vec<&String> = built.difference(&file).collect();
        format!(
            "{} and the overlay {overlay} differ.\nonly the file: {only_file:?}\nonly the overlay: {only_overlay:?}",
            path.display()
        )
    })
}

#[then(expr = "kubectl kustomize builds the same objects as the harness for {string} and {string}")]
async fn same_as_kubectl(w: &mut OpsWorld, a: String, b: String) -> StepResult {
    for overlay in [a, b] {
        let built = crate::fixtures::kubectl_kustomize::build(w.fixtures()?, &overlay).await?;
        let theirs: Vec<Value> = serde_saphyr::from_multiple(&built)?;
        let ours: Vec<Value> = build(w, &overlay)?.into_iter().map(|m| m.object).collect();
        let (theirs, ours) = (canonical(theirs), canonical(ours));
        ensure(theirs == ours, || {
            let only_kubectl: Vec<&String> = theirs.difference(&ours).collect();
            let only_ours: Vec<&String> = ours.difference(&theirs).collect();
            format!(
                "overlay {overlay}: kubectl kustomize and the harness differ.\nonly kubectl: {only_kubectl:?}\nonly harness: {only_ours:?}"
            )
        })?;
    }
    Ok(())
}

/// Creates every object of every overlay in a fresh API server with these CRDs.
async fn accepted_by(w: &OpsWorld, crds: Vec<CustomResourceDefinition>, which: &str) -> StepResult {
    let server = kube_emulator::KubeEmulator::builder()
        .watch_log(1_000)
        .admission_hook(std::sync::Arc::new(eso_emulator::webhook::EsoWebhook))
        .start()
        .await?;
    let client = crate::env::embedded::in_process_client(&server).await?;
    let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds {
        crd_api.create(&PostParams::default(), &crd).await?;
    }
    for overlay in ["production", "local", "kind", "binaries"] {
        for m in build(w, overlay)? {
            let gvk = kube::api::GroupVersionKind::gvk(
                m.api_version()
                    .split_once('/')
                    .map(|(g, _)| g)
                    .unwrap_or(""),
                m.api_version().rsplit('/').next().unwrap_or_default(),
                m.kind(),
            );
            let (ar, caps) = kube::discovery::pinned_kind(&client, &gvk)
                .await
                .map_err(|e| {
                    anyhow::anyhow!("{}: {} is not served: {e}", m.source.display(), m.kind())
                })?;
            let api: Api<kube::api::DynamicObject> =
                if caps.scope == kube::discovery::Scope::Namespaced {
                    Api::namespaced_with(client.clone(), m.namespace().unwrap_or("default"), &ar)
                } else {
                    Api::all_with(client.clone(), &ar)
                };
            // Apply, not create: both overlays hold the same namespace and
            // names, and a deleted namespace lingers while it terminates.
            api.patch(
                m.name(),
                &kube::api::PatchParams::apply("opssight-harness").force(),
                &kube::api::Patch::Apply(&m.object),
            )
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{} ({overlay}): {} {} refused by {which}: {e}",
                    m.source.display(),
                    m.kind(),
                    m.name()
                )
            })?;
        }
    }
    Ok(())
}

/// The CRDs of the kinds the overlays and probes use, by name.
const UPSTREAM_CRDS: [&str; 3] = [
    "externalsecrets.external-secrets.io",
    "secretstores.external-secrets.io",
    "clustersecretstores.external-secrets.io",
];

/// ESO's own CRDs and what they are: those of the ESO module `--env
/// binaries` is built from (the built components' `crds.yaml`) when they
/// are built, else the copy of v2.9.0's in `../shared/reference` when it is
/// there; otherwise why there are none.
fn upstream_crds(
    w: &OpsWorld,
) -> anyhow::Result<Result<(String, Vec<CustomResourceDefinition>), String>> {
    use crate::env::binaries::components::{Components, bin_dir};
    let not_built = match Components::load(&bin_dir()) {
        Ok(c) => {
            let path = &c.eso.crds;
            let mut crds = Vec::new();
            for m in crate::fixtures::manifests::load_file(path)? {
                if m.kind() == "CustomResourceDefinition" && UPSTREAM_CRDS.contains(&m.name()) {
                    crds.push(
                        serde_json::from_value::<CustomResourceDefinition>(m.object.clone())
                            .map_err(|e| {
                                anyhow::anyhow!("{}: {}: {e}", path.display(), m.name())
                            })?,
                    );
                }
            }
            ensure(crds.len() == UPSTREAM_CRDS.len(), || {
                format!(
                    "{} holds {} of the CRDs {UPSTREAM_CRDS:?}",
                    path.display(),
                    crds.len()
                )
            })
            .map_err(|e| e.0)?;
            return Ok(Ok((
                format!(
                    "ESO {}'s CRDs (from {}, as --env binaries installs them)",
                    c.eso.version,
                    path.display()
                ),
                crds,
            )));
        }
        Err(e) => e.to_string(),
    };
    let Some(dir) = w.fixtures()?.upstream_crds() else {
        return Ok(Err(format!(
            "{not_built}; and ../shared/reference/eso-crds-v2.9.0 is not beside the repository"
        )));
    };
    let mut crds = Vec::new();
    for file in [
        "external-secrets.io_externalsecrets.yaml",
        "external-secrets.io_secretstores.yaml",
        "external-secrets.io_clustersecretstores.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(file))?;
        crds.push(
            serde_saphyr::from_str::<CustomResourceDefinition>(&text)
                .map_err(|e| anyhow::anyhow!("{file}: {e}"))?,
        );
    }
    Ok(Ok((
        format!("ESO v2.9.0's upstream CRDs (from {})", dir.display()),
        crds,
    )))
}

#[then("every object of every overlay is accepted by the API server with ESO's CRDs")]
async fn accepted(w: &mut OpsWorld) -> StepResult {
    accepted_by(w, crate::eso_model::crds(), "the eso-emulator's CRDs").await?;
    // Said on stderr: which CRDs this check stands on (cucumber shows
    // nothing of a step that passes).
    match upstream_crds(w)? {
        Ok((which, crds)) => {
            accepted_by(w, crds, &which).await?;
            eprintln!(
                "manifests: every overlay accepted with the eso-emulator's CRDs and {which}: {}",
                UPSTREAM_CRDS.join(", ")
            );
        }
        Err(why) => eprintln!(
            "manifests: every overlay accepted with the eso-emulator's CRDs; ESO's own not checked: {why}"
        ),
    }
    Ok(())
}

#[then("no manifest holds a Secret with data or a credential-like string")]
async fn no_credentials(w: &mut OpsWorld) -> StepResult {
    let root = w.fixtures()?.root().join("k8s");
    let patterns = [
        regex::Regex::new(r"AKIA[0-9A-Z]{16}")?,
        regex::Regex::new(r"(?i)aws_secret_access_key\s*[:=]")?,
        regex::Regex::new(r"ghp_[A-Za-z0-9]{36}")?,
        regex::Regex::new(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")?,
    ];
    for path in crate::files::files_below(&root)? {
        let text = std::fs::read_to_string(&path)?;
        for (i, line) in text.lines().enumerate() {
            ensure(!patterns.iter().any(|p| p.is_match(line)), || {
                format!("{}:{}: a credential-like string", path.display(), i + 1)
            })?;
        }
        if path.extension().is_some_and(|e| e == "yaml") && !path.ends_with("kustomization.yaml") {
            for m in crate::fixtures::manifests::load_file(&path)? {
                let has_data =
                    m.object.get("data").is_some() || m.object.get("stringData").is_some();
                ensure(!(m.kind() == "Secret" && has_data), || {
                    format!(
                        "{}: Secret {} holds data in the repository",
                        path.display(),
                        m.name()
                    )
                })?;
            }
        }
    }
    Ok(())
}

#[then(expr = "every ExternalSecret of the overlay {string} has refresh interval {string}")]
async fn overlay_interval(w: &mut OpsWorld, overlay: String, interval: String) -> StepResult {
    for m in build(w, &overlay)?
        .iter()
        .filter(|m| m.kind() == "ExternalSecret")
    {
        let got = m
            .object
            .pointer("/spec/refreshInterval")
            .and_then(Value::as_str)
            .unwrap_or("(unset)");
        ensure(got == interval, || {
            format!(
                "{}: ExternalSecret {} refreshes every {got}, not {interval}",
                m.source.display(),
                m.name()
            )
        })?;
    }
    Ok(())
}

#[then(
    expr = "the overlay {string} annotates the service account with an IAM role for account {string}"
)]
async fn irsa(w: &mut OpsWorld, overlay: String, account: String) -> StepResult {
    let objects = build(w, &overlay)?;
    let sa = objects
        .iter()
        .find(|m| m.kind() == "ServiceAccount" && m.name() == "external-secrets-sa")
        .ok_or_else(|| anyhow::anyhow!("no ServiceAccount external-secrets-sa in {overlay}"))?;
    let role = sa
        .object
        .pointer("/metadata/annotations/eks.amazonaws.com~1role-arn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    ensure(
        role.starts_with(&format!("arn:aws:iam::{account}:role/")),
        || format!("{}: role annotation is {role:?}", sa.source.display()),
    )
}

#[then(expr = "the IAM policy allows only {string} and {string}")]
async fn policy_actions(w: &mut OpsWorld, a: String, b: String) -> StepResult {
    let policy = aws_emulator::PolicyDocument::from_file(&w.fixtures()?.iam_policy())?;
    let mut actions: Vec<&str> = policy.allowed_actions();
    actions.sort();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort();
    ensure(actions == want, || {
        format!("the IAM policy allows {actions:?}, the runbook only {want:?}")
    })?;
    ensure(
        policy
            .statements
            .iter()
            .all(|s| s.effect == aws_emulator::policy::Effect::Allow && s.conditions.is_empty()),
        || "the policy has other statements".into(),
    )
}

#[then(expr = "the IAM policy's resources are only {string}")]
async fn policy_resources(w: &mut OpsWorld, resource: String) -> StepResult {
    let policy = aws_emulator::PolicyDocument::from_file(&w.fixtures()?.iam_policy())?;
    for s in &policy.statements {
        match &s.resources {
            Some(aws_emulator::policy::Matcher::Any(r)) => {
                ensure(r == std::slice::from_ref(&resource), || {
                    format!("a statement grants {r:?}")
                })?
            }
            other => crate::scenario::step::bail!("a statement grants {other:?}"),
        }
    }
    Ok(())
}
