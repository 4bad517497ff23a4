//! The verbs of the API over the store, with the object semantics of the
//! real server, one family a module:
//!
//! - `read`: get, and how a stored object is shown in the version asked for;
//! - `decode`: request bodies (JSON, YAML, protobuf) into objects of a kind;
//! - `create`, `update` (PUT and PATCH, and the status subresource),
//!   `delete` (delete, deletecollection, propagation);
//! - `write`: the one path every change takes (concurrency, names,
//!   validation, admission, generation, the store), with `kind_rules` for
//!   what the built-in kinds add;
//! - `token`: the ServiceAccount `token` subresource;
//! - `controllers`: the namespace controller, the garbage collector and
//!   apiextensions' CRD cleanup, run in the background.
//!
//! Lists, watches, `scale`, `log` and the workload controllers are in the
//! crate's `list`, `watch`, `scale`, `pod_log` and `workloads`, an object's
//! metadata helpers in `metadata`; the routing of HTTP requests to these
//! verbs is `service`.

mod controllers;
mod create;
mod decode;
mod delete;
mod kind_rules;
mod read;
mod token;
mod update;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use emulator_core::Clock;

use crate::admission::AdmissionHook;
use crate::kinds::{Catalogue, ResourceType};
use crate::store::Store;
use crate::tokens::TokenIssuer;

pub(crate) use decode::BodyFormat;
pub(crate) use delete::{DeleteOptions, bump_generation};
pub(crate) use kind_rules::go_base64_error;
pub(crate) use read::presented;

/// The namespaces a new cluster has.
pub(crate) const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

pub(crate) type Query = HashMap<String, String>;

pub(crate) struct Api {
    pub catalogue: Catalogue,
    pub store: Store,
    pub hooks: Vec<Arc<dyn AdmissionHook>>,
    pub clock: Clock,
    pub tokens: Arc<TokenIssuer>,
    /// Set when something the background controllers act on changed.
    pub dirty: bool,
    /// The serving CA, which the root CA publisher puts in every namespace.
    pub root_ca: Option<String>,
    /// The kubelet's Pods being started and stopped.
    pub workloads: crate::workloads::State,
}

impl Api {
    pub(crate) fn new(clock: Clock, tokens: Arc<TokenIssuer>, watch_log: usize) -> Self {
        Self {
            catalogue: Catalogue::with_builtins(),
            store: Store::new(watch_log),
            hooks: Vec::new(),
            clock,
            tokens,
            dirty: false,
            root_ca: None,
            workloads: Default::default(),
        }
    }

    fn ns_key(rt: &ResourceType, ns: Option<&str>) -> String {
        if rt.namespaced {
            ns.unwrap_or_default().to_owned()
        } else {
            String::new()
        }
    }
}
