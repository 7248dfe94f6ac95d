//! `query --subject` on file journals of 100,000 and 1,000,000 calls: through the sidecar
//! index, beside a full scan of the same journal (`audit::scan`, what every query did
//! before the index), measured in the same run on the same disk. The journal is written
//! with the index kept by the writer (as an application runs), queried through that
//! index (with "its tail": the records written after the writer's index stopped, which a
//! query reads in chain order; a closing writer indexes what is left only when it is at
//! most 10,000 records, else it leaves that to the next writer or `reindex`), then the index is rebuilt (`reindex`, timed) and queried
//! again. Also the index's size. The ratio is the full scan's time over the rebuilt
//! index's.
//!
//! Each call is an intent and its outcome (the classification folded into the outcome
//! record), with small request and reply payloads (~150 bytes) to keep the journals small
//! on disk: about 0.9 KiB per call. Subjects are drawn from 50,000 fictitious people; the
//! probed person has exactly 10 calls, spread over the journal, at every size, so that
//! the latency compares the same answer. A query's time includes reading back and
//! checking every record shown (`exchanges()`), as `bcss audit query` does.
//!
//! The journals are written under a temporary folder in `target/` (BCSS_BENCH_DIR to choose
//! another disk) and deleted at the end: about 1 GB at the largest size.
//!
//! `cargo bench --bench journal_query` (BCSS_BENCH_SIZES=100000 to run one size only).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bcss::Environment;
use bcss::audit::{
    self, Bcss, CallRecord, FileJournal, FileJournalConfig, How, IntentRecord, Journal,
    OutcomeRecord, Payload, QueryFilter, QueryPlan, What, Who,
};
use bcss::ids::{Century, Ssin};
use chrono::Utc;
use uuid::Uuid;

const SIZES: [u64; 2] = [100_000, 1_000_000];
const APPENDERS: u64 = 64;
const PEOPLE: u64 = 50_000;
/// Calls about the probed person at every size.
const PROBE_CALLS: u64 = 10;
const QUERIES: usize = 21;
const SCANS: usize = 3;

fn ssin(serial: u64) -> String {
    // 850101 + serial (1..=998) over enough birth dates for 50,000 people.
    let day = 1 + (serial / 998) % 28;
    let month = 1 + (serial / (998 * 28)) % 12;
    let birth = format!("85{month:02}{day:02}");
    Ssin::from_parts(&birth, (serial % 998 + 1) as u16, Century::Nineteen)
        .expect("a valid fictitious SSIN")
        .reveal()
        .to_string()
}

fn intent(ticket: Uuid, user: u64, subject: &str) -> CallRecord {
    let now = Utc::now();
    CallRecord::Intent(IntentRecord {
        ticket,
        decided_at: now,
        sent_at: now,
        who: Who {
            user_id: format!("agent-{}", user % 40),
            user_name: None,
            program: Some("00912345673".into()),
        },
        what: What {
            service: "RetrieveTIGroups".into(),
            operation: "retrieveTI".into(),
            subjects: vec![subject.into()],
            purpose: "PCSA:SOCIAL_INQUIRY".into(),
        },
        how: How {
            application: "cpas-social-desk".into(),
            application_version: "2.3.1".into(),
            environment: Environment::Test,
            endpoint: None,
            authorization_id: Some("tx25-test".into()),
            deliberation: Some("not-applicable".into()),
            drill: false,
        },
        soap_action: "urn:retrieveTI".into(),
        request: Payload::from(format!(
            "<RetrieveTIRequest><legalContext>PCSA:SOCIAL_INQUIRY</legalContext><ssin>{subject}</ssin></RetrieveTIRequest>"
        )),
        manifest: None,
        write: false,
        attempt: None,
    })
}

fn outcome(ticket: Uuid) -> CallRecord {
    CallRecord::Outcome(OutcomeRecord {
        ticket,
        replied_at: Utc::now(),
        duration_ms: 87,
        outcome: "ok".into(),
        code: None,
        http_status: Some(200),
        content_type: None,
        bcss: Bcss::default(),
        reply: Some(Payload::from_bytes(
            b"<RetrieveTIResponse><status>OK</status><groups/></RetrieveTIResponse>",
        )),
        error: None,
    })
}

/// The subject of call `i` of `calls`: the probe every `calls / PROBE_CALLS` calls, else
/// one of the other people.
fn subject_of(i: u64, calls: u64) -> String {
    let every = calls / PROBE_CALLS;
    if i % every == every / 2 {
        ssin(0)
    } else {
        ssin(1 + (i * 7_919) % (PEOPLE - 1))
    }
}

/// Write `calls` calls with many appenders, the writer keeping the index.
fn fill(rt: &tokio::runtime::Runtime, dir: &Path, calls: u64) {
    rt.block_on(async {
        let config = FileJournalConfig::new(dir);
        let journal = Arc::new(FileJournal::open(config).await.expect("open"));
        let mut tasks = Vec::new();
        for task in 0..APPENDERS {
            let journal = Arc::clone(&journal);
            tasks.push(tokio::spawn(async move {
                let mut i = task;
                while i < calls {
                    let ticket = Uuid::now_v7();
                    let subject = subject_of(i, calls);
                    journal
                        .append(intent(ticket, i, &subject))
                        .await
                        .expect("append");
                    journal.append(outcome(ticket)).await.expect("append");
                    i += APPENDERS;
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        journal.close().await.expect("close");
    });
}

/// One query as `bcss audit query` runs it: find, then read back every exchange.
fn query_once(dir: &Path, filter: &QueryFilter, indexed: bool) -> (Duration, usize, QueryPlan) {
    let start = Instant::now();
    let result = if indexed {
        audit::query(dir, filter)
    } else {
        audit::scan(dir, filter)
    }
    .expect("query");
    let mut shown = 0;
    for exchange in result.exchanges() {
        exchange.expect("exchange");
        shown += 1;
    }
    (start.elapsed(), shown, result.plan)
}

/// The median time of `QUERIES` indexed queries for `filter` (each must use the index and
/// show the probe's calls), and the records after the index's last one that each query
/// read in chain order.
fn query_median(dir: &Path, filter: &QueryFilter) -> (Duration, u64) {
    let mut times = Vec::new();
    let mut tail = 0;
    for _ in 0..QUERIES {
        let (took, shown, plan) = query_once(dir, filter, true);
        let QueryPlan::Index { tail_records, .. } = plan else {
            panic!("the index was not used: {plan:?}");
        };
        assert_eq!(shown as u64, PROBE_CALLS);
        times.push(took);
        tail = tail_records;
    }
    (median(times), tail)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bytes_under(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => bytes_under(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn main() {
    let base = std::env::var_os("BCSS_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("target"));
    std::fs::create_dir_all(&base).expect("bench directory");
    let tmp = tempfile::Builder::new()
        .prefix("bench-journal-query")
        .tempdir_in(&base)
        .expect("temporary directory");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sizes: Vec<u64> = match std::env::var("BCSS_BENCH_SIZES") {
        Ok(v) => v.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => SIZES.to_vec(),
    };
    let filter = QueryFilter {
        subject: Some(ssin(0)),
        ..QueryFilter::default()
    };
    println!(
        "journal_query: calls of an intent and an outcome (~0.9 KiB), {PEOPLE} people, the probed one with {PROBE_CALLS} calls"
    );
    println!("directory: {}", tmp.path().display());
    println!(
        "{:>10} {:>8} {:>9} {:>9} {:>14} {:>8} {:>10} {:>14} {:>12} {:>8}",
        "calls",
        "MB",
        "index MB",
        "write s",
        "query, writer",
        "its tail",
        "reindex s",
        "query, rebuilt",
        "full scan",
        "ratio"
    );
    let mut latencies = Vec::new();
    for calls in sizes {
        let dir = tmp.path().join(format!("journal-{calls}"));
        let start = Instant::now();
        fill(&rt, &dir, calls);
        let write = start.elapsed();
        let index_bytes = bytes_under(&dir.join(audit::INDEX_DIR));
        let (by_writer, tail) = query_median(&dir, &filter);
        let start = Instant::now();
        let report = audit::reindex(&dir, Duration::ZERO, None).expect("reindex");
        let reindex = start.elapsed();
        assert!(report.problem.is_none(), "{:?}", report.problem);
        let (query, _) = query_median(&dir, &filter);
        let mut scans = Vec::new();
        for _ in 0..SCANS {
            let (took, shown, _) = query_once(&dir, &filter, false);
            assert_eq!(shown as u64, PROBE_CALLS);
            scans.push(took);
        }
        let scan = median(scans);
        println!(
            "{calls:>10} {:>8.0} {:>9.1} {:>9.1} {:>11.2} ms {tail:>8} {:>10.1} {:>11.2} ms {:>9.0} ms {:>7.0}x",
            bytes_under(&dir) as f64 / 1e6,
            index_bytes as f64 / 1e6,
            write.as_secs_f64(),
            by_writer.as_secs_f64() * 1e3,
            reindex.as_secs_f64(),
            query.as_secs_f64() * 1e3,
            scan.as_secs_f64() * 1e3,
            scan.as_secs_f64() / query.as_secs_f64().max(1e-9),
        );
        latencies.push((calls, query));
        std::fs::remove_dir_all(&dir).expect("delete the journal");
    }
    if let [(small, a), .., (large, b)] = latencies.as_slice() {
        println!(
            "query --subject (rebuilt index) at {large} calls / at {small} calls: {:.2}x (flat is 1x)",
            b.as_secs_f64() / a.as_secs_f64().max(1e-9)
        );
    }
    println!("target: query --subject under 100 ms at 1,000,000 calls, flat from 100,000");
}
