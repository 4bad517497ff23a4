//! The OpsSight secrets harness: the Gherkin scenarios of the runbook
//! (`features/`), the fixtures that describe the system (`fixtures/`), and
//! the environments they run on.

pub mod check;
pub mod diagnostics;
pub mod differential;
pub mod drill;
pub mod env;
pub mod files;
pub mod fixtures;
pub mod interrupt;
pub mod live_health;
pub mod manifests;
pub mod out;
pub mod redact;
pub mod report_properties;
pub mod rotation;
pub mod runner;
pub mod seed;
mod steps;
pub mod world;
