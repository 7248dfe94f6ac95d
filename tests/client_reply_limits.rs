//! Every reply the transport accepts can be journaled: replies just under the reply cap,
//! in Latin-1 and in UTF-8 full of quotes and newlines, are kept byte for byte and the
//! journal verifies; a reply limit the journal cannot hold is refused when the client is
//! built, naming both limits.

mod pipeline_support;

use std::sync::Arc;

use bcss::audit::{self, FileJournal, FileJournalConfig, Journal, VerifyOptions};
use bcss::client::{Actor, CallContext, Client};
use bcss::clock::FixedClock;
use bcss::error::ErrorKind;
use bcss::manifest::Guard;
use bcss::soap::Limits;
use bcss::transport::{BoxFuture, SendPermit, Transport, TransportError, TransportResponse};
use bcss::{Environment, Error};
use chrono::{TimeZone, Utc};
use pipeline_support::{MANIFEST, tx25};

/// Replies with the given bytes, after checking they are within the request's limit (as
/// the HTTP transport does while streaming).
#[derive(Debug)]
struct BigReply(Vec<u8>);

impl Transport for BigReply {
    fn send<'a>(
        &'a self,
        request: &'a SendPermit<'_>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>> {
        assert!(
            self.0.len() <= request.max_reply_bytes(),
            "over the reply cap"
        );
        Box::pin(async move {
            Ok(TransportResponse {
                status: 200,
                content_type: Some("text/html; charset=ISO-8859-1".to_string()),
                body: self.0.clone(),
            })
        })
    }
}

fn client(journal: Arc<dyn Journal>, reply: Vec<u8>, limits: Limits) -> Result<Client, Box<Error>> {
    Client::builder()
        .environment(Environment::Test)
        .application("reply-limits-test", "1.0.0")
        .contact_email("it@cpas-fictiveville.example")
        .guard(Arc::new(
            Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        ))
        .journal(journal)
        .transport(Arc::new(BigReply(reply)))
        .clock(Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap(),
        )))
        .limits(limits)
        .build()
        .map_err(Box::new)
}

/// A reply of exactly `len` bytes made of `unit` repeated.
fn reply_of(unit: &[u8], len: usize) -> Vec<u8> {
    unit.iter().copied().cycle().take(len).collect()
}

#[tokio::test]
async fn replies_just_under_the_reply_cap_are_journaled_and_verify() {
    let cap = Limits::default().max_bytes;
    let latin1 = reply_of(b"<p>caf\xe9 \xab na\xefve \xbb</p>\n", cap - 1);
    let quoted = reply_of("\"\u{e9}\"\n\\\"<x a=\"1\"/>\n".as_bytes(), cap - 1);
    assert!(std::str::from_utf8(&latin1).is_err());
    assert!(std::str::from_utf8(&quoted).is_ok());
    for reply in [latin1, quoted] {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(
            FileJournal::open(FileJournalConfig::new(dir.path()))
                .await
                .unwrap(),
        );
        assert!(journal.max_payload_bytes() >= cap);
        let c = client(journal.clone(), reply.clone(), Limits::default()).unwrap();
        let ctx = CallContext::new(Actor::new("agent-1"), "PCSA:SOCIAL_INQUIRY");
        // The reply is no SOAP envelope: the call fails, and its reply is kept anyway.
        let failed = c.call(&ctx, &tx25()).await.unwrap_err();
        assert!(failed.to_string().contains("not"), "{failed}");
        journal.close().await.unwrap();
        let report = audit::verify(dir.path(), &VerifyOptions::default()).unwrap();
        assert!(report.is_ok(), "{:?}", report.problem);
        let calls = audit::query(dir.path(), &audit::QueryFilter::default()).unwrap();
        let ticket = calls.tickets().next().expect("the call is journaled");
        let shown = audit::show(dir.path(), ticket).unwrap().unwrap();
        let outcome = shown.outcome.unwrap();
        assert_eq!(
            outcome.reply.unwrap().as_bytes(),
            &reply[..],
            "kept byte for byte"
        );
        assert_eq!(
            outcome.content_type.as_deref(),
            Some("text/html; charset=ISO-8859-1")
        );
    }
}

#[tokio::test]
async fn a_reply_limit_the_journal_cannot_hold_is_refused_at_build() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(
        FileJournal::open(FileJournalConfig::new(dir.path()))
            .await
            .unwrap(),
    );
    let room = journal.max_payload_bytes();
    let limits = Limits {
        max_bytes: room + 1,
        ..Limits::default()
    };
    let err = client(journal.clone(), Vec::new(), limits).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.kind(), ErrorKind::Config(_)), "{text}");
    assert!(
        text.contains(&format!("max_reply_bytes = {} bytes", room + 1)),
        "{text}"
    );
    assert!(
        text.contains(&format!("max_payload_bytes = {room} bytes")),
        "{text}"
    );
    let limits = Limits {
        max_bytes: room,
        ..Limits::default()
    };
    assert!(client(journal.clone(), Vec::new(), limits).is_ok());
    journal.close().await.unwrap();
}

#[tokio::test]
async fn an_oversized_record_is_a_size_error_not_a_disk_error() {
    // A journal whose records are smaller than the transport's replies can be (a
    // misconfiguration the builder refuses): the journal's own refusal names the size.
    let dir = tempfile::tempdir().unwrap();
    let mut config = FileJournalConfig::new(dir.path());
    config.max_record_bytes = 2 * 1024 * 1024;
    let journal = FileJournal::open(config).await.unwrap();
    let big = bcss::audit::CallRecord::Outcome(bcss::audit::OutcomeRecord {
        ticket: uuid::Uuid::now_v7(),
        replied_at: Utc::now(),
        duration_ms: 1,
        outcome: "received".into(),
        code: None,
        http_status: Some(200),
        content_type: None,
        bcss: Default::default(),
        reply: Some(bcss::audit::Payload::from(vec![b'x'; 3 * 1024 * 1024])),
        error: None,
    });
    let err = journal.append(big).await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            audit::AuditError::TooLarge {
                kind: "outcome",
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("not a disk problem"), "{text}");
    journal.close().await.unwrap();
}
