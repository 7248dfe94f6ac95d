//! PerformInvestigation: decoding of the reply fixtures in
//! `fixtures/replies/ssdn/PerformInvestigation/`.

mod ssdn_support;

use bcss::error::ErrorKind;
use bcss::services::perform_investigation::PerformInvestigationRequest;
use bcss::services::{Outcome, ServiceRequest};
use bcss::soap::{Limits, SoapError};
use bcss::ssdn::person::LegalAddress;
use bcss::ssdn::{Gender, Origin};
use chrono::NaiveDate;
use ssdn_support::*;

const SERVICE: &str = "PerformInvestigation";

fn all(s: &str) -> PerformInvestigationRequest {
    PerformInvestigationRequest::builder(ssin(s))
        .all_groups()
        .build()
        .unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn ok_reply_with_family_citizens_and_address_history() {
    let request = all(ANNA);
    assert_eq!(
        request.service(),
        bcss::services::perform_investigation::service()
    );
    let d = request.decode(200, &fixture(SERVICE, "ok"), &Limits::default());
    assert_eq!(d.outcome, Outcome::Ok);
    assert_eq!(d.stamp.ticket.as_deref(), Some("PIFICT0001OK"));
    let r = d.result.unwrap().data;
    assert_eq!(r.ssin, ssin(ANNA));

    let family = r.family_composition.as_ref().unwrap();
    assert_eq!(family.origin, Some(Origin::NationalRegister));
    let members: Vec<_> = family
        .members
        .iter()
        .map(|m| (m.ssin.clone(), m.relationship, m.entry_date))
        .collect();
    assert_eq!(
        members,
        [
            (ssin(ANNA), 1, Some(day(2015, 4, 1))),
            (ssin(NOOR), 3, Some(day(2015, 4, 1)))
        ]
    );

    let [anna, noor] = r.citizens.as_slice() else {
        panic!("two citizens expected: {:?}", r.citizens);
    };
    assert_eq!(anna.ssin, ssin(ANNA));
    assert_eq!(anna.inscription_register, Some(1));
    assert_eq!(anna.name.last_name, "VOORBEELD");
    assert_eq!(anna.name.first_name.as_deref(), Some("Anna"));
    assert_eq!(anna.name.complete_first_name, Some(true));
    assert_eq!(anna.gender, Some(Gender::Female));
    assert_eq!(anna.birth.date.to_string(), "1985-03-12");
    let birth_place = anna.birth.location.as_ref().unwrap();
    assert_eq!(
        (birth_place.code, birth_place.name("nl")),
        (Some(44021), Some("Gent"))
    );
    assert_eq!(anna.civil_state.as_ref().map(|c| c.code), Some(10));
    assert!(anna.decease.is_none());
    let nationality = anna.nationality.as_ref().unwrap();
    assert_eq!(
        (nationality.code, nationality.name("de")),
        (Some(150), Some("Belge"))
    );
    let address = anna.address.as_ref().unwrap();
    assert_eq!(
        address
            .manager_location
            .as_ref()
            .unwrap()
            .linguistic_regime
            .as_deref(),
        Some("N")
    );
    let Some(LegalAddress::Standard(home)) = &address.legal_address else {
        panic!("{address:?}");
    };
    assert_eq!(home.country.code, Some(150));
    assert_eq!(home.municipality.as_ref().unwrap().name("nl"), Some("Gent"));
    assert_eq!(home.postal_code.as_deref(), Some("9000"));
    assert_eq!(
        home.street.as_ref().unwrap().name("nl"),
        Some("Voorbeeldstraat")
    );
    assert_eq!(
        (home.house_number.as_deref(), home.box_number.as_deref()),
        (Some("3"), Some("2"))
    );
    assert_eq!(
        home.modification_date.map(|d| d.to_string()).as_deref(),
        Some("2015-04-01")
    );
    assert_eq!(noor.ssin, ssin(NOOR));
    assert_eq!(noor.birth.date.to_string(), "2012-09-05");

    let [history] = r.address_histories.as_slice() else {
        panic!("one history expected: {:?}", r.address_histories);
    };
    assert_eq!(history.ssin, ssin(ANNA));
    let managers: Vec<Option<u32>> = history
        .manager_locations
        .iter()
        .map(|m| m.location.code)
        .collect();
    assert_eq!(managers, [Some(44021), Some(31005)]);
    let towns: Vec<&str> = history
        .legal_addresses
        .iter()
        .filter_map(|a| a.municipality.as_ref().and_then(|m| m.name("nl")))
        .collect();
    assert_eq!(towns, ["Gent", "Brugge"], "most recent first");
    assert_eq!(
        history.legal_addresses[1].street.as_ref().unwrap().code,
        Some(1717)
    );
    assert!(history.declared_addresses.is_empty());
    assert!(r.wait_register.is_empty());
}

#[test]
fn warning_reply_with_wait_register() {
    let request = PerformInvestigationRequest::builder(ssin(IVAN))
        .family_composition()
        .citizen()
        .wait_register()
        .build()
        .unwrap();
    let d = request.decode(200, &fixture(SERVICE, "warning"), &Limits::default());
    // The service detail has no reason code: the journaled code falls back to the
    // global one.
    assert_eq!(
        d.outcome,
        Outcome::Warning {
            code: "20000001".to_string()
        }
    );
    let reply = d.result.unwrap();
    assert_eq!(reply.warnings.len(), 2);
    assert_eq!(reply.warnings[1].code, "");
    assert_eq!(
        reply.warnings[1].description,
        "Family composition not available for a person registered at BCSS"
    );
    let r = reply.data;
    assert!(r.family_composition.is_none());
    let ivan = &r.citizens[0];
    assert_eq!(ivan.origin, Some(Origin::BcssKsz));
    assert_eq!(ivan.nationality.as_ref().unwrap().code, Some(139));
    assert!(ivan.civil_state.is_none() && ivan.address.is_none());
    let [entry] = r.wait_register.as_slice() else {
        panic!("{:?}", r.wait_register);
    };
    assert_eq!(entry.ssin, Some(ssin(IVAN)));
    assert_eq!(
        entry.fields,
        [
            ("SocialSecurityUser".to_string(), IVAN.to_string()),
            ("InscriptionDate".to_string(), "2023-11-20".to_string()),
            ("Nationality/Code".to_string(), "139".to_string()),
        ]
    );
}

/// BCSS answers a wait register question about someone not in it with YES, an
/// INFORMATION detail and no data groups.
#[test]
fn not_in_the_wait_register() {
    let request = PerformInvestigationRequest::builder(ssin(MARC))
        .wait_register()
        .build()
        .unwrap();
    let d = request.decode(200, &fixture(SERVICE, "no_data"), &Limits::default());
    assert_eq!(d.outcome, Outcome::Ok);
    let reply = d.result.unwrap();
    assert_eq!(reply.warnings[0].severity, "INFORMATION");
    assert_eq!(
        reply.warnings[0].description,
        "The person is not in the wait register"
    );
    let r = reply.data;
    assert_eq!(r.ssin, ssin(MARC));
    assert!(r.family_composition.is_none());
    assert!(r.citizens.is_empty() && r.address_histories.is_empty() && r.wait_register.is_empty());
}

#[test]
fn error_reply() {
    let d = all(ANNA).decode(200, &fixture(SERVICE, "error"), &Limits::default());
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "31000005".to_string()
        }
    );
    let Err(ErrorKind::Ssdn(e)) = d.result.as_ref().map_err(bcss::Error::kind) else {
        panic!("expected an SSDN error: {:?}", d.result);
    };
    assert_eq!(e.reason_codes(), ["30000001", "31000005", "31000007"]);
    assert_eq!(
        e.details()[1].information[0].field_name.as_deref(),
        Some("SocialSecurityUser")
    );
}

#[test]
fn fault_reply() {
    let d = all(ANNA).decode(500, &fixture(SERVICE, "fault"), &Limits::default());
    assert_eq!(
        d.outcome,
        Outcome::SoapFault {
            code: "S:Server".to_string()
        }
    );
    let Err(ErrorKind::Soap(SoapError::Fault(f))) = d.result.as_ref().map_err(bcss::Error::kind)
    else {
        panic!("expected a SOAP fault: {:?}", d.result);
    };
    assert!(f.string.contains("temporarily unavailable"));
}
