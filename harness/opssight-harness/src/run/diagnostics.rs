//! What a failed scenario leaves behind: each ExternalSecret's conditions,
//! the events of the namespace, and the controller's recent log, printed and
//! saved under the artifact directory. Never a secret value.

use std::path::Path;

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};

use crate::scenario::OpsWorld;
use crate::system::NAMESPACE;

pub async fn collect(w: &OpsWorld) -> String {
    let Ok(env) = w.env() else {
        return "no environment was started".into();
    };
    let mut out = String::new();
    if let Ok(api) = w.es_api()
        && let Ok(list) = api.list(&ListParams::default()).await
    {
        out.push_str("== ExternalSecrets\n");
        for es in list.items {
            let conditions = es
                .data
                .pointer("/status/conditions")
                .cloned()
                .unwrap_or_default();
            let refreshed = es
                .data
                .pointer("/status/refreshTime")
                .cloned()
                .unwrap_or_default();
            out.push_str(&format!(
                "{}: conditions {conditions} refreshTime {refreshed}\n",
                es.metadata.name.unwrap_or_default()
            ));
        }
    }
    let events: Api<Event> = Api::namespaced(env.kube(), NAMESPACE);
    if let Ok(list) = events.list(&ListParams::default()).await {
        out.push_str("== Events\n");
        for e in list.items {
            out.push_str(&format!(
                "{} {} {}/{}: {} (x{})\n",
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                e.involved_object.kind.unwrap_or_default(),
                e.involved_object.name.unwrap_or_default(),
                e.message.unwrap_or_default(),
                e.count.unwrap_or(1)
            ));
        }
    }
    if let Some((title, lines)) = env.service_log().await {
        out.push_str(&format!("== {title} log (most recent last)\n"));
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out.push_str("== Controller log (most recent last)\n");
    for line in env
        .controller_log()
        .await
        .iter()
        .rev()
        .take(50)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        out.push_str(line);
        out.push('\n');
    }
    out
}

pub async fn dump(w: &OpsWorld, feature: &str, scenario: &str, dir: &Path) {
    let text = w.redact(&collect(w).await);
    let file = dir.join(format!("{}--{}.txt", slug(feature), slug(scenario)));
    eprintln!(
        "---- diagnostics of the failed scenario \"{scenario}\" (saved to {})\n{text}",
        file.display()
    );
    let saved = crate::files::create_private_dir_all(dir)
        .and_then(|()| crate::files::write_private(&file, &text));
    if let Err(e) = saved {
        eprintln!("could not save diagnostics to {}: {e}", file.display());
    }
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_owned()
}
