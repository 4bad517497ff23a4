//! Step definitions, one module per feature file (`features/`), and
//! `probes` for the differential's probe scenarios
//! (`harness/opssight-harness/tests/probes/`). A step used by several
//! features lives with the feature it first served.

mod access_control;
mod disaster_recovery;
mod force_sync;
mod manifests;
mod missing_credentials;
mod pods;
mod probes;
mod refresh;
mod runbook;
mod sync;
