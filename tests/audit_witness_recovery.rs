//! A witnessed journal and crash recovery: a damaged final record that is the witnessed
//! head is quarantined whole and accounted for (opening succeeds, verify says the
//! quarantine holds the witnessed record), while a real removal still fails.

#[path = "audit_support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bcss::audit::{
    self, AuditError, FileJournal, FileJournalConfig, FileWitness, Journal, VerifyOptions,
};
use support::*;
use uuid::Uuid;

struct Witnessed {
    journal: tempfile::TempDir,
    witness_dir: tempfile::TempDir,
}

impl Witnessed {
    fn dir(&self) -> &Path {
        self.journal.path()
    }

    fn witness_path(&self) -> PathBuf {
        self.witness_dir.path().join("journal.witness")
    }

    fn config(&self) -> FileJournalConfig {
        let mut c = config(self.dir());
        c.witness = Some(Arc::new(FileWitness::new(self.witness_path())));
        c.checkpoint_every_records = 4;
        c
    }

    fn with_witness(&self) -> VerifyOptions {
        VerifyOptions {
            witness: Some(Arc::new(FileWitness::new(self.witness_path()))),
            ..VerifyOptions::default()
        }
    }
}

/// `n` intents, closed cleanly (its last record, the shutdown checkpoint, is the head the
/// witness recorded at close).
async fn witnessed(n: usize) -> Witnessed {
    let w = Witnessed {
        journal: tempdir(),
        witness_dir: tempdir(),
    };
    let j = FileJournal::open(w.config()).await.unwrap();
    for _ in 0..n {
        j.append(intent(Uuid::now_v7(), "alice", "S", &ssin(1), 100))
            .await
            .unwrap();
    }
    j.close().await.unwrap();
    w
}

/// The last segment, its bytes and its last frame.
fn last_frame(dir: &Path) -> (PathBuf, Vec<u8>, Frame) {
    let seg = segments(dir).pop().unwrap();
    let bytes = std::fs::read(&seg).unwrap();
    let last = frames(&bytes).last().unwrap().clone();
    (seg, bytes, last)
}

#[tokio::test]
async fn a_witnessed_final_record_with_a_bad_checksum_is_quarantined_and_accounted_for() {
    let w = witnessed(9).await;
    let before = audit::verify(w.dir(), &w.with_witness()).unwrap();
    let head = before.head.unwrap();
    assert_eq!(
        before.last_witnessed_head,
        Some(head),
        "close witnessed the head"
    );
    let (seg, mut bytes, last) = last_frame(w.dir());
    assert_eq!(last.sequence, head.sequence);
    bytes[last.offset + last.len - 1] ^= 0x55;
    std::fs::write(&seg, &bytes).unwrap();

    let j = FileJournal::open(w.config()).await.unwrap();
    let t = j.recovered_truncation().unwrap().clone();
    assert_eq!((t.kind.as_str(), t.sequence), ("damaged", head.sequence));
    assert_eq!(t.cut_head, Some(head.to_string()));
    j.close().await.unwrap();
    // Opening again before any new witnessed head also accepts it.
    let j = FileJournal::open(w.config()).await.unwrap();
    j.close().await.unwrap();

    let report = audit::verify(w.dir(), &w.with_witness()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert!(report.unanchored.is_none());
    assert_eq!(report.quarantined.len(), 1);
    assert_eq!(report.quarantined[0].truncation, Some(head.sequence));
    assert_eq!(report.quarantined[0].witnessed_head, Some(head));

    // The quarantined bytes altered: verify names the truncation record.
    let q = w.dir().join(t.quarantine.as_ref().unwrap());
    std::fs::write(&q, b"not the record").unwrap();
    let p = audit::verify(w.dir(), &w.with_witness())
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(p.sequence, head.sequence);
    assert!(p.reason.contains("altered"), "{}", p.reason);
}

#[tokio::test]
async fn a_witnessed_final_record_whose_body_is_damaged_refuses_to_open_naming_it() {
    let w = witnessed(5).await;
    let (seg, mut bytes, last) = last_frame(w.dir());
    // A byte of the body: the bytes no longer give the witnessed head.
    bytes[last.offset + 70] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();
    let err = FileJournal::open(w.config()).await.unwrap_err();
    assert!(matches!(err, AuditError::WitnessMismatch { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("damaged beyond its checksums"), "{text}");
    assert!(!text.contains("removed from its end"), "{text}");
    // Nothing was cut or moved.
    assert_eq!(std::fs::read(&seg).unwrap(), bytes);
    assert!(!w.dir().join("quarantine").exists());
}

#[tokio::test]
async fn a_removed_final_record_still_fails_with_the_witness() {
    let w = witnessed(5).await;
    let (seg, bytes, last) = last_frame(w.dir());
    std::fs::write(&seg, &bytes[..last.offset]).unwrap();
    let err = FileJournal::open(w.config()).await.unwrap_err();
    assert!(err.to_string().contains("removed from its end"), "{err}");
}

#[tokio::test]
async fn a_missing_witness_file_refuses_to_open_naming_it_and_is_started_only_explicitly() {
    let w = witnessed(5).await;
    std::fs::remove_file(w.witness_path()).unwrap();
    let err = FileJournal::open(w.config()).await.unwrap_err();
    assert!(matches!(err, AuditError::WitnessMismatch { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(w.witness_path().to_str().unwrap()),
        "names the witness: {text}"
    );
    assert!(text.contains("start-witness"), "says what to do: {text}");
    assert!(!w.witness_path().exists(), "not recreated");

    // Started explicitly: journaled as a checkpoint, its head in the witness.
    let head_before = audit::verify(w.dir(), &w.with_witness()).unwrap().head;
    let mut c = w.config();
    c.start_witness = true;
    let j = FileJournal::open(c.clone()).await.unwrap();
    assert!(j.witness_started());
    j.close().await.unwrap();
    let report = audit::verify(w.dir(), &w.with_witness()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.first_witnessed_head, head_before);
    let (seg, bytes, _) = last_frame(w.dir());
    let last = frames(&bytes).last().unwrap().clone();
    match record_at(&bytes, &last) {
        audit::Record::Checkpoint(cp) => assert_eq!(cp.reason, "witness_started"),
        other => panic!("expected the witness_started checkpoint, got {other:?} in {seg:?}"),
    }
    // Once it holds heads, the flag changes nothing; the journal opens as usual.
    let j = FileJournal::open(c).await.unwrap();
    assert!(!j.witness_started());
    j.close().await.unwrap();
    let j = FileJournal::open(w.config()).await.unwrap();
    j.close().await.unwrap();
}

#[tokio::test]
async fn a_new_journal_with_a_witness_needs_no_flag() {
    let w = Witnessed {
        journal: tempdir(),
        witness_dir: tempdir(),
    };
    let j = FileJournal::open(w.config()).await.unwrap();
    assert!(!j.witness_started());
    j.close().await.unwrap();
    let j = FileJournal::open(w.config()).await.unwrap();
    j.close().await.unwrap();
    assert!(audit::verify(w.dir(), &w.with_witness()).unwrap().is_ok());
}

#[tokio::test]
async fn bcss_audit_start_witness_starts_it_and_verify_says_from_where() {
    let w = witnessed(5).await;
    std::fs::remove_file(w.witness_path()).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_bcss"))
            .args(args)
            .output()
            .unwrap()
    };
    let dir = w.dir().to_str().unwrap();
    let witness = w.witness_path();
    let witness = witness.to_str().unwrap();
    let out = run(&["audit", "start-witness", dir, "--witness", witness]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    // It names the head the witness holds as verify does.
    let held = text
        .split("it holds the head at sequence ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("{text}"))
        .to_string();
    let out = run(&["audit", "verify", dir, "--witness", witness]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("the first head it holds is at sequence {held}:")),
        "{held}: {text}"
    );
    assert!(
        text.contains("records before it are anchored by the chain alone"),
        "{text}"
    );
    let out = run(&["audit", "start-witness", dir, "--witness", witness]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("nothing to start"), "{text}");
}

#[tokio::test]
async fn a_witnessed_journal_refuses_a_writer_without_its_witness() {
    let w = witnessed(3).await;
    // A writer (or a journaled read) given no witness would write checkpoints the witness
    // never saw: refused, saying what to give.
    let err = FileJournal::open(config(w.dir())).await.unwrap_err();
    assert!(matches!(err, AuditError::WitnessMismatch { .. }), "{err}");
    assert!(err.to_string().contains("none was given"), "{err}");
    // A journal created with a witness says so from its genesis record on.
    let fresh = Witnessed {
        journal: tempdir(),
        witness_dir: tempdir(),
    };
    let mut c = fresh.config();
    c.checkpoint_on_close = false;
    FileJournal::open(c).await.unwrap().close().await.unwrap();
    assert!(FileJournal::open(config(fresh.dir())).await.is_err());
}

#[tokio::test]
async fn a_journaled_read_without_the_witness_is_refused_and_verification_stays_intact() {
    let w = witnessed(3).await;
    let key_dir = tempdir();
    let key = key_dir.path().join("reader.key");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bcss"))
        .args([
            "manifest",
            "keygen",
            key_dir.path().join("reader").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(key.exists());
    let dir = w.dir().to_str().unwrap();
    let read = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "query",
            dir,
            "--reader",
            "advisor-1",
            "--signing-key",
        ];
        args.push(key.to_str().unwrap());
        args.extend_from_slice(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_bcss"))
            .args(&args)
            .output()
            .unwrap()
    };
    let out = read(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("--witness"), "{err}");
    let witness = w.witness_path();
    let out = read(&["--witness", witness.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = audit::verify(w.dir(), &w.with_witness()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
}

#[tokio::test]
async fn verify_messages_name_the_real_cause() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bcss"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let w = witnessed(4).await;
    let dir = w.dir().to_str().unwrap();
    // A witness given that holds no head of this journal: the hint says so, rather than
    // asking for --witness.
    let other = w.witness_dir.path().join("other.witness");
    std::fs::write(&other, "").unwrap();
    let (code, text) = run(&["audit", "verify", dir, "--witness", other.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("WARNING: unanchored"), "{text}");
    assert!(
        first.contains("the witness given holds no head of this journal"),
        "{text}"
    );
    assert!(!first.contains("pass --witness"), "{text}");
    // The journal replaced by a fresh one: the failure is at its first record, but every
    // record was read; the count says so instead of "verified before it".
    std::fs::remove_dir_all(w.dir()).unwrap();
    let fresh = FileJournal::open(config(w.dir())).await.unwrap();
    fresh.close().await.unwrap();
    let witness = w.witness_path();
    let (code, text) = run(&[
        "audit",
        "verify",
        dir,
        "--witness",
        witness.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("replaced"), "{text}");
    assert!(
        text.contains("records read, each intact on its own"),
        "{text}"
    );
    assert!(!text.contains("verified before it"), "{text}");
}
