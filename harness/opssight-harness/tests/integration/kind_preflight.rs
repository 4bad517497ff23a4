//! `--env kind` checks the machine before starting anything, with fake
//! `docker`, `kind`, `helm` and `kubectl` executables first on PATH that
//! record how they were called.

use std::path::Path;
use std::process::Command;

fn fake(dir: &Path, name: &str, script: &str) {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("#!/bin/sh\necho \"{name} $*\" >> \"$FAKE_LOG\"\n{script}\n"),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn run(bin: &Path, log: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .args(["test", "--env", "kind"])
        .env("PATH", bin)
        .env("FAKE_LOG", log)
        // Not waited for here: the wait has a test of its own (kind_env).
        .env("OPSSIGHT_DOCKER_WAIT_SECONDS", "0")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn without_a_docker_daemon_it_says_what_is_missing_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    fake(
        dir.path(),
        "docker",
        "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1",
    );
    fake(
        dir.path(),
        "kind",
        "echo 'kind v0.30.0 go1.24.6 linux/amd64'",
    );
    // Older than the first Helm with --create-namespace.
    fake(dir.path(), "helm", "echo 'v3.1.3+g0a9a9a8'");
    fake(
        dir.path(),
        "kubectl",
        r#"echo '{"clientVersion":{"major":"1","minor":"33"}}'"#,
    );
    let (code, err) = run(dir.path(), &log);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("Docker is not reachable"), "{err}");
    assert!(err.contains("Cannot connect to the Docker daemon"), "{err}");
    assert!(
        err.contains("helm 3.1.3 is older than 3.2.0: helm before 3.2 has no --create-namespace"),
        "{err}"
    );
    assert!(
        !err.contains("kind 0.") && !err.contains("kubectl 1."),
        "kind and kubectl are fine: {err}"
    );
    assert!(
        err.contains("use the embedded environment: opssight-harness test --env embedded"),
        "{err}"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    for call in calls.lines() {
        assert!(
            [
                "docker info",
                "kind version",
                "helm version",
                "kubectl version"
            ]
            .iter()
            .any(|c| call.starts_with(c)),
            "preflight ran more than version checks: {call}"
        );
    }
    assert_eq!(calls.lines().count(), 4, "{calls}");
}

#[test]
fn missing_tools_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    fake(dir.path(), "docker", "echo 27.0.1");
    let (code, err) = run(dir.path(), &log);
    assert_eq!(code, Some(2), "{err}");
    for tool in ["kind", "helm", "kubectl"] {
        assert!(
            err.contains(&format!("{tool} is not installed (not on PATH)")),
            "{tool}: {err}"
        );
    }
    assert!(!err.contains("Docker is not reachable"), "{err}");
    assert!(
        err.contains("run scripts/install-tools.sh DIR (pinned versions, checksums checked)"),
        "the fix says how to install them: {err}"
    );
}

/// With kind missing the run cannot go on whatever Docker does, so the
/// preflight asks `docker info` once instead of waiting out its minute.
#[test]
fn with_a_tool_missing_docker_is_asked_once_not_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    fake(
        dir.path(),
        "docker",
        "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1",
    );
    fake(dir.path(), "helm", "echo 'v3.18.6+gb76a950'");
    fake(
        dir.path(),
        "kubectl",
        r#"echo '{"clientVersion":{"major":"1","minor":"33"}}'"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .args(["test", "--env", "kind"])
        .env("PATH", dir.path())
        .env("FAKE_LOG", &log)
        .env("OPSSIGHT_DOCKER_WAIT_SECONDS", "60")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("kind is not installed"), "{err}");
    assert!(err.contains("Docker is not reachable"), "{err}");
    assert!(!err.contains("waiting up to"), "{err}");
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls
            .lines()
            .filter(|c| c.starts_with("docker info"))
            .count(),
        1,
        "{calls}"
    );
}
