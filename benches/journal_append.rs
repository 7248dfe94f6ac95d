//! Journal append throughput: records/s for 1, 8, 64 and 512 concurrent appenders of 4 KiB
//! records (each append waits for the fdatasync that covers it), beside this machine's raw
//! `write` + `fdatasync` loop with the same batch sizes, measured in the same run on the
//! same file system. Each configuration runs several rounds, journal then raw, so that a
//! shared machine's changing load hits both alike; it prints the median rate of each and
//! the median of the rounds' ratios, and each round's ratio.
//!
//! Target: at 64 appenders, at least 50% of the raw throughput for batches of 64.
//!
//! `cargo bench --bench journal_append` (set BCSS_BENCH_DIR to measure another disk, and
//! BCSS_BENCH_APPENDERS=64 to run one configuration only, BCSS_BENCH_ROUNDS to change the
//! number of rounds, BCSS_BENCH_INDEX=0 to measure the journal without its sidecar index,
//! which the writer otherwise keeps up to date in a thread of its own).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bcss::Environment;
use bcss::audit::{
    CallRecord, FileJournal, FileJournalConfig, How, IntentRecord, Journal, Payload, Record, What,
    Who, codec,
};
use chrono::Utc;
use uuid::Uuid;

const RECORD_BYTES: usize = 4096;
const RUN: Duration = Duration::from_millis(1000);
/// Rounds per configuration (BCSS_BENCH_ROUNDS overrides).
const ROUNDS: usize = 5;
const APPENDERS: [usize; 4] = [1, 8, 64, 512];

/// A 4 KiB intent record (its body: the JSON part and the request) about a fictitious
/// person.
fn record() -> CallRecord {
    let now = Utc::now();
    let mut r = IntentRecord {
        ticket: Uuid::now_v7(),
        decided_at: now,
        sent_at: now,
        who: Who {
            user_id: "bench-user".into(),
            user_name: Some("Bench User".into()),
            program: None,
        },
        what: What {
            service: "IdentifyPerson".into(),
            operation: "search".into(),
            subjects: vec!["85010100110".into()],
            purpose: "bench".into(),
        },
        how: How {
            application: "bench".into(),
            application_version: "0".into(),
            environment: Environment::Test,
            endpoint: None,
            authorization_id: None,
            deliberation: None,
            drill: false,
        },
        soap_action: "urn:bench".into(),
        request: Payload::default(),
        manifest: None,
        write: false,
        attempt: None,
    };
    let base = body_len(&CallRecord::Intent(r.clone()));
    r.request = Payload::from("x".repeat(RECORD_BYTES.saturating_sub(base)));
    CallRecord::Intent(r)
}

/// The length of a record's body.
fn body_len(record: &CallRecord) -> usize {
    codec::encode(&Record::from(record.clone())).map_or(0, |b| b.len())
}

/// The process's CPU time (user + system) so far, in seconds; 0 when unknown.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the parenthesised command name; utime and stime are the 12th and
    // 13th of them, in clock ticks (100 per second on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// One journal measurement.
struct JournalRun {
    rate: f64,
    mean_batch: f64,
    /// CPU time of the whole process per record, in microseconds.
    cpu_us: f64,
}

/// Journal records/s with `appenders` concurrent tasks.
fn journal_rate(rt: &tokio::runtime::Runtime, dir: &Path, appenders: usize) -> JournalRun {
    rt.block_on(async {
        let mut config = FileJournalConfig::new(dir);
        config.index = std::env::var("BCSS_BENCH_INDEX").map_or(true, |v| v != "0");
        if let Some(us) = std::env::var("BCSS_BENCH_WINDOW_US")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            config.batch_window = Duration::from_micros(us);
        }
        let journal = Arc::new(FileJournal::open(config).await.expect("open the journal"));
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let rec = record();
        let cpu_start = cpu_seconds();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..appenders {
            let (journal, stop, count, rec) =
                (journal.clone(), stop.clone(), count.clone(), rec.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    journal.append(rec.clone()).await.expect("append");
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        tokio::time::sleep(RUN).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.expect("task");
        }
        let elapsed = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_start;
        let stats = journal.stats();
        journal.close().await.expect("close");
        let n = count.load(Ordering::Relaxed) as f64;
        JournalRun {
            rate: n / elapsed,
            mean_batch: stats.frames as f64 / stats.batches.max(1) as f64,
            cpu_us: cpu * 1e6 / n.max(1.0),
        }
    })
}

/// Microseconds on one core, per record, of encoding it (the codec: its JSON part, the
/// request kept as an attachment) and of SHA-256 over its body (sha2).
fn encode_and_hash_micros() -> (f64, f64) {
    let rec = record();
    let per_record = |f: &mut dyn FnMut() -> u8| {
        let start = Instant::now();
        let mut n = 0u32;
        let mut sink = 0u8;
        while start.elapsed() < Duration::from_millis(300) {
            sink ^= f();
            n += 1;
        }
        std::hint::black_box(sink);
        start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    };
    let rec = Record::from(rec);
    let encode = per_record(&mut || codec::encode(&rec).map_or(0, |b| b.len() as u8));
    let body = codec::encode(&rec).expect("encode").to_bytes();
    let hash = per_record(&mut || {
        use sha2::Digest as _;
        sha2::Sha256::digest(&body)[0]
    });
    (encode, hash)
}

/// Raw records/s: `batch` records of the journal's frame size per `write`, then fdatasync.
fn raw_rate(dir: &Path, batch: usize, frame_bytes: usize) -> f64 {
    let path = dir.join(format!("raw-{batch}.bin"));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .expect("open raw file");
    let buf = vec![b'x'; batch * frame_bytes];
    let start = Instant::now();
    let mut records = 0u64;
    while start.elapsed() < RUN {
        file.write_all(&buf).expect("write");
        file.sync_data().expect("fdatasync");
        records += batch as u64;
    }
    let rate = records as f64 / start.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    rate
}

/// One configuration's rounds: journal and raw measured alternately, so that both see the
/// same moments of a shared machine; the ratio is the median of the rounds' ratios.
struct Rounds {
    journal: Vec<f64>,
    raw: Vec<f64>,
    mean_batch: Vec<f64>,
    cpu_us: Vec<f64>,
}

impl Rounds {
    fn ratios(&self) -> Vec<f64> {
        self.journal
            .iter()
            .zip(&self.raw)
            .map(|(j, r)| j / r)
            .collect()
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn main() {
    let base = std::env::var_os("BCSS_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("target"));
    std::fs::create_dir_all(&base).expect("bench directory");
    let tmp = tempfile::Builder::new()
        .prefix("bench-journal")
        .tempdir_in(&base)
        .expect("temporary directory");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let rounds: usize = std::env::var("BCSS_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(ROUNDS);
    let body = body_len(&record());
    let frame = body + 64;
    println!(
        "journal_append: {body}-byte records ({frame} bytes framed); per configuration, \
         {rounds} rounds of {RUN:?} journal then {RUN:?} raw"
    );
    println!("directory: {}", tmp.path().display());
    println!(
        "{:>10} {:>14} {:>11} {:>11} {:>23} {:>7}  round ratios",
        "appenders", "journal rec/s", "mean batch", "CPU us/rec", "raw rec/s (same batch)", "ratio"
    );
    let only: Option<usize> = std::env::var("BCSS_BENCH_APPENDERS")
        .ok()
        .and_then(|v| v.parse().ok());
    for n in APPENDERS
        .into_iter()
        .filter(|n| only.is_none_or(|o| o == *n))
    {
        let mut r = Rounds {
            journal: Vec::new(),
            raw: Vec::new(),
            mean_batch: Vec::new(),
            cpu_us: Vec::new(),
        };
        for round in 0..rounds {
            let dir = tmp.path().join(format!("journal-{n}-{round}"));
            let run = journal_rate(&rt, &dir, n);
            let _ = std::fs::remove_dir_all(&dir);
            r.journal.push(run.rate);
            r.mean_batch.push(run.mean_batch);
            r.cpu_us.push(run.cpu_us);
            r.raw.push(raw_rate(tmp.path(), n, frame));
        }
        let ratios = r.ratios();
        let shown: Vec<String> = ratios
            .iter()
            .map(|x| format!("{:.0}%", 100.0 * x))
            .collect();
        println!(
            "{n:>10} {:>14.0} {:>11.1} {:>11.1} {:>23.0} {:>6.0}%  {}",
            median(r.journal.clone()),
            median(r.mean_batch.clone()),
            median(r.cpu_us.clone()),
            median(r.raw.clone()),
            100.0 * median(ratios),
            shown.join(" "),
        );
    }
    println!("target: at 64 appenders, >= 50% of the raw rate for batches of 64");
    let (encode, hash) = encode_and_hash_micros();
    println!(
        "per record on one core: encoding {encode:.1} us; SHA-256 of the body (sha2) {hash:.1} us"
    );
}
