//! The replay transport's matching: XML-aware (prefixes, namespace declarations,
//! whitespace, CDATA versus escaped text do not matter), volatile fields ignored, an
//! unmatched request explained by the closest fixture and its first difference (SSINs
//! masked), and never a fall-through to the network.
//!
//! Requests crafted byte by byte (other prefixes, tickets, callers, operations) are put
//! to the matcher the replay transport uses ([`FixtureSet::find`]); requests an
//! application makes go through a client, the only way a transport sends.

mod pipeline_support;
mod replay_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bcss::Environment;
use bcss::endpoints::Endpoints;
use bcss::fixture::{Fixture, FixtureSet, NoMatch, Query, format};
use bcss::ids::{Century, Ssin};
use bcss::services::retrieve_ti_groups::Language;
use bcss::transport::replay::{Mode, ReplayTransport};
use bcss::transport::{BoxFuture, SendPermit, Transport, TransportError, TransportResponse};
use bcss::xml::{self, Element, Limits, Node};
use replay_support::{MARC, Req, exchanges_dir, identify, scenario, ti};

fn shipped() -> Arc<ReplayTransport> {
    Arc::new(
        ReplayTransport::builder(exchanges_dir())
            .simulate_delays(false)
            .build()
            .unwrap(),
    )
}

/// What the replay transport's matcher says of `body`, sent for `req`'s service and
/// `operation` in `environment`.
fn find(
    req: &Req,
    operation: &str,
    body: &[u8],
    environment: Environment,
) -> Result<Arc<Fixture>, NoMatch> {
    let set = FixtureSet::load(&exchanges_dir()).unwrap();
    let services = [req.service().clone()];
    set.find(
        &Query {
            services: &services,
            operation: Some(operation),
            environment: Some(environment),
            body,
        },
        &Limits::default(),
    )
}

/// `req` through a client of `environment` over `transport`.
async fn through(
    transport: &Arc<ReplayTransport>,
    req: &Req,
    environment: Environment,
) -> Result<TransportResponse, TransportError> {
    req.exchange(transport.clone(), environment, Endpoints::defaults())
        .await
}

/// Rename every prefix, drop the default namespace in favour of prefixes, and write
/// without any whitespace.
fn reprefixed(e: &Element, n: &mut usize) -> Element {
    let mut out = e.clone();
    if out.namespace.is_some() {
        *n += 1;
        out.prefix = Some(format!("p{n}"));
    }
    out.children = e
        .children
        .iter()
        .map(|c| match c {
            Node::Element(c) => Node::Element(reprefixed(c, n)),
            Node::Text(t) => Node::Text(t.clone()),
        })
        .collect();
    out
}

#[tokio::test]
async fn prefixes_namespace_declarations_and_whitespace_do_not_matter() {
    for name in [
        "RetrieveTIGroups/marc-fr-ok",
        "HealthCareInsurance/anna-maf-ok",
        "IdentifyPerson/marc-by-ssin-ok",
    ] {
        let s = scenario(name);
        let tree = xml::parse(&s.request.encode(), &Limits::default()).unwrap();
        let mut n = 0;
        let mut other = reprefixed(&tree, &mut n);
        // The SSDN document inside xmlString gets the same treatment, and travels escaped
        // (the fixture holds it as indented CDATA).
        let payload = other
            .children
            .iter_mut()
            .find_map(|c| match c {
                Node::Element(e) if e.name == "Body" => Some(e),
                _ => None,
            })
            .and_then(|body| body.children.first_mut());
        match payload {
            Some(Node::Element(payload)) if payload.name == "xmlString" => {
                let inner = xml::parse(payload.text().as_bytes(), &Limits::default()).unwrap();
                let mut m = 100;
                let inner = reprefixed(&inner, &mut m).to_xml();
                payload.children = vec![Node::Text(format!("\n\n   {inner}\n"))];
            }
            _ => {}
        }
        let text = other.to_xml();
        assert!(text.contains("p1:Envelope"), "{text}");
        let fixture = find(
            &s.request,
            s.request.operation(),
            text.as_bytes(),
            Environment::Test,
        )
        .unwrap_or_else(|e| panic!("{name}: {}\n{text}", e.message));
        assert_eq!(fixture.name, name);
        assert_eq!(fixture.reply.status, 200, "{name}");
    }
}

#[tokio::test]
async fn tickets_timestamps_references_and_the_caller_do_not_matter() {
    let s = scenario("RetrieveTIGroups/anna-nl-history-ok");
    let mut h = replay_support::header(s.request.purpose());
    h.ticket = uuid::Uuid::now_v7();
    h.sent_at = chrono::Utc::now();
    h.organization = bcss::ids::Cbe::new("0123456749").unwrap();
    let body = s.request.encode_with(&h);
    let fixture = find(&s.request, s.request.operation(), &body, Environment::Test).unwrap();
    assert_eq!(fixture.reply.status, 200);
    // Through a client too: its own ticket and time.
    let reply = through(&shipped(), &s.request, Environment::Test)
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    // The purpose is business content: another legalContext does not match.
    h.legal_context = "PCSA:OTHER_PURPOSE".into();
    let body = s.request.encode_with(&h);
    let e = find(&s.request, s.request.operation(), &body, Environment::Test).unwrap_err();
    assert!(e.message.contains("legalContext"), "{}", e.message);
}

#[tokio::test]
async fn an_unmatched_request_names_the_closest_fixture_and_the_first_difference() {
    let transport = shipped();
    // Marc with history: only the history flag differs from marc-fr-ok.
    let req = ti(MARC, Language::Fr, true);
    let e = through(&transport, &req, Environment::Test)
        .await
        .unwrap_err();
    let TransportError::NoFixture(message) = &e else {
        panic!("{e:?}")
    };
    assert!(
        message.contains("closest is RetrieveTIGroups/marc-fr-ok"),
        "{message}"
    );
    assert!(
        message.contains(
            "/retrieveTIGroupsRequest/searchInformation/history: expected \"false\", actual \"true\""
        ),
        "{message}"
    );
    assert!(!message.contains(MARC), "{message}");

    // Someone not in the cast: the difference is the SSIN, masked on both sides.
    let stranger = Ssin::from_parts("910203", 45, Century::Nineteen).unwrap();
    let req = identify(stranger.as_str());
    let e = through(&transport, &req, Environment::Test)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("closest is IdentifyPerson/"), "{e}");
    assert!(
        e.contains(
            "/SSDNRequest/ServiceRequest/IdentifyPersonRequest/SearchCriteria/SSIN: expected \""
        ),
        "{e}"
    );
    assert!(e.contains("actual \"910203*****\""), "{e}");
    assert!(!e.contains(stranger.as_str()), "{e}");
    for person in [
        MARC,
        replay_support::ANNA,
        replay_support::LINA,
        replay_support::OSCAR,
        replay_support::NOOR,
    ] {
        assert!(!e.contains(person), "{e}");
    }
}

#[tokio::test]
async fn same_content_under_another_operation_is_not_a_match() {
    let s = scenario("HealthCareInsurance/anna-maf-ok");
    let body = s.request.encode();
    let e = find(&s.request, "consultHolderCode", &body, Environment::Test)
        .unwrap_err()
        .message;
    assert!(
        e.contains("closest is HealthCareInsurance/anna-maf-ok"),
        "{e}"
    );
    assert!(e.contains("but for operation consultMAF"), "{e}");
}

#[tokio::test]
async fn a_fixture_of_the_same_environment_is_preferred() {
    let s = scenario("TestConnection/echo-ok");
    let test = s.fixture();
    let mut acceptance = s.fixture();
    acceptance.environment = Environment::Acceptance;
    acceptance.name = "TestConnection/echo-ok-acpt".into();
    acceptance.reply.body = Some(
        acceptance
            .reply
            .body
            .unwrap()
            .replace("Bonjour BCSS", "Goedendag BCSS"),
    );
    let transport = Arc::new(ReplayTransport::from_set(
        FixtureSet::from_fixtures([test, acceptance]).unwrap(),
    ));
    for (env, greeting) in [
        (Environment::Test, "Bonjour BCSS"),
        (Environment::Acceptance, "Goedendag BCSS"),
        // No production fixture: any environment matches.
        (Environment::Production, "Bonjour BCSS"),
    ] {
        let reply = through(&transport, &s.request, env).await.unwrap();
        let text = String::from_utf8(reply.body).unwrap();
        assert!(text.contains(greeting), "{env}: {text}");
    }
}

#[derive(Debug, Default)]
struct CountingInner {
    calls: AtomicUsize,
}

impl Transport for CountingInner {
    fn send<'a>(
        &'a self,
        _permit: &'a SendPermit<'_>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            Err(TransportError::Connect {
                endpoint: "inner".into(),
                reason: "the stand-in network is down".into(),
            })
        })
    }
}

#[tokio::test]
async fn replay_never_reaches_the_network_and_record_missing_only_when_unmatched() {
    // Replay mode has no inner transport at all; an unmatched request is NoFixture.
    let transport = shipped();
    let req = ti(MARC, Language::De, true);
    assert!(matches!(
        through(&transport, &req, Environment::Production).await,
        Err(TransportError::NoFixture(_))
    ));

    // record-missing: a matched request is replayed without touching the inner
    // transport, an unmatched one goes through it.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("fixtures");
    let s = scenario("TestConnection/echo-ok");
    let path = s.path(&copy);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format::to_toml(&s.fixture())).unwrap();
    let inner = Arc::new(CountingInner::default());
    let transport = Arc::new(
        ReplayTransport::builder(&copy)
            .mode(Mode::RecordMissing)
            .inner(inner.clone())
            .redaction_salt(bcss::fixture::redact::RedactionSalt::generate())
            .build()
            .unwrap(),
    );
    through(&transport, &s.request, Environment::Test)
        .await
        .unwrap();
    assert_eq!(inner.calls.load(Ordering::SeqCst), 0);
    let other = replay_support::echo("not recorded");
    let e = through(&transport, &other, Environment::Test)
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::Connect { .. }), "{e:?}");
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_broken_fixture_fails_the_load_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario("TestConnection/echo-ok");
    let path = s.path(dir.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = format::to_toml(&s.fixture()).replace("status = 200", "status = \"OK\"");
    std::fs::write(&path, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("status = \"OK\""))
        .unwrap()
        + 1;
    let e = ReplayTransport::replay(dir.path()).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}:{line}:", path.display())), "{e}");

    // A fixture in the wrong service directory.
    std::fs::write(
        &path,
        format::to_toml(&scenario("IdentifyPerson/marc-by-ssin-ok").fixture()),
    )
    .unwrap();
    let e = ReplayTransport::replay(dir.path()).unwrap_err().to_string();
    assert!(e.contains("move it to IdentifyPerson/"), "{e}");
}

#[test]
fn two_fixtures_of_the_same_request_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario("RetrieveTIGroups/marc-fr-ok");
    let service_dir = dir
        .path()
        .join(bcss::services::retrieve_ti_groups::service().name());
    std::fs::create_dir_all(&service_dir).unwrap();
    let text = format::to_toml(&s.fixture());
    std::fs::write(service_dir.join("a.toml"), &text).unwrap();
    // Same request with other prefixes and a different description: still the same.
    std::fs::write(
        service_dir.join("b.toml"),
        text.replace("<ns:", "<x:")
            .replace("</ns:", "</x:")
            .replace("xmlns:ns=", "xmlns:x=")
            .replace("National Register data of Marc FICTIF, in French", "a copy"),
    )
    .unwrap();
    let e = ReplayTransport::replay(dir.path()).unwrap_err().to_string();
    assert!(e.contains("a.toml") && e.contains("b.toml"), "{e}");
    assert!(
        e.contains("record the same RetrieveTIGroups retrieveTI request"),
        "{e}"
    );
}

#[test]
fn every_broken_fixture_is_reported_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let s = scenario(name);
        let path = s.path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        (path, text.to_string())
    };
    let line_of =
        |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    // Three broken files and one good one.
    let echo = format::to_toml(&scenario("TestConnection/echo-ok").fixture());
    let (bad_status, written) = write(
        "TestConnection/echo-ok",
        &echo.replace("status = 200", "status = \"OK\""),
    );
    let bad_status_line = line_of(&written, "status = \"OK\"");
    let ti = format::to_toml(&scenario("RetrieveTIGroups/marc-fr-ok").fixture());
    let (bad_service, written) = write(
        "RetrieveTIGroups/marc-fr-ok",
        &ti.replace(
            "service = \"RetrieveTIGroups\"",
            "service = \"RetrieveTIGroup\"",
        ),
    );
    let bad_service_line = line_of(&written, "service = \"RetrieveTIGroup\"");
    let hci = format::to_toml(&scenario("HealthCareInsurance/marc-maf-refused").fixture());
    let (bad_simulation, written) = write(
        "HealthCareInsurance/marc-maf-refused",
        &hci.replacen("[request]", "[simulate]\nunavailable = true\nsoap_fault = { code = \"soapenv:Server\", string = \"x\" }\n\n[request]", 1),
    );
    let bad_simulation_line = line_of(&written, "soap_fault = {");
    write(
        "IdentifyPerson/marc-by-ssin-ok",
        &format::to_toml(&scenario("IdentifyPerson/marc-by-ssin-ok").fixture()),
    );

    let e = ReplayTransport::replay(dir.path()).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("3 problems in the fixtures:\n"), "{text}");
    for (path, line) in [
        (&bad_status, bad_status_line),
        (&bad_service, bad_service_line),
        (&bad_simulation, bad_simulation_line),
    ] {
        assert!(
            text.contains(&format!("{}:{line}:", path.display())),
            "{}:{line} missing from:\n{text}",
            path.display()
        );
    }
    assert!(
        text.contains("unknown service \"RetrieveTIGroup\""),
        "{text}"
    );
    assert!(text.contains("at most one of"), "{text}");
    // The mock refuses to start for the same reasons, all of them.
    let e = bcss::mock::MockConfig::from_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("3 problems"), "{e}");
}
