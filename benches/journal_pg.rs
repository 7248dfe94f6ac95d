//! The PostgreSQL journal, measured against a throwaway local cluster (fsync on) in one run:
//!
//! 1. Appends/s (each acknowledged after its transaction committed) from 1, 4 and 16
//!    concurrent processes of 16 tasks each, beside the file journal's rate (one process,
//!    16 tasks: it has one writer) on the same disk. Target: at least 5,000 records/s in
//!    total with 16 processes.
//! 2. `query --subject` latency (connect, index lookup, every record read back and checked
//!    against the chain) over journals of 100,000 and 1,000,000 calls (an intent and an
//!    outcome each, small realistic request and reply), beside a full scan (the file
//!    journal's query, which reads every record). Target: under 100 ms at 1,000,000, flat
//!    from 100,000.
//!
//! `cargo bench --bench journal_pg` (BCSS_BENCH_CALLS=100000 stops after the first size;
//! BCSS_BENCH_SECONDS sets each append run's length, default 3). The cluster and every
//! journal are removed at the end. Not a test: it prints numbers, it asserts nothing.

#[path = "../tests/pg_support/mod.rs"]
mod pg_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bcss::Environment;
use bcss::audit::pg::{self, PgJournal, PgJournalConfig, PgLocation};
use bcss::audit::{
    Bcss, CallRecord, FileJournal, FileJournalConfig, How, IntentRecord, Journal, OutcomeRecord,
    Payload, QueryFilter, What, Who,
};
use bcss::ids::{Century, Ssin};
use bcss::transport::http::PasswordSource;
use chrono::Utc;
use uuid::Uuid;

const TASKS: usize = 16;
/// Calls per subject: a person is consulted a few times.
const CALLS_PER_SUBJECT: u64 = 5;

fn seconds() -> Duration {
    Duration::from_secs(
        std::env::var("BCSS_BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    )
}

/// The `k`-th fictitious subject (valid check digits).
fn subject(k: u64) -> String {
    let day = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new(k / 900);
    let birth = day.format("%y%m%d").to_string();
    Ssin::from_parts(&birth, (k % 900) as u16 + 1, Century::Nineteen)
        .unwrap()
        .reveal()
        .to_string()
}

/// A call's intent and outcome: a ~300-byte request and a ~400-byte reply.
fn call(k: u64) -> (CallRecord, CallRecord) {
    let ticket = Uuid::now_v7();
    let now = Utc::now();
    let ssin = subject(k / CALLS_PER_SUBJECT);
    let request = format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><ret:retrieveTIGroupsRequest><informationCustomer><ticket>{ticket}</ticket><timestampSent>{}</timestampSent><customerIdentification><cbeNumber>0212344876</cbeNumber></customerIdentification></informationCustomer><legalContext>PCSA:SOCIAL_INQUIRY</legalContext><ssin>{ssin}</ssin></ret:retrieveTIGroupsRequest></soapenv:Body></soapenv:Envelope>",
        now.to_rfc3339()
    );
    let reply = format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><ret:retrieveTIGroupsResponse><informationCustomer><ticket>{ticket}</ticket></informationCustomer><informationCBSS><ticketCBSS>bench-{k}</ticketCBSS></informationCBSS><status><value>DATA_FOUND</value><code>MSG00000</code></status><result><person><ssin>{ssin}</ssin><lastName>FICTIF</lastName><firstName>Marc</firstName></person></result></ret:retrieveTIGroupsResponse></soapenv:Body></soapenv:Envelope>"
    );
    let intent = CallRecord::Intent(IntentRecord {
        ticket,
        decided_at: now,
        sent_at: now,
        who: Who {
            user_id: format!("agent-{:03}", k % 200),
            user_name: Some("Bench Agent".into()),
            program: Some("00912345673".into()),
        },
        what: What {
            service: "RetrieveTIGroups".into(),
            operation: "retrieveTI".into(),
            subjects: vec![ssin],
            purpose: "PCSA:SOCIAL_INQUIRY".into(),
        },
        how: How {
            application: "bench".into(),
            application_version: "1.0.0".into(),
            environment: Environment::Test,
            endpoint: Some("https://bcssksz-services-test.smals.be/SOA4520/RetrieveTIGroupsService/v2/retrieveTI".into()),
            authorization_id: Some("tx25-test".into()),
            deliberation: Some("not-applicable".into()),
            drill: false,
        },
        soap_action: "http://kszbcss.fgov.be/RetrieveTIGroupsService/retrieveTI".into(),
        request: Payload::from(request),
        manifest: None,
        write: false,
        attempt: None,
    });
    let outcome = CallRecord::Outcome(OutcomeRecord {
        ticket,
        replied_at: now,
        duration_ms: 120,
        outcome: "ok".into(),
        code: Some("MSG00000".into()),
        http_status: Some(200),
        content_type: Some("text/xml; charset=utf-8".into()),
        bcss: Bcss {
            ticket: Some(format!("bench-{k}")),
            time_receive: None,
            time_reply: None,
        },
        reply: Some(Payload::from(reply)),
        error: None,
    });
    (intent, outcome)
}

/// Append calls with `tasks` tasks until `stop`; the records appended.
async fn append_until(journal: Arc<dyn Journal>, tasks: usize, stop: Arc<AtomicBool>) -> u64 {
    let count = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (journal, stop, count) = (journal.clone(), stop.clone(), count.clone());
            tokio::spawn(async move {
                let mut k = t as u64 * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let (intent, outcome) = call(k);
                    journal.append(intent).await.expect("append");
                    journal.append(outcome).await.expect("append");
                    count.fetch_add(2, Ordering::Relaxed);
                    k += 1;
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.await;
    }
    count.load(Ordering::Relaxed)
}

/// A child process: open the journal, say READY, wait for GO, append for the run's length
/// with 16 tasks, print `DONE records`.
fn child(url: &str, password: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let location = PgLocation::parse(url, Some(PasswordSource::File(password.into()))).unwrap();
        let journal = Arc::new(
            PgJournal::open(PgJournalConfig::new(location))
                .await
                .unwrap(),
        );
        println!("READY");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let timer = {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(seconds()).await;
                stop.store(true, Ordering::Relaxed);
            })
        };
        let n = append_until(journal.clone(), TASKS, stop).await;
        let _ = timer.await;
        journal.close().await.unwrap();
        println!("DONE {n}");
    });
}

/// Appends/s from `processes` processes of 16 tasks on one PostgreSQL journal.
fn pg_rate(url: &str, password: &std::path::Path, processes: usize) -> f64 {
    let mut children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .env("BCSS_BENCH_CHILD_URL", url)
                .env("BCSS_BENCH_CHILD_PASSWORD", password)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut outs: Vec<_> = children
        .iter_mut()
        .map(|c| BufReader::new(c.stdout.take().unwrap()))
        .collect();
    for out in &mut outs {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "READY");
    }
    let start = Instant::now();
    for c in &mut children {
        writeln!(c.stdin.as_mut().unwrap(), "GO").unwrap();
    }
    let mut total = 0u64;
    for out in &mut outs {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        total += line
            .trim()
            .trim_start_matches("DONE ")
            .parse::<u64>()
            .unwrap_or(0);
    }
    let elapsed = start.elapsed().as_secs_f64();
    for mut c in children {
        let _ = c.wait();
    }
    total as f64 / elapsed
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Fill a journal up to `calls` calls, with many tasks (large group commits).
async fn fill(journal: Arc<dyn Journal>, from: u64, calls: u64) {
    let next = Arc::new(AtomicU64::new(from));
    let handles: Vec<_> = (0..256)
        .map(|_| {
            let (journal, next) = (journal.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= calls {
                        break;
                    }
                    let (intent, outcome) = call(k);
                    journal.append(intent).await.expect("append");
                    journal.append(outcome).await.expect("append");
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.await;
    }
}

/// Query latencies in ms for 20 subjects spread over the first `calls` calls, each as
/// `bcss audit query --subject` does it (connect, index, read back and check).
async fn pg_query_ms(location: &PgLocation, calls: u64) -> Vec<f64> {
    let subjects = calls / CALLS_PER_SUBJECT;
    let mut ms = Vec::new();
    for i in 0..20u64 {
        let filter = QueryFilter {
            subject: Some(subject(i * (subjects / 20) + 7)),
            ..QueryFilter::default()
        };
        let start = Instant::now();
        let result = pg::query(location, &filter).await.unwrap();
        let found = result.exchanges(0, 1000, &filter).await.unwrap();
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(found.len() as u64, CALLS_PER_SUBJECT, "every call found");
    }
    ms
}

fn main() {
    if let (Ok(url), Ok(password)) = (
        std::env::var("BCSS_BENCH_CHILD_URL"),
        std::env::var("BCSS_BENCH_CHILD_PASSWORD"),
    ) {
        child(&url, &password);
        return;
    }
    let Some(cluster) = pg_support::Cluster::start_with("journal_pg bench", true) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let run = seconds().as_secs();
    println!("PostgreSQL journal bench (fsync on, unix socket, {run} s per append run)");

    // 1. Appends/s.
    let file_dir = tempfile::Builder::new()
        .prefix("bcss-bench-file")
        .tempdir()
        .unwrap();
    let file_rate = runtime.block_on(async {
        let mut c = FileJournalConfig::new(file_dir.path().join("journal"));
        c.checkpoint_every = Duration::ZERO;
        let journal = Arc::new(FileJournal::open(c).await.unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(seconds()).await;
            s.store(true, Ordering::Relaxed);
        });
        let start = Instant::now();
        let n = append_until(journal.clone(), TASKS, stop).await;
        let rate = n as f64 / start.elapsed().as_secs_f64();
        let _ = timer.await;
        journal.close().await.unwrap();
        rate
    });
    drop(file_dir);
    println!("appends/s (records acknowledged durable):");
    println!("  file journal, 1 process x {TASKS} tasks: {file_rate:>9.0}");
    for processes in [1usize, 4, 16] {
        let db = cluster.database();
        runtime.block_on(db.init("bcss"));
        let rate = pg_rate(
            &db.url(pg_support::APP, "bcss"),
            db.password_file(),
            processes,
        );
        println!(
            "  PostgreSQL, {processes:>2} process(es) x {TASKS} tasks: {rate:>9.0}  ({:.2}x the file journal){}",
            rate / file_rate,
            if processes == 16 {
                "  target >= 5000"
            } else {
                ""
            }
        );
        let _ = cluster.psql("postgres", &format!("DROP DATABASE {}", db.name));
    }

    query_part(&cluster, &runtime);
}

fn query_part(cluster: &pg_support::Cluster, runtime: &tokio::runtime::Runtime) {
    // 2. query --subject at 100,000 and 1,000,000 calls.
    let max_calls: u64 = std::env::var("BCSS_BENCH_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let db = cluster.database();
    let location = runtime.block_on(db.init("bcss"));
    let file_dir = tempfile::Builder::new()
        .prefix("bcss-bench-scan")
        .tempdir()
        .unwrap();
    println!("query --subject ({CALLS_PER_SUBJECT} calls per subject; 20 subjects; ms):");
    let mut filled = 0u64;
    let mut medians = Vec::new();
    for calls in [100_000u64, 1_000_000] {
        if calls > max_calls {
            break;
        }
        let start = Instant::now();
        runtime.block_on(async {
            let mut c = PgJournalConfig::new(location.clone());
            c.checkpoint_every = Duration::ZERO;
            let pg_journal = Arc::new(PgJournal::open(c).await.unwrap());
            let mut c = FileJournalConfig::new(file_dir.path().join("journal"));
            c.checkpoint_every = Duration::ZERO;
            let file_journal = Arc::new(FileJournal::open(c).await.unwrap());
            tokio::join!(
                fill(pg_journal.clone(), filled, calls),
                fill(file_journal.clone(), filled, calls)
            );
            pg_journal.close().await.unwrap();
            file_journal.close().await.unwrap();
        });
        let fill_s = start.elapsed().as_secs_f64();
        filled = calls;
        let size = cluster
            .psql(
                &db.name,
                "SELECT pg_size_pretty(pg_total_relation_size('bcss.records'))",
            )
            .unwrap_or_default();
        let ms = runtime.block_on(pg_query_ms(&location, calls));
        let scan_filter = QueryFilter {
            subject: Some(subject(7)),
            ..QueryFilter::default()
        };
        // The baseline reads every record (`audit::scan`): the file journal's writer keeps
        // its sidecar index, which `audit::query` would use (its time is printed too).
        let file_journal = file_dir.path().join("journal");
        let scan = Instant::now();
        let scanned = bcss::audit::scan(&file_journal, &scan_filter).unwrap();
        let found = scanned.exchanges().count();
        let scan_ms = scan.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(found as u64, CALLS_PER_SUBJECT);
        let indexed = Instant::now();
        let through_index = bcss::audit::query(&file_journal, &scan_filter).unwrap();
        assert_eq!(through_index.exchanges().count() as u64, CALLS_PER_SUBJECT);
        let indexed_ms = indexed.elapsed().as_secs_f64() * 1000.0;
        let m = median(ms.clone());
        medians.push(m);
        println!(
            "  {calls:>9} calls ({} records, PostgreSQL table {size}; filled both in {fill_s:.0} s): PostgreSQL index median {m:.1} ms, p95 {:.1} ms; file journal full scan {scan_ms:.0} ms ({:.0}x), its sidecar index {indexed_ms:.1} ms",
            calls * 2,
            percentile(ms, 0.95),
            scan_ms / m
        );
    }
    if let [small, large] = medians[..] {
        println!(
            "  1,000,000 / 100,000 calls: {:.2}x the median latency (flat: about 1); target under 100 ms at 1,000,000",
            large / small
        );
    }
    let _ = cluster.psql("postgres", &format!("DROP DATABASE {}", db.name));
    drop(file_dir);
}
