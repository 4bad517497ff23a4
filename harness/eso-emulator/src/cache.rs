//! What the controller's watches have seen of ExternalSecrets, stores and
//! Secrets: the reads ESO makes from controller-runtime's informer caches
//! (`r.Get` of the ExternalSecret and of its store, and of the target
//! Secret from the Secrets' cache, v2.9.0 as v0.20.4) instead of asking the
//! API server each time. Each reconcile of an ExternalSecret saves three
//! round trips by it.
//!
//! Like an informer, it is filled by the watch before the watch's event
//! reaches the queue, so a key taken from the queue finds at least the
//! object that put it there; a relist replaces the whole content at its
//! end. Unlike one, it also takes what the controller itself wrote while
//! the watch has not yet reached that write: a store marked Ready is read
//! Ready by the ExternalSecret reconciled right after it, and a target just
//! created is found by the next reconcile, as live reads did, rather than
//! racing the watch's event (on a virtual clock that moves as soon as the
//! controller is idle, the race would be lost often, with a backoff and
//! events real ESO rarely shows).

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use kube::Resource;
use kube::api::Api;
use kube::runtime::watcher;
use serde::de::DeserializeOwned;

/// One object's place: (namespace, name); cluster-scoped objects have an
/// empty namespace.
type Place = (String, String);

/// What the cache knows of one object. Not `Debug`: a Secret's would show
/// its data.
pub(crate) enum Lookup<K> {
    /// The watch (or the controller's own write) has it.
    Found(Arc<K>),
    /// The watch has listed everything and this object is not among it.
    Absent,
    /// The watch has not finished its first list: ask the API server.
    NotSynced,
}

struct State<K> {
    objects: HashMap<Place, Arc<K>>,
    /// A relist in progress: what it has brought so far.
    relisting: Option<HashMap<Place, Arc<K>>>,
    synced: bool,
    /// The latest resource version the watch has brought. A watch of one
    /// kind brings its changes in resource-version order, so a write at a
    /// version up to this one is already in `objects` (or was overtaken).
    watched: u64,
}

/// The cache of one kind.
pub(crate) struct Cache<K> {
    state: Mutex<State<K>>,
}

impl<K> Default for Cache<K> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                objects: HashMap::new(),
                relisting: None,
                synced: false,
                watched: 0,
            }),
        }
    }
}

fn place<K: Resource>(obj: &K) -> Place {
    let meta = obj.meta();
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// An object's resource version as a number. Resource versions are opaque
/// to clients in general; both the kube-emulator and etcd make them from
/// one increasing counter. One that does not parse reads as 0.
pub(crate) fn version<K: Resource>(obj: &K) -> u64 {
    obj.meta()
        .resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl<K> Cache<K>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    fn state(&self) -> std::sync::MutexGuard<'_, State<K>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes in one event of the kind's watch.
    pub(crate) fn apply(&self, event: &watcher::Event<K>) {
        let mut state = self.state();
        match event {
            watcher::Event::Apply(obj) => {
                state.watched = state.watched.max(version(obj));
                // Never older than the controller's own write of it.
                let key = place(obj);
                if state
                    .objects
                    .get(&key)
                    .is_none_or(|old| version(obj) >= version(old.as_ref()))
                {
                    state.objects.insert(key, Arc::new(obj.clone()));
                }
            }
            watcher::Event::Delete(obj) => {
                state.watched = state.watched.max(version(obj));
                state.objects.remove(&place(obj));
            }
            watcher::Event::Init => state.relisting = Some(HashMap::new()),
            watcher::Event::InitApply(obj) => {
                state.watched = state.watched.max(version(obj));
                state
                    .relisting
                    .get_or_insert_with(HashMap::new)
                    .insert(place(obj), Arc::new(obj.clone()));
            }
            watcher::Event::InitDone => {
                state.objects = state.relisting.take().unwrap_or_default();
                state.synced = true;
            }
        }
    }

    /// Takes what the API server answered to the controller's own write,
    /// while the watch has not reached it: once it has, the watch's account
    /// (the write, or what came after it, a deletion included) stands.
    pub(crate) fn wrote(&self, obj: &K) {
        let mut state = self.state();
        let at = version(obj);
        if state.synced && at > state.watched {
            state.objects.insert(place(obj), Arc::new(obj.clone()));
        }
    }

    /// The object `name` of `api` (in `namespace`, `""` for a cluster-scoped
    /// one), from the cache once it has synced, from the API server before.
    pub(crate) async fn read(
        &self,
        api: &Api<K>,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, kube::Error> {
        match self.get(namespace, name) {
            Lookup::Found(obj) => Ok(Some(K::clone(&obj))),
            Lookup::Absent => Ok(None),
            Lookup::NotSynced => api.get_opt(name).await,
        }
    }

    /// The object at `namespace`/`name` (`""` for a cluster-scoped one).
    pub(crate) fn get(&self, namespace: &str, name: &str) -> Lookup<K> {
        let state = self.state();
        if !state.synced {
            return Lookup::NotSynced;
        }
        match state.objects.get(&(namespace.to_owned(), name.to_owned())) {
            Some(obj) => Lookup::Found(obj.clone()),
            None => Lookup::Absent,
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;

    use super::*;

    fn obj(ns: &str, name: &str, rv: &str) -> ConfigMap {
        let mut o = ConfigMap::default();
        o.metadata.namespace = Some(ns.into());
        o.metadata.name = Some(name.into());
        o.metadata.resource_version = Some(rv.into());
        o
    }

    fn rv(l: Lookup<ConfigMap>) -> Option<String> {
        match l {
            Lookup::Found(o) => o.metadata.resource_version.clone(),
            Lookup::Absent => None,
            Lookup::NotSynced => Some("not synced".into()),
        }
    }

    fn synced(cache: &Cache<ConfigMap>, listed: Vec<ConfigMap>) {
        cache.apply(&watcher::Event::Init);
        for o in listed {
            cache.apply(&watcher::Event::InitApply(o));
        }
        cache.apply(&watcher::Event::InitDone);
    }

    #[test]
    fn unsynced_until_the_first_list_ends_then_answers_from_it() {
        let cache = Cache::default();
        cache.apply(&watcher::Event::Init);
        cache.apply(&watcher::Event::InitApply(obj("a", "x", "5")));
        assert!(matches!(cache.get("a", "x"), Lookup::NotSynced));
        // A write before the first list ends is left to the list.
        cache.wrote(&obj("a", "y", "6"));
        cache.apply(&watcher::Event::InitDone);
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("5"));
        assert!(matches!(cache.get("a", "y"), Lookup::Absent));
        assert!(matches!(cache.get("b", "x"), Lookup::Absent));
    }

    #[test]
    fn a_relist_replaces_everything_at_its_end() {
        let cache = Cache::default();
        synced(&cache, vec![obj("a", "gone", "1")]);
        cache.apply(&watcher::Event::Init);
        cache.apply(&watcher::Event::InitApply(obj("a", "new", "9")));
        // Until the relist ends, the old content is served.
        assert_eq!(rv(cache.get("a", "gone")).as_deref(), Some("1"));
        cache.apply(&watcher::Event::InitDone);
        assert!(matches!(cache.get("a", "gone"), Lookup::Absent));
        assert_eq!(rv(cache.get("a", "new")).as_deref(), Some("9"));
    }

    #[test]
    fn own_writes_count_until_the_watch_reaches_them() {
        let cache = Cache::default();
        synced(&cache, vec![]);
        cache.apply(&watcher::Event::Apply(obj("a", "x", "10")));
        // Written (updated, created) ahead of the watch: taken.
        cache.wrote(&obj("a", "x", "12"));
        cache.wrote(&obj("a", "new", "13"));
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("12"));
        assert_eq!(rv(cache.get("a", "new")).as_deref(), Some("13"));
        // The watch catching up with an older change leaves them be...
        cache.apply(&watcher::Event::Apply(obj("a", "x", "11")));
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("12"));
        // ...and its own account of later changes wins.
        cache.apply(&watcher::Event::Apply(obj("a", "x", "14")));
        cache.apply(&watcher::Event::Delete(obj("a", "new", "15")));
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("14"));
        assert!(matches!(cache.get("a", "new"), Lookup::Absent));
        // A write the watch has already passed (it was deleted after it)
        // does not bring the object back.
        cache.wrote(&obj("a", "new", "13"));
        cache.wrote(&obj("a", "x", "13"));
        assert!(matches!(cache.get("a", "new"), Lookup::Absent));
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("14"));
    }
}
