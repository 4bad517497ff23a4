//! Disasters and recovery.

use cucumber::{given, then, when};

use crate::scenario::phases::Phase;
use crate::scenario::step::StepResult;
use crate::scenario::world::OpsWorld;
use crate::secret_data::{compare, data_of};
use crate::system::NAMESPACE;

#[given("the values of every Secret are recorded")]
async fn record(w: &mut OpsWorld) -> StepResult {
    for es in w.external_secrets()?.keys() {
        let s = w.secrets()?.get(es).await?;
        w.recorded.insert(es.clone(), data_of(&s));
    }
    w.baseline().await
}

#[then("every Secret holds the recorded values")]
async fn holds_recorded(w: &mut OpsWorld) -> StepResult {
    for (name, expected) in w.recorded.clone() {
        let want = expected.clone();
        let result = w
            .wait_secret(
                &name,
                &format!("the Secret {name} to hold its recorded values"),
                move |s| compare(&data_of(s), &want).is_ok(),
            )
            .await;
        if let Err(e) = result {
            let diff = match w.secrets()?.get_opt(&name).await? {
                Some(s) => compare(&data_of(&s), &expected).err().unwrap_or_default(),
                None => "the Secret does not exist".into(),
            };
            crate::scenario::step::bail!("{e}: {diff}");
        }
    }
    Ok(())
}

#[when("every ExternalSecret is deleted")]
async fn delete_all(w: &mut OpsWorld) -> StepResult {
    w.mark(Phase::DisasterInjected, "every ExternalSecret deleted");
    for name in w.external_secrets()?.keys() {
        w.es_api()?.delete(name, &Default::default()).await?;
    }
    Ok(())
}

#[then("every Secret is gone")]
async fn all_gone(w: &mut OpsWorld) -> StepResult {
    for name in w.external_secrets()?.keys() {
        w.wait_gone_secret(name).await?;
    }
    w.mark(Phase::Detected, "every Secret is gone");
    Ok(())
}

#[when("the local overlay is applied again")]
async fn reapply(w: &mut OpsWorld) -> StepResult {
    w.mark(Phase::RecoveryAction, "the local overlay applied again");
    Ok(w.env()?.apply_overlay("local").await?)
}

#[when(expr = "the namespace {string} is deleted")]
async fn delete_ns(w: &mut OpsWorld, ns: String) -> StepResult {
    w.mark(Phase::DisasterInjected, &format!("namespace {ns} deleted"));
    kube::api::Api::<k8s_openapi::api::core::v1::Namespace>::all(w.env()?.kube())
        .delete(&ns, &Default::default())
        .await?;
    Ok(())
}

#[then(expr = "the namespace {string} is gone")]
async fn ns_gone(w: &mut OpsWorld, ns: String) -> StepResult {
    let api = kube::api::Api::<k8s_openapi::api::core::v1::Namespace>::all(w.env()?.kube());
    if let Some(n) = api.get_opt(&ns).await? {
        let uid = n.metadata.uid.unwrap_or_default();
        crate::wait::within(
            w.patience(),
            &format!("the namespace {ns} to be deleted"),
            kube::runtime::wait::await_condition(
                api,
                &ns,
                kube::runtime::wait::conditions::is_deleted(&uid),
            ),
        )
        .await??;
    }
    w.mark(Phase::Detected, &format!("namespace {ns} is gone"));
    Ok(())
}

#[when("Secrets Manager becomes unreachable")]
async fn sm_down(w: &mut OpsWorld) -> StepResult {
    w.mark(Phase::DisasterInjected, "Secrets Manager unreachable");
    // Set first: a step failing halfway must still be undone.
    w.set_secrets_manager_down(true);
    Ok(w.outage()?.set_reachable(false).await?)
}

#[when("Secrets Manager is reachable again")]
async fn sm_up(w: &mut OpsWorld) -> StepResult {
    w.mark(Phase::RecoveryAction, "Secrets Manager reachable again");
    w.outage()?.set_reachable(true).await?;
    w.set_secrets_manager_down(false);
    Ok(())
}

#[when("Secrets Manager is snapshotted")]
async fn snapshot(w: &mut OpsWorld) -> StepResult {
    w.snapshot = Some(w.snapshots()?.snapshot());
    Ok(())
}

#[when("every OpsSight secret is deleted from Secrets Manager without recovery")]
async fn wipe(w: &mut OpsWorld) -> StepResult {
    w.mark(
        Phase::DisasterInjected,
        "every OpsSight secret deleted from Secrets Manager",
    );
    let sm = w.env()?.secrets_manager();
    for remote in w.external_secrets()?.values() {
        sm.delete_secret()
            .secret_id(remote)
            .force_delete_without_recovery(true)
            .send()
            .await?;
    }
    Ok(())
}

#[when("Secrets Manager is restored from the snapshot")]
async fn restore(w: &mut OpsWorld) -> StepResult {
    w.mark(
        Phase::RecoveryAction,
        "Secrets Manager restored from the snapshot",
    );
    let snapshot = w
        .snapshot
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no snapshot was taken in this scenario"))?;
    w.snapshots()?.restore(&snapshot)?;
    Ok(())
}

#[when("the controller stops")]
async fn controller_stops(w: &mut OpsWorld) -> StepResult {
    w.mark(Phase::DisasterInjected, "the controller stopped");
    Ok(w.env()?.stop_controller().await?)
}

#[when("the controller starts")]
async fn controller_starts(w: &mut OpsWorld) -> StepResult {
    w.mark(Phase::RecoveryAction, "the controller started");
    Ok(w.env()?.start_controller().await?)
}

#[given(expr = "every OpsSight secret is replicated to {string}")]
async fn replicate(w: &mut OpsWorld, region: String) -> StepResult {
    let sm = w.env()?.secrets_manager();
    for remote in w.external_secrets()?.values() {
        let out = sm
            .replicate_secret_to_regions()
            .secret_id(remote)
            .add_replica_regions(
                aws_sdk_secretsmanager::types::ReplicaRegionType::builder()
                    .region(&region)
                    .build(),
            )
            .send()
            .await?;
        let in_sync = out.replication_status().iter().any(|r| {
            r.region() == Some(region.as_str())
                && r.status().is_some_and(|s| s.as_str() == "InSync")
        });
        crate::scenario::step::ensure(in_sync, || format!("{remote} is not InSync in {region}"))?;
    }
    Ok(())
}

#[when(expr = "Secrets Manager in {string} becomes unavailable")]
async fn region_down(w: &mut OpsWorld, region: String) -> StepResult {
    w.mark(
        Phase::DisasterInjected,
        &format!("Secrets Manager in {region} unavailable"),
    );
    w.regions()?.fail(&region);
    Ok(())
}

#[when(expr = "the SecretStore is pointed at region {string}")]
async fn store_region(w: &mut OpsWorld, region: String) -> StepResult {
    w.mark(
        Phase::RecoveryAction,
        &format!("SecretStore pointed at {region}"),
    );
    let api = kube::api::Api::<kube::api::DynamicObject>::namespaced_with(
        w.env()?.kube(),
        NAMESPACE,
        &crate::eso_model::stores(crate::eso_model::StoreKind::SecretStore),
    );
    let patch = serde_json::json!({ "spec": { "provider": { "aws": { "region": region } } } });
    api.patch(
        crate::system::STORE,
        &Default::default(),
        &kube::api::Patch::Merge(patch),
    )
    .await?;
    Ok(())
}

#[when(expr = "the controller's IAM policy also allows region {string}")]
async fn policy_region(w: &mut OpsWorld, region: String) -> StepResult {
    w.mark(
        Phase::RecoveryAction,
        &format!("IAM policy extended to {region}"),
    );
    let iam = w.iam()?;
    let text = std::fs::read_to_string(w.fixtures()?.iam_policy())?
        .replace(":us-west-2:", &format!(":{region}:"));
    let doc = aws_emulator::PolicyDocument::parse_named(
        &text,
        "the runbook's policy for the replica region",
    )?
    .with_placeholder("ACCOUNT_ID", &iam.account_id());
    iam.put_controller_policy("replica-region", doc)?;
    Ok(())
}
