//! What the controller's watches have seen of ExternalSecrets and stores:
//! the reads ESO makes from controller-runtime's informer cache
//! (`r.Get` of the ExternalSecret and of its store, v2.9.0 as v0.20.4)
//! instead of asking the API server each time. Each reconcile of an
//! ExternalSecret saves two round trips by it.
//!
//! Like an informer, it is filled by the watch before the watch's event
//! reaches the queue, so a key taken from the queue finds at least the
//! object that put it there; a relist replaces the whole content at its
//! end. Unlike one, it also keeps what the controller itself wrote, when
//! that is newer than what the watch has brought: a store marked Ready is
//! read Ready by the ExternalSecret reconciled right after it, as a live
//! read did, rather than racing its own watch event (on a virtual clock
//! that moves as soon as the controller is idle, the race would be lost
//! often, with a backoff and a Warning event real ESO rarely shows).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;

/// One object's place: (namespace, name); cluster-scoped objects have an
/// empty namespace.
type Place = (String, String);

/// What the cache knows of one object.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// The watch (or the controller's own write) has it.
    Found(Arc<DynamicObject>),
    /// The watch has listed everything and this object is not among it.
    Absent,
    /// The watch has not finished its first list: ask the API server.
    NotSynced,
}

#[derive(Default)]
struct State {
    objects: HashMap<Place, Arc<DynamicObject>>,
    /// A relist in progress: what it has brought so far.
    relisting: Option<HashMap<Place, Arc<DynamicObject>>>,
    synced: bool,
}

/// The cache of one kind.
#[derive(Default)]
pub(crate) struct Cache {
    state: Mutex<State>,
}

fn place(obj: &DynamicObject) -> Place {
    (
        obj.metadata.namespace.clone().unwrap_or_default(),
        obj.metadata.name.clone().unwrap_or_default(),
    )
}

/// Whether `new` is a later version than `old`. Resource versions are
/// opaque to clients in general; both the kube-emulator and etcd make them
/// from one increasing counter, and one that does not parse is taken as
/// newer (the write's answer is what the controller saw last).
fn newer(new: &DynamicObject, old: &DynamicObject) -> bool {
    let rv = |o: &DynamicObject| {
        o.metadata
            .resource_version
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
    };
    match (rv(new), rv(old)) {
        (Some(n), Some(o)) => n > o,
        _ => true,
    }
}

impl Cache {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes in one event of the kind's watch.
    pub(crate) fn apply(&self, event: &watcher::Event<DynamicObject>) {
        let mut state = self.state();
        match event {
            watcher::Event::Apply(obj) => {
                // Never older than the controller's own write of it.
                let key = place(obj);
                if state.objects.get(&key).is_none_or(|old| newer(obj, old)) {
                    state.objects.insert(key, Arc::new(obj.clone()));
                }
            }
            watcher::Event::Delete(obj) => {
                state.objects.remove(&place(obj));
            }
            watcher::Event::Init => state.relisting = Some(HashMap::new()),
            watcher::Event::InitApply(obj) => {
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

    /// Keeps what the API server answered to the controller's own write,
    /// unless the watch has already brought something newer. It only
    /// replaces: an object the watch has seen deleted meanwhile stays gone.
    pub(crate) fn wrote(&self, obj: &DynamicObject) {
        let mut state = self.state();
        if let Some(old) = state.objects.get_mut(&place(obj))
            && newer(obj, old)
        {
            *old = Arc::new(obj.clone());
        }
    }

    /// The object `name` of `api` (in `namespace`, `""` for a cluster-scoped
    /// one), from the cache once it has synced, from the API server before.
    pub(crate) async fn read(
        &self,
        api: &Api<DynamicObject>,
        namespace: &str,
        name: &str,
    ) -> Result<Option<DynamicObject>, kube::Error> {
        match self.get(namespace, name) {
            Lookup::Found(obj) => Ok(Some(DynamicObject::clone(&obj))),
            Lookup::Absent => Ok(None),
            Lookup::NotSynced => api.get_opt(name).await,
        }
    }

    /// The object at `namespace`/`name` (`""` for a cluster-scoped one).
    pub(crate) fn get(&self, namespace: &str, name: &str) -> Lookup {
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
    use super::*;

    fn obj(ns: &str, name: &str, rv: &str) -> DynamicObject {
        let mut o = DynamicObject::new(
            name,
            &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
        );
        o.metadata.namespace = Some(ns.into());
        o.metadata.resource_version = Some(rv.into());
        o
    }

    fn rv(l: Lookup) -> Option<String> {
        match l {
            Lookup::Found(o) => o.metadata.resource_version.clone(),
            Lookup::Absent => None,
            Lookup::NotSynced => Some("not synced".into()),
        }
    }

    #[test]
    fn unsynced_until_the_first_list_ends_then_answers_from_it() {
        let cache = Cache::default();
        cache.apply(&watcher::Event::Init);
        cache.apply(&watcher::Event::InitApply(obj("a", "x", "5")));
        assert!(matches!(cache.get("a", "x"), Lookup::NotSynced));
        cache.apply(&watcher::Event::InitDone);
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("5"));
        assert!(matches!(cache.get("b", "x"), Lookup::Absent));
    }

    #[test]
    fn a_relist_replaces_everything_at_its_end() {
        let cache = Cache::default();
        cache.apply(&watcher::Event::Init);
        cache.apply(&watcher::Event::InitApply(obj("a", "gone", "1")));
        cache.apply(&watcher::Event::InitDone);
        cache.apply(&watcher::Event::Init);
        cache.apply(&watcher::Event::InitApply(obj("a", "new", "9")));
        // Until the relist ends, the old content is served.
        assert_eq!(rv(cache.get("a", "gone")).as_deref(), Some("1"));
        cache.apply(&watcher::Event::InitDone);
        assert!(matches!(cache.get("a", "gone"), Lookup::Absent));
        assert_eq!(rv(cache.get("a", "new")).as_deref(), Some("9"));
    }

    #[test]
    fn own_writes_are_kept_only_when_newer_than_the_watch() {
        let cache = Cache::default();
        cache.apply(&watcher::Event::Init);
        cache.apply(&watcher::Event::InitDone);
        cache.apply(&watcher::Event::Apply(obj("a", "x", "10")));
        cache.wrote(&obj("a", "x", "12"));
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("12"));
        // The watch's event of that same write, or an older one, changes nothing...
        cache.wrote(&obj("a", "x", "11"));
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("12"));
        cache.apply(&watcher::Event::Apply(obj("a", "x", "12")));
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("12"));
        cache.apply(&watcher::Event::Apply(obj("a", "x", "13")));
        assert_eq!(rv(cache.get("a", "x")).as_deref(), Some("13"));
        // A write never brings back what the watch saw deleted, nor adds.
        cache.apply(&watcher::Event::Delete(obj("a", "x", "14")));
        cache.wrote(&obj("a", "x", "15"));
        cache.wrote(&obj("a", "y", "16"));
        assert!(matches!(cache.get("a", "x"), Lookup::Absent));
        assert!(matches!(cache.get("a", "y"), Lookup::Absent));
    }
}
