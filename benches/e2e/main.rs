//! End to end, on loopback, against the mock BCSS serving the shipped RetrieveTIGroups
//! fixtures (Marc FICTIF's reply, 6.6 KB) in a child process: the whole bcss call (guard, encode, the durable
//! file journal on a real directory under target/, HTTP, decode) beside bare reqwest
//! posting the same prebuilt envelope to the same server, in the same run.
//!
//! - calls/s and latency p50/p99 at concurrency 1, 16 and 64, rounds alternated (bcss
//!   first in even rounds, raw first in odd ones: this machine's speed drifts); the
//!   median of each side and the median of the rounds' ratios;
//! - the cost of an `fdatasync` (4 KiB appended, then synced) on the journal's file
//!   system, measured before each concurrency-1 round;
//! - heap per call in flight (peak live heap above the start of a round, counted by this
//!   binary's global allocator, divided by the concurrency) and allocations per call;
//! - zeep (`benches/zeep/run.sh`) against the same mock at 1, 8, 16 and 64 threads when
//!   python3 and ../shared/contracts are there, and the bcss/zeep ratios;
//! - instructions per call of both sides under valgrind's callgrind
//!   (`benches/callgrind.sh`, which runs this binary with `--callgrind-once`) when
//!   valgrind is installed.
//!
//! Targets: at concurrency 64, bcss at least 50% of raw's calls/s; at concurrency 1,
//! bcss p50 <= raw p50 + 2 fdatasyncs + 0.1 ms; at 16 threads and above, at least 20x
//! zeep's calls/s.
//!
//! `cargo bench --bench e2e`. For a profiler, `--load-only bcss|raw --concurrency C
//! --seconds S` runs one side alone. Knobs: BCSS_BENCH_ROUNDS (default 5), BCSS_BENCH_SECS (per
//! round, default 1), BCSS_BENCH_CONCURRENCY (default `1,16,64`), BCSS_BENCH_ZEEP=0 and
//! BCSS_BENCH_CALLGRIND=0 to skip those parts, BCSS_BENCH_DIR for the journals' disk,
//! BCSS_SHARED_CONTRACTS for the contracts folder.

mod alloc;
mod external;
mod load;
mod setup;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use load::{Round, median, quantile};
use setup::{Bench, Side};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

const FSYNC_SAMPLES: usize = 200;
const ZEEP_SECONDS: f64 = 3.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if args.iter().any(|a| a == "--serve-mock") {
        setup::serve_mock();
    } else if args.iter().any(|a| a == "--callgrind-once") {
        let side = match value("--side").as_deref() {
            Some("raw") => Side::Raw,
            _ => Side::Bcss,
        };
        let calls = value("--calls").and_then(|v| v.parse().ok()).unwrap_or(100);
        callgrind_once(side, calls);
    } else if let Some(side) = value("--load-only") {
        let side = if side == "raw" { Side::Raw } else { Side::Bcss };
        let concurrency = value("--concurrency")
            .and_then(|v| v.parse().ok())
            .unwrap_or(64);
        let seconds = value("--seconds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(10.0);
        load_only(side, concurrency, seconds);
    } else {
        full();
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A runtime with two workers (this machine has two cores).
pub fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

/// `--callgrind-once --side bcss|raw --calls N`: N calls at concurrency 1 against a mock
/// in a child process (valgrind does not trace children), for `benches/callgrind.sh`,
/// which runs it with two values of N and divides the difference.
fn callgrind_once(side: Side, calls: usize) {
    let mock = setup::MockChild::start();
    let rt = runtime("client");
    let bench = Bench::new(&mock.base_url);
    let root = setup::bench_root();
    rt.block_on(async {
        let journal = match side {
            Side::Bcss => Some(setup::open_journal(&root, "callgrind").await),
            Side::Raw => None,
        };
        let client = journal.as_ref().map(|(j, _)| bench.client(j.clone()));
        for _ in 0..calls {
            match &client {
                Some(client) => bench.bcss_call(client).await,
                None => bench.raw_call().await,
            }
        }
        drop(client);
        if let Some((journal, dir)) = journal {
            setup::discard_journal(journal, &dir).await;
        }
    });
    drop(mock);
    println!("calls {calls} side {}", side.name());
}

/// `--load-only bcss|raw [--concurrency C] [--seconds S]`: one side alone, for a profiler
/// (`perf record --no-inherit`, so that the mock child is left out).
fn load_only(side: Side, concurrency: usize, seconds: f64) {
    let mock = setup::MockChild::start();
    let rt = runtime("client");
    let bench = Arc::new(Bench::new(&mock.base_url));
    let root = setup::bench_root();
    let round = rt.block_on(load::round(
        &bench,
        side,
        concurrency,
        Duration::from_secs_f64(seconds),
        &root,
        false,
    ));
    println!(
        "{} c={concurrency}: {:.0} calls/s, p50 {:.3} ms, p99 {:.3} ms",
        side.name(),
        round.rate(),
        round.quantile(0.5),
        round.quantile(0.99)
    );
    drop(mock);
}

/// The rounds of one concurrency, with the fdatasync costs measured among them.
#[derive(Default)]
struct Level {
    bcss: Vec<Round>,
    raw: Vec<Round>,
    fsync_p50_ms: Vec<f64>,
}

impl Level {
    fn rates(&self, side: Side) -> Vec<f64> {
        self.side(side).iter().map(Round::rate).collect()
    }

    fn side(&self, side: Side) -> &[Round] {
        match side {
            Side::Bcss => &self.bcss,
            Side::Raw => &self.raw,
        }
    }

    /// The median over rounds of a latency quantile.
    fn latency(&self, side: Side, q: f64) -> f64 {
        let v: Vec<f64> = self.side(side).iter().map(|r| r.quantile(q)).collect();
        median(&v)
    }

    fn ratio(&self) -> f64 {
        let v: Vec<f64> = self
            .bcss
            .iter()
            .zip(&self.raw)
            .map(|(b, r)| b.rate() / r.rate())
            .collect();
        median(&v)
    }
}

fn full() {
    let rounds: usize = env_or("BCSS_BENCH_ROUNDS", 5);
    let secs: f64 = env_or("BCSS_BENCH_SECS", 1.0);
    let levels: Vec<usize> = std::env::var("BCSS_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,16,64".to_string())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let root = setup::bench_root();
    std::fs::create_dir_all(&root).expect("create the bench directory");
    let mock = setup::MockChild::start();
    let rt = runtime("client");
    let bench = Arc::new(Bench::new(&mock.base_url));
    let duration = Duration::from_secs_f64(secs);

    println!("# bcss end to end, against the mock BCSS on loopback");
    println!();
    machine(&root);
    println!(
        "- request: RetrieveTIGroups for {} (envelope {} bytes); {rounds} rounds of {secs} s per side and concurrency, alternated",
        setup::SSIN,
        bench.envelope_len()
    );
    println!();

    let mut results: BTreeMap<usize, Level> = BTreeMap::new();
    for &c in &levels {
        let level = results.entry(c).or_default();
        for r in 0..rounds {
            // The disk's flush time drifts too: probed just before and just after the
            // round's pair, and the mean of the two kept.
            let before = (c == 1).then(|| quantile(&fdatasync_ms(&root, FSYNC_SAMPLES), 0.5));
            let order = if r % 2 == 0 {
                [Side::Bcss, Side::Raw]
            } else {
                [Side::Raw, Side::Bcss]
            };
            for side in order {
                let round = rt.block_on(load::round(&bench, side, c, duration, &root, false));
                match side {
                    Side::Bcss => level.bcss.push(round),
                    Side::Raw => level.raw.push(round),
                }
            }
            let mut fsync = String::new();
            if let Some(before) = before {
                let after = quantile(&fdatasync_ms(&root, FSYNC_SAMPLES), 0.5);
                level.fsync_p50_ms.push((before + after) / 2.0);
                fsync = format!(" | fdatasync p50 {before:.3}/{after:.3} ms");
            }
            let (b, w) = (&level.bcss[r], &level.raw[r]);
            println!(
                "c={c:<3} round {}: bcss {:>7.0}/s p50 {:.3} ms p99 {:.3} ms | raw {:>7.0}/s p50 {:.3} ms p99 {:.3} ms | ratio {:.3}{fsync}",
                r + 1,
                b.rate(),
                b.quantile(0.5),
                b.quantile(0.99),
                w.rate(),
                w.quantile(0.5),
                w.quantile(0.99),
                b.rate() / w.rate(),
            );
        }
    }

    println!();
    println!("## Calls/s and latency (median of the rounds)");
    println!();
    println!(
        "| concurrency | bcss calls/s | raw calls/s | bcss / raw | bcss p50 | bcss p99 | raw p50 | raw p99 |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (c, level) in &results {
        println!(
            "| {c} | {} | {} | {:.2} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            thousands(median(&level.rates(Side::Bcss))),
            thousands(median(&level.rates(Side::Raw))),
            level.ratio(),
            level.latency(Side::Bcss, 0.5),
            level.latency(Side::Bcss, 0.99),
            level.latency(Side::Raw, 0.5),
            level.latency(Side::Raw, 0.99),
        );
    }
    println!();
    targets(&results);

    memory(&rt, &bench, &levels, &root);

    if std::env::var("BCSS_BENCH_ZEEP").as_deref() != Ok("0") {
        zeep(&bench, &results);
    }
    if std::env::var("BCSS_BENCH_CALLGRIND").as_deref() != Ok("0") {
        instructions();
    }
    let _ = std::fs::remove_dir(&root);
    drop(mock);
}

fn targets(results: &BTreeMap<usize, Level>) {
    if let Some(one) = results.get(&1) {
        let fsync = median(&one.fsync_p50_ms);
        let (bcss, raw) = (one.latency(Side::Bcss, 0.5), one.latency(Side::Raw, 0.5));
        let bound = raw + 2.0 * fsync + 0.1;
        println!(
            "fdatasync (4 KiB appended) p50: {fsync:.3} ms (median of {} rounds, each the mean of a probe of {FSYNC_SAMPLES} before and one after)",
            one.fsync_p50_ms.len()
        );
        println!(
            "target c=1: bcss p50 {bcss:.3} ms <= raw p50 {raw:.3} + 2 x {fsync:.3} + 0.1 = {bound:.3} ms: {}",
            met(bcss <= bound)
        );
        let rounds_met = one
            .bcss
            .iter()
            .zip(&one.raw)
            .zip(&one.fsync_p50_ms)
            .filter(|((b, r), f)| b.quantile(0.5) <= r.quantile(0.5) + 2.0 * **f + 0.1)
            .count();
        println!(
            "  (round by round, with each round's own fdatasync: met in {rounds_met} of {})",
            one.bcss.len()
        );
    }
    if let Some(many) = results.get(&64) {
        let ratio = many.ratio();
        println!(
            "target c=64: bcss / raw calls/s {ratio:.3} >= 0.50: {}",
            met(ratio >= 0.5)
        );
    }
}

fn met(yes: bool) -> &'static str {
    if yes { "MET" } else { "NOT MET" }
}

/// Heap per call in flight and allocations per call, one round per side and concurrency,
/// with the counting allocator on (these rounds are not timed).
fn memory(rt: &tokio::runtime::Runtime, bench: &Arc<Bench>, levels: &[usize], root: &Path) {
    println!();
    println!("## Heap per call in flight (counting allocator, one round of 1 s each)");
    println!();
    println!(
        "| concurrency | bcss peak heap | per call in flight | raw peak heap | per call in flight | bcss allocations/call | raw allocations/call | bcss bytes allocated/call | raw bytes allocated/call |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for &c in levels {
        let mut row = Vec::new();
        for side in [Side::Bcss, Side::Raw] {
            alloc::Counting::start();
            let round = rt.block_on(load::round(
                bench,
                side,
                c,
                Duration::from_secs(1),
                root,
                true,
            ));
            alloc::Counting::stop();
            let counted = round.counted.expect("counted");
            row.push((round.calls.max(1), counted));
        }
        let (b, r) = (&row[0], &row[1]);
        println!(
            "| {c} | {} KiB | {} KiB | {} KiB | {} KiB | {:.0} | {:.0} | {} | {} |",
            thousands(b.1.peak_bytes as f64 / 1024.0),
            thousands(b.1.peak_bytes as f64 / 1024.0 / c as f64),
            thousands(r.1.peak_bytes as f64 / 1024.0),
            thousands(r.1.peak_bytes as f64 / 1024.0 / c as f64),
            b.1.allocations as f64 / b.0 as f64,
            r.1.allocations as f64 / r.0 as f64,
            thousands(b.1.allocated_bytes as f64 / b.0 as f64),
            thousands(r.1.allocated_bytes as f64 / r.0 as f64),
        );
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(hwm) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!();
        println!("Process peak resident set over the whole run: {hwm}");
    }
}

fn zeep(bench: &Bench, results: &BTreeMap<usize, Level>) {
    println!();
    println!("## zeep, same mock, same request (bcss journaling durably, zeep not)");
    println!();
    match external::zeep(bench.endpoint.as_str(), ZEEP_SECONDS, "1,8,16,64") {
        Err(why) => println!("SKIP: zeep: {why}"),
        Ok(z) => {
            println!("{}; {ZEEP_SECONDS} s per thread count", z.version);
            println!();
            println!(
                "| threads | zeep calls/s | zeep p50 | zeep p99 | bcss calls/s | bcss / zeep |"
            );
            println!("| --- | --- | --- | --- | --- | --- |");
            for &(threads, rate, p50, p99) in &z.levels {
                let bcss = results.get(&threads).map(|l| median(&l.rates(Side::Bcss)));
                let (b, ratio) = match bcss {
                    Some(b) => (thousands(b), format!("{:.1}x", b / rate)),
                    None => ("(not measured)".to_string(), "-".to_string()),
                };
                println!("| {threads} | {rate:.1} | {p50:.2} ms | {p99:.2} ms | {b} | {ratio} |");
            }
            println!();
            for &(threads, rate, _, _) in z.levels.iter().filter(|l| l.0 >= 16) {
                if let Some(l) = results.get(&threads) {
                    let ratio = median(&l.rates(Side::Bcss)) / rate;
                    println!(
                        "target {threads} threads: bcss / zeep {ratio:.1}x >= 20x: {}",
                        met(ratio >= 20.0)
                    );
                }
            }
        }
    }
}

fn instructions() {
    println!();
    println!("## Instructions per call (valgrind --tool=callgrind, concurrency 1)");
    println!();
    match external::callgrind() {
        Err(why) => println!("SKIP: callgrind: {why}"),
        Ok(i) => {
            let native = i.bcss - i.bcss_sha256;
            println!("| side | instructions per call | without software SHA-256 |");
            println!("| --- | --- | --- |");
            println!("| bcss | {} | {} |", thousands(i.bcss), thousands(native));
            println!("| raw | {} | {} |", thousands(i.raw), thousands(i.raw));
            println!(
                "| bcss / raw | {:.1} | {:.1} |",
                i.bcss / i.raw,
                native / i.raw
            );
            println!();
            println!(
                "valgrind hides SHA-NI, so sha2 hashes in software under it: {} of bcss's instructions per call; natively the SHA extensions do the same work in a few thousand",
                thousands(i.bcss_sha256)
            );
            println!();
            println!(
                "(the difference between two runs, divided by the {} calls between them)",
                i.calls
            );
        }
    }
}

/// `n` appends of 4 KiB, each followed by `fdatasync`, in `dir`: sorted latencies in ms.
fn fdatasync_ms(dir: &Path, n: usize) -> Vec<f64> {
    let path = dir.join(format!("fdatasync-probe-{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .expect("create the fdatasync probe");
    let block = vec![0x5a_u8; 4096];
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        file.write_all(&block).expect("write the probe");
        file.sync_data().expect("fdatasync the probe");
        samples.push(started.elapsed().as_secs_f64() * 1e3);
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    samples.sort_by(f64::total_cmp);
    samples
}

/// The machine, as `lscpu`, `uname` and the file system of the journals say.
fn machine(root: &Path) {
    let run = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    let lscpu = run("lscpu", &[]);
    let field = |name: &str| {
        lscpu
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal"))
                .map(|l| l.trim_start_matches("MemTotal:").trim().to_string())
        })
        .unwrap_or_default();
    println!(
        "- CPU: {} x {} (family {} model {}, {} {} virtualization); memory {memory}",
        field("CPU(s)"),
        field("Model name"),
        field("CPU family"),
        field("Model"),
        field("Hypervisor vendor"),
        field("Virtualization type"),
    );
    println!("- kernel: {}", run("uname", &["-sr"]).trim());
    let fs = run(
        "findmnt",
        &[
            "-n",
            "-o",
            "SOURCE,FSTYPE,OPTIONS",
            "-T",
            &root.to_string_lossy(),
        ],
    );
    println!("- journal directory: {} on {}", root.display(), fs.trim());
}

/// 12345.6 as `12,346`.
fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}
