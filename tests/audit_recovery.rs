//! Opening: only what follows the last confirmed checkpoint is checked; a bad final record
//! is moved to quarantine (never destroyed) and named by a truncation record; damage
//! anywhere else refuses to open. Deferred appends.

#[path = "audit_support/mod.rs"]
mod support;

use std::sync::Arc;

use bcss::audit::{
    self, AuditError, CallRecord, ClassificationRecord, FileJournal, FileWitness, Journal, Record,
};
use support::*;
use uuid::Uuid;

async fn filled(dir: &std::path::Path, n: usize, segment_max: u64) {
    let mut c = config(dir);
    c.segment_max_bytes = segment_max;
    c.checkpoint_every_records = 50;
    let j = FileJournal::open(c).await.unwrap();
    for i in 0..n {
        j.append(intent(Uuid::now_v7(), &format!("u{i}"), "S", &ssin(3), 200))
            .await
            .unwrap();
    }
    j.close().await.unwrap();
}

#[tokio::test]
async fn a_damaged_final_record_is_quarantined_not_destroyed() {
    let tmp = tempdir();
    let mut c = config(tmp.path());
    c.checkpoint_on_close = false;
    let j = FileJournal::open(c.clone()).await.unwrap();
    for _ in 0..5 {
        j.append(intent(Uuid::now_v7(), "alice", "S", &ssin(1), 100))
            .await
            .unwrap();
    }
    j.close().await.unwrap();
    // Corrupt the body checksum of the last complete record.
    let seg = segments(tmp.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let last = frames(&bytes).last().unwrap().clone();
    assert_eq!(last.sequence, 6);
    let crc_at = last.offset + last.len - 1;
    bytes[crc_at] ^= 0x55;
    std::fs::write(&seg, &bytes).unwrap();
    let damaged = bytes[last.offset..].to_vec();

    let p = audit::verify(tmp.path(), &plain())
        .unwrap()
        .problem
        .unwrap();
    assert_eq!((p.offset, p.sequence), (last.offset as u64, 6));
    assert!(p.final_record && !p.torn_tail, "{p:?}");
    assert!(p.reason.contains("damaged final record"), "{}", p.reason);

    let j = FileJournal::open(c).await.unwrap();
    let t = j.recovered_truncation().unwrap().clone();
    assert_eq!(t.kind, "damaged");
    assert_eq!((t.offset, t.sequence), (last.offset as u64, 6));
    assert_eq!(t.bytes_cut, damaged.len() as u64);
    let file = t.quarantine.clone().unwrap();
    assert_eq!(
        file,
        format!("quarantine/{}-{}.bin", name(&seg), last.offset)
    );
    let kept = std::fs::read(tmp.path().join(&file)).unwrap();
    assert_eq!(kept, damaged, "the bytes are kept whole");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(tmp.path().join(&file))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    j.close().await.unwrap();

    let report = audit::verify(tmp.path(), &plain()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.quarantined.len(), 1);
    assert_eq!(report.quarantined[0].file, file);
    assert_eq!(report.quarantined[0].truncation, Some(6));
    // Altered quarantined bytes are reported at the truncation record.
    std::fs::write(tmp.path().join(&file), b"something else").unwrap();
    let p = audit::verify(tmp.path(), &plain())
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(p.sequence, 6);
    assert!(p.reason.contains("were altered"), "{}", p.reason);
    std::fs::remove_file(tmp.path().join(&file)).unwrap();
    let p = audit::verify(tmp.path(), &plain())
        .unwrap()
        .problem
        .unwrap();
    assert!(p.reason.contains("missing"), "{}", p.reason);
}

#[tokio::test]
async fn a_forged_oversized_length_before_the_end_refuses_to_open() {
    let tmp = tempdir();
    filled(tmp.path(), 6, 64 << 20).await;
    let seg = segments(tmp.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let fs = frames(&bytes);
    // Record 4 claims to run past the end of the file (header checksum recomputed), as
    // if it were torn: but complete records follow it.
    let f = fs[3].clone();
    let huge = (bytes.len() as u32).to_le_bytes();
    bytes[f.offset..f.offset + 4].copy_from_slice(&huge);
    let crc = crc32c::crc32c(&bytes[f.offset..f.offset + 56]);
    bytes[f.offset + 56..f.offset + 60].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&seg, &bytes).unwrap();
    std::fs::remove_file(tmp.path().join("head.json")).unwrap();
    let p = audit::verify(tmp.path(), &plain())
        .unwrap()
        .problem
        .unwrap();
    assert_eq!((p.offset, p.sequence), (f.offset as u64, 4));
    assert!(!p.final_record, "{p:?}");
    let err = FileJournal::open(config(tmp.path())).await.unwrap_err();
    assert!(matches!(err, AuditError::Damaged { .. }), "{err}");
    assert_eq!(std::fs::read(&seg).unwrap(), bytes, "nothing was cut");
}

#[tokio::test]
async fn opening_checks_only_what_follows_the_last_confirmed_checkpoint() {
    let tmp = tempdir();
    filled(tmp.path(), 400, 16 * 1024).await;
    let total = audit::verify(tmp.path(), &plain()).unwrap().records;
    let j = FileJournal::open(config(tmp.path())).await.unwrap();
    let (from_checkpoint, read) = j.open_stats();
    assert!(from_checkpoint);
    assert!(read < 5, "{read} records read of {total}");
    j.close().await.unwrap();

    // Damage in an old segment is not read by opening; verify finds it.
    let segs = segments(tmp.path());
    let mut bytes = std::fs::read(&segs[1]).unwrap();
    let f = frames(&bytes)[2].clone();
    bytes[f.offset + 70] ^= 1;
    std::fs::write(&segs[1], &bytes).unwrap();
    let j = FileJournal::open(config(tmp.path())).await.unwrap();
    assert!(j.open_stats().0);
    j.close().await.unwrap();
    let p = audit::verify(tmp.path(), &plain())
        .unwrap()
        .problem
        .unwrap();
    assert_eq!((p.segment, p.offset), (name(&segs[1]), f.offset as u64));

    // Without the locator, opening checks everything, and refuses.
    std::fs::remove_file(tmp.path().join("head.json")).unwrap();
    let err = FileJournal::open(config(tmp.path())).await.unwrap_err();
    assert!(matches!(err, AuditError::Damaged { .. }), "{err}");
}

#[tokio::test]
async fn a_locator_that_does_not_check_falls_back_to_the_whole_journal() {
    let tmp = tempdir();
    let witness_dir = tempdir();
    let witness = Arc::new(FileWitness::new(witness_dir.path().join("w")));
    let mut c = config(tmp.path());
    c.witness = Some(witness);
    c.checkpoint_every_records = 10;
    let j = FileJournal::open(c.clone()).await.unwrap();
    for i in 0..30 {
        j.append(intent(Uuid::now_v7(), &format!("u{i}"), "S", &ssin(3), 100))
            .await
            .unwrap();
    }
    j.close().await.unwrap();
    let j = FileJournal::open(c.clone()).await.unwrap();
    assert!(j.open_stats().0);
    j.close().await.unwrap();
    // Point the locator at a record that is not a checkpoint.
    let seg = segments(tmp.path()).pop().unwrap();
    let bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[4].clone();
    let locator = serde_json::json!({
        "segment": name(&seg),
        "offset": f.offset,
        "sequence": f.sequence,
        "hash": hex::encode(&bytes[f.offset + 24..f.offset + 56]),
    });
    std::fs::write(tmp.path().join("head.json"), locator.to_string()).unwrap();
    let j = FileJournal::open(c.clone()).await.unwrap();
    let (from_checkpoint, read) = j.open_stats();
    assert!(!from_checkpoint);
    assert!(read >= 30, "{read}");
    j.close().await.unwrap();
    // The whole walk wrote a good locator again.
    let j = FileJournal::open(c).await.unwrap();
    assert!(j.open_stats().0);
    j.close().await.unwrap();
}

#[tokio::test]
async fn deferred_records_are_written_with_the_next_batch_or_at_close() {
    let tmp = tempdir();
    let j = FileJournal::open(config(tmp.path())).await.unwrap();
    let ticket = Uuid::now_v7();
    j.append(intent(ticket, "alice", "S", &ssin(1), 50))
        .await
        .unwrap();
    j.append(outcome(ticket, "received", Some(b"<reply/>")))
        .await
        .unwrap();
    let classification = |t| {
        CallRecord::Classification(ClassificationRecord {
            ticket: t,
            outcome: "ok".into(),
            code: None,
            bcss: Default::default(),
            error: None,
        })
    };
    j.append_deferred(classification(ticket)).unwrap();
    let second = Uuid::now_v7();
    j.append_deferred(classification(second)).unwrap();
    j.close().await.unwrap();
    assert!(j.append_deferred(classification(ticket)).is_err());
    let seg = segments(tmp.path()).pop().unwrap();
    let bytes = std::fs::read(&seg).unwrap();
    let kinds: Vec<&str> = frames(&bytes)
        .iter()
        .map(|f| record_at(&bytes, f).kind())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "genesis",
            "intent",
            "outcome",
            "classification",
            "classification",
            "checkpoint"
        ]
    );
    let shown = audit::show(tmp.path(), ticket).unwrap().unwrap();
    assert_eq!(shown.status(), "ok");
    assert!(matches!(
        record_at(&bytes, &frames(&bytes)[0]),
        Record::Genesis(_)
    ));
}
