//! One reconcile of an ExternalSecret, as ESO v2.9.0 does it: decide whether
//! a refresh is due, fetch from the provider, write the target Secret, and
//! report in the status and in events.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::Context;
use crate::events::{EventType, Regarding};
use crate::provider::ProviderError;
use crate::secret_store::StoreView;
use crate::types::{
    CreationPolicy, DeletionPolicy, ExternalSecretSpec, ExternalSecretStatus, RefreshPolicy,
    StoreKind,
};
use crate::util;

pub const MANAGED_LABEL: &str = "reconcile.external-secrets.io/managed";
pub const DATA_HASH_ANNOTATION: &str = "reconcile.external-secrets.io/data-hash";
pub const REASON_SYNCED: &str = "SecretSynced";
pub const REASON_SYNCED_ERROR: &str = "SecretSyncedError";
pub const REASON_DELETED: &str = "SecretDeleted";
pub const MSG_SYNCED: &str = "secret synced";
pub const MSG_RETAINED: &str = "secret retained due to DeletionPolicy=Retain";
pub const MSG_DELETED: &str = "secret deleted due to DeletionPolicy=Delete";
pub const MSG_PROVIDER_ERROR: &str = "could not get secret data from provider";
pub const MSG_UPDATE_ERROR: &str = "could not update secret";

/// What the scheduler should do next with this object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Reconcile again at this time.
    At(Timestamp),
    /// Only a change to the object (or its target) brings it back.
    Idle,
    /// Failed: back off.
    Backoff,
    /// The object is gone.
    Forget,
}

pub struct View {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub generation: i64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub spec: ExternalSecretSpec,
    pub status: ExternalSecretStatus,
}

impl View {
    pub fn parse(obj: &DynamicObject) -> Result<Self, String> {
        let spec: ExternalSecretSpec =
            serde_json::from_value(obj.data.get("spec").cloned().unwrap_or(json!({})))
                .map_err(|e| format!("invalid spec: {e}"))?;
        let status: ExternalSecretStatus = obj
            .data
            .get("status")
            .cloned()
            .and_then(|s| serde_json::from_value(s).ok())
            .unwrap_or_default();
        Ok(Self {
            namespace: obj.metadata.namespace.clone().unwrap_or_default(),
            name: obj.metadata.name.clone().unwrap_or_default(),
            uid: obj.metadata.uid.clone().unwrap_or_default(),
            resource_version: obj.metadata.resource_version.clone().unwrap_or_default(),
            generation: obj.metadata.generation.unwrap_or(1),
            labels: obj.metadata.labels.clone().unwrap_or_default(),
            annotations: obj.metadata.annotations.clone().unwrap_or_default(),
            spec,
            status,
        })
    }

    pub fn target_name(&self) -> String {
        self.spec
            .target
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.name.clone())
    }

    fn regarding(&self) -> Regarding {
        Regarding {
            kind: "ExternalSecret",
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            resource_version: self.resource_version.clone(),
        }
    }

    pub fn current_resource_version(&self) -> String {
        util::synced_resource_version(self.generation, &self.labels, &self.annotations)
    }

    fn interval(&self) -> Duration {
        self.spec
            .refresh_interval
            .as_deref()
            .and_then(util::parse_duration)
            .unwrap_or(Duration::from_secs(3600))
    }

    fn refresh_time(&self) -> Option<Timestamp> {
        self.status
            .refresh_time
            .as_deref()
            .and_then(|t| t.parse().ok())
    }

    /// ESO's `shouldRefresh`.
    pub fn refresh_due(&self, now: Timestamp) -> bool {
        let synced_once = self
            .status
            .synced_resource_version
            .as_deref()
            .is_some_and(|s| !s.is_empty());
        let changed = self.status.synced_resource_version.as_deref()
            != Some(self.current_resource_version().as_str());
        match self.spec.refresh_policy.unwrap_or(RefreshPolicy::Periodic) {
            RefreshPolicy::CreatedOnce => !synced_once,
            RefreshPolicy::OnChange => !synced_once || changed,
            RefreshPolicy::Periodic => {
                let interval = self.interval();
                if interval.is_zero() && synced_once {
                    return false;
                }
                if changed {
                    return true;
                }
                match self.refresh_time() {
                    None => true,
                    Some(t) if t > now => true,
                    Some(t) => t
                        .checked_add(
                            SignedDuration::try_from(interval).unwrap_or(SignedDuration::MAX),
                        )
                        .map(|due| due <= now)
                        .unwrap_or(true),
                }
            }
        }
    }

    /// When the next periodic refresh falls due, if there is one.
    pub fn next_refresh(&self) -> Option<Timestamp> {
        if self.spec.refresh_policy.unwrap_or(RefreshPolicy::Periodic) != RefreshPolicy::Periodic {
            return None;
        }
        let interval = self.interval();
        if interval.is_zero() {
            return None;
        }
        self.refresh_time()?
            .checked_add(SignedDuration::try_from(interval).ok()?)
            .ok()
    }
}

fn secret_data(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    secret
        .data
        .as_ref()
        .map(|d| d.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
        .unwrap_or_default()
}

/// "The target is valid": it exists, is labelled managed, and its data-hash
/// annotation matches its data.
pub fn target_valid(secret: Option<&Secret>) -> bool {
    let Some(s) = secret else { return false };
    let managed = s
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_LABEL))
        .is_some_and(|v| v == "true");
    let hash = s
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DATA_HASH_ANNOTATION));
    managed && hash.is_some_and(|h| *h == util::data_hash(&secret_data(s)))
}

enum Failure {
    Provider(String),
    Update(String),
    DeleteOrphaned(String),
    /// ESO marks these failed and does not requeue: retrying cannot help.
    Permanent(&'static str, String),
}

/// ESO's Ready messages of failures it does not retry.
pub const MSG_IS_OWNED_ERROR: &str = "target is owned by another ExternalSecret";
pub const MSG_BECOME_OWNER_ERROR: &str = "failed to take ownership of target secret";
pub const MSG_IMMUTABLE_ERROR: &str = "could not update secret, target is immutable";

pub async fn reconcile(ctx: &Context, namespace: &str, name: &str) -> Next {
    let now = ctx.clock.now();
    let api: Api<DynamicObject> = Api::namespaced_with(
        ctx.kube.clone(),
        namespace,
        &crate::external_secret_resource(),
    );
    let obj = match api.get_opt(name).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            ctx.metrics.forget(name, namespace);
            return Next::Forget;
        }
        Err(e) => {
            ctx.log(format!(
                "error getting ExternalSecret {namespace}/{name}: {e}"
            ));
            return Next::Backoff;
        }
    };
    // ESO keeps a finalizer on every ExternalSecret it reconciles and
    // removes it when the ExternalSecret is being deleted
    // (externalsecret_controller.go, Reconcile, v2.9.0 as v0.20.4).
    let finalizers = obj.metadata.finalizers.clone().unwrap_or_default();
    let has_finalizer = finalizers.iter().any(|f| f == FINALIZER);
    if obj.metadata.deletion_timestamp.is_some() {
        if has_finalizer {
            let rest: Vec<String> = finalizers.into_iter().filter(|f| f != FINALIZER).collect();
            if let Err(e) = set_finalizers(&api, name, rest).await {
                ctx.log(format!(
                    "error removing the finalizer of {namespace}/{name}: {e}"
                ));
                return Next::Backoff;
            }
        }
        return Next::Forget;
    }
    // ESO adds it with an Update of the whole object, which writes the
    // spec back as Go prints it (`refreshInterval: 1h` becomes `1h0m0s`,
    // a spec change: seen on ESO v0.20.4) and goes on with what the server
    // answered, so the sync that follows records the new generation.
    let obj = if has_finalizer {
        obj
    } else {
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
        if let Some((text, d)) =
            interval.and_then(|t| crate::util::parse_duration(t).map(|d| (t, d)))
        {
            let printed = crate::util::go_duration(d);
            if printed != text {
                expected.metadata.generation = expected.metadata.generation.map(|g| g + 1);
            }
            patch["spec"] = json!({ "refreshInterval": printed });
        }
        crate::controller::written_by_us(ctx, &expected);
        match api
            .patch(name, &Default::default(), &kube::api::Patch::Merge(patch))
            .await
        {
            Ok(updated) => {
                crate::controller::written_by_us(ctx, &updated);
                updated
            }
            Err(e) => {
                ctx.log(format!(
                    "error adding the finalizer of {namespace}/{name}: {e}"
                ));
                return Next::Backoff;
            }
        }
    };
    let es = match View::parse(&obj) {
        Ok(v) => v,
        Err(e) => {
            ctx.log(format!("ExternalSecret {namespace}/{name}: {e}"));
            return Next::Backoff;
        }
    };
    let secrets: Api<Secret> = Api::namespaced(ctx.kube.clone(), namespace);
    let target_name = es.target_name();
    let target = match secrets.get_opt(&target_name).await {
        Ok(t) => t,
        Err(e) => {
            ctx.log(format!(
                "error getting target Secret {namespace}/{target_name}: {e}"
            ));
            return Next::Backoff;
        }
    };
    let valid =
        es.spec.target.creation_policy == CreationPolicy::None || target_valid(target.as_ref());
    if !es.refresh_due(now) && valid {
        return es.next_refresh().map(Next::At).unwrap_or(Next::Idle);
    }
    let result = sync(ctx, &es, target, &secrets).await;
    ctx.metrics.sync_call(name, namespace, result.is_err());
    let refresh_time = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    match result {
        Ok((reason, message)) => {
            let cond = crate::secret_store::ready_condition(
                true,
                reason,
                message,
                &refresh_time,
                &es.status.conditions,
            );
            let status = json!({ "status": {
                "refreshTime": refresh_time,
                "syncedResourceVersion": es.current_resource_version(),
                "binding": { "name": target_name },
                "conditions": [cond],
            }});
            ctx.metrics.condition(name, namespace, true);
            if let Err(e) = api
                .patch_status(name, &PatchParams::default(), &Patch::Merge(status))
                .await
            {
                ctx.log(format!(
                    "error updating status of ExternalSecret {namespace}/{name}: {e}"
                ));
                return Next::Backoff;
            }
            ctx.log(format!(
                "reconciled ExternalSecret {namespace}/{name}: {message}"
            ));
            let mut synced = es;
            synced.status.refresh_time = Some(refresh_time);
            synced.next_refresh().map(Next::At).unwrap_or(Next::Idle)
        }
        Err(failure) => {
            let retry = !matches!(failure, Failure::Permanent(..));
            let (message, detail) = match failure {
                Failure::Provider(d) => (MSG_PROVIDER_ERROR, d),
                Failure::Update(d) => (MSG_UPDATE_ERROR, d),
                Failure::DeleteOrphaned(d) => (MSG_DELETE_ORPHANED_ERROR, d),
                Failure::Permanent(m, d) => (m, d),
            };
            let cond = crate::secret_store::ready_condition(
                false,
                REASON_SYNCED_ERROR,
                message,
                &refresh_time,
                &es.status.conditions,
            );
            ctx.metrics.condition(name, namespace, false);
            let _ = api
                .patch_status(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({ "status": { "conditions": [cond] } })),
                )
                .await;
            ctx.recorder
                .publish(&es.regarding(), EventType::Warning, "UpdateFailed", &detail)
                .await;
            ctx.log(format!(
                "error reconciling ExternalSecret {namespace}/{name}: {detail}"
            ));
            if retry { Next::Backoff } else { Next::Idle }
        }
    }
}

/// Whether the AWS call itself succeeded: a missing property is found after
/// a successful call, and ESO counts the call as a success.
fn api_call_succeeded<T>(result: &Result<T, ProviderError>) -> bool {
    !matches!(
        result,
        Err(ProviderError::NoSecret | ProviderError::Other(_))
    )
}

async fn store_for(ctx: &Context, es: &View) -> Result<StoreView, String> {
    let store_ref = es
        .spec
        .secret_store_ref
        .as_ref()
        .ok_or("spec.secretStoreRef is missing")?;
    let kind = store_ref.kind.unwrap_or_default();
    let (api, ns) = match kind {
        StoreKind::SecretStore => (
            Api::<DynamicObject>::namespaced_with(
                ctx.kube.clone(),
                &es.namespace,
                &crate::store_resource(kind),
            ),
            es.namespace.clone(),
        ),
        StoreKind::ClusterSecretStore => (
            Api::<DynamicObject>::all_with(ctx.kube.clone(), &crate::store_resource(kind)),
            String::new(),
        ),
    };
    let kind_name = match kind {
        StoreKind::SecretStore => "SecretStore",
        StoreKind::ClusterSecretStore => "ClusterSecretStore",
    };
    let obj = api
        .get_opt(&store_ref.name)
        .await
        .map_err(|e| format!("could not get {kind_name} \"{}\": {e}", store_ref.name))?
        .ok_or_else(|| {
            format!(
                "could not get {kind_name} \"{}\": not found (namespace \"{ns}\")",
                store_ref.name
            )
        })?;
    let json = serde_json::to_value(&obj).map_err(|e| e.to_string())?;
    if kind == StoreKind::ClusterSecretStore {
        allowed_here(ctx, &json, &store_ref.name, &es.namespace).await?;
    }
    let store = StoreView::from_json(kind, &json);
    if store.ready != Some(true) {
        return Err(format!("{kind_name} \"{}\" is not ready", store.name));
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
    let conditions: Vec<crate::types::ClusterSecretStoreCondition> = store
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
        let by_name = c.namespaces.iter().map(|n| crate::types::LabelSelector {
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

const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Fetches and writes; on success the Ready reason and message.
/// ESO's Ready reason and message when creationPolicy Merge finds no Secret.
const REASON_SECRET_MISSING: &str = "SecretMissing";
const MSG_SECRET_MISSING: &str = "secret will not be created due to CreationPolicy=Merge";

/// ESO's finalizer on the ExternalSecrets it reconciles.
async fn set_finalizers(
    api: &Api<DynamicObject>,
    name: &str,
    finalizers: Vec<String>,
) -> Result<DynamicObject, kube::Error> {
    api.patch(
        name,
        &Default::default(),
        &kube::api::Patch::Merge(json!({ "metadata": { "finalizers": finalizers } })),
    )
    .await
}

/// ESO's label naming, by hash, the ExternalSecret that owns a target.
pub const CREATED_BY_LABEL: &str = "reconcile.external-secrets.io/created-by";

pub const FINALIZER: &str = "externalsecrets.external-secrets.io/externalsecret-cleanup";

/// ESO's reason of the Normal event for a secret gone at the provider.
const REASON_MISSING_PROVIDER_SECRET: &str = "MissingProviderSecret";

/// ESO's Normal event for a secret gone at the provider, `entry` naming it.
async fn missing_provider_secret(ctx: &Context, es: &View, entry: String) {
    ctx.recorder
        .publish(
            &es.regarding(),
            EventType::Normal,
            REASON_MISSING_PROVIDER_SECRET,
            &format!("secret does not exist at provider using {entry}"),
        )
        .await;
}

async fn sync(
    ctx: &Context,
    es: &View,
    target: Option<Secret>,
    secrets: &Api<Secret>,
) -> Result<(&'static str, &'static str), Failure> {
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
        .map_err(|e| Failure::Provider(first_entry(e)))?;
    let provider = ctx
        .clients
        .provider(&store, &es.namespace)
        .await
        .map_err(|e| Failure::Provider(first_entry(e.0)))?;
    let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // A secret gone at the provider is skipped, with a Normal event, unless
    // deletionPolicy is Retain (then it is an error, as any other).
    let skip_missing = es.spec.target.deletion_policy != DeletionPolicy::Retain;
    // dataFrom first, then data: a key both write ends up as data's.
    for (i, d) in es.spec.data_from.iter().enumerate() {
        let Some(extract) = &d.extract else { continue };
        let result = provider.get_secret_map(extract).await;
        ctx.metrics
            .provider_call("GetSecretValue", api_call_succeeded(&result));
        match result {
            Ok(m) => data.extend(m),
            Err(ProviderError::NoSecret) if skip_missing => {
                missing_provider_secret(ctx, es, format!("spec.dataFrom[{i}]")).await;
            }
            Err(e) => {
                return Err(Failure::Provider(format!(
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
                // ESO's message says dataFrom here too (its constant).
                let entry = format!("spec.dataFrom[{i}] (key={})", d.remote_ref.key);
                missing_provider_secret(ctx, es, entry).await;
            }
            Err(e) => {
                return Err(Failure::Provider(format!(
                    "error processing spec.data[{i}] (key: {}), err: {e}",
                    d.remote_ref.key
                )));
            }
        }
    }
    if data.is_empty() {
        match es.spec.target.deletion_policy {
            DeletionPolicy::Delete => {
                if target.is_some() {
                    secrets
                        .delete(&es.target_name(), &Default::default())
                        .await
                        .map_err(|e| Failure::Update(format!("could not delete secret: {e}")))?;
                    ctx.recorder
                        .publish(&es.regarding(), EventType::Normal, "Deleted", MSG_DELETED)
                        .await;
                }
                return Ok((REASON_DELETED, MSG_DELETED));
            }
            DeletionPolicy::Retain => return Ok((REASON_SYNCED, MSG_RETAINED)),
            DeletionPolicy::Merge => {}
        }
    }
    // Merge into a Secret that is not there: ESO waits for the next
    // refresh, Ready with reason SecretMissing, no error and no event
    // (externalsecret_controller.go, CreatePolicyMerge, v2.9.0).
    if target.is_none() && es.spec.target.creation_policy == CreationPolicy::Merge {
        return Ok((REASON_SECRET_MISSING, MSG_SECRET_MISSING));
    }
    // An owner first deletes what it created under another name, e.g. the
    // old target of a renamed ExternalSecret (deleteOrphanedSecrets,
    // externalsecret_controller.go, v2.9.0 as v0.20.4).
    if es.spec.target.creation_policy == CreationPolicy::Owner {
        delete_orphaned_secrets(ctx, es, secrets).await?;
    }
    write_target(ctx, es, target, secrets, data).await?;
    Ok((REASON_SYNCED, MSG_SYNCED))
}

/// ESO's Ready message when deleting an orphaned target fails.
pub const MSG_DELETE_ORPHANED_ERROR: &str = "could not delete orphaned secrets";
/// ESO's Normal Deleted event for each orphaned target it deletes.
pub const MSG_DELETED_ORPHANED: &str = "secret deleted because it was orphaned";

/// The created-by label's value for an ExternalSecret: a hash of its
/// namespace/name, so that ESO finds every Secret it created for it.
pub fn created_by(namespace: &str, name: &str) -> String {
    util::data_hash(&BTreeMap::from([(
        "owner".to_owned(),
        format!("{namespace}/{name}").into_bytes(),
    )]))
}

/// Deletes every Secret of the namespace labelled as created by this
/// ExternalSecret but not named as its target now, with one event each.
async fn delete_orphaned_secrets(
    ctx: &Context,
    es: &View,
    secrets: &Api<Secret>,
) -> Result<(), Failure> {
    let target = es.target_name();
    let owner = created_by(&es.namespace, &es.name);
    if !ctx.created_by.others_than(&es.namespace, &owner, &target) {
        return Ok(());
    }
    let selector = format!("{CREATED_BY_LABEL}={owner}");
    let failed = |e: kube::Error| Failure::DeleteOrphaned(e.to_string());
    let listed = secrets
        .list(&kube::api::ListParams::default().labels(&selector))
        .await
        .map_err(failed)?;
    for s in listed.items {
        let Some(name) = s.metadata.name else {
            continue;
        };
        if name == target {
            continue;
        }
        match secrets.delete(&name, &Default::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(failed(e)),
        }
        // ESO emits it even when the Secret was gone already.
        ctx.recorder
            .publish(
                &es.regarding(),
                EventType::Normal,
                "Deleted",
                MSG_DELETED_ORPHANED,
            )
            .await;
        ctx.log(format!(
            "deleted orphaned Secret {}/{name} of ExternalSecret {}",
            es.namespace, es.name
        ));
    }
    Ok(())
}

async fn write_target(
    ctx: &Context,
    es: &View,
    target: Option<Secret>,
    secrets: &Api<Secret>,
    data: BTreeMap<String, Vec<u8>>,
) -> Result<(), Failure> {
    let policy = es.spec.target.creation_policy;
    if policy == CreationPolicy::None {
        return Ok(());
    }
    let name = es.target_name();
    let mut secret = match (target, policy) {
        (Some(t), _) => t,
        (None, CreationPolicy::Merge) => {
            return Err(Failure::Update(format!(
                "secret \"{name}\" not found: will not create it with creationPolicy=Merge"
            )));
        }
        (None, _) => Secret {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(es.namespace.clone()),
                ..Default::default()
            },
            ..Default::default()
        },
    };
    let created = secret.metadata.resource_version.is_none();
    let before_edit = (!created).then(|| secret.clone());
    // ESO's mutation refuses a target whose controller is another
    // ExternalSecret (by kind and name, whatever the policy), and, for
    // Owner, one another kind controls (SetControllerReference);
    // externalsecret_controller.go, v2.9.0 as v0.20.4. Neither is retried.
    let controller = secret
        .metadata
        .owner_references
        .as_ref()
        .and_then(|refs| refs.iter().find(|r| r.controller == Some(true)));
    if let Some(other) = controller {
        let is_es = other.kind == "ExternalSecret"
            && other.api_version.split('/').next() == Some("external-secrets.io");
        if is_es && other.name != es.name {
            return Err(Failure::Permanent(
                MSG_IS_OWNED_ERROR,
                format!(
                    "unable to mutate secret {name}: secret is owned by another ExternalSecret: {}",
                    other.name
                ),
            ));
        }
        if !is_es && policy == CreationPolicy::Owner {
            return Err(Failure::Permanent(
                MSG_BECOME_OWNER_ERROR,
                format!(
                    "unable to mutate secret {name}: could not set controller reference on secret: Object {}/{name} is already owned by another {} controller {}",
                    es.namespace, other.kind, other.name
                ),
            ));
        }
    }
    let old_data = secret_data(&secret);
    // An immutable target that exists keeps its data, labels and
    // annotations: ESO applies the template (which copies them) only to a
    // Secret it creates or may change (objectDoesNotExistOrCanBeMutated).
    let frozen = !created && es.spec.target.immutable;
    let mut new_data = if policy == CreationPolicy::Merge || frozen {
        old_data.clone()
    } else {
        BTreeMap::new()
    };
    if !frozen {
        new_data.extend(data);
    }
    // Without a template, the ExternalSecret's own labels and annotations are copied.
    let mut labels = secret.metadata.labels.clone().unwrap_or_default();
    let mut annotations = secret.metadata.annotations.clone().unwrap_or_default();
    if es.spec.target.template.is_none() && !frozen {
        labels.extend(es.labels.clone());
        annotations.extend(
            es.annotations
                .clone()
                .into_iter()
                .filter(|(k, _)| k != "kubectl.kubernetes.io/last-applied-configuration"),
        );
    }
    labels.insert(MANAGED_LABEL.into(), "true".into());
    annotations.insert(DATA_HASH_ANNOTATION.into(), util::data_hash(&new_data));
    secret.metadata.labels = Some(labels);
    secret.metadata.annotations = Some(annotations);
    // ESO labels a target it owns with a hash of its ExternalSecret's
    // namespace/name (LabelOwner), to find it again when the target is
    // renamed; the hash differs from ESO's (SHA3-224 of Go's %+v), the label
    // is there.
    {
        let labels = secret.metadata.labels.get_or_insert_with(Default::default);
        if policy == CreationPolicy::Owner {
            labels.insert(CREATED_BY_LABEL.into(), created_by(&es.namespace, &es.name));
        } else {
            labels.remove(CREATED_BY_LABEL);
        }
    }
    if policy == CreationPolicy::Owner {
        let owner = k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "external-secrets.io/v1".into(),
            kind: "ExternalSecret".into(),
            name: es.name.clone(),
            uid: es.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        };
        let mut refs = secret.metadata.owner_references.take().unwrap_or_default();
        refs.retain(|r| r.uid != es.uid);
        refs.push(owner);
        secret.metadata.owner_references = Some(refs);
    }
    let before = before_edit;
    secret.data = Some(
        new_data
            .into_iter()
            .map(|(k, v)| (k, ByteString(v)))
            .collect(),
    );
    secret.string_data = None;
    if es.spec.target.immutable {
        secret.immutable = Some(true);
    }
    // ESO updates, and emits Updated, whenever the Secret would change at
    // all, metadata included (updateSecret: DeepEqual of the whole object),
    // and writes nothing when it would not.
    let changed = before.as_ref() != Some(&secret);
    if !created && !changed {
        return Ok(());
    }
    // A Secret that is immutable already takes a change of its metadata
    // only: ESO writes that, then fails if its data or type would change
    // (updateSecret, v2.9.0 as v0.20.4).
    if let Some(before) = before.as_ref().filter(|b| b.immutable == Some(true)) {
        let mut only_metadata = before.clone();
        only_metadata.metadata = secret.metadata.clone();
        if only_metadata.metadata != before.metadata {
            let written = secrets
                .replace(&name, &eso_writes(), &only_metadata)
                .await
                .map_err(|e| Failure::Update(format!("unable to update secret {name}: {e}")))?;
            ctx.created_by.written(&written);
        }
        if only_metadata != secret {
            return Err(Failure::Permanent(
                MSG_IMMUTABLE_ERROR,
                format!("unable to update secret {name}: secret is immutable"),
            ));
        }
        return Ok(());
    }
    let write = if created {
        secrets.create(&eso_writes(), &secret).await
    } else {
        secrets.replace(&name, &eso_writes(), &secret).await
    };
    let written =
        write.map_err(|e| Failure::Update(format!("could not write target secret {name}: {e}")))?;
    ctx.created_by.written(&written);
    if created {
        ctx.recorder
            .publish(
                &es.regarding(),
                EventType::Normal,
                "Created",
                "secret created",
            )
            .await;
    } else {
        ctx.recorder
            .publish(
                &es.regarding(),
                EventType::Normal,
                "Updated",
                "secret updated",
            )
            .await;
    }
    Ok(())
}

/// Reads a status patch back into a typed status (for tests and the harness).
pub fn status_of(obj: &Value) -> ExternalSecretStatus {
    obj.get("status")
        .cloned()
        .and_then(|s| serde_json::from_value(s).ok())
        .unwrap_or_default()
}

/// How ESO writes a Secret: as the field manager `external-secrets`.
fn eso_writes() -> PostParams {
    PostParams {
        field_manager: Some("external-secrets".into()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(
        interval: &str,
        policy: Option<RefreshPolicy>,
        refresh_time: Option<&str>,
        synced: Option<&str>,
    ) -> View {
        let mut spec = ExternalSecretSpec {
            refresh_interval: Some(interval.into()),
            refresh_policy: policy,
            ..Default::default()
        };
        spec.target = ExternalSecretSpec::default().target;
        let mut v = View {
            namespace: "ns".into(),
            name: "es".into(),
            uid: "u".into(),
            resource_version: "1".into(),
            generation: 1,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            spec,
            status: ExternalSecretStatus::default(),
        };
        v.status.refresh_time = refresh_time.map(str::to_owned);
        v.status.synced_resource_version = synced.map(|s| {
            if s == "current" {
                v.current_resource_version()
            } else {
                s.to_owned()
            }
        });
        v
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn periodic_refresh_rules() {
        let now = at("2026-01-01T12:00:00Z");
        // 1. interval 0 and synced once: never, even when the metadata changed.
        assert!(!view("0s", None, Some("2026-01-01T00:00:00Z"), Some("1-stale")).refresh_due(now));
        // 2. the resource version differs (force-sync): due.
        assert!(view("1h", None, Some("2026-01-01T11:59:00Z"), Some("1-stale")).refresh_due(now));
        // 3. never refreshed, or refreshTime in the future: due.
        assert!(view("1h", None, None, Some("current")).refresh_due(now));
        assert!(view("1h", None, Some("2026-01-02T00:00:00Z"), Some("current")).refresh_due(now));
        // 4. refreshTime + interval passed: due; not yet: not due.
        assert!(view("1h", None, Some("2026-01-01T10:59:00Z"), Some("current")).refresh_due(now));
        assert!(!view("1h", None, Some("2026-01-01T11:30:00Z"), Some("current")).refresh_due(now));
        // The next refresh is at refreshTime + interval.
        assert_eq!(
            view("1h", None, Some("2026-01-01T11:30:00Z"), Some("current")).next_refresh(),
            Some(at("2026-01-01T12:30:00Z"))
        );
    }

    #[test]
    fn on_change_and_created_once() {
        let now = at("2026-01-01T12:00:00Z");
        assert!(view("1m", Some(RefreshPolicy::OnChange), None, None).refresh_due(now));
        assert!(
            !view(
                "1m",
                Some(RefreshPolicy::OnChange),
                Some("2026-01-01T00:00:00Z"),
                Some("current")
            )
            .refresh_due(now)
        );
        assert!(
            view(
                "1m",
                Some(RefreshPolicy::OnChange),
                Some("2026-01-01T00:00:00Z"),
                Some("1-stale")
            )
            .refresh_due(now)
        );
        assert!(view("1m", Some(RefreshPolicy::CreatedOnce), None, None).refresh_due(now));
        assert!(
            !view(
                "1m",
                Some(RefreshPolicy::CreatedOnce),
                Some("2026-01-01T00:00:00Z"),
                Some("1-stale")
            )
            .refresh_due(now)
        );
    }
}
