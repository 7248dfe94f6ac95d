//! Recording through a stand-in "real" BCSS that holds real-looking people and demands a
//! Basic-auth password: the caller gets the real replies, while not one original SSIN,
//! name, address, card number or credential reaches the fixtures directory (every byte
//! written is searched), and the redacted fixtures still replay.

mod replay_support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use bcss::Environment;
use bcss::fixture::redact::{RedactionSalt, Redactor};
use bcss::fixture::{FixtureSet, REDACTION_MAP_FILE};
use bcss::ids::{Cbe, Century, Ssin};
use bcss::mock::path_of;
use bcss::services::Outcome;
use bcss::services::health_care_insurance::HciOperation;
use bcss::services::identify_person::{IdentifyPersonRequest, PersonData};
use bcss::services::manage_access::ManageAccessRequest;
use bcss::services::retrieve_ti_groups::Language;
use bcss::transport::http::{HttpTransport, PasswordSource};
use bcss::transport::replay::{Mode, ReplayTransport};
use bcss::transport::{Transport, TransportRequest, TransportResponse};
use bcss::xml::{self, Element, Limits, Node};
use bytes::Bytes;
use chrono::NaiveDate;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use replay_support::{Req, hci, ti};

const PASSWORD: &str = "Corr3ct-Horse-Battery-Staple!";
const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";

/// The real-looking people the stand-in server knows.
struct People {
    pieter: Ssin,
    spouse: Ssin,
    child: Ssin,
}

fn people() -> People {
    People {
        pieter: Ssin::from_parts("790425", 123, Century::Nineteen).unwrap(),
        spouse: Ssin::from_parts("824117", 45, Century::Nineteen).unwrap(),
        child: Ssin::from_parts("080611", 456, Century::Twenty).unwrap(),
    }
}

/// Names, addresses and numbers that must never reach a fixture.
const WORDS: &[&str] = &[
    "JANSSENS",
    "Pieter",
    "Jozef",
    "KOWALSKA",
    "Agnieszka",
    "PEETERS",
    "Sofie",
    "Kerkstraat",
    "6543210987",
    "1979-04-25",
];

/// A reply file of the cast, turned into a reply about real-looking people.
fn realistic(file: &str, p: &People) -> String {
    let path = replay_support::root().join("fixtures/replies").join(file);
    std::fs::read_to_string(&path)
        .unwrap()
        .replace("68070100188", p.pieter.as_str())
        .replace("FICTIF", "JANSSENS")
        .replace("Marc", "Pieter")
        .replace("Albert", "Jozef")
        .replace("Rue de l'Exemple", "Kerkstraat")
        .replace("75411205787", p.spouse.as_str())
        .replace("BISNUMMER", "KOWALSKA")
        .replace("Ivan", "Agnieszka")
        .replace("85031204246", p.child.as_str())
        .replace("VOORBEELD", "PEETERS")
        .replace("Anna", "Sofie")
}

/// A security header some servers add to their replies.
const REPLY_SECURITY: &str = "<wsse:Security xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><wsse:BinarySecurityToken>MIIBszCCAVmgAwIBAgIUReal</wsse:BinarySecurityToken></wsse:Security>";

/// The stand-in BCSS: demands Basic auth, answers about the real-looking people.
async fn stand_in(requests: Arc<AtomicUsize>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("E0212344876:{PASSWORD}"))
    );
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let expected = expected.clone();
            let requests = Arc::clone(&requests);
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let expected = expected.clone();
                        let requests = Arc::clone(&requests);
                        async move {
                            let authorized = req
                                .headers()
                                .get("authorization")
                                .is_some_and(|v| v.as_bytes() == expected.as_bytes());
                            let path = req.uri().path().to_string();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let mut response = if authorized {
                                requests.fetch_add(1, Ordering::SeqCst);
                                let (status, text) = answer(&path, &body);
                                let mut r = Response::new(Full::new(Bytes::from(text)));
                                *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                                r
                            } else {
                                let mut r = Response::new(Full::new(Bytes::from("unauthorised")));
                                *r.status_mut() = hyper::StatusCode::UNAUTHORIZED;
                                r
                            };
                            response
                                .headers_mut()
                                .insert("content-type", "text/xml; charset=utf-8".parse().unwrap());
                            Ok::<_, Infallible>(response)
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn answer(path: &str, body: &[u8]) -> (u16, String) {
    let p = people();
    let text = String::from_utf8_lossy(body);
    let reply = if path == path_of(bcss::services::test_connection::service()) {
        let tree = xml::parse(body, &Limits::default()).unwrap();
        let echo = tree.descendant("echo").unwrap().text().into_owned();
        realistic("v3/TestConnection/ok.xml", &p).replace(
            "Bonjour BCSS, ici le CPAS de Fictiveville",
            &xml::escape_text(&echo),
        )
    } else if path == path_of(bcss::services::retrieve_ti_groups::service()) {
        realistic("v3/RetrieveTIGroups/ok_marc.xml", &p)
    } else if path == path_of(bcss::services::health_care_insurance::service()) {
        realistic("v3/HealthCareInsurance/get_ok_marc.xml", &p)
    } else if text.contains("OCMWCPASManageAccess") {
        realistic("ssdn/ManageAccess/ok.xml", &p)
    } else {
        realistic("ssdn/IdentifyPerson/ok.xml", &p)
    };
    let with_security = reply
        .replacen(
            "<S:Header/>",
            &format!("<S:Header>{REPLY_SECURITY}</S:Header>"),
            1,
        )
        .replacen(
            "<soapenv:Header/>",
            &format!("<soapenv:Header>{REPLY_SECURITY}</soapenv:Header>"),
            1,
        );
    (200, with_security)
}

/// The requests an application makes about the real-looking people.
fn requests(p: &People) -> Vec<Req> {
    vec![
        Req::Identify(
            IdentifyPersonRequest::builder()
                .ssin(p.pieter.clone())
                .person_data(
                    PersonData::new("JANSSENS", "1979-04-25".parse().unwrap()).first_name("Pieter"),
                )
                .build()
                .unwrap(),
        ),
        Req::Manage(
            ManageAccessRequest::register(p.child.clone())
                .purpose(1)
                .period(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(), None)
                .sis_card_number("6543210987")
                .build()
                .unwrap(),
        ),
        ti(p.pieter.as_str(), Language::Fr, false),
        hci(
            HciOperation::GetInsuranceOrganizationInformations,
            p.pieter.as_str(),
        ),
        // Free text quoting a person: the SSIN and a name learned earlier are replaced.
        replay_support::echo(&format!("Dossier {} JANSSENS", p.pieter.as_str())),
    ]
}

/// The envelope with a WS-Security header carrying the password, as an application
/// that signs its messages would send it.
fn with_ws_security(envelope: &[u8]) -> Vec<u8> {
    let mut tree = xml::parse(envelope, &Limits::default()).unwrap();
    let security = Element::ns(WSSE, "Security")
        .with_prefix("wsse")
        .with_child(
            Element::ns(WSSE, "UsernameToken")
                .with_prefix("wsse")
                .with_leaf("Username", "E0212344876")
                .with_leaf("Password", PASSWORD),
        );
    for child in &mut tree.children {
        match child {
            Node::Element(e) if e.name == "Header" => e.push(security.clone()),
            _ => {}
        }
    }
    tree.to_document()
}

async fn call(transport: &dyn Transport, base: &str, req: &Req, body: &[u8]) -> TransportResponse {
    let url = format!("{base}{}", path_of(req.service()));
    transport
        .send(TransportRequest {
            environment: Environment::Acceptance,
            service: req.service(),
            operation: req.operation(),
            endpoint: &url,
            soap_action: req.soap_action(),
            body,
            max_reply_bytes: 1 << 20,
        })
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", req.service()))
}

fn every_file(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            every_file(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[tokio::test]
async fn recording_writes_no_personal_data_or_credentials_and_the_fixtures_replay() {
    let p = people();
    let work = tempfile::tempdir().unwrap();
    let fixtures = work.path().join("fixtures");
    let secrets = work.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let password_file = secrets.join("bcss-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let salt_file = secrets.join("redaction-salt");
    let salt = RedactionSalt::load_or_create(&salt_file).unwrap();

    let served = Arc::new(AtomicUsize::new(0));
    let addr = stand_in(Arc::clone(&served)).await;
    let base = format!("http://{addr}");
    let http = HttpTransport::builder()
        .basic_auth(
            Cbe::new("0212344876").unwrap(),
            PasswordSource::File(password_file),
        )
        .build()
        .unwrap();
    let recorder = ReplayTransport::builder(&fixtures)
        .mode(Mode::Record)
        .inner(Arc::new(http))
        .redaction_salt(salt.clone())
        .build()
        .unwrap();

    let requests = requests(&p);
    let bodies: Vec<Vec<u8>> = requests
        .iter()
        .map(|r| with_ws_security(&r.encode()))
        .collect();
    for (req, body) in requests.iter().zip(&bodies) {
        let reply = call(&recorder, &base, req, body).await;
        // The caller gets the real reply.
        assert_eq!(reply.status, 200, "{}", req.service());
        let text = String::from_utf8_lossy(&reply.body);
        assert!(
            text.contains(p.pieter.as_str()) || text.contains(p.child.as_str()),
            "{}: {text}",
            req.service()
        );
        assert_eq!(
            req.outcome(reply.status, &reply.body),
            Outcome::Ok,
            "{}",
            req.service()
        );
    }
    assert_eq!(
        served.load(Ordering::SeqCst),
        requests.len(),
        "every call passed Basic auth"
    );

    // Every byte written under the fixtures directory.
    let mut files = Vec::new();
    every_file(&fixtures, &mut files);
    assert_eq!(files.len(), requests.len() + 1, "{files:?}");
    assert!(files.iter().any(|f| f.ends_with(REDACTION_MAP_FILE)));
    let salt_hex = std::fs::read_to_string(&salt_file).unwrap();
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("E0212344876:{PASSWORD}"));
    let mut forbidden: Vec<String> = vec![
        p.pieter.as_str().to_string(),
        p.spouse.as_str().to_string(),
        p.child.as_str().to_string(),
        PASSWORD.to_string(),
        credentials,
        salt_hex.trim().to_string(),
        "UsernameToken".to_string(),
        "BinarySecurityToken".to_string(),
        "MIIBszCCAVmgAwIBAgIUReal".to_string(),
    ];
    forbidden.extend(WORDS.iter().map(|w| w.to_string()));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let lower = String::from_utf8_lossy(&bytes).to_lowercase();
        for needle in &forbidden {
            assert!(
                !lower.contains(&needle.to_lowercase()),
                "{} holds {needle:?}",
                file.display()
            );
        }
    }

    // The same real person is the same fictitious person in every file.
    let fake_pieter = Redactor::open(&fixtures, salt.clone())
        .unwrap()
        .fictitious_ssin(&p.pieter);
    assert!(Ssin::new(&fake_pieter).is_ok());
    let holding: Vec<_> = files
        .iter()
        .filter(|f| !f.ends_with(REDACTION_MAP_FILE))
        .filter(|f| std::fs::read_to_string(f).unwrap().contains(&fake_pieter))
        .collect();
    assert_eq!(
        holding.len(),
        4,
        "IdentifyPerson, RetrieveTIGroups, HealthCareInsurance, TestConnection: {holding:?}"
    );

    // The redacted fixtures load and replay, with no salt and no network: a request about
    // the fictitious person gets the redacted reply, which decodes (the decoders check
    // that the reply is about the person asked for).
    let set = FixtureSet::load(&fixtures).unwrap();
    assert_eq!(set.len(), requests.len());
    let replay = ReplayTransport::replay(&fixtures).unwrap();
    for req in [
        ti(&fake_pieter, Language::Fr, false),
        hci(
            HciOperation::GetInsuranceOrganizationInformations,
            &fake_pieter,
        ),
    ] {
        let body = req.encode();
        let reply = call(&replay, "http://unused.invalid", &req, &body).await;
        assert_eq!(
            req.outcome(reply.status, &reply.body),
            Outcome::Ok,
            "{}",
            req.service()
        );
        let text = String::from_utf8_lossy(&reply.body);
        assert!(!text.contains("JANSSENS") && text.contains(&fake_pieter));
    }

    // With the salt, the application's real requests find their redacted fixtures:
    // record-missing sends nothing more to the server.
    let again = ReplayTransport::builder(&fixtures)
        .mode(Mode::RecordMissing)
        .inner(Arc::new(HttpTransport::builder().build().unwrap()))
        .redaction_salt(salt)
        .build()
        .unwrap();
    for (req, body) in requests.iter().zip(&bodies) {
        let reply = call(&again, &base, req, body).await;
        // The reply is about the person asked for: the stand-ins of the request's own
        // values are put back (in memory only).
        assert_eq!(
            req.outcome(reply.status, &reply.body),
            Outcome::Ok,
            "{}",
            req.service()
        );
        if matches!(req, Req::Ti(_)) {
            let text = String::from_utf8_lossy(&reply.body);
            assert!(text.contains(p.pieter.as_str()) && !text.contains(&fake_pieter));
        }
    }
    assert_eq!(served.load(Ordering::SeqCst), requests.len());
    // Replaying wrote nothing new.
    let mut after = Vec::new();
    every_file(&fixtures, &mut after);
    assert_eq!(after.len(), files.len());
}
