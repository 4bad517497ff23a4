//! How a step waits: on a watch, until a named condition of
//! `wait::conditions` holds, at most the scenario's patience, failing with
//! what it waited for; each wait a checkpoint for the differential.

use std::future::Future;

use anyhow::anyhow;
use k8s_openapi::api::core::v1::Secret;
use kube::api::DynamicObject;
use kube::runtime::wait::await_condition;

use super::step::StepResult;
use super::world::OpsWorld;
use crate::wait::conditions::exists_and;

impl OpsWorld {
    /// Waits for `condition` (a future that ends when it holds) up to the
    /// patience, failing with what it waited for. Meanwhile the environment
    /// skips what its controller would only wait for within that patience
    /// (on a virtual clock: backoffs and retries are jumps, not waits).
    pub async fn within<T>(
        &self,
        what: &str,
        condition: impl Future<Output = T>,
    ) -> anyhow::Result<T> {
        let patience = self.patience();
        let skip = match self.env() {
            Ok(env) => env.skip_waiting(patience),
            Err(_) => Box::pin(std::future::pending()),
        };
        // `skip_waiting` never ends: the race ends when the condition holds.
        let skipping = async {
            skip.await;
            std::future::pending::<T>().await
        };
        let raced = async {
            tokio::select! {
                biased;
                held = condition => held,
                never = skipping => never,
            }
        };
        Ok(crate::wait::within(patience, what, raced).await?)
    }

    /// Waits on a watch until the ExternalSecret satisfies `cond`.
    pub async fn wait_es(
        &self,
        name: &str,
        what: &str,
        cond: impl Fn(&DynamicObject) -> bool + Send + 'static,
    ) -> anyhow::Result<DynamicObject> {
        let api = self.es_api()?;
        let found = self
            .within(what, await_condition(api, name, exists_and(cond)))
            .await??;
        let found = found.ok_or_else(|| anyhow!("{what}: the ExternalSecret {name} is gone"))?;
        self.checkpoint(what, Some(name)).await;
        Ok(found)
    }

    /// Waits on a watch until the Secret satisfies `cond`.
    pub async fn wait_secret(
        &self,
        name: &str,
        what: &str,
        cond: impl Fn(&Secret) -> bool + Send + 'static,
    ) -> anyhow::Result<Secret> {
        let api = self.secrets()?;
        let found = self
            .within(what, await_condition(api, name, exists_and(cond)))
            .await??;
        let found = found.ok_or_else(|| anyhow!("{what}: the Secret {name} is gone"))?;
        self.checkpoint(what, Some(name)).await;
        Ok(found)
    }

    /// Waits until the Secret is gone.
    pub async fn wait_gone_secret(&self, name: &str) -> StepResult {
        let api = self.secrets()?;
        let what = format!("the Secret {name} to be deleted");
        if let Some(s) = api.get_opt(name).await? {
            let uid = s.metadata.uid.unwrap_or_default();
            self.within(
                &what,
                await_condition(api, name, kube::runtime::wait::conditions::is_deleted(&uid)),
            )
            .await??;
        }
        // Gone already or now: the same checkpoint either way.
        self.checkpoint(&what, Some(name)).await;
        Ok(())
    }
}
