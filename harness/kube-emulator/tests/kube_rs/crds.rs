//! CustomResourceDefinitions: serving, schema validation, generation and the
//! status subresource; ESO's upstream CRDs installed unchanged.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};

use crate::eso_crd_source;
use crate::support::*;

pub(crate) fn widget_crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "metadata": {"name": "widgets.example.test"},
        "spec": {"group": "example.test", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1},
                        "color": {"type": "string", "enum": ["red", "blue"], "default": "red"}}},
                    "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}
    }))
    .unwrap()
}

fn widgets(client: &kube::Client) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.test", "v1", "Widget"),
        "widgets",
    );
    Api::namespaced_with(client.clone(), "ns", &ar)
}

fn widget(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "example.test/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec})).unwrap()
}

#[tokio::test]
async fn a_crd_serves_its_kind_with_defaults_generation_and_status() {
    let env = start().await;
    namespace(&env.client, "ns").await;
    let crds: Api<CustomResourceDefinition> = Api::all(env.client.clone());
    let crd = crds
        .create(&PostParams::default(), &widget_crd())
        .await
        .unwrap();
    let established = crd
        .status
        .unwrap()
        .conditions
        .unwrap()
        .iter()
        .any(|c| c.type_ == "Established" && c.status == "True");
    assert!(established);
    let api = widgets(&env.client);
    let w = api
        .create(&PostParams::default(), &widget("w", json!({"size": 3})))
        .await
        .unwrap();
    assert_eq!(w.data["spec"]["color"], "red", "schema default applied");
    assert_eq!(w.metadata.generation, Some(1));

    let w = api
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        w.metadata.generation,
        Some(1),
        "metadata changes do not move generation"
    );
    let w = api
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 4}, "status": {"phase": "ignored"}})),
        )
        .await
        .unwrap();
    assert_eq!(w.metadata.generation, Some(2));
    assert!(
        w.data.get("status").is_none(),
        "the main endpoint ignores status"
    );
    let w = api
        .patch_status(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Ready"}, "spec": {"size": 99}})),
        )
        .await
        .unwrap();
    assert_eq!(w.data["status"]["phase"], "Ready");
    assert_eq!(
        w.data["spec"]["size"], 4,
        "the status endpoint ignores spec"
    );
    assert_eq!(
        w.metadata.generation,
        Some(2),
        "status does not move generation"
    );

    let mut stale = w.clone();
    stale.metadata.resource_version = None;
    let e = status_of(api.replace("w", &PostParams::default(), &stale).await);
    assert_eq!(
        e.code, 422,
        "custom resources need a resourceVersion to update: {}",
        e.message
    );

    // kubectl's table, with the CRD's printer columns.
    let table: Value = http(&env.emulator)
        .get(format!(
            "{}/apis/example.test/v1/namespaces/ns/widgets",
            env.emulator.url()
        ))
        .bearer_auth(env.emulator.token())
        .header(
            "accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["Name", "Size"],
        "a CRD that defines columns gets no Age"
    );
    assert_eq!(table["rows"][0]["cells"][1], "4");
}

#[tokio::test]
async fn schema_violations_are_422_naming_the_field_and_unknown_fields_are_pruned() {
    let env = start().await;
    namespace(&env.client, "ns").await;
    Api::<CustomResourceDefinition>::all(env.client.clone())
        .create(&PostParams::default(), &widget_crd())
        .await
        .unwrap();
    let api = widgets(&env.client);
    let e = status_of(
        api.create(
            &PostParams::default(),
            &widget("bad", json!({"size": "big", "color": "green"})),
        )
        .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert!(
        e.message
            .starts_with("Widget.example.test \"bad\" is invalid: ["),
        "{}",
        e.message
    );
    assert!(
        e.message.contains(
            "spec.size: Invalid value: \"string\": spec.size in body must be of type integer"
        ),
        "{}",
        e.message
    );
    assert!(
        e.message
            .contains("spec.color: Unsupported value: \"green\""),
        "{}",
        e.message
    );
    let mut causes: Vec<String> = e
        .details
        .unwrap()
        .causes
        .into_iter()
        .map(|c| c.field)
        .collect();
    causes.sort();
    assert_eq!(causes, ["spec.color", "spec.size"]);
    let e = status_of(
        api.create(&PostParams::default(), &widget("bad", json!({})))
            .await,
    );
    assert!(
        e.message.contains("spec.size: Required value"),
        "{}",
        e.message
    );
    let w = api
        .create(
            &PostParams::default(),
            &widget("extra", json!({"size": 1, "shape": "round"})),
        )
        .await
        .unwrap();
    assert!(
        w.data["spec"].get("shape").is_none(),
        "unknown fields are pruned"
    );
    let e = http(&env.emulator)
        .post(format!(
            "{}/apis/example.test/v1/namespaces/ns/widgets?fieldValidation=Strict",
            env.emulator.url()
        ))
        .bearer_auth(env.emulator.token())
        .json(&widget("strict", json!({"size": 1, "shape": "round"})))
        .send()
        .await
        .unwrap();
    assert_eq!(e.status(), 400);
    let body: Value = e.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("strict decoding error: unknown field \"spec.shape\""),
        "{body}"
    );
}

/// Every CRD of ESO's release that `--env binaries` runs (see
/// `eso_crd_source` for where they are found) installs unchanged, and the
/// ExternalSecret's schema defaults and validates as ESO's webhook-less
/// API does.
#[tokio::test]
async fn upstream_eso_crds_install_and_validate() {
    let source = match eso_crd_source::find() {
        Ok(source) => source,
        Err(nowhere) if std::env::var_os("REQUIRE_BINARIES").is_some_and(|v| v == "1") => {
            panic!("REQUIRE_BINARIES=1 and {nowhere}")
        }
        Err(nowhere) => {
            eso_crd_source::tell(&format!(
                "SKIPPED upstream_eso_crds_install_and_validate: {nowhere}"
            ));
            return;
        }
    };
    let env = start().await;
    namespace(&env.client, "ns").await;
    let crds: Api<CustomResourceDefinition> = Api::all(env.client.clone());
    let mut installed = Vec::new();
    for file in &source.files {
        let text = std::fs::read_to_string(file).unwrap();
        let documents: Vec<CustomResourceDefinition> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for crd in documents {
            let name = crd.metadata.name.clone().unwrap_or_default();
            crds.create(&PostParams::default(), &crd)
                .await
                .unwrap_or_else(|e| panic!("{}: CRD {name}: {e}", file.display()));
            installed.push(name);
        }
    }
    for checked in [
        "externalsecrets.external-secrets.io",
        "secretstores.external-secrets.io",
        "clustersecretstores.external-secrets.io",
    ] {
        assert!(
            installed.iter().any(|n| n == checked),
            "{checked} is not among ESO {}'s CRDs in {:?}",
            source.version,
            source.files
        );
    }
    let files: Vec<String> = source
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    eso_crd_source::tell(&format!(
        "ESO {} CRDs from {} ({}): {} installed ({}); ExternalSecret defaults and validation checked",
        source.version,
        files.join(", "),
        source.origin,
        installed.len(),
        installed.join(", ")
    ));
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("external-secrets.io", "v1", "ExternalSecret"),
        "externalsecrets",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(env.client.clone(), "ns", &ar);
    let es = |spec: Value| -> DynamicObject {
        serde_json::from_value(json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "es"}, "spec": spec})).unwrap()
    };
    let valid = api
        .create(
            &PostParams::default(),
            &es(json!({
                "refreshInterval": "1h",
                "secretStoreRef": {"name": "aws-secrets-manager", "kind": "SecretStore"},
                "target": {"name": "opssight-app-secrets"},
                "dataFrom": [{"extract": {"key": "opssight/production/app"}}]
            })),
        )
        .await
        .unwrap();
    assert_eq!(
        valid.data["spec"]["target"]["creationPolicy"], "Owner",
        "upstream default"
    );
    assert_eq!(
        valid.data["spec"]["target"]["deletionPolicy"], "Retain",
        "upstream default"
    );
    let e = status_of(api.create(&PostParams::default(), &es(json!({"refreshInterval": 3600, "data": [{"secretKey": "k", "remoteRef": {"key": "x"}}]}))).await);
    assert_eq!(e.code, 422);
    assert!(e.message.contains("spec.refreshInterval"), "{}", e.message);
    let e = status_of(
        api.create(
            &PostParams::default(),
            &es(json!({"data": [{"remoteRef": {"key": "x"}}]})),
        )
        .await,
    );
    assert_eq!(e.code, 422);
    assert!(
        e.message.contains("spec.data[0].secretKey: Required value"),
        "{}",
        e.message
    );
}
