//! Property: nothing unauthenticated changes state or returns a secret
//! value. Random admin requests (any method, admin path or near miss, any
//! Authorization but the token) and signed API requests mutated in one
//! respect (a header dropped, a character of the signature, key id, scope
//! or signed headers changed, the date moved beyond the skew, the body
//! replaced, a Bearer or garbage header instead) are all refused.

use std::time::{Duration, SystemTime};

use aws_emulator::{AuthMode, Clock};
use proptest::prelude::*;

use crate::admin::ADMIN_CALLS;
use crate::sigv4_coverage::{Payload, signed_headers};
use crate::support::*;

#[derive(Debug, Clone)]
enum Mutation {
    Drop(usize),
    SignatureChar(usize, u8),
    KeyIdChar(usize, u8),
    ScopeDate(String),
    ScopeService(String),
    SignedHeaders(String),
    SkewMinutes(i64),
    OtherBody(String),
    Replace(Option<String>),
    UnsignedPayload,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..8).prop_map(Mutation::Drop),
        (0usize..64, 0u8..16).prop_map(|(i, d)| Mutation::SignatureChar(i, d)),
        (0usize..20, 0u8..36).prop_map(|(i, d)| Mutation::KeyIdChar(i, d)),
        "[0-9]{8}".prop_map(Mutation::ScopeDate),
        "[a-z0-9-]{0,16}".prop_map(Mutation::ScopeService),
        "[a-z;-]{0,40}".prop_map(Mutation::SignedHeaders),
        prop_oneof![16i64..100_000, -100_000i64..-16].prop_map(Mutation::SkewMinutes),
        "[ -~]{0,40}".prop_map(Mutation::OtherBody),
        prop_oneof![
            Just(None),
            "[ -~]{0,120}".prop_map(Some),
            "[0-9a-f]{64}".prop_map(|t| Some(format!("Bearer {t}"))),
        ]
        .prop_map(Mutation::Replace),
        Just(Mutation::UnsignedPayload),
    ]
}

const HEX: &[u8] = b"0123456789abcdef";
const KEY_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Replaces one character with a different one (case-insensitively, since
/// AWS reads hex signatures in either case).
fn change_char(s: &str, at: usize, alphabet: &[u8], pick: u8) -> String {
    let mut bytes = s.as_bytes().to_vec();
    let at = at % bytes.len().max(1);
    let old = bytes[at].to_ascii_lowercase();
    let mut c = alphabet[usize::from(pick) % alphabet.len()];
    if c.to_ascii_lowercase() == old {
        c = alphabet[(usize::from(pick) + 1) % alphabet.len()];
    }
    bytes[at] = c;
    String::from_utf8(bytes).unwrap()
}

/// The Authorization header with `f` applied to the value of `field`.
fn with_field(auth: &str, field: &str, f: impl Fn(&str) -> String) -> String {
    auth.split(", ")
        .map(|part| {
            let (head, value) = match part.split_once(&format!("{field}=")) {
                Some((h, v)) => (h, v),
                None => return part.to_owned(),
            };
            format!("{head}{field}={}", f(value))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const OPS: &[&str] = &[
    "GetSecretValue",
    "BatchGetSecretValue",
    "PutSecretValue",
    "UpdateSecret",
    "DeleteSecret",
    "CreateSecret",
];

fn body_of(op: &str) -> serde_json::Value {
    match op {
        "BatchGetSecretValue" => serde_json::json!({ "SecretIdList": ["s"] }),
        "PutSecretValue" | "UpdateSecret" => {
            serde_json::json!({ "SecretId": "s", "SecretString": "changed-by-a-forger" })
        }
        "DeleteSecret" => {
            serde_json::json!({ "SecretId": "s", "ForceDeleteWithoutRecovery": true })
        }
        "CreateSecret" => serde_json::json!({ "Name": "planted", "SecretString": "x" }),
        _ => serde_json::json!({ "SecretId": "s" }),
    }
}

async fn api_case(env: &Env, op: &str, m: &Mutation) -> Result<(u16, String), TestCaseError> {
    let e = env.emulator.endpoint();
    let body = serde_json::to_vec(&body_of(op)).unwrap();
    let target = format!("secretsmanager.{op}");
    let mut time = SystemTime::now();
    if let Mutation::SkewMinutes(min) = m {
        let d = Duration::from_secs(60 * min.unsigned_abs());
        time = if *min < 0 { time - d } else { time + d };
    }
    let payload = match m {
        Mutation::UnsignedPayload => Payload::Unsigned,
        _ => Payload::HashHeader,
    };
    let mut headers = signed_headers(
        &e,
        &env.key,
        "secretsmanager",
        "application/x-amz-json-1.1",
        Some(&target),
        &body,
        payload,
        time,
    );
    let mut body = body;
    let auth_at = headers
        .iter()
        .position(|(k, _)| k == "authorization")
        .unwrap();
    let auth = headers[auth_at].1.clone();
    match m {
        Mutation::Drop(i) => {
            // Only signed headers the request stands on (content-type is
            // signed too, but dropping it is not an authentication matter).
            let signed: Vec<usize> = headers
                .iter()
                .enumerate()
                .filter(|(_, (k, _))| {
                    ["authorization", "x-amz-date", "x-amz-target"].contains(&k.as_str())
                })
                .map(|(i, _)| i)
                .collect();
            let at = signed[i % signed.len()];
            headers.remove(at);
        }
        Mutation::SignatureChar(i, d) => {
            headers[auth_at].1 = with_field(&auth, "Signature", |s| change_char(s, *i, HEX, *d));
        }
        Mutation::KeyIdChar(i, d) => {
            headers[auth_at].1 = with_field(&auth, "Credential", |c| {
                let (key, rest) = c.split_once('/').unwrap();
                format!("{}/{rest}", change_char(key, *i, KEY_CHARS, *d))
            });
        }
        Mutation::ScopeDate(date) => {
            headers[auth_at].1 = with_field(&auth, "Credential", |c| {
                let parts: Vec<&str> = c.split('/').collect();
                let date = if date == parts[1] { "19700101" } else { date };
                format!("{}/{date}/{}", parts[0], parts[2..].join("/"))
            });
        }
        Mutation::ScopeService(service) => {
            headers[auth_at].1 = with_field(&auth, "Credential", |c| {
                let parts: Vec<&str> = c.split('/').collect();
                let service = if service == "secretsmanager" {
                    "s3"
                } else {
                    service
                };
                format!(
                    "{}/{}/{}/{service}/{}",
                    parts[0], parts[1], parts[2], parts[4]
                )
            });
        }
        Mutation::SignedHeaders(list) => {
            headers[auth_at].1 = with_field(&auth, "SignedHeaders", |old| {
                if list == old {
                    format!("{old};x")
                } else {
                    list.clone()
                }
            });
        }
        Mutation::OtherBody(text) => {
            let other =
                serde_json::to_vec(&serde_json::json!({ "SecretId": "s", "SecretString": text }))
                    .unwrap();
            body = if other == body { b"{}".to_vec() } else { other };
        }
        Mutation::Replace(replacement) => match replacement {
            Some(r) if http::HeaderValue::from_str(r).is_ok() => headers[auth_at].1 = r.clone(),
            _ => {
                headers.remove(auth_at);
            }
        },
        Mutation::SkewMinutes(_) | Mutation::UnsignedPayload => {}
    }
    let mut req = reqwest::Client::new().post(format!("{e}/")).body(body);
    for (k, v) in &headers {
        if k != "host" {
            req = req.header(k, v);
        }
    }
    let resp = req
        .send()
        .await
        .map_err(|err| TestCaseError::fail(format!("no answer: {err}")))?;
    Ok((
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    ))
}

fn admin_path() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(
            ADMIN_CALLS
                .iter()
                .map(|(_, p, _)| (*p).to_owned())
                .collect::<Vec<_>>()
        ),
        "[a-z/*.%-]{0,24}",
    ]
}

fn admin_auth() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "[ -~]{0,100}".prop_map(Some),
        "[0-9a-f]{0,70}".prop_map(|t| Some(format!("Bearer {t}"))),
        "[A-Z0-9]{20}".prop_map(|k| Some(format!(
            "AWS4-HMAC-SHA256 Credential={k}/20260101/us-west-2/secretsmanager/aws4_request, SignedHeaders=host, Signature={}",
            "a".repeat(64)
        ))),
    ]
}

#[derive(Debug, Clone)]
enum Case {
    Admin {
        method: String,
        path: String,
        auth: Option<String>,
        body: String,
    },
    Api {
        op: &'static str,
        mutation: Mutation,
    },
}

fn case() -> impl Strategy<Value = Case> {
    prop_oneof![
        (
            proptest::sample::select(vec!["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"]),
            admin_path(),
            admin_auth(),
            prop_oneof![
                Just(String::new()),
                Just(r#"{"throttle": true}"#.to_owned()),
                Just(r#"{"outage": "serviceUnavailable"}"#.to_owned()),
                "[ -~]{0,40}",
            ],
        )
            .prop_map(|(method, path, auth, body)| Case::Admin {
                method: method.to_owned(),
                path,
                auth,
                body,
            }),
        (proptest::sample::select(OPS.to_vec()), mutation())
            .prop_map(|(op, mutation)| Case::Api { op, mutation }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn nothing_unauthenticated_changes_state_or_returns_a_value(case in case(), accept_any_admin in any::<bool>()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            // The admin paths need the token whatever the API's mode; the API
            // is checked in Enforce mode (AcceptAny takes anyone, by design).
            let mode = match &case {
                Case::Admin { .. } if accept_any_admin => AuthMode::AcceptAny,
                _ => AuthMode::Enforce,
            };
            let env = start_with(Clock::system(), mode).await;
            let v = value();
            create(&env.client, "s", &v).await;
            let before = env.emulator.snapshot().secrets;
            let audit_before = env.emulator.audit_events().len();
            let (status, text) = match &case {
                Case::Admin { method, path, auth, body } => {
                    let mut req = reqwest::Client::new()
                        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}/_emulator/{path}", env.emulator.endpoint()))
                        .body(body.clone());
                    if let Some(a) = auth.as_ref().filter(|a| http::HeaderValue::from_str(a).is_ok()) {
                        req = req.header("authorization", a);
                    }
                    let resp = req.send().await.map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
                    (resp.status().as_u16(), resp.text().await.unwrap_or_default())
                }
                Case::Api { op, mutation } => api_case(&env, op, mutation).await?,
            };
            prop_assert!(!(200..300).contains(&status), "answered {status}: {text}");
            prop_assert!(!text.contains(&v), "a refusal carried the value");
            prop_assert!(env.emulator.snapshot().secrets == before, "the secrets changed");
            prop_assert!(env.emulator.audit_events().len() >= audit_before, "the audit trail lost events");
            // No fault was switched on: a signed call still works.
            let got = env.client.get_secret_value().secret_id("s").send().await;
            prop_assert!(got.is_ok(), "a signed call failed afterwards: {:?}", got.err());
            Ok(())
        })?;
    }
}
