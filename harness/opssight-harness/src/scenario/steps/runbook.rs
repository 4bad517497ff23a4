//! The runbook's own lines run as it prints them (features/runbook.feature):
//! the files it names, the clock its `$(date +%s)` reads, and what the
//! audit trail says of how the controller authenticated.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cucumber::{given, then, when};

use crate::scenario::step::{StepResult, ensure};
use crate::scenario::world::OpsWorld;

#[given(expr = "the runbook's {string} in a working directory")]
async fn runbook_file(w: &mut OpsWorld, name: String) -> StepResult {
    let source = match name.as_str() {
        "external-secrets.yaml" => w.fixtures()?.runbook_single_file(),
        other => {
            return Err(
                anyhow::anyhow!("the runbook names no file {other:?} the fixtures hold").into(),
            );
        }
    };
    let dir = crate::files::private_tempdir()?;
    std::fs::copy(&source, dir.path().join(&name))
        .map_err(|e| anyhow::anyhow!("copying {}: {e}", source.display()))?;
    w.command_dir = Some(dir);
    Ok(())
}

fn wall_second(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `$(date +%s)` gives a new value only once the second has turned: an
/// operator running the line again does so later than that. The commands
/// read the environment's clock (`env::command_clock`): a virtual one is
/// moved to its next second; the wall clock is waited for. The second to
/// leave is the one the last command ended in (its `date` ran no later),
/// not the one this step starts in: the second may turn between the two,
/// and waiting for the next one after that would cost a second for nothing.
#[when("the clock turns to its next second")]
async fn next_second(w: &mut OpsWorld) -> StepResult {
    if crate::env::command_clock::to_next_second(&w.env()?.clock())?.is_some() {
        return Ok(());
    }
    let start = wall_second(
        w.last_command
            .as_ref()
            .map_or_else(SystemTime::now, |c| c.finished),
    );
    let turned = tokio::time::timeout(Duration::from_secs(3), async {
        while wall_second(SystemTime::now()) == start {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    ensure(turned.is_ok(), || {
        "the wall clock did not turn to its next second within 3 s".into()
    })
}

#[then(
    expr = "the SecretStore {string} authenticates both with {string} and with the ServiceAccount's token"
)]
async fn both_auths(w: &mut OpsWorld, store: String, secret: String) -> StepResult {
    let api = kube::Api::<kube::api::DynamicObject>::namespaced_with(
        w.env()?.kube(),
        crate::system::NAMESPACE,
        &crate::eso_model::stores(crate::eso_model::StoreKind::SecretStore),
    );
    let s = api.get(&store).await?;
    let auth = s
        .data
        .pointer("/spec/provider/aws/auth")
        .cloned()
        .unwrap_or_default();
    let by_secret = auth
        .pointer("/secretRef/accessKeyIDSecretRef/name")
        .and_then(|v| v.as_str())
        == Some(secret.as_str());
    let by_token = auth.pointer("/jwt/serviceAccountRef/name").is_some();
    ensure(by_secret && by_token, || {
        format!(
            "the SecretStore {store}'s auth has secretRef to {secret}: {by_secret}, jwt: {by_token}"
        )
    })
}

/// Where the harness can say whom AWS trusts tokens from: an environment
/// of its own has its providers removed; on one that outlives the scenario
/// the harness changes nothing and only checks that there are none.
#[given("AWS does not trust the cluster's ServiceAccount tokens")]
async fn tokens_not_trusted(w: &mut OpsWorld) -> StepResult {
    let live = w.env()?.live();
    let iam = w.iam()?;
    if live {
        let issuers = iam.trusted_issuers();
        ensure(issuers.is_empty(), || {
            format!(
                "AWS trusts tokens from {issuers:?}; the harness does not remove identity providers from a system it shares"
            )
        })
    } else {
        iam.distrust_issuers();
        Ok(())
    }
}

#[when("the audit trail is marked")]
async fn mark_audit(w: &mut OpsWorld) -> StepResult {
    w.audit_mark = Some(w.env()?.clock().now());
    Ok(())
}

/// The successful calls since the mark, by name and caller.
fn since_mark(w: &OpsWorld) -> anyhow::Result<Vec<aws_emulator::AuditEvent>> {
    let mark = w
        .audit_mark
        .ok_or_else(|| anyhow::anyhow!("the audit trail was not marked in this scenario"))?;
    Ok(w.audit()?
        .events()
        .into_iter()
        .filter(|e| e.event_time >= mark && e.error_code.is_none())
        .collect())
}

/// The OpsSight secrets not read since the mark.
fn unread_since_mark(w: &OpsWorld) -> anyhow::Result<Vec<String>> {
    let reads: Vec<_> = since_mark(w)?
        .into_iter()
        .filter(|e| e.event_name == "GetSecretValue")
        .collect();
    Ok(w.external_secrets()?
        .values()
        .filter(|remote| {
            !reads.iter().any(|e| {
                e.resources
                    .iter()
                    .any(|r| r.contains(&format!(":secret:{remote}-")))
            })
        })
        .cloned()
        .collect())
}

/// Every OpsSight secret read since the mark, and every read by `caller`.
/// A refresh the controller has taken in but not yet made (one waiting
/// out a backoff after a conflict, say) is waited for.
async fn reads_only_by(w: &OpsWorld, caller: &dyn Fn(&str) -> bool, who: &str) -> StepResult {
    let deadline = tokio::time::Instant::now() + w.patience();
    loop {
        let unread = unread_since_mark(w)?;
        if unread.is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(anyhow::anyhow!(
                "timed out after {:?} waiting for Secrets Manager to be read since the mark: {} not read",
                w.patience(),
                unread.join(", ")
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let others: Vec<String> = since_mark(w)?
        .iter()
        .filter(|e| e.event_name == "GetSecretValue")
        .filter_map(|e| e.principal_arn.clone())
        .filter(|p| !caller(p))
        .collect();
    ensure(others.is_empty(), || {
        format!("reads since the mark were made by others than {who}: {others:?}")
    })
}

/// Whether the controller exchanged a ServiceAccount token at STS since the mark.
fn token_used_since_mark(w: &OpsWorld) -> anyhow::Result<bool> {
    Ok(since_mark(w)?
        .iter()
        .any(|e| e.event_name == "AssumeRoleWithWebIdentity"))
}

#[then(
    expr = "since the mark Secrets Manager was read only as the role {string}, assumed with the ServiceAccount's token"
)]
async fn read_as_role(w: &mut OpsWorld, role: String) -> StepResult {
    let account = w.audit()?.account_id();
    let prefix = format!("arn:aws:sts::{account}:assumed-role/{role}/");
    reads_only_by(w, &|p| p.starts_with(&prefix), &format!("{prefix}*")).await?;
    ensure(token_used_since_mark(w)?, || {
        "no AssumeRoleWithWebIdentity since the mark: the token was not used".into()
    })
}
