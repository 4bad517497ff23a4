//! What kube-controller-manager and apiextensions do in the background:
//! namespace defaults and deletion, the garbage collector (orphaning and
//! foreground deletion included) and the cleanup of a deleted CRD's
//! objects. The workload controllers are in `crate::workloads`.

use serde_json::{Value, json};

use super::delete::DeleteOptions;
use super::{Api, Query};
use crate::crd;
use crate::kinds::ResKey;
use crate::metadata::{
    finalizers_without, has_finalizer, is_deleting, meta_mut, meta_str, namespace_and_name,
    owner_references,
};

impl Api {
    /// Removes owner references to `uid` from its dependents.
    fn orphan_dependents(&mut self, uid: &str) {
        for loc in self.store.owners.dependents_of(uid) {
            let Some(obj) = self.store.get_at(&loc).cloned() else {
                continue;
            };
            let refs = owner_references(&obj);
            let kept: Vec<Value> = refs
                .into_iter()
                .filter(|r| r.get("uid").and_then(Value::as_str) != Some(uid))
                .collect();
            let mut updated = (*obj).clone();
            let m = meta_mut(&mut updated);
            if kept.is_empty() {
                m.remove("ownerReferences");
            } else {
                m.insert("ownerReferences".into(), json!(kept));
            }
            let (ns, name) = namespace_and_name(&obj);
            self.put_as_next_version(&loc.0, &ns, &name, updated);
        }
    }

    /// What kube-controller-manager puts in every namespace that is not
    /// terminating: the root CA publisher's `kube-root-ca.crt` ConfigMap
    /// (pkg/controller/certificates/rootcacertpublisher) and the
    /// serviceaccount controller's `default` ServiceAccount. Put back when
    /// deleted, as they are.
    fn publish_namespace_defaults(&mut self) -> bool {
        const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
        let (Some(ca), Some(maps), Some(accounts)) = (
            self.root_ca.clone(),
            self.catalogue.find("", "v1", "configmaps"),
            self.catalogue.find("", "v1", "serviceaccounts"),
        ) else {
            return false;
        };
        let ns_key = ResKey::core("namespaces");
        let mut changed = false;
        for namespace in self.store.list(&ns_key, None) {
            if is_deleting(&namespace) {
                continue;
            }
            let ns = meta_str(&namespace, "name").unwrap_or_default().to_owned();
            let wanted = [
                (
                    &maps,
                    "kube-root-ca.crt",
                    json!({ "metadata": { "name": "kube-root-ca.crt", "annotations": { "kubernetes.io/description": DESCRIPTION } }, "data": { "ca.crt": ca } }),
                ),
                (
                    &accounts,
                    "default",
                    json!({ "metadata": { "name": "default" } }),
                ),
            ];
            for (rt, name, obj) in wanted {
                if self.store.get(&rt.key(), &ns, name).is_none() {
                    changed |= self.create(rt, Some(&ns), obj, &Query::new()).is_ok();
                }
            }
        }
        changed
    }

    /// apiextensions' finalizer controller: a deleted CRD's custom
    /// resources go, then its cleanup finalizer, then the CRD.
    fn clean_up_deleted_crds(&mut self) -> bool {
        let Some(rt) =
            self.catalogue
                .find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        else {
            return false;
        };
        let mut changed = false;
        for obj in self.store.list(&rt.key(), None) {
            if !is_deleting(&obj) || !has_finalizer(&obj, crd::CLEANUP_FINALIZER) {
                continue;
            }
            let name = meta_str(&obj, "name").unwrap_or_default().to_owned();
            let rest = finalizers_without(&obj, crd::CLEANUP_FINALIZER);
            if rest.is_empty() {
                // remove() drops the kind and its objects, each with its
                // DELETED event.
                changed |= self.remove(&rt, "", &name).is_some();
            } else {
                let mut kept = (*obj).clone();
                meta_mut(&mut kept).insert("finalizers".into(), json!(rest));
                self.put_as_next_version(&rt.key(), "", &name, kept);
                changed = true;
            }
        }
        changed
    }

    /// The namespace controller and the garbage collector, one pass each.
    /// Returns whether anything changed (run again until it does not).
    pub(crate) fn reconcile_background(&mut self) -> bool {
        let mut changed = self.publish_namespace_defaults();
        changed |= self.clean_up_deleted_crds();
        let ns_rt = self.catalogue.find("", "v1", "namespaces");
        let ns_key = ResKey::core("namespaces");
        for namespace in self.store.list(&ns_key, None) {
            if !is_deleting(&namespace) {
                continue;
            }
            let ns_name = meta_str(&namespace, "name").unwrap_or_default().to_owned();
            for key in self.store.kinds() {
                let Some(rt) = self.catalogue.any_version(&key) else {
                    continue;
                };
                for obj in self.store.list(&key, Some(&ns_name)) {
                    if is_deleting(&obj) {
                        continue;
                    }
                    let name = meta_str(&obj, "name").unwrap_or_default().to_owned();
                    changed |= self
                        .delete(&rt, Some(&ns_name), &name, &DeleteOptions::background())
                        .is_ok();
                }
            }
            if self.store.count_in_namespace(&ns_name) == 0
                && let Some(rt) = &ns_rt
            {
                changed |= self.remove(rt, "", &ns_name).is_some();
            }
        }
        changed |= self.collect_garbage();
        changed |= self.reconcile_workloads();
        changed
    }

    /// Deletes objects all of whose owners are gone (or being deleted in the
    /// foreground), lets dependents of an owner deleted with propagation
    /// Orphan go, and completes foreground deletions whose blocking
    /// dependents are gone. It looks only at what the owner index says
    /// changed since its last pass; what it could not do waits for the next.
    fn collect_garbage(&mut self) -> bool {
        let work = self.store.owners.take_work();
        let mut changed = false;
        for loc in work.dependents {
            let Some(obj) = self.store.get_at(&loc).cloned() else {
                continue;
            };
            let refs = owner_references(&obj);
            if refs.is_empty() || is_deleting(&obj) {
                continue;
            }
            let orphaned = refs
                .iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str))
                .all(|u| {
                    self.store
                        .owners
                        .locate(u)
                        .and_then(|owner| self.store.get_at(owner))
                        .is_none_or(|owner| crate::owners::in_foreground(owner))
                });
            if !orphaned {
                continue;
            }
            let (ns, name) = namespace_and_name(&obj);
            let deleted = match self.catalogue.any_version(&loc.0) {
                Some(rt) => self
                    .delete(&rt, Some(&ns), &name, &DeleteOptions::background())
                    .is_ok(),
                None => false,
            };
            if deleted {
                changed = true;
            } else {
                self.store.owners.retry_dependent(loc);
            }
        }
        for uid in work.owners {
            changed |= self.finish_owner_deletion(&uid);
        }
        changed
    }

    /// An owner being deleted: with propagation Orphan its dependents lose
    /// their reference to it, then the `orphan` finalizer goes; in the
    /// foreground, `foregroundDeletion` goes once no dependent blocks it.
    fn finish_owner_deletion(&mut self, uid: &str) -> bool {
        let Some(loc) = self.store.owners.locate(uid).cloned() else {
            return false;
        };
        let Some(rt) = self.catalogue.any_version(&loc.0) else {
            return false;
        };
        let mut changed = false;
        for finalizer in ["orphan", "foregroundDeletion"] {
            let Some(current) = self.store.get_at(&loc).cloned() else {
                return changed;
            };
            if !is_deleting(&current)
                || !has_finalizer(&current, finalizer)
                || (finalizer == "foregroundDeletion" && self.store.owners.blocking(uid) > 0)
            {
                continue;
            }
            if finalizer == "orphan" {
                self.orphan_dependents(uid);
            }
            let Some(current) = self.store.get_at(&loc).cloned() else {
                return changed;
            };
            let mut done = (*current).clone();
            meta_mut(&mut done).insert(
                "finalizers".into(),
                json!(finalizers_without(&current, finalizer)),
            );
            let (ns, name) = namespace_and_name(&current);
            if self
                .write(&rt, &ns, &name, done, Some(current), None, &Query::new())
                .is_ok()
            {
                changed = true;
            } else {
                self.store.owners.retry_owner(uid.to_owned());
            }
        }
        changed
    }
}
