//! The drill's verdicts, worked out from the timelines and the objectives,
//! in the shape of the JSON report (`schema_version` says which shape).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::objectives::Objectives;
use super::recorder::{PhaseEvent, Timeline};
use crate::scenario::Phase;

/// Bumped whenever a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Met,
    Missed,
    /// The scenario did not run (its environment lacks what it needs).
    NotRun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "reason")]
pub enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataCheck {
    /// Holds the values it held before the disaster.
    Intact,
    /// Holds the new values the scenario put in Secrets Manager on purpose.
    ChangedAsIntended,
    /// Holds other values than it should.
    Differs,
    /// Does not exist at the end.
    Missing,
    /// Not checked: the scenario did not reach its baseline.
    NotChecked,
}

impl DataCheck {
    pub fn is_loss(self) -> bool {
        matches!(self, Self::Differs | Self::Missing)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DrillReport {
    pub schema_version: u32,
    pub tool: String,
    pub environment: String,
    /// Virtual in the embedded environment: waits such as "the refresh
    /// interval elapses" are jumps of its clock.
    pub clock: String,
    /// Both on the drill's clock, the one its events are stamped with: on
    /// a virtual clock `finished_at` is the latest instant any scenario's
    /// clock reached, later than the wall clock's end.
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    /// How long the drill took on the wall clock.
    #[serde(default)]
    pub wall_seconds: f64,
    pub objectives: Objectives,
    pub verdict: Verdict,
    /// Set when a signal stopped the drill: the report holds only the
    /// scenarios that finished, and the verdict is `missed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    pub scenarios: Vec<ScenarioReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub feature: String,
    pub name: String,
    pub outcome: Outcome,
    pub verdict: Verdict,
    /// Why the verdict is `missed`, one line per objective missed.
    pub reasons: Vec<String>,
    pub phases: Vec<PhaseReport>,
    pub secrets: Vec<SecretReport>,
    /// Jumps of the virtual clock (the scenario's waits), in order.
    #[serde(default)]
    pub jumps: Vec<JumpReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JumpReport {
    pub at: Timestamp,
    /// Seconds since the baseline when the clock jumped.
    pub offset_seconds: f64,
    /// How far it jumped.
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseReport {
    pub phase: Phase,
    pub at: Timestamp,
    /// Seconds since the baseline.
    pub offset_seconds: f64,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretReport {
    pub name: String,
    pub remote_key: String,
    /// Whether the disaster touched it (gone, other values, or not Ready).
    pub affected: bool,
    pub affected_at: Option<Timestamp>,
    pub restored_at: Option<Timestamp>,
    /// From the first recovery action (or the disaster) to restored.
    pub recovery_seconds: Option<f64>,
    /// From affected to restored.
    pub outage_seconds: Option<f64>,
    pub objective_seconds: f64,
    pub baseline_hash: String,
    pub expected_hash: String,
    pub final_hash: Option<String>,
    pub data: DataCheck,
    pub objective_met: bool,
}

/// What the runner hands over for each scenario.
#[derive(Debug, Clone)]
pub struct ScenarioRecord {
    pub feature: String,
    pub name: String,
    pub outcome: Outcome,
    /// `None` when the scenario never reached its baseline.
    pub timeline: Option<Timeline>,
}

fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_millisecond() - from.as_millisecond()) as f64 / 1000.0
}

fn first(phases: &[PhaseEvent], phase: Phase) -> Option<Timestamp> {
    phases.iter().find(|p| p.phase == phase).map(|p| p.at)
}

pub fn judge(record: &ScenarioRecord, objectives: &Objectives) -> ScenarioReport {
    let mut reasons = Vec::new();
    if let Outcome::Failed(why) = &record.outcome {
        reasons.push(format!("the scenario failed: {why}"));
    }
    let timeline = record.timeline.clone().unwrap_or_default();
    let baseline = first(&timeline.phases, Phase::Baseline);
    let disaster = first(&timeline.phases, Phase::DisasterInjected);
    let recovery_start = disaster.map(|d| {
        timeline
            .phases
            .iter()
            .find(|p| p.phase == Phase::RecoveryAction && p.at >= d)
            .map(|p| p.at)
            .unwrap_or(d)
    });
    let ran = !matches!(record.outcome, Outcome::Skipped(_));
    if ran && baseline.is_some() && disaster.is_none() {
        reasons.push("no disaster was injected".into());
    }
    let mut secrets = Vec::new();
    for (name, t) in &timeline.secrets {
        let objective = objectives.max_recovery_for(name);
        let affected = t.affected_at.is_some();
        let recovery_seconds = match (recovery_start, t.restored_at) {
            (Some(start), Some(restored)) if affected => {
                Some(seconds_between(start, restored).max(0.0))
            }
            _ => None,
        };
        let outage_seconds = match (t.affected_at, t.restored_at) {
            (Some(a), Some(r)) => Some(seconds_between(a, r)),
            _ => None,
        };
        let data = match &t.final_hash {
            _ if !ran => DataCheck::NotChecked,
            None => DataCheck::Missing,
            Some(h) if *h == t.baseline_hash && *h == t.expected_hash => DataCheck::Intact,
            Some(h) if *h == t.expected_hash => DataCheck::ChangedAsIntended,
            Some(_) => DataCheck::Differs,
        };
        let restored_in_time =
            !affected || recovery_seconds.is_some_and(|s| s <= objective.as_secs_f64());
        if ran && affected && t.restored_at.is_none() {
            reasons.push(format!("{name} was not restored"));
        } else if ran && !restored_in_time {
            reasons.push(format!(
                "{name} was restored in {:.1} s, objective {:.1} s",
                recovery_seconds.unwrap_or_default(),
                objective.as_secs_f64()
            ));
        }
        let loss = data.is_loss() && !objectives.allow_data_loss;
        if ran && loss {
            reasons.push(match data {
                DataCheck::Missing => {
                    format!("{name} does not exist at the end: its values are lost")
                }
                _ => format!(
                    "{name} ends holding {} instead of {}",
                    t.final_hash.as_deref().unwrap_or("nothing"),
                    t.expected_hash
                ),
            });
        }
        secrets.push(SecretReport {
            name: name.clone(),
            remote_key: t.remote_key.clone(),
            affected,
            affected_at: t.affected_at,
            restored_at: t.restored_at,
            recovery_seconds,
            outage_seconds,
            objective_seconds: objective.as_secs_f64(),
            baseline_hash: t.baseline_hash.clone(),
            expected_hash: t.expected_hash.clone(),
            final_hash: t.final_hash.clone(),
            data,
            objective_met: ran && restored_in_time && !loss,
        });
    }
    if ran && baseline.is_none() {
        reasons.push("the scenario never recorded its baseline".into());
    }
    let verdict = if !ran {
        Verdict::NotRun
    } else if reasons.is_empty() {
        Verdict::Met
    } else {
        Verdict::Missed
    };
    let offset = |at: Timestamp| baseline.map(|b| seconds_between(b, at)).unwrap_or(0.0);
    let phases = timeline
        .phases
        .iter()
        .map(|p| PhaseReport {
            phase: p.phase,
            at: p.at,
            offset_seconds: offset(p.at),
            detail: p.detail.clone(),
        })
        .collect();
    let jumps = timeline
        .jumps
        .iter()
        .map(|j| JumpReport {
            at: j.at,
            offset_seconds: offset(j.at),
            seconds: j.seconds,
        })
        .collect();
    ScenarioReport {
        feature: record.feature.clone(),
        name: record.name.clone(),
        outcome: record.outcome.clone(),
        verdict,
        reasons,
        phases,
        secrets,
        jumps,
    }
}

/// The latest instant a scenario's record holds (its clock may be virtual).
pub fn latest_instant(s: &ScenarioReport) -> Option<Timestamp> {
    let jumps = s.jumps.iter().map(|j| {
        j.at.checked_add(jiff::SignedDuration::from_secs_f64(j.seconds))
            .unwrap_or(j.at)
    });
    let secrets = s
        .secrets
        .iter()
        .flat_map(|x| [x.affected_at, x.restored_at].into_iter().flatten());
    s.phases
        .iter()
        .map(|p| p.at)
        .chain(jumps)
        .chain(secrets)
        .max()
}

/// The whole drill: missed if any scenario missed, and also when nothing ran.
pub fn overall(scenarios: &[ScenarioReport]) -> Verdict {
    if scenarios.iter().any(|s| s.verdict == Verdict::Missed) {
        Verdict::Missed
    } else if scenarios.iter().any(|s| s.verdict == Verdict::Met) {
        Verdict::Met
    } else {
        Verdict::NotRun
    }
}
