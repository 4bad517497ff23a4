//! Probes of ESO's behaviour beyond the runbook, for the differential
//! (`harness/opssight-harness/tests/probes/`): remote secrets and
//! ExternalSecrets written out in the scenario, then left to settle and
//! observed, so that what the emulator and the real ESO do with them can be
//! compared. These steps assert little on purpose: the differential is
//! their judge.

use std::time::Duration;

use cucumber::{gherkin::Step, given, then, when};
use kube::api::{Api, DynamicObject};

use crate::scenario::step::StepResult;
use crate::scenario::world::OpsWorld;
use crate::system::NAMESPACE;

fn docstring(step: &Step) -> anyhow::Result<&str> {
    step.docstring
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("this step needs a docstring"))
}

#[given(expr = "the remote secret {string} holds:")]
#[when(expr = "the remote secret {string} holds:")]
async fn remote_holds(w: &mut OpsWorld, name: String, step: &Step) -> StepResult {
    let body = docstring(step)?.trim().to_owned();
    serde_json::from_str::<serde_json::Value>(&body)
        .map_err(|e| anyhow::anyhow!("the docstring of {name} is not JSON: {e}"))?;
    let sm = w.env()?.secrets_manager();
    let put = sm
        .put_secret_value()
        .secret_id(&name)
        .secret_string(&body)
        .send()
        .await;
    if put.is_err() {
        sm.create_secret()
            .name(&name)
            .secret_string(&body)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("creating {name}: {e:?}"))?;
    }
    Ok(())
}

#[when(expr = "the remote secret {string} is deleted with a recovery window")]
async fn remote_soft_deleted(w: &mut OpsWorld, name: String) -> StepResult {
    w.env()?
        .secrets_manager()
        .delete_secret()
        .secret_id(&name)
        .recovery_window_in_days(7)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("deleting {name}: {e:?}"))?;
    Ok(())
}

#[when(expr = "the remote secret {string} is deleted without recovery")]
async fn remote_deleted(w: &mut OpsWorld, name: String) -> StepResult {
    w.env()?
        .secrets_manager()
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("deleting {name}: {e:?}"))?;
    Ok(())
}

#[given("this ExternalSecret is applied:")]
#[when("this ExternalSecret is applied:")]
async fn apply_es(w: &mut OpsWorld, step: &Step) -> StepResult {
    let mut obj: serde_json::Value = serde_saphyr::from_str(docstring(step)?)
        .map_err(|e| anyhow::anyhow!("the docstring is not YAML: {e}"))?;
    obj["metadata"]["namespace"] = serde_json::json!(NAMESPACE);
    Ok(crate::env::apply::apply(&w.env()?.kube(), &obj).await?)
}

/// Kinds without a namespace, of those a probe applies.
const CLUSTER_SCOPED: &[&str] = &["ClusterSecretStore", "Namespace"];

/// Any object (a store, a ServiceAccount), in the OpsSight namespace
/// unless it is cluster-scoped or names its own.
#[given("this manifest is applied:")]
#[when("this manifest is applied:")]
async fn apply_manifest(w: &mut OpsWorld, step: &Step) -> StepResult {
    let mut obj: serde_json::Value = serde_saphyr::from_str(docstring(step)?)
        .map_err(|e| anyhow::anyhow!("the docstring is not YAML: {e}"))?;
    let kind = obj["kind"].as_str().unwrap_or_default();
    if !CLUSTER_SCOPED.contains(&kind) && obj.pointer("/metadata/namespace").is_none() {
        obj["metadata"]["namespace"] = serde_json::json!(NAMESPACE);
    }
    Ok(crate::env::apply::apply(&w.env()?.kube(), &obj).await?)
}

/// Reads `look` every 200 ms until what it reads has not changed for 3 s
/// and `done` holds of it: a live controller has acted and gone quiet.
/// Fails after the environment's patience, naming `what` it waited for.
async fn until_quiet<T, F, Fut>(
    w: &OpsWorld,
    what: &str,
    mut look: F,
    done: impl Fn(&T) -> bool,
) -> anyhow::Result<()>
where
    T: PartialEq,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let quiet = Duration::from_secs(3);
    let deadline = tokio::time::Instant::now() + w.patience();
    let mut last = look().await?;
    let mut since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = look().await?;
        if now != last {
            last = now;
            since = tokio::time::Instant::now();
        } else if done(&now) && since.elapsed() >= quiet {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("timed out after {:?} waiting for {what}", w.patience());
        }
    }
}

/// What settling watches of a store: its status.
async fn store_status(
    api: &Api<DynamicObject>,
    name: &str,
) -> anyhow::Result<Option<serde_json::Value>> {
    Ok(api
        .get_opt(name)
        .await?
        .and_then(|o| o.data.get("status").cloned()))
}

/// Waits until ESO has validated the store (it carries a Ready condition)
/// and its status has not changed for 3 s, at most the environment's
/// patience; then observes. For a Secret, see [`secret_settles`].
#[given(expr = "the {word} {string} settles")]
#[then(expr = "the {word} {string} settles")]
async fn object_settles(w: &mut OpsWorld, kind: String, name: String) -> StepResult {
    let kind_of = match kind.as_str() {
        "SecretStore" => crate::eso_model::StoreKind::SecretStore,
        "ClusterSecretStore" => crate::eso_model::StoreKind::ClusterSecretStore,
        "Secret" => return secret_settles(w, name).await,
        other => crate::scenario::step::bail!("{other} is neither a store kind nor Secret"),
    };
    let ar = crate::eso_model::stores(kind_of);
    let api: Api<DynamicObject> = match kind_of {
        crate::eso_model::StoreKind::SecretStore => {
            Api::namespaced_with(w.env()?.kube(), NAMESPACE, &ar)
        }
        crate::eso_model::StoreKind::ClusterSecretStore => Api::all_with(w.env()?.kube(), &ar),
    };
    until_quiet(
        w,
        &format!("the {kind} {name} to settle"),
        || store_status(&api, &name),
        |status| {
            status
                .as_ref()
                .and_then(|s| s.get("conditions"))
                .and_then(|c| c.as_array())
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready"))
        },
    )
    .await?;
    w.checkpoint(&format!("the {kind} {name} to settle"), None)
        .await;
    Ok(())
}

#[when(expr = "the ExternalSecret {string} is deleted")]
async fn delete_es(w: &mut OpsWorld, name: String) -> StepResult {
    w.es_api()?.delete(&name, &Default::default()).await?;
    Ok(())
}

/// What settling watches: the ExternalSecret's status and its target.
async fn status_of(w: &OpsWorld, name: &str, target: &str) -> anyhow::Result<String> {
    let es = w.es_api()?.get_opt(name).await?;
    let secret = w.secrets()?.get_opt(target).await?;
    Ok(format!(
        "{:?} {:?}",
        es.and_then(|e| e.data.get("status").cloned()),
        secret.map(|s| (s.metadata.resource_version, s.metadata.deletion_timestamp))
    ))
}

/// Forces a refresh, then waits until ESO has acted on it (the
/// ExternalSecret carries a Ready condition, or is gone) and nothing of it
/// or its target has changed for 3 s, at most the environment's patience.
#[given(expr = "the ExternalSecret {string} settles with its target {string}")]
#[then(expr = "the ExternalSecret {string} settles with its target {string}")]
async fn settles(w: &mut OpsWorld, name: String, target: String) -> StepResult {
    let api: Api<DynamicObject> = w.es_api()?;
    let live = api
        .get_opt(&name)
        .await?
        .is_some_and(|o| o.metadata.deletion_timestamp.is_none());
    if live
        && let Err(e) = crate::env::apply::refresh_now(&w.env()?.kube(), &name).await
        // Gone between the look and the patch: nothing to refresh.
        && api.get_opt(&name).await?.is_some()
    {
        return Err(e.into());
    }
    until_quiet(
        w,
        &format!("the ExternalSecret {name} and the Secret {target} to settle"),
        || async {
            let acted = match api.get_opt(&name).await? {
                None => true,
                Some(o) => crate::eso_model::ready(&o).is_some(),
            };
            Ok((status_of(w, &name, &target).await?, acted))
        },
        |(_, acted)| *acted,
    )
    .await?;
    w.checkpoint(&format!("the ExternalSecret {name} to settle"), None)
        .await;
    Ok(())
}

/// Takes a label off a Secret by hand (a merge patch, as `kubectl label
/// secret NAME KEY-` sends).
#[when(expr = "the label {string} is taken off the Secret {string}")]
async fn label_taken_off(w: &mut OpsWorld, key: String, name: String) -> StepResult {
    w.secrets()?
        .patch(
            &name,
            &Default::default(),
            &kube::api::Patch::Merge(
                serde_json::json!({ "metadata": { "labels": { key: null } } }),
            ),
        )
        .await?;
    Ok(())
}

/// Waits, without forcing a refresh, until the Secret has not changed for
/// 3 s (whatever ESO does about the last change, it has done), at most the
/// environment's patience; then observes.
async fn secret_settles(w: &mut OpsWorld, name: String) -> StepResult {
    let secrets = w.secrets()?;
    until_quiet(
        w,
        &format!("the Secret {name} to settle"),
        || async {
            Ok(secrets
                .get_opt(&name)
                .await?
                .map(|s| s.metadata.resource_version))
        },
        |_| true,
    )
    .await?;
    w.checkpoint(&format!("the Secret {name} to settle"), None)
        .await;
    Ok(())
}
