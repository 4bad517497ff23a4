//! Stopping cleanly, and surviving the API server or Secrets Manager going
//! away and coming back.

use std::time::Duration;

use crate::support::*;

#[tokio::test]
async fn shutdown_leaves_no_task_running() {
    let mut stack = stack().await;
    let controller = stack.controller.take().unwrap();
    assert!(controller.is_running());
    within("controller shutdown", controller.shutdown()).await;
}

#[tokio::test]
async fn a_follower_of_the_log_sees_new_lines_and_its_end() {
    let mut stack = stack().await;
    let controller = stack.controller.take().unwrap();
    assert!(
        controller
            .recent_log()
            .iter()
            .any(|l| l.ends_with(" controller started")),
        "{:?}",
        controller.recent_log()
    );
    let mut follower = controller.follow_log();
    // A store that does not exist: the controller logs that it cannot get it.
    create(
        &stack.client,
        "externalsecrets",
        extract_es("followed", "app/followed", "1h"),
    )
    .await
    .unwrap();
    let line = within("a line written while followed", follower.recv())
        .await
        .unwrap();
    assert!(line.contains("followed"), "{line}");
    within("controller shutdown", controller.shutdown()).await;
    loop {
        match within("the follower's end", follower.recv()).await {
            Ok(_) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn dropping_the_handle_ends_every_task() {
    let mut stack = stack().await;
    let controller = stack.controller.take().unwrap();
    let tasks = controller.tasks();
    assert!(!tasks.is_empty());
    drop(controller);
    within(
        "every task ending after the handle was dropped",
        tasks.wait(),
    )
    .await;
    assert!(tasks.is_empty());
}

#[tokio::test]
async fn secrets_manager_outage_loses_nothing_and_recovers() {
    let stack = stack().await;
    let v = values(&["k"]);
    put_sm(&stack, "app/o", &v).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("o", "app/o", "1h"),
    )
    .await
    .unwrap();
    wait_secret_data(&stack, "o", &v, "first sync").await;
    stack.aws.stop_listening();
    stack.clock.advance(Duration::from_secs(3601)).unwrap();
    wait_ready(&stack, "o", "False", "SecretSyncedError").await;
    assert_eq!(
        decoded(&secret(&stack, "o").await.unwrap()),
        v,
        "no data lost during the outage"
    );
    stack.aws.resume_listening();
    // Backoff is on the clock: move it past the longest backoff.
    stack.clock.advance(Duration::from_secs(600)).unwrap();
    wait_ready(&stack, "o", "True", "SecretSynced").await;
}

#[tokio::test]
async fn api_server_outage_and_back() {
    let stack = stack().await;
    let v1 = values(&["k"]);
    put_sm(&stack, "app/b", &v1).await;
    create(
        &stack.client,
        "externalsecrets",
        extract_es("b", "app/b", "1h"),
    )
    .await
    .unwrap();
    wait_secret_data(&stack, "b", &v1, "first sync").await;
    stack.kube.stop_listening();
    let v2 = values(&["k"]);
    put_sm(&stack, "app/b", &v2).await;
    // The refresh falls due while the API server refuses connections.
    stack.clock.advance(Duration::from_secs(3601)).unwrap();
    tokio::task::yield_now().await;
    stack.kube.resume_listening();
    stack.clock.advance(Duration::from_secs(600)).unwrap();
    wait_secret_data(
        &stack,
        "b",
        &v2,
        "the refresh done once the API server is back",
    )
    .await;
}
