//! GetSecretValue through the AWS SDK: throughput and latency against this
//! emulator and, when `moto_server` is on PATH, against moto in the same run.
//!
//! `cargo run --release -p aws-emulator --example bench_get_secret_value -- [--check]`
//! With `--check` it exits non-zero unless the emulator reaches 20× moto's
//! throughput and a p99 under 2 ms (the targets of the issue).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_credential_types::Credentials;
use aws_emulator::{AwsEmulator, PolicyDocument};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};

const LATENCY_CALLS: usize = 2_000;
const THROUGHPUT_WINDOW: Duration = Duration::from_secs(3);
const CONCURRENCY: usize = 16;

fn client(endpoint: &str, id: &str, secret: &str) -> Client {
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-west-2"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(id, secret, None, None, "bench"))
        .build();
    Client::from_conf(conf)
}

struct Result {
    name: &'static str,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure(name: &'static str, client: Client) -> anyhow::Result<Result> {
    client
        .create_secret()
        .name("bench/secret")
        .secret_string("{\"k\":\"bench-value\"}")
        .send()
        .await
        .context("create")?;
    for _ in 0..50 {
        client
            .get_secret_value()
            .secret_id("bench/secret")
            .send()
            .await?;
    }
    let mut latencies = Vec::with_capacity(LATENCY_CALLS);
    for _ in 0..LATENCY_CALLS {
        let t = Instant::now();
        client
            .get_secret_value()
            .secret_id("bench/secret")
            .send()
            .await?;
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let client = Arc::new(client);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while started.elapsed() < THROUGHPUT_WINDOW {
                c.get_secret_value()
                    .secret_id("bench/secret")
                    .send()
                    .await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(Result {
        name,
        per_second: total as f64 / started.elapsed().as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let check = std::env::args().any(|a| a == "--check");
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
    let ours = measure(
        "aws-emulator",
        client(
            &emulator.endpoint(),
            &key.access_key_id,
            &key.secret_access_key,
        ),
    )
    .await?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let moto = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut theirs = None;
    if let Ok(mut child) = moto {
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut up = false;
        while Instant::now() < deadline {
            if answers_http(port).await {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if up {
            theirs = Some(measure("moto_server", client(&endpoint, "testing", "testing")).await);
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    if let Some(Err(e)) = &theirs {
        eprintln!("moto_server measurement failed: {e:#}");
    }
    println!(
        "{:<14} {:>12} {:>10} {:>10}",
        "server", "calls/s", "p50", "p99"
    );
    for r in std::iter::once(&ours).chain(theirs.as_ref().and_then(|r| r.as_ref().ok())) {
        println!(
            "{:<14} {:>12.0} {:>10.3?} {:>10.3?}",
            r.name, r.per_second, r.p50, r.p99
        );
    }
    let ratio = theirs
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .map(|m| ours.per_second / m.per_second);
    match ratio {
        Some(r) => println!("throughput ratio aws-emulator / moto_server: {r:.1}x (target >= 20x)"),
        None => println!("moto_server not available: no ratio (pip install \"moto[server]\")"),
    }
    println!("aws-emulator p99: {:.3?} (target < 2ms)", ours.p99);
    if check {
        let Some(r) = ratio else {
            bail!("--check needs moto_server for the ratio")
        };
        if r < 20.0 || ours.p99 >= Duration::from_millis(2) {
            bail!("targets missed: ratio {r:.1}x, p99 {:?}", ours.p99);
        }
    }
    Ok(())
}

/// Whether something answers HTTP on the port (moto accepts connections
/// before it can serve them).
async fn answers_http(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nhost: localhost\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).await.is_ok() && buf.starts_with(b"HTTP/1.")
}
