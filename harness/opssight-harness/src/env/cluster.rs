//! What the harness does to ESO on a real cluster (kind, or an existing
//! one): reach it, scale its controller, read its log.

use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams, Patch, PatchParams};

use crate::system::{ESO_DEPLOYMENTS, ESO_NAMESPACE};
use crate::wait::conditions::{available, exists_and};

/// A client of the cluster a kubeconfig file names (its current context).
pub async fn client_for(kubeconfig: &std::path::Path) -> anyhow::Result<kube::Client> {
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(kubeconfig)
            .with_context(|| format!("reading {}", kubeconfig.display()))?,
        &kube::config::KubeConfigOptions::default(),
    )
    .await?;
    Ok(kube::Client::try_from(config)?)
}

fn deployments(client: &kube::Client) -> Api<Deployment> {
    Api::namespaced(client.clone(), ESO_NAMESPACE)
}

/// The controller deployment's replicas now.
pub async fn controller_replicas(client: &kube::Client) -> anyhow::Result<i32> {
    let d = deployments(client)
        .get(ESO_DEPLOYMENTS[0])
        .await
        .with_context(|| format!("reading {ESO_NAMESPACE}/{}", ESO_DEPLOYMENTS[0]))?;
    Ok(d.spec.replicas.unwrap_or(1))
}

/// Scales ESO's controller and, when scaling up, waits until it is available.
pub async fn scale_controller(
    client: &kube::Client,
    replicas: i32,
    wait: Duration,
) -> anyhow::Result<()> {
    let name = ESO_DEPLOYMENTS[0];
    deployments(client)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "spec": { "replicas": replicas } })),
        )
        .await
        .with_context(|| format!("scaling the deployment {ESO_NAMESPACE}/{name} to {replicas}"))?;
    if replicas == 0 {
        return Ok(());
    }
    wait_available(client, name, replicas, wait).await
}

/// Waits until a deployment of ESO has `replicas` available.
pub async fn wait_available(
    client: &kube::Client,
    name: &str,
    replicas: i32,
    wait: Duration,
) -> anyhow::Result<()> {
    crate::wait::within(
        wait,
        &format!("{ESO_NAMESPACE}/{name} to have {replicas} available replicas"),
        kube::runtime::wait::await_condition(
            deployments(client),
            name,
            exists_and(available(replicas)),
        ),
    )
    .await??;
    Ok(())
}

/// The last 50 lines of the controller's log (as
/// `kubectl logs deployment/external-secrets` shows them), or why not.
pub async fn controller_log(client: &kube::Client) -> Vec<String> {
    let pods = Api::<Pod>::namespaced(client.clone(), ESO_NAMESPACE);
    let selector = format!("app.kubernetes.io/name={}", ESO_DEPLOYMENTS[0]);
    let list = match pods.list(&ListParams::default().labels(&selector)).await {
        Ok(l) => l,
        Err(e) => return vec![format!("(could not list ESO's pods: {e})")],
    };
    let Some(name) = list.items.first().and_then(|p| p.metadata.name.clone()) else {
        return vec![format!("(no pod labelled {selector} in {ESO_NAMESPACE})")];
    };
    let params = LogParams {
        tail_lines: Some(50),
        ..Default::default()
    };
    match pods.logs(&name, &params).await {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(e) => vec![format!("(could not read the log of {name}: {e})")],
    }
}

/// Gives a deployment of ESO the status a Deployment controller would:
/// where no kubelet runs its pods (embedded, binaries), the deployment
/// stands for the controller running in or beside the harness, so that what
/// reads deployments (`check`, `kubectl get deploy`) sees whether it runs.
pub async fn publish_deployment(
    client: &kube::Client,
    clock: &emulator_core::Clock,
    name: &str,
    available: bool,
) -> anyhow::Result<()> {
    let n = i32::from(available);
    let (status, reason, message) = if available {
        (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    let now = clock.now().to_string();
    let patch = serde_json::json!({ "status": {
        "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
        "readyReplicas": n, "availableReplicas": n, "unavailableReplicas": 1 - n,
        "conditions": [{ "type": "Available", "status": status, "reason": reason,
                         "message": message, "lastUpdateTime": now, "lastTransitionTime": now }],
    }});
    deployments(client)
        .patch_status(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .with_context(|| format!("publishing the status of the deployment {name}"))?;
    Ok(())
}
