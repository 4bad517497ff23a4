//! ESO's webhook rules through the kube-emulator's admission hook.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_webhook_refuses_what_eso_refuses() {
    let stack = stack().await;
    let no_data = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "empty"},
        "spec": {"secretStoreRef": {"name": "aws"}}});
    match create(&stack.client, "externalsecrets", no_data).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 403);
            assert!(
                s.message
                    .contains("either data or dataFrom should be specified"),
                "{}",
                s.message
            );
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    let mut merge_delete = extract_es("md", "app/x", "1h");
    merge_delete["spec"]["target"]["creationPolicy"] = json!("Merge");
    merge_delete["spec"]["target"]["deletionPolicy"] = json!("Delete");
    assert!(
        create(&stack.client, "externalsecrets", merge_delete)
            .await
            .is_err()
    );
}
