//! The kube-emulator against the real kube-apiserver, request by request:
//! the corpus `tests/kube_api/requests.yaml` replayed on both, every
//! difference of status, content type or body held against the table in
//! harness/kube-emulator/README.md (an undeclared difference fails, and so
//! does a declared one no longer seen).
//!
//! The real side needs the components `scripts/build-real-components.sh`
//! builds; without them the test says so and passes, unless
//! `REQUIRE_BINARIES=1` (as `.ci/run` sets).

// Tests state what they expect with unwrap/expect (clippy.toml allows it
// in #[test] functions; this covers their helpers too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use opssight_harness::differential::compare;
use opssight_harness::differential::kube_api;
use opssight_harness::env::binaries::BinariesOptions;
use opssight_harness::fixtures::Fixtures;

mod common;
use common::repo_root;

fn corpus() -> Vec<kube_api::Request> {
    kube_api::load(&repo_root().join("harness/opssight-harness/tests/kube_api/requests.yaml"))
        .unwrap()
}

/// Without the real side: the corpus replays on the emulator, every request
/// answered (a request that hung or failed to send would say so here, not
/// only as a difference).
#[tokio::test]
async fn every_request_of_the_corpus_is_answered_by_the_emulator() {
    let requests = corpus();
    let recording = kube_api::on_kube_emulator(&requests).await.unwrap();
    assert_eq!(recording.scenarios.len(), requests.len());
    for (name, record) in &recording.scenarios {
        let fields = &record.checkpoints[0].fields;
        assert!(
            fields.contains_key("status"),
            "{name}: no response: {:?}",
            fields.get("response")
        );
    }
    // The values the corpus writes never show, only their length and hash.
    let text = serde_json::to_string(&recording).unwrap();
    for value in ["cGFzc3dvcmQtMQ==", "password-1", "cGFzc3dvcmQtMg=="] {
        assert!(!text.contains(value), "{value} is in the recording");
    }
}

#[tokio::test]
async fn the_emulator_differs_from_the_real_api_server_only_as_declared() {
    let Some(_components) = common::binaries_components() else {
        return;
    };
    let requests = corpus();
    let embedded = kube_api::on_kube_emulator(&requests).await.unwrap();
    let real = kube_api::on_real_apiserver(
        BinariesOptions::new(Fixtures::at(repo_root().join("fixtures"))),
        &requests,
    )
    .await
    .unwrap();
    let readme_path = repo_root().join("harness/kube-emulator/README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let declared = compare::declared(&readme, &readme_path).unwrap();
    let diffs = compare::differences(&embedded, &real);
    let verdict = compare::check(&diffs, &declared);
    assert!(
        verdict.ok(),
        "{}\nTo see it again: opssight-harness kube-api --env embedded --record e.json; \
         opssight-harness kube-api --env binaries --record r.json; opssight-harness differential \
         --embedded e.json --real r.json --declared harness/kube-emulator/README.md [--update]",
        compare::report(&diffs, &verdict, "real kube-apiserver")
    );
}
