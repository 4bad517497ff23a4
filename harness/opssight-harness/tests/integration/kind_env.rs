//! The kind environment's bring-up and teardown, run for real against fake
//! `docker`, `kind`, `helm` and `kubectl` executables first on PATH that
//! record their arguments, a kube-emulator standing in for the cluster's API
//! server (the fake `kind` hands out its kubeconfig) and a fake LocalStack
//! (health endpoint and the Secrets Manager calls the harness makes).

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use emulator_core::{Abort, HttpService, ResponseBody, ServerHandle, full_body};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DynamicObject, PostParams};
use kube_emulator::KubeEmulator;

const RUN: &str = "t1";
const CLUSTER: &str = "opssight-harness-t1";
const CONTAINER: &str = "opssight-harness-localstack-t1";

/// A LocalStack whose Secrets Manager never becomes ready.
struct NotReadyLocalStack;

impl HttpService for NotReadyLocalStack {
    async fn call(
        &self,
        _req: hyper::Request<emulator_core::RequestBody>,
    ) -> Result<hyper::Response<ResponseBody>, Abort> {
        let body = r#"{"services":{"secretsmanager":"initializing","sts":"available"}}"#;
        Ok(hyper::Response::new(full_body(body)))
    }
}

struct Fakes {
    dir: tempfile::TempDir,
    bin: PathBuf,
    log: PathBuf,
    kubeconfig: PathBuf,
    kube: KubeEmulator,
    client: kube::Client,
    /// Where `docker port` says LocalStack is: the aws-emulator in
    /// LocalStack's mode, or a LocalStack that never gets ready.
    aws: aws_emulator::AwsEmulator,
    _not_ready: Option<ServerHandle>,
    _controller: eso_emulator::EsoController,
    port: u16,
}

const RECORD: &str = r#"#!/bin/sh
echo "$(basename "$0") $*" >> "$FAKE_LOG"
if [ -n "$FAKE_FAIL" ]; then
  case "$(basename "$0") $*" in "$FAKE_FAIL"*) echo "fake failure of $FAKE_FAIL" >&2; exit 1;; esac
fi
"#;

fn script(bin: &Path, name: &str, body: &str) {
    let path = bin.join(name);
    std::fs::write(&path, format!("{RECORD}{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The chart's three Deployments, as `helm upgrade --install` leaves them:
/// the kube-emulator makes them available (their Pods run nothing; the
/// eso-emulator below is the controller). Without them the health check
/// before the run would wait its whole settling time for an ESO that never
/// comes.
async fn eso_deployments(client: &kube::Client) {
    use k8s_openapi::api::apps::v1::Deployment;
    let ns = "external-secrets-system";
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({ "metadata": { "name": ns } })).unwrap(),
        )
        .await
        .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    for name in [
        "external-secrets",
        "external-secrets-cert-controller",
        "external-secrets-webhook",
    ] {
        let labels = serde_json::json!({ "app.kubernetes.io/name": name });
        let d = serde_json::json!({
            "metadata": { "name": name, "namespace": ns },
            "spec": {
                "replicas": 1,
                "selector": { "matchLabels": labels },
                "template": {
                    "metadata": { "labels": labels },
                    "spec": { "containers": [{ "name": name, "image": "fake" }] },
                },
            },
        });
        deployments
            .create(&PostParams::default(), &serde_json::from_value(d).unwrap())
            .await
            .unwrap();
    }
}

async fn fakes(healthy: bool) -> Fakes {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let copy_kubeconfig = r#"
while [ $# -gt 0 ]; do
  if [ "$1" = --kubeconfig ]; then cp "$FAKE_KUBECONFIG" "$2"; fi
  shift
done"#;
    script(
        &bin,
        "kind",
        &format!(
            r#"case "$1" in
  version) echo "${{FAKE_KIND_VERSION:-kind v0.30.0 go1.24.6 linux/amd64}}";;
  create|export) {copy_kubeconfig};;
  get) for c in $FAKE_CLUSTERS; do echo "$c"; done;;
esac"#
        ),
    );
    script(
        &bin,
        "docker",
        r#"case "$1" in
  info)
    # A daemon waking up: the first $FAKE_DOCKER_ASLEEP calls fail.
    n=$(cat "$FAKE_LOG.docker-info" 2>/dev/null || echo 0); echo $((n + 1)) > "$FAKE_LOG.docker-info"
    if [ "$n" -lt "${FAKE_DOCKER_ASLEEP:-0}" ]; then
      echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1
    fi
    echo 28.2.2;;
  run) echo 0123456789abcdef;;
  port) echo "127.0.0.1:$FAKE_LOCALSTACK_PORT"; echo "[::1]:$FAKE_LOCALSTACK_PORT";;
  ps) for c in $FAKE_CONTAINERS; do echo "$c"; done;;
  logs) echo "fake localstack log line";;
esac"#,
    );
    script(
        &bin,
        "helm",
        r#"case "$1" in
  version) echo "${FAKE_HELM_VERSION:-v3.18.6+gb76a950}";;
  upgrade) if [ -n "$FAKE_HELM_SLEEP" ]; then echo $$ > "$FAKE_LOG.helm-pid"; exec sleep "$FAKE_HELM_SLEEP"; fi;;
esac"#,
    );
    script(
        &bin,
        "kubectl",
        // Pods: the test's fake kubelet (`fake_kubelet`) answers for them
        // through files in $FAKE_KUBELET_DIR.
        r#"case "$1" in
  version) echo '{"clientVersion":{"gitVersion":"v1.33.4","major":"1","minor":"33"}}';;
  apply) mkdir -p "$FAKE_KUBELET_DIR"; rm -f "$FAKE_KUBELET_DIR/env"; echo > "$FAKE_KUBELET_DIR/start";;
  wait) i=0; while [ -f "$FAKE_KUBELET_DIR/start" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
        [ -f "$FAKE_KUBELET_DIR/env" ] || { echo "timed out waiting for the condition" >&2; exit 1; };;
  delete) rm -f "$FAKE_KUBELET_DIR/env";;
  exec) cat "$FAKE_KUBELET_DIR/files" "$FAKE_KUBELET_DIR/env";;
  get) echo "NAME                   TYPE     DATA   AGE"; echo "opssight-app-secrets   Opaque   4      1m";;
  describe) echo "Environment Variables from:"; echo "  opssight-app-secrets  Secret  Optional: false"
            echo "Volumes:"; echo "  secrets:"; echo "    Type:        Secret"; echo "    SecretName:  opssight-app-secrets";;
esac"#,
    );
    // The cluster's API server, with the CRDs helm's installCRDs would add.
    let kube = KubeEmulator::builder().start().await.unwrap();
    let kubeconfig = dir.path().join("cluster-kubeconfig");
    kube.write_kubeconfig(&kubeconfig, None).unwrap();
    let client = common::client_for(&kube).await;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    for crd in eso_api::crds() {
        crds.create(&PostParams::default(), &crd).await.unwrap();
    }
    eso_deployments(&client).await;
    // LocalStack's part: the aws-emulator taking any credentials and
    // answering LocalStack's health check; ESO's part: the eso-emulator with
    // the endpoints ESO gets from the Helm values' extraEnv.
    let aws = aws_emulator::AwsEmulator::builder()
        .auth(aws_emulator::AuthMode::AcceptAny)
        .default_region("us-west-2")
        .start()
        .await
        .unwrap();
    let controller = eso_emulator::EsoController::start(
        client.clone(),
        eso_emulator::Config {
            endpoints: eso_emulator::Endpoints {
                secretsmanager: Some(aws.endpoint()),
                sts: Some(aws.endpoint()),
                ec2_metadata_disabled: true,
            },
            ..Default::default()
        },
    );
    let (port, not_ready) = if healthy {
        (aws.local_addr().port(), None)
    } else {
        let server = ServerHandle::start(Arc::new(NotReadyLocalStack))
            .await
            .unwrap();
        (server.local_addr().port(), Some(server))
    };
    Fakes {
        log: dir.path().join("calls.log"),
        bin,
        kubeconfig,
        kube,
        client,
        aws,
        _not_ready: not_ready,
        _controller: controller,
        port,
        dir,
    }
}

impl Fakes {
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_opssight-harness"));
        c.args(args)
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("FAKE_LOG", &self.log)
            .env("FAKE_KUBECONFIG", &self.kubeconfig)
            .env("FAKE_LOCALSTACK_PORT", self.port.to_string())
            .env("OPSSIGHT_LOCALSTACK_READY_SECONDS", "2")
            .env("OPSSIGHT_WAIT_SECONDS", "10")
            .env("OPSSIGHT_DOCKER_WAIT_SECONDS", "30")
            .env_remove("LOCALSTACK_AUTH_TOKEN")
            .current_dir(common::repo_root())
            .kill_on_drop(true);
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
        let out = self.command(args, env).output().await.unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    fn artifacts(&self) -> PathBuf {
        self.dir.path().join("artifacts")
    }

    /// `test --env kind` with the run id fixed and the given feature.
    fn test_args(&self, feature: &str) -> Vec<String> {
        [
            "test",
            "--env",
            "kind",
            "--run-id",
            RUN,
            "--features",
            &format!("harness/opssight-harness/tests/kind/{feature}"),
            "--artifacts",
            &self.artifacts().display().to_string(),
        ]
        .map(String::from)
        .to_vec()
    }

    /// Recorded calls, the artifacts directory written as ART and the
    /// host port chosen for LocalStack as PORT.
    fn calls(&self) -> Vec<String> {
        let art = self.artifacts().display().to_string();
        let root = std::fs::canonicalize(common::repo_root())
            .unwrap()
            .display()
            .to_string();
        let port = regex::Regex::new(r"-p 127\.0\.0\.1:[0-9]+:4566").unwrap();
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                port.replace(
                    &l.replace(&art, "ART").replace(&root, "REPO"),
                    "-p 127.0.0.1:PORT:4566",
                )
                .into_owned()
            })
            .collect()
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

const PREFLIGHT: [&str; 4] = [
    "docker info --format {{.ServerVersion}}",
    "kind version",
    "helm version --short",
    "kubectl version --client -o json",
];

const NODE_IMAGE: &str =
    "kindest/node:v1.33.4@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2";
const LOCALSTACK_IMAGE: &str = "localstack/localstack:4.12@sha256:0df3a97da57de03a588c05d9b8f390f15c7033fc7c4512f94619d344bc3cd317";

fn bring_up() -> Vec<String> {
    [
        format!(
            "kind create cluster --name {CLUSTER} --config REPO/kind-config.yaml --image {NODE_IMAGE} --kubeconfig ART/kind-{RUN}/kubeconfig --wait 120s"
        ),
        format!(
            "docker run -d --name {CONTAINER} --network kind --label opssight-harness.run-id={RUN} -p 127.0.0.1:PORT:4566 -e SERVICES=secretsmanager,sts -e EAGER_SERVICE_LOADING=1 {LOCALSTACK_IMAGE}"
        ),
        format!("docker port {CONTAINER} 4566/tcp"),
        "helm repo add external-secrets https://charts.external-secrets.io --force-update".into(),
        format!(
            "helm upgrade --install external-secrets external-secrets/external-secrets --version 2.9.0 --namespace external-secrets-system --create-namespace --set installCRDs=true --values ART/kind-{RUN}/eso-values.yaml --wait --timeout 5m --kubeconfig ART/kind-{RUN}/kubeconfig"
        ),
    ]
    .to_vec()
}

fn teardown() -> Vec<String> {
    vec![
        format!("docker rm -f -v {CONTAINER}"),
        format!("kind delete cluster --name {CLUSTER}"),
    ]
}

/// What a failed run saves before it tears down.
fn export_logs() -> String {
    format!("kind export logs ART/kind-logs/{RUN} --name {CLUSTER}")
}

/// The preflight's four checks run at once: any order, then the rest in order.
fn assert_calls(calls: &[String], expected_after_preflight: &[String]) {
    assert!(calls.len() >= 4, "{calls:#?}");
    let mut first: Vec<&str> = calls[..4].iter().map(String::as_str).collect();
    first.sort();
    let mut preflight = PREFLIGHT.to_vec();
    preflight.sort();
    assert_eq!(first, preflight, "{calls:#?}");
    assert_eq!(&calls[4..], expected_after_preflight, "{calls:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bring_up_runs_the_tools_in_order_seeds_applies_and_tears_down() {
    let f = fakes(true).await;
    let (code, out) = f.run(&args(&f.test_args("bring-up.feature")), &[]).await;
    assert_eq!(code, Some(0), "{out}");
    let mut expected = bring_up();
    expected.extend(teardown());
    assert_calls(&f.calls(), &expected);

    // LocalStack seeded at bring-up, then given new values for the scenario.
    let writes: Vec<String> = f
        .aws
        .audit_events()
        .into_iter()
        .map(|e| e.event_name)
        .filter(|n| n == "CreateSecret" || n == "PutSecretValue")
        .collect();
    let mut expected = vec!["CreateSecret".to_owned(); 4];
    expected.extend(vec!["PutSecretValue".to_owned(); 4]);
    assert_eq!(writes, expected);

    // ESO's values point its AWS provider at LocalStack by container name.
    let values: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(f.artifacts().join(format!("kind-{RUN}/eso-values.yaml")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        values["extraEnv"][0],
        serde_json::json!({"name": "AWS_SECRETSMANAGER_ENDPOINT", "value": format!("http://{CONTAINER}:4566")})
    );

    // What the harness applied carries the run id; the kind overlay's interval.
    let ns = Api::<Namespace>::all(f.client.clone())
        .get("opssight-production")
        .await
        .unwrap();
    assert_eq!(ns.metadata.labels.unwrap()["opssight-harness/run-id"], RUN);
    let creds = Api::<Secret>::namespaced(f.client.clone(), "opssight-production")
        .get("aws-secret")
        .await
        .unwrap();
    assert_eq!(
        creds.metadata.labels.unwrap()["opssight-harness/run-id"],
        RUN
    );
    let es = Api::<DynamicObject>::namespaced_with(
        f.client.clone(),
        "opssight-production",
        &eso_api::external_secret_resource(),
    )
    .get("opssight-app-secrets")
    .await
    .unwrap();
    assert_eq!(es.data["spec"]["refreshInterval"], "30s");
    assert_eq!(es.metadata.labels.unwrap()["opssight-harness/run-id"], RUN);
    let annotations = es.metadata.annotations.unwrap_or_default();
    assert!(
        annotations.contains_key("opssight-harness/refresh"),
        "the scenario's reset forces a refresh"
    );
    assert!(
        !annotations.contains_key("force-sync"),
        "the reset leaves the runbook's annotation to the runbook's command"
    );
    drop(f.kube);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_at_each_step_undoes_what_was_started() {
    let all = bring_up();
    let cases: [(&str, usize, bool); 6] = [
        ("kind create", 0, true),
        ("docker run", 1, true),
        ("docker port", 2, true),
        // LocalStack never reports Secrets Manager ready.
        ("", 2, false),
        ("helm repo", 3, true),
        ("helm upgrade", 4, true),
    ];
    for (fail, last, healthy) in cases {
        let f = fakes(healthy).await;
        let (code, out) = f
            .run(
                &args(&f.test_args("bring-up.feature")),
                &[("FAKE_FAIL", fail)],
            )
            .await;
        assert_eq!(code, Some(2), "failing at {fail:?}: {out}");
        if fail.is_empty() {
            assert!(
                out.contains("waiting for http://127.0.0.1:")
                    && out.contains("to report secretsmanager available or running (last: secretsmanager is initializing)"),
                "{out}"
            );
        } else {
            assert!(
                out.contains(&format!("`{fail}")),
                "the error names the command: {out}"
            );
        }
        let mut expected: Vec<String> = all[..=last].to_vec();
        // kind's logs saved first, then undo only what was (or was being)
        // made: the cluster always, the container once its start was
        // attempted.
        expected.push(export_logs());
        if last >= 1 {
            expected.push(format!("docker rm -f -v {CONTAINER}"));
        }
        expected.push(format!("kind delete cluster --name {CLUSTER}"));
        assert_calls(&f.calls(), &expected);
        assert!(out.contains(&format!(
            "cleaning up: kind delete cluster --name {CLUSTER}"
        )));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_cluster_is_kept_and_only_this_runs_objects_go() {
    let f = fakes(true).await;
    let mut a = f.test_args("bring-up.feature");
    a.extend(["--reuse-cluster".into(), "mine".into()]);
    let (code, out) = f.run(&args(&a), &[("FAKE_CLUSTERS", "other mine")]).await;
    assert_eq!(code, Some(0), "{out}");
    let mut expected = vec![
        "kind get clusters".to_owned(),
        format!("kind export kubeconfig --name mine --kubeconfig ART/kind-{RUN}/kubeconfig"),
    ];
    expected.extend(bring_up()[1..].iter().cloned());
    expected.push(format!("docker rm -f -v {CONTAINER}"));
    expected.push(format!(
        "kubectl --kubeconfig ART/kind-{RUN}/kubeconfig delete namespace -l opssight-harness/run-id={RUN} --ignore-not-found --wait=false"
    ));
    assert_calls(&f.calls(), &expected);

    // A cluster kind does not have: an error naming it, nothing started.
    let g = fakes(true).await;
    let (code, out) = g.run(&args(&a), &[("FAKE_CLUSTERS", "other")]).await;
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("--reuse-cluster mine: kind has no such cluster (it has: other)"),
        "{out}"
    );
    assert_calls(&g.calls(), &["kind get clusters".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_bring_up_stops_the_tool_and_cleans_up() {
    interrupted_during_bring_up("-INT", 130).await;
}

// A CI runner cancelling the job sends SIGTERM; a closed terminal SIGHUP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_bring_up_stops_the_tool_and_cleans_up() {
    interrupted_during_bring_up("-TERM", 143).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_during_bring_up_stops_the_tool_and_cleans_up() {
    interrupted_during_bring_up("-HUP", 129).await;
}

async fn interrupted_during_bring_up(signal: &str, code: i32) {
    let f = fakes(true).await;
    let mut child = f
        .command(
            &args(&f.test_args("bring-up.feature")),
            &[("FAKE_HELM_SLEEP", "60")],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until helm is installing ESO, then interrupt.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f.calls().iter().any(|c| c.starts_with("helm upgrade")) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after 30 s waiting for the bring-up to reach helm upgrade: {:#?}",
            f.calls()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().unwrap().to_string();
    let sent = tokio::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap_or_else(|_| {
            panic!("timed out after 30 s waiting for the harness to exit after kill {signal}")
        })
        .unwrap();
    assert_eq!(status.code(), Some(code), "after kill {signal}");
    let mut expected = bring_up();
    expected.extend(teardown());
    assert_calls(&f.calls(), &expected);
    // The interrupted helm (its own `sleep 60`: other tests run theirs at
    // the same time) was stopped, not left behind. Killed, it may stay a
    // zombie until reaped, whose command line is empty.
    let pid = std::fs::read_to_string(format!("{}.helm-pid", f.log.display())).unwrap();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid.trim())).unwrap_or_default();
    assert!(
        !cmdline.starts_with(b"sleep"),
        "the interrupted helm (pid {}) is still running",
        pid.trim()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_localstack_token_is_not_passed() {
    let f = fakes(true).await;
    let docker_run = |f: &Fakes| {
        f.calls()
            .into_iter()
            .find(|c| c.starts_with("docker run"))
            .expect("a docker run call")
    };
    let (code, out) = f
        .run(
            &args(&f.test_args("bring-up.feature")),
            &[("LOCALSTACK_AUTH_TOKEN", "")],
        )
        .await;
    assert_eq!(code, Some(0), "{out}");
    let run = docker_run(&f);
    assert!(
        !run.contains("LOCALSTACK_AUTH_TOKEN"),
        "an empty token was passed on: {run}"
    );
    // A fresh fake LocalStack: the first run's secrets are still in this one.
    let f = fakes(true).await;
    let (code, out) = f
        .run(
            &args(&f.test_args("bring-up.feature")),
            &[("LOCALSTACK_AUTH_TOKEN", "not-a-real-token")],
        )
        .await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        docker_run(&f).contains("-e LOCALSTACK_AUTH_TOKEN"),
        "a set token was not passed on: {}",
        docker_run(&f)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_leaves_everything_and_says_how_to_remove_it() {
    let f = fakes(true).await;
    let mut a = f.test_args("bring-up.feature");
    a.push("--keep".into());
    let (code, out) = f.run(&args(&a), &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert_calls(&f.calls(), &bring_up());
    assert!(out.contains("--keep: left running"), "{out}");
    assert!(
        out.contains(&format!("  kind delete cluster --name {CLUSTER}")),
        "{out}"
    );
    assert!(out.contains("opssight-harness down --all"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_all_removes_every_leftover_of_the_harness_only() {
    let f = fakes(true).await;
    let (code, out) = f
        .run(
            &["down", "--all"],
            &[
                (
                    "FAKE_CLUSTERS",
                    "opssight-harness-aaa other opssight-harness-bbb",
                ),
                ("FAKE_CONTAINERS", "c1 c2"),
            ],
        )
        .await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        f.calls(),
        [
            "kind get clusters",
            "kind delete cluster --name opssight-harness-aaa",
            "kind delete cluster --name opssight-harness-bbb",
            "docker ps -aq --filter label=opssight-harness.run-id",
            "docker rm -f -v c1 c2",
        ]
    );
    assert!(
        out.contains("removed kind cluster opssight-harness-aaa"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scenario_saves_the_localstack_and_controller_logs() {
    let f = fakes(true).await;
    let (code, out) = f
        .run(
            &args(&f.test_args("failing.feature")),
            &[("OPSSIGHT_WAIT_SECONDS", "2")],
        )
        .await;
    assert_eq!(code, Some(1), "{out}");
    let calls = f.calls();
    assert!(
        calls.contains(&format!("docker logs --tail 50 {CONTAINER}")),
        "{calls:#?}"
    );
    let mut expected = vec![export_logs()];
    expected.extend(teardown());
    assert_eq!(
        calls[calls.len() - 3..],
        expected,
        "kind's logs saved, then cleaned up after the failure"
    );
    assert!(
        out.contains(&format!(
            "the run failed, saving: {}",
            export_logs().replace("ART", &f.artifacts().display().to_string())
        )),
        "{out}"
    );
    let saved: String = std::fs::read_dir(f.artifacts())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "txt"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(saved.contains("== LocalStack log"), "{saved}");
    assert!(saved.contains("fake localstack log line"), "{saved}");
    assert!(saved.contains("== ExternalSecrets"), "{saved}");
}

/// The kind code path end to end: the sync scenarios pass through the kind
/// environment's bring-up and per-scenario reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_scenarios_pass_on_the_kind_code_path() {
    let f = fakes(true).await;
    let mut a = f.test_args("bring-up.feature");
    a[6] = "features/sync.feature".into();
    let (code, out) = f.run(&args(&a), &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("5 scenarios (4 passed, 1 skipped)"), "{out}");
    assert!(
        out.contains("the kind overlay shortens refreshInterval so refreshes happen in real time"),
        "{out}"
    );
    let mut expected = bring_up();
    expected.extend(teardown());
    assert_calls(&f.calls(), &expected);
}

/// The drill on the kind code path: destructive scenarios one after the
/// other on one cluster (the namespace deleted by one is waited for by the
/// next one's reset). Outage and controller restart need the real Docker and
/// Deployment controller, so they are left out here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drill_runs_on_the_kind_code_path() {
    let f = fakes(true).await;
    let reports = f.dir.path().join("reports");
    let artifacts = f.artifacts();
    let a = [
        "drill",
        "--env",
        "kind",
        "--run-id",
        RUN,
        "--tags",
        "not @requires-secrets-manager-outage and not @requires-controller-restart",
        "--report-dir",
        reports.to_str().unwrap(),
        "--artifacts",
        artifacts.to_str().unwrap(),
    ];
    let (code, out) = f.run(&a, &[]).await;
    assert_eq!(code, Some(0), "{out}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("drill-report.json")).unwrap()).unwrap();
    assert_eq!(report["environment"], "kind");
    let verdicts: Vec<(String, String)> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().into(),
                s["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    let met: Vec<&str> = verdicts
        .iter()
        .filter(|(_, v)| v == "met")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        met,
        [
            "A synced Secret deleted by hand is recreated",
            "ExternalSecret configuration lost, applied again, refresh forced",
            "The namespace is deleted and rebuilt",
        ],
        "{verdicts:?}"
    );
    assert!(
        verdicts.iter().all(|(_, v)| v == "met" || v == "not-run"),
        "{verdicts:?}"
    );
    let mut expected = bring_up();
    expected.extend(teardown());
    assert_calls(&f.calls(), &expected);
}

/// What one scenario breaks, the next one's reset mends: here `aws-secret`
/// deleted and the store invalid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_starts_clean_after_one_that_broke_the_store() {
    let f = fakes(true).await;
    let (code, out) = f.run(&args(&f.test_args("left-broken.feature")), &[]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 scenarios (2 passed)"), "{out}");
}

/// The outage is LocalStack's container stopped (its secrets read first)
/// and started again, its published port read again before it is used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_stops_localstack_and_starts_it_reading_its_port_again() {
    let f = fakes(true).await;
    let (code, out) = f.run(&args(&f.test_args("outage.feature")), &[]).await;
    assert_eq!(code, Some(0), "{out}");
    let mut expected = bring_up();
    expected.extend([
        format!("docker stop {CONTAINER}"),
        format!("docker start {CONTAINER}"),
        format!("docker port {CONTAINER} 4566/tcp"),
    ]);
    expected.extend(teardown());
    assert_calls(&f.calls(), &expected);
    assert!(
        !f.calls().iter().any(|c| c.contains("pause")),
        "a paused container still accepts connections: {:#?}",
        f.calls()
    );
    // What LocalStack held was read before the stop and written back after.
    let events: Vec<String> = f
        .aws
        .audit_events()
        .into_iter()
        .map(|e| e.event_name)
        .collect();
    let listed = events.iter().rposition(|n| n == "ListSecrets");
    assert!(listed.is_some(), "{events:?}");
    assert_eq!(
        events[listed.unwrap_or_default()..]
            .iter()
            .filter(|n| *n == "PutSecretValue")
            .count(),
        4,
        "{events:?}"
    );
}

/// A Docker daemon still waking up (Docker Desktop, colima) is waited for,
/// saying what for; the run then goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preflight_waits_for_a_docker_daemon_that_is_waking_up() {
    let f = fakes(true).await;
    let (code, out) = f
        .run(
            &args(&f.test_args("bring-up.feature")),
            &[("FAKE_DOCKER_ASLEEP", "3")],
        )
        .await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("waiting up to 30s for the Docker daemon to answer `docker info`")
            && out.contains("OPSSIGHT_DOCKER_WAIT_SECONDS changes how long"),
        "{out}"
    );
    let infos = f
        .calls()
        .iter()
        .filter(|c| c.starts_with("docker info"))
        .count();
    assert_eq!(infos, 4, "three failures, then an answer");
    assert!(
        f.calls()
            .iter()
            .any(|c| c.starts_with("kind create cluster")),
        "{:#?}",
        f.calls()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_daemon_that_never_answers_stops_the_run_after_the_wait() {
    let f = fakes(true).await;
    let (code, out) = f
        .run(
            &args(&f.test_args("bring-up.feature")),
            &[
                ("FAKE_DOCKER_ASLEEP", "1000"),
                ("OPSSIGHT_DOCKER_WAIT_SECONDS", "1"),
            ],
        )
        .await;
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("Docker is not reachable (still no answer after 1s: `docker info --format {{.ServerVersion}}` failed: Cannot connect to the Docker daemon"),
        "{out}"
    );
    assert!(
        f.calls().iter().all(|c| c.starts_with("docker info")
            || c.starts_with("kind version")
            || c.starts_with("helm version")
            || c.starts_with("kubectl version")),
        "nothing was started: {:#?}",
        f.calls()
    );
}

/// Helm 4 and a newer kind run (the latter with a warning); a kind known
/// not to work is refused before anything starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_versions_in_range_run_outside_warn_below_the_floor_refuse() {
    let f = fakes(true).await;
    let (code, out) = f
        .run(
            &args(&f.test_args("bring-up.feature")),
            &[("FAKE_HELM_VERSION", "v4.2.4+g1234567")],
        )
        .await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("tools: kind 0.30.0, helm 4.2.4, kubectl 1.33.4"),
        "{out}"
    );
    assert!(!out.contains("warning: helm"), "Helm 4 is tested: {out}");
    let mut expected = bring_up();
    expected.extend(teardown());
    assert_calls(&f.calls(), &expected);

    let f = fakes(true).await;
    let (code, out) = f
        .run(
            &args(&f.test_args("bring-up.feature")),
            &[("FAKE_KIND_VERSION", "kind v0.33.1 go1.25.0 darwin/arm64")],
        )
        .await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("warning: kind 0.33.1 is outside the tested 0.30 to 0.32 (the harness installs 0.30.0); it may work"),
        "{out}"
    );

    let f = fakes(true).await;
    let (code, out) = f
        .run(
            &args(&f.test_args("bring-up.feature")),
            &[("FAKE_KIND_VERSION", "kind v0.26.0 go1.23.4 linux/amd64")],
        )
        .await;
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("kind 0.26.0 is older than 0.27.0: kind before 0.27 cannot drive node images with containerd 2"),
        "{out}"
    );
    assert_eq!(
        f.calls().len(),
        4,
        "only the preflight ran: {:#?}",
        f.calls()
    );
}

/// A kubelet for the fake kubectl: the pod's mounted files follow the
/// Secret; its environment is what the Secret held when the pod (re)started
/// (`apply` leaves a `start` file), or, with `env_follows`, follows too
/// (a kubelet that got it wrong). Writes the lines the pod's report prints.
fn fake_kubelet(
    client: kube::Client,
    dir: PathBuf,
    env_follows: bool,
) -> tokio::task::JoinHandle<()> {
    use sha2::Digest as _;
    tokio::spawn(async move {
        let secrets = Api::<Secret>::namespaced(client, "opssight-production");
        loop {
            if let Ok(Some(secret)) = secrets.get_opt("opssight-app-secrets").await {
                let lines = |kind: &str| -> String {
                    secret
                        .data
                        .iter()
                        .flatten()
                        .map(|(k, v)| {
                            format!("{kind} {k} {}\n", hex::encode(sha2::Sha256::digest(&v.0)))
                        })
                        .collect()
                };
                let write = |name: &str, text: String| {
                    let tmp = dir.join(format!("{name}.tmp"));
                    if std::fs::write(&tmp, text).is_ok() {
                        let _ = std::fs::rename(&tmp, dir.join(name));
                    }
                };
                if dir.is_dir() {
                    write("files", lines("file"));
                    // The environment before the `start` mark goes: the
                    // fake `kubectl wait` reads `env` as soon as the mark
                    // is gone (the other order failed it under load).
                    let start = dir.join("start");
                    if start.exists() || env_follows {
                        write("env", lines("env"));
                        let _ = std::fs::remove_file(&start);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

async fn pods_run(env_follows: bool) -> (Fakes, Option<i32>, String) {
    let f = fakes(true).await;
    let kubelet_dir = f.dir.path().join("kubelet");
    let kubelet = fake_kubelet(f.client.clone(), kubelet_dir.clone(), env_follows);
    let mut a = f.test_args("bring-up.feature");
    a[6] = "features/pods.feature".into();
    let (code, out) = f
        .run(
            &args(&a),
            &[("FAKE_KUBELET_DIR", kubelet_dir.to_str().unwrap())],
        )
        .await;
    kubelet.abort();
    (f, code, out)
}

/// features/pods.feature on the kind code path: the pod applied and waited
/// for, read with `kubectl exec`, restarted, and the runbook's commands run
/// on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pod_scenarios_run_on_the_kind_code_path() {
    let (f, code, out) = pods_run(false).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("2 scenarios (2 passed)"), "{out}");
    let calls = f.calls();
    let kubectl: Vec<&str> = calls
        .iter()
        .map(String::as_str)
        .filter(|c| c.starts_with("kubectl ") && !c.starts_with("kubectl version"))
        .collect();
    let applies = kubectl
        .iter()
        .filter(|c| c.starts_with("kubectl apply -f ") && c.ends_with("/pod-opssight-app.json"))
        .count();
    // Each scenario's Background starts it; the first scenario restarts it.
    assert_eq!(applies, 3, "{kubectl:#?}");
    for expected in [
        "kubectl delete pod opssight-app -n opssight-production --ignore-not-found --wait=true",
        // OPSSIGHT_WAIT_SECONDS=10 is the patience here (180 s on a real kind).
        "kubectl wait --for=condition=Ready pod/opssight-app -n opssight-production --timeout=10s",
        "kubectl exec opssight-app -n opssight-production -- sh -c cd /etc/opssight-app-secrets && for k in *; do",
        "kubectl get secret opssight-app-secrets -n opssight-production",
        "kubectl describe pod opssight-app -n opssight-production",
    ] {
        assert!(kubectl.contains(&expected), "{expected}: {kubectl:#?}");
    }
    let mut expected = bring_up();
    expected.extend(teardown());
    let others: Vec<String> = calls
        .iter()
        .filter(|c| !c.starts_with("kubectl ") || c.starts_with("kubectl version"))
        .filter(|c| {
            c.starts_with("kubectl ")
                || c.starts_with("kind ")
                || c.starts_with("docker ")
                || c.starts_with("helm ")
        })
        .cloned()
        .collect();
    assert_calls(&others, &expected);
}

/// The scenario can fail: a kubelet that changed the environment of a
/// running container would be caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_that_follows_the_secret_fails_the_pod_scenario() {
    let (_f, code, out) = pods_run(true).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("the pod opssight-app's environment does not hold the previous values of opssight/production/app; these differ: env encryption_key"),
        "{out}"
    );
}
