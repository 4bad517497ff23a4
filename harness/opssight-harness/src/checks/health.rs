//! On a live system (`--env existing`, kind, binaries), `check`'s checks
//! before the first scenario and after the last: a run that leaves the
//! system less healthy than it found it fails, and the run's output says
//! which it was.

use std::collections::BTreeSet;
use std::time::Duration;

use super::weekly::{self, CheckKind, CheckOptions, CheckReport};
use crate::system::{ESO_NAMESPACE, NAMESPACE};

/// The options `check` runs with by default: the runbook's namespaces.
fn options() -> CheckOptions {
    CheckOptions {
        namespace: Some(NAMESPACE.to_owned()),
        eso_namespace: ESO_NAMESPACE.to_owned(),
        margin: Duration::from_secs(300),
    }
}

/// `check`'s findings at one moment.
#[derive(Debug, Clone)]
pub struct Health {
    checks: usize,
    /// (check, object) of each problem.
    problems: BTreeSet<(String, String)>,
    /// Problems that time alone can make (a refresh that falls due during
    /// a long run), which do not fail the run but are said.
    time_bound: BTreeSet<(String, String)>,
}

impl Health {
    pub async fn read(client: &kube::Client) -> anyhow::Result<Self> {
        let report = weekly::run(client, None, &options()).await?;
        Ok(Self::of(&report))
    }

    /// Reads until `settled` holds of a reading, or `within` has passed:
    /// controllers catch up with what was just put back (a store's spec
    /// restored is validated again, its ExternalSecrets then sync) at their
    /// own pace. Gives the last reading either way; the caller judges it.
    pub async fn read_until(
        client: &kube::Client,
        within: Duration,
        settled: impl Fn(&Self) -> bool,
    ) -> anyhow::Result<Self> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let health = Self::read(client).await?;
            if settled(&health) || tokio::time::Instant::now() >= deadline {
                return Ok(health);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub fn healthy(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn of(report: &CheckReport) -> Self {
        let mut problems = BTreeSet::new();
        let mut time_bound = BTreeSet::new();
        for f in report.findings.iter().filter(|f| !f.ok) {
            let key = (format!("{:?}", f.check), f.object.clone());
            if f.check == CheckKind::ExternalSecretFresh {
                time_bound.insert(key);
            } else {
                problems.insert(key);
            }
        }
        Self {
            checks: report.findings.len(),
            problems,
            time_bound,
        }
    }
}

/// How the system ends compared with how the run found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    AsFound {
        checks: usize,
        /// Problems there at the start and still there ("check object").
        known_problems: Vec<String>,
    },
    /// Problems there now that were not at the start ("check object").
    Worse(Vec<String>),
}

impl Comparison {
    pub fn line(&self, stale: &[String]) -> String {
        let mut line = match self {
            Self::AsFound {
                checks,
                known_problems,
            } if known_problems.is_empty() => {
                format!("health after the run: as the harness found it (all {checks} checks pass)")
            }
            Self::AsFound {
                checks,
                known_problems,
            } => format!(
                "health after the run: as the harness found it ({checks} checks; none new, and the {} it found still there: {})",
                if known_problems.len() == 1 {
                    "problem".to_owned()
                } else {
                    format!("{} problems", known_problems.len())
                },
                known_problems.join("; ")
            ),
            Self::Worse(new) => format!(
                "health after the run: WORSE than the harness found it: {}",
                new.join("; ")
            ),
        };
        if !stale.is_empty() {
            line.push_str(&format!(
                " (refresh now overdue, which time alone can do: {})",
                stale.join(", ")
            ));
        }
        line
    }
}

/// Compares the end with the start: what is new, and what only time made.
pub fn compare(before: &Health, after: &Health) -> (Comparison, Vec<String>) {
    let new: Vec<String> = after
        .problems
        .difference(&before.problems)
        .map(|(check, object)| format!("{check} {object}"))
        .collect();
    let stale = after
        .time_bound
        .difference(&before.time_bound)
        .map(|(_, object)| object.clone())
        .collect();
    let comparison = if new.is_empty() {
        Comparison::AsFound {
            checks: after.checks,
            known_problems: after
                .problems
                .iter()
                .map(|(check, object)| format!("{check} {object}"))
                .collect(),
        }
    } else {
        Comparison::Worse(new)
    };
    (comparison, stale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::weekly::Finding;

    fn report(problems: &[(CheckKind, &str)]) -> CheckReport {
        let findings = [
            (CheckKind::ExternalSecretReady, "ExternalSecret a"),
            (CheckKind::ExternalSecretFresh, "ExternalSecret a"),
            (CheckKind::StoreValid, "SecretStore s"),
        ]
        .into_iter()
        .map(|(check, object)| Finding {
            check,
            object: object.into(),
            ok: !problems.contains(&(check, object)),
            detail: String::new(),
        })
        .collect::<Vec<_>>();
        CheckReport {
            schema_version: 1,
            context: None,
            server_time: jiff::Timestamp::UNIX_EPOCH,
            problems: findings.iter().filter(|f| !f.ok).count(),
            findings,
        }
    }

    #[test]
    fn a_new_problem_makes_it_worse_a_known_one_does_not() {
        let healthy = Health::of(&report(&[]));
        let store = Health::of(&report(&[(CheckKind::StoreValid, "SecretStore s")]));
        assert_eq!(
            compare(&healthy, &healthy).0,
            Comparison::AsFound {
                checks: 3,
                known_problems: vec![]
            }
        );
        assert_eq!(
            compare(&store, &store).0,
            Comparison::AsFound {
                checks: 3,
                known_problems: vec!["StoreValid SecretStore s".into()]
            }
        );
        assert!(
            compare(&store, &store).0.line(&[]).ends_with(
                "none new, and the problem it found still there: StoreValid SecretStore s)"
            ),
            "{}",
            compare(&store, &store).0.line(&[])
        );
        let (worse, _) = compare(&healthy, &store);
        assert_eq!(
            worse,
            Comparison::Worse(vec!["StoreValid SecretStore s".into()])
        );
        assert!(worse.line(&[]).contains("WORSE"));
        // Fixed during the run: not worse.
        assert!(matches!(
            compare(&store, &healthy).0,
            Comparison::AsFound { .. }
        ));
    }

    #[test]
    fn a_refresh_falling_due_is_said_but_is_not_worse() {
        let healthy = Health::of(&report(&[]));
        let stale = Health::of(&report(&[(
            CheckKind::ExternalSecretFresh,
            "ExternalSecret a",
        )]));
        let (c, overdue) = compare(&healthy, &stale);
        assert!(matches!(c, Comparison::AsFound { .. }), "{c:?}");
        assert_eq!(overdue, ["ExternalSecret a"]);
        assert!(c.line(&overdue).contains("overdue"));
    }
}
