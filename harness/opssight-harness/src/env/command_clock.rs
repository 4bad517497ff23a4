//! The time a command a scenario runs (`I run "..."`) reads with `date`:
//! its environment's. On a virtual clock that is not the wall clock, so
//! such a command gets a `date` first on its PATH that adds the clock's
//! lead over the wall clock to what the real `date` would say. The
//! runbook's `force-sync=$(date +%s)` then reads the time the controller
//! and the cluster keep, and a step that needs `date` to say a later
//! second moves the clock rather than waiting for the wall clock.

use std::path::{Path, PathBuf};

use emulator_core::Clock;

use crate::files;

/// The variable that carries the clock's lead, in nanoseconds.
const LEAD_VAR: &str = "OPSSIGHT_CLOCK_LEAD_NS";

/// The `date` a command sees on a virtual clock. The real `date` (GNU
/// coreutils: `-d @SECONDS.NANOS`) prints the wall clock plus the lead, in
/// whatever format the command asks; shell arithmetic is 64-bit, which
/// holds nanoseconds since 1970 for centuries.
fn script(real_date: &Path) -> String {
    let real = real_date.display();
    format!(
        "#!/bin/sh\n\
         # Written by opssight-harness: date(1) as the environment's virtual clock reads.\n\
         now=$(\"{real}\" +%s%N) || exit 1\n\
         t=$((now + ${{{LEAD_VAR}:-0}}))\n\
         exec \"{real}\" -d \"@$((t / 1000000000)).$(printf %09d $((t % 1000000000)))\" \"$@\"\n"
    )
}

/// Where the `date` of a virtual clock lives in an environment's `workdir`,
/// written on first use (0700: it is run, and holds no secret).
fn shim_dir(workdir: &Path) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = workdir.join("clock-bin");
    let date = dir.join("date");
    if !date.is_file() {
        let real = files::on_path("date").ok_or_else(|| {
            anyhow::anyhow!("a command on the virtual clock needs `date`, and none is on PATH")
        })?;
        files::create_private_subdir(&dir)?;
        // Written under another name and renamed: a command never finds a
        // half-written `date`.
        let partial = files::partial_path(&date);
        files::write_private(&partial, script(&real))?;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| files::named(&partial, e))?;
        std::fs::rename(&partial, &date).map_err(|e| files::named(&date, e))?;
    }
    Ok(dir)
}

/// Makes `cmd` read `clock` with `date`: nothing to do on the system clock.
pub fn prepare(
    cmd: &mut tokio::process::Command,
    clock: &Clock,
    workdir: &Path,
) -> anyhow::Result<()> {
    if !clock.is_virtual() {
        return Ok(());
    }
    let dir = shim_dir(workdir)?;
    let lead = clock.now().as_nanosecond() - jiff::Timestamp::now().as_nanosecond();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&path)))?;
    cmd.env("PATH", path).env(LEAD_VAR, lead.to_string());
    Ok(())
}

/// Moves a virtual clock to the start of its next second: what `date +%s`
/// said before, it says no more. `None` on the system clock, which must be
/// waited for.
pub fn to_next_second(clock: &Clock) -> anyhow::Result<Option<jiff::Timestamp>> {
    if !clock.is_virtual() {
        return Ok(None);
    }
    let into = u64::try_from(clock.now().subsec_nanosecond()).unwrap_or(0);
    let by = std::time::Duration::from_nanos(1_000_000_000 - into);
    Ok(Some(clock.advance(by)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn date_says(clock: &Clock, workdir: &Path, format: &str) -> String {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c").arg(format!("date -u '{format}'"));
        prepare(&mut cmd, clock, workdir).unwrap();
        let out = cmd.output().await.unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    #[tokio::test]
    async fn date_reads_the_virtual_clock_and_its_next_second() {
        let dir = tempfile::tempdir().unwrap();
        let start: jiff::Timestamp = "2031-05-04T03:02:01.25Z".parse().unwrap();
        let clock = Clock::frozen_at(start);
        assert_eq!(
            date_says(&clock, dir.path(), "+%Y-%m-%dT%H:%M:%S").await,
            "2031-05-04T03:02:01",
            "date must print the virtual clock's time, not the wall clock's"
        );
        let moved = to_next_second(&clock).unwrap().unwrap();
        assert_eq!(moved.to_string(), "2031-05-04T03:02:02Z");
        assert_eq!(
            date_says(&clock, dir.path(), "+%s").await,
            moved.as_second().to_string()
        );
        // An hour later on the clock is an hour later for date.
        clock.advance(std::time::Duration::from_secs(3600)).unwrap();
        assert_eq!(date_says(&clock, dir.path(), "+%H:%M:%S").await, "04:02:02");
    }

    #[tokio::test]
    async fn the_system_clock_leaves_date_alone() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::system();
        let before = jiff::Timestamp::now().as_second();
        let said: i64 = date_says(&clock, dir.path(), "+%s").await.parse().unwrap();
        assert!(
            (before..=before + 5).contains(&said),
            "{said} is not now ({before})"
        );
        assert!(to_next_second(&clock).unwrap().is_none());
        assert!(
            !dir.path().join("clock-bin").exists(),
            "no shim on the system clock"
        );
    }
}
