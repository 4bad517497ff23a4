//! Secrets Manager operations and their semantics.

use std::sync::Arc;
use std::time::Duration;

use aws_emulator::{AuthMode, Clock, SecretValue};
use aws_sdk_secretsmanager::types::{
    Filter, FilterNameStringType, ReplicaRegionType, RotationRulesType, Tag,
};

use crate::support::*;

#[tokio::test]
async fn create_then_get_by_name_full_arn_and_partial_arn() {
    let env = start().await;
    let v = value();
    let created = create(&env.client, "opssight/production/app", &v).await;
    let arn = created.arn().unwrap().to_owned();
    let prefix = "arn:aws:secretsmanager:us-west-2:111122223333:secret:opssight/production/app-";
    assert!(arn.starts_with(prefix), "{arn}");
    let suffix = &arn[prefix.len()..];
    assert_eq!(suffix.len(), 6, "{arn}");
    assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));
    for id in [
        "opssight/production/app",
        arn.as_str(),
        &arn[..arn.len() - 7],
    ] {
        let got = env
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .unwrap();
        assert_eq!(got.secret_string(), Some(v.as_str()), "by {id}");
        assert_eq!(got.arn(), Some(arn.as_str()));
        assert_eq!(got.version_stages(), ["AWSCURRENT"]);
        assert_eq!(got.version_id(), created.version_id());
        assert!(got.created_date().is_some());
    }
    let (code, message) = code_of(
        env.client
            .get_secret_value()
            .secret_id("opssight/production/nope")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret."
        )
    );
}

#[tokio::test]
async fn secret_binary_round_trips() {
    let env = start().await;
    let bytes: Vec<u8> = (0u8..=255).collect();
    env.client
        .create_secret()
        .name("bin")
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(bytes.clone()))
        .send()
        .await
        .unwrap();
    let got = env
        .client
        .get_secret_value()
        .secret_id("bin")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.secret_binary().map(|b| b.as_ref().to_vec()),
        Some(bytes)
    );
    assert!(got.secret_string().is_none());
}

#[tokio::test]
async fn put_secret_value_moves_current_and_previous() {
    let env = start().await;
    let (v1, v2, v3) = (value(), value(), value());
    let first = create(&env.client, "s", &v1)
        .await
        .version_id()
        .unwrap()
        .to_owned();
    let second = env
        .client
        .put_secret_value()
        .secret_id("s")
        .secret_string(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(second.version_stages(), ["AWSCURRENT"]);
    let second = second.version_id().unwrap().to_owned();
    let third = env
        .client
        .put_secret_value()
        .secret_id("s")
        .secret_string(&v3)
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let current = env
        .client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some(v3.as_str()));
    let previous = env
        .client
        .get_secret_value()
        .secret_id("s")
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(previous.secret_string(), Some(v2.as_str()));
    assert_eq!(previous.version_id(), Some(second.as_str()));
    let by_id = env
        .client
        .get_secret_value()
        .secret_id("s")
        .version_id(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.secret_string(), Some(v1.as_str()));
    assert!(
        by_id.version_stages().is_empty(),
        "the oldest version has no stage left"
    );
    let d = env
        .client
        .describe_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    let stages = d.version_ids_to_stages().unwrap();
    assert_eq!(stages.get(&third).unwrap(), &vec!["AWSCURRENT".to_owned()]);
    assert_eq!(
        stages.get(&second).unwrap(),
        &vec!["AWSPREVIOUS".to_owned()]
    );
    assert!(
        !stages.contains_key(&first),
        "versions without stages are not listed"
    );

    // A custom stage moves without touching AWSCURRENT.
    let v4 = value();
    let staged = env
        .client
        .put_secret_value()
        .secret_id("s")
        .secret_string(&v4)
        .version_stages("STAGED")
        .send()
        .await
        .unwrap();
    assert_eq!(staged.version_stages(), ["STAGED"]);
    let current = env
        .client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some(v3.as_str()));
    let got = env
        .client
        .get_secret_value()
        .secret_id("s")
        .version_stage("STAGED")
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some(v4.as_str()));
}

#[tokio::test]
async fn version_id_and_stage_errors() {
    let env = start().await;
    let first = create(&env.client, "s", &value())
        .await
        .version_id()
        .unwrap()
        .to_owned();
    env.client
        .put_secret_value()
        .secret_id("s")
        .secret_string(value())
        .send()
        .await
        .unwrap();
    let (code, message) = code_of(
        env.client
            .get_secret_value()
            .secret_id("s")
            .version_id(&first)
            .version_stage("AWSCURRENT")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidRequestException");
    assert_eq!(
        message,
        "You provided a VersionStage that is not associated to the provided VersionId."
    );
    let (code, message) = code_of(
        env.client
            .get_secret_value()
            .secret_id("s")
            .version_id("nope-nope-nope-nope-nope-nope-nope")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Secrets Manager can't find the specified secret value for VersionId: nope-nope-nope-nope-nope-nope-nope"
    );
    let (code, message) = code_of(
        env.client
            .get_secret_value()
            .secret_id("s")
            .version_stage("AWSPENDING")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        message,
        "Secrets Manager can't find the specified secret value for staging label: AWSPENDING"
    );
    env.client
        .create_secret()
        .name("empty")
        .send()
        .await
        .unwrap();
    let (code, _) = code_of(
        env.client
            .get_secret_value()
            .secret_id("empty")
            .send()
            .await,
    );
    assert_eq!(
        code, "ResourceNotFoundException",
        "a secret with no value has no AWSCURRENT"
    );
}

#[tokio::test]
async fn client_request_token_is_idempotent() {
    let env = start().await;
    let token = "0123456789abcdef0123456789abcdef";
    let v = value();
    let a = env
        .client
        .create_secret()
        .name("s")
        .secret_string(&v)
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    let b = env
        .client
        .create_secret()
        .name("s")
        .secret_string(&v)
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(a.version_id(), Some(token));
    assert_eq!(
        a.arn(),
        b.arn(),
        "a retried CreateSecret answers the same secret"
    );
    let (code, message) = code_of(
        env.client
            .create_secret()
            .name("s")
            .secret_string(value())
            .client_request_token(token)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceExistsException");
    assert!(
        message.starts_with(&format!("You can't use ClientRequestToken {token} because")),
        "{message}"
    );

    let token2 = "fedcba9876543210fedcba9876543210";
    let v2 = value();
    let p1 = env
        .client
        .put_secret_value()
        .secret_id("s")
        .secret_string(&v2)
        .client_request_token(token2)
        .send()
        .await
        .unwrap();
    let p2 = env
        .client
        .put_secret_value()
        .secret_id("s")
        .secret_string(&v2)
        .client_request_token(token2)
        .send()
        .await
        .unwrap();
    assert_eq!(p1.version_id(), p2.version_id());
    let versions = env
        .client
        .list_secret_version_ids()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.versions().len(),
        2,
        "the retry made no new version"
    );
    let (code, message) = code_of(
        env.client
            .put_secret_value()
            .secret_id("s")
            .secret_string(value())
            .client_request_token(token2)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceExistsException");
    assert!(
        message.starts_with(&format!(
            "You can't use ClientRequestToken {token2} because that value is already in use"
        )),
        "{message}"
    );
    assert!(!message.contains(&v2), "an error never carries a value");
    let (code, _) = code_of(
        env.client
            .put_secret_value()
            .secret_id("s")
            .secret_string(value())
            .client_request_token("short")
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
}

#[tokio::test]
async fn create_existing_and_invalid_names() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    let (code, message) = code_of(
        env.client
            .create_secret()
            .name("s")
            .secret_string(value())
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "ResourceExistsException",
            "The operation failed because the secret s already exists."
        )
    );
    let (code, _) = code_of(
        env.client
            .create_secret()
            .name("bad name with spaces")
            .secret_string(value())
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    let (code, message) = code_of(
        env.client
            .create_secret()
            .name("both")
            .secret_string("x")
            .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(vec![1]))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "You can't specify both a binary secret value and a string secret value in the same secret."
    );
}

#[tokio::test]
async fn update_secret_changes_description_and_value() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    let out = env
        .client
        .update_secret()
        .secret_id("s")
        .description("db creds")
        .send()
        .await
        .unwrap();
    assert!(out.version_id().is_none(), "no value, no new version");
    let v = value();
    let out = env
        .client
        .update_secret()
        .secret_id("s")
        .secret_string(&v)
        .send()
        .await
        .unwrap();
    assert!(out.version_id().is_some());
    let d = env
        .client
        .describe_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(d.description(), Some("db creds"));
    assert_eq!(
        env.client
            .get_secret_value()
            .secret_id("s")
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some(v.as_str())
    );
    let (code, _) = code_of(
        env.client
            .update_secret()
            .secret_id("missing")
            .description("x")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn timestamps_follow_the_injected_clock() {
    let start_at: jiff::Timestamp = "2026-03-01T10:30:00Z".parse().unwrap();
    let clock = Clock::frozen_at(start_at);
    let env = start_with(clock.clone(), AuthMode::Enforce).await;
    create(&env.client, "s", &value()).await;
    clock
        .advance(Duration::from_secs(3 * 86_400 + 3600))
        .unwrap();
    env.client
        .put_secret_value()
        .secret_id("s")
        .secret_string(value())
        .send()
        .await
        .unwrap();
    env.client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    let d = env
        .client
        .describe_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(d.created_date().unwrap().secs(), start_at.as_second());
    assert_eq!(
        d.last_changed_date().unwrap().secs(),
        start_at.as_second() + 3 * 86_400 + 3600
    );
    let accessed: jiff::Timestamp = "2026-03-04T00:00:00Z".parse().unwrap();
    assert_eq!(
        d.last_accessed_date().unwrap().secs(),
        accessed.as_second(),
        "LastAccessedDate is kept to the day"
    );
    assert!(d.deleted_date().is_none());
}

#[tokio::test]
async fn list_secrets_filters_and_pagination() {
    let env = start().await;
    for name in [
        "opssight/production/app",
        "opssight/production/redis",
        "opssight/staging/app",
        "other",
    ] {
        env.client
            .create_secret()
            .name(name)
            .secret_string(value())
            .tags(
                Tag::builder()
                    .key("team")
                    .value(if name.starts_with("opssight") {
                        "ops"
                    } else {
                        "web"
                    })
                    .build(),
            )
            .description(format!("the {name} secret"))
            .send()
            .await
            .unwrap();
    }
    let names = |out: &aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput| {
        let mut n: Vec<String> = out
            .secret_list()
            .iter()
            .filter_map(|s| s.name().map(str::to_owned))
            .collect();
        n.sort();
        n
    };
    let by_name = env
        .client
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values("opssight/production/")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&by_name),
        ["opssight/production/app", "opssight/production/redis"]
    );
    let negated = env
        .client
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values("!opssight")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(names(&negated), ["other"]);
    let by_tag = env
        .client
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::TagValue)
                .values("web")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_tag), ["other"]);
    let all = env
        .client
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::All)
                .values("STAGING")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(names(&all), ["opssight/staging/app"], "`all` ignores case");
    let anded = env
        .client
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values("opssight")
                .build(),
        )
        .filters(
            Filter::builder()
                .key(FilterNameStringType::Description)
                .values("redis")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(names(&anded), ["opssight/production/redis"]);

    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = env
            .client
            .list_secrets()
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(page.secret_list().len() <= 3);
        seen.extend(names(&page));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    assert_eq!(
        seen.len(),
        4,
        "every secret exactly once across pages: {seen:?}"
    );
    let entry = &by_name.secret_list()[0];
    assert!(
        entry
            .secret_versions_to_stages()
            .is_some_and(|m| m.len() == 1)
    );
    let (code, _) = code_of(env.client.list_secrets().next_token("garbage").send().await);
    assert_eq!(code, "InvalidNextTokenException");
}

#[tokio::test]
async fn list_secret_version_ids_and_update_version_stage() {
    let env = start().await;
    let v1 = create(&env.client, "s", &value())
        .await
        .version_id()
        .unwrap()
        .to_owned();
    let v2 = env
        .client
        .put_secret_value()
        .secret_id("s")
        .secret_string(value())
        .version_stages("PENDINGX")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let list = env
        .client
        .list_secret_version_ids()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(list.versions().len(), 2);
    assert!(list.arn().unwrap().contains(":secret:s-"));

    let (code, message) = code_of(
        env.client
            .update_secret_version_stage()
            .secret_id("s")
            .version_stage("AWSCURRENT")
            .move_to_version_id(&v2)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        format!(
            "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version {v1}, so you must explicitly reference that version in RemoveFromVersionId."
        )
    );
    env.client
        .update_secret_version_stage()
        .secret_id("s")
        .version_stage("AWSCURRENT")
        .remove_from_version_id(&v1)
        .move_to_version_id(&v2)
        .send()
        .await
        .unwrap();
    let d = env
        .client
        .describe_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    let stages = d.version_ids_to_stages().unwrap();
    assert!(stages[&v2].contains(&"AWSCURRENT".to_owned()));
    assert_eq!(
        stages[&v1],
        vec!["AWSPREVIOUS".to_owned()],
        "AWSPREVIOUS follows a moved AWSCURRENT"
    );
    let (code, _) = code_of(
        env.client
            .update_secret_version_stage()
            .secret_id("s")
            .version_stage("X")
            .move_to_version_id("not-a-version-id-at-all-00000000")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
}

#[tokio::test]
async fn delete_with_recovery_window_restore_and_purge() {
    let clock = Clock::frozen_at("2026-03-01T00:00:00Z".parse().unwrap());
    let env = start_with(clock.clone(), AuthMode::Enforce).await;
    create(&env.client, "s", &value()).await;
    let out = env
        .client
        .delete_secret()
        .secret_id("s")
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let purge: jiff::Timestamp = "2026-03-08T00:00:00Z".parse().unwrap();
    assert_eq!(out.deletion_date().unwrap().secs(), purge.as_second());
    let (code, message) = code_of(env.client.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "InvalidRequestException");
    assert_eq!(
        message,
        "You can't perform this operation on the secret because it was marked for deletion."
    );
    let (code, _) = code_of(
        env.client
            .put_secret_value()
            .secret_id("s")
            .secret_string(value())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidRequestException");
    let (code, message) = code_of(
        env.client
            .create_secret()
            .name("s")
            .secret_string(value())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidRequestException");
    assert_eq!(
        message,
        "You can't create this secret because a secret with this name is already scheduled for deletion."
    );
    let listed = env.client.list_secrets().send().await.unwrap();
    assert!(
        listed.secret_list().is_empty(),
        "deleted secrets are hidden from ListSecrets"
    );
    let listed = env
        .client
        .list_secrets()
        .include_planned_deletion(true)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.secret_list().len(), 1);
    assert!(
        env.client
            .describe_secret()
            .secret_id("s")
            .send()
            .await
            .unwrap()
            .deleted_date()
            .is_some()
    );

    env.client
        .restore_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    env.client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();

    env.client
        .delete_secret()
        .secret_id("s")
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    clock.advance(Duration::from_secs(7 * 86_400)).unwrap();
    let (code, _) = code_of(env.client.describe_secret().secret_id("s").send().await);
    assert_eq!(
        code, "ResourceNotFoundException",
        "purged once the window has passed"
    );
    create(&env.client, "s", &value()).await;

    env.client
        .delete_secret()
        .secret_id("s")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let (code, _) = code_of(env.client.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "ResourceNotFoundException");

    let (code, message) = code_of(
        env.client
            .delete_secret()
            .secret_id("x")
            .recovery_window_in_days(3)
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterException",
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
        )
    );
    let (code, message) = code_of(
        env.client
            .delete_secret()
            .secret_id("x")
            .recovery_window_in_days(7)
            .force_delete_without_recovery(true)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
    );
}

#[tokio::test]
async fn rotation_through_the_hook_and_on_schedule() {
    let clock = Clock::frozen_at("2026-03-01T00:00:00Z".parse().unwrap());
    let env = start_with(clock.clone(), AuthMode::Enforce).await;
    create(&env.client, "s", &value()).await;
    let (code, _) = code_of(env.client.rotate_secret().secret_id("s").send().await);
    assert_eq!(
        code, "AccessDeniedException",
        "no hook: the 'Lambda' cannot be invoked"
    );

    let counter = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let c = counter.clone();
    env.emulator.set_rotation_hook(Some(Arc::new(
        move |req: &aws_emulator::RotationRequest<'_>| {
            assert!(req.current.is_some());
            let n = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(SecretValue::String(format!("rotated-{n}")))
        },
    )));
    let out = env
        .client
        .rotate_secret()
        .secret_id("s")
        .rotation_lambda_arn("arn:aws:lambda:us-west-2:111122223333:function:rotate")
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(30)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let current = env
        .client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some("rotated-0"));
    assert_eq!(current.version_id(), out.version_id());
    let d = env
        .client
        .describe_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(d.rotation_enabled(), Some(true));
    assert_eq!(
        d.rotation_rules()
            .and_then(|r| r.automatically_after_days()),
        Some(30)
    );
    assert!(d.last_rotated_date().is_some());
    let next: jiff::Timestamp = "2026-03-31T00:00:00Z".parse().unwrap();
    assert_eq!(d.next_rotation_date().unwrap().secs(), next.as_second());

    clock.advance(Duration::from_secs(29 * 86_400)).unwrap();
    let current = env
        .client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some("rotated-0"), "not due yet");
    clock.advance(Duration::from_secs(86_400)).unwrap();
    let current = env
        .client
        .get_secret_value()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    assert_eq!(
        current.secret_string(),
        Some("rotated-1"),
        "the scheduled rotation ran"
    );
    let previous = env
        .client
        .get_secret_value()
        .secret_id("s")
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(previous.secret_string(), Some("rotated-0"));
    let (code, _) = code_of(
        env.client
            .rotate_secret()
            .secret_id("s")
            .rotation_rules(
                RotationRulesType::builder()
                    .automatically_after_days(0)
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
}

#[tokio::test]
async fn tag_and_untag() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    env.client
        .tag_resource()
        .secret_id("s")
        .tags(Tag::builder().key("a").value("1").build())
        .tags(Tag::builder().key("b").value("2").build())
        .send()
        .await
        .unwrap();
    env.client
        .tag_resource()
        .secret_id("s")
        .tags(Tag::builder().key("a").value("3").build())
        .send()
        .await
        .unwrap();
    env.client
        .untag_resource()
        .secret_id("s")
        .tag_keys("b")
        .send()
        .await
        .unwrap();
    let d = env
        .client
        .describe_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    let tags: Vec<(String, String)> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect();
    assert_eq!(tags, [("a".to_owned(), "3".to_owned())]);
    let (code, _) = code_of(
        env.client
            .tag_resource()
            .secret_id("nope")
            .tags(Tag::builder().key("a").value("1").build())
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn secrets_live_in_the_region_of_the_credential_scope() {
    let env = start().await;
    create(&env.client, "s", &value()).await;
    let east = client(&env.emulator.endpoint(), &env.key, "us-east-1");
    let (code, _) = code_of(east.get_secret_value().secret_id("s").send().await);
    assert_eq!(code, "ResourceNotFoundException");
    create(&east, "s", &value()).await;
    let a = env
        .client
        .describe_secret()
        .secret_id("s")
        .send()
        .await
        .unwrap();
    let b = east.describe_secret().secret_id("s").send().await.unwrap();
    assert!(a.arn().unwrap().contains(":us-west-2:") && b.arn().unwrap().contains(":us-east-1:"));
}

#[tokio::test]
async fn replicas_follow_their_primary_and_refuse_writes() {
    let env = start().await;
    let v1 = value();
    let created = env
        .client
        .create_secret()
        .name("s")
        .secret_string(&v1)
        .add_replica_regions(ReplicaRegionType::builder().region("us-east-1").build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.replication_status()[0].status().map(|s| s.as_str()),
        Some("InSync")
    );
    let east = client(&env.emulator.endpoint(), &env.key, "us-east-1");
    let replica = east.get_secret_value().secret_id("s").send().await.unwrap();
    assert_eq!(replica.secret_string(), Some(v1.as_str()));
    assert_eq!(
        replica.arn().unwrap().replace(":us-east-1:", ":us-west-2:"),
        created.arn().unwrap(),
        "same name and suffix"
    );
    let v2 = value();
    env.client
        .put_secret_value()
        .secret_id("s")
        .secret_string(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        east.get_secret_value()
            .secret_id("s")
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some(v2.as_str())
    );
    let (code, message) = code_of(
        east.put_secret_value()
            .secret_id("s")
            .secret_string(value())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidRequestException");
    assert_eq!(
        message,
        "Operation not permitted on a replica secret. Call must be made in primary secret's region."
    );
    let d = east.describe_secret().secret_id("s").send().await.unwrap();
    assert_eq!(d.primary_region(), Some("us-west-2"));
    let (code, _) = code_of(env.client.delete_secret().secret_id("s").send().await);
    assert_eq!(
        code, "InvalidRequestException",
        "a primary with replicas cannot be deleted"
    );

    let out = env
        .client
        .replicate_secret_to_regions()
        .secret_id("s")
        .add_replica_regions(ReplicaRegionType::builder().region("eu-west-1").build())
        .send()
        .await
        .unwrap();
    assert_eq!(out.replication_status().len(), 2);
    let (code, _) = code_of(
        env.client
            .replicate_secret_to_regions()
            .secret_id("s")
            .add_replica_regions(ReplicaRegionType::builder().region("us-west-2").build())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let out = env
        .client
        .remove_regions_from_replication()
        .secret_id("s")
        .remove_replica_regions("us-east-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.replication_status().len(), 1);
    // The removed replica is now a standalone secret that no longer follows.
    env.client
        .put_secret_value()
        .secret_id("s")
        .secret_string(value())
        .send()
        .await
        .unwrap();
    assert_eq!(
        east.get_secret_value()
            .secret_id("s")
            .send()
            .await
            .unwrap()
            .secret_string(),
        Some(v2.as_str())
    );
    east.put_secret_value()
        .secret_id("s")
        .secret_string(value())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn get_random_password_honours_its_options() {
    let env = start().await;
    let p = env
        .client
        .get_random_password()
        .send()
        .await
        .unwrap()
        .random_password()
        .unwrap()
        .to_owned();
    assert_eq!(p.len(), 32);
    assert!(
        p.chars().any(|c| c.is_ascii_lowercase())
            && p.chars().any(|c| c.is_ascii_uppercase())
            && p.chars().any(|c| c.is_ascii_digit())
    );
    let p = env
        .client
        .get_random_password()
        .password_length(64)
        .exclude_punctuation(true)
        .exclude_characters("abc")
        .send()
        .await
        .unwrap()
        .random_password()
        .unwrap()
        .to_owned();
    assert_eq!(p.len(), 64);
    assert!(
        p.chars()
            .all(|c| c.is_ascii_alphanumeric() && !"abc".contains(c)),
        "{}",
        p.len()
    );
    let (code, _) = code_of(
        env.client
            .get_random_password()
            .password_length(5000)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    let (code, _) = code_of(
        env.client
            .get_random_password()
            .password_length(2)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
}

#[tokio::test]
async fn batch_get_secret_value_by_ids_and_filters() {
    let env = start().await;
    let va = value();
    create(&env.client, "opssight/production/a", &va).await;
    create(&env.client, "opssight/production/b", &value()).await;
    let out = env
        .client
        .batch_get_secret_value()
        .secret_id_list("opssight/production/a")
        .secret_id_list("missing")
        .send()
        .await
        .unwrap();
    assert_eq!(out.secret_values().len(), 1);
    assert_eq!(out.secret_values()[0].secret_string(), Some(va.as_str()));
    assert_eq!(out.errors().len(), 1);
    assert_eq!(
        out.errors()[0].error_code(),
        Some("ResourceNotFoundException")
    );
    assert_eq!(out.errors()[0].secret_id(), Some("missing"));
    let out = env
        .client
        .batch_get_secret_value()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values("opssight/")
                .build(),
        )
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(out.secret_values().len(), 1);
    assert!(out.next_token().is_some());
    let (code, _) = code_of(
        env.client
            .batch_get_secret_value()
            .secret_id_list("a")
            .filters(
                Filter::builder()
                    .key(FilterNameStringType::Name)
                    .values("x")
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
}
