//! The PostgreSQL journal: appends acknowledged after commit, the same chain and checks as
//! the file journal, what each role may do, indexed queries checked against the chain,
//! the witness, retention, and the password kept out of every message. Runs against a
//! throwaway local cluster (see `pg_support`), or prints `SKIP:`.

mod audit_support;
mod pg_support;

use std::sync::Arc;

use audit_support::{denial, intent, outcome, ssin};
use bcss::audit::pg::{self, PgJournal, PgJournalConfig, PgLocation, PgWitness};
use bcss::audit::{
    AuditError, Bcss, CallRecord, ClassificationRecord, Journal, QueryFilter, Record,
    VerifyOptions, Witness,
};
use bcss::transport::http::PasswordSource;
use pg_support::{APP, OWNER, PASSWORD, shared};
use uuid::Uuid;

fn config(location: PgLocation) -> PgJournalConfig {
    let mut c = PgJournalConfig::new(location);
    c.checkpoint_every = std::time::Duration::ZERO;
    c
}

fn classification(ticket: Uuid, kind: &str) -> CallRecord {
    CallRecord::Classification(ClassificationRecord {
        ticket,
        outcome: kind.to_string(),
        code: None,
        bcss: Bcss::default(),
        error: None,
    })
}

#[tokio::test]
async fn appends_chain_verify_and_reopen_from_the_last_checkpoint() {
    let Some(cluster) = shared("appends") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let mut c = config(location.clone());
    c.checkpoint_every_records = 5;
    let journal = PgJournal::open(c.clone()).await.unwrap();
    let mut last = 0;
    for i in 0..6u16 {
        let ticket = Uuid::now_v7();
        let a = journal
            .append(intent(
                ticket,
                "agent-1",
                "IdentifyPerson",
                &ssin(i + 1),
                300,
            ))
            .await
            .unwrap();
        assert!(a.sequence > last, "sequences grow");
        last = a.sequence;
        journal
            .append(outcome(ticket, "received", Some(b"<reply/>")))
            .await
            .unwrap();
        journal
            .append_deferred(classification(ticket, "ok"))
            .unwrap();
    }
    journal.close().await.unwrap();

    let report = pg::verify(&location, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.journal_id, Some(journal.journal_id()));
    // genesis + 18 records + count checkpoints + the shutdown checkpoint.
    assert!(report.checkpoints >= 3, "{report:?}");
    assert_eq!(report.records, 1 + 18 + report.checkpoints);
    assert!(report.intents_without_outcome.is_empty());
    let head = pg::head(&location).await.unwrap().unwrap();
    assert_eq!(report.head.unwrap().sequence, head.next_sequence - 1);
    let records = pg::records(&location, 1..=3).await.unwrap();
    assert!(matches!(records[0], (1, Record::Genesis(_))));
    assert!(matches!(records[1], (2, Record::Intent(_))));

    // Reopening checks from the last checkpoint only.
    let again = PgJournal::open(c).await.unwrap();
    assert_eq!(again.journal_id(), journal.journal_id());
    assert_eq!(again.records_checked_at_open(), 0);
    again
        .append(denial(
            Uuid::now_v7(),
            "agent-2",
            "IdentifyPerson",
            &ssin(9),
        ))
        .await
        .unwrap();
    again.close().await.unwrap();
    let report = pg::verify(&location, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
}

#[tokio::test]
async fn the_application_cannot_update_or_delete_nor_the_owner_without_prune() {
    let Some(cluster) = shared("roles") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let journal = PgJournal::open(config(location.clone())).await.unwrap();
    journal
        .append(intent(
            Uuid::now_v7(),
            "agent-1",
            "IdentifyPerson",
            &ssin(1),
            100,
        ))
        .await
        .unwrap();
    journal.close().await.unwrap();

    // The application role: no UPDATE or DELETE privilege at all.
    for sql in [
        "UPDATE bcss.records SET kind = 'x' WHERE sequence = 2",
        "DELETE FROM bcss.records WHERE sequence = 2",
        "UPDATE bcss.head SET next_sequence = 1",
        "TRUNCATE bcss.records",
        "SELECT bcss.prune(2)",
    ] {
        let err = run_as(&db, APP, sql).await.unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    // A record that does not continue the chain is refused, even with the insert privilege.
    let err = run_as(
        &db,
        APP,
        "SELECT bcss.lock_head(); INSERT INTO bcss.records (sequence, written_at_micros, hash, body, kind) VALUES ((SELECT next_sequence FROM bcss.head), 0, decode(repeat('00', 32), 'hex'), '\\x00', 'read')",
    )
    .await
    .unwrap_err();
    assert!(err.contains("does not chain"), "{err}");
    // The owner: the trigger refuses, except prune.
    for sql in [
        "UPDATE bcss.records SET kind = 'x' WHERE sequence = 2",
        "DELETE FROM bcss.records WHERE sequence = 2",
        "TRUNCATE bcss.records",
        "UPDATE bcss.head SET next_sequence = 1",
        "DELETE FROM bcss.head",
        "UPDATE bcss_witness.heads SET sequence = 0",
    ] {
        let err = run_as(&db, OWNER, sql).await.expect_err(sql);
        assert!(
            err.contains("refused") || err.contains("may not be pruned"),
            "{sql}: {err}"
        );
    }
    let err = run_as(&db, OWNER, "SELECT bcss.prune(2)")
        .await
        .unwrap_err();
    assert!(err.contains("no prune record"), "{err}");
    let report = pg::verify(&location, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
}

/// Insert, as `role`, a record that continues the chain (a valid hash) with `kind`,
/// `covers_to` and the body `not a prune`, written at `written_at_micros`; its sequence,
/// or the server's message.
async fn insert_chained(
    db: &pg_support::Database,
    role: &str,
    kind: &str,
    covers_to: i64,
    written_at_micros: i64,
) -> Result<i64, String> {
    use sha2::{Digest, Sha256};
    let (client, task) = db.connect_as(role).await;
    let message = |e: tokio_postgres::Error| {
        e.as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string())
    };
    client.batch_execute("BEGIN").await.map_err(message)?;
    let row = client
        .query_one("SELECT next_sequence, hash FROM bcss.lock_head()", &[])
        .await
        .map_err(message)?;
    let (sequence, prev): (i64, Vec<u8>) = (row.get(0), row.get(1));
    let body = b"not a prune".to_vec();
    let mut hasher = Sha256::new();
    hasher.update(&prev);
    hasher.update(2u32.to_le_bytes());
    hasher.update(sequence.to_le_bytes());
    hasher.update(written_at_micros.to_le_bytes());
    hasher.update(Sha256::digest(&body));
    let hash = hasher.finalize().to_vec();
    let result = client
        .execute(
            "INSERT INTO bcss.records (sequence, written_at_micros, hash, body, kind, covers_to) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&sequence, &written_at_micros, &hash, &body, &kind, &covers_to],
        )
        .await
        .map_err(message);
    let result = match result {
        Ok(_) => client.batch_execute("COMMIT").await.map_err(message),
        Err(e) => Err(e),
    };
    task.abort();
    result.map(|()| sequence)
}

/// A new journal in `db` written without a witness: genesis, 3 intents, the shutdown
/// checkpoint; its location for the application role.
async fn three_calls(db: &pg_support::Database) -> PgLocation {
    let location = db.init("bcss").await;
    let journal = PgJournal::open(config(location.clone())).await.unwrap();
    for i in 0..3u16 {
        journal
            .append(intent(
                Uuid::now_v7(),
                "agent-1",
                "IdentifyPerson",
                &ssin(i + 1),
                100,
            ))
            .await
            .unwrap();
    }
    journal.close().await.unwrap();
    location
}

#[tokio::test]
async fn only_the_owner_appends_prune_records_and_none_dated_in_the_future_deletes() {
    let Some(cluster) = shared("prune rows") else {
        return;
    };
    let db = cluster.database();
    three_calls(&db).await;
    let in_2100 = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2100, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp_micros();
    // The application role: a chained prune row is refused, naming the owner.
    let err = insert_chained(&db, APP, "prune", 3, in_2100)
        .await
        .unwrap_err();
    assert!(
        err.contains("only the journal's owner (bcss_owner)"),
        "{err}"
    );
    assert!(err.contains("bcss_app may not"), "{err}");
    // The owner may append one, but one dated in the future allows no deletion.
    let sequence = insert_chained(&db, OWNER, "prune", 3, in_2100)
        .await
        .unwrap();
    let err = run_as(
        &db,
        OWNER,
        &format!(
            "SET LOCAL bcss.prune_record = '{sequence}'; DELETE FROM bcss.records WHERE sequence < {sequence}"
        ),
    )
    .await
    .unwrap_err();
    assert!(err.contains("may not be pruned"), "{err}");
    assert!(err.contains("dated after now"), "{err}");
    let rows = db_count(&db).await;
    assert_eq!(rows, sequence, "no record was deleted");
}

/// How many records the journal holds.
async fn db_count(db: &pg_support::Database) -> i64 {
    let (client, task) = db.connect_as(OWNER).await;
    let count: i64 = client
        .query_one("SELECT count(*) FROM bcss.records", &[])
        .await
        .unwrap()
        .get(0);
    task.abort();
    count
}

/// Run `sql` as `role` in one transaction; the server's message on failure.
async fn run_as(db: &pg_support::Database, role: &str, sql: &str) -> Result<(), String> {
    let (client, connection) = tokio_postgres::Config::new()
        .host_path(&db.socket_dir)
        .user(role)
        .dbname(&db.name)
        .password(PASSWORD)
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| e.to_string())?;
    let task = tokio::spawn(connection);
    let result = client
        .batch_execute(&format!("BEGIN; {sql}; COMMIT"))
        .await
        .map_err(|e| {
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string())
        });
    task.abort();
    result
}

#[tokio::test]
async fn the_password_never_appears_in_debug_or_errors() {
    let Some(cluster) = shared("password") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let journal = PgJournal::open(config(location.clone())).await.unwrap();
    for shown in [
        format!("{location:?}"),
        location.to_string(),
        format!("{journal:?}"),
        format!("{:?}", config(location.clone())),
    ] {
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
    journal.close().await.unwrap();
    // A wrong password: the error names the role and the location, not the password.
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "Not-The-Password-42\n").unwrap();
    let bad = PgLocation::parse(&db.url(APP, "bcss"), Some(PasswordSource::File(wrong))).unwrap();
    let err = PgJournal::open(config(bad)).await.unwrap_err().to_string();
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("Not-The-Password-42"), "{err}");
    // A password in the URL is refused without being repeated.
    let inline = db
        .url(APP, "bcss")
        .replace("bcss_app@", &format!("bcss_app:{PASSWORD}@"));
    let err = PgLocation::parse(&inline, None).unwrap_err().to_string();
    assert!(!err.contains(PASSWORD), "{err}");
    // A missing password source says which one.
    let unset = PgLocation::parse(
        &db.url(APP, "bcss"),
        Some(PasswordSource::Env("BCSS_TEST_NO_SUCH_VARIABLE".into())),
    )
    .unwrap();
    let err = PgJournal::open(config(unset))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("BCSS_TEST_NO_SUCH_VARIABLE"), "{err}");
}

/// A writer that keeps what tracing prints.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The logs of a connection lost and made again name the location, never the password.
/// (A current-thread runtime: every task of the journal logs into this thread's
/// subscriber.)
#[tokio::test(flavor = "current_thread")]
async fn logs_name_the_location_never_the_password() {
    let Some(cluster) = shared("password in logs") else {
        return;
    };
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let db = cluster.database();
    let location = db.init("bcss").await;
    let journal = PgJournal::open(config(location.clone())).await.unwrap();
    journal
        .append(denial(
            Uuid::now_v7(),
            "agent-1",
            "IdentifyPerson",
            &ssin(1),
        ))
        .await
        .unwrap();
    // The application's sessions end under it: the next batch fails (logged) or, when the
    // driver saw the session end first, connects again (logged); the one after succeeds.
    // Only this test's database: the other tests share the cluster and the role.
    cluster
        .psql(
            &db.name,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{APP}' AND datname = '{}'",
                db.name
            ),
        )
        .unwrap();
    let lost = journal
        .append(denial(
            Uuid::now_v7(),
            "agent-1",
            "IdentifyPerson",
            &ssin(2),
        ))
        .await;
    if let Err(e) = lost {
        assert!(!e.to_string().contains(PASSWORD), "{e}");
    }
    journal
        .append(denial(
            Uuid::now_v7(),
            "agent-1",
            "IdentifyPerson",
            &ssin(3),
        ))
        .await
        .unwrap();
    journal.close().await.unwrap();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("connected again"), "{logs}");
    assert!(logs.contains(&location.to_string()), "{logs}");
    assert!(!logs.contains(PASSWORD), "{logs}");
}

#[tokio::test]
async fn a_journal_that_was_never_initialised_says_how_to() {
    let Some(cluster) = shared("init") else {
        return;
    };
    let db = cluster.database();
    let err = PgJournal::open(config(db.location(APP, "nothing_here")))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("bcss audit init"), "{err}");
}

#[tokio::test]
async fn queries_use_the_index_and_check_every_record_returned() {
    let Some(cluster) = shared("query") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let journal = PgJournal::open(config(location.clone())).await.unwrap();
    let mut tickets = Vec::new();
    for i in 0..20u16 {
        let ticket = Uuid::now_v7();
        let service = if i % 2 == 0 {
            "IdentifyPerson"
        } else {
            "RetrieveTIGroups"
        };
        let user = format!("agent-{}", i % 3);
        journal
            .append(intent(ticket, &user, service, &ssin(100 + i % 5), 200))
            .await
            .unwrap();
        if i % 4 != 3 {
            journal
                .append(outcome(ticket, "received", Some(b"<r/>")))
                .await
                .unwrap();
            let kind = if i % 4 == 2 { "business_error" } else { "ok" };
            journal
                .append_deferred(classification(ticket, kind))
                .unwrap();
        }
        tickets.push(ticket);
    }
    journal
        .append(denial(
            Uuid::now_v7(),
            "agent-9",
            "IdentifyPerson",
            &ssin(100),
        ))
        .await
        .unwrap();
    journal.close().await.unwrap();

    let by_subject = QueryFilter {
        subject: Some(ssin(100)),
        ..QueryFilter::default()
    };
    let result = pg::query(&location, &by_subject).await.unwrap();
    // i = 0, 5, 10, 15, and the denial.
    assert_eq!(result.len(), 5);
    let exchanges = result.exchanges(0, 100, &by_subject).await.unwrap();
    assert_eq!(exchanges.len(), 5);
    assert_eq!(exchanges[4].status(), "denied");
    assert_eq!(exchanges[0].ticket, tickets[0]);
    assert_eq!(exchanges[0].status(), "ok");
    assert_eq!(exchanges[0].sequences.len(), 3);
    assert_eq!(
        exchanges[0]
            .outcome
            .as_ref()
            .unwrap()
            .reply
            .as_ref()
            .unwrap()
            .as_bytes(),
        b"<r/>"
    );
    // The same answers through every criterion.
    let count = |filter: QueryFilter| {
        let location = location.clone();
        async move { pg::query(&location, &filter).await.unwrap().len() }
    };
    assert_eq!(
        count(QueryFilter {
            who: Some("agent-0".into()),
            ..Default::default()
        })
        .await,
        7
    );
    assert_eq!(
        count(QueryFilter {
            service: Some("retrievetigroups".into()),
            ..Default::default()
        })
        .await,
        10
    );
    assert_eq!(
        count(QueryFilter {
            outcome: Some("no_outcome".into()),
            ..Default::default()
        })
        .await,
        5
    );
    assert_eq!(
        count(QueryFilter {
            outcome: Some("business_error".into()),
            ..Default::default()
        })
        .await,
        5
    );
    assert_eq!(
        count(QueryFilter {
            outcome: Some("denied".into()),
            ..Default::default()
        })
        .await,
        1
    );
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    assert_eq!(
        count(QueryFilter {
            since: Some(future),
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(QueryFilter {
            until: Some(future),
            ..Default::default()
        })
        .await,
        21
    );
    let shown = pg::show(&location, tickets[3]).await.unwrap().unwrap();
    assert_eq!(shown.status(), "no_outcome");
    assert!(pg::show(&location, Uuid::now_v7()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_database_witness_anchors_the_journal() {
    let Some(cluster) = shared("witness") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let witness: Arc<dyn Witness> = Arc::new(PgWitness::new(
        location.with_schema("bcss_witness").unwrap(),
    ));
    let mut c = config(location.clone());
    c.witness = Some(witness.clone());
    c.checkpoint_every_records = 4;
    let journal = PgJournal::open(c.clone()).await.unwrap();
    for i in 0..10u16 {
        journal
            .append(intent(
                Uuid::now_v7(),
                "agent-1",
                "IdentifyPerson",
                &ssin(i + 1),
                50,
            ))
            .await
            .unwrap();
    }
    journal.close().await.unwrap();
    let heads = witness.heads().unwrap();
    assert!(heads.len() >= 3, "{heads:?}");
    assert_eq!(heads[0].reason, "genesis");
    assert_eq!(heads.last().unwrap().reason, "close");
    let options = VerifyOptions {
        witness: Some(witness.clone()),
        require_anchor: true,
        ..VerifyOptions::default()
    };
    let report = pg::verify(&location, &options).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert!(report.unanchored.is_none());
    assert_eq!(report.last_witnessed_head, report.head);
    // Without the witness the report says it is unanchored.
    let report = pg::verify(&location, &VerifyOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.unanchored.as_deref(),
        Some("no witness and no trusted head")
    );
    // The application role cannot rewrite the witness.
    let err = run_as(&db, APP, "DELETE FROM bcss_witness.heads")
        .await
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    // Reopening with the witness checks its last head.
    let again = PgJournal::open(c.clone()).await.unwrap();
    again.close().await.unwrap();
    // An appender not given the witness is refused: its checkpoints would be missing
    // from the witness, and verify would report them as forged.
    let mut without = c;
    without.witness = None;
    let err = PgJournal::open(without).await.unwrap_err();
    assert!(
        matches!(&err, AuditError::WitnessMismatch { reason, .. } if reason.contains("none was given")),
        "{err}"
    );
}

#[tokio::test]
async fn a_witness_is_added_to_an_existing_journal_only_explicitly() {
    let Some(cluster) = shared("start witness") else {
        return;
    };
    let db = cluster.database();
    let location = three_calls(&db).await;
    let witness: Arc<dyn Witness> = Arc::new(PgWitness::new(
        location.with_schema("bcss_witness").unwrap(),
    ));
    let mut c = config(location.clone());
    c.witness = Some(witness.clone());
    // A writer given a witness refuses, naming the explicit act; nothing is recorded.
    let err = PgJournal::open(c.clone()).await.unwrap_err();
    let AuditError::WitnessMismatch { reason, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(reason.contains("written without a witness"), "{reason}");
    assert!(
        reason.contains(&format!(
            "bcss audit start-witness {location} --witness {}",
            witness.location()
        )),
        "{reason}"
    );
    assert!(witness.heads().unwrap().is_empty());
    // Started explicitly: the head in the witness, a witnessed checkpoint in the chain.
    let mut start = c.clone();
    start.start_witness = true;
    let started = PgJournal::open(start.clone()).await.unwrap();
    assert!(started.witness_started());
    let head = started.head().unwrap();
    started.close().await.unwrap();
    let heads = witness.heads().unwrap();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert_eq!(heads[0].reason, "witness_started");
    assert_eq!(heads[0].sequence, head.sequence - 1);
    // From then on writers with the witness open, those without are refused.
    let again = PgJournal::open(c.clone()).await.unwrap();
    again.close().await.unwrap();
    let err = PgJournal::open(config(location.clone())).await.unwrap_err();
    assert!(err.to_string().contains("none was given"), "{err}");
    // Starting it again does nothing.
    let twice = PgJournal::open(start).await.unwrap();
    assert!(!twice.witness_started());
    twice.close().await.unwrap();
    let options = VerifyOptions {
        witness: Some(witness),
        require_anchor: true,
        ..VerifyOptions::default()
    };
    let report = pg::verify(&location, &options).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
}

#[tokio::test]
async fn signed_checkpoints_and_genesis_verify_with_the_public_key() {
    let Some(cluster) = shared("signatures") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let dir = tempfile::tempdir().unwrap();
    let pair = bcss::keys::generate_key_pair(&dir.path().join("journal")).unwrap();
    let mut c = config(location.clone());
    c.signing_key = Some(pair.private_key.clone());
    let journal = PgJournal::open(c).await.unwrap();
    journal
        .append(intent(
            Uuid::now_v7(),
            "agent-1",
            "IdentifyPerson",
            &ssin(1),
            50,
        ))
        .await
        .unwrap();
    assert!(journal.checkpoint().await.unwrap().is_some());
    journal.close().await.unwrap();
    let key = bcss::audit::load_verifying_key(&pair.public_key).unwrap();
    let options = VerifyOptions {
        public_key: Some(key),
        ..VerifyOptions::default()
    };
    let report = pg::verify(&location, &options).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert!(report.genesis_signed);
    assert_eq!(report.signed_checkpoints, 1);
    // A process not given the key is refused: its checkpoints would be unsigned, and
    // verify would fail for good (the second trial broke a journal so).
    let err = PgJournal::open(config(location.clone())).await.unwrap_err();
    assert!(
        matches!(&err, AuditError::Config(m) if m.contains("no signing key was given")),
        "{err}"
    );
    // Nor another key.
    let other = bcss::keys::generate_key_pair(&dir.path().join("other")).unwrap();
    let mut c = config(location.clone());
    c.signing_key = Some(other.private_key.clone());
    let err = PgJournal::open(c).await.unwrap_err();
    assert!(
        matches!(&err, AuditError::Config(m) if m.contains("signed by another key")),
        "{err}"
    );
    assert!(pg::verify(&location, &options).await.unwrap().is_ok());
}

fn in_2010() -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2010, 1, 1, 9, 0, 0).unwrap()
}

fn in_2025() -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2025, 1, 1, 9, 0, 0).unwrap()
}

fn in_2026() -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 1, 9, 0, 0).unwrap()
}

#[tokio::test]
async fn prune_removes_only_attested_records_older_than_ten_years() {
    let Some(cluster) = shared("prune") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let dir = tempfile::tempdir().unwrap();
    let pair = bcss::keys::generate_key_pair(&dir.path().join("journal")).unwrap();
    let witness: Arc<dyn Witness> = Arc::new(PgWitness::new(
        location.with_schema("bcss_witness").unwrap(),
    ));
    let keyed = |location: PgLocation, clock: fn() -> chrono::DateTime<chrono::Utc>| {
        let mut c = config(location);
        c.signing_key = Some(pair.private_key.clone());
        c.witness = Some(witness.clone());
        c.clock = clock;
        c
    };
    // Written in 2010: genesis, 5 records, the shutdown checkpoint (sequences 1..=7).
    let old = PgJournal::open(keyed(location.clone(), in_2010))
        .await
        .unwrap();
    for i in 0..5u16 {
        old.append(intent(
            Uuid::now_v7(),
            "agent-1",
            "IdentifyPerson",
            &ssin(i + 1),
            80,
        ))
        .await
        .unwrap();
    }
    old.close().await.unwrap();
    // Written in 2025: kept.
    let recent = PgJournal::open(keyed(location.clone(), in_2025))
        .await
        .unwrap();
    for i in 0..3u16 {
        recent
            .append(intent(
                Uuid::now_v7(),
                "agent-1",
                "IdentifyPerson",
                &ssin(i + 10),
                80,
            ))
            .await
            .unwrap();
    }
    recent.close().await.unwrap();

    // The application role may not prune.
    let app = pg::prune(keyed(location.clone(), in_2026), in_2026()).await;
    assert!(app.unwrap_err().to_string().contains("permission denied"));
    let owner = db.location(OWNER, "bcss");
    let report = pg::prune(keyed(owner.clone(), in_2026), in_2026())
        .await
        .unwrap();
    assert_eq!(report.records_removed, 7, "{report:?}");
    assert_eq!(report.first_remaining_sequence, Some(8));
    let prune_sequence = report.prune_record.unwrap();

    let key = bcss::audit::load_verifying_key(&pair.public_key).unwrap();
    let options = VerifyOptions {
        public_key: Some(key),
        witness: Some(witness.clone()),
        require_anchor: true,
        ..VerifyOptions::default()
    };
    let verified = pg::verify(&location, &options).await.unwrap();
    assert!(verified.is_ok(), "{:?}", verified.problem);
    assert_eq!(verified.anchored_at, Some(8));
    assert_eq!(verified.attested_by_prune, Some(prune_sequence));
    // Nothing else is old enough: a second prune removes nothing.
    let again = pg::prune(keyed(owner, in_2026), in_2026()).await.unwrap();
    assert_eq!(again.records_removed, 0);
    assert!(again.kept_because.is_some());
    // The database itself refuses to delete a record the prune record does not attest.
    let err = run_as(
        &db,
        OWNER,
        &format!(
            "SELECT set_config('bcss.prune_record', '{prune_sequence}', true); DELETE FROM bcss.records WHERE sequence = 9"
        ),
    )
    .await
    .unwrap_err();
    assert!(err.contains("may not be pruned"), "{err}");
}

/// Eight instances start on a new journal at once, each with the database witness: the
/// one that writes the genesis holds the genesis lock until its head is in the witness, so
/// none of the others finds records the witness has not seen (the trial found 1 or 2 of 8
/// refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_a_new_witnessed_journal_at_once_all_open() {
    let Some(cluster) = shared("witnessed start") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let witness: Arc<dyn Witness> = Arc::new(PgWitness::new(
        location.with_schema("bcss_witness").unwrap(),
    ));
    let mut tasks = Vec::new();
    for i in 0..8u16 {
        let mut c = config(location.clone());
        c.witness = Some(witness.clone());
        tasks.push(tokio::spawn(async move {
            let journal = PgJournal::open(c).await?;
            for n in 0..5u16 {
                journal
                    .append(intent(
                        Uuid::now_v7(),
                        "agent-1",
                        "IdentifyPerson",
                        &ssin(i * 10 + n + 1),
                        50,
                    ))
                    .await?;
            }
            journal.close().await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let options = VerifyOptions {
        witness: Some(witness),
        require_anchor: true,
        ..VerifyOptions::default()
    };
    let report = pg::verify(&location, &options).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    let intents = pg::records(&location, 1..=u64::MAX)
        .await
        .unwrap()
        .iter()
        .filter(|(_, r)| matches!(r, Record::Intent(_)))
        .count();
    assert_eq!(intents, 40);
}
