//! get, list, create, update, patch, delete, deletecollection; object semantics.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::support::*;

fn secret(name: &str, labels: &[(&str, &str)]) -> Secret {
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>() },
        "stringData": { "password": format!("pw-{name}") },
    }))
    .unwrap()
}

#[tokio::test]
async fn create_get_and_secret_semantics() {
    let (env, _clock) = start_frozen("2026-05-01T12:00:00Z").await;
    namespace(&env.client, "ns").await;
    let api: Api<Secret> = Api::namespaced(env.client.clone(), "ns");
    let created = api
        .create(&PostParams::default(), &secret("s", &[]))
        .await
        .unwrap();
    assert!(
        created.string_data.is_none(),
        "stringData is folded into data"
    );
    assert_eq!(
        created.data.unwrap()["password"],
        ByteString(b"pw-s".to_vec())
    );
    assert_eq!(created.type_.as_deref(), Some("Opaque"));
    let meta = &created.metadata;
    assert_eq!(meta.namespace.as_deref(), Some("ns"));
    assert!(meta.uid.as_ref().is_some_and(|u| u.len() == 36));
    assert_eq!(
        meta.creation_timestamp.as_ref().unwrap().0.to_string(),
        "2026-05-01T12:00:00Z"
    );
    let got = api.get("s").await.unwrap();
    assert_eq!(
        got.metadata.resource_version,
        created.metadata.resource_version
    );
    let e = status_of(api.create(&PostParams::default(), &secret("s", &[])).await);
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(e.message, "secrets \"s\" already exists");
    let e = status_of(api.get("missing").await);
    assert_eq!(
        (e.code, e.reason.as_str(), e.message.as_str()),
        (404, "NotFound", "secrets \"missing\" not found")
    );
    let e = status_of(
        Api::<Secret>::namespaced(env.client.clone(), "nowhere")
            .create(&PostParams::default(), &secret("s", &[]))
            .await,
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (404, "namespaces \"nowhere\" not found")
    );
}

#[tokio::test]
async fn resource_versions_come_from_one_counter_and_updates_are_optimistic() {
    let env = start().await;
    namespace(&env.client, "ns").await;
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), "ns");
    let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), "ns");
    let s = secrets
        .create(&PostParams::default(), &secret("s", &[]))
        .await
        .unwrap();
    let c = maps
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "c"}})).unwrap(),
        )
        .await
        .unwrap();
    let rv = |o: &Option<String>| o.as_ref().unwrap().parse::<u64>().unwrap();
    assert!(
        rv(&c.metadata.resource_version) > rv(&s.metadata.resource_version),
        "one counter across kinds"
    );

    let mut first = secrets.get("s").await.unwrap();
    let mut second = first.clone();
    first.metadata.labels = Some([("a".to_owned(), "1".to_owned())].into());
    let updated = secrets
        .replace("s", &PostParams::default(), &first)
        .await
        .unwrap();
    assert!(rv(&updated.metadata.resource_version) > rv(&s.metadata.resource_version));
    second.metadata.labels = Some([("b".to_owned(), "2".to_owned())].into());
    let e = status_of(secrets.replace("s", &PostParams::default(), &second).await);
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        e.message,
        "Operation cannot be fulfilled on secrets \"s\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // An update that changes nothing keeps the resourceVersion.
    let again = secrets
        .replace("s", &PostParams::default(), &updated)
        .await
        .unwrap();
    assert_eq!(
        again.metadata.resource_version,
        updated.metadata.resource_version
    );
}

#[tokio::test]
async fn list_with_selectors_and_pages() {
    let env = start_api().await;
    let ns = env.ns("ns");
    namespace(&env.client, &ns).await;
    let other = env.ns("other");
    namespace(&env.client, &other).await;
    let api: Api<Secret> = Api::namespaced(env.client.clone(), &ns);
    for (name, app) in [
        ("a", "web"),
        ("b", "web"),
        ("c", "db"),
        ("d", "web"),
        ("e", "db"),
    ] {
        api.create(&PostParams::default(), &secret(name, &[("app", app)]))
            .await
            .unwrap();
    }
    let mut tls = secret("t", &[]);
    tls.type_ = Some("kubernetes.io/tls".into());
    tls.string_data = Some(
        [
            ("tls.crt".to_owned(), "x".to_owned()),
            ("tls.key".to_owned(), "y".to_owned()),
        ]
        .into(),
    );
    api.create(&PostParams::default(), &tls).await.unwrap();
    Api::<Secret>::namespaced(env.client.clone(), &other)
        .create(&PostParams::default(), &secret("z", &[("app", "web")]))
        .await
        .unwrap();
    let names = |l: &kube::core::ObjectList<Secret>| {
        l.items
            .iter()
            .map(|s| s.metadata.name.clone().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            &api.list(&ListParams::default().labels("app=web"))
                .await
                .unwrap()
        ),
        ["a", "b", "d"]
    );
    assert_eq!(
        names(
            &api.list(&ListParams::default().labels("app in (db),app!=web"))
                .await
                .unwrap()
        ),
        ["c", "e"]
    );
    assert_eq!(
        names(
            &api.list(&ListParams::default().fields("type=kubernetes.io/tls"))
                .await
                .unwrap()
        ),
        ["t"]
    );
    assert_eq!(
        names(
            &api.list(&ListParams::default().fields("metadata.name=b"))
                .await
                .unwrap()
        ),
        ["b"]
    );
    let all: Api<Secret> = Api::all(env.client.clone());
    assert_eq!(
        all.list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .len(),
        4,
        "across namespaces"
    );

    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(2);
    loop {
        let page = api.list(&params).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(names(&page));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => params = params.continue_token(&c),
            None => break,
        }
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e", "t"]);
}

#[tokio::test]
async fn patches_merge_json_strategic_and_apply() {
    let env = start_api().await;
    let ns = env.ns("ns");
    namespace(&env.client, &ns).await;
    let api: Api<ConfigMap> = Api::namespaced(env.client.clone(), &ns);
    api.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({"metadata": {"name": "c", "labels": {"a": "1"}}, "data": {"k": "v"}}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let pp = PatchParams::default();
    let c = api
        .patch(
            "c",
            &pp,
            &Patch::Merge(
                json!({"metadata": {"labels": {"a": null, "b": "2"}}, "data": {"k2": "v2"}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        c.metadata.labels.unwrap(),
        BTreeMap::from([("b".to_owned(), "2".to_owned())])
    );
    assert_eq!(c.data.as_ref().unwrap().len(), 2);
    let ops: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/data/k", "value": "w"}]))
            .unwrap();
    let c = api.patch("c", &pp, &Patch::<()>::Json(ops)).await.unwrap();
    assert_eq!(c.data.as_ref().unwrap()["k"], "w");
    let c = api
        .patch(
            "c",
            &pp,
            &Patch::Strategic(json!({"metadata": {"finalizers": ["x/y"]}})),
        )
        .await
        .unwrap();
    assert_eq!(
        c.metadata.finalizers.as_deref(),
        Some(&["x/y".to_owned()][..])
    );
    let apply = PatchParams::apply("test-manager").force();
    let c = api
        .patch("applied", &apply, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"a": "b"}})))
        .await
        .unwrap();
    assert_eq!(c.data.unwrap()["a"], "b", "apply creates a missing object");
    let c = api.patch("applied", &apply, &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"c": "d"}}))).await.unwrap();
    assert_eq!(c.data.unwrap()["c"], "d");
    let e = status_of(api.patch("missing", &pp, &Patch::Merge(json!({}))).await);
    assert_eq!(e.code, 404);
}

#[tokio::test]
async fn generate_name_delete_and_deletecollection() {
    let env = start_api().await;
    let ns = env.ns("ns");
    namespace(&env.client, &ns).await;
    let api: Api<Secret> = Api::namespaced(env.client.clone(), &ns);
    let mut s = secret("", &[("batch", "1")]);
    s.metadata.name = None;
    s.metadata.generate_name = Some("gen-".into());
    let created = api.create(&PostParams::default(), &s).await.unwrap();
    let name = created.metadata.name.unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    api.create(&PostParams::default(), &secret("keep", &[]))
        .await
        .unwrap();
    api.create(&PostParams::default(), &secret("x", &[("batch", "1")]))
        .await
        .unwrap();
    api.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("batch=1"),
    )
    .await
    .unwrap();
    let left: Vec<String> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|s| s.metadata.name.unwrap())
        .collect();
    assert_eq!(left, ["keep"]);
    api.delete("keep", &DeleteParams::default()).await.unwrap();
    assert_eq!(status_of(api.get("keep").await).code, 404);
    assert_eq!(
        status_of(api.delete("keep", &DeleteParams::default()).await).code,
        404
    );
}

#[tokio::test]
async fn immutable_secrets_and_bad_data() {
    let env = start_api().await;
    let ns = env.ns("ns");
    namespace(&env.client, &ns).await;
    let api: Api<Secret> = Api::namespaced(env.client.clone(), &ns);
    let mut s = secret("s", &[]);
    s.immutable = Some(true);
    api.create(&PostParams::default(), &s).await.unwrap();
    let e = status_of(
        api.patch(
            "s",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"password": "new"}})),
        )
        .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert!(
        e.message
            .contains("data: Forbidden: field is immutable when `immutable` is set"),
        "{}",
        e.message
    );
    let e = status_of(
        api.patch(
            "s",
            &PatchParams::default(),
            &Patch::Merge(json!({"type": "other"})),
        )
        .await,
    );
    assert!(e.message.contains("type: Invalid value"), "{}", e.message);
    let bad: Secret =
        serde_json::from_value(json!({"metadata": {"name": "bad"}, "data": {"bad key!": "eA=="}}))
            .unwrap();
    let e = status_of(api.create(&PostParams::default(), &bad).await);
    assert_eq!(e.code, 422);
    assert!(e.message.contains("data[bad key!]"), "{}", e.message);
}

/// What each built-in Secret type requires (ESO writes a template's
/// type), in the real server's words; a docker config must be a JSON
/// object, its value never shown.
#[tokio::test]
async fn secret_types_require_their_keys() {
    let env = start_api().await;
    let ns = env.ns("types");
    namespace(&env.client, &ns).await;
    let api: Api<Secret> = Api::namespaced(env.client.clone(), &ns);
    let create = |name: &str, kind: &str, data: serde_json::Value| {
        let api = api.clone();
        let s: Secret =
            serde_json::from_value(json!({"metadata": {"name": name}, "type": kind, "data": data}))
                .unwrap();
        async move { api.create(&PostParams::default(), &s).await }
    };
    for (name, kind, data, message) in [
        (
            "tls",
            "kubernetes.io/tls",
            json!({"tls.crt": "eA=="}),
            "data[tls.key]: Required value",
        ),
        (
            "basic",
            "kubernetes.io/basic-auth",
            json!({"other": "eA=="}),
            "[data[username]: Required value, data[password]: Required value]",
        ),
        (
            "ssh",
            "kubernetes.io/ssh-auth",
            json!({"ssh-privatekey": ""}),
            "data[ssh-privatekey]: Required value",
        ),
        (
            "docker",
            "kubernetes.io/dockerconfigjson",
            // "not json"
            json!({".dockerconfigjson": "bm90IGpzb24="}),
            r#"data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character 'o' in literal null (expecting 'u')"#,
        ),
        (
            "docker-array",
            "kubernetes.io/dockerconfigjson",
            // "[]"
            json!({".dockerconfigjson": "W10="}),
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        ),
        (
            "docker-none",
            "kubernetes.io/dockercfg",
            json!({}),
            "data[.dockercfg]: Required value",
        ),
        (
            "sa",
            "kubernetes.io/service-account-token",
            json!({}),
            "metadata.annotations[kubernetes.io/service-account.name]: Required value",
        ),
    ] {
        let e = status_of(create(name, kind, data).await);
        assert_eq!(e.code, 422, "{name}: {e:?}");
        assert!(
            e.message
                .ends_with(&format!("Secret \"{name}\" is invalid: {message}"))
                || e.message.ends_with(message),
            "{name}: {}",
            e.message
        );
    }
    for (name, kind, data) in [
        (
            "tls-ok",
            "kubernetes.io/tls",
            json!({"tls.crt": "eA==", "tls.key": "eQ=="}),
        ),
        (
            "basic-user",
            "kubernetes.io/basic-auth",
            json!({"username": ""}),
        ),
        (
            "docker-ok",
            "kubernetes.io/dockerconfigjson",
            json!({".dockerconfigjson": "e30="}),
        ),
        ("custom", "example.test/custom", json!({})),
    ] {
        let made = create(name, kind, data).await;
        assert!(made.is_ok(), "{name}: {made:?}");
    }
}

#[tokio::test]
async fn deployments_keep_status_to_their_subresource_and_count_generations() {
    use k8s_openapi::api::apps::v1::Deployment;
    let (env, clock) = start_frozen("2026-05-01T12:00:00Z").await;
    namespace(&env.client, "ns").await;
    let api: Api<Deployment> = Api::namespaced(env.client.clone(), "ns");
    let d: Deployment = serde_json::from_value(json!({
        "metadata": { "name": "controller" },
        "spec": { "replicas": 1, "selector": { "matchLabels": { "app": "c" } },
                  "template": { "metadata": { "labels": { "app": "c" } }, "spec": { "containers": [{ "name": "c", "image": "c:1" }] } } },
        "status": { "availableReplicas": 5 },
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &d).await.unwrap();
    assert_eq!(created.status, None, "status is not set on create");
    assert_eq!(created.metadata.generation, Some(1));
    let status = json!({ "status": { "replicas": 1, "availableReplicas": 1,
        "conditions": [{ "type": "Available", "status": "True" }] } });
    let patched = api
        .patch_status("controller", &PatchParams::default(), &Patch::Merge(status))
        .await
        .unwrap();
    assert_eq!(patched.status.unwrap().available_replicas, Some(1));
    assert_eq!(patched.metadata.generation, Some(1), "status is not spec");
    let scaled = api
        .patch(
            "controller",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 0 } })),
        )
        .await
        .unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));
    assert_eq!(
        scaled.status.unwrap().available_replicas,
        Some(1),
        "a spec change keeps the status"
    );

    // The Date header is the server's clock, not the host's.
    clock.advance(std::time::Duration::from_secs(7200)).unwrap();
    let response = env
        .client
        .send(
            http::Request::get("/version")
                .body(kube::client::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.headers()["date"].to_str().unwrap(),
        "Fri, 01 May 2026 14:00:00 GMT"
    );
}
