//! What the kind environment needs on the machine, checked before anything
//! starts: a Docker daemon that answers (waited for: Docker Desktop and
//! colima take a while to wake their VM) and kind, helm and kubectl in a
//! version range known to work. A version outside the tested range is a
//! warning (Homebrew and Docker Desktop ship newer ones); only one known
//! not to work is refused. A user without them gets one message saying
//! what is missing and how to get it, or to use the embedded environment.

use std::time::Duration;

use tokio::process::Command;

/// A tool's version as `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

const fn v(major: u64, minor: u64, patch: u64) -> Version {
    Version {
        major,
        minor,
        patch,
    }
}

/// A minor version (`3.18`); `minor: u64::MAX` stands for "any" (`4.x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minor {
    pub major: u64,
    pub minor: u64,
}

impl std::fmt::Display for Minor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.minor == u64::MAX {
            write!(f, "{}.x", self.major)
        } else {
            write!(f, "{}.{}", self.major, self.minor)
        }
    }
}

/// What the harness installs (`scripts/install-tools.sh`), the minor
/// versions it is known to work with, and the version below which it does
/// not work at all, with the reason.
#[derive(Debug, Clone, Copy)]
pub struct ToolPin {
    pub name: &'static str,
    pub pinned: Version,
    pub tested_from: Minor,
    pub tested_to: Minor,
    pub refused_below: Option<(Version, &'static str)>,
}

/// kind 0.30.0 is the release the node image (`kind::pins::KIND_NODE`) was
/// built for, and the one ESO v2.9.0's e2e runs; 0.31 and 0.32 drive the
/// same images. Releases before 0.27 cannot drive node images with
/// containerd 2 (kind issue 3853: "failed to detect containerd
/// snapshotter"), which the pinned one ships.
pub const KIND: ToolPin = ToolPin {
    name: "kind",
    pinned: v(0, 30, 0),
    tested_from: Minor {
        major: 0,
        minor: 30,
    },
    tested_to: Minor {
        major: 0,
        minor: 32,
    },
    refused_below: Some((
        v(0, 27, 0),
        "kind before 0.27 cannot drive node images with containerd 2, which the pinned kindest/node ships",
    )),
};

/// Every flag the harness passes (`repo add --force-update`, `upgrade
/// --install --create-namespace --wait --timeout`) means the same in
/// Helm 4 (where a bare `--wait` is the "watcher" strategy); Helm before
/// 3.2 has no `--create-namespace`.
pub const HELM: ToolPin = ToolPin {
    name: "helm",
    pinned: v(3, 18, 6),
    tested_from: Minor {
        major: 3,
        minor: 18,
    },
    tested_to: Minor {
        major: 4,
        minor: u64::MAX,
    },
    refused_below: Some((
        v(3, 2, 0),
        "helm before 3.2 has no --create-namespace, which ESO's install uses",
    )),
};

/// kubectl within one minor of the node's Kubernetes 1.33 (its supported
/// skew): 1.32 to 1.34, which covers the one Docker Desktop puts on PATH.
pub const KUBECTL: ToolPin = ToolPin {
    name: "kubectl",
    pinned: v(1, 33, 4),
    tested_from: Minor {
        major: 1,
        minor: 32,
    },
    tested_to: Minor {
        major: 1,
        minor: 34,
    },
    refused_below: None,
};

pub const TOOLS: [ToolPin; 3] = [KIND, HELM, KUBECTL];

/// What a found version means for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Tested,
    /// Runs, with this warning.
    Untested(String),
    /// Does not run, for this reason.
    Refused(String),
}

impl ToolPin {
    pub fn judge(&self, found: Version) -> Verdict {
        if let Some((floor, why)) = self.refused_below
            && found < floor
        {
            return Verdict::Refused(format!(
                "{} {found} is older than {floor}: {why}",
                self.name
            ));
        }
        let minor = (found.major, found.minor);
        let from = (self.tested_from.major, self.tested_from.minor);
        let to = (self.tested_to.major, self.tested_to.minor);
        if minor >= from && minor <= to {
            Verdict::Tested
        } else {
            Verdict::Untested(format!(
                "{} {found} is outside the tested {} to {} (the harness installs {}); it may work",
                self.name, self.tested_from, self.tested_to, self.pinned
            ))
        }
    }
}

/// The first `vX.Y[.Z]` word of a version line: "kind v0.30.0 go1.24.6
/// linux/amd64", "v3.18.6+gb76a950", "v4.2.4+g1234567".
pub fn parse_version(text: &str) -> Option<Version> {
    text.split_whitespace().find_map(|w| {
        let rest = w.strip_prefix('v')?;
        let core = rest.split(['+', '-']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        Some(v(major, minor, patch))
    })
}

/// `kubectl version --client -o json`: its gitVersion, or its major and
/// minor ("32+" on some builds) where there is none.
pub fn parse_kubectl_version(json: &str) -> Option<Version> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let client = value.get("clientVersion")?;
    if let Some(found) = client
        .get("gitVersion")
        .and_then(|g| g.as_str())
        .and_then(parse_version)
    {
        return Some(found);
    }
    let number = |k: &str| {
        client
            .get(k)?
            .as_str()?
            .trim_end_matches('+')
            .parse::<u64>()
            .ok()
    };
    Some(v(number("major")?, number("minor")?, 0))
}

/// How long `docker info` may take to answer, in all: a VM being woken.
pub const DOCKER_WAIT_ENV: &str = "OPSSIGHT_DOCKER_WAIT_SECONDS";
const DOCKER_WAIT_DEFAULT: Duration = Duration::from_secs(60);
/// Between two tries of `docker info`.
const DOCKER_RETRY: Duration = Duration::from_millis(500);
/// Each version check gives up after this, so a hung tool cannot hang the
/// harness.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

fn docker_wait() -> Duration {
    std::env::var(DOCKER_WAIT_ENV)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(DOCKER_WAIT_DEFAULT, Duration::from_secs)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub fix: String,
}

#[derive(Debug, thiserror::Error)]
pub struct PreflightError {
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for PreflightError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "the kind environment cannot run on this machine:")?;
        for p in &self.problems {
            writeln!(f, "  - {}: {}", p.what, p.fix)?;
        }
        write!(
            f,
            "Nothing was started. Without Docker, use the embedded environment: opssight-harness test --env embedded"
        )
    }
}

/// What the preflight found: each tool's version, and warnings to show.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub versions: Vec<(&'static str, Version)>,
    pub warnings: Vec<String>,
}

impl Found {
    /// "kind 0.30.0, helm 3.18.6, kubectl 1.33.4".
    pub fn summary(&self) -> String {
        self.versions
            .iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

enum Failure {
    NotInstalled(String),
    Other(String),
}

impl Failure {
    fn text(self) -> String {
        match self {
            Self::NotInstalled(s) | Self::Other(s) => s,
        }
    }
}

async fn output(program: &str, args: &[&str], timeout: Duration) -> Result<String, Failure> {
    let run = Command::new(program).args(args).kill_on_drop(true).output();
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(Failure::Other(format!(
            "`{program} {}` did not answer within {timeout:?}",
            args.join(" ")
        ))),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(Failure::NotInstalled(
            format!("{program} is not installed (not on PATH)"),
        )),
        Ok(Err(e)) => Err(Failure::Other(format!("cannot run {program}: {e}"))),
        Ok(Ok(o)) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(Ok(o)) => {
            let stderr = String::from_utf8_lossy(&o.stderr);
            let first = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            Err(Failure::Other(format!(
                "`{program} {}` failed: {}",
                args.join(" "),
                first.trim()
            )))
        }
    }
}

/// `docker info` until it answers or `wait` has passed, saying once what
/// it waits for. A docker that is not installed is not waited for.
async fn wait_for_docker(wait: Duration) -> Result<(), String> {
    let args = ["info", "--format", "{{.ServerVersion}}"];
    let deadline = tokio::time::Instant::now() + wait;
    let mut said = false;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match output(
            "docker",
            &args,
            left.clamp(Duration::from_secs(2), CHECK_TIMEOUT),
        )
        .await
        {
            Ok(_) => return Ok(()),
            Err(Failure::NotInstalled(why)) => return Err(why),
            Err(Failure::Other(why)) => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(if wait.is_zero() {
                        why
                    } else {
                        format!("still no answer after {wait:?}: {why}")
                    });
                }
                if !said {
                    eprintln!(
                        "waiting up to {wait:?} for the Docker daemon to answer `docker info` \
                         (Docker Desktop or colima may be starting its VM; {DOCKER_WAIT_ENV} changes how long): {why}"
                    );
                    said = true;
                }
            }
        }
        tokio::time::sleep(
            DOCKER_RETRY.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
        )
        .await;
    }
}

pub async fn check() -> Result<Found, PreflightError> {
    let install =
        "run scripts/install-tools.sh DIR (pinned versions, checksums checked) and put DIR on PATH";
    let (kind, helm, kubectl) = tokio::join!(
        output("kind", &["version"], CHECK_TIMEOUT),
        output("helm", &["version", "--short"], CHECK_TIMEOUT),
        output(
            "kubectl",
            &["version", "--client", "-o", "json"],
            CHECK_TIMEOUT
        ),
    );
    // Waiting for a daemon to wake is worth it only when nothing else
    // stops the run: with a tool missing, one `docker info` says enough.
    let tools_fail = kind.is_err() || helm.is_err() || kubectl.is_err();
    let docker = wait_for_docker(if tools_fail {
        Duration::ZERO
    } else {
        docker_wait()
    })
    .await;
    let mut problems = Vec::new();
    let mut found = Found::default();
    if let Err(why) = docker {
        problems.push(Problem {
            what: format!("Docker is not reachable ({why})"),
            fix:
                "start a Docker daemon (Docker Desktop, dockerd or colima) and check `docker info`"
                    .into(),
        });
    }
    let parsed = [
        (KIND, kind.map(|o| parse_version(&o))),
        (HELM, helm.map(|o| parse_version(&o))),
        (KUBECTL, kubectl.map(|o| parse_kubectl_version(&o))),
    ];
    for (pin, result) in parsed {
        match result {
            Err(why) => problems.push(Problem {
                what: why.text(),
                fix: install.into(),
            }),
            Ok(None) => problems.push(Problem {
                what: format!("{} printed no version the harness can read", pin.name),
                fix: install.into(),
            }),
            Ok(Some(version)) => {
                found.versions.push((pin.name, version));
                match pin.judge(version) {
                    Verdict::Tested => {}
                    Verdict::Untested(warning) => found.warnings.push(warning),
                    Verdict::Refused(why) => problems.push(Problem {
                        what: why,
                        fix: install.into(),
                    }),
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(PreflightError { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_each_tools_output() {
        assert_eq!(
            parse_version("kind v0.30.0 go1.24.6 linux/amd64"),
            Some(v(0, 30, 0))
        );
        assert_eq!(parse_version("v3.18.6+gb76a950"), Some(v(3, 18, 6)));
        assert_eq!(parse_version("v4.2.4+g1234567"), Some(v(4, 2, 4)));
        assert_eq!(parse_version("kind v0.31.0-alpha"), Some(v(0, 31, 0)));
        assert_eq!(parse_version("nothing here"), None);
        assert_eq!(
            parse_kubectl_version(
                r#"{"clientVersion":{"gitVersion":"v1.32.2","major":"1","minor":"32"}}"#
            ),
            Some(v(1, 32, 2))
        );
        assert_eq!(
            parse_kubectl_version(r#"{"clientVersion":{"major":"1","minor":"34+"}}"#),
            Some(v(1, 34, 0))
        );
        assert_eq!(parse_kubectl_version("not json"), None);
    }

    #[test]
    fn inside_the_tested_range_runs_outside_warns_below_the_floor_refuses() {
        let tested = |pin: &ToolPin, found| pin.judge(found) == Verdict::Tested;
        let warned = |pin: &ToolPin, found| matches!(pin.judge(found), Verdict::Untested(_));
        let refused = |pin: &ToolPin, found| matches!(pin.judge(found), Verdict::Refused(_));
        for pin in TOOLS {
            assert!(tested(&pin, pin.pinned), "{} {}", pin.name, pin.pinned);
        }
        assert!(tested(&KIND, v(0, 32, 9)));
        assert!(warned(&KIND, v(0, 33, 0)));
        assert!(warned(&KIND, v(0, 29, 0)));
        assert!(warned(&KIND, v(0, 27, 0)));
        assert!(refused(&KIND, v(0, 26, 0)));
        assert!(refused(&KIND, v(0, 20, 0)));

        assert!(tested(&HELM, v(3, 19, 0)));
        assert!(tested(&HELM, v(4, 0, 0)));
        assert!(tested(&HELM, v(4, 2, 4)));
        assert!(warned(&HELM, v(5, 0, 0)));
        assert!(warned(&HELM, v(3, 17, 1)));
        assert!(warned(&HELM, v(3, 2, 0)));
        assert!(refused(&HELM, v(3, 1, 3)));
        assert!(refused(&HELM, v(2, 17, 0)));

        assert!(tested(&KUBECTL, v(1, 32, 2)));
        assert!(tested(&KUBECTL, v(1, 34, 0)));
        assert!(warned(&KUBECTL, v(1, 31, 9)));
        assert!(warned(&KUBECTL, v(1, 35, 0)));
        assert!(warned(&KUBECTL, v(1, 10, 0)), "kubectl has no floor");
    }

    #[test]
    fn messages_name_the_tool_the_range_and_the_reason() {
        assert_eq!(
            HELM.judge(v(3, 1, 3)),
            Verdict::Refused(
                "helm 3.1.3 is older than 3.2.0: helm before 3.2 has no --create-namespace, which ESO's install uses"
                    .into()
            )
        );
        assert_eq!(
            KIND.judge(v(0, 33, 1)),
            Verdict::Untested(
                "kind 0.33.1 is outside the tested 0.30 to 0.32 (the harness installs 0.30.0); it may work"
                    .into()
            )
        );
        assert_eq!(
            HELM.judge(v(5, 0, 0)),
            Verdict::Untested(
                "helm 5.0.0 is outside the tested 3.18 to 4.x (the harness installs 3.18.6); it may work"
                    .into()
            )
        );
    }
}
