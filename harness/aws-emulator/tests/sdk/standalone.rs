//! The `aws-emulator` binary: what it prints holds no credential (the
//! secret key and admin token are in a 0600 file its last line sources),
//! SIGINT, SIGTERM and SIGHUP each stop it and remove that file, and an
//! existing file or a bad policy is refused before anything starts.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Kills the binary if a test fails before stopping it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// stdout up to the line that sources the credentials file, within 30 s:
/// a changed output fails the test instead of hanging it.
fn printed_until_sourced(child: &mut Child) -> (String, PathBuf) {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut printed = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if let Some(file) = line.strip_prefix(". ") {
                    return (printed, PathBuf::from(file));
                }
            }
            Err(e) => panic!("no `. FILE` line within 30 s ({e}); printed:\n{printed}"),
        }
    }
}

fn exports(file: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|line| {
            let (k, v) = line
                .strip_prefix("export ")
                .and_then(|l| l.split_once('='))
                .unwrap_or_else(|| panic!("{}: not an export: {line:?}", file.display()));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn exit_within(child: &mut Child, limit: Duration, after: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "aws-emulator did not exit within {limit:?} of {after}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn stops_on(signal: &str) {
    let logs = tempfile::tempdir().unwrap();
    let stderr = logs.path().join("stderr");
    let mut running = Running(
        Command::new(env!("CARGO_BIN_EXE_aws-emulator"))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap(),
    );
    let child = &mut running.0;
    let (printed, file) = printed_until_sourced(child);
    let dir = file.parent().unwrap().to_owned();
    assert_eq!(mode(&file), 0o600, "{}", file.display());
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    let all = exports(&file);
    let endpoint = &all["AWS_ENDPOINT_URL"];
    for secret in ["AWS_SECRET_ACCESS_KEY", "AWS_EMULATOR_ADMIN_TOKEN"] {
        let value = &all[secret];
        assert!(value.len() >= 20, "{secret} is {} characters", value.len());
        assert!(!printed.contains(value.as_str()), "stdout holds {secret}");
    }
    for public in [
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
    ] {
        assert!(
            printed.contains(&format!("export {public}={}\n", all[public])),
            "stdout lacks {public}:\n{printed}"
        );
    }
    let authority = endpoint.trim_start_matches("http://");
    assert!(std::net::TcpStream::connect(authority).is_ok());

    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let status = exit_within(child, Duration::from_secs(10), signal);
    assert!(status.success(), "exit status after {signal}: {status}");
    assert!(!dir.exists(), "{} is left after {signal}", dir.display());
    assert!(
        std::net::TcpStream::connect(authority).is_err(),
        "{authority} still answers after {signal}"
    );
    let log = std::fs::read_to_string(&stderr).unwrap();
    for secret in ["AWS_SECRET_ACCESS_KEY", "AWS_EMULATOR_ADMIN_TOKEN"] {
        assert!(!log.contains(all[secret].as_str()), "stderr holds {secret}");
    }
}

#[test]
fn sigint_stops_it_and_removes_the_credentials() {
    stops_on("-INT");
}

#[test]
fn sigterm_stops_it_and_removes_the_credentials() {
    stops_on("-TERM");
}

#[test]
fn sighup_stops_it_and_removes_the_credentials() {
    stops_on("-HUP");
}

#[test]
fn an_env_file_gets_everything_and_goes_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("env");
    let mut running = Running(
        Command::new(env!("CARGO_BIN_EXE_aws-emulator"))
            .arg("--env-file")
            .arg(&env_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut running.0;
    let (printed, file) = printed_until_sourced(child);
    assert_eq!(file, env_file);
    assert_eq!(mode(&env_file), 0o600);
    let all = exports(&env_file);
    assert!(all.contains_key("AWS_ENDPOINT_URL") && all.contains_key("AWS_SECRET_ACCESS_KEY"));
    assert!(!printed.contains(all["AWS_SECRET_ACCESS_KEY"].as_str()));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(exit_within(child, Duration::from_secs(10), "SIGTERM").success());
    assert!(!env_file.exists(), "the env file is left");
}

/// Runs the binary with `flag path`, which it must refuse before it
/// starts: exit 2, nothing on stdout (no exports: nothing was served).
/// Returns stderr.
fn refused(flag: &str, path: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_aws-emulator"))
        .arg(flag)
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{flag} {}: {stderr}",
        path.display()
    );
    assert!(
        out.stdout.is_empty(),
        "it printed exports: nothing should start"
    );
    stderr
}

#[test]
fn an_existing_env_file_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("env");
    std::fs::write(&env_file, "the user's\n").unwrap();
    let stderr = refused("--env-file", &env_file);
    assert!(stderr.contains(&env_file.display().to_string()), "{stderr}");
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), "the user's\n");
}

#[test]
fn a_broken_policy_is_refused_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, "{\"Version\": \"2012-10-17\", \"Statement\": [").unwrap();
    let stderr = refused("--policy", &policy);
    assert!(stderr.contains("policy.json"), "{stderr}");
}

#[test]
fn an_env_file_in_a_missing_directory_is_refused_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = refused("--env-file", &dir.path().join("missing").join("env"));
    assert!(stderr.contains("no directory"), "{stderr}");
}
