//! The file journal: appends, group commit under concurrency, rotation, checkpoints,
//! locking, closing, recovery of a torn tail, refusal to open a damaged journal.

#[path = "audit_support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bcss::audit::{
    self, AuditError, CallRecord, FileJournal, Journal, Payload, ReadRecord, TrustedHead,
};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use support::*;
use uuid::Uuid;

fn read_record(n: usize) -> CallRecord {
    CallRecord::Read(ReadRecord {
        at: Utc::now(),
        ..ReadRecord::new(format!("reader-{n}"), "query", vec![])
    })
}

#[tokio::test]
async fn appends_are_sequenced_chained_and_verify() {
    let tmp = tempdir();
    let dir = tmp.path().join("journal");
    let journal = FileJournal::open(config(&dir)).await.unwrap();
    let t = Uuid::now_v7();
    let a = journal
        .append(intent(t, "alice", "IdentifyPerson", &ssin(1), 100))
        .await
        .unwrap();
    let b = journal
        .append(outcome(t, "ok", Some(b"<reply/>")))
        .await
        .unwrap();
    // Sequence 1 is the journal's genesis record.
    assert_eq!((a.sequence, b.sequence), (2, 3));
    assert_ne!(a.hash, b.hash);
    assert_eq!(journal.head().unwrap().sequence, 3);
    journal.close().await.unwrap();

    let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    for seg in segments(&dir) {
        let mode = std::fs::metadata(&seg).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", seg.display());
    }
    let report = audit::verify(&dir, &plain()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    // The genesis record, two records and the shutdown checkpoint.
    assert_eq!(report.records, 4);
    assert_eq!(report.checkpoints, 1);
    assert!(report.intents_without_outcome.is_empty());
    let trusted = TrustedHead::from(b_head(b));
    assert!(
        audit::verify(&dir, &trusting(&trusted))
            .unwrap()
            .trusted_head_confirmed
    );
}

fn b_head(a: bcss::audit::Appended) -> bcss::audit::Head {
    bcss::audit::Head {
        sequence: a.sequence,
        hash: a.hash,
    }
}

/// `tasks` tasks each append `per_task` intents (of sizes from `size`) concurrently; every
/// acknowledged (sequence, ticket) pair.
async fn append_concurrently(
    journal: &Arc<FileJournal>,
    tasks: usize,
    per_task: usize,
    size: fn(usize) -> usize,
) -> Vec<(u64, Uuid)> {
    let mut handles = Vec::new();
    for task in 0..tasks {
        let journal = Arc::clone(journal);
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for i in 0..per_task {
                let t = Uuid::now_v7();
                let rec = intent(t, &format!("user-{task}"), "S", &ssin(1), size(i));
                let a = journal.append(rec).await.unwrap();
                seen.push((a.sequence, t));
            }
            seen
        }));
    }
    let mut acked = Vec::new();
    for h in handles {
        acked.extend(h.await.unwrap());
    }
    acked
}

/// Every acknowledged pair is in the journal, as an intent without outcome.
fn assert_all_on_disk(report: &audit::VerifyReport, acked: &[(u64, Uuid)]) {
    let on_disk: HashSet<(u64, Uuid)> = report
        .intents_without_outcome
        .iter()
        .map(|p| (p.sequence, p.ticket))
        .collect();
    assert_eq!(on_disk.len(), acked.len());
    for pair in acked {
        assert!(on_disk.contains(pair), "{pair:?} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_never_interleave_and_are_batched() {
    let tmp = tempdir();
    let dir = tmp.path().join("j");
    let journal = Arc::new(FileJournal::open(config(&dir)).await.unwrap());
    // Records of different sizes, so that a torn or interleaved write would show.
    let acked = append_concurrently(&journal, 32, 25, |i| 50 + 300 * (i % 7)).await;
    let stats = journal.stats();
    journal.close().await.unwrap();
    assert_eq!(stats.records, 800);
    assert!(stats.batches <= stats.frames);
    let seqs: HashSet<u64> = acked.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs.len(), 800, "every append got its own sequence number");

    let report = audit::verify(&dir, &plain()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.intents_without_outcome.len(), 800);
    assert_all_on_disk(&report, &acked);
}

/// Enough appenders that the writer hashes whole batches and hands them to its sync thread
/// (holding back partial hashing groups), while segments rotate and checkpoints are due by
/// count: every acknowledged record is on disk, in one unbroken chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_appenders_through_the_two_stage_writer_with_rotation_and_checkpoints() {
    let tmp = tempdir();
    let dir = tmp.path().join("j");
    let mut c = config(&dir);
    c.segment_max_bytes = 256 * 1024;
    c.checkpoint_every_records = 300;
    let journal = Arc::new(FileJournal::open(c).await.unwrap());
    let acked = append_concurrently(&journal, 96, 20, |i| 100 + 97 * (i % 40)).await;
    let stats = journal.stats();
    journal.close().await.unwrap();
    assert_eq!(stats.records, 1920);
    assert!(stats.batches <= stats.writes, "{stats:?}");
    assert!(
        stats.writes < stats.frames,
        "records were batched: {stats:?}"
    );
    assert!(stats.segments_created >= 4, "{stats:?}");
    let head = journal.head().unwrap();
    assert!(acked.iter().all(|(seq, _)| *seq <= head.sequence));

    let report = audit::verify(&dir, &plain()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert!(
        report.checkpoints >= 6,
        "{} checkpoints",
        report.checkpoints
    );
    assert_eq!(report.records, 1 + 1920 + report.checkpoints);
    assert_all_on_disk(&report, &acked);
}

#[tokio::test]
async fn segments_rotate_by_size_and_the_chain_spans_them() {
    let tmp = tempdir();
    let dir = tmp.path().join("j");
    let mut c = config(&dir);
    c.segment_max_bytes = 8 * 1024;
    let journal = FileJournal::open(c).await.unwrap();
    for i in 0..40 {
        journal
            .append(intent(Uuid::now_v7(), "u", "S", &ssin(2), 900 + i))
            .await
            .unwrap();
    }
    journal.close().await.unwrap();
    let created = journal.stats().segments_created;
    let segs = segments(&dir);
    assert!(segs.len() >= 4, "{} segments", segs.len());
    assert_eq!(created as usize, segs.len());
    for s in &segs[..segs.len() - 1] {
        // A segment is only exceeded by the batch that started it.
        assert!(std::fs::metadata(s).unwrap().len() <= 8 * 1024 + 2048);
    }
    let report = audit::verify(&dir, &plain()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.segments, segs.len());
    assert_eq!(
        report.records, 42,
        "genesis, 40 records, the shutdown checkpoint"
    );
}

static CLOCK_MICROS: AtomicI64 = AtomicI64::new(0);

fn test_clock() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(CLOCK_MICROS.load(Ordering::SeqCst)).unwrap()
}

#[tokio::test]
async fn segments_rotate_by_utc_day() {
    let day1 = DateTime::parse_from_rfc3339("2031-05-01T23:59:00Z").unwrap();
    CLOCK_MICROS.store(day1.timestamp_micros(), Ordering::SeqCst);
    let tmp = tempdir();
    let dir = tmp.path().join("j");
    let mut c = config(&dir);
    c.clock = test_clock;
    let journal = FileJournal::open(c.clone()).await.unwrap();
    journal.append(read_record(1)).await.unwrap();
    journal.append(read_record(2)).await.unwrap();
    CLOCK_MICROS.fetch_add(120 * 1_000_000, Ordering::SeqCst);
    journal.append(read_record(3)).await.unwrap();
    journal.close().await.unwrap();
    let names: Vec<String> = segments(&dir).iter().map(|p| name(p)).collect();
    assert_eq!(
        names,
        vec![
            "seg-00000000000000000001-20310501.bcj".to_string(),
            "seg-00000000000000000004-20310502.bcj".to_string(),
        ]
    );
    // Reopening on the same day appends to the same segment.
    let journal = FileJournal::open(c).await.unwrap();
    journal.append(read_record(4)).await.unwrap();
    journal.close().await.unwrap();
    assert_eq!(segments(&dir).len(), 2);
    // Verified on the journal's own day: its records are years ahead of the real clock.
    let on_its_day = bcss::audit::VerifyOptions {
        now: Some(test_clock()),
        ..plain()
    };
    assert!(audit::verify(&dir, &on_its_day).unwrap().is_ok());
    // Verified today, they are in the future.
    let p = audit::verify(&dir, &plain()).unwrap().problem.unwrap();
    assert_eq!(p.sequence, 1);
    assert!(p.reason.contains("in the future"), "{}", p.reason);
}

fn write_key(dir: &std::path::Path, seed: u8) -> (std::path::PathBuf, SigningKey) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let pem = key.to_pkcs8_pem(Default::default()).unwrap();
    let path = dir.join(format!("key-{seed}.pem"));
    std::fs::write(&path, pem.as_bytes()).unwrap();
    (path, key)
}

#[tokio::test]
async fn checkpoints_by_count_are_signed_and_verified() {
    let tmp = tempdir();
    let dir = tmp.path().join("j");
    let (key_path, key) = write_key(tmp.path(), 3);
    let mut c = config(&dir);
    c.checkpoint_every_records = 10;
    c.signing_key = Some(key_path);
    let journal = FileJournal::open(c).await.unwrap();
    for i in 0..35 {
        journal.append(read_record(i)).await.unwrap();
    }
    let manual = journal.checkpoint().await.unwrap();
    journal.close().await.unwrap();
    let report = audit::verify(&dir, &keyed(&key.verifying_key())).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    // 3 by count (after 10, 20, 30 records, the genesis counted), the manual one; none at
    // close (nothing since).
    assert_eq!(report.checkpoints, 4);
    assert_eq!(report.signed_checkpoints, 4);
    assert_eq!(report.last_signed_checkpoint, Some(manual.sequence));
    assert!(report.genesis_signed);
    let other = SigningKey::from_bytes(&[4; 32]);
    let report = audit::verify(&dir, &keyed(&other.verifying_key())).unwrap();
    let problem = report.problem.unwrap();
    assert!(problem.reason.contains("another key"), "{problem}");
    // The genesis record is the first anchor checked.
    assert_eq!(problem.sequence, 1);
    // A process not given the key is refused (its checkpoints would be unsigned, and
    // verify would fail for good), and the journal still verifies.
    let err = FileJournal::open(config(&dir)).await.unwrap_err();
    assert!(
        matches!(&err, AuditError::Config(m) if m.contains("no signing key was given")),
        "{err}"
    );
    // Nor another key.
    let (other_path, _) = write_key(tmp.path(), 5);
    let mut c = config(&dir);
    c.signing_key = Some(other_path);
    let err = FileJournal::open(c).await.unwrap_err();
    assert!(
        matches!(&err, AuditError::Config(m) if m.contains("signed by another key")),
        "{err}"
    );
    // A first read of the signed journal without the key is refused too: its reads chain
    // would be unsigned.
    let err = audit::record_read(&config(&dir), ReadRecord::new("advisor-1", "query", vec![]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AuditError::Config(m) if m.contains("no signing key was given")),
        "{err}"
    );
    assert!(!dir.join(audit::READS_DIR).exists());
    assert!(
        audit::verify(&dir, &keyed(&key.verifying_key()))
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn checkpoints_by_time() {
    let tmp = tempdir();
    let dir = tmp.path().join("j");
    let mut c = config(&dir);
    c.checkpoint_every = std::time::Duration::from_millis(20);
    c.checkpoint_on_close = false;
    let journal = FileJournal::open(c).await.unwrap();
    journal.append(read_record(0)).await.unwrap();
    // The writer writes the checkpoint on its own once the interval has passed.
    let mut frames = 0;
    for _ in 0..500 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        frames = journal.stats().frames;
        if frames == 3 {
            break;
        }
    }
    assert_eq!(frames, 3, "genesis, the record, the checkpoint");
    journal.close().await.unwrap();
    assert_eq!(audit::verify(&dir, &plain()).unwrap().checkpoints, 1);
}

#[tokio::test]
async fn one_writer_per_directory() {
    let tmp = tempdir();
    let dir = tmp.path().join("j");
    let first = FileJournal::open(config(&dir)).await.unwrap();
    let mut impatient = config(&dir);
    impatient.lock_wait = std::time::Duration::ZERO;
    let second = FileJournal::open(impatient).await.unwrap_err();
    assert!(matches!(second, AuditError::Locked { .. }), "{second}");
    assert!(second.to_string().contains("another process"));
    first.close().await.unwrap();
    let again = FileJournal::open(config(&dir)).await.unwrap();
    drop(again);
    // Dropping released the lock too.
    FileJournal::open(config(&dir))
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
}

#[tokio::test]
async fn appends_after_close_are_refused() {
    let tmp = tempdir();
    let journal = FileJournal::open(config(tmp.path())).await.unwrap();
    journal.append(read_record(0)).await.unwrap();
    journal.close().await.unwrap();
    let err = journal.append(read_record(1)).await.unwrap_err();
    assert!(matches!(err, AuditError::Closed(_)), "{err}");
    journal.close().await.unwrap();
}

#[tokio::test]
async fn dropping_keeps_every_acknowledged_record() {
    let tmp = tempdir();
    let mut acked = Vec::new();
    {
        let journal = FileJournal::open(config(tmp.path())).await.unwrap();
        for i in 0..20 {
            acked.push(journal.append(read_record(i)).await.unwrap());
        }
    }
    let journal = FileJournal::open(config(tmp.path())).await.unwrap();
    assert_eq!(journal.head().unwrap().sequence, 21);
    assert!(journal.recovered_truncation().is_none());
    journal.close().await.unwrap();
    let last = acked.last().unwrap();
    let trusted = TrustedHead {
        sequence: Some(last.sequence),
        hash: last.hash,
    };
    let report = audit::verify(tmp.path(), &trusting(&trusted)).unwrap();
    assert!(
        report.is_ok() && report.trusted_head_confirmed,
        "{report:?}"
    );
}

#[tokio::test]
async fn oversized_records_are_refused_before_the_writer() {
    let tmp = tempdir();
    let mut c = config(tmp.path());
    c.max_record_bytes = 2 * 1024 * 1024;
    let journal = FileJournal::open(c).await.unwrap();
    let err = journal
        .append(intent(Uuid::now_v7(), "u", "S", &ssin(1), 3 * 1024 * 1024))
        .await
        .unwrap_err();
    assert!(matches!(err, AuditError::TooLarge { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("max_record_bytes") && text.contains("not a disk problem"),
        "{text}"
    );
    // The journal still works.
    journal.append(read_record(0)).await.unwrap();
    journal.close().await.unwrap();
}

#[tokio::test]
async fn a_torn_tail_is_cut_and_the_cut_is_recorded() {
    let tmp = tempdir();
    let journal = FileJournal::open(config(tmp.path())).await.unwrap();
    for i in 0..6 {
        journal.append(read_record(i)).await.unwrap();
    }
    drop(journal);
    // Cut the sixth record (sequence 7, after the genesis record) in half, as a crash in
    // the middle of its write leaves it.
    let seg = segments(tmp.path()).pop().unwrap();
    let bytes = std::fs::read(&seg).unwrap();
    let last = frames(&bytes).last().unwrap().clone();
    assert_eq!(last.sequence, 7);
    let good_len = last.offset;
    std::fs::write(&seg, &bytes[..last.offset + last.len / 2]).unwrap();

    let report = audit::verify(tmp.path(), &plain()).unwrap();
    let problem = report.problem.clone().unwrap();
    assert!(problem.torn_tail);
    assert_eq!(
        (problem.segment.as_str(), problem.offset, problem.sequence),
        (name(&seg).as_str(), good_len as u64, 7)
    );

    let journal = FileJournal::open(config(tmp.path())).await.unwrap();
    let cut = journal.recovered_truncation().unwrap().clone();
    assert_eq!(cut.offset, good_len as u64);
    assert_eq!(cut.bytes_cut, (last.len / 2) as u64);
    assert_eq!(cut.sequence, 7);
    assert_eq!(cut.kind, "torn");
    // The bytes cut are kept, not destroyed.
    let kept = std::fs::read(tmp.path().join(cut.quarantine.as_ref().unwrap())).unwrap();
    assert_eq!(kept, bytes[last.offset..last.offset + last.len / 2]);
    let next = journal.append(read_record(9)).await.unwrap();
    assert_eq!(next.sequence, 8, "the truncation record took sequence 7");
    journal.close().await.unwrap();
    let report = audit::verify(tmp.path(), &plain()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.truncations, 1);
    assert_eq!(report.quarantined.len(), 1);
    assert_eq!(report.quarantined[0].truncation, Some(7));
}

#[tokio::test]
async fn zeroed_tail_space_is_a_torn_tail_too() {
    let tmp = tempdir();
    let journal = FileJournal::open(config(tmp.path())).await.unwrap();
    journal.append(read_record(0)).await.unwrap();
    drop(journal);
    let seg = segments(tmp.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let good = bytes.len();
    bytes.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&seg, &bytes).unwrap();
    let journal = FileJournal::open(config(tmp.path())).await.unwrap();
    assert_eq!(journal.recovered_truncation().unwrap().offset, good as u64);
    journal.close().await.unwrap();
    assert!(audit::verify(tmp.path(), &plain()).unwrap().is_ok());
}

#[tokio::test]
async fn damage_before_the_tail_refuses_to_open_and_names_the_position() {
    let tmp = tempdir();
    let journal = FileJournal::open(config(tmp.path())).await.unwrap();
    for i in 0..6 {
        journal.append(read_record(i)).await.unwrap();
    }
    drop(journal);
    let seg = segments(tmp.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let fs = frames(&bytes);
    let third = fs[2].clone();
    bytes[third.offset + 70] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();
    let err = FileJournal::open(config(tmp.path())).await.unwrap_err();
    match err {
        AuditError::Damaged {
            segment,
            offset,
            sequence,
            reason,
        } => {
            assert_eq!(segment, name(&seg));
            assert_eq!(offset, third.offset as u64);
            assert_eq!(sequence, 3);
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("expected Damaged, got {other}"),
    }
    // Nothing was changed on disk by the refused open.
    assert_eq!(std::fs::read(&seg).unwrap(), bytes);
}

#[test]
fn payload_round_trips_bytes() {
    let text = Payload::from_bytes("héllo <x/>".as_bytes());
    assert_eq!(text.as_text(), Some("héllo <x/>"));
    assert_eq!(text.encoding(), "text");
    assert_eq!(text.to_bytes(), "héllo <x/>".as_bytes());
    let raw = [0u8, 159, 146, 150, 255];
    let b = Payload::from_bytes(&raw);
    assert_eq!(b.encoding(), "binary");
    assert_eq!(b.to_bytes(), raw);
    // Inline JSON (a record exported by an application) is base64 for binary payloads,
    // and malformed base64 is refused.
    let bad = r#"{"encoding":"base64","data":"***"}"#;
    assert!(serde_json::from_str::<Payload>(bad).is_err());
    // Debug never shows the content.
    assert!(!format!("{text:?}").contains("héllo"));
}

#[test]
fn debug_masks_subjects() {
    let s = ssin(5);
    let w = what("S", &s);
    let shown = format!("{w:?}");
    assert!(!shown.contains(&s), "{shown}");
    assert!(shown.contains(&s[..6]));
}
