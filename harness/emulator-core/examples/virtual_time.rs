//! The two things emulator-core gives an emulator: a virtual clock that a
//! test moves forward instead of waiting, and a loopback HTTP server that
//! stops when its handle goes.
//!
//! `cargo run -p emulator-core --example virtual_time`

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use emulator_core::{
    Abort, Clock, HttpService, RequestBody, ResponseBody, ServerHandle, full_body,
};
use http::{Request, Response};
use jiff::SignedDuration;

/// A service that answers every request with the time on its clock.
struct TellTime(Clock);

impl HttpService for TellTime {
    async fn call(&self, _req: Request<RequestBody>) -> Result<Response<ResponseBody>, Abort> {
        Ok(Response::new(full_body(self.0.now().to_string())))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A clock that stands still at a known time until it is moved.
    let clock = Clock::frozen_at("2026-01-01T00:00:00Z".parse()?);

    // A task that waits an hour on it (the deadline is fixed now, so it
    // does not matter whether the task starts before or after the move)...
    let deadline = clock.now().checked_add(SignedDuration::from_hours(1))?;
    let sleeper = tokio::spawn({
        let clock = clock.clone();
        async move {
            clock.sleep_until(deadline).await;
            clock.now()
        }
    });
    // ...wakes as soon as the clock is moved an hour forward.
    clock.advance(Duration::from_secs(3600))?;
    let woke_at = tokio::time::timeout(Duration::from_secs(5), sleeper)
        .await
        .context("the sleeper did not wake within 5 s of the clock's move")??;
    println!("the sleeper woke at {woke_at}");

    // A server on 127.0.0.1, on a port the system picks.
    let server = ServerHandle::start(Arc::new(TellTime(clock.clone()))).await?;
    let said = reqwest::get(server.url())
        .await?
        .error_for_status()?
        .text()
        .await?;
    println!("{} says it is {said}", server.url());
    anyhow::ensure!(
        said == woke_at.to_string(),
        "the server told {said}, not the clock's {woke_at}"
    );

    // Stops it and waits for its connections to end (dropping the handle
    // stops it too, on any path out of here).
    server.shutdown().await;
    Ok(())
}

// `cargo test` runs the example (Cargo.toml: `test = true`), so it stays true.
#[cfg(test)]
mod tests {
    #[test]
    fn runs() -> anyhow::Result<()> {
        super::main()
    }
}
