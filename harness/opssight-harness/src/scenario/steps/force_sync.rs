//! The runbook's commands, run with the real kubectl against the environment.

use cucumber::{given, then, when};

use crate::scenario::step::{StepResult, ensure};
use crate::scenario::world::{CommandResult, OpsWorld};

#[when(expr = "I run {string}")]
async fn run(w: &mut OpsWorld, command: String) -> StepResult {
    let env = w.env()?.clone();
    let cache = env.workdir().join("kube-cache");
    let mut sh = tokio::process::Command::new("sh");
    if let Some(dir) = &w.command_dir {
        sh.current_dir(dir.path());
    }
    crate::env::command_clock::prepare(&mut sh, &env.clock(), env.workdir())?;
    let output = sh
        .arg("-c")
        .arg(&command)
        .env("KUBECONFIG", env.kubeconfig())
        .env("KUBECACHEDIR", &cache)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(w.patience(), output)
        .await
        .map_err(|_| anyhow::anyhow!("`{command}` did not finish within {:?}", w.patience()))??;
    w.last_command = Some(CommandResult {
        command,
        status: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        finished: std::time::SystemTime::now(),
    });
    Ok(())
}

#[then("the command succeeds")]
async fn succeeds(w: &mut OpsWorld) -> StepResult {
    let c = w
        .last_command
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no command was run"))?;
    ensure(c.status == Some(0), || {
        format!(
            "`{}` exited with {:?}: {}",
            c.command,
            c.status,
            c.stderr.trim()
        )
    })
}

#[then(expr = "the command fails saying {string}")]
async fn fails_saying(w: &mut OpsWorld, words: String) -> StepResult {
    let c = w
        .last_command
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no command was run"))?;
    ensure(c.status != Some(0), || {
        format!("`{}` succeeded; it was expected to fail", c.command)
    })?;
    ensure(
        c.stderr.contains(&words) || c.stdout.contains(&words),
        || {
            format!(
                "`{}` failed ({:?}) without saying {words:?}: {}",
                c.command,
                c.status,
                c.stderr.trim()
            )
        },
    )
}

#[given(expr = "the ExternalSecret {string} has refresh interval {string}")]
async fn set_interval(w: &mut OpsWorld, name: String, interval: String) -> StepResult {
    let api = w.es_api()?;
    api.patch(
        &name,
        &Default::default(),
        &kube::api::Patch::Merge(serde_json::json!({"spec": {"refreshInterval": interval}})),
    )
    .await?;
    // With refreshInterval 0 even this spec change is not synced (ESO's rule
    // 1); either way, wait until the controller has looked at it.
    super::refresh::caught_up(w).await
}
