//! The secrets of every region together with the indexes that keep a call's
//! cost independent of how many secrets there are: ListSecrets' order, ARNs,
//! and a timeline of purges and scheduled rotations.
//!
//! The state can only be changed through [`Store`]: [`Store::insert`],
//! [`Store::remove`], or a [`SecretMut`], which re-indexes its secret when it
//! is dropped. So the indexes cannot drift from the state, whichever
//! operation, replica sync or snapshot restore changed it.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::ops::{Bound, Deref, DerefMut};

use jiff::Timestamp;

use super::lifecycle::next_rotation;
use super::partial_arn;
use crate::model::{Secret, SecretsState};

/// A secret's place in ListSecrets' order: newest first, then by name.
pub(crate) type ListKey = (Reverse<Timestamp>, String);

/// Something due at a time: (when, region, name).
type Due = (Timestamp, String, String);

pub(crate) struct Store {
    state: SecretsState,
    index: Index,
}

#[derive(Debug, Default, PartialEq)]
struct Index {
    regions: HashMap<String, RegionIndex>,
    purges: BTreeSet<Due>,
    rotations: BTreeSet<Due>,
}

#[derive(Debug, Default, PartialEq)]
struct RegionIndex {
    listing: BTreeSet<ListKey>,
    /// Full and partial ARN → the names of the secrets they resolve to. A
    /// set, because a partial ARN of one secret can be the full ARN of another.
    by_arn: HashMap<String, BTreeSet<String>>,
    /// What the index holds for each secret, to take it out again.
    entries: HashMap<String, Entry>,
}

/// The indexed facts of one secret.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    created: Timestamp,
    arn: String,
    purge_at: Option<Timestamp>,
    rotation_due: Option<Timestamp>,
}

impl Entry {
    fn of(secret: &Secret) -> Self {
        Self {
            created: secret.created,
            arn: secret.arn.clone(),
            purge_at: secret.deletion.map(|d| d.purge_at),
            rotation_due: rotation_due(secret),
        }
    }

    /// Compares without allocating: most changes (a read's LastAccessedDate,
    /// a new version) touch nothing indexed.
    fn describes(&self, secret: &Secret) -> bool {
        self.created == secret.created
            && self.arn == secret.arn
            && self.purge_at == secret.deletion.map(|d| d.purge_at)
            && self.rotation_due == rotation_due(secret)
    }
}

/// When the background rotation of a secret falls due; replicas follow their
/// primary and secrets marked for deletion are not rotated.
fn rotation_due(secret: &Secret) -> Option<Timestamp> {
    if secret.is_replica() || secret.is_deleted() {
        return None;
    }
    next_rotation(secret)
}

fn arn_keys(arn: &str) -> [&str; 2] {
    [arn, partial_arn(arn)]
}

impl Index {
    fn build(state: &SecretsState) -> Self {
        let mut index = Self::default();
        for (region, secrets) in &state.regions {
            for (name, secret) in secrets {
                index.add(region, name, Entry::of(secret));
            }
        }
        index
    }

    fn add(&mut self, region: &str, name: &str, entry: Entry) {
        if let Some(at) = entry.purge_at {
            self.purges.insert((at, region.to_owned(), name.to_owned()));
        }
        if let Some(at) = entry.rotation_due {
            self.rotations
                .insert((at, region.to_owned(), name.to_owned()));
        }
        let r = self.regions.entry(region.to_owned()).or_default();
        r.listing.insert((Reverse(entry.created), name.to_owned()));
        for key in arn_keys(&entry.arn) {
            r.by_arn
                .entry(key.to_owned())
                .or_default()
                .insert(name.to_owned());
        }
        r.entries.insert(name.to_owned(), entry);
    }

    fn take_out(&mut self, region: &str, name: &str) {
        let Some(r) = self.regions.get_mut(region) else {
            return;
        };
        let Some(entry) = r.entries.remove(name) else {
            return;
        };
        r.listing.remove(&(Reverse(entry.created), name.to_owned()));
        for key in arn_keys(&entry.arn) {
            if let Some(names) = r.by_arn.get_mut(key) {
                names.remove(name);
                if names.is_empty() {
                    r.by_arn.remove(key);
                }
            }
        }
        // As a fresh build would have it: no index for a region left empty.
        if r.entries.is_empty() {
            self.regions.remove(region);
        }
        if let Some(at) = entry.purge_at {
            self.purges
                .remove(&(at, region.to_owned(), name.to_owned()));
        }
        if let Some(at) = entry.rotation_due {
            self.rotations
                .remove(&(at, region.to_owned(), name.to_owned()));
        }
    }

    /// Brings the index of one secret in line with `secret` (`None`: gone).
    fn update(&mut self, region: &str, name: &str, secret: Option<&Secret>) {
        let current = self.regions.get(region).and_then(|r| r.entries.get(name));
        match (current, secret) {
            (Some(entry), Some(secret)) if entry.describes(secret) => {}
            (None, None) => {}
            (_, secret) => {
                self.take_out(region, name);
                if let Some(secret) = secret {
                    self.add(region, name, Entry::of(secret));
                }
            }
        }
    }
}

/// A secret borrowed for change; dropping it re-indexes the secret.
pub(crate) struct SecretMut<'a> {
    secret: &'a mut Secret,
    index: &'a mut Index,
    region: &'a str,
    name: &'a str,
}

impl Deref for SecretMut<'_> {
    type Target = Secret;
    fn deref(&self) -> &Secret {
        &*self.secret
    }
}

impl DerefMut for SecretMut<'_> {
    fn deref_mut(&mut self) -> &mut Secret {
        &mut *self.secret
    }
}

impl Drop for SecretMut<'_> {
    fn drop(&mut self) {
        self.index
            .update(self.region, self.name, Some(&*self.secret));
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new(SecretsState::default())
    }
}

impl Store {
    pub(crate) fn new(state: SecretsState) -> Self {
        let index = Index::build(&state);
        Self { state, index }
    }

    pub(crate) fn state(&self) -> &SecretsState {
        &self.state
    }

    pub(crate) fn get(&self, region: &str, name: &str) -> Option<&Secret> {
        self.state.regions.get(region)?.get(name)
    }

    pub(crate) fn get_mut<'a>(
        &'a mut self,
        region: &'a str,
        name: &'a str,
    ) -> Option<SecretMut<'a>> {
        let secret = self.state.regions.get_mut(region)?.get_mut(name)?;
        Some(SecretMut {
            secret,
            index: &mut self.index,
            region,
            name,
        })
    }

    /// Adds or replaces the secret `name` of `region`.
    pub(crate) fn insert(&mut self, region: &str, name: &str, secret: Secret) {
        self.index.update(region, name, Some(&secret));
        self.state
            .regions
            .entry(region.to_owned())
            .or_default()
            .insert(name.to_owned(), secret);
    }

    pub(crate) fn remove(&mut self, region: &str, name: &str) -> Option<Secret> {
        // The region's (possibly empty) map stays, as a snapshot shows it.
        let removed = self.state.regions.get_mut(region)?.remove(name);
        self.index.update(region, name, None);
        removed
    }

    /// The secret a full or partial ARN names: of several, the first by name.
    pub(crate) fn by_arn(&self, region: &str, arn: &str) -> Option<&Secret> {
        let name = self.index.regions.get(region)?.by_arn.get(arn)?.first()?;
        self.get(region, name)
    }

    /// A region's secrets in ListSecrets' order (or its reverse), from just
    /// after `after`. Each step costs O(log N), whatever the position.
    pub(crate) fn listing<'a>(
        &'a self,
        region: &str,
        ascending: bool,
        after: Option<&ListKey>,
    ) -> Box<dyn Iterator<Item = (&'a ListKey, &'a Secret)> + 'a> {
        let (Some(index), Some(secrets)) = (
            self.index.regions.get(region),
            self.state.regions.get(region),
        ) else {
            return Box::new(std::iter::empty());
        };
        let keys: Box<dyn Iterator<Item = &'a ListKey> + 'a> = match (ascending, after) {
            (false, None) => Box::new(index.listing.iter()),
            (false, Some(k)) => Box::new(
                index
                    .listing
                    .range::<ListKey, _>((Bound::Excluded(k), Bound::Unbounded)),
            ),
            (true, None) => Box::new(index.listing.iter().rev()),
            (true, Some(k)) => Box::new(
                index
                    .listing
                    .range::<ListKey, _>((Bound::Unbounded, Bound::Excluded(k)))
                    .rev(),
            ),
        };
        Box::new(keys.filter_map(move |key| secrets.get(&key.1).map(|s| (key, s))))
    }

    /// (region, name) of every secret whose recovery window has ended.
    pub(crate) fn due_purges(&self, now: Timestamp) -> Vec<(String, String)> {
        due(&self.index.purges, now)
    }

    /// (region, name) of every primary whose scheduled rotation is due.
    pub(crate) fn due_rotations(&self, now: Timestamp) -> Vec<(String, String)> {
        due(&self.index.rotations, now)
    }

    /// Whether the indexes say what a fresh build from the state says.
    #[cfg(test)]
    pub(crate) fn index_is_consistent(&self) -> bool {
        self.index == Index::build(&self.state)
    }
}

fn due(timeline: &BTreeSet<Due>, now: Timestamp) -> Vec<(String, String)> {
    timeline
        .iter()
        .take_while(|(at, _, _)| *at <= now)
        .map(|(_, region, name)| (region.clone(), name.clone()))
        .collect()
}
