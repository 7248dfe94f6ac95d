//! Reading personal data is accountable (issue 14.4): a read is recorded in the journal's
//! reads chain before anything is shown, also while an application writes the journal;
//! the reads chain is signed and witnessed like the journal, and each read's view of the
//! journal (its id and head) is checked against the journal's chain by `verify`.

#[path = "audit_support/mod.rs"]
mod support;

use std::sync::Arc;

use bcss::audit::{
    self, FileJournal, FileWitness, Journal, QueryFilter, READS_DIR, ReadChain, ReadRecord,
    VerifyOptions, Witness,
};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use support::*;
use uuid::Uuid;

/// A read of `dir` by `reader` covering what a query for `subject` returns.
async fn read(config: &bcss::audit::FileJournalConfig, reader: &str, subject: &str) {
    let filter = QueryFilter {
        subject: Some(subject.to_string()),
        ..Default::default()
    };
    let result = audit::query(&config.dir, &filter).unwrap();
    let mut record = ReadRecord::new(reader, "query", vec![format!("--subject={subject}")])
        .with_subjects(result.subjects());
    record.head = result.head.map(|h| h.to_string());
    record.exchanges = Some(result.len() as u64);
    audit::record_read(config, record).await.unwrap();
}

#[tokio::test]
async fn reads_are_journaled_while_the_journal_is_written_and_anchored_like_it() {
    let tmp = tempdir();
    let dir = tmp.path().join("journal");
    let key_path = tmp.path().join("journal.pem");
    let key = SigningKey::from_bytes(&[5; 32]);
    std::fs::write(
        &key_path,
        key.to_pkcs8_pem(Default::default()).unwrap().as_bytes(),
    )
    .unwrap();
    let witness: Arc<dyn Witness> = Arc::new(FileWitness::new(tmp.path().join("w.jsonl")));
    let mut c = config(&dir);
    c.signing_key = Some(key_path);
    c.witness = Some(witness.clone());

    // The application holds the journal open for writing the whole time.
    let journal = FileJournal::open(c.clone()).await.unwrap();
    let t = Uuid::now_v7();
    journal
        .append(intent(t, "alice", "IdentifyPerson", &ssin(1), 40))
        .await
        .unwrap();
    journal
        .append(outcome(t, "ok", Some(b"<r/>")))
        .await
        .unwrap();
    read(&c, "advisor-1", &ssin(1)).await;
    journal
        .append(denial(Uuid::now_v7(), "bob", "IdentifyPerson", &ssin(2)))
        .await
        .unwrap();
    read(&c, "advisor-2", &ssin(2)).await;
    journal.close().await.unwrap();

    let options = VerifyOptions {
        witness: Some(witness.clone()),
        public_key: Some(key.verifying_key()),
        ..Default::default()
    };
    let report = audit::verify(&dir, &options).unwrap();
    assert!(report.is_ok(), "{:?} {:?}", report.problem, report.reads);
    let reads = report.reads.as_ref().unwrap();
    // Genesis, then each read and its signed, witnessed checkpoint.
    assert_eq!(reads.records, 5);
    assert!(reads.unanchored.is_none());
    assert!(reads.genesis_signed);
    assert_eq!(reads.signed_checkpoints, 2);
    assert_ne!(reads.journal_id, report.journal_id);

    // Who read about this person?
    let filter = QueryFilter {
        subject: Some(ssin(2)),
        ..Default::default()
    };
    let found = audit::query_reads(&dir, &filter).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].chain, ReadChain::Reads);
    assert_eq!(found[0].record.reader, "advisor-2");
    assert_eq!(found[0].record.exchanges, Some(1));
}

#[tokio::test]
async fn a_journal_cut_below_what_a_reader_saw_is_detected() {
    let tmp = tempdir();
    let dir = tmp.path().join("journal");
    let mut c = config(&dir);
    c.checkpoint_on_close = false;
    let journal = FileJournal::open(c.clone()).await.unwrap();
    for n in 0..5 {
        journal
            .append(denial(
                Uuid::now_v7(),
                "bob",
                "IdentifyPerson",
                &ssin(n + 1),
            ))
            .await
            .unwrap();
    }
    journal.close().await.unwrap();
    read(&c, "advisor-1", &ssin(5)).await;
    assert!(audit::verify(&dir, &plain()).unwrap().is_ok());

    // The last two records are cut at a record boundary: unanchored, the journal alone
    // still verifies, but the read saw them.
    let seg = segments(&dir).pop().unwrap();
    let bytes = std::fs::read(&seg).unwrap();
    let keep = frames(&bytes)[4].offset;
    std::fs::write(&seg, &bytes[..keep]).unwrap();
    let report = audit::verify(&dir, &plain()).unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
    assert!(!report.is_ok());
    let problem = report.reads.unwrap().problem.unwrap();
    assert_eq!(
        problem.sequence, 2,
        "the read after the reads chain's genesis"
    );
    assert!(
        problem.reason.contains("records were removed from its end"),
        "{}",
        problem.reason
    );

    // The reads chain of another journal, moved in.
    let other = tmp.path().join("other");
    let oc = config(&other);
    let j = FileJournal::open(oc.clone()).await.unwrap();
    j.append(denial(Uuid::now_v7(), "eve", "IdentifyPerson", &ssin(9)))
        .await
        .unwrap();
    j.close().await.unwrap();
    std::fs::write(&seg, &bytes).unwrap();
    assert!(audit::verify(&dir, &plain()).unwrap().is_ok());
    std::fs::rename(dir.join(READS_DIR), tmp.path().join("kept")).unwrap();
    read(&oc, "advisor-3", &ssin(9)).await;
    std::fs::rename(other.join(READS_DIR), dir.join(READS_DIR)).unwrap();
    let report = audit::verify(&dir, &plain()).unwrap();
    let problem = report.reads.unwrap().problem.unwrap();
    assert!(
        problem.reason.contains("belongs to another journal"),
        "{}",
        problem.reason
    );
}

#[tokio::test]
async fn a_rewritten_journal_no_longer_has_the_head_a_reader_saw() {
    let tmp = tempdir();
    let dir = tmp.path().join("journal");
    let mut c = config(&dir);
    c.checkpoint_on_close = false;
    let journal = FileJournal::open(c.clone()).await.unwrap();
    for n in 0..3 {
        journal
            .append(denial(
                Uuid::now_v7(),
                "bob",
                "IdentifyPerson",
                &ssin(n + 1),
            ))
            .await
            .unwrap();
    }
    journal.close().await.unwrap();
    read(&c, "advisor-1", &ssin(2)).await;
    // A forger edits a record the advisor was shown and rechains the journal after it.
    let seg = segments(&dir).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[2].clone();
    edit_body(&mut bytes, &f, "\"bob\"", "\"eve\"");
    rechain(&mut bytes, f.offset);
    std::fs::write(&seg, &bytes).unwrap();
    let report = audit::verify(&dir, &plain()).unwrap();
    assert!(
        report.problem.is_none(),
        "the journal alone verifies (unanchored)"
    );
    let problem = report.reads.unwrap().problem.unwrap();
    assert!(problem.reason.contains("rewritten"), "{}", problem.reason);
}

#[tokio::test]
async fn reads_an_application_journals_itself_are_listed_through_the_index_or_without_it() {
    let tmp = tempdir();
    let dir = tmp.path().join("journal");
    let journal = FileJournal::open(config(&dir)).await.unwrap();
    let mut sequences = Vec::new();
    for (n, clerk) in ["clerk-1", "clerk-2", "clerk-1"].iter().enumerate() {
        journal
            .append(intent(
                Uuid::now_v7(),
                "alice",
                "IdentifyPerson",
                &ssin(1),
                40,
            ))
            .await
            .unwrap();
        let read = ReadRecord::new(*clerk, "case-screen", vec![format!("case-{n}")])
            .with_subjects(vec![ssin(n as u16 + 1)]);
        let appended = journal
            .append(bcss::audit::CallRecord::Read(read))
            .await
            .unwrap();
        sequences.push(appended.sequence);
    }
    journal.close().await.unwrap();

    let by_clerk = QueryFilter {
        who: Some("clerk-1".into()),
        ..Default::default()
    };
    let about = QueryFilter {
        subject: Some(ssin(2)),
        ..Default::default()
    };
    let listed = |filter: &QueryFilter| -> Vec<(ReadChain, u64, String)> {
        audit::query_reads(&dir, filter)
            .unwrap()
            .into_iter()
            .map(|e| (e.chain, e.sequence, e.record.reader))
            .collect()
    };
    let expected_clerk = vec![
        (ReadChain::Journal, sequences[0], "clerk-1".to_string()),
        (ReadChain::Journal, sequences[2], "clerk-1".to_string()),
    ];
    let expected_about = vec![(ReadChain::Journal, sequences[1], "clerk-2".to_string())];
    // Through the index the writer kept.
    assert!(dir.join(audit::INDEX_DIR).is_dir());
    assert_eq!(listed(&by_clerk), expected_clerk);
    assert_eq!(listed(&about), expected_about);
    // Without it, reading every record.
    std::fs::remove_dir_all(dir.join(audit::INDEX_DIR)).unwrap();
    assert_eq!(listed(&by_clerk), expected_clerk);
    assert_eq!(listed(&about), expected_about);
    // Rebuilt.
    audit::reindex(&dir, std::time::Duration::ZERO, None).unwrap();
    assert_eq!(listed(&by_clerk), expected_clerk);
    assert_eq!(listed(&about), expected_about);
}
