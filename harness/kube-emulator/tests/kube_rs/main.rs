//! The API server driven by kube-rs over HTTPS (and in-process), one test
//! per verb and semantic. One binary with modules keeps link time down.

// The helpers outside #[test] functions state what they expect as the
// tests do (clippy.toml allows it inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bodies;
mod crds;
mod discovery;
mod errors;
mod eso_crd_source;
mod gc;
mod in_process;
mod lists;
mod standalone;
mod support;
mod tokens;
mod verbs;
mod watch;
mod workloads;
