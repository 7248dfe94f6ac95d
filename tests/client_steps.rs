//! The six steps of a call, seen from the journal: every refusal after the grant is
//! journaled like a denial (stage `after_grant`) and sends nothing; the raw reply is
//! durable before a byte of it is decoded, and kept whatever decoding then does (hostile
//! replies included); the classification follows it.

mod pipeline_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bcss::Environment;
use bcss::audit::Record;
use bcss::client::{Actor, CallContext, Client, ClientBuilder};
use bcss::clock::{Clock, ClockError, FixedClock};
use bcss::error::ErrorKind;
use bcss::manifest::Guard;
use bcss::soap::SoapError;
use bcss::xml::XmlError;
use chrono::{DateTime, TimeZone, Utc};
use pipeline_support::{
    Canned, CountingTransport, MANIFEST, MemoryJournal, envelope, investigate, tx25,
};

fn june() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn ctx() -> CallContext {
    CallContext::new(Actor::new("agent-042"), "PCSA:SOCIAL_INQUIRY")
}

fn builder(
    journal: &Arc<MemoryJournal>,
    transport: Arc<dyn bcss::transport::Transport>,
) -> ClientBuilder {
    Client::builder()
        .environment(Environment::Test)
        .application("steps-test", "1.0.0")
        .guard(Arc::new(
            Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        ))
        .journal(journal.clone())
        .transport(transport)
        .clock(Arc::new(FixedClock(june())))
}

/// Works once (the decision), then cannot be trusted.
#[derive(Debug, Default)]
struct FailsAfterTheDecision(AtomicUsize);

impl Clock for FailsAfterTheDecision {
    fn now(&self) -> Result<DateTime<Utc>, ClockError> {
        if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
            Ok(june())
        } else {
            Err(ClockError::BeforeFloor {
                now: Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
                floor: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            })
        }
    }
}

/// The one denial record of a refused call, checked to be an after-grant refusal under the
/// manifest in force, which the error the caller got says too.
fn after_grant_refusal(
    journal: &MemoryJournal,
    client: &Client,
    err: &bcss::Error,
) -> bcss::audit::DenialRecord {
    let records = journal.call_records();
    let [Record::Denial(denial)] = &records[..] else {
        panic!("expected one denial record: {records:?}");
    };
    assert_eq!(denial.stage, "after_grant");
    assert!(denial.how.authorization_id.is_some(), "{denial:?}");
    assert_eq!(denial.manifest, client.guard().manifest_ref());
    assert!(err.is_denied(), "{err:?}");
    assert!(!err.was_sent() && !err.is_retryable(), "{err:?}");
    assert_eq!(err.code(), Some(denial.reason_code.as_str()));
    assert_eq!(err.ticket(), Some(denial.ticket));
    assert_eq!(err.status(), None);
    denial.clone()
}

#[tokio::test]
async fn every_refusal_after_the_grant_is_journaled_and_sends_nothing() {
    // No contact e-mail: an SSDN request cannot be made.
    let journal = Arc::new(MemoryJournal::default());
    let transport = CountingTransport::new(journal.clone());
    let client = builder(&journal, transport.clone()).build().unwrap();
    let err = client
        .call(&ctx(), &investigate("68070100188"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Config(_)), "{err:?}");
    let denial = after_grant_refusal(&journal, &client, &err);
    assert_eq!(denial.reason_code, "contact_email_missing");
    assert!(
        denial.message.contains("contact e-mail"),
        "{}",
        denial.message
    );
    assert_eq!(
        denial.how.authorization_id.as_deref(),
        Some("investigate-test")
    );

    // A contact e-mail BCSS would refuse: the request cannot be encoded.
    let journal = Arc::new(MemoryJournal::default());
    let client = builder(&journal, transport.clone())
        .contact_email("not-an-address")
        .build()
        .unwrap();
    let err = client
        .call(&ctx(), &investigate("68070100188"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Request(_)), "{err:?}");
    assert_eq!(
        after_grant_refusal(&journal, &client, &err).reason_code,
        "encode_error"
    );

    // A clock that cannot be trusted when the request is about to be sent.
    let journal = Arc::new(MemoryJournal::default());
    let client = builder(&journal, transport.clone())
        .clock(Arc::new(FailsAfterTheDecision::default()))
        .build()
        .unwrap();
    let err = client.call(&ctx(), &tx25()).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Clock(_)), "{err:?}");
    assert_eq!(
        after_grant_refusal(&journal, &client, &err).reason_code,
        "clock_untrusted"
    );

    // The manifest now in force is another organisation's.
    let journal = Arc::new(MemoryJournal::default());
    let client = builder(&journal, transport.clone()).build().unwrap();
    client
        .guard()
        .reload_from_str(
            &MANIFEST.replace("0212344876", "0123456749"),
            "authorizations.toml",
        )
        .unwrap();
    let err = client.call(&ctx(), &tx25()).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Config(_)), "{err:?}");
    let denial = after_grant_refusal(&journal, &client, &err);
    assert_eq!(denial.reason_code, "organization_mismatch");
    assert_eq!(denial.how.authorization_id.as_deref(), Some("tx25-test"));

    assert_eq!(
        transport.bytes.load(Ordering::SeqCst),
        0,
        "nothing was sent"
    );
}

#[tokio::test]
async fn the_raw_reply_is_durable_before_it_is_decoded_and_classified_after() {
    let journal = Arc::new(MemoryJournal::default());
    let transport = CountingTransport::new(journal.clone());
    let client = builder(&journal, transport.clone()).build().unwrap();
    let reply = client.call(&ctx(), &tx25()).await.unwrap();
    let kinds: Vec<&str> = journal.call_records().iter().map(Record::kind).collect();
    assert_eq!(kinds, ["intent", "outcome", "classification"]);

    // An outcome the journal refuses: the reply is withheld, never decoded nor
    // classified; the intent stays.
    *journal.refuse.lock().unwrap() = Some("outcome");
    let err = client.call(&ctx(), &tx25()).await.unwrap_err();
    let ErrorKind::OutcomeNotRecorded { ticket, .. } = err.kind() else {
        panic!("{err:?}");
    };
    assert_ne!(*ticket, reply.ticket);
    assert_eq!(err.ticket(), Some(*ticket));
    assert!(err.was_sent(), "the request may have reached BCSS");
    assert_eq!(err.status(), Some(200));
    let kinds: Vec<&str> = journal.call_records().iter().map(Record::kind).collect();
    assert_eq!(
        kinds,
        ["intent", "outcome", "classification", "intent"],
        "the second call's intent only"
    );
    assert_eq!(transport.seen.lock().unwrap().len(), 2, "it was sent");
}

/// A reply whose first body element carries `n` attributes (or namespace declarations).
fn hostile(n: usize, declarations: bool) -> Vec<u8> {
    let mut attrs = String::with_capacity(n * 16);
    for i in 0..n {
        if declarations {
            attrs.push_str(&format!(" xmlns:p{i}=\"urn:p{i}\""));
        } else {
            attrs.push_str(&format!(" a{i}=\"v\""));
        }
    }
    envelope(&format!("<retrieveTIGroupsResponse{attrs}/>")).into_bytes()
}

#[tokio::test]
async fn hostile_replies_are_kept_raw_whatever_decoding_does() {
    for (declarations, what) in [(false, "attributes"), (true, "namespace declarations")] {
        let body = hostile(100_000, declarations);
        let journal = Arc::new(MemoryJournal::default());
        let client = builder(&journal, Canned::new(200, body.clone()))
            .build()
            .unwrap();
        let err = client.call(&ctx(), &tx25()).await.unwrap_err();
        let refused = match err.kind() {
            ErrorKind::Soap(SoapError::Xml(XmlError::TooManyAttributes { .. })) => !declarations,
            ErrorKind::Soap(SoapError::Xml(XmlError::TooManyNamespaces { .. })) => declarations,
            _ => false,
        };
        assert!(refused, "{what}: {err:?}");
        assert!(err.was_sent() && !err.is_denied() && !err.is_retryable());
        assert_eq!(err.status(), Some(200));
        let records = journal.call_records();
        let [
            Record::Intent(_),
            Record::Outcome(outcome),
            Record::Classification(c),
        ] = &records[..]
        else {
            panic!("{what}: {records:?}");
        };
        assert_eq!(outcome.outcome, "received");
        assert_eq!(
            outcome.reply.as_ref().unwrap().as_bytes(),
            &body[..],
            "{what}"
        );
        assert_eq!(c.outcome, "undecodable");
        assert!(c.error.as_deref().unwrap().contains(if declarations {
            "namespace"
        } else {
            "attributes"
        }));
    }
}

#[tokio::test]
async fn replies_are_classified_by_what_they_say() {
    let status = |value: &str, code: &str| {
        envelope(&format!(
            "<ns:retrieveTIGroupsResponse xmlns:ns=\"http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2\"><informationCBSS><ticketCBSS>t-1</ticketCBSS></informationCBSS><status><value>{value}</value><code>{code}</code></status></ns:retrieveTIGroupsResponse>"
        ))
    };
    let cbss_fault = envelope(
        "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>unavailable</faultstring><detail><ns:retrieveTIGroupsFault xmlns:ns=\"http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2\"><informationCBSS><ticketCBSS>t-2</ticketCBSS></informationCBSS><detail><severity>FATAL</severity><reasonCode>MSG00001</reasonCode><diagnostic>down</diagnostic><authorCode>CBSS</authorCode></detail></ns:retrieveTIGroupsFault></detail></soapenv:Fault>",
    );
    let soap_fault = envelope(
        "<soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>bad request</faultstring></soapenv:Fault>",
    );
    let cases = [
        (200, status("DATA_FOUND", "MSG00000"), "ok", None),
        (
            200,
            status("NO_DATA_FOUND", "MSG00100"),
            "no_data",
            Some("MSG00100"),
        ),
        (
            200,
            status("NO_RESULT", "MSG00005"),
            "business_error",
            Some("MSG00005"),
        ),
        (500, cbss_fault, "business_error", Some("MSG00001")),
        (
            500,
            soap_fault.clone(),
            "soap_fault",
            Some("soapenv:Client"),
        ),
        (200, "<html>proxy</html>".to_string(), "undecodable", None),
        // Outside 2xx: never a success, whatever the body; a SOAP fault only with 500.
        (503, status("DATA_FOUND", "MSG00000"), "http_error", None),
        (500, status("DATA_FOUND", "MSG00000"), "http_error", None),
        (502, "<html>proxy</html>".to_string(), "http_error", None),
        (503, soap_fault.clone(), "http_error", None),
        (404, String::new(), "http_error", None),
    ];
    for (http, body, kind, code) in cases {
        let journal = Arc::new(MemoryJournal::default());
        let client = builder(&journal, Canned::new(http, body)).build().unwrap();
        let result = client.call(&ctx(), &tx25()).await;
        if kind == "http_error" {
            let e = result.unwrap_err();
            assert_eq!(e.status(), Some(http), "{e:?}");
            assert!(
                matches!(e.kind(), bcss::ErrorKind::HttpStatus { status, .. } if *status == http),
                "{e:?}"
            );
            assert!(e.to_string().contains(&format!("HTTP {http}")), "{e}");
        }
        let records = journal.call_records();
        let Some(Record::Classification(c)) = records.last() else {
            panic!("{kind}: {records:?}");
        };
        assert_eq!(c.outcome, kind);
        assert_eq!(c.code.as_deref(), code, "{kind}");
        let exchange = bcss::audit::Exchange {
            ticket: c.ticket,
            denial: None,
            intent: None,
            outcome: records.iter().find_map(|r| match r {
                Record::Outcome(o) => Some(o.clone()),
                _ => None,
            }),
            classification: Some(c.clone()),
            sequences: Vec::new(),
        };
        assert_eq!(exchange.status(), kind, "query shows the classification");
    }
}
