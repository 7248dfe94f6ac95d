//! With a witness, verify detects what the journal alone cannot: a cut at a record
//! boundary, deleted trailing segments, a journal replaced by a fresh one, a record edited
//! with the chain recomputed after it, a hand-made prune, a forged checkpoint appended
//! with a recomputed chain; each at the right position. Without any anchor the same
//! journals pass, reported as unanchored, and `require_anchor` fails them.

#[path = "audit_support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bcss::audit::{
    self, AuditError, CheckpointRecord, FileJournal, FileWitness, Journal, Problem, PruneRecord,
    PrunedSegment, Record, VerifyOptions, Witness,
};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use support::*;
use uuid::Uuid;

/// A journal and its witness, kept in two folders (another volume, in real life).
struct Witnessed {
    journal: tempfile::TempDir,
    witness_dir: tempfile::TempDir,
    key: Option<SigningKey>,
}

impl Witnessed {
    fn dir(&self) -> &Path {
        self.journal.path()
    }

    fn witness(&self) -> Arc<dyn Witness> {
        Arc::new(FileWitness::new(
            self.witness_dir.path().join("journal.witness"),
        ))
    }

    fn config(&self) -> bcss::audit::FileJournalConfig {
        let mut c = config(self.dir());
        c.witness = Some(self.witness());
        c.checkpoint_every_records = 4;
        if let Some(key) = &self.key {
            let path = self.witness_dir.path().join("signing.pem");
            std::fs::write(
                &path,
                key.to_pkcs8_pem(Default::default()).unwrap().as_bytes(),
            )
            .unwrap();
            c.signing_key = Some(path);
        }
        c
    }

    fn with_witness(&self) -> VerifyOptions {
        VerifyOptions {
            witness: Some(self.witness()),
            public_key: self.key.as_ref().map(SigningKey::verifying_key),
            ..VerifyOptions::default()
        }
    }

    fn problem(&self) -> Problem {
        let report = audit::verify(self.dir(), &self.with_witness()).unwrap();
        report.problem.expect("verify with the witness must fail")
    }

    /// Without any anchor the tampered journal passes, but is reported unanchored, and
    /// fails when an anchor is required.
    fn passes_unanchored(&self) {
        let report = audit::verify(self.dir(), &plain()).unwrap();
        assert!(report.is_ok(), "{:?}", report.problem);
        assert!(report.unanchored.is_some());
        let required = VerifyOptions {
            require_anchor: true,
            ..VerifyOptions::default()
        };
        let report = audit::verify(self.dir(), &required).unwrap();
        let p = report.problem.expect("an anchor is required");
        assert!(p.reason.contains("not anchored"), "{}", p.reason);
    }
}

/// `n` records (intents and outcomes), checkpoints every 4 records, a segment of at most
/// `segment_max` bytes; closed (shutdown checkpoint, head witnessed).
async fn witnessed(n: usize, segment_max: u64, key: Option<SigningKey>) -> Witnessed {
    let w = Witnessed {
        journal: tempdir(),
        witness_dir: tempdir(),
        key,
    };
    let mut c = w.config();
    c.segment_max_bytes = segment_max;
    let j = FileJournal::open(c).await.unwrap();
    let mut ticket = Uuid::now_v7();
    for i in 0..n {
        let record = if i % 2 == 0 {
            ticket = Uuid::now_v7();
            intent(ticket, "alice", "IdentifyPerson", &ssin(7), 300)
        } else {
            outcome(ticket, "ok", Some(b"<reply>fictitious</reply>"))
        };
        j.append(record).await.unwrap();
    }
    j.close().await.unwrap();
    let report = audit::verify(w.dir(), &w.with_witness()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert!(report.unanchored.is_none());
    assert!(report.witnessed_heads_confirmed >= 2);
    w
}

fn one_segment(dir: &Path) -> PathBuf {
    let segs = segments(dir);
    assert_eq!(segs.len(), 1);
    segs[0].clone()
}

#[tokio::test]
async fn cut_at_a_record_boundary() {
    let w = witnessed(12, 64 << 20, None).await;
    let seg = one_segment(w.dir());
    let bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[6].clone();
    std::fs::write(&seg, &bytes[..f.offset]).unwrap();
    let p = w.problem();
    assert_eq!(
        (p.segment, p.offset, p.sequence),
        (name(&seg), f.offset as u64, f.sequence)
    );
    assert!(p.reason.contains("removed from its end"), "{}", p.reason);
    w.passes_unanchored();
    // Opening refuses too: the witness holds a head the journal no longer has.
    let err = FileJournal::open(w.config()).await.unwrap_err();
    assert!(matches!(err, AuditError::WitnessMismatch { .. }), "{err}");
}

#[tokio::test]
async fn last_segment_deleted() {
    let w = witnessed(40, 4096, None).await;
    let segs = segments(w.dir());
    assert!(segs.len() >= 3);
    let last = segs.last().unwrap();
    let first_deleted: u64 = name(last)[4..24].parse().unwrap();
    std::fs::remove_file(last).unwrap();
    let before = &segs[segs.len() - 2];
    let p = w.problem();
    assert_eq!(p.segment, name(before));
    assert_eq!(p.offset, std::fs::metadata(before).unwrap().len());
    assert_eq!(p.sequence, first_deleted);
    assert!(p.reason.contains("removed from its end"), "{}", p.reason);
    w.passes_unanchored();
}

#[tokio::test]
async fn whole_journal_replaced_by_a_fresh_one() {
    let w = witnessed(8, 64 << 20, None).await;
    std::fs::remove_dir_all(w.dir()).unwrap();
    // Opening with the witness refuses to start a new journal over the deleted one.
    let err = FileJournal::open(w.config()).await.unwrap_err();
    assert!(matches!(err, AuditError::WitnessMismatch { .. }), "{err}");
    assert!(err.to_string().contains("deleted or moved"), "{err}");
    std::fs::remove_dir_all(w.dir()).unwrap();
    // A writer without the witness starts a fresh journal there.
    let j = FileJournal::open(config(w.dir())).await.unwrap();
    j.append(intent(Uuid::now_v7(), "mallory", "S", &ssin(1), 10))
        .await
        .unwrap();
    j.close().await.unwrap();
    let p = w.problem();
    assert_eq!(
        (p.segment, p.offset, p.sequence),
        (name(&one_segment(w.dir())), 0, 1)
    );
    assert!(p.reason.contains("was replaced"), "{}", p.reason);
    w.passes_unanchored();
    let err = FileJournal::open(w.config()).await.unwrap_err();
    assert!(err.to_string().contains("replaced"), "{err}");
}

#[tokio::test]
async fn record_edited_and_chain_recomputed_after_it() {
    let w = witnessed(12, 64 << 20, None).await;
    let seg = one_segment(w.dir());
    let mut bytes = std::fs::read(&seg).unwrap();
    let fs = frames(&bytes);
    // Sequence 2 is the first intent; the first head witnessed after it is the one the
    // checkpoint at sequence 5 covers (sequence 4). The forger rewrites the checkpoints'
    // heads too (they are not signed), so that the journal alone shows nothing.
    edit_body(&mut bytes, &fs[1], "alice", "mallo");
    rechain_with_checkpoints(&mut bytes, fs[1].offset);
    std::fs::write(&seg, &bytes).unwrap();
    let p = w.problem();
    assert_eq!((p.offset, p.sequence), (fs[3].offset as u64, 4));
    assert!(p.reason.contains("the witness recorded"), "{}", p.reason);
    w.passes_unanchored();
}

/// Recompute the chain from `from`, rewriting each later checkpoint's head to the new
/// chain's.
fn rechain_with_checkpoints(bytes: &mut [u8], from: usize) {
    rechain(bytes, from);
    for f in frames(bytes) {
        if f.offset <= from {
            continue;
        }
        if let Record::Checkpoint(c) = record_at(bytes, &f) {
            let prev = frames(bytes)
                .into_iter()
                .find(|p| p.sequence == f.sequence - 1)
                .unwrap();
            let actual = hex::encode(&bytes[prev.offset + 24..prev.offset + 56]);
            if actual != c.head {
                edit_body(bytes, &f, &c.head, &actual);
                rechain(bytes, f.offset);
            }
        }
    }
}

/// The segments of a journal's first `k` segment files deleted, and a prune record forged
/// at the end of the last one (chain recomputed), as an insider would do by hand. Also an
/// old-style `pruned.jsonl`, which nothing reads any more.
fn forge_prune(dir: &Path, k: usize) -> (PathBuf, usize) {
    let segs = segments(dir);
    let header = |p: &Path| std::fs::read(p).unwrap()[..SEGMENT_HEADER].to_vec();
    let removed: Vec<PrunedSegment> = segs[..k]
        .iter()
        .map(|s| {
            let h = header(s);
            PrunedSegment {
                name: name(s),
                first_sequence: u64::from_le_bytes(h[12..20].try_into().unwrap()),
                prev_hash: hex::encode(&h[28..60]),
            }
        })
        .collect();
    let remaining = header(&segs[k]);
    let journal_id = Uuid::from_slice(&remaining[60..76]).unwrap();
    let long_ago: DateTime<Utc> = "2001-01-01T00:00:00Z".parse().unwrap();
    let older: DateTime<Utc> = "2000-06-01T00:00:00Z".parse().unwrap();
    let prune = Record::Prune(PruneRecord {
        at: Utc::now(),
        journal_id,
        cutoff: long_ago,
        segments: removed,
        first_sequence: 1,
        last_sequence: u64::from_le_bytes(remaining[12..20].try_into().unwrap()) - 1,
        last_hash: hex::encode(&remaining[28..60]),
        oldest_at: older,
        newest_at: older,
        retention_months: 120,
    });
    for s in &segs[..k] {
        std::fs::remove_file(s).unwrap();
    }
    std::fs::write(
        dir.join("pruned.jsonl"),
        "{\"pruned_at\":\"2030-01-01T00:00:00Z\",\"removed\":[]}\n",
    )
    .unwrap();
    let last = segs.last().unwrap().clone();
    let mut bytes = std::fs::read(&last).unwrap();
    let tail = frames(&bytes).last().unwrap().clone();
    let offset = bytes.len();
    bytes.extend(frame_for(&bytes, &tail, tail.sequence + 1, &prune));
    rechain(&mut bytes, offset);
    std::fs::write(&last, &bytes).unwrap();
    (last, offset)
}

#[tokio::test]
async fn hand_made_prune() {
    let w = witnessed(40, 4096, None).await;
    let (last, offset) = forge_prune(w.dir(), 2);
    let p = w.problem();
    assert_eq!((p.segment, p.offset), (name(&last), offset as u64));
    assert!(
        p.reason
            .contains("no head in the witness covers this prune record"),
        "{}",
        p.reason
    );
    w.passes_unanchored();
}

#[tokio::test]
async fn hand_made_prune_with_a_signing_key() {
    let w = witnessed(40, 4096, Some(SigningKey::from_bytes(&[21; 32]))).await;
    let (last, offset) = forge_prune(w.dir(), 2);
    let p = w.problem();
    assert_eq!((p.segment, p.offset), (name(&last), offset as u64));
    assert!(
        p.reason.contains("no head in the witness") || p.reason.contains("no checkpoint signed"),
        "{}",
        p.reason
    );
    // The key alone catches it too.
    let report = audit::verify(w.dir(), &keyed(&w.key.as_ref().unwrap().verifying_key())).unwrap();
    let p = report.problem.unwrap();
    assert_eq!((p.segment, p.offset), (name(&last), offset as u64));
    assert!(
        p.reason.contains("no checkpoint signed by the given key"),
        "{}",
        p.reason
    );
}

/// A forged record, then a checkpoint of it, appended by hand, chain recomputed: what an
/// insider appends to make opening trust a forged tail.
fn forge_checkpoint(dir: &Path) -> (PathBuf, usize, u64) {
    let seg = segments(dir).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let last = frames(&bytes).last().unwrap().clone();
    let start = bytes.len();
    let forged = intent(Uuid::now_v7(), "mallory", "IdentifyPerson", &ssin(9), 50);
    bytes.extend(frame_for(&bytes, &last, last.sequence + 1, &forged.into()));
    rechain(&mut bytes, start);
    let tail = frames(&bytes).last().unwrap().clone();
    let journal_id = Uuid::from_slice(&bytes[60..76]).unwrap();
    let checkpoint = Record::Checkpoint(CheckpointRecord {
        at: Utc::now(),
        journal_id,
        sequence: tail.sequence,
        head: hex::encode(&bytes[tail.offset + 24..tail.offset + 56]),
        reason: "manual".into(),
        public_key: None,
        signature: None,
        witnessed: true,
    });
    let offset = bytes.len();
    bytes.extend(frame_for(&bytes, &tail, tail.sequence + 1, &checkpoint));
    rechain(&mut bytes, offset);
    std::fs::write(&seg, &bytes).unwrap();
    (seg, offset, tail.sequence + 1)
}

#[tokio::test]
async fn forged_checkpoint_appended_by_hand() {
    let w = witnessed(10, 64 << 20, None).await;
    let (seg, offset, sequence) = forge_checkpoint(w.dir());
    let p = w.problem();
    assert_eq!(
        (p.segment, p.offset, p.sequence),
        (name(&seg), offset as u64, sequence)
    );
    assert!(p.reason.contains("witness never recorded"), "{}", p.reason);
    w.passes_unanchored();
}

#[tokio::test]
async fn forged_checkpoint_with_a_signing_key() {
    let w = witnessed(10, 64 << 20, Some(SigningKey::from_bytes(&[22; 32]))).await;
    let (seg, offset, sequence) = forge_checkpoint(w.dir());
    let report = audit::verify(w.dir(), &keyed(&w.key.as_ref().unwrap().verifying_key())).unwrap();
    let p = report.problem.unwrap();
    assert_eq!(
        (p.segment, p.offset, p.sequence),
        (name(&seg), offset as u64, sequence)
    );
    assert!(p.reason.contains("not signed"), "{}", p.reason);
}

static LATER_MICROS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

fn later_clock() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(LATER_MICROS.load(std::sync::atomic::Ordering::SeqCst)).unwrap()
}

/// A prune done by the library, 11 years later, is attested in the chain, signed and
/// witnessed: the journal still verifies with the witness and the key.
#[tokio::test]
async fn a_real_prune_verifies_with_witness_and_key() {
    let w = witnessed(40, 4096, Some(SigningKey::from_bytes(&[23; 32]))).await;
    let before = segments(w.dir());
    let later = Utc::now() + chrono::Duration::days(365 * 11 + 3);
    LATER_MICROS.store(
        later.timestamp_micros(),
        std::sync::atomic::Ordering::SeqCst,
    );
    let mut c = w.config();
    c.clock = later_clock;
    let report = audit::prune_at(c, later, later).await.unwrap();
    assert_eq!(report.removed.len(), before.len() - 1);
    // Verified 11 years later, when the prune record was written.
    let then = VerifyOptions {
        now: Some(later),
        ..w.with_witness()
    };
    let verified = audit::verify(w.dir(), &then).unwrap();
    assert!(verified.is_ok(), "{:?}", verified.problem);
    assert_eq!(verified.attested_by_prune, report.prune_record);
    assert_eq!(verified.anchored_at, report.first_remaining_sequence);
    // The same prune record, ten years too early, would not be accepted: remove the
    // segments of a journal written now, with its prune record written now.
    let w2 = witnessed(40, 4096, None).await;
    let mut c = w2.config();
    c.clock = later_clock;
    audit::prune_at(c, later, later).await.unwrap();
    let seg = segments(w2.dir()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let fs = frames(&bytes);
    let prune = fs
        .iter()
        .find(|f| matches!(record_at(&bytes, f), Record::Prune(_)))
        .unwrap()
        .clone();
    // Back-date the prune record's write time to now (fields 16..24), chain recomputed.
    let now = Utc::now().timestamp_micros();
    bytes[prune.offset + 16..prune.offset + 24].copy_from_slice(&now.to_le_bytes());
    rechain(&mut bytes, prune.offset);
    std::fs::write(&seg, &bytes).unwrap();
    let p = audit::verify(w2.dir(), &plain()).unwrap().problem.unwrap();
    assert_eq!((p.segment, p.offset), (name(&seg), prune.offset as u64));
    assert!(p.reason.contains("10-year rule"), "{}", p.reason);
}

/// A witness that accepts `ok` heads, then fails.
#[derive(Debug)]
struct FailingWitness {
    ok: std::sync::atomic::AtomicUsize,
}

impl Witness for FailingWitness {
    fn record(&self, _head: &bcss::audit::WitnessedHead) -> Result<(), AuditError> {
        let left = self.ok.load(std::sync::atomic::Ordering::SeqCst);
        if left == 0 {
            return Err(AuditError::Io {
                path: "/mnt/witness/journal.witness".into(),
                operation: "append to the witness",
                source: std::io::Error::other("the witness volume is gone"),
            });
        }
        self.ok.store(left - 1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    fn heads(&self) -> Result<Vec<bcss::audit::WitnessedHead>, AuditError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn a_witness_that_cannot_be_written_fails_the_journal_loudly() {
    let tmp = tempdir();
    let mut c = config(tmp.path());
    c.checkpoint_every_records = 3;
    // The genesis head is witnessed; the first checkpoint's is not.
    c.witness = Some(Arc::new(FailingWitness {
        ok: std::sync::atomic::AtomicUsize::new(1),
    }));
    let j = FileJournal::open(c).await.unwrap();
    let mut refused = None;
    for _ in 0..10 {
        match j
            .append(intent(Uuid::now_v7(), "alice", "S", &ssin(1), 50))
            .await
        {
            Ok(_) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("appends are refused once the witness failed");
    assert!(matches!(err, AuditError::Closed(_)), "{err}");
    assert!(err.to_string().contains("witness"), "{err}");
    assert!(j.close().await.is_err());
    // What was acknowledged is intact; no checkpoint was written unwitnessed.
    let report = audit::verify(tmp.path(), &plain()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.checkpoints, 0);
}

#[tokio::test]
async fn a_witnessed_head_with_a_forged_signature_is_caught_with_the_key() {
    let w = witnessed(6, 64 << 20, Some(SigningKey::from_bytes(&[24; 32]))).await;
    let path = w.witness_dir.path().join("journal.witness");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut head: bcss::audit::WitnessedHead = serde_json::from_str(&lines[1]).unwrap();
    let mut sig = hex::decode(head.signature.as_ref().unwrap()).unwrap();
    sig[0] ^= 1;
    head.signature = Some(hex::encode(sig));
    lines[1] = serde_json::to_string(&head).unwrap();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let p = w.problem();
    assert!(
        p.reason.contains("signature does not verify"),
        "{}",
        p.reason
    );
    assert_eq!((p.offset, p.sequence), (0, 1));
}
