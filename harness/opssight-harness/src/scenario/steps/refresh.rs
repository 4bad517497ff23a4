//! Changing Secrets Manager, letting time pass, and what the cluster holds then.

use std::time::Duration;

use cucumber::{then, when};

use crate::fixtures::seed::generate;
use crate::scenario::step::{StepResult, ensure};
use crate::scenario::world::OpsWorld;
use crate::secret_data::{as_bytes, compare, data_of};

/// Gives every generated-looking value of a secret a new value, as a person
/// rotating it would.
async fn change(w: &mut OpsWorld, remote: &str, rotate: bool) -> StepResult {
    let current = w
        .expected
        .get(remote)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no secret {remote} in the seed"))?;
    // Fields the template fixes (user names, hosts) stay; secret ones change.
    let secret_keys = w
        .env()?
        .seed()
        .generated
        .get(remote)
        .cloned()
        .unwrap_or_default();
    let mut next = current.clone();
    for (_, v) in next.iter_mut().filter(|(k, _)| secret_keys.contains(k)) {
        *v = generate(v.len().max(16));
    }
    let sm = w.env()?.secrets_manager();
    let body = serde_json::to_string(&next)?;
    if rotate {
        // Idempotency tokens must be new on a live service too.
        let token = format!("rotation-{:0>32}", crate::env::apply::unique_stamp());
        sm.put_secret_value()
            .secret_id(remote)
            .secret_string(body)
            .client_request_token(token)
            .send()
            .await?;
    } else {
        sm.put_secret_value()
            .secret_id(remote)
            .secret_string(body)
            .send()
            .await?;
    }
    w.previous.insert(remote.to_owned(), current);
    w.expected.insert(remote.to_owned(), next);
    w.changed_on_purpose(remote)?;
    // Remember when each Secret was last refreshed, to see it move.
    for (es, _) in w.external_secrets()? {
        if let Some(t) = w
            .es_api()?
            .get(&es)
            .await?
            .data
            .pointer("/status/refreshTime")
            .and_then(|v| v.as_str())
        {
            w.refresh_times.insert(es, t.to_owned());
        }
    }
    Ok(())
}

#[when(expr = "the value of {string} changes in Secrets Manager")]
async fn value_changes(w: &mut OpsWorld, remote: String) -> StepResult {
    change(w, &remote, false).await
}

#[when(expr = "{string} is rotated in Secrets Manager")]
async fn rotated(w: &mut OpsWorld, remote: String) -> StepResult {
    change(w, &remote, true).await?;
    let sm = w.env()?.secrets_manager();
    let previous = sm
        .get_secret_value()
        .secret_id(&remote)
        .version_stage("AWSPREVIOUS")
        .send()
        .await?;
    let old = serde_json::to_string(
        w.previous
            .get(&remote)
            .ok_or_else(|| anyhow::anyhow!("no previous value"))?,
    )?;
    ensure(previous.secret_string() == Some(old.as_str()), || {
        format!("after rotating {remote}, AWSPREVIOUS is not the old value")
    })
}

#[when(expr = "{int} minutes pass")]
async fn minutes_pass(w: &mut OpsWorld, minutes: u64) -> StepResult {
    w.elapse(Duration::from_secs(minutes * 60)).await
}

/// The ExternalSecrets' own interval (the runbook's hour on the embedded
/// environment, the kind overlay's seconds on kind) and a second more.
#[when("the refresh interval elapses")]
async fn interval_elapses(w: &mut OpsWorld) -> StepResult {
    let mut longest = Duration::ZERO;
    for name in w.external_secrets()?.keys() {
        let es = w.es_api()?.get(name).await?;
        let text = es
            .data
            .pointer("/spec/refreshInterval")
            .and_then(|v| v.as_str())
            .unwrap_or("1h");
        let interval = crate::eso_model::parse_duration(text).ok_or_else(|| {
            anyhow::anyhow!("ExternalSecret {name}: refreshInterval {text:?} is not a duration")
        })?;
        longest = longest.max(interval);
    }
    w.elapse(longest + Duration::from_secs(1)).await
}

#[when("the retry backoff elapses")]
async fn backoff_elapses(w: &mut OpsWorld) -> StepResult {
    w.elapse(Duration::from_secs(7 * 60 + 1)).await
}

/// Proves the controller has dealt with everything due now: a marker
/// ExternalSecret created now is reconciled after anything due before it.
#[then("the controller has caught up")]
pub(crate) async fn caught_up(w: &mut OpsWorld) -> StepResult {
    if !w.env()?.controller_running() {
        // Nothing can change while the controller is stopped.
        return Ok(());
    }
    let n = w.next_number();
    let name = format!("harness-marker-{n}");
    let marker = serde_json::json!({
        "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": crate::system::NAMESPACE},
        "spec": {"refreshInterval": "1h", "secretStoreRef": {"name": crate::system::STORE, "kind": "SecretStore"},
                 "target": {"name": name}, "dataFrom": [{"extract": {"key": "opssight/production/redis"}}]}
    });
    crate::env::apply::apply(&w.env()?.kube(), &marker).await?;
    w.wait_es(
        &name,
        &format!("the marker ExternalSecret {name} to sync"),
        crate::eso_model::is_ready,
    )
    .await?;
    w.es_api()?.delete(&name, &Default::default()).await?;
    Ok(())
}

#[then(expr = "the Secret {string} still holds the previous values of {string}")]
async fn still_previous(w: &mut OpsWorld, name: String, remote: String) -> StepResult {
    caught_up(w).await?;
    let previous = w
        .previous
        .get(&remote)
        .ok_or_else(|| anyhow::anyhow!("{remote} was not changed in this scenario"))?;
    let s = w.secrets()?.get(&name).await?;
    compare(&data_of(&s), &as_bytes(previous))
        .map_err(|d| anyhow::anyhow!("the Secret {name} changed before it should have: {d}"))?;
    w.mark(
        crate::scenario::phases::Phase::Detected,
        &format!("the Secret {name} holds out-of-date values"),
    );
    Ok(())
}

#[then(expr = "the last refresh time of {string} has moved")]
async fn refresh_moved(w: &mut OpsWorld, name: String) -> StepResult {
    let before = w
        .refresh_times
        .get(&name)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no refresh time was recorded for {name}"))?;
    let b = before.clone();
    w.wait_es(
        &name,
        &format!("the refresh time of {name} to move past {before}"),
        move |es| {
            es.data
                .pointer("/status/refreshTime")
                .and_then(|v| v.as_str())
                .is_some_and(|t| t > b.as_str())
        },
    )
    .await?;
    Ok(())
}
