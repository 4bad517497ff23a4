//! Breaking the system makes the suite fail, and say why: each mutation of
//! the fixtures, one at a time, turns the relevant feature red.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use common::copy_dir;

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Patches the overlay so that opssight-app-secrets refreshes never
/// (refreshInterval 0), the patch listed after `after`, the overlay's own.
fn never_refreshed(fixtures: &Path, overlay: &str, after: &str) {
    let overlay = fixtures.join("k8s/overlays").join(overlay);
    std::fs::write(
        overlay.join("no-refresh.yaml"),
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: opssight-app-secrets\n  namespace: opssight-production\nspec:\n  refreshInterval: 0s\n",
    )
    .unwrap();
    edit(
        &overlay.join("kustomization.yaml"),
        &format!("- path: {after}"),
        &format!("- path: {after}\n- path: no-refresh.yaml"),
    );
}

struct Mutation {
    name: &'static str,
    feature: &'static str,
    apply: fn(&Path),
    /// What the failure report must say.
    expect: &'static str,
}

const MUTATIONS: &[Mutation] = &[
    Mutation {
        name: "wrong remote key",
        feature: "sync.feature",
        apply: |f| {
            edit(
                &f.join("k8s/base/external-secrets.yaml"),
                "key: opssight/production/app",
                "key: opssight/production/application",
            )
        },
        expect: "Secret does not exist",
    },
    Mutation {
        name: "wrong property",
        feature: "sync.feature",
        apply: |f| {
            edit(
                &f.join("k8s/base/external-secrets.yaml"),
                "  dataFrom:\n  - extract:\n      key: opssight/production/redis",
                "  data:\n  - secretKey: password\n    remoteRef:\n      key: opssight/production/redis\n      property: passwd",
            )
        },
        expect: "key passwd does not exist in secret opssight/production/redis",
    },
    Mutation {
        name: "wrong target name",
        feature: "sync.feature",
        apply: |f| {
            edit(
                &f.join("k8s/base/external-secrets.yaml"),
                "    name: opssight-database-secrets\n    creationPolicy",
                "    name: opssight-db-secrets\n    creationPolicy",
            )
        },
        expect: "opssight-database-secrets",
    },
    Mutation {
        name: "refreshInterval 0 in production",
        feature: "manifests.feature",
        apply: |f| never_refreshed(f, "production", "secret-store-irsa.yaml"),
        expect: "refreshes every 0s, not 1h",
    },
    // ESO ignores a force-sync annotation on an ExternalSecret that
    // refreshes never: a scenario that forces a refresh and then waits for
    // Ready must see that nothing was refreshed (the restore from a
    // snapshot holds the same values, so nothing else tells).
    Mutation {
        name: "refreshInterval 0 where refreshes are forced",
        feature: "disaster_recovery.feature",
        apply: |f| never_refreshed(f, "local", "secret-store-static.yaml"),
        expect: "ExternalSecret opssight-app-secrets to be Ready=True with reason SecretSynced, synced since its refresh was forced",
    },
    Mutation {
        name: "a wider IAM action",
        feature: "manifests.feature",
        apply: |f| {
            edit(
                &f.join("iam/opssight-external-secrets-policy.json"),
                "\"secretsmanager:DescribeSecret\"",
                "\"secretsmanager:DescribeSecret\",\n        \"secretsmanager:PutSecretValue\"",
            )
        },
        expect: "the IAM policy allows",
    },
];

fn run(fixtures: &Path, feature: &Path, artifacts: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        // These runs are about the embedded environment, whatever the shell says.
        .env_remove("OPSSIGHT_ENV")
        .args(["test", "--features"])
        .arg(feature)
        .arg("--artifacts")
        .arg(artifacts)
        .env("OPSSIGHT_FIXTURES", fixtures)
        // A mutated fixture is a new kustomize cache key each time: keep
        // those builds out of the user's cache.
        .env("XDG_CACHE_HOME", artifacts.join("cache"))
        .env("OPSSIGHT_WAIT_SECONDS", "4")
        .output()
        .expect("running opssight-harness");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn each_mutation_turns_the_suite_red_with_a_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let features: PathBuf = root.join("features");
    let work = tempfile::tempdir().unwrap();
    // The unmutated copy passes: the failures below are the mutations' doing.
    let pristine = work.path().join("pristine");
    copy_dir(&root.join("fixtures"), &pristine);
    for m in MUTATIONS {
        let dir = work.path().join(m.name.replace(' ', "-"));
        copy_dir(&root.join("fixtures"), &dir);
        (m.apply)(&dir);
    }
    // Every run at once, each in its own directories: a mutation's run
    // mostly waits out OPSSIGHT_WAIT_SECONDS for what never comes, so side
    // by side they take the time of the slowest instead of the sum.
    let (pristine_reports, mutation_reports) = std::thread::scope(|scope| {
        let pristine_runs: Vec<_> = [
            "sync.feature",
            "manifests.feature",
            "disaster_recovery.feature",
        ]
        .into_iter()
        .map(|feature| {
            let (pristine, features, work) = (&pristine, &features, work.path());
            scope.spawn(move || {
                let artifacts = work.join(format!("artifacts-pristine-{feature}"));
                (feature, run(pristine, &features.join(feature), &artifacts))
            })
        })
        .collect();
        let mutation_runs: Vec<_> = MUTATIONS
            .iter()
            .map(|m| {
                let (features, work) = (&features, work.path());
                scope.spawn(move || {
                    let slug = m.name.replace(' ', "-");
                    let artifacts = work.join(format!("artifacts-{slug}"));
                    (
                        m,
                        run(&work.join(&slug), &features.join(m.feature), &artifacts),
                    )
                })
            })
            .collect();
        (
            pristine_runs
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>(),
            mutation_runs
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>(),
        )
    });
    for (feature, (ok, report)) in pristine_reports {
        assert!(ok, "{feature} fails on the unmutated fixtures:\n{report}");
    }
    let mut missed = Vec::new();
    for (m, (ok, report)) in mutation_reports {
        if ok {
            missed.push(format!("{}: {} still passes", m.name, m.feature));
        } else if !report.contains(m.expect) {
            missed.push(format!(
                "{}: {} fails without saying {:?}:\n{report}",
                m.name, m.feature, m.expect
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n\n"));
}
