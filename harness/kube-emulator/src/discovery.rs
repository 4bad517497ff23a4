//! Discovery documents (`/version`, `/api`, `/apis`, group versions) and the
//! OpenAPI v3 documents kubectl reads for `explain` and for deciding that the
//! server validates fields itself.

use serde_json::{Map, Value, json};

use crate::kinds::{Builtin, Catalogue, ResourceType};

pub(crate) const KUBERNETES_VERSION: &str = "v1.32.0";

pub(crate) fn version() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": format!("{KUBERNETES_VERSION}+kube-emulator"),
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64",
    })
}

pub(crate) fn core_versions(server: &str) -> Value {
    json!({ "kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": server }] })
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({ "groupVersion": format!("{group}/{v}"), "version": v }))
        .collect();
    json!({ "name": group, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(json!({})) })
}

pub(crate) fn groups(catalogue: &Catalogue) -> Value {
    let groups: Vec<Value> = catalogue
        .groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| group_entry(g, vs))
        .collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

pub(crate) fn group(catalogue: &Catalogue, name: &str) -> Option<Value> {
    let (g, vs) = catalogue.groups().into_iter().find(|(g, _)| g == name)?;
    let mut entry = group_entry(&g, &vs);
    entry["kind"] = json!("APIGroup");
    entry["apiVersion"] = json!("v1");
    Some(entry)
}

/// The types a group version serves, in the catalogue's order; None when
/// it serves none (the server has no such document: 404).
fn served_in<'a>(
    catalogue: &'a Catalogue,
    group: &str,
    version: &str,
) -> Option<Vec<&'a ResourceType>> {
    let types: Vec<&ResourceType> = catalogue
        .all()
        .iter()
        .map(|t| t.as_ref())
        .filter(|t| t.group == group && t.version == version)
        .collect();
    (!types.is_empty()).then_some(types)
}

pub(crate) fn resource_list(catalogue: &Catalogue, group: &str, version: &str) -> Option<Value> {
    let types = served_in(catalogue, group, version)?;
    let mut resources = Vec::new();
    for t in types {
        let mut resource = json!({
            "name": t.plural, "singularName": t.singular, "namespaced": t.namespaced, "kind": t.kind,
            "verbs": t.verbs(),
        });
        names_and_categories(t, &mut resource);
        if let Some(hash) = t.storage_version_hash() {
            resource["storageVersionHash"] = json!(hash);
        }
        resources.push(resource);
        for sub in subresources(t) {
            let mut entry = json!({ "name": format!("{}/{}", t.plural, sub.name), "singularName": "", "namespaced": t.namespaced, "kind": sub.kind, "verbs": sub.verbs });
            if let Some((group, version)) = sub.other_group_version {
                entry["group"] = json!(group);
                entry["version"] = json!(version);
            }
            resources.push(entry);
        }
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({ "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources }),
    )
}

/// The media type of aggregated discovery (`apidiscovery.k8s.io/v2`), which
/// kubectl 1.30+ and client-go ask `/api` and `/apis` for first: one
/// document with every group version's resources instead of a request per
/// group version.
pub(crate) const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether `accept` asks for aggregated discovery before plain JSON: its
/// media ranges in order, the first JSON one this server serves decides
/// (protobuf and other `as=` types, v2beta1 among them, are passed over).
pub(crate) fn wants_aggregated(accept: &str) -> bool {
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        if !matches!(media, "application/json" | "application/*" | "*/*") {
            continue;
        }
        let params: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
        let param = |name: &str| params.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        match (param("g"), param("v"), param("as")) {
            (Some("apidiscovery.k8s.io"), Some("v2"), Some("APIGroupDiscoveryList")) => {
                return true;
            }
            (None, None, None) => return false,
            _ => continue,
        }
    }
    false
}

/// A kind as aggregated discovery names what a resource answers with:
/// group and version left empty when they are the resource's own (as the
/// real server writes a built-in kind's), given for a custom resource.
fn response_kind(t: &ResourceType, group: &str, version: &str, kind: &str) -> Value {
    if t.builtin == Builtin::Custom || group != t.group || version != t.version {
        json!({ "group": group, "version": version, "kind": kind })
    } else {
        json!({ "group": "", "version": "", "kind": kind })
    }
}

/// A subresource as both discovery documents list them.
struct Subresource {
    name: &'static str,
    /// The group and version of `kind` when they are not the resource's own.
    other_group_version: Option<(&'static str, &'static str)>,
    kind: String,
    verbs: &'static [&'static str],
}

/// A kind's subresources, in the legacy list's order.
fn subresources(t: &ResourceType) -> Vec<Subresource> {
    const UPDATE: &[&str] = &["get", "patch", "update"];
    let mut out = Vec::new();
    if t.status_subresource {
        out.push(Subresource {
            name: "status",
            other_group_version: None,
            kind: t.kind.clone(),
            verbs: UPDATE,
        });
    }
    if crate::scale::scalable(t) {
        out.push(Subresource {
            name: "scale",
            other_group_version: Some(("autoscaling", "v1")),
            kind: "Scale".into(),
            verbs: UPDATE,
        });
    }
    if t.builtin == Builtin::Pod {
        out.push(Subresource {
            name: "log",
            other_group_version: None,
            kind: "Pod".into(),
            verbs: &["get"],
        });
    }
    if t.builtin == Builtin::ServiceAccount {
        out.push(Subresource {
            name: "token",
            other_group_version: Some(("authentication.k8s.io", "v1")),
            kind: "TokenRequest".into(),
            verbs: &["create"],
        });
    }
    out
}

/// `shortNames` and `categories`, written only when not empty (Go's
/// omitempty), in either document.
fn names_and_categories(t: &ResourceType, resource: &mut Value) {
    if !t.short_names.is_empty() {
        resource["shortNames"] = json!(t.short_names);
    }
    if !t.categories.is_empty() {
        resource["categories"] = json!(t.categories);
    }
}

fn aggregated_resource(t: &ResourceType) -> Value {
    let mut subresources: Vec<Value> = subresources(t)
        .into_iter()
        .map(|sub| {
            let (group, version) = sub
                .other_group_version
                .unwrap_or((t.group.as_str(), t.version.as_str()));
            json!({ "subresource": sub.name, "responseKind": response_kind(t, group, version, &sub.kind), "verbs": sub.verbs })
        })
        .collect();
    subresources.sort_by(|a, b| a["subresource"].as_str().cmp(&b["subresource"].as_str()));
    let mut resource = json!({
        "resource": t.plural,
        "responseKind": response_kind(t, &t.group, &t.version, &t.kind),
        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": t.singular,
        "verbs": t.verbs(),
    });
    names_and_categories(t, &mut resource);
    if !subresources.is_empty() {
        resource["subresources"] = json!(subresources);
    }
    resource
}

/// Aggregated discovery: `/api` (`core`: the core group alone) or `/apis`
/// (every other group), each group's versions with their resources sorted
/// by name, all `Current` (this server serves every version itself).
pub(crate) fn aggregated(catalogue: &Catalogue, core: bool) -> Value {
    let items: Vec<Value> = catalogue
        .groups()
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let mut types = served_in(catalogue, &g, v).unwrap_or_default();
                    types.sort_by(|a, b| a.plural.cmp(&b.plural));
                    let resources: Vec<Value> =
                        types.into_iter().map(aggregated_resource).collect();
                    json!({ "version": v, "resources": resources, "freshness": "Current" })
                })
                .collect();
            let metadata = if g.is_empty() {
                json!({ "creationTimestamp": null })
            } else {
                json!({ "name": g, "creationTimestamp": null })
            };
            json!({ "metadata": metadata, "versions": versions })
        })
        .collect();
    json!({ "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items })
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: where each group version's document is.
pub(crate) fn openapi_root(catalogue: &Catalogue, revision: u64) -> Value {
    let mut paths = Map::new();
    for (g, vs) in catalogue.groups() {
        for v in vs {
            let p = gv_path(&g, &v);
            paths.insert(
                p.clone(),
                json!({ "serverRelativeURL": format!("/openapi/v3/{p}?hash={revision:016X}") }),
            );
        }
    }
    json!({ "paths": paths })
}

fn schema_name(t: &ResourceType) -> String {
    match t.builtin {
        Builtin::Custom => {
            let reversed: Vec<&str> = t.group.split('.').rev().collect();
            format!("{}.{}.{}", reversed.join("."), t.version, t.kind)
        }
        Builtin::Crd => format!(
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{}.{}",
            t.version, t.kind
        ),
        Builtin::EventV1 => format!("io.k8s.api.events.{}.{}", t.version, t.kind),
        Builtin::Deployment | Builtin::ReplicaSet => {
            format!("io.k8s.api.apps.{}.{}", t.version, t.kind)
        }
        Builtin::SelfSubjectReview => format!("io.k8s.api.authentication.{}.{}", t.version, t.kind),
        Builtin::SelfSubjectAccessReview | Builtin::SelfSubjectRulesReview => {
            format!("io.k8s.api.authorization.{}.{}", t.version, t.kind)
        }
        _ => format!("io.k8s.api.core.{}.{}", t.version, t.kind),
    }
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

fn builtin_schema(t: &ResourceType) -> Value {
    let str_map = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    let props = match t.builtin {
        Builtin::Secret => json!({
            "data": { "type": "object", "additionalProperties": { "type": "string", "format": "byte" }, "description": "Data contains the secret data, base64 encoded." },
            "stringData": str_map.clone(),
            "type": { "type": "string", "description": "Used to facilitate programmatic handling of secret data." },
            "immutable": { "type": "boolean" },
        }),
        Builtin::ConfigMap => {
            json!({ "data": str_map.clone(), "binaryData": { "type": "object", "additionalProperties": { "type": "string", "format": "byte" } }, "immutable": { "type": "boolean" } })
        }
        Builtin::ServiceAccount => {
            json!({ "secrets": { "type": "array", "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } }, "automountServiceAccountToken": { "type": "boolean" } })
        }
        _ => json!({
            "spec": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
            "status": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
        }),
    };
    json!({ "type": "object", "properties": props, "x-kubernetes-preserve-unknown-fields": !matches!(t.builtin, Builtin::Secret | Builtin::ConfigMap | Builtin::ServiceAccount) })
}

/// One group version's OpenAPI v3 document.
pub(crate) fn openapi_document(catalogue: &Catalogue, group: &str, version: &str) -> Option<Value> {
    let types = served_in(catalogue, group, version)?;
    let mut schemas = Map::new();
    schemas.insert(OBJECT_META.into(), json!({
        "type": "object",
        "description": "ObjectMeta is metadata that all persisted resources must have.",
        "properties": {
            "name": { "type": "string" }, "namespace": { "type": "string" }, "generateName": { "type": "string" },
            "labels": { "type": "object", "additionalProperties": { "type": "string" } },
            "annotations": { "type": "object", "additionalProperties": { "type": "string" } },
            "uid": { "type": "string" }, "resourceVersion": { "type": "string" }, "generation": { "type": "integer", "format": "int64" },
            "creationTimestamp": { "type": "string", "format": "date-time" }, "deletionTimestamp": { "type": "string", "format": "date-time" },
            "finalizers": { "type": "array", "items": { "type": "string" } },
            "ownerReferences": { "type": "array", "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
    }));
    let mut paths = Map::new();
    let common_params = json!([
        { "name": "dryRun", "in": "query", "schema": { "type": "string", "uniqueItems": true } },
        { "name": "fieldManager", "in": "query", "schema": { "type": "string", "uniqueItems": true } },
        { "name": "fieldValidation", "in": "query", "schema": { "type": "string", "uniqueItems": true } },
    ]);
    for t in &types {
        let name = schema_name(t);
        let mut schema = match (&t.schema, t.builtin) {
            (Some(s), _) => (**s).clone(),
            (None, _) => builtin_schema(t),
        };
        if let Value::Object(props) = &mut schema["properties"] {
            props.insert("apiVersion".into(), json!({ "type": "string", "description": "APIVersion defines the versioned schema of this representation of an object." }));
            props.insert("kind".into(), json!({ "type": "string", "description": "Kind is a string value representing the REST resource this object represents." }));
            props.insert("metadata".into(), json!({ "allOf": [{ "$ref": format!("#/components/schemas/{OBJECT_META}") }], "description": "Standard object's metadata." }));
        }
        schema["x-kubernetes-group-version-kind"] =
            json!([{ "group": t.group, "version": t.version, "kind": t.kind }]);
        schemas.insert(name.clone(), schema);
        let gvk = json!({ "group": t.group, "version": t.version, "kind": t.kind });
        let body_ref = json!({ "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } } });
        let op = |action: &str, with_params: bool| {
            let mut o = json!({
                "operationId": format!("{action}{}", t.kind),
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
                "responses": { "200": body_ref },
            });
            if with_params {
                o["parameters"] = common_params.clone();
                o["requestBody"] = body_ref.clone();
            }
            o
        };
        let base = format!("/{}", gv_path(group, version));
        let collection = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", t.plural)
        } else {
            format!("{base}/{}", t.plural)
        };
        paths.insert(collection.clone(), json!({ "get": op("list", false), "post": op("post", true), "delete": op("deletecollection", false) }));
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({ "get": op("get", false), "put": op("put", true), "patch": op("patch", true), "delete": op("delete", false) }),
        );
        if t.status_subresource {
            paths.insert(format!("{collection}/{{name}}/status"), json!({ "get": op("get", false), "put": op("put", true), "patch": op("patch", true) }));
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": KUBERNETES_VERSION },
        "paths": paths,
        "components": { "schemas": schemas },
    }))
}
