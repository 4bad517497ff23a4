//! The work queue: each object at most once, with the time it falls due,
//! taken earliest first (as controller-runtime's rate-limited workqueue
//! hands out keys), with per-object failure counts for the backoff; and what
//! the controller is doing, so that a harness moving a virtual clock can
//! skip the time it would only spend waiting.
//!
//! Keys are held twice, by key (to find an object's entry) and by due time
//! (to find what is due): taking the next key costs a lookup, never a scan
//! of every object, so reconciling N objects costs O(N log N), not O(N²).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use emulator_core::Clock;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};

use eso_api::StoreKind;

/// What the scheduler should do next with an object, once reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Reconcile again at this time.
    At(Timestamp),
    /// Only a change to the object (or its target) brings it back.
    Idle,
    /// Failed: back off.
    Backoff,
    /// The object is gone.
    Forget,
}

/// What the controller reconciles. Stores sort first, so that a store and
/// the ExternalSecrets using it falling due together are done in that order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Key {
    Store {
        kind: StoreKind,
        namespace: String,
        name: String,
    },
    ExternalSecret {
        namespace: String,
        name: String,
    },
}

/// What the controller is doing, as far as time is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Reconciling, or something is due now.
    Working,
    /// Waiting on the clock: nothing happens before `until` (`None`: only a
    /// change to an object brings work).
    Idle {
        /// When the next wait ends.
        until: Option<Timestamp>,
    },
}

pub(crate) struct Queue {
    state: Mutex<State>,
    /// Wakes the loop that takes due keys.
    pub notify: Notify,
    /// Bumped on every change of what the controller is doing.
    changes: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    due: HashMap<Key, Timestamp>,
    by_time: BTreeSet<(Timestamp, Key)>,
    failures: HashMap<Key, u32>,
    /// Keys taken and not yet done.
    in_flight: usize,
    /// Deadlines of the reconciles' waits on the clock (the AWS SDK's
    /// backoff between attempts), each with how many wait for it.
    sleeping: BTreeMap<Timestamp, usize>,
}

impl Default for Queue {
    fn default() -> Self {
        Self {
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            changes: watch::channel(0).0,
        }
    }
}

impl State {
    fn put(&mut self, key: Key, at: Timestamp) {
        if let Some(old) = self.due.insert(key.clone(), at) {
            self.by_time.remove(&(old, key.clone()));
        }
        self.by_time.insert((at, key));
    }

    fn unschedule(&mut self, key: &Key) {
        if let Some(old) = self.due.remove(key) {
            self.by_time.remove(&(old, key.clone()));
        }
    }

    /// 1 s, 2 s, 4 s, ... up to `max`.
    fn backoff(&mut self, key: &Key, max: Duration) -> Duration {
        let n = self.failures.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        Duration::from_secs(1u64.checked_shl((*n - 1).min(30)).unwrap_or(u64::MAX)).min(max)
    }
}

pub(crate) fn after(now: Timestamp, d: Duration) -> Timestamp {
    now.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX)
}

impl Queue {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
        out
    }

    /// Due at `at` or earlier: an object already waiting keeps the earlier
    /// of its two times.
    pub(crate) fn add(&self, key: Key, at: Timestamp) {
        self.with(|s| {
            if s.due.get(&key).is_none_or(|old| at < *old) {
                s.put(key, at);
            }
        });
        self.notify.notify_one();
    }

    /// Forgets an object: its time and its failures.
    pub(crate) fn remove(&self, key: &Key) {
        self.with(|s| {
            s.unschedule(key);
            s.failures.remove(key);
        });
    }

    /// Takes up to `max` keys due at `now`, earliest (then stores) first;
    /// each is in flight until [`Queue::done`].
    pub(crate) fn take_due(&self, now: Timestamp, max: usize) -> Vec<Key> {
        self.with(|s| {
            let mut taken = Vec::new();
            while taken.len() < max {
                match s.by_time.first() {
                    Some((t, _)) if *t <= now => {}
                    _ => break,
                }
                let Some((_, key)) = s.by_time.pop_first() else {
                    break;
                };
                s.due.remove(&key);
                taken.push(key);
            }
            s.in_flight += taken.len();
            taken
        })
    }

    /// A taken key's reconcile ended at `now` with `next`: due again at the
    /// time it asked for, after its backoff, or not at all, unless a change
    /// to the object while it ran made it due earlier. controller-runtime's
    /// workqueue, which ESO's controllers use, keeps such a key dirty and
    /// hands it out again as soon as the reconcile is done, whatever that
    /// reconcile's own requeue says: a force-sync annotation written while
    /// the ExternalSecret was being synced is not lost.
    pub(crate) fn done(&self, key: Key, next: Next, now: Timestamp, max_backoff: Duration) {
        self.with(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            // Taken keys leave `due`, so a time there now came while it ran.
            let changed_meanwhile = s.due.get(&key).copied();
            let earliest = |t: Timestamp| changed_meanwhile.map_or(t, |c| c.min(t));
            match next {
                Next::At(t) => {
                    s.failures.remove(&key);
                    s.put(key, earliest(t));
                }
                Next::Idle | Next::Forget => {
                    s.failures.remove(&key);
                }
                Next::Backoff => {
                    let wait = s.backoff(&key, max_backoff);
                    s.put(key.clone(), earliest(after(now, wait)));
                }
            }
        });
        self.notify.notify_one();
    }

    /// The earliest time anything is due.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.by_time.first().map(|(t, _)| *t)
    }

    /// When `key` is due, if it is waiting.
    #[cfg(test)]
    pub(crate) fn due_at(&self, key: &Key) -> Option<Timestamp> {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.due.get(key).copied()
    }

    pub(crate) fn pending(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .due
            .len()
    }

    /// A reconcile waits on the clock until `deadline`, for as long as the
    /// guard lives.
    pub(crate) fn sleeping(self: &Arc<Self>, deadline: Timestamp) -> SleepingGuard {
        self.with(|s| *s.sleeping.entry(deadline).or_insert(0) += 1);
        SleepingGuard {
            queue: self.clone(),
            deadline,
        }
    }

    /// What the controller is doing at `now`.
    pub(crate) fn activity(&self, now: Timestamp) -> Activity {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // A wait whose deadline has passed is about to end: not waiting.
        let ahead = || s.sleeping.range((Bound::Excluded(now), Bound::Unbounded));
        let asleep: usize = ahead().map(|(_, n)| *n).sum();
        let next_due = s.by_time.first().map(|(t, _)| *t);
        // Keys due wait for the batch in flight to end (the loop takes the
        // next batch then), so while every reconcile of it waits on the
        // clock, the controller waits.
        let can_start = s.in_flight == 0 && next_due.is_some_and(|t| t <= now);
        if s.in_flight > asleep || can_start {
            return Activity::Working;
        }
        let next_wake = ahead().next().map(|(t, _)| *t);
        // Keys already due start when the batch ends, not at a time.
        let next_due = next_due.filter(|t| *t > now);
        let until = match (next_due, next_wake) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Activity::Idle { until }
    }

    /// Tells of each change of [`Queue::activity`].
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("pending", &self.pending())
            .finish_non_exhaustive()
    }
}

/// What a controller is doing, followed from outside it: by a harness that
/// moves a virtual clock past the time the controller would only wait.
#[derive(Debug, Clone)]
pub struct Schedule {
    queue: Arc<Queue>,
    clock: Clock,
}

impl Schedule {
    pub(crate) fn new(queue: Arc<Queue>, clock: Clock) -> Self {
        Self { queue, clock }
    }

    /// What the controller is doing now.
    pub fn activity(&self) -> Activity {
        self.queue.activity(self.clock.now())
    }

    /// Changes with each change of [`Schedule::activity`] (it does not end
    /// when the controller stops: nothing changes any more).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.queue.subscribe()
    }
}

/// Ends a reconcile's wait on the clock when dropped.
pub(crate) struct SleepingGuard {
    queue: Arc<Queue>,
    deadline: Timestamp,
}

impl Drop for SleepingGuard {
    fn drop(&mut self) {
        let deadline = self.deadline;
        self.queue.with(|s| {
            if let Some(n) = s.sleeping.get_mut(&deadline) {
                *n -= 1;
                if *n == 0 {
                    s.sleeping.remove(&deadline);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es(name: &str) -> Key {
        Key::ExternalSecret {
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    fn store(name: &str) -> Key {
        Key::Store {
            kind: StoreKind::SecretStore,
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    const MAX: Duration = Duration::from_secs(420);

    #[test]
    fn keys_are_taken_by_due_time_then_stores_first() {
        let q = Queue::default();
        q.add(es("late"), t(30));
        q.add(es("b"), t(10));
        q.add(es("a"), t(10));
        q.add(store("s"), t(10));
        q.add(es("early"), t(5));
        assert_eq!(q.take_due(t(4), 10), Vec::<Key>::new(), "nothing due yet");
        assert_eq!(q.take_due(t(10), 2), [es("early"), store("s")]);
        assert_eq!(q.take_due(t(10), 10), [es("a"), es("b")]);
        assert_eq!(q.next_due(), Some(t(30)));
        assert_eq!(q.take_due(t(100), 10), [es("late")]);
        assert_eq!(q.pending(), 0);
    }

    #[test]
    fn a_key_waits_once_at_its_earliest_time() {
        let q = Queue::default();
        q.add(es("a"), t(20));
        q.add(es("a"), t(10));
        q.add(es("a"), t(30));
        assert_eq!(q.pending(), 1);
        assert_eq!(q.due_at(&es("a")), Some(t(10)));
        assert_eq!(q.take_due(t(100), 10), [es("a")], "taken once");
        assert_eq!(q.take_due(t(100), 10), Vec::<Key>::new());
    }

    #[test]
    fn a_change_while_the_reconcile_ran_is_not_lost_to_its_requeue() {
        let q = Queue::default();
        q.add(es("a"), t(0));
        assert_eq!(q.take_due(t(0), 1), [es("a")]);
        q.add(es("a"), t(1));
        q.done(es("a"), Next::At(t(3600)), t(2), MAX);
        assert_eq!(q.due_at(&es("a")), Some(t(1)), "after a requeue");
        assert_eq!(q.take_due(t(2), 1), [es("a")]);
        q.done(es("a"), Next::At(t(3600)), t(2), MAX);
        assert_eq!(q.due_at(&es("a")), Some(t(3600)), "nothing came meanwhile");
        q.add(es("a"), t(5));
        assert_eq!(
            q.due_at(&es("a")),
            Some(t(5)),
            "a change makes it due earlier"
        );
        for next in [Next::Backoff, Next::Idle, Next::Forget] {
            assert_eq!(q.take_due(t(10), 1), [es("a")]);
            q.add(es("a"), t(10));
            q.done(es("a"), next, t(10), MAX);
            assert_eq!(q.due_at(&es("a")), Some(t(10)), "after {next:?}");
        }
    }

    #[test]
    fn backoff_doubles_from_one_second_to_the_cap_on_the_given_clock() {
        let q = Queue::default();
        let mut now = t(0);
        q.add(es("a"), now);
        let mut waits = Vec::new();
        for _ in 0..12 {
            assert_eq!(q.take_due(now, 1), [es("a")]);
            q.done(es("a"), Next::Backoff, now, MAX);
            let due = q.due_at(&es("a")).unwrap();
            waits.push(due.duration_since(now).as_secs());
            assert_eq!(
                q.take_due(due - SignedDuration::from_millis(1), 1),
                Vec::<Key>::new(),
                "taken before its backoff ended"
            );
            now = due;
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 420, 420, 420]);
        assert_eq!(q.take_due(now, 1), [es("a")]);
        q.done(es("a"), Next::At(t(90_000)), now, MAX);
        q.add(es("a"), now);
        assert_eq!(q.take_due(now, 1), [es("a")]);
        q.done(es("a"), Next::Backoff, now, MAX);
        assert_eq!(
            q.due_at(&es("a")),
            Some(after(now, Duration::from_secs(1))),
            "success resets the backoff"
        );
    }

    #[test]
    fn forgetting_drops_the_time_and_the_failures() {
        let q = Queue::default();
        q.add(es("a"), t(0));
        q.take_due(t(0), 1);
        q.done(es("a"), Next::Backoff, t(0), MAX);
        assert_eq!(q.take_due(t(1), 1), [es("a")]);
        q.done(es("a"), Next::Forget, t(1), MAX);
        assert_eq!(q.pending(), 0);
        q.add(es("a"), t(0));
        q.take_due(t(0), 1);
        q.done(es("a"), Next::Backoff, t(0), MAX);
        assert_eq!(q.due_at(&es("a")), Some(t(1)), "failures counted afresh");
    }

    #[test]
    fn activity_says_what_the_controller_waits_for() {
        let q = Arc::new(Queue::default());
        assert_eq!(q.activity(t(0)), Activity::Idle { until: None });
        q.add(es("a"), t(0));
        q.add(es("b"), t(60));
        assert_eq!(q.activity(t(0)), Activity::Working, "a key is due");
        assert_eq!(q.take_due(t(0), 1), [es("a")]);
        assert_eq!(q.activity(t(0)), Activity::Working, "a reconcile runs");
        let asleep = q.sleeping(t(2));
        assert_eq!(
            q.activity(t(0)),
            Activity::Idle { until: Some(t(2)) },
            "the only reconcile waits on the clock"
        );
        assert_eq!(
            q.activity(t(2)),
            Activity::Working,
            "a wait whose deadline passed is ending"
        );
        q.add(es("c"), t(0));
        assert_eq!(
            q.activity(t(0)),
            Activity::Idle { until: Some(t(2)) },
            "a key due waits for the batch waiting on the clock"
        );
        drop(asleep);
        assert_eq!(q.activity(t(0)), Activity::Working, "it runs again");
        q.done(es("a"), Next::Backoff, t(0), MAX);
        assert_eq!(q.activity(t(0)), Activity::Working, "c can start");
        assert_eq!(q.take_due(t(0), 1), [es("c")]);
        q.done(es("c"), Next::Idle, t(0), MAX);
        assert_eq!(q.activity(t(0)), Activity::Idle { until: Some(t(1)) });
        assert_eq!(q.activity(t(1)), Activity::Working, "its backoff is over");
    }

    #[test]
    fn every_change_is_told() {
        let q = Queue::default();
        let mut rx = q.subscribe();
        rx.borrow_and_update();
        q.add(es("a"), t(0));
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        q.take_due(t(0), 1);
        assert!(rx.has_changed().unwrap());
        rx.borrow_and_update();
        q.done(es("a"), Next::Idle, t(0), MAX);
        assert!(rx.has_changed().unwrap());
    }
}
