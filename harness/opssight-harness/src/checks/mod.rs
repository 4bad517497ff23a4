//! Read-only checks of a live system, as the runbook's maintenance makes
//! them: `weekly` (ExternalSecrets Ready and fresh, stores valid, ESO's
//! deployments available), `health` (those checks before and after a run on
//! a live system, compared) and `rotation` (secrets' age against the
//! rotation policy).

pub mod health;
pub mod rotation;
pub mod weekly;
