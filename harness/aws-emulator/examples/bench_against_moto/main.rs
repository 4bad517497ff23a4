//! aws-emulator against moto_server over raw HTTP/1.1, sweeping the number
//! of secrets; prints the Markdown section of `scripts/bench-aws-emulator.sh`
//! (progress on stderr). It judges goals but never fails on a number.
//!
//! `bench_against_moto` drives; `bench_against_moto serve` is the emulator
//! alone in its process (the driver starts it), so that it can be pinned to
//! a core of its own. Environment: `BENCH_SIZES` (space-separated, default
//! "20 1000 10000 30000"), `BENCH_ROUNDS` (pairs per size, default 5),
//! `BENCH_WINDOW_MS` (per phase, default 1000), `BENCH_SERVER_CPU` (pin the
//! servers there with taskset; the script sets it and pins this process to
//! another core).
//!
//! `bench_against_moto instructions` counts instead of timing (no moto):
//! the emulator under callgrind, and the instructions per request of a
//! fixed load of the mix at 16 connections (see `instructions.rs`).
//! `BENCH_SIZES` (default "20 10000"), `BENCH_REQUESTS` (default 16000),
//! `BENCH_CALLGRIND_DIR` (where callgrind's files go; default a temporary
//! directory removed at the end).

mod client;
mod instructions;
mod load;
mod report;
mod servers;

use std::io::{Read, Write};
use std::time::Duration;

use anyhow::Context;
use aws_emulator::{AwsEmulator, PolicyDocument};

use client::Target;
use report::{AtSize, Setup, median, percentile};

/// As the emulators' binaries: see [`emulator_core::Allocator`].
#[global_allocator]
static ALLOCATOR: emulator_core::Allocator = emulator_core::ALLOCATOR;

fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        Some("serve") => serve(),
        Some("instructions") => count_instructions(),
        _ => drive(),
    }
}

fn count_instructions() -> anyhow::Result<()> {
    let sizes = sizes(&[20, 10_000])?;
    let requests: usize = env_or("BENCH_REQUESTS", 16_000)?;
    // A temporary directory is removed when dropped; the caller's is its own.
    let temporary;
    let dir = match std::env::var("BENCH_CALLGRIND_DIR") {
        Ok(d) if !d.is_empty() => std::path::PathBuf::from(d),
        _ => {
            temporary = tempfile::tempdir().context("a directory for callgrind's files")?;
            temporary.path().to_owned()
        }
    };
    println!("## aws-emulator, instructions per request");
    println!();
    println!(
        "{} The emulator (release build, SigV4 verified and IAM enforced) under callgrind; the four-operation mix (as in the timed bench) at 16 connections, over 64 secrets spread across the N, after a warm-up of a tenth as many requests; user-space instructions of the server only.",
        measured_line()
    );
    println!();
    instructions::run(&sizes, requests, &dir)
}

fn serve() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let emulator = AwsEmulator::builder().start().await?;
        let key = emulator.with_iam(|iam| -> anyhow::Result<_> {
            iam.create_user("bench")?;
            iam.put_user_policy(
                "bench",
                "all",
                PolicyDocument::parse(
                    r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
                )?,
            )?;
            Ok(iam.create_access_key("bench")?)
        })?;
        // To the driver only, through a pipe: this emulator lives as long as it.
        let mut out = std::io::stdout();
        writeln!(
            out,
            "READY {} {} {}",
            emulator.local_addr(),
            key.access_key_id,
            key.secret_access_key
        )?;
        out.flush()?;
        // Until the driver goes away: its end of our stdin closes.
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await?;
        emulator.shutdown().await;
        Ok(())
    })
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a number")),
        _ => Ok(default),
    }
}

/// `BENCH_SIZES`, or `default`.
fn sizes(default: &[usize]) -> anyhow::Result<Vec<usize>> {
    let raw = std::env::var("BENCH_SIZES").unwrap_or_default();
    let mut sizes = if raw.trim().is_empty() {
        default.to_vec()
    } else {
        raw.split_whitespace()
            .map(|s| s.parse().with_context(|| format!("BENCH_SIZES: {s:?}")))
            .collect::<anyhow::Result<Vec<usize>>>()?
    };
    sizes.retain(|&n| n > 0);
    sizes.sort_unstable();
    sizes.dedup();
    anyhow::ensure!(!sizes.is_empty(), "BENCH_SIZES names no size above 0");
    Ok(sizes)
}

fn drive() -> anyhow::Result<()> {
    let sizes = sizes(&[20, 1_000, 10_000, 30_000])?;
    let rounds: usize = env_or("BENCH_ROUNDS", 5)?;
    let window_ms: u64 = env_or("BENCH_WINDOW_MS", 1_000)?;
    let window = Duration::from_millis(window_ms);
    let cpu = std::env::var("BENCH_SERVER_CPU")
        .ok()
        .filter(|c| !c.is_empty());

    let emulator = servers::emulator(cpu.as_deref())?;
    let moto = servers::moto(cpu.as_deref())?;
    let targets = [&emulator.target, &moto.target];
    let mut results = Vec::new();
    let mut seeded = 0;
    for &n in &sizes {
        let mut at = AtSize {
            n,
            ..AtSize::default()
        };
        for (k, t) in targets.iter().enumerate() {
            eprintln!("seeding {} from {seeded} to {n} secrets", t.name);
            at.creates[k] = load::seed(t, seeded, n)?;
        }
        seeded = n;
        for round in 0..rounds {
            eprintln!("N = {n}: pair {}/{rounds}", round + 1);
            // The order alternates, so drift (a warming cache, a busy
            // neighbour) does not always favour the same server.
            let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            let picks = load::pick(n);
            for k in order {
                let t = targets[k];
                let mut l = load::latencies(t.addr, &load::gets(t, &picks)?, window)?;
                l.sort_by(f64::total_cmp);
                at.get_p50[k].push(percentile(&l, 0.50));
                at.get_p99[k].push(percentile(&l, 0.99));
            }
            for (conns, into) in [(1, &mut at.mix1), (16, &mut at.mix16)] {
                for k in order {
                    let t = targets[k];
                    into[k].push(load::throughput(
                        t.addr,
                        &load::mix(t, &picks)?,
                        conns,
                        window,
                    )?);
                }
            }
            let t: &Target = targets[0];
            let first = t.sign(
                "ListSecrets",
                &serde_json::json!({ "MaxResults": load::PAGE }),
            )?;
            at.list_first.push(median(&load::latencies(
                t.addr,
                std::slice::from_ref(&first),
                window,
            )?));
            let mid = load::mid_list(t, n)?;
            at.list_mid.push(median(&load::latencies(
                t.addr,
                std::slice::from_ref(&mid),
                window,
            )?));
        }
        results.push(at);
    }
    drop(moto);
    drop(emulator);

    println!("## aws-emulator");
    println!();
    println!("{}", measured_line());
    println!();
    report::print(
        &Setup {
            rounds,
            window_ms,
            pinned: cpu,
            moto_version: servers::moto_version(),
        },
        &results,
    );
    Ok(())
}

/// `Measured <UTC date> on <nproc> cores (<arch>), <cpu model>.` The cores
/// are counted from /proc/cpuinfo: this process may be pinned to one.
fn measured_line() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count()
        .max(1);
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let date = jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC");
    format!(
        "Measured {date} on {cores} cores ({}), {model}.",
        std::env::consts::ARCH
    )
}
