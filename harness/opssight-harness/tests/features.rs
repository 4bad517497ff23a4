//! `cargo test` runs every scenario of features/, on the embedded
//! environment unless `OPSSIGHT_ENV` says `kind` (brought up and torn down
//! around the run), `binaries` (the real ESO and control plane as local
//! processes, `OPSSIGHT_SECRETS_MANAGER=moto` for moto behind them) or `existing` (the current kubeconfig context;
//! `OPSSIGHT_ALLOW_DESTRUCTIVE=1` lets scenarios change it). A cucumber run,
//! not libtest, that speaks just enough of libtest's command line to be one
//! test named `suite`: `cargo nextest` can list and run it, and `cargo test
//! --workspace -- some_filter` skips it unless the filter names it.

// Tests state what they expect with unwrap/expect (clippy.toml allows it
// in #[test] functions; this covers their helpers too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::ExitCode;

use opssight_harness::env::EnvChoice;
use opssight_harness::env::kind::{self, KindOptions};
use opssight_harness::run::{Outcome, RunOptions, run};

async fn suite(env: EnvChoice, artifacts: &Path) -> anyhow::Result<Outcome> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut observers: Vec<std::sync::Arc<dyn opssight_harness::run::observer::Observer>> =
        Vec::new();
    if let Some(path) = std::env::var_os("OPSSIGHT_RECORD") {
        observers.push(std::sync::Arc::new(
            opssight_harness::differential::record::Record::to(Path::new(&path))?,
        ));
    }
    run(RunOptions {
        features: root.join("features"),
        tags: std::env::var("OPSSIGHT_TAGS").ok(),
        junit: None,
        json: None,
        artifacts: artifacts.to_owned(),
        concurrency: 8,
        env,
        observers,
    })
    .await
}

async fn main_result() -> anyhow::Result<Outcome> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let artifacts = root.join("target/opssight-harness-artifacts");
    match std::env::var("OPSSIGHT_ENV").as_deref() {
        Ok("kind") => {
            let run_id = kind::new_run_id();
            let opts = KindOptions {
                fixtures: opssight_harness::fixtures::Fixtures::at(root.join("fixtures")),
                kind_config: root.join("kind-config.yaml"),
                reuse_cluster: std::env::var("OPSSIGHT_REUSE_CLUSTER").ok(),
                localstack_image: std::env::var("OPSSIGHT_LOCALSTACK_IMAGE")
                    .unwrap_or_else(|_| kind::localstack::DEFAULT_IMAGE.into()),
                workdir: artifacts.join(format!("kind-{run_id}")),
                logs_dir: artifacts.join("kind-logs").join(&run_id),
                run_id,
                ready_timeout: std::time::Duration::from_secs(120),
            };
            kind::with_cluster(opts, false, |cluster| {
                suite(EnvChoice::Kind(cluster), &artifacts)
            })
            .await
        }
        Ok("existing") => {
            let allow = std::env::var("OPSSIGHT_ALLOW_DESTRUCTIVE").as_deref() == Ok("1");
            suite(
                EnvChoice::Existing {
                    allow_destructive: allow,
                },
                &artifacts,
            )
            .await
        }
        Ok("binaries") => {
            let mut opts = opssight_harness::env::binaries::BinariesOptions::new(
                opssight_harness::fixtures::Fixtures::at(root.join("fixtures")),
            );
            if std::env::var("OPSSIGHT_SECRETS_MANAGER").as_deref() == Ok("moto") {
                opts.secrets_manager = opssight_harness::env::binaries::SecretsManagerBackend::Moto;
            }
            opssight_harness::env::binaries::with_control_plane(opts, |plane| {
                suite(EnvChoice::Binaries(plane), &artifacts)
            })
            .await
        }
        Ok("embedded") | Err(_) => suite(EnvChoice::Embedded, &artifacts).await,
        Ok(other) => {
            anyhow::bail!("OPSSIGHT_ENV={other}: one of embedded, kind, binaries, existing")
        }
    }
}

/// The one test this target holds, as libtest would name it.
const TEST_NAME: &str = "suite";

/// What libtest's arguments ask of this target.
#[derive(Debug, PartialEq)]
enum Asked {
    /// `--list`: print the tests (`--ignored`: only the ignored ones, none).
    List {
        ignored_only: bool,
    },
    Run,
    /// A filter that does not name the suite, or `--ignored` alone.
    Nothing,
}

fn asked(args: &[String]) -> Asked {
    let (mut list, mut exact, mut ignored_only, mut include_ignored) = (false, false, false, false);
    let mut filters = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => list = true,
            "--exact" => exact = true,
            "--ignored" => ignored_only = true,
            "--include-ignored" => include_ignored = true,
            // Options with a value: skip the value too.
            "--format" | "--color" | "--test-threads" | "--logfile" | "--skip" | "-Z" => {
                args.next();
            }
            flag if flag.starts_with('-') => {}
            filter => filters.push(filter),
        }
    }
    if list {
        return Asked::List { ignored_only };
    }
    let named = filters.is_empty()
        || filters.iter().any(|f| {
            if exact {
                *f == TEST_NAME
            } else {
                TEST_NAME.contains(*f)
            }
        });
    if named && (!ignored_only || include_ignored) {
        Asked::Run
    } else {
        Asked::Nothing
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match asked(&args) {
        Asked::List { ignored_only } => {
            if !ignored_only {
                println!("{TEST_NAME}: test");
            }
            return ExitCode::SUCCESS;
        }
        Asked::Nothing => return ExitCode::SUCCESS,
        Asked::Run => {}
    }
    match main_result().await {
        Ok(outcome) if !outcome.failed => ExitCode::SUCCESS,
        Ok(outcome) => {
            eprintln!(
                "scenario failures: {} failed steps, {} parsing errors",
                outcome.failed_steps, outcome.parsing_errors
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
