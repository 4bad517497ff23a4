//! `opssight-harness up` serves the embedded stack, prints what to export,
//! answers the runbook's commands, and stops everything on Ctrl-C (SIGINT).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn up_serves_until_interrupted() {
    up_until("-INT");
}

// SIGTERM (a service manager) and SIGHUP (a closed terminal) stop it as
// Ctrl-C does, and the kubeconfig (a token) goes with its directory.
#[test]
fn up_stops_cleanly_on_sigterm() {
    up_until("-TERM");
}

#[test]
fn up_stops_cleanly_on_sighup() {
    up_until("-HUP");
}

fn up_until(signal: &str) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = crate::common::KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
            .arg("up")
            .current_dir(&root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut child.0;
    let stdout = child.stdout.take().unwrap();
    let crate::common::UpOutput {
        mut exports,
        printed,
        credentials,
    } = crate::common::read_up_output(stdout, Duration::from_secs(60));
    let text = std::fs::read_to_string(&credentials).unwrap();
    for line in text.lines() {
        let (k, v) = line
            .strip_prefix("export ")
            .and_then(|l| l.split_once('='))
            .unwrap_or_else(|| panic!("{}: not an export: {line:?}", credentials.display()));
        // Credentials are in the file only, never on stdout.
        assert!(!printed.contains(v), "up printed the value of {k}");
        exports.insert(k.to_owned(), v.to_owned());
    }
    for key in [
        "KUBECONFIG",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "AWS_EMULATOR_ADMIN_TOKEN",
    ] {
        assert!(
            exports.contains_key(key),
            "up did not print {key}: {exports:?}"
        );
    }
    let endpoint = exports["AWS_ENDPOINT_URL"]
        .trim_start_matches("http://")
        .to_owned();
    if let Some(kubectl) = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
    {
        let out = Command::new(kubectl)
            .args([
                "get",
                "externalsecrets",
                "-n",
                "opssight-production",
                "-o",
                "name",
            ])
            .env("KUBECONFIG", &exports["KUBECONFIG"])
            .env(
                "KUBECACHEDIR",
                std::env::temp_dir().join("opssight-up-test-cache"),
            )
            .output()
            .unwrap();
        let names = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            names.lines().count(),
            4,
            "kubectl get externalsecrets: {names}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        std::net::TcpStream::connect(&endpoint).is_ok(),
        "the aws-emulator answers while up"
    );
    // The admin paths serve every secret: refused without the printed
    // token, served with it.
    let bearer = format!("Bearer {}", exports["AWS_EMULATOR_ADMIN_TOKEN"]);
    let refused = http_get(&endpoint, "/_emulator/snapshot", None);
    assert!(
        refused.starts_with("HTTP/1.1 403"),
        "snapshot without the token: {}",
        refused.lines().next().unwrap_or_default()
    );
    assert!(refused.contains("MissingAuthenticationTokenException"));
    let served = http_get(&endpoint, "/_emulator/snapshot", Some(&bearer));
    assert!(
        served.starts_with("HTTP/1.1 200"),
        "snapshot with the printed token: {}",
        served.lines().next().unwrap_or_default()
    );
    use std::os::unix::fs::PermissionsExt;
    let kubeconfig = std::path::PathBuf::from(&exports["KUBECONFIG"]);
    let dir = kubeconfig.parent().unwrap().to_owned();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&kubeconfig), 0o600, "{}", kubeconfig.display());
    assert_eq!(mode(&credentials), 0o600, "{}", credentials.display());
    assert_eq!(credentials.parent(), Some(dir.as_path()));
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "up did not stop within 10s of kill {signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "up exited with {status}");
    assert!(
        std::net::TcpStream::connect(&endpoint).is_err(),
        "the aws-emulator still answers after kill {signal}"
    );
    assert!(
        !dir.exists(),
        "kill {signal} left {} (the kubeconfig) behind",
        dir.display()
    );
}

/// One HTTP/1.1 GET, answered in full (the server closes after it).
fn http_get(authority: &str, path: &str, authorization: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = authorization
        .map(|a| format!("authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {authority}\r\n{auth}connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}
