//! What every emulator in this workspace shares, and nothing else: an
//! injectable clock (so a scenario can move time forward without sleeping)
//! and a loopback HTTP server whose handle stops it when dropped.

#![warn(missing_docs)]

pub mod clock;
pub mod ids;
pub mod logging;
pub mod server;

pub use clock::Clock;
pub use server::{Abort, HttpService, Limits, ResponseBody, ServerError, ServerHandle, full_body};
