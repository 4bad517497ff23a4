//! Statistics over the pairs and the Markdown section the bench prints.

/// What was measured at one N: per pair (round), emulator first, moto second.
#[derive(Default)]
pub(crate) struct AtSize {
    pub(crate) n: usize,
    /// CreateSecret per second while seeding up to N: one pass each.
    pub(crate) creates: [f64; 2],
    /// GetSecretValue p50 and p99 per pair, µs.
    pub(crate) get_p50: [Vec<f64>; 2],
    pub(crate) get_p99: [Vec<f64>; 2],
    /// Mix throughput per pair, requests/s.
    pub(crate) mix1: [Vec<f64>; 2],
    pub(crate) mix16: [Vec<f64>; 2],
    /// The emulator's ListSecrets p50 per round, µs: first page, mid-list page.
    pub(crate) list_first: Vec<f64>,
    pub(crate) list_mid: Vec<f64>,
}

pub(crate) fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn min(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Ratio per pair: `a[i] / b[i]`.
fn ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

fn micros(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 1_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn rate(per_s: f64) -> String {
    if per_s >= 10_000.0 {
        format!("{:.1}k/s", per_s / 1000.0)
    } else if per_s >= 100.0 {
        format!("{per_s:.0}/s")
    } else {
        format!("{per_s:.1}/s")
    }
}

fn times(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.2}×")
    }
}

fn min_median(rs: &[f64]) -> String {
    format!("{} / {}", times(min(rs)), times(median(rs)))
}

fn status(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

pub(crate) struct Setup {
    pub(crate) rounds: usize,
    pub(crate) window_ms: u64,
    pub(crate) pinned: Option<String>,
    pub(crate) moto_version: String,
}

pub(crate) fn print(setup: &Setup, results: &[AtSize]) {
    let pinning = match &setup.pinned {
        Some(cpu) => {
            format!("each server pinned to core {cpu} and the client to another (taskset)")
        }
        None => "not pinned (taskset missing or one core)".to_owned(),
    };
    println!(
        "aws-emulator (release build, in its own process, SigV4 verified and IAM enforced) against \
         moto_server {} (threaded Werkzeug), both on 127.0.0.1 with an ephemeral port, {pinning}. \
         The client speaks raw HTTP/1.1: requests are SigV4-signed just before each phase and \
         replayed over keep-alive connections, so no SDK is timed. At each N both servers are \
         seeded one CreateSecret at a time over one connection (moto fails under concurrent \
         creates; the seeding rate is the CreateSecret row, one pass). Then {} pairs: in each, \
         emulator and moto run the same phase one after the other, the order alternating from \
         pair to pair: GetSecretValue latency at 1 connection, and the throughput of a \
         four-operation mix (GetSecretValue, DescribeSecret, PutSecretValue, ListSecrets' first \
         page of {}; in turn, over {} random secrets) at 1 and at 16 connections, {} ms each \
         (plus a tenth as warm-up). Values are medians over the pairs; ratios are computed per \
         pair (throughput emulator/moto, latency moto/emulator: how many times faster) and \
         given as min / median. ListSecrets latency (first page, and a page from the middle \
         through its NextToken) is the emulator's alone.",
        setup.moto_version,
        setup.rounds,
        crate::load::PAGE,
        crate::load::SPREAD,
        setup.window_ms,
    );
    println!();
    println!(
        "| N | GetSecretValue p50 / p99, emulator | p50 / p99, moto | p50 ratio (min / median) | ListSecrets p50 first / mid-list page, emulator |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for r in results {
        println!(
            "| {} | {} / {} | {} / {} | {} | {} / {} |",
            r.n,
            micros(median(&r.get_p50[0])),
            micros(median(&r.get_p99[0])),
            micros(median(&r.get_p50[1])),
            micros(median(&r.get_p99[1])),
            min_median(&ratios(&r.get_p50[1], &r.get_p50[0])),
            micros(median(&r.list_first)),
            micros(median(&r.list_mid)),
        );
    }
    println!();
    println!(
        "| N | mix, 1 conn: emulator | moto | ratio (min / median) | mix, 16 conns: emulator | moto | ratio (min / median) | CreateSecret while seeding: emulator | moto |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.n,
            rate(median(&r.mix1[0])),
            rate(median(&r.mix1[1])),
            min_median(&ratios(&r.mix1[0], &r.mix1[1])),
            rate(median(&r.mix16[0])),
            rate(median(&r.mix16[1])),
            min_median(&ratios(&r.mix16[0], &r.mix16[1])),
            rate(r.creates[0]),
            rate(r.creates[1]),
        );
    }
    println!();
    print_goals(results);
}

fn print_goals(results: &[AtSize]) {
    println!("| Goal (issue 17) | Measured | Status |");
    println!("|---|---|---|");
    let (Some(small), Some(large)) = (results.first(), results.last()) else {
        return;
    };
    if results.len() > 1 {
        let get = median(&large.get_p50[0]) / median(&small.get_p50[0]);
        println!(
            "| Per-request cost independent of N: GetSecretValue p50 at {} within 1.5× of its value at {} | {} ({} vs {}) | {} |",
            large.n,
            small.n,
            times(get),
            micros(median(&large.get_p50[0])),
            micros(median(&small.get_p50[0])),
            status(get <= 1.5)
        );
        let first = median(&large.list_first) / median(&small.list_first);
        let mid = median(&large.list_mid) / median(&small.list_first);
        println!(
            "| ListSecrets O(page): a page's p50 at {} (first, and mid-list by NextToken) within 1.5× of the first page's at {} | first {}, mid-list {} | {} |",
            large.n,
            small.n,
            times(first),
            times(mid),
            status(first <= 1.5 && mid <= 1.5)
        );
    } else {
        println!("| Per-request cost independent of N | n/a: needs two sizes | n/a |");
        println!("| ListSecrets O(page) | n/a: needs two sizes | n/a |");
    }
    let per_n: Vec<(usize, f64)> = results
        .iter()
        .map(|r| (r.n, median(&ratios(&r.mix16[0], &r.mix16[1]))))
        .collect();
    let (worst_n, worst) =
        per_n.iter().copied().fold(
            (0, f64::INFINITY),
            |acc, x| if x.1 < acc.1 { x } else { acc },
        );
    let sizes: Vec<String> = results.iter().map(|r| r.n.to_string()).collect();
    println!(
        "| At least 50× moto on the four-operation mix at 16 connections, at every N ({}) | lowest median ratio {} (N = {worst_n}) | {} |",
        sizes.join(", "),
        times(worst),
        status(per_n.iter().all(|(_, r)| *r >= 50.0))
    );
}
