//! The `kube-emulator` binary: its kubeconfig (which holds the token) is a
//! new 0600 file (where `--kubeconfig` says, else in a private directory of
//! its own), removed when SIGINT, SIGTERM or SIGHUP stops it, and an
//! existing file at that path is refused before anything starts.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

/// The first line of stdout, within 30 s: a binary that never says it is
/// up fails the test instead of hanging it.
fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("kube-emulator printed nothing within 30 s")
}

/// Where the kubeconfig goes: the path `--kubeconfig` names, or none
/// (the binary's own private directory).
#[derive(Clone, Copy)]
enum Given {
    Path,
    Nothing,
}

fn stops_on(signal: &str, given: Given) {
    let dir = tempfile::tempdir().unwrap();
    // The binary runs in a directory of its own, which must stay empty.
    let cwd = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kube-emulator"));
    if let Given::Path = given {
        command
            .arg("--kubeconfig")
            .arg(dir.path().join("kubeconfig"));
    }
    let mut running = Running(
        command
            .current_dir(cwd.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut running.0;
    let line = first_line(child);
    let printed = line
        .trim_end()
        .strip_prefix("export KUBECONFIG=")
        .unwrap_or_else(|| panic!("not an export of KUBECONFIG: {line:?}"));
    let kubeconfig = Path::new(printed).to_owned();
    let private_dir = match given {
        Given::Path => {
            assert_eq!(
                kubeconfig,
                dir.path().join("kubeconfig").canonicalize().unwrap()
            );
            None
        }
        Given::Nothing => {
            let parent = kubeconfig.parent().unwrap().to_owned();
            let mode = std::fs::metadata(&parent).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", parent.display());
            assert!(!parent.starts_with(cwd.path().canonicalize().unwrap()));
            Some(parent)
        }
    };
    let mode = std::fs::metadata(&kubeconfig).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        std::fs::read_to_string(&kubeconfig)
            .unwrap()
            .contains("token: ")
    );

    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "kube-emulator did not exit within 10 s of {signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status after {signal}: {status}");
    assert!(
        !kubeconfig.exists(),
        "the kubeconfig is left after {signal}"
    );
    if let Some(private_dir) = private_dir {
        assert!(
            !private_dir.exists(),
            "the private directory is left after {signal}"
        );
    }
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "the binary wrote in its current directory"
    );
}

#[test]
fn sigint_stops_it_and_removes_the_kubeconfig() {
    stops_on("-INT", Given::Path);
}

#[test]
fn without_kubeconfig_it_writes_one_in_a_private_directory_removed_on_stop() {
    stops_on("-INT", Given::Nothing);
    stops_on("-TERM", Given::Nothing);
}

#[test]
fn sigterm_stops_it_and_removes_the_kubeconfig() {
    stops_on("-TERM", Given::Path);
}

#[test]
fn sighup_stops_it_and_removes_the_kubeconfig() {
    stops_on("-HUP", Given::Path);
}

#[test]
fn an_existing_kubeconfig_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "the user's\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kube-emulator"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&kubeconfig.display().to_string()),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&kubeconfig).unwrap(),
        "the user's\n"
    );
}

#[test]
fn the_library_writes_a_kubeconfig_0600_even_over_a_wider_file() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let server = kube_emulator::KubeEmulator::builder()
            .start()
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        server.write_kubeconfig(&path, None).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(std::fs::read_to_string(&path).unwrap().contains("token: "));
    });
}
