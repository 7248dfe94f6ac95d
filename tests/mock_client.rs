//! The whole client (guard, journal, HTTP transport) against the mock BCSS over loopback:
//! every shipped fixture's call is granted, sent, answered and journaled with the outcome
//! the fixture declares; an unknown request comes back as the mock's explanation.

mod pipeline_support;
mod replay_support;

use std::sync::Arc;

use bcss::Environment;
use bcss::audit::{self, FileJournal, FileJournalConfig, QueryFilter};
use bcss::client::{Actor, CallContext};
use bcss::endpoints::Endpoints;
use bcss::ids::{Century, Ssin};
use bcss::mock::{MockConfig, MockServer};
use bcss::transport::http::HttpTransport;
use replay_support::{SSDN_PURPOSE, client, exchanges_dir, identify, scenarios};

#[tokio::test]
async fn every_shipped_exchange_through_the_client_is_journaled_with_its_outcome() {
    let mock = MockServer::start(
        MockConfig::from_dir(exchanges_dir())
            .unwrap()
            .simulate_delays(false),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal_dir = dir.path().join("journal");
    let journal = Arc::new(
        FileJournal::open(FileJournalConfig::new(&journal_dir))
            .await
            .unwrap(),
    );
    let client = client(
        Arc::new(HttpTransport::builder().build().unwrap()),
        Endpoints::defaults()
            .with_base_url(Environment::Test, &mock.base_url())
            .unwrap(),
        journal.clone(),
    );

    for s in scenarios() {
        let ctx = CallContext::new(Actor::new("agent-042"), s.request.purpose());
        let result = s.request.call(&client, &ctx).await;
        let succeeded = matches!(
            s.expected,
            bcss::fixture::ExpectedOutcome::Ok | bcss::fixture::ExpectedOutcome::Warning
        );
        assert_eq!(result.is_ok(), succeeded, "{}: {result:?}", s.name());
    }

    // Someone no fixture knows: the mock's explanation reaches the caller as "no fixture
    // matches", a transport error, never as a fault from BCSS.
    let stranger = Ssin::from_parts("930303", 303, Century::Nineteen).unwrap();
    let ctx = CallContext::new(Actor::new("agent-042"), SSDN_PURPOSE);
    let e = identify(stranger.as_str())
        .call(&client, &ctx)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no fixture matches this request"), "{e}");
    assert!(!e.contains("SOAP fault"), "{e}");
    assert!(e.contains("closest is IdentifyPerson/"), "{e}");
    assert!(!e.contains(stranger.as_str()), "{e}");

    journal.close().await.unwrap();
    mock.shutdown().await;

    // The journal holds every call with the outcome its fixture declares, in order; a
    // reply served outside 2xx that is not a SOAP fault with 500 is never a success, and
    // the client journals it as http_error whatever its body (issue 12.6).
    let found = audit::query(&journal_dir, &QueryFilter::default()).unwrap();
    let statuses: Vec<String> = found
        .exchanges()
        .map(|e| e.unwrap().status().to_string())
        .collect();
    let wanted: Vec<&str> = scenarios()
        .iter()
        .map(|s| {
            let status = s.fixture().served_reply().status;
            let fault = matches!(
                s.expected,
                bcss::fixture::ExpectedOutcome::SoapFault
                    | bcss::fixture::ExpectedOutcome::BusinessError
            );
            if (200..300).contains(&status) || (status == 500 && fault) {
                s.expected.as_str()
            } else {
                "http_error"
            }
        })
        .chain(["transport_error"])
        .collect();
    assert_eq!(statuses, wanted);
    assert!(
        audit::verify(&journal_dir, &audit::VerifyOptions::default())
            .unwrap()
            .is_ok()
    );
}
