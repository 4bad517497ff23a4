//! The kube-emulator driven by kube-rs, as a test drives it: start it,
//! create a namespace and a Secret, watch the Secret, and see the garbage
//! collector delete a ConfigMap the Secret owns once the Secret is deleted.
//!
//! `cargo run -p kube-emulator --example watch_and_collect`

use std::time::Duration;

use anyhow::{Context, anyhow};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams, ResourceExt};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Config};
use kube_emulator::KubeEmulator;

/// How long each step may take before the example gives up, saying which.
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // An API server on 127.0.0.1, on a port the system picks, over HTTPS
    // with a CA of its own. Dropping it (on any way out) stops it.
    let emulator = KubeEmulator::builder().start().await?;
    println!("serving {}", emulator.url());

    // kube-rs takes its kubeconfig (the CA and a bearer token) as any other.
    let kubeconfig = Kubeconfig::from_yaml(&emulator.kubeconfig(None))?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    let client = Client::try_from(config)?;

    // A namespace of our own.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace = Namespace {
        metadata: named("example"),
        ..Default::default()
    };
    namespaces
        .create(&PostParams::default(), &namespace)
        .await?;

    // A Secret in it, and a watch on the namespace's Secrets.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "example");
    let secret = Secret {
        metadata: named("database"),
        string_data: Some([("password".to_owned(), "not-a-real-one".to_owned())].into()),
        ..Default::default()
    };
    let secret = secrets.create(&PostParams::default(), &secret).await?;
    let mut seen = watcher(secrets.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    let shown = tokio::time::timeout(PATIENCE, seen.try_next())
        .await
        .context("waiting for the watch to show Secret database")??
        .ok_or_else(|| anyhow!("the watch ended before it showed Secret database"))?;
    // A Secret's values stay out of the output: key names and sizes only.
    for (key, value) in shown.data.iter().flatten() {
        println!(
            "the watch shows secret {}: {key}, {} bytes",
            shown.name_any(),
            value.0.len()
        );
    }

    // A ConfigMap the Secret owns...
    let owner = OwnerReference {
        api_version: "v1".into(),
        kind: "Secret".into(),
        name: secret.name_any(),
        uid: secret.uid().context("the created Secret has no uid")?,
        ..Default::default()
    };
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "example");
    let dependent = ConfigMap {
        metadata: ObjectMeta {
            owner_references: Some(vec![owner]),
            ..named("database-settings")
        },
        ..Default::default()
    };
    let dependent = config_maps
        .create(&PostParams::default(), &dependent)
        .await?;

    // ...goes with it: deleting the Secret leaves the ConfigMap without an
    // owner, and the garbage collector deletes it.
    secrets.delete("database", &DeleteParams::default()).await?;
    let uid = dependent
        .uid()
        .context("the created ConfigMap has no uid")?;
    tokio::time::timeout(
        PATIENCE,
        await_condition(
            config_maps,
            "database-settings",
            conditions::is_deleted(&uid),
        ),
    )
    .await
    .context("waiting for the garbage collector to delete ConfigMap database-settings")??;
    println!("the garbage collector deleted configmap database-settings");

    // Stops the watch, then the server.
    drop(seen);
    emulator.shutdown().await;
    Ok(())
}

fn named(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        ..Default::default()
    }
}

// `cargo test` runs the example (Cargo.toml: `test = true`), so it stays true.
#[cfg(test)]
mod tests {
    #[test]
    fn runs() -> anyhow::Result<()> {
        super::main()
    }
}
