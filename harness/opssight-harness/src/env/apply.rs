//! Applying manifests the way every environment does: server-side apply
//! through the kube client, an overlay in the order an operator would.

use std::future::Future;

use anyhow::Context as _;
use aws_emulator::AccessKey;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject};
use kube::discovery::pinned_kind;

use crate::eso_model::{self, StoreKind};
use crate::fixtures::Fixtures;
use crate::system::{AWS_SECRET, NAMESPACE};

/// Server-side apply of one object (its namespace, or the OpsSight one).
pub async fn apply(client: &kube::Client, obj: &serde_json::Value) -> anyhow::Result<()> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk =
        kube::api::GroupVersionKind::gvk(group, version, obj["kind"].as_str().unwrap_or_default());
    let (ar, caps) = pinned_kind(client, &gvk).await?;
    let name = obj
        .pointer("/metadata/name")
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    let api: Api<DynamicObject> = match (
        caps.scope,
        obj.pointer("/metadata/namespace").and_then(|n| n.as_str()),
    ) {
        (kube::discovery::Scope::Namespaced, ns) => {
            Api::namespaced_with(client.clone(), ns.unwrap_or(NAMESPACE), &ar)
        }
        _ => Api::all_with(client.clone(), &ar),
    };
    api.patch(
        name,
        &kube::api::PatchParams::apply("opssight-harness").force(),
        &kube::api::Patch::Apply(obj),
    )
    .await?;
    Ok(())
}

/// Creates (or replaces) every object of a fixture overlay, with `labels`
/// added: the namespace first, then `ensure_credentials` (the store reads
/// them), then the rest.
pub async fn apply_overlay<F, Fut>(
    client: &kube::Client,
    fixtures: &Fixtures,
    overlay: &str,
    labels: &[(&str, &str)],
    ensure_credentials: F,
) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let manifests = crate::fixtures::manifests::kustomize(&fixtures.overlay(overlay))?;
    let mut ordered: Vec<_> = manifests.iter().collect();
    ordered.sort_by_key(|m| match m.kind() {
        "Namespace" => 0,
        "ServiceAccount" => 1,
        "SecretStore" | "ClusterSecretStore" => 3,
        _ => 4,
    });
    let mut ensure = Some(ensure_credentials);
    for m in ordered {
        if m.kind() != "Namespace"
            && let Some(f) = ensure.take()
        {
            f().await?;
        }
        let mut object = m.object.clone();
        for (k, v) in labels {
            object["metadata"]["labels"][*k] = serde_json::json!(v);
        }
        apply(client, &object).await.with_context(|| {
            format!(
                "applying {} {} from {}",
                m.kind(),
                m.name(),
                m.source.display()
            )
        })?;
    }
    Ok(())
}

/// Applies a fixture overlay with `labels` on every object, `aws-secret`
/// holding `key` put before the store when it is missing: how a shared
/// system (kind, binaries) is first set up.
pub async fn apply_overlay_with_key(
    client: &kube::Client,
    fixtures: &Fixtures,
    overlay: &str,
    labels: &[(&str, &str)],
    key: &AccessKey,
) -> anyhow::Result<()> {
    apply_overlay(client, fixtures, overlay, labels, || async {
        if !secret_exists(client, AWS_SECRET).await? {
            put_aws_secret(client, key, labels).await?;
        }
        Ok(())
    })
    .await
}

/// `aws-secret` with this key (and these labels), as an operator would
/// put it: created when missing, else replaced whole in one write (as
/// `kubectl create secret ... --dry-run=client -o yaml | kubectl apply -f -`
/// or `kubectl replace` do), so the store never sees it missing in between.
pub async fn put_aws_secret(
    client: &kube::Client,
    key: &AccessKey,
    labels: &[(&str, &str)],
) -> anyhow::Result<()> {
    let labels: std::collections::BTreeMap<&str, &str> = labels.iter().copied().collect();
    let mut secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": { "name": AWS_SECRET, "namespace": NAMESPACE, "labels": labels },
        "stringData": {
            "access-key-id": key.access_key_id,
            "secret-access-key": key.secret_access_key,
        },
    }))?;
    let api: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    match api.get_opt(AWS_SECRET).await? {
        // The version read: a write in between fails rather than being lost.
        Some(current) => {
            secret.metadata.resource_version = current.metadata.resource_version;
            api.replace(AWS_SECRET, &kube::api::PostParams::default(), &secret)
                .await
                .with_context(|| format!("replacing {AWS_SECRET}"))?;
        }
        None => {
            api.create(&kube::api::PostParams::default(), &secret)
                .await
                .with_context(|| format!("creating {AWS_SECRET}"))?;
        }
    }
    Ok(())
}

pub async fn secret_exists(client: &kube::Client, name: &str) -> anyhow::Result<bool> {
    Ok(Api::<Secret>::namespaced(client.clone(), NAMESPACE)
        .get_opt(name)
        .await?
        .is_some())
}

/// A value no earlier call, run or scenario has written: the time and a
/// counter. Annotations that trigger a reconcile must change to do so.
pub fn unique_stamp() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", jiff::Timestamp::now().as_millisecond())
}

/// Forces a refresh of an ExternalSecret as the runbook does: a new value of
/// its `force-sync` annotation. The value is new on every call (time and a
/// counter), so a value left on a live cluster by an earlier run or
/// scenario can never make the change a no-op. Returns that value.
pub async fn force_sync(client: &kube::Client, name: &str) -> anyhow::Result<String> {
    let stamp = unique_stamp();
    annotate_external_secret(client, name, serde_json::json!({ "force-sync": stamp }))
        .await
        .with_context(|| format!("forcing a refresh of the ExternalSecret {name}"))?;
    Ok(stamp)
}

/// A merge patch of an ExternalSecret's annotations (null removes one).
async fn annotate_external_secret(
    client: &kube::Client,
    name: &str,
    annotations: serde_json::Value,
) -> anyhow::Result<()> {
    Api::<DynamicObject>::namespaced_with(
        client.clone(),
        NAMESPACE,
        &eso_model::external_secrets(),
    )
    .patch(
        name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(serde_json::json!({ "metadata": { "annotations": annotations } })),
    )
    .await?;
    Ok(())
}

/// Has ESO refresh an ExternalSecret now, for the harness's own reset
/// between scenarios: any change of its annotations does it, and this one
/// is not the runbook's `force-sync`, which it removes (an earlier
/// scenario's), so a scenario that runs the runbook's `kubectl annotate
/// ... force-sync=...` (no `--overwrite`) finds the ExternalSecret as an
/// operator would, never annotated before.
pub async fn refresh_now(client: &kube::Client, name: &str) -> anyhow::Result<()> {
    annotate_external_secret(
        client,
        name,
        serde_json::json!({ "opssight-harness/refresh": unique_stamp(), "force-sync": null }),
    )
    .await
    .with_context(|| format!("refreshing the ExternalSecret {name}"))
}

/// Has ESO validate a SecretStore now rather than at its next 5-minute
/// check: a change of its annotations does it.
pub async fn revalidate_store(client: &kube::Client, name: &str) -> anyhow::Result<()> {
    Api::<DynamicObject>::namespaced_with(
        client.clone(),
        NAMESPACE,
        &eso_model::stores(StoreKind::SecretStore),
    )
    .patch(
        name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(
            serde_json::json!({"metadata": {"annotations": {"harness/validate": unique_stamp()}}}),
        ),
    )
    .await
    .with_context(|| format!("revalidating the SecretStore {name}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_stamp_is_new() {
        let stamps: std::collections::BTreeSet<String> =
            (0..1000).map(|_| super::unique_stamp()).collect();
        assert_eq!(stamps.len(), 1000);
    }
}
