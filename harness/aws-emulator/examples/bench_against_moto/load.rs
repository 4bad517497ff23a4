//! What is timed: seeding (CreateSecret one at a time), latency over one
//! connection, throughput over several, each from requests signed just
//! before.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use rand::Rng;
use serde_json::{Value, json};

use crate::client::{Conn, Signed, Target};

/// Secrets a phase spreads its requests over.
pub(crate) const SPREAD: usize = 64;
/// ListSecrets' page in the mix and the listing latencies.
pub(crate) const PAGE: usize = 20;
/// Creates signed at once while seeding: well within the 15 minutes a
/// signature is valid even at moto's pace.
const SIGN_CHUNK: usize = 2_000;

pub(crate) fn name(i: usize) -> String {
    format!("bench/secret-{i:05}")
}

fn create_body(i: usize) -> Value {
    json!({
        "Name": name(i),
        // A stand-in, never printed.
        "SecretString": "{\"username\":\"bench\",\"password\":\"bench-password-0123456789\"}",
        "Description": "bench secret",
        "Tags": [{ "Key": "team", "Value": "bench" }],
    })
}

/// Creates secrets `from..to` one at a time over one connection; returns
/// creates per second (signing not counted).
pub(crate) fn seed(target: &Target, from: usize, to: usize) -> anyhow::Result<f64> {
    let mut conn = Conn::open(target.addr)?;
    let mut busy = Duration::ZERO;
    let mut start = from;
    while start < to {
        let end = (start + SIGN_CHUNK).min(to);
        let requests = (start..end)
            .map(|i| target.sign("CreateSecret", &create_body(i)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let t = Instant::now();
        for r in &requests {
            conn.send(r)?;
        }
        busy += t.elapsed();
        if to - from > SIGN_CHUNK {
            eprintln!("  {}: {end}/{to} secrets", target.name);
        }
        start = end;
    }
    Ok((to - from) as f64 / busy.as_secs_f64().max(1e-9))
}

/// Secrets to aim at, the same for both servers of a pair.
pub(crate) fn pick(n: usize) -> Vec<usize> {
    let mut rng = rand::rng();
    (0..SPREAD).map(|_| rng.random_range(0..n)).collect()
}

pub(crate) fn gets(target: &Target, picks: &[usize]) -> anyhow::Result<Vec<Signed>> {
    picks
        .iter()
        .map(|&i| target.sign("GetSecretValue", &json!({ "SecretId": name(i) })))
        .collect()
}

/// GetSecretValue, DescribeSecret, PutSecretValue and ListSecrets' first
/// page, in turn, each on its own secret.
pub(crate) fn mix(target: &Target, picks: &[usize]) -> anyhow::Result<Vec<Signed>> {
    let n = picks.len();
    let mut out = Vec::with_capacity(4 * n);
    for (k, &i) in picks.iter().enumerate() {
        let other = |step: usize| name(picks[(k + step) % n]);
        out.push(target.sign("GetSecretValue", &json!({ "SecretId": name(i) }))?);
        out.push(target.sign("DescribeSecret", &json!({ "SecretId": other(1) }))?);
        out.push(target.sign(
            "PutSecretValue",
            &json!({ "SecretId": other(2),
                     "SecretString": "{\"username\":\"bench\",\"password\":\"bench-password-next\"}" }),
        )?);
        out.push(target.sign("ListSecrets", &json!({ "MaxResults": PAGE }))?);
    }
    Ok(out)
}

/// The ListSecrets request for the page that starts in the middle of the
/// list, found by walking there.
pub(crate) fn mid_list(target: &Target, n: usize) -> anyhow::Result<Signed> {
    let mid = (n / 2).max(1);
    let step = mid.min(100);
    let mut conn = Conn::open(target.addr)?;
    let mut seen = 0;
    let mut token: Option<String> = None;
    while seen < mid {
        let mut body = json!({ "MaxResults": step });
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        conn.send(&target.sign("ListSecrets", &body)?)?;
        let page: Value = serde_json::from_slice(&conn.body).context("ListSecrets answer")?;
        seen += page["SecretList"].as_array().map_or(0, Vec::len);
        token = page["NextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let token = token.context("the list ended before its middle")?;
    target.sign(
        "ListSecrets",
        &json!({ "MaxResults": PAGE, "NextToken": token }),
    )
}

/// Runs `pool` in turn over one connection for a tenth of `window`, so the
/// first timed requests do not pay for cold paths.
fn warm_up(addr: SocketAddr, pool: &[Signed], window: Duration) -> anyhow::Result<()> {
    let mut conn = Conn::open(addr)?;
    let until = Instant::now() + window / 10;
    for r in pool.iter().cycle() {
        if Instant::now() >= until {
            break;
        }
        conn.send(r)?;
    }
    Ok(())
}

/// Each request's latency, one connection, `pool` in turn for `window`.
pub(crate) fn latencies(
    addr: SocketAddr,
    pool: &[Signed],
    window: Duration,
) -> anyhow::Result<Vec<f64>> {
    warm_up(addr, pool, window)?;
    let mut conn = Conn::open(addr)?;
    let mut out = Vec::new();
    let started = Instant::now();
    for r in pool.iter().cycle() {
        if started.elapsed() >= window {
            break;
        }
        out.push(conn.timed(r)?.as_secs_f64() * 1e6);
    }
    Ok(out)
}

/// Requests per second over `conns` connections, each running `pool` in
/// turn (from its own place in it) until `window` ends; requests still in
/// flight then are waited for and counted.
pub(crate) fn throughput(
    addr: SocketAddr,
    pool: &[Signed],
    conns: usize,
    window: Duration,
) -> anyhow::Result<f64> {
    warm_up(addr, pool, window)?;
    let started = Instant::now();
    let deadline = started + window;
    let runs = on_connections(addr, pool, conns, |_| Instant::now() < deadline)?;
    let mut total = 0;
    let mut ended = started;
    for (done, at) in runs {
        total += done;
        ended = ended.max(at);
    }
    Ok(total as f64 / (ended - started).as_secs_f64().max(1e-9))
}

/// Exactly `requests` requests (rounded down to a multiple of `conns`) over
/// `conns` connections, each running `pool` in turn from its own place:
/// the same load every time, for counting instructions.
pub(crate) fn fixed(
    addr: SocketAddr,
    pool: &[Signed],
    conns: usize,
    requests: usize,
) -> anyhow::Result<()> {
    let per_connection = (requests / conns.max(1)) as u64;
    on_connections(addr, pool, conns, |done| done < per_connection)?;
    Ok(())
}

/// Runs `pool` in turn on each of `conns` connections while `more(sent so
/// far on that connection)` holds; gives each connection's count and end.
fn on_connections(
    addr: SocketAddr,
    pool: &[Signed],
    conns: usize,
    more: impl Fn(u64) -> bool + Sync,
) -> anyhow::Result<Vec<(u64, Instant)>> {
    let mut connections = (0..conns)
        .map(|_| Conn::open(addr))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let more = &more;
    let results: Vec<anyhow::Result<(u64, Instant)>> = std::thread::scope(|scope| {
        let running: Vec<_> = connections
            .iter_mut()
            .enumerate()
            .map(|(c, conn)| {
                scope.spawn(move || {
                    let mut done = 0u64;
                    let mut next = c * pool.len() / conns;
                    while more(done) {
                        conn.send(&pool[next % pool.len()])?;
                        next += 1;
                        done += 1;
                    }
                    Ok((done, Instant::now()))
                })
            })
            .collect();
        running
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a client thread panicked")))
            })
            .collect()
    });
    results.into_iter().collect()
}
