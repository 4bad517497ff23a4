//! Reads ExternalSecrets from a manifest and prints, for each, its refresh
//! interval as ESO (a Go program) writes it back and its Ready condition.
//!
//! `cargo run -p eso-api --example read_manifest [FILE]`: without FILE, an
//! ExternalSecret as `kubectl get externalsecret app -o yaml` shows it;
//! with one (`fixtures/k8s/base/external-secrets.yaml`, say), every
//! ExternalSecret among its documents.

use eso_api::{ExternalSecret, go_duration};

/// What `kubectl get -o yaml` shows of a synced ExternalSecret.
const EXAMPLE: &str = r#"
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: app
  namespace: team
spec:
  refreshInterval: 90m
  secretStoreRef: {name: aws-secrets-manager, kind: SecretStore}
  target: {name: app-secrets}
  dataFrom:
    - extract: {key: team/app}
status:
  refreshTime: "2026-01-01T12:00:00Z"
  conditions:
    - type: Ready
      status: "True"
      reason: SecretSynced
      message: secret synced
      lastTransitionTime: "2026-01-01T09:00:00Z"
"#;

fn main() -> anyhow::Result<()> {
    let text = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(&path)?,
        None => EXAMPLE.to_owned(),
    };
    // A manifest may hold several documents of several kinds: read each as
    // JSON first, then the ExternalSecrets as the typed model.
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)?;
    for doc in documents
        .into_iter()
        .filter(|d| d["kind"] == "ExternalSecret")
    {
        let es: ExternalSecret = serde_json::from_value(doc)?;
        let name = es.metadata.name.as_deref().unwrap_or("(unnamed)");
        // The text as written, and as ESO writes it back when it adds its
        // finalizer (`90m` becomes `1h30m0s`).
        let written = es.spec.refresh_interval.as_deref().unwrap_or("");
        let interval = match es.spec.interval() {
            Some(d) => go_duration(d),
            None => format!("not a Go duration: {written:?}"),
        };
        println!("{name}: refreshInterval {written} (ESO writes {interval})");
        // The Ready condition ESO wrote, if it has synced it yet.
        match es.status.as_ref().and_then(|s| s.ready()) {
            Some(ready) => println!(
                "{name}: Ready={} reason={} message={:?} since {}",
                ready.status,
                ready.reason.as_deref().unwrap_or("-"),
                ready.message.as_deref().unwrap_or(""),
                ready
                    .last_transition_time
                    .map_or_else(|| "-".to_owned(), eso_api::metav1_time),
            ),
            None => println!("{name}: no Ready condition yet"),
        }
    }
    Ok(())
}
