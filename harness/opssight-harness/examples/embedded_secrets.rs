//! The harness as a library: start the embedded environment (Secrets
//! Manager, Kubernetes and ESO emulated in this process, seeded from the
//! repository's fixtures, no Docker and no Go), wait until ESO has synced
//! the four OpsSight Secrets, and print each one's keys and the length of
//! each value. Never a value: that is the harness's first rule.
//!
//!     cargo run -p opssight-harness --example embedded_secrets

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject};
use kube::runtime::wait::await_condition;
use opssight_harness::env::EnvChoice;
use opssight_harness::fixtures::{Fixtures, manifests};
use opssight_harness::system::{LOCAL_OVERLAY, NAMESPACE};
use opssight_harness::wait::{conditions, within};
use opssight_harness::{eso_model, secret_data};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The fixtures of this checkout (or of OPSSIGHT_FIXTURES).
    let fixtures = Fixtures::locate()?;
    // The ExternalSecrets the local overlay defines: one per Secret.
    let names: Vec<String> = manifests::kustomize(&fixtures.overlay(LOCAL_OVERLAY))?
        .iter()
        .filter(|m| m.kind() == "ExternalSecret")
        .map(|m| m.name().to_owned())
        .collect();

    // What `--env embedded` gives each scenario: the three emulators, the
    // overlay applied, ESO running. Dropping it stops them all.
    let env = EnvChoice::Embedded.start(fixtures).await?;
    let external_secrets: Api<DynamicObject> =
        Api::namespaced_with(env.kube(), NAMESPACE, &eso_model::external_secrets());
    let secrets: Api<Secret> = Api::namespaced(env.kube(), NAMESPACE);

    for name in &names {
        // Watch the ExternalSecret until ESO says it is Ready, no longer
        // than the environment's patience (the error says what it awaited).
        let ready = await_condition(
            external_secrets.clone(),
            name,
            conditions::exists_and(conditions::is_ready()),
        );
        within(env.patience(), &format!("{name} to be Ready"), ready).await??;

        // Its Secret's data: key names and lengths only.
        let data = secret_data::data_of(&secrets.get(name).await?);
        println!("{name}:");
        for (key, value) in &data {
            println!("  {key}: {} bytes", value.len());
        }
    }
    Ok(())
}
