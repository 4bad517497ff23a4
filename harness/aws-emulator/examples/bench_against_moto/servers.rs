//! The servers under test, each its own process on 127.0.0.1 with an
//! ephemeral port, pinned to the server's core when asked; stopped when
//! dropped (and the emulator also when this process dies, as its stdin
//! closes).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::client::Target;

pub(crate) struct Server {
    child: Child,
    _stdin: Option<ChildStdin>,
    pub(crate) target: Target,
}

impl Server {
    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `program args`, under `taskset -c CPU` when a CPU is given.
fn command(cpu: Option<&str>, program: &str, args: &[&str]) -> Command {
    match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpu, program]).args(args);
            c
        }
        None => {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
    }
}

/// This example's own path, to run it in `serve` mode.
fn own_path() -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("own path")?;
    Ok(exe.to_str().context("own path is not UTF-8")?.to_owned())
}

/// This example in `serve` mode: the emulator alone in its process.
pub(crate) fn emulator(cpu: Option<&str>) -> anyhow::Result<Server> {
    start_emulator(command(cpu, &own_path()?, &["serve"]))
}

/// The emulator as [`emulator`] starts it, under callgrind, which writes
/// its counts to `out` (dumps to `out.1`, ...) and its log to `log`.
pub(crate) fn emulator_under_callgrind(out: &Path, log: &Path) -> anyhow::Result<Server> {
    let out = format!("--callgrind-out-file={}", out.display());
    let log = format!("--log-file={}", log.display());
    let exe = own_path()?;
    start_emulator(command(
        None,
        "valgrind",
        &["--tool=callgrind", &out, &log, &exe, "serve"],
    ))
}

fn start_emulator(mut command: Command) -> anyhow::Result<Server> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("start the emulator")?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().context("emulator stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .context("emulator's ready line")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let ["READY", addr, key_id, secret_key] = fields.as_slice() else {
        let _ = child.kill();
        let _ = child.wait();
        bail!(
            "the emulator did not start ({} bytes on its stdout)",
            line.len()
        );
    };
    Ok(Server {
        target: Target {
            name: "aws-emulator",
            addr: addr.parse().context("emulator address")?,
            access_key_id: (*key_id).to_owned(),
            secret_access_key: (*secret_key).to_owned(),
        },
        child,
        _stdin: stdin,
    })
}

pub(crate) fn moto(cpu: Option<&str>) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = command(
        cpu,
        "moto_server",
        &["-H", "127.0.0.1", "-p", &port.to_string()],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .context("start moto_server (pip install \"moto[server]\")")?;
    let server = Server {
        child,
        _stdin: None,
        target: Target {
            name: "moto",
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            // moto checks no signature; any key will do.
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
        },
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !answers_http(server.target.addr) {
        if Instant::now() > deadline {
            bail!("moto_server did not answer on port {port} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(server)
}

/// Whether something answers HTTP there (moto accepts connections before
/// it can serve them).
fn answers_http(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nhost: localhost\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.")
}

/// moto's version, for the report.
pub(crate) fn moto_version() -> String {
    Command::new("python3")
        .args(["-c", "import moto; print(moto.__version__)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "(version unknown)".into())
}
