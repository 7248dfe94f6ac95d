//! Tampering with a journal on disk is detected by verify, at the right position.

#[path = "audit_support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use bcss::audit::{self, FileJournal, Journal, Problem, TrustedHead};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use support::*;
use uuid::Uuid;

/// A journal of `n` records (intents and outcomes about fictitious people) in one segment,
/// optionally with signed checkpoints every `checkpoint_every` records.
async fn journal(n: usize, checkpoint_every: u64, key: Option<PathBuf>) -> tempfile::TempDir {
    let tmp = tempdir();
    let mut c = config(tmp.path());
    c.checkpoint_every_records = checkpoint_every;
    c.checkpoint_on_close = false;
    c.signing_key = key;
    let j = FileJournal::open(c).await.unwrap();
    let mut ticket = Uuid::now_v7();
    for i in 0..n {
        if i % 2 == 0 {
            ticket = Uuid::now_v7();
            j.append(intent(ticket, "alice", "IdentifyPerson", &ssin(7), 200))
                .await
                .unwrap();
        } else {
            j.append(outcome(ticket, "ok", Some(b"<reply>fictitious</reply>")))
                .await
                .unwrap();
        }
    }
    j.close().await.unwrap();
    tmp
}

fn only_segment(dir: &Path) -> PathBuf {
    let segs = segments(dir);
    assert_eq!(segs.len(), 1);
    segs[0].clone()
}

fn problem(dir: &Path, trusted: Option<&TrustedHead>, key: Option<&SigningKey>) -> Problem {
    let options = audit::VerifyOptions {
        trusted_head: trusted.copied(),
        public_key: key.map(SigningKey::verifying_key),
        ..Default::default()
    };
    let report = audit::verify(dir, &options).unwrap();
    report.problem.expect("verify must fail")
}

fn head_at(dir: &Path, sequence: u64) -> TrustedHead {
    let bytes = std::fs::read(only_segment(dir)).unwrap();
    let f = frames(&bytes)
        .into_iter()
        .find(|f| f.sequence == sequence)
        .unwrap();
    TrustedHead {
        sequence: Some(sequence),
        hash: bytes[f.offset + 24..f.offset + 56].try_into().unwrap(),
    }
}

#[tokio::test]
async fn untouched_journal_verifies() {
    let tmp = journal(10, 0, None).await;
    let report = audit::verify(tmp.path(), &plain()).unwrap();
    assert!(report.is_ok());
    assert_eq!(report.records, 11, "the genesis record and 10 records");
}

#[tokio::test]
async fn flipped_payload_byte() {
    let tmp = journal(10, 0, None).await;
    let seg = only_segment(tmp.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[3].clone();
    bytes[f.offset + 60 + 40] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!(
        (p.segment, p.offset, p.sequence),
        (name(&seg), f.offset as u64, 4)
    );
    assert!(p.reason.contains("checksum"), "{}", p.reason);
    assert!(!p.torn_tail);
}

#[tokio::test]
async fn flipped_payload_byte_with_checksums_recomputed() {
    let tmp = journal(10, 0, None).await;
    let seg = only_segment(tmp.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[3].clone();
    edit_body(&mut bytes, &f, "fictitious", "fictitioux");
    let body_len = f.len - 64;
    let crc = crc32c::crc32c(&bytes[f.offset + 60..f.offset + 60 + body_len]);
    bytes[f.offset + 60 + body_len..f.offset + f.len].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&seg, &bytes).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!((p.offset, p.sequence), (f.offset as u64, 4));
    assert!(p.reason.contains("chain hash"), "{}", p.reason);
}

#[tokio::test]
async fn flipped_hash_byte() {
    let tmp = journal(10, 0, None).await;
    let seg = only_segment(tmp.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[5].clone();
    bytes[f.offset + 30] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!((p.offset, p.sequence), (f.offset as u64, 6));
    assert!(p.reason.contains("checksum"), "{}", p.reason);

    // The same with the header checksum recomputed: the chain catches it.
    let crc = crc32c::crc32c(&bytes[f.offset..f.offset + 56]);
    bytes[f.offset + 56..f.offset + 60].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&seg, &bytes).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!((p.offset, p.sequence), (f.offset as u64, 6));
    assert!(p.reason.contains("chain hash"), "{}", p.reason);
}

#[tokio::test]
async fn deleted_record() {
    let tmp = journal(10, 0, None).await;
    let seg = only_segment(tmp.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[4].clone();
    bytes.drain(f.offset..f.offset + f.len);
    std::fs::write(&seg, &bytes).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!((p.offset, p.sequence), (f.offset as u64, 5));
    assert!(
        p.reason.contains("expected sequence 5, found 6"),
        "{}",
        p.reason
    );
}

#[tokio::test]
async fn two_swapped_records() {
    let tmp = journal(10, 0, None).await;
    let seg = only_segment(tmp.path());
    let bytes = std::fs::read(&seg).unwrap();
    let fs = frames(&bytes);
    let (a, b) = (fs[6].clone(), fs[7].clone());
    let mut swapped = bytes[..a.offset].to_vec();
    swapped.extend_from_slice(&bytes[b.offset..b.offset + b.len]);
    swapped.extend_from_slice(&bytes[a.offset..a.offset + a.len]);
    swapped.extend_from_slice(&bytes[b.offset + b.len..]);
    assert_eq!(swapped.len(), bytes.len());
    std::fs::write(&seg, &swapped).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!((p.offset, p.sequence), (a.offset as u64, 7));
    assert!(p.reason.contains("found 8"), "{}", p.reason);
}

#[tokio::test]
async fn truncation_in_the_middle_of_a_closed_segment() {
    let tmp = tempdir();
    let mut c = config(tmp.path());
    c.segment_max_bytes = 4096;
    let j = FileJournal::open(c).await.unwrap();
    for _ in 0..30 {
        j.append(intent(Uuid::now_v7(), "bob", "S", &ssin(9), 600))
            .await
            .unwrap();
    }
    j.close().await.unwrap();
    let segs = segments(tmp.path());
    assert!(segs.len() >= 3);
    // Cut the second segment in the middle of its second record.
    let bytes = std::fs::read(&segs[1]).unwrap();
    let f = frames(&bytes)[1].clone();
    std::fs::write(&segs[1], &bytes[..f.offset + f.len / 2]).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!(p.segment, name(&segs[1]));
    assert_eq!((p.offset, p.sequence), (f.offset as u64, f.sequence));
    assert!(!p.torn_tail, "only the last segment can have a torn tail");
    assert!(p.reason.contains("not the last segment"), "{}", p.reason);
    // Opening checks what follows the last checkpoint only (here, the one written at close,
    // in the last segment); without it, opening checks everything and refuses: this is not
    // an interrupted write.
    std::fs::remove_file(tmp.path().join("head.json")).unwrap();
    let err = FileJournal::open(config(tmp.path())).await.unwrap_err();
    assert!(err.to_string().contains(&name(&segs[1])), "{err}");

    // Cutting at a record boundary instead: the next segment's start shows the gap.
    std::fs::write(&segs[1], &bytes[..f.offset]).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!((p.segment, p.offset), (name(&segs[2]), 0));
    assert_eq!(p.sequence, f.sequence);
    assert!(p.reason.contains("missing"), "{}", p.reason);
}

#[tokio::test]
async fn truncation_in_the_middle_of_the_last_segment() {
    let tmp = journal(10, 0, None).await;
    let trusted = head_at(tmp.path(), 10);
    let seg = only_segment(tmp.path());
    let bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[4].clone();
    std::fs::write(&seg, &bytes[..f.offset + 30]).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!((p.offset, p.sequence), (f.offset as u64, 5));
    // Cut at a record boundary: only a trusted head shows that records are gone.
    std::fs::write(&seg, &bytes[..f.offset]).unwrap();
    assert!(audit::verify(tmp.path(), &plain()).unwrap().is_ok());
    let p = problem(tmp.path(), Some(&trusted), None);
    assert_eq!((p.offset, p.sequence), (f.offset as u64, 5));
    assert!(p.reason.contains("removed from its end"), "{}", p.reason);
}

#[tokio::test]
async fn deleted_first_segment_without_prune_anchor() {
    let tmp = tempdir();
    let mut c = config(tmp.path());
    c.segment_max_bytes = 4096;
    let j = FileJournal::open(c).await.unwrap();
    for _ in 0..20 {
        j.append(intent(Uuid::now_v7(), "bob", "S", &ssin(9), 600))
            .await
            .unwrap();
    }
    j.close().await.unwrap();
    let segs = segments(tmp.path());
    std::fs::remove_file(&segs[0]).unwrap();
    let p = problem(tmp.path(), None, None);
    assert_eq!((p.segment, p.offset), (name(&segs[1]), 0));
    assert!(p.reason.contains("no prune record"), "{}", p.reason);
}

/// Alter record `sequence`'s content and recompute the chain and checksums from there on:
/// plain verify cannot tell.
fn forge(dir: &Path, sequence: u64) -> usize {
    let seg = only_segment(dir);
    let mut bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)
        .into_iter()
        .find(|f| f.sequence == sequence)
        .unwrap();
    edit_body(&mut bytes, &f, "alice", "mallo");
    rechain(&mut bytes, f.offset);
    std::fs::write(&seg, &bytes).unwrap();
    f.offset
}

#[tokio::test]
async fn forged_tail_with_recomputed_chain_is_caught_by_a_trusted_head() {
    let tmp = journal(12, 0, None).await;
    let trusted = head_at(tmp.path(), 9);
    // Sequence 6 is an intent (sequence 1 is the genesis record).
    forge(tmp.path(), 6);
    assert!(
        audit::verify(tmp.path(), &plain()).unwrap().is_ok(),
        "a recomputed chain passes plain verification"
    );
    let p = problem(tmp.path(), Some(&trusted), None);
    let f9 = frames(&std::fs::read(only_segment(tmp.path())).unwrap())[8].clone();
    assert_eq!((p.offset, p.sequence), (f9.offset as u64, 9));
    assert!(p.reason.contains("trusted head"), "{}", p.reason);
    // The hash alone (no sequence) is not found anywhere either.
    let anywhere = TrustedHead {
        sequence: None,
        hash: trusted.hash,
    };
    assert!(
        problem(tmp.path(), Some(&anywhere), None)
            .reason
            .contains("nowhere")
    );
}

#[tokio::test]
async fn forged_tail_appended_after_a_cut_is_caught_by_a_trusted_head() {
    let tmp = journal(12, 0, None).await;
    let trusted = head_at(tmp.path(), 12);
    let seg = only_segment(tmp.path());
    let bytes = std::fs::read(&seg).unwrap();
    let fs = frames(&bytes);
    // Keep records 1..=8, replace 9..=12 by forged ones with other content, chained.
    let mut forged = bytes.clone();
    for f in &fs[8..] {
        if forged[f.offset + 60..f.offset + f.len - 4]
            .windows(5)
            .any(|w| w == b"alice")
        {
            edit_body(&mut forged, f, "alice", "mallo");
        }
    }
    rechain(&mut forged, fs[8].offset);
    std::fs::write(&seg, &forged).unwrap();
    assert!(audit::verify(tmp.path(), &plain()).unwrap().is_ok());
    let p = problem(tmp.path(), Some(&trusted), None);
    assert_eq!((p.offset, p.sequence), (fs[11].offset as u64, 12));
}

fn key_file(dir: &Path) -> (PathBuf, SigningKey) {
    let key = SigningKey::from_bytes(&[42; 32]);
    let path = dir.join("signing.pem");
    std::fs::write(
        &path,
        key.to_pkcs8_pem(Default::default()).unwrap().as_bytes(),
    )
    .unwrap();
    (path, key)
}

#[tokio::test]
async fn forged_tail_is_caught_by_a_signed_checkpoint() {
    let keys = tempdir();
    let (path, key) = key_file(keys.path());
    // Checkpoints after 4 and 8 records: sequences 5 and 10.
    let tmp = journal(10, 4, Some(path)).await;
    assert!(
        audit::verify(tmp.path(), &keyed(&key.verifying_key()))
            .unwrap()
            .is_ok()
    );
    forge(tmp.path(), 4);
    let fs = frames(&std::fs::read(only_segment(tmp.path())).unwrap());
    let checkpoint = fs.iter().find(|f| f.sequence == 5).unwrap();
    // A forger who leaves the checkpoints alone is caught by them, signed or not.
    for key in [None, Some(&key)] {
        let p = problem(tmp.path(), None, key);
        assert_eq!((p.offset, p.sequence), (checkpoint.offset as u64, 5));
        assert!(p.reason.contains("checkpoint claims head"), "{}", p.reason);
    }
}

#[tokio::test]
async fn forged_checkpoint_heads_are_caught_by_their_signature() {
    let keys = tempdir();
    let (path, key) = key_file(keys.path());
    let tmp = journal(10, 4, Some(path)).await;
    let seg = only_segment(tmp.path());
    let original = std::fs::read(&seg).unwrap();
    let mut bytes = original.clone();
    let f4 = frames(&bytes)[3].clone();
    assert_eq!(f4.sequence, 4);
    edit_body(&mut bytes, &f4, "alice", "mallo");
    rechain(&mut bytes, f4.offset);
    // The forger also rewrites each checkpoint's head to the new chain's hash.
    for sequence in [5, 10] {
        let fs = frames(&bytes);
        let cp = fs.iter().find(|f| f.sequence == sequence).unwrap().clone();
        let before = fs
            .iter()
            .find(|f| f.sequence == sequence - 1)
            .unwrap()
            .clone();
        let hash = |b: &[u8]| hex::encode(&b[before.offset + 24..before.offset + 56]);
        let (old, new) = (hash(&original), hash(&bytes));
        edit_body(&mut bytes, &cp, &old, &new);
        rechain(&mut bytes, cp.offset);
    }
    std::fs::write(&seg, &bytes).unwrap();
    assert!(
        audit::verify(tmp.path(), &plain()).unwrap().is_ok(),
        "without the public key the forgery passes"
    );
    let p = problem(tmp.path(), None, Some(&key));
    let cp = frames(&bytes)
        .into_iter()
        .find(|f| f.sequence == 5)
        .unwrap();
    assert_eq!((p.offset, p.sequence), (cp.offset as u64, 5));
    assert!(
        p.reason.contains("signature does not verify"),
        "{}",
        p.reason
    );
}

#[tokio::test]
async fn stripped_signature_is_caught() {
    let keys = tempdir();
    let (path, key) = key_file(keys.path());
    let tmp = journal(10, 4, Some(path)).await;
    let seg = only_segment(tmp.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    let fs = frames(&bytes);
    // Strip the second checkpoint's signature and key, then recompute framing and chain.
    let cp = fs.iter().find(|f| f.sequence == 10).unwrap().clone();
    let bcss::audit::Record::Checkpoint(mut record) = record_at(&bytes, &cp) else {
        panic!("sequence 10 is not a checkpoint");
    };
    assert!(record.signature.is_some());
    record.signature = None;
    record.public_key = None;
    let stripped = frame_for(&bytes, &cp, 10, &bcss::audit::Record::Checkpoint(record));
    let mut out = bytes[..cp.offset].to_vec();
    out.extend_from_slice(&stripped);
    out.extend_from_slice(&bytes[cp.offset + cp.len..]);
    rechain(&mut out, cp.offset);
    bytes = out;
    std::fs::write(&seg, &bytes).unwrap();
    assert!(audit::verify(tmp.path(), &plain()).unwrap().is_ok());
    let p = problem(tmp.path(), None, Some(&key));
    assert_eq!((p.offset, p.sequence), (cp.offset as u64, 10));
    assert!(p.reason.contains("stripped"), "{}", p.reason);
}
