//! Which Secrets carry each ExternalSecret's created-by label, kept from the
//! controller's watch of Secrets (and the controller's own writes) as ESO keeps Secrets' metadata in
//! its cache. ESO lists an owner's Secrets by that label on every sync, to
//! delete the orphaned ones (deleteOrphanedSecrets, v2.9.0 as v0.20.4),
//! from the cache; here the index says whether any Secret but the target
//! may be one, so that a sync costs no list of every Secret of the
//! namespace. When one may be, the caller lists them from the API server,
//! so what is deleted is decided on fresh objects, as before.
//!
//! The index may name Secrets that are gone (the caller's list then finds
//! none); it misses a labelled Secret only while the watch has not yet
//! told of another writer's change, as ESO's cache does.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use eso_api::metadata::CREATED_BY_LABEL;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::watcher;

use crate::cache::version as rv;

/// (namespace, name) of a Secret.
type SecretKey = (String, String);

#[derive(Default)]
pub(crate) struct CreatedBy {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Whether the watch has listed every labelled Secret once.
    synced: bool,
    /// (namespace, label value) → names.
    by_owner: HashMap<(String, String), BTreeSet<String>>,
    /// Each labelled Secret's label value and the resourceVersion it was seen at.
    seen: HashMap<SecretKey, (String, u64)>,
    /// During a (re)list: what it has shown so far.
    listing: Option<Vec<Secret>>,
}

fn label(s: &Secret) -> Option<&String> {
    s.metadata.labels.as_ref()?.get(CREATED_BY_LABEL)
}

fn key(s: &Secret) -> SecretKey {
    (
        s.metadata.namespace.clone().unwrap_or_default(),
        s.metadata.name.clone().unwrap_or_default(),
    )
}

impl State {
    fn forget(&mut self, k: &SecretKey) {
        if let Some((owner, _)) = self.seen.remove(k) {
            let slot = (k.0.clone(), owner);
            if let Some(names) = self.by_owner.get_mut(&slot) {
                names.remove(&k.1);
                if names.is_empty() {
                    self.by_owner.remove(&slot);
                }
            }
        }
    }

    /// The Secret as written or watched, unless what is known is newer.
    fn apply(&mut self, s: &Secret) {
        let (k, at) = (key(s), rv(s));
        if self.seen.get(&k).is_some_and(|(_, known)| *known > at) {
            return;
        }
        self.forget(&k);
        if let Some(owner) = label(s) {
            self.by_owner
                .entry((k.0.clone(), owner.clone()))
                .or_default()
                .insert(k.1.clone());
            self.seen.insert(k, (owner.clone(), at));
        }
    }

    /// Gone at `at`, unless it was written again since.
    fn delete(&mut self, s: &Secret) {
        let k = key(s);
        if self.seen.get(&k).is_some_and(|(_, known)| *known > rv(s)) {
            return;
        }
        self.forget(&k);
    }
}

impl CreatedBy {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A Secret the controller has just written (as the server answered).
    pub(crate) fn written(&self, s: &Secret) {
        self.lock().apply(s);
    }

    /// Whether a Secret of `namespace` other than `target` may carry the
    /// label value `owner`. Before the watch has listed once, it may.
    pub(crate) fn others_than(&self, namespace: &str, owner: &str, target: &str) -> bool {
        let s = self.lock();
        if !s.synced {
            return true;
        }
        s.by_owner
            .get(&(namespace.to_owned(), owner.to_owned()))
            .is_some_and(|names| names.iter().any(|n| n != target))
    }

    /// One event of the controller's watch of Secrets.
    pub(crate) fn event(&self, event: &watcher::Event<Secret>) {
        let mut s = self.lock();
        match event {
            watcher::Event::Apply(secret) => s.apply(secret),
            watcher::Event::Delete(secret) => s.delete(secret),
            watcher::Event::Init => s.listing = Some(Vec::new()),
            watcher::Event::InitApply(secret) => {
                // Only the labelled ones matter here.
                if label(secret).is_some() {
                    s.listing.get_or_insert_with(Vec::new).push(secret.clone());
                }
            }
            watcher::Event::InitDone => {
                let listed = s.listing.take().unwrap_or_default();
                let fresh: BTreeSet<SecretKey> = listed.iter().map(key).collect();
                // What the list no longer shows was deleted while unwatched,
                // unless written since the list began.
                let gone: Vec<SecretKey> = s
                    .seen
                    .keys()
                    .filter(|k| !fresh.contains(*k))
                    .cloned()
                    .collect();
                let listed_at = listed.iter().map(rv).max().unwrap_or(0);
                for k in gone {
                    if s.seen.get(&k).is_some_and(|(_, at)| *at <= listed_at) {
                        s.forget(&k);
                    }
                }
                for secret in &listed {
                    s.apply(secret);
                }
                s.synced = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(name: &str, owner: Option<&str>, rv: u64) -> Secret {
        let mut s = Secret::default();
        s.metadata.namespace = Some("ns".into());
        s.metadata.name = Some(name.into());
        s.metadata.resource_version = Some(rv.to_string());
        if let Some(o) = owner {
            s.metadata.labels = Some([(CREATED_BY_LABEL.to_owned(), o.to_owned())].into());
        }
        s
    }

    fn synced(index: &CreatedBy, listed: Vec<Secret>) {
        index.event(&watcher::Event::Init);
        for s in listed {
            index.event(&watcher::Event::InitApply(s));
        }
        index.event(&watcher::Event::InitDone);
    }

    #[test]
    fn before_the_first_list_every_owner_may_have_others() {
        let index = CreatedBy::default();
        assert!(index.others_than("ns", "h1", "t"));
        synced(&index, vec![secret("t", Some("h1"), 5)]);
        assert!(!index.others_than("ns", "h1", "t"), "only the target");
        assert!(index.others_than("ns", "h1", "renamed"), "the old target");
        assert!(
            !index.others_than("other", "h1", "renamed"),
            "per namespace"
        );
    }

    #[test]
    fn own_writes_count_at_once_and_an_older_event_does_not_undo_them() {
        let index = CreatedBy::default();
        synced(&index, vec![]);
        index.written(&secret("old", Some("h1"), 10));
        assert!(index.others_than("ns", "h1", "new"));
        // The watch tells late of a deletion before the write.
        index.event(&watcher::Event::Delete(secret("old", Some("h1"), 9)));
        assert!(index.others_than("ns", "h1", "new"));
        index.event(&watcher::Event::Delete(secret("old", Some("h1"), 11)));
        assert!(!index.others_than("ns", "h1", "new"));
    }

    #[test]
    fn a_label_removed_or_changed_moves_the_secret() {
        let index = CreatedBy::default();
        synced(&index, vec![secret("s", Some("h1"), 1)]);
        index.event(&watcher::Event::Apply(secret("s", Some("h2"), 2)));
        assert!(!index.others_than("ns", "h1", "t"));
        assert!(index.others_than("ns", "h2", "t"));
        index.event(&watcher::Event::Apply(secret("s", None, 3)));
        assert!(!index.others_than("ns", "h2", "t"));
    }

    #[test]
    fn a_relist_drops_what_went_unseen_but_keeps_newer_writes() {
        let index = CreatedBy::default();
        synced(&index, vec![secret("a", Some("h1"), 1)]);
        index.event(&watcher::Event::Init);
        index.written(&secret("b", Some("h1"), 20));
        index.event(&watcher::Event::InitApply(secret("c", Some("h2"), 7)));
        index.event(&watcher::Event::InitDone);
        assert!(!index.others_than("ns", "h1", "b"), "a was deleted unseen");
        assert!(
            index.others_than("ns", "h1", "x"),
            "b, written after the list"
        );
        assert!(index.others_than("ns", "h2", "x"));
    }
}
