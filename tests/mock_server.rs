//! The mock BCSS over loopback HTTP: every shipped fixture through the real HTTP
//! transport (each simulated behaviour included), the unknown-request fault, the refusals
//! (path, method, SOAPAction, size), loopback only, and shutdown.

mod pipeline_support;
mod replay_support;

use std::net::SocketAddr;
use std::sync::Arc;

use bcss::Environment;
use bcss::endpoints::Endpoints;
use bcss::fixture::FixtureSet;
use bcss::ids::{Century, Ssin};
use bcss::mock::{MockConfig, MockError, MockHandle, MockServer};
use bcss::services::{Catalogue, Outcome};
use bcss::soap::{self, Body, Limits};
use bcss::transport::TransportError;
use bcss::transport::http::HttpTransport;
use replay_support::{Req, exchanges_dir, identify, scenario, scenarios};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start() -> MockHandle {
    let config = MockConfig::from_dir(exchanges_dir()).unwrap();
    MockServer::start(config).await.unwrap()
}

/// `req` through a client whose endpoint for its service is the mock.
async fn send(
    transport: &Arc<HttpTransport>,
    mock: &MockHandle,
    req: &Req,
) -> Result<bcss::transport::TransportResponse, TransportError> {
    let endpoints = Endpoints::defaults()
        .with_service_url(Environment::Test, req.service(), &mock.url(req.service()))
        .unwrap();
    req.exchange(transport.clone(), Environment::Test, endpoints)
        .await
}

/// A bare HTTP/1.1 exchange: (status, body).
async fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    let (status, _, body) = raw_with_head(addr, head, body).await;
    (status, body)
}

/// A bare HTTP/1.1 exchange: (status, response head, body).
async fn raw_with_head(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let _ = stream.write_all(body).await;
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply).await;
    let text = String::from_utf8_lossy(&reply).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap_or_default();
    (status, head, body)
}

#[tokio::test]
async fn every_shipped_fixture_is_served_over_http_with_its_behaviour() {
    let mock = start().await;
    assert_eq!(mock.fixture_count(), scenarios().len());
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let mut failures = Vec::new();
    for s in scenarios() {
        let outcome = match send(&transport, &mock, &s.request).await {
            Ok(reply) => s.request.outcome(reply.status, &reply.body),
            Err(e) => Outcome::TransportError {
                reason: e.to_string(),
            },
        };
        if !s.expected.matches(&outcome) {
            failures.push(format!(
                "{}: expected {}, got {outcome:?}",
                s.name(),
                s.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let stats = mock.stats();
    assert_eq!(stats.served, scenarios().len() as u64);
    assert_eq!(stats.unmatched, 0);
    mock.shutdown().await;
}

#[tokio::test]
async fn simulated_behaviours_show_as_a_client_sees_them() {
    let mock = start().await;
    let transport = Arc::new(HttpTransport::builder().build().unwrap());

    // HTTP 503 from a "proxy": status and an HTML page.
    let s = scenario("TestConnection/echo-http-503");
    let r = send(&transport, &mock, &s.request).await.unwrap();
    assert_eq!(r.status, 503);
    assert!(r.content_type.unwrap().starts_with("text/html"));

    // MSG00001: a CBSS fault that the client may retry.
    let s = scenario("RetrieveTIGroups/lina-fr-unavailable");
    let r = send(&transport, &mock, &s.request).await.unwrap();
    assert_eq!(r.status, 500);
    let Body::Fault(fault) = soap::read(&r.body, &Limits::default()).unwrap() else {
        panic!("not a fault")
    };
    let cbss = bcss::v3::cbss_fault(&fault).unwrap();
    assert!(cbss.details.iter().any(|d| d.reason_code.is_retryable()));
    let s = scenario("HealthCareInsurance/marc-holder-code-unavailable");
    let r = send(&transport, &mock, &s.request).await.unwrap();
    let Body::Fault(fault) = soap::read(&r.body, &Limits::default()).unwrap() else {
        panic!("not a fault")
    };
    let cbss = bcss::v3::cbss_fault(&fault).unwrap();
    assert_eq!(cbss.element, "consultHolderCodeFault");
    assert_eq!(cbss.details[0].reason_code.as_str(), "MSG00001");

    // A plain SOAP fault.
    let s = scenario("TestConnection/echo-soap-fault");
    let r = send(&transport, &mock, &s.request).await.unwrap();
    let Body::Fault(fault) = soap::read(&r.body, &Limits::default()).unwrap() else {
        panic!("not a fault")
    };
    assert_eq!(fault.string, "Simulated internal error");

    // A body cut after 200 bytes: complete HTTP, incomplete XML.
    let s = scenario("TestConnection/echo-truncated");
    let r = send(&transport, &mock, &s.request).await.unwrap();
    assert_eq!(r.body.len(), 200);
    assert!(soap::read(&r.body, &Limits::default()).is_err());

    // A connection dropped mid-body: a transport error.
    let s = scenario("TestConnection/echo-connection-dropped");
    let e = send(&transport, &mock, &s.request).await.unwrap_err();
    assert!(matches!(e, TransportError::Http { .. }), "{e:?}");
    assert_eq!(
        e.status(),
        Some(200),
        "the status line arrived before the drop"
    );

    // A slow reply still arrives (its duration is not asserted: machines are noisy).
    let s = scenario("TestConnection/echo-slow");
    let r = send(&transport, &mock, &s.request).await.unwrap();
    assert_eq!(r.status, 200);
    mock.shutdown().await;
}

#[tokio::test]
async fn an_unknown_request_gets_a_no_fixture_fault_naming_the_closest_fixture() {
    let mock = start().await;
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let stranger = Ssin::from_parts("880412", 123, Century::Nineteen).unwrap();
    let req = identify(stranger.as_str());
    let body = req.encode();

    // On the wire: HTTP 500, the mock's header, a SOAP fault with its own code.
    let path = bcss::mock::path_of(bcss::services::identify_person::service());
    let (status, head, text) =
        raw_with_head(mock.addr(), &format!("POST {path} HTTP/1.1"), &body).await;
    assert_eq!(status, 500);
    assert!(
        head.to_ascii_lowercase()
            .contains("x-bcss-mock: no-fixture"),
        "{head}"
    );
    let Body::Fault(fault) = soap::read(text.as_bytes(), &Limits::default()).unwrap() else {
        panic!("not a fault")
    };
    assert_eq!(fault.code, bcss::mock::NO_FIXTURE_FAULT_CODE);
    assert_eq!(fault.code_local(), "Client.NoFixture");
    assert!(
        fault
            .string
            .starts_with("bcss mock: no fixture matches this request"),
        "{}",
        fault.string
    );
    assert!(
        fault.string.contains("closest is IdentifyPerson/"),
        "{}",
        fault.string
    );
    assert!(
        fault.string.contains("SearchCriteria/SSIN: expected \""),
        "{}",
        fault.string
    );
    assert!(fault.string.contains("880412*****"), "{}", fault.string);
    assert!(!text.contains(stranger.as_str()), "{text}");
    let detail = fault.detail.unwrap();
    assert!(
        detail
            .descendant("closest")
            .unwrap()
            .text()
            .starts_with("IdentifyPerson/")
    );
    // A decoder that reads the body sees a SOAP fault, not data.
    assert!(matches!(
        req.outcome(status, text.as_bytes()),
        Outcome::SoapFault { .. }
    ));

    // Through the HTTP transport, the tester sees "no fixture matches", never a BCSS fault.
    let e = send(&transport, &mock, &req).await.unwrap_err();
    let TransportError::NoFixture(message) = &e else {
        panic!("{e:?}")
    };
    assert!(message.contains("closest is IdentifyPerson/"), "{message}");
    assert!(message.contains("880412*****"), "{message}");
    assert!(!message.contains(stranger.as_str()), "{message}");
    assert!(
        e.to_string()
            .starts_with("no fixture matches this request: "),
        "{e}"
    );
    assert_eq!(mock.stats().unmatched, 2);
    mock.shutdown().await;
}

#[tokio::test]
async fn the_mock_serves_the_real_paths() {
    let mock = start().await;
    let endpoints = Endpoints::defaults()
        .with_base_url(Environment::Test, &mock.base_url())
        .unwrap();
    for service in Catalogue::builtin() {
        let url = endpoints.resolve(Environment::Test, service).unwrap();
        assert_eq!(url, mock.url(service), "{service}");
    }
    let (status, index) = raw(mock.addr(), "GET / HTTP/1.1", b"").await;
    assert_eq!(status, 200);
    assert!(
        index.contains("/connectors/webservice/KSZBCSSWebServiceConnectorPort"),
        "{index}"
    );
    assert!(
        index.contains("/SOA4520/HealthCareInsuranceService/consult_01"),
        "{index}"
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn requests_the_mock_cannot_dispatch_are_refused() {
    let mock = start().await;
    let addr = mock.addr();
    let path = mock.url(bcss::services::retrieve_ti_groups::service());
    let path = path.trim_start_matches(&mock.base_url()).to_string();
    let envelope = scenario("RetrieveTIGroups/marc-fr-ok").request.encode();

    let (status, body) = raw(addr, "POST /SOA4520/Nowhere HTTP/1.1", &envelope).await;
    assert_eq!(status, 404);
    assert!(
        body.contains("no BCSS service at /SOA4520/Nowhere"),
        "{body}"
    );

    let (status, _) = raw(addr, &format!("GET {path}?wsdl HTTP/1.1"), b"").await;
    assert_eq!(status, 405);

    let (status, body) = raw(
        addr,
        &format!("POST {path} HTTP/1.1\r\nSOAPAction: \"urn:wrong\""),
        &envelope,
    )
    .await;
    assert_eq!(status, 500);
    assert!(body.contains("SOAPAction"), "{body}");
    assert!(
        body.contains("http://kszbcss.fgov.be/RetrieveTIGroupsService/retrieveTI"),
        "{body}"
    );

    // Without a SOAPAction the body decides.
    let (status, body) = raw(addr, &format!("POST {path} HTTP/1.1"), &envelope).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("retrieveTIGroupsResponse"));

    let (status, body) = raw(addr, &format!("POST {path} HTTP/1.1"), b"<not-soap").await;
    assert_eq!(status, 500);
    assert!(body.contains("not a readable SOAP request"), "{body}");
    assert_eq!(mock.stats().refused, 3);
    mock.shutdown().await;
}

#[tokio::test]
async fn request_bodies_are_bounded() {
    let config = MockConfig::from_dir(exchanges_dir())
        .unwrap()
        .max_request_bytes(1024);
    let mock = MockServer::start(config).await.unwrap();
    let path = bcss::mock::path_of(bcss::services::test_connection::service());
    let big = vec![b'x'; 4096];
    let (status, body) = raw(mock.addr(), &format!("POST {path} HTTP/1.1"), &big).await;
    assert_eq!(status, 413, "{body}");

    // A chunked body without a length is cut off at the cap too.
    let mut stream = TcpStream::connect(mock.addr()).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..4 {
        stream.write_all(b"200\r\n").await.unwrap();
        stream.write_all(&[b'y'; 512]).await.unwrap();
        stream.write_all(b"\r\n").await.unwrap();
    }
    stream.write_all(b"0\r\n\r\n").await.unwrap();
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply).await;
    assert!(String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 413"));
    mock.shutdown().await;
}

#[tokio::test]
async fn only_loopback_unless_allowed() {
    let config = MockConfig::new(FixtureSet::new()).listen("0.0.0.0:0".parse().unwrap());
    let e = MockServer::start(config).await.unwrap_err();
    assert!(matches!(e, MockError::NonLoopback { .. }), "{e}");
    assert!(e.to_string().contains("not a loopback address"));
    let config = MockConfig::new(FixtureSet::new()).listen("192.0.2.1:8080".parse().unwrap());
    assert!(matches!(
        MockServer::start(config).await,
        Err(MockError::NonLoopback { .. })
    ));
    // IPv6 loopback is loopback.
    if let Ok(mock) =
        MockServer::start(MockConfig::new(FixtureSet::new()).listen("[::1]:0".parse().unwrap()))
            .await
    {
        assert!(mock.base_url().starts_with("http://[::1]:"));
        mock.shutdown().await;
    }
}

#[tokio::test]
async fn shutdown_stops_the_server_and_closes_connections() {
    let mock = start().await;
    let addr = mock.addr();
    // A connection left open (an idle keep-alive client) does not hold shutdown up.
    let idle = TcpStream::connect(addr).await.unwrap();
    mock.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());
    drop(idle);

    // Dropping the handle stops it too.
    let mock = start().await;
    let addr = mock.addr();
    drop(mock);
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused);
}

#[tokio::test]
async fn the_environment_asked_for_answers_first() {
    // The same request recorded in test and in acceptance, with different replies.
    let s = scenario("TestConnection/echo-ok");
    let mut test = s.fixture();
    test.name = "TestConnection/echo-test".into();
    let mut acceptance = s.fixture();
    acceptance.name = "TestConnection/echo-acceptance".into();
    acceptance.environment = Environment::Acceptance;
    acceptance.reply.body = acceptance
        .reply
        .body
        .map(|b| b.replace("<echo>", "<echo>[acceptance] "));
    let set = FixtureSet::from_fixtures([test, acceptance]).unwrap();
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    for (environment, acceptance_answers) in [
        (None, false),
        (Some(Environment::Test), false),
        (Some(Environment::Acceptance), true),
    ] {
        let mock = MockServer::start(MockConfig::new(set.clone()).environment(environment))
            .await
            .unwrap();
        assert_eq!(mock.environment(), environment);
        let r = send(&transport, &mock, &s.request).await.unwrap();
        let text = String::from_utf8(r.body).unwrap();
        assert_eq!(
            text.contains("[acceptance] "),
            acceptance_answers,
            "{environment:?}: {text}"
        );
        mock.shutdown().await;
    }
}
