//! Reports cucumber streams into (JUnit, JSON): a hidden file beside the
//! report, renamed over it once complete.

use std::io;
use std::path::PathBuf;

/// A report cucumber streams into: a hidden file beside it (removed on a
/// signal), renamed over the report once complete, so that an interrupt
/// never leaves an empty or truncated report.
pub(super) struct PartialReport {
    path: PathBuf,
    pub(super) partial: PathBuf,
    _on_signal: crate::interrupt::Registration,
}

impl PartialReport {
    pub(super) fn finish(self) -> anyhow::Result<()> {
        std::fs::rename(&self.partial, &self.path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.path.display()))
    }
}

pub(super) fn output(
    path: &Option<PathBuf>,
) -> anyhow::Result<(Box<dyn io::Write + Send>, Option<PartialReport>)> {
    Ok(match path {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::files::create_private_dir_all(dir)?;
            }
            let partial = crate::files::partial_path(p);
            let (file, on_signal) = crate::interrupt::made(
                || crate::files::create_private(&partial),
                |_| partial.clone(),
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            (
                Box::new(file),
                Some(PartialReport {
                    path: p.clone(),
                    partial,
                    _on_signal: on_signal,
                }),
            )
        }
        None => (Box::new(io::sink()), None),
    })
}
