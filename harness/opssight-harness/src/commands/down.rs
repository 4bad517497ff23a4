//! `down --all`: remove what kind runs left behind.

use std::process::ExitCode;

use crate::say;

#[derive(clap::Args, Debug, Clone)]
pub struct DownArgs {
    /// Every leftover (the only mode).
    #[arg(long)]
    all: bool,
}

pub async fn run(args: DownArgs) -> anyhow::Result<ExitCode> {
    if !args.all {
        anyhow::bail!("say --all: down removes every leftover of every run");
    }
    let removed = crate::env::kind::down_all().await?;
    if removed.is_empty() {
        say!("nothing to remove");
    }
    for r in removed {
        say!("removed {r}");
    }
    Ok(ExitCode::SUCCESS)
}
