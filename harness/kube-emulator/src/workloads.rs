//! What kube-controller-manager, the scheduler and a kubelet do for
//! Deployments, where no node runs containers: the deployment controller
//! keeps one ReplicaSet per pod template at the Deployment's replicas (older
//! templates' at 0), the replicaset controller keeps that many Pods, every
//! Pod is bound to the one node `kube-emulator` when created, and the
//! kubelet part starts and stops Pods through the embedder's [`PodRunner`]
//! for their Deployment (a Pod no runner claims runs at once, doing
//! nothing). Status (`READY 1/1`, `0/0` once scaled to 0) and the
//! controllers' Events follow from that, as on a real cluster.
//!
//! Everything under the API lock here is synchronous; starting and stopping
//! a Pod is queued as an [`Action`] and run outside it (`run_action`), so a
//! runner can take its time and call the API.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

use crate::api::{Api, Query};
use crate::kinds::ResourceType;
use crate::metadata::{
    finalizers, is_deleting, meta_str, namespace_and_name, now_rfc3339, rfc3339,
};

/// The node every Pod is bound to.
pub(crate) const NODE: &str = "kube-emulator";
/// The label the deployment controller adds to a template's ReplicaSet and Pods.
const TEMPLATE_HASH: &str = "pod-template-hash";

/// A Pod as its runner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRef {
    /// The Pod's namespace.
    pub namespace: String,
    /// Its name (`DEPLOYMENT-HASH-xxxxx`).
    pub name: String,
    /// Its uid: a Pod deleted and made again under one name is another Pod.
    pub uid: String,
    /// The Deployment that owns it through its ReplicaSet.
    pub deployment: Option<String>,
}

/// A container's log: what it has written and, to follow it, what it
/// writes from now on (closed when it stops).
pub struct PodLog {
    /// The lines written so far, oldest first.
    pub lines: Vec<String>,
    /// The lines written from now on, for `kubectl logs -f`; None when the
    /// container writes no more.
    pub follow: Option<broadcast::Receiver<String>>,
}

/// What stands in for the containers of a Deployment's Pods: the embedder
/// runs something (an in-process controller, say) while they run.
pub trait PodRunner: Send + Sync {
    /// The Pod was scheduled: start it. Resolves once it runs (the Pod is
    /// then Ready) or with why it could not start (the Pod fails).
    fn start(&self, pod: &PodRef) -> BoxFuture<'static, Result<(), String>>;
    /// The Pod is being deleted: stop it. Resolves once it has stopped (the
    /// Pod is then gone).
    fn stop(&self, pod: &PodRef) -> BoxFuture<'static, ()>;
    /// Its container's log.
    fn log(&self, pod: &PodRef) -> PodLog;
}

/// The runners, by (namespace, Deployment).
#[derive(Default)]
pub(crate) struct Runners(Mutex<HashMap<(String, String), Arc<dyn PodRunner>>>);

impl Runners {
    pub(crate) fn set(&self, namespace: &str, deployment: &str, runner: Arc<dyn PodRunner>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((namespace.to_owned(), deployment.to_owned()), runner);
    }

    pub(crate) fn of(&self, pod: &PodRef) -> Option<Arc<dyn PodRunner>> {
        let deployment = pod.deployment.as_ref()?;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(pod.namespace.clone(), deployment.clone()))
            .cloned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Start(PodRef),
    Stop(PodRef),
}

/// The kubelet's bookkeeping: Pods whose start or stop is under way (by
/// uid), and what is still to be run.
#[derive(Debug, Default)]
pub(crate) struct State {
    starting: HashSet<String>,
    stopping: HashSet<String>,
    pub actions: Vec<Action>,
    next_ip: u32,
}

fn rt_of(api: &Api, group: &str, plural: &str) -> Option<Arc<ResourceType>> {
    let version = "v1";
    api.catalogue.find(group, version, plural)
}

fn owner_ref(kind: &str, api_version: &str, obj: &Value) -> Value {
    json!({
        "apiVersion": api_version, "kind": kind,
        "name": meta_str(obj, "name").unwrap_or_default(),
        "uid": meta_str(obj, "uid").unwrap_or_default(),
        "controller": true, "blockOwnerDeletion": true,
    })
}

/// The uid of the object's controller (its owner reference with
/// `controller: true`) of `kind`.
fn controller_uid<'a>(obj: &'a Value, kind: &str) -> Option<&'a str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| {
            r.get("controller").and_then(Value::as_bool) == Some(true)
                && r.get("kind").and_then(Value::as_str) == Some(kind)
        })
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
}

/// The pod-template-hash of a template: a hash of it in the letters the
/// real controller uses (`rand.SafeEncodeString` of a decimal number).
pub(crate) fn template_hash(template: &Value) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digest = Sha256::digest(serde_json::to_vec(template).unwrap_or_default());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    n.to_string()
        .bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

fn with_label(labels: Option<&Value>, key: &str, value: &str) -> Value {
    let mut l = labels.cloned().unwrap_or_else(|| json!({}));
    if !l.is_object() {
        l = json!({});
    }
    l[key] = json!(value);
    l
}

/// Status fields a Go struct omits when zero (`omitempty`).
fn without_zeros(mut status: Value) -> Value {
    if let Value::Object(m) = &mut status {
        m.retain(|_, v| v.as_i64() != Some(0));
    }
    status
}

impl Api {
    /// One pass of the deployment and replicaset controllers and the
    /// kubelet. Returns whether anything changed.
    pub(crate) fn reconcile_workloads(&mut self) -> bool {
        let (Some(deployments), Some(replicasets), Some(pods)) = (
            rt_of(self, "apps", "deployments"),
            rt_of(self, "apps", "replicasets"),
            rt_of(self, "", "pods"),
        ) else {
            return false;
        };
        let mut changed = false;
        for d in self.store.list(&deployments.key(), None) {
            if !is_deleting(&d) {
                changed |= self.reconcile_deployment(&deployments, &replicasets, &d);
            }
        }
        for rs in self.store.list(&replicasets.key(), None) {
            if !is_deleting(&rs) {
                changed |= self.reconcile_replicaset(&replicasets, &pods, &rs);
            }
        }
        changed |= self.run_kubelet(&pods);
        changed
    }

    /// The objects of `children` in `owner`'s namespace whose controller
    /// is `owner` (of kind `owner_kind`).
    fn controlled_by(
        &self,
        children: &ResourceType,
        owner_kind: &str,
        owner: &Value,
    ) -> Vec<Arc<Value>> {
        let uid = meta_str(owner, "uid").unwrap_or_default();
        let ns = meta_str(owner, "namespace").unwrap_or_default();
        self.store
            .list(&children.key(), Some(ns))
            .into_iter()
            .filter(|child| controller_uid(child, owner_kind) == Some(uid))
            .collect()
    }

    fn reconcile_deployment(
        &mut self,
        deployments: &Arc<ResourceType>,
        replicasets: &Arc<ResourceType>,
        d: &Arc<Value>,
    ) -> bool {
        let (ns, name) = namespace_and_name(d);
        let desired = crate::printers::desired(d);
        let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let hash = template_hash(&template);
        let rs_name = format!("{name}-{hash}");
        let owned = self.controlled_by(replicasets, "Deployment", d);
        let mut changed = false;
        let current = owned
            .iter()
            .find(|rs| meta_str(rs, "name") == Some(rs_name.as_str()))
            .cloned();
        match current {
            None => {
                let mut template = template.clone();
                template["metadata"]["labels"] =
                    with_label(template.pointer("/metadata/labels"), TEMPLATE_HASH, &hash);
                let selector = with_label(
                    d.pointer("/spec/selector/matchLabels"),
                    TEMPLATE_HASH,
                    &hash,
                );
                let revision = owned.len() + 1;
                let rs = json!({
                    "metadata": {
                        "name": rs_name, "namespace": ns,
                        "labels": template["metadata"]["labels"],
                        "annotations": {
                            "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                            "deployment.kubernetes.io/max-replicas": (desired + 1).to_string(),
                            "deployment.kubernetes.io/revision": revision.to_string(),
                        },
                        "ownerReferences": [owner_ref("Deployment", "apps/v1", d)],
                    },
                    "spec": { "replicas": desired, "selector": { "matchLabels": selector }, "template": template },
                });
                if self
                    .create(replicasets, Some(&ns), rs, &Query::new())
                    .is_ok()
                {
                    self.record_event(
                        d,
                        "Deployment",
                        "apps/v1",
                        "ScalingReplicaSet",
                        &format!("Scaled up replica set {rs_name} from 0 to {desired}"),
                        "deployment-controller",
                    );
                    changed = true;
                }
            }
            Some(rs) => changed |= self.scale_replicaset(replicasets, d, &rs, desired),
        }
        // A new template replaces the old ones' Pods (as Recreate does).
        for old in owned
            .iter()
            .filter(|rs| meta_str(rs, "name") != Some(rs_name.as_str()))
        {
            changed |= self.scale_replicaset(replicasets, d, old, 0);
        }
        // The status, from the ReplicaSets' (re-read: this pass changed them).
        let sum = |field: &str, only_current: bool| -> i64 {
            self.controlled_by(replicasets, "Deployment", d)
                .iter()
                .filter(|rs| !only_current || meta_str(rs, "name") == Some(rs_name.as_str()))
                .map(|rs| {
                    rs.pointer(&format!("/status/{field}"))
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                })
                .sum()
        };
        let replicas = sum("replicas", false);
        let updated = sum("replicas", true);
        let ready = sum("readyReplicas", false);
        let available = sum("availableReplicas", false);
        let max_unavailable = desired / 4;
        let is_available = available >= desired - max_unavailable;
        let old_conditions = d
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let now = now_rfc3339(&self.clock);
        let condition = |type_: &str, ok: bool, reason: &str, message: String| {
            let status = if ok { "True" } else { "False" };
            let before = old_conditions
                .iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(type_));
            let same = before.is_some_and(|c| {
                c.get("status").and_then(Value::as_str) == Some(status)
                    && c.get("reason").and_then(Value::as_str) == Some(reason)
            });
            let (updated_at, transitioned_at) = match before {
                Some(c) if same => (
                    c.get("lastUpdateTime").cloned().unwrap_or(json!(now)),
                    c.get("lastTransitionTime").cloned().unwrap_or(json!(now)),
                ),
                Some(c) if c.get("status").and_then(Value::as_str) == Some(status) => (
                    json!(now),
                    c.get("lastTransitionTime").cloned().unwrap_or(json!(now)),
                ),
                _ => (json!(now), json!(now)),
            };
            json!({ "type": type_, "status": status, "lastUpdateTime": updated_at,
                    "lastTransitionTime": transitioned_at, "reason": reason, "message": message })
        };
        let conditions = vec![
            if is_available {
                condition(
                    "Available",
                    true,
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.".into(),
                )
            } else {
                condition(
                    "Available",
                    false,
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.".into(),
                )
            },
            if updated >= desired && available >= desired {
                condition(
                    "Progressing",
                    true,
                    "NewReplicaSetAvailable",
                    format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                )
            } else {
                condition(
                    "Progressing",
                    true,
                    "ReplicaSetUpdated",
                    format!("ReplicaSet \"{rs_name}\" is progressing."),
                )
            },
        ];
        let mut status = without_zeros(json!({
            "observedGeneration": d.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1),
            "replicas": replicas, "updatedReplicas": updated, "readyReplicas": ready,
            "availableReplicas": available, "unavailableReplicas": (desired - available).max(0),
        }));
        status["conditions"] = json!(conditions);
        changed | self.put_status(deployments, &ns, &name, status)
    }

    /// Sets a ReplicaSet's replicas, with the deployment controller's Event.
    fn scale_replicaset(
        &mut self,
        replicasets: &Arc<ResourceType>,
        d: &Value,
        rs: &Arc<Value>,
        to: i64,
    ) -> bool {
        let from = crate::printers::desired(rs);
        if from == to {
            return false;
        }
        let ns = meta_str(rs, "namespace").unwrap_or_default().to_owned();
        let name = meta_str(rs, "name").unwrap_or_default().to_owned();
        let mut scaled = (**rs).clone();
        scaled["spec"]["replicas"] = json!(to);
        if let Some(a) = scaled.pointer_mut("/metadata/annotations") {
            a["deployment.kubernetes.io/desired-replicas"] =
                json!(crate::printers::desired(d).to_string());
        }
        if self
            .update(replicasets, Some(&ns), &name, None, scaled, &Query::new())
            .is_err()
        {
            return false;
        }
        let direction = if to > from { "up" } else { "down" };
        self.record_event(
            d,
            "Deployment",
            "apps/v1",
            "ScalingReplicaSet",
            &format!("Scaled {direction} replica set {name} from {from} to {to}"),
            "deployment-controller",
        );
        true
    }

    fn reconcile_replicaset(
        &mut self,
        replicasets: &Arc<ResourceType>,
        pods: &Arc<ResourceType>,
        rs: &Arc<Value>,
    ) -> bool {
        let (ns, name) = namespace_and_name(rs);
        let desired = crate::printers::desired(rs).max(0) as usize;
        let mut active = self.controlled_by(pods, "ReplicaSet", rs);
        active.retain(|p| !is_deleting(p));
        let mut changed = false;
        while active.len() < desired {
            let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
            let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
            metadata["generateName"] = json!(format!("{name}-"));
            metadata["ownerReferences"] = json!([owner_ref("ReplicaSet", "apps/v1", rs)]);
            if let Value::Object(m) = &mut metadata {
                m.remove("name");
                m.remove("namespace");
            }
            let pod = json!({ "metadata": metadata, "spec": template.get("spec").cloned().unwrap_or(json!({})) });
            match self.create(pods, Some(&ns), pod, &Query::new()) {
                Ok((_, created)) => {
                    let pod_name = meta_str(&created, "name").unwrap_or_default().to_owned();
                    self.record_event(
                        rs,
                        "ReplicaSet",
                        "apps/v1",
                        "SuccessfulCreate",
                        &format!("Created pod: {pod_name}"),
                        "replicaset-controller",
                    );
                    let node = format!("Successfully assigned {ns}/{pod_name} to {NODE}");
                    self.record_event(
                        &created,
                        "Pod",
                        "v1",
                        "Scheduled",
                        &node,
                        "default-scheduler",
                    );
                    if let Some(p) = self.store.get(&pods.key(), &ns, &pod_name).cloned() {
                        active.push(p);
                    }
                    changed = true;
                }
                Err(e) => {
                    tracing::warn!("replicaset {ns}/{name}: creating a pod: {}", e.message);
                    break;
                }
            }
        }
        // The newest go first, as the real controller's ranking prefers
        // to keep the longest-running.
        active.sort_by_key(|p| meta_str(p, "creationTimestamp").map(str::to_owned));
        while active.len() > desired {
            let Some(p) = active.pop() else { break };
            let pod_name = meta_str(&p, "name").unwrap_or_default().to_owned();
            if self
                .delete(
                    pods,
                    Some(&ns),
                    &pod_name,
                    &crate::api::DeleteOptions::background(),
                )
                .is_ok()
            {
                self.record_event(
                    rs,
                    "ReplicaSet",
                    "apps/v1",
                    "SuccessfulDelete",
                    &format!("Deleted pod: {pod_name}"),
                    "replicaset-controller",
                );
                changed = true;
            }
        }
        let ready = active.iter().filter(|p| pod_ready(p)).count();
        let status = without_zeros(json!({
            "replicas": active.len(), "fullyLabeledReplicas": active.len(),
            "readyReplicas": ready, "availableReplicas": ready,
            "observedGeneration": rs.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1),
        }));
        changed | self.put_status(replicasets, &ns, &name, status)
    }

    /// Writes an object's status when it differs from what is stored.
    fn put_status(&mut self, rt: &Arc<ResourceType>, ns: &str, name: &str, status: Value) -> bool {
        // Read again: this pass may have written the object already.
        let Some(current) = self.store.get(&rt.key(), ns, name).cloned() else {
            return false;
        };
        if current.get("status") == Some(&status) {
            return false;
        }
        let mut obj = (*current).clone();
        obj["status"] = status;
        self.update(rt, Some(ns), name, Some("status"), obj, &Query::new())
            .is_ok()
    }

    /// The Deployment a Pod belongs to through its ReplicaSet.
    fn deployment_of(&self, pod: &Value) -> Option<String> {
        let rs_uid = controller_uid(pod, "ReplicaSet")?;
        let replicasets = rt_of(self, "apps", "replicasets")?;
        let ns = meta_str(pod, "namespace")?;
        let rs = self
            .store
            .list(&replicasets.key(), Some(ns))
            .into_iter()
            .find(|rs| meta_str(rs, "uid") == Some(rs_uid))?;
        let d_uid = controller_uid(&rs, "Deployment")?.to_owned();
        let deployments = rt_of(self, "apps", "deployments")?;
        self.store
            .list(&deployments.key(), Some(ns))
            .into_iter()
            .find(|d| meta_str(d, "uid") == Some(d_uid.as_str()))
            .and_then(|d| meta_str(&d, "name").map(str::to_owned))
    }

    pub(crate) fn pod_ref(&self, pod: &Value) -> PodRef {
        PodRef {
            namespace: meta_str(pod, "namespace").unwrap_or_default().to_owned(),
            name: meta_str(pod, "name").unwrap_or_default().to_owned(),
            uid: meta_str(pod, "uid").unwrap_or_default().to_owned(),
            deployment: self.deployment_of(pod),
        }
    }

    /// Queues the start of scheduled Pods and the stop of deleted ones.
    fn run_kubelet(&mut self, pods: &Arc<ResourceType>) -> bool {
        let mut changed = false;
        for p in self.store.list(&pods.key(), None) {
            let uid = meta_str(&p, "uid").unwrap_or_default().to_owned();
            let phase = p
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("Pending");
            if is_deleting(&p) {
                if self.queue_stop(self.pod_ref(&p)) {
                    if phase == "Running" {
                        for c in container_names(&p) {
                            self.record_event(
                                &p,
                                "Pod",
                                "v1",
                                "Killing",
                                &format!("Stopping container {c}"),
                                "kubelet",
                            );
                        }
                    }
                    changed = true;
                }
            } else if phase == "Pending" && self.workloads.starting.insert(uid) {
                let pod = self.pod_ref(&p);
                self.workloads.actions.push(Action::Start(pod));
                changed = true;
            }
        }
        changed
    }

    /// The Pod `pod` names as it is stored now, unless it is gone or another
    /// of the same name has replaced it.
    fn current_pod(&self, pod: &PodRef) -> Option<(Arc<ResourceType>, Arc<Value>)> {
        let pods = rt_of(self, "", "pods")?;
        let current = self
            .store
            .get(&pods.key(), &pod.namespace, &pod.name)
            .filter(|p| meta_str(p, "uid") == Some(pod.uid.as_str()))
            .cloned()?;
        Some((pods, current))
    }

    /// Queues the stop of what `pod` runs, once, and not while its start
    /// is under way (the start's end queues it then): whether it queued.
    fn queue_stop(&mut self, pod: PodRef) -> bool {
        let queued = !self.workloads.starting.contains(&pod.uid)
            && self.workloads.stopping.insert(pod.uid.clone());
        if queued {
            self.workloads.actions.push(Action::Stop(pod));
        }
        queued
    }

    /// A Pod's start finished: it runs (Ready), or failed with `error`.
    pub(crate) fn pod_started(&mut self, pod: &PodRef, result: Result<(), String>) {
        self.workloads.starting.remove(&pod.uid);
        self.dirty = true;
        let Some((pods, current)) = self.current_pod(pod) else {
            // Deleted at once while it started: what started stops.
            if result.is_ok() {
                self.queue_stop(pod.clone());
            }
            return;
        };
        let now = now_rfc3339(&self.clock);
        self.workloads.next_ip += 1;
        let ip = format!(
            "10.244.{}.{}",
            self.workloads.next_ip / 250,
            self.workloads.next_ip % 250 + 2
        );
        let ok = result.is_ok();
        let statuses: Vec<Value> = current
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| {
                let state = match &result {
                    Ok(()) => json!({ "running": { "startedAt": now } }),
                    Err(e) => json!({ "terminated": { "exitCode": 1, "reason": "Error",
                        "message": e, "startedAt": now, "finishedAt": now } }),
                };
                json!({
                    "name": c.get("name").cloned().unwrap_or(json!("")),
                    "image": c.get("image").cloned().unwrap_or(json!("")),
                    "imageID": "", "containerID": format!("emulated://{}", pod.uid),
                    "ready": ok, "started": ok, "restartCount": 0,
                    "state": state, "lastState": {},
                })
            })
            .collect();
        let truth = |b: bool| if b { "True" } else { "False" };
        let condition = |t: &str, s: &str| json!({ "type": t, "status": s, "lastProbeTime": null, "lastTransitionTime": now });
        let mut obj = (*current).clone();
        obj["status"] = json!({
            "phase": if ok { "Running" } else { "Failed" },
            "conditions": [
                condition("PodReadyToStartContainers", "True"),
                condition("Initialized", "True"),
                condition("Ready", truth(ok)),
                condition("ContainersReady", truth(ok)),
                condition("PodScheduled", "True"),
            ],
            "hostIP": "127.0.0.1", "hostIPs": [{ "ip": "127.0.0.1" }],
            "podIP": ip, "podIPs": [{ "ip": ip }],
            "startTime": now, "qosClass": "BestEffort",
            "containerStatuses": statuses,
        });
        if self
            .update(
                &pods,
                Some(&pod.namespace),
                &pod.name,
                Some("status"),
                obj,
                &Query::new(),
            )
            .is_ok()
        {
            for c in container_names(&current) {
                let (reason, message) = match &result {
                    Ok(()) => ("Started", format!("Started container {c}")),
                    Err(e) => ("Failed", format!("Error: {e}")),
                };
                self.record_event(&current, "Pod", "v1", reason, &message, "kubelet");
            }
        }
    }

    /// A deleted Pod has stopped: it goes (once no finalizer holds it).
    pub(crate) fn pod_stopped(&mut self, pod: &PodRef) {
        self.workloads.stopping.remove(&pod.uid);
        self.dirty = true;
        let Some((pods, current)) = self.current_pod(pod) else {
            return;
        };
        if finalizers(&current).is_empty() {
            self.remove(&pods, &pod.namespace, &pod.name);
        }
    }

    /// A Pod's deletion is graceful, as the pod strategy's
    /// CheckGracefulDelete and BeforeDelete make it: marked to go after
    /// its grace period (the request's `gracePeriodSeconds`, else its
    /// spec's, 0 once it has finished), its generation moved, its
    /// containers stopped (the kubelet's part), then it goes. A grace
    /// period of 0 deletes it at once (`kubectl delete --force
    /// --grace-period=0`), unless a finalizer holds it; a shorter one than
    /// a pending deletion's brings that forward.
    pub(crate) fn delete_pod_gracefully(
        &mut self,
        rt: &Arc<ResourceType>,
        ns: &str,
        name: &str,
        obj: &Value,
        requested: Option<i64>,
    ) -> Value {
        let mut marked = obj.clone();
        let grace = if is_deleting(obj) {
            let pending = obj
                .pointer("/metadata/deletionGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let at =
                meta_str(obj, "deletionTimestamp").and_then(|t| t.parse::<jiff::Timestamp>().ok());
            match (requested.map(|g| g.max(0)), at) {
                (Some(shorter), Some(at)) if shorter < pending => {
                    let sooner = at - jiff::SignedDuration::from_secs(pending - shorter);
                    marked["metadata"]["deletionTimestamp"] = json!(rfc3339(sooner));
                    marked["metadata"]["deletionGracePeriodSeconds"] = json!(shorter);
                    shorter
                }
                _ => return self.present(rt, obj),
            }
        } else {
            let finished = matches!(
                obj.pointer("/status/phase").and_then(Value::as_str),
                Some("Succeeded" | "Failed")
            );
            let grace = match requested {
                _ if finished => 0,
                Some(g) if g < 0 => 1,
                Some(g) => g,
                None => obj
                    .pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(30),
            };
            let at = self.clock.now() + jiff::SignedDuration::from_secs(grace);
            marked["metadata"]["deletionTimestamp"] = json!(rfc3339(at));
            marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            if let Some(m) = marked["metadata"].as_object_mut() {
                crate::api::bump_generation(m);
            }
            grace
        };
        self.dirty = true;
        if grace == 0 && finalizers(&marked).is_empty() {
            // Gone now; the kubelet stops what ran (the stand-in's runner,
            // through a stop that finds no Pod left to remove).
            self.queue_stop(self.pod_ref(&marked));
            return match self.remove_updated(rt, ns, name, marked) {
                Some(last) => self.present(rt, &last),
                None => self.present(rt, obj),
            };
        }
        let stored = self.put_as_next_version(&rt.key(), ns, name, marked);
        self.present(rt, &stored)
    }

    /// A core/v1 Event about `obj`, as a controller records it.
    pub(crate) fn record_event(
        &mut self,
        obj: &Value,
        kind: &str,
        api_version: &str,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        let Some(events) = rt_of(self, "", "events") else {
            return;
        };
        let ns = meta_str(obj, "namespace").unwrap_or("default").to_owned();
        let name = meta_str(obj, "name").unwrap_or_default().to_owned();
        let now = now_rfc3339(&self.clock);
        // As client-go's recorder names them: the time in nanoseconds, so
        // that a list (in name order) shows an object's events in order.
        // Two in the same nanosecond of a frozen clock get the next one.
        let mut nanos = self.clock.now().as_nanosecond();
        while self
            .store
            .get(&events.key(), &ns, &format!("{name}.{nanos:x}"))
            .is_some()
        {
            nanos += 1;
        }
        let suffix = format!("{nanos:x}");
        let event = json!({
            "metadata": { "name": format!("{name}.{suffix}"), "namespace": ns },
            "involvedObject": {
                "kind": kind, "namespace": ns, "name": name, "apiVersion": api_version,
                "uid": meta_str(obj, "uid").unwrap_or_default(),
                "resourceVersion": meta_str(obj, "resourceVersion").unwrap_or_default(),
            },
            "reason": reason, "message": message, "type": "Normal",
            "source": { "component": component },
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "reportingComponent": component, "reportingInstance": "",
        });
        if let Err(e) = self.create(&events, Some(&ns), event, &Query::new()) {
            tracing::debug!("recording an event about {kind} {ns}/{name}: {}", e.message);
        }
    }
}

fn container_names(pod: &Value) -> Vec<String> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Ready")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// The defaults of a pod's spec, a Pod's or a Pod template's (a
/// Deployment's, a ReplicaSet's): SetDefaults_PodSpec and its containers'
/// and volumes' (pkg/apis/core/v1/defaults.go).
pub(crate) fn default_pod_spec(spec: &mut Value) {
    for (field, value) in [
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("securityContext", json!({})),
    ] {
        if spec.get(field).is_none() {
            spec[field] = value;
        }
    }
    if let Some(containers) = spec.get_mut("containers").and_then(Value::as_array_mut) {
        for c in containers {
            let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
            let tag = image
                .rsplit('/')
                .next()
                .and_then(|last| last.split_once(':'));
            let pull = match tag {
                Some((_, "latest")) | None => "Always",
                Some(_) => "IfNotPresent",
            };
            for (field, value) in [
                ("imagePullPolicy", json!(pull)),
                ("terminationMessagePath", json!("/dev/termination-log")),
                ("terminationMessagePolicy", json!("File")),
                ("resources", json!({})),
            ] {
                if c.get(field).is_none() {
                    c[field] = value;
                }
            }
        }
    }
    if let Some(volumes) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in volumes {
            for source in ["secret", "configMap"] {
                if let Some(s) = v.get_mut(source).filter(|s| s.is_object())
                    && s.get("defaultMode").is_none()
                {
                    s["defaultMode"] = json!(420);
                }
            }
        }
    }
}

/// The defaults and scheduling a new Pod gets: the API server's defaults
/// of the fields `kubectl describe pod` shows, bound to [`NODE`], Pending
/// with its containers being created.
pub(crate) fn default_new_pod(pod: &mut Value, now: &str) {
    if !pod.get("spec").is_some_and(Value::is_object) {
        pod["spec"] = json!({});
    }
    let spec = &mut pod["spec"];
    default_pod_spec(spec);
    // What only a Pod gets: SetDefaults_Pod's, the ServiceAccount and
    // Priority admission plugins', and this emulator's binding.
    for (field, value) in [
        ("serviceAccountName", json!("default")),
        ("enableServiceLinks", json!(true)),
        ("priority", json!(0)),
        ("preemptionPolicy", json!("PreemptLowerPriority")),
        ("nodeName", json!(NODE)),
    ] {
        if spec.get(field).is_none() {
            spec[field] = value;
        }
    }
    if spec.get("serviceAccount").is_none() {
        spec["serviceAccount"] = spec["serviceAccountName"].clone();
    }
    // The DefaultTolerationSeconds admission plugin: 300 s on a node not
    // ready or unreachable, unless the Pod already says how long.
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerated = spec
            .get("tolerations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|t| {
                let effect = t.get("effect").and_then(Value::as_str).unwrap_or_default();
                (effect.is_empty() || effect == "NoExecute")
                    && (t.get("key").and_then(Value::as_str) == Some(key)
                        || (t.get("key").is_none()
                            && t.get("operator").and_then(Value::as_str) == Some("Exists")))
            });
        if !tolerated {
            let toleration = json!({ "key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300 });
            match spec.get_mut("tolerations").and_then(Value::as_array_mut) {
                Some(list) => list.push(toleration),
                None => spec["tolerations"] = json!([toleration]),
            }
        }
    }
    let waiting: Vec<Value> = container_names(pod)
        .into_iter()
        .zip(
            pod.pointer("/spec/containers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        )
        .map(|(name, c)| {
            json!({ "name": name, "image": c.get("image").cloned().unwrap_or(json!("")), "imageID": "",
                "ready": false, "started": false, "restartCount": 0, "lastState": {},
                "state": { "waiting": { "reason": "ContainerCreating" } } })
        })
        .collect();
    pod["status"] = json!({
        "phase": "Pending",
        "conditions": [{ "type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now }],
        "hostIP": "127.0.0.1", "hostIPs": [{ "ip": "127.0.0.1" }],
        "startTime": now, "qosClass": "BestEffort",
        "containerStatuses": waiting,
    });
}

/// Runs a queued start or stop outside the API lock, then records its
/// outcome and wakes the controllers.
pub(crate) async fn run_action(shared: Arc<crate::service::Shared>, action: Action) {
    match action {
        Action::Start(pod) => {
            let result = match shared.runners.of(&pod) {
                Some(runner) => runner.start(&pod).await,
                None => Ok(()),
            };
            if let Err(e) = &result {
                tracing::warn!("pod {}/{} failed to start: {e}", pod.namespace, pod.name);
            }
            shared.api().pod_started(&pod, result);
        }
        Action::Stop(pod) => {
            if let Some(runner) = shared.runners.of(&pod) {
                runner.stop(&pod).await;
            }
            shared.api().pod_stopped(&pod);
        }
    }
    shared.wake.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hashes_are_stable_and_in_the_controllers_letters() {
        let a = json!({"spec": {"containers": [{"name": "c", "image": "x:1"}]}});
        let b = json!({"spec": {"containers": [{"name": "c", "image": "x:2"}]}});
        assert_eq!(template_hash(&a), template_hash(&a));
        assert_ne!(template_hash(&a), template_hash(&b));
        assert!(
            template_hash(&a)
                .chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
            "{}",
            template_hash(&a)
        );
    }

    #[test]
    fn a_new_pod_is_bound_and_pending_with_the_servers_defaults() {
        let mut pod = json!({"spec": {"containers": [{"name": "app", "image": "nginx"}],
            "volumes": [{"name": "s", "secret": {"secretName": "creds"}}]}});
        default_new_pod(&mut pod, "2026-01-01T00:00:00Z");
        assert_eq!(pod["spec"]["nodeName"], NODE);
        assert_eq!(pod["spec"]["serviceAccountName"], "default");
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(pod["spec"]["volumes"][0]["secret"]["defaultMode"], 420);
        assert_eq!(pod["status"]["phase"], "Pending");
        assert_eq!(
            crate::printers::pod_status(&pod),
            "ContainerCreating",
            "{pod}"
        );
    }

    #[test]
    fn zero_counts_are_omitted_as_go_omits_them() {
        let s = without_zeros(json!({"replicas": 0, "readyReplicas": 1, "observedGeneration": 2}));
        assert_eq!(s, json!({"readyReplicas": 1, "observedGeneration": 2}));
    }
}
