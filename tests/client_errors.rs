//! Errors a caller can act on (issue 11, item 8): one pointer wide, with predicates that
//! mean the same whatever the family (`is_no_data`, `is_retryable`, `is_denied`,
//! `was_sent`) and what to quote (`code`, `ticket`, `status`), through the client.

mod pipeline_support;

use std::sync::Arc;

use bcss::audit::Record;
use bcss::client::{Actor, CallContext, Client};
use bcss::clock::FixedClock;
use bcss::config::Config;
use bcss::endpoints::Endpoints;
use bcss::manifest::Guard;
use bcss::services::identify_person::IdentifyPersonRequest;
use bcss::services::test_connection;
use bcss::transport::Transport;
use bcss::transport::http::HttpTransport;
use bcss::{Environment, Error, ErrorKind};
use chrono::{TimeZone, Utc};
use pipeline_support::{Canned, MemoryJournal, envelope, rig, tx25};

fn ctx() -> CallContext {
    CallContext::new(Actor::new("agent-042"), "PCSA:SOCIAL_INQUIRY")
}

fn reply_file(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/replies/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A client of the test environment granted every built-in service, answering with
/// `transport`.
fn client(transport: Arc<dyn Transport>) -> (Client, Arc<MemoryJournal>) {
    let services: Vec<_> = bcss::services::Catalogue::builtin()
        .iter()
        .cloned()
        .collect();
    let grants: Vec<_> = services
        .iter()
        .map(|s| {
            let purpose = match s.legal_context().closed_values() {
                Some(values) => values[0].as_str(),
                None => "PCSA:SOCIAL_INQUIRY",
            };
            (s, purpose)
        })
        .collect();
    let r = rig(transport, Environment::Test, &grants);
    let client = r
        .builder
        .clock(Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap(),
        )))
        .build()
        .unwrap();
    (client, r.journal)
}

fn by_ssin() -> IdentifyPersonRequest {
    IdentifyPersonRequest::by_ssin("68070100188".parse().unwrap())
}

/// The classification the journal holds for the last call.
fn classified(journal: &MemoryJournal) -> String {
    journal
        .records()
        .iter()
        .rev()
        .find_map(|r| match r {
            Record::Classification(c) => Some(c.outcome.clone()),
            _ => None,
        })
        .unwrap()
}

#[test]
fn an_error_is_one_pointer() {
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}

#[tokio::test]
async fn no_data_is_one_thing_whatever_the_family() {
    // Common v3: NO_DATA_FOUND.
    let v3 = envelope(
        "<ns:retrieveTIGroupsResponse xmlns:ns=\"http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2\"><informationCBSS><ticketCBSS>t</ticketCBSS></informationCBSS><status><value>NO_DATA_FOUND</value><code>MSG00100</code></status></ns:retrieveTIGroupsResponse>",
    );
    let (c, journal) = client(Canned::new(200, v3));
    let e = c.call(&ctx(), &tx25()).await.unwrap_err();
    assert!(
        e.is_no_data() && !e.is_denied() && !e.is_retryable(),
        "{e:?}"
    );
    assert_eq!(e.code(), Some("MSG00100"));
    assert_eq!(classified(&journal), "no_data");

    // SSDN: NO, "no phonetic match".
    let (c, journal) = client(Canned::new(
        200,
        reply_file("ssdn/IdentifyPerson/no_data.xml"),
    ));
    let e = c.call(&ctx(), &by_ssin()).await.unwrap_err();
    assert!(e.is_no_data(), "{e:?}");
    assert_eq!(e.code(), Some("32007004"));
    assert_eq!(classified(&journal), "no_data");

    // IdentifyPerson answering YES with nobody found.
    let ok = reply_file("ssdn/IdentifyPerson/ok.xml");
    let (start, end) = (
        ok.find("<ns3:SearchResults>").unwrap(),
        ok.find("</ns3:SearchResults>").unwrap() + "</ns3:SearchResults>".len(),
    );
    let nobody = format!("{}{}", &ok[..start], &ok[end..]);
    let (c, journal) = client(Canned::new(200, nobody));
    let e = c.call(&ctx(), &by_ssin()).await.unwrap_err();
    assert!(e.is_no_data(), "{e:?}");
    assert!(e.to_string().contains("no person matches"), "{e}");
    assert_eq!(classified(&journal), "no_data");
    // A refusal is not "no data".
    let (c, _) = client(Canned::new(
        200,
        reply_file("ssdn/IdentifyPerson/error.xml"),
    ));
    let e = c.call(&ctx(), &by_ssin()).await.unwrap_err();
    assert!(!e.is_no_data() && e.code().is_some(), "{e:?}");
}

#[tokio::test]
async fn retryable_means_msg00001_00002_00020_in_either_family_or_no_connection() {
    let cbss_fault = |code: &str| {
        envelope(&format!(
            "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>x</faultstring><detail><ns:retrieveTIGroupsFault xmlns:ns=\"http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2\"><detail><severity>FATAL</severity><reasonCode>{code}</reasonCode><diagnostic>d</diagnostic><authorCode>CBSS</authorCode></detail></ns:retrieveTIGroupsFault></detail></soapenv:Fault>"
        ))
    };
    for code in ["MSG00001", "MSG00002", "MSG00020"] {
        let (c, _) = client(Canned::new(500, cbss_fault(code)));
        let e = c.call(&ctx(), &tx25()).await.unwrap_err();
        assert!(e.is_retryable(), "{code}: {e:?}");
        assert!(e.was_sent());
        assert_eq!((e.code(), e.status()), (Some(code), Some(500)));
    }
    let (c, _) = client(Canned::new(500, cbss_fault("MSG00005")));
    assert!(!c.call(&ctx(), &tx25()).await.unwrap_err().is_retryable());

    // SSDN: "temporarily unavailable" comes as a SOAP fault whose text names the code.
    let ssdn = envelope(
        "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>MSG00001: BCSS temporarily unavailable</faultstring></soapenv:Fault>",
    );
    let (c, _) = client(Canned::new(500, ssdn));
    let e = c.call(&ctx(), &by_ssin()).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(matches!(e.kind(), ErrorKind::Soap(_)));

    // No connection: nothing reached BCSS, and it may work later.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let http: Arc<dyn Transport> = Arc::new(HttpTransport::builder().build().unwrap());
    let r = rig(
        http,
        Environment::Test,
        &[(test_connection::service(), "connectivity check")],
    );
    let endpoints = Endpoints::defaults()
        .with_service_url(
            Environment::Test,
            test_connection::service(),
            &format!("http://127.0.0.1:{port}/x"),
        )
        .unwrap();
    let c = r.builder.endpoints(endpoints).build().unwrap();
    let echo = test_connection::TestConnection::new("ping").unwrap();
    let e = c
        .call(
            &CallContext::new(Actor::new("agent-042"), "connectivity check"),
            &echo,
        )
        .await
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Transport(_)), "{e:?}");
    assert!(e.is_retryable() && !e.was_sent(), "{e:?}");
    assert!(e.ticket().is_some() && e.status().is_none());
}

#[tokio::test]
async fn every_call_that_reached_the_guard_has_its_ticket() {
    let ok = envelope(
        "<ns:retrieveTIGroupsResponse xmlns:ns=\"http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2\"><status><value>NO_RESULT</value><code>MSG00005</code></status></ns:retrieveTIGroupsResponse>",
    );
    let (c, journal) = client(Canned::new(200, ok));
    let e = c.call(&ctx(), &tx25()).await.unwrap_err();
    let intent_ticket = journal
        .records()
        .iter()
        .find_map(|r| match r {
            Record::Intent(i) => Some(i.ticket),
            _ => None,
        })
        .unwrap();
    assert_eq!(e.ticket(), Some(intent_ticket));
    assert_eq!(e.code(), Some("MSG00005"));
    assert!(e.was_sent() && !e.is_no_data());

    let denied = c
        .call(
            &CallContext::new(Actor::new("agent-042"), "MARKETING"),
            &tx25(),
        )
        .await
        .unwrap_err();
    let denial_ticket = journal
        .records()
        .iter()
        .find_map(|r| match r {
            Record::Denial(d) => Some(d.ticket),
            _ => None,
        })
        .unwrap();
    assert_eq!(denied.ticket(), Some(denial_ticket));
    assert!(denied.is_denied() && !denied.was_sent());
    assert_eq!(denied.code(), Some("purpose_not_authorized"));
}

#[tokio::test]
async fn configuration_errors_convert_with_the_question_mark() {
    async fn start(path: &std::path::Path) -> Result<Client, Error> {
        let config = Config::load(path)?;
        Ok(Client::from_config(&config).await?.client)
    }
    let err = start(std::path::Path::new("/nonexistent/bcss.toml"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ConfigFile(_)), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/bcss.toml"), "{err}");
    assert!(!err.was_sent() && err.ticket().is_none());
    // Guard errors too.
    let err: Error = Guard::from_str("[organization]\ncbe = 1", "a.toml")
        .unwrap_err()
        .into();
    assert!(matches!(err.kind(), ErrorKind::Manifest(_)));
}
