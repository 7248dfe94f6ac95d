//! Recording through a stand-in "acceptance BCSS" (`record_support`) that holds invented
//! people with real-looking data and demands a Basic-auth password: the caller gets the
//! real replies, while not one original SSIN, name, street, house number, birth date (in
//! any form, National Register parts included), street code, card or act number, or
//! credential reaches the fixtures directory (every byte written is searched). The same
//! person is the same fictitious person in every file, as a spouse too, born on their
//! fictitious SSIN's date; the redacted fixtures replay, and serve through the mock.

mod pipeline_support;
mod record_support;
mod replay_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use bcss::Environment;
use bcss::endpoints::Endpoints;
use bcss::fixture::cast::Cast;
use bcss::fixture::record::{Exchange, record};
use bcss::fixture::redact::{RedactionSalt, Redactor};
use bcss::fixture::{Fixture, FixtureSet, REDACTION_MAP_FILE};
use bcss::ids::{Cbe, Century, Ssin, SsinKind};
use bcss::mock::{MockConfig, MockServer};
use bcss::services::Outcome;
use bcss::services::health_care_insurance::HciOperation;
use bcss::services::identify_person::{IdentifyPersonRequest, PersonData};
use bcss::services::manage_access::ManageAccessRequest;
use bcss::services::retrieve_ti_groups::Language;
use bcss::services::test_connection;
use bcss::transport::http::{HttpTransport, PasswordSource};
use bcss::transport::replay::{Mode, ReplayTransport};
use bcss::transport::{Transport, TransportResponse};
use bcss::xml::{self, Element, Limits, Node};
use chrono::NaiveDate;
use record_support::{
    CARDS_ISSUED, Day, HOUSE, MARRIAGE_ACT, MARRIED, MOVED_IN, PASSWORD, People, SIS_CARD, STREET,
    STREET_CODE, people, stand_in,
};
use replay_support::{Req, echo, hci, identify, investigate_all, ti};

const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";

fn manage(ssin: &Ssin) -> Req {
    manage_with_card(ssin, SIS_CARD)
}

fn manage_with_card(ssin: &Ssin, card: &str) -> Req {
    Req::Manage(
        ManageAccessRequest::register(ssin.clone())
            .purpose(1)
            .period(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(), None)
            .sis_card_number(card)
            .build()
            .unwrap(),
    )
}

/// The SSDN document a fixture's request carries in its `xmlString`.
fn ssdn_document(fixture: &Fixture) -> Element {
    let envelope = xml::parse(fixture.request.body.as_bytes(), &Limits::default()).unwrap();
    let text = envelope
        .descendant("xmlString")
        .unwrap()
        .text()
        .trim()
        .to_string();
    xml::parse(text.as_bytes(), &Limits::default()).unwrap()
}

/// The requests an application makes about the household, in this order: named fields
/// first, so that a name quoted later in free text is known.
fn requests(p: &People) -> Vec<Req> {
    let (pieter, agnieszka, lotte) = (&p.pieter, &p.agnieszka, &p.lotte);
    vec![
        Req::Identify(
            IdentifyPersonRequest::builder()
                .ssin(pieter.ssin.clone())
                .person_data(
                    PersonData::new(pieter.last, pieter.born.iso().parse().unwrap())
                        .first_name(pieter.first[0]),
                )
                .build()
                .unwrap(),
        ),
        identify(lotte.ssin.as_str()),
        ti(pieter.ssin.as_str(), Language::Fr, false),
        ti(agnieszka.ssin.as_str(), Language::Fr, false),
        ti(lotte.ssin.as_str(), Language::Fr, false),
        investigate_all(pieter.ssin.as_str()),
        manage(&lotte.ssin),
        hci(
            HciOperation::GetInsuranceOrganizationInformations,
            pieter.ssin.as_str(),
        ),
        // Free text quoting a person: the SSIN, a name and a birth date learned earlier.
        echo(&format!(
            "Dossier {} {} {}, geboren {}",
            pieter.ssin.as_str(),
            pieter.last,
            pieter.first[0],
            pieter.born.forms()[2]
        )),
    ]
}

/// The real person a request is about, if any.
fn subject(req: &Req) -> Option<Ssin> {
    let text = String::from_utf8(req.encode()).unwrap();
    people()
        .all()
        .into_iter()
        .find(|x| text.contains(x.ssin.as_str()))
        .map(|x| x.ssin.clone())
}

/// The same request about the fictitious person `fake`, as a tester would write it
/// (used to decode the replies replayed: decoders check that a reply is about the
/// person asked for). What the fixture's request holds beyond the person (the stand-ins
/// of a name, birth date or card number; a connection test's echo) is taken from it.
fn twin(req: &Req, fixture: &Fixture, fake: Option<&Ssin>) -> Req {
    let fake = || fake.unwrap().as_str();
    match req {
        Req::Identify(_) => {
            let doc = ssdn_document(fixture);
            match doc.descendant("PersonData") {
                None => identify(fake()),
                Some(data) => {
                    let text = |n: &str| data.child(n).unwrap().text().trim().to_string();
                    let mut person =
                        PersonData::new(text("LastName"), text("BirthDate").parse().unwrap());
                    if data.child("FirstName").is_some() {
                        person = person.first_name(text("FirstName"));
                    }
                    Req::Identify(
                        IdentifyPersonRequest::builder()
                            .ssin(Ssin::new(fake()).unwrap())
                            .person_data(person)
                            .build()
                            .unwrap(),
                    )
                }
            }
        }
        Req::Ti(_) => ti(fake(), Language::Fr, false),
        Req::Investigate(_) => investigate_all(fake()),
        Req::Manage(_) => {
            let doc = ssdn_document(fixture);
            let card = doc
                .descendant("SISCardNumber")
                .unwrap()
                .text()
                .trim()
                .to_string();
            manage_with_card(&Ssin::new(fake()).unwrap(), &card)
        }
        Req::Hci(_) => hci(HciOperation::GetInsuranceOrganizationInformations, fake()),
        Req::Test(_) => {
            let tree = xml::parse(fixture.request.body.as_bytes(), &Limits::default()).unwrap();
            echo(tree.descendant("echo").unwrap().text().trim())
        }
    }
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

/// `req` through a client of the acceptance environment whose endpoints are `endpoints`,
/// sending through `transport`: the only way a transport sends.
async fn send(
    transport: &Arc<dyn Transport>,
    endpoints: Endpoints,
    req: &Req,
) -> TransportResponse {
    req.exchange(transport.clone(), Environment::Acceptance, endpoints)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", req.service()))
}

/// Endpoints sending every service of acceptance to `base`, under its real path.
fn at(base: &str) -> Endpoints {
    Endpoints::defaults()
        .with_base_url(Environment::Acceptance, base)
        .unwrap()
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

/// Every date written in parts (`Century`/`Year`/`Month`/`Day`) in a document, SSDN
/// documents inside `xmlString` included.
fn split_dates(e: &Element, out: &mut Vec<Day>) {
    if e.name == "xmlString" {
        if let Ok(inner) = xml::parse(e.text().trim().as_bytes(), &Limits::default()) {
            split_dates(&inner, out);
        }
        return;
    }
    let part = |n: &str| e.child(n).and_then(|c| c.text().trim().parse::<u32>().ok());
    if let (Some(c), Some(y)) = (part("Century"), part("Year")) {
        out.push(Day(
            c * 100 + y,
            part("Month").unwrap_or(0),
            part("Day").unwrap_or(0),
        ));
    }
    for c in e.elements() {
        split_dates(c, out);
    }
}

/// The birth date an SSIN encodes.
fn born(ssin: &Ssin) -> Day {
    let d = ssin.as_str();
    let n = |r: std::ops::Range<usize>| d[r].parse::<u32>().unwrap();
    let century = match ssin.century() {
        Century::Nineteen => 1900,
        Century::Twenty => 2000,
    };
    Day(century + n(0..2), n(2..4) % 20, n(4..6))
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
    // A fixed salt, so that the fictitious values (and this test) are the same each run.
    let salt_file = secrets.join("redaction-salt");
    std::fs::write(&salt_file, hex::encode([0x5au8; 32])).unwrap();
    let salt = RedactionSalt::load_or_create_outside(&salt_file, &fixtures).unwrap();

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
    let recorder: Arc<dyn Transport> = Arc::new(
        ReplayTransport::builder(&fixtures)
            .mode(Mode::Record)
            .inner(Arc::new(http))
            .redaction_salt(salt.clone())
            .build()
            .unwrap(),
    );

    let requests = requests(&p);
    for req in &requests {
        let reply = send(&recorder, at(&base), req).await;
        // The caller gets the real reply, which decodes.
        assert_eq!(reply.status, 200, "{}", req.service());
        let text = String::from_utf8_lossy(&reply.body);
        assert!(
            p.all().iter().any(|x| text.contains(x.ssin.as_str())),
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
    // Searched as substrings: long enough not to occur by chance.
    let mut forbidden: Vec<String> = vec![
        PASSWORD.to_string(),
        credentials,
        salt_hex.trim().to_string(),
        "UsernameToken".to_string(),
        "BinarySecurityToken".to_string(),
        "MIIBszCCAVmgAwIBAgIUReal".to_string(),
        STREET.to_string(),
        SIS_CARD.to_string(),
        MARRIED.iso(),
        MOVED_IN.iso(),
        // The address dates of the investigation's reply file.
        "2015-04-01".to_string(),
        "2007-10-15".to_string(),
    ];
    // Searched as whole words: short numbers and codes.
    let mut forbidden_words: Vec<String> = vec![
        HOUSE.to_string(),
        STREET_CODE.to_string(),
        MARRIAGE_ACT.to_string(),
    ];
    for person in p.all() {
        forbidden.push(person.ssin.as_str().to_string());
        forbidden.push(person.last.to_string());
        forbidden.extend(person.first.iter().map(|f| f.to_string()));
        forbidden.extend(person.born.forms());
        forbidden.push(person.card.to_string());
        forbidden.push(person.card.replace('-', ""));
        forbidden.push(person.birth_place.1.to_string());
        forbidden_words.push(person.birth_place.0.to_string());
        forbidden_words.push(person.birth_act.to_string());
    }
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lower = text.to_lowercase();
        for needle in &forbidden {
            assert!(
                !lower.contains(&needle.to_lowercase()),
                "{} holds {needle:?}",
                file.display()
            );
        }
        let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
        for word in &forbidden_words {
            assert!(
                !words.contains(&word.as_str()),
                "{} holds {word:?}",
                file.display()
            );
        }
    }
    // No date in parts is one of the household's real dates.
    let set = FixtureSet::load(&fixtures).unwrap();
    assert_eq!(set.len(), requests.len());
    let real_dates: Vec<Day> = p
        .all()
        .iter()
        .map(|x| x.born)
        .chain([MARRIED, MOVED_IN, CARDS_ISSUED])
        .collect();
    let mut seen = Vec::new();
    for f in set.iter() {
        let reply = xml::parse(
            f.reply.body.as_ref().unwrap().as_bytes(),
            &Limits::default(),
        );
        split_dates(&reply.unwrap(), &mut seen);
    }
    assert_eq!(seen.len(), 20, "{seen:?}");
    for day in &seen {
        assert!(!real_dates.contains(day), "{day:?} survived");
    }

    // The same person is the same fictitious person in every file, and as a spouse.
    let mut redactor = Redactor::open(&fixtures, salt.clone()).unwrap();
    let mut fake = |s: &Ssin| Ssin::new(&redactor.fictitious_ssin(s)).unwrap();
    let (pieter, agnieszka, lotte) = (
        fake(&p.pieter.ssin),
        fake(&p.agnieszka.ssin),
        fake(&p.lotte.ssin),
    );
    let holding = |ssin: &Ssin| {
        set.iter()
            .filter(|f| {
                f.request.body.contains(ssin.as_str())
                    || f.reply
                        .body
                        .as_deref()
                        .unwrap_or("")
                        .contains(ssin.as_str())
            })
            .count()
    };
    // IdentifyPerson, his register, hers (as her spouse), the investigation,
    // HealthCareInsurance, and the free text of TestConnection.
    assert_eq!(holding(&pieter), 6);
    // Her register and his (as his spouse).
    assert_eq!(holding(&agnieszka), 2);
    // IdentifyPerson, her register, the investigation (family), ManageAccess.
    assert_eq!(holding(&lotte), 4);
    // Their kinds are kept: a BIS number stays one, the child is born after 2000.
    assert_eq!(agnieszka.kind(), SsinKind::BisGenderKnown);
    assert_eq!(lotte.century(), Century::Twenty);
    assert!(born(&lotte).0 >= 2000, "{:?}", born(&lotte));
    // The replies tell one story: one name per person, and every birth date (ISO or in
    // parts) is the one their fictitious SSIN encodes.
    let cast = Cast::of(&set);
    let conflicts: Vec<String> = cast.conflicts().iter().map(|c| c.to_string()).collect();
    assert!(conflicts.is_empty(), "{}", conflicts.join("\n"));
    let his_name = cast.name(&pieter).unwrap().to_string();
    let her_name = cast.name(&agnieszka).unwrap().to_string();
    assert_eq!(his_name.split(' ').count(), 3, "{his_name}");
    assert!(!his_name.contains(p.pieter.last) && !her_name.contains(p.agnieszka.last));
    // His register names her as his spouse, under the name her own register gives her.
    let his_register = set
        .iter()
        .find(|f| {
            f.service.name() == "RetrieveTIGroups" && f.request.body.contains(pieter.as_str())
        })
        .unwrap();
    let tree = xml::parse(
        his_register.reply.body.as_ref().unwrap().as_bytes(),
        &Limits::default(),
    )
    .unwrap();
    let spouse = tree.descendant("Spouse").unwrap();
    assert_eq!(
        spouse
            .descendant("NationalNumber")
            .unwrap()
            .descendant("NationalNumber")
            .unwrap()
            .text(),
        agnieszka.as_str()
    );
    assert!(
        her_name.ends_with(
            spouse
                .descendant("LastName")
                .unwrap()
                .child("Label")
                .unwrap()
                .text()
                .as_ref()
        )
    );
    let identify_file = set
        .iter()
        .find(|f| f.service.name() == "IdentifyPerson" && f.request.body.contains(pieter.as_str()))
        .unwrap();
    let reply_of = |f: &Fixture| f.reply.body.clone().unwrap_or_default();
    let holds =
        |text: &str, needle: &str| assert!(text.contains(needle), "{needle} missing:\n{text}");
    let Day(y, m, d) = born(&pieter);
    holds(
        &reply_of(identify_file),
        &format!("<ns3:BirthDate>{y:04}-{m:02}-{d:02}</ns3:BirthDate>"),
    );
    // What is not personal data is kept: the program number, the organisation's CBE
    // number, BCSS's reason codes.
    holds(&identify_file.request.body, "<UserID>00912345673</UserID>");
    holds(&reply_of(identify_file), "<OrgUnit>0212344876</OrgUnit>");
    holds(
        &reply_of(identify_file),
        "<ns2:ReasonCode>12007001</ns2:ReasonCode>",
    );
    holds(&reply_of(his_register), "<cbeNumber>0212344876</cbeNumber>");

    // The redacted fixtures replay with no salt and no network, and serve through the
    // mock (which says it serves acceptance first): each fixture's request gets its
    // reply, which decodes about the fictitious person asked for.
    let replay: Arc<dyn Transport> = Arc::new(ReplayTransport::replay(&fixtures).unwrap());
    let mock = MockServer::start(
        MockConfig::from_dir(&fixtures)
            .unwrap()
            .environment(Some(Environment::Acceptance)),
    )
    .await
    .unwrap();
    let over_http: Arc<dyn Transport> = Arc::new(HttpTransport::builder().build().unwrap());
    let fake_of = |s: &Ssin| {
        [
            (&p.pieter.ssin, &pieter),
            (&p.agnieszka.ssin, &agnieszka),
            (&p.lotte.ssin, &lotte),
        ]
        .into_iter()
        .find(|(real, _)| *real == s)
        .map(|(_, f)| f.clone())
        .unwrap()
    };
    for req in &requests {
        let fake_subject = subject(req).map(|s| fake_of(&s));
        let fixture = set
            .iter()
            .find(|f| {
                f.service == req.service()
                    && fake_subject
                        .as_ref()
                        .is_none_or(|s| f.request.body.contains(s.as_str()))
            })
            .unwrap();
        let twin = twin(req, fixture, fake_subject.as_ref());
        let replayed = send(&replay, Endpoints::defaults(), &twin).await;
        assert_eq!(
            twin.outcome(replayed.status, &replayed.body),
            Outcome::Ok,
            "{}",
            fixture.name
        );
        let to_mock = Endpoints::defaults()
            .with_service_url(
                Environment::Acceptance,
                req.service(),
                &mock.url(req.service()),
            )
            .unwrap();
        let served = send(&over_http, to_mock, &twin).await;
        assert_eq!(
            twin.outcome(served.status, &served.body),
            Outcome::Ok,
            "{}",
            fixture.name
        );
    }
    // A tester's own request about the fictitious person matches too.
    let tester = ti(pieter.as_str(), Language::Fr, false);
    let reply = send(&replay, Endpoints::defaults(), &tester).await;
    assert_eq!(tester.outcome(reply.status, &reply.body), Outcome::Ok);
    assert_eq!(mock.stats().unmatched, 0);
    mock.shutdown().await;

    // With the salt, the application's real requests find their redacted fixtures:
    // record-missing sends nothing more to the server.
    let again: Arc<dyn Transport> = Arc::new(
        ReplayTransport::builder(&fixtures)
            .mode(Mode::RecordMissing)
            .inner(Arc::new(HttpTransport::builder().build().unwrap()))
            .redaction_salt(salt)
            .build()
            .unwrap(),
    );
    for req in &requests {
        let reply = send(&again, at(&base), req).await;
        // The reply is about the person asked for: the stand-ins of the request's own
        // values are put back (in memory only).
        assert_eq!(
            req.outcome(reply.status, &reply.body),
            Outcome::Ok,
            "{}",
            req.service()
        );
        if let (Req::Ti(_), Some(real)) = (req, subject(req)) {
            let text = String::from_utf8_lossy(&reply.body);
            assert!(text.contains(real.as_str()), "{text}");
            assert!(!text.contains(fake_of(&real).as_str()), "{text}");
        }
    }
    assert_eq!(served.load(Ordering::SeqCst), requests.len());
    // Replaying wrote nothing new.
    let mut after = Vec::new();
    every_file(&fixtures, &mut after);
    assert_eq!(after.len(), files.len());
}

/// An application that adds a WS-Security header with its password to what it sends
/// (bcss's own call path never does): recording such an exchange writes neither the
/// password nor the token.
#[test]
fn a_ws_security_header_in_a_recorded_request_is_not_written() {
    let work = tempfile::tempdir().unwrap();
    let fixtures = work.path().join("fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    let salt_file = work.path().join("redaction-salt");
    std::fs::write(&salt_file, hex::encode([0x5au8; 32])).unwrap();
    let salt = RedactionSalt::load_or_create_outside(&salt_file, &fixtures).unwrap();
    let mut redactor = Redactor::open(&fixtures, salt).unwrap();
    let req = echo("Bonjour");
    let request = with_ws_security(&req.encode());
    assert!(String::from_utf8_lossy(&request).contains(PASSWORD));
    let reply = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><ns:sendTestMessageResponse xmlns:ns=\"http://kszbcss.fgov.be/intf/TestConnectionService/v1\"><echo>Bonjour</echo><sslCertificate>x</sslCertificate></ns:sendTestMessageResponse></soapenv:Body></soapenv:Envelope>";
    let service = test_connection::service();
    record(
        &fixtures,
        &mut redactor,
        &Exchange {
            service,
            operation: "sendTestMessage",
            environment: Environment::Acceptance,
            soap_action: service.soap_action("sendTestMessage").unwrap(),
            request: &request,
            status: 200,
            content_type: Some("text/xml"),
            reply: reply.as_bytes(),
        },
        chrono::Utc::now(),
    )
    .unwrap();
    let mut files = Vec::new();
    every_file(&fixtures, &mut files);
    assert!(!files.is_empty());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for needle in [PASSWORD, "UsernameToken"] {
            assert!(
                !text.contains(needle),
                "{} holds {needle:?}",
                file.display()
            );
        }
    }
}
