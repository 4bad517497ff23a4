//! Waiting for a condition with a deadline that says what was awaited:
//! [`within`], and the named conditions of [`conditions`] (in the style of
//! kube-runtime's `wait::conditions`), watched with `await_condition`.

pub mod conditions;

use std::future::Future;
use std::time::Duration;

/// A wait that ran out: what it waited for, and for how long.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {after:?} waiting for {what}")]
pub struct TimedOut {
    pub what: String,
    pub after: Duration,
}

/// Waits up to `timeout` for `condition` (a future that ends when it
/// holds), failing with what it waited for.
pub async fn within<T>(
    timeout: Duration,
    what: &str,
    condition: impl Future<Output = T>,
) -> Result<T, TimedOut> {
    tokio::time::timeout(timeout, condition)
        .await
        .map_err(|_| TimedOut {
            what: what.to_owned(),
            after: timeout,
        })
}
