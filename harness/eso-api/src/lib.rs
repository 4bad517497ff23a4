//! External Secrets Operator's `external-secrets.io/v1` resource model, as
//! this project needs it, with no controller in it: the ExternalSecret,
//! SecretStore and ClusterSecretStore types and their CRDs ([`crds`]); the
//! [`ApiResource`](kube::api::ApiResource)s to read them untyped
//! ([`external_secret_resource`], [`store_resource`]); their Ready
//! [`Condition`] ([`ready_condition`]); ESO's [`reasons`] and messages; the
//! labels, annotations and finalizer it writes ([`metadata`]); and Go
//! durations as ESO reads and writes them ([`parse_duration`],
//! [`go_duration`]).
//!
//! ```
//! let es: eso_api::ExternalSecret = serde_json::from_value(serde_json::json!({
//!     "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
//!     "metadata": {"name": "app"},
//!     "spec": {"refreshInterval": "90s", "secretStoreRef": {"name": "aws"},
//!              "dataFrom": [{"extract": {"key": "app/config"}}]},
//! }))
//! .unwrap();
//! let every = es.spec.interval().unwrap();
//! assert_eq!(eso_api::go_duration(every), "1m30s");
//! assert_eq!(es.spec.target.name_for("app"), "app");
//! ```

#![warn(missing_docs)]

mod condition;
mod duration;
mod external_secret;
pub mod metadata;
pub mod reasons;
mod resource;
mod secret_store;
mod selector;
mod time;

pub use condition::{CONDITION_READY, Condition, ConditionStatus, ready_condition, ready_in};
pub use duration::{go_duration, parse_duration};
pub use external_secret::{
    Binding, CreationPolicy, DeletionPolicy, ExternalSecret, ExternalSecretData,
    ExternalSecretDataFromRemoteRef, ExternalSecretSpec, ExternalSecretStatus,
    ExternalSecretTarget, RefreshPolicy, RemoteRef, SecretStoreRef,
};
pub use resource::{API_VERSION, GROUP, VERSION, crds, external_secret_resource, store_resource};
pub use secret_store::{
    AwsAuth, AwsJwtAuth, AwsProvider, AwsSecretRef, Capabilities, ClusterSecretStore,
    ClusterSecretStoreCondition, ClusterSecretStoreSpec, Provider, SecretKeySelector, SecretStore,
    SecretStoreSpec, SecretStoreStatus, ServiceAccountSelector, StoreKind,
};
pub use selector::{LabelSelector, LabelSelectorRequirement, UnknownOperator};
pub use time::metav1_time;
