//! Scheduling: the work queue ([`crate::queue`]), read on the injected
//! clock (so moving a virtual clock forward makes every due refresh happen
//! at once), fed by watches on ExternalSecrets, stores and Secrets (the
//! targets they manage), which also fill the caches reconciles read
//! ([`crate::cache`]), with per-object exponential backoff after errors.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eso_api::reasons::{MSG_STORE_VALIDATED, REASON_INVALID_PROVIDER_CONFIG};
use eso_api::{Capabilities, Condition, ConditionStatus, SecretStoreStatus, StoreKind};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::Context;
use crate::external_secret::{self, error_policy};
pub(crate) use crate::queue::{Key, Queue};
use crate::queue::{Next, after};
use crate::secret_store::StoreView;

/// The loop that takes due keys and reconciles them, `concurrency` at a time.
pub(crate) async fn run(ctx: Arc<Context>, queue: Arc<Queue>, stop: CancellationToken) {
    loop {
        let notified = queue.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = ctx.clock.now();
        let batch = queue.take_due(now, ctx.config.concurrency.max(1));
        if batch.is_empty() {
            let next = queue.next_due();
            let clock = ctx.clock.clone();
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = &mut notified => {}
                _ = async move { match next { Some(t) => clock.sleep_until(t).await, None => std::future::pending().await } } => {}
            }
            continue;
        }
        let work = futures::stream::iter(batch).for_each_concurrent(
            ctx.config.concurrency.max(1),
            |key| {
                let (ctx, queue) = (ctx.clone(), queue.clone());
                async move {
                    let next = match &key {
                        Key::ExternalSecret { namespace, name } => {
                            external_secret::reconcile(&ctx, namespace, name)
                                .await
                                .unwrap_or_else(|err| error_policy(&err, &ctx))
                        }
                        Key::Store {
                            kind,
                            namespace,
                            name,
                        } => reconcile_store(&ctx, *kind, namespace, name).await,
                    };
                    queue.done(key, next, ctx.clock.now(), ctx.config.max_backoff);
                }
            },
        );
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = work => {}
        }
    }
}

/// Validates a store as ESO's store controller does, and writes its Ready
/// condition and a Normal or Warning event.
async fn reconcile_store(ctx: &Context, kind: StoreKind, namespace: &str, name: &str) -> Next {
    let ar = eso_api::store_resource(kind);
    let api: Api<DynamicObject> = match kind {
        StoreKind::SecretStore => Api::namespaced_with(ctx.kube.clone(), namespace, &ar),
        StoreKind::ClusterSecretStore => Api::all_with(ctx.kube.clone(), &ar),
    };
    let obj = match ctx.stores(kind).read(&api, namespace, name).await {
        Ok(Some(o)) => o,
        Ok(None) => return Next::Forget,
        Err(e) => {
            ctx.log(format!("error getting store {name}: {e}"));
            return Next::Backoff;
        }
    };
    let json = serde_json::to_value(&obj).unwrap_or_default();
    let store = StoreView::from_json(kind, &json);
    let previous: Vec<Condition> = json
        .pointer("/status/conditions")
        .cloned()
        .and_then(|c| serde_json::from_value(c).ok())
        .unwrap_or_default();
    let now = ctx.clock.now();
    let regarding = crate::events::Regarding {
        kind: store.kind.as_str(),
        namespace: store.namespace.clone(),
        name: store.name.clone(),
        uid: store.uid.clone(),
        resource_version: store.resource_version.clone(),
    };
    let (status, next) = match ctx.clients.validate(&store).await {
        Ok(reason) => {
            let cond = Condition::ready(
                ConditionStatus::True,
                reason,
                MSG_STORE_VALIDATED,
                now,
                &previous,
            );
            ctx.recorder.publish(
                &regarding,
                crate::events::EventType::Normal,
                reason,
                MSG_STORE_VALIDATED,
            );
            let refresh = obj
                .data
                .pointer("/spec/refreshInterval")
                .and_then(|v| v.as_u64())
                .map(Duration::from_secs)
                .unwrap_or(ctx.config.store_refresh);
            (
                SecretStoreStatus {
                    conditions: vec![cond],
                    capabilities: Some(Capabilities::ReadWrite),
                },
                Next::At(after(ctx.clock.now(), refresh)),
            )
        }
        Err(e) => {
            let cond = Condition::ready(
                ConditionStatus::False,
                REASON_INVALID_PROVIDER_CONFIG,
                e.condition_message(),
                now,
                &previous,
            );
            ctx.recorder.publish(
                &regarding,
                crate::events::EventType::Warning,
                REASON_INVALID_PROVIDER_CONFIG,
                &e.to_string(),
            );
            ctx.log(format!("store {} is not valid: {e}", store.name));
            (
                SecretStoreStatus {
                    conditions: vec![cond],
                    capabilities: None,
                },
                Next::Backoff,
            )
        }
    };
    let patch = serde_json::json!({ "status": status });
    match api
        .patch_status(name, &Default::default(), &kube::api::Patch::Merge(patch))
        .await
    {
        Ok(written) => ctx.stores(kind).wrote(&written),
        Err(e) => {
            ctx.log(format!("error updating status of store {name}: {e}"));
            return Next::Backoff;
        }
    }
    next
}

/// What of an object's metadata makes it worth reconciling again: status
/// updates are not among it.
pub(crate) type Fingerprint = (Option<i64>, String, bool);

fn fingerprint(obj: &DynamicObject) -> Fingerprint {
    // The uid is in it: an object deleted and made again is new.
    let meta = serde_json::to_string(&(
        &obj.metadata.uid,
        &obj.metadata.labels,
        &obj.metadata.annotations,
        &obj.metadata.finalizers,
    ))
    .unwrap_or_default();
    (
        obj.metadata.generation,
        meta,
        obj.metadata.deletion_timestamp.is_some(),
    )
}

/// An ExternalSecret as the controller itself wrote it (its finalizer) and
/// went on with: the watch's event of that write brings nothing new to
/// reconcile.
pub(crate) fn written_by_us(ctx: &Context, obj: &DynamicObject) {
    ctx.es_seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(es_key(obj), fingerprint(obj));
}

fn es_key(obj: &DynamicObject) -> Key {
    Key::ExternalSecret {
        namespace: obj.metadata.namespace.clone().unwrap_or_default(),
        name: obj.metadata.name.clone().unwrap_or_default(),
    }
}

fn store_key(kind: StoreKind, obj: &DynamicObject) -> Key {
    Key::Store {
        kind,
        namespace: obj.metadata.namespace.clone().unwrap_or_default(),
        name: obj.metadata.name.clone().unwrap_or_default(),
    }
}

/// Every watch of the controller: hands each event of a watch of `api` to
/// `on_event` until the stream ends. A watch error goes to the log as
/// "`what` watch error: ..." and the watcher goes on after its backoff.
pub(crate) async fn each_event<K>(
    ctx: &Context,
    what: &str,
    api: Api<K>,
    config: watcher::Config,
    mut on_event: impl FnMut(watcher::Event<K>),
) where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let stream = watcher(api, config).default_backoff();
    futures::pin_mut!(stream);
    loop {
        match stream.try_next().await {
            Ok(Some(event)) => on_event(event),
            Ok(None) => return,
            Err(e) => ctx.log(format!("{what} watch error: {e}")),
        }
    }
}

/// Which ExternalSecret writes each target Secret, by (namespace, name).
pub(crate) type Targets = Arc<Mutex<HashMap<(String, String), Key>>>;

/// Feeds the queue from the ExternalSecret watch; keeps the target name of
/// each, so a change to a target can be traced back.
pub(crate) async fn watch_external_secrets(ctx: Arc<Context>, queue: Arc<Queue>, targets: Targets) {
    let api: Api<DynamicObject> =
        Api::all_with(ctx.kube.clone(), &eso_api::external_secret_resource());
    each_event(
        &ctx,
        "ExternalSecret",
        api,
        watcher::Config::default(),
        |event| {
            // The cache first: the reconcile this event queues reads it.
            ctx.external_secrets.apply(&event);
            match event {
                watcher::Event::Apply(obj) | watcher::Event::InitApply(obj) => {
                    let key = es_key(&obj);
                    let fp = fingerprint(&obj);
                    if let Ok(view) = external_secret::View::parse(&obj) {
                        targets
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert((view.namespace.clone(), view.target_name()), key.clone());
                    }
                    let new = {
                        let mut seen = ctx.es_seen.lock().unwrap_or_else(|e| e.into_inner());
                        seen.insert(key.clone(), fp.clone()) != Some(fp)
                    };
                    if new {
                        queue.add(key, ctx.clock.now());
                    }
                }
                watcher::Event::Delete(obj) => {
                    let key = es_key(&obj);
                    ctx.es_seen
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&key);
                    queue.add(key, ctx.clock.now());
                }
                watcher::Event::Init | watcher::Event::InitDone => {}
            }
        },
    )
    .await;
}

/// The controller's one watch of Secrets, as ESO's of their metadata: it
/// keeps the Secrets' cache (which reconciles read targets from) and the
/// created-by index, and repairs a managed target that was deleted or
/// edited by hand. As ESO's predicate, only events of Secrets carrying the
/// managed label queue anything (a Secret whose label is taken off is
/// left alone).
pub(crate) async fn watch_secrets(ctx: Arc<Context>, queue: Arc<Queue>, targets: Targets) {
    let api: Api<Secret> = Api::all(ctx.kube.clone());
    each_event(&ctx, "Secret", api, watcher::Config::default(), |event| {
        ctx.secrets.apply(&event);
        ctx.created_by.event(&event);
        let (secret, deleted) = match event {
            watcher::Event::Apply(s) => (s, false),
            watcher::Event::Delete(s) => (s, true),
            _ => return,
        };
        if !external_secret::is_managed(&secret) {
            return;
        }
        // A target that is still valid needs nothing; our own writes land here too.
        if !deleted && external_secret::target_valid(Some(&secret)) {
            return;
        }
        let ns = secret.metadata.namespace.clone().unwrap_or_default();
        let owner = secret
            .metadata
            .owner_references
            .as_ref()
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r.kind == "ExternalSecret" && r.controller == Some(true))
            })
            .map(|r| Key::ExternalSecret {
                namespace: ns.clone(),
                name: r.name.clone(),
            });
        let key = owner.or_else(|| {
            targets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&(ns, secret.metadata.name.clone().unwrap_or_default()))
                .cloned()
        });
        if let Some(key) = key {
            queue.add(key, ctx.clock.now());
        }
    })
    .await;
}

/// Feeds the queue from a watch of one kind of store.
pub(crate) async fn watch_stores(ctx: Arc<Context>, queue: Arc<Queue>, kind: StoreKind) {
    let api: Api<DynamicObject> = Api::all_with(ctx.kube.clone(), &eso_api::store_resource(kind));
    let mut seen: HashMap<Key, Fingerprint> = HashMap::new();
    each_event(&ctx, "store", api, watcher::Config::default(), |event| {
        ctx.stores(kind).apply(&event);
        match event {
            watcher::Event::Apply(obj) | watcher::Event::InitApply(obj) => {
                let key = store_key(kind, &obj);
                let fp = fingerprint(&obj);
                if seen.get(&key) != Some(&fp) {
                    seen.insert(key.clone(), fp);
                    queue.add(key, ctx.clock.now());
                }
            }
            watcher::Event::Delete(obj) => {
                let key = store_key(kind, &obj);
                seen.remove(&key);
                queue.remove(&key);
            }
            watcher::Event::Init | watcher::Event::InitDone => {}
        }
    })
    .await;
}
