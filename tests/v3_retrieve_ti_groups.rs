//! RetrieveTIGroupsService v2: encoding, and decoding the National Register reply
//! fixtures into typed data.

mod v3_support;

use bcss::error::ErrorKind;
use bcss::services::retrieve_ti_groups::{
    CodeLabel, Gender, Language, Place, RetrieveTi, RetrieveTiReply, RnDate,
};
use bcss::services::{Decoded, Outcome, ServiceRequest};
use bcss::soap::{Limits, SoapError};
use bcss::v3::{Severity, StatusCode, StatusValue, V3Error};
use chrono::NaiveDate;
use v3_support::{ANNA, IVAN, LINA, MARC, NOOR, OSCAR, fixture, header, ssin};

fn decode(person: &str, case: &str, http: u16) -> Decoded<RetrieveTiReply> {
    RetrieveTi::new(ssin(person)).unwrap().decode(
        http,
        &fixture("RetrieveTIGroups", case),
        &Limits::default(),
    )
}

fn date(y: u16, m: u8, d: u8) -> RnDate {
    RnDate {
        year: Some(y),
        month: Some(m),
        day: Some(d),
    }
}

fn code(code: &str, label: &str) -> CodeLabel {
    CodeLabel {
        code: code.to_string(),
        label: Some(label.to_string()),
    }
}

#[test]
fn request_encoding() {
    let r = RetrieveTi::new(ssin(ANNA))
        .unwrap()
        .language(Language::Nl)
        .with_history(true);
    assert_eq!(r.service(), bcss::services::retrieve_ti_groups::service());
    assert_eq!(r.operation(), "retrieveTI");
    assert_eq!(r.subjects(), vec![ssin(ANNA)]);
    let text = String::from_utf8(r.encode(&header("PCSA:SOCIAL_INQUIRY")).unwrap()).unwrap();
    assert_eq!(
        text,
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">",
            "<soapenv:Header/><soapenv:Body>",
            "<ns:retrieveTIGroupsRequest xmlns:ns=\"http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2\">",
            "<informationCustomer><ticket>018f8a3c-5b2e-7c41-9a6d-3e2f1b0c4d57</ticket>",
            "<timestampSent>2024-05-17T09:30:00.000Z</timestampSent>",
            "<customerIdentification><cbeNumber>0212344876</cbeNumber></customerIdentification>",
            "</informationCustomer>",
            "<legalContext>PCSA:SOCIAL_INQUIRY</legalContext>",
            "<searchInformation><ssin>85031204246</ssin><language>nl</language><history>true</history></searchInformation>",
            "</ns:retrieveTIGroupsRequest></soapenv:Body></soapenv:Envelope>"
        )
    );
    // Defaults: no language element (BCSS's default, fr), history false.
    let text = String::from_utf8(
        RetrieveTi::new(ssin(MARC))
            .unwrap()
            .encode(&header("PCSA:SOCIAL_INQUIRY"))
            .unwrap(),
    )
    .unwrap();
    assert!(text.contains(
        "<searchInformation><ssin>68070100188</ssin><history>false</history></searchInformation>"
    ));
}

#[test]
fn request_refusals() {
    // legalContext is mandatory since v2, and bounded.
    let r = RetrieveTi::new(ssin(MARC)).unwrap();
    for bad in ["", "   ", &"x".repeat(65)] {
        assert!(matches!(
            r.encode(&header(bad)).as_ref().map_err(bcss::Error::kind),
            Err(ErrorKind::Request(_))
        ));
    }
    // A National Register number with serial 000 is refused before anything is built.
    let zero = bcss::ids::Ssin::from_parts("680701", 0, bcss::ids::Century::Nineteen).unwrap();
    assert!(RetrieveTi::new(zero).is_err());
    // BIS numbers and people born after 2000 are accepted.
    assert!(RetrieveTi::new(ssin(IVAN)).is_ok());
    assert!(RetrieveTi::new(ssin(LINA)).is_ok());
}

#[test]
fn marc_current_data() {
    let d = decode(MARC, "ok_marc", 200);
    assert_eq!(d.outcome, Outcome::Ok);
    assert_eq!(
        d.stamp.ticket.as_deref(),
        Some("3f1c9a52-6d0e-4b7a-9c1e-2a5b8d7e4f10")
    );
    let reply = d.result.unwrap();
    assert!(reply.warnings.is_empty());
    assert!(!reply.data.history);
    assert_eq!(reply.data.language, Some(Language::Fr));
    let p = &reply.data.person;
    assert_eq!(p.language.as_deref(), Some("fr"));
    assert_eq!(p.ssin(), &ssin(MARC));
    assert_eq!(p.gender(), Gender::Male);
    assert_eq!(p.birth_date(), date(1968, 7, 1));
    assert_eq!(
        p.birth_date().to_date(),
        NaiveDate::from_ymd_opt(1968, 7, 1)
    );
    let name = p.current_name().unwrap();
    assert_eq!(name.last_name(), "FICTIF");
    assert_eq!(name.first_names_joined(), "Marc Émile");
    assert!(name.first_names[0].used && !name.first_names[1].used);
    let birth = p.birth.as_ref().unwrap();
    assert_eq!(
        birth.place,
        Some(Place::Belgium {
            municipality: code("92094", "Namur")
        })
    );
    assert_eq!(birth.act_number.as_deref(), Some("512"));
    assert_eq!(p.current_nationality(), Some(&code("150", "Belge")));
    assert_eq!(p.current_residence(), Some(&code("92094", "Namur")));
    let address = p.current_address().unwrap();
    assert_eq!(address.zip_code, "5000");
    assert_eq!(address.street.name, "Rue de l'Exemple");
    assert_eq!(address.street.code.as_deref(), Some("4711"));
    assert_eq!(address.house_number, "12");
    assert_eq!(address.box_number, None);
    assert_eq!(p.addresses[0].since, date(1994, 9, 1));
    assert!(p.addresses[0].is_current());
    let civil = p.current_civil_state().unwrap();
    assert_eq!(civil.state, code("20", "Marié"));
    let spouse = civil.spouse.as_ref().unwrap();
    assert_eq!(spouse.ssin, Some(ssin(IVAN)));
    assert_eq!(spouse.name.as_ref().unwrap().last_name(), "BISNUMMER");
    assert_eq!(civil.act_number.as_deref(), Some("233"));
    assert!(p.decease().is_none());
    assert!(p.other_groups.is_empty());
    // Personal data stays masked in Debug output.
    let dbg = format!("{reply:?}");
    assert!(!dbg.contains(MARC) && !dbg.contains(IVAN), "{dbg}");
}

#[test]
fn anna_with_history() {
    let d = decode(ANNA, "ok_anna_history", 200);
    assert_eq!(d.outcome, Outcome::Ok);
    let reply = d.result.unwrap();
    assert!(reply.data.history);
    assert_eq!(reply.data.language, Some(Language::Nl));
    let p = &reply.data.person;
    assert_eq!(p.gender(), Gender::Female);
    assert_eq!(p.current_name().unwrap().last_name(), "VOORBEELD");
    // Two residences and two addresses: Brugge until 2016-05-01, Gent since.
    assert_eq!(p.residences.len(), 2);
    let brugge = p
        .residences
        .iter()
        .find(|r| r.value.code == "31005")
        .unwrap();
    assert_eq!(brugge.since, date(2007, 10, 1));
    assert_eq!(brugge.until, Some(date(2016, 5, 1)));
    assert_eq!(p.current_residence(), Some(&code("44021", "Gent")));
    assert_eq!(p.addresses.len(), 2);
    let current = p.current_address().unwrap();
    assert_eq!(
        (current.zip_code.as_str(), current.street.name.as_str()),
        ("9000", "Voorbeeldstraat")
    );
    assert_eq!(current.house_number, "3");
    assert_eq!(current.box_number.as_deref(), Some("2"));
    let old = p.addresses.iter().find(|a| !a.is_current()).unwrap();
    assert_eq!(old.value.zip_code, "8000");
    assert_eq!(
        old.value.street.code, None,
        "a street given only as written"
    );
    assert_eq!(old.value.street.name, "Voorbeeldlaan");
    assert_eq!(old.until, Some(date(2016, 5, 1)));
    assert_eq!(p.current_civil_state().unwrap().state.code, "10");
    // Groups this client does not decode, and foreign elements, are listed.
    assert_eq!(
        p.other_groups,
        vec![
            "IdentityCards".to_string(),
            "{urn:example:bcss-extension}auditTrail".to_string()
        ]
    );
    // The unknown element inside informationCBSS does not disturb the stamp.
    assert_eq!(
        d.stamp.time_reply.as_deref(),
        Some("2024-05-17T11:31:13.004+02:00")
    );
}

#[test]
fn oscar_unknown_birth_date_and_decease() {
    let reply = decode(OSCAR, "ok_oscar_deceased", 200).result.unwrap();
    let p = &reply.data.person;
    let born = p.birth_date();
    assert_eq!(
        born,
        RnDate {
            year: Some(1950),
            month: None,
            day: None
        }
    );
    assert_eq!(born.to_string(), "1950-00-00");
    assert_eq!(born.to_date(), None);
    assert_eq!(
        p.birth.as_ref().unwrap().place,
        Some(Place::Abroad {
            country: code("111", "France"),
            place: Some("Lille".to_string())
        })
    );
    let decease = p.decease().unwrap();
    assert_eq!(decease.date, date(2020, 2, 2));
    assert_eq!(decease.act_number.as_deref(), Some("77"));
    assert_eq!(
        decease.place,
        Some(Place::Belgium {
            municipality: code("62063", "Liège")
        })
    );
    assert_eq!(
        p.current_residence().unwrap().label.as_deref(),
        Some("Liège")
    );
}

#[test]
fn lina_with_information_is_a_warning() {
    let d = decode(LINA, "warning_lina", 200);
    assert_eq!(
        d.outcome,
        Outcome::Warning {
            code: "MSG00000".to_string()
        }
    );
    let reply = d.result.unwrap();
    assert_eq!(reply.warnings.len(), 1);
    let w = &reply.warnings[0];
    assert_eq!(w.code, "MSG00000");
    assert_eq!(w.description, "Success with remarks");
    assert_eq!(
        w.information,
        vec![(
            "NotCommunicable".to_string(),
            "The address may not be communicated for this legal context".to_string()
        )]
    );
    let p = &reply.data.person;
    assert_eq!(p.birth_date(), date(2005, 3, 15));
    assert!(p.current_address().is_none());
    assert_eq!(p.other_groups, vec!["NotCommunicable".to_string()]);
}

#[test]
fn no_data() {
    let d = decode(IVAN, "no_data", 200);
    assert_eq!(
        d.outcome,
        Outcome::NoData {
            code: "MSG00100".to_string()
        }
    );
    assert_eq!(
        d.stamp.ticket.as_deref(),
        Some("e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7")
    );
    match d.result.unwrap_err().into_kind() {
        ErrorKind::V3(V3Error::NoData { status }) => {
            assert_eq!(status.value, StatusValue::NoDataFound);
            assert_eq!(status.code, StatusCode::NoDataAtSupplier);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn business_error_in_status() {
    let d = decode(NOOR, "status_business_error", 200);
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "MSG00012".to_string()
        }
    );
    let err = d.result.unwrap_err();
    let (text, dbg) = (err.to_string(), format!("{err:?}"));
    assert!(text.contains("MSG00012"), "{text}");
    assert!(text.contains("120905*****"), "{text}");
    assert!(
        !text.contains(NOOR) && !dbg.contains(NOOR),
        "the SSIN in BCSS's text is masked: {text} / {dbg}"
    );
    match err.into_kind() {
        ErrorKind::V3(e @ V3Error::Status { .. }) => {
            assert_eq!(e.code(), Some(&StatusCode::SsinNotIntegrated));
            assert!(!e.is_retryable());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_status_code_is_kept() {
    let d = decode(MARC, "unknown_code", 200);
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "MSG00099".to_string()
        }
    );
    match d.result.unwrap_err().into_kind() {
        ErrorKind::V3(V3Error::Status { status }) => {
            assert_eq!(status.code, StatusCode::Other("MSG00099".to_string()));
            assert_eq!(
                status.description.as_deref(),
                Some("A status this client has never seen")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cbss_fault_with_detail() {
    let d = decode(MARC, "fault_detail", 500);
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "MSG00013".to_string()
        }
    );
    assert_eq!(
        d.stamp.ticket.as_deref(),
        Some("5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d")
    );
    let err = d.result.unwrap_err();
    let (text, dbg) = (err.to_string(), format!("{err:?}"));
    assert!(
        text.contains("retrieveTI") && text.contains("MSG00013"),
        "{text}"
    );
    assert!(
        !text.contains(MARC) && !dbg.contains(MARC),
        "{text} / {dbg}"
    );
    match err.into_kind() {
        ErrorKind::V3(e @ V3Error::Fault { .. }) => {
            assert!(!e.is_retryable());
            let V3Error::Fault { details, .. } = e else {
                unreachable!()
            };
            assert_eq!(details[0].reason_code, StatusCode::LegalContextNotAllowed);
            // The journal (serialisation) keeps BCSS's text in full.
            assert!(serde_json::to_string(&details).unwrap().contains(MARC));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cbss_fault_with_older_error_elements() {
    let d = decode(MARC, "fault_error", 500);
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "MSG00001".to_string()
        }
    );
    match d.result.unwrap_err().into_kind() {
        ErrorKind::V3(e @ V3Error::Fault { .. }) => {
            assert!(e.is_retryable(), "MSG00001 is worth a retry");
            assert!(e.to_string().contains("retry later"));
            let V3Error::Fault { details, .. } = e else {
                unreachable!()
            };
            assert_eq!(details.len(), 2);
            assert_eq!(details[1].severity, Severity::Information);
            assert_eq!(
                details[1].reason_code,
                StatusCode::Other("RRN-503".to_string())
            );
            assert_eq!(details[1].author_code, "RRN");
            assert_eq!(details[1].information[0].field_name, "retryAfter");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn generic_soap_fault() {
    let d = decode(MARC, "soap_fault", 500);
    assert_eq!(
        d.outcome,
        Outcome::SoapFault {
            code: "soapenv:Client".to_string()
        }
    );
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Soap(SoapError::Fault(f))) if f.string.starts_with("Unmarshalling Error")
    ));
}

#[test]
fn hostile_and_wrong_replies() {
    let d = decode(MARC, "wrong_namespace", 200);
    assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Soap(SoapError::UnexpectedBody { .. }))
    ));
    let d = decode(MARC, "truncated", 200);
    assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Soap(SoapError::Xml(_)))
    ));
    // A reply about someone else than the person asked for is refused, and its stamp kept.
    let d = decode(ANNA, "ok_marc", 200);
    assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    assert!(d.stamp.ticket.is_some());
    let err = d.result.unwrap_err().to_string();
    assert!(err.contains("not the person asked for"), "{err}");
    assert!(!err.contains(MARC) && !err.contains(ANNA), "{err}");
}
