//! IdentifyPerson: encoding, and decoding of the reply fixtures in
//! `fixtures/replies/ssdn/IdentifyPerson/` (OK, phonetic OK, warning, no data, error,
//! SOAP fault).

mod ssdn_support;

use bcss::error::ErrorKind;
use bcss::services::identify_person::{IdentifyPersonRequest, PersonData, PhoneticCriteria};
use bcss::services::{Outcome, ServiceRequest};
use bcss::soap::{self, Limits, SoapError};
use bcss::ssdn::{self, Gender, Origin, Severity, SsdnError};
use ssdn_support::*;

const SERVICE: &str = "IdentifyPerson";

fn by_ssin(s: &str) -> IdentifyPersonRequest {
    IdentifyPersonRequest::by_ssin(ssin(s))
}

fn phonetic() -> IdentifyPersonRequest {
    IdentifyPersonRequest::builder()
        .phonetic(PhoneticCriteria::new("BISNUMMER", "1975-01-00".parse().unwrap()).tolerance(1))
        .build()
        .unwrap()
}

#[test]
fn request_knows_its_service_and_subjects() {
    let r = IdentifyPersonRequest::builder()
        .ssin(ssin(MARC))
        .person_data(PersonData::new("FICTIF", "1968-07-01".parse().unwrap()))
        .build()
        .unwrap();
    assert_eq!(r.service(), bcss::services::identify_person::service());
    assert_eq!(r.operation(), "identifyPerson");
    assert_eq!(r.soap_action(), ssdn::SOAP_ACTION);
    assert_eq!(r.subjects(), vec![ssin(MARC)]);
    assert!(phonetic().subjects().is_empty());

    let envelope = r.encode(&header()).unwrap();
    let body = match soap::read(&envelope, &Limits::default()).unwrap() {
        soap::Body::Payload(p) => p,
        soap::Body::Fault(f) => panic!("{f:?}"),
    };
    assert_eq!(body.name, "xmlString");
    assert_eq!(body.namespace.as_deref(), Some(ssdn::CONNECTOR_NS));
    let document = ssdn::xml_string_of(&envelope, &Limits::default()).unwrap();
    assert!(
        document
            .starts_with("<SSDNRequest xmlns=\"http://www.ksz-bcss.fgov.be/XSD/SSDN/Service\">")
    );
    assert!(
        document
            .contains("<ServiceId>OCMWCPASIdentifyPerson</ServiceId><Version>20050930</Version>")
    );
    assert!(document.contains("<ip:SSIN>68070100188</ip:SSIN>"));
    assert!(document.contains("<Reference>0190f5a2-7c3e-7d4a-9b1c-2e3f4a5b6c7d</Reference>"));
}

#[test]
fn ok_reply_with_address_and_extended_data() {
    let d = by_ssin(MARC).decode(200, &fixture(SERVICE, "ok"), &Limits::default());
    assert_eq!(d.outcome, Outcome::Ok);
    assert_eq!(d.stamp.ticket.as_deref(), Some("THTTMFICT1A2B3C"));
    assert_eq!(d.stamp.time_receive.as_deref(), Some("20240603T140510"));
    assert_eq!(d.stamp.time_reply.as_deref(), Some("20240603T140512"));
    let reply = d.result.unwrap();
    // The INFORMATION detail of a YES reply comes back as a warning.
    assert_eq!(reply.warnings.len(), 1);
    assert_eq!(reply.warnings[0].severity, "INFORMATION");
    assert_eq!(reply.warnings[0].code, "12007001");
    assert_eq!(reply.warnings[0].description, "Identity validated");

    let [marc] = reply.data.persons.as_slice() else {
        panic!("one person expected: {:?}", reply.data);
    };
    assert_eq!(marc.ssin, ssin(MARC));
    assert_eq!(marc.origin, Some(Origin::NationalRegister));
    assert_eq!(marc.last_name, "FICTIF", "whitespace is collapsed");
    assert_eq!(marc.first_name.as_deref(), Some("Marc Émile"));
    assert_eq!(marc.birth_date.to_string(), "1968-07-01");
    assert!(marc.birth_date.is_complete());
    assert_eq!(marc.gender, Some(Gender::Male));
    let address = marc.address.as_ref().unwrap();
    assert_eq!(address.country_code, 150);
    assert_eq!(address.municipality_code, Some(92094));
    let names: Vec<(Option<&str>, &str)> = address
        .municipality
        .iter()
        .map(|d| (d.lang.as_deref(), d.text.as_str()))
        .collect();
    assert_eq!(names, [(Some("fr"), "Namur"), (Some("nl"), "Namen")]);
    assert_eq!(address.postal_code.as_deref(), Some("5000"));
    assert_eq!(address.street_code, Some(1234));
    assert_eq!(address.street[0].text, "Rue de l'Exemple");
    assert_eq!(address.house_number.as_deref(), Some("12"));
    assert_eq!(address.box_number, None);
    assert!(marc.diplomatic_post.is_none());
    let extended = marc.extended.as_ref().unwrap();
    assert_eq!(extended.civil_state, Some(20));
    assert_eq!(extended.birth_location_code, Some(92094));
    assert_eq!(extended.birth_location[0].text, "Namur");
    assert_eq!(extended.inscription_register.as_deref(), Some("1"));
    assert_eq!(extended.nationality_code, Some(150));
    assert_eq!(extended.decease_date, None);
    // The SSIN stays masked in Debug output.
    assert!(!format!("{marc:?}").contains(MARC));
}

#[test]
fn phonetic_reply_with_several_people_escaped() {
    let d = phonetic().decode(200, &fixture(SERVICE, "ok_phonetic"), &Limits::default());
    assert_eq!(d.outcome, Outcome::Ok);
    let reply = d.result.unwrap();
    assert!(reply.warnings.is_empty());
    let [ivan, oscar] = reply.data.persons.as_slice() else {
        panic!("two people expected: {:?}", reply.data);
    };
    assert_eq!(ivan.ssin, ssin(IVAN));
    assert_eq!(ivan.origin, Some(Origin::BcssKsz));
    assert!(ivan.address.is_none() && ivan.diplomatic_post.is_none());
    let x = ivan.extended.as_ref().unwrap();
    assert_eq!(
        (x.nationality_code, x.birth_location_code),
        (Some(139), Some(139))
    );
    assert_eq!(oscar.ssin, ssin(OSCAR));
    assert_eq!(oscar.birth_date.to_string(), "1950-00-00");
    assert_eq!(
        (oscar.birth_date.month(), oscar.birth_date.day()),
        (None, None)
    );
    assert_eq!(
        oscar
            .extended
            .as_ref()
            .unwrap()
            .decease_date
            .map(|d| d.to_string())
            .as_deref(),
        Some("2020-02-02")
    );
}

#[test]
fn warning_reply_returns_data_and_every_detail() {
    let d = by_ssin(ANNA).decode(200, &fixture(SERVICE, "warning"), &Limits::default());
    assert_eq!(
        d.outcome,
        Outcome::Warning {
            code: "22007007".to_string()
        },
        "the specific service code, not the generic 20000001"
    );
    assert_eq!(d.stamp.ticket.as_deref(), Some("THTTMFICT3G6H7I"));
    let reply = d.result.unwrap();
    let codes: Vec<&str> = reply.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["20000001", "22007007"]);
    assert_eq!(reply.warnings[1].severity, "WARNING");
    assert_eq!(reply.warnings[1].description, "PersonData mismatch");
    assert_eq!(
        reply.warnings[1].information,
        [("PersonData/FirstName".to_string(), "Ana".to_string())]
    );
    let anna = &reply.data.persons[0];
    assert_eq!(anna.ssin, ssin(ANNA));
    assert_eq!(anna.gender, Some(Gender::Female));
    assert_eq!(
        anna.address.as_ref().unwrap().box_number.as_deref(),
        Some("2")
    );
    assert!(
        anna.extended.is_none(),
        "no extended data when the identity is not validated"
    );
}

#[test]
fn no_phonetic_match_is_no_data_and_still_a_typed_error() {
    let d = phonetic().decode(200, &fixture(SERVICE, "no_data"), &Limits::default());
    assert_eq!(
        d.outcome,
        Outcome::NoData {
            code: "32007004".to_string()
        }
    );
    assert_eq!(d.stamp.ticket.as_deref(), Some("THTTMFICT4J8K9L"));
    let Err(ErrorKind::Ssdn(e)) = d.result.as_ref().map_err(bcss::Error::kind) else {
        panic!("expected an SSDN error: {:?}", d.result);
    };
    assert!(e.is_no_data());
    assert_eq!(e.reason_codes(), ["30000001", "32007004"]);
    let SsdnError::Business {
        details,
        ticket,
        return_code,
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(ticket.as_deref(), Some("THTTMFICT4J8K9L"));
    assert_eq!(*return_code, Some(10000));
    assert_eq!(details[1].severity, Severity::Error);
    assert_eq!(details[1].diagnostic.as_deref(), Some("No phonetic match"));
    assert_eq!(details[1].author_code_list.as_deref(), Some("CBSS"));
}

#[test]
fn error_reply_carries_every_detail() {
    let d = by_ssin(MARC).decode(200, &fixture(SERVICE, "error"), &Limits::default());
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "21007001".to_string()
        }
    );
    let Err(ErrorKind::Ssdn(e)) = d.result.as_ref().map_err(bcss::Error::kind) else {
        panic!("expected an SSDN error: {:?}", d.result);
    };
    assert!(!e.is_no_data());
    assert_eq!(
        e.reason_codes(),
        ["30000001", "21007001", "31000005", "31000007"]
    );
    let both = &e.details()[1];
    assert_eq!(both.information.len(), 2);
    assert_eq!(
        both.information[0].field_name.as_deref(),
        Some("SearchCriteria/SSIN")
    );
    assert_eq!(both.information[0].field_value.as_deref(), Some(MARC));
    assert_eq!(
        e.details()[3].information[0].field_value,
        None,
        "empty FieldValue"
    );
    let message = e.to_string();
    for code in [
        "THTTMFICT5M1N2O",
        "10000",
        "21007001",
        "31000005",
        "31000007",
        "Mandatory argument missing",
    ] {
        assert!(message.contains(code), "{code} not in {message}");
    }
    // Field values (here an SSIN) stay out of the message and are masked in Debug.
    assert!(!message.contains(MARC), "{message}");
    assert!(!format!("{e:?}").contains(MARC));
}

#[test]
fn soap_fault_is_a_soap_error() {
    let d = by_ssin(MARC).decode(500, &fixture(SERVICE, "fault"), &Limits::default());
    assert_eq!(
        d.outcome,
        Outcome::SoapFault {
            code: "S:Server".to_string()
        }
    );
    assert_eq!(d.stamp, Default::default());
    let Err(ErrorKind::Soap(SoapError::Fault(f))) = d.result.as_ref().map_err(bcss::Error::kind)
    else {
        panic!("expected a SOAP fault: {:?}", d.result);
    };
    assert_eq!(f.code_local(), "Server");
    assert_eq!(f.string, "Internal error while processing the request");
    assert_eq!(
        f.detail
            .as_ref()
            .unwrap()
            .child("errorCode")
            .unwrap()
            .text(),
        "CONNECTOR-500"
    );
}
