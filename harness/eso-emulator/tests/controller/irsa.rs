//! IRSA: a store authenticating with the ServiceAccount's token, exchanged at
//! STS for the role its eks.amazonaws.com/role-arn annotation names.

use aws_emulator::{OidcProvider, PolicyDocument};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_store_with_irsa_syncs_through_assume_role_with_web_identity() {
    let stack = stack().await;
    let issuer = stack.kube.issuer();
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(stack.kube.jwks()).unwrap();
    let host = issuer.trim_start_matches("https://").to_owned();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/{host}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{host}:sub":"system:serviceaccount:{NS}:eso-sa","{host}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    let role = stack.aws.with_iam(|iam| {
        iam.add_oidc_provider(OidcProvider { issuer: issuer.clone(), client_ids: vec!["sts.amazonaws.com".into()], keys: jwks });
        let arn = iam.create_role("eso-role", PolicyDocument::parse(&trust).unwrap()).unwrap();
        let read = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
        iam.put_role_policy("eso-role", "read", PolicyDocument::parse(read).unwrap()).unwrap();
        arn
    });
    let sa: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": "eso-sa", "annotations": {"eks.amazonaws.com/role-arn": role}}})).unwrap();
    Api::<ServiceAccount>::namespaced(stack.client.clone(), NS)
        .create(&PostParams::default(), &sa)
        .await
        .unwrap();
    create(&stack.client, "secretstores", json!({
        "apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": {"name": "irsa"},
        "spec": {"provider": {"aws": {"service": "SecretsManager", "region": REGION, "auth": {"jwt": {"serviceAccountRef": {"name": "eso-sa"}}}}}}
    }))
    .await
    .unwrap();
    let store = wait_for(
        &api(&stack.client, "secretstores"),
        "irsa",
        "the IRSA store validated",
        |s| {
            s.data
                .pointer("/status/conditions/0/status")
                .and_then(|v| v.as_str())
                == Some("True")
        },
    )
    .await;
    // Validate() retrieves the credentials, here through STS, and the
    // store is Valid (providers/v1/aws/secretsmanager/secretsmanager.go,
    // v2.9.0 as v0.20.4).
    assert_eq!(store.data["status"]["conditions"][0]["reason"], "Valid");
    let v = values(&["k"]);
    put_sm(&stack, "app/irsa", &v).await;
    let mut es = extract_es("irsa", "app/irsa", "1h");
    es["spec"]["secretStoreRef"]["name"] = json!("irsa");
    create(&stack.client, "externalsecrets", es).await.unwrap();
    wait_secret_data(&stack, "irsa", &v, "a sync through IRSA").await;
    let assumed = stack
        .aws
        .audit_events()
        .into_iter()
        .any(|e| e.event_name == "AssumeRoleWithWebIdentity" && e.error_code.is_none());
    assert!(assumed, "the controller assumed the role at STS");
    let read_by_role = stack.aws.audit_events().into_iter().any(|e| {
        e.event_name == "GetSecretValue"
            && e.principal_arn
                .as_deref()
                .is_some_and(|p| p.contains(":assumed-role/eso-role/"))
    });
    assert!(read_by_role, "the read was made as the assumed role");
}
