//! The harness's integration tests, one module a capability, in one test
//! binary: `cargo test` runs test binaries one after another, so tests kept
//! in separate binaries could not overlap, and most of these spend their
//! time waiting on a child process (the CLI, fake tools, a browser). Only
//! the scenario suite (`features`, its own harness) and the tests of the
//! real components (`binaries_env`, `kube_api_differential`: control planes
//! that need the machine to themselves) are binaries of their own.

// Tests state what they expect with unwrap/expect (clippy.toml allows it
// in #[test] functions; this covers their helpers too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod architecture;
mod check;
mod doctor;
mod drill;
mod drill_html_chromium;
mod eso_pods;
mod existing_env;
mod first_contact;
mod fixture_mutations;
mod input_errors;
mod install_tools;
mod interrupts;
mod kind_env;
mod kind_preflight;
mod rotation;
mod secret_hygiene;
mod up_command;
mod workflows;
