//! `differential`: two recordings of the same scenarios compared with the
//! differences a README declares.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::differential::compare::{self, Recording};
use crate::differential::kube_api;
use crate::{say, say_raw};

#[derive(clap::Args, Debug, Clone)]
pub struct DifferentialArgs {
    /// A recording of `test --env embedded --record` (repeat the flag
    /// for several runs; their scenarios are taken together).
    #[arg(long, required = true)]
    embedded: Vec<PathBuf>,
    /// A recording of `test --env binaries --record` (likewise).
    #[arg(long, required = true)]
    real: Vec<PathBuf>,
    /// The README whose differential table declares the differences.
    #[arg(long, default_value = "harness/eso-emulator/README.md")]
    declared: PathBuf,
    /// Write the Markdown report here too.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Rewrite the README's table with the differences found, keeping
    /// the reasons already written (new rows say UNDECLARED).
    #[arg(long)]
    update: bool,
}

pub fn run(args: DifferentialArgs) -> anyhow::Result<ExitCode> {
    let declared_in: &Path = &args.declared;
    let (e, r) = (
        Recording::load_all(&args.embedded)?,
        Recording::load_all(&args.real)?,
    );
    let real_name = r
        .properties
        .iter()
        .find(|(k, _)| k == "eso.version")
        .map(|(_, v)| format!("real ESO {v}"))
        .or_else(|| {
            r.properties
                .iter()
                .find(|(k, _)| k == kube_api::REAL_NAME)
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(|| r.environment.clone());
    let readme = std::fs::read_to_string(declared_in)
        .map_err(|err| anyhow::anyhow!("{}: {err}", declared_in.display()))?;
    let declared = compare::declared(&readme, declared_in)?;
    let diffs = compare::differences(&e, &r);
    if args.update {
        let written = compare::with_table(&readme, &compare::table(&diffs, &declared, &real_name))?;
        std::fs::write(declared_in, written)
            .map_err(|err| anyhow::anyhow!("{}: {err}", declared_in.display()))?;
        say!(
            "{}: {} difference(s) written",
            declared_in.display(),
            diffs.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let verdict = compare::check(&diffs, &declared);
    let text = compare::report(&diffs, &verdict, &real_name);
    say_raw!("{text}");
    if let Some(path) = &args.report {
        std::fs::write(path, &text).map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
    }
    Ok(if verdict.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
