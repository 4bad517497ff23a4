//! Paged lists: what a client paging through a changing collection sees,
//! the order across namespaces, and `kubectl get`'s pages of a Table. Each
//! runs on the real kube-apiserver too (`start_api`), and asserts only
//! what holds there as well (its continued lists are a snapshot, the
//! emulator's the current state).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::{Value, json};

use crate::support::*;

async fn create_secret(api: &Api<Secret>, name: &str, run: &str) {
    let s: Secret = serde_json::from_value(
        json!({"metadata": {"name": name, "labels": {"run": run}}, "stringData": {"k": "v"}}),
    )
    .unwrap();
    api.create(&PostParams::default(), &s).await.unwrap();
}

#[tokio::test]
async fn paging_through_writes_sees_each_object_at_most_once_in_key_order() {
    let env = start_api().await;
    let ns = env.ns("pages");
    namespace(&env.client, &ns).await;
    let api: Api<Secret> = Api::namespaced(env.client.clone(), &ns);
    let run = "paging";
    let original: Vec<String> = (0..40).map(|i| format!("s{i:02}")).collect();
    for name in &original {
        create_secret(&api, name, run).await;
    }
    let mut params = ListParams::default().labels(&format!("run={run}")).limit(6);
    let mut seen: Vec<String> = Vec::new();
    let mut deleted = BTreeSet::new();
    for page_number in 0.. {
        let page = api.list(&params).await.unwrap();
        assert!(page.items.len() <= 6);
        seen.extend(page.items.iter().filter_map(|s| s.metadata.name.clone()));
        // Between pages: delete one seen and one not yet seen, create one
        // behind the cursor and one ahead of it.
        let writes: &[(&str, &str)] = match page_number {
            0 => &[
                ("delete", "s02"),
                ("delete", "s20"),
                ("create", "s01a"),
                ("create", "s30a"),
            ],
            1 => &[("delete", "s25"), ("create", "s99")],
            _ => &[],
        };
        for (verb, name) in writes {
            if *verb == "delete" {
                api.delete(name, &DeleteParams::default()).await.unwrap();
                deleted.insert((*name).to_owned());
            } else {
                create_secret(&api, name, run).await;
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => params = params.continue_token(&c),
            None => break,
        }
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "each object at most once, in key order: {seen:?}"
    );
    for name in original.iter().filter(|n| !deleted.contains(*n)) {
        assert!(seen.contains(name), "{name}, there throughout, not seen");
    }
    assert!(
        !seen.iter().any(|n| n == "s01a"),
        "created behind the cursor, yet seen"
    );
}

#[tokio::test]
async fn the_first_page_counts_what_remains() {
    let env = start_api().await;
    let ns = env.ns("remaining");
    namespace(&env.client, &ns).await;
    let api: Api<Secret> = Api::namespaced(env.client.clone(), &ns);
    for i in 0..9 {
        create_secret(&api, &format!("s{i}"), "remaining").await;
    }
    let page = api.list(&ListParams::default().limit(4)).await.unwrap();
    // A namespace's ServiceAccount token Secrets are no more (since 1.24),
    // so the 9 are all there is.
    assert_eq!(page.items.len(), 4);
    assert_eq!(page.metadata.remaining_item_count, Some(5));
    let next = api
        .list(
            &ListParams::default()
                .limit(4)
                .continue_token(page.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(next.metadata.remaining_item_count, Some(1));
    assert_eq!(next.items[0].metadata.name.as_deref(), Some("s4"));
}

#[tokio::test]
async fn across_namespaces_objects_come_in_etcd_key_order() {
    let env = start_api().await;
    // '-' sorts before '/': all of `x-y`'s keys (`x-y/...`) before `x`'s.
    let (first, second) = (env.ns("x"), env.ns("x-y"));
    let label = format!("order={}", env.ns("o"));
    for ns in [&first, &second] {
        namespace(&env.client, ns).await;
        let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), ns);
        for name in ["a", "b"] {
            let m: ConfigMap = serde_json::from_value(
                json!({"metadata": {"name": name, "labels": {"order": env.ns("o")}}}),
            )
            .unwrap();
            maps.create(&PostParams::default(), &m).await.unwrap();
        }
    }
    let all: Api<ConfigMap> = Api::all(env.client.clone());
    let key = |m: &ConfigMap| {
        format!(
            "{}/{}",
            m.metadata.namespace.clone().unwrap_or_default(),
            m.metadata.name.clone().unwrap_or_default()
        )
    };
    let listed: Vec<String> = all
        .list(&ListParams::default().labels(&label))
        .await
        .unwrap()
        .items
        .iter()
        .map(key)
        .collect();
    assert_eq!(
        listed,
        [
            format!("{second}/a"),
            format!("{second}/b"),
            format!("{first}/a"),
            format!("{first}/b")
        ]
    );
    let mut paged = Vec::new();
    let mut params = ListParams::default().labels(&label).limit(1);
    loop {
        let page = all.list(&params).await.unwrap();
        paged.extend(page.items.iter().map(key));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => params = params.continue_token(&c),
            None => break,
        }
    }
    assert_eq!(paged, listed);
}

#[tokio::test]
async fn a_table_page_carries_the_continue_token_kubectl_follows() {
    let env = start_api().await;
    let ns = env.ns("table");
    namespace(&env.client, &ns).await;
    let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), &ns);
    for name in ["a", "b", "c"] {
        let m: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": name, "labels": {"t": "y"}}}))
                .unwrap();
        maps.create(&PostParams::default(), &m).await.unwrap();
    }
    let page = |token: &str| {
        let request = http::Request::get(format!(
            "/api/v1/namespaces/{ns}/configmaps?labelSelector=t%3Dy&limit=2&continue={token}"
        ))
        .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(Vec::new())
        .unwrap();
        let client = env.client.clone();
        async move { client.request::<Value>(request).await.unwrap() }
    };
    let names = |t: &Value| -> Vec<String> {
        t["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["object"]["metadata"]["name"].as_str().map(str::to_owned))
            .collect()
    };
    let first = page("").await;
    assert_eq!(first["kind"], "Table");
    assert_eq!(names(&first), ["a", "b"]);
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("a continue token in the Table's metadata")
        .to_owned();
    let second = page(&token).await;
    assert_eq!(names(&second), ["c"]);
    assert!(second["metadata"].get("continue").is_none_or(|c| c == ""));
}

/// A page that reached its limit has a next page when anything follows it,
/// as etcd's store decides, though nothing after it matches the selector:
/// the next page is then empty.
#[tokio::test]
async fn a_full_filtered_page_has_a_next_page_when_anything_follows() {
    let env = start_api().await;
    let ns = env.ns("filtered");
    namespace(&env.client, &ns).await;
    let maps: Api<ConfigMap> = Api::namespaced(env.client.clone(), &ns);
    for (name, label) in [("a", "y"), ("b", "y"), ("z", "n")] {
        let m: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": name, "labels": {"t": label}}}))
                .unwrap();
        maps.create(&PostParams::default(), &m).await.unwrap();
    }
    let params = ListParams::default().labels("t=y").limit(2);
    let first = maps.list(&params).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first
        .metadata
        .continue_
        .filter(|c| !c.is_empty())
        .expect("a continue token: z follows the page");
    let next = maps.list(&params.continue_token(&token)).await.unwrap();
    assert!(next.items.is_empty());
    assert!(next.metadata.continue_.is_none_or(|c| c.is_empty()));
}
