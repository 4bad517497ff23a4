//! `--env binaries` for real: the ESO controller that syncs the Secrets is
//! the real ESO process built from its Go module, the API server is the real
//! kube-apiserver, every listener of every process is on 127.0.0.1, and a
//! harness killed mid-run leaves no process, port or file behind.
//!
//! These need the components `scripts/build-real-components.sh` builds.
//! Without them each test says so and passes, unless `REQUIRE_BINARIES=1`
//! (as `.ci/run` sets), where a missing component fails it.

// Tests state what they expect with unwrap/expect (clippy.toml allows it
// in #[test] functions; this covers their helpers too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use opssight_harness::env::binaries::components::{Components, go_module_version};
use opssight_harness::env::binaries::{Backend, BinariesOptions, ControlPlane, with_control_plane};
use opssight_harness::fixtures::Fixtures;
use opssight_harness::fixtures::seed::Seed;

/// One control plane at a time: each is five processes on a 2-core machine.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

use common::repo_root;

mod common;

fn components() -> Option<Components> {
    common::binaries_components()
}

/// Runs `body` on a control plane of the repository's fixtures started for
/// it (on a runtime of its own, as these tests are plain #[test]s so that
/// one plane runs at a time) and stopped after it; `body` failing fails
/// the test.
fn on_a_control_plane<F, Fut>(body: F)
where
    F: FnOnce(std::sync::Arc<ControlPlane>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let opts = BinariesOptions::new(Fixtures::at(repo_root().join("fixtures")));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(with_control_plane(opts, body)).unwrap();
}

/// Socket inodes a process holds open.
fn socket_inodes(pid: u32) -> BTreeSet<u64> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return BTreeSet::new();
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let t = target.to_string_lossy().into_owned();
            t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

/// Every listening TCP socket of the machine: (local address as hex, port, inode).
fn listeners() -> Vec<(String, u16, u64)> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // st 0A is LISTEN.
            if f.len() > 9 && f[3] == "0A" {
                let (addr, port) = f[1].split_once(':').unwrap();
                out.push((
                    addr.to_owned(),
                    u16::from_str_radix(port, 16).unwrap(),
                    f[9].parse().unwrap(),
                ));
            }
        }
    }
    out
}

/// 127.0.0.1 as /proc/net/tcp writes it (little-endian hex), and ::ffff:127.0.0.1 / ::1 in tcp6.
fn is_loopback(hex: &str) -> bool {
    matches!(
        hex,
        "0100007F" | "0000000000000000FFFF00000100007F" | "00000000000000000000000001000000"
    )
}

#[test]
fn the_controller_is_the_real_eso_and_the_api_server_the_real_one() {
    let _one = serial();
    let Some(components) = components() else {
        return;
    };
    on_a_control_plane(|plane| async move {
        // The API server says what it is, and it is the process we started.
        let version = plane.client.apiserver_version().await?;
        assert_eq!(version.git_version, components.kube_apiserver.version);
        assert_eq!(
            std::fs::read_link(format!("/proc/{}/exe", plane.apiserver_pid))?,
            components.kube_apiserver.path
        );
        // The controller is ESO's binary, of the version its build says.
        let pid = plane.eso_pid().expect("ESO runs");
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"))?;
        assert_eq!(exe, components.eso.path);
        assert_eq!(
            go_module_version(&exe, "github.com/external-secrets/external-secrets")?.as_deref(),
            Some(components.eso.version.as_str()),
            "the build information of {}",
            exe.display()
        );
        // ESO, not the harness, wrote the Secrets: its field manager (ESO's
        // server-side apply names itself after the ExternalSecret) and its
        // label are on them.
        let secrets: Api<Secret> = Api::namespaced(plane.client.clone(), "opssight-production");
        let s = secrets.get("opssight-database-secrets").await?;
        let managers: Vec<String> = s
            .metadata
            .managed_fields
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.manager)
            .collect();
        assert!(
            managers
                .iter()
                .any(|m| m == "externalsecrets.external-secrets.io/opssight-database-secrets"),
            "field managers of the Secret: {managers:?}"
        );
        assert_eq!(
            s.metadata
                .labels
                .unwrap_or_default()
                .get("reconcile.external-secrets.io/managed")
                .map(String::as_str),
            Some("true")
        );
        // Every listener of every process is on loopback.
        let pids = plane.pids();
        let all = listeners();
        let mut seen = 0;
        for (name, pid) in &pids {
            let mine = socket_inodes(*pid);
            for (addr, port, _) in all.iter().filter(|(_, _, inode)| mine.contains(inode)) {
                seen += 1;
                assert!(
                    is_loopback(addr),
                    "{name} (pid {pid}) listens on {addr}:{port}, not 127.0.0.1"
                );
            }
        }
        // etcd (2), kube-apiserver, ESO's metrics and health ports at least.
        assert!(seen >= 5, "only {seen} listeners found for {pids:?}");
        anyhow::Ok(())
    });
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(p);
        }
    }
    out
}

fn gone(pid: u32) -> bool {
    // A zombie still has /proc/<pid>; its state is Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

fn killed_mid_run_leaves_nothing(signal: &str) {
    let _one = serial();
    let Some(_components) = components() else {
        return;
    };
    let mut child = common::KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
            .args(["up", "--env", "binaries"])
            .current_dir(repo_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut child.0;
    let stdout = child.stdout.take().unwrap();
    // Bringing up etcd, the API server, the controller manager and ESO.
    let common::UpOutput {
        exports,
        credentials,
        ..
    } = common::read_up_output(stdout, Duration::from_secs(300));
    let kubeconfig = PathBuf::from(exports.get("KUBECONFIG").expect("up printed KUBECONFIG"));
    let run_dir = kubeconfig.parent().unwrap().to_owned();
    assert!(run_dir.is_dir());
    assert_eq!(credentials.parent(), Some(run_dir.as_path()));
    let creds_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&credentials).unwrap().permissions(),
    );
    assert_eq!(creds_mode & 0o777, 0o600, "{}", credentials.display());
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&run_dir).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o700, "{}", run_dir.display());
    let kube_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&kubeconfig).unwrap().permissions(),
    );
    assert_eq!(kube_mode & 0o777, 0o600, "{}", kubeconfig.display());
    let processes = children_of(child.id());
    assert!(
        processes.len() >= 4,
        "expected etcd, kube-apiserver, kube-controller-manager and ESO under the harness, found {processes:?}"
    );
    let ports: Vec<u16> = listeners()
        .into_iter()
        .filter(|(_, _, inode)| processes.iter().any(|p| socket_inodes(*p).contains(inode)))
        .map(|(_, port, _)| port)
        .collect();
    assert!(!ports.is_empty());

    Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the harness did not exit within 60 s of {signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "exit status after {signal}: {status}");
    for p in &processes {
        assert!(gone(*p), "process {p} is still running after {signal}");
    }
    for port in ports {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "127.0.0.1:{port} still answers after {signal}"
        );
    }
    assert!(
        !run_dir.exists(),
        "{} (keys, tokens, etcd's data) is left after {signal}",
        run_dir.display()
    );
}

#[test]
fn sigterm_mid_run_leaves_no_process_port_or_file() {
    killed_mid_run_leaves_nothing("-TERM");
}

#[test]
fn sigint_mid_run_leaves_no_process_port_or_file() {
    killed_mid_run_leaves_nothing("-INT");
}

#[test]
fn sighup_mid_run_leaves_no_process_port_or_file() {
    killed_mid_run_leaves_nothing("-HUP");
}

/// Issue 16's live-system promise on the real components: `test --env
/// existing --allow-destructive` pointed at the real kube-apiserver and ESO
/// (with the aws-emulator as Secrets Manager) puts back every object and
/// remote value its scenarios touch, and says the system is as healthy as
/// it found it.
#[test]
fn a_destructive_run_on_existing_leaves_the_real_control_plane_as_it_found_it() {
    let _one = serial();
    if components().is_none() {
        return;
    }
    on_a_control_plane(|plane| async move {
        let Backend::Emulator(sm) = &plane.backend else {
            anyhow::bail!("the default backend is the aws-emulator");
        };
        let seed = Seed::load(&plane.opts.fixtures.seed_file())?;
        // The system as the runbook configures it (refreshInterval 1h),
        // not the binaries overlay's real-time 10 s.
        plane.apply_overlay("local").await?;
        common::all_ready(plane.client.clone(), Duration::from_secs(120)).await;
        let work = tempfile::tempdir()?;
        let before =
            common::live_fingerprint(plane.client.clone(), &sm.admin, seed.secrets.keys()).await;
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
            .args([
                "test",
                "--env",
                "existing",
                "--allow-destructive",
                "--artifacts",
            ])
            .arg(work.path().join("artifacts"))
            .env("KUBECONFIG", &plane.kubeconfig)
            .env("AWS_ENDPOINT_URL", plane.backend.endpoint())
            .env("AWS_ACCESS_KEY_ID", &sm.admin_key.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &sm.admin_key.secret_access_key)
            .env("AWS_REGION", &seed.region)
            .env_remove("AWS_PROFILE")
            .env_remove("OPSSIGHT_ENV")
            .current_dir(repo_root())
            .kill_on_drop(true)
            .output()
            .await?;
        let log = common::output_text(&out);
        assert!(out.status.success(), "{log}");
        common::assert_put_back_as_found(&log);
        let after =
            common::live_fingerprint(plane.client.clone(), &sm.admin, seed.secrets.keys()).await;
        assert_eq!(
            common::changed(&before, &after),
            Vec::<String>::new(),
            "{log}"
        );
        for v in seed.all_values() {
            assert!(!log.contains(&v), "a value of the system is in the output");
        }
        anyhow::Ok(())
    });
}
