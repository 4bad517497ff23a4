//! What the emulators' standalone binaries share beyond their log set-up:
//! the files that hold a run's credentials (0600, in a 0700 directory of
//! their own, written new so that an existing file is never lost, removed
//! on drop) and the signals that stop a binary, so that it removes those
//! files whatever way it is stopped.

use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// A directory only this user may enter (0700), under the system's
/// temporary directory, removed with everything in it when dropped.
pub fn private_dir(prefix: &str) -> io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt as _;
    tempfile::Builder::new()
        .prefix(&format!("{prefix}-"))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
}

/// Removes a file when dropped, however its owner ends (a credentials
/// file a binary wrote).
#[derive(Debug)]
pub struct RemoveOnDrop(pub PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes `bytes` to a new file at `path`, readable by this user only
/// (0600 from its creation: no moment where another could open it). A file
/// already there is an error, not overwritten.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| named(path, e))?;
    file.write_all(bytes).map_err(|e| named(path, e))
}

/// Which signal asked a standalone binary to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: a service manager, `kill`.
    Terminate,
    /// SIGHUP: the terminal closed.
    Hangup,
}

/// Waits for SIGINT, SIGTERM or SIGHUP. Listening starts at the call, so
/// call it before telling anyone the binary is up.
pub fn stop_signal() -> io::Result<impl Future<Output = StopSignal>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => StopSignal::Interrupt,
            _ = term.recv() => StopSignal::Terminate,
            _ = hup.recv() => StopSignal::Hangup,
        }
    })
}

/// An error that names the path it is about (std's do not).
fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_private_dir_is_0700_and_goes_with_its_files() {
        let dir = private_dir("emulator-core-test").unwrap();
        let path = dir.path().to_owned();
        assert_eq!(mode(&path), 0o700);
        let file = path.join("credentials.env");
        write_new_private(&file, b"export A=b\n").unwrap();
        assert_eq!(mode(&file), 0o600);
        drop(RemoveOnDrop(file.clone()));
        assert!(!file.exists(), "{} is left", file.display());
        drop(dir);
        assert!(!path.exists(), "{} is left", path.display());
    }

    #[test]
    fn an_existing_file_is_not_overwritten() {
        let dir = private_dir("emulator-core-test").unwrap();
        let file = dir.path().join("env");
        std::fs::write(&file, "kept").unwrap();
        let err = write_new_private(&file, b"new").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(
            err.to_string().contains(&file.display().to_string()),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept");
    }
}
