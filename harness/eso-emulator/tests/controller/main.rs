//! The controller against the kube-emulator and the aws-emulator over real
//! HTTP, one test per rule of ../shared/reference/eso-behaviour.md.

mod admission;
mod credentials;
mod irsa;
mod policies;
mod refresh;
mod resilience;
mod stores;
mod support;
mod sync;
