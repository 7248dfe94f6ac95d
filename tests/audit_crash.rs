//! Crash test: a child process appends from 64 concurrent tasks and is killed with SIGKILL
//! at random moments, 20 times. After each kill the journal opens (recovering a torn tail)
//! and verifies, and every append acknowledged to a caller before the kill is present.
//!
//! The child is this test binary itself, re-run with an environment variable naming the
//! journal directory (the `crash_child` entry point is ignored in normal runs).
//!
//! The journal has a witness (beside the journal directory): after every kill it still
//! confirms the journal, so heads are only ever witnessed once durable.

#[path = "audit_support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bcss::audit::{self, FileJournal, Journal, QueryFilter};
use rand::Rng;
use support::*;
use uuid::Uuid;

const CHILD_DIR: &str = "BCSS_AUDIT_CRASH_CHILD_DIR";
const KILLS: usize = 20;

fn child_config(dir: &Path) -> bcss::audit::FileJournalConfig {
    let mut c = config(dir);
    c.witness = Some(witness(dir));
    // Small segments, so that kills also land around rotations.
    c.segment_max_bytes = 256 * 1024;
    c.checkpoint_every_records = 500;
    c
}

/// The journal's witness: a file beside its directory.
fn witness(dir: &Path) -> std::sync::Arc<dyn bcss::audit::Witness> {
    std::sync::Arc::new(bcss::audit::FileWitness::new(dir.with_extension("witness")))
}

/// The child: append forever from 64 tasks, printing `ack SEQUENCE TICKET` after each
/// acknowledged append.
#[test]
#[ignore = "the child process of appends_survive_sigkill; run by it"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let journal = Arc::new(
            FileJournal::open(child_config(Path::new(&dir)))
                .await
                .unwrap(),
        );
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "ready").unwrap();
            out.flush().unwrap();
        }
        let mut tasks = Vec::new();
        for task in 0..64u16 {
            let journal = Arc::clone(&journal);
            tasks.push(tokio::spawn(async move {
                let subject = ssin(1 + task);
                let mut n = 0usize;
                loop {
                    let ticket = Uuid::now_v7();
                    let size = 100 + (n * 397 + usize::from(task) * 131) % 3000;
                    let record = intent(ticket, &format!("user-{task}"), "S", &subject, size);
                    match journal.append(record).await {
                        Ok(a) => {
                            let mut out = std::io::stdout().lock();
                            let printed = writeln!(out, "ack {} {ticket}", a.sequence)
                                .and_then(|()| out.flush());
                            if printed.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            eprintln!("append failed: {e}");
                            return;
                        }
                    }
                    n += 1;
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
}

#[test]
fn appends_survive_sigkill() {
    let tmp = tempdir();
    let dir = tmp.path().join("journal");
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::thread_rng();
    let mut acked_total = 0usize;
    let mut truncations = 0u64;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for round in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut acks: Vec<(u64, Uuid)> = Vec::new();
            let mut r = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                // Only whole lines: a line cut by the kill is not an acknowledgement seen.
                if line.last() != Some(&b'\n') {
                    break;
                }
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end();
                // The test harness prints `test crash_child ... ` before it, on the same line.
                if text.ends_with("ready") {
                    let _ = ready_tx.send(());
                } else if let Some(rest) = text.strip_prefix("ack ") {
                    let (seq, ticket) = rest.split_once(' ').unwrap();
                    acks.push((seq.parse().unwrap(), ticket.parse().unwrap()));
                }
            }
            acks
        });
        // One kill in five may land while the journal is still opening (recovering).
        if rng.gen_range(0..5) == 0 {
            std::thread::sleep(Duration::from_millis(rng.gen_range(0..150)));
        } else {
            ready_rx
                .recv_timeout(Duration::from_secs(120))
                .expect("the child opened the journal");
            std::thread::sleep(Duration::from_millis(rng.gen_range(5..400)));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let acks = reader.join().unwrap();
        acked_total += acks.len();

        // The journal opens (cutting a torn tail) and verifies.
        runtime.block_on(async {
            let journal = FileJournal::open(child_config(&dir))
                .await
                .unwrap_or_else(|e| {
                    panic!("round {round}: the journal does not open after SIGKILL: {e}")
                });
            if journal.recovered_truncation().is_some() {
                truncations += 1;
            }
            journal.close().await.unwrap();
        });
        let options = audit::VerifyOptions {
            witness: Some(witness(&dir)),
            ..Default::default()
        };
        let report = audit::verify(&dir, &options).unwrap();
        assert!(report.is_ok(), "round {round}: {:?}", report.problem);
        assert!(report.unanchored.is_none(), "round {round}");

        // Every acknowledged append is there, at the sequence it was acknowledged with.
        let result = audit::query(&dir, &QueryFilter::default()).unwrap();
        let mut on_disk: HashMap<u64, Uuid> = HashMap::new();
        for exchange in result.exchanges() {
            let exchange = exchange.unwrap();
            on_disk.insert(exchange.sequences[0], exchange.ticket);
        }
        for (seq, ticket) in &acks {
            assert_eq!(
                on_disk.get(seq),
                Some(ticket),
                "round {round}: acknowledged append {seq} {ticket} is missing"
            );
        }
        println!(
            "round {round}: {} acknowledged, {} records on disk",
            acks.len(),
            report.records
        );
    }
    println!("{acked_total} acknowledged appends checked, {truncations} torn tails recovered");
    assert!(acked_total > 0, "the children acknowledged nothing");
}
