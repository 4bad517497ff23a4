//! The refresh rules: interval, force-sync by annotation, refreshInterval 0.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_change_arrives_only_after_the_interval_and_refresh_time_moves() {
    let stack = stack().await;
    let v1 = values(&["k"]);
    put_sm(&stack, "app/r", &v1).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("r", "app/r", "1h"),
    )
    .await
    .unwrap();
    let first = wait_ready(&stack, "r", "True", "SecretSynced").await;
    let t1 = first.data["status"]["refreshTime"]
        .as_str()
        .unwrap()
        .to_owned();
    let v2 = values(&["k"]);
    put_sm(&stack, "app/r", &v2).await;
    stack.clock.advance(Duration::from_secs(30 * 60)).unwrap();
    // Half the interval: the controller must not refresh. A marker queued
    // after the advance syncs only once everything due before it was done.
    caught_up(&stack, 1).await;
    let es = api(&stack.client, "externalsecrets")
        .get("r")
        .await
        .unwrap();
    assert_eq!(es.data["status"]["refreshTime"], json!(t1));
    assert_eq!(decoded(&secret(&stack, "r").await.unwrap()), v1);
    stack
        .clock
        .advance(Duration::from_secs(30 * 60 + 1))
        .unwrap();
    wait_secret_data(&stack, "r", &v2, "the new value after the interval").await;
    let before = t1.clone();
    let es = wait_for(
        &api(&stack.client, "externalsecrets"),
        "r",
        "refreshTime to move",
        move |es| {
            es.data["status"]["refreshTime"]
                .as_str()
                .is_some_and(|t| t != before)
        },
    )
    .await;
    let t2 = es.data["status"]["refreshTime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(t2 > t1, "refreshTime moved: {t1} -> {t2}");
    let (_, _, m) = wait_event(&stack, "r", "Normal", "Updated").await;
    assert_eq!(m, "secret updated");
}

#[tokio::test]
async fn force_sync_annotation_refreshes_well_before_the_interval() {
    let stack = stack().await;
    let v1 = values(&["k"]);
    put_sm(&stack, "app/f", &v1).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("f", "app/f", "1h"),
    )
    .await
    .unwrap();
    wait_secret_data(&stack, "f", &v1, "first sync").await;
    let v2 = values(&["k"]);
    put_sm(&stack, "app/f", &v2).await;
    force_sync(&stack, "f", "1700000000").await;
    wait_secret_data(&stack, "f", &v2, "the value after force-sync").await;
}

#[tokio::test]
async fn refresh_interval_zero_fetches_once_and_ignores_force_sync() {
    let stack = stack().await;
    let v1 = values(&["k"]);
    put_sm(&stack, "app/z", &v1).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("z", "app/z", "0s"),
    )
    .await
    .unwrap();
    let synced = wait_ready(&stack, "z", "True", "SecretSynced").await;
    let v2 = values(&["k"]);
    put_sm(&stack, "app/z", &v2).await;
    force_sync(&stack, "z", "1700000000").await;
    stack.clock.advance(Duration::from_secs(24 * 3600)).unwrap();
    // Make the controller prove it processed the annotation: a second
    // ExternalSecret queued after it syncs, so the first was looked at.
    caught_up(&stack, 1).await;
    let es = api(&stack.client, "externalsecrets")
        .get("z")
        .await
        .unwrap();
    assert_eq!(
        es.data["status"]["refreshTime"], synced.data["status"]["refreshTime"],
        "no refresh happened"
    );
    assert_eq!(
        decoded(&secret(&stack, "z").await.unwrap()),
        v1,
        "the old value stays"
    );
}
