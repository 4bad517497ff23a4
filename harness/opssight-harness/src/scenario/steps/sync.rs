//! The system running, ExternalSecrets Ready, Secrets holding their values.

use cucumber::{given, then};

use crate::eso_model;
use crate::scenario::step::{StepResult, ensure};
use crate::scenario::world::{ForcedRefresh, OpsWorld};
use crate::secret_data::{as_bytes, compare, data_of};

#[given("the OpsSight secrets system is running")]
async fn running(w: &mut OpsWorld) -> StepResult {
    w.start().await
}

/// Waits until the ExternalSecret's Ready condition has this status and
/// reason, then checks its message is one ESO gives that reason (its
/// controller's strings, `eso_model::ready_messages`).
///
/// After a refresh a step forced, Ready=True means that refresh done: an
/// ExternalSecret Ready before it is Ready at once, so the wait is also
/// for a sync since (`status.syncedResourceVersion` moved) and, where ESO
/// copies the ExternalSecret's annotations onto its Secret, for the
/// Secret to carry the forced value (the forced sync itself, not one that
/// was under way when the annotation came). A failure ends the forced
/// refresh too: Ready=False is waited for as it is.
async fn ready(w: &mut OpsWorld, name: &str, status: &str, reason: &str) -> StepResult {
    use crate::wait::conditions::{annotated, ready_with, synced_since};
    let what = format!("ExternalSecret {name} to be Ready={status} with reason {reason}");
    let forced = w.forced.remove(name).filter(|_| status == "True");
    let es = match &forced {
        None => w.wait_es(name, &what, ready_with(status, reason)).await?,
        Some(f) => {
            let (ready, since) = (
                ready_with(status, reason),
                synced_since(f.synced_before.clone()),
            );
            w.wait_es(
                name,
                &format!("{what}, synced since its refresh was forced"),
                move |o| ready(o) && since(o),
            )
            .await?
        }
    };
    if let Some(ForcedRefresh {
        stamp,
        copied_to: Some(target),
        ..
    }) = forced
    {
        w.wait_secret(
            &target,
            &format!("the Secret {target} to be written by the forced refresh of {name}"),
            annotated("force-sync", &stamp),
        )
        .await?;
    }
    let message = eso_model::ready(&es).unwrap_or_default().message;
    let Some(messages) = eso_model::ready_messages(status, reason) else {
        crate::scenario::step::bail!(
            "ExternalSecret {name}: ESO writes no Ready={status} condition with reason {reason}, so its message cannot be checked"
        );
    };
    ensure(messages.contains(&message.as_str()), || {
        format!(
            "ExternalSecret {name}: Ready message is {message:?}, ESO says {} for Ready={status} {reason}",
            messages
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    })
}

#[then(expr = "the ExternalSecret {string} becomes Ready with reason {string}")]
#[given(expr = "the ExternalSecret {string} becomes Ready with reason {string}")]
async fn es_ready(w: &mut OpsWorld, name: String, reason: String) -> StepResult {
    ready(w, &name, "True", &reason).await
}

#[then(expr = "the ExternalSecret {string} becomes not Ready with reason {string}")]
async fn es_not_ready(w: &mut OpsWorld, name: String, reason: String) -> StepResult {
    ready(w, &name, "False", &reason).await?;
    w.mark(
        crate::scenario::phases::Phase::Detected,
        &format!("ExternalSecret {name} not Ready ({reason})"),
    );
    Ok(())
}

#[given(expr = "every ExternalSecret becomes Ready with reason {string}")]
#[then(expr = "every ExternalSecret becomes Ready with reason {string}")]
async fn all_ready(w: &mut OpsWorld, reason: String) -> StepResult {
    let names: Vec<String> = w.external_secrets()?.into_keys().collect();
    for name in names {
        ready(w, &name, "True", &reason).await?;
    }
    // The first time everything is synced, the system is up: what it
    // emitted and showed coming up is not the scenario's doing (the
    // differential's baseline; its checkpoints start here).
    w.system_up().await;
    Ok(())
}

#[then(expr = "the Secret {string} holds exactly the keys and values of {string}")]
async fn holds(w: &mut OpsWorld, name: String, remote: String) -> StepResult {
    let expected = as_bytes(
        w.expected
            .get(&remote)
            .ok_or_else(|| anyhow::anyhow!("no secret {remote} in the seed"))?,
    );
    let want = expected.clone();
    let result = w
        .wait_secret(
            &name,
            &format!("the Secret {name} to hold the values of {remote}"),
            move |s| compare(&data_of(s), &want).is_ok(),
        )
        .await;
    if result.is_err()
        && let Some(s) = w.secrets()?.get_opt(&name).await?
        && let Err(diff) = compare(&data_of(&s), &expected)
    {
        crate::scenario::step::bail!(
            "the Secret {name} does not hold the values of {remote}: {diff}"
        );
    }
    Ok(result.map(|_| ())?)
}

#[then(expr = "the Secret {string} is managed by External Secrets and owned by its ExternalSecret")]
async fn managed(w: &mut OpsWorld, name: String) -> StepResult {
    let s = w.secrets()?.get(&name).await?;
    let label = s
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("reconcile.external-secrets.io/managed"))
        .cloned();
    ensure(label.as_deref() == Some("true"), || {
        format!("the Secret {name} lacks the label reconcile.external-secrets.io/managed=true")
    })?;
    let hash = s
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("reconcile.external-secrets.io/data-hash"));
    ensure(hash.is_some(), || {
        format!("the Secret {name} lacks the annotation reconcile.external-secrets.io/data-hash")
    })?;
    let es = w.es_api()?.get(&name).await?;
    let owner = s
        .metadata
        .owner_references
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.controller == Some(true));
    ensure(
        owner.as_ref().is_some_and(|o| {
            o.kind == "ExternalSecret" && o.name == name && Some(&o.uid) == es.metadata.uid.as_ref()
        }),
        || format!("the Secret {name} is not controlled by the ExternalSecret {name}: {owner:?}"),
    )
}

#[then(expr = "every ExternalSecret has a refresh interval of {string}")]
async fn every_interval(w: &mut OpsWorld, interval: String) -> StepResult {
    for name in w.external_secrets()?.keys() {
        let es = w.es_api()?.get(name).await?;
        let got = es
            .data
            .pointer("/spec/refreshInterval")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        // The same duration however it is written: a Go client that
        // writes the object back (ESO's own updates) prints "1h" as
        // "1h0m0s" (seen on the real ESO under `--env existing`).
        let (want, have) = (
            crate::eso_model::parse_duration(&interval),
            crate::eso_model::parse_duration(&got),
        );
        ensure(want.is_some() && want == have, || {
            format!("ExternalSecret {name} refreshes every {got:?}, not {interval:?}")
        })?;
    }
    Ok(())
}

#[then("every ExternalSecret reports the time of its last refresh")]
async fn refresh_time(w: &mut OpsWorld) -> StepResult {
    for name in w.external_secrets()?.keys() {
        let es = w.es_api()?.get(name).await?;
        let t = es
            .data
            .pointer("/status/refreshTime")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        ensure(t.parse::<jiff::Timestamp>().is_ok(), || {
            format!("ExternalSecret {name} has no valid status.refreshTime ({t:?})")
        })?;
    }
    Ok(())
}
