//! The same SDK calls against this emulator and against moto's server (a
//! Secrets Manager emulator nobody here wrote). Outcomes must agree, except
//! the deliberate differences listed below and in the crate README.
//!
//! Skips with a message when `moto_server` is not on PATH, unless
//! `REQUIRE_MOTO=1` (as `.ci/run` sets), when its absence fails the test.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_emulator::{AccessKey, AuthMode, AwsEmulator};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};

use crate::support::*;

/// Steps whose outcome differs from moto on purpose, and why.
const DELIBERATE: &[(&str, &str)] = &[
    (
        "rotate without a rotation function",
        "AWS needs a Lambda (here: a hook) to rotate; moto rotates anyway",
    ),
    (
        "token too short",
        "AWS answers a length constraint with ValidationException; moto with InvalidParameterException",
    ),
    (
        "batch get",
        "AWS reports a missing secret in Errors and returns the others; moto fails the whole call",
    ),
    (
        "describe rotation flag",
        "AWS answers RotationEnabled=false for a never-rotated secret; moto omits it",
    ),
];

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts moto_server on a free loopback port, or explains why not.
async fn start_moto() -> Result<(Moto, String), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!("cannot run moto_server ({e}); install it with pip install \"moto[server]\"")
        })?;
    let moto = Moto(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{endpoint}/moto-api/")).await.is_err() {
        if Instant::now() > deadline {
            return Err(format!(
                "moto_server did not answer on {endpoint} within 30s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((moto, endpoint))
}

type Outcome = Result<String, String>;

fn err_code<E: ProvideErrorMetadata>(e: E) -> String {
    e.code().unwrap_or("(no code)").to_owned()
}

/// The script: each step's outcome reduced to what both sides must agree on.
async fn script(c: &Client) -> Vec<(&'static str, Outcome)> {
    let mut out: Vec<(&'static str, Outcome)> = Vec::new();
    let (v1, v2) = (value(), value());
    let step = |r: Result<String, String>| r;
    out.push((
        "create",
        step(
            c.create_secret()
                .name("conf/app")
                .secret_string(&v1)
                .send()
                .await
                .map(|o| {
                    format!(
                        "name={:?} has_version={}",
                        o.name(),
                        o.version_id().is_some()
                    )
                })
                .map_err(err_code),
        ),
    ));
    out.push((
        "create again",
        step(
            c.create_secret()
                .name("conf/app")
                .secret_string(&v1)
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "get",
        step(
            c.get_secret_value()
                .secret_id("conf/app")
                .send()
                .await
                .map(|o| {
                    format!(
                        "same={} stages={:?}",
                        o.secret_string() == Some(v1.as_str()),
                        o.version_stages()
                    )
                })
                .map_err(err_code),
        ),
    ));
    let arn = c
        .describe_secret()
        .secret_id("conf/app")
        .send()
        .await
        .ok()
        .and_then(|d| d.arn().map(str::to_owned))
        .unwrap_or_default();
    out.push((
        "get by partial arn",
        step(
            c.get_secret_value()
                .secret_id(arn.get(..arn.len().saturating_sub(7)).unwrap_or_default())
                .send()
                .await
                .map(|o| format!("same={}", o.secret_string() == Some(v1.as_str())))
                .map_err(err_code),
        ),
    ));
    out.push((
        "arn suffix",
        Ok(format!(
            "suffix_len={}",
            arn.rsplit('-').next().map(str::len).unwrap_or(0)
        )),
    ));
    out.push((
        "put",
        step(
            c.put_secret_value()
                .secret_id("conf/app")
                .secret_string(&v2)
                .send()
                .await
                .map(|o| format!("stages={:?}", o.version_stages()))
                .map_err(err_code),
        ),
    ));
    out.push((
        "get previous",
        step(
            c.get_secret_value()
                .secret_id("conf/app")
                .version_stage("AWSPREVIOUS")
                .send()
                .await
                .map(|o| format!("same={}", o.secret_string() == Some(v1.as_str())))
                .map_err(err_code),
        ),
    ));
    out.push((
        "get missing stage",
        step(
            c.get_secret_value()
                .secret_id("conf/app")
                .version_stage("NOPE")
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "get missing",
        step(
            c.get_secret_value()
                .secret_id("conf/missing")
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "describe",
        step(
            c.describe_secret()
                .secret_id("conf/app")
                .send()
                .await
                .map(|d| {
                    let mut stages: Vec<Vec<String>> = d
                        .version_ids_to_stages()
                        .map(|m| m.values().cloned().collect())
                        .unwrap_or_default();
                    stages.sort();
                    format!("stages={stages:?} created={}", d.created_date().is_some())
                })
                .map_err(err_code),
        ),
    ));
    out.push((
        "describe rotation flag",
        step(
            c.describe_secret()
                .secret_id("conf/app")
                .send()
                .await
                .map(|d| format!("rotation_enabled={:?}", d.rotation_enabled()))
                .map_err(err_code),
        ),
    ));
    out.push((
        "versions",
        step(
            c.list_secret_version_ids()
                .secret_id("conf/app")
                .send()
                .await
                .map(|o| format!("count={}", o.versions().len()))
                .map_err(err_code),
        ),
    ));
    c.create_secret()
        .name("conf/other")
        .secret_string(value())
        .send()
        .await
        .ok();
    c.create_secret()
        .name("elsewhere")
        .secret_string(value())
        .send()
        .await
        .ok();
    out.push((
        "list by name",
        step(
            c.list_secrets()
                .filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .values("conf/")
                        .build(),
                )
                .send()
                .await
                .map(|o| {
                    let mut n: Vec<String> = o
                        .secret_list()
                        .iter()
                        .filter_map(|s| s.name().map(str::to_owned))
                        .collect();
                    n.sort();
                    format!("{n:?}")
                })
                .map_err(err_code),
        ),
    ));
    out.push((
        "tag",
        step(
            async {
                c.tag_resource()
                    .secret_id("conf/app")
                    .tags(Tag::builder().key("k").value("v").build())
                    .send()
                    .await
                    .map_err(err_code)?;
                let d = c
                    .describe_secret()
                    .secret_id("conf/app")
                    .send()
                    .await
                    .map_err(err_code)?;
                Ok(format!("tags={}", d.tags().len()))
            }
            .await,
        ),
    ));
    out.push((
        "untag",
        step(
            async {
                c.untag_resource()
                    .secret_id("conf/app")
                    .tag_keys("k")
                    .send()
                    .await
                    .map_err(err_code)?;
                let d = c
                    .describe_secret()
                    .secret_id("conf/app")
                    .send()
                    .await
                    .map_err(err_code)?;
                Ok(format!("tags={}", d.tags().len()))
            }
            .await,
        ),
    ));
    out.push((
        "token too short",
        step(
            c.put_secret_value()
                .secret_id("conf/app")
                .secret_string("x")
                .client_request_token("short")
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "rotate without a rotation function",
        step(
            c.rotate_secret()
                .secret_id("conf/app")
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "delete bad window",
        step(
            c.delete_secret()
                .secret_id("conf/app")
                .recovery_window_in_days(3)
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "delete",
        step(
            c.delete_secret()
                .secret_id("conf/other")
                .recovery_window_in_days(7)
                .send()
                .await
                .map(|o| format!("date={}", o.deletion_date().is_some()))
                .map_err(err_code),
        ),
    ));
    out.push((
        "get deleted",
        step(
            c.get_secret_value()
                .secret_id("conf/other")
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "restore",
        step(
            c.restore_secret()
                .secret_id("conf/other")
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "get restored",
        step(
            c.get_secret_value()
                .secret_id("conf/other")
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "force delete",
        step(
            c.delete_secret()
                .secret_id("conf/other")
                .force_delete_without_recovery(true)
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "get force deleted",
        step(
            c.get_secret_value()
                .secret_id("conf/other")
                .send()
                .await
                .map(|_| "ok".into())
                .map_err(err_code),
        ),
    ));
    out.push((
        "random password",
        step(
            c.get_random_password()
                .password_length(20)
                .exclude_punctuation(true)
                .send()
                .await
                .map(|o| {
                    let p = o.random_password().unwrap_or_default();
                    format!(
                        "len={} alnum={}",
                        p.len(),
                        p.chars().all(|ch| ch.is_ascii_alphanumeric())
                    )
                })
                .map_err(err_code),
        ),
    ));
    out.push((
        "batch get",
        step(
            c.batch_get_secret_value()
                .secret_id_list("conf/app")
                .secret_id_list("conf/none")
                .send()
                .await
                .map(|o| {
                    format!(
                        "values={} errors={:?}",
                        o.secret_values().len(),
                        o.errors()
                            .iter()
                            .map(|e| e.error_code().unwrap_or_default().to_owned())
                            .collect::<Vec<_>>()
                    )
                })
                .map_err(err_code),
        ),
    ));
    out
}

#[tokio::test]
async fn outcomes_agree_with_moto() {
    let (_moto, moto_endpoint) = match start_moto().await {
        Ok(m) => m,
        Err(why) if std::env::var("REQUIRE_MOTO").is_ok_and(|v| v == "1") => {
            panic!("REQUIRE_MOTO=1 but {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED conformance against moto: {why}");
            return;
        }
    };
    let emulator = AwsEmulator::builder()
        .auth(AuthMode::Enforce)
        .start()
        .await
        .unwrap();
    let key = user(&emulator, "conformance", ALLOW_ALL);
    let any = AccessKey {
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        session_token: None,
        expiration: None,
    };
    let ours = script(&client(&emulator.endpoint(), &key, REGION)).await;
    let theirs = script(&client(&moto_endpoint, &any, REGION)).await;
    let mut undeclared = Vec::new();
    let mut stale = Vec::new();
    for ((step, a), (_, b)) in ours.iter().zip(&theirs) {
        let deliberate = DELIBERATE.iter().any(|(s, _)| s == step);
        match (a == b, deliberate) {
            (false, false) => undeclared.push(format!("{step}: emulator {a:?}, moto {b:?}")),
            (true, true) => stale.push(format!(
                "{step}: now agrees ({a:?}); remove it from DELIBERATE and the README"
            )),
            _ => {}
        }
    }
    assert!(
        undeclared.is_empty(),
        "differences from moto not declared deliberate:\n{}",
        undeclared.join("\n")
    );
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}
