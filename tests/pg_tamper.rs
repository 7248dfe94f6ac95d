//! Tampering with a PostgreSQL journal as a superuser who bypasses the triggers
//! (`session_replication_role = replica`): a body changed, a record deleted, two records
//! swapped, the head row rewound, an index column changed, a rewritten chain. `verify`
//! finds each, at the right sequence number.

mod audit_support;
mod pg_support;

use std::sync::Arc;

use audit_support::{intent, outcome, ssin};
use bcss::audit::pg::{self, PgJournal, PgJournalConfig, PgLocation, PgWitness};
use bcss::audit::{Journal, QueryFilter, VerifyOptions, VerifyReport, Witness};
use pg_support::{Cluster, Database, shared};
use uuid::Uuid;

/// A journal of genesis + 10 call records (5 intents, 5 outcomes) + the shutdown
/// checkpoint, optionally with checkpoints every 4 records.
async fn journal(db: &Database, every: u64, witness: Option<Arc<dyn Witness>>) -> PgLocation {
    let location = db.init("bcss").await;
    let mut c = PgJournalConfig::new(location.clone());
    c.checkpoint_every = std::time::Duration::ZERO;
    c.checkpoint_every_records = every;
    c.witness = witness;
    let journal = PgJournal::open(c).await.unwrap();
    for i in 0..5u16 {
        let ticket = Uuid::now_v7();
        journal
            .append(intent(
                ticket,
                "agent-1",
                "IdentifyPerson",
                &ssin(i + 1),
                120,
            ))
            .await
            .unwrap();
        journal
            .append(outcome(ticket, "ok", Some(b"<reply>fictitious</reply>")))
            .await
            .unwrap();
    }
    journal.close().await.unwrap();
    let report = pg::verify(&location, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    location
}

/// Run `sql` as the superuser with triggers off.
fn tamper(cluster: &Cluster, db: &Database, sql: &str) {
    cluster
        .psql(
            &db.name,
            &format!("SET session_replication_role = replica; {sql}"),
        )
        .expect("tamper as the superuser");
}

async fn failed_at(location: &PgLocation, options: &VerifyOptions) -> (u64, String) {
    let report: VerifyReport = pg::verify(location, options).await.unwrap();
    let problem = report.problem.expect("verify must find the tampering");
    assert_eq!(problem.segment, "bcss.records");
    // A table has no byte offsets: its problems name the table and the sequence only.
    for shown in [problem.to_string(), problem.to_error().to_string()] {
        assert!(shown.contains("table bcss.records (sequence"), "{shown}");
        assert!(!shown.contains("at byte"), "{shown}");
    }
    (problem.sequence, problem.reason)
}

/// The error of a query by `subject`: the index finds records whose check fails.
async fn query_error(location: &PgLocation, subject: &str) -> String {
    let filter = QueryFilter {
        subject: Some(subject.to_string()),
        ..QueryFilter::default()
    };
    let result = pg::query(location, &filter).await.unwrap();
    result
        .exchanges(0, 10, &filter)
        .await
        .unwrap_err()
        .to_string()
}

#[tokio::test]
async fn a_changed_body_is_found_at_its_record() {
    let Some(cluster) = shared("tamper: body") else {
        return;
    };
    let db = cluster.database();
    let location = journal(&db, 0, None).await;
    // Record 4 is the second intent: one byte of its request changed.
    tamper(
        cluster,
        &db,
        "UPDATE bcss.records SET body = overlay(body PLACING 'Y'::bytea FROM length(body) - 30 FOR 1) WHERE sequence = 4",
    );
    let (sequence, reason) = failed_at(&location, &VerifyOptions::default()).await;
    assert_eq!(sequence, 4, "{reason}");
    assert!(reason.contains("chain hash"), "{reason}");
    // A query returning that record refuses to show it.
    let err = query_error(&location, &ssin(2)).await;
    assert!(err.contains("sequence 4"), "{err}");
    assert!(!err.contains("at byte"), "{err}");
}

#[tokio::test]
async fn a_deleted_record_is_found_where_it_was() {
    let Some(cluster) = shared("tamper: delete") else {
        return;
    };
    let db = cluster.database();
    let location = journal(&db, 0, None).await;
    tamper(cluster, &db, "DELETE FROM bcss.records WHERE sequence = 6");
    let (sequence, reason) = failed_at(&location, &VerifyOptions::default()).await;
    assert_eq!(sequence, 6, "{reason}");
    assert!(reason.contains("expected sequence 6"), "{reason}");
    // A query returning the record before it finds that nothing chains from it.
    let err = query_error(&location, &ssin(2)).await;
    assert!(err.contains("sequence 5"), "{err}");
}

#[tokio::test]
async fn two_swapped_records_are_found_at_the_first() {
    let Some(cluster) = shared("tamper: swap") else {
        return;
    };
    let db = cluster.database();
    let location = journal(&db, 0, None).await;
    tamper(
        cluster,
        &db,
        "UPDATE bcss.records SET sequence = -1 WHERE sequence = 5; \
         UPDATE bcss.records SET sequence = 5 WHERE sequence = 6; \
         UPDATE bcss.records SET sequence = 6 WHERE sequence = -1",
    );
    let (sequence, reason) = failed_at(&location, &VerifyOptions::default()).await;
    assert_eq!(sequence, 5, "{reason}");
}

#[tokio::test]
async fn a_rewound_head_row_is_found_where_it_claims_the_chain_ends() {
    let Some(cluster) = shared("tamper: head") else {
        return;
    };
    let db = cluster.database();
    let location = journal(&db, 0, None).await;
    tamper(
        cluster,
        &db,
        "UPDATE bcss.head SET next_sequence = 8, hash = (SELECT hash FROM bcss.records WHERE sequence = 7)",
    );
    let (sequence, reason) = failed_at(&location, &VerifyOptions::default()).await;
    assert_eq!(sequence, 8, "{reason}");
    assert!(reason.contains("rewound"), "{reason}");
}

#[tokio::test]
async fn a_cut_tail_with_the_head_row_rewound_is_found_by_the_witness() {
    let Some(cluster) = shared("tamper: cut") else {
        return;
    };
    let db = cluster.database();
    let witness_location = db.location(pg_support::APP, "bcss_witness");
    let witness: Arc<dyn Witness> = Arc::new(PgWitness::new(witness_location));
    let location = journal(&db, 0, Some(witness.clone())).await;
    // Records 9.. removed and the head row made to agree: consistent on its own.
    tamper(
        cluster,
        &db,
        "DELETE FROM bcss.records WHERE sequence >= 9; \
         UPDATE bcss.head SET next_sequence = 9, hash = (SELECT hash FROM bcss.records WHERE sequence = 8)",
    );
    let report = pg::verify(&location, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "undetectable without an anchor");
    assert!(report.unanchored.is_some());
    let options = VerifyOptions {
        witness: Some(witness),
        ..VerifyOptions::default()
    };
    let (sequence, reason) = failed_at(&location, &options).await;
    assert_eq!(sequence, 9, "{reason}");
    assert!(reason.contains("removed from its end"), "{reason}");
}

#[tokio::test]
async fn a_changed_index_column_is_found_and_never_trusted() {
    let Some(cluster) = shared("tamper: index") else {
        return;
    };
    let db = cluster.database();
    let location = journal(&db, 0, None).await;
    // Record 2 (the first intent, about ssin(1)) made to look like it is about ssin(3).
    tamper(
        cluster,
        &db,
        &format!(
            "UPDATE bcss.records SET subjects = ARRAY['{}'] WHERE sequence = 2",
            ssin(3)
        ),
    );
    let (sequence, reason) = failed_at(&location, &VerifyOptions::default()).await;
    assert_eq!(sequence, 2, "{reason}");
    assert!(reason.contains("index"), "{reason}");
    let err = query_error(&location, &ssin(3)).await;
    assert!(err.contains("sequence 2"), "{err}");
}

#[tokio::test]
async fn a_rewritten_chain_is_found_at_the_checkpoint_it_contradicts() {
    let Some(cluster) = shared("tamper: rechain") else {
        return;
    };
    let db = cluster.database();
    let location = journal(&db, 4, None).await;
    // Change record 3's body, then recompute every hash from it on, and the head row,
    // with the schema's own chain function: the chain is consistent again, but the
    // checkpoint at sequence 5 still claims the old head of record 4.
    tamper(
        cluster,
        &db,
        "UPDATE bcss.records SET body = overlay(body PLACING 'Z'::bytea FROM length(body) - 5 FOR 1) WHERE sequence = 3; \
         DO $$ DECLARE r record; prev bytea; BEGIN \
           SELECT hash INTO prev FROM bcss.records WHERE sequence = 2; \
           FOR r IN SELECT sequence, written_at_micros, body FROM bcss.records WHERE sequence >= 3 ORDER BY sequence LOOP \
             prev := bcss.chain_hash(prev, r.sequence, r.written_at_micros, r.body); \
             UPDATE bcss.records SET hash = prev WHERE sequence = r.sequence; \
           END LOOP; \
           UPDATE bcss.head SET hash = prev; END $$",
    );
    let (sequence, reason) = failed_at(&location, &VerifyOptions::default()).await;
    assert_eq!(sequence, 5, "{reason}");
    assert!(reason.contains("checkpoint claims head"), "{reason}");
}
