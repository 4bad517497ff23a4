//! The kinds the server serves: the built-in ones, and those that
//! CustomResourceDefinitions add while it runs.

use std::sync::Arc;

use serde_json::Value;

use crate::printers;

/// Built-in kinds get behaviour of their own (Secret's data folding, the
/// namespace lifecycle, ...); custom ones are generic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Namespace,
    Secret,
    ConfigMap,
    ServiceAccount,
    Event,
    EventV1,
    Crd,
    /// apps/v1 Deployment, ReplicaSet and v1 Pod: the background
    /// controllers of `workloads` give them ReplicaSets, Pods and status.
    Deployment,
    ReplicaSet,
    Pod,
    /// authentication.k8s.io/v1 SelfSubjectReview, authorization.k8s.io/v1
    /// SelfSubject{Access,Rules}Review: create-only, answered by `auth`,
    /// never stored.
    SelfSubjectReview,
    SelfSubjectAccessReview,
    SelfSubjectRulesReview,
    Custom,
}

/// A column of `kubectl get`.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub source: ColumnSource,
}

#[derive(Debug, Clone)]
pub(crate) enum ColumnSource {
    JsonPath(String),
    /// Number of keys in `data` (+ `binaryData`).
    DataCount,
    /// Time since creation, as kubectl prints it.
    Age,
    Name,
    /// `namespace/name` style reference of an Event's object.
    InvolvedObject,
    /// Length of an array at a JSONPath.
    Count(String),
    /// A built-in printer's cell (see `printers`).
    Printer(crate::printers::CellFn),
}

#[derive(Debug, Clone)]
pub(crate) struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub namespaced: bool,
    pub status_subresource: bool,
    pub builtin: Builtin,
    /// The version its objects are stored in (discovery's
    /// `storageVersionHash` names it): its own for a built-in kind, the
    /// CRD's storage version for a custom one.
    pub storage_version: String,
    /// openAPIV3Schema of a CRD version; `None` for built-ins.
    pub schema: Option<Arc<Value>>,
    pub columns: Vec<Column>,
}

impl ResourceType {
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub(crate) fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub(crate) fn key(&self) -> ResKey {
        // Both Event APIs read and write one store (see events.rs).
        if self.builtin == Builtin::EventV1 {
            return ResKey::core("events");
        }
        ResKey {
            group: self.group.clone(),
            plural: self.plural.clone(),
        }
    }

    /// Whether objects of this kind are only ever created, answered and
    /// forgotten (the reviews).
    pub(crate) fn is_review(&self) -> bool {
        matches!(
            self.builtin,
            Builtin::SelfSubjectReview
                | Builtin::SelfSubjectAccessReview
                | Builtin::SelfSubjectRulesReview
        )
    }

    pub(crate) fn verbs(&self) -> Vec<&'static str> {
        if self.is_review() {
            return vec!["create"];
        }
        if self.builtin == Builtin::Custom {
            // apiextensions-apiserver lists a custom resource's verbs in
            // this order, not sorted as the built-in kinds' are.
            return vec![
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ];
        }
        vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    }

    /// Discovery's `storageVersionHash`: the first 8 bytes of the SHA-256
    /// of `group/storage version/kind`, base64 (apiserver's
    /// `discovery.StorageVersionHash`); none for a kind that is never
    /// stored (the reviews).
    pub(crate) fn storage_version_hash(&self) -> Option<String> {
        use base64::Engine as _;
        use sha2::Digest as _;
        if self.is_review() {
            return None;
        }
        let gvk = format!("{}/{}/{}", self.group, self.storage_version, self.kind);
        let digest = sha2::Sha256::digest(gvk.as_bytes());
        Some(base64::engine::general_purpose::STANDARD.encode(&digest[..8]))
    }
}

/// Objects of one kind are stored once, whatever version they are read in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ResKey {
    pub group: String,
    pub plural: String,
}

impl ResKey {
    /// A kind of the core group (`namespaces`, `serviceaccounts`, ...).
    pub(crate) fn core(plural: &str) -> Self {
        Self {
            group: String::new(),
            plural: plural.to_owned(),
        }
    }
}

pub(crate) fn col(name: &str, type_: &str, source: ColumnSource) -> Column {
    Column {
        name: name.into(),
        type_: type_.into(),
        format: String::new(),
        description: String::new(),
        priority: 0,
        source,
    }
}

pub(crate) fn name_col() -> Column {
    let mut c = col("Name", "string", ColumnSource::Name);
    c.format = "name".into();
    c
}

// One call per built-in kind reads as the table it is.
#[allow(clippy::too_many_arguments)]
fn builtin(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    short: &[&str],
    namespaced: bool,
    b: Builtin,
    extra: Vec<Column>,
) -> ResourceType {
    let mut columns = vec![name_col()];
    columns.extend(extra);
    // The built-in printers' Age column is a string (a CRD's is a date).
    columns.push(col("Age", "string", ColumnSource::Age));
    ResourceType {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        short_names: short.iter().map(|s| s.to_string()).collect(),
        categories: Vec::new(),
        namespaced,
        status_subresource: matches!(
            b,
            Builtin::Namespace
                | Builtin::Crd
                | Builtin::Deployment
                | Builtin::ReplicaSet
                | Builtin::Pod
        ),
        builtin: b,
        storage_version: version.into(),
        schema: None,
        columns,
    }
}

/// A kind whose printer's columns are its own (no Name first, Age last).
fn with_columns(mut rt: ResourceType, columns: Vec<Column>) -> ResourceType {
    rt.columns = columns;
    rt
}

/// In the `all` category, which `kubectl get all` lists.
fn in_all(mut rt: ResourceType) -> ResourceType {
    rt.categories = vec!["all".into()];
    rt
}

fn review(group: &str, kind: &str, plural: &str, b: Builtin) -> ResourceType {
    let mut rt = builtin(group, "v1", kind, plural, &[], false, b, vec![]);
    rt.columns = Vec::new();
    rt
}

pub(crate) fn builtins() -> Vec<ResourceType> {
    let mut crd = builtin(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        &["crd", "crds"],
        false,
        Builtin::Crd,
        vec![],
    );
    crd.columns = vec![
        name_col(),
        col(
            "Created At",
            "date",
            ColumnSource::JsonPath(".metadata.creationTimestamp".into()),
        ),
    ];
    vec![
        builtin(
            "",
            "v1",
            "Namespace",
            "namespaces",
            &["ns"],
            false,
            Builtin::Namespace,
            vec![col(
                "Status",
                "string",
                ColumnSource::JsonPath(".status.phase".into()),
            )],
        ),
        builtin(
            "",
            "v1",
            "Secret",
            "secrets",
            &[],
            true,
            Builtin::Secret,
            vec![
                col("Type", "string", ColumnSource::JsonPath(".type".into())),
                col("Data", "string", ColumnSource::DataCount),
            ],
        ),
        builtin(
            "",
            "v1",
            "ConfigMap",
            "configmaps",
            &["cm"],
            true,
            Builtin::ConfigMap,
            vec![col("Data", "string", ColumnSource::DataCount)],
        ),
        builtin(
            "",
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            &["sa"],
            true,
            Builtin::ServiceAccount,
            vec![col(
                "Secrets",
                "string",
                ColumnSource::Count(".secrets".into()),
            )],
        ),
        with_columns(
            builtin(
                "",
                "v1",
                "Event",
                "events",
                &["ev"],
                true,
                Builtin::Event,
                vec![],
            ),
            printers::event_columns(),
        ),
        with_columns(
            builtin(
                "events.k8s.io",
                "v1",
                "Event",
                "events",
                &["ev"],
                true,
                Builtin::EventV1,
                vec![],
            ),
            printers::event_columns(),
        ),
        in_all(with_columns(
            builtin(
                "apps",
                "v1",
                "Deployment",
                "deployments",
                &["deploy"],
                true,
                Builtin::Deployment,
                vec![],
            ),
            printers::deployment_columns(),
        )),
        in_all(with_columns(
            builtin(
                "apps",
                "v1",
                "ReplicaSet",
                "replicasets",
                &["rs"],
                true,
                Builtin::ReplicaSet,
                vec![],
            ),
            printers::replicaset_columns(),
        )),
        in_all(with_columns(
            builtin("", "v1", "Pod", "pods", &["po"], true, Builtin::Pod, vec![]),
            printers::pod_columns(),
        )),
        review(
            "authentication.k8s.io",
            "SelfSubjectReview",
            "selfsubjectreviews",
            Builtin::SelfSubjectReview,
        ),
        review(
            "authorization.k8s.io",
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
            Builtin::SelfSubjectAccessReview,
        ),
        review(
            "authorization.k8s.io",
            "SelfSubjectRulesReview",
            "selfsubjectrulesreviews",
            Builtin::SelfSubjectRulesReview,
        ),
        crd,
    ]
}

/// All served kinds.
#[derive(Debug, Default)]
pub(crate) struct Catalogue {
    types: Vec<Arc<ResourceType>>,
}

impl Catalogue {
    pub(crate) fn with_builtins() -> Self {
        Self {
            types: builtins().into_iter().map(Arc::new).collect(),
        }
    }

    pub(crate) fn all(&self) -> &[Arc<ResourceType>] {
        &self.types
    }

    pub(crate) fn find(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
            .cloned()
    }

    /// The type serving `apiVersion` + `kind` (as in a manifest).
    pub(crate) fn by_kind(&self, api_version: &str, kind: &str) -> Option<Arc<ResourceType>> {
        let (group, version) = split_api_version(api_version);
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.kind == kind)
            .cloned()
    }

    /// A type serving the stored kind `key`, in whichever version: what
    /// the server's own controllers need (its key, scope and rules), not a
    /// client's view.
    pub(crate) fn any_version(&self, key: &ResKey) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == key.group && t.plural == key.plural)
            .cloned()
    }

    pub(crate) fn replace_group_resource(&mut self, key: &ResKey, new: Vec<ResourceType>) {
        self.types
            .retain(|t| !(t.group == key.group && t.plural == key.plural));
        self.types.extend(new.into_iter().map(Arc::new));
    }

    /// Groups in the order discovery lists them, each with its versions.
    pub(crate) fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in &self.types {
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                None => out.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        out
    }
}

pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}
