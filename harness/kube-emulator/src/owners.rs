//! Who owns what, by uid, kept by the store on every write, and what the
//! garbage collector has to look at since it last ran: the dependents of
//! an owner that went (or started a foreground deletion), an object whose
//! owner references changed, an owner that may be done with a finalizer.
//! A deletion so costs the collector its dependents, not every object.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::kinds::ResKey;
use crate::metadata::{has_finalizer, is_deleting};

/// Where an object is: its kind and its key in the store.
pub(crate) type Loc = (ResKey, String);

/// The work the collector takes in one pass.
#[derive(Debug, Default)]
pub(crate) struct Work {
    /// Objects whose owners may all be gone, or going in the foreground.
    pub dependents: BTreeSet<Loc>,
    /// Owners (by uid) that may be done orphaning, or waiting for no
    /// blocking dependent any more.
    pub owners: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub(crate) struct OwnerIndex {
    by_uid: HashMap<String, Loc>,
    /// For each owner uid, its dependents and whether one of their
    /// references to it blocks its deletion (`blockOwnerDeletion`).
    dependents: HashMap<String, BTreeMap<Loc, bool>>,
    work: Work,
}

fn uid(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/uid").and_then(Value::as_str)
}

fn references(obj: Option<&Value>) -> Option<&Value> {
    obj?.pointer("/metadata/ownerReferences")
}

/// The uids an object's owner references name, each with whether a
/// reference to it blocks.
fn owner_uids(refs: Option<&Value>) -> BTreeMap<&str, bool> {
    let mut uids = BTreeMap::new();
    for r in refs.and_then(Value::as_array).into_iter().flatten() {
        if let Some(u) = r.get("uid").and_then(Value::as_str) {
            let blocking = r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true);
            *uids.entry(u).or_insert(false) |= blocking;
        }
    }
    uids
}

/// Being deleted in the foreground: its dependents are collected first.
pub(crate) fn in_foreground(obj: &Value) -> bool {
    is_deleting(obj) && has_finalizer(obj, "foregroundDeletion")
}

impl OwnerIndex {
    /// Takes in a write at `loc`: `before` is what was stored, `after`
    /// what is now (None for a removal).
    pub(crate) fn update(&mut self, loc: &Loc, before: Option<&Value>, after: Option<&Value>) {
        let (uid_before, uid_after) = (before.and_then(uid), after.and_then(uid));
        if uid_before != uid_after {
            if let Some(u) = uid_before {
                if self.by_uid.get(u) == Some(loc) {
                    self.by_uid.remove(u);
                }
                // What it owned may have lost its last owner.
                if let Some(deps) = self.dependents.get(u) {
                    self.work.dependents.extend(deps.keys().cloned());
                }
            }
            if let Some(u) = uid_after {
                self.by_uid.insert(u.to_owned(), loc.clone());
            }
        }
        let (refs_before, refs_after) = (references(before), references(after));
        if refs_before != refs_after || uid_before != uid_after {
            for u in owner_uids(refs_before).into_keys() {
                if let Some(deps) = self.dependents.get_mut(u) {
                    deps.remove(loc);
                    if deps.is_empty() {
                        self.dependents.remove(u);
                    }
                }
                // It may have been the last dependent a foreground
                // deletion waited for.
                self.work.owners.insert(u.to_owned());
            }
            if after.is_some() {
                for (u, blocking) in owner_uids(refs_after) {
                    self.dependents
                        .entry(u.to_owned())
                        .or_default()
                        .insert(loc.clone(), blocking);
                }
                if refs_after.is_some() {
                    self.work.dependents.insert(loc.clone());
                }
            }
        }
        if let (Some(after), Some(u)) = (after, uid_after)
            && is_deleting(after)
        {
            if in_foreground(after) || has_finalizer(after, "orphan") {
                self.work.owners.insert(u.to_owned());
            }
            if in_foreground(after)
                && !before.is_some_and(in_foreground)
                && let Some(deps) = self.dependents.get(u)
            {
                self.work.dependents.extend(deps.keys().cloned());
            }
        }
    }

    pub(crate) fn locate(&self, uid: &str) -> Option<&Loc> {
        self.by_uid.get(uid)
    }

    pub(crate) fn dependents_of(&self, uid: &str) -> Vec<Loc> {
        self.dependents
            .get(uid)
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Dependents whose reference to `uid` blocks its deletion, whether or
    /// not they are being deleted themselves.
    pub(crate) fn blocking(&self, uid: &str) -> usize {
        self.dependents
            .get(uid)
            .map_or(0, |d| d.values().filter(|b| **b).count())
    }

    pub(crate) fn take_work(&mut self) -> Work {
        std::mem::take(&mut self.work)
    }

    /// Puts back work that could not be done, for the collector's next run.
    pub(crate) fn retry_dependent(&mut self, loc: Loc) {
        self.work.dependents.insert(loc);
    }

    pub(crate) fn retry_owner(&mut self, uid: String) {
        self.work.owners.insert(uid);
    }

    #[cfg(test)]
    pub(crate) fn pending(&self) -> &Work {
        &self.work
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn loc(name: &str) -> Loc {
        (ResKey::core("secrets"), format!("ns/{name}"))
    }

    fn owned_by(uid: &str, refs: &[(&str, bool)]) -> Value {
        let refs: Vec<Value> = refs
            .iter()
            .map(|(u, b)| json!({"uid": u, "blockOwnerDeletion": b}))
            .collect();
        json!({"metadata": {"uid": uid, "ownerReferences": refs}})
    }

    #[test]
    fn follows_owner_references_through_updates_and_removal() {
        let mut index = OwnerIndex::default();
        let owner = json!({"metadata": {"uid": "o"}});
        index.update(&loc("owner"), None, Some(&owner));
        let d1 = owned_by("d1", &[("o", true)]);
        index.update(&loc("d1"), None, Some(&d1));
        let d2 = owned_by("d2", &[("o", false), ("other", true)]);
        index.update(&loc("d2"), None, Some(&d2));
        assert_eq!(index.locate("o"), Some(&loc("owner")));
        assert_eq!(index.dependents_of("o"), [loc("d1"), loc("d2")]);
        assert_eq!(index.blocking("o"), 1);
        // New dependents are looked at once (their owner may not exist).
        let work = index.take_work();
        assert_eq!(
            work.dependents.into_iter().collect::<Vec<_>>(),
            [loc("d1"), loc("d2")]
        );

        // d2 lets go of o: o's index loses it, o is worth a look.
        let d2_moved = owned_by("d2", &[("other", true)]);
        index.update(&loc("d2"), Some(&d2), Some(&d2_moved));
        assert_eq!(index.dependents_of("o"), [loc("d1")]);
        assert_eq!(index.dependents_of("other"), [loc("d2")]);
        let work = index.take_work();
        assert!(work.owners.contains("o"));

        // An update that leaves the references alone is no work.
        let mut relabelled = d1.clone();
        relabelled["metadata"]["labels"] = json!({"a": "b"});
        index.update(&loc("d1"), Some(&d1), Some(&relabelled));
        assert!(index.pending().dependents.is_empty() && index.pending().owners.is_empty());

        // The owner goes: its dependents, and only they, are to be looked at.
        index.update(&loc("owner"), Some(&owner), None);
        assert_eq!(index.locate("o"), None);
        let work = index.take_work();
        assert_eq!(work.dependents.into_iter().collect::<Vec<_>>(), [loc("d1")]);

        // The dependent goes: the index forgets it.
        index.update(&loc("d1"), Some(&relabelled), None);
        assert!(index.dependents_of("o").is_empty());
        assert_eq!(index.blocking("o"), 0);
    }

    #[test]
    fn a_foreground_deletion_puts_its_dependents_and_itself_to_work() {
        let mut index = OwnerIndex::default();
        let owner = json!({"metadata": {"uid": "o"}});
        index.update(&loc("owner"), None, Some(&owner));
        let d = owned_by("d", &[("o", true)]);
        index.update(&loc("d"), None, Some(&d));
        index.take_work();
        let marked = json!({"metadata": {"uid": "o", "deletionTimestamp": "t", "finalizers": ["foregroundDeletion"]}});
        index.update(&loc("owner"), Some(&owner), Some(&marked));
        let work = index.take_work();
        assert_eq!(work.dependents.into_iter().collect::<Vec<_>>(), [loc("d")]);
        assert_eq!(work.owners.into_iter().collect::<Vec<_>>(), ["o"]);
    }
}
