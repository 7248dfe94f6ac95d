//! Connecting to the journal's database, and waiting on it, are bounded and say what to
//! fix: a server that accepts and never answers, a head row another session keeps locked,
//! no password source, a server without TLS, an sslmode bcss does not take. The fake
//! servers listen on 127.0.0.1 only; the lock test uses a throwaway cluster
//! (`pg_support`, or `SKIP:`).

mod audit_support;
mod pg_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use audit_support::{intent, ssin};
use bcss::audit::pg::{self, PgJournal, PgJournalConfig, PgLocation};
use bcss::audit::{AnyJournalConfig, AuditError, Journal, JournalLocation, VerifyOptions};
use pg_support::{OWNER, shared};
use uuid::Uuid;

/// A listener on 127.0.0.1 whose connections are handled by `serve` on a thread each.
fn fake_server(serve: fn(std::net::TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    port
}

#[tokio::test]
async fn a_server_that_accepts_and_never_answers_times_out() {
    // Accepts, reads what it is sent, never writes: the TCP connection succeeds, the TLS
    // (or startup) exchange would wait for ever.
    let port = fake_server(|mut stream| {
        let mut buf = [0u8; 1024];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
    for params in ["sslmode=disable&connect_timeout=1", "connect_timeout=1"] {
        let url = format!("postgres://u@127.0.0.1:{port}/db?schema=s&{params}");
        let location = PgLocation::parse(&url, None).unwrap();
        let err = pg::verify(&location, &VerifyOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, AuditError::Database { .. }), "{err:?}");
        let err = err.to_string();
        assert!(err.contains("timed out after 1 s"), "{params}: {err}");
        assert!(
            err.contains(&format!("127.0.0.1:{port}")),
            "{params}: {err}"
        );
    }
}

#[tokio::test]
async fn a_server_without_tls_says_to_add_sslmode() {
    // Answers PostgreSQL's SSLRequest with 'N' (no TLS), as a server without TLS does.
    let port = fake_server(|mut stream| {
        let mut request = [0u8; 8];
        if stream.read_exact(&mut request).is_ok() {
            let _ = stream.write_all(b"N");
        }
    });
    let url = format!("postgres://u@127.0.0.1:{port}/db?schema=s&connect_timeout=5");
    let err = pg::verify(&PgLocation::parse(&url, None).unwrap(), &Default::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("server does not support TLS"), "{err}");
    assert!(
        err.contains("add sslmode=disable (or prefer) to the URL"),
        "{err}"
    );
}

#[test]
fn an_sslmode_bcss_does_not_take_lists_those_it_does() {
    let err = PgLocation::parse("postgres://u@db.example/cpas?sslmode=verify-full", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("sslmode=verify-full"), "{err}");
    assert!(err.contains("disable, prefer or require"), "{err}");
}

#[tokio::test]
async fn no_password_source_says_how_to_give_one() {
    let Some(cluster) = shared("no password") else {
        return;
    };
    let db = cluster.database();
    let with_password = db.init("bcss").await;
    let none = with_password.clone().with_password(None);
    let err = PgJournal::open(PgJournalConfig::new(none))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("password missing"), "{err}");
    assert!(
        err.contains(
            "password_env or password_file, --password-env/--password-file, or set PGPASSWORD"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn an_append_waits_for_a_locked_head_row_a_bounded_time() {
    let Some(cluster) = shared("head row locked") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    // The wait is set where the configuration sets it for either backend.
    let mut any = AnyJournalConfig::new(JournalLocation::Postgres(location.clone()));
    any.set_lock_wait(Duration::from_millis(300));
    let AnyJournalConfig::Postgres(mut config) = any else {
        panic!("a PostgreSQL configuration");
    };
    assert_eq!(config.lock_wait, Duration::from_millis(300));
    config.checkpoint_every = Duration::ZERO;
    let journal = PgJournal::open(config).await.unwrap();

    // Another session holds the head row.
    let (holder, task) = db.connect_as(OWNER).await;
    holder
        .batch_execute("BEGIN; SELECT * FROM bcss.head FOR UPDATE")
        .await
        .unwrap();
    let record = || intent(Uuid::now_v7(), "agent-1", "IdentifyPerson", &ssin(3), 80);
    let err = journal.append(record()).await.unwrap_err();
    assert!(matches!(err, AuditError::Database { .. }), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains("the head row was locked by another session for 0.3 s"),
        "{err}"
    );
    // Once it lets go, appends go on.
    holder.batch_execute("ROLLBACK").await.unwrap();
    journal.append(record()).await.unwrap();
    journal.close().await.unwrap();
    task.abort();
    let report = pg::verify(&location, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
}

/// A server that stops answering mid-session (its backend stopped, as a cut network looks
/// to the client): the batch is refused after lock_wait + reply_wait, the connection
/// given up; once the server answers again the next append connects again.
#[tokio::test]
async fn a_server_that_stops_answering_mid_session_is_given_up() {
    let Some(cluster) = shared("stalled session") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let mut config = PgJournalConfig::new(location.clone());
    config.lock_wait = Duration::from_millis(300);
    config.reply_wait = Duration::from_millis(700);
    config.checkpoint_every = Duration::ZERO;
    let journal = PgJournal::open(config).await.unwrap();
    let record = || intent(Uuid::now_v7(), "agent-1", "IdentifyPerson", &ssin(4), 80);
    journal.append(record()).await.unwrap();
    // The journal's session is the one the application role has in this database.
    let (admin, task) = db.connect_as(OWNER).await;
    let pid: i32 = admin
        .query_one(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename = $1",
            &[&pg_support::APP],
        )
        .await
        .unwrap()
        .get(0);
    let signal = |sig: &str| {
        let status = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig} {pid}");
    };
    signal("-STOP");
    let err = journal.append(record()).await.unwrap_err();
    signal("-CONT");
    assert!(matches!(err, AuditError::Database { .. }), "{err:?}");
    assert!(
        err.to_string().contains("did not answer within 1.0 s"),
        "{err}"
    );
    journal.append(record()).await.unwrap();
    journal.close().await.unwrap();
    task.abort();
    let report = pg::verify(&location, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
}

/// Opening is bounded as a batch is: a lock held on the records table (or a server that
/// stops answering) while the journal opens fails the open instead of hanging.
#[tokio::test]
async fn opening_while_the_records_table_is_locked_is_bounded() {
    let Some(cluster) = shared("records table locked") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let (holder, task) = db.connect_as(OWNER).await;
    holder
        .batch_execute("BEGIN; LOCK TABLE bcss.records IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    // Connecting may take connect_timeout (1 s here) beside lock_wait and reply_wait.
    let quick = PgLocation::parse(
        &format!("{location}&connect_timeout=1"),
        location.password_source().cloned(),
    )
    .unwrap();
    let mut config = PgJournalConfig::new(quick);
    config.lock_wait = Duration::from_millis(300);
    config.reply_wait = Duration::from_millis(700);
    let err = PgJournal::open(config.clone()).await.unwrap_err();
    assert!(matches!(err, AuditError::Database { .. }), "{err:?}");
    assert!(
        err.to_string().contains("did not answer within 2.0 s"),
        "{err}"
    );
    holder.batch_execute("ROLLBACK").await.unwrap();
    let journal = PgJournal::open(config).await.unwrap();
    journal.close().await.unwrap();
    task.abort();
}
