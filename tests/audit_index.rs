//! The file journal's sidecar index (issue 14.3): kept up to date by the writer, rebuilt by
//! `reindex`, and never trusted on its own: a query through it returns what reading every
//! record returns, and a record that does not check against the chain is reported, not
//! returned.

#[path = "audit_support/mod.rs"]
mod support;

use std::path::Path;

use bcss::audit::{
    self, Bcss, CallRecord, ClassificationRecord, FileJournal, INDEX_DIR, Journal, QueryFilter,
    QueryPlan, QueryResult,
};
use bcss::manifest::ManifestRef;
use chrono::{Duration, Utc};
use support::*;
use uuid::Uuid;

const USERS: [&str; 3] = ["alice", "bob", "carol"];
const SERVICES: [&str; 2] = ["IdentifyPerson", "HealthCareInsurance"];

fn classification(ticket: Uuid, status: &str) -> CallRecord {
    CallRecord::Classification(ClassificationRecord {
        ticket,
        outcome: status.to_string(),
        code: None,
        bcss: Bcss::default(),
        error: None,
    })
}

fn manifest(n: usize) -> ManifestRef {
    ManifestRef::unsigned(format!("manifest {}", n % 2).as_bytes())
}

/// `calls` exchanges of every kind: granted and classified, granted with an outcome only,
/// pending, denied; subjects, users, services and manifests in turn.
async fn append_calls(journal: &FileJournal, from: usize, calls: usize) -> Vec<Uuid> {
    let mut tickets = Vec::new();
    for n in from..from + calls {
        let ticket = Uuid::now_v7();
        tickets.push(ticket);
        let user = USERS[n % USERS.len()];
        let service = SERVICES[n % SERVICES.len()];
        let subject = ssin((n % 50) as u16 + 1);
        let mut decision = if n % 7 == 3 {
            denial(ticket, user, service, &subject)
        } else {
            intent(ticket, user, service, &subject, 40)
        };
        match &mut decision {
            CallRecord::Intent(i) => i.manifest = Some(manifest(n)),
            CallRecord::Denial(d) => d.manifest = Some(manifest(n)),
            _ => {}
        }
        journal.append(decision).await.unwrap();
        match n % 7 {
            3 | 5 => {}
            4 => {
                journal
                    .append(outcome(ticket, "transport_error", None))
                    .await
                    .unwrap();
            }
            _ => {
                journal
                    .append(outcome(ticket, "received", Some(b"<reply/>")))
                    .await
                    .unwrap();
                let status = if n % 3 == 0 { "business_error" } else { "ok" };
                journal
                    .append_deferred(classification(ticket, status))
                    .unwrap();
            }
        }
    }
    tickets
}

fn filters() -> Vec<QueryFilter> {
    let now = Utc::now();
    vec![
        QueryFilter::default(),
        QueryFilter {
            subject: Some(ssin(7)),
            ..Default::default()
        },
        QueryFilter {
            subject: Some(ssin(7)),
            who: Some("bob".into()),
            ..Default::default()
        },
        QueryFilter {
            who: Some("carol".into()),
            outcome: Some("ok".into()),
            ..Default::default()
        },
        QueryFilter {
            service: Some("healthcareinsurance".into()),
            since: Some(now - Duration::hours(1)),
            until: Some(now + Duration::hours(1)),
            ..Default::default()
        },
        QueryFilter {
            outcome: Some("business_error".into()),
            ..Default::default()
        },
        QueryFilter {
            outcome: Some("denied".into()),
            ..Default::default()
        },
        QueryFilter {
            outcome: Some("no_outcome".into()),
            ..Default::default()
        },
        QueryFilter {
            outcome: Some("transport_error".into()),
            ..Default::default()
        },
        QueryFilter {
            manifest: Some(manifest(1).sha256),
            ..Default::default()
        },
        QueryFilter {
            since: Some(now + Duration::hours(1)),
            ..Default::default()
        },
    ]
}

/// Tickets and statuses, as the advisor sees them.
fn seen(result: &QueryResult) -> Vec<(Uuid, String)> {
    result
        .exchanges()
        .map(|e| {
            let e = e.unwrap();
            (e.ticket, e.status().to_string())
        })
        .collect()
}

fn assert_same_as_scan(dir: &Path) -> u64 {
    let mut candidates = 0;
    for filter in filters() {
        let indexed = audit::query(dir, &filter).unwrap();
        let scanned = audit::scan(dir, &filter).unwrap();
        let QueryPlan::Index {
            candidates: c,
            tail_records,
            ..
        } = indexed.plan
        else {
            panic!("the index was not used: {:?}", indexed.plan);
        };
        candidates += c;
        assert!(indexed.problem.is_none(), "{:?}", indexed.problem);
        assert_eq!(seen(&indexed), seen(&scanned), "{filter:?}");
        assert_eq!(indexed.subjects(), scanned.subjects());
        assert_eq!(indexed.head, scanned.head, "{filter:?}");
        let _ = tail_records;
    }
    candidates
}

fn run_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join(INDEX_DIR))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .starts_with("run-")
        })
        .count()
}

#[tokio::test]
async fn queries_through_the_index_return_what_reading_everything_returns() {
    let tmp = tempdir();
    let dir = tmp.path();
    // Several writers in turn: each leaves a run; outcomes of one writer's intents are
    // written by the next (linked through the index, not memory).
    let mut pending = Vec::new();
    for round in 0..10 {
        let journal = FileJournal::open(config(dir)).await.unwrap();
        for ticket in pending.drain(..) {
            journal
                .append(outcome(ticket, "ok", Some(b"<late/>")))
                .await
                .unwrap();
        }
        append_calls(&journal, round * 40, 40).await;
        let late = Uuid::now_v7();
        journal
            .append(intent(late, "dave", "IdentifyPerson", &ssin(7), 40))
            .await
            .unwrap();
        pending.push(late);
        journal.close().await.unwrap();
    }
    // Ten runs, the first eight merged into one.
    assert!(run_files(dir) < 10, "{} runs", run_files(dir));
    let candidates = assert_same_as_scan(dir);
    assert!(candidates > 0);
    // The subject's query reads back only its own decisions.
    let filter = QueryFilter {
        subject: Some(ssin(7)),
        ..Default::default()
    };
    let r = audit::query(dir, &filter).unwrap();
    let QueryPlan::Index { candidates, .. } = r.plan else {
        panic!("{:?}", r.plan)
    };
    assert_eq!(candidates as usize, r.len());
    let dave: Vec<String> = r
        .exchanges()
        .map(|e| e.unwrap())
        .filter(|e| e.who().unwrap().user_id == "dave")
        .map(|e| e.status().to_string())
        .collect();
    assert_eq!(dave.len(), 10);
    assert_eq!(dave.iter().filter(|s| *s == "ok").count(), 9, "{dave:?}");

    // Records written without the index (a writer configured so): read after it.
    let mut unindexed = config(dir);
    unindexed.index = false;
    let journal = FileJournal::open(unindexed).await.unwrap();
    append_calls(&journal, 1000, 30).await;
    journal.close().await.unwrap();
    assert_same_as_scan(dir);
    let r = audit::query(dir, &QueryFilter::default()).unwrap();
    let QueryPlan::Index { tail_records, .. } = r.plan else {
        panic!("{:?}", r.plan)
    };
    assert!(tail_records > 30);

    // Rebuilt from the segments: the same answers, with nothing left to read after it.
    let report = audit::reindex(dir, std::time::Duration::ZERO, None).unwrap();
    assert!(report.problem.is_none());
    assert!(report.entries > 0 && report.runs >= 1);
    assert_same_as_scan(dir);
    let r = audit::query(dir, &QueryFilter::default()).unwrap();
    let QueryPlan::Index {
        tail_records,
        indexed_through,
        ..
    } = r.plan
    else {
        panic!("{:?}", r.plan)
    };
    assert_eq!(tail_records, 0);
    assert_eq!(Some(indexed_through), r.head.map(|h| h.sequence));
}

#[tokio::test]
async fn a_missing_or_foreign_index_is_not_used() {
    let tmp = tempdir();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for dir in [&a, &b] {
        let journal = FileJournal::open(config(dir)).await.unwrap();
        append_calls(&journal, 0, 20).await;
        journal.close().await.unwrap();
    }
    let filter = QueryFilter {
        subject: Some(ssin(3)),
        ..Default::default()
    };
    let expected = seen(&audit::scan(&a, &filter).unwrap());
    // Another journal's index.
    std::fs::remove_dir_all(a.join(INDEX_DIR)).unwrap();
    std::fs::rename(b.join(INDEX_DIR), a.join(INDEX_DIR)).unwrap();
    let r = audit::query(&a, &filter).unwrap();
    match &r.plan {
        QueryPlan::Scan { reason } => assert!(reason.contains("belongs to journal"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(seen(&r), expected);
    // No index at all.
    std::fs::remove_dir_all(a.join(INDEX_DIR)).unwrap();
    let r = audit::query(&a, &filter).unwrap();
    assert!(matches!(&r.plan, QueryPlan::Scan { reason } if reason.contains("reindex")));
    assert_eq!(seen(&r), expected);
    // The next writer rebuilds it.
    FileJournal::open(config(&a))
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    let r = audit::query(&a, &filter).unwrap();
    assert!(matches!(r.plan, QueryPlan::Index { .. }), "{:?}", r.plan);
    assert_eq!(seen(&r), expected);
}

#[tokio::test]
async fn a_record_altered_under_the_index_is_reported_not_returned() {
    let tmp = tempdir();
    let dir = tmp.path();
    let journal = FileJournal::open(config(dir)).await.unwrap();
    let tickets = append_calls(&journal, 0, 20).await;
    journal.close().await.unwrap();
    let target = tickets[1];
    let filter = QueryFilter {
        ticket: Some(target),
        ..Default::default()
    };
    assert_eq!(audit::query(dir, &filter).unwrap().len(), 1);

    // The intent's user is rewritten in place, its CRC fixed: the chain hash no longer
    // follows from the record before it.
    let seg = segments(dir).pop().unwrap();
    let original = std::fs::read(&seg).unwrap();
    let mut bytes = original.clone();
    let frame = frames(&bytes)
        .into_iter()
        .find(|f| record_at(&bytes, f).ticket() == Some(target))
        .unwrap();
    edit_body(&mut bytes, &frame, "\"bob\"", "\"eve\"");
    let body_end = frame.offset + frame.len - 4;
    let crc = crc32c::crc32c(&bytes[frame.offset + 60..body_end]);
    bytes[body_end..body_end + 4].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&seg, &bytes).unwrap();
    let r = audit::query(dir, &filter).unwrap();
    assert!(matches!(r.plan, QueryPlan::Index { .. }));
    assert!(r.is_empty());
    let problem = r.problem.expect("the altered record is reported");
    assert_eq!(problem.sequence, frame.sequence);
    assert!(problem.reason.contains("chain hash"), "{}", problem.reason);

    // A forger who also rewrites the hash stored with the altered record keeps the link
    // before it, but the record after it no longer chains from it.
    let mut own = bytes.clone();
    rechain(&mut own, frame.offset);
    let range = frame.offset..frame.offset + frame.len;
    let mut one = bytes.clone();
    one[range.clone()].copy_from_slice(&own[range]);
    std::fs::write(&seg, &one).unwrap();
    let r = audit::query(dir, &filter).unwrap();
    assert!(matches!(r.plan, QueryPlan::Index { .. }));
    assert!(r.is_empty());
    let problem = r.problem.expect("the altered record is reported");
    assert_eq!(problem.sequence, frame.sequence);
    assert!(
        problem.reason.contains("does not chain from its hash"),
        "{}",
        problem.reason
    );
    // Read in order, the break is found too, and the record is not shown.
    let r = audit::scan(dir, &filter).unwrap();
    assert!(r.problem.is_some());
    assert!(r.exchanges().all(|e| e.is_err()));

    // A forger who also rechains every later record passes this local check (each
    // record then follows from the one before it): `verify` catches that rewrite, at the
    // checkpoint whose head no longer matches.
    let mut forged = bytes.clone();
    rechain(&mut forged, frame.offset);
    std::fs::write(&seg, &forged).unwrap();
    assert!(!audit::verify(dir, &plain()).unwrap().is_ok());

    // Positions swapped in the index: the record found is not the one the index named.
    std::fs::write(&seg, &original).unwrap();
    let positions = dir.join(INDEX_DIR).join("positions.bin");
    let mut p = std::fs::read(&positions).unwrap();
    let at = 16 + (frame.sequence as usize - 1) * 8;
    let next = at + 8;
    let (x, y) = (p[at..at + 8].to_vec(), p[next..next + 8].to_vec());
    p[at..at + 8].copy_from_slice(&y);
    p[next..next + 8].copy_from_slice(&x);
    std::fs::write(&positions, &p).unwrap();
    // That is the index failing, not the journal: the query reads every record instead,
    // says why, and finds the exchange (issue: an edited positions.bin hid a record).
    let r = audit::query(dir, &filter).unwrap();
    assert_eq!(r.len(), 1);
    assert!(r.problem.is_none(), "{:?}", r.problem);
    assert!(
        matches!(&r.plan, QueryPlan::Scan { reason } if reason.contains("not") && reason.contains("reindex")),
        "{:?}",
        r.plan
    );
    // Rebuilt, it answers again.
    audit::reindex(dir, std::time::Duration::ZERO, None).unwrap();
    assert_eq!(audit::query(dir, &filter).unwrap().len(), 1);
}

/// Counts what the long commands report.
#[derive(Debug, Default)]
struct Counted {
    started: std::sync::Mutex<Vec<(String, Option<u64>)>>,
    records: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
    finished: std::sync::atomic::AtomicU64,
}

impl audit::Progress for Counted {
    fn start(&self, what: &str, total_bytes: Option<u64>) {
        self.started
            .lock()
            .unwrap()
            .push((what.to_string(), total_bytes));
    }
    fn advance(&self, records: u64, bytes: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.records.fetch_add(records, Relaxed);
        self.bytes.fetch_add(bytes, Relaxed);
    }
    fn finish(&self) {
        self.finished
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Counted {
    /// (label, total bytes announced, records, bytes) of the one operation seen.
    fn seen(&self) -> (String, Option<u64>, u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let started = self.started.lock().unwrap();
        assert_eq!(started.len(), 1, "{started:?}");
        assert_eq!(self.finished.load(Relaxed), 1);
        let (what, total) = started[0].clone();
        (
            what,
            total,
            self.records.load(Relaxed),
            self.bytes.load(Relaxed),
        )
    }
}

#[tokio::test]
async fn verify_reindex_and_prune_report_their_progress() {
    let tmp = tempdir();
    let dir = tmp.path();
    let journal = FileJournal::open(config(dir)).await.unwrap();
    append_calls(&journal, 0, 30).await;
    journal.close().await.unwrap();
    let files = segments(dir);
    let total: u64 = files
        .iter()
        .map(|s| std::fs::metadata(s).unwrap().len())
        .sum();
    // Every byte of the segments but their headers is a record's.
    let record_bytes = total - (files.len() * SEGMENT_HEADER) as u64;

    let counted = std::sync::Arc::new(Counted::default());
    let options = audit::VerifyOptions {
        progress: Some(counted.clone()),
        ..plain()
    };
    let report = audit::verify(dir, &options).unwrap();
    assert!(report.problem.is_none());
    let records = report.records;
    assert_eq!(
        counted.seen(),
        ("verify".into(), Some(total), records, record_bytes)
    );

    let counted = Counted::default();
    let report = audit::reindex(dir, std::time::Duration::ZERO, Some(&counted)).unwrap();
    assert_eq!(report.records, records);
    assert_eq!(
        counted.seen(),
        ("reindex".into(), Some(total), records, record_bytes)
    );

    let counted = Counted::default();
    let report = audit::prune_with_progress(config(dir), Utc::now(), Utc::now(), Some(&counted))
        .await
        .unwrap();
    assert!(report.removed.is_empty());
    // Prune reads the journal as it was (opening it adds no record).
    assert_eq!(
        counted.seen(),
        ("prune".into(), Some(total), records, record_bytes)
    );
}
