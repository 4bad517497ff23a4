//! The control plane's processes: each started with its output in a 0600
//! log file of the run's directory, and stopped (SIGTERM, then SIGKILL)
//! when its handle is dropped, whatever the reason. Every live pid is also
//! in one registry, so a signal handler can stop them all before the
//! harness exits, and each child asks the kernel to kill it should the
//! harness die without running either (`PR_SET_PDEATHSIG`).

use std::collections::BTreeSet;
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("starting {name} ({}): {source}", .program.display())]
    Spawn {
        name: String,
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("{name} exited ({status}) while {waiting_for}; the last lines of its log ({}):\n{tail}", .log.display())]
    Exited {
        name: String,
        status: String,
        waiting_for: String,
        log: PathBuf,
        tail: String,
    },
    #[error("timed out after {after:?} waiting for {what}; the last lines of {name}'s log ({}):\n{tail}", .log.display())]
    Timeout {
        name: String,
        what: String,
        after: Duration,
        log: PathBuf,
        tail: String,
    },
}

static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The pids of every control-plane process this harness runs now.
pub fn live_pids() -> Vec<i32> {
    live().iter().copied().collect()
}

/// Stops every live process (SIGTERM, SIGKILL after `grace`): the signal
/// handler's part, before the harness exits.
pub fn stop_all(grace: Duration) {
    let pids = live_pids();
    for &pid in &pids {
        signal(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    for pid in pids {
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if alive(pid) {
            eprintln!("process {pid} did not stop within {grace:?} of SIGTERM: killing it");
            signal(pid, libc::SIGKILL);
        }
        reap(pid);
        live().remove(&pid);
    }
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) with a pid we started; no memory is involved.
    unsafe {
        libc::kill(pid, sig);
    }
}

fn alive(pid: i32) -> bool {
    let mut status = 0;
    // SAFETY: waitpid(2) on our own child, WNOHANG: returns at once.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    r == 0
}

/// Waits for a process that is gone or was sent SIGKILL. Blocking on
/// purpose: after SIGKILL the kernel still tears down its threads and
/// closes its sockets, and the harness must not exit (or say it stopped
/// everything) while a port of it still answers. Only a process stuck in
/// uninterruptible sleep could hold this up, and that one would hold its
/// ports too.
fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid(2) on our own child; EINTR retried, ECHILD (already
    // collected by `alive`) ends it.
    unsafe {
        while libc::waitpid(pid, &mut status, 0) == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
    }
}

/// A running process of the control plane.
#[derive(Debug)]
pub struct Process {
    pub name: String,
    child: Child,
    pub log: PathBuf,
    /// Where this process's lines start in `log`.
    log_start: u64,
}

/// How to start one.
pub struct Spec<'a> {
    pub name: &'a str,
    pub program: &'a Path,
    pub args: Vec<String>,
    /// The whole environment: nothing of the harness's own is inherited
    /// (no AWS_* or KUBECONFIG of the user's shell reaches a component).
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
}

impl Process {
    pub fn spawn(spec: Spec<'_>) -> Result<Self, ProcessError> {
        let spawn_err = |source| ProcessError::Spawn {
            name: spec.name.to_owned(),
            program: spec.program.to_owned(),
            source,
        };
        let log = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&spec.log)
            .map_err(spawn_err)?;
        // The log may hold an earlier process's lines (the same component
        // started again): this one's tail starts where they end.
        let log_start = log.metadata().map_err(spawn_err)?.len();
        let err_log = log.try_clone().map_err(spawn_err)?;
        let mut cmd = Command::new(spec.program);
        cmd.args(&spec.args)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log)
            // A terminal's Ctrl-C reaches the harness, which stops these in
            // order; not each of them at once.
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; nothing else runs between
        // fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(spawn_err)?;
        live().insert(child.id() as i32);
        tracing::debug!(name = spec.name, pid = child.id(), "started");
        Ok(Self {
            name: spec.name.to_owned(),
            child,
            log: spec.log,
            log_start,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last `n` lines of what it wrote to its log.
    pub fn log_tail(&self, n: usize) -> Vec<String> {
        tail_from(&self.log, self.log_start, n)
    }

    /// Waits until `ready` says yes, polling every 100 ms; fails at once if
    /// the process exits, and after `timeout` naming `what`.
    pub async fn wait_ready<F, Fut>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut ready: F,
    ) -> Result<(), ProcessError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Err(ProcessError::Exited {
                    name: self.name.clone(),
                    status: status.to_string(),
                    waiting_for: what.to_owned(),
                    log: self.log.clone(),
                    tail: self.log_tail(30).join("\n"),
                });
            }
            if ready().await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ProcessError::Timeout {
                    name: self.name.clone(),
                    what: what.to_owned(),
                    after: timeout,
                    log: self.log.clone(),
                    tail: self.log_tail(30).join("\n"),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL; waits for it.
    pub fn stop(&mut self, grace: Duration) {
        let pid = self.child.id() as i32;
        if self.exited().is_none() {
            signal(pid, libc::SIGTERM);
            let deadline = Instant::now() + grace;
            while self.exited().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if self.exited().is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        live().remove(&pid);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(10));
    }
}

/// The last `n` lines of a file (what there is of it).
pub fn tail(path: &Path, n: usize) -> Vec<String> {
    tail_from(path, 0, n)
}

/// The last `n` lines of a file after its first `start` bytes.
fn tail_from(path: &Path, start: u64, n: usize) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let from = usize::try_from(start)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let text = String::from_utf8_lossy(&bytes[from..]);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// `N` distinct ports free on 127.0.0.1 now, for a component that must be
/// told its ports: the kernel picks each, and all are held at once before
/// any is released, so no port is picked twice (one released could be
/// handed out again by the next pick).
pub fn free_ports<const N: usize>() -> std::io::Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)))
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut ports = [0; N];
    for (port, l) in ports.iter_mut().zip(&listeners) {
        *port = l.local_addr()?.port();
    }
    Ok(ports)
}

/// How many times a component is started on new ports when another
/// process took one of its ports first.
const PORT_ATTEMPTS: usize = 3;

/// Starts something on ports free now (`start` spawns it and waits for it)
/// and, should another process bind one of them between the pick and the
/// component's own bind (a released port is anyone's), starts it again on
/// new ones, up to three times. Seen with tests and other servers starting
/// beside the harness: etcd exiting with "bind: address already in use".
pub async fn on_free_ports<const N: usize, T, Fut>(
    what: &str,
    // Not an async closure: its future must be Send for every borrow,
    // which async closures cannot say yet.
    mut start: impl FnMut([u16; N]) -> Fut,
) -> anyhow::Result<T>
where
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut attempt = 1;
    loop {
        let ports = free_ports::<N>()?;
        match start(ports).await {
            Err(e) if attempt < PORT_ATTEMPTS && port_taken(&e) => {
                tracing::warn!(
                    "{what}: a port of {ports:?} was taken before it could bind it; starting it on other ports"
                );
                eprintln!("{what}: a port was taken before it could bind it; trying other ports");
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Whether a start failed because its process could not bind a port.
fn port_taken(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<ProcessError>(),
            Some(ProcessError::Exited { tail, .. })
                if tail.to_ascii_lowercase().contains("address already in use")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_process_is_gone_and_unregistered() {
        let dir = tempfile::tempdir().unwrap();
        let p = Process::spawn(Spec {
            name: "sleep",
            program: Path::new("/bin/sleep"),
            args: vec!["600".into()],
            env: vec![],
            log: dir.path().join("sleep.log"),
        })
        .unwrap();
        let pid = p.pid() as i32;
        assert!(live_pids().contains(&pid));
        drop(p);
        assert!(!live_pids().contains(&pid));
        // SAFETY: signal 0 only checks existence.
        assert_eq!(unsafe { libc::kill(pid, 0) }, -1, "pid {pid} still exists");
    }

    #[tokio::test]
    async fn waiting_on_a_process_that_exits_says_so_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Process::spawn(Spec {
            name: "sh",
            program: Path::new("/bin/sh"),
            args: vec!["-c".into(), "echo no etcd here; exit 3".into()],
            env: vec![],
            log: dir.path().join("sh.log"),
        })
        .unwrap();
        let e = p
            .wait_ready("it to serve", Duration::from_secs(10), || async { false })
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("exited (exit status: 3) while it to serve"),
            "{e}"
        );
        assert!(e.contains("no etcd here"), "{e}");
    }

    fn exited(tail: &str) -> anyhow::Error {
        anyhow::Error::new(ProcessError::Exited {
            name: "etcd".into(),
            status: "exit status: 1".into(),
            waiting_for: "etcd to be healthy".into(),
            log: PathBuf::from("etcd.log"),
            tail: tail.into(),
        })
        .context("starting the control plane")
    }

    #[test]
    fn ports_picked_together_are_distinct() {
        for _ in 0..50 {
            let ports = free_ports::<4>().unwrap();
            let distinct: BTreeSet<u16> = ports.iter().copied().collect();
            assert_eq!(distinct.len(), 4, "{ports:?}");
        }
    }

    #[tokio::test]
    async fn a_start_that_lost_a_port_is_tried_again_on_other_ports() {
        let mut seen = Vec::new();
        let started = on_free_ports("etcd", |ports: [u16; 2]| {
            seen.push(ports);
            let first = seen.len() == 1;
            async move {
                if first {
                    Err(exited(
                        "listen tcp 127.0.0.1:2380: bind: address already in use",
                    ))
                } else {
                    Ok(ports)
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(started, seen[1]);
    }

    #[tokio::test]
    async fn other_failures_and_a_third_lost_port_are_not_tried_again() {
        let mut attempts = 0;
        let e = on_free_ports("etcd", |_: [u16; 1]| {
            attempts += 1;
            async { Err::<(), _>(exited("panic: no etcd here")) }
        })
        .await
        .unwrap_err();
        assert_eq!(attempts, 1);
        assert!(format!("{e:#}").contains("no etcd here"));

        let mut attempts = 0;
        let e = on_free_ports("moto", |_: [u16; 1]| {
            attempts += 1;
            async { Err::<(), _>(exited("OSError: [Errno 98] Address already in use")) }
        })
        .await
        .unwrap_err();
        assert_eq!(attempts, PORT_ATTEMPTS);
        assert!(format!("{e:#}").contains("Address already in use"));
    }

    #[test]
    fn a_process_log_tail_is_its_own_lines_only() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("eso.log");
        std::fs::write(&log, "old run: bind: address already in use\n").unwrap();
        let start = std::fs::metadata(&log).unwrap().len();
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        std::io::Write::write_all(&mut f, b"new run line 1\nnew run line 2\n").unwrap();
        assert_eq!(
            tail_from(&log, start, 10),
            ["new run line 1", "new run line 2"]
        );
        assert_eq!(tail(&log, 10).len(), 3);
    }
}
