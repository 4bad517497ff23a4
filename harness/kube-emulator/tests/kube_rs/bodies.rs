//! Request bodies as kubectl's typed generators send them (protobuf), the
//! system namespaces every cluster has, and the real server's refusals of a
//! body of another kind and of a write that loses the object's name.
//! Expected messages are those kube-apiserver v1.34.4 answered.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use crate::support::*;

fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn ld(num: u64, data: &[u8]) -> Vec<u8> {
    [
        varint(num << 3 | 2),
        varint(data.len() as u64),
        data.to_vec(),
    ]
    .concat()
}

fn s(num: u64, text: &str) -> Vec<u8> {
    ld(num, text.as_bytes())
}

fn entry(num: u64, k: &str, v: &[u8]) -> Vec<u8> {
    ld(num, &[s(1, k), ld(2, v)].concat())
}

/// `k8s\0` + runtime.Unknown{typeMeta, raw}, as kubectl encodes a body.
fn protobuf(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = [s(1, api_version), s(2, kind)].concat();
    [
        b"k8s\0".to_vec(),
        ld(1, &type_meta),
        ld(2, raw),
        s(3, ""),
        s(4, ""),
    ]
    .concat()
}

/// ObjectMeta with the empty fields kubectl writes too.
fn meta(name: &str, labels: &[(&str, &str)]) -> Vec<u8> {
    let mut m = [s(1, name), s(2, ""), s(3, ""), s(4, ""), s(5, ""), s(6, "")].concat();
    m.extend(varint(7 << 3));
    m.extend(varint(0));
    m.extend(ld(8, &[]));
    for (k, v) in labels {
        m.extend(entry(11, k, v.as_bytes()));
    }
    ld(1, &m)
}

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

async fn send(
    env: &Env,
    method: reqwest::Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = http(&env.emulator)
        .request(method, format!("{}{path}", env.emulator.url()))
        .bearer_auth(env.emulator.token())
        .header("content-type", content_type)
        // kubectl's Accept: protobuf preferred, JSON accepted.
        .header(
            "accept",
            "application/vnd.kubernetes.protobuf,application/json",
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn post(env: &Env, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    send(env, reqwest::Method::POST, path, content_type, body).await
}

fn refusal(status: u16, body: &Value) -> (u16, &str, &str) {
    (
        status,
        body["reason"].as_str().unwrap_or_default(),
        body["message"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn protobuf_bodies_of_the_kinds_kubectl_create_sends() {
    let env = start().await;
    let (status, ns) = post(
        &env,
        "/api/v1/namespaces",
        PROTOBUF,
        protobuf(
            "v1",
            "Namespace",
            &[meta("pb", &[]), ld(2, &[]), ld(3, &[])].concat(),
        ),
    )
    .await;
    assert_eq!(status, 201, "{ns}");
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "pb"
    );

    let raw = [
        meta("creds", &[("team", "ops")]),
        entry(2, "user", b"alice"),
        entry(2, "pw", &[0, 1, 2, 255]),
        s(3, ""),
    ]
    .concat();
    let (status, created) = post(
        &env,
        "/api/v1/namespaces/pb/secrets",
        PROTOBUF,
        protobuf("v1", "Secret", &raw),
    )
    .await;
    assert_eq!(status, 201, "{}", created["message"]);
    let secret = Api::<Secret>::namespaced(env.client.clone(), "pb")
        .get("creds")
        .await
        .unwrap();
    let data = secret.data.unwrap_or_default();
    assert_eq!(data.get("user"), Some(&ByteString(b"alice".to_vec())));
    assert_eq!(data.get("pw"), Some(&ByteString(vec![0, 1, 2, 255])));
    assert_eq!(secret.type_.as_deref(), Some("Opaque"), "defaulted");
    assert_eq!(
        secret
            .metadata
            .labels
            .unwrap_or_default()
            .get("team")
            .map(String::as_str),
        Some("ops")
    );
    assert_eq!(secret.metadata.namespace.as_deref(), Some("pb"));

    let (status, _) = post(
        &env,
        "/api/v1/namespaces/pb/configmaps",
        PROTOBUF,
        protobuf(
            "v1",
            "ConfigMap",
            &[meta("conf", &[]), entry(2, "k", b"v")].concat(),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let cm = Api::<ConfigMap>::namespaced(env.client.clone(), "pb")
        .get("conf")
        .await
        .unwrap();
    assert_eq!(
        cm.data.unwrap_or_default().get("k").map(String::as_str),
        Some("v")
    );

    let (status, _) = post(
        &env,
        "/api/v1/namespaces/pb/serviceaccounts",
        PROTOBUF,
        protobuf("v1", "ServiceAccount", &meta("robot", &[])),
    )
    .await;
    assert_eq!(status, 201);
    Api::<ServiceAccount>::namespaced(env.client.clone(), "pb")
        .get("robot")
        .await
        .unwrap();

    // An update may come as protobuf too.
    let mut update = meta("conf", &[]);
    update.extend(entry(2, "k", b"w"));
    let (status, body) = send(
        &env,
        reqwest::Method::PUT,
        "/api/v1/namespaces/pb/configmaps/conf",
        PROTOBUF,
        protobuf("v1", "ConfigMap", &update),
    )
    .await;
    assert_eq!((status, body["data"]["k"].as_str()), (200, Some("w")));
}

#[tokio::test]
async fn malformed_or_unsupported_protobuf_is_refused() {
    let env = start().await;
    let path = "/api/v1/namespaces/default/configmaps";
    let good = protobuf("v1", "ConfigMap", &meta("c", &[]));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            Vec::new(),
            "the object provided is unrecognized (must be of type ConfigMap): empty data (<empty>)",
        ),
        (
            b"k8s\0".to_vec(),
            "the object provided is unrecognized (must be of type ConfigMap): empty body (<4 bytes>)",
        ),
        (
            good[4..].to_vec(),
            "the object provided is unrecognized (must be of type ConfigMap): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (",
        ),
        (
            good[..good.len() - 6].to_vec(),
            "the object provided is unrecognized (must be of type ConfigMap): unexpected EOF (",
        ),
        (
            protobuf("v1", "ConfigMap", &[0x0a, 0xff, 0xff, 0xff]),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: unexpected EOF",
        ),
        (
            protobuf("v1", "ConfigMap", &[varint(1 << 3), varint(5)].concat()),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: proto: wrong wireType = 0 for field ObjectMeta",
        ),
        (
            protobuf("v1", "Secret", &meta("c", &[])),
            "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion",
        ),
        (
            protobuf("v1", "Bogus", &meta("c", &[])),
            "Bogus in version \"v1\" cannot be handled as a ConfigMap: no kind \"Bogus\" is registered for version \"v1\" in scheme \"pkg/runtime/scheme.go:110\"",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = post(&env, path, PROTOBUF, body).await;
        let (code, reason, got) = refusal(status, &answer);
        assert_eq!((code, reason), (400, "BadRequest"), "{got}");
        assert!(got.starts_with(message), "{got}\nexpected: {message}");
    }
    let none = Api::<ConfigMap>::namespaced(env.client.clone(), "default")
        .get_opt("c")
        .await
        .unwrap();
    assert!(none.is_none(), "nothing was created");

    // Kinds whose protobuf is not decoded here keep 415.
    let (status, answer) = post(
        &env,
        "/apis/apps/v1/namespaces/default/deployments",
        PROTOBUF,
        protobuf("apps/v1", "Deployment", &meta("d", &[])),
    )
    .await;
    assert_eq!(refusal(status, &answer).0, 415, "{answer}");
}

#[tokio::test]
async fn the_system_namespaces_exist_from_the_start() {
    let env = start().await;
    let names: Vec<String> = Api::<Namespace>::all(env.client.clone())
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    let default = Api::<Namespace>::all(env.client.clone())
        .get("default")
        .await
        .unwrap();
    assert_eq!(
        default.status.and_then(|s| s.phase).as_deref(),
        Some("Active")
    );
    // Objects go there without creating it first.
    let (status, _) = post(
        &env,
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        br#"{"metadata":{"name":"here"}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn a_body_of_another_kind_is_refused() {
    let env = start().await;
    let cases = [
        (
            r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"},"stringData":{"k":"v"}}"#,
            "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion",
        ),
        (
            r#"{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"a"}}"#,
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: no kind \"ConfigMap\" is registered for version \"apps/v1\" in scheme \"pkg/runtime/scheme.go:110\"",
        ),
        (
            "{not json",
            "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: ",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = post(
            &env,
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            body.as_bytes().to_vec(),
        )
        .await;
        let (code, reason, got) = refusal(status, &answer);
        assert_eq!((code, reason), (400, "BadRequest"), "{got}");
        assert!(got.starts_with(message), "{got}\nexpected: {message}");
    }
    let (status, answer) = post(
        &env,
        "/apis/events.k8s.io/v1/namespaces/default/events",
        "application/json",
        br#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e"}}"#.to_vec(),
    )
    .await;
    assert_eq!(
        refusal(status, &answer),
        (
            400,
            "BadRequest",
            "the API version in the data (v1) does not match the expected API version (events.k8s.io/v1)"
        )
    );
    let none = Api::<ConfigMap>::namespaced(env.client.clone(), "default")
        .get_opt("a")
        .await
        .unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn a_write_that_loses_the_name_or_moves_the_object_is_refused() {
    let env = start().await;
    let api: Api<ConfigMap> = Api::namespaced(env.client.clone(), "default");
    let cm: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "c1", "labels": {"keep": "me"}}, "data": {"a": "b"}}),
    )
    .unwrap();
    api.create(&Default::default(), &cm).await.unwrap();
    let undeterminable =
        "the name of the object (c1 based on URL) was undeterminable: name must be provided";
    for patch in [
        Patch::Merge(json!({"metadata": null})),
        Patch::Strategic(json!({"metadata": null})),
        Patch::Merge(json!({"metadata": {"name": null}})),
    ] {
        let e = status_of(api.patch("c1", &PatchParams::default(), &patch).await);
        assert_eq!(
            (e.code, e.reason.as_str(), e.message.as_str()),
            (400, "BadRequest", undeterminable)
        );
    }
    let e = status_of(
        api.patch(
            "c1",
            &PatchParams::default(),
            &Patch::<()>::Json(
                serde_json::from_value(json!([{"op": "remove", "path": "/metadata"}])).unwrap(),
            ),
        )
        .await,
    );
    assert_eq!((e.code, e.message.as_str()), (400, undeterminable));
    let e = status_of(
        api.patch(
            "c1",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"name": "other"}})),
        )
        .await,
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            400,
            "the name of the object (other) does not match the name on the URL (c1)"
        )
    );
    let e = status_of(
        api.patch(
            "c1",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"namespace": "elsewhere"}})),
        )
        .await,
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            400,
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    );
    let (status, answer) = send(
        &env,
        reqwest::Method::PUT,
        "/api/v1/namespaces/default/configmaps/c1",
        "application/json",
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#.to_vec(),
    )
    .await;
    assert_eq!(
        refusal(status, &answer),
        (400, "BadRequest", undeterminable)
    );
    let kept = api.get("c1").await.unwrap();
    assert_eq!(
        kept.metadata
            .labels
            .unwrap_or_default()
            .get("keep")
            .map(String::as_str),
        Some("me"),
        "the refused writes changed nothing"
    );
}
