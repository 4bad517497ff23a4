//! `cargo test` runs every scenario of features/ on the embedded environment.
//! A cucumber run, not libtest: it takes no libtest arguments.

use std::path::Path;
use std::process::ExitCode;

use opssight_harness::runner::{RunOptions, run};

#[tokio::main]
async fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let options = RunOptions {
        features: root.join("features"),
        tags: std::env::var("OPSSIGHT_TAGS").ok(),
        junit: None,
        json: None,
        artifacts: root.join("target/opssight-harness-artifacts"),
        concurrency: 8,
        drill: None,
        env: Default::default(),
    };
    match run(options).await {
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
