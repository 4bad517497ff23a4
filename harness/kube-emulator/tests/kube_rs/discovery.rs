//! Discovery: the aggregated documents (`/api`, `/apis` under
//! `apidiscovery.k8s.io/v2`, what kubectl 1.30+ and client-go ask for first)
//! say what the per-group-version documents say, a CRD's kind included;
//! plain JSON still gets the legacy lists. The real server's answers are
//! compared in the kube API differential (opssight-harness's
//! tests/kube_api/requests.yaml, "aggregated discovery ...").

use std::collections::BTreeSet;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::discovery::{Discovery, Scope};

use crate::crds::widget_crd;
use crate::support::*;

/// Every (group, version, kind, plural, scope, verbs, subresources) a
/// discovery found, to compare two of them whole.
fn served(d: &Discovery) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for group in d.groups() {
        for version in group.versions() {
            for (ar, caps) in group.versioned_resources(version) {
                let mut subresources: Vec<String> = caps
                    .subresources
                    .iter()
                    .map(|(s, _)| s.plural.clone())
                    .collect();
                subresources.sort();
                let mut verbs = caps.operations.clone();
                verbs.sort();
                out.insert(format!(
                    "{}/{} {} {} {} {verbs:?} {subresources:?}",
                    ar.group,
                    ar.version,
                    ar.kind,
                    ar.plural,
                    if caps.scope == Scope::Namespaced {
                        "namespaced"
                    } else {
                        "cluster"
                    },
                ));
            }
        }
    }
    out
}

#[tokio::test]
async fn aggregated_discovery_says_what_the_group_versions_say() {
    let env = start().await;
    let crds: Api<CustomResourceDefinition> = Api::all(env.client.clone());
    crds.create(&PostParams::default(), &widget_crd())
        .await
        .unwrap();
    let aggregated = Discovery::new(env.client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery (apidiscovery.k8s.io/v2)");
    let legacy = Discovery::new(env.client.clone()).run().await.unwrap();
    let (aggregated, legacy) = (served(&aggregated), served(&legacy));
    assert_eq!(aggregated, legacy);
    for wanted in [
        "/v1 Secret secrets namespaced",
        "apps/v1 Deployment deployments namespaced",
        "example.test/v1 Widget widgets namespaced",
    ] {
        assert!(
            aggregated.iter().any(|s| s.starts_with(wanted)),
            "{wanted} not found in {aggregated:#?}"
        );
    }
    let deployments = aggregated
        .iter()
        .find(|s| s.starts_with("apps/v1 Deployment"))
        .unwrap();
    assert!(
        deployments.ends_with(r#"["scale", "status"]"#),
        "{deployments}"
    );
}

#[tokio::test]
async fn the_media_type_decides_which_document_answers() {
    let env = start().await;
    let http = http(&env.emulator);
    let get = |accept: &'static str| {
        let req = http
            .get(format!("{}/apis", env.emulator.url()))
            .bearer_auth(env.emulator.token())
            .header("accept", accept);
        async move {
            let resp = req.send().await.unwrap();
            let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
            let body: serde_json::Value = resp.json().await.unwrap();
            (ct, body["kind"].as_str().unwrap_or_default().to_owned())
        }
    };
    let aggregated = (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList".to_owned(),
        "APIGroupDiscoveryList".to_owned(),
    );
    let legacy = ("application/json".to_owned(), "APIGroupList".to_owned());
    // kubectl 1.32's header: protobuf first, which this server passes over.
    assert_eq!(
        get("application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json").await,
        aggregated
    );
    assert_eq!(get("application/json").await, legacy);
    // Plain JSON first wins; v2beta1 (gone from the real server) is not served.
    assert_eq!(
        get(
            "application/json,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        )
        .await,
        legacy
    );
    assert_eq!(
        get("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json").await,
        legacy
    );
}
