//! Objects by kind, in the order of their etcd keys (`NAMESPACE/NAME`, or
//! `NAME` for a cluster-scoped kind), which is the order the real server
//! lists them in; one resourceVersion counter for all; the owner index the
//! garbage collector works from; a bounded log of changes that watches
//! replay from, and a channel that carries new changes to open watches.

use std::collections::{HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::kinds::ResKey;
use crate::ordered::Ordered;
use crate::owners::{Loc, OwnerIndex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

#[derive(Debug)]
pub(crate) struct Change {
    pub rv: u64,
    pub kind: EventType,
    pub res: ResKey,
    pub namespace: String,
    pub object: Arc<Value>,
    /// The object before a modification, so a filtered watch can tell an
    /// object leaving its selection.
    pub previous: Option<Arc<Value>>,
}

/// An object's key within its kind, as the real server's etcd key ends:
/// `NAMESPACE/NAME`, or `NAME` when the namespace is empty (cluster-scoped).
pub(crate) fn key(ns: &str, name: &str) -> String {
    if ns.is_empty() {
        name.to_owned()
    } else {
        format!("{ns}/{name}")
    }
}

/// Where the keys of a namespace's objects start (`NS/`) and end (`NS0`,
/// '0' following '/'); no key in between is of another namespace.
fn namespace_range(ns: &str) -> (String, String) {
    (format!("{ns}/"), format!("{ns}0"))
}

pub(crate) struct Store {
    objects: HashMap<ResKey, Ordered<Arc<Value>>>,
    pub owners: OwnerIndex,
    rv: u64,
    log: VecDeque<Arc<Change>>,
    log_capacity: usize,
    /// The newest change dropped from the log: watches from before it get 410 Gone.
    dropped_up_to: u64,
    /// Whether the log is in resourceVersion order (every write takes its
    /// version just before it is logged), so a watch finds where to start
    /// by bisection; should a change ever come out of order, by a scan.
    log_in_order: bool,
    tx: broadcast::Sender<Arc<Change>>,
}

impl Store {
    pub(crate) fn new(log_capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(log_capacity.max(16));
        Self {
            objects: HashMap::new(),
            owners: OwnerIndex::default(),
            rv: 1,
            log: VecDeque::new(),
            log_capacity,
            dropped_up_to: 0,
            log_in_order: true,
            tx,
        }
    }

    pub(crate) fn current_rv(&self) -> u64 {
        self.rv
    }

    pub(crate) fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    pub(crate) fn get(&self, res: &ResKey, ns: &str, name: &str) -> Option<&Arc<Value>> {
        self.objects.get(res)?.get(&key(ns, name))
    }

    pub(crate) fn get_at(&self, loc: &Loc) -> Option<&Arc<Value>> {
        self.objects.get(&loc.0)?.get(&loc.1)
    }

    /// Objects of a kind, in one namespace or (None) in all, by key order.
    pub(crate) fn list(&self, res: &ResKey, ns: Option<&str>) -> Vec<Arc<Value>> {
        self.scan(res, ns, None).map(|(_, v)| v.clone()).collect()
    }

    /// Objects of a kind, in one namespace or (None) in all, by key order,
    /// from the one after `after` on (a page of a list): a seek, not a walk
    /// from the start.
    pub(crate) fn scan<'a>(
        &'a self,
        res: &ResKey,
        ns: Option<&str>,
        after: Option<&str>,
    ) -> impl Iterator<Item = (&'a str, &'a Arc<Value>)> + use<'a> {
        let range = ns.map(namespace_range);
        let start = match (&range, after) {
            (Some((first, _)), Some(after)) if after < first.as_str() => {
                Bound::Included(first.clone())
            }
            (_, Some(after)) => Bound::Excluded(after.to_owned()),
            (Some((first, _)), None) => Bound::Included(first.clone()),
            (None, None) => Bound::Unbounded,
        };
        let end = range.map(|(_, end)| end);
        self.objects
            .get(res)
            .map(|all| all.iter_from(start.as_ref().map(String::as_str)))
            .into_iter()
            .flatten()
            .take_while(move |(k, _)| end.as_deref().is_none_or(|end| *k < end))
    }

    /// How many objects of a kind (in one namespace, or in all) have keys
    /// after `after`: a count over the store's chunks, not a walk.
    pub(crate) fn count_after(&self, res: &ResKey, ns: Option<&str>, after: &str) -> usize {
        let Some(all) = self.objects.get(res) else {
            return 0;
        };
        let end = match ns.map(namespace_range) {
            Some((_, end)) => all.rank(Bound::Included(&end)),
            None => all.len(),
        };
        end.saturating_sub(all.rank(Bound::Excluded(after)))
    }

    pub(crate) fn kinds(&self) -> Vec<ResKey> {
        self.objects.keys().cloned().collect()
    }

    pub(crate) fn count_in_namespace(&self, ns: &str) -> usize {
        let (first, end) = namespace_range(ns);
        self.objects
            .values()
            .map(|m| m.rank(Bound::Included(&end)) - m.rank(Bound::Included(&first)))
            .sum()
    }

    /// Stores an object whose metadata.resourceVersion the caller already set
    /// to a fresh [`Store::next_rv`], and tells the watches.
    pub(crate) fn put(
        &mut self,
        res: &ResKey,
        ns: &str,
        name: &str,
        object: Value,
        rv: u64,
    ) -> Arc<Value> {
        let object = Arc::new(object);
        let loc = (res.clone(), key(ns, name));
        let previous = self
            .objects
            .entry(res.clone())
            .or_default()
            .insert(loc.1.clone(), object.clone());
        self.owners.update(&loc, previous.as_deref(), Some(&object));
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.emit(Change {
            rv,
            kind,
            res: res.clone(),
            namespace: ns.to_owned(),
            object: object.clone(),
            previous,
        });
        object
    }

    /// Removes an object; `last` is its final state (with a fresh resourceVersion).
    pub(crate) fn remove(
        &mut self,
        res: &ResKey,
        ns: &str,
        name: &str,
        last: Value,
        rv: u64,
    ) -> Option<Arc<Value>> {
        let loc = (res.clone(), key(ns, name));
        let removed = self.objects.get_mut(res)?.remove(&loc.1)?;
        self.owners.update(&loc, Some(&removed), None);
        let last = Arc::new(last);
        self.emit(Change {
            rv,
            kind: EventType::Deleted,
            res: res.clone(),
            namespace: ns.to_owned(),
            object: last.clone(),
            previous: Some(removed),
        });
        Some(last)
    }

    /// Drops every object of a kind (its CRD went away) without events per object.
    pub(crate) fn drop_kind(&mut self, res: &ResKey) {
        if let Some(all) = self.objects.remove(res) {
            for (k, obj) in all.iter_from(Bound::Unbounded) {
                self.owners
                    .update(&(res.clone(), k.to_owned()), Some(obj), None);
            }
        }
    }

    fn emit(&mut self, change: Change) {
        let change = Arc::new(change);
        if self.log.len() == self.log_capacity
            && let Some(dropped) = self.log.pop_front()
        {
            self.dropped_up_to = dropped.rv;
        }
        if self.log.back().is_some_and(|last| last.rv > change.rv) {
            self.log_in_order = false;
        }
        self.log.push_back(change.clone());
        let _ = self.tx.send(change);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Changes after `rv`, or `None` when the log no longer reaches back that far.
    pub(crate) fn changes_since(&self, rv: u64) -> Option<Vec<Arc<Change>>> {
        if rv < self.dropped_up_to {
            return None;
        }
        if self.log_in_order {
            let from = self.log.partition_point(|c| c.rv <= rv);
            return Some(self.log.range(from..).cloned().collect());
        }
        Some(self.log.iter().filter(|c| c.rv > rv).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn secrets() -> ResKey {
        ResKey::core("secrets")
    }

    fn rvs(changes: Option<Vec<Arc<Change>>>) -> Vec<u64> {
        changes.unwrap_or_default().iter().map(|c| c.rv).collect()
    }

    #[test]
    fn a_watch_replays_the_changes_after_its_version_in_order_or_not() {
        let mut store = Store::new(100);
        for name in ["a", "b", "c", "d"] {
            let rv = store.next_rv();
            store.put(
                &secrets(),
                "ns",
                name,
                json!({"metadata": {"name": name}}),
                rv,
            );
        }
        assert_eq!(rvs(store.changes_since(3)), [4, 5]);
        assert_eq!(rvs(store.changes_since(5)), Vec::<u64>::new());
        // A change logged out of order is still found.
        store.put(&secrets(), "ns", "e", json!({}), 3);
        assert_eq!(rvs(store.changes_since(3)), [4, 5]);
        assert_eq!(rvs(store.changes_since(2)), [3, 4, 5, 3]);
    }

    #[test]
    fn namespaces_are_ranges_of_keys() {
        let mut store = Store::new(100);
        for (ns, name) in [("a", "x"), ("a-b", "x"), ("a", "y"), ("ab", "x"), ("", "a")] {
            let rv = store.next_rv();
            store.put(&secrets(), ns, name, json!({}), rv);
        }
        let keys = |ns: Option<&str>, after: Option<&str>| -> Vec<String> {
            store
                .scan(&secrets(), ns, after)
                .map(|(k, _)| k.to_owned())
                .collect()
        };
        assert_eq!(keys(None, None), ["a", "a-b/x", "a/x", "a/y", "ab/x"]);
        assert_eq!(keys(Some("a"), None), ["a/x", "a/y"]);
        assert_eq!(keys(Some("a"), Some("a/x")), ["a/y"]);
        // A key before the namespace starts it at its first object.
        assert_eq!(keys(Some("a"), Some("0")), ["a/x", "a/y"]);
        assert_eq!(store.count_after(&secrets(), Some("a"), "a/x"), 1);
        assert_eq!(store.count_after(&secrets(), None, "a-b/x"), 3);
        assert_eq!(store.count_in_namespace("a"), 2);
        assert_eq!(store.count_in_namespace("a-b"), 1);
    }
}
