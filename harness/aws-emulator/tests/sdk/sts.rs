//! STS: GetCallerIdentity, and AssumeRoleWithWebIdentity for IRSA.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_emulator::{AuthMode, Clock, OidcProvider, PolicyDocument};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use aws_sdk_sts::config::{BehaviorVersion, Region};
use base64::Engine;

use crate::support::*;

const ISSUER: &str = "https://oidc.example.test/id/CLUSTER";
const SUB: &str = "system:serviceaccount:opssight-production:external-secrets-sa";

fn sts_client(endpoint: &str, key: Option<&aws_emulator::AccessKey>) -> aws_sdk_sts::Client {
    let mut conf = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-west-2"))
        .endpoint_url(endpoint);
    if let Some(k) = key {
        conf = conf.credentials_provider(Credentials::new(
            k.access_key_id.clone(),
            k.secret_access_key.clone(),
            k.session_token.clone(),
            None,
            "t",
        ));
    }
    aws_sdk_sts::Client::from_conf(conf.build())
}

/// A signing key made for this run, and its public half as a JWK set.
struct Signer {
    encoding: jsonwebtoken::EncodingKey,
    jwks: jsonwebtoken::jwk::JwkSet,
}

fn signer(kid: &str) -> Signer {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let _ = &rng;
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let pkcs8 = pair.to_pkcs8v1().unwrap();
    let public = pair.public_key().as_ref().to_vec();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwks = serde_json::json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
        "x": b64(&public[1..33]), "y": b64(&public[33..65]),
    }]});
    Signer {
        encoding: jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwks: serde_json::from_value(jwks).unwrap(),
    }
}

fn token(s: &Signer, kid: &str, sub: &str, aud: &str, exp: i64) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    let claims = serde_json::json!({ "iss": ISSUER, "sub": sub, "aud": [aud], "exp": exp, "iat": exp - 3600 });
    jsonwebtoken::encode(&header, &claims, &s.encoding).unwrap()
}

#[tokio::test]
async fn get_caller_identity_names_the_signing_user() {
    let env = start().await;
    let sts = sts_client(&env.emulator.endpoint(), Some(&env.key));
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111122223333:user/admin"));
    assert_eq!(me.account(), Some("111122223333"));
    let mut wrong = env.key.clone();
    wrong.secret_access_key = "nope".into();
    let err = sts_client(&env.emulator.endpoint(), Some(&wrong))
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&err),
        Some("SignatureDoesNotMatch")
    );
    let events = env.emulator.audit_events();
    assert_eq!(
        events.last().map(|e| e.event_source.as_str()),
        Some("sts.amazonaws.com")
    );
}

#[tokio::test]
async fn assume_role_with_web_identity_checks_signature_trust_and_audience() {
    let clock = Clock::frozen_at(jiff::Timestamp::now());
    let env = start_with(clock.clone(), AuthMode::Enforce).await;
    let v = value();
    create(&env.client, "opssight/production/app", &v).await;
    let s = signer("k1");
    let account = env.emulator.account_id();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{account}:oidc-provider/oidc.example.test/id/CLUSTER"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"oidc.example.test/id/CLUSTER:sub":"{SUB}","oidc.example.test/id/CLUSTER:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    let read = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":"*"}]}"#;
    let role_arn = env.emulator.with_iam(|iam| {
        iam.add_oidc_provider(OidcProvider {
            issuer: ISSUER.into(),
            client_ids: vec!["sts.amazonaws.com".into()],
            keys: s.jwks.clone(),
        });
        let arn = iam
            .create_role("opssight-eso", PolicyDocument::parse(&trust).unwrap())
            .unwrap();
        iam.put_role_policy("opssight-eso", "read", PolicyDocument::parse(read).unwrap())
            .unwrap();
        arn
    });
    let sts = sts_client(&env.emulator.endpoint(), None);
    let exp = clock.now().as_second() + 3600;
    let assume = |tok: String| {
        sts.assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name("eso")
            .web_identity_token(tok)
            .send()
    };

    let out = assume(token(&s, "k1", SUB, "sts.amazonaws.com", exp))
        .await
        .unwrap();
    assert_eq!(out.subject_from_web_identity_token(), Some(SUB));
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        format!("arn:aws:sts::{account}:assumed-role/opssight-eso/eso")
    );
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    let temp = aws_emulator::AccessKey {
        access_key_id: creds.access_key_id().to_owned(),
        secret_access_key: creds.secret_access_key().to_owned(),
        session_token: Some(creds.session_token().to_owned()),
        expiration: None,
    };
    let sm = client(&env.emulator.endpoint(), &temp, REGION);
    assert_eq!(
        sm.get_secret_value()
            .secret_id("opssight/production/app")
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some(v.as_str())
    );
    let (code, _) = code_of(
        sm.describe_secret()
            .secret_id("opssight/production/app")
            .send()
            .await,
    );
    assert_eq!(
        code, "AccessDeniedException",
        "the session carries only the role's policies"
    );
    let who = sts_client(&env.emulator.endpoint(), Some(&temp))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.arn(), Some(user.arn()));

    let code = |r: Result<_, aws_sdk_sts::error::SdkError<_, _>>| match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => aws_sdk_sts::error::ProvideErrorMetadata::code(&e).map(str::to_owned),
    };
    let other_sa = "system:serviceaccount:default:other";
    assert_eq!(
        code(assume(token(&s, "k1", other_sa, "sts.amazonaws.com", exp)).await).as_deref(),
        Some("AccessDenied")
    );
    assert_eq!(
        code(assume(token(&s, "k1", SUB, "other-audience", exp)).await).as_deref(),
        Some("InvalidIdentityToken")
    );
    let stranger = signer("k1");
    assert_eq!(
        code(assume(token(&stranger, "k1", SUB, "sts.amazonaws.com", exp)).await).as_deref(),
        Some("InvalidIdentityToken"),
        "signed by a key the issuer does not publish"
    );
    assert_eq!(
        code(assume("not.a.jwt".into()).await).as_deref(),
        Some("InvalidIdentityToken")
    );
    let past = clock.now().as_second() - 10;
    assert_eq!(
        code(assume(token(&s, "k1", SUB, "sts.amazonaws.com", past)).await).as_deref(),
        Some("ExpiredTokenException")
    );

    clock.advance(Duration::from_secs(3601)).unwrap();
    let (code, _) = code_of(
        sm.get_secret_value()
            .secret_id("opssight/production/app")
            .send()
            .await,
    );
    assert_eq!(
        code, "ExpiredTokenException",
        "temporary credentials expire on the emulator's clock"
    );
}
