//! Where the kinds are served: their group and version, the
//! [`ApiResource`]s to reach them untyped (as `DynamicObject`s, which keep
//! the fields this model leaves out), and their CRDs.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use kube::api::{ApiResource, GroupVersionKind};

use crate::{ClusterSecretStore, ExternalSecret, SecretStore, StoreKind};

/// ESO's API group.
pub const GROUP: &str = "external-secrets.io";
/// The version of it modelled here.
pub const VERSION: &str = "v1";
/// `apiVersion:` of every kind here.
pub const API_VERSION: &str = "external-secrets.io/v1";

/// ExternalSecrets.
pub fn external_secret_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(GROUP, VERSION, "ExternalSecret"),
        "externalsecrets",
    )
}

/// SecretStores or ClusterSecretStores.
pub fn store_resource(kind: StoreKind) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(GROUP, VERSION, kind.as_str()),
        kind.plural(),
    )
}

/// The CRDs of these kinds, for an API server that does not have them.
/// Generated once per process: deriving the schemas costs more than every
/// other step of starting an emulated cluster together.
pub fn crds() -> Vec<CustomResourceDefinition> {
    static CRDS: std::sync::OnceLock<Vec<CustomResourceDefinition>> = std::sync::OnceLock::new();
    CRDS.get_or_init(|| {
        vec![
            ExternalSecret::crd(),
            SecretStore::crd(),
            ClusterSecretStore::crd(),
        ]
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resources_are_those_of_the_crds() {
        let crds = crds();
        let served: Vec<ApiResource> = [external_secret_resource()]
            .into_iter()
            .chain(StoreKind::ALL.map(store_resource))
            .collect();
        assert_eq!(crds.len(), served.len());
        for (crd, ar) in crds.iter().zip(&served) {
            assert_eq!(crd.spec.group, ar.group);
            assert_eq!(crd.spec.names.kind, ar.kind);
            assert_eq!(crd.spec.names.plural, ar.plural);
            assert_eq!(ar.api_version, API_VERSION);
            assert!(crd.spec.versions.iter().any(|v| v.name == ar.version));
        }
    }
}
