//! Opening a file journal: the time `FileJournal::open` takes on journals of 100,000 and
//! 1,000,000 records, beside a full walk of the same journal (`verify`, and `open` without
//! the checkpoint locator, which walks everything as opening did before), measured in the
//! same run on the same disk. Opening checks the last checkpoint in place and only what
//! follows it, so it must not grow with the history.
//!
//! Records: intents and outcomes about fictitious people, each with a ~700-byte SOAP
//! request or reply (about 1.1 KiB per record body), checkpoints every 1,000 records (the
//! default), segments of 64 MiB. The journals are written under a temporary folder in
//! `target/` (BCSS_BENCH_DIR to choose another disk) and deleted at the end: about 1.2 GB
//! at the largest size.
//!
//! `cargo bench --bench journal_open` (BCSS_BENCH_SIZES=100000 to run one size only).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bcss::Environment;
use bcss::audit::{
    self, Bcss, CallRecord, FileJournal, FileJournalConfig, How, IntentRecord, Journal,
    OutcomeRecord, Payload, VerifyOptions, What, Who,
};
use chrono::Utc;
use uuid::Uuid;

const SIZES: [u64; 2] = [100_000, 1_000_000];
const APPENDERS: u64 = 256;
const OPENS: usize = 7;

fn request(subject: &str) -> Payload {
    let mut xml = format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><RetrieveTIRequest><informationCustomer><ticket>{}</ticket><timestampSent>2026-06-01T12:00:00.000+02:00</timestampSent><customerIdentification><cbeNumber>0212344876</cbeNumber></customerIdentification></informationCustomer><legalContext>PCSA:SOCIAL_INQUIRY</legalContext><ssin>{subject}</ssin>",
        Uuid::now_v7()
    );
    while xml.len() < 650 {
        xml.push_str("<criteria><language>fr</language></criteria>");
    }
    xml.push_str("</RetrieveTIRequest></soapenv:Body></soapenv:Envelope>");
    Payload::from(xml)
}

fn intent(ticket: Uuid, user: u64) -> CallRecord {
    let now = Utc::now();
    let subject = "68070100188";
    CallRecord::Intent(IntentRecord {
        ticket,
        decided_at: now,
        sent_at: now,
        who: Who {
            user_id: format!("agent-{user}"),
            user_name: Some("Sam Agent".into()),
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
            endpoint: Some("https://services-sim.example/RetrieveTIGroups".into()),
            authorization_id: Some("tx25-test".into()),
            deliberation: Some("not-applicable".into()),
            drill: false,
        },
        soap_action: "urn:be:fgov:ehealth:retrieveTI".into(),
        request: request(subject),
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
        outcome: "received".into(),
        code: None,
        http_status: Some(200),
        content_type: Some("text/xml; charset=utf-8".into()),
        bcss: Bcss::default(),
        reply: Some(request("68070100188")),
        error: None,
    })
}

/// Write `n` records with many appenders (so that they are batched).
fn fill(rt: &tokio::runtime::Runtime, dir: &Path, n: u64) {
    rt.block_on(async {
        let journal = Arc::new(
            FileJournal::open(FileJournalConfig::new(dir))
                .await
                .expect("open"),
        );
        let mut tasks = Vec::new();
        for task in 0..APPENDERS {
            let journal = Arc::clone(&journal);
            let count = n / APPENDERS + u64::from(task < n % APPENDERS);
            tasks.push(tokio::spawn(async move {
                let mut ticket = Uuid::now_v7();
                for i in 0..count {
                    let record = if i % 2 == 0 {
                        ticket = Uuid::now_v7();
                        intent(ticket, task)
                    } else {
                        outcome(ticket)
                    };
                    journal.append(record).await.expect("append");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        journal.close().await.expect("close");
    });
}

/// The time of one `open` (the journal is then closed, untimed), and its stats.
fn open_once(rt: &tokio::runtime::Runtime, dir: &Path) -> (Duration, bool, u64) {
    rt.block_on(async {
        let mut config = FileJournalConfig::new(dir);
        config.checkpoint_on_close = false;
        let start = Instant::now();
        let journal = FileJournal::open(config).await.expect("open");
        let took = start.elapsed();
        let (from_checkpoint, read) = journal.open_stats();
        journal.close().await.expect("close");
        (took, from_checkpoint, read)
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let base = std::env::var_os("BCSS_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("target"));
    std::fs::create_dir_all(&base).expect("bench directory");
    let tmp = tempfile::Builder::new()
        .prefix("bench-journal-open")
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
    println!("journal_open: records of ~1.1 KiB (intents and outcomes with a ~700-byte payload)");
    println!("directory: {}", tmp.path().display());
    println!(
        "{:>10} {:>9} {:>10} {:>14} {:>13} {:>13} {:>9}",
        "records", "MB", "write s", "open (median)", "verify", "open, no loc.", "ratio"
    );
    for n in sizes {
        let dir = tmp.path().join(format!("journal-{n}"));
        let start = Instant::now();
        fill(&rt, &dir, n);
        let write = start.elapsed();
        let mut opens = Vec::new();
        for _ in 0..OPENS {
            let (took, from_checkpoint, read) = open_once(&rt, &dir);
            assert!(from_checkpoint, "open started from the last checkpoint");
            assert!(read < 1_000, "open read {read} records");
            opens.push(took);
        }
        let open = median(opens);
        let start = Instant::now();
        let report = audit::verify(&dir, &VerifyOptions::default()).expect("verify");
        let verify = start.elapsed();
        assert!(report.is_ok(), "{:?}", report.problem);
        std::fs::remove_file(dir.join("head.json")).expect("remove the locator");
        let (full, from_checkpoint, _) = open_once(&rt, &dir);
        assert!(!from_checkpoint);
        println!(
            "{n:>10} {:>9.0} {:>10.1} {:>11.2} ms {:>10.0} ms {:>10.0} ms {:>8.0}x",
            dir_bytes(&dir) as f64 / 1e6,
            write.as_secs_f64(),
            open.as_secs_f64() * 1e3,
            verify.as_secs_f64() * 1e3,
            full.as_secs_f64() * 1e3,
            full.as_secs_f64() / open.as_secs_f64().max(1e-9),
        );
        std::fs::remove_dir_all(&dir).expect("delete the journal");
    }
    println!("target: open under 100 ms at both sizes, not growing with the history");
}
