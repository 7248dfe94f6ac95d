//! TLS to the journal's database: a throwaway cluster that accepts only TLS on 127.0.0.1,
//! its certificate issued by a test CA (see `pg_support`; `SKIP:` without PostgreSQL). The
//! journal connects with `sslmode=require` and the CA as `sslrootcert`; without that CA, or
//! with another one, the server's certificate is refused; a plain connection is refused by
//! the server, so the accepted one was TLS.

mod audit_support;
mod pg_support;
mod pipeline_support;
mod transport_support;

use audit_support::{denial, ssin};
use bcss::audit::pg::{self, PgJournal, PgJournalConfig, PgLocation};
use bcss::audit::{Journal, VerifyOptions};
use bcss::transport::http::PasswordSource;
use pg_support::{APP, Cluster, PASSWORD, ServerTls};
use transport_support::TestCa;
use uuid::Uuid;

fn location(url: &str, password_file: &std::path::Path) -> PgLocation {
    PgLocation::parse(url, Some(PasswordSource::File(password_file.to_path_buf()))).unwrap()
}

#[tokio::test]
async fn the_journal_talks_to_its_database_over_verified_tls() {
    let ca = TestCa::new("bcss test database CA");
    let server = ca.server();
    let tls = ServerTls {
        cert_pem: server.cert_pem.clone(),
        key_pem: server.key.serialize_pem(),
    };
    let Some(cluster) = Cluster::start_tls("TLS to PostgreSQL", &tls) else {
        return;
    };
    let port = cluster.tls_port.expect("a TLS port");
    let db = cluster.database();
    db.init("bcss").await; // as the owner, on the unix socket
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.cert_pem()).unwrap();
    let trusted = format!("sslmode=require&sslrootcert={}", ca_file.display());

    // Verified TLS: append, close, verify, all over 127.0.0.1.
    let over_tls = location(&db.tcp_url(APP, "bcss", port, &trusted), db.password_file());
    let journal = PgJournal::open(PgJournalConfig::new(over_tls.clone()))
        .await
        .unwrap();
    let appended = journal
        .append(denial(
            Uuid::now_v7(),
            "agent-1",
            "IdentifyPerson",
            &ssin(7),
        ))
        .await
        .unwrap();
    journal.close().await.unwrap();
    let report = pg::verify(&over_tls, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert!(report.records >= appended.sequence, "{report:?}");

    // Over TCP, a URL that names no sslmode requires TLS too.
    let by_default = location(
        &db.tcp_url(
            APP,
            "bcss",
            port,
            &format!("sslrootcert={}", ca_file.display()),
        ),
        db.password_file(),
    );
    let report = pg::verify(&by_default, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);

    // The server takes no plain connection there: what worked above was TLS.
    let plain = location(
        &db.tcp_url(APP, "bcss", port, "sslmode=disable"),
        db.password_file(),
    );
    let err = PgJournal::open(PgJournalConfig::new(plain))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no encryption"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");

    // Without the CA (Mozilla's roots only), or with another CA: the certificate is refused.
    let other = TestCa::new("some other CA");
    let other_file = dir.path().join("other.pem");
    std::fs::write(&other_file, other.cert_pem()).unwrap();
    for params in [
        "sslmode=require".to_string(),
        format!("sslmode=require&sslrootcert={}", other_file.display()),
        // `prefer` does not fall back to plain text when the certificate is refused.
        "sslmode=prefer".to_string(),
    ] {
        let untrusted = location(&db.tcp_url(APP, "bcss", port, &params), db.password_file());
        let err = PgJournal::open(PgJournalConfig::new(untrusted))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("certificate"), "{params}: {err}");
        assert!(!err.contains(PASSWORD), "{params}: {err}");
        // In words, with what to do, not rustls's enum.
        assert!(err.contains("unknown issuer"), "{params}: {err}");
        assert!(err.contains("give sslrootcert=FILE"), "{params}: {err}");
        assert!(!err.contains("UnknownIssuer"), "{params}: {err}");
    }

    // A CA file that holds no certificate is a configuration error naming the file.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let bad = location(
        &db.tcp_url(
            APP,
            "bcss",
            port,
            &format!("sslmode=require&sslrootcert={}", empty.display()),
        ),
        db.password_file(),
    );
    let err = PgJournal::open(PgJournalConfig::new(bad))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty.pem"), "{err}");
}
