//! One scenario: its state and its waits (the World), the steps of the
//! feature files, and the sinks through which whoever follows a scenario
//! from outside (a drill, a differential recording) hears of it without
//! the scenario knowing who they are.

pub mod phases;
pub mod step;
mod steps;
pub mod waits;
pub mod world;

pub use phases::Phase;
pub use step::{StepFailure, StepResult};
pub use world::{Checkpoints, CommandResult, OpsWorld};
