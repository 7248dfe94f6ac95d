//! An index edited to hide records is not trusted (new-user trial): runs removed from the
//! manifest, counts changed, run files missing or cut short, positions swapped. Each makes
//! the query read every record (saying why), and it returns what reading everything
//! returns; the next writer starts such an index over.

#[path = "audit_support/mod.rs"]
mod support;

use std::path::Path;

use bcss::audit::{
    self, CallRecord, FileJournal, INDEX_DIR, Journal, QueryFilter, QueryPlan, QueryResult,
    ReadRecord,
};
use serde_json::Value;
use support::*;
use uuid::Uuid;

/// Three writer sessions of `calls` exchanges each (an intent, its outcome, and every
/// third a read an application records itself): three runs at least.
async fn journal(dir: &Path, calls: usize) -> Vec<Uuid> {
    let mut tickets = Vec::new();
    for session in 0..3 {
        let journal = FileJournal::open(config(dir)).await.unwrap();
        for n in 0..calls {
            let ticket = Uuid::now_v7();
            tickets.push(ticket);
            let user = if n % 2 == 0 { "alice" } else { "bob" };
            journal
                .append(intent(ticket, user, "IdentifyPerson", &ssin(1), 40))
                .await
                .unwrap();
            journal
                .append(outcome(ticket, "ok", Some(b"<reply/>")))
                .await
                .unwrap();
            if n % 3 == 0 {
                let read = ReadRecord::new(format!("clerk-{session}"), "screen", vec![])
                    .with_subjects(vec![ssin(1)]);
                journal.append(CallRecord::Read(read)).await.unwrap();
            }
        }
        journal.close().await.unwrap();
    }
    tickets
}

fn subject() -> QueryFilter {
    QueryFilter {
        subject: Some(ssin(1)),
        ..Default::default()
    }
}

fn tickets(result: &QueryResult) -> Vec<Uuid> {
    result.exchanges().map(|e| e.unwrap().ticket).collect()
}

fn manifest_path(dir: &Path) -> std::path::PathBuf {
    dir.join(INDEX_DIR).join("manifest.json")
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(manifest_path(dir)).unwrap()).unwrap()
}

fn write_manifest(dir: &Path, m: &Value) {
    std::fs::write(manifest_path(dir), serde_json::to_vec(m).unwrap()).unwrap();
}

/// The query reads every record, says why (`because` in the reason), and returns all.
fn assert_scanned(dir: &Path, expected: &[Uuid], because: &str) {
    let r = audit::query(dir, &subject()).unwrap();
    match &r.plan {
        QueryPlan::Scan { reason } => {
            assert!(reason.contains(because), "{reason}");
            assert!(reason.contains("reindex"), "{reason}");
        }
        other => panic!("the edited index was used: {other:?}"),
    }
    assert!(r.problem.is_none(), "{:?}", r.problem);
    assert_eq!(tickets(&r), expected);
}

fn assert_indexed(dir: &Path, expected: &[Uuid]) {
    let r = audit::query(dir, &subject()).unwrap();
    assert!(matches!(r.plan, QueryPlan::Index { .. }), "{:?}", r.plan);
    assert_eq!(tickets(&r), expected);
}

#[tokio::test]
async fn runs_removed_or_changed_in_the_manifest_make_the_query_read_everything() {
    let tmp = tempdir();
    let dir = tmp.path();
    let expected = journal(dir, 12).await;
    assert_indexed(dir, &expected);
    let original = manifest(dir);
    let runs = original["runs"].as_array().unwrap().clone();
    assert!(runs.len() >= 3, "{runs:?}");

    // The trial's edit: the first run removed, `through` kept.
    let mut m = original.clone();
    m["runs"].as_array_mut().unwrap().remove(0);
    write_manifest(dir, &m);
    assert_scanned(dir, &expected, "do not cover");

    // A run in the middle removed: a gap.
    let mut m = original.clone();
    m["runs"].as_array_mut().unwrap().remove(1);
    write_manifest(dir, &m);
    assert_scanned(dir, &expected, "do not cover");

    // The last run removed: the runs stop before `through`.
    let mut m = original.clone();
    m["runs"].as_array_mut().unwrap().pop();
    write_manifest(dir, &m);
    assert_scanned(dir, &expected, "not up to its last record");

    // A run listed twice: an overlap.
    let mut m = original.clone();
    let first = runs[0].clone();
    m["runs"].as_array_mut().unwrap().insert(1, first);
    write_manifest(dir, &m);
    assert_scanned(dir, &expected, "do not cover");

    // A run's key count changed.
    let mut m = original.clone();
    let entries = m["runs"][1]["entries"].as_u64().unwrap();
    m["runs"][1]["entries"] = Value::from(entries - 1);
    write_manifest(dir, &m);
    assert_scanned(dir, &expected, "keys");

    // A run's range changed to match a neighbour's removal: the run file disagrees.
    let mut m = original.clone();
    let last_of_second = runs[1]["last_sequence"].clone();
    m["runs"].as_array_mut().unwrap().remove(1);
    m["runs"][0]["last_sequence"] = last_of_second;
    write_manifest(dir, &m);
    assert_scanned(dir, &expected, "does not cover what the manifest says");

    // The next writer starts such an index over (it does not build on it).
    FileJournal::open(config(dir))
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    assert_indexed(dir, &expected);
}

#[tokio::test]
async fn run_files_missing_or_cut_short_and_positions_moved_are_not_trusted() {
    let tmp = tempdir();
    let dir = tmp.path();
    let expected = journal(dir, 12).await;
    let idx = dir.join(INDEX_DIR);
    let run = |n: usize| idx.join(manifest(dir)["runs"][n]["file"].as_str().unwrap());

    // A run file cut to its header.
    let path = run(0);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..4096]).unwrap();
    assert_scanned(dir, &expected, "blocks the file does not have");
    std::fs::write(&path, &bytes).unwrap();
    assert_indexed(dir, &expected);

    // A run file gone: the reason names it.
    std::fs::rename(&path, dir.join("away")).unwrap();
    let r = audit::query(dir, &subject()).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        matches!(&r.plan, QueryPlan::Scan { reason } if reason.contains(&format!("index run {name}"))),
        "{:?}",
        r.plan
    );
    assert_eq!(tickets(&r), expected);
    std::fs::rename(dir.join("away"), &path).unwrap();

    // positions.bin says the index starts after the journal's first record.
    let positions = idx.join("positions.bin");
    let original = std::fs::read(&positions).unwrap();
    let mut p = original.clone();
    p[8..16].copy_from_slice(&5u64.to_le_bytes());
    std::fs::write(&positions, &p).unwrap();
    assert_scanned(dir, &expected, "after the journal's first record");

    // positions.bin cut before the index's last record.
    std::fs::write(&positions, &original[..original.len() - 16]).unwrap();
    assert_scanned(dir, &expected, "positions end before");
    std::fs::write(&positions, &original).unwrap();
    assert_indexed(dir, &expected);
}

/// The trial's edit of positions.bin: sequences 3 and 8 swapped. Queries, `show` and
/// `query --reads` read everything instead and miss nothing; `reindex` repairs it.
#[tokio::test]
async fn positions_swapped_make_query_show_and_reads_read_everything() {
    let tmp = tempdir();
    let dir = tmp.path();
    let expected = journal(dir, 12).await;
    let readers = QueryFilter {
        subject: Some(ssin(1)),
        ..Default::default()
    };
    let (reads, plan) = audit::query_reads_planned(dir, &readers).unwrap();
    assert!(matches!(plan, QueryPlan::Index { .. }), "{plan:?}");
    assert_eq!(reads.len(), 12);
    let positions = dir.join(INDEX_DIR).join("positions.bin");
    let original = std::fs::read(&positions).unwrap();
    // Sequence 1 is the genesis record: sequence 2 is the first intent, 3 its outcome,
    // 4 a read; swap 2 and 4 (an intent and a read), and 3 and 8.
    let mut p = original.clone();
    for (a, b) in [(2usize, 4usize), (3, 8)] {
        let (x, y) = (16 + (a - 1) * 8, 16 + (b - 1) * 8);
        let (va, vb) = (p[x..x + 8].to_vec(), p[y..y + 8].to_vec());
        p[x..x + 8].copy_from_slice(&vb);
        p[y..y + 8].copy_from_slice(&va);
    }
    std::fs::write(&positions, &p).unwrap();

    assert_scanned(dir, &expected, "do not lead to record");
    let shown = audit::query_ticket(dir, expected[0]).unwrap();
    assert!(
        matches!(shown.plan, QueryPlan::Scan { .. }),
        "{:?}",
        shown.plan
    );
    assert_eq!(tickets(&shown), vec![expected[0]]);
    let exchange = audit::show(dir, expected[0]).unwrap().unwrap();
    assert_eq!(exchange.status(), "ok");
    let (again, plan) = audit::query_reads_planned(dir, &readers).unwrap();
    match &plan {
        QueryPlan::Scan { reason } => assert!(reason.contains("reindex"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(again, reads);
    // The journal itself is fine.
    assert!(audit::verify(dir, &plain()).unwrap().is_ok());

    audit::reindex(dir, std::time::Duration::ZERO, None).unwrap();
    assert_indexed(dir, &expected);
}
