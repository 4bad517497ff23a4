//! One ExternalSecret as ESO v2.9.0 handles it, by concern:
//! - [`refresh`]: when a refresh is due (interval, policy, the synced
//!   resource version);
//! - [`reconcile`]: the control flow of one reconcile (finalizer, refresh
//!   or not, fetch, write, status), returning what to do next or a
//!   [`ReconcileError`], and [`error_policy`], which decides the requeue of
//!   a failure;
//! - [`fetch`]: the store, its client and the provider's data;
//! - [`target`]: the Secret ESO writes (labels, annotations, owner, the
//!   creation and deletion policies, orphans).

mod error;
mod fetch;
mod reconcile;
mod refresh;
mod target;

use std::collections::BTreeMap;

use eso_api::{ExternalSecretSpec, ExternalSecretStatus};
use kube::api::DynamicObject;
use serde_json::json;

use crate::events::Regarding;

pub(crate) use error::error_policy;
pub(crate) use reconcile::reconcile;
pub(crate) use target::{is_managed, target_valid};

/// An ExternalSecret as one reconcile reads it.
pub(crate) struct View {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) uid: String,
    pub(crate) resource_version: String,
    pub(crate) generation: i64,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) spec: ExternalSecretSpec,
    pub(crate) status: ExternalSecretStatus,
}

impl View {
    /// Its spec must parse; a status that does not is as none.
    pub(crate) fn parse(obj: &DynamicObject) -> Result<Self, serde_json::Error> {
        let spec: ExternalSecretSpec =
            serde_json::from_value(obj.data.get("spec").cloned().unwrap_or(json!({})))?;
        let status: ExternalSecretStatus = obj
            .data
            .get("status")
            .cloned()
            .and_then(|s| serde_json::from_value(s).ok())
            .unwrap_or_default();
        Ok(Self {
            namespace: obj.metadata.namespace.clone().unwrap_or_default(),
            name: obj.metadata.name.clone().unwrap_or_default(),
            uid: obj.metadata.uid.clone().unwrap_or_default(),
            resource_version: obj.metadata.resource_version.clone().unwrap_or_default(),
            generation: obj.metadata.generation.unwrap_or(1),
            labels: obj.metadata.labels.clone().unwrap_or_default(),
            annotations: obj.metadata.annotations.clone().unwrap_or_default(),
            spec,
            status,
        })
    }

    pub(crate) fn target_name(&self) -> String {
        self.spec.target.name_for(&self.name)
    }

    /// What its events are about.
    fn regarding(&self) -> Regarding {
        Regarding {
            kind: "ExternalSecret",
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            resource_version: self.resource_version.clone(),
        }
    }
}
