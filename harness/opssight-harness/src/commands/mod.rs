//! The CLI's commands, each its options (clap) and what it does; `main.rs`
//! only parses the command line and calls one. `env_args` holds what the
//! commands that run scenarios share: the environment's options and
//! running on it.

pub mod check;
pub mod differential;
pub mod doctor;
pub mod down;
pub mod drill;
pub mod env_args;
pub mod kube_api;
pub mod rotation;
pub mod test;
pub mod up;
