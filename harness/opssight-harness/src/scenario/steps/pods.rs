//! An application pod's view of a synced Secret: mounted as a volume and
//! read through `envFrom`. Only a kubelet runs pods (`@requires-kubelet`).
//! Everything goes through kubectl, as an operator would do it. The pod
//! reports SHA-256 hashes of what it sees, never the values, so no value
//! leaves it: not in kubectl's output, not in a log or a message here.

use std::collections::BTreeMap;
use std::time::Duration;

use cucumber::{given, then, when};
use sha2::Digest as _;

use crate::scenario::step::{StepResult, ensure};
use crate::scenario::world::OpsWorld;
use crate::system::NAMESPACE;

/// Where the pod mounts the Secret.
const MOUNT: &str = "/etc/opssight-app-secrets";

/// The kubelet rewrites a pod's Secret volume at its next sync of the pod:
/// `syncFrequency` (1m by default) with up to half of it again as jitter,
/// plus a margin for the exec that reads it.
const KUBELET_SYNC: Duration = Duration::from_secs(120);

/// Between two reads of the pod's view while waiting for it to change.
const POLL: Duration = Duration::from_secs(2);

/// What the pod runs in its container to report its view: one line per
/// key of the mounted Secret, `file KEY SHA256` and, when the variable is
/// set, `env KEY SHA256`.
const REPORT: &str = r#"cd /etc/opssight-app-secrets && for k in *; do
  printf 'file %s %s\n' "$k" "$(sha256sum < "$k" | cut -d' ' -f1)"
  if v="$(printenv "$k")"; then printf 'env %s %s\n' "$k" "$(printf %s "$v" | sha256sum | cut -d' ' -f1)"; fi
done"#;

fn pod_manifest(pod: &str, secret: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": pod, "namespace": NAMESPACE, "labels": { "app": pod } },
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "app",
                "image": crate::env::kind::pins::APP_POD,
                // Exits on SIGTERM: PID 1 has no default handler for it.
                "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
                "envFrom": [{ "secretRef": { "name": secret } }],
                "volumeMounts": [{ "name": "secrets", "mountPath": MOUNT, "readOnly": true }],
            }],
            "volumes": [{ "name": "secrets", "secret": { "secretName": secret } }],
        },
    })
}

/// Runs kubectl against the environment; its stdout, or an error naming
/// the command and the first line of its stderr.
async fn kubectl(w: &OpsWorld, args: &[&str]) -> anyhow::Result<String> {
    let env = w.env()?.clone();
    let run = tokio::process::Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", env.kubeconfig())
        .env("KUBECACHEDIR", env.workdir().join("kube-cache"))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let command = format!("kubectl {}", args.join(" "));
    let out = tokio::time::timeout(w.patience() + Duration::from_secs(30), run)
        .await
        .map_err(|_| anyhow::anyhow!("`{command}` did not finish within {:?}", w.patience()))??;
    anyhow::ensure!(
        out.status.success(),
        "`{command}` failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output")
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Applies the pod and waits until it is Ready.
async fn start_pod(w: &OpsWorld, pod: &str, secret: &str) -> StepResult {
    let file = w.env()?.workdir().join(format!("pod-{pod}.json"));
    crate::files::write_private(
        &file,
        serde_json::to_string_pretty(&pod_manifest(pod, secret))?,
    )?;
    kubectl(w, &["apply", "-f", &file.display().to_string()]).await?;
    let timeout = format!("--timeout={}s", w.patience().as_secs().max(1));
    kubectl(
        w,
        &[
            "wait",
            "--for=condition=Ready",
            &format!("pod/{pod}"),
            "-n",
            NAMESPACE,
            &timeout,
        ],
    )
    .await?;
    Ok(())
}

async fn delete_pod(w: &OpsWorld, pod: &str) -> StepResult {
    kubectl(
        w,
        &[
            "delete",
            "pod",
            pod,
            "-n",
            NAMESPACE,
            "--ignore-not-found",
            "--wait=true",
        ],
    )
    .await?;
    Ok(())
}

/// What the pod sees: each key's hash in its files and in its environment.
#[derive(Debug, Default, PartialEq, Eq)]
struct View {
    files: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
}

async fn view(w: &OpsWorld, pod: &str) -> anyhow::Result<View> {
    let out = kubectl(w, &["exec", pod, "-n", NAMESPACE, "--", "sh", "-c", REPORT]).await?;
    let mut v = View::default();
    for line in out.lines() {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some("file"), Some(k), Some(h)) => v.files.insert(k.into(), h.into()),
            (Some("env"), Some(k), Some(h)) => v.env.insert(k.into(), h.into()),
            _ => anyhow::bail!("the pod {pod} reported a line the harness cannot read"),
        };
    }
    Ok(v)
}

fn hashes(values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|(k, v)| (k.clone(), hex::encode(sha2::Sha256::digest(v.as_bytes()))))
        .collect()
}

/// The keys whose hash differs from the expected one (names only).
fn differing(seen: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> Vec<String> {
    let mut keys: Vec<String> = want
        .iter()
        .filter(|(k, h)| seen.get(*k) != Some(*h))
        .map(|(k, _)| k.clone())
        .collect();
    keys.extend(seen.keys().filter(|k| !want.contains_key(*k)).cloned());
    keys
}

#[derive(Clone, Copy)]
enum Part {
    Files,
    Env,
    Both,
}

impl Part {
    fn wrong(self, v: &View, want: &BTreeMap<String, String>) -> Vec<String> {
        let files = || {
            differing(&v.files, want)
                .into_iter()
                .map(|k| format!("file {k}"))
        };
        let env = || {
            differing(&v.env, want)
                .into_iter()
                .map(|k| format!("env {k}"))
        };
        match self {
            Self::Files => files().collect(),
            Self::Env => env().collect(),
            Self::Both => files().chain(env()).collect(),
        }
    }
}

/// Reads the pod's view until `part` matches `want` or `timeout` passes.
async fn wait_view(
    w: &OpsWorld,
    pod: &str,
    remote: &str,
    part: Part,
    want: &BTreeMap<String, String>,
    timeout: Duration,
) -> StepResult {
    let want = hashes(want);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let wrong = part.wrong(&view(w, pod).await?, &want);
        if wrong.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(anyhow::anyhow!(
                "timed out after {timeout:?} waiting for the pod {pod} to see the values of {remote}; these differ: {}",
                wrong.join(", ")
            )
            .into());
        }
        tokio::time::sleep(POLL).await;
    }
}

fn values<'a>(
    of: &'a BTreeMap<String, BTreeMap<String, String>>,
    remote: &str,
    which: &str,
) -> anyhow::Result<&'a BTreeMap<String, String>> {
    of.get(remote)
        .ok_or_else(|| anyhow::anyhow!("the scenario knows no {which} values of {remote}"))
}

#[given(expr = "the pod {string} mounts {string} as a volume and through envFrom")]
async fn pod_mounts(w: &mut OpsWorld, pod: String, secret: String) -> StepResult {
    // A pod of an earlier scenario would hold the environment it started with.
    delete_pod(w, &pod).await?;
    start_pod(w, &pod, &secret).await
}

#[when(expr = "the pod {string} is restarted")]
async fn restarted(w: &mut OpsWorld, pod: String) -> StepResult {
    let secret = "opssight-app-secrets";
    delete_pod(w, &pod).await?;
    start_pod(w, &pod, secret).await
}

#[then(
    expr = "the pod {string} sees the values of {string} in its mounted files and its environment"
)]
async fn sees_both(w: &mut OpsWorld, pod: String, remote: String) -> StepResult {
    let want = values(&w.expected, &remote, "current")?.clone();
    wait_view(w, &pod, &remote, Part::Both, &want, w.patience()).await
}

#[then(
    expr = "within the kubelet's sync period the pod {string} sees the values of {string} in its mounted files"
)]
async fn files_follow(w: &mut OpsWorld, pod: String, remote: String) -> StepResult {
    let want = values(&w.expected, &remote, "current")?.clone();
    wait_view(w, &pod, &remote, Part::Files, &want, KUBELET_SYNC).await
}

#[then(expr = "the pod {string} still sees the previous values of {string} in its environment")]
async fn env_stays(w: &mut OpsWorld, pod: String, remote: String) -> StepResult {
    let previous = hashes(values(&w.previous, &remote, "previous")?);
    let current = hashes(values(&w.expected, &remote, "current")?);
    ensure(previous != current, || {
        format!("{remote} was not changed: its previous and current values are the same")
    })?;
    // Environment variables are set when the container starts and never
    // again: one read shows it.
    let seen = view(w, &pod).await?;
    let wrong = Part::Env.wrong(&seen, &previous);
    ensure(wrong.is_empty(), || {
        format!(
            "the pod {pod}'s environment does not hold the previous values of {remote}; these differ: {}",
            wrong.join(", ")
        )
    })
}

#[then(expr = "the command's output mentions {string}")]
async fn output_mentions(w: &mut OpsWorld, words: String) -> StepResult {
    let c = w
        .last_command
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no command was run"))?;
    ensure(c.stdout.contains(&words), || {
        format!("the output of `{}` does not mention {words:?}", c.command)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pod_mounts_the_secret_and_takes_its_environment_from_it() {
        let pod = pod_manifest("opssight-app", "opssight-app-secrets");
        let c = &pod["spec"]["containers"][0];
        assert_eq!(c["envFrom"][0]["secretRef"]["name"], "opssight-app-secrets");
        assert_eq!(c["volumeMounts"][0]["mountPath"], MOUNT);
        assert_eq!(
            pod["spec"]["volumes"][0]["secret"]["secretName"],
            "opssight-app-secrets"
        );
        assert!(crate::env::kind::pins::parse(c["image"].as_str().unwrap()).is_some());
        assert!(REPORT.contains(MOUNT));
    }

    #[test]
    fn only_differing_key_names_are_reported() {
        let want = hashes(&BTreeMap::from([
            ("a".to_owned(), "one".to_owned()),
            ("b".to_owned(), "two".to_owned()),
        ]));
        let mut seen = want.clone();
        seen.insert(
            "b".into(),
            hashes(&BTreeMap::from([("b".to_owned(), "x".to_owned())]))["b"].clone(),
        );
        seen.insert("c".into(), "00".into());
        assert_eq!(differing(&seen, &want), ["b", "c"]);
        assert!(differing(&want, &want).is_empty());
    }
}
