//! `instructions` mode: the emulator under callgrind, a fixed load of the
//! four-operation mix at 16 connections at each N, and the instructions
//! the server spent per request. Rates measured by the clock vary with
//! whatever else the machine runs; these counts barely do, which is what
//! comparing two versions of the request path needs. They count user space
//! only (the kernel's read and write of each request are not in them), and
//! SHA-256 runs without its CPU instructions under valgrind, so hashing
//! weighs more in them than on the CPU.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{load, servers};

/// Connections the load runs on, as in the mix's 16-connection phase.
const CONNS: usize = 16;

/// Prints a Markdown table: instructions per request at each N in `sizes`,
/// over `requests` requests after a tenth as many to warm up. Callgrind's
/// files go to `dir`.
pub(crate) fn run(sizes: &[usize], requests: usize, dir: &Path) -> anyhow::Result<()> {
    println!("| N | requests | instructions per request |");
    println!("|---:|---:|---:|");
    for &n in sizes {
        let out = dir.join(format!("callgrind.{n}"));
        let server =
            servers::emulator_under_callgrind(&out, &dir.join(format!("valgrind.{n}.log")))?;
        eprintln!("N = {n}: seeding the emulator under callgrind");
        load::seed(&server.target, 0, n)?;
        // The same secrets every run, spread over the N.
        let picks: Vec<usize> = (0..load::SPREAD).map(|i| i * n / load::SPREAD).collect();
        let pool = load::mix(&server.target, &picks)?;
        load::fixed(server.target.addr, &pool, CONNS, requests / 10)?;
        callgrind_control("--zero", server.pid())?;
        eprintln!("N = {n}: {requests} requests");
        load::fixed(server.target.addr, &pool, CONNS, requests)?;
        callgrind_control("--dump", server.pid())?;
        let total = dumped_instructions(&dir.join(format!("callgrind.{n}.1")))?;
        let sent = (requests / CONNS * CONNS).max(1) as u64;
        println!("| {n} | {sent} | {} |", total / sent);
    }
    Ok(())
}

fn callgrind_control(what: &str, pid: u32) -> anyhow::Result<()> {
    let output = Command::new("callgrind_control")
        .args([what, &pid.to_string()])
        .output()
        .context("run callgrind_control (part of valgrind)")?;
    if !output.status.success() {
        bail!(
            "callgrind_control {what} {pid} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The instructions a callgrind dump counted (its `totals:` line), waiting
/// for the dump to be written.
fn dumped_instructions(dump: &Path) -> anyhow::Result<u64> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(dump).unwrap_or_default();
        let total = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("totals:")
                    .or_else(|| l.strip_prefix("summary:"))
            })
            .and_then(|v| v.split_whitespace().next()?.parse().ok());
        if let Some(total) = total {
            return Ok(total);
        }
        if Instant::now() > deadline {
            bail!(
                "callgrind wrote no totals to {} within 60 s",
                dump.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
