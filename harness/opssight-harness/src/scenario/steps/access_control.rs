//! What the controller's principal may and may not do, and the audit trail.

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use cucumber::{given, then};

use crate::scenario::step::{StepResult, ensure};
use crate::scenario::world::OpsWorld;
use crate::system::ESO_USER;

fn principal(w: &OpsWorld) -> anyhow::Result<aws_sdk_secretsmanager::Client> {
    Ok(w.iam()?.as_controller())
}

#[given(expr = "a secret {string} exists in Secrets Manager")]
async fn exists(w: &mut OpsWorld, name: String) -> StepResult {
    let value = serde_json::json!({ "token": crate::fixtures::seed::generate(32) }).to_string();
    w.env()?
        .secrets_manager()
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await?;
    Ok(())
}

#[then(expr = "the controller's principal can read {string}")]
async fn can_read(w: &mut OpsWorld, name: String) -> StepResult {
    principal(w)?
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("reading {name}: {:?}", e.code()))?;
    Ok(())
}

#[then(expr = "the controller's principal can describe {string}")]
async fn can_describe(w: &mut OpsWorld, name: String) -> StepResult {
    principal(w)?
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("describing {name}: {:?}", e.code()))?;
    Ok(())
}

fn denied<T, E: ProvideErrorMetadata>(r: Result<T, E>, what: &str) -> StepResult {
    match r {
        Ok(_) => crate::scenario::step::bail!("{what} was allowed"),
        Err(e) => ensure(e.code() == Some("AccessDeniedException"), || {
            format!("{what}: expected AccessDeniedException, got {:?}", e.code())
        }),
    }
}

#[then(expr = "the controller's principal is denied reading {string}")]
async fn denied_read(w: &mut OpsWorld, name: String) -> StepResult {
    denied(
        principal(w)?
            .get_secret_value()
            .secret_id(&name)
            .send()
            .await,
        &format!("reading {name}"),
    )
}

#[then(expr = "the controller's principal is denied writing {string}")]
async fn denied_write(w: &mut OpsWorld, name: String) -> StepResult {
    let value = serde_json::json!({ "x": crate::fixtures::seed::generate(16) }).to_string();
    denied(
        principal(w)?
            .put_secret_value()
            .secret_id(&name)
            .secret_string(value)
            .send()
            .await,
        &format!("writing {name}"),
    )
}

#[then("the controller's principal is denied listing secrets")]
async fn denied_list(w: &mut OpsWorld) -> StepResult {
    denied(principal(w)?.list_secrets().send().await, "listing secrets")
}

#[then(
    "the audit trail holds a GetSecretValue by the controller's principal for each OpsSight secret"
)]
async fn audited(w: &mut OpsWorld) -> StepResult {
    let audit = w.audit()?;
    let events = audit.events();
    let arn = format!("arn:aws:iam::{}:user/{ESO_USER}", audit.account_id());
    for remote in w.external_secrets()?.values() {
        let found = events.iter().any(|e| {
            e.event_name == "GetSecretValue"
                && e.principal_arn.as_deref() == Some(arn.as_str())
                && e.error_code.is_none()
                && e.resources
                    .iter()
                    .any(|r| r.contains(&format!(":secret:{remote}-")))
        });
        ensure(found, || {
            format!("no successful GetSecretValue of {remote} by {arn} in the audit trail")
        })?;
    }
    Ok(())
}

#[then("the audit trail holds no secret value")]
async fn audit_clean(w: &mut OpsWorld) -> StepResult {
    let text = serde_json::to_string(&w.audit()?.events())?;
    for v in w.env()?.seed().all_values() {
        ensure(!text.contains(&v), || {
            format!(
                "the audit trail holds a seeded value {}",
                crate::secret_data::describe(v.as_bytes())
            )
        })?;
    }
    Ok(())
}
