//! A journal that cannot be written makes calls fail closed: a clear audit error, and the
//! transport receives zero bytes. A file journal on a full disk; a PostgreSQL journal whose
//! database stops mid-test (a throwaway local cluster; `SKIP:` without PostgreSQL).

mod pg_support;
mod pipeline_support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bcss::Environment;
use bcss::audit::{FileJournal, FileJournalConfig};
use bcss::client::{Actor, CallContext, Client};
use bcss::clock::FixedClock;
use bcss::error::ErrorKind;
use bcss::manifest::Guard;
use bcss::transport::{BoxFuture, SendPermit, Transport, TransportError, TransportResponse};
use chrono::{TimeZone, Utc};
use pipeline_support::{MANIFEST, ok_reply, tx25};

#[derive(Debug, Default)]
struct CountingTransport {
    bytes: AtomicUsize,
}

impl Transport for CountingTransport {
    fn send<'a>(
        &'a self,
        request: &'a SendPermit<'_>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>> {
        self.bytes.fetch_add(request.body().len(), Ordering::SeqCst);
        let body = ok_reply(request.service(), request.operation());
        Box::pin(async {
            Ok(TransportResponse {
                status: 200,
                content_type: None,
                body,
            })
        })
    }
}

struct Tmpfs(std::path::PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_refuses_the_call_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=512k", "tmpfs"])
        .arg(dir.path())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !mounted {
        println!(
            "SKIP: cannot mount a small tmpfs here (needs root); the full-disk case is not exercised"
        );
        return;
    }
    let _guard = Tmpfs(dir.path().to_path_buf());
    let journal_dir = dir.path().join("journal");
    let journal = Arc::new(
        FileJournal::open(FileJournalConfig::new(&journal_dir))
            .await
            .unwrap(),
    );
    let transport = Arc::new(CountingTransport::default());
    let client = Client::builder()
        .environment(Environment::Test)
        .application("fault-test", "1.0.0")
        .contact_email("it@cpas-fictiveville.example")
        .guard(Arc::new(
            Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        ))
        .journal(journal.clone())
        .transport(transport.clone())
        .clock(Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(),
        )))
        .build()
        .unwrap();
    let ctx = CallContext::new(Actor::new("agent-042"), "PCSA:SOCIAL_INQUIRY");
    let request = tx25();
    // Works while there is room.
    client.call(&ctx, &request).await.unwrap();
    let sent_before = transport.bytes.load(Ordering::SeqCst);
    assert!(sent_before > 0);

    // Fill the disk.
    let filler = dir.path().join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 1024 * 1024]);

    // Calls may still succeed while the journal's last page has room. The first failure
    // may come at the outcome record (the request was sent, its intent durable): then the
    // reply is withheld. Either way, the journal then refuses every further call, which
    // sends nothing.
    let mut first_failure = None;
    for _ in 0..64 {
        let before = transport.bytes.load(Ordering::SeqCst);
        match client.call(&ctx, &request).await {
            Ok(_) => continue,
            Err(err) => {
                match err.kind() {
                    ErrorKind::JournalRefused(_) => assert_eq!(
                        transport.bytes.load(Ordering::SeqCst),
                        before,
                        "a refused intent must send nothing"
                    ),
                    ErrorKind::OutcomeNotRecorded { .. } => {}
                    other => panic!("expected a journal failure, got {other:?}"),
                }
                first_failure = Some(err);
                break;
            }
        }
    }
    let first = first_failure.expect("a full disk must make the journal fail");
    assert!(first.to_string().contains("journal"), "{first}");

    // Space comes back, but the journal that failed does not pretend: calls stay refused.
    let _ = std::fs::remove_file(&filler);
    for _ in 0..3 {
        let before = transport.bytes.load(Ordering::SeqCst);
        let err = client.call(&ctx, &request).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::JournalRefused(_)),
            "{err:?}"
        );
        assert!(err.to_string().contains("nothing was sent"), "{err}");
        assert_eq!(transport.bytes.load(Ordering::SeqCst), before);
    }
}

#[tokio::test]
async fn an_unwritable_journal_location_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the journal folder should be: no permission bits root could bypass.
    let blocked = dir.path().join("journal");
    std::fs::write(&blocked, b"not a folder").unwrap();
    let err = FileJournal::open(FileJournalConfig::new(blocked.join("sub")))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("journal"), "{text}");
}

#[tokio::test]
async fn a_stopped_database_refuses_the_call_and_sends_nothing_until_it_is_back() {
    // A cluster of its own: this test stops it.
    let Some(cluster) = pg_support::Cluster::start("a stopped PostgreSQL journal") else {
        return;
    };
    let db = cluster.database();
    let location = db.init("bcss").await;
    let journal = Arc::new(
        bcss::audit::pg::PgJournal::open(bcss::audit::pg::PgJournalConfig::new(location.clone()))
            .await
            .unwrap(),
    );
    let transport = Arc::new(CountingTransport::default());
    let client = Client::builder()
        .environment(Environment::Test)
        .application("fault-test", "1.0.0")
        .contact_email("it@cpas-fictiveville.example")
        .guard(Arc::new(
            Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        ))
        .journal(journal.clone())
        .transport(transport.clone())
        .clock(Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(),
        )))
        .build()
        .unwrap();
    let ctx = CallContext::new(Actor::new("agent-042"), "PCSA:SOCIAL_INQUIRY");
    let request = tx25();
    let first = client.call(&ctx, &request).await.unwrap();
    let sent = transport.bytes.load(Ordering::SeqCst);
    assert!(sent > 0);

    // As if the server crashed: what was acknowledged must survive it.
    cluster.stop();
    for _ in 0..3 {
        let err = client.call(&ctx, &request).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::JournalRefused(_)),
            "{err:?}"
        );
        assert!(err.to_string().contains("nothing was sent"), "{err}");
        assert_eq!(
            transport.bytes.load(Ordering::SeqCst),
            sent,
            "zero bytes sent"
        );
    }
    // A denial that cannot be journaled is refused too.
    let marketing = CallContext::new(Actor::new("agent-042"), "MARKETING");
    let err = client.call(&marketing, &request).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::JournalRefused(_)),
        "{err:?}"
    );

    // The database is back: the journal connects again, and the chain goes on unbroken.
    cluster.restart();
    client.call(&ctx, &request).await.unwrap();
    assert!(transport.bytes.load(Ordering::SeqCst) > sent);
    assert!(journal.stats().reconnects >= 1);
    journal.close().await.unwrap();
    let report = bcss::audit::pg::verify(&location, &bcss::audit::VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    let records = bcss::audit::pg::records(&location, 1..=u64::MAX)
        .await
        .unwrap();
    let kept: Vec<&str> = records
        .iter()
        .filter(|(_, r)| r.ticket() == Some(first.ticket))
        .map(|(_, r)| r.kind())
        .collect();
    assert_eq!(
        kept,
        ["intent", "outcome"],
        "the acknowledged call survived the crash"
    );
}
