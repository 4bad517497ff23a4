//! What a scenario may change on a live system (`--env existing`, kind,
//! binaries), recorded before it runs and put back after it, whatever its
//! outcome: the namespace, its Secrets, ServiceAccounts, ConfigMaps,
//! SecretStores and ExternalSecrets as they were (objects the scenario made
//! deleted, objects it deleted or changed recreated or replaced), and the
//! runbook's secrets in Secrets Manager holding the values they held.
//! Secrets that ESO writes (owned by an ExternalSecret) are not written back
//! by hand: ESO rewrites them from what was put back, and the restore waits
//! until each holds what it held before.
//!
//! Values stay in memory; what is said about them names objects and keys,
//! never values.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use serde_json::{Value, json};

use super::environment::Environment;
use crate::system::NAMESPACE;

/// The kinds recorded, in the order they are put back (credentials before
/// the store that reads them, the store before what syncs through it).
fn kinds() -> Vec<ApiResource> {
    let core = |kind: &str, plural: &str| ApiResource {
        group: String::new(),
        version: "v1".into(),
        api_version: "v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    };
    let eso = |kind: &str, plural: &str| ApiResource {
        group: "external-secrets.io".into(),
        version: "v1".into(),
        api_version: "external-secrets.io/v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    };
    vec![
        core("ServiceAccount", "serviceaccounts"),
        core("ConfigMap", "configmaps"),
        core("Secret", "secrets"),
        eso("SecretStore", "secretstores"),
        eso("ExternalSecret", "externalsecrets"),
    ]
}

/// Places in [`kinds`].
const SECRET: usize = 2;
const EXTERNAL_SECRET: usize = 4;

/// Objects the cluster itself keeps in every namespace.
fn cluster_owned(kind: &str, name: &str) -> bool {
    matches!(
        (kind, name),
        ("ServiceAccount", "default") | ("ConfigMap", "kube-root-ca.crt")
    )
}

/// An object as a restore compares and recreates it: what its owner wrote,
/// without what the server or a controller keeps (uid, versions, times,
/// managed fields, status, finalizers).
fn content(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(m) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "managedFields",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "finalizers",
        ] {
            m.remove(k);
        }
    }
    if let Some(o) = out.as_object_mut() {
        o.remove("status");
    }
    out
}

/// Whether an object is as recorded. Written back, an object is its
/// recorded content exactly; compared, no labels and an empty map of them
/// are the same (a client may write either).
fn same(a: &Value, b: &Value) -> bool {
    fn loose(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.retain(|_, x| {
                !(x.is_null()
                    || x.as_object().is_some_and(|o| o.is_empty())
                    || x.as_array().is_some_and(|a| a.is_empty()))
            });
        }
        v
    }
    loose(a) == loose(b)
}

/// A Secret ESO writes: one an ExternalSecret controls.
fn written_by_eso(obj: &Value) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r["kind"] == "ExternalSecret"))
}

/// What a Secret ESO writes must hold again: its type and data.
fn target_content(obj: &Value) -> Value {
    json!({ "type": obj["type"], "data": obj.get("data").cloned().unwrap_or(json!({})) })
}

fn name_of(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The annotation the restore sets on an ExternalSecret, and removes, to
/// have ESO rewrite its Secret from what was put back.
const NUDGE: &str = "opssight-harness/restore";

#[derive(Debug, Clone)]
pub struct LiveState {
    /// The namespace's own content, `None` when it did not exist.
    namespace: Option<Value>,
    /// (kind index, name) → content, for what the harness puts back itself.
    objects: BTreeMap<(usize, String), Value>,
    /// Secrets ESO writes: name → type and data.
    targets: BTreeMap<String, Value>,
    /// The runbook's secrets in Secrets Manager: name → SecretString.
    remote: BTreeMap<String, String>,
}

/// What a restore did, in words that name objects, never values.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Restored {
    pub actions: Vec<String>,
}

impl Restored {
    pub fn summary(&self) -> String {
        if self.actions.is_empty() {
            "nothing had changed".into()
        } else {
            self.actions.join("; ")
        }
    }
}

impl LiveState {
    /// Records the namespace, its objects and the runbook's remote secrets.
    pub async fn take(env: &dyn Environment) -> anyhow::Result<Self> {
        let client = env.kube();
        let namespace = Api::<DynamicObject>::all_with(client.clone(), &namespace_resource())
            .get_opt(NAMESPACE)
            .await
            .with_context(|| format!("reading the namespace {NAMESPACE}"))?
            .map(|n| serde_json::to_value(n).map(|v| content(&v)))
            .transpose()?;
        let mut objects = BTreeMap::new();
        let mut targets = BTreeMap::new();
        if namespace.is_some() {
            for (i, ar) in kinds().iter().enumerate() {
                for obj in list(&client, ar).await? {
                    let name = name_of(&obj);
                    if cluster_owned(&ar.kind, &name) {
                        continue;
                    }
                    if ar.kind == "Secret" && written_by_eso(&obj) {
                        targets.insert(name, target_content(&obj));
                    } else {
                        objects.insert((i, name), content(&obj));
                    }
                }
            }
        }
        let sm = env.secrets_manager();
        let mut remote = BTreeMap::new();
        for name in env.seed().secrets.keys() {
            match sm.get_secret_value().secret_id(name).send().await {
                Ok(out) => {
                    if let Some(s) = out.secret_string() {
                        remote.insert(name.clone(), s.to_owned());
                    }
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e.into_service_error()))
                        .with_context(|| format!("reading {name} before the scenario"));
                }
            }
        }
        Ok(Self {
            namespace,
            objects,
            targets,
            remote,
        })
    }

    /// Puts back what the scenario changed and waits (up to `patience`)
    /// until everything is as recorded; an error says what is not.
    pub async fn restore(&self, env: &dyn Environment) -> anyhow::Result<Restored> {
        let mut done = Restored::default();
        let client = env.kube();
        let patience = env.patience().max(Duration::from_secs(30));
        self.restore_remote(env, &mut done).await?;
        if let Some(ns) = &self.namespace {
            self.restore_namespace(&client, ns, patience, &mut done)
                .await?;
        }
        let kinds = kinds();
        for (i, ar) in kinds.iter().enumerate() {
            let api = Api::<DynamicObject>::namespaced_with(client.clone(), NAMESPACE, ar);
            let now: BTreeMap<String, Value> = list(&client, ar)
                .await?
                .into_iter()
                .map(|o| (name_of(&o), o))
                .collect();
            for (name, obj) in &now {
                let recorded = self.objects.contains_key(&(i, name.clone()));
                let extra = !recorded
                    && !cluster_owned(&ar.kind, name)
                    && !(ar.kind == "Secret"
                        && (written_by_eso(obj) || self.targets.contains_key(name)));
                if extra {
                    api.delete(name, &DeleteParams::background())
                        .await
                        .with_context(|| {
                            format!("deleting {} {name}, made by the scenario", ar.kind)
                        })?;
                    done.actions.push(format!(
                        "deleted {} {name}, which the scenario made",
                        ar.kind
                    ));
                }
            }
            for ((_, name), want) in self.objects.iter().filter(|((k, _), _)| *k == i) {
                match now.get(name) {
                    None => {
                        let obj: DynamicObject = serde_json::from_value(want.clone())?;
                        api.create(&PostParams::default(), &obj)
                            .await
                            .with_context(|| format!("recreating {} {name}", ar.kind))?;
                        done.actions.push(format!("recreated {} {name}", ar.kind));
                    }
                    Some(current) if content(current) != *want => {
                        // Exactly as recorded, even where only an empty
                        // map differs.
                        replace_as_recorded(&api, name, want, patience)
                            .await
                            .with_context(|| format!("putting back {} {name}", ar.kind))?;
                        if !same(&content(current), want) {
                            done.actions
                                .push(format!("put back {} {name} as it was", ar.kind));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        self.restore_targets(&client, patience, &mut done).await?;
        let left = self.differences(env).await?;
        anyhow::ensure!(
            left.is_empty(),
            "after putting back what the scenario changed, still different: {}",
            left.join("; ")
        );
        Ok(done)
    }

    async fn restore_remote(
        &self,
        env: &dyn Environment,
        done: &mut Restored,
    ) -> anyhow::Result<()> {
        let sm = env.secrets_manager();
        for (name, want) in &self.remote {
            let described = sm.describe_secret().secret_id(name).send().await;
            match described {
                Ok(d) if d.deleted_date().is_some() => {
                    sm.restore_secret()
                        .secret_id(name)
                        .send()
                        .await
                        .map_err(|e| anyhow::Error::new(e.into_service_error()))
                        .with_context(|| {
                            format!("restoring {name}, scheduled for deletion by the scenario")
                        })?;
                    done.actions
                        .push(format!("restored {name} from its deletion"));
                }
                Ok(_) => {}
                Err(e) => {
                    let e = e.into_service_error();
                    if e.is_resource_not_found_exception() {
                        sm.create_secret()
                            .name(name)
                            .secret_string(want)
                            .send()
                            .await
                            .map_err(|e| anyhow::Error::new(e.into_service_error()))
                            .with_context(|| format!("recreating {name}"))?;
                        done.actions.push(format!("recreated {name}"));
                        continue;
                    }
                    return Err(anyhow::Error::new(e))
                        .with_context(|| format!("describing {name}"));
                }
            }
            let current = sm
                .get_secret_value()
                .secret_id(name)
                .send()
                .await
                .map_err(|e| anyhow::Error::new(e.into_service_error()))
                .with_context(|| format!("reading {name}"))?;
            if current.secret_string() != Some(want.as_str()) {
                sm.put_secret_value()
                    .secret_id(name)
                    .secret_string(want)
                    .send()
                    .await
                    .map_err(|e| anyhow::Error::new(e.into_service_error()))
                    .with_context(|| format!("putting back the value of {name}"))?;
                done.actions.push(format!("put back the value of {name}"));
            }
        }
        Ok(())
    }

    async fn restore_namespace(
        &self,
        client: &kube::Client,
        ns: &Value,
        patience: Duration,
        done: &mut Restored,
    ) -> anyhow::Result<()> {
        let api = Api::<DynamicObject>::all_with(client.clone(), &namespace_resource());
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match api.get_opt(NAMESPACE).await? {
                Some(n) if n.metadata.deletion_timestamp.is_none() => return Ok(()),
                Some(_) => {
                    // Terminating: it must be gone before it can be made again.
                    anyhow::ensure!(
                        tokio::time::Instant::now() < deadline,
                        "the namespace {NAMESPACE} was still terminating after {patience:?}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                None => {
                    let obj: DynamicObject = serde_json::from_value(ns.clone())?;
                    api.create(&PostParams::default(), &obj)
                        .await
                        .with_context(|| format!("recreating the namespace {NAMESPACE}"))?;
                    done.actions
                        .push(format!("recreated the namespace {NAMESPACE}"));
                    return Ok(());
                }
            }
        }
    }

    /// Waits for ESO to write each of its Secrets as it was, nudging an
    /// ExternalSecret whose Secret differs (an annotation set, then
    /// removed, so the ExternalSecret itself ends as recorded).
    async fn restore_targets(
        &self,
        client: &kube::Client,
        patience: Duration,
        done: &mut Restored,
    ) -> anyhow::Result<()> {
        let secrets =
            Api::<DynamicObject>::namespaced_with(client.clone(), NAMESPACE, &kinds()[SECRET]);
        let es_resource = kinds()[EXTERNAL_SECRET].clone();
        let ess = Api::<DynamicObject>::namespaced_with(client.clone(), NAMESPACE, &es_resource);
        let differing = |now: &Option<DynamicObject>, want: &Value| {
            now.as_ref()
                .and_then(|o| serde_json::to_value(o).ok())
                .is_none_or(|o| target_content(&o) != *want)
        };
        let mut nudged = BTreeSet::new();
        for (name, want) in &self.targets {
            if !differing(&secrets.get_opt(name).await?, want) {
                continue;
            }
            // The ExternalSecret that wrote it, by the owner reference ESO
            // sets (named after its target in the runbook's manifests).
            let owner = ess
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .find(|es| {
                    es.data
                        .pointer("/spec/target/name")
                        .and_then(Value::as_str)
                        .unwrap_or(es.metadata.name.as_deref().unwrap_or_default())
                        == name
                });
            if let Some(es) = owner.and_then(|es| es.metadata.name) {
                let stamp = format!("{}", jiff::Timestamp::now().as_millisecond());
                ess.patch(
                    &es,
                    &kube::api::PatchParams::default(),
                    &kube::api::Patch::Merge(
                        json!({ "metadata": { "annotations": { NUDGE: stamp } } }),
                    ),
                )
                .await
                .with_context(|| format!("asking ESO to rewrite {name} (through {es})"))?;
                nudged.insert(es);
            }
            let deadline = tokio::time::Instant::now() + patience;
            while differing(&secrets.get_opt(name).await?, want) {
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "ESO did not write the Secret {name} as it was within {patience:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            done.actions.push(format!("ESO wrote {name} as it was"));
        }
        // The nudge goes: each ExternalSecret nudged is written back
        // exactly as recorded (an annotation removed can leave an empty
        // map where there was none).
        for es in nudged {
            let Some(want) = self.objects.get(&(EXTERNAL_SECRET, es.clone())) else {
                continue;
            };
            replace_as_recorded(&ess, &es, want, patience)
                .await
                .with_context(|| format!("removing {NUDGE} from {es}"))?;
        }
        Ok(())
    }

    /// What differs now from what was recorded: object and field names,
    /// key names, never values.
    pub async fn differences(&self, env: &dyn Environment) -> anyhow::Result<Vec<String>> {
        let client = env.kube();
        let mut out = Vec::new();
        let ns_now = Api::<DynamicObject>::all_with(client.clone(), &namespace_resource())
            .get_opt(NAMESPACE)
            .await?;
        match (&self.namespace, ns_now) {
            (Some(_), None) => out.push(format!("the namespace {NAMESPACE} is gone")),
            (None, Some(_)) => out.push(format!("the namespace {NAMESPACE} was made")),
            _ => {}
        }
        for (i, ar) in kinds().iter().enumerate() {
            let now: BTreeMap<String, Value> = list(&client, ar)
                .await?
                .into_iter()
                .map(|o| (name_of(&o), o))
                .collect();
            for ((k, name), want) in &self.objects {
                if *k != i {
                    continue;
                }
                match now.get(name) {
                    None => out.push(format!("{} {name} is gone", ar.kind)),
                    Some(current) if !same(&content(current), want) => {
                        out.push(format!(
                            "{} {name} differs in {}",
                            ar.kind,
                            differing_fields(want, &content(current)).join(", ")
                        ));
                    }
                    Some(_) => {}
                }
            }
            if ar.kind == "Secret" {
                for (name, want) in &self.targets {
                    match now.get(name) {
                        None => out.push(format!("Secret {name} (ESO's) is gone")),
                        Some(current) if target_content(current) != *want => out.push(format!(
                            "Secret {name} (ESO's) differs in {}",
                            differing_fields(want, &target_content(current)).join(", ")
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
        let sm = env.secrets_manager();
        for (name, want) in &self.remote {
            let now = sm.get_secret_value().secret_id(name).send().await.ok();
            if now.as_ref().and_then(|o| o.secret_string()) != Some(want.as_str()) {
                out.push(format!("{name} does not hold the value it held"));
            }
        }
        Ok(out)
    }
}

/// The top-level and data fields where two contents differ (data keys by
/// name only).
fn differing_fields(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let keys: BTreeSet<&String> = a
        .as_object()
        .into_iter()
        .chain(b.as_object())
        .flat_map(|m| m.keys())
        .collect();
    for k in keys {
        if a.get(k) == b.get(k) {
            continue;
        }
        if matches!(k.as_str(), "data" | "stringData")
            && let (Some(x), Some(y)) = (a[k].as_object(), b[k].as_object())
        {
            let names: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for n in names.into_iter().filter(|n| x.get(*n) != y.get(*n)) {
                out.push(format!("{k}.{n}"));
            }
        } else {
            out.push(k.clone());
        }
    }
    out
}

/// Replaces `name` with `want` exactly, but for what controllers keep
/// (finalizers; status is a subresource). A controller's write in between
/// (ESO updating the status of what it was just asked to rewrite) moves
/// the resourceVersion and makes the replace a conflict: read again and
/// retried until `patience` has passed.
async fn replace_as_recorded(
    api: &Api<DynamicObject>,
    name: &str,
    want: &Value,
    patience: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let current = api.get(name).await?;
        let mut obj = want.clone();
        obj["metadata"]["resourceVersion"] = json!(current.metadata.resource_version);
        if let Some(f) = current.metadata.finalizers {
            obj["metadata"]["finalizers"] = json!(f);
        }
        let obj: DynamicObject = serde_json::from_value(obj)?;
        match api.replace(name, &PostParams::default(), &obj).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(e)) if e.code == 409 && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn namespace_resource() -> ApiResource {
    ApiResource {
        group: String::new(),
        version: "v1".into(),
        api_version: "v1".into(),
        kind: "Namespace".into(),
        plural: "namespaces".into(),
    }
}

async fn list(client: &kube::Client, ar: &ApiResource) -> anyhow::Result<Vec<Value>> {
    let api = Api::<DynamicObject>::namespaced_with(client.clone(), NAMESPACE, ar);
    match api.list(&ListParams::default()).await {
        Ok(l) => l
            .items
            .into_iter()
            .map(|o| {
                let mut v = serde_json::to_value(o)?;
                // A typed list's items carry no apiVersion and kind.
                v["apiVersion"] = json!(ar.api_version);
                v["kind"] = json!(ar.kind);
                Ok(v)
            })
            .collect(),
        // A namespace being made again has nothing yet.
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("listing {} in {NAMESPACE}", ar.plural)),
    }
}

/// A live system's record while its scenario runs, put back by the
/// runner's after hook or, when a signal stops the run midway, by
/// [`put_back_pending`] before the harness exits.
pub struct Pending {
    id: u64,
    shared: Arc<Shared>,
}

struct Shared {
    state: LiveState,
    env: Arc<dyn Environment>,
    /// Set by the step that makes Secrets Manager unreachable (before it
    /// does, so that a step failing halfway is undone too).
    secrets_manager_down: AtomicBool,
}

static NEXT_PENDING: AtomicU64 = AtomicU64::new(0);
static PENDING: Mutex<Vec<(u64, Arc<Shared>)>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<(u64, Arc<Shared>)>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pending {
    /// Records the live system now; until dropped, a signal puts it back.
    pub async fn record(env: Arc<dyn Environment>) -> anyhow::Result<Self> {
        let state = LiveState::take(env.as_ref()).await?;
        let shared = Arc::new(Shared {
            state,
            env,
            secrets_manager_down: AtomicBool::new(false),
        });
        let id = NEXT_PENDING.fetch_add(1, Ordering::Relaxed);
        pending().push((id, shared.clone()));
        Ok(Self { id, shared })
    }

    pub fn set_secrets_manager_down(&self, down: bool) {
        self.shared
            .secrets_manager_down
            .store(down, Ordering::SeqCst);
    }

    /// Puts the system back as recorded.
    pub async fn put_back(&self) -> anyhow::Result<Restored> {
        self.shared.put_back().await
    }

    pub fn state(&self) -> &LiveState {
        &self.shared.state
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        pending().retain(|(id, _)| *id != self.id);
    }
}

impl Shared {
    async fn put_back(&self) -> anyhow::Result<Restored> {
        let env = self.env.as_ref();
        // What a scenario may have stopped must run for ESO to rewrite its
        // Secrets.
        if self.secrets_manager_down.load(Ordering::SeqCst) {
            let outage = env.outage().ok_or_else(|| {
                anyhow::anyhow!("{} cannot make Secrets Manager reachable again", env.name())
            })?;
            outage.set_reachable(true).await?;
        }
        // Faults a scenario injected in the aws-emulator (a region down) are
        // part of what it changed.
        if let Some(regions) = env.regions() {
            regions.clear_faults();
        }
        if !env.controller_running() {
            env.start_controller().await?;
        }
        self.state.restore(env).await
    }
}

/// On a signal: puts back every live system whose scenario was still
/// running, within `deadline`, saying what it did or could not do (names
/// only). The scenario's steps may still be running beside it, so what was
/// put back is checked once more afterwards.
pub async fn put_back_pending(deadline: Duration) {
    let running: Vec<Arc<Shared>> = pending().drain(..).map(|(_, s)| s).collect();
    for shared in running {
        let done = tokio::time::timeout(deadline, async {
            let restored = shared.put_back().await?;
            let left = shared.state.differences(shared.env.as_ref()).await?;
            anyhow::Ok((restored, left))
        })
        .await;
        let said = match done {
            Ok(Ok((restored, left))) if left.is_empty() => {
                format!(
                    "put back the interrupted scenario's changes: {}",
                    restored.summary()
                )
            }
            Ok(Ok((_, left))) => format!(
                "NOT PUT BACK after the interrupted scenario: {}",
                left.join("; ")
            ),
            Ok(Err(e)) => format!("NOT PUT BACK after the interrupted scenario: {e:#}"),
            Err(_) => {
                format!("NOT PUT BACK after the interrupted scenario: not done within {deadline:?}")
            }
        };
        eprintln!("{}", crate::secret_data::redact::text(&said));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_keeps_what_an_owner_wrote_and_drops_what_the_server_keeps() {
        let obj = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "aws-secret", "namespace": "n", "uid": "u", "resourceVersion": "9",
                          "creationTimestamp": "t", "managedFields": [], "labels": {"a": "b"}, "finalizers": ["x"]},
            "data": {"k": "dg=="}, "status": {"x": 1}
        });
        let c = content(&obj);
        assert_eq!(
            c,
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "aws-secret", "namespace": "n", "labels": {"a": "b"}},
                   "data": {"k": "dg=="}})
        );
    }

    #[test]
    fn differences_name_keys_never_values() {
        let a = json!({"data": {"access-key-id": "QUtJQQ==", "secret-access-key": "c2VjcmV0"}, "type": "Opaque"});
        let b = json!({"data": {"access-key-id": "QUtJQQ=="}, "type": "Opaque"});
        let d = differing_fields(&a, &b);
        assert_eq!(d, ["data.secret-access-key"]);
        assert!(!d.iter().any(|x| x.contains("c2VjcmV0")));
    }

    #[test]
    fn a_secret_eso_writes_is_told_by_its_owner() {
        let owned =
            json!({"metadata": {"ownerReferences": [{"kind": "ExternalSecret", "name": "x"}]}});
        let own = json!({"metadata": {"name": "aws-secret"}});
        assert!(written_by_eso(&owned));
        assert!(!written_by_eso(&own));
    }
}
