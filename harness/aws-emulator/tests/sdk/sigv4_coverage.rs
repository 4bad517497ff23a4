//! What a SigV4 signature must cover, each refused as AWS refuses it: the
//! body (whatever `x-amz-content-sha256` says), no `UNSIGNED-PAYLOAD` on the
//! JSON protocol, the scope's service, and the date against the wall clock.
//! Tampered requests are signed with `aws-sigv4`, the SDK's own signer.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_emulator::{AccessKey, AuthMode, Clock};
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;

use crate::support::*;

pub(crate) const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

#[derive(Clone, Copy)]
pub(crate) enum Payload {
    /// The body's hash, also sent as `x-amz-content-sha256` (signed).
    HashHeader,
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`, as S3 allows.
    Unsigned,
}

/// The headers of a request signed with `key` for `service` at `time`.
// Each argument is one thing a test varies; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn signed_headers(
    endpoint: &str,
    key: &AccessKey,
    service: &str,
    content_type: &str,
    target: Option<&str>,
    body: &[u8],
    payload: Payload,
    time: SystemTime,
) -> Vec<(String, String)> {
    let host = endpoint.trim_start_matches("http://").to_owned();
    let mut headers = vec![
        ("host".to_owned(), host),
        ("content-type".to_owned(), content_type.to_owned()),
    ];
    if let Some(t) = target {
        headers.push(("x-amz-target".to_owned(), t.to_owned()));
    }
    let identity = Credentials::new(
        key.access_key_id.clone(),
        key.secret_access_key.clone(),
        key.session_token.clone(),
        None,
        "sigv4-coverage",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let body = match payload {
        Payload::HashHeader => SignableBody::Bytes(body),
        Payload::Unsigned => SignableBody::UnsignedPayload,
    };
    let signable = SignableRequest::new(
        "POST",
        format!("{endpoint}/"),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        body,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (added, _) = instructions.into_parts();
    headers.extend(
        added
            .iter()
            .map(|h| (h.name().to_owned(), h.value().to_owned())),
    );
    headers
}

/// Sends `body` with `headers` as they are; the status and the body's text.
pub(crate) async fn send(
    endpoint: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .body(body);
    for (k, v) in headers {
        if k != "host" {
            req = req.header(k, v);
        }
    }
    let resp = req.send().await.expect("the emulator answered");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

fn json_request(
    env: &Env,
    op: &str,
    body: &serde_json::Value,
    service: &str,
    payload: Payload,
    time: SystemTime,
) -> (Vec<(String, String)>, Vec<u8>) {
    let body = serde_json::to_vec(body).unwrap();
    let headers = signed_headers(
        &env.emulator.endpoint(),
        &env.key,
        service,
        "application/x-amz-json-1.1",
        Some(&format!("secretsmanager.{op}")),
        &body,
        payload,
        time,
    );
    (headers, body)
}

fn error_of(status: u16, text: &str) -> (u16, String, String) {
    let json: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    (
        status,
        json["__type"].as_str().unwrap_or_default().to_owned(),
        json["message"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn current(env: &Env, name: &str) -> String {
    env.client
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .unwrap()
        .secret_string()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_signed_request_replayed_with_another_body_is_refused() {
    let env = start().await;
    let (va, vb) = (value(), value());
    create(&env.client, "a", &va).await;
    create(&env.client, "b", &vb).await;
    let e = env.emulator.endpoint();
    let get_a = serde_json::json!({ "SecretId": "a" });
    let (headers, body) = json_request(
        &env,
        "GetSecretValue",
        &get_a,
        "secretsmanager",
        Payload::HashHeader,
        SystemTime::now(),
    );
    assert!(
        headers.iter().any(|(k, _)| k == "x-amz-content-sha256"),
        "the signer sent the payload hash: {:?}",
        headers.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    let (status, text) = send(&e, &headers, body).await;
    assert_eq!(status, 200, "the request as signed is served");
    assert!(text.contains(&va));

    let other = serde_json::to_vec(&serde_json::json!({ "SecretId": "b" })).unwrap();
    let (status, text) = send(&e, &headers, other).await;
    assert_eq!(
        error_of(status, &text),
        (400, "InvalidSignatureException".into(), MISMATCH.into())
    );
    assert!(!text.contains(&vb), "the replayed request got no value");

    // And one that would change state.
    let put = serde_json::json!({ "SecretId": "a", "SecretString": value() });
    let (headers, _) = json_request(
        &env,
        "PutSecretValue",
        &put,
        "secretsmanager",
        Payload::HashHeader,
        SystemTime::now(),
    );
    let forged = serde_json::json!({ "SecretId": "a", "SecretString": "forged" });
    let (status, text) = send(&e, &headers, serde_json::to_vec(&forged).unwrap()).await;
    assert_eq!(error_of(status, &text).1, "InvalidSignatureException");
    assert_eq!(current(&env, "a").await, va, "the secret did not change");
}

#[tokio::test]
async fn unsigned_payload_is_refused_on_the_json_protocol() {
    let env = start().await;
    let v = value();
    create(&env.client, "s", &v).await;
    let e = env.emulator.endpoint();
    for (op, body) in [
        ("GetSecretValue", serde_json::json!({ "SecretId": "s" })),
        (
            "PutSecretValue",
            serde_json::json!({ "SecretId": "s", "SecretString": "unsigned" }),
        ),
    ] {
        let (headers, body) = json_request(
            &env,
            op,
            &body,
            "secretsmanager",
            Payload::Unsigned,
            SystemTime::now(),
        );
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "x-amz-content-sha256" && v == "UNSIGNED-PAYLOAD")
        );
        let (status, text) = send(&e, &headers, body).await;
        assert_eq!(
            error_of(status, &text),
            (400, "InvalidSignatureException".into(), MISMATCH.into()),
            "{op}"
        );
        assert!(!text.contains(&v));
    }
    assert_eq!(current(&env, "s").await, v);
}

#[tokio::test]
async fn a_scope_for_another_service_is_refused() {
    let env = start().await;
    let v = value();
    create(&env.client, "s", &v).await;
    let e = env.emulator.endpoint();
    let (headers, body) = json_request(
        &env,
        "GetSecretValue",
        &serde_json::json!({ "SecretId": "s" }),
        "s3",
        Payload::HashHeader,
        SystemTime::now(),
    );
    let (status, text) = send(&e, &headers, body).await;
    assert_eq!(
        error_of(status, &text),
        (
            400,
            "InvalidSignatureException".into(),
            "Credential should be scoped to correct service: 'secretsmanager'. ".into()
        )
    );
    assert!(!text.contains(&v));

    // STS wants `sts`, and words it in its own (XML) error.
    let form = b"Action=GetCallerIdentity&Version=2011-06-15".to_vec();
    let headers = signed_headers(
        &e,
        &env.key,
        "secretsmanager",
        "application/x-www-form-urlencoded",
        None,
        &form,
        Payload::HashHeader,
        SystemTime::now(),
    );
    let (status, text) = send(&e, &headers, form).await;
    assert_eq!(status, 403, "{text}");
    assert!(
        text.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{text}"
    );
    assert!(
        text.contains("Credential should be scoped to correct service: &apos;sts&apos;.")
            || text.contains("Credential should be scoped to correct service: 'sts'."),
        "{text}"
    );
}

fn skewed_client(env: &Env, at: SystemTime) -> aws_sdk_secretsmanager::Client {
    let config = sdk_config(&env.emulator.endpoint(), &env.key, REGION)
        .to_builder()
        .time_source(aws_smithy_async::time::StaticTimeSource::new(at))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

#[tokio::test]
async fn a_client_clock_off_by_more_than_15_minutes_is_refused() {
    let env = start().await;
    let v = value();
    create(&env.client, "s", &v).await;
    let now = SystemTime::now();
    let minutes = |m: u64| Duration::from_secs(60 * m);

    let late = skewed_client(&env, now - minutes(16));
    let (code, message) = code_of(late.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("Signature expired: ")
            && message.contains(" is now earlier than ")
            && message.ends_with(" - 15 min.)"),
        "{message}"
    );
    let early = skewed_client(&env, now + minutes(16));
    let (code, message) = code_of(early.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("Signature not yet current: ")
            && message.contains(" is still later than ")
            && message.ends_with(" + 15 min.)"),
        "{message}"
    );
    // A fresh client: the SDK learns the skew from a refusal's `Date`
    // header (as it does from AWS's) and corrects its next calls.
    let late = skewed_client(&env, now - minutes(16));
    let (code, _) = code_of(
        late.put_secret_value()
            .secret_id("s")
            .secret_string("stale")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidSignatureException");
    assert_eq!(
        current(&env, "s").await,
        v,
        "a stale request changed nothing"
    );

    // Within the allowed skew, both ways.
    for at in [now - minutes(14), now + minutes(14)] {
        let got = skewed_client(&env, at)
            .get_secret_value()
            .secret_id("s")
            .send()
            .await
            .unwrap();
        assert_eq!(got.secret_string(), Some(v.as_str()));
    }
}

#[tokio::test]
async fn the_date_is_checked_against_the_wall_clock_not_the_virtual_one() {
    // As the embedded environment does: a virtual clock moved days ahead.
    let clock = Clock::virtual_running();
    let env = start_with(clock.clone(), AuthMode::Enforce).await;
    clock.advance(Duration::from_secs(3 * 24 * 3600)).unwrap();
    let v = value();
    create(&env.client, "s", &v).await;
    assert_eq!(current(&env, "s").await, v, "wall-clock signatures pass");

    // A client that signed with the virtual time is three days off.
    let virtual_now = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(clock.now().as_second()).unwrap());
    let (code, message) = code_of(
        skewed_client(&env, virtual_now)
            .get_secret_value()
            .secret_id("s")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("Signature not yet current"),
        "{message}"
    );
}
