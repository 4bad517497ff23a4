//! The OpsSight secrets harness: the Gherkin scenarios of the runbook
//! (`features/`), the fixtures that describe the system (`fixtures/`), and
//! the environments they run on. ARCHITECTURE.md (at the repository's root)
//! gives the modules' layers and the one rule between them.

pub mod checks;
pub mod diagnostics;
pub mod differential;
pub mod drill;
pub mod env;
pub mod eso_model;
pub mod files;
pub mod fixtures;
pub mod interrupt;
pub mod out;
pub mod report_properties;
pub mod runner;
pub mod secret_data;
mod steps;
pub mod system;
pub mod wait;
pub mod world;
