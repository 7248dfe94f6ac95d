//! A stand-in "acceptance BCSS" on 127.0.0.1 that knows three invented people with
//! real-looking data, demands a Basic-auth password, and answers rich replies: National
//! Register data with dates in parts, street codes, card and act numbers, a married
//! couple where each is the other's spouse (one of them with a BIS number), a child born
//! after 2000, and names, SSINs and birth dates quoted in free text.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use bcss::ids::{Century, Ssin};
use bcss::mock::path_of;
use bcss::xml::{self, Limits};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};

use crate::replay_support;

/// The stand-in's Basic-auth password.
pub const PASSWORD: &str = "Corr3ct-Horse-Battery-Staple!";

/// A security header some servers add to their replies.
pub const REPLY_SECURITY: &str = "<wsse:Security xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><wsse:BinarySecurityToken>MIIBszCCAVmgAwIBAgIUReal</wsse:BinarySecurityToken></wsse:Security>";

/// A date as the tests write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub u32, pub u32, pub u32);

impl Day {
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.0, self.1, self.2)
    }

    /// Every form a birth date takes in text.
    pub fn forms(self) -> Vec<String> {
        let Day(y, m, d) = self;
        vec![
            format!("{y:04}-{m:02}-{d:02}"),
            format!("{d:02}/{m:02}/{y:04}"),
            format!("{d:02}.{m:02}.{y:04}"),
            format!("{d:02}-{m:02}-{y:04}"),
            format!("{y:04}{m:02}{d:02}"),
        ]
    }

    /// The National Register's form: `Century`, `Year`, `Month`, `Day`.
    pub fn split(self) -> String {
        let Day(y, m, d) = self;
        format!(
            "<ns3:Date><ns3:Century>{}</ns3:Century><ns3:Year>{:02}</ns3:Year><ns3:Month>{m:02}</ns3:Month><ns3:Day>{d:02}</ns3:Day></ns3:Date>",
            y / 100,
            y % 100
        )
    }
}

/// One invented person.
#[derive(Debug, Clone)]
pub struct Person {
    pub ssin: Ssin,
    pub last: &'static str,
    /// Given names, in order.
    pub first: &'static [&'static str],
    pub born: Day,
    pub sex: u8,
    pub card: &'static str,
    pub birth_place: (&'static str, &'static str),
    pub birth_act: &'static str,
}

impl Person {
    pub fn first_names(&self) -> String {
        self.first.join(" ")
    }
}

/// The household: Pieter and his wife Agnieszka (a BIS number), married on
/// [`MARRIED`], and their daughter Lotte, born in 2003. They live at
/// [`STREET`] [`HOUSE`], street code [`STREET_CODE`].
#[derive(Debug, Clone)]
pub struct People {
    pub pieter: Person,
    pub agnieszka: Person,
    pub lotte: Person,
}

pub const STREET: &str = "Kerkstraat";
pub const STREET_CODE: &str = "8231";
pub const HOUSE: &str = "173";
pub const MARRIED: Day = Day(2005, 6, 18);
pub const MARRIAGE_ACT: &str = "933";
/// Where they moved in, and when their identity cards were issued.
pub const MOVED_IN: Day = Day(2011, 3, 1);
pub const CARDS_ISSUED: Day = Day(2019, 5, 2);
pub const SIS_CARD: &str = "6543210987";

pub fn people() -> People {
    People {
        pieter: Person {
            ssin: Ssin::from_parts("790425", 123, Century::Nineteen).unwrap(),
            last: "JANSSENS",
            first: &["Pieter", "Jozef"],
            born: Day(1979, 4, 25),
            sex: 1,
            card: "591-7654321-88",
            birth_place: ("41002", "Aalst"),
            birth_act: "4471",
        },
        agnieszka: Person {
            // A BIS number, gender known (month + 40), a woman (even serial).
            ssin: Ssin::from_parts("824117", 46, Century::Nineteen).unwrap(),
            last: "KOWALSKA",
            first: &["Agnieszka"],
            born: Day(1982, 1, 17),
            sex: 2,
            card: "592-1122334-55",
            birth_place: ("11002", "Antwerpen"),
            birth_act: "5120",
        },
        lotte: Person {
            ssin: Ssin::from_parts("030814", 212, Century::Twenty).unwrap(),
            last: "JANSSENS",
            first: &["Lotte"],
            born: Day(2003, 8, 14),
            sex: 2,
            card: "593-9988776-11",
            birth_place: ("41002", "Aalst"),
            birth_act: "3390",
        },
    }
}

impl People {
    pub fn all(&self) -> [&Person; 3] {
        [&self.pieter, &self.agnieszka, &self.lotte]
    }

    fn by_ssin(&self, text: &str) -> &Person {
        self.all()
            .into_iter()
            .find(|p| text.contains(p.ssin.as_str()))
            .unwrap_or(&self.pieter)
    }

    fn spouse_of(&self, p: &Person) -> Option<&Person> {
        if p.ssin == self.pieter.ssin {
            Some(&self.agnieszka)
        } else if p.ssin == self.agnieszka.ssin {
            Some(&self.pieter)
        } else {
            None
        }
    }
}

/// The National Register data of `p` (RetrieveTIGroups v2), in French.
pub fn register(people: &People, p: &Person) -> String {
    let s = p.ssin.as_str();
    let labels = |p: &Person| -> String {
        p.first
            .iter()
            .map(|f| format!("<ns3:FirstName><ns3:Label>{f}</ns3:Label></ns3:FirstName>"))
            .collect()
    };
    let first = labels(p);
    let civil = match people.spouse_of(p) {
        Some(sp) => {
            let sp_first = labels(sp);
            format!(
                "<ns3:CivilStates><ns3:CivilState Type=\"120\">{}<ns3:CivilState><ns3:Code>20</ns3:Code><ns3:Label>Marié</ns3:Label></ns3:CivilState><ns3:Spouse><ns3:NationalNumber><ns3:NationalNumber>{}</ns3:NationalNumber></ns3:NationalNumber><ns3:Name><ns3:LastName><ns3:Code>1</ns3:Code><ns3:Label>{}</ns3:Label></ns3:LastName>{sp_first}</ns3:Name></ns3:Spouse><ns3:Lieu><ns3:Place1><ns3:Code>41002</ns3:Code><ns3:Label>Aalst</ns3:Label></ns3:Place1></ns3:Lieu><ns3:ActNumber>{MARRIAGE_ACT}</ns3:ActNumber></ns3:CivilState></ns3:CivilStates>",
                MARRIED.split(),
                sp.ssin.as_str(),
                sp.last
            )
        }
        None => String::new(),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Header/><soapenv:Body><ns2:retrieveTIGroupsResponse xmlns:ns2=\"http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2\" xmlns:ns3=\"http://www.ibz.rrn.fgov.be/XSD/xm25/rn25Schema\"><informationCustomer><ticket>018f8a3c-5b2e-7c41-9a6d-3e2f1b0c4d57</ticket><timestampSent>2025-02-03T09:30:00.000Z</timestampSent><customerIdentification><cbeNumber>0212344876</cbeNumber></customerIdentification></informationCustomer><informationCBSS><ticketCBSS>3f1c9a52-6d0e-4b7a-9c1e-2a5b8d7e4f10</ticketCBSS><timestampReceive>2025-02-03T10:30:00.412+01:00</timestampReceive><timestampReply>2025-02-03T10:30:01.087+01:00</timestampReply></informationCBSS><legalContext>PCSA:SOCIAL_INQUIRY</legalContext><searchInformation><ssin>{s}</ssin><language>fr</language><history>false</history></searchInformation><status><value>DATA_FOUND</value><code>MSG00000</code><description>Données de {last} {first0} ({s}), né(e) le {born_fr}</description></status><rrn_it_implicit Language=\"fr\"><ns3:NationalNumber Type=\"000\"><ns3:NationalNumber><ns3:NationalNumber>{s}</ns3:NationalNumber>{born}<ns3:Sex>{sex}</ns3:Sex></ns3:NationalNumber></ns3:NationalNumber><ns3:FileOwner><ns3:Residences Type=\"001\">{moved}<ns3:Residence><ns3:Code>44021</ns3:Code><ns3:Label>Gent</ns3:Label></ns3:Residence><ns3:Fusion>1</ns3:Fusion><ns3:Language>2</ns3:Language></ns3:Residences></ns3:FileOwner><ns3:Names><ns3:Name Type=\"010\">{born}<ns3:Name Group1=\"1\"><ns3:LastName><ns3:Code>1</ns3:Code><ns3:Label>{last}</ns3:Label></ns3:LastName>{first}</ns3:Name></ns3:Name></ns3:Names><ns3:LegalMainAddresses><ns3:LegalMainAddress Type=\"020\">{moved}<ns3:Address><ns3:ZipCode>9000</ns3:ZipCode><ns3:Street><ns3:Code>{STREET_CODE}</ns3:Code><ns3:Label>{STREET}</ns3:Label></ns3:Street><ns3:HouseNumber>{HOUSE}</ns3:HouseNumber></ns3:Address></ns3:LegalMainAddress></ns3:LegalMainAddresses><ns3:BirthPlace Type=\"100\">{born}<ns3:ActNumber>{act}</ns3:ActNumber><ns3:Place1><ns3:Code>{place_code}</ns3:Code><ns3:Label>{place}</ns3:Label></ns3:Place1></ns3:BirthPlace>{civil}<ns3:IdentityCards><ns3:IdentityCard Type=\"195\">{issued}<ns3:TypeOfCard><ns3:Code>1</ns3:Code></ns3:TypeOfCard><ns3:CardNumber>{card}</ns3:CardNumber></ns3:IdentityCard></ns3:IdentityCards></rrn_it_implicit></ns2:retrieveTIGroupsResponse></soapenv:Body></soapenv:Envelope>",
        last = p.last,
        first0 = p.first[0],
        born_fr = p.born.forms()[1],
        born = p.born.split(),
        moved = MOVED_IN.split(),
        issued = CARDS_ISSUED.split(),
        sex = p.sex,
        act = p.birth_act,
        place_code = p.birth_place.0,
        place = p.birth_place.1,
        card = p.card,
    )
}

/// A reply file of the shipped cast, about `p` instead (IdentifyPerson's by-SSIN reply).
fn identify(p: &Person) -> String {
    replay_support::reply_file("ssdn/IdentifyPerson/ok.xml")
        .replace("68070100188", p.ssin.as_str())
        .replace("  FICTIF ", p.last)
        .replace("Marc   Émile", &p.first_names())
        .replace("1968-07-01", &p.born.iso())
        .replace("<ns3:Gender>1<", &format!("<ns3:Gender>{}<", p.sex))
        .replace(
            "<ns3:StreetCode>1234<",
            &format!("<ns3:StreetCode>{STREET_CODE}<"),
        )
        .replace("Rue de l'Exemple", STREET)
        .replace(
            "<ns3:HouseNumber>12<",
            &format!("<ns3:HouseNumber>{HOUSE}<"),
        )
        .replace("<ns3:PostalCode>5000<", "<ns3:PostalCode>9000<")
        .replace(
            "<ns3:BirthLocationCode>92094<",
            &format!("<ns3:BirthLocationCode>{}<", p.birth_place.0),
        )
        .replace(
            "<ns3:BirthLocation lang=\"fr\">Namur<",
            &format!("<ns3:BirthLocation lang=\"fr\">{}<", p.birth_place.1),
        )
        .replace(
            "<ns2:Diagnostic>Identity validated<",
            &format!(
                "<ns2:Diagnostic>Identity of {} {} ({}) born {} validated<",
                p.first[0],
                p.last,
                p.ssin.as_str(),
                p.born.forms()[1]
            ),
        )
}

/// PerformInvestigation of Pieter: his family (him and Lotte), citizen data, addresses.
fn investigation(people: &People) -> String {
    let (pieter, lotte) = (&people.pieter, &people.lotte);
    replay_support::reply_file("ssdn/PerformInvestigation/ok.xml")
        .replace("85031204246", pieter.ssin.as_str())
        .replace("12090508413", lotte.ssin.as_str())
        .replace("VOORBEELD", pieter.last)
        .replace("KIND", lotte.last)
        .replace(">Anna<", &format!(">{}<", pieter.first_names()))
        .replace(">Noor<", &format!(">{}<", lotte.first[0]))
        .replace("1985-03-12", &pieter.born.iso())
        .replace("2012-09-05", &lotte.born.iso())
        .replace("Voorbeeldstraat", STREET)
        .replace("<ns4:Code>2345<", &format!("<ns4:Code>{STREET_CODE}<"))
        .replace("<ns4:HouseNumber>3<", &format!("<ns4:HouseNumber>{HOUSE}<"))
}

/// The requests' answers, by path and content.
pub fn answer(path: &str, body: &[u8]) -> (u16, String) {
    let people = people();
    let text = String::from_utf8_lossy(body);
    let reply = if path == path_of(bcss::services::test_connection::service()) {
        let tree = xml::parse(body, &Limits::default()).unwrap();
        let echo = tree.descendant("echo").unwrap().text().into_owned();
        replay_support::reply_file("v3/TestConnection/ok.xml").replace(
            "Bonjour BCSS, ici le CPAS de Fictiveville",
            &xml::escape_text(&echo),
        )
    } else if path == path_of(bcss::services::retrieve_ti_groups::service()) {
        register(&people, people.by_ssin(&text))
    } else if path == path_of(bcss::services::health_care_insurance::service()) {
        replay_support::reply_file("v3/HealthCareInsurance/get_ok_marc.xml")
            .replace("68070100188", people.pieter.ssin.as_str())
    } else if text.contains("OCMWCPASManageAccess") {
        replay_support::reply_file("ssdn/ManageAccess/ok.xml")
            .replace("85031204246", people.lotte.ssin.as_str())
    } else if text.contains("OCMWCPASPerformInvestigation") {
        investigation(&people)
    } else {
        identify(people.by_ssin(&text))
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

/// The stand-in BCSS: demands Basic auth, answers about the invented people; counts the
/// requests it answered.
pub async fn stand_in(requests: Arc<AtomicUsize>) -> SocketAddr {
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
