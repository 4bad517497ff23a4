//! Step definitions, one module per capability of the feature files.

mod access;
pub(crate) mod changes;
mod credentials;
mod kubectl;
mod manifests;
mod pods;
mod probes;
mod recovery;
mod runbook;
mod sync;
