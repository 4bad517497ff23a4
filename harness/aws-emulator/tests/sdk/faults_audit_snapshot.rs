//! The audit trail, run-time faults and snapshots.

use std::time::{Duration, Instant};

use aws_emulator::{Outage, RegionFaults};

use crate::support::*;

#[tokio::test]
async fn audit_trail_records_every_call_without_values() {
    let env = start().await;
    let v = value();
    let created = create(&env.client, "opssight/production/app", &v).await;
    env.client
        .get_secret_value()
        .secret_id("opssight/production/app")
        .send()
        .await
        .unwrap();
    let _ = env
        .client
        .get_secret_value()
        .secret_id("missing")
        .send()
        .await;
    let events = env.emulator.audit_events();
    let names: Vec<&str> = events.iter().map(|e| e.event_name.as_str()).collect();
    assert_eq!(names, ["CreateSecret", "GetSecretValue", "GetSecretValue"]);
    let get = &events[1];
    assert_eq!(get.event_source, "secretsmanager.amazonaws.com");
    assert_eq!(get.aws_region, "us-west-2");
    assert_eq!(
        get.principal_arn.as_deref(),
        Some("arn:aws:iam::111122223333:user/admin")
    );
    assert_eq!(get.resources, [created.arn().unwrap().to_owned()]);
    assert_eq!(get.error_code, None);
    assert_eq!(
        events[2].error_code.as_deref(),
        Some("ResourceNotFoundException")
    );

    let over_http: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/_emulator/audit", env.emulator.endpoint()))
        .bearer_auth(env.emulator.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http.as_array().unwrap().len(), 3);
    assert_eq!(over_http[1]["eventName"], "GetSecretValue");
    let text = over_http.to_string();
    assert!(
        !text.contains(&v),
        "the audit trail must never hold a secret value"
    );
}

#[tokio::test]
async fn outage_in_one_region_leaves_others_working_and_heals() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    let east = client(&env.emulator.endpoint(), &env.key, "us-east-1");
    create(&east, "s", &value()).await;
    env.emulator.set_faults(
        REGION,
        RegionFaults {
            outage: Some(Outage::ServiceUnavailable),
            ..Default::default()
        },
    );
    let err = env
        .client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap_err();
    let raw = err.raw_response().map(|r| r.status().as_u16());
    assert_eq!(raw, Some(503), "{err:?}");
    east.get_secret_value().secret_id("s").send().await.unwrap();

    env.emulator.set_faults(
        REGION,
        RegionFaults {
            outage: Some(Outage::ConnectionReset),
            ..Default::default()
        },
    );
    let err = env
        .client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.raw_response().is_none(),
        "no response on a reset connection: {err:?}"
    );

    env.emulator.set_faults(REGION, RegionFaults::default());
    env.client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn throttling_and_latency() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    env.emulator.set_faults(
        "*",
        RegionFaults {
            throttle: true,
            ..Default::default()
        },
    );
    let (code, message) = code_of(env.client.get_secret_value().secret_id("s").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ThrottlingException", "Rate exceeded")
    );
    env.emulator.set_faults(
        "*",
        RegionFaults {
            latency: Some(Duration::from_millis(300)),
            ..Default::default()
        },
    );
    let started = Instant::now();
    env.client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "latency was not added"
    );
    env.emulator.clear_faults();
}

#[tokio::test]
async fn faults_switch_over_the_admin_api() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/_emulator/faults/{REGION}", env.emulator.endpoint());
    let token = env.emulator.admin_token();
    let resp = http
        .put(&url)
        .bearer_auth(token)
        .body(r#"{"throttle": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (code, _) = code_of(env.client.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "ThrottlingException");
    let resp = http
        .put(&url)
        .bearer_auth(token)
        .body(r#"{"throtle": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text().await.unwrap().contains("throtle"),
        "the error names the unknown field"
    );
    http.delete(format!("{}/_emulator/faults", env.emulator.endpoint()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    env.client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn refusing_connections_and_coming_back() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    env.emulator.stop_listening();
    let err = env
        .client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            aws_sdk_secretsmanager::error::SdkError::DispatchFailure(_)
        ),
        "{err:?}"
    );
    env.emulator.resume_listening();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match env.client.get_secret_value().secret_id("s").send().await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::task::yield_now().await;
            }
            Err(e) => panic!("emulator not answering 5s after resume_listening: {e:?}"),
        }
    }
}

#[tokio::test]
async fn snapshot_to_a_file_and_restore() {
    let env = start().await;
    let v = value();
    create(&env.client, "opssight/production/database", &v).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup.json");
    env.emulator.snapshot_to(&path).unwrap();
    env.client
        .delete_secret()
        .secret_id("opssight/production/database")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    create(&env.client, "added-after", &value()).await;
    env.emulator.restore_from(&path).unwrap();
    let got = env
        .client
        .get_secret_value()
        .secret_id("opssight/production/database")
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some(v.as_str()));
    let (code, _) = code_of(
        env.client
            .describe_secret()
            .secret_id("added-after")
            .send()
            .await,
    );
    assert_eq!(
        code, "ResourceNotFoundException",
        "restore replaces the whole state"
    );

    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\n  \"format\": \"aws-emulator-snapshot/v1\",\n  \"takenAt\": 3\n",
    )
    .unwrap();
    let err = env.emulator.restore_from(&broken).unwrap_err().to_string();
    assert!(err.contains("broken.json") && err.contains("line"), "{err}");
    let got = env
        .client
        .get_secret_value()
        .secret_id("opssight/production/database")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.secret_string(),
        Some(v.as_str()),
        "a bad snapshot changes nothing"
    );
}
