//! The rotation report against the embedded environment: fresh secrets are
//! within policy, time moving on makes them overdue in the runbook's order,
//! and a secret whose keys fall under different periods is named.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use opssight_harness::checks::rotation;
use opssight_harness::env::Environment;
use opssight_harness::env::embedded::Embedded;
use opssight_harness::fixtures::Fixtures;
use opssight_harness::fixtures::rotation::load_policies;

#[tokio::test]
async fn overdue_secrets_and_mixed_periods_are_named() {
    let fixtures = Fixtures::locate().unwrap();
    let policies = load_policies(&fixtures.rotation_policy()).unwrap();
    let env = Embedded::start(fixtures).await.unwrap();
    let keys: BTreeMap<String, BTreeSet<String>> = env
        .seed()
        .secrets
        .iter()
        .map(|(n, kv)| (n.clone(), kv.keys().cloned().collect()))
        .collect();
    let sm = env.secrets_manager();
    let overdue = |rows: &[rotation::SecretRotation]| {
        rows.iter()
            .filter(|r| r.overdue)
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
    };

    let rows = rotation::report(&sm, &keys, &policies, env.clock().now())
        .await
        .unwrap();
    assert!(
        overdue(&rows).is_empty(),
        "fresh secrets are within policy: {rows:?}"
    );
    let mixed: Vec<&str> = rows
        .iter()
        .filter(|r| r.mixed_periods)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        mixed,
        ["opssight/production/app"],
        "JWT (180 d) and encryption keys (365 d) in one secret"
    );
    let app = rows
        .iter()
        .find(|r| r.name == "opssight/production/app")
        .unwrap();
    assert_eq!(
        app.max_age_days,
        Some(180),
        "a rotation changes every key: the strictest period applies"
    );
    let text = rotation::render(&rows);
    assert!(
        text.contains(
            "keys under policies of different periods (JWT secrets 180d, encryption keys 365d)"
        ),
        "{text}"
    );

    env.clock()
        .advance(Duration::from_secs(31 * 86_400))
        .unwrap();
    let rows = rotation::report(&sm, &keys, &policies, env.clock().now())
        .await
        .unwrap();
    assert_eq!(
        overdue(&rows),
        ["opssight/production/external-services"],
        "API keys: 30 days"
    );
    assert!(rotation::render(&rows).contains("OVERDUE by 1 days"));

    env.clock()
        .advance(Duration::from_secs(60 * 86_400))
        .unwrap();
    let rows = rotation::report(&sm, &keys, &policies, env.clock().now())
        .await
        .unwrap();
    assert_eq!(
        overdue(&rows),
        [
            "opssight/production/database",
            "opssight/production/external-services",
            "opssight/production/redis"
        ],
        "database passwords: 90 days"
    );
}

/// The CLI against any endpoint (`--env existing --endpoint`), with the
/// AWS SDK's usual environment: exit code 1 and the overdue secrets named.
#[tokio::test]
async fn the_cli_exits_non_zero_when_a_secret_is_overdue() {
    use aws_emulator::{AwsEmulator, Clock, PolicyDocument};
    for (days_old, expect_overdue) in [(0i64, false), (100, true)] {
        let created = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(24 * days_old))
            .unwrap();
        let aws = AwsEmulator::builder()
            .clock(Clock::frozen_at(created))
            .start()
            .await
            .unwrap();
        let key = aws.with_iam(|iam| {
            iam.create_user("auditor").unwrap();
            let all = PolicyDocument::parse(
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            )
            .unwrap();
            iam.put_user_policy("auditor", "all", all).unwrap();
            iam.create_access_key("auditor").unwrap()
        });
        let sm =
            opssight_harness::env::secrets_manager::sm_client(&aws.endpoint(), &key, "us-west-2");
        let fixtures = Fixtures::locate().unwrap();
        let seed = opssight_harness::fixtures::seed::Seed::load(&fixtures.seed_file()).unwrap();
        for (name, values) in &seed.secrets {
            sm.create_secret()
                .name(name)
                .secret_string(serde_json::to_string(values).unwrap())
                .send()
                .await
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("rotation.json");
        // Async: the emulator serves on this test's runtime while the CLI runs.
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
            .args([
                "rotation",
                "--env",
                "existing",
                "--endpoint",
                &aws.endpoint(),
                "--json",
            ])
            .arg(&json)
            .env("AWS_ACCESS_KEY_ID", &key.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &key.secret_access_key)
            .env("AWS_REGION", "us-west-2")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let overdue: Vec<&str> = report
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["overdue"] == true)
            .filter_map(|r| r["name"].as_str())
            .collect();
        if expect_overdue {
            assert_eq!(out.status.code(), Some(1), "{stdout}");
            // 100 days: past API keys' 30 and passwords' 90, within JWT's 180.
            assert_eq!(
                overdue,
                [
                    "opssight/production/database",
                    "opssight/production/external-services",
                    "opssight/production/redis"
                ]
            );
            assert!(stdout.contains("OVERDUE"), "{stdout}");
        } else {
            assert_eq!(
                out.status.code(),
                Some(0),
                "{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(overdue.is_empty(), "{overdue:?}");
        }
    }
}
