//! Files and directories the harness makes: private from the start (0700
//! directories, 0600 files, created with that mode rather than chmod'ed
//! after, so no other user can open them in between), removed on a signal
//! (see [`crate::interrupt`]), and reports replaced atomically (a temporary
//! file renamed over the report, so an interrupt never leaves a truncated
//! or empty one).

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::interrupt::{self, Registration};

/// A temporary directory (0700) removed when dropped and on a signal.
#[derive(Debug)]
pub struct PrivateDir {
    dir: tempfile::TempDir,
    _on_signal: Registration,
}

impl PrivateDir {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A new private temporary directory.
pub fn private_tempdir() -> std::io::Result<PrivateDir> {
    let (dir, on_signal) = interrupt::made(
        || {
            tempfile::Builder::new()
                .prefix("opssight-harness-")
                .permissions(std::fs::Permissions::from_mode(0o700))
                .tempdir()
        },
        |d| d.path().to_owned(),
    )?;
    Ok(PrivateDir {
        dir,
        _on_signal: on_signal,
    })
}

/// Creates `dir` and its missing parents 0700, naming `dir` on an error.
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| named(dir, e))
}

/// Creates `dir` 0700 inside a parent that must exist (an existing `dir`
/// is fine). For a directory inside a temporary one: were the parent
/// created too, a signal that removed the temporary directory meanwhile
/// would see it come back, and left behind.
pub fn create_private_subdir(dir: &Path) -> std::io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(named(dir, e)),
        _ => Ok(()),
    }
}

/// An error that names the path it is about (std's do not).
pub fn named(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// `${XDG_CACHE_HOME:-$HOME/.cache}/opssight-harness`: what the harness
/// builds or computes once and keeps between runs (the real components, the
/// cached `kubectl kustomize` builds). A relative `XDG_CACHE_HOME` is
/// ignored, as the XDG spec says.
pub fn user_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("opssight-harness")
}

/// The first `program` on `PATH`, as a shell would find it.
pub fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Every file below `root`, at any depth, sorted (so what is made of them
/// does not depend on the order a directory lists them in); an error names
/// the directory it is about.
pub fn files_below(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).map_err(|e| named(&dir, e))? {
            let path = e.map_err(|e| named(&dir, e))?.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes `bytes` to a file created 0600 (an existing one is truncated and
/// keeps its mode).
pub fn write_private(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    create_private(path)?
        .write_all(bytes.as_ref())
        .map_err(|e| named(path, e))
}

/// Opens `path` for writing, created 0600 (an existing one is truncated
/// and keeps its mode).
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| named(path, e))
}

/// Where a report is written before it is renamed over `path`: beside it
/// (a rename within one directory is atomic), hidden, and this process's.
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// Replaces `path` with `bytes` at once: readers see the old report or the
/// whole new one, never a part. The parent directory is created (0700).
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir_all(dir)?;
    }
    let tmp = partial_path(path);
    let (mut file, _cleanup) = interrupt::made(|| create_private(&tmp), |_| tmp.clone())?;
    let written = file
        .write_all(bytes.as_ref())
        .and_then(|()| file.sync_all())
        .map_err(|e| named(&tmp, e));
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path).map_err(|e| named(path, e))) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Reads a JSON file as `T`: an error names the file and, for malformed
/// JSON, the line and column.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    parse_json(path, &text)
}

/// `text` (read from `path`) as `T`: an error names the file, the line and
/// the column.
pub fn parse_json<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> anyhow::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "{}: line {}, column {}: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// Checks before anything runs that a report can be written at `path`:
/// its directory exists or can be made, and `path` is not a directory.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            format!("{}: is a directory, not a file", path.display()),
        ));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    check_dir(dir)
}

/// Checks that `dir` is (or can be made) a directory files can be created
/// in, without making it: a check before anything runs leaves nothing
/// behind when another input is refused after it.
pub fn check_dir(dir: &Path) -> std::io::Result<()> {
    let mut existing = dir;
    while !existing.as_os_str().is_empty() && !existing.exists() {
        existing = existing.parent().unwrap_or(Path::new(""));
    }
    if existing.as_os_str().is_empty() {
        existing = Path::new(".");
    }
    if !existing.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{}: is not a directory", existing.display()),
        ));
    }
    let probe = tempfile::Builder::new()
        .prefix(".opssight-harness-probe-")
        .tempfile_in(existing)
        .map_err(|e| named(existing, e))?;
    drop(probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_and_dirs_are_created_private() {
        let d = private_tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(d.path()), 0o700);
        let f = d.path().join("kubeconfig");
        write_private(&f, "x").unwrap();
        assert_eq!(mode(&f), 0o600);
        let r = d.path().join("a/b/report.json");
        write_atomic(&r, "{}").unwrap();
        assert_eq!(mode(&r), 0o600);
        assert_eq!(std::fs::read_to_string(&r).unwrap(), "{}");
        assert!(!partial_path(&r).exists());
        let path = d.path().to_owned();
        drop(d);
        assert!(!path.exists());
    }

    #[test]
    fn a_report_under_a_regular_file_is_refused_naming_the_path() {
        let d = private_tempdir().unwrap();
        let file = d.path().join("plain");
        std::fs::write(&file, "").unwrap();
        let e = check_writable(&file.join("out.json")).unwrap_err();
        assert!(e.to_string().contains(&file.display().to_string()), "{e}");
        let e = write_atomic(&file.join("out.json"), "{}").unwrap_err();
        assert!(e.to_string().contains(&file.display().to_string()), "{e}");
        let e = check_dir(&file).unwrap_err();
        assert!(e.to_string().contains("is not a directory"), "{e}");
    }
}
