//! Fault injection (issue 11, item 5): a loopback server that refuses the connection,
//! closes mid-body, dribbles its reply (past the call timeout, and slowly but within it),
//! fails the TLS handshake, answers 5xx with an HTML page, compresses unasked (or names a
//! bogus coding) and sends more than the reply cap (announced or not). Each call goes
//! through a client with a file journal: the error's kind and predicates (`was_sent`,
//! `is_retryable`, `status`, `ticket`) are checked, the call ends within its configured
//! time, the outcome is read back through the audit API, and the retry policy resends
//! only what is safe. What the transport alone does with these replies (messages, the
//! up-front and streamed caps, decompression) is in transport_http.rs,
//! transport_https.rs and transport_unusual.rs.

mod pipeline_support;
mod transport_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bcss::audit::{self, Exchange, FileJournal, FileJournalConfig, QueryFilter};
use bcss::client::{Actor, CallContext, Client, RetryPolicy};
use bcss::error::ErrorKind;
use bcss::services::manage_access;
use bcss::services::{ServiceRequest, test_connection};
use bcss::transport::TransportError;
use bcss::transport::http::HttpTransport;
use pipeline_support::{ok_reply, register};
use transport_support::{
    PURPOSE, Reply, Server, TestCa, echo_request, rig_for, start, tls_acceptor,
};

/// The call timeout of these tests' transports, unless a test says otherwise.
const TIMEOUT: Duration = Duration::from_millis(600);

/// How long past its configured time a call may end: a generous bound (the machine is
/// shared), there to catch a hang, not to measure.
const SLACK: Duration = Duration::from_secs(5);

/// Retries that wait 1 ms, so that a retried call shows quickly.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::new(3)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(2))
        .jitter(0.0)
}

/// A client with a file journal in a temporary directory, its calls timed.
struct Faulty {
    dir: tempfile::TempDir,
    journal: Arc<FileJournal>,
    client: Client,
}

impl Faulty {
    /// A client sending `service` to `endpoint` through `transport` (replies capped at
    /// `cap` bytes), retrying under `quick_retries`.
    async fn new(
        transport: HttpTransport,
        service: &bcss::services::Service,
        endpoint: &str,
        cap: usize,
    ) -> Faulty {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(
            FileJournal::open(FileJournalConfig::new(dir.path()))
                .await
                .unwrap(),
        );
        let rig = rig_for(&Arc::new(transport), service, PURPOSE, endpoint, cap).unwrap();
        let client = rig
            .builder
            .journal(journal.clone())
            .retry(quick_retries())
            .build()
            .unwrap();
        Faulty {
            dir,
            journal,
            client,
        }
    }

    /// A TestConnection client for `endpoint`, replies capped at 16 MiB.
    async fn echo(transport: HttpTransport, endpoint: &str) -> Faulty {
        Faulty::new(transport, test_connection::service(), endpoint, 16 << 20).await
    }

    /// Makes `request`, checking it ends within `allowed` (plus [`SLACK`]).
    async fn call<R: ServiceRequest>(
        &self,
        request: &R,
        allowed: Duration,
    ) -> Result<bcss::client::Reply<R::Response>, bcss::Error> {
        let ctx = CallContext::new(Actor::new("agent-042"), PURPOSE);
        let started = Instant::now();
        let result = self.client.call(&ctx, request).await;
        let took = started.elapsed();
        assert!(took < allowed + SLACK, "the call took {took:?}");
        result
    }

    /// Closes the journal and reads every exchange back through the audit API, in order.
    async fn journaled(self) -> Vec<Exchange> {
        drop(self.client);
        self.journal.close().await.unwrap();
        let report = audit::verify(self.dir.path(), &audit::VerifyOptions::default()).unwrap();
        assert!(report.is_ok(), "{:?}", report.problem);
        let found = audit::query(self.dir.path(), &QueryFilter::default()).unwrap();
        found.exchanges().map(Result::unwrap).collect()
    }
}

/// A transport with the given call timeout.
fn transport(call_timeout: Duration) -> HttpTransport {
    HttpTransport::builder()
        .call_timeout(call_timeout)
        .build()
        .unwrap()
}

/// The one exchange of a call that failed with `error` in the transport: journaled as
/// `transport_error` with no reply, its error text containing `says`.
fn one_transport_error(exchanges: &[Exchange], error: &bcss::Error, says: &str) {
    let [exchange] = exchanges else {
        panic!("one attempt, not {}", exchanges.len())
    };
    assert_transport_error(exchange, error, says);
}

fn assert_transport_error(exchange: &Exchange, error: &bcss::Error, says: &str) {
    assert_eq!(exchange.status(), "transport_error");
    let outcome = exchange.outcome.as_ref().expect("an outcome record");
    assert_eq!(outcome.outcome, "transport_error");
    // The status is journaled when the reply's status line had arrived, as the caller
    // is told it; the reply itself is not kept (it never completed).
    assert_eq!(
        (outcome.http_status, &outcome.reply),
        (error.status(), &None)
    );
    let text = outcome.error.as_deref().unwrap_or_default();
    assert!(text.contains(says), "journaled {text:?}, expected {says:?}");
    assert_eq!(
        text,
        error.to_string(),
        "the journal says what the caller was told"
    );
    assert!(exchange.intent.is_some() && exchange.classification.is_none());
}

fn transport_error(error: &bcss::Error) -> &TransportError {
    match error.kind() {
        ErrorKind::Transport(t) => t,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// A TestConnection call to a plain-HTTP server answering with `reply`, which must fail
/// within [`TIMEOUT`]: its error, and what the journal holds.
async fn failing(reply: Reply) -> (bcss::Error, Vec<Exchange>) {
    let server = start(None, reply).await;
    let f = Faulty::echo(transport(TIMEOUT), &server.url("http", "127.0.0.1")).await;
    let e = f.call(&echo_request(), TIMEOUT).await.unwrap_err();
    (e, f.journaled().await)
}

/// A port on 127.0.0.1 nobody listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_refused_connection_is_retried_for_a_read_and_never_for_a_write() {
    let endpoint = format!("http://127.0.0.1:{}/x", closed_port());
    let read = Faulty::echo(transport(TIMEOUT), &endpoint).await;
    let e = read.call(&echo_request(), TIMEOUT * 3).await.unwrap_err();
    assert!(
        matches!(transport_error(&e), TransportError::Connect { .. }),
        "{e:?}"
    );
    assert!(e.is_retryable() && !e.was_sent(), "{e:?}");
    assert_eq!(e.status(), None);
    let attempts = read.journaled().await;
    assert_eq!(attempts.len(), 3, "a read is retried");
    for attempt in &attempts {
        assert_transport_error(attempt, &e, "could not connect");
    }
    assert_eq!(
        e.ticket(),
        Some(attempts[2].ticket),
        "the last attempt's ticket"
    );
    let first = attempts[0].ticket;
    assert_eq!(
        attempts[2]
            .intent
            .as_ref()
            .unwrap()
            .attempt
            .unwrap()
            .first_ticket,
        first
    );

    // ManageAccess register, a write: retryable as an error, yet sent once.
    let write = Faulty::new(
        transport(TIMEOUT),
        manage_access::service(),
        &endpoint,
        16 << 20,
    )
    .await;
    let e = write.call(&register(), TIMEOUT).await.unwrap_err();
    assert!(e.is_retryable() && !e.was_sent(), "{e:?}");
    let attempts = write.journaled().await;
    one_transport_error(&attempts, &e, "could not connect");
    assert!(attempts[0].intent.as_ref().unwrap().write);
    assert_eq!(e.ticket(), Some(attempts[0].ticket));
}

#[tokio::test]
async fn a_reply_cut_off_mid_body_was_sent_and_is_not_retried() {
    let (e, attempts) = failing(Reply::Cut {
        declared: 1000,
        body: b"<soapenv:Envelope xmlns:soapenv=".to_vec(),
    })
    .await;
    assert!(
        matches!(transport_error(&e), TransportError::Http { .. }),
        "{e:?}"
    );
    assert!(e.was_sent() && !e.is_retryable(), "{e:?}");
    assert_eq!(e.status(), Some(200), "the status line had arrived");
    assert!(e.to_string().contains("body"), "{e}");
    one_transport_error(&attempts, &e, "body");
    assert_eq!(e.ticket(), Some(attempts[0].ticket));
}

#[tokio::test]
async fn a_connection_closed_before_any_reply_is_retried_for_a_read_and_never_for_a_write() {
    // Every connection: the request is read, then the server hangs up without a byte.
    let server = start(None, Reply::Hangup).await;
    let endpoint = server.url("http", "127.0.0.1");
    let read = Faulty::echo(transport(TIMEOUT), &endpoint).await;
    let e = read.call(&echo_request(), TIMEOUT * 3).await.unwrap_err();
    assert!(
        matches!(transport_error(&e), TransportError::Closed { .. }),
        "{e:?}"
    );
    // The request may have been delivered; no answer began.
    assert!(e.was_sent() && e.is_retryable(), "{e:?}");
    assert_eq!(e.status(), None);
    let attempts = read.journaled().await;
    assert_eq!(attempts.len(), 3, "a read is retried");
    for attempt in &attempts {
        assert_transport_error(attempt, &e, "closed the connection before any reply");
    }

    let write = Faulty::new(
        transport(TIMEOUT),
        manage_access::service(),
        &endpoint,
        16 << 20,
    )
    .await;
    let e = write.call(&register(), TIMEOUT).await.unwrap_err();
    assert!(e.was_sent() && e.is_retryable(), "{e:?}");
    let attempts = write.journaled().await;
    one_transport_error(&attempts, &e, "may have reached it");
    assert!(attempts[0].intent.as_ref().unwrap().write);
}

/// A server sending a successful TestConnection reply in `pieces` pieces, `every` apart,
/// and that reply.
fn dribbling(pieces: usize, every: Duration) -> (Reply, Vec<u8>) {
    let body = ok_reply(test_connection::service(), "sendTestMessage");
    let reply = Reply::Dribble {
        body: body.clone(),
        piece: body.len().div_ceil(pieces),
        every,
    };
    (reply, body)
}

#[tokio::test]
async fn a_reply_dribbled_past_the_call_timeout_times_out_after_its_headers() {
    // 20 pieces, 100 ms apart: 2 s in all, against a 600 ms call timeout.
    let (e, attempts) = failing(dribbling(20, Duration::from_millis(100)).0).await;
    assert!(
        matches!(
            transport_error(&e),
            TransportError::Timeout { phase: "reply", .. }
        ),
        "{e:?}"
    );
    assert!(e.was_sent() && !e.is_retryable(), "{e:?}");
    one_transport_error(&attempts, &e, "headers arrived");
    assert!(!e.to_string().contains("unregistered"), "{e}");
}

#[tokio::test]
async fn a_slow_reply_within_the_call_timeout_is_received() {
    // 5 pieces, 60 ms apart: about 300 ms, against a 3 s call timeout.
    let (reply, body) = dribbling(5, Duration::from_millis(60));
    let server = start(None, reply).await;
    let timeout = Duration::from_secs(3);
    let f = Faulty::echo(transport(timeout), &server.url("http", "127.0.0.1")).await;
    let reply = f.call(&echo_request(), timeout).await.unwrap();
    let [exchange] = &f.journaled().await[..] else {
        panic!("one attempt")
    };
    assert_eq!(exchange.ticket, reply.ticket);
    assert_eq!(exchange.status(), "ok");
    let outcome = exchange.outcome.as_ref().unwrap();
    assert_eq!(outcome.outcome, "received");
    assert_eq!(outcome.http_status, Some(200));
    assert_eq!(outcome.reply.as_ref().unwrap().as_bytes(), &body[..]);
}

#[tokio::test]
async fn a_failed_tls_handshake_sends_nothing() {
    // A certificate from a CA the client does not trust.
    let stranger = TestCa::new("bcss test CA nobody trusts");
    let untrusted = start(
        Some(tls_acceptor(&stranger.server(), vec![], None)),
        Reply::ok(transport_support::REPLY),
    )
    .await;
    // A plain-HTTP server on the port: it answers the ClientHello with an HTTP error.
    let plain = start(
        None,
        Reply::Garbage(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec()),
    )
    .await;
    for (server, says) in [(untrusted, "unknown issuer"), (plain, "not TLS")] {
        let f = Faulty::echo(transport(TIMEOUT), &server.url("https", "127.0.0.1")).await;
        let e = f.call(&echo_request(), TIMEOUT).await.unwrap_err();
        assert!(
            matches!(transport_error(&e), TransportError::Tls { .. }),
            "{e:?}"
        );
        assert!(!e.was_sent() && !e.is_retryable(), "{e:?}");
        assert_eq!(e.status(), None);
        let attempts = f.journaled().await;
        one_transport_error(&attempts, &e, says);
        assert_eq!(e.ticket(), Some(attempts[0].ticket));
    }
}

#[tokio::test]
async fn a_5xx_html_page_is_an_http_error_with_its_status_and_kept() {
    let page = "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body>Try later</body></html>";
    let (e, attempts) = failing(Reply::Fixed {
        status: 503,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: page.as_bytes().to_vec(),
    })
    .await;
    assert!(
        matches!(e.kind(), ErrorKind::HttpStatus { status: 503, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("HTML page titled \"503 Service Unavailable\""),
        "{e}"
    );
    assert!(e.was_sent() && !e.is_retryable(), "{e:?}");
    assert_eq!(e.status(), Some(503));
    let [exchange] = &attempts[..] else {
        panic!("one attempt: a 5xx is not retried")
    };
    assert_eq!(e.ticket(), Some(exchange.ticket));
    assert_eq!(exchange.status(), "http_error");
    let outcome = exchange.outcome.as_ref().unwrap();
    assert_eq!(outcome.outcome, "received");
    assert_eq!(outcome.http_status, Some(503));
    assert_eq!(outcome.content_type.as_deref(), Some("text/html"));
    assert_eq!(outcome.reply.as_ref().unwrap().as_bytes(), page.as_bytes());
    let classification = exchange.classification.as_ref().unwrap();
    assert_eq!(
        classification.error.as_deref(),
        Some(e.to_string().as_str())
    );
}

#[tokio::test]
async fn gzip_unasked_is_undone_and_a_bogus_coding_is_a_transport_error() {
    use std::io::Write;
    let body = ok_reply(test_connection::service(), "sendTestMessage");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body).unwrap();
    let coded = |coding: &str, bytes: Vec<u8>| Reply::Fixed {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "text/xml; charset=utf-8".into()),
            ("Content-Encoding".into(), coding.into()),
        ],
        body: bytes,
    };
    let server = start(None, coded("gzip", gz.finish().unwrap())).await;
    let f = Faulty::echo(transport(TIMEOUT), &server.url("http", "127.0.0.1")).await;
    let reply = f.call(&echo_request(), TIMEOUT).await.unwrap();
    let [exchange] = &f.journaled().await[..] else {
        panic!("one attempt")
    };
    assert_eq!((exchange.ticket, exchange.status()), (reply.ticket, "ok"));
    let kept = exchange.outcome.as_ref().unwrap().reply.as_ref().unwrap();
    assert_eq!(
        kept.as_bytes(),
        &body[..],
        "the journal keeps the decoded reply"
    );

    for (coding, bytes, says) in [
        (
            "x-bogus",
            body.clone(),
            "Content-Encoding \"x-bogus\": not supported",
        ),
        ("gzip", body.clone(), "not valid in this coding"),
    ] {
        let (e, attempts) = failing(coded(coding, bytes)).await;
        assert!(
            matches!(transport_error(&e), TransportError::ContentEncoding { .. }),
            "{e:?}"
        );
        assert!(e.was_sent() && !e.is_retryable(), "{e:?}");
        one_transport_error(&attempts, &e, says);
    }
}

#[tokio::test]
async fn a_reply_over_the_cap_is_refused_with_or_without_its_length() {
    let cap = 64 * 1024;
    let announced = Reply::Fixed {
        status: 200,
        headers: vec![],
        body: vec![b'x'; cap + 1],
    };
    let streamed = Reply::Stream {
        total: 4 * cap,
        sent: Arc::default(),
    };
    for reply in [announced, streamed] {
        let server: Server = start(None, reply).await;
        let f = Faulty::new(
            transport(TIMEOUT),
            test_connection::service(),
            &server.url("http", "127.0.0.1"),
            cap,
        )
        .await;
        let e = f.call(&echo_request(), TIMEOUT).await.unwrap_err();
        assert!(
            matches!(transport_error(&e), TransportError::ReplyTooLarge { limit, .. } if *limit == cap),
            "{e:?}"
        );
        assert!(e.was_sent() && !e.is_retryable(), "{e:?}");
        one_transport_error(&f.journaled().await, &e, "65536-byte cap");
    }
}
