//! ServiceAccount tokens verifiable with the published key set.

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn token_request_issues_a_jwt_the_published_keys_verify() {
    let env = start_with(
        kube_emulator::KubeEmulator::builder().issuer("https://oidc.example.test/id/ABC"),
    )
    .await;
    namespace(&env.client, "ns").await;
    let sas: Api<ServiceAccount> = Api::namespaced(env.client.clone(), "ns");
    let sa = sas
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "external-secrets-sa"}})).unwrap(),
        )
        .await
        .unwrap();
    let req: TokenRequest = serde_json::from_value(
        json!({"spec": {"audiences": ["sts.amazonaws.com"], "expirationSeconds": 3600}}),
    )
    .unwrap();
    let out = sas
        .create_token_request("external-secrets-sa", &PostParams::default(), &req)
        .await
        .unwrap();
    let token = out.status.unwrap().token.unwrap();

    let http = http(&env.emulator);
    let jwks: jsonwebtoken::jwk::JwkSet = http
        .get(format!("{}/openid/v1/jwks", env.emulator.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let config: Value = http
        .get(format!(
            "{}/.well-known/openid-configuration",
            env.emulator.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["issuer"], "https://oidc.example.test/id/ABC");
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("the token's key is published");
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&["sts.amazonaws.com"]);
    validation.set_issuer(&["https://oidc.example.test/id/ABC"]);
    let claims = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(
        claims["sub"],
        "system:serviceaccount:ns:external-secrets-sa"
    );
    assert_eq!(
        claims["kubernetes.io"]["serviceaccount"]["uid"],
        json!(sa.metadata.uid.unwrap())
    );

    let e = status_of(
        sas.create_token_request("nobody", &PostParams::default(), &req)
            .await,
    );
    assert_eq!(e.code, 404);
}
