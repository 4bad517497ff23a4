//! Malformed input never panics or hangs: it gets an AWS-shaped error.

use aws_emulator::{AuthMode, AwsEmulator, secrets::OPERATIONS};
use proptest::prelude::*;

use crate::support::*;

async fn raw(
    endpoint: &str,
    target: &str,
    body: Vec<u8>,
    auth: Option<String>,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .post(endpoint)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(body);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.expect("the emulator answered");
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

#[tokio::test]
async fn bad_json_unknown_target_and_oversized_values() {
    let emulator = AwsEmulator::builder()
        .auth(AuthMode::AcceptAny)
        .start()
        .await
        .unwrap();
    let e = emulator.endpoint();
    let (status, body) = raw(
        &e,
        "secretsmanager.GetSecretValue",
        b"{not json".to_vec(),
        None,
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("SerializationException"))
    );
    let (status, body) = raw(
        &e,
        "secretsmanager.GetSecretValue",
        br#"{"SecretId": 5}"#.to_vec(),
        None,
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("SerializationException")),
        "wrong type"
    );
    let (_, body) = raw(&e, "secretsmanager.Frobnicate", b"{}".to_vec(), None).await;
    assert_eq!(body["__type"], "UnknownOperationException");
    let (_, body) = raw(&e, "kms.Encrypt", b"{}".to_vec(), None).await;
    assert_eq!(body["__type"], "UnknownOperationException");
    let (_, body) = raw(&e, "secretsmanager.GetSecretValue", b"{}".to_vec(), None).await;
    assert_eq!(
        body["__type"], "ValidationException",
        "SecretId is required"
    );

    let big = "x".repeat(65_537);
    let create =
        serde_json::to_vec(&serde_json::json!({ "Name": "big", "SecretString": big })).unwrap();
    let (status, body) = raw(&e, "secretsmanager.CreateSecret", create, None).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("ValidationException"))
    );
    assert!(
        !body.to_string().contains(&big[..100]),
        "the value is not echoed"
    );
    let fits = serde_json::to_vec(
        &serde_json::json!({ "Name": "fits", "SecretString": "x".repeat(65_536) }),
    )
    .unwrap();
    let (status, _) = raw(&e, "secretsmanager.CreateSecret", fits, None).await;
    assert_eq!(status, 200, "exactly 64 KiB is allowed");

    let huge = vec![b'{'; 2 * 1024 * 1024];
    let (status, body) = raw(&e, "secretsmanager.CreateSecret", huge, None).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (413, Some("SerializationException"))
    );
}

fn arbitrary_auth() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "[ -~]{0,80}".prop_map(Some),
        ("[A-Z0-9]{0,20}", "[0-9]{0,9}", "[a-z0-9-]{0,12}", "[a-f0-9]{0,70}").prop_map(|(k, d, r, s)| Some(format!(
            "AWS4-HMAC-SHA256 Credential={k}/{d}/{r}/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, Signature={s}"
        ))),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[A-Za-z]{1,16}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arbitrary_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        (".{0,40}", ".{0,40}", any::<i64>()).prop_map(|(a, b, n)| serde_json::to_vec(&serde_json::json!({
            "SecretId": a, "Name": a, "SecretString": b, "VersionStage": b, "MaxResults": n,
            "RecoveryWindowInDays": n, "PasswordLength": n, "NextToken": b, "Filters": [{"Key": a, "Values": [b]}]
        })).unwrap_or_default()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any body to any operation, with any (or no) Authorization header,
    /// is answered with a JSON error or a success: never a panic or a hang.
    #[test]
    fn any_request_gets_an_aws_shaped_answer(
        op in proptest::sample::select(OPERATIONS.to_vec()),
        body in arbitrary_body(),
        auth in arbitrary_auth(),
        enforce in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mode = if enforce { AuthMode::Enforce } else { AuthMode::AcceptAny };
            let emulator = AwsEmulator::builder().auth(mode).start().await.unwrap();
            let answer = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                raw(&emulator.endpoint(), &format!("secretsmanager.{op}"), body, auth),
            ).await;
            let (status, json) = answer.expect("no answer within 10s");
            if status != 200 {
                prop_assert!((400..600).contains(&status));
                prop_assert!(json["__type"].is_string(), "error without __type: {json}");
                prop_assert!(json["message"].is_string());
            }
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn errors_are_json_with_the_aws_error_type_header() {
    let env = start().await;
    let resp = reqwest::Client::new()
        .post(env.emulator.endpoint())
        .header("x-amz-target", "secretsmanager.ListSecrets")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    assert_eq!(resp.headers()["content-type"], "application/x-amz-json-1.1");
}
