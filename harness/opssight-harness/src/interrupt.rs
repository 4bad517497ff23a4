//! What a signal must undo. SIGINT, SIGTERM and SIGHUP all mean "stop and
//! clean up": the temporary directories (kubeconfigs with a token and a CA,
//! the snapshot of values) and half-written reports are removed, and the
//! hooks (a drill's partial report) run, before the harness exits with
//! 128 + the signal's number. Whoever handles the signal (the main one, or
//! an environment's own that first stops what it started) calls
//! [`run_all`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

type Hook = Box<dyn FnOnce(&'static str) + Send>;

enum Item {
    Path(PathBuf),
    Hook(Hook),
}

static NEXT: AtomicU64 = AtomicU64::new(0);
static ITEMS: Mutex<Vec<(u64, Item)>> = Mutex::new(Vec::new());

/// Undone when dropped: what it registered is no longer done on a signal.
#[derive(Debug)]
pub struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        ITEMS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, _)| *id != self.0);
    }
}

fn register(item: Item) -> Registration {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    ITEMS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((id, item));
    Registration(id)
}

/// Removes `path` (a file or a directory) on a signal.
pub fn remove_on_signal(path: &Path) -> Registration {
    register(Item::Path(path.to_owned()))
}

/// Runs `hook` (given the signal's name) on a signal.
pub fn on_signal(hook: impl FnOnce(&'static str) + Send + 'static) -> Registration {
    register(Item::Hook(Box::new(hook)))
}

/// Runs every hook, newest first, then removes every registered path.
pub fn run_all(signal: &'static str) {
    let items = std::mem::take(&mut *ITEMS.lock().unwrap_or_else(|e| e.into_inner()));
    let (mut hooks, mut paths) = (Vec::new(), Vec::new());
    for (_, item) in items.into_iter().rev() {
        match item {
            Item::Hook(h) => hooks.push(h),
            Item::Path(p) => paths.push(p),
        }
    }
    for h in hooks {
        h(signal);
    }
    for p in paths {
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
    }
}

/// Waits for SIGINT, SIGTERM or SIGHUP: their name and number.
pub async fn signal() -> (&'static str, i32) {
    listen().await
}

/// Installs the handlers now (a signal from here on is caught) and returns
/// a future that completes when one arrives.
pub fn listen() -> impl std::future::Future<Output = (&'static str, i32)> {
    use tokio::signal::unix::{SignalKind, signal};
    let streams = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    async move {
        let (Ok(mut int), Ok(mut term), Ok(mut hup)) = streams else {
            tracing::warn!("cannot install signal handlers: a signal would leave files behind");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => ("SIGINT", libc::SIGINT),
            _ = term.recv() => ("SIGTERM", libc::SIGTERM),
            _ = hup.recv() => ("SIGHUP", libc::SIGHUP),
        }
    }
}
