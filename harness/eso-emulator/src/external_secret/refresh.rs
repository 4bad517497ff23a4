//! When ESO fetches again (`shouldRefresh`, `isSecretValid`,
//! externalsecret_controller.go, v2.9.0 as v0.20.4): by
//! `refreshPolicy`, `refreshInterval` counted from `status.refreshTime`,
//! a change of the ExternalSecret since `status.syncedResourceVersion`, and
//! a target that is not as ESO wrote it.

use std::time::Duration;

use eso_api::{CreationPolicy, RefreshPolicy};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Secret;

use super::View;
use super::target::target_valid;
use crate::util;

/// ESO's interval when `refreshInterval` cannot be read.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(3600);

impl View {
    /// The `syncedResourceVersion` of the ExternalSecret as it is now.
    pub(crate) fn current_resource_version(&self) -> String {
        util::synced_resource_version(self.generation, &self.labels, &self.annotations)
    }

    fn interval(&self) -> Duration {
        self.spec.interval().unwrap_or(DEFAULT_INTERVAL)
    }

    fn policy(&self) -> RefreshPolicy {
        self.spec.refresh_policy.unwrap_or(RefreshPolicy::Periodic)
    }

    /// ESO's `shouldRefresh`.
    pub(crate) fn refresh_due(&self, now: Timestamp) -> bool {
        let synced_once = self
            .status
            .synced_resource_version
            .as_deref()
            .is_some_and(|s| !s.is_empty());
        let changed = self.status.synced_resource_version.as_deref()
            != Some(self.current_resource_version().as_str());
        match self.policy() {
            RefreshPolicy::CreatedOnce => !synced_once,
            RefreshPolicy::OnChange => !synced_once || changed,
            RefreshPolicy::Periodic => {
                let interval = self.interval();
                if interval.is_zero() && synced_once {
                    return false;
                }
                if changed {
                    return true;
                }
                match self.status.refresh_time {
                    None => true,
                    Some(t) if t > now => true,
                    Some(t) => t
                        .checked_add(
                            SignedDuration::try_from(interval).unwrap_or(SignedDuration::MAX),
                        )
                        .map(|due| due <= now)
                        .unwrap_or(true),
                }
            }
        }
    }

    /// When the next periodic refresh falls due, if there is one.
    pub(crate) fn next_refresh(&self) -> Option<Timestamp> {
        if self.policy() != RefreshPolicy::Periodic {
            return None;
        }
        let interval = self.interval();
        if interval.is_zero() {
            return None;
        }
        self.status
            .refresh_time?
            .checked_add(SignedDuration::try_from(interval).ok()?)
            .ok()
    }

    /// Whether this reconcile syncs: a refresh is due, or the target is not
    /// as ESO wrote it (deleted, or edited by hand) where ESO writes one.
    pub(crate) fn sync_needed(&self, target: Option<&Secret>, now: Timestamp) -> bool {
        let valid =
            self.spec.target.creation_policy == CreationPolicy::None || target_valid(target);
        self.refresh_due(now) || !valid
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use eso_api::{ExternalSecretSpec, ExternalSecretStatus};

    use super::*;

    fn view(
        interval: &str,
        policy: Option<RefreshPolicy>,
        refresh_time: Option<&str>,
        synced: Option<&str>,
    ) -> View {
        let spec = ExternalSecretSpec {
            refresh_interval: Some(interval.into()),
            refresh_policy: policy,
            ..Default::default()
        };
        let mut v = View {
            namespace: "ns".into(),
            name: "es".into(),
            uid: "u".into(),
            resource_version: "1".into(),
            generation: 1,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            spec,
            status: ExternalSecretStatus::default(),
        };
        v.status.refresh_time = refresh_time.map(at);
        v.status.synced_resource_version = synced.map(|s| {
            if s == "current" {
                v.current_resource_version()
            } else {
                s.to_owned()
            }
        });
        v
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn periodic_refresh_rules() {
        let now = at("2026-01-01T12:00:00Z");
        // 1. interval 0 and synced once: never, even when the metadata changed.
        assert!(!view("0s", None, Some("2026-01-01T00:00:00Z"), Some("1-stale")).refresh_due(now));
        // 2. the resource version differs (force-sync): due.
        assert!(view("1h", None, Some("2026-01-01T11:59:00Z"), Some("1-stale")).refresh_due(now));
        // 3. never refreshed, or refreshTime in the future: due.
        assert!(view("1h", None, None, Some("current")).refresh_due(now));
        assert!(view("1h", None, Some("2026-01-02T00:00:00Z"), Some("current")).refresh_due(now));
        // 4. refreshTime + interval passed: due; not yet: not due.
        assert!(view("1h", None, Some("2026-01-01T10:59:00Z"), Some("current")).refresh_due(now));
        assert!(!view("1h", None, Some("2026-01-01T11:30:00Z"), Some("current")).refresh_due(now));
        // The next refresh is at refreshTime + interval.
        assert_eq!(
            view("1h", None, Some("2026-01-01T11:30:00Z"), Some("current")).next_refresh(),
            Some(at("2026-01-01T12:30:00Z"))
        );
    }

    #[test]
    fn on_change_and_created_once() {
        let now = at("2026-01-01T12:00:00Z");
        assert!(view("1m", Some(RefreshPolicy::OnChange), None, None).refresh_due(now));
        assert!(
            !view(
                "1m",
                Some(RefreshPolicy::OnChange),
                Some("2026-01-01T00:00:00Z"),
                Some("current")
            )
            .refresh_due(now)
        );
        assert!(
            view(
                "1m",
                Some(RefreshPolicy::OnChange),
                Some("2026-01-01T00:00:00Z"),
                Some("1-stale")
            )
            .refresh_due(now)
        );
        assert!(view("1m", Some(RefreshPolicy::CreatedOnce), None, None).refresh_due(now));
        assert!(
            !view(
                "1m",
                Some(RefreshPolicy::CreatedOnce),
                Some("2026-01-01T00:00:00Z"),
                Some("1-stale")
            )
            .refresh_due(now)
        );
    }

    #[test]
    fn an_invalid_target_is_synced_before_its_refresh_unless_none_is_written() {
        let now = at("2026-01-01T12:00:00Z");
        let fresh = view("1h", None, Some("2026-01-01T11:30:00Z"), Some("current"));
        assert!(fresh.sync_needed(None, now), "the target is missing");
        let mut none = fresh;
        none.spec.target.creation_policy = CreationPolicy::None;
        assert!(
            !none.sync_needed(None, now),
            "creationPolicy None writes no target"
        );
    }
}
