//! What the kind environment needs on the machine, checked before anything
//! starts: a reachable Docker daemon and kind, helm and kubectl in the pinned
//! minor versions. A user without them gets one message saying what is
//! missing and how to get it, or to use the embedded environment.

use std::time::Duration;

use tokio::process::Command;

/// Pinned versions of the tools the kind environment drives.
pub const KIND_MINOR: &str = "0.29";
pub const HELM_MINOR: &str = "3.18";
pub const KUBECTL_MINOR: &str = "32";

/// Each check gives up after this, so a hung daemon cannot hang the harness.
const CHECK_TIMEOUT: Duration = Duration::from_millis(1500);

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

async fn output(program: &str, args: &[&str]) -> Result<String, String> {
    let run = Command::new(program).args(args).kill_on_drop(true).output();
    match tokio::time::timeout(CHECK_TIMEOUT, run).await {
        Err(_) => Err(format!(
            "`{program} {}` did not answer within {CHECK_TIMEOUT:?}",
            args.join(" ")
        )),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("{program} is not installed (not on PATH)"))
        }
        Ok(Err(e)) => Err(format!("cannot run {program}: {e}")),
        Ok(Ok(o)) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(Ok(o)) => {
            let stderr = String::from_utf8_lossy(&o.stderr);
            let first = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            Err(format!(
                "`{program} {}` failed: {}",
                args.join(" "),
                first.trim()
            ))
        }
    }
}

/// "v0.29.0" / "kind v0.29.0 go1.24" / "v3.18.4+g..." → "0.29" / "3.18".
fn minor_of(version_text: &str) -> Option<String> {
    let v = version_text.split_whitespace().find_map(|w| {
        w.strip_prefix('v')
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    })?;
    let mut parts = v.split(['.', '+', '-']);
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

pub async fn check() -> Result<(), PreflightError> {
    let install =
        "run scripts/install-tools.sh DIR (pinned versions, checksums checked) and put DIR on PATH";
    let (docker, kind, helm, kubectl) = tokio::join!(
        output("docker", &["info", "--format", "{{.ServerVersion}}"]),
        output("kind", &["version"]),
        output("helm", &["version", "--short"]),
        output("kubectl", &["version", "--client", "-o", "json"]),
    );
    let mut problems = Vec::new();
    if let Err(why) = docker {
        problems.push(Problem {
            what: format!("Docker is not reachable ({why})"),
            fix:
                "start a Docker daemon (Docker Desktop, dockerd or colima) and check `docker info`"
                    .into(),
        });
    }
    for (name, result, pinned) in [("kind", kind, KIND_MINOR), ("helm", helm, HELM_MINOR)] {
        match result.map(|out| minor_of(&out)) {
            Err(why) => problems.push(Problem {
                what: why,
                fix: install.into(),
            }),
            Ok(Some(m)) if m == pinned => {}
            Ok(found) => problems.push(Problem {
                what: format!(
                    "{name} {} is not the pinned {pinned}.x",
                    found.as_deref().unwrap_or("(unknown version)")
                ),
                fix: install.into(),
            }),
        }
    }
    match kubectl.map(|out| {
        serde_json::from_str::<serde_json::Value>(&out)
            .ok()
            .and_then(|v| {
                v.pointer("/clientVersion/minor")
                    .and_then(|m| m.as_str().map(str::to_owned))
            })
    }) {
        Err(why) => problems.push(Problem {
            what: why,
            fix: install.into(),
        }),
        Ok(Some(m)) if m.trim_end_matches('+') == KUBECTL_MINOR => {}
        Ok(found) => problems.push(Problem {
            what: format!(
                "kubectl 1.{} is not the pinned 1.{KUBECTL_MINOR}",
                found.as_deref().unwrap_or("?")
            ),
            fix: install.into(),
        }),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PreflightError { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            minor_of("kind v0.29.0 go1.24.2 linux/amd64").as_deref(),
            Some("0.29")
        );
        assert_eq!(minor_of("v3.18.4+gd80839c").as_deref(), Some("3.18"));
        assert_eq!(minor_of("nothing here"), None);
    }
}
