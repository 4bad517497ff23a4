//! What happens during one drill scenario: the phases the steps mark, and,
//! from a watch on the namespace, when each Secret stopped holding the values
//! it should and when it held them again.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use emulator_core::Clock;
use futures::StreamExt as _;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use serde::{Deserialize, Serialize};

use crate::eso_model;
use crate::scenario::phases::{Phase, PhaseSink};
use crate::secret_data::{SecretData, data_of, short_hash};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseEvent {
    pub phase: Phase,
    pub at: Timestamp,
    /// The step or Secret; never a value.
    pub detail: String,
}

/// One Secret followed through the drill.
#[derive(Debug, Clone)]
pub struct SecretTrack {
    pub remote_key: String,
    pub baseline_hash: String,
    /// What it should hold now: the baseline, unless the scenario changed
    /// the value in Secrets Manager on purpose.
    pub expected_hash: String,
    pub affected_at: Option<Timestamp>,
    pub restored_at: Option<Timestamp>,
    pub final_hash: Option<String>,
    healthy: bool,
    /// What the watch saw last: the data's hash (`None`: no such Secret) and
    /// whether its ExternalSecret was Ready. Kept so that a change of what
    /// the Secret should hold is judged at once, even when nothing in the
    /// namespace moves (the controller is down).
    observed: Option<(Option<String>, bool)>,
}

impl SecretTrack {
    /// Judges the Secret on what was seen last; true when it came back.
    fn evaluate(&mut self, now: Timestamp, disaster_seen: bool) -> bool {
        let Some((hash, ready)) = &self.observed else {
            return false;
        };
        let healthy = *ready && hash.as_ref() == Some(&self.expected_hash);
        let mut came_back = false;
        if self.healthy && !healthy && disaster_seen {
            self.affected_at.get_or_insert(now);
            self.restored_at = None;
        } else if !self.healthy && healthy && self.affected_at.is_some() {
            self.restored_at = Some(now);
            came_back = true;
        }
        // Before any disaster, the baseline is what "healthy" means.
        self.healthy = healthy || !disaster_seen;
        came_back
    }
}

/// A jump of a virtual clock: `seconds` passed at `at` in no time at all.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClockJump {
    pub at: Timestamp,
    pub seconds: f64,
}

/// The finished record of one scenario.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub phases: Vec<PhaseEvent>,
    pub secrets: BTreeMap<String, SecretTrack>,
    pub jumps: Vec<ClockJump>,
}

#[derive(Default)]
struct State {
    clock: Option<Clock>,
    timeline: Timeline,
    watch: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for State {
    fn drop(&mut self) {
        if let Some(w) = self.watch.take() {
            w.abort();
        }
    }
}

/// Shared between the scenario's steps and its watch task.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<State>>);

impl Recorder {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_started(&self) -> bool {
        self.state().clock.is_some()
    }

    /// Stops the watch and takes the record, with what each Secret holds at
    /// the end (`None`: it does not exist).
    pub fn finish(
        &self,
        finals: BTreeMap<String, Option<BTreeMap<String, Vec<u8>>>>,
        verified: bool,
    ) -> Timeline {
        let mut st = self.state();
        if let Some(w) = st.watch.take() {
            w.abort();
        }
        let now = st.clock.as_ref().map(Clock::now);
        for (name, data) in finals {
            if let Some(t) = st.timeline.secrets.get_mut(&name) {
                t.final_hash = data.as_ref().map(short_hash);
                // The watch may not have delivered the last change before it
                // stopped (a loaded machine); a Secret the scenario's checks
                // found holding what it should was restored by now at the
                // latest, and counts from now: later, never earlier, than
                // when it was.
                if let (true, Some(now), Some(_), None) =
                    (verified, now, t.affected_at, t.restored_at)
                    && t.final_hash.as_ref() == Some(&t.expected_hash)
                {
                    t.restored_at = Some(now);
                }
            }
        }
        if let (true, Some(now)) = (verified, now) {
            st.timeline.phases.push(PhaseEvent {
                phase: Phase::Verified,
                at: now,
                detail: "the scenario's checks passed".into(),
            });
        }
        let mut timeline = st.timeline.clone();
        timeline.phases.sort_by_key(|p| p.at);
        timeline
    }

    /// Re-evaluates every tracked Secret against the watched state.
    fn observe(&self, secrets: &Store<Secret>, ess: &Store<DynamicObject>, namespace: &str) {
        let mut st = self.state();
        let Some(now) = st.clock.as_ref().map(Clock::now) else {
            return;
        };
        let disaster_seen = st.disaster_seen();
        let mut restored = Vec::new();
        let es_resource = crate::eso_model::external_secrets();
        for (name, track) in st.timeline.secrets.iter_mut() {
            let hash = secrets
                .get(&ObjectRef::new(name).within(namespace))
                .map(|s| short_hash(&data_of(&s)));
            let ready = ess
                .get(&ObjectRef::new_with(name, es_resource.clone()).within(namespace))
                .is_some_and(|es| eso_model::is_ready(&es));
            track.observed = Some((hash, ready));
            if track.evaluate(now, disaster_seen) {
                restored.push(name.clone());
            }
        }
        for name in restored {
            st.restored(now, name);
        }
    }
}

/// What the scenario's steps tell the drill.
impl PhaseSink for Recorder {
    /// Records the baseline and starts watching the namespace; the receiver
    /// answers once the watch has listed both kinds (from then on no change
    /// is missed).
    /// `secrets`: ExternalSecret (= target Secret) name → (remote key, data now).
    fn start(
        &self,
        clock: Clock,
        client: kube::Client,
        namespace: &str,
        secrets: BTreeMap<String, (String, SecretData)>,
    ) -> tokio::sync::oneshot::Receiver<()> {
        let now = clock.now();
        {
            let mut st = self.state();
            st.timeline.secrets = secrets
                .into_iter()
                .map(|(name, (remote_key, data))| {
                    let hash = short_hash(&data);
                    let track = SecretTrack {
                        remote_key,
                        baseline_hash: hash.clone(),
                        expected_hash: hash,
                        affected_at: None,
                        restored_at: None,
                        final_hash: None,
                        healthy: true,
                        observed: None,
                    };
                    (name, track)
                })
                .collect();
            st.timeline.phases.push(PhaseEvent {
                phase: Phase::Baseline,
                at: now,
                detail: "values of every Secret recorded".into(),
            });
            st.clock = Some(clock);
        }
        let (ready, listed) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(watch(self.clone(), client, namespace.to_owned(), ready));
        self.state().watch = Some(task);
        listed
    }

    /// Marks a phase now. A detection counts once per disaster, and only
    /// before recovery starts; marks before the baseline are ignored.
    fn mark(&self, phase: Phase, detail: &str) {
        let mut st = self.state();
        let Some(now) = st.clock.as_ref().map(Clock::now) else {
            return;
        };
        if phase == Phase::Detected {
            let phases = &st.timeline.phases;
            let Some(disaster) = phases
                .iter()
                .rposition(|p| p.phase == Phase::DisasterInjected)
            else {
                return;
            };
            if phases[disaster..]
                .iter()
                .any(|p| matches!(p.phase, Phase::Detected | Phase::RecoveryAction))
            {
                return;
            }
        }
        st.timeline.phases.push(PhaseEvent {
            phase,
            at: now,
            detail: detail.into(),
        });
    }

    /// The scenario changed a value in Secrets Manager on purpose: from now
    /// on the Secret should hold the new one.
    fn expect(&self, secret: &str, data: &SecretData) {
        let mut st = self.state();
        let Some(now) = st.clock.as_ref().map(Clock::now) else {
            return;
        };
        let disaster_seen = st.disaster_seen();
        let restored = st.timeline.secrets.get_mut(secret).is_some_and(|t| {
            t.expected_hash = short_hash(data);
            t.evaluate(now, disaster_seen)
        });
        if restored {
            st.restored(now, secret.to_owned());
        }
    }

    /// The virtual clock jumped from `from` to `to` (a wait of the scenario).
    fn jumped(&self, from: Timestamp, to: Timestamp) {
        let mut st = self.state();
        if st.clock.is_none() || to <= from {
            return;
        }
        let seconds = (to.as_millisecond() - from.as_millisecond()) as f64 / 1000.0;
        st.timeline.jumps.push(ClockJump { at: from, seconds });
    }
}

impl State {
    fn disaster_seen(&self) -> bool {
        self.timeline
            .phases
            .iter()
            .any(|p| p.phase == Phase::DisasterInjected)
    }

    fn restored(&mut self, at: Timestamp, name: String) {
        self.timeline.phases.push(PhaseEvent {
            phase: Phase::SecretRestored,
            at,
            detail: name,
        });
    }
}

async fn watch(
    recorder: Recorder,
    client: kube::Client,
    namespace: String,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let (secrets, secrets_writer) = reflector::store::<Secret>();
    let es_resource = crate::eso_model::external_secrets();
    let ess_writer = reflector::store::Writer::<DynamicObject>::new(es_resource.clone());
    let ess = ess_writer.as_reader();
    let secret_events = reflector::reflector(
        secrets_writer,
        watcher(
            Api::<Secret>::namespaced(client.clone(), &namespace),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .map(|e| (0, matches!(e, Ok(watcher::Event::InitDone))))
    .boxed();
    let es_events = reflector::reflector(
        ess_writer,
        watcher(
            Api::<DynamicObject>::namespaced_with(client, &namespace, &es_resource),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .map(|e| (1, matches!(e, Ok(watcher::Event::InitDone))))
    .boxed();
    let mut events = futures::stream::select(secret_events, es_events);
    // Judging before both lists arrived would see every Secret missing.
    let mut listed = [false, false];
    let mut ready = Some(ready);
    while let Some((kind, init_done)) = events.next().await {
        listed[kind] |= init_done;
        if listed != [true, true] {
            continue;
        }
        if let Some(r) = ready.take() {
            let _ = r.send(());
        }
        recorder.observe(&secrets, &ess, &namespace);
    }
}
