//! Environments the scenarios run in: which one a run uses
//! ([`EnvChoice`], which starts one per scenario), what every one gives a
//! scenario ([`Environment`], a small core over a [`Base`] of shared fields,
//! plus optional facets), and the capabilities that follow from what each
//! is. A scenario needing a capability its environment lacks is reported
//! as skipped with the reason.

pub mod apply;
pub mod binaries;
pub mod capability;
pub mod choice;
pub mod cluster;
pub mod command_clock;
pub mod embedded;
pub mod environment;
pub mod eso_pods;
pub mod existing;
pub mod facets;
pub mod kind;
pub mod live_state;
pub mod preflight;
pub mod secrets_manager;
pub mod turns;

pub use capability::{Capabilities, Capability, Profile, kubectl_path};
pub use choice::EnvChoice;
pub use environment::{Base, Environment, default_patience, patience_override};
pub use facets::{Audit, Facet, Iam, Outage, Regions, Snapshots};
