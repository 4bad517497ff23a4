//! Running the tools the kind environment drives (docker, kind, helm,
//! kubectl), and undoing what they made.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Processes started and not yet finished, to stop on Ctrl-C.
static RUNNING: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

#[derive(Debug, thiserror::Error)]
#[error("`{command}` {problem}")]
pub struct CommandError {
    pub command: String,
    pub problem: String,
}

pub fn display(program: &str, args: &[String]) -> String {
    std::iter::once(program.to_owned())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs a tool to completion within `timeout`; its stdout on success,
/// otherwise an error naming the command and the first lines of stderr.
pub async fn run(
    program: &str,
    args: &[String],
    timeout: Duration,
) -> Result<String, CommandError> {
    let command = display(program, args);
    tracing::info!(%command, "running");
    let err = |problem: String| CommandError {
        command: command.clone(),
        problem,
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| err(format!("could not start: {e}")))?;
    let pid = child.id();
    if let Some(pid) = pid {
        lock().insert(pid);
    }
    let result = tokio::time::timeout(timeout, child.wait_with_output()).await;
    if let Some(pid) = pid {
        lock().remove(&pid);
    }
    let output = result
        .map_err(|_| err(format!("did not finish within {timeout:?}")))?
        .map_err(|e| err(format!("failed: {e}")))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(5)
        .collect();
    Err(err(format!(
        "failed ({}): {}",
        output.status,
        if tail.is_empty() {
            "no output".into()
        } else {
            tail.join(" / ")
        }
    )))
}

fn lock() -> std::sync::MutexGuard<'static, BTreeSet<u32>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stops every tool still running (on Ctrl-C, before cleaning up).
pub fn terminate_running() {
    let pids: Vec<u32> = lock().iter().copied().collect();
    for pid in pids {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
}

/// The commands that undo what a run made, newest first. A command is
/// registered before the step that makes its object, so an interrupted or
/// failed step is undone too (deleting what does not exist is harmless).
#[derive(Debug, Default)]
pub struct Cleanup {
    steps: Mutex<Vec<(String, Vec<String>)>>,
    /// What saves the evidence of a failed run (kind's logs) before the
    /// steps above delete it.
    on_failure: Mutex<Vec<(String, Vec<String>)>>,
    failed: AtomicBool,
    keep: bool,
}

impl Cleanup {
    pub fn new(keep: bool) -> Arc<Self> {
        Arc::new(Self {
            steps: Mutex::new(Vec::new()),
            on_failure: Mutex::new(Vec::new()),
            failed: AtomicBool::new(false),
            keep,
        })
    }

    /// A command to run first, before any cleanup, if the run failed.
    pub fn register_on_failure(&self, program: &str, args: &[&str]) {
        self.on_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((
                program.to_owned(),
                args.iter().map(|a| a.to_string()).collect(),
            ));
    }

    /// The run failed: `run_all` saves its evidence first.
    pub fn mark_failed(&self) {
        self.failed.store(true, Ordering::SeqCst);
    }

    pub fn keeps(&self) -> bool {
        self.keep
    }

    pub fn register(&self, program: &str, args: &[&str]) {
        self.steps.lock().unwrap_or_else(|e| e.into_inner()).push((
            program.to_owned(),
            args.iter().map(|a| a.to_string()).collect(),
        ));
    }

    /// What would run, in order.
    pub fn pending(&self) -> Vec<String> {
        self.steps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .rev()
            .map(|(p, a)| display(p, a))
            .collect()
    }

    /// Runs every registered command once, newest first (blocking: it also
    /// runs from Drop during a panic and from the Ctrl-C handler). With
    /// `keep`, says what is left instead.
    pub fn run_all(&self) {
        let evidence =
            std::mem::take(&mut *self.on_failure.lock().unwrap_or_else(|e| e.into_inner()));
        // Even with --keep: a CI job uploads its artifacts and then goes.
        if self.failed.load(Ordering::SeqCst) {
            run_each("the run failed, saving", &evidence);
        }
        let mut steps = std::mem::take(&mut *self.steps.lock().unwrap_or_else(|e| e.into_inner()));
        if steps.is_empty() {
            return;
        }
        if self.keep {
            eprintln!("--keep: left running; remove later with `opssight-harness down --all` or:");
            for (p, a) in steps.iter().rev() {
                eprintln!("  {}", display(p, a));
            }
            return;
        }
        steps.reverse();
        run_each("cleaning up", &steps);
    }
}

/// Runs each command in order, saying what runs and what failed.
fn run_each(label: &str, steps: &[(String, Vec<String>)]) {
    for (program, args) in steps {
        let command = display(program, args);
        eprintln!("{label}: {command}");
        match std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()
        {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "  (it failed: {})",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .next()
                    .unwrap_or("no output")
            ),
            Err(e) => eprintln!("  (could not run it: {e})"),
        }
    }
}

/// Runs the cleanup when dropped: on success, on an early error return and
/// while a panic unwinds.
pub struct CleanupGuard(pub Arc<Cleanup>);

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.mark_failed();
        }
        self.0.run_all();
    }
}
