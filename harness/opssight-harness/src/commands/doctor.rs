//! `doctor`: what this machine can run, each environment and why not.

use std::process::ExitCode;

use crate::env::binaries::components::{Components, bin_dir};
use crate::say;

pub async fn run() -> anyhow::Result<ExitCode> {
    say!("embedded: available (needs nothing beyond this binary)");
    binaries();
    match crate::env::preflight::check().await {
        Ok(found) => {
            say!(
                "kind:     available (Docker reachable; {} on PATH)",
                found.summary()
            );
            for warning in &found.warnings {
                say!("            warning: {warning}");
            }
        }
        Err(e) => {
            say!("kind:     not available:");
            for p in &e.problems {
                say!("            - {}: {}", p.what, p.fix);
            }
        }
    }
    let kubeconfig = crate::env::existing::default_kubeconfig();
    match kube::config::Kubeconfig::read_from(&kubeconfig) {
        Ok(k) => say!(
            "existing: current context {} (from {})",
            k.current_context.as_deref().unwrap_or("(none set)"),
            kubeconfig.display()
        ),
        Err(_) => say!("existing: no kubeconfig at {}", kubeconfig.display()),
    }
    if crate::env::kubectl_path().is_none() {
        say!("scenarios tagged @requires-kubectl will be skipped: kubectl is not on PATH");
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `--env binaries` can run: the built components and their
/// versions, or what is missing.
fn binaries() {
    let dir = bin_dir();
    match Components::load(&dir) {
        Ok(c) => {
            say!("binaries: available ({})", dir.display());
            for (what, version, path) in c.files() {
                say!("            {what} {version}: {}", path.display());
            }
            say!("            note: {}", c.eso.note);
        }
        Err(e) => {
            say!("binaries: not available: {e}");
            let go = std::process::Command::new("go").arg("version").output();
            match go {
                Ok(o) if o.status.success() => say!(
                    "            Go is installed ({}): scripts/build-real-components.sh can build them",
                    String::from_utf8_lossy(&o.stdout).trim()
                ),
                _ => say!("            Go is not installed: it is needed once, to build them"),
            }
        }
    }
}
