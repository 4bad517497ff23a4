//! SigV4 authentication and IAM authorization.

use aws_emulator::{AccessKey, AuthMode, Clock, PolicyDocument};

use crate::support::*;

/// The policy of the runbook (`opssight-production-secrets.md`), verbatim.
const RUNBOOK_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret"
      ],
      "Resource": [
        "arn:aws:secretsmanager:us-west-2:ACCOUNT_ID:secret:opssight/production/*"
      ]
    }
  ]
}
"#;

fn forged(key: &AccessKey, access_key_id: Option<&str>, secret: Option<&str>) -> AccessKey {
    AccessKey {
        access_key_id: access_key_id.unwrap_or(&key.access_key_id).to_owned(),
        secret_access_key: secret.unwrap_or(&key.secret_access_key).to_owned(),
        session_token: key.session_token.clone(),
        expiration: None,
    }
}

#[tokio::test]
async fn unknown_key_wrong_secret_and_revoked_key_are_refused() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    let endpoint = env.emulator.endpoint();
    let unknown = client(
        &endpoint,
        &forged(&env.key, Some(&format!("AKIA{}", "0".repeat(16))), None),
        REGION,
    );
    let (code, message) = code_of(unknown.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "UnrecognizedClientException");
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
    let wrong = client(
        &endpoint,
        &forged(&env.key, None, Some("not-the-secret")),
        REGION,
    );
    let (code, message) = code_of(wrong.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("The request signature we calculated does not match"),
        "{message}"
    );
    env.emulator
        .with_iam(|iam| assert!(iam.delete_access_key(&env.key.access_key_id)));
    let (code, _) = code_of(env.client.get_secret_value().secret_id("s").send().await);
    assert_eq!(
        code, "UnrecognizedClientException",
        "a deleted key stops working at once"
    );
}

#[tokio::test]
async fn unsigned_and_truncated_signatures_get_aws_errors() {
    let env = start().await;
    let http = reqwest::Client::new();
    let send = |auth: Option<String>| {
        let mut req = http
            .post(env.emulator.endpoint())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "secretsmanager.ListSecrets")
            .body("{}");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    let resp = send(None).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    assert_eq!(body["message"], "Missing Authentication Token");
    let truncated = format!(
        "AWS4-HMAC-SHA256 Credential={}/20260101/us-west-2/secretsmanager/aws4_request, SignedHeaders=host, Signature=abc",
        env.key.access_key_id
    );
    let body: serde_json::Value = send(Some(truncated)).await.unwrap().json().await.unwrap();
    assert_eq!(body["__type"], "IncompleteSignatureException");
}

#[tokio::test]
async fn runbook_policy_loaded_from_a_file_allows_production_reads_only() {
    let env = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iam-policy.json");
    std::fs::write(&path, RUNBOOK_POLICY).unwrap();
    let policy = PolicyDocument::from_file(&path)
        .unwrap()
        .with_placeholder("ACCOUNT_ID", &env.emulator.account_id());
    let key = env.emulator.with_iam(|iam| {
        iam.create_user("external-secrets").unwrap();
        iam.put_user_policy("external-secrets", "opssight", policy)
            .unwrap();
        iam.create_access_key("external-secrets").unwrap()
    });
    let v = value();
    create(&env.client, "opssight/production/app", &v).await;
    create(&env.client, "opssight/staging/app", &value()).await;
    let eso = client(&env.emulator.endpoint(), &key, REGION);
    let got = eso
        .get_secret_value()
        .secret_id("opssight/production/app")
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some(v.as_str()));
    eso.describe_secret()
        .secret_id("opssight/production/app")
        .send()
        .await
        .unwrap();

    let (code, message) = code_of(
        eso.get_secret_value()
            .secret_id("opssight/staging/app")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");
    let staging_arn = env
        .client
        .describe_secret()
        .secret_id("opssight/staging/app")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        format!(
            "User: arn:aws:iam::111122223333:user/external-secrets is not authorized to perform: secretsmanager:GetSecretValue on resource: {staging_arn} because no identity-based policy allows the secretsmanager:GetSecretValue action"
        )
    );
    let (code, _) = code_of(
        eso.put_secret_value()
            .secret_id("opssight/production/app")
            .secret_string("x")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException", "the policy grants no write");
    let (code, _) = code_of(eso.list_secrets().send().await);
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = code_of(
        eso.get_secret_value()
            .secret_id("opssight/production/missing")
            .send()
            .await,
    );
    assert_eq!(
        code, "ResourceNotFoundException",
        "allowed to look, and nothing is there"
    );
    let (code, _) = code_of(
        eso.get_secret_value()
            .secret_id("opssight/staging/missing")
            .send()
            .await,
    );
    assert_eq!(
        code, "AccessDeniedException",
        "not allowed to learn what does not exist"
    );
    let east = client(&env.emulator.endpoint(), &key, "us-east-1");
    let (code, _) = code_of(
        east.get_secret_value()
            .secret_id("opssight/production/app")
            .send()
            .await,
    );
    assert!(
        code == "AccessDeniedException",
        "the policy names us-west-2 only; got {code}"
    );
}

#[tokio::test]
async fn explicit_deny_wins_and_policy_changes_apply_on_the_next_call() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    let key = user(&env.emulator, "u", ALLOW_ALL);
    let c = client(&env.emulator.endpoint(), &key, REGION);
    c.get_secret_value().secret_id("s").send().await.unwrap();
    let deny = PolicyDocument::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#).unwrap();
    env.emulator
        .with_iam(|iam| iam.put_user_policy("u", "deny", deny).unwrap());
    let (code, message) = code_of(c.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.ends_with("with an explicit deny in an identity-based policy"),
        "{message}"
    );
    c.describe_secret().secret_id("s").send().await.unwrap();
    env.emulator
        .with_iam(|iam| iam.delete_user_policy("u", "deny").unwrap());
    c.get_secret_value().secret_id("s").send().await.unwrap();
}

#[tokio::test]
async fn accept_any_mode_takes_any_credentials() {
    let env = start_with(Clock::system(), AuthMode::AcceptAny).await;
    let anyone = AccessKey {
        access_key_id: "anything".into(),
        secret_access_key: "whatever".into(),
        session_token: None,
        expiration: None,
    };
    let c = client(&env.emulator.endpoint(), &anyone, REGION);
    create(&c, "s", &value()).await;
    c.get_secret_value().secret_id("s").send().await.unwrap();
    // And, like LocalStack, it says it is ready.
    let health: serde_json::Value =
        reqwest::get(format!("{}/_localstack/health", env.emulator.endpoint()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(health["services"]["secretsmanager"], "available");
}

#[tokio::test]
async fn enforce_mode_has_no_localstack_health_check() {
    let env = start_with(Clock::system(), AuthMode::Enforce).await;
    let status = reqwest::get(format!("{}/_localstack/health", env.emulator.endpoint()))
        .await
        .unwrap()
        .status();
    assert_ne!(status, 200);
}
