//! The clock every emulator reads its time from.
//!
//! Three kinds, one type: the system clock; a virtual clock that follows real
//! time but can be moved forward (the default for scenarios, so that work
//! scheduled "in one second" still happens while "in one hour" can be reached
//! by [`Clock::advance`]); and a frozen virtual clock that moves only when told.
//! Sleepers on a virtual clock wake as soon as an advance passes their deadline.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tokio::time::Instant;

/// A source of time to hand to an emulator and to the code that judges its
/// timestamps. Clones share one time: advancing one advances them all.
#[derive(Clone, Debug)]
pub struct Clock {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    System,
    Virtual(Arc<VirtualClock>),
}

#[derive(Debug)]
struct VirtualClock {
    state: Mutex<VirtualState>,
    /// Bumped on every jump so sleepers re-check their deadline.
    jumps: watch::Sender<u64>,
}

#[derive(Debug, Clone, Copy)]
struct VirtualState {
    /// Virtual time at `anchor`.
    base: Timestamp,
    anchor: Instant,
    /// Whether virtual time flows with real time between jumps.
    running: bool,
}

impl VirtualState {
    fn now(&self) -> Timestamp {
        if !self.running {
            return self.base;
        }
        let elapsed =
            SignedDuration::try_from(self.anchor.elapsed()).unwrap_or(SignedDuration::MAX);
        self.base.checked_add(elapsed).unwrap_or(Timestamp::MAX)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// Real time.
    pub fn system() -> Self {
        Self { kind: Kind::System }
    }

    /// Starts at the current real time, flows with it, and can be moved forward.
    pub fn virtual_running() -> Self {
        Self::new_virtual(Timestamp::now(), true)
    }

    /// Stands still at `start` until moved with [`Clock::advance`] or [`Clock::set`].
    pub fn frozen_at(start: Timestamp) -> Self {
        Self::new_virtual(start, false)
    }

    fn new_virtual(start: Timestamp, running: bool) -> Self {
        let (jumps, _) = watch::channel(0);
        let state = VirtualState {
            base: start,
            anchor: Instant::now(),
            running,
        };
        Self {
            kind: Kind::Virtual(Arc::new(VirtualClock {
                state: Mutex::new(state),
                jumps,
            })),
        }
    }

    /// Whether the clock can be moved (and so whether a wait of an hour can
    /// be an [`Clock::advance`] instead of an hour).
    pub fn is_virtual(&self) -> bool {
        matches!(self.kind, Kind::Virtual(_))
    }

    /// The time on this clock.
    pub fn now(&self) -> Timestamp {
        match &self.kind {
            Kind::System => Timestamp::now(),
            Kind::Virtual(v) => v.lock().now(),
        }
    }

    /// Moves a virtual clock forward and wakes every sleeper whose deadline has
    /// passed. Returns an error on the system clock, which cannot be moved.
    pub fn advance(&self, by: Duration) -> Result<Timestamp, ClockError> {
        let by = SignedDuration::try_from(by).map_err(|_| ClockError::OutOfRange)?;
        self.jump(|now| now.checked_add(by).map_err(|_| ClockError::OutOfRange))
    }

    /// Sets a virtual clock to `to`, which must not be before its current time.
    pub fn set(&self, to: Timestamp) -> Result<Timestamp, ClockError> {
        self.jump(|now| {
            if to < now {
                Err(ClockError::Backwards { now, to })
            } else {
                Ok(to)
            }
        })
    }

    fn jump(
        &self,
        target: impl FnOnce(Timestamp) -> Result<Timestamp, ClockError>,
    ) -> Result<Timestamp, ClockError> {
        let Kind::Virtual(v) = &self.kind else {
            return Err(ClockError::NotVirtual);
        };
        let new_now = {
            let mut state = v.lock();
            let new_now = target(state.now())?;
            state.base = new_now;
            state.anchor = Instant::now();
            new_now
        };
        v.jumps.send_modify(|n| *n += 1);
        Ok(new_now)
    }

    /// Completes once the clock reads `deadline` or later.
    pub async fn sleep_until(&self, deadline: Timestamp) {
        match &self.kind {
            Kind::System => {
                let remaining = deadline.duration_since(Timestamp::now());
                if remaining.is_positive() {
                    tokio::time::sleep(remaining.unsigned_abs()).await;
                }
            }
            Kind::Virtual(v) => {
                let mut jumps = v.jumps.subscribe();
                loop {
                    let state = *v.lock();
                    let remaining = deadline.duration_since(state.now());
                    if !remaining.is_positive() {
                        return;
                    }
                    if state.running {
                        tokio::select! {
                            _ = tokio::time::sleep(remaining.unsigned_abs()) => {}
                            changed = jumps.changed() => if changed.is_err() { return; }
                        }
                    } else if jumps.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Completes once `duration` has passed on this clock (at once when an
    /// advance carries it past, never on a frozen clock left alone).
    pub async fn sleep(&self, duration: Duration) {
        let deadline = SignedDuration::try_from(duration)
            .ok()
            .and_then(|d| self.now().checked_add(d).ok())
            .unwrap_or(Timestamp::MAX);
        self.sleep_until(deadline).await;
    }
}

impl VirtualClock {
    fn lock(&self) -> MutexGuard<'_, VirtualState> {
        // A panic while holding this lock cannot leave the state half-written
        // (every write is a plain field store), so poisoning is safe to ignore.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a clock could not be moved.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClockError {
    /// Only a virtual clock moves; real time is not the emulator's.
    #[error("the system clock cannot be moved; use a virtual clock")]
    NotVirtual,
    /// [`Clock::set`] to a time before the clock's: what was stamped with
    /// the later time would be in the future.
    #[error("the clock cannot go backwards (now {now}, asked for {to})")]
    Backwards {
        /// The clock's time when asked.
        now: Timestamp,
        /// The time asked for.
        to: Timestamp,
    },
    /// The move would take the clock past what a timestamp can hold.
    #[error("time out of range")]
    OutOfRange,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frozen_clock_moves_only_when_advanced() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = Clock::frozen_at(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(3600)).unwrap();
        assert_eq!(
            clock.now(),
            "2026-01-01T01:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[tokio::test]
    async fn advancing_wakes_sleepers_whose_deadline_passed() {
        let clock = Clock::frozen_at("2026-01-01T00:00:00Z".parse().unwrap());
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep(Duration::from_secs(3600)).await })
        };
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(1800)).unwrap();
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "woke before its deadline");
        clock.advance(Duration::from_secs(1800)).unwrap();
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("sleeper did not wake within 5s of its deadline being passed")
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn running_virtual_clock_follows_real_time() {
        let clock = Clock::virtual_running();
        let before = clock.now();
        tokio::time::advance(Duration::from_secs(10)).await;
        let elapsed = clock.now().duration_since(before);
        assert!(
            elapsed >= SignedDuration::from_secs(10),
            "elapsed {elapsed}"
        );
    }

    #[test]
    fn system_clock_cannot_move_and_virtual_cannot_go_back() {
        assert_eq!(
            Clock::system().advance(Duration::from_secs(1)),
            Err(ClockError::NotVirtual)
        );
        let clock = Clock::frozen_at("2026-01-01T00:00:00Z".parse().unwrap());
        assert!(matches!(
            clock.set("2025-01-01T00:00:00Z".parse().unwrap()),
            Err(ClockError::Backwards { .. })
        ));
    }
}
