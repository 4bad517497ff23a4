//! Authentication, faults, and malformed requests: always a Status, never a
//! panic or a hang.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn requests_without_the_token_are_401() {
    let env = start().await;
    let http = http(&env.emulator);
    let resp = http
        .get(format!("{}/api/v1/namespaces", env.emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["kind"].as_str(), body["reason"].as_str()),
        (Some("Status"), Some("Unauthorized"))
    );
    let resp = http
        .get(format!("{}/api/v1/namespaces", env.emulator.url()))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn unavailable_and_back() {
    let env = start().await;
    env.emulator.set_unavailable(true);
    // kube-rs retries 503 for minutes by default; this test wants the answer itself.
    let mut config = config_for(&env.emulator).await;
    config.default_retry = false;
    let api: Api<Secret> = Api::all(kube::Client::try_from(config).unwrap());
    let e = status_of(api.list(&Default::default()).await);
    assert_eq!(e.code, 503);
    env.emulator.set_unavailable(false);
    api.list(&Default::default()).await.unwrap();
}

async fn post(env: &Env, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = http(&env.emulator)
        .post(format!("{}{path}", env.emulator.url()))
        .bearer_auth(env.emulator.token())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn malformed_bodies_unknown_kinds_and_oversized_objects() {
    let env = start().await;
    namespace(&env.client, "ns").await;
    let (status, body) = post(
        &env,
        "/api/v1/namespaces/ns/secrets",
        "application/json",
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!((status, body["reason"].as_str()), (400, Some("BadRequest")));
    let (status, _) = post(
        &env,
        "/api/v1/namespaces/ns/secrets",
        "text/plain",
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 415);
    let (status, body) = post(
        &env,
        "/apis/nope.test/v1/namespaces/ns/gizmos",
        "application/json",
        b"{}".to_vec(),
    )
    .await;
    // No API serves that group: the real server's mux answers in plain
    // text, not with a Status.
    assert_eq!((status, &body), (404, &Value::Null));
    let (status, body) = post(
        &env,
        "/api/v1/namespaces/ns/gizmos",
        "application/json",
        b"{}".to_vec(),
    )
    .await;
    assert_eq!((status, body["kind"].as_str()), (404, Some("Status")));
    let (status, _) = post(
        &env,
        "/api/v1/namespaces/ns/secrets",
        "application/json",
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400, "kind must match the path");
    let (status, body) = post(
        &env,
        "/api/v1/namespaces/ns/configmaps",
        "application/json",
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"typed"},"data":{"port":5432}}"#.to_vec(),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            400,
            Some(
                "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
            )
        ),
        "the real server's words"
    );

    let big = "x".repeat(1_600_000);
    let secret: Secret = serde_json::from_value(json!({"metadata": {"name": "big"}, "stringData": {"a": big[..800_000], "b": big[800_000..]}})).unwrap();
    let e = status_of(
        Api::<Secret>::namespaced(env.client.clone(), "ns")
            .create(&PostParams::default(), &secret)
            .await,
    );
    assert!(e.code == 413 || e.code == 422, "{} {}", e.code, e.message);
    let huge = vec![b' '; 4 * 1024 * 1024];
    let (status, body) = post(
        &env,
        "/api/v1/namespaces/ns/configmaps",
        "application/json",
        huge,
    )
    .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (413, Some("RequestEntityTooLarge"))
    );
    let cm = json!({"metadata": {"name": "bigcm"}, "data": {"a": "y".repeat(1_600_000)}});
    let (status, body) = post(
        &env,
        "/api/v1/namespaces/ns/configmaps",
        "application/json",
        serde_json::to_vec(&cm).unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (413, Some("RequestEntityTooLarge")),
        "over etcd's 1.5 MiB"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any body to any write endpoint gets an answer; errors are Status objects.
    #[test]
    fn any_body_gets_a_status(
        path in proptest::sample::select(vec![
            "/api/v1/namespaces/ns/secrets", "/api/v1/namespaces", "/api/v1/namespaces/ns/configmaps",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "/api/v1/namespaces/ns/serviceaccounts/sa/token",
            "/apis/events.k8s.io/v1/namespaces/ns/events",
        ]),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        as_json in any::<bool>(),
        value in proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{0,10}", 0..4),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let env = start().await;
            namespace(&env.client, "ns").await;
            let payload = if as_json {
                serde_json::to_vec(&json!({"metadata": value.clone(), "data": value, "spec": {"group": 1}})).unwrap()
            } else { body };
            let (status, json) = tokio::time::timeout(std::time::Duration::from_secs(10), post(&env, path, "application/json", payload))
                .await
                .expect("no answer within 10s");
            if status >= 400 {
                prop_assert_eq!(json["kind"].as_str(), Some("Status"), "{}", json);
                prop_assert_eq!(json["code"].as_u64(), Some(status as u64));
            }
            Ok(())
        })?;
    }
}
