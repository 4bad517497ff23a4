//! The `/_emulator/` admin paths answer only the run's admin token: they
//! serve every secret in plaintext, replace them, wipe the audit trail and
//! inject outages.

use aws_emulator::{AuthMode, Clock};

use crate::support::*;

/// Every admin endpoint, with a body that would change state if accepted.
pub(crate) const ADMIN_CALLS: &[(&str, &str, &str)] = &[
    ("GET", "health", ""),
    ("GET", "audit", ""),
    ("DELETE", "audit", ""),
    ("GET", "faults", ""),
    ("DELETE", "faults", ""),
    ("PUT", "faults/us-west-2", r#"{"throttle": true}"#),
    ("PUT", "faults/*", r#"{"outage": "serviceUnavailable"}"#),
    ("GET", "snapshot", ""),
    ("PUT", "snapshot", r#"{"secrets": []}"#),
];

async fn call(
    endpoint: &str,
    method: &str,
    path: &str,
    body: &str,
    authorization: Option<&str>,
) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new()
        .request(method, format!("{endpoint}/_emulator/{path}"))
        .body(body.to_owned());
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.expect("the emulator answered");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn admin_paths_refuse_requests_without_the_admin_token() {
    for mode in [AuthMode::Enforce, AuthMode::AcceptAny] {
        let env = start_with(Clock::system(), mode).await;
        let v = value();
        create(&env.client, "kept", &v).await;
        let e = env.emulator.endpoint();
        let events_before = env.emulator.audit_events().len();
        let sigv4_like = format!(
            "AWS4-HMAC-SHA256 Credential={}/20260101/us-west-2/secretsmanager/aws4_request, SignedHeaders=host, Signature={}",
            env.key.access_key_id,
            "0".repeat(64)
        );
        let wrong_token = format!("Bearer {}", "0".repeat(64));
        let almost = format!("Bearer {}x", env.emulator.admin_token());
        for (method, path, body) in ADMIN_CALLS {
            for (auth, code) in [
                (None, "MissingAuthenticationTokenException"),
                (Some(sigv4_like.as_str()), "AccessDeniedException"),
                (Some(wrong_token.as_str()), "AccessDeniedException"),
                (Some(almost.as_str()), "AccessDeniedException"),
                (Some("Bearer "), "AccessDeniedException"),
            ] {
                let (status, text) = call(&e, method, path, body, auth).await;
                assert_eq!(status, 403, "{method} {path} with {auth:?}: {text}");
                let json: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(json["__type"], code, "{method} {path}: {text}");
                assert!(json["message"].is_string(), "{text}");
                assert!(!text.contains(&v), "a refusal must not carry a value");
                assert!(
                    !text.contains(env.emulator.admin_token()),
                    "a refusal must not echo the token"
                );
            }
        }
        // Nothing changed: the secret, the audit trail, the faults.
        let got = env
            .client
            .get_secret_value()
            .secret_id("kept")
            .send()
            .await
            .unwrap();
        assert_eq!(got.secret_string(), Some(v.as_str()));
        assert_eq!(env.emulator.audit_events().len(), events_before + 1);
    }
}

#[tokio::test]
async fn the_admin_token_opens_every_admin_path() {
    let env = start().await;
    let v = value();
    create(&env.client, "kept", &v).await;
    let e = env.emulator.endpoint();
    let bearer = format!("Bearer {}", env.emulator.admin_token());
    let (status, snapshot) = call(&e, "GET", "snapshot", "", Some(&bearer)).await;
    assert_eq!(status, 200);
    assert!(snapshot.contains(&v), "the snapshot is the harness's copy");
    for (method, path, body) in ADMIN_CALLS {
        let body = if *path == "snapshot" && *method == "PUT" {
            snapshot.as_str()
        } else {
            body
        };
        let (status, text) = call(&e, method, path, body, Some(&bearer)).await;
        assert_eq!(status, 200, "{method} {path}: {text}");
    }
    let (status, _) = call(&e, "DELETE", "faults", "", Some(&bearer)).await;
    assert_eq!(status, 200);
    let got = env
        .client
        .get_secret_value()
        .secret_id("kept")
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some(v.as_str()));
}

#[tokio::test]
async fn each_emulator_has_its_own_token() {
    let a = start().await;
    let b = start().await;
    assert_ne!(a.emulator.admin_token(), b.emulator.admin_token());
    assert!(a.emulator.admin_token().len() >= 64);
    let other = format!("Bearer {}", b.emulator.admin_token());
    let (status, _) = call(&a.emulator.endpoint(), "GET", "snapshot", "", Some(&other)).await;
    assert_eq!(status, 403);
}
