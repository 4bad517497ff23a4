//! Deployments run Pods through a `PodRunner`: ReplicaSet and Pod made by
//! the controllers, the runner started and stopped by scaling, status
//! `1/1` then `0/0`, the Pod's log (and following it), the printers'
//! tables, and who the client is (reviews, impersonation). Emulator only:
//! the real kube-apiserver of the binaries environment has no kubelet.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, LogParams, Patch, PatchParams, PostParams};
use kube_emulator::{PodLog, PodRef, PodRunner};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);

/// A runner that counts what it was asked and keeps a log.
#[derive(Default)]
struct Recorder {
    running: Mutex<Vec<String>>,
    starts: Mutex<usize>,
    stops: Mutex<usize>,
    log: Mutex<Option<broadcast::Sender<String>>>,
}

impl Recorder {
    fn running(&self) -> Vec<String> {
        self.running.lock().unwrap().clone()
    }

    fn write(&self, line: &str) {
        if let Some(tx) = self.log.lock().unwrap().as_ref() {
            let _ = tx.send(line.to_owned());
        }
    }
}

impl PodRunner for Recorder {
    fn start(&self, pod: &PodRef) -> BoxFuture<'static, Result<(), String>> {
        assert_eq!(pod.deployment.as_deref(), Some("web"), "{pod:?}");
        self.running.lock().unwrap().push(pod.name.clone());
        *self.starts.lock().unwrap() += 1;
        *self.log.lock().unwrap() = Some(broadcast::channel(16).0);
        Box::pin(async { Ok(()) })
    }

    fn stop(&self, pod: &PodRef) -> BoxFuture<'static, ()> {
        self.running.lock().unwrap().retain(|p| *p != pod.name);
        *self.stops.lock().unwrap() += 1;
        // Dropping the sender ends every follower's stream.
        *self.log.lock().unwrap() = None;
        Box::pin(async {})
    }

    fn log(&self, pod: &PodRef) -> PodLog {
        PodLog {
            lines: vec![format!("started as {}", pod.name), "second line".into()],
            follow: self.log.lock().unwrap().as_ref().map(|tx| tx.subscribe()),
        }
    }
}

/// Waits (at most WAIT) until `done` holds, naming what it waited for.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(WAIT, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "timed out after {WAIT:?} waiting for {what}"
    );
}

async fn deployment_until(api: &Api<Deployment>, what: &str, f: impl Fn(&Deployment) -> bool) {
    let cond =
        kube::runtime::wait::await_condition(api.clone(), "web", move |d: Option<&Deployment>| {
            d.is_some_and(&f)
        });
    let r = tokio::time::timeout(WAIT, cond).await;
    assert!(r.is_ok(), "timed out after {WAIT:?} waiting for {what}");
}

fn web() -> Deployment {
    serde_json::from_value(json!({
        "metadata": { "name": "web" },
        "spec": {
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": { "containers": [{ "name": "server", "image": "web:1.0" }] },
            },
        },
    }))
    .unwrap()
}

fn counts(d: &Deployment) -> (i32, i32, i32) {
    let s = d.status.clone().unwrap_or_default();
    (
        d.spec.replicas.unwrap_or(-1),
        s.ready_replicas.unwrap_or(0),
        s.available_replicas.unwrap_or(0),
    )
}

/// An emulator whose Deployment `web` (namespace `apps`) runs its one Pod
/// through a [`Recorder`].
async fn web_running() -> (Env, Arc<Recorder>, Api<Deployment>) {
    let env = start().await;
    namespace(&env.client, "apps").await;
    let runner = Arc::new(Recorder::default());
    env.emulator.run_pods_of("apps", "web", runner.clone());
    let deployments: Api<Deployment> = Api::namespaced(env.client.clone(), "apps");
    deployments
        .create(&PostParams::default(), &web())
        .await
        .unwrap();
    deployment_until(&deployments, "web 1/1 available", |d| {
        counts(d) == (1, 1, 1)
    })
    .await;
    (env, runner, deployments)
}

#[tokio::test]
async fn a_deployment_runs_its_pod_and_scaling_stops_and_starts_it() {
    let (env, runner, deployments) = web_running().await;
    assert_eq!(runner.running().len(), 1);

    let rs: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "apps");
    let sets = rs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(sets.len(), 1);
    let set = &sets[0];
    let hash = &set.metadata.labels.as_ref().unwrap()["pod-template-hash"];
    assert_eq!(
        set.metadata.name.as_deref(),
        Some(format!("web-{hash}").as_str())
    );
    let owner = &set.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("Deployment", Some(true))
    );

    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "apps");
    let list = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items;
    assert_eq!(list.len(), 1);
    let pod = &list[0];
    let pod_name = pod.metadata.name.clone().unwrap();
    assert_eq!(runner.running(), vec![pod_name.clone()]);
    assert!(pod_name.starts_with(&format!("web-{hash}-")), "{pod_name}");
    let status = pod.status.clone().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert!(status.container_statuses.unwrap()[0].ready);
    assert_eq!(
        pod.spec.as_ref().unwrap().node_name.as_deref(),
        Some("kube-emulator")
    );

    // The log subresource: the runner's lines, then what it writes while followed.
    let text = pods.logs(&pod_name, &LogParams::default()).await.unwrap();
    assert_eq!(text, format!("started as {pod_name}\nsecond line\n"));
    let tail = pods
        .logs(
            &pod_name,
            &LogParams {
                tail_lines: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(tail, "second line\n");
    let mut lines = pods
        .log_stream(
            &pod_name,
            &LogParams {
                follow: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lines();
    assert_eq!(
        lines.next().await.unwrap().unwrap(),
        format!("started as {pod_name}")
    );
    assert_eq!(lines.next().await.unwrap().unwrap(), "second line");
    runner.write("written while followed");
    let followed = tokio::time::timeout(WAIT, lines.next()).await;
    assert_eq!(
        followed
            .expect("a followed line within 10s")
            .unwrap()
            .unwrap(),
        "written while followed"
    );

    // Scaling to 0 through the scale subresource stops the runner; the
    // follower's stream ends with it.
    let scale = deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 0 } })),
        )
        .await
        .unwrap();
    // autoscaling/v1 omits replicas 0, as the real server's Scale does.
    assert_eq!(scale.spec.unwrap().replicas, None);
    until("the runner stopped", || runner.running().is_empty()).await;
    let ended = tokio::time::timeout(WAIT, lines.next()).await;
    assert!(
        matches!(ended, Ok(None)),
        "the followed log ends when the container stops"
    );
    deployment_until(&deployments, "web 0/0", |d| {
        counts(d) == (0, 0, 0) && d.status.as_ref().and_then(|s| s.replicas).is_none()
    })
    .await;
    gone_within(&pods, &pod_name, pod.metadata.uid.as_deref(), WAIT).await;
    assert_eq!(*runner.stops.lock().unwrap(), 1);

    // And back: a new Pod, started again.
    deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "replicas": 1 } })),
        )
        .await
        .unwrap();
    deployment_until(&deployments, "web 1/1 again", |d| counts(d) == (1, 1, 1)).await;
    assert_eq!(*runner.starts.lock().unwrap(), 2);
    let again = pods.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].metadata.name.as_deref(), Some(pod_name.as_str()));

    // The controllers said what they did.
    let events: Api<k8s_openapi::api::core::v1::Event> =
        Api::namespaced(env.client.clone(), "apps");
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    for r in [
        "ScalingReplicaSet",
        "SuccessfulCreate",
        "SuccessfulDelete",
        "Scheduled",
        "Started",
        "Killing",
    ] {
        assert!(
            reasons.iter().any(|x| x == r),
            "no {r} event in {reasons:?}"
        );
    }
}

/// `kubectl delete pod --force --grace-period=0`: the Pod goes at once,
/// its answer marked (grace 0, generation moved), what ran stops, and
/// its ReplicaSet makes another; a graceful deletion waits for the stop.
#[tokio::test]
async fn a_pod_deleted_at_once_goes_now_and_stops_what_ran() {
    let (env, runner, _deployments) = web_running().await;
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "apps");
    let first = pods.list(&ListParams::default()).await.unwrap().items[0].clone();
    let name = first.metadata.name.clone().unwrap();
    let generation = first.metadata.generation.unwrap();

    let answer = pods
        .delete(&name, &DeleteParams::default().grace_period(0))
        .await
        .unwrap()
        .left()
        .expect("a Pod's deletion answers with the Pod");
    assert_eq!(answer.metadata.deletion_grace_period_seconds, Some(0));
    assert!(answer.metadata.deletion_timestamp.is_some());
    assert_eq!(answer.metadata.generation, Some(generation + 1));
    let status = status_of(pods.get(&name).await);
    assert_eq!(status.code, 404, "the Pod is gone at once: {status:?}");
    until("the runner stopped the force-deleted Pod", || {
        *runner.stops.lock().unwrap() == 1
    })
    .await;
    until("the ReplicaSet's new Pod runs", || {
        runner.running().len() == 1 && runner.running()[0] != name
    })
    .await;

    // Graceful: marked with the spec's 30 s, generation moved; gone once
    // the runner has stopped it; a second deletion changes nothing.
    let second = runner.running()[0].clone();
    let marked = pods
        .delete(&second, &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert_eq!(marked.metadata.deletion_grace_period_seconds, Some(30));
    let again = pods.delete(&second, &DeleteParams::default()).await;
    if let Ok(either) = again {
        let p = either.left().expect("the Pod while it stops");
        assert_eq!(p.metadata.generation, marked.metadata.generation);
    }
    gone_within(&pods, &second, marked.metadata.uid.as_deref(), WAIT).await;
    assert_eq!(*runner.stops.lock().unwrap(), 2);
}

#[tokio::test]
async fn a_pod_no_runner_claims_runs_and_its_log_is_empty() {
    let env = start().await;
    namespace(&env.client, "apps").await;
    let deployments: Api<Deployment> = Api::namespaced(env.client.clone(), "apps");
    deployments
        .create(&PostParams::default(), &web())
        .await
        .unwrap();
    deployment_until(&deployments, "web 1/1 available", |d| {
        counts(d) == (1, 1, 1)
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "apps");
    let name = pods.list(&ListParams::default()).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    assert_eq!(pods.logs(&name, &LogParams::default()).await.unwrap(), "");
    let e = status_of(
        pods.logs(
            &name,
            &LogParams {
                container: Some("other".into()),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            400,
            format!("container other is not valid for pod {name}").as_str()
        )
    );
    // Deleting the Deployment takes its ReplicaSet and Pod with it.
    deployments
        .delete("web", &Default::default())
        .await
        .unwrap();
    let cond = async {
        loop {
            if pods
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .is_empty()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert!(
        tokio::time::timeout(WAIT, cond).await.is_ok(),
        "timed out waiting for the pods of a deleted deployment to go"
    );
}

async fn table(env: &Env, path: &str) -> Value {
    http(&env.emulator)
        .get(format!("{}{path}", env.emulator.url()))
        .bearer_auth(env.emulator.token())
        .header(
            "accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn columns(t: &Value) -> Vec<(String, i64)> {
    t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["priority"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn shown(t: &Value) -> Vec<String> {
    columns(t)
        .into_iter()
        .filter(|(_, p)| *p == 0)
        .map(|(n, _)| n)
        .collect()
}

#[tokio::test]
async fn tables_have_the_real_printers_columns() {
    let env = start().await;
    namespace(&env.client, "apps").await;
    let deployments: Api<Deployment> = Api::namespaced(env.client.clone(), "apps");
    deployments
        .create(&PostParams::default(), &web())
        .await
        .unwrap();
    deployment_until(&deployments, "web 1/1 available", |d| {
        counts(d) == (1, 1, 1)
    })
    .await;

    let events = table(&env, "/api/v1/namespaces/apps/events").await;
    assert_eq!(
        shown(&events),
        ["Last Seen", "Type", "Reason", "Object", "Message"]
    );
    assert_eq!(columns(&events).len(), 10, "the wide columns are sent too");
    let row = events["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cells"][2] == "ScalingReplicaSet")
        .expect("a ScalingReplicaSet event");
    assert_eq!(row["cells"][3], "deployment/web");
    assert!(
        row["cells"][6]
            .as_str()
            .unwrap()
            .starts_with("Scaled up replica set web-"),
        "{row}"
    );

    let d = table(&env, "/apis/apps/v1/namespaces/apps/deployments").await;
    assert_eq!(
        shown(&d),
        ["Name", "Ready", "Up-to-date", "Available", "Age"]
    );
    assert_eq!(d["rows"][0]["cells"][1], "1/1");
    assert_eq!(d["rows"][0]["cells"][7], "app=web");

    let rs = table(&env, "/apis/apps/v1/namespaces/apps/replicasets").await;
    assert_eq!(shown(&rs), ["Name", "Desired", "Current", "Ready", "Age"]);
    assert_eq!(
        rs["rows"][0]["cells"].as_array().unwrap()[1..4],
        [json!(1), json!(1), json!(1)]
    );

    let pods = table(&env, "/api/v1/pods").await;
    assert_eq!(shown(&pods), ["Name", "Ready", "Status", "Restarts", "Age"]);
    let cells = &pods["rows"][0]["cells"];
    assert_eq!(
        cells.as_array().unwrap()[1..4],
        [json!("1/1"), json!("Running"), json!("0")]
    );
    assert_eq!(cells[6], "kube-emulator");

    // `kubectl get all` lists what discovery puts in the `all` category.
    let core: Value = http(&env.emulator)
        .get(format!("{}/apis/apps/v1", env.emulator.url()))
        .bearer_auth(env.emulator.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all: Vec<&str> = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["categories"]
                .as_array()
                .is_some_and(|c| c.contains(&json!("all")))
        })
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(all, ["deployments", "replicasets"]);
    let scale = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .expect("deployments/scale in discovery");
    assert_eq!(
        (&scale["group"], &scale["version"], &scale["kind"]),
        (&json!("autoscaling"), &json!("v1"), &json!("Scale"))
    );
}

/// A strategic merge patch of the Pod `reader` in `stored`.
async fn patch_pod(env: &Env, body: Value) -> (u16, Value) {
    let resp = http(&env.emulator)
        .patch(format!(
            "{}/api/v1/namespaces/stored/pods/reader",
            env.emulator.url()
        ))
        .bearer_auth(env.emulator.token())
        .header("content-type", "application/strategic-merge-patch+json")
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn get(env: &Env, path: &str) -> reqwest::Response {
    http(&env.emulator)
        .get(format!("{}{path}", env.emulator.url()))
        .bearer_auth(env.emulator.token())
        .send()
        .await
        .unwrap()
}

async fn post(env: &Env, path: &str, body: Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = http(&env.emulator)
        .post(format!("{}{path}", env.emulator.url()))
        .bearer_auth(env.emulator.token())
        .json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn the_client_learns_who_it_is_and_that_it_may_do_anything() {
    let env = start().await;
    let (code, who) = post(
        &env,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json!({ "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview" }),
        &[],
    )
    .await;
    assert_eq!(code, 201, "{who}");
    assert_eq!(who["status"]["userInfo"]["username"], "kube-emulator-admin");
    assert_eq!(
        who["status"]["userInfo"]["groups"],
        json!(["system:masters", "system:authenticated"])
    );

    let (code, may) = post(
        &env,
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        json!({ "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": { "resourceAttributes": { "namespace": "default", "verb": "delete", "resource": "secrets" } } }),
        &[],
    )
    .await;
    assert_eq!(
        (code, &may["status"]["allowed"]),
        (201, &json!(true)),
        "{may}"
    );

    // Reviews are answered, not kept.
    let listed = get(
        &env,
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    )
    .await;
    assert_eq!(listed.status().as_u16(), 405);

    let (code, refused) = post(
        &env,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json!({ "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview" }),
        &[("Impersonate-User", "bob")],
    )
    .await;
    assert_eq!(
        (code, &refused["reason"]),
        (403, &json!("Forbidden")),
        "{refused}"
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("does not implement impersonation"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_scale_shows_the_replicas_and_refuses_negative_ones() {
    let env = start().await;
    namespace(&env.client, "apps").await;
    let deployments: Api<Deployment> = Api::namespaced(env.client.clone(), "apps");
    deployments
        .create(&PostParams::default(), &web())
        .await
        .unwrap();
    let scale = deployments.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(1));
    assert_eq!(scale.status.unwrap().selector.as_deref(), Some("app=web"));
    let e = status_of(
        deployments
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "replicas": -2 } })),
            )
            .await,
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert!(
        e.message.contains("must be greater than or equal to 0"),
        "{}",
        e.message
    );
    let got = deployments.get("web").await.unwrap();
    assert_eq!(got.spec.replicas, Some(1));
}

/// What the real server stores for new workload objects and events, as the
/// kube API differential found them (v1.34.4): template defaults, the
/// Deployment's selector rules, a Pod's token volume and tolerations, an
/// Event's unset fields.
/// A ReplicaSet written by a client: defaulted and validated as
/// ValidateReplicaSetSpec does (the Deployment's rules), its zero status
/// shown; replicas are never negative; a Scale omits replicas 0.
#[tokio::test]
async fn replica_sets_are_checked_as_deployments_are() {
    let env = start().await;
    namespace(&env.client, "rs").await;
    let template = json!({"metadata": {"labels": {"app": "rs"}},
        "spec": {"containers": [{"name": "app", "image": "example.test/app:1.0"}]}});
    let rs = |name: &str, spec: Value| json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name}, "spec": spec});
    let base = "/apis/apps/v1/namespaces/rs/replicasets";
    let (status, made) = post(
        &env,
        base,
        rs("rs", json!({"replicas": 0, "selector": {"matchLabels": {"app": "rs"}}, "template": template})),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["status"], json!({"replicas": 0}));
    let scale: Value = get(&env, &format!("{base}/rs/scale"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(scale["spec"], json!({}), "{scale}");

    let (status, e) = post(
        &env,
        base,
        rs(
            "rs-bad",
            json!({"selector": {"matchLabels": {"app": "other"}}, "template": template}),
        ),
        &[],
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(
        e["message"],
        r#"ReplicaSet.apps "rs-bad" is invalid: spec.template.metadata.labels: Invalid value: {"app":"rs"}: `selector` does not match template `labels`"#
    );
    let (status, e) = post(
        &env,
        "/apis/apps/v1/namespaces/rs/deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "neg"},
            "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "rs"}}, "template": template}}),
        &[],
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(
        e["message"],
        r#"Deployment.apps "neg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#
    );
}

#[tokio::test]
async fn new_objects_are_stored_with_the_real_servers_defaults_and_admission() {
    let env = start().await;
    namespace(&env.client, "stored").await;
    let base = "/apis/apps/v1/namespaces/stored/deployments";
    let template = json!({"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "example.test/app:1.0"}]}});

    let (status, d) = post(&env, base, json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template}}), &[]).await;
    assert_eq!(status, 201, "{d}");
    let spec = &d["spec"]["template"]["spec"];
    assert_eq!(spec["restartPolicy"], "Always");
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["containers"][0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(
        spec["containers"][0]["terminationMessagePath"],
        "/dev/termination-log"
    );
    // A template is not a Pod: no service account, token or tolerations.
    assert!(
        spec.get("serviceAccountName").is_none() && spec.get("volumes").is_none(),
        "{spec}"
    );

    let (status, e) = post(
        &env,
        base,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web-bad"}, "spec": {"template": template}}),
        &[],
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(
        e["message"],
        "Deployment.apps \"web-bad\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`]"
    );
    let (status, e) = post(&env, base, json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web-other"}, "spec": {"selector": {"matchLabels": {"app": "other"}}, "template": template}}), &[]).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(
        e["details"]["causes"][0]["field"],
        "spec.template.metadata.labels"
    );

    let pods = "/api/v1/namespaces/stored/pods";
    let container = json!({"name": "app", "image": "example.test/app:latest"});
    let (status, p) = post(
        &env,
        pods,
        json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "reader"}, "spec": {"containers": [container]}}),
        &[],
    )
    .await;
    assert_eq!(status, 201, "{p}");
    let volume = p["spec"]["volumes"][0]["name"].as_str().unwrap().to_owned();
    assert!(
        volume.starts_with("kube-api-access-") && volume.len() == 21,
        "{volume}"
    );
    assert_eq!(
        p["spec"]["containers"][0]["volumeMounts"][0],
        json!({"name": volume, "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    );
    let tolerated: Vec<&str> = p["spec"]["tolerations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        tolerated,
        [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable"
        ]
    );
    // An update may change a container's image (strategic merge by the
    // container's name, the rest kept; generation 2), not its env.
    let (status, p) = patch_pod(
        &env,
        json!({"spec": {"containers": [{"name": "app", "image": "example.test/app:2.0"}]}}),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["metadata"]["generation"], 2);
    assert_eq!(p["spec"]["containers"][0]["image"], "example.test/app:2.0");
    assert_eq!(
        p["spec"]["containers"][0]["volumeMounts"][0]["name"],
        volume.as_str()
    );
    let (status, e) = patch_pod(&env, json!({"spec": {"containers": [{"name": "app", "env": [{"name": "MODE", "value": "debug"}]}]}})).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["details"]["causes"][0]["reason"], "FieldValueForbidden");
    // Turned off on the Pod: no token volume.
    let (status, p) = post(&env, pods, json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "no-token"}, "spec": {"automountServiceAccountToken": false, "containers": [container]}}), &[]).await;
    assert_eq!(status, 201, "{p}");
    assert!(p["spec"].get("volumes").is_none(), "{p}");

    let (status, ev) = post(&env, "/api/v1/namespaces/stored/events", json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "e1"}, "involvedObject": {"kind": "Pod", "name": "reader", "namespace": "stored"},
        "reason": "Started", "message": "started", "type": "Normal"}), &[]).await;
    assert_eq!(status, 201, "{ev}");
    for field in ["eventTime", "firstTimestamp", "lastTimestamp"] {
        assert_eq!(ev.get(field), Some(&Value::Null), "{field}: {ev}");
    }
    assert_eq!(ev["reportingComponent"], "");
    let v1: Value = get(&env, "/apis/events.k8s.io/v1/namespaces/stored/events/e1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v1.get("deprecatedFirstTimestamp"),
        Some(&Value::Null),
        "{v1}"
    );
    assert!(v1.get("reportingController").is_none(), "{v1}");
}
