//! Scenarios that take turns on one live system (kind, binaries): each
//! starts by putting it back as a new scenario expects it, whatever the
//! previous one left: the namespace there, new values in Secrets Manager,
//! the overlay and `aws-secret` applied, the store validated now, and every
//! Secret holding the new values before the first step.

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::Api;

use super::environment::Environment;
use crate::eso_model::{self, StoreKind};
use crate::fixtures::Fixtures;
use crate::secret_data::as_bytes;
use crate::system::{AWS_SECRET, LOCAL_OVERLAY, NAMESPACE};
use crate::wait::conditions::{exists_and, holds, is_ready};

/// ExternalSecrets, stores and ServiceAccounts an earlier scenario added
/// (probes), and Secrets that are neither the overlay's targets nor
/// `aws-secret`: gone, so that this
/// scenario sees the namespace a fresh stack would have.
async fn remove_what_the_overlay_lacks(
    client: &kube::Client,
    fixtures: &Fixtures,
    overlay: &str,
) -> anyhow::Result<()> {
    use kube::api::{DynamicObject, ListParams};
    // ClusterSecretStores a probe added: the overlay has none, and they
    // outlive any namespace. Their events (in "default") go with them.
    let cluster_stores = Api::<DynamicObject>::all_with(
        client.clone(),
        &eso_model::stores(StoreKind::ClusterSecretStore),
    );
    for o in cluster_stores.list(&ListParams::default()).await?.items {
        gone_or(
            cluster_stores
                .delete(&o.metadata.name.unwrap_or_default(), &Default::default())
                .await,
        )?;
    }
    let default_events =
        Api::<k8s_openapi::api::core::v1::Event>::namespaced(client.clone(), "default");
    default_events
        .delete_collection(
            &Default::default(),
            &ListParams::default().fields("involvedObject.kind=ClusterSecretStore"),
        )
        .await
        .context("deleting the events of earlier ClusterSecretStores")?;
    if Api::<Namespace>::all(client.clone())
        .get_opt(NAMESPACE)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let manifests = crate::fixtures::manifests::kustomize(&fixtures.overlay(overlay))?;
    let ours: Vec<&str> = manifests
        .iter()
        .filter(|m| m.kind() == "ExternalSecret")
        .map(|m| m.name())
        .collect();
    let es = Api::<DynamicObject>::namespaced_with(
        client.clone(),
        NAMESPACE,
        &eso_model::external_secrets(),
    );
    for o in es.list(&ListParams::default()).await?.items {
        let name = o.metadata.name.unwrap_or_default();
        if !ours.contains(&name.as_str()) {
            gone_or(es.delete(&name, &Default::default()).await)?;
        }
    }
    // SecretStores and ServiceAccounts a probe added.
    let stores: Vec<&str> = manifests
        .iter()
        .filter(|m| m.kind() == "SecretStore")
        .map(|m| m.name())
        .collect();
    let store_api = Api::<DynamicObject>::namespaced_with(
        client.clone(),
        NAMESPACE,
        &eso_model::stores(StoreKind::SecretStore),
    );
    for o in store_api.list(&ListParams::default()).await?.items {
        let name = o.metadata.name.unwrap_or_default();
        if !stores.contains(&name.as_str()) {
            gone_or(store_api.delete(&name, &Default::default()).await)?;
        }
    }
    let accounts: Vec<&str> = manifests
        .iter()
        .filter(|m| m.kind() == "ServiceAccount")
        .map(|m| m.name())
        .chain(["default"])
        .collect();
    let sa_api =
        Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(client.clone(), NAMESPACE);
    for o in sa_api.list(&ListParams::default()).await?.items {
        let name = o.metadata.name.unwrap_or_default();
        if !accounts.contains(&name.as_str()) {
            gone_or(sa_api.delete(&name, &Default::default()).await)?;
        }
    }
    let secrets = Api::<Secret>::namespaced(client.clone(), NAMESPACE);
    for s in secrets.list(&ListParams::default()).await?.items {
        let name = s.metadata.name.unwrap_or_default();
        let kept = name == AWS_SECRET
            || ours.contains(&name.as_str())
            || s.type_.as_deref() == Some("kubernetes.io/service-account-token");
        if !kept {
            // Its ExternalSecret's deletion may have taken it already.
            gone_or(secrets.delete(&name, &Default::default()).await)?;
        }
    }
    Ok(())
}

/// A deletion's result, where "already gone" is as good as done.
fn gone_or<T>(r: Result<T, kube::Error>) -> anyhow::Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Puts the shared system back as a new scenario expects it (see the
/// module's documentation), through `env`'s own overlay and credentials.
pub async fn start_turn(env: &dyn Environment) -> anyhow::Result<()> {
    let b = env.base();
    let (client, fixtures, patience) = (&b.kube, &b.fixtures, b.patience);
    let overlay = b.overlay(LOCAL_OVERLAY);
    // A scenario may have deleted the namespace: let it finish going.
    let namespaces = Api::<Namespace>::all(client.clone());
    if let Some(ns) = namespaces.get_opt(NAMESPACE).await?
        && ns.metadata.deletion_timestamp.is_some()
    {
        let uid = ns.metadata.uid.unwrap_or_default();
        crate::wait::within(
            patience,
            &format!("the namespace {NAMESPACE} to go"),
            kube::runtime::wait::await_condition(
                namespaces,
                NAMESPACE,
                kube::runtime::wait::conditions::is_deleted(&uid),
            ),
        )
        .await??;
    }
    // What a probe added goes first: a store it left failing is retried,
    // and each retry's event (or its count) would land after the events
    // are deleted.
    remove_what_the_overlay_lacks(client, fixtures, overlay).await?;
    crate::env::secrets_manager::seed_secrets(&env.secrets_manager(), &b.seed, false).await?;
    // The previous scenario's events would satisfy this one's checks of
    // events: a new scenario starts with none, as on a stack of its own.
    Api::<k8s_openapi::api::core::v1::Event>::namespaced(client.clone(), NAMESPACE)
        .delete_collection(&Default::default(), &Default::default())
        .await
        .context("deleting the previous scenario's events")?;
    env.apply_overlay(LOCAL_OVERLAY).await?;
    env.restore_credentials().await?;
    let manifests = crate::fixtures::manifests::kustomize(&fixtures.overlay(overlay))?;
    // A store an earlier scenario left invalid is retried on ESO's
    // backoff, which grows with every failure: validate it now, and wait
    // until it is Ready before any refresh. ESO syncs an ExternalSecret
    // only from a Ready store, and one that fails again goes back on its
    // own backoff, grown by the earlier scenario's failures: a refresh
    // forced while the store still showed NotReady took 16 s and 32 s
    // after the runbook's EKS scenario.
    let stores = Api::<kube::api::DynamicObject>::namespaced_with(
        client.clone(),
        NAMESPACE,
        &eso_model::stores(StoreKind::SecretStore),
    );
    for m in &manifests {
        if m.kind() == "SecretStore" {
            crate::env::apply::revalidate_store(client, m.name()).await?;
        }
    }
    for m in &manifests {
        if m.kind() == "SecretStore" {
            crate::wait::within(
                patience,
                &format!(
                    "the SecretStore {} to be Ready again (a new scenario's syncs need it)",
                    m.name()
                ),
                kube::runtime::wait::await_condition(
                    stores.clone(),
                    m.name(),
                    exists_and(is_ready()),
                ),
            )
            .await??;
        }
    }
    // The new values now, not at the next interval.
    let mut targets = Vec::new();
    for m in &manifests {
        if m.kind() != "ExternalSecret" {
            continue;
        }
        crate::env::apply::refresh_now(client, m.name()).await?;
        if let Some(remote) = m
            .object
            .pointer("/spec/dataFrom/0/extract/key")
            .and_then(|k| k.as_str())
        {
            targets.push((m.name().to_owned(), remote.to_owned()));
        }
    }
    // Back means back: every Secret holds this scenario's values, so a
    // Ready condition left by the previous scenario cannot pass for it.
    // Waited for together: ESO syncs them side by side.
    let waits = targets.into_iter().map(|(name, remote)| async move {
        let want =
            as_bytes(b.seed.secrets.get(&remote).ok_or_else(|| {
                anyhow::anyhow!("the seed has no {remote} (ExternalSecret {name})")
            })?);
        let secrets = Api::<Secret>::namespaced(client.clone(), NAMESPACE);
        crate::wait::within(
            patience,
            &format!("the Secret {name} to hold this scenario's new values of {remote}"),
            kube::runtime::wait::await_condition(secrets, &name, exists_and(holds(want))),
        )
        .await??;
        anyhow::Ok(())
    });
    futures::future::try_join_all(waits).await?;
    Ok(())
}
