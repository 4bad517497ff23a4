//! The controller against the kube-emulator and the aws-emulator over real
//! HTTP, one test per rule of ../shared/reference/eso-behaviour.md.

// Helpers outside #[test] functions (support.rs) state what they expect
// with unwrap, as the tests do (clippy.toml allows it inside tests only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admission;
mod credentials;
mod irsa;
mod policies;
mod refresh;
mod resilience;
mod stores;
mod support;
mod sync;
