//! One reconcile of an ExternalSecret, as ESO v2.9.0's Reconcile
//! (externalsecret_controller.go, as v0.20.4): read it, keep its finalizer
//! (or let it go), decide whether to sync ([`super::refresh`]), fetch
//! ([`super::fetch`]) and write ([`super::target`]), and say so in the
//! status, the events and the metrics. Failures are returned; what to do
//! about them is [`super::error_policy`]'s.

use eso_api::metadata::FINALIZER;
use eso_api::{Condition, ConditionStatus, ExternalSecretStatus, go_duration, parse_duration};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;

use super::View;
use super::error::{ReconcileError, SyncError};
use super::target::Synced;
use super::{fetch, target};
use crate::Context;
use crate::controller::written_by_us;
use crate::events::EventType;
use crate::queue::Next;

/// Reconciles the ExternalSecret `namespace/name`: what to do next with
/// it, or why it failed.
pub(crate) async fn reconcile(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Result<Next, ReconcileError> {
    let now = ctx.clock.now();
    let es_name = || format!("{namespace}/{name}");
    let api: Api<DynamicObject> = Api::namespaced_with(
        ctx.kube.clone(),
        namespace,
        &eso_api::external_secret_resource(),
    );
    let obj = ctx
        .external_secrets
        .read(&api, namespace, name)
        .await
        .map_err(|source| ReconcileError::Get {
            es: es_name(),
            source,
        })?;
    let Some(obj) = obj else {
        ctx.metrics.forget(name, namespace);
        return Ok(Next::Forget);
    };
    let Some(obj) = keep_finalizer(ctx, &api, obj).await? else {
        return Ok(Next::Forget);
    };
    let es = View::parse(&obj).map_err(|source| ReconcileError::InvalidSpec {
        es: es_name(),
        source,
    })?;
    let secrets: Api<Secret> = Api::namespaced(ctx.kube.clone(), namespace);
    let target_name = es.target_name();
    let target = ctx
        .secrets
        .read(&secrets, namespace, &target_name)
        .await
        .map_err(|source| ReconcileError::GetTarget {
            target: format!("{namespace}/{target_name}"),
            source,
        })?;
    if !es.sync_needed(target.as_ref(), now) {
        return Ok(es.next_refresh().map(Next::At).unwrap_or(Next::Idle));
    }
    let result = sync(ctx, &es, target, &secrets).await;
    ctx.metrics.sync_call(name, namespace, result.is_err());
    match result {
        Ok(synced) => {
            let next = mark_synced(ctx, &api, es, synced, now).await?;
            Ok(next)
        }
        Err(source) => {
            mark_failed(ctx, &api, &es, &source, now).await;
            Err(ReconcileError::Sync {
                es: es_name(),
                source,
            })
        }
    }
}

/// Fetches and writes.
async fn sync(
    ctx: &Context,
    es: &View,
    target: Option<Secret>,
    secrets: &Api<Secret>,
) -> Result<Synced, SyncError> {
    let data = fetch::provider_data(ctx, es).await?;
    target::write(ctx, es, target, secrets, data).await
}

/// ESO keeps a finalizer on every ExternalSecret it reconciles and removes
/// it when the ExternalSecret is being deleted: the object to go on with,
/// or `None` when it is being deleted.
async fn keep_finalizer(
    ctx: &Context,
    api: &Api<DynamicObject>,
    obj: DynamicObject,
) -> Result<Option<DynamicObject>, ReconcileError> {
    let es_name = || {
        format!(
            "{}/{}",
            obj.metadata.namespace.as_deref().unwrap_or_default(),
            obj.metadata.name.as_deref().unwrap_or_default()
        )
    };
    let name = obj.metadata.name.clone().unwrap_or_default();
    let finalizers = obj.metadata.finalizers.clone().unwrap_or_default();
    let has_finalizer = finalizers.iter().any(|f| f == FINALIZER);
    if obj.metadata.deletion_timestamp.is_some() {
        if has_finalizer {
            let rest: Vec<String> = finalizers.into_iter().filter(|f| f != FINALIZER).collect();
            api.patch(
                &name,
                &Default::default(),
                &Patch::Merge(json!({ "metadata": { "finalizers": rest } })),
            )
            .await
            .map_err(|source| ReconcileError::RemoveFinalizer {
                es: es_name(),
                source,
            })?;
        }
        return Ok(None);
    }
    if has_finalizer {
        return Ok(Some(obj));
    }
    // ESO adds it with an Update of the whole object, which writes the
    // spec back as Go prints it (`refreshInterval: 1h` becomes `1h0m0s`,
    // a spec change: seen on ESO v0.20.4) and goes on with what the server
    // answered, so the sync that follows records the new generation.
    let mut with = finalizers;
    with.push(FINALIZER.to_owned());
    let mut patch = json!({ "metadata": { "finalizers": with.clone() } });
    // What the server will answer, told to the watch before the write:
    // its event of it (which may come before the answer) brings
    // nothing to reconcile again.
    let mut expected = obj.clone();
    expected.metadata.finalizers = Some(with);
    let interval = obj
        .data
        .pointer("/spec/refreshInterval")
        .and_then(|v| v.as_str());
    if let Some((text, d)) = interval.and_then(|t| parse_duration(t).map(|d| (t, d))) {
        let printed = go_duration(d);
        if printed != text {
            expected.metadata.generation = expected.metadata.generation.map(|g| g + 1);
        }
        patch["spec"] = json!({ "refreshInterval": printed });
    }
    written_by_us(ctx, &expected);
    let updated = api
        .patch(&name, &Default::default(), &Patch::Merge(patch))
        .await
        .map_err(|source| ReconcileError::AddFinalizer {
            es: es_name(),
            source,
        })?;
    written_by_us(ctx, &updated);
    ctx.external_secrets.wrote(&updated);
    Ok(Some(updated))
}

/// Ready True, the refresh time and what was synced, in the status: when
/// to come back.
async fn mark_synced(
    ctx: &Context,
    api: &Api<DynamicObject>,
    mut es: View,
    synced: Synced,
    now: Timestamp,
) -> Result<Next, ReconcileError> {
    let cond = Condition::ready(
        ConditionStatus::True,
        synced.reason,
        synced.message,
        now,
        &es.status.conditions,
    );
    let status = ExternalSecretStatus {
        refresh_time: Some(now),
        synced_resource_version: Some(es.current_resource_version()),
        binding: Some(eso_api::Binding {
            name: es.target_name(),
        }),
        conditions: vec![cond],
    };
    ctx.metrics.condition(&es.name, &es.namespace, true);
    let written = api
        .patch_status(
            &es.name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": status })),
        )
        .await
        .map_err(|source| ReconcileError::UpdateStatus {
            es: format!("{}/{}", es.namespace, es.name),
            source,
        })?;
    ctx.external_secrets.wrote(&written);
    ctx.log(format!(
        "reconciled ExternalSecret {}/{}: {}",
        es.namespace, es.name, synced.message
    ));
    es.status = status;
    Ok(es.next_refresh().map(Next::At).unwrap_or(Next::Idle))
}

/// Ready False with the failure's reason and message, and its Warning
/// event, as ESO's markAsFailed writes them. A status that cannot be
/// written is not a failure of its own: the error is reported anyway.
async fn mark_failed(
    ctx: &Context,
    api: &Api<DynamicObject>,
    es: &View,
    failure: &SyncError,
    now: Timestamp,
) {
    let cond = Condition::ready(
        ConditionStatus::False,
        failure.reason(),
        failure.message(),
        now,
        &es.status.conditions,
    );
    ctx.metrics.condition(&es.name, &es.namespace, false);
    if let Ok(written) = api
        .patch_status(
            &es.name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": { "conditions": [cond] } })),
        )
        .await
    {
        ctx.external_secrets.wrote(&written);
    }
    ctx.recorder.publish(
        &es.regarding(),
        EventType::Warning,
        failure.event_reason(),
        &failure.to_string(),
    );
}
