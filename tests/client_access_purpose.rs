//! The grant decides every BCSS purpose code sent (issue 9, item 8): a ManageAccess
//! request whose purpose code the entry's `access_purposes` does not list is denied
//! (`access_purpose_not_authorized`), journaled, and sends zero bytes; a listed code is
//! sent as is.

mod pipeline_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bcss::Environment;
use bcss::audit::Record;
use bcss::client::{Actor, CallContext, Client};
use bcss::clock::FixedClock;
use bcss::error::ErrorKind;
use bcss::manifest::{DenialReason, Guard};
use bcss::services::manage_access::{ManageAccessRequest, Register};
use chrono::{NaiveDate, TimeZone, Utc};
use pipeline_support::{CountingTransport, MemoryJournal};

const MANIFEST: &str = r#"
[organization]
cbe = "0212344876"
name = "CPAS de Fictiveville"
sector = 17

[[authorization]]
id = "access-test"
environment = "test"
service = "ManageAccess"
operations = ["register", "list"]
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
access_purposes = [1, 7]
valid_from = 2026-01-01
valid_until = 2026-12-31
granted_by = "security-advisor"
"#;

struct Setup {
    client: Client,
    journal: Arc<MemoryJournal>,
    transport: Arc<CountingTransport>,
}

fn setup() -> Setup {
    let journal = Arc::new(MemoryJournal::default());
    let transport = CountingTransport::new(journal.clone());
    let client = Client::builder()
        .environment(Environment::Test)
        .application("access-purpose-test", "1.0.0")
        .contact_email("it@cpas-fictiveville.example")
        .guard(Arc::new(
            Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        ))
        .journal(journal.clone())
        .transport(transport.clone())
        .clock(Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap(),
        )))
        .build()
        .unwrap();
    Setup {
        client,
        journal,
        transport,
    }
}

fn ctx() -> CallContext {
    CallContext::new(Actor::new("agent-042"), "PCSA:SOCIAL_INQUIRY")
}

fn register(code: u32) -> ManageAccessRequest {
    ManageAccessRequest::register("85031204246".parse().unwrap())
        .purpose(code)
        .period(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), None)
        .sis_card_number("1234567890")
        .build()
        .unwrap()
}

fn list(code: Option<u32>) -> ManageAccessRequest {
    let mut b = ManageAccessRequest::list("85031204246".parse().unwrap())
        .period(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), None)
        .query_register(Register::All)
        .sis_card_number("1234567890");
    if let Some(code) = code {
        b = b.purpose(code);
    }
    b.build().unwrap()
}

#[tokio::test]
async fn a_register_with_an_unlisted_purpose_code_is_denied_journaled_and_sends_nothing() {
    let s = setup();
    let err = s.client.call(&ctx(), &register(3)).await.unwrap_err();
    let ErrorKind::Denied(denial) = err.kind() else {
        panic!("expected a denial, got {err:?}");
    };
    assert_eq!(denial.reason, DenialReason::AccessPurposeNotAuthorized);
    assert_eq!(denial.nearest_entry.as_deref(), Some("access-test"));
    assert!(
        denial.message.contains(
            "entry 'access-test' authorises ManageAccess.register in test for BCSS purpose \
             code(s) 1, 7, not 3"
        ),
        "{}",
        denial.message
    );
    assert_eq!(s.transport.bytes.load(Ordering::SeqCst), 0);
    let records = s.journal.call_records();
    assert_eq!(records.len(), 1, "{records:?}");
    let Record::Denial(record) = &records[0] else {
        panic!("expected a denial record, got {records:?}");
    };
    assert_eq!(record.reason_code, "access_purpose_not_authorized");
    assert_eq!(record.what.operation, "register");
    assert_eq!(record.what.subjects, vec!["85031204246".to_string()]);
    assert!(record.message.contains("not 3"), "{}", record.message);
}

#[tokio::test]
async fn a_listed_purpose_code_is_granted_and_sent_as_is() {
    let s = setup();
    // The test double's reply is not a ManageAccess reply: decoding fails after the send.
    let _ = s.client.call(&ctx(), &register(7)).await;
    let seen = s.transport.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let body = String::from_utf8(seen[0].2.clone()).unwrap();
    assert!(body.contains("ma:Purpose&gt;7&lt;/ma:Purpose"), "{body}");
    let records = s.journal.call_records();
    let Record::Intent(intent) = &records[0] else {
        panic!("expected an intent first, got {records:?}");
    };
    assert_eq!(intent.how.authorization_id.as_deref(), Some("access-test"));
}

#[tokio::test]
async fn a_list_carries_a_listed_code_or_none() {
    // No code: a LIST needs none.
    let s = setup();
    let _ = s.client.call(&ctx(), &list(None)).await;
    assert_eq!(s.transport.seen.lock().unwrap().len(), 1);
    // A listed code.
    let s = setup();
    let _ = s.client.call(&ctx(), &list(Some(1))).await;
    assert_eq!(s.transport.seen.lock().unwrap().len(), 1);
    // An unlisted code: denied, nothing sent.
    let s = setup();
    let err = s.client.call(&ctx(), &list(Some(9))).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Denied(d) if d.reason == DenialReason::AccessPurposeNotAuthorized),
        "{err:?}"
    );
    assert_eq!(s.transport.bytes.load(Ordering::SeqCst), 0);
    assert!(matches!(s.journal.call_records()[..], [Record::Denial(_)]));
}
