//! What the CLI-driving tests share.

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::api::{Api, DynamicObject};
use kube::runtime::wait::await_condition;
use opssight_harness::env::Environment;
use opssight_harness::env::embedded::Embedded;
use opssight_harness::system::NAMESPACE;

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A copy of the repository's fixtures under `dir`, with `edit` applied to one file.
pub(crate) fn fixtures_with(dir: &Path, file: &str, from: &str, to: &str) -> (PathBuf, PathBuf) {
    let fixtures = dir.join("fixtures");
    copy_dir(&repo_root().join("fixtures"), &fixtures);
    let path = fixtures.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    (fixtures, path)
}

/// An embedded stack on the repository's fixtures, in this process.
pub(crate) async fn embedded() -> Embedded {
    let fixtures = opssight_harness::fixtures::Fixtures::at(repo_root().join("fixtures"));
    Embedded::start(fixtures)
        .await
        .expect("starting the embedded environment")
}

pub(crate) async fn wait_for(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    cond: impl Fn(&DynamicObject) -> bool + Send + 'static,
) {
    wait_for_within(api, name, what, cond, Duration::from_secs(15)).await
}

pub(crate) async fn wait_for_within(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    cond: impl Fn(&DynamicObject) -> bool + Send + 'static,
    within: Duration,
) {
    tokio::time::timeout(
        within,
        await_condition(api.clone(), name, move |o: Option<&DynamicObject>| {
            o.is_some_and(&cond)
        }),
    )
    .await
    .unwrap_or_else(|_| panic!("timed out after {within:?} waiting for {what}"))
    .unwrap();
}

pub(crate) fn ready_is(status: &'static str) -> impl Fn(&DynamicObject) -> bool + Send + 'static {
    move |o| {
        o.data["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == status)
        })
    }
}

/// Waits until every OpsSight ExternalSecret is Ready.
pub(crate) async fn all_synced(env: &Embedded) {
    all_ready(env.kube(), Duration::from_secs(15)).await
}

/// Waits up to `within` for each OpsSight ExternalSecret to be Ready.
pub(crate) async fn all_ready(kube: kube::Client, within: Duration) {
    let api = Api::namespaced_with(kube, NAMESPACE, &eso_api::external_secret_resource());
    for name in [
        "opssight-app-secrets",
        "opssight-database-secrets",
        "opssight-external-services",
        "opssight-redis-secrets",
    ] {
        wait_for_within(
            &api,
            name,
            &format!("{name} Ready"),
            ready_is("True"),
            within,
        )
        .await;
    }
}

/// A kube-rs client of a kube-emulator, through its kubeconfig.
pub(crate) async fn client_for(emulator: &kube_emulator::KubeEmulator) -> kube::Client {
    let config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&emulator.kubeconfig(None)).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// The values a run generated (`OPSSIGHT_VALUE_LEDGER`), those long enough
/// to be searched for.
pub(crate) fn ledger_values(ledger: &Path) -> Vec<String> {
    std::fs::read_to_string(ledger)
        .unwrap()
        .lines()
        .filter(|l| l.len() >= 8)
        .map(str::to_owned)
        .collect()
}

/// Which of `values` (raw, or base64 where `base64_too`) a text holds, as
/// its length and first two characters: one pass over the text for all of
/// them (a run's debug log is megabytes, its values hundreds).
#[allow(dead_code)] // Not every test crate that includes `common` searches.
pub(crate) fn value_in(values: &[String], text: &str, base64_too: bool) -> Option<String> {
    use base64::Engine as _;
    let mut forms: Vec<String> = values.iter().map(|v| regex::escape(v)).collect();
    if base64_too {
        let b64 = base64::engine::general_purpose::STANDARD;
        forms.extend(values.iter().map(|v| regex::escape(&b64.encode(v))));
    }
    let any = regex::Regex::new(&forms.join("|")).unwrap();
    let found = any.find(text)?.as_str();
    let value = values
        .iter()
        .find(|v| found == v.as_str())
        .map(|v| format!("{} chars, starting {:?}", v.len(), &v[..2]))
        .unwrap_or_else(|| format!("base64 of a value ({} chars)", found.len()));
    Some(value)
}

/// The components of `--env binaries` (scripts/build-real-components.sh),
/// or `None` (and why) where a test may skip: a missing component fails
/// the test under `REQUIRE_BINARIES=1`, as `.ci/run` sets.
pub(crate) fn binaries_components()
-> Option<opssight_harness::env::binaries::components::Components> {
    use opssight_harness::env::binaries::components::{Components, bin_dir};
    match Components::load(&bin_dir()) {
        Ok(c) => Some(c),
        Err(e) if std::env::var("REQUIRE_BINARIES").as_deref() == Ok("1") => {
            panic!("REQUIRE_BINARIES=1 but --env binaries cannot run: {e}")
        }
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

/// What a destructive run must leave as it found it, by object: the
/// Secrets, ServiceAccounts, ConfigMaps, stores and ExternalSecrets of the
/// namespace (what ESO writes: type and data; the rest: labels,
/// annotations, owners, body) and each remote secret's value. Values stay
/// in the map; compare with `changed`, which names fields only.
pub(crate) async fn live_fingerprint(
    kube: kube::Client,
    sm: &aws_sdk_secretsmanager::Client,
    remotes: impl Iterator<Item = &String>,
) -> BTreeMap<String, String> {
    use kube::api::{ApiResource, ListParams};
    let mut out = BTreeMap::new();
    let kinds = [
        ("", "v1", "Secret", "secrets"),
        ("", "v1", "ServiceAccount", "serviceaccounts"),
        ("", "v1", "ConfigMap", "configmaps"),
        ("external-secrets.io", "v1", "SecretStore", "secretstores"),
        (
            "external-secrets.io",
            "v1",
            "ExternalSecret",
            "externalsecrets",
        ),
    ];
    for (group, version, kind, plural) in kinds {
        let ar = ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: if group.is_empty() {
                version.into()
            } else {
                format!("{group}/{version}")
            },
            kind: kind.into(),
            plural: plural.into(),
        };
        let api = Api::<DynamicObject>::namespaced_with(kube.clone(), NAMESPACE, &ar);
        for o in api.list(&ListParams::default()).await.unwrap().items {
            let name = o.metadata.name.clone().unwrap_or_default();
            let eso_writes = o
                .metadata
                .owner_references
                .iter()
                .flatten()
                .any(|r| r.kind == "ExternalSecret");
            let shown = if eso_writes {
                serde_json::json!({"type": o.data["type"], "data": o.data["data"]})
            } else {
                serde_json::json!({
                    "labels": o.metadata.labels, "annotations": o.metadata.annotations,
                    "owners": o.metadata.owner_references, "body": o.data.get("spec").or(o.data.get("data")),
                    "type": o.data.get("type"),
                })
            };
            out.insert(format!("{kind}/{name}"), shown.to_string());
        }
    }
    for name in remotes {
        let v = sm.get_secret_value().secret_id(name).send().await.unwrap();
        out.insert(
            format!("remote/{name}"),
            v.secret_string().unwrap_or_default().to_owned(),
        );
    }
    out
}

/// Which entries differ, and in which of their fields, by name only (the
/// values are secrets).
pub(crate) fn changed(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<String> {
    let fields = |x: Option<&String>| -> BTreeMap<String, String> {
        x.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .and_then(|v| v.as_object().cloned())
            .map(|m| m.into_iter().map(|(k, v)| (k, v.to_string())).collect())
            .unwrap_or_default()
    };
    before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            let (b, a) = (fields(before.get(k)), fields(after.get(k)));
            let which: Vec<&String> = b
                .keys()
                .chain(a.keys())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .filter(|f| b.get(*f) != a.get(*f))
                .collect();
            format!("{k} {which:?}")
        })
        .collect()
}

/// A finished command's stdout then stderr, as text.
pub(crate) fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What a successful `test --allow-destructive` run on a live system says:
/// its destructive procedures were put back, none left unrestored, and
/// check's health after the run is as it was before.
pub(crate) fn assert_put_back_as_found(log: &str) {
    assert!(log.contains("put back after"), "{log}");
    assert!(!log.contains("NOT PUT BACK"), "{log}");
    assert!(
        log.contains("health after the run: as the harness found it"),
        "{log}"
    );
}

/// What `opssight-harness up` printed: its `export` lines, the text, and
/// the credentials file its last line (`. FILE`) sources.
pub(crate) struct UpOutput {
    pub exports: BTreeMap<String, String>,
    pub printed: String,
    pub credentials: PathBuf,
}

/// Reads `up`'s stdout up to its last line, `. FILE`, within `within`
/// (bringing up a stack included): output that changed, or an `up` that
/// never gets there, fails the test instead of hanging it.
pub(crate) fn read_up_output(stdout: std::process::ChildStdout, within: Duration) -> UpOutput {
    use std::io::BufRead as _;
    let (tx, rx) = std::sync::mpsc::channel();
    // The reader ends when `up`'s stdout closes (it exits or is killed).
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + within;
    let mut exports = BTreeMap::new();
    let mut printed = String::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx.recv_timeout(left).unwrap_or_else(|e| {
            panic!("up printed no `. FILE` line within {within:?} ({e}); it printed:\n{printed}")
        });
        printed.push_str(&line);
        printed.push('\n');
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            exports.insert(k.to_owned(), v.to_owned());
        }
        if let Some(file) = line.strip_prefix(". ") {
            return UpOutput {
                exports,
                printed,
                credentials: PathBuf::from(file),
            };
        }
    }
}

/// A failed assertion must not leave the harness under test running (its
/// own children die with it: PR_SET_PDEATHSIG).
pub(crate) struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
