//! The log of an emulator run as a program: one setup, so that every
//! emulator's binary logs the same way and is tuned with the same variable.

/// The process already had a global `tracing` subscriber.
#[derive(Debug, thiserror::Error)]
#[error("installing the stderr log subscriber")]
pub struct LoggingError(#[source] Box<dyn std::error::Error + Send + Sync + 'static>);

/// Sends `tracing` events to stderr, filtered by `RUST_LOG` (errors only
/// when it is unset). Stderr, because the emulators' binaries print on
/// stdout what a shell evaluates (`export KUBECONFIG=...`).
pub fn log_to_stderr() -> Result<(), LoggingError> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(LoggingError)
}
