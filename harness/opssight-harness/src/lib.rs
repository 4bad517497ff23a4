//! The OpsSight secrets harness: the Gherkin scenarios of the runbook
//! (`features/`), the fixtures that describe the system (`fixtures/`), and
//! the environments they run on. ARCHITECTURE.md (at the repository's root)
//! gives the modules' layers and the one rule between them.

pub mod checks;
pub mod commands;
pub mod differential;
pub mod drill;
pub mod env;
pub mod eso_model;
pub mod files;
pub mod fixtures;
pub mod interrupt;
pub mod out;
pub mod run;
pub mod scenario;
pub mod secret_data;
pub mod system;
pub mod wait;
