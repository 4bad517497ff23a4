//! Breaking and fixing the controller's credentials.

use cucumber::{then, when};
use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::scenario::step::{StepResult, ensure};
use crate::scenario::world::{ForcedRefresh, OpsWorld};
use crate::secret_data::{as_bytes, compare, data_of};
use crate::system::{NAMESPACE, STORE};
use crate::wait::conditions::{self, exists_and};

#[when(expr = "the Secret {string} is deleted")]
async fn delete_secret(w: &mut OpsWorld, name: String) -> StepResult {
    w.mark(
        crate::scenario::phases::Phase::DisasterInjected,
        &format!("the Secret {name} deleted"),
    );
    w.secrets()?.delete(&name, &Default::default()).await?;
    Ok(())
}

#[when(expr = "the key {string} is removed from {string}")]
async fn remove_key(w: &mut OpsWorld, key: String, name: String) -> StepResult {
    w.secrets()?
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {key: null}})),
        )
        .await?;
    Ok(())
}

#[when(expr = "{string} is restored with valid credentials")]
async fn restore(w: &mut OpsWorld, name: String) -> StepResult {
    w.mark(
        crate::scenario::phases::Phase::RecoveryAction,
        &format!("{name} restored with valid credentials"),
    );
    Ok(w.env()?.restore_credentials().await?)
}

#[when(expr = "{string} holds a wrong secret access key")]
async fn wrong_key(w: &mut OpsWorld, _name: String) -> StepResult {
    let mut key = w.iam()?.controller_key();
    key.secret_access_key = crate::fixtures::seed::generate(40);
    Ok(w.env()?.put_credentials(&key).await?)
}

#[when("the SecretStore is validated again")]
async fn revalidate(w: &mut OpsWorld) -> StepResult {
    Ok(crate::env::apply::revalidate_store(&w.env()?.kube(), STORE).await?)
}

#[then(expr = "the SecretStore becomes not ready with reason {string} and message {string}")]
async fn store_not_ready(w: &mut OpsWorld, reason: String, message: String) -> StepResult {
    let api = kube::api::Api::<kube::api::DynamicObject>::namespaced_with(
        w.env()?.kube(),
        NAMESPACE,
        &crate::eso_model::stores(crate::eso_model::StoreKind::SecretStore),
    );
    crate::wait::within(
        w.patience(),
        &format!(
            "the SecretStore {STORE} to be not ready with reason {reason} and message {message:?}"
        ),
        kube::runtime::wait::await_condition(
            api,
            STORE,
            exists_and(conditions::store_not_ready(&reason, &message)),
        ),
    )
    .await??;
    Ok(())
}

async fn events(w: &OpsWorld, about: &str) -> anyhow::Result<Vec<(String, String, String)>> {
    let api: kube::api::Api<k8s_openapi::api::core::v1::Event> =
        kube::api::Api::namespaced(w.env()?.kube(), NAMESPACE);
    let list = api
        .list(&kube::api::ListParams::default().fields(&format!("involvedObject.name={about}")))
        .await?;
    Ok(list
        .items
        .into_iter()
        .map(|e| {
            (
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.message.unwrap_or_default(),
            )
        })
        .collect())
}

async fn wait_event(
    w: &OpsWorld,
    about: &str,
    reason: &str,
    matches: impl Fn(&str) -> bool,
) -> StepResult {
    let deadline = tokio::time::Instant::now() + w.patience();
    loop {
        let found = events(w, about).await?;
        if found
            .iter()
            .any(|(t, r, m)| t == "Warning" && r == reason && matches(m))
        {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            let seen: Vec<String> = found
                .iter()
                .map(|(t, r, m)| format!("{t} {r}: {m}"))
                .collect();
            crate::scenario::step::bail!(
                "no matching Warning {reason} event about {about} within {:?}; events: {seen:?}",
                w.patience()
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[then(expr = "a Warning event {string} about the SecretStore says {string}")]
async fn store_event(w: &mut OpsWorld, reason: String, message: String) -> StepResult {
    let message = unescape(&message);
    wait_event(w, STORE, &reason, |m| m == message).await
}

#[then(expr = "a Warning event {string} about {string} says {string}")]
async fn es_event_says(
    w: &mut OpsWorld,
    reason: String,
    about: String,
    message: String,
) -> StepResult {
    let message = unescape(&message);
    wait_event(w, &about, &reason, |m| m == message).await
}

#[then(expr = "a Warning event {string} about {string} mentions {string}")]
async fn es_event_mentions(
    w: &mut OpsWorld,
    reason: String,
    about: String,
    part: String,
) -> StepResult {
    let part = unescape(&part);
    wait_event(w, &about, &reason, |m| m.contains(&part)).await
}

#[when(expr = "a refresh of {string} is forced")]
async fn force(w: &mut OpsWorld, name: String) -> StepResult {
    w.mark(
        crate::scenario::phases::Phase::RecoveryAction,
        &format!("refresh of {name} forced"),
    );
    force_one(w, &name).await
}

/// Forces a refresh and notes how a later step tells it is done.
async fn force_one(w: &mut OpsWorld, name: &str) -> StepResult {
    let es = w.es_api()?.get(name).await?;
    let synced_before = es
        .data
        .pointer("/status/syncedResourceVersion")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let stamp = crate::env::apply::force_sync(&w.env()?.kube(), name).await?;
    let forced = ForcedRefresh {
        stamp,
        synced_before,
        copied_to: crate::eso_model::annotations_copied_to(&es),
    };
    w.forced.insert(name.to_owned(), forced);
    Ok(())
}

#[when("a refresh of every ExternalSecret is forced")]
async fn force_all(w: &mut OpsWorld) -> StepResult {
    w.mark(
        crate::scenario::phases::Phase::RecoveryAction,
        "refresh of every ExternalSecret forced",
    );
    let names: Vec<String> = w.external_secrets()?.into_keys().collect();
    for name in names {
        force_one(w, &name).await?;
    }
    Ok(())
}

#[then("every Secret still holds the values it was synced with")]
async fn still_synced(w: &mut OpsWorld) -> StepResult {
    let seed = w.env()?.seed().secrets.clone();
    for (es, remote) in w.external_secrets()? {
        let expected = w
            .previous
            .get(&remote)
            .or_else(|| seed.get(&remote))
            .cloned()
            .unwrap_or_default();
        let s = w.secrets()?.get(&es).await?;
        compare(&data_of(&s), &as_bytes(&expected))
            .map_err(|d| anyhow::anyhow!("the Secret {es} lost its data: {d}"))?;
    }
    Ok(())
}

#[when(expr = "the controller's IAM policy no longer allows {string}")]
async fn deny(w: &mut OpsWorld, action: String) -> StepResult {
    let doc = aws_emulator::PolicyDocument::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"{action}","Resource":"*"}}]}}"#
    ))?;
    w.iam()?.put_controller_policy("harness-deny", doc)?;
    Ok(())
}

#[when("the controller's IAM policy is the runbook's again")]
async fn undeny(w: &mut OpsWorld) -> StepResult {
    let iam = w.iam()?;
    iam.delete_controller_policy("harness-deny")?;
    let policies = iam.controller_policies();
    ensure(!policies.iter().any(|p| p == "harness-deny"), || {
        format!("the controller's user still has the policy harness-deny: {policies:?}")
    })
}

/// Gherkin strings write a quote as \"; events hold the quote itself.
fn unescape(s: &str) -> String {
    s.replace("\\\"", "\"")
}
