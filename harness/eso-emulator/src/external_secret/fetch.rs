//! The provider's data for an ExternalSecret: its store (which a
//! ClusterSecretStore's `conditions` may refuse, and which must be Ready),
//! the store's client, and each `dataFrom` and `data` entry fetched, with
//! ESO's words for every failure.

use std::collections::BTreeMap;

use eso_api::reasons::{EVENT_MISSING_PROVIDER_SECRET, missing_provider_secret};
use eso_api::{ClusterSecretStoreCondition, DeletionPolicy, LabelSelector, StoreKind};
use kube::api::{Api, DynamicObject};
use serde_json::Value;

use super::View;
use super::error::SyncError;
use crate::Context;
use crate::events::EventType;
use crate::provider::ProviderError;
use crate::secret_store::StoreView;

/// The label the API server gives every namespace: its name.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Every key the ExternalSecret asks for, with its value: `dataFrom`
/// first, then `data`, so that a key both write ends up as `data`'s.
pub(super) async fn provider_data(
    ctx: &Context,
    es: &View,
) -> Result<BTreeMap<String, Vec<u8>>, SyncError> {
    // ESO gets the store and its client inside each entry's handling, so a
    // store or client error reads as the first entry's
    // (pkg/controllers/externalsecret/externalsecret_controller_secret.go,
    // GetProviderSecretData, v2.9.0 as v0.20.4).
    let first_entry = |e: String| match (es.spec.data_from.first(), es.spec.data.first()) {
        (Some(_), _) => format!("error processing spec.dataFrom[0].extract, err: {e}"),
        (None, Some(d)) => format!(
            "error processing spec.data[0] (key: {}), err: {e}",
            d.remote_ref.key
        ),
        (None, None) => e,
    };
    let store = store_for(ctx, es)
        .await
        .map_err(|e| SyncError::Provider(first_entry(e)))?;
    let provider = ctx
        .clients
        .provider(&store, &es.namespace)
        .await
        .map_err(|e| SyncError::Provider(first_entry(e.0)))?;
    let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // A secret gone at the provider is skipped, with a Normal event, unless
    // deletionPolicy is Retain (then it is an error, as any other).
    let skip_missing = es.spec.target.deletion_policy != DeletionPolicy::Retain;
    for (i, d) in es.spec.data_from.iter().enumerate() {
        let Some(extract) = &d.extract else { continue };
        let result = provider.get_secret_map(extract).await;
        ctx.metrics
            .provider_call("GetSecretValue", api_call_succeeded(&result));
        match result {
            Ok(m) => data.extend(m),
            Err(ProviderError::NoSecret) if skip_missing => {
                gone_at_provider(ctx, es, &missing_provider_secret(i, None)).await;
            }
            Err(e) => {
                return Err(SyncError::Provider(format!(
                    "error processing spec.dataFrom[{i}].extract, err: {e}"
                )));
            }
        }
    }
    for (i, d) in es.spec.data.iter().enumerate() {
        let result = provider.get_secret(&d.remote_ref).await;
        ctx.metrics
            .provider_call("GetSecretValue", api_call_succeeded(&result));
        match result {
            Ok(v) => {
                data.insert(d.secret_key.clone(), v);
            }
            Err(ProviderError::NoSecret) if skip_missing => {
                let message = missing_provider_secret(i, Some(&d.remote_ref.key));
                gone_at_provider(ctx, es, &message).await;
            }
            Err(e) => {
                return Err(SyncError::Provider(format!(
                    "error processing spec.data[{i}] (key: {}), err: {e}",
                    d.remote_ref.key
                )));
            }
        }
    }
    Ok(data)
}

/// ESO's Normal event for a secret gone at the provider.
async fn gone_at_provider(ctx: &Context, es: &View, message: &str) {
    ctx.recorder.publish(
        &es.regarding(),
        EventType::Normal,
        EVENT_MISSING_PROVIDER_SECRET,
        message,
    );
}

/// Whether the AWS call itself succeeded: a missing property is found after
/// a successful call, and ESO counts the call as a success.
fn api_call_succeeded<T>(result: &Result<T, ProviderError>) -> bool {
    !matches!(
        result,
        Err(ProviderError::NoSecret | ProviderError::Other(_))
    )
}

/// The store the ExternalSecret names, if it may use it and it is Ready.
async fn store_for(ctx: &Context, es: &View) -> Result<StoreView, String> {
    let store_ref = es
        .spec
        .secret_store_ref
        .as_ref()
        .ok_or("spec.secretStoreRef is missing")?;
    let kind = store_ref.kind.unwrap_or_default();
    let resource = eso_api::store_resource(kind);
    let (api, ns) = match kind {
        StoreKind::SecretStore => (
            Api::<DynamicObject>::namespaced_with(ctx.kube.clone(), &es.namespace, &resource),
            es.namespace.clone(),
        ),
        StoreKind::ClusterSecretStore => (
            Api::<DynamicObject>::all_with(ctx.kube.clone(), &resource),
            String::new(),
        ),
    };
    let obj = ctx
        .stores(kind)
        .read(&api, &ns, &store_ref.name)
        .await
        .map_err(|e| format!("could not get {kind} \"{}\": {e}", store_ref.name))?
        .ok_or_else(|| {
            format!(
                "could not get {kind} \"{}\": not found (namespace \"{ns}\")",
                store_ref.name
            )
        })?;
    let json = serde_json::to_value(&obj).map_err(|e| e.to_string())?;
    if kind == StoreKind::ClusterSecretStore {
        allowed_here(ctx, &json, &store_ref.name, &es.namespace).await?;
    }
    let store = StoreView::from_json(kind, &json);
    if store.ready != Some(true) {
        return Err(format!("{kind} \"{}\" is not ready", store.name));
    }
    Ok(store)
}

/// A ClusterSecretStore's `conditions` against the ExternalSecret's
/// namespace, before its readiness, as ESO's client manager checks them
/// (shouldProcessSecret, pkg/controllers/secretstore/client_manager.go,
/// v2.9.0 as v0.20.4): a listed namespace is matched by its
/// `kubernetes.io/metadata.name` label, which the API server always sets.
async fn allowed_here(
    ctx: &Context,
    store: &Value,
    name: &str,
    namespace: &str,
) -> Result<(), String> {
    let conditions: Vec<ClusterSecretStoreCondition> = store
        .pointer("/spec/conditions")
        .cloned()
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    if conditions.is_empty() {
        return Ok(());
    }
    let ns = Api::<k8s_openapi::api::core::v1::Namespace>::all(ctx.kube.clone())
        .get(namespace)
        .await
        .map_err(|e| format!("failed to get a namespace \"{namespace}\": {e}"))?;
    let mut labels = ns.metadata.labels.unwrap_or_default();
    labels
        .entry(NAMESPACE_NAME_LABEL.to_owned())
        .or_insert_with(|| namespace.to_owned());
    for c in &conditions {
        let by_name = c.namespaces.iter().map(|n| LabelSelector {
            match_labels: BTreeMap::from([(NAMESPACE_NAME_LABEL.to_owned(), n.clone())]),
            ..Default::default()
        });
        for selector in c.namespace_selector.clone().into_iter().chain(by_name) {
            if selector.matches(&labels).map_err(|e| {
                format!("failed to convert label selector into selector {selector:?}: {e}")
            })? {
                return Ok(());
            }
        }
        for r in &c.namespace_regexes {
            let re =
                regex::Regex::new(r).map_err(|e| format!("failed to compile regex {r}: {e}"))?;
            if re.is_match(namespace) {
                return Ok(());
            }
        }
    }
    Err(format!(
        "using cluster store \"{name}\" is not allowed from namespace \"{namespace}\": denied by spec.condition"
    ))
}
