//! The API server driven by kube-rs over HTTPS, one test per verb and
//! semantic. One binary with modules keeps link time down.

mod bodies;
mod crds;
mod errors;
mod gc;
mod lists;
mod support;
mod tokens;
mod verbs;
mod watch;
mod workloads;
