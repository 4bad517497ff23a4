//! What every emulator in this workspace shares, and nothing else: an
//! injectable clock (so a scenario can move time forward without sleeping),
//! a loopback HTTP server whose handle stops it when dropped, a way to send
//! a service requests from its own process without a connection, and what
//! the binaries that run emulators share (the allocator they declare, the
//! private files for their credentials, the signals that stop them).

#![warn(missing_docs)]

pub mod clock;
pub mod ids;
pub mod in_process;
pub mod logging;
pub mod server;
pub mod standalone;

pub use clock::Clock;
pub use in_process::InProcess;
pub use server::{
    Abort, BoxError, HttpService, Limits, RequestBody, ResponseBody, ServerError, ServerHandle,
    full_body, request_body,
};

/// The global allocator of every binary that runs emulators (the
/// emulators' own, `opssight-harness`, the benchmarks): mimalloc. A
/// library cannot choose the allocator, so each binary declares
/// `#[global_allocator] static ALLOCATOR: emulator_core::Allocator =
/// emulator_core::ALLOCATOR;`. Why: serving is allocation-heavy (JSON
/// values, TLS records, per-request buffers across many threads), and
/// against glibc's malloc, side by side on 2 cores, mimalloc took the
/// kube-emulator's server CPU per created-and-watched Secret from
/// 51-60 µs to 30-42 µs and its create+watch rate from 14-19k/s to
/// 21-27k/s (LD_PRELOAD, `examples/bench_secrets.rs`).
pub type Allocator = mimalloc::MiMalloc;

/// The [`Allocator`] to declare as `#[global_allocator]`.
pub const ALLOCATOR: Allocator = mimalloc::MiMalloc;
