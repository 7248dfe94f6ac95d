//! Four processes with sixteen tasks each append to one PostgreSQL journal at once; one is
//! killed with SIGKILL mid-way. Afterwards every acknowledged record is there, at the
//! sequence number it was acknowledged with, sequence numbers have no gaps, and the chain
//! verifies.
//!
//! The processes are this test binary again, running the ignored `child_appender` test.

mod audit_support;
mod pg_support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use audit_support::{intent, ssin};
use bcss::audit::pg::{self, PgJournal, PgJournalConfig, PgLocation};
use bcss::audit::{Journal, Record, VerifyOptions};
use bcss::transport::http::PasswordSource;
use pg_support::{APP, shared};
use uuid::Uuid;

const PROCESSES: usize = 4;
const TASKS: usize = 16;
const APPENDS_PER_TASK: usize = 25;

fn spawn_child(url: &str, password_file: &std::path::Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_appender",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("BCSS_PG_CHILD_URL", url)
        .env("BCSS_PG_CHILD_PASSWORD_FILE", password_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `ACK sequence ticket` lines from a child, up to `stop_after` of them (then the child
/// is killed with SIGKILL).
fn acks(child: &mut Child, stop_after: Option<usize>) -> Vec<(u64, Uuid)> {
    let stdout = child.stdout.take().unwrap();
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        // The harness may print `test child_appender ... ` before the first line.
        let Some(at) = line.find("ACK ") else {
            continue;
        };
        let mut parts = line[at..].split(' ');
        parts.next();
        let sequence: u64 = parts.next().unwrap().parse().unwrap();
        let ticket: Uuid = parts.next().unwrap().parse().unwrap();
        acked.push((sequence, ticket));
        if stop_after.is_some_and(|n| acked.len() >= n) {
            child.kill().unwrap();
            break;
        }
    }
    let _ = child.wait();
    acked
}

#[tokio::test]
async fn four_processes_one_killed_leave_no_gap_and_lose_no_acknowledged_record() {
    let Some(cluster) = shared("concurrency") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let url = db.url(APP, "bcss");
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|_| spawn_child(&url, db.password_file()))
        .collect();
    // Read every child's acknowledgements on its own thread; the first is killed after
    // a third of its appends.
    let handles: Vec<_> = children
        .drain(..)
        .enumerate()
        .map(|(i, mut child)| {
            std::thread::spawn(move || {
                let stop = (i == 0).then_some(TASKS * APPENDS_PER_TASK / 3);
                acks(&mut child, stop)
            })
        })
        .collect();
    let mut acked = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        let got = h.join().unwrap();
        if i == 0 {
            assert!(
                got.len() < TASKS * APPENDS_PER_TASK,
                "the killed process stopped early"
            );
        } else {
            assert_eq!(got.len(), TASKS * APPENDS_PER_TASK, "process {i} finished");
        }
        acked.extend(got);
    }

    let report = pg::verify(&location, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    let head = report.head.unwrap();
    let all = pg::records(&location, 1..=head.sequence).await.unwrap();
    // No gap: sequences 1..=head, each once.
    assert_eq!(all.len() as u64, head.sequence);
    for (i, (sequence, _)) in all.iter().enumerate() {
        assert_eq!(*sequence, i as u64 + 1);
    }
    // Every acknowledged record is at the sequence it was acknowledged with.
    let by_sequence: HashMap<u64, &Record> = all.iter().map(|(s, r)| (*s, r)).collect();
    for (sequence, ticket) in &acked {
        let record = by_sequence
            .get(sequence)
            .expect("an acknowledged record is present");
        assert_eq!(record.ticket(), Some(*ticket), "sequence {sequence}");
    }
    let intents = all
        .iter()
        .filter(|(_, r)| matches!(r, Record::Intent(_)))
        .count();
    assert!(intents >= acked.len());
    println!(
        "{} records, {} acknowledged to {PROCESSES} processes (one killed), no gaps",
        head.sequence,
        acked.len()
    );
}

/// One appending process: 16 tasks, each appending and printing `ACK sequence ticket`
/// once acknowledged. Run by the test above, never on its own.
#[test]
#[ignore = "a child process of the concurrency test"]
fn child_appender() {
    let (Ok(url), Ok(password)) = (
        std::env::var("BCSS_PG_CHILD_URL"),
        std::env::var("BCSS_PG_CHILD_PASSWORD_FILE"),
    ) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let location =
            PgLocation::parse(&url, Some(PasswordSource::File(password.into()))).unwrap();
        let mut config = PgJournalConfig::new(location);
        config.checkpoint_every_records = 200;
        let journal = Arc::new(PgJournal::open(config).await.unwrap());
        let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let journal = journal.clone();
                let out = out.clone();
                tokio::spawn(async move {
                    for i in 0..APPENDS_PER_TASK {
                        let ticket = Uuid::now_v7();
                        let subject = ssin((t * APPENDS_PER_TASK + i) as u16 % 900 + 1);
                        let a = journal
                            .append(intent(ticket, "agent-c", "IdentifyPerson", &subject, 400))
                            .await
                            .unwrap();
                        let mut out = out.lock().unwrap();
                        writeln!(out, "ACK {} {ticket}", a.sequence).unwrap();
                        out.flush().unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        journal.close().await.unwrap();
    });
}
