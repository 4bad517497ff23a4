//! What a signal must undo. SIGINT, SIGTERM and SIGHUP all mean "stop and
//! clean up": the temporary directories (kubeconfigs with a token and a CA,
//! the snapshot of values) and half-written reports are removed, and the
//! hooks (a drill's partial report) run, before the harness exits with
//! 128 + the signal's number. Whoever handles the signal (the main one, or
//! an environment's own that first stops what it started) calls
//! [`run_all`].

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

type Hook = Box<dyn FnOnce(&'static str) + Send>;

enum Item {
    Path(PathBuf),
    Hook(Hook),
}

/// What a signal undoes. Once a signal has been handled the registry is
/// closed: the process is about to exit, while other tasks may still be
/// running scenarios, and anything they make from then on would outlive
/// the exit. So a path is made under the registry's lock ([`made`]): a
/// signal sees it either not yet made (and then it never is) or made and
/// registered (and then it is removed).
struct Registry {
    items: Mutex<Items>,
    next: AtomicU64,
}

#[derive(Default)]
struct Items {
    list: Vec<(u64, Item)>,
    closed_by: Option<&'static str>,
}

static REGISTRY: Registry = Registry::new();

/// Undone when dropped: what it registered is no longer done on a signal.
#[derive(Debug)]
pub struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        REGISTRY.forget(self.0);
    }
}

impl Registry {
    const fn new() -> Self {
        Self {
            items: Mutex::new(Items {
                list: Vec::new(),
                closed_by: None,
            }),
            next: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Items> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn forget(&self, id: u64) {
        self.lock().list.retain(|(i, _)| *i != id);
    }

    /// Makes something at a path and registers the path in one step.
    fn made<T>(
        &self,
        make: impl FnOnce() -> std::io::Result<T>,
        path_of: impl FnOnce(&T) -> PathBuf,
    ) -> std::io::Result<(T, u64)> {
        let mut items = self.lock();
        if let Some(signal) = items.closed_by {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                format!("{signal}: the run is stopping, nothing new is made"),
            ));
        }
        let made = make()?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        items.list.push((id, Item::Path(path_of(&made))));
        Ok((made, id))
    }

    /// Registers a hook; after the signal it is dropped unrun (the run it
    /// would have reported on has already been reported as interrupted).
    fn hook(&self, hook: Hook) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut items = self.lock();
        if items.closed_by.is_none() {
            items.list.push((id, Item::Hook(hook)));
        }
        id
    }

    /// The hooks first, with the registry still open: a hook writes a
    /// report, atomically, through a partial file of its own. Then it is
    /// closed and every path goes, those made while the hooks ran too.
    fn run_all(&self, signal: &'static str) {
        let hooks: Vec<Hook> = {
            let mut items = self.lock();
            let (hooks, rest) = std::mem::take(&mut items.list)
                .into_iter()
                .partition::<Vec<_>, _>(|(_, item)| matches!(item, Item::Hook(_)));
            items.list = rest;
            hooks
                .into_iter()
                .rev()
                .filter_map(|(_, item)| match item {
                    Item::Hook(h) => Some(h),
                    Item::Path(_) => None,
                })
                .collect()
        };
        for h in hooks {
            h(signal);
        }
        let items = {
            let mut items = self.lock();
            items.closed_by = Some(signal);
            std::mem::take(&mut items.list)
        };
        for (_, item) in items.into_iter().rev() {
            if let Item::Path(p) = item {
                remove(&p);
            }
        }
    }
}

/// Removes a file or a directory and what it holds. Other tasks run on
/// while a signal is handled, and one may be writing a file into a
/// temporary directory as it is removed: the directory is then not empty
/// at the end, and the removal is tried again (nothing re-creates the
/// directory itself, see [`crate::files::create_private_subdir`]).
fn remove(path: &std::path::Path) {
    // Bounded: a signal must end the run even if something writes on.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound && path.exists() => {
                std::thread::yield_now();
            }
            _ => return,
        }
    }
}

/// Makes a file or directory with `make` and removes it on a signal; the
/// path is `path_of` what was made. After a signal nothing is made: an
/// `Interrupted` error.
pub fn made<T>(
    make: impl FnOnce() -> std::io::Result<T>,
    path_of: impl FnOnce(&T) -> PathBuf,
) -> std::io::Result<(T, Registration)> {
    REGISTRY
        .made(make, path_of)
        .map(|(t, id)| (t, Registration(id)))
}

/// Runs `hook` (given the signal's name) on a signal.
pub fn on_signal(hook: impl FnOnce(&'static str) + Send + 'static) -> Registration {
    Registration(REGISTRY.hook(Box::new(hook)))
}

/// Runs every hook, newest first, then removes every registered path, and
/// makes nothing more from then on.
pub fn run_all(signal: &'static str) {
    REGISTRY.run_all(signal);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes the directory `path` through `registry`: its registration id.
    fn make_dir(registry: &Registry, path: &std::path::Path) -> std::io::Result<u64> {
        registry
            .made(|| std::fs::create_dir(path), |()| path.to_owned())
            .map(|((), id)| id)
    }

    #[test]
    fn what_was_made_before_the_signal_goes_and_nothing_is_made_after() {
        let registry = Registry::new();
        let dir = tempfile::tempdir().unwrap();
        let before = dir.path().join("before");
        make_dir(&registry, &before).unwrap();
        // A hook still makes what it needs (a drill's report, written
        // through a partial file); what it leaves goes with the rest.
        let by_hook = dir.path().join("by-hook");
        let registry = std::sync::Arc::new(registry);
        let (reg, path) = (registry.clone(), by_hook.clone());
        registry.hook(Box::new(move |s| {
            let p = path.join(s);
            let made = reg.made(|| std::fs::create_dir_all(&p), |()| path.clone());
            assert!(made.is_ok(), "a hook could not make its file: {made:?}");
        }));

        registry.run_all("SIGTERM");
        assert!(
            !before.exists(),
            "a directory made before the signal is left"
        );
        assert!(!by_hook.exists(), "what a hook made is left");

        let after = dir.path().join("after");
        let err = make_dir(&registry, &after).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::Interrupted);
        assert!(err.to_string().contains("SIGTERM"), "{err}");
        assert!(!after.exists(), "a directory was made after the signal");
    }

    #[test]
    fn a_dropped_registration_is_not_undone() {
        let registry = Registry::new();
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        let id = make_dir(&registry, &kept).unwrap();
        registry.forget(id);
        registry.run_all("SIGINT");
        assert!(
            kept.exists(),
            "a path whose registration was dropped was removed"
        );
    }

    #[test]
    fn a_directory_written_into_while_it_is_removed_goes() {
        let dir = tempfile::tempdir().unwrap();
        let busy = dir.path().join("busy");
        std::fs::create_dir(&busy).unwrap();
        let (started, writing) = std::sync::mpsc::channel();
        let writer = {
            let busy = busy.clone();
            // A scenario writes a few files, not forever: a bounded writer
            // that stops when the directory is gone.
            std::thread::spawn(move || {
                let mut written = 0;
                while written < 2_000
                    && std::fs::File::create(busy.join(written.to_string())).is_ok()
                {
                    written += 1;
                    if written == 100 {
                        let _ = started.send(());
                    }
                }
                written
            })
        };
        writing
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the writer wrote 100 files within 10 s");
        remove(&busy);
        let written = writer.join().unwrap();
        assert!(
            !busy.exists(),
            "the directory is left ({written} files were written)"
        );
    }
}
