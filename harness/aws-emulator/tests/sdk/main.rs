//! The emulator driven over HTTP by the real AWS SDK for Rust, one test per
//! behaviour. One test binary (with modules) keeps link time down.

// Tests state what they expect with unwrap/expect, helpers outside #[test]
// included (clippy.toml allows it inside tests only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod auth;
mod conformance;
mod faults_audit_snapshot;
mod malformed;
mod secrets;
mod sigv4_coverage;
mod standalone;
mod sts;
mod support;
mod unauthenticated;
