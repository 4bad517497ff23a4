//! What a new user meets first (issue 16 item 4): `--help` offers only
//! values a command accepts, `drill` honours OPSSIGHT_ENV as `test` does, a
//! green run from outside the repository prints nothing alarming and leaves
//! no artifacts directory, and `rotation` against an endpoint that does not
//! answer says why.

use std::process::Command;

use crate::common;

fn harness() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opssight-harness"));
    cmd.env_remove("OPSSIGHT_ENV").env_remove("RUST_LOG");
    cmd
}

use common::output_text as text;

/// The values `--help` lists for `--env`.
fn offered_envs(command: &str) -> Vec<String> {
    let out = harness().args([command, "--help"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let env = help
        .split("--env <ENV>")
        .nth(1)
        .unwrap_or_else(|| panic!("{command} --help has no --env: {help}"));
    // clap lists them either as "[possible values: a, b]" or as "- a: ..." lines.
    let section: String = env
        .lines()
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    regex::Regex::new(r"(?m)^\s*- ([a-z-]+):")
        .unwrap()
        .captures_iter(&section)
        .map(|c| c[1].to_owned())
        .collect()
}

#[test]
fn help_offers_only_the_environments_a_command_accepts() {
    assert_eq!(offered_envs("check"), ["existing"]);
    assert_eq!(offered_envs("rotation"), ["embedded", "existing"]);
    assert_eq!(offered_envs("up"), ["embedded", "binaries"]);
    assert_eq!(offered_envs("kube-api"), ["embedded", "binaries"]);
    assert_eq!(
        offered_envs("test"),
        ["embedded", "kind", "existing", "binaries"]
    );
    assert_eq!(offered_envs("drill"), offered_envs("test"));
    // And one it does not offer is refused by the parser, exit 2.
    let out = harness()
        .args(["check", "--env", "embedded"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("invalid value 'embedded'"),
        "{}",
        text(&out)
    );
}

#[test]
fn drill_honours_opssight_env_as_test_does() {
    for command in ["test", "drill"] {
        let out = harness()
            .arg(command)
            .env("OPSSIGHT_ENV", "nowhere")
            .current_dir(common::repo_root())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}: {}", text(&out));
        assert!(
            text(&out).contains("invalid value 'nowhere' for '--env <ENV>'"),
            "{command} did not read OPSSIGHT_ENV: {}",
            text(&out)
        );
    }
}

/// From a directory outside the checkout, with the default features: the
/// features and fixtures are the repository's; a green run's output has no
/// WARN or ERROR line (from stacks shutting down, say) and no artifacts
/// directory appears, since nothing failed.
#[test]
fn a_green_run_from_elsewhere_is_quiet_and_leaves_nothing() {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = harness()
        .args(["test", "--tags", "@requires-kubectl or @read-only"])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("passed"), "{all}");
    for line in all.lines() {
        assert!(
            !(line.contains("WARN") || line.contains("ERROR") || line.contains("panicked")),
            "an alarming line in a green run: {line}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(elsewhere.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "a green run left {left:?} behind");
}

#[test]
fn rotation_against_an_endpoint_that_does_not_answer_says_why() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = harness()
        .args([
            "rotation",
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
        ])
        // Made up per run: nothing answers, so nothing checks them.
        .env(
            "AWS_ACCESS_KEY_ID",
            format!("test-key-{}", std::process::id()),
        )
        .env("AWS_SECRET_ACCESS_KEY", format!("test-secret-{port}"))
        .env("AWS_REGION", "us-west-2")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE")
        .current_dir(common::repo_root())
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(!all.contains("None"), "{all}");
    assert!(all.contains("no answer from Secrets Manager"), "{all}");
    assert!(
        all.to_lowercase().contains("connection refused") || all.to_lowercase().contains("connect"),
        "the cause is not named: {all}"
    );
}
