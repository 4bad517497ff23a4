//! The kube-emulator's costs as the number of stored Secrets grows: create
//! rate with a watch seeing every Secret, a `limit=1` list, paging through
//! everything at 500 a page, the memory a full list takes, and deleting an
//! owner with dependents. Prints a Markdown section (without its heading
//! and date line, which `scripts/bench-kube-emulator.sh` prints); progress
//! goes to stderr. Never fails on a number.
//!
//! `cargo run --release -p kube-emulator --example bench_secrets`; the
//! sizes come from `BENCH_SIZES` (default "20 1000 10000 50000").
//!
//! Each server runs in a child process (this program with `--serve`), so
//! that its heap, RSS and CPU time are the server's alone. The child reads
//! commands on stdin (`mem`, `peak-on`, `peak-off`) and exits when stdin closes, so it
//! goes with its parent however the parent ends.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// Counts the bytes the program has allocated: the server's heap, without
/// the allocator's own overhead or what it keeps from the OS. Each thread
/// counts in a slot (cache line) of its own, so that counting does not
/// make threads contend; the peak, which needs the sum, is followed only
/// while `PEAK_ON` (during the one list measured).
struct Counting;

#[repr(align(64))]
struct Slot(AtomicI64);

const SLOTS: usize = 64;
static HEAP_SLOTS: [Slot; SLOTS] = [const { Slot(AtomicI64::new(0)) }; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
static PEAK_ON: AtomicBool = AtomicBool::new(false);
static HEAP_PEAK: AtomicI64 = AtomicI64::new(0);

thread_local! {
    static MY_SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn heap() -> i64 {
    HEAP_SLOTS.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
}

fn count(delta: i64) {
    let slot = MY_SLOT
        .try_with(|s| {
            if s.get() == usize::MAX {
                s.set(NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS);
            }
            s.get()
        })
        .unwrap_or(0);
    HEAP_SLOTS[slot].0.fetch_add(delta, Ordering::Relaxed);
    if delta > 0 && PEAK_ON.load(Ordering::Relaxed) {
        HEAP_PEAK.fetch_max(heap(), Ordering::Relaxed);
    }
}

fn grew(by: usize) {
    count(i64::try_from(by).unwrap_or(i64::MAX));
}

fn shrank(by: usize) {
    count(-i64::try_from(by).unwrap_or(i64::MAX));
}

/// What the counting wraps: the emulators' binaries' allocator, so the
/// server is measured as it runs (see [`emulator_core::Allocator`]).
const INNER: emulator_core::Allocator = emulator_core::ALLOCATOR;

// SAFETY: every call is passed to the inner allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller's contract for `alloc`.
        let p = unsafe { INNER.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller's contract for `alloc_zeroed`.
        let p = unsafe { INNER.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as the caller's contract for `dealloc`.
        unsafe { INNER.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as the caller's contract for `realloc`.
        let p = unsafe { INNER.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const IN_FLIGHT: usize = 32;
const CREATE_ROUNDS: usize = 3;
const LIMIT1_REPS: usize = 21;
const PAGING_REPS: usize = 5;
const MID_PAGE_REPS: usize = 21;
const MEMORY_REPS: usize = 3;
const OWNER_REPS: usize = 11;
/// Enough dependents that the collector's work, not the machine, decides
/// the time: with 10, deletes read ~0.4 ms or ~1.4 ms at random at every
/// N alike (this VM's wake-up of an idle core, seen in the same run at
/// N=20 and N=50000), and the median of 11 fell on either; 100 take
/// ~1.5 ms, and the extra millisecond no longer decides the ratio.
const DEPENDENTS: usize = 100;
const PAGE: usize = 500;
const NS: &str = "bench";

fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The server side: an emulator, its address on stdout, then commands.
#[tokio::main]
async fn serve(watch_log: usize) -> anyhow::Result<()> {
    let emulator = kube_emulator::KubeEmulator::builder()
        .watch_log(watch_log)
        .start()
        .await?;
    println!(
        "{}",
        json!({"url": emulator.url(), "token": emulator.token(), "ca": emulator.ca_pem()})
    );
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(command) = lines.next_line().await? {
        let answer = match command.trim() {
            "mem" => json!({
                "heap": heap(),
                "heap_peak": HEAP_PEAK.load(Ordering::Relaxed),
                "rss_kib": proc_status_kib("VmRSS:"),
                "hwm_kib": proc_status_kib("VmHWM:"),
            }),
            "peak-on" => {
                HEAP_PEAK.store(heap(), Ordering::Relaxed);
                PEAK_ON.store(true, Ordering::Relaxed);
                // Resets VmHWM to the current RSS (Linux >= 4.0).
                let cleared = std::fs::write("/proc/self/clear_refs", "5").is_ok();
                json!({"ok": true, "hwm_reset": cleared})
            }
            "peak-off" => {
                PEAK_ON.store(false, Ordering::Relaxed);
                json!({"ok": true})
            }
            other => json!({"error": format!("unknown command {other:?}")}),
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    emulator.shutdown().await;
    Ok(())
}

#[derive(Debug, Clone, Copy, Default)]
struct Mem {
    heap: i64,
    heap_peak: i64,
    rss_kib: u64,
    hwm_kib: u64,
}

/// A server child and a client for it.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    http: reqwest::Client,
    /// Watches' own client: a watch holds its connection for as long as it
    /// runs, and one taken from `http`'s pool could leave a timed request
    /// (the owner's DELETE) to open a new connection, TLS handshake
    /// included.
    watches: reqwest::Client,
    url: String,
    token: String,
}

impl Server {
    async fn start(watch_log: usize) -> anyhow::Result<Self> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["--serve", &watch_log.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the server child")?;
        let stdin = child.stdin.take().context("child stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().context("child stdout")?).lines();
        let hello: Value = serde_json::from_str(
            &tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
                .await
                .context("the server child did not say where it listens within 30 s")??
                .context("the server child ended before saying where it listens")?,
        )?;
        let field = |k: &str| {
            hello[k]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("the server child's hello lacks {k}"))
        };
        let ca = reqwest::Certificate::from_pem(field("ca")?.as_bytes())?;
        let http = reqwest::Client::builder()
            .add_root_certificate(ca.clone())
            .pool_max_idle_per_host(IN_FLIGHT * 2)
            .build()?;
        let watches = reqwest::Client::builder()
            .add_root_certificate(ca)
            .build()?;
        let server = Self {
            child,
            stdin,
            stdout,
            http,
            watches,
            url: field("url")?,
            token: field("token")?,
        };
        server
            .post("/api/v1/namespaces", &json!({"metadata": {"name": NS}}))
            .await?;
        Ok(server)
    }

    async fn command(&mut self, command: &str) -> anyhow::Result<Value> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        let line = tokio::time::timeout(Duration::from_secs(30), self.stdout.next_line())
            .await
            .context("the server child did not answer within 30 s")??
            .context("the server child ended")?;
        Ok(serde_json::from_str(&line)?)
    }

    async fn mem(&mut self) -> anyhow::Result<Mem> {
        let v = self.command("mem").await?;
        let n = |k: &str| v[k].as_u64().unwrap_or_default();
        let i = |k: &str| v[k].as_i64().unwrap_or_default();
        Ok(Mem {
            heap: i("heap"),
            heap_peak: i("heap_peak"),
            rss_kib: n("rss_kib"),
            hwm_kib: n("hwm_kib"),
        })
    }

    /// The server's CPU time (user + system, all threads) so far.
    fn cpu(&self) -> anyhow::Result<Duration> {
        let pid = self.child.id().context("the server child has ended")?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name, which is in parentheses.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, r)| r)
            .context("unreadable /proc stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| -> anyhow::Result<u64> {
            Ok(fields.get(i).context("short /proc stat")?.parse()?)
        };
        // utime and stime are fields 14 and 15, in USER_HZ (100 on Linux).
        Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let resp = self
            .request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await?;
        let status = resp.status();
        let answer: Value = resp.json().await?;
        if !status.is_success() {
            bail!("POST {path}: {status}: {}", answer["message"]);
        }
        Ok(answer)
    }

    /// POSTs a JSON body, reading the answer's bytes but not parsing them:
    /// the client's share of the cores is kept small.
    async fn create(&self, path: &str, body: Vec<u8>) -> anyhow::Result<()> {
        let resp = self
            .request(reqwest::Method::POST, path)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let status = resp.status();
        resp.bytes().await?;
        if !status.is_success() {
            bail!("POST {path}: {status}");
        }
        Ok(())
    }

    /// GETs `path` and reads the whole body, returning it.
    async fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let resp = self.request(reqwest::Method::GET, path).send().await?;
        let status = resp.status();
        let body = resp.bytes().await?.to_vec();
        if !status.is_success() {
            bail!("GET {path}: {status}");
        }
        Ok(body)
    }

    /// GETs `path` and reads the body chunk by chunk without keeping it,
    /// returning its length.
    async fn get_discarding(&self, path: &str) -> anyhow::Result<usize> {
        let mut resp = self.request(reqwest::Method::GET, path).send().await?;
        if !resp.status().is_success() {
            bail!("GET {path}: {}", resp.status());
        }
        let mut len = 0;
        while let Some(chunk) = resp.chunk().await? {
            len += chunk.len();
        }
        Ok(len)
    }

    /// Starts a watch on `path` and, once the server has answered (the
    /// watch is in place), counts its events of `kind` (ADDED, DELETED)
    /// until `want` of them in a task of its own, which answers how many
    /// it saw.
    async fn count_events(
        &self,
        path: String,
        kind: &'static str,
        want: usize,
    ) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<usize>>> {
        let mut resp = self
            .watches
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("watch {path}: {}", resp.status());
        }
        Ok(tokio::spawn(async move {
            // Each event is one line, `{"object":...,"type":"KIND"}`.
            let ending = format!("\"type\":\"{kind}\"}}");
            let mut line_tail: Vec<u8> = Vec::new();
            let mut seen = 0;
            while seen < want {
                let Some(chunk) = resp.chunk().await? else {
                    bail!("watch {path} ended after {seen} of {want} {kind} events");
                };
                let mut parts = chunk.split(|b| *b == b'\n').peekable();
                while let Some(part) = parts.next() {
                    line_tail.extend_from_slice(part);
                    if parts.peek().is_none() {
                        // The line goes on in the next chunk; keep its end only.
                        let keep = line_tail.len().saturating_sub(ending.len());
                        line_tail.drain(..keep);
                        break;
                    }
                    if line_tail.ends_with(ending.as_bytes()) {
                        seen += 1;
                    }
                    line_tail.clear();
                }
            }
            Ok(seen)
        }))
    }

    async fn list_rv(&self) -> anyhow::Result<String> {
        let body = self
            .get_bytes(&format!("/api/v1/namespaces/{NS}/secrets?limit=1"))
            .await?;
        let list: Value = serde_json::from_slice(&body)?;
        list["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_owned)
            .context("a list without a resourceVersion")
    }
}

fn secret(i: usize) -> Value {
    // Generated, not secret: a fixed pattern per index.
    let password: String = format!(
        "{:016x}{:08x}",
        (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        i
    );
    json!({
        "metadata": {"name": format!("s-{i:07}"), "labels": {"bench": "yes"}},
        "stringData": {
            "username": format!("user-{i:07}"),
            "password": password,
            "url": "postgres://db.example.test:5432/app",
        },
    })
}

#[derive(Debug, Default, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
}

fn spread(mut xs: Vec<f64>) -> Spread {
    xs.sort_by(f64::total_cmp);
    Spread {
        median: xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN),
        min: xs.first().copied().unwrap_or(f64::NAN),
    }
}

#[derive(Debug, Default)]
struct Row {
    n: usize,
    rate: Spread,
    cpu_us_per_secret: Spread,
    limit1_ms: Spread,
    pages: usize,
    paging_ms: Spread,
    per_page_ms: Spread,
    /// One page from a continue token at the middle of the store, repeated.
    mid_page_ms: Spread,
    list_bytes: usize,
    stored_heap: i64,
    list_ratio: Spread,
    list_rss_mib: Spread,
    owner_delete_ms: Spread,
}

/// N Secrets created 32 at a time while a watch counts them: (objects/s
/// from the first POST to the last event seen, server CPU µs per Secret).
async fn create_all(server: &Server, n: usize) -> anyhow::Result<(f64, f64)> {
    // Connections (and their TLS handshakes) first, so that the creates are
    // timed in the steady state.
    let probe = format!("/api/v1/namespaces/{NS}/secrets?limit=1");
    stream::iter(0..IN_FLIGHT * 2)
        .map(|_| server.get_bytes(&probe))
        .buffer_unordered(IN_FLIGHT * 2)
        .try_collect::<Vec<_>>()
        .await?;
    let rv = server.list_rv().await?;
    let watch = server
        .count_events(
            format!(
                "/api/v1/namespaces/{NS}/secrets?watch=true&resourceVersion={rv}&timeoutSeconds=900"
            ),
            "ADDED",
            n,
        )
        .await?;
    let cpu_before = server.cpu()?;
    let started = Instant::now();
    let path = format!("/api/v1/namespaces/{NS}/secrets");
    stream::iter(0..n)
        .map(|i| {
            let path = &path;
            async move {
                let body = serde_json::to_vec(&secret(i))?;
                server.create(path, body).await
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    let seen = tokio::time::timeout(Duration::from_secs(600), watch)
        .await
        .with_context(|| {
            format!("the watch had not seen {n} ADDED events 600 s after the first create")
        })???;
    let elapsed = started.elapsed();
    let cpu = server.cpu()?.saturating_sub(cpu_before);
    Ok((
        seen as f64 / elapsed.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / n as f64,
    ))
}

/// The continue token of a page: the emulator writes the list's metadata
/// last, so it is searched for from the end.
fn continue_token(page: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"continue\":\"";
    let at = page.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let end = page[at..].iter().position(|b| *b == b'"')?;
    Some(String::from_utf8_lossy(&page[at..at + end]).into_owned())
}

/// Every page at limit=500: (total request time, pages).
async fn page_through(server: &Server) -> anyhow::Result<(Duration, usize)> {
    let mut token = String::new();
    let mut total = Duration::ZERO;
    let mut pages = 0;
    loop {
        let path = format!("/api/v1/namespaces/{NS}/secrets?limit={PAGE}&continue={token}");
        let started = Instant::now();
        let page = server.get_bytes(&path).await?;
        total += started.elapsed();
        pages += 1;
        match continue_token(&page) {
            Some(next) if !next.is_empty() => token = next,
            _ => return Ok((total, pages)),
        }
    }
}

/// The continue token of the page in the middle of the store (None when
/// everything fits in one page).
async fn middle_token(server: &Server) -> anyhow::Result<Option<String>> {
    let mut tokens = Vec::new();
    let mut token = String::new();
    loop {
        let path = format!("/api/v1/namespaces/{NS}/secrets?limit={PAGE}&continue={token}");
        match continue_token(&server.get_bytes(&path).await?) {
            Some(next) if !next.is_empty() => {
                tokens.push(next.clone());
                token = next;
            }
            _ => break,
        }
    }
    Ok(tokens.get(tokens.len() / 2).cloned())
}

/// An owner with DEPENDENTS Secrets, deleted in the background: the time
/// until a watch has seen every dependent DELETED.
async fn delete_owner(server: &Server, rep: usize) -> anyhow::Result<Duration> {
    let owner_name = format!("owner-{rep}");
    let owner = server
        .post(
            &format!("/api/v1/namespaces/{NS}/configmaps"),
            &json!({"metadata": {"name": owner_name}}),
        )
        .await?;
    let uid = owner["metadata"]["uid"]
        .as_str()
        .context("owner without uid")?;
    let mut rv = String::new();
    for k in 0..DEPENDENTS {
        let dependent = server
            .post(
                &format!("/api/v1/namespaces/{NS}/secrets"),
                &json!({"metadata": {
                    "name": format!("dep-{rep}-{k}"),
                    "labels": {"owner": owner_name},
                    "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": owner_name, "uid": uid, "blockOwnerDeletion": true}],
                }, "stringData": {"k": "v"}}),
            )
            .await?;
        rv = dependent["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    let watch = server.count_events(
        format!("/api/v1/namespaces/{NS}/secrets?watch=true&labelSelector=owner%3D{owner_name}&resourceVersion={rv}&timeoutSeconds=300"),
        "DELETED",
        DEPENDENTS,
    )
    .await?;
    let started = Instant::now();
    let resp = server
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/namespaces/{NS}/configmaps/{owner_name}"),
        )
        .json(&json!({"propagationPolicy": "Background"}))
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("deleting {owner_name}: {}", resp.status());
    }
    tokio::time::timeout(Duration::from_secs(300), watch)
        .await
        .with_context(|| format!("{owner_name}'s dependents not all deleted within 300 s"))???;
    Ok(started.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn measure(n: usize) -> anyhow::Result<Row> {
    let watch_log = (2 * n + 1000).max(100_000);
    let mut row = Row {
        n,
        ..Default::default()
    };
    let (mut rates, mut cpus) = (Vec::new(), Vec::new());
    let mut kept = None;
    for round in 0..CREATE_ROUNDS {
        eprintln!("  N={n}: create round {}/{CREATE_ROUNDS}", round + 1);
        let mut server = Server::start(watch_log).await?;
        let before = server.mem().await?;
        let (rate, cpu) = create_all(&server, n).await?;
        rates.push(rate);
        cpus.push(cpu);
        if round + 1 == CREATE_ROUNDS {
            let after = server.mem().await?;
            row.stored_heap = after.heap.saturating_sub(before.heap);
            kept = Some(server);
        }
    }
    row.rate = spread(rates);
    row.cpu_us_per_secret = spread(cpus);
    let mut server = kept.context("no server kept")?;

    eprintln!("  N={n}: limit=1");
    let mut limit1 = Vec::new();
    for _ in 0..LIMIT1_REPS {
        let started = Instant::now();
        server
            .get_bytes(&format!("/api/v1/namespaces/{NS}/secrets?limit=1"))
            .await?;
        limit1.push(ms(started.elapsed()));
    }
    row.limit1_ms = spread(limit1);

    eprintln!("  N={n}: paging at {PAGE}");
    let (mut totals, mut per_page) = (Vec::new(), Vec::new());
    for _ in 0..PAGING_REPS {
        let (total, pages) = page_through(&server).await?;
        row.pages = pages;
        totals.push(ms(total));
        per_page.push(ms(total) / pages as f64);
    }
    row.paging_ms = spread(totals);
    row.per_page_ms = spread(per_page);

    // The same page again and again, from a token into the middle: what a
    // continued page costs, the seek included, with the objects' memory as
    // warm at every N (a walk through every page reads the whole store,
    // which at 50,000 Secrets is ~160 MB, far beyond the CPU's caches).
    eprintln!("  N={n}: a page from the middle");
    let mut mid = Vec::new();
    if let Some(token) = middle_token(&server).await? {
        let path = format!("/api/v1/namespaces/{NS}/secrets?limit={PAGE}&continue={token}");
        for _ in 0..MID_PAGE_REPS {
            let started = Instant::now();
            server.get_bytes(&path).await?;
            mid.push(ms(started.elapsed()));
        }
    }
    row.mid_page_ms = spread(mid);

    eprintln!("  N={n}: full list memory");
    let (mut ratios, mut rss) = (Vec::new(), Vec::new());
    for _ in 0..MEMORY_REPS {
        server.command("peak-on").await?;
        let before = server.mem().await?;
        row.list_bytes = server
            .get_discarding(&format!("/api/v1/namespaces/{NS}/secrets"))
            .await?;
        let after = server.mem().await?;
        server.command("peak-off").await?;
        let peak = after.heap_peak.saturating_sub(before.heap);
        ratios.push(peak as f64 / row.stored_heap.max(1) as f64);
        rss.push(after.hwm_kib.saturating_sub(before.rss_kib) as f64 / 1024.0);
    }
    row.list_ratio = spread(ratios);
    row.list_rss_mib = spread(rss);

    eprintln!("  N={n}: owner deletes");
    let mut deletes = Vec::new();
    for rep in 0..OWNER_REPS {
        deletes.push(ms(delete_owner(&server, rep).await?));
    }
    eprintln!("  owner deletes (ms): {deletes:.2?}");
    row.owner_delete_ms = spread(deletes);
    drop(server);
    Ok(row)
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn print_report(rows: &[Row]) {
    println!(
        "Each N runs on fresh servers, each a child process so that its heap, RSS and CPU time \
are the server's alone; the client is reqwest over HTTPS (HTTP/1.1) in the parent, on the same cores. \
**Create**: N Secrets (3 string keys) POSTed {IN_FLIGHT} at a time while a watch from the list's \
resourceVersion counts their ADDED events; objects/s from the first POST to the last event seen, \
median (min) of {CREATE_ROUNDS} fresh servers, and the server's CPU time per Secret (user + system, \
/proc, 10 ms ticks). **limit=1**: one page of one Secret, median (min) of {LIMIT1_REPS}. \
**Paging**: every page at limit={PAGE}, request time summed and per page, median (min) of {PAGING_REPS}. \
**Middle page**: the page at limit={PAGE} from the continue token of the middle page, the same page \
{MID_PAGE_REPS} times, median (min). \
**Full list**: the server's peak heap growth during one unpaged list (bytes counted by a counting \
allocator, not RSS) over the stored size (the heap growth from creating the N Secrets: store, indexes, \
watch log), median (min) of {MEMORY_REPS}; the response size and the RSS growth (VmHWM after \
clear_refs) beside it. **Owner delete**: a ConfigMap owning {DEPENDENTS} Secrets (created among \
the N), deleted with propagation Background, until a watch has seen the {DEPENDENTS} DELETED; \
median (min) of {OWNER_REPS}.\n"
    );
    println!(
        "| N | create + watch (objects/s) | server CPU per Secret | limit=1 list | pages | paging total | per page | middle page | full list response | full list heap / stored | full list RSS growth | owner delete ({DEPENDENTS} dependents) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.0} ({:.0}) | {:.1} µs | {:.2} ms ({:.2}) | {} | {:.1} ms ({:.1}) | {:.2} ms ({:.2}) | {} | {:.1} MiB | {:.2}× ({:.2}) of {:.1} MiB | {:.1} MiB ({:.1}) | {:.1} ms ({:.1}) |",
            r.n,
            r.rate.median,
            r.rate.min,
            r.cpu_us_per_secret.median,
            r.limit1_ms.median,
            r.limit1_ms.min,
            r.pages,
            r.paging_ms.median,
            r.paging_ms.min,
            r.per_page_ms.median,
            r.per_page_ms.min,
            if r.mid_page_ms.median.is_nan() {
                "– (one page)".to_owned()
            } else {
                format!("{:.2} ms ({:.2})", r.mid_page_ms.median, r.mid_page_ms.min)
            },
            r.list_bytes as f64 / (1024.0 * 1024.0),
            r.list_ratio.median,
            r.list_ratio.min,
            r.stored_heap as f64 / (1024.0 * 1024.0),
            r.list_rss_mib.median,
            r.list_rss_mib.min,
            r.owner_delete_ms.median,
            r.owner_delete_ms.min,
        );
    }
    println!();
    let (Some(smallest), Some(largest)) = (rows.first(), rows.last()) else {
        return;
    };
    // Per-page cost is compared between full pages: from the smallest N
    // with more than one page.
    let paged_base = rows.iter().find(|r| r.pages > 1).unwrap_or(smallest);
    let big: Vec<&Row> = rows.iter().filter(|r| r.n >= 1000).collect();
    let big = if big.is_empty() {
        rows.iter().collect()
    } else {
        big
    };
    let slowest = big
        .iter()
        .min_by(|a, b| a.rate.median.total_cmp(&b.rate.median))
        .copied()
        .unwrap_or(largest);
    let hungriest = big
        .iter()
        .max_by(|a, b| a.list_ratio.median.total_cmp(&b.list_ratio.median))
        .copied()
        .unwrap_or(largest);
    let limit1 = largest.limit1_ms.median / smallest.limit1_ms.median;
    let per_page = largest.per_page_ms.median / paged_base.per_page_ms.median;
    let mid_page = largest.mid_page_ms.median / paged_base.mid_page_ms.median;
    let owner = largest.owner_delete_ms.median / smallest.owner_delete_ms.median;
    println!("| goal | measured | status |");
    println!("|---|---|---|");
    println!(
        "| ≥ 20,000 Secrets/s created and seen by a watch (median, every N ≥ 1000) | {:.0}/s at N={} (server CPU {:.1} µs per Secret) | {} |",
        slowest.rate.median,
        slowest.n,
        slowest.cpu_us_per_secret.median,
        met(slowest.rate.median >= 20_000.0)
    );
    println!(
        "| a page costs O(page size): limit=1 list flat in N (N={} vs N={}, ≤ 1.5×) | {:.2} ms vs {:.2} ms: {:.2}× | {} |",
        largest.n,
        smallest.n,
        largest.limit1_ms.median,
        smallest.limit1_ms.median,
        limit1,
        met(limit1 <= 1.5)
    );
    println!(
        "| a page costs O(page size): time per page at {PAGE}/page flat in N (N={} vs N={}, ≤ 1.5×) | {:.2} ms vs {:.2} ms: {:.2}× | {} |",
        largest.n,
        paged_base.n,
        largest.per_page_ms.median,
        paged_base.per_page_ms.median,
        per_page,
        met(per_page <= 1.5)
    );
    println!(
        "| a page costs O(page size): the page at {PAGE}/page from a continue token into the middle flat in N (N={} vs N={}, ≤ 1.5×) | {:.2} ms vs {:.2} ms: {:.2}× | {} |",
        largest.n,
        paged_base.n,
        largest.mid_page_ms.median,
        paged_base.mid_page_ms.median,
        mid_page,
        met(mid_page <= 1.5)
    );
    println!(
        "| full list memory ≤ 1.5× the stored size (heap bytes, worst N ≥ 1000) | {:.2}× at N={} | {} |",
        hungriest.list_ratio.median,
        hungriest.n,
        met(hungriest.list_ratio.median <= 1.5)
    );
    println!(
        "| GC indexed by owner: deleting an owner of {DEPENDENTS} flat in N (N={} vs N={}, ≤ 1.5×) | {:.1} ms vs {:.1} ms: {:.2}× | {} |",
        largest.n,
        smallest.n,
        largest.owner_delete_ms.median,
        smallest.owner_delete_ms.median,
        owner,
        met(owner <= 1.5)
    );
}

#[tokio::main]
async fn bench() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "20 1000 10000 50000".to_owned())
        .split_whitespace()
        .map(|s| {
            s.parse()
                .with_context(|| format!("BENCH_SIZES: {s:?} is not a size"))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut rows = Vec::new();
    for n in sizes {
        eprintln!("N={n}");
        rows.push(measure(n).await?);
    }
    rows.sort_by_key(|r| r.n);
    print_report(&rows);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--serve") => {
            let watch_log = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
            serve(watch_log)
        }
        _ => bench(),
    }
}
