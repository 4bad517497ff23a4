//! Objects by kind, namespace and name; one resourceVersion counter for all;
//! a bounded log of changes that watches replay from, and a channel that
//! carries new changes to open watches.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::kinds::ResKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub kind: EventType,
    pub res: ResKey,
    pub namespace: String,
    pub object: Arc<Value>,
    /// The object before a modification, so a filtered watch can tell an
    /// object leaving its selection.
    pub previous: Option<Arc<Value>>,
}

/// (namespace, name); the namespace is empty for cluster-scoped kinds.
pub type ObjKey = (String, String);

pub struct Store {
    objects: HashMap<ResKey, BTreeMap<ObjKey, Arc<Value>>>,
    rv: u64,
    log: VecDeque<Arc<Change>>,
    log_capacity: usize,
    /// The newest change dropped from the log: watches from before it get 410 Gone.
    dropped_up_to: u64,
    tx: broadcast::Sender<Arc<Change>>,
}

impl Store {
    pub fn new(log_capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(log_capacity.max(16));
        Self {
            objects: HashMap::new(),
            rv: 1,
            log: VecDeque::new(),
            log_capacity,
            dropped_up_to: 0,
            tx,
        }
    }

    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    pub fn get(&self, res: &ResKey, ns: &str, name: &str) -> Option<&Arc<Value>> {
        self.objects
            .get(res)?
            .get(&(ns.to_owned(), name.to_owned()))
    }

    /// Objects of a kind, in one namespace or (None) in all, by key order.
    pub fn list(&self, res: &ResKey, ns: Option<&str>) -> Vec<Arc<Value>> {
        let Some(all) = self.objects.get(res) else {
            return Vec::new();
        };
        match ns {
            Some(ns) => all
                .range((ns.to_owned(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
            None => all.values().cloned().collect(),
        }
    }

    pub fn kinds(&self) -> Vec<ResKey> {
        self.objects.keys().cloned().collect()
    }

    pub fn count_in_namespace(&self, ns: &str) -> usize {
        self.objects
            .values()
            .map(|m| m.keys().filter(|(n, _)| n == ns).count())
            .sum()
    }

    /// Stores an object whose metadata.resourceVersion the caller already set
    /// to a fresh [`Store::next_rv`], and tells the watches.
    pub fn put(
        &mut self,
        res: &ResKey,
        ns: &str,
        name: &str,
        object: Value,
        rv: u64,
    ) -> Arc<Value> {
        let object = Arc::new(object);
        let previous = self
            .objects
            .entry(res.clone())
            .or_default()
            .insert((ns.to_owned(), name.to_owned()), object.clone());
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
    pub fn remove(
        &mut self,
        res: &ResKey,
        ns: &str,
        name: &str,
        last: Value,
        rv: u64,
    ) -> Option<Arc<Value>> {
        let removed = self
            .objects
            .get_mut(res)?
            .remove(&(ns.to_owned(), name.to_owned()))?;
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
    pub fn drop_kind(&mut self, res: &ResKey) {
        self.objects.remove(res);
    }

    fn emit(&mut self, change: Change) {
        let change = Arc::new(change);
        if self.log.len() == self.log_capacity
            && let Some(dropped) = self.log.pop_front()
        {
            self.dropped_up_to = dropped.rv;
        }
        self.log.push_back(change.clone());
        let _ = self.tx.send(change);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Changes after `rv`, or `None` when the log no longer reaches back that far.
    pub fn changes_since(&self, rv: u64) -> Option<Vec<Arc<Change>>> {
        if rv < self.dropped_up_to {
            return None;
        }
        Some(self.log.iter().filter(|c| c.rv > rv).cloned().collect())
    }
}
