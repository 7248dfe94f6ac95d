//! Every simulated behaviour of a fixture, through the whole client (guard, journal,
//! transport), served by the replay transport and by the mock BCSS over loopback HTTP:
//! what the caller gets for a slow reply, an HTTP 5xx with and without a body, MSG00001
//! (common v3 and SSDN), a SOAP fault, a body cut short and a dropped connection.

mod pipeline_support;
mod replay_support;

use std::sync::Arc;
use std::time::Duration;

use bcss::Environment;
use bcss::audit::{FileJournal, FileJournalConfig};
use bcss::client::{Actor, CallContext, Client};
use bcss::endpoints::Endpoints;
use bcss::error::ErrorKind;
use bcss::fixture::{Behaviour, ExpectedOutcome, FixtureSet, Simulation, TruncateMode};
use bcss::mock::{MockConfig, MockServer};
use bcss::transport::http::HttpTransport;
use bcss::transport::replay::ReplayTransport;
use bcss::transport::{Transport, TransportError};
use replay_support::{MARC, Req, Scenario, echo, identify};

/// One simulation: a request of its own, the reply file recorded (if any), what is
/// simulated.
fn simulation(
    stem: &'static str,
    request: Req,
    reply: Option<&'static str>,
    delay_ms: Option<u64>,
    behaviour: Behaviour,
) -> Scenario {
    Scenario {
        stem,
        description: "a simulation",
        request,
        reply,
        status: 200,
        simulate: Simulation {
            delay: delay_ms.map(Duration::from_millis),
            behaviour,
        },
        // Not checked here: the client's result is.
        expected: ExpectedOutcome::Ok,
    }
}

const ECHO_OK: Option<&str> = Some("v3/TestConnection/ok.xml");

fn simulations() -> Vec<Scenario> {
    vec![
        simulation("slow", echo("slow"), ECHO_OK, Some(20), Behaviour::None),
        simulation(
            "http-503-page",
            echo("503 without a body"),
            None,
            None,
            Behaviour::HttpStatus(503),
        ),
        simulation(
            "http-503-body",
            echo("503 with a body"),
            ECHO_OK,
            None,
            Behaviour::HttpStatus(503),
        ),
        // A recorded success turned into MSG00001: the simulation wins.
        simulation(
            "unavailable-v3",
            echo("unavailable"),
            ECHO_OK,
            None,
            Behaviour::Unavailable,
        ),
        simulation(
            "unavailable-ssdn",
            identify(MARC),
            Some("ssdn/IdentifyPerson/ok.xml"),
            None,
            Behaviour::Unavailable,
        ),
        simulation(
            "soap-fault",
            echo("fault"),
            ECHO_OK,
            None,
            Behaviour::SoapFault {
                code: "soapenv:Server".into(),
                string: "Simulated internal error".into(),
            },
        ),
        simulation(
            "truncated",
            echo("truncated"),
            ECHO_OK,
            None,
            Behaviour::Truncated {
                after: 200,
                mode: TruncateMode::CutBody,
            },
        ),
        simulation(
            "dropped",
            echo("dropped"),
            ECHO_OK,
            None,
            Behaviour::Truncated {
                after: 200,
                mode: TruncateMode::DropConnection,
            },
        ),
    ]
}

fn set() -> FixtureSet {
    FixtureSet::from_fixtures(simulations().iter().map(Scenario::fixture)).unwrap()
}

async fn client(
    transport: Arc<dyn Transport>,
    endpoints: Endpoints,
) -> (Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(
        FileJournal::open(FileJournalConfig::new(dir.path().join("journal")))
            .await
            .unwrap(),
    );
    (replay_support::client(transport, endpoints, journal), dir)
}

/// What the caller gets for each simulation, in the order of [`simulations`].
async fn results(client: &Client) -> Vec<(&'static str, Result<(), bcss::Error>)> {
    let mut out = Vec::new();
    for s in simulations() {
        let ctx = CallContext::new(Actor::new("agent-042"), s.request.purpose());
        out.push((s.stem, s.request.call(client, &ctx).await));
    }
    out
}

/// What each simulation yields to the caller, whichever way it is served.
fn check(served_by: &str, results: Vec<(&'static str, Result<(), bcss::Error>)>) {
    for (stem, result) in results {
        let shown = format!("{served_by} {stem}: {result:?}");
        let text = result
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        match stem {
            // A slow reply is a reply.
            "slow" => assert!(result.is_ok(), "{shown}"),
            // A proxy's HTML page: the status and a body that is not SOAP.
            "http-503-page" => {
                let e = result.as_ref().unwrap_err();
                assert!(
                    matches!(e.kind(), ErrorKind::HttpStatus { status: 503, .. }),
                    "{shown}"
                );
                assert_eq!(e.status(), Some(503), "{shown}");
                assert!(text.contains("HTTP 503"), "{shown}");
                assert!(text.contains("not a SOAP reply"), "{shown}");
            }
            // A 503 whose body is a well-formed success is never a success (issue 12.6):
            // an error naming the status.
            "http-503-body" => {
                let e = result.as_ref().unwrap_err();
                assert!(
                    matches!(e.kind(), ErrorKind::HttpStatus { status: 503, .. }),
                    "{shown}"
                );
                assert!(text.contains("HTTP 503"), "{shown}");
                assert!(text.contains("well-formed reply (ok)"), "{shown}");
                assert!(e.was_sent() && !e.is_retryable(), "{shown}");
            }
            // MSG00001 replaces the recorded success: BCSS refused, retry later.
            "unavailable-v3" => {
                assert!(
                    matches!(
                        result.as_ref().map_err(bcss::Error::kind),
                        Err(ErrorKind::V3(_))
                    ),
                    "{shown}"
                );
                assert!(text.contains("MSG00001"), "{shown}");
            }
            "unavailable-ssdn" => {
                assert!(
                    matches!(
                        result.as_ref().map_err(bcss::Error::kind),
                        Err(ErrorKind::Soap(_))
                    ),
                    "{shown}"
                );
                assert!(text.contains("MSG00001"), "{shown}");
            }
            "soap-fault" => {
                assert!(
                    matches!(
                        result.as_ref().map_err(bcss::Error::kind),
                        Err(ErrorKind::Soap(_))
                    ),
                    "{shown}"
                );
                assert!(text.contains("Simulated internal error"), "{shown}");
            }
            // A body cut short cannot be read.
            "truncated" => assert!(
                matches!(
                    result.as_ref().map_err(bcss::Error::kind),
                    Err(ErrorKind::Soap(_))
                ),
                "{shown}"
            ),
            // A dropped connection is a transport error.
            "dropped" => assert!(
                matches!(
                    result.as_ref().map_err(bcss::Error::kind),
                    Err(ErrorKind::Transport(TransportError::Http { .. }))
                ),
                "{shown}"
            ),
            other => panic!("no expectation for {other}"),
        }
    }
}

#[tokio::test]
async fn each_simulation_through_replay() {
    let transport = Arc::new(ReplayTransport::from_set(set()));
    let (client, _dir) = client(transport, Endpoints::defaults()).await;
    check("replay", results(&client).await);
}

#[tokio::test]
async fn each_simulation_through_the_mock() {
    let mock = MockServer::start(MockConfig::new(set())).await.unwrap();
    let endpoints = Endpoints::defaults()
        .with_base_url(Environment::Test, &mock.base_url())
        .unwrap();
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let (client, _dir) = client(transport, endpoints).await;
    check("mock", results(&client).await);
    let stats = mock.stats();
    assert_eq!(stats.served, simulations().len() as u64);
    assert_eq!(stats.unmatched, 0);
    mock.shutdown().await;
}
