//! A map from string keys in byte order, kept in sorted chunks: a lookup or
//! a seek is two binary searches, and how many keys sort before a given one
//! is a sum over the chunks' lengths. A paged list needs all three: its
//! continue token seeks, and its `remainingItemCount` is a count of what
//! follows the page (a `BTreeMap` could only count by walking).

use std::ops::Bound;

/// A chunk splits in two past this length; neighbours merge when they fit in it.
const MAX_CHUNK: usize = 512;
/// Below this, a chunk is merged with a neighbour if they fit together.
const MIN_CHUNK: usize = MAX_CHUNK / 8;

#[derive(Debug, Clone)]
pub(crate) struct Ordered<V> {
    /// Never an empty chunk; each sorted, and every key of a chunk below
    /// every key of the next.
    chunks: Vec<Vec<(String, V)>>,
    len: usize,
}

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<V> Ordered<V> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The chunk that holds `key` or would: the first whose last key is not
    /// below it (the last chunk for a key above them all).
    fn chunk_for(&self, key: &str) -> usize {
        let i = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|(k, _)| k.as_str() < key));
        i.min(self.chunks.len().saturating_sub(1))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        let chunk = self.chunks.get(self.chunk_for(key))?;
        chunk
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &chunk[i].1)
    }

    /// Inserts or replaces; returns the value replaced.
    pub(crate) fn insert(&mut self, key: String, value: V) -> Option<V> {
        if self.chunks.is_empty() {
            self.chunks.push(vec![(key, value)]);
            self.len = 1;
            return None;
        }
        let ci = self.chunk_for(&key);
        let chunk = &mut self.chunks[ci];
        match chunk.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(i) => Some(std::mem::replace(&mut chunk[i].1, value)),
            Err(i) => {
                chunk.insert(i, (key, value));
                self.len += 1;
                if chunk.len() > MAX_CHUNK {
                    let tail = chunk.split_off(chunk.len() / 2);
                    self.chunks.insert(ci + 1, tail);
                }
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let ci = self.chunk_for(key);
        let chunk = self.chunks.get_mut(ci)?;
        let i = chunk.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        let (_, value) = chunk.remove(i);
        self.len -= 1;
        if chunk.is_empty() {
            self.chunks.remove(ci);
        } else if chunk.len() < MIN_CHUNK {
            self.merge_around(ci);
        }
        Some(value)
    }

    /// Keeps chunks from thinning out under deletions, which would make
    /// counting walk many of them.
    fn merge_around(&mut self, ci: usize) {
        let fits = |a: usize, b: usize| a + b <= MAX_CHUNK;
        if ci + 1 < self.chunks.len() && fits(self.chunks[ci].len(), self.chunks[ci + 1].len()) {
            let next = self.chunks.remove(ci + 1);
            self.chunks[ci].extend(next);
        } else if ci > 0 && fits(self.chunks[ci - 1].len(), self.chunks[ci].len()) {
            let this = self.chunks.remove(ci);
            self.chunks[ci - 1].extend(this);
        }
    }

    /// How many keys sort below `bound` (an included bound counts the keys
    /// below it, an excluded one those up to and including it).
    pub(crate) fn rank(&self, bound: Bound<&str>) -> usize {
        let key = match bound {
            Bound::Unbounded => return 0,
            Bound::Included(k) | Bound::Excluded(k) => k,
        };
        let ci = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|(k, _)| k.as_str() < key));
        let before: usize = self.chunks[..ci].iter().map(Vec::len).sum();
        let within = self.chunks.get(ci).map_or(0, |c| match bound {
            Bound::Excluded(_) => c.partition_point(|(k, _)| k.as_str() <= key),
            _ => c.partition_point(|(k, _)| k.as_str() < key),
        });
        before + within
    }

    /// The entries from `start` on, in key order.
    pub(crate) fn iter_from<'a>(
        &'a self,
        start: Bound<&str>,
    ) -> impl Iterator<Item = (&'a str, &'a V)> + use<'a, V> {
        let (ci, pos) = match start {
            Bound::Unbounded => (0, 0),
            Bound::Included(key) | Bound::Excluded(key) => {
                let ci = self.chunk_for(key);
                let pos = self.chunks.get(ci).map_or(0, |c| {
                    c.partition_point(|(k, _)| match start {
                        Bound::Excluded(_) => k.as_str() <= key,
                        _ => k.as_str() < key,
                    })
                });
                (ci, pos)
            }
        };
        let first = self.chunks.get(ci).map_or(&[][..], |c| &c[pos..]);
        let rest = self.chunks.get(ci + 1..).unwrap_or_default();
        first
            .iter()
            .chain(rest.iter().flatten())
            .map(|(k, v)| (k.as_str(), v))
    }

    /// Sorted across chunks, no chunk empty or oversized, the length right.
    #[cfg(test)]
    fn check_invariants(&self) {
        assert!(self.chunks.iter().all(|c| !c.is_empty()), "an empty chunk");
        assert!(self.chunks.iter().all(|c| c.len() <= MAX_CHUNK));
        let keys: Vec<&str> = self
            .chunks
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys out of order");
        assert_eq!(keys.len(), self.len);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::ops::Bound;

    use proptest::prelude::*;

    use super::Ordered;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16),
        Remove(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u16..3000).prop_map(Op::Insert),
            2 => (0u16..3000).prop_map(Op::Remove),
        ]
    }

    fn key(n: u16) -> String {
        // Keys of different lengths, so byte order is not numeric order.
        format!("k{}", n)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Against a BTreeMap doing the same: lookups, seeks and ranks agree
        /// after any sequence of inserts and removes, across chunk splits
        /// and merges.
        #[test]
        fn behaves_as_a_btreemap(ops in proptest::collection::vec(op(), 1..4000), probe in 0u16..3000) {
            let mut ordered = Ordered::default();
            let mut model = BTreeMap::new();
            for (i, op) in ops.iter().enumerate() {
                match op {
                    Op::Insert(n) => prop_assert_eq!(ordered.insert(key(*n), i), model.insert(key(*n), i)),
                    Op::Remove(n) => prop_assert_eq!(ordered.remove(&key(*n)), model.remove(&key(*n))),
                }
            }
            ordered.check_invariants();
            prop_assert_eq!(ordered.len(), model.len());
            let probe = key(probe);
            prop_assert_eq!(ordered.get(&probe), model.get(&probe));
            for bound in [Bound::Included(probe.as_str()), Bound::Excluded(probe.as_str()), Bound::Unbounded] {
                let seek: Vec<(&str, &usize)> = ordered.iter_from(bound).collect();
                let want: Vec<(&str, &usize)> = model
                    .range::<str, _>((bound, Bound::Unbounded))
                    .map(|(k, v)| (k.as_str(), v))
                    .collect();
                prop_assert_eq!(&seek, &want);
                prop_assert_eq!(ordered.rank(bound), model.len() - want.len());
            }
        }
    }

    #[test]
    fn a_seek_past_every_key_yields_nothing() {
        let mut ordered = Ordered::default();
        for n in 0..2000u16 {
            ordered.insert(key(n), n);
        }
        assert!(ordered.iter_from(Bound::Excluded("z")).next().is_none());
        assert_eq!(ordered.rank(Bound::Included("z")), 2000);
        assert_eq!(ordered.iter_from(Bound::Excluded("")).count(), 2000);
    }
}
