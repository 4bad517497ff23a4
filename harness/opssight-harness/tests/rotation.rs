//! The rotation report against the embedded environment: fresh secrets are
//! within policy, time moving on makes them overdue in the runbook's order,
//! and a secret whose keys fall under different periods is named.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use opssight_harness::env::Environment;
use opssight_harness::env::embedded::Embedded;
use opssight_harness::fixtures::Fixtures;
use opssight_harness::rotation;

#[tokio::test]
async fn overdue_secrets_and_mixed_periods_are_named() {
    let fixtures = Fixtures::locate().unwrap();
    let policies = rotation::load_policies(&fixtures.rotation_policy()).unwrap();
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

    let rows = rotation::report(&sm, &keys, &policies, env.clock.now())
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

    env.clock.advance(Duration::from_secs(31 * 86_400)).unwrap();
    let rows = rotation::report(&sm, &keys, &policies, env.clock.now())
        .await
        .unwrap();
    assert_eq!(
        overdue(&rows),
        ["opssight/production/external-services"],
        "API keys: 30 days"
    );
    assert!(rotation::render(&rows).contains("OVERDUE by 1 days"));

    env.clock.advance(Duration::from_secs(60 * 86_400)).unwrap();
    let rows = rotation::report(&sm, &keys, &policies, env.clock.now())
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
