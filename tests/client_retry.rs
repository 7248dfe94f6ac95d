//! Safe retries (issue 11, item 7): a read is retried on MSG00001, MSG00002, MSG00020
//! and connection failures, each attempt through the whole call path with its own ticket
//! and journaled as linked to the first; a write is never retried; a non-retryable error
//! is not; the budget stops retrying; `bcss audit query` shows the chain.

mod pipeline_support;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bcss::Environment;
use bcss::audit::{FileJournal, FileJournalConfig, IntentRecord, Journal, Record};
use bcss::client::{Actor, CallContext, Client, RetryPolicy};
use bcss::endpoints::Endpoints;
use bcss::manifest::Guard;
use bcss::services::generic::GenericRequest;
use bcss::services::{Catalogue, Service, retrieve_ti_groups, test_connection};
use bcss::transport::http::HttpTransport;
use bcss::transport::{BoxFuture, SendPermit, Transport, TransportError, TransportResponse};
use pipeline_support::{MemoryJournal, envelope, permissive_manifest, register, tx25};

/// Answers with each reply in turn, then repeats the last.
#[derive(Debug)]
struct Sequence {
    replies: Mutex<VecDeque<(u16, String)>>,
    calls: AtomicUsize,
}

impl Sequence {
    fn new(replies: &[(u16, String)]) -> Arc<Sequence> {
        Arc::new(Sequence {
            replies: Mutex::new(replies.iter().cloned().collect()),
            calls: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Transport for Sequence {
    fn send<'a>(
        &'a self,
        _permit: &'a SendPermit<'_>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut replies = self.replies.lock().unwrap();
        let (status, body) = if replies.len() > 1 {
            replies.pop_front().unwrap()
        } else {
            replies.front().cloned().unwrap()
        };
        Box::pin(async move {
            Ok(TransportResponse {
                status,
                content_type: Some("text/xml; charset=utf-8".into()),
                body: body.into_bytes(),
            })
        })
    }
}

const TI_NS: &str = "http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2";

fn ti_fault(code: &str) -> (u16, String) {
    (
        500,
        envelope(&format!(
            "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>x</faultstring><detail><ns:retrieveTIGroupsFault xmlns:ns=\"{TI_NS}\"><detail><severity>FATAL</severity><reasonCode>{code}</reasonCode><diagnostic>d</diagnostic><authorCode>CBSS</authorCode></detail></ns:retrieveTIGroupsFault></detail></soapenv:Fault>"
        )),
    )
}

fn ti_status(value: &str, code: &str) -> (u16, String) {
    (
        200,
        envelope(&format!(
            "<ns:retrieveTIGroupsResponse xmlns:ns=\"{TI_NS}\"><informationCBSS><ticketCBSS>t</ticketCBSS></informationCBSS><status><value>{value}</value><code>{code}</code></status></ns:retrieveTIGroupsResponse>"
        )),
    )
}

/// Fast, deterministic waits: 1 ms, no jitter, a budget that does not stop anything.
fn quick(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::new(max_attempts)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(2))
        .total_budget(Duration::from_secs(3600))
        .jitter(0.0)
}

fn ctx(purpose: &str) -> CallContext {
    CallContext::new(Actor::new("agent-042"), purpose)
}

/// A test-environment client granted `services` (each with its purpose), over `transport`,
/// journaling into `journal`, retrying under `policy`.
fn client(
    transport: Arc<dyn Transport>,
    journal: Arc<dyn Journal>,
    grants: &[(&Service, &str)],
    catalogue: Catalogue,
    policy: RetryPolicy,
) -> Client {
    Client::builder()
        .environment(Environment::Test)
        .application("retry-test", "1.0.0")
        .contact_email("it@cpas-fictiveville.example")
        .guard(Arc::new(
            Guard::from_str_with(
                &permissive_manifest(Environment::Test, grants),
                "authorizations.toml",
                catalogue,
            )
            .unwrap(),
        ))
        .journal(journal)
        .transport(transport)
        .retry(policy)
        .build()
        .unwrap()
}

fn ti_client(transport: Arc<dyn Transport>, policy: RetryPolicy) -> (Client, Arc<MemoryJournal>) {
    let journal = Arc::new(MemoryJournal::default());
    let c = client(
        transport,
        journal.clone(),
        &[(retrieve_ti_groups::service(), "PCSA:SOCIAL_INQUIRY")],
        Catalogue::builtin().clone(),
        policy,
    );
    (c, journal)
}

fn intents(journal: &MemoryJournal) -> Vec<IntentRecord> {
    journal
        .records()
        .into_iter()
        .filter_map(|r| match r {
            Record::Intent(i) => Some(i),
            _ => None,
        })
        .collect()
}

/// Each intent after the first names the first's ticket and its own number.
fn assert_chained(intents: &[IntentRecord]) {
    let first = intents[0].ticket;
    assert_eq!(intents[0].attempt, None);
    for (i, intent) in intents.iter().enumerate().skip(1) {
        let attempt = intent.attempt.expect("a retry says which attempt it is");
        assert_eq!(attempt.first_ticket, first);
        assert_eq!(attempt.number as usize, i + 1);
        assert_ne!(intent.ticket, first, "each attempt has its own ticket");
    }
}

#[tokio::test]
async fn a_read_is_retried_on_a_temporary_refusal_each_attempt_journaled() {
    let transport = Sequence::new(&[
        ti_fault("MSG00001"),
        ti_fault("MSG00002"),
        ti_status("DATA_FOUND", "MSG00000"),
    ]);
    let (c, journal) = ti_client(transport.clone(), quick(5));
    let reply = c.call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25()).await.unwrap();
    assert_eq!(transport.calls(), 3);
    let first_call = intents(&journal);
    assert_eq!(first_call.len(), 3);
    assert_chained(&first_call);
    assert_eq!(
        reply.ticket, first_call[2].ticket,
        "the last attempt's reply"
    );
    let classes: Vec<String> = journal
        .records()
        .into_iter()
        .filter_map(|r| match r {
            Record::Classification(c) => Some(c.outcome),
            _ => None,
        })
        .collect();
    assert_eq!(classes, ["business_error", "business_error", "ok"]);

    // Out of attempts: the last attempt's error, with its ticket.
    let transport = Sequence::new(&[ti_fault("MSG00020")]);
    let (c, journal) = ti_client(transport.clone(), quick(4));
    let e = c
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap_err();
    assert_eq!(transport.calls(), 4);
    let attempts = intents(&journal);
    assert_chained(&attempts);
    assert_eq!(e.ticket(), Some(attempts[3].ticket));
    assert!(e.is_retryable() && e.code() == Some("MSG00020"));
    // The error says how many attempts it ends, and where the call began.
    assert_eq!(e.attempts(), 4);
    assert_eq!(e.first_ticket(), Some(attempts[0].ticket));
    // Display is the last attempt's cause, as its outcome record words it.
    assert!(!e.to_string().contains("attempts"), "{e}");
}

#[tokio::test]
async fn a_write_is_never_retried_even_on_msg00001() {
    // ManageAccess register (typed, SSDN): BCSS temporarily unavailable.
    let unavailable = (
        500,
        envelope(
            "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>MSG00001: BCSS temporarily unavailable</faultstring></soapenv:Fault>",
        ),
    );
    let transport = Sequence::new(&[unavailable]);
    let journal = Arc::new(MemoryJournal::default());
    let manage = bcss::services::manage_access::service();
    let c = client(
        transport.clone(),
        journal.clone(),
        &[(manage, "PCSA:SOCIAL_INQUIRY")],
        Catalogue::builtin().clone(),
        quick(5),
    );
    let register = register();
    let e = c
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &register)
        .await
        .unwrap_err();
    assert!(e.is_retryable() && e.was_sent(), "{e:?}");
    assert_eq!(transport.calls(), 1, "a write is sent once");
    let [intent] = &intents(&journal)[..] else {
        panic!("one intent")
    };
    assert!(intent.write && intent.attempt.is_none());

    // A catalogued write operation called generically.
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contracts/services.toml");
    let services =
        bcss::services::parse_services(&std::fs::read_to_string(file).unwrap(), file).unwrap();
    let catalogue = Catalogue::with_configured(services).unwrap();
    let allowances = catalogue.get("FictitiousAllowances").unwrap().clone();
    let fault = (
        500,
        envelope(
            "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>x</faultstring><detail><ns:declareAllowanceFault xmlns:ns=\"http://kszbcss.fgov.be/intf/FictitiousAllowancesService/v1\"><detail><severity>FATAL</severity><reasonCode>MSG00001</reasonCode><diagnostic>d</diagnostic><authorCode>CBSS</authorCode></detail></ns:declareAllowanceFault></detail></soapenv:Fault>",
        ),
    );
    let transport = Sequence::new(&[fault]);
    let journal = Arc::new(MemoryJournal::default());
    let c = client(
        transport.clone(),
        journal.clone(),
        &[(&allowances, "allowance management")],
        catalogue,
        quick(5),
    );
    let declare = GenericRequest::new(
        &allowances,
        "declareAllowance",
        "<declaration><beneficiary>85031204246</beneficiary><allowance><kind>RENT</kind><monthlyAmount>10</monthlyAmount><period><beginDate>2026-01-01</beginDate></period></allowance></declaration>",
    )
    .unwrap();
    let e = c
        .call(&ctx("allowance management"), &declare)
        .await
        .unwrap_err();
    assert!(e.is_retryable() && e.code() == Some("MSG00001"), "{e:?}");
    assert_eq!(transport.calls(), 1, "a write is sent once");
    assert!(intents(&journal)[0].write);
}

#[tokio::test]
async fn an_error_that_is_not_retryable_is_not_retried() {
    for reply in [
        ti_status("NO_RESULT", "MSG00005"),
        ti_status("NO_DATA_FOUND", "MSG00100"),
        ti_fault("MSG00003"),
        (200, "<html>not SOAP</html>".to_string()),
        (503, envelope("<x/>")),
    ] {
        let transport = Sequence::new(std::slice::from_ref(&reply));
        let (c, journal) = ti_client(transport.clone(), quick(5));
        let e = c
            .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
            .await
            .unwrap_err();
        assert!(!e.is_retryable(), "{reply:?}: {e:?}");
        assert_eq!(transport.calls(), 1, "{reply:?}");
        assert_eq!(intents(&journal).len(), 1);
    }
    // A denial reaches no transport, retries or not.
    let transport = Sequence::new(&[ti_fault("MSG00001")]);
    let (c, _) = ti_client(transport.clone(), quick(5));
    let e = c.call(&ctx("MARKETING"), &tx25()).await.unwrap_err();
    assert!(e.is_denied());
    assert_eq!(transport.calls(), 0);
}

#[tokio::test]
async fn the_budget_stops_retrying() {
    // The first wait (50 ms) would end past the budget (10 ms): no second attempt.
    let policy = RetryPolicy::new(5)
        .base_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(50))
        .total_budget(Duration::from_millis(10))
        .jitter(0.0);
    let transport = Sequence::new(&[ti_fault("MSG00001")]);
    let (c, journal) = ti_client(transport.clone(), policy);
    let e = c
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(transport.calls(), 1);
    assert_eq!(intents(&journal).len(), 1);
    // One attempt: nothing about retries is said.
    assert_eq!(e.attempts(), 1);
    assert_eq!(e.first_ticket(), e.ticket());
    assert!(!e.to_string().contains("attempts"), "{e}");
}

#[tokio::test]
async fn a_connection_that_fails_before_sending_is_retried() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let http: Arc<dyn Transport> = Arc::new(HttpTransport::builder().build().unwrap());
    let journal = Arc::new(MemoryJournal::default());
    let service = test_connection::service();
    let c = Client::builder()
        .environment(Environment::Test)
        .application("retry-test", "1.0.0")
        .guard(Arc::new(
            Guard::from_str(
                &permissive_manifest(Environment::Test, &[(service, "connectivity check")]),
                "authorizations.toml",
            )
            .unwrap(),
        ))
        .journal(journal.clone())
        .transport(http)
        .endpoints(
            Endpoints::defaults()
                .with_service_url(
                    Environment::Test,
                    service,
                    &format!("http://127.0.0.1:{port}/x"),
                )
                .unwrap(),
        )
        .retry(quick(3))
        .build()
        .unwrap();
    let echo = test_connection::TestConnection::new("ping").unwrap();
    let e = c.call(&ctx("connectivity check"), &echo).await.unwrap_err();
    assert!(e.is_retryable() && !e.was_sent(), "{e:?}");
    let attempts = intents(&journal);
    assert_eq!(attempts.len(), 3);
    assert_chained(&attempts);
    let failures = journal
        .records()
        .into_iter()
        .filter(|r| matches!(r, Record::Outcome(o) if o.outcome == "transport_error"))
        .count();
    assert_eq!(failures, 3, "each attempt's failure is journaled");
}

#[tokio::test]
async fn audit_query_shows_the_chain_of_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(
        FileJournal::open(FileJournalConfig::new(dir.path()))
            .await
            .unwrap(),
    );
    let transport = Sequence::new(&[ti_fault("MSG00001"), ti_status("DATA_FOUND", "MSG00000")]);
    let c = client(
        transport,
        journal.clone(),
        &[(retrieve_ti_groups::service(), "PCSA:SOCIAL_INQUIRY")],
        Catalogue::builtin().clone(),
        quick(3),
    );
    let reply = c.call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25()).await.unwrap();
    drop(c);
    journal.close().await.unwrap();

    let bcss = env!("CARGO_BIN_EXE_bcss");
    let out = std::process::Command::new(bcss)
        .args(["audit", "query"])
        .arg(dir.path())
        .args(["--reader", "advisor-1", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let first = lines[0]["ticket"].as_str().unwrap().to_string();
    assert!(lines[0]["attempt"].is_null());
    assert_eq!(lines[0]["status"], "business_error");
    assert_eq!(lines[1]["ticket"], reply.ticket.to_string());
    assert_eq!(lines[1]["attempt"]["first_ticket"], first);
    assert_eq!(lines[1]["attempt"]["number"], 2);
    assert_eq!(lines[1]["status"], "ok");

    let out = std::process::Command::new(bcss)
        .args(["audit", "query"])
        .arg(dir.path())
        .args(["--reader", "advisor-1", "--format", "csv"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut rows = text.lines();
    assert!(
        rows.next()
            .unwrap()
            .ends_with(",attempt,first_ticket,manifest_sha256,manifest_signer,write")
    );
    // attempt and first_ticket, before the two manifest columns and write.
    let retry = |row: &str| -> Vec<String> {
        let fields: Vec<&str> = row.rsplitn(6, ',').collect();
        vec![
            fields[4].to_string(),
            fields[3].to_string(),
            fields[0].to_string(),
        ]
    };
    assert_eq!(retry(rows.next().unwrap()), ["", "", "false"]);
    assert_eq!(
        retry(rows.next().unwrap()),
        ["2".to_string(), first, "false".to_string()]
    );
}

#[test]
fn retry_is_configured_in_bcss_toml() {
    let base = "environment = \"test\"\nmanifest = \"a.toml\"\n[journal]\ndir = \"j\"\n[application]\nname = \"x\"\nversion = \"1\"\n[organization]\ncbe = \"0212344876\"\ncontact_email = \"it@x.example\"\n";
    let config = bcss::config::Config::parse(
        &format!("{base}[retry]\nmax_attempts = 4\nbase_delay_ms = 100\njitter = 0.25\n"),
        "bcss.toml",
    )
    .unwrap();
    let policy = config.retry.unwrap().policy();
    assert_eq!(
        policy,
        RetryPolicy::new(4)
            .base_delay(Duration::from_millis(100))
            .jitter(0.25)
    );
    assert!(
        bcss::config::Config::parse(base, "bcss.toml")
            .unwrap()
            .retry
            .is_none()
    );
    let e = bcss::config::Config::parse(&format!("{base}[retry]\njitter = 2.0\n"), "bcss.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("bcss.toml:11:1:") && e.contains("jitter"),
        "{e}"
    );
    let e = bcss::config::Config::parse(&format!("{base}[retry]\nattempts = 2\n"), "bcss.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("attempts"), "{e}");
}
